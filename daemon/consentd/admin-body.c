/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* admin-body.c: strict parsing of admin API request bodies. */
#include "admin-body.h"

#include <string.h>

/* Admin bodies are flat objects with at most one nested object (notice). */
#define ADMIN_MAX_DEPTH 4

void
consentd_admin_body_free (ConsentdAdminBody *b)
{
  if (!b)
    return;
  g_free (b->title);
  g_free (b->notice_version);
  g_free (b->notice_text);
  g_free (b->notice_purpose);
  g_free (b->display_name);
  g_free (b->role);
  g_free (b->meeting);
  g_free (b->participant);
  g_free (b);
}

/* An optional string field, length-capped, copied into *@out. */
static gboolean
get_text (json_object *o, const char *key, gboolean required, gsize max, char **out,
          GError **error)
{
  const char *v = NULL;

  if (!consent_json_get_string (o, key, required, &v, error))
    return FALSE;
  if (!v)
    return TRUE;
  if (strlen (v) > max || (required && !*v)) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_BAD_FIELD,
                 "\"%s\" must be 1..%" G_GSIZE_FORMAT " bytes", key, max);
    return FALSE;
  }
  *out = g_strdup (v);
  return TRUE;
}

/* Names and titles end up on screens, in logs and in reports: control
 * characters (U+0000-U+001F, U+007F) there only serve to spoof or garble. */
static gboolean
get_line (json_object *o, const char *key, gsize max, char **out, GError **error)
{
  if (!get_text (o, key, FALSE, max, out, error))
    return FALSE;
  for (const char *c = *out; c && *c; c++) {
    if ((guchar)*c < 0x20 || *c == 0x7f) {
      g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_BAD_FIELD,
                   "\"%s\" must not contain control characters (U+0000-U+001F, U+007F)",
                   key);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
get_id (json_object *o, const char *key, char **out, GError **error)
{
  if (!get_text (o, key, TRUE, CONSENTD_ADMIN_MAX_SHORT, out, error))
    return FALSE;
  if (!consent_id_is_valid (*out)) {
    g_set_error (
        error, CONSENT_ERROR, CONSENT_ERROR_BAD_FIELD,
        "\"%s\" is not a valid id (1..64 of A-Z a-z 0-9 . _ -, not starting with . or -)",
        key);
    return FALSE;
  }
  return TRUE;
}

static gboolean
parse_notice (json_object *n, ConsentdAdminBody *b, GError **error)
{
  static const char *const keys[] = {"version", "text", "purpose", "retention-days",
                                     NULL};
  gint64 days = 0;

  if (!json_object_is_type (n, json_type_object)) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_BAD_FIELD,
                 "\"notice\" must be an object");
    return FALSE;
  }
  b->has_notice = TRUE;
  return consent_json_check_keys (n, keys, error) &&
         get_text (n, "version", TRUE, 64, &b->notice_version, error) &&
         get_text (n, "text", FALSE, CONSENTD_ADMIN_MAX_TEXT, &b->notice_text, error) &&
         get_text (n, "purpose", FALSE, CONSENTD_ADMIN_MAX_SHORT * 4, &b->notice_purpose,
                   error) &&
         consent_json_get_int64 (n, "retention-days", FALSE, 1, 36500, &days, error) &&
         ((b->notice_retention_days = (guint)days), TRUE);
}

static gboolean
parse_fields (json_object *o, ConsentdAdminBody *b, GError **error)
{
  switch (b->kind) {
  case CONSENTD_ADMIN_BODY_MEETING: {
    static const char *const keys[] = {"title", "notice", NULL};
    json_object *n = NULL;
    if (!consent_json_check_keys (o, keys, error) ||
        !get_line (o, "title", CONSENTD_ADMIN_MAX_SHORT, &b->title, error))
      return FALSE;
    return !json_object_object_get_ex (o, "notice", &n) || parse_notice (n, b, error);
  }
  case CONSENTD_ADMIN_BODY_PARTICIPANT: {
    static const char *const keys[] = {"display-name", "role", NULL};
    return consent_json_check_keys (o, keys, error) &&
           get_line (o, "display-name", CONSENTD_ADMIN_MAX_SHORT, &b->display_name,
                     error) &&
           get_line (o, "role", 64, &b->role, error);
  }
  case CONSENTD_ADMIN_BODY_RECORDING: {
    static const char *const keys[] = {"action", NULL};
    const char *action = NULL;
    if (!consent_json_check_keys (o, keys, error) ||
        !consent_json_get_string (o, "action", TRUE, &action, error))
      return FALSE;
    if (!g_str_equal (action, "request") && !g_str_equal (action, "stop")) {
      g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_BAD_FIELD,
                   "\"action\" must be \"request\" or \"stop\"");
      return FALSE;
    }
    b->stop = g_str_equal (action, "stop");
    return TRUE;
  }
  case CONSENTD_ADMIN_BODY_TOKEN: {
    static const char *const keys[] = {"meeting", "participant", "role", "ttl", NULL};
    const char *role = NULL;
    gint64 ttl = CONSENTD_ADMIN_DEFAULT_TTL;
    if (!consent_json_check_keys (o, keys, error) ||
        !get_id (o, "meeting", &b->meeting, error) ||
        !get_id (o, "participant", &b->participant, error) ||
        !consent_json_get_string (o, "role", TRUE, &role, error) ||
        !consent_json_get_int64 (o, "ttl", FALSE, 1, CONSENT_TOKEN_MAX_TTL_S, &ttl,
                                 error))
      return FALSE;
    if (!consent_role_from_name (role, &b->token_role)) {
      g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_BAD_FIELD,
                   "\"role\" must be \"participant\" or \"recorder\"");
      return FALSE;
    }
    b->ttl_s = (guint)ttl;
    return TRUE;
  }
  }
  g_assert_not_reached ();
}

ConsentdAdminBody *
consentd_admin_body_parse (ConsentdAdminBodyKind kind, const char *data, gsize len,
                           gsize max_bytes, GError **error)
{
  g_autoptr (ConsentdAdminBody) b = g_new0 (ConsentdAdminBody, 1);
  g_autoptr (json_object) o = NULL;

  b->kind = kind;
  if (len == 0 &&
      (kind == CONSENTD_ADMIN_BODY_MEETING || kind == CONSENTD_ADMIN_BODY_PARTICIPANT))
    return g_steal_pointer (&b);
  o = consent_json_parse_strict (data, len, max_bytes, ADMIN_MAX_DEPTH, error);
  if (!o)
    return NULL;
  if (!json_object_is_type (o, json_type_object)) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_BAD_JSON,
                 "the body must be a JSON object");
    return NULL;
  }
  if (!parse_fields (o, b, error))
    return NULL;
  return g_steal_pointer (&b);
}
