/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-http.c: a minimal HTTP/1.1 client over GSocketClient.
 *
 * Why not curl or a library: the admin token must never appear in argv, and
 * the admin API needs nothing beyond one JSON request and one JSON reply per
 * connection. Everything read from the network is bounded.
 */
#include "ctl-http.h"

#include "consent-json.h"

#include <string.h>

void
ctl_http_response_free (CtlHttpResponse *response)
{
  if (response == NULL)
    return;
  g_free (response->content_type);
  g_free (response->body);
  g_free (response);
}

/* Pins the CA file for https: set on the TLS connection before the handshake. */
static void
on_client_event (GSocketClient *client, GSocketClientEvent event, GSocketConnectable *connectable,
                 GIOStream *connection, gpointer user_data)
{
  GTlsDatabase *database = user_data;

  if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING && G_IS_TLS_CONNECTION (connection))
    g_tls_connection_set_database (G_TLS_CONNECTION (connection), database);
}

static GSocketConnection *
connect_to_server (GUri *uri, const char *base_url, const char *ca_file, GError **error)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnectable) address = NULL;
  g_autoptr (GTlsDatabase) database = NULL;
  gboolean tls = g_strcmp0 (g_uri_get_scheme (uri), "https") == 0;
  int port = g_uri_get_port (uri);
  GSocketConnection *connection;
  GError *local_error = NULL;

  if (port < 0)
    port = tls ? 443 : 80;
  g_socket_client_set_timeout (client, CTL_HTTP_TIMEOUT_S);
  if (tls) {
    if (g_tls_backend_supports_tls (g_tls_backend_get_default ()) == FALSE) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "cannot use %s: no TLS backend for GIO is installed (install glib-networking)",
                   base_url);
      return NULL;
    }
    g_socket_client_set_tls (client, TRUE);
    if (ca_file != NULL) {
      database = g_tls_file_database_new (ca_file, error);
      if (database == NULL)
        return NULL;
      g_signal_connect (client, "event", G_CALLBACK (on_client_event), database);
    }
  }
  address = g_network_address_new (g_uri_get_host (uri), (guint16) port);
  connection = g_socket_client_connect (client, address, NULL, &local_error);
  if (connection == NULL && local_error->domain == G_TLS_ERROR)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                 "cannot reach consentd at %s: its TLS certificate was refused (%s); give the "
                 "CA that signed it with --ca-file",
                 base_url, local_error->message);
  else if (connection == NULL)
    g_set_error (error, G_IO_ERROR,
                 local_error->domain == G_IO_ERROR ? local_error->code : G_IO_ERROR_FAILED,
                 "cannot reach consentd at %s: %s (is consentd running? use --server URL)",
                 base_url, local_error->message);
  g_clear_error (&local_error);
  return connection;
}

/* Host header value: IPv6 literals in brackets, non-default ports kept. */
static char *
host_header (GUri *uri)
{
  const char *host = g_uri_get_host (uri);
  gboolean v6 = strchr (host, ':') != NULL;
  int port = g_uri_get_port (uri);

  if (port < 0)
    return g_strdup_printf (v6 ? "[%s]" : "%s", host);
  return g_strdup_printf (v6 ? "[%s]:%d" : "%s:%d", host, port);
}

static char *
build_request (GUri *uri, const char *method, const char *path, const char *bearer,
               const char *json_body)
{
  g_autoptr (GString) request = g_string_new (NULL);
  g_autofree char *host = host_header (uri);
  const char *prefix = g_uri_get_path (uri);
  gsize prefix_len = strlen (prefix);

  /* A base URL like http://h:8480/consent keeps its path prefix. */
  while (prefix_len > 0 && prefix[prefix_len - 1] == '/')
    prefix_len--;
  g_string_append_printf (request, "%s %.*s%s HTTP/1.1\r\n", method, (int) prefix_len, prefix,
                          path);
  g_string_append_printf (request, "Host: %s\r\n", host);
  g_string_append (request, "User-Agent: consentctl\r\nAccept: application/json\r\n"
                            "Connection: close\r\n");
  if (bearer != NULL)
    g_string_append_printf (request, "Authorization: Bearer %s\r\n", bearer);
  if (json_body != NULL)
    g_string_append_printf (request, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
                            strlen (json_body));
  else if (strcmp (method, "POST") == 0 || strcmp (method, "PUT") == 0)
    g_string_append (request, "Content-Length: 0\r\n");
  g_string_append (request, "\r\n");
  if (json_body != NULL)
    g_string_append (request, json_body);
  return g_string_free (g_steal_pointer (&request), FALSE);
}

/* Reads until the blank line ending the header; the rest stays in @buffer. */
static gssize
read_header (GInputStream *in, GByteArray *buffer, GError **error)
{
  guint8 chunk[4096];

  for (;;) {
    gssize n;
    const guint8 *end;

    end = buffer->len >= 4 ? memmem (buffer->data, buffer->len, "\r\n\r\n", 4) : NULL;
    if (end != NULL)
      return (end - buffer->data) + 4;
    if (buffer->len > CTL_HTTP_MAX_HEADER_BYTES) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                   "the server's response header exceeds %d bytes", CTL_HTTP_MAX_HEADER_BYTES);
      return -1;
    }
    n = g_input_stream_read (in, chunk, sizeof chunk, NULL, error);
    if (n < 0)
      return -1;
    if (n == 0) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                   "the server closed the connection before a complete response header");
      return -1;
    }
    g_byte_array_append (buffer, chunk, (guint) n);
  }
}

static gboolean
parse_status_line (const char *line, guint *status, GError **error)
{
  guint64 code = 0;

  if ((g_str_has_prefix (line, "HTTP/1.1 ") || g_str_has_prefix (line, "HTTP/1.0 ")) &&
      g_ascii_isdigit (line[9]) && g_ascii_isdigit (line[10]) && g_ascii_isdigit (line[11]) &&
      (line[12] == ' ' || line[12] == '\0')) {
    code = g_ascii_strtoull (line + 9, NULL, 10);
    *status = (guint) code;
    return TRUE;
  }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               "the server did not answer with HTTP/1.x (is --server the consentd admin URL?)");
  return FALSE;
}

typedef struct {
  gboolean has_length;
  guint64 length;
  gboolean chunked;
} BodyFraming;

static gboolean
parse_header_fields (char **lines, CtlHttpResponse *response, BodyFraming *framing,
                     GError **error)
{
  for (guint i = 1; lines[i] != NULL && lines[i][0] != '\0'; i++) {
    char *colon = strchr (lines[i], ':');
    g_autofree char *name = NULL;
    const char *value;

    if (colon == NULL)
      continue;
    name = g_ascii_strdown (lines[i], colon - lines[i]);
    value = colon + 1;
    while (*value == ' ' || *value == '\t')
      value++;
    if (strcmp (name, "content-length") == 0) {
      if (!g_ascii_string_to_unsigned (value, 10, 0, CTL_HTTP_MAX_BODY_BYTES, &framing->length,
                                       NULL)) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                     "the server's response body is invalid or larger than %d bytes",
                     CTL_HTTP_MAX_BODY_BYTES);
        return FALSE;
      }
      framing->has_length = TRUE;
    } else if (strcmp (name, "transfer-encoding") == 0) {
      framing->chunked = g_ascii_strcasecmp (value, "identity") != 0;
    } else if (strcmp (name, "content-type") == 0 && response->content_type == NULL) {
      response->content_type = g_strdup (value);
    }
  }
  return TRUE;
}

/* Reads the body: exactly Content-Length bytes, or to the end of the connection. */
static gboolean
read_body (GInputStream *in, GByteArray *body, const BodyFraming *framing, GError **error)
{
  guint8 chunk[8192];

  while (!framing->has_length || body->len < framing->length) {
    gsize want = sizeof chunk;
    gssize n;

    if (framing->has_length && framing->length - body->len < want)
      want = framing->length - body->len;
    n = g_input_stream_read (in, chunk, want, NULL, error);
    if (n < 0)
      return FALSE;
    if (n == 0)
      break;
    if (body->len + (gsize) n > CTL_HTTP_MAX_BODY_BYTES) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                   "the server's response body exceeds %d bytes", CTL_HTTP_MAX_BODY_BYTES);
      return FALSE;
    }
    g_byte_array_append (body, chunk, (guint) n);
  }
  if (framing->has_length && body->len < framing->length) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                 "the server closed the connection after %u of %" G_GUINT64_FORMAT
                 " body bytes",
                 body->len, framing->length);
    return FALSE;
  }
  return TRUE;
}

/* Decodes a chunked body in place (the whole body was read to the end). */
static gboolean
dechunk (GByteArray *body, GError **error)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  gsize pos = 0;

  for (;;) {
    const guint8 *eol = memmem (body->data + pos, body->len - pos, "\r\n", 2);
    guint64 size;
    char *end;

    if (eol == NULL)
      goto bad;
    size = g_ascii_strtoull ((const char *) body->data + pos, &end, 16);
    if (end == (const char *) body->data + pos || size > body->len)
      goto bad;
    pos = (eol - body->data) + 2;
    if (size == 0)
      break;
    if (pos + size + 2 > body->len)
      goto bad;
    g_byte_array_append (out, body->data + pos, (guint) size);
    pos += size + 2;
  }
  g_byte_array_set_size (body, 0);
  g_byte_array_append (body, out->data, out->len);
  return TRUE;
bad:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               "the server sent a malformed chunked response body");
  return FALSE;
}

static CtlHttpResponse *
read_response (GInputStream *in, GError **error)
{
  g_autoptr (GByteArray) buffer = g_byte_array_new ();
  g_autoptr (CtlHttpResponse) response = g_new0 (CtlHttpResponse, 1);
  g_autoptr (GByteArray) body = g_byte_array_new ();
  g_auto (GStrv) lines = NULL;
  g_autofree char *header = NULL;
  BodyFraming framing = {0};
  gssize header_len = read_header (in, buffer, error);

  if (header_len < 0)
    return NULL;
  header = g_strndup ((const char *) buffer->data, header_len);
  lines = g_strsplit (header, "\r\n", -1);
  if (!parse_status_line (lines[0], &response->status, error) ||
      !parse_header_fields (lines, response, &framing, error))
    return NULL;
  if (framing.chunked)
    framing.has_length = FALSE;
  g_byte_array_append (body, buffer->data + header_len, buffer->len - header_len);
  if (framing.has_length && body->len > framing.length)
    g_byte_array_set_size (body, (guint) framing.length);
  if (!read_body (in, body, &framing, error))
    return NULL;
  if (framing.chunked && !dechunk (body, error))
    return NULL;
  response->body_len = body->len;
  g_byte_array_append (body, (const guint8 *) "", 1);
  response->body = (char *) g_byte_array_free (g_steal_pointer (&body), FALSE);
  return g_steal_pointer (&response);
}

CtlHttpResponse *
ctl_http_request (const char *base_url, const char *method, const char *path,
                  const char *bearer, const char *json_body, const char *ca_file,
                  GError **error)
{
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GSocketConnection) connection = NULL;
  g_autofree char *request = NULL;
  CtlHttpResponse *response;
  GOutputStream *out;
  const char *scheme;

  uri = g_uri_parse (base_url, G_URI_FLAGS_NONE, NULL);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0' ||
      (g_strcmp0 (scheme, "http") != 0 && g_strcmp0 (scheme, "https") != 0)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "invalid server URL '%s' (expected http://HOST:PORT or https://HOST:PORT)",
                 base_url);
    return NULL;
  }
  connection = connect_to_server (uri, base_url, ca_file, error);
  if (connection == NULL)
    return NULL;
  request = build_request (uri, method, path, bearer, json_body);
  out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  if (!g_output_stream_write_all (out, request, strlen (request), NULL, NULL, error) ||
      !g_output_stream_flush (out, NULL, error)) {
    g_prefix_error (error, "sending the request to %s: ", base_url);
    return NULL;
  }
  response = read_response (g_io_stream_get_input_stream (G_IO_STREAM (connection)), error);
  if (response == NULL)
    g_prefix_error (error, "reading consentd's reply from %s (an https server? a proxy?): ",
                    base_url);
  return response;
}

char *
ctl_http_error_message (const CtlHttpResponse *response)
{
  g_autoptr (json_object) root = NULL;
  json_object *error_obj = NULL, *message = NULL, *code = NULL;
  char *text = NULL;

  if (response->body_len > 0)
    root = consent_json_parse_strict (response->body, response->body_len,
                                      CTL_HTTP_MAX_BODY_BYTES, 16, NULL);
  if (root != NULL && json_object_is_type (root, json_type_object)) {
    if (json_object_object_get_ex (root, "error", &error_obj) &&
        json_object_is_type (error_obj, json_type_object))
      json_object_object_get_ex (error_obj, "message", &message);
    else
      json_object_object_get_ex (root, "message", &message);
    if (error_obj != NULL && json_object_is_type (error_obj, json_type_string))
      code = error_obj;
    if (message != NULL && json_object_is_type (message, json_type_string))
      text = g_strdup_printf ("HTTP %u%s%s: %s", response->status, code != NULL ? " " : "",
                              code != NULL ? json_object_get_string (code) : "",
                              json_object_get_string (message));
  }
  return text != NULL ? text : g_strdup_printf ("HTTP %u", response->status);
}
