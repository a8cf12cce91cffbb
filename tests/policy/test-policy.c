/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Policy files: every value checked, every error with its file and line. */
#include "consent.h"

#include <glib/gstdio.h>
#include <string.h>

static ConsentPolicy *
load (const char *text, GError **error)
{
  return consent_policy_load_data (text, strlen (text), "site.conf", error);
}

/* @text must fail with a message starting "site.conf:LINE: " and containing @what. */
static void
assert_error_at (const char *text, guint line, const char *what)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ConsentPolicy) p = load (text, &error);
  g_autofree char *prefix = g_strdup_printf ("site.conf:%u: ", line);

  g_assert_null (p);
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_POLICY);
  if (!g_str_has_prefix (error->message, prefix) || strstr (error->message, what) == NULL)
    g_error ("expected '%s…%s', got '%s'", prefix, what, error->message);
}

static void
assert_same_policy (const ConsentPolicy *a, const ConsentPolicy *b)
{
  g_assert_cmpint (a->scope, ==, b->scope);
  g_assert_cmpint (a->late_join, ==, b->late_join);
  g_assert_cmpint (a->reuse_on_rejoin, ==, b->reuse_on_rejoin);
  g_assert_cmpuint (a->answer_timeout_s, ==, b->answer_timeout_s);
  g_assert_cmpstr (a->notice->sha256, ==, b->notice->sha256);
  g_assert_cmpstr (a->notice->text, ==, b->notice->text);
  g_assert_true (g_strv_equal ((const char *const *) a->storage_roots,
                               (const char *const *) b->storage_roots));
  g_assert_cmpint (a->allow_network_filesystems, ==, b->allow_network_filesystems);
  g_assert_cmpint (a->allow_foreign_sinks, ==, b->allow_foreign_sinks);
  g_assert_cmpuint (a->ledger_retention_days, ==, b->ledger_retention_days);
}

static void
test_default_round_trip (void)
{
  g_autoptr (ConsentPolicy) def = consent_policy_new_default ("/srv/recordings");
  g_autofree char *text = consent_policy_to_data (def);
  g_autoptr (GError) error = NULL;
  g_autoptr (ConsentPolicy) back = load (text, &error);
  g_autofree char *text2 = NULL;

  g_assert_no_error (error);
  assert_same_policy (def, back);
  text2 = consent_policy_to_data (back);
  g_assert_cmpstr (text, ==, text2);
  /* Every key is written, each with a comment. */
  g_assert_nonnull (strstr (text, "answer-timeout=300"));
  g_assert_nonnull (strstr (text, "allow-foreign-sinks=false"));
  g_assert_nonnull (strstr (text, "\n# "));
}

static void
test_custom_round_trip (void)
{
  const char *text =
      "# site policy\n"
      "[consent]\n"
      "scope=participant\n"
      "late-join=stop\n"
      "reuse-on-rejoin=false\n"
      "answer-timeout=60\n"
      "\n"
      "[notice]\n"
      "version=2026-11\n"
      "text=Line one.\\nLine two; with a semicolon and = sign.\n"
      "controller=ACME Ltd\n"
      "purpose=Minutes\n"
      "storage=Basement server\n"
      "retention-days=90\n"
      "[storage]\n"
      "roots=/srv/a;/srv/b/\n"
      "allow-network-filesystems=true\n"
      "allow-foreign-sinks=true\n"
      "[ledger]\n"
      "retention-days=365\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (ConsentPolicy) p = load (text, &error);
  g_autofree char *written = NULL;
  g_autoptr (ConsentPolicy) back = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (p->scope, ==, CONSENT_SCOPE_PARTICIPANT);
  g_assert_cmpint (p->late_join, ==, CONSENT_LATE_JOIN_STOP);
  g_assert_false (p->reuse_on_rejoin);
  g_assert_cmpuint (p->answer_timeout_s, ==, 60);
  g_assert_cmpstr (p->notice->version, ==, "2026-11");
  g_assert_cmpstr (p->notice->text, ==, "Line one.\nLine two; with a semicolon and = sign.");
  g_assert_cmpuint (p->notice->retention_days, ==, 90);
  g_assert_cmpuint (g_strv_length (p->storage_roots), ==, 2);
  g_assert_cmpstr (p->storage_roots[1], ==, "/srv/b");
  g_assert_true (p->allow_network_filesystems);
  g_assert_cmpuint (p->ledger_retention_days, ==, 365);
  written = consent_policy_to_data (p);
  back = load (written, &error);
  g_assert_no_error (error);
  assert_same_policy (p, back);
}

static void
test_empty_is_default (void)
{
  g_autoptr (ConsentPolicy) p = load ("", NULL);
  g_autoptr (ConsentPolicy) def = consent_policy_new_default (NULL);

  g_assert_nonnull (p);
  assert_same_policy (p, def);
}

static void
test_blanks_around_words (void)
{
  const char *text = "[consent]\r\n  scope = participant \r\nanswer-timeout=60\t\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (ConsentPolicy) p = load (text, &error);

  g_assert_no_error (error);
  g_assert_cmpint (p->scope, ==, CONSENT_SCOPE_PARTICIPANT);
  g_assert_cmpuint (p->answer_timeout_s, ==, 60);
}

static void
test_unknown_group (void)
{
  assert_error_at ("[consent]\nscope=meeting\n\n[consnet]\n", 4, "unknown group [consnet]");
}

static void
test_unknown_key (void)
{
  assert_error_at ("# c\n[consent]\nscope=meeting\nlate_join=close\n", 4, "unknown key 'late_join'");
  assert_error_at ("[notice]\ntext[de]=Hallo\n", 2, "unknown key");
}

static void
test_bad_enums (void)
{
  assert_error_at ("[consent]\n\nscope=everyone\n", 3, "meeting or participant");
  assert_error_at ("[consent]\nlate-join=maybe\n", 2, "close or stop");
}

static void
test_bad_bools (void)
{
  assert_error_at ("[consent]\nreuse-on-rejoin=yes\n", 2, "true or false");
  assert_error_at ("[storage]\nroots=/srv\nallow-network-filesystems=1\n", 3, "true or false");
  assert_error_at ("[storage]\nallow-foreign-sinks=True\n", 2, "true or false");
}

static void
test_bad_numbers (void)
{
  assert_error_at ("[consent]\nanswer-timeout=4\n", 2, "from 5 to 86400");
  assert_error_at ("[consent]\nanswer-timeout=86401\n", 2, "from 5 to 86400");
  assert_error_at ("[consent]\nanswer-timeout=12x\n", 2, "whole number");
  assert_error_at ("[consent]\nanswer-timeout=-5\n", 2, "whole number");
  assert_error_at ("[notice]\nretention-days=0\n", 2, "from 1 to 36500");
  assert_error_at ("[ledger]\n\n\nretention-days=36501\n", 4, "from 1 to 36500");
}

static void
test_bad_notice (void)
{
  assert_error_at ("[notice]\nversion=two words\n", 2, "notice version");
  assert_error_at ("[notice]\ntext=\n", 2, "non-empty");
  {
    g_autofree char *big = g_strnfill (9000, 'x');
    g_autofree char *text = g_strdup_printf ("[notice]\ntext=%s\n", big);
    assert_error_at (text, 2, "at most 8192");
  }
}

static void
test_bad_roots (void)
{
  assert_error_at ("[storage]\nroots=relative/dir\n", 2, "absolute path");
  assert_error_at ("[storage]\nroots=/srv/../etc\n", 2, "absolute path");
  assert_error_at ("[storage]\nroots=\n", 2, "at least one");
}

static void
test_duplicates (void)
{
  assert_error_at ("[consent]\nscope=meeting\nscope=participant\n", 3, "appears twice");
  assert_error_at ("[consent]\n[notice]\n[consent]\n", 3, "first at line 1");
}

static void
test_structure (void)
{
  assert_error_at ("scope=meeting\n", 1, "outside of any group");
  assert_error_at ("[consent]\nscope meeting\n", 2, "key=value");
  assert_error_at ("[consent\n", 1, "malformed group header");
  assert_error_at ("[consent]\nscope=\xff\n", 2, "UTF-8");
}

static void
test_load_file (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("policy-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "policy.conf", NULL);
  g_autoptr (ConsentPolicy) p = NULL;
  g_autofree char *prefix = NULL;

  g_assert_null (consent_policy_load_file (path, &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_POLICY);
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (path, "[consent]\nscope=meeting\nanswer-timeout=1\n", -1, NULL));
  g_assert_null (consent_policy_load_file (path, &error));
  prefix = g_strdup_printf ("%s:3: ", path);
  g_assert_true (g_str_has_prefix (error->message, prefix));
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (path, "[consent]\nscope=participant\n", -1, NULL));
  p = consent_policy_load_file (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (p->scope, ==, CONSENT_SCOPE_PARTICIPANT);
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_notice_hash (void)
{
  g_autoptr (ConsentNotice) a = consent_notice_new ("1", "t", "c", "p", "s", 30);
  g_autoptr (ConsentNotice) b = consent_notice_new ("1", "t", "c", "p", "s", 31);
  g_autofree char *canon = consent_notice_canonical (a);
  g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, canon, -1);

  g_assert_cmpstr (canon, ==,
                   "{\"controller\":\"c\",\"purpose\":\"p\",\"retention-days\":30,\"storage\":\"s\","
                   "\"text\":\"t\",\"version\":\"1\"}");
  g_assert_cmpstr (a->sha256, ==, hash);
  g_assert_cmpstr (a->sha256, !=, b->sha256);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/policy/default-round-trip", test_default_round_trip);
  g_test_add_func ("/policy/custom-round-trip", test_custom_round_trip);
  g_test_add_func ("/policy/empty-is-default", test_empty_is_default);
  g_test_add_func ("/policy/blanks-around-words", test_blanks_around_words);
  g_test_add_func ("/policy/unknown-group", test_unknown_group);
  g_test_add_func ("/policy/unknown-key", test_unknown_key);
  g_test_add_func ("/policy/bad-enums", test_bad_enums);
  g_test_add_func ("/policy/bad-bools", test_bad_bools);
  g_test_add_func ("/policy/bad-numbers", test_bad_numbers);
  g_test_add_func ("/policy/bad-notice", test_bad_notice);
  g_test_add_func ("/policy/bad-roots", test_bad_roots);
  g_test_add_func ("/policy/duplicates", test_duplicates);
  g_test_add_func ("/policy/structure", test_structure);
  g_test_add_func ("/policy/load-file", test_load_file);
  g_test_add_func ("/policy/notice-hash", test_notice_hash);
  return g_test_run ();
}
