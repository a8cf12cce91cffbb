/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* consent-json.c: the one strict JSON reader of the project, typed getters
 * that never coerce, and a canonical (sorted, compact) writer.
 *
 * json-c 0.16 alone is not strict enough: even in strict mode it accepts
 * single quotes and duplicate keys, and its getters coerce ("12x" -> 12).
 * So the input is first checked by a small RFC 8259 scanner here (grammar,
 * UTF-8, escaped surrogates, depth, duplicate keys after unescaping) and only
 * then handed to json_tokener. */
#include "consent-json.h"
#include "consent-types.h"

#include <errno.h>
#include <math.h>
#include <string.h>

typedef struct {
  const char *start;
  const char *p;
  const char *end;
  guint depth;
  guint max_depth;
  GError **error;
} Scanner;

static gboolean
scan_fail (Scanner *s, ConsentError code, const char *what)
{
  /* Offsets help whoever debugs a client; the content itself is not echoed. */
  g_set_error (s->error, CONSENT_ERROR, code, "%s (at byte %" G_GSIZE_FORMAT ")", what,
               (gsize) (s->p - s->start));
  return FALSE;
}

static void
skip_ws (Scanner *s)
{
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
    s->p++;
}

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static gboolean
scan_hex4 (Scanner *s, guint *out)
{
  guint v = 0;

  if (s->end - s->p < 4)
    return scan_fail (s, CONSENT_ERROR_BAD_JSON, "truncated \\u escape");
  for (int i = 0; i < 4; i++) {
    int h = hex_value (s->p[i]);
    if (h < 0)
      return scan_fail (s, CONSENT_ERROR_BAD_JSON, "bad \\u escape");
    v = v * 16 + (guint) h;
  }
  s->p += 4;
  *out = v;
  return TRUE;
}

/* A \u escape (after "\u"): surrogates must come in proper pairs, and U+0000
 * is refused because every string ends up as a C string. */
static gboolean
scan_unicode_escape (Scanner *s, GString *out)
{
  guint cp, low;

  if (!scan_hex4 (s, &cp))
    return FALSE;
  if (cp >= 0xDC00 && cp <= 0xDFFF)
    return scan_fail (s, CONSENT_ERROR_BAD_UTF8, "lone low surrogate in \\u escape");
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
      return scan_fail (s, CONSENT_ERROR_BAD_UTF8, "lone high surrogate in \\u escape");
    s->p += 2;
    if (!scan_hex4 (s, &low))
      return FALSE;
    if (low < 0xDC00 || low > 0xDFFF)
      return scan_fail (s, CONSENT_ERROR_BAD_UTF8, "high surrogate not followed by a low one");
    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
  }
  if (cp == 0)
    return scan_fail (s, CONSENT_ERROR_BAD_JSON, "\\u0000 is not allowed in strings");
  if (out != NULL)
    g_string_append_unichar (out, cp);
  return TRUE;
}

/* A string (at the opening quote). @out, if set, receives the unescaped text. */
static gboolean
scan_string (Scanner *s, GString *out)
{
  s->p++;
  while (s->p < s->end) {
    guchar c = (guchar) *s->p;
    if (c == '"') {
      s->p++;
      return TRUE;
    }
    if (c < 0x20)
      return scan_fail (s, CONSENT_ERROR_BAD_JSON, "control character in string");
    if (c != '\\') {
      if (out != NULL)
        g_string_append_c (out, (char) c);
      s->p++;
      continue;
    }
    s->p++;
    if (s->p >= s->end)
      break;
    c = (guchar) *s->p++;
    switch (c) {
    case '"': case '\\': case '/':
      if (out != NULL)
        g_string_append_c (out, (char) c);
      break;
    case 'b': if (out) g_string_append_c (out, '\b'); break;
    case 'f': if (out) g_string_append_c (out, '\f'); break;
    case 'n': if (out) g_string_append_c (out, '\n'); break;
    case 'r': if (out) g_string_append_c (out, '\r'); break;
    case 't': if (out) g_string_append_c (out, '\t'); break;
    case 'u':
      if (!scan_unicode_escape (s, out))
        return FALSE;
      break;
    default:
      return scan_fail (s, CONSENT_ERROR_BAD_JSON, "unknown escape in string");
    }
  }
  return scan_fail (s, CONSENT_ERROR_BAD_JSON, "unterminated string");
}

static gboolean
scan_digits (Scanner *s)
{
  const char *start = s->p;

  while (s->p < s->end && g_ascii_isdigit (*s->p))
    s->p++;
  return s->p > start;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? — no NaN, Infinity, hex, '+'. */
/* json-c silently saturates integers beyond 64 bits: refuse them instead. */
static gboolean
integer_fits (const char *start, const char *end)
{
  g_autofree char *text = g_strndup (start, (gsize) (end - start));
  gint64 v;

  return g_ascii_string_to_signed (text, 10, G_MININT64, G_MAXINT64, &v, NULL);
}

/* 1e999 would become infinity, which JSON cannot carry back out. */
static gboolean
double_fits (const char *start, const char *end)
{
  g_autofree char *text = g_strndup (start, (gsize) (end - start));

  return isfinite (g_ascii_strtod (text, NULL));
}

static gboolean
scan_number (Scanner *s)
{
  const char *start = s->p;
  gboolean integer = TRUE;

  if (*s->p == '-')
    s->p++;
  if (s->p < s->end && *s->p == '0')
    s->p++;
  else if (!(s->p < s->end && *s->p >= '1' && *s->p <= '9') || !scan_digits (s))
    return scan_fail (s, CONSENT_ERROR_BAD_JSON, "bad number");
  if (s->p < s->end && *s->p == '.') {
    integer = FALSE;
    s->p++;
    if (!scan_digits (s))
      return scan_fail (s, CONSENT_ERROR_BAD_JSON, "bad number fraction");
  }
  if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
    integer = FALSE;
    s->p++;
    if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
      s->p++;
    if (!scan_digits (s))
      return scan_fail (s, CONSENT_ERROR_BAD_JSON, "bad number exponent");
  }
  if (integer && !integer_fits (start, s->p))
    return scan_fail (s, CONSENT_ERROR_BAD_JSON, "integer outside the signed 64-bit range");
  if (!integer && !double_fits (start, s->p))
    return scan_fail (s, CONSENT_ERROR_BAD_JSON, "number outside the range of a double");
  return TRUE;
}

static gboolean
scan_literal (Scanner *s, const char *word)
{
  gsize n = strlen (word);

  if ((gsize) (s->end - s->p) < n || memcmp (s->p, word, n) != 0)
    return scan_fail (s, CONSENT_ERROR_BAD_JSON, "unexpected character");
  s->p += n;
  return TRUE;
}

static gboolean scan_value (Scanner *s);

static gboolean
enter (Scanner *s)
{
  if (++s->depth > s->max_depth)
    return scan_fail (s, CONSENT_ERROR_TOO_DEEP, "nesting too deep");
  s->p++;
  skip_ws (s);
  return TRUE;
}

static gboolean
scan_object (Scanner *s)
{
  g_autoptr (GHashTable) keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  if (!enter (s))
    return FALSE;
  if (s->p < s->end && *s->p == '}') {
    s->p++;
    s->depth--;
    return TRUE;
  }
  for (;;) {
    g_autoptr (GString) key = g_string_new (NULL);
    if (s->p >= s->end || *s->p != '"')
      return scan_fail (s, CONSENT_ERROR_BAD_JSON, "expected a string key");
    if (!scan_string (s, key))
      return FALSE;
    /* Compared after unescaping: "a" and "\u0061" are the same key. */
    if (!g_hash_table_add (keys, g_strdup (key->str)))
      return scan_fail (s, CONSENT_ERROR_DUPLICATE_KEY, "duplicate key in object");
    skip_ws (s);
    if (s->p >= s->end || *s->p != ':')
      return scan_fail (s, CONSENT_ERROR_BAD_JSON, "expected ':'");
    s->p++;
    if (!scan_value (s))
      return FALSE;
    skip_ws (s);
    if (s->p < s->end && *s->p == ',') {
      s->p++;
      skip_ws (s);
      continue;
    }
    if (s->p < s->end && *s->p == '}') {
      s->p++;
      s->depth--;
      return TRUE;
    }
    return scan_fail (s, CONSENT_ERROR_BAD_JSON, "expected ',' or '}'");
  }
}

static gboolean
scan_array (Scanner *s)
{
  if (!enter (s))
    return FALSE;
  if (s->p < s->end && *s->p == ']') {
    s->p++;
    s->depth--;
    return TRUE;
  }
  for (;;) {
    if (!scan_value (s))
      return FALSE;
    skip_ws (s);
    if (s->p < s->end && *s->p == ',') {
      s->p++;
      continue;
    }
    if (s->p < s->end && *s->p == ']') {
      s->p++;
      s->depth--;
      return TRUE;
    }
    return scan_fail (s, CONSENT_ERROR_BAD_JSON, "expected ',' or ']'");
  }
}

static gboolean
scan_value (Scanner *s)
{
  skip_ws (s);
  if (s->p >= s->end)
    return scan_fail (s, CONSENT_ERROR_BAD_JSON, "unexpected end of input");
  switch (*s->p) {
  case '{':
    return scan_object (s);
  case '[':
    return scan_array (s);
  case '"':
    return scan_string (s, NULL);
  case 't':
    return scan_literal (s, "true");
  case 'f':
    return scan_literal (s, "false");
  case 'n':
    return scan_literal (s, "null");
  default:
    if (*s->p == '-' || g_ascii_isdigit (*s->p))
      return scan_number (s);
    return scan_fail (s, CONSENT_ERROR_BAD_JSON, "unexpected character");
  }
}

static gboolean
strict_prescan (const char *data, gsize len, guint max_depth, GError **error)
{
  Scanner s = { data, data, data + len, 0, max_depth, error };

  if (memchr (data, '\0', len) != NULL) {
    g_set_error_literal (error, CONSENT_ERROR, CONSENT_ERROR_BAD_JSON, "NUL byte in JSON text");
    return FALSE;
  }
  if (!g_utf8_validate_len (data, len, NULL)) {
    g_set_error_literal (error, CONSENT_ERROR, CONSENT_ERROR_BAD_UTF8, "JSON text is not valid UTF-8");
    return FALSE;
  }
  if (!scan_value (&s))
    return FALSE;
  skip_ws (&s);
  if (s.p != s.end)
    return scan_fail (&s, CONSENT_ERROR_BAD_JSON, "trailing bytes after the JSON value");
  return TRUE;
}

json_object *
consent_json_parse_strict (const char *data, gsize len, gsize max_bytes, guint max_depth,
                           GError **error)
{
  g_autofree char *copy = NULL;
  json_tokener *tok;
  json_object *obj;
  enum json_tokener_error jerr;
  gsize end;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  if (len > max_bytes) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_TOO_LARGE,
                 "JSON text of %" G_GSIZE_FORMAT " bytes exceeds the limit of %" G_GSIZE_FORMAT,
                 len, max_bytes);
    return NULL;
  }
  if (max_depth < 1 || max_depth > 64)
    max_depth = 64;
  if (!strict_prescan (data, len, max_depth, error))
    return NULL;

  /* json-c needs a terminator after a bare top-level number: give it len+1
   * bytes ending in NUL, then check it stopped exactly at the end. */
  copy = g_malloc (len + 1);
  memcpy (copy, data, len);
  copy[len] = '\0';
  tok = json_tokener_new_ex ((int) max_depth + 1);
  json_tokener_set_flags (tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
  obj = json_tokener_parse_ex (tok, copy, (int) len + 1);
  jerr = json_tokener_get_error (tok);
  end = json_tokener_get_parse_end (tok);
  json_tokener_free (tok);
  if (obj == NULL || jerr != json_tokener_success || (end != len && end != len + 1)) {
    json_object_put (obj);
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_BAD_JSON, "JSON parser refused the text: %s",
                 json_tokener_error_desc (jerr));
    return NULL;
  }
  return obj;
}

static gboolean
lookup (json_object *obj, const char *key, gboolean required, json_type type,
        const char *type_name, json_object **out, GError **error)
{
  json_object *v = NULL;

  if (!json_object_is_type (obj, json_type_object)) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_BAD_FIELD, "expected a JSON object holding '%s'", key);
    return FALSE;
  }
  if (!json_object_object_get_ex (obj, key, &v)) {
    if (required)
      g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_BAD_FIELD, "missing field '%s'", key);
    *out = NULL;
    return !required;
  }
  if (!json_object_is_type (v, type)) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_BAD_FIELD, "field '%s' must be %s", key, type_name);
    return FALSE;
  }
  *out = v;
  return TRUE;
}

gboolean
consent_json_get_string (json_object *obj, const char *key, gboolean required, const char **out,
                         GError **error)
{
  json_object *v;

  if (!lookup (obj, key, required, json_type_string, "a string", &v, error))
    return FALSE;
  if (v != NULL)
    *out = json_object_get_string (v);
  return TRUE;
}

gboolean
consent_json_get_bool (json_object *obj, const char *key, gboolean required, gboolean *out,
                       GError **error)
{
  json_object *v;

  if (!lookup (obj, key, required, json_type_boolean, "true or false", &v, error))
    return FALSE;
  if (v != NULL)
    *out = json_object_get_boolean (v) ? TRUE : FALSE;
  return TRUE;
}

gboolean
consent_json_get_int64 (json_object *obj, const char *key, gboolean required, gint64 min,
                        gint64 max, gint64 *out, GError **error)
{
  json_object *v;
  gint64 n;

  if (!lookup (obj, key, required, json_type_int, "an integer", &v, error))
    return FALSE;
  if (v == NULL)
    return TRUE;
  /* json-c saturates integers beyond int64; the text tells the truth. */
  errno = 0;
  n = json_object_get_int64 (v);
  if (errno != 0 || n < min || n > max) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_BAD_FIELD,
                 "field '%s' must be an integer from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT,
                 key, min, max);
    return FALSE;
  }
  *out = n;
  return TRUE;
}

gboolean
consent_json_check_keys (json_object *obj, const char *const *allowed, GError **error)
{
  if (!json_object_is_type (obj, json_type_object)) {
    g_set_error_literal (error, CONSENT_ERROR, CONSENT_ERROR_BAD_FIELD, "expected a JSON object");
    return FALSE;
  }
  json_object_object_foreach (obj, key, val) {
    (void) val;
    if (!g_strv_contains (allowed, key)) {
      g_autofree char *shown = g_utf8_make_valid (key, MIN (strlen (key), 64));
      g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_BAD_FIELD, "unknown field '%s'", shown);
      return FALSE;
    }
  }
  return TRUE;
}

void
consent_json_append_string (GString *out, const char *str)
{
  g_string_append_c (out, '"');
  for (const guchar *p = (const guchar *) str; *p != '\0'; p++) {
    switch (*p) {
    case '"': g_string_append (out, "\\\""); break;
    case '\\': g_string_append (out, "\\\\"); break;
    case '\n': g_string_append (out, "\\n"); break;
    case '\r': g_string_append (out, "\\r"); break;
    case '\t': g_string_append (out, "\\t"); break;
    case '\b': g_string_append (out, "\\b"); break;
    case '\f': g_string_append (out, "\\f"); break;
    default:
      if (*p < 0x20)
        g_string_append_printf (out, "\\u%04x", *p);
      else
        g_string_append_c (out, (char) *p);
    }
  }
  g_string_append_c (out, '"');
}

static int
compare_keys (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void
write_value (GString *out, json_object *v)
{
  switch (json_object_get_type (v)) {
  case json_type_null:
    g_string_append (out, "null");
    break;
  case json_type_boolean:
    g_string_append (out, json_object_get_boolean (v) ? "true" : "false");
    break;
  case json_type_int:
    g_string_append_printf (out, "%" G_GINT64_FORMAT, json_object_get_int64 (v));
    break;
  case json_type_double:
    g_string_append (out, json_object_to_json_string_ext (v, JSON_C_TO_STRING_PLAIN));
    break;
  case json_type_string:
    consent_json_append_string (out, json_object_get_string (v));
    break;
  case json_type_array: {
    gsize n = json_object_array_length (v);
    g_string_append_c (out, '[');
    for (gsize i = 0; i < n; i++) {
      if (i > 0)
        g_string_append_c (out, ',');
      write_value (out, json_object_array_get_idx (v, i));
    }
    g_string_append_c (out, ']');
    break;
  }
  case json_type_object: {
    g_autoptr (GPtrArray) keys = g_ptr_array_new ();
    json_object_object_foreach (v, key, val) {
      (void) val;
      g_ptr_array_add (keys, key);
    }
    g_ptr_array_sort (keys, compare_keys);
    g_string_append_c (out, '{');
    for (guint i = 0; i < keys->len; i++) {
      const char *name = g_ptr_array_index (keys, i);
      if (i > 0)
        g_string_append_c (out, ',');
      consent_json_append_string (out, name);
      g_string_append_c (out, ':');
      write_value (out, json_object_object_get (v, name));
    }
    g_string_append_c (out, '}');
    break;
  }
  }
}

char *
consent_json_to_string (json_object *obj)
{
  GString *out = g_string_new (NULL);

  write_value (out, obj);
  return g_string_free (out, FALSE);
}
