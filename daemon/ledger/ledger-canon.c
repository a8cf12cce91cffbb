/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ledger-canon.c: canonical JSON writer and the strict line parser. */
#include "ledger-canon.h"
#include "ledger.h"

#include <math.h>
#include <string.h>

void
ledger_canon_append_string (GString *out, const char *s, gsize len)
{
  g_string_append_c (out, '"');
  for (gsize i = 0; i < len; i++) {
    guchar c = (guchar) s[i];
    if (c == '"' || c == '\\') {
      g_string_append_c (out, '\\');
      g_string_append_c (out, (char) c);
    } else if (c < 0x20) {
      g_string_append_printf (out, "\\u%04x", c);
    } else {
      g_string_append_c (out, (char) c);
    }
  }
  g_string_append_c (out, '"');
}

static int
compare_keys (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static gboolean
append_object (GString *out, json_object *obj, GError **error)
{
  g_autoptr (GPtrArray) keys = g_ptr_array_new ();
  json_object_object_foreach (obj, k, v)
  {
    (void) v;
    g_ptr_array_add (keys, k);
  }
  g_ptr_array_sort (keys, compare_keys);
  g_string_append_c (out, '{');
  for (guint i = 0; i < keys->len; i++) {
    const char *key = keys->pdata[i];
    if (!g_utf8_validate (key, -1, NULL)) {
      g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_INVALID,
                   "a JSON key is not valid UTF-8");
      return FALSE;
    }
    if (i > 0)
      g_string_append_c (out, ',');
    ledger_canon_append_string (out, key, strlen (key));
    g_string_append_c (out, ':');
    if (!ledger_canon_append (out, json_object_object_get (obj, key), error))
      return FALSE;
  }
  g_string_append_c (out, '}');
  return TRUE;
}

static gboolean
append_array (GString *out, json_object *arr, GError **error)
{
  gsize n = json_object_array_length (arr);
  g_string_append_c (out, '[');
  for (gsize i = 0; i < n; i++) {
    if (i > 0)
      g_string_append_c (out, ',');
    if (!ledger_canon_append (out, json_object_array_get_idx (arr, i), error))
      return FALSE;
  }
  g_string_append_c (out, ']');
  return TRUE;
}

gboolean
ledger_canon_append (GString *out, json_object *obj, GError **error)
{
  switch (json_object_get_type (obj)) {
  case json_type_null:
    g_string_append (out, "null");
    return TRUE;
  case json_type_boolean:
    g_string_append (out, json_object_get_boolean (obj) ? "true" : "false");
    return TRUE;
  case json_type_int:
    if (json_object_get_int64 (obj) == INT64_MAX)
      g_string_append_printf (out, "%" G_GUINT64_FORMAT, json_object_get_uint64 (obj));
    else
      g_string_append_printf (out, "%" G_GINT64_FORMAT, json_object_get_int64 (obj));
    return TRUE;
  case json_type_double: {
    double d = json_object_get_double (obj);
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    if (!isfinite (d)) {
      g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_INVALID,
                   "a JSON number is not finite");
      return FALSE;
    }
    /* %.17g in the C locale: round-trips every double. */
    g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.17g", d));
    return TRUE;
  }
  case json_type_string: {
    const char *s = json_object_get_string (obj);
    gsize len = (gsize) json_object_get_string_len (obj);
    if (!g_utf8_validate_len (s, len, NULL)) {
      g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_INVALID,
                   "a JSON string is not valid UTF-8");
      return FALSE;
    }
    ledger_canon_append_string (out, s, len);
    return TRUE;
  }
  case json_type_object:
    return append_object (out, obj, error);
  case json_type_array:
    return append_array (out, obj, error);
  }
  g_assert_not_reached ();
}

json_object *
ledger_json_parse_with (json_tokener *tok, const char *data, gsize len, GError **error)
{
  json_object *obj;

  json_tokener_reset (tok);
  json_tokener_set_flags (tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
  obj = json_tokener_parse_ex (tok, data, (int) len);
  /* An object or array is complete at its closing bracket; anything after it
   * (or a value still open at the end) is an error. */
  if (obj == NULL || json_tokener_get_parse_end (tok) != len ||
      !(json_object_is_type (obj, json_type_object) ||
        json_object_is_type (obj, json_type_array))) {
    enum json_tokener_error jerr = json_tokener_get_error (tok);
    g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_INVALID,
                 "not a single strict JSON object (%s)",
                 obj ? "trailing bytes or not an object"
                     : (jerr == json_tokener_continue ? "cut short"
                                                       : json_tokener_error_desc (jerr)));
    json_object_put (obj);
    return NULL;
  }
  return obj;
}

json_object *
ledger_json_parse (const char *data, gsize len, int max_depth, GError **error)
{
  json_tokener *tok = json_tokener_new_ex (max_depth);
  json_object *obj = ledger_json_parse_with (tok, data, len, error);
  json_tokener_free (tok);
  return obj;
}
