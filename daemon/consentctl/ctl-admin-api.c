/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-admin-api.c: consentctl's side of consentd's admin API: the bearer
 * token from the state directory (never argv) and one JSON call.
 */
#include "ctl-admin.h"
#include "ctl-http.h"
#include "consent-json.h"

#include <string.h>

#define ADMIN_TOKEN_MAX_BYTES 256
#define ADMIN_JSON_MAX_DEPTH 16

char *
ctl_read_admin_token (const char *state_dir, GError **error)
{
  g_autofree char *path = g_build_filename (state_dir, "admin.token", NULL);
  g_autofree char *data = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &data, &len, error)) {
    g_prefix_error (error, "cannot read the admin token (is --state-dir consentd's state "
                           "directory, and may this user read it?): ");
    return NULL;
  }
  g_strstrip (data);
  if (len > ADMIN_TOKEN_MAX_BYTES || data[0] == '\0' || strpbrk (data, " \t\r\n") != NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "%s does not hold an admin token (one line of at most %d characters)", path,
                 ADMIN_TOKEN_MAX_BYTES);
    return NULL;
  }
  return g_steal_pointer (&data);
}

static gboolean
check_status (const CtlAdminTarget *target, const CtlHttpResponse *response, GError **error)
{
  g_autofree char *message = NULL;

  if (response->status >= 200 && response->status < 300)
    return TRUE;
  message = ctl_http_error_message (response);
  if (response->status == 401 || response->status == 403)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                 "consentd refused the admin token from %s/admin.token (%s); is --state-dir "
                 "the state directory of the consentd at --server?",
                 target->state_dir, message);
  else
    g_set_error (error, G_IO_ERROR, response->status == 404 ? G_IO_ERROR_NOT_FOUND
                                                            : G_IO_ERROR_FAILED,
                 "consentd answered %s", message);
  return FALSE;
}

gboolean
ctl_admin_request (const CtlAdminTarget *target, const char *method, const char *path,
                   const char *body_json, json_object **out, GError **error)
{
  g_autofree char *token = ctl_read_admin_token (target->state_dir, error);
  g_autoptr (CtlHttpResponse) response = NULL;
  const char *server = target->server != NULL ? target->server : CTL_DEFAULT_SERVER;

  *out = NULL;
  if (token == NULL)
    return FALSE;
  response = ctl_http_request (server, method, path, token, body_json, target->ca_file, error);
  /* The token is a secret: do not leave it in freed memory. */
  memset (token, 0, strlen (token));
  if (response == NULL || !check_status (target, response, error))
    return FALSE;
  if (response->body_len == 0)
    return TRUE;
  *out = consent_json_parse_strict (response->body, response->body_len, CTL_HTTP_MAX_BODY_BYTES,
                                    ADMIN_JSON_MAX_DEPTH, error);
  if (*out == NULL)
    g_prefix_error (error, "consentd's reply to %s %s is not valid JSON: ", method, path);
  return *out != NULL;
}
