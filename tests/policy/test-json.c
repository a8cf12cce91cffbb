/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The strict JSON reader: what json-c 0.16 lets through must be refused here. */
#include "consent.h"

#include <string.h>

static json_object *
parse_len (const char *text, gsize len, GError **error)
{
  return consent_json_parse_strict (text, len, 4096, 8, error);
}

static void
assert_rejected_len (const char *text, gsize len, ConsentError code)
{
  g_autoptr (GError) error = NULL;
  json_object *obj = parse_len (text, len, &error);

  if (obj != NULL || !g_error_matches (error, CONSENT_ERROR, (int) code))
    g_error ("%.*s: expected %s, got %s", (int) len, text, consent_error_code_name (code),
             error != NULL ? error->message : "success");
}

static void
assert_rejected (const char *text, ConsentError code)
{
  assert_rejected_len (text, strlen (text), code);
}

static void
assert_accepted (const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (json_object) obj = parse_len (text, strlen (text), &error);

  g_assert_no_error (error);
  g_assert_nonnull (obj);
}

static void
test_valid (void)
{
  assert_accepted ("{}");
  assert_accepted ("[]");
  assert_accepted ("12");
  assert_accepted ("-0.5e+3");
  assert_accepted ("\"x\"");
  assert_accepted (" {\"a\":[1,2,{\"b\":null}],\"c\":true,\"d\":false} \n");
  assert_accepted ("{\"emoji\":\"\\ud83d\\ude00\",\"raw\":\"\xc3\xa9\xf0\x9f\x98\x80\"}");
}

static void
test_single_quotes (void)
{
  assert_rejected ("{'a':1}", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("{\"a\":'x'}", CONSENT_ERROR_BAD_JSON);
}

static void
test_trailing_commas (void)
{
  assert_rejected ("{\"a\":1,}", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("[1,2,]", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("[,]", CONSENT_ERROR_BAD_JSON);
}

static void
test_comments (void)
{
  assert_rejected ("{\"a\":1 /* c */}", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("// c\n{}", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("{}#", CONSENT_ERROR_BAD_JSON);
}

static void
test_non_numbers (void)
{
  assert_rejected ("NaN", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("[Infinity]", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("[-Infinity]", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("[+1]", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("[01]", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("[1.]", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("[.5]", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("[0x10]", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("[1e]", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("[tru]", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("[True]", CONSENT_ERROR_BAD_JSON);
}

static void
test_integer_range (void)
{
  /* json-c would saturate these to INT64_MAX/MIN without telling. */
  assert_rejected ("[99999999999999999999]", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("[9223372036854775808]", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("[-9223372036854775809]", CONSENT_ERROR_BAD_JSON);
  assert_accepted ("[9223372036854775807,-9223372036854775808,1e30]");
  assert_rejected ("[1e999]", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("[-1.5e400]", CONSENT_ERROR_BAD_JSON);
}

static void
test_duplicate_keys (void)
{
  assert_rejected ("{\"a\":1,\"a\":2}", CONSENT_ERROR_DUPLICATE_KEY);
  assert_rejected ("{\"x\":{\"a\":1,\"b\":2,\"a\":3}}", CONSENT_ERROR_DUPLICATE_KEY);
  /* Same key on different objects is fine. */
  assert_accepted ("[{\"a\":1},{\"a\":2}]");
}

static void
test_duplicate_keys_escaped (void)
{
  assert_rejected ("{\"a\":1,\"\\u0061\":2}", CONSENT_ERROR_DUPLICATE_KEY);
  assert_rejected ("{\"\\/\":1,\"/\":2}", CONSENT_ERROR_DUPLICATE_KEY);
  assert_rejected ("{\"\xc3\xa9\":1,\"\\u00e9\":2}", CONSENT_ERROR_DUPLICATE_KEY);
  assert_rejected ("{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}", CONSENT_ERROR_DUPLICATE_KEY);
}

static void
test_depth (void)
{
  g_autoptr (GString) deep = g_string_new (NULL);

  /* 8 levels are allowed, 9 are not. */
  for (int i = 0; i < 8; i++)
    g_string_append_c (deep, '[');
  for (int i = 0; i < 8; i++)
    g_string_append_c (deep, ']');
  assert_accepted (deep->str);
  g_string_prepend_c (deep, '[');
  g_string_append_c (deep, ']');
  assert_rejected (deep->str, CONSENT_ERROR_TOO_DEEP);
  assert_rejected ("{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":1}}}}}}}}}",
                   CONSENT_ERROR_TOO_DEEP);
}

static void
test_very_deep (void)
{
  g_autoptr (GString) deep = g_string_new (NULL);

  /* Far beyond any cap, unbalanced: must fail fast without deep recursion. */
  for (int i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  {
    g_autoptr (GError) error = NULL;
    json_object *obj = consent_json_parse_strict (deep->str, deep->len, 1 << 20, 8, &error);
    g_assert_null (obj);
    g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_TOO_DEEP);
  }
}

static void
test_bad_utf8 (void)
{
  assert_rejected ("{\"a\":\"\xff\"}", CONSENT_ERROR_BAD_UTF8);
  assert_rejected ("{\"a\":\"\xc3\"}", CONSENT_ERROR_BAD_UTF8);
  assert_rejected ("{\"\x80\":1}", CONSENT_ERROR_BAD_UTF8);
  /* beyond U+10FFFF */
  assert_rejected ("\"\xf4\x90\x80\x80\"", CONSENT_ERROR_BAD_UTF8);
}

static void
test_overlong (void)
{
  assert_rejected ("\"\xc0\xaf\"", CONSENT_ERROR_BAD_UTF8);
  assert_rejected ("\"\xe0\x80\xaf\"", CONSENT_ERROR_BAD_UTF8);
  assert_rejected ("\"\xf0\x80\x80\xaf\"", CONSENT_ERROR_BAD_UTF8);
  assert_rejected ("\"\xc1\xbf\"", CONSENT_ERROR_BAD_UTF8);
}

static void
test_surrogates (void)
{
  /* Lone surrogates: escaped high, escaped low, reversed pair, encoded in UTF-8. */
  assert_rejected ("\"\\ud800\"", CONSENT_ERROR_BAD_UTF8);
  assert_rejected ("\"\\udc00\"", CONSENT_ERROR_BAD_UTF8);
  assert_rejected ("\"\\ude00\\ud83d\"", CONSENT_ERROR_BAD_UTF8);
  assert_rejected ("\"\\ud800x\"", CONSENT_ERROR_BAD_UTF8);
  assert_rejected ("\"\\ud800\\u0041\"", CONSENT_ERROR_BAD_UTF8);
  assert_rejected ("\"\xed\xa0\x80\"", CONSENT_ERROR_BAD_UTF8);
}

static void
test_trailing_garbage (void)
{
  assert_rejected ("{} {}", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("{}x", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("12 13", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("   ", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("{\"a\":1", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("\"abc", CONSENT_ERROR_BAD_JSON);
}

static void
test_embedded_nul (void)
{
  assert_rejected_len ("{}\0", 3, CONSENT_ERROR_BAD_JSON);
  assert_rejected_len ("{\"a\":\"x\0y\"}", 11, CONSENT_ERROR_BAD_JSON);
  assert_rejected ("{\"a\":\"x\\u0000y\"}", CONSENT_ERROR_BAD_JSON);
}

static void
test_control_and_escapes (void)
{
  assert_rejected ("\"a\tb\"", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("\"a\nb\"", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("\"\\x41\"", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("\"\\u12\"", CONSENT_ERROR_BAD_JSON);
  assert_rejected ("\"\\u12g4\"", CONSENT_ERROR_BAD_JSON);
  assert_accepted ("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\"");
}

static void
test_size_cap (void)
{
  g_autoptr (GError) error = NULL;
  const char *text = "{\"a\":\"0123456789\"}";
  json_object *obj = consent_json_parse_strict (text, strlen (text), 10, 8, &error);

  g_assert_null (obj);
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_TOO_LARGE);
  g_clear_error (&error);
  obj = consent_json_parse_strict (text, strlen (text), strlen (text), 8, &error);
  g_assert_no_error (error);
  json_object_put (obj);
}

static void
test_getters_never_coerce (void)
{
  const char *text = "{\"s\":\"12x\",\"i\":12,\"d\":1.5,\"b\":true,\"n\":null}";
  g_autoptr (json_object) obj = parse_len (text, strlen (text), NULL);
  g_autoptr (GError) error = NULL;
  gint64 i = -1;
  gboolean b = FALSE;
  const char *s = NULL;

  g_assert_nonnull (obj);
  g_assert_false (consent_json_get_int64 (obj, "s", TRUE, 0, 100, &i, &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_BAD_FIELD);
  g_clear_error (&error);
  g_assert_false (consent_json_get_int64 (obj, "d", TRUE, 0, 100, &i, &error));
  g_clear_error (&error);
  g_assert_false (consent_json_get_int64 (obj, "b", TRUE, 0, 100, &i, &error));
  g_clear_error (&error);
  g_assert_false (consent_json_get_int64 (obj, "i", TRUE, 0, 11, &i, &error));
  g_clear_error (&error);
  g_assert_false (consent_json_get_string (obj, "i", TRUE, &s, &error));
  g_clear_error (&error);
  g_assert_false (consent_json_get_bool (obj, "n", TRUE, &b, &error));
  g_clear_error (&error);
  g_assert_false (consent_json_get_string (obj, "missing", TRUE, &s, &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_BAD_FIELD);
  g_clear_error (&error);
  g_assert_true (consent_json_get_string (obj, "missing", FALSE, &s, &error));
  g_assert_null (s);
  g_assert_true (consent_json_get_int64 (obj, "i", TRUE, 0, 12, &i, &error));
  g_assert_cmpint (i, ==, 12);
  g_assert_true (consent_json_get_bool (obj, "b", TRUE, &b, &error));
  g_assert_true (b);
  g_assert_true (consent_json_get_string (obj, "s", TRUE, &s, &error));
  g_assert_cmpstr (s, ==, "12x");
}

static void
test_check_keys (void)
{
  static const char *const allowed[] = { "a", "b", NULL };
  const char *text = "{\"a\":1,\"c\":2}";
  g_autoptr (json_object) obj = parse_len (text, strlen (text), NULL);
  g_autoptr (GError) error = NULL;

  g_assert_false (consent_json_check_keys (obj, allowed, &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_BAD_FIELD);
  g_assert_nonnull (strstr (error->message, "'c'"));
}

static void
test_canonical_writer (void)
{
  const char *text = "{\"b\":[1,\"x\\n\"],\"a\":{\"z\":true,\"y\":null},\"\xc3\xa9\":\"/\"}";
  g_autoptr (json_object) obj = parse_len (text, strlen (text), NULL);
  g_autofree char *out = consent_json_to_string (obj);
  g_autoptr (json_object) again = NULL;
  g_autofree char *out2 = NULL;

  g_assert_cmpstr (out, ==, "{\"a\":{\"y\":null,\"z\":true},\"b\":[1,\"x\\n\"],\"\xc3\xa9\":\"/\"}");
  again = parse_len (out, strlen (out), NULL);
  out2 = consent_json_to_string (again);
  g_assert_cmpstr (out, ==, out2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/json/valid", test_valid);
  g_test_add_func ("/json/single-quotes", test_single_quotes);
  g_test_add_func ("/json/trailing-commas", test_trailing_commas);
  g_test_add_func ("/json/comments", test_comments);
  g_test_add_func ("/json/non-numbers", test_non_numbers);
  g_test_add_func ("/json/integer-range", test_integer_range);
  g_test_add_func ("/json/duplicate-keys", test_duplicate_keys);
  g_test_add_func ("/json/duplicate-keys-escaped", test_duplicate_keys_escaped);
  g_test_add_func ("/json/depth", test_depth);
  g_test_add_func ("/json/very-deep", test_very_deep);
  g_test_add_func ("/json/bad-utf8", test_bad_utf8);
  g_test_add_func ("/json/overlong", test_overlong);
  g_test_add_func ("/json/surrogates", test_surrogates);
  g_test_add_func ("/json/trailing-garbage", test_trailing_garbage);
  g_test_add_func ("/json/embedded-nul", test_embedded_nul);
  g_test_add_func ("/json/control-and-escapes", test_control_and_escapes);
  g_test_add_func ("/json/size-cap", test_size_cap);
  g_test_add_func ("/json/getters-never-coerce", test_getters_never_coerce);
  g_test_add_func ("/json/check-keys", test_check_keys);
  g_test_add_func ("/json/canonical-writer", test_canonical_writer);
  return g_test_run ();
}
