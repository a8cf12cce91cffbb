/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tokens: minted ones verify; anything altered, expired or misdirected does not. */
#include "consent.h"

#include <string.h>

#define NOW 1700000000

static guint8 key[32];

static void
fresh_key (guint8 *k, gsize len)
{
  for (gsize i = 0; i < len; i++)
    k[i] = (guint8) g_random_int ();
}

static char *
mint (ConsentRole role, guint ttl)
{
  g_autoptr (GError) error = NULL;
  char *t = consent_token_mint (key, sizeof key, "m1", "alice", role, NOW, ttl, &error);

  g_assert_no_error (error);
  g_assert_nonnull (t);
  return t;
}

static void
assert_refused (const char *token, gint64 now, const char *meeting, ConsentError code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ConsentTokenClaims) c = consent_token_verify (key, sizeof key, token, now, meeting, &error);

  g_assert_null (c);
  g_assert_true (g_error_matches (error, CONSENT_ERROR, (int) code));
  g_assert_cmpuint (strlen (error->message), >, 10);
}

static void
test_round_trip (void)
{
  g_autofree char *t = mint (CONSENT_ROLE_PARTICIPANT, 600);
  g_autoptr (GError) error = NULL;
  g_autoptr (ConsentTokenClaims) c = consent_token_verify (key, sizeof key, t, NOW + 1, "m1", &error);

  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (t, "ct1."));
  g_assert_null (strchr (t, '='));
  g_assert_null (strchr (t, '+'));
  g_assert_null (strchr (t, '/'));
  g_assert_cmpstr (c->meeting, ==, "m1");
  g_assert_cmpstr (c->participant, ==, "alice");
  g_assert_cmpint (c->role, ==, CONSENT_ROLE_PARTICIPANT);
  g_assert_cmpint (c->issued_at, ==, NOW);
  g_assert_cmpint (c->expires_at, ==, NOW + 600);
  g_assert_cmpuint (strlen (c->id), ==, 32);
}

static void
test_unique_ids (void)
{
  g_autofree char *a = mint (CONSENT_ROLE_PARTICIPANT, 60);
  g_autofree char *b = mint (CONSENT_ROLE_PARTICIPANT, 60);
  g_autoptr (ConsentTokenClaims) ca = consent_token_verify (key, sizeof key, a, NOW, NULL, NULL);
  g_autoptr (ConsentTokenClaims) cb = consent_token_verify (key, sizeof key, b, NOW, NULL, NULL);

  g_assert_cmpstr (a, !=, b);
  g_assert_cmpstr (ca->id, !=, cb->id);
}

static void
test_tampered (void)
{
  g_autofree char *t = mint (CONSENT_ROLE_PARTICIPANT, 600);
  gsize len = strlen (t);

  /* Flip every character in turn: no variant may verify. */
  for (gsize i = 0; i < len; i++) {
    g_autofree char *bad = g_strdup (t);
    g_autoptr (GError) error = NULL;
    g_autoptr (ConsentTokenClaims) c = NULL;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    c = consent_token_verify (key, sizeof key, bad, NOW, NULL, &error);
    g_assert_null (c);
    g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_BAD_TOKEN);
  }
}

static void
test_forged_claims (void)
{
  g_autofree char *t = mint (CONSENT_ROLE_PARTICIPANT, 600);
  const char *mac = strrchr (t, '.');
  g_autofree char *claims = g_base64_encode ((const guchar *) "{\"exp\":9999999999,\"iat\":1,\"jti\":\"x\",\"m\":\"m1\",\"p\":\"alice\",\"r\":\"recorder\"}", 77);
  g_autofree char *forged = NULL;

  g_strdelimit (claims, "+", '-');
  g_strdelimit (claims, "/", '_');
  g_strdelimit (claims, "=", '\0');
  forged = g_strconcat ("ct1.", claims, mac, NULL);
  assert_refused (forged, NOW, NULL, CONSENT_ERROR_BAD_TOKEN);
}

static void
test_wrong_key (void)
{
  g_autofree char *t = mint (CONSENT_ROLE_PARTICIPANT, 600);
  guint8 other[32];
  g_autoptr (GError) error = NULL;

  fresh_key (other, sizeof other);
  other[0] = key[0] ^ 1;
  g_assert_null (consent_token_verify (other, sizeof other, t, NOW, NULL, &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_BAD_TOKEN);
}

static void
test_expired (void)
{
  g_autofree char *t = mint (CONSENT_ROLE_PARTICIPANT, 60);
  g_autoptr (ConsentTokenClaims) ok = consent_token_verify (key, sizeof key, t, NOW + 59, NULL, NULL);

  g_assert_nonnull (ok);
  assert_refused (t, NOW + 60, NULL, CONSENT_ERROR_EXPIRED);
  assert_refused (t, NOW + 100000, NULL, CONSENT_ERROR_EXPIRED);
}

static void
test_not_yet_valid (void)
{
  g_autofree char *t = mint (CONSENT_ROLE_PARTICIPANT, 60);

  assert_refused (t, NOW - 1, NULL, CONSENT_ERROR_BAD_TOKEN);
}

static void
test_wrong_meeting (void)
{
  g_autofree char *t = mint (CONSENT_ROLE_PARTICIPANT, 60);

  assert_refused (t, NOW, "m2", CONSENT_ERROR_WRONG_MEETING);
  assert_refused (t, NOW, "m", CONSENT_ERROR_WRONG_MEETING);
}

static void
test_wrong_role (void)
{
  g_autofree char *t = mint (CONSENT_ROLE_PARTICIPANT, 60);
  g_autofree char *r = mint (CONSENT_ROLE_RECORDER, 60);
  g_autoptr (GError) error = NULL;
  g_autoptr (ConsentTokenClaims) c = NULL;
  g_autoptr (ConsentTokenClaims) c2 = NULL;

  c = consent_token_verify_role (key, sizeof key, t, NOW, "m1", CONSENT_ROLE_RECORDER, &error);
  g_assert_null (c);
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_WRONG_ROLE);
  c2 = consent_token_verify_role (key, sizeof key, r, NOW, "m1", CONSENT_ROLE_RECORDER, NULL);
  g_assert_nonnull (c2);
  g_assert_cmpint (c2->role, ==, CONSENT_ROLE_RECORDER);
}

static void
test_truncated (void)
{
  g_autofree char *t = mint (CONSENT_ROLE_PARTICIPANT, 60);
  gsize len = strlen (t);

  for (gsize cut = 0; cut < len; cut++) {
    g_autofree char *bad = g_strndup (t, cut);
    assert_refused (bad, NOW, NULL, CONSENT_ERROR_BAD_TOKEN);
  }
}

static void
test_bad_base64 (void)
{
  g_autofree char *t = mint (CONSENT_ROLE_PARTICIPANT, 60);
  g_autofree char *padded = g_strconcat (t, "=", NULL);
  g_autofree char *std = g_strdup (t);
  g_autofree char *extra_dot = g_strconcat (t, ".x", NULL);

  assert_refused (padded, NOW, NULL, CONSENT_ERROR_BAD_TOKEN);
  g_strdelimit (std, "-_", '+');
  if (strcmp (std, t) != 0)
    assert_refused (std, NOW, NULL, CONSENT_ERROR_BAD_TOKEN);
  assert_refused (extra_dot, NOW, NULL, CONSENT_ERROR_BAD_TOKEN);
  assert_refused ("ct1..", NOW, NULL, CONSENT_ERROR_BAD_TOKEN);
  assert_refused ("ct1.!!!!.????", NOW, NULL, CONSENT_ERROR_BAD_TOKEN);
  assert_refused ("ct2.abc.def", NOW, NULL, CONSENT_ERROR_BAD_TOKEN);
  assert_refused ("", NOW, NULL, CONSENT_ERROR_BAD_TOKEN);
}

static void
test_too_long (void)
{
  g_autofree char *pad = g_strnfill (CONSENT_TOKEN_MAX_LEN, 'A');
  g_autofree char *t = g_strconcat ("ct1.", pad, ".AAAA", NULL);

  assert_refused (t, NOW, NULL, CONSENT_ERROR_BAD_TOKEN);
}

static void
test_short_key (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *t = mint (CONSENT_ROLE_PARTICIPANT, 60);

  g_assert_null (consent_token_mint (key, 31, "m1", "alice", CONSENT_ROLE_PARTICIPANT, NOW, 60, &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (consent_token_verify (key, 16, t, NOW, NULL, &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_INVALID);
}

static void
test_mint_bad_arguments (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_null (consent_token_mint (key, 32, "m 1", "alice", CONSENT_ROLE_PARTICIPANT, NOW, 60, &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (consent_token_mint (key, 32, "m1", "alice", CONSENT_ROLE_PARTICIPANT, NOW, 0, &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (consent_token_mint (key, 32, "m1", "alice", CONSENT_ROLE_PARTICIPANT, NOW,
                                     CONSENT_TOKEN_MAX_TTL_S + 1, &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_INVALID);
}

static void
test_constant_time_equal (void)
{
  guint8 a[4] = { 1, 2, 3, 4 }, b[4] = { 1, 2, 3, 4 }, c[4] = { 1, 2, 3, 5 };

  g_assert_true (consent_constant_time_equal (a, b, 4));
  g_assert_false (consent_constant_time_equal (a, c, 4));
  g_assert_true (consent_constant_time_equal (a, c, 3));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  fresh_key (key, sizeof key);
  g_test_add_func ("/token/round-trip", test_round_trip);
  g_test_add_func ("/token/unique-ids", test_unique_ids);
  g_test_add_func ("/token/tampered", test_tampered);
  g_test_add_func ("/token/forged-claims", test_forged_claims);
  g_test_add_func ("/token/wrong-key", test_wrong_key);
  g_test_add_func ("/token/expired", test_expired);
  g_test_add_func ("/token/not-yet-valid", test_not_yet_valid);
  g_test_add_func ("/token/wrong-meeting", test_wrong_meeting);
  g_test_add_func ("/token/wrong-role", test_wrong_role);
  g_test_add_func ("/token/truncated", test_truncated);
  g_test_add_func ("/token/bad-base64", test_bad_base64);
  g_test_add_func ("/token/too-long", test_too_long);
  g_test_add_func ("/token/short-key", test_short_key);
  g_test_add_func ("/token/mint-bad-arguments", test_mint_bad_arguments);
  g_test_add_func ("/token/constant-time-equal", test_constant_time_equal);
  return g_test_run ();
}
