/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ledger-crypto.h: the few primitives the ledger uses, over OpenSSL 3 (private). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LEDGER_KEY_BYTES 32
#define LEDGER_HASH_HEX 64
#define LEDGER_GCM_NONCE 12
#define LEDGER_GCM_TAG 16
#define LEDGER_ED25519_BYTES 32
#define LEDGER_ED25519_SIG 64

/* The one-way step from epoch e's seal key to epoch e+1's (docs/ledger.md). */
#define LEDGER_EPOCH_LABEL "consentgate ledger epoch"

gboolean ledger_random (guint8 *buf, gsize len, GError **error);
void ledger_hex (const guint8 *data, gsize len, char *out /* 2*len+1 */);
gboolean ledger_unhex (const char *hex, gsize hex_len, guint8 *out, gsize out_len);
void ledger_sha256_hex (const void *data, gsize len, char out[LEDGER_HASH_HEX + 1]);
void ledger_hmac_sha256 (const guint8 key[LEDGER_KEY_BYTES], const void *data, gsize len,
                         guint8 out[32]);
/* key_{e+1} = HMAC-SHA256(key_e, LEDGER_EPOCH_LABEL); in place. */
void ledger_key_evolve (guint8 key[LEDGER_KEY_BYTES]);

/* AES-256-GCM; the result is base64(nonce || ciphertext || tag). */
char *ledger_seal_pd (const guint8 key[LEDGER_KEY_BYTES], const char *aad, const char *plain,
                      gsize plain_len, GError **error);
/* Returns the plaintext (NUL-terminated) or NULL if it does not authenticate. */
char *ledger_open_pd (const guint8 key[LEDGER_KEY_BYTES], const char *aad, const char *sealed,
                      gsize *plain_len);

/* Ed25519 over OpenSSL EVP. Raw 32-byte keys. */
gboolean ledger_ed25519_generate (guint8 priv[LEDGER_ED25519_BYTES],
                                  guint8 pub[LEDGER_ED25519_BYTES], GError **error);
gboolean ledger_ed25519_public (const guint8 priv[LEDGER_ED25519_BYTES],
                                guint8 pub[LEDGER_ED25519_BYTES], GError **error);
gboolean ledger_ed25519_sign (const guint8 priv[LEDGER_ED25519_BYTES], const void *msg,
                              gsize len, guint8 sig[LEDGER_ED25519_SIG], GError **error);
gboolean ledger_ed25519_verify (const guint8 pub[LEDGER_ED25519_BYTES], const void *msg,
                                gsize len, const guint8 sig[LEDGER_ED25519_SIG]);

G_END_DECLS

G_BEGIN_DECLS
/* Reusable SHA-256 and HMAC-SHA256 contexts for hot loops (verification):
 * OpenSSL 3's one-shot calls look the algorithm up on every call. */
typedef struct _LedgerHasher LedgerHasher;
LedgerHasher *ledger_hasher_new (void);
void ledger_hasher_free (LedgerHasher *h);
void ledger_hasher_sha256_hex (LedgerHasher *h, const void *data, gsize len,
                               char out[LEDGER_HASH_HEX + 1]);

typedef struct _LedgerMac LedgerMac;
LedgerMac *ledger_mac_new (const guint8 key[LEDGER_KEY_BYTES]);
void ledger_mac_free (LedgerMac *m);
void ledger_mac_compute (LedgerMac *m, const void *data, gsize len, guint8 out[32]);
G_END_DECLS
