/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-http.h: the small, bounded HTTP/1.1 client consentctl uses to talk to
 * consentd's admin API. One request per connection (Connection: close), a
 * JSON body at most, responses framed by Content-Length (or by the end of the
 * connection), every size capped. https:// works where GIO has a TLS backend
 * (glib-networking); the server certificate is then checked against the
 * system trust store, or against --ca-file.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define CTL_HTTP_MAX_HEADER_BYTES (16 * 1024)
#define CTL_HTTP_MAX_BODY_BYTES (4 * 1024 * 1024)
#define CTL_HTTP_TIMEOUT_S 15

typedef struct {
  guint status;        /* e.g. 200 */
  char *content_type;  /* or NULL */
  char *body;          /* NUL-terminated (the NUL is not counted) */
  gsize body_len;
} CtlHttpResponse;

void ctl_http_response_free (CtlHttpResponse *response);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtlHttpResponse, ctl_http_response_free)

/**
 * ctl_http_request:
 * @base_url: "http://HOST:PORT" or "https://HOST:PORT" (a path prefix is kept).
 * @method: "GET", "POST", …
 * @path: absolute path, already escaped ("/v1/meetings/m1").
 * @bearer: (nullable): sent as `Authorization: Bearer …`; never logged.
 * @json_body: (nullable): sent with `Content-Type: application/json`.
 * @ca_file: (nullable): PEM file of trusted CAs for https.
 *
 * Returns: (transfer full): the response (any status), or NULL with a
 * G_IO_ERROR that says what to check (server address, TLS, sizes).
 */
CtlHttpResponse *ctl_http_request (const char *base_url, const char *method, const char *path,
                                   const char *bearer, const char *json_body,
                                   const char *ca_file, GError **error);

/**
 * ctl_http_error_message:
 * A one-line explanation of a non-2xx @response: the server's JSON
 * `message` (top level or under `error`) when there is one, else the status.
 */
char *ctl_http_error_message (const CtlHttpResponse *response);

G_END_DECLS
