/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "consent-types.h"

G_BEGIN_DECLS

/**
 * Tokens: "ct1.<base64url(claims JSON)>.<base64url(HMAC-SHA256)>", the MAC
 * over "ct1.<claims part>" under the daemon's secret (≥ 32 bytes).
 * Claims: {"m":meeting,"p":participant,"r":"participant"|"recorder",
 *          "iat":unix s,"exp":unix s,"jti":random id}.
 */
#define CONSENT_TOKEN_MIN_KEY_LEN 32
#define CONSENT_TOKEN_MAX_LEN 1024
#define CONSENT_TOKEN_MAX_TTL_S (30 * 24 * 3600)

typedef struct {
  char *meeting;
  char *participant; /* for recorders: the recorder's own id */
  ConsentRole role;
  gint64 issued_at;
  gint64 expires_at;
  char *id;          /* jti: unique per token */
} ConsentTokenClaims;

void consent_token_claims_free (ConsentTokenClaims *claims);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ConsentTokenClaims, consent_token_claims_free)

/** consent_token_mint: @ttl_s 1..CONSENT_TOKEN_MAX_TTL_S; ids must be valid (consent_id_is_valid). */
char *consent_token_mint (const guint8 *key, gsize key_len, const char *meeting,
                          const char *participant, ConsentRole role, gint64 now_s,
                          guint ttl_s, GError **error);

/**
 * consent_token_verify:
 * Checks format, MAC (constant time), expiry (with no leeway) and, when
 * @expected_meeting is not NULL, the audience. Errors: BAD_TOKEN, EXPIRED,
 * WRONG_MEETING, with a reason a person can act on.
 */
ConsentTokenClaims *consent_token_verify (const guint8 *key, gsize key_len,
                                          const char *token, gint64 now_s,
                                          const char *expected_meeting, GError **error);

/**
 * consent_token_verify_role:
 * consent_token_verify() plus the role: a participant token cannot act as a
 * recorder and vice versa (WRONG_ROLE).
 */
ConsentTokenClaims *consent_token_verify_role (const guint8 *key, gsize key_len,
                                               const char *token, gint64 now_s,
                                               const char *expected_meeting,
                                               ConsentRole expected_role, GError **error);

/** consent_constant_time_equal: compares @len bytes without early exit. */
gboolean consent_constant_time_equal (const guint8 *a, const guint8 *b, gsize len);

G_END_DECLS
