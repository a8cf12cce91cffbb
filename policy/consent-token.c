/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* consent-token.c: signed, expiring access tokens for participants and recorders.
 *
 * Format: "ct1.<base64url(claims)>.<base64url(HMAC-SHA256(key, "ct1.<claims part>"))>",
 * base64url without padding. Verification checks the MAC (constant time)
 * before looking at the claims, so unauthenticated bytes are never parsed. */
#include "consent-token.h"
#include "consent-json.h"

#include <openssl/rand.h>
#include <string.h>

#define TOKEN_PREFIX "ct1"
#define MAC_LEN 32
#define CLAIMS_MAX_BYTES 768

void
consent_token_claims_free (ConsentTokenClaims *claims)
{
  if (claims == NULL)
    return;
  g_free (claims->meeting);
  g_free (claims->participant);
  g_free (claims->id);
  g_free (claims);
}

gboolean
consent_constant_time_equal (const guint8 *a, const guint8 *b, gsize len)
{
  volatile guint8 diff = 0;

  for (gsize i = 0; i < len; i++)
    diff |= a[i] ^ b[i];
  return diff == 0;
}

static char *
base64url_encode (const guint8 *data, gsize len)
{
  char *s = g_base64_encode (data, len);
  char *w = s;

  for (char *r = s; *r != '\0'; r++) {
    if (*r == '=')
      continue;
    *w++ = *r == '+' ? '-' : *r == '/' ? '_' : *r;
  }
  *w = '\0';
  return s;
}

/* Strict: only the url-safe alphabet, no padding, canonical trailing bits. */
static GBytes *
base64url_decode (const char *text, gsize len)
{
  g_autofree char *std = NULL;
  g_autofree char *again = NULL;
  guchar *raw;
  gsize raw_len = 0;

  if (len == 0 || len % 4 == 1)
    return NULL;
  std = g_malloc (len + 3);
  for (gsize i = 0; i < len; i++) {
    char c = text[i];
    if (!g_ascii_isalnum (c) && c != '-' && c != '_')
      return NULL;
    std[i] = c == '-' ? '+' : c == '_' ? '/' : c;
  }
  memset (std + len, '=', (4 - len % 4) % 4);
  std[len + (4 - len % 4) % 4] = '\0';
  raw = g_base64_decode (std, &raw_len);
  again = base64url_encode (raw, raw_len);
  if (strlen (again) != len || memcmp (again, text, len) != 0) {
    g_free (raw);
    return NULL;
  }
  return g_bytes_new_take (raw, raw_len);
}

static void
compute_mac (const guint8 *key, gsize key_len, const char *signed_part, gsize len, guint8 *mac)
{
  g_autoptr (GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA256, key, key_len);
  gsize mac_len = MAC_LEN;

  g_hmac_update (hmac, (const guchar *) signed_part, (gssize) len);
  g_hmac_get_digest (hmac, mac, &mac_len);
}

static char *
random_id (void)
{
  guint8 raw[16];
  GString *hex = g_string_sized_new (2 * sizeof raw);

  if (RAND_bytes (raw, sizeof raw) != 1)
    g_error ("the system random number generator failed");
  for (gsize i = 0; i < sizeof raw; i++)
    g_string_append_printf (hex, "%02x", raw[i]);
  return g_string_free (hex, FALSE);
}

char *
consent_token_mint (const guint8 *key, gsize key_len, const char *meeting, const char *participant,
                    ConsentRole role, gint64 now_s, guint ttl_s, GError **error)
{
  g_autoptr (GString) claims = g_string_new ("{\"exp\":");
  g_autofree char *jti = random_id ();
  g_autofree char *claims_part = NULL;
  g_autofree char *signed_part = NULL;
  g_autofree char *mac_part = NULL;
  guint8 mac[MAC_LEN];

  if (key == NULL || key_len < CONSENT_TOKEN_MIN_KEY_LEN) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_INVALID,
                 "token key too short: %" G_GSIZE_FORMAT " bytes, at least %d required", key_len,
                 CONSENT_TOKEN_MIN_KEY_LEN);
    return NULL;
  }
  if (!consent_id_is_valid (meeting) || !consent_id_is_valid (participant)) {
    g_set_error_literal (error, CONSENT_ERROR, CONSENT_ERROR_INVALID,
                         "meeting and participant ids must be 1-64 characters of A-Z a-z 0-9 . _ - "
                         "not starting with '.' or '-'");
    return NULL;
  }
  if (ttl_s < 1 || ttl_s > CONSENT_TOKEN_MAX_TTL_S || now_s < 0) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_INVALID,
                 "token lifetime must be 1 to %d seconds", CONSENT_TOKEN_MAX_TTL_S);
    return NULL;
  }
  /* Keys sorted: the claims text is canonical JSON. */
  g_string_append_printf (claims, "%" G_GINT64_FORMAT ",\"iat\":%" G_GINT64_FORMAT ",\"jti\":",
                          now_s + ttl_s, now_s);
  consent_json_append_string (claims, jti);
  g_string_append (claims, ",\"m\":");
  consent_json_append_string (claims, meeting);
  g_string_append (claims, ",\"p\":");
  consent_json_append_string (claims, participant);
  g_string_append (claims, ",\"r\":");
  consent_json_append_string (claims, consent_role_name (role));
  g_string_append_c (claims, '}');

  claims_part = base64url_encode ((const guint8 *) claims->str, claims->len);
  signed_part = g_strconcat (TOKEN_PREFIX ".", claims_part, NULL);
  compute_mac (key, key_len, signed_part, strlen (signed_part), mac);
  mac_part = base64url_encode (mac, MAC_LEN);
  return g_strconcat (signed_part, ".", mac_part, NULL);
}

static gboolean
bad_token (GError **error, const char *why)
{
  g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_BAD_TOKEN, "invalid token: %s", why);
  return FALSE;
}

/* Splits and authenticates; returns the claims bytes only if the MAC is right. */
static GBytes *
authenticate (const guint8 *key, gsize key_len, const char *token, GError **error)
{
  gsize len = strnlen (token, CONSENT_TOKEN_MAX_LEN + 1);
  const char *dot1, *dot2;
  g_autoptr (GBytes) mac = NULL;
  guint8 expected[MAC_LEN];

  if (len > CONSENT_TOKEN_MAX_LEN)
    return bad_token (error, "longer than " G_STRINGIFY (CONSENT_TOKEN_MAX_LEN) " bytes"), NULL;
  if (strncmp (token, TOKEN_PREFIX ".", 4) != 0)
    return bad_token (error, "not a consentgate token (expected prefix \"ct1.\")"), NULL;
  dot1 = token + 3;
  dot2 = strchr (dot1 + 1, '.');
  if (dot2 == NULL || strchr (dot2 + 1, '.') != NULL)
    return bad_token (error, "expected three dot-separated parts"), NULL;
  mac = base64url_decode (dot2 + 1, strlen (dot2 + 1));
  if (mac == NULL || g_bytes_get_size (mac) != MAC_LEN)
    return bad_token (error, "signature is not 32 bytes of unpadded base64url"), NULL;
  compute_mac (key, key_len, token, (gsize) (dot2 - token), expected);
  if (!consent_constant_time_equal (expected, g_bytes_get_data (mac, NULL), MAC_LEN))
    return bad_token (error, "signature does not match (wrong key or modified token)"), NULL;
  {
    GBytes *claims = base64url_decode (dot1 + 1, (gsize) (dot2 - dot1 - 1));
    if (claims == NULL)
      bad_token (error, "claims are not unpadded base64url");
    return claims;
  }
}

static ConsentTokenClaims *
parse_claims (GBytes *bytes, GError **error)
{
  static const char *const keys[] = { "m", "p", "r", "iat", "exp", "jti", NULL };
  g_autoptr (ConsentTokenClaims) c = g_new0 (ConsentTokenClaims, 1);
  g_autoptr (json_object) obj = NULL;
  g_autoptr (GError) local = NULL;
  const char *m = NULL, *p = NULL, *r = NULL, *jti = NULL;
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  obj = consent_json_parse_strict (data, len, CLAIMS_MAX_BYTES, 2, &local);
  if (obj == NULL || !json_object_is_type (obj, json_type_object) ||
      !consent_json_check_keys (obj, keys, &local) ||
      !consent_json_get_string (obj, "m", TRUE, &m, &local) ||
      !consent_json_get_string (obj, "p", TRUE, &p, &local) ||
      !consent_json_get_string (obj, "r", TRUE, &r, &local) ||
      !consent_json_get_string (obj, "jti", TRUE, &jti, &local) ||
      !consent_json_get_int64 (obj, "iat", TRUE, 0, G_MAXINT64 / 2, &c->issued_at, &local) ||
      !consent_json_get_int64 (obj, "exp", TRUE, 0, G_MAXINT64 / 2, &c->expires_at, &local)) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_BAD_TOKEN, "invalid token claims: %s",
                 local != NULL ? local->message : "not an object");
    return NULL;
  }
  if (!consent_id_is_valid (m) || !consent_id_is_valid (p) || !consent_id_is_valid (jti) ||
      !consent_role_from_name (r, &c->role) || c->expires_at <= c->issued_at ||
      c->expires_at - c->issued_at > CONSENT_TOKEN_MAX_TTL_S) {
    bad_token (error, "claims out of range");
    return NULL;
  }
  c->meeting = g_strdup (m);
  c->participant = g_strdup (p);
  c->id = g_strdup (jti);
  return g_steal_pointer (&c);
}

ConsentTokenClaims *
consent_token_verify (const guint8 *key, gsize key_len, const char *token, gint64 now_s,
                      const char *expected_meeting, GError **error)
{
  g_autoptr (GBytes) claims_bytes = NULL;
  g_autoptr (ConsentTokenClaims) claims = NULL;

  if (key == NULL || key_len < CONSENT_TOKEN_MIN_KEY_LEN) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_INVALID,
                 "token key too short: %" G_GSIZE_FORMAT " bytes, at least %d required", key_len,
                 CONSENT_TOKEN_MIN_KEY_LEN);
    return NULL;
  }
  if (token == NULL) {
    bad_token (error, "no token given");
    return NULL;
  }
  claims_bytes = authenticate (key, key_len, token, error);
  if (claims_bytes == NULL)
    return NULL;
  claims = parse_claims (claims_bytes, error);
  if (claims == NULL)
    return NULL;
  if (now_s >= claims->expires_at) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_EXPIRED,
                 "token expired %" G_GINT64_FORMAT " s ago; ask for a new one",
                 now_s - claims->expires_at);
    return NULL;
  }
  if (claims->issued_at > now_s) {
    bad_token (error, "issued in the future (check the server clock)");
    return NULL;
  }
  if (expected_meeting != NULL && g_strcmp0 (expected_meeting, claims->meeting) != 0) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_WRONG_MEETING,
                 "token is for meeting '%s', not '%s'", claims->meeting, expected_meeting);
    return NULL;
  }
  return g_steal_pointer (&claims);
}

ConsentTokenClaims *
consent_token_verify_role (const guint8 *key, gsize key_len, const char *token, gint64 now_s,
                           const char *expected_meeting, ConsentRole expected_role, GError **error)
{
  g_autoptr (ConsentTokenClaims) claims =
      consent_token_verify (key, key_len, token, now_s, expected_meeting, error);

  if (claims != NULL && claims->role != expected_role) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_WRONG_ROLE, "token is for a %s, not a %s",
                 consent_role_name (claims->role), consent_role_name (expected_role));
    return NULL;
  }
  return g_steal_pointer (&claims);
}
