/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ledger-crypto.c: hashing, sealing, encryption and signatures for the ledger. */
#include "ledger-crypto.h"
#include "ledger.h"

#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

gboolean
ledger_random (guint8 *buf, gsize len, GError **error)
{
  if (RAND_bytes (buf, (int) len) != 1) {
    g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_KEY,
                 "the system random generator failed; no key was made");
    return FALSE;
  }
  return TRUE;
}

void
ledger_hex (const guint8 *data, gsize len, char *out)
{
  static const char digits[] = "0123456789abcdef";
  for (gsize i = 0; i < len; i++) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 15];
  }
  out[2 * len] = '\0';
}

/* -1 for anything but 0-9 a-f (uppercase is not canonical). */
static gint8 hex_table[256];

static void
init_hex_table (void)
{
  for (int c = 0; c < 256; c++)
    hex_table[c] = (gint8) (c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                                                                   : -1);
}

gboolean
ledger_unhex (const char *hex, gsize hex_len, guint8 *out, gsize out_len)
{
  static gsize initialized;
  if (g_once_init_enter (&initialized)) {
    init_hex_table ();
    g_once_init_leave (&initialized, 1);
  }
  if (hex_len != 2 * out_len)
    return FALSE;
  for (gsize i = 0; i < out_len; i++) {
    int hi = hex_table[(guchar) hex[2 * i]], lo = hex_table[(guchar) hex[2 * i + 1]];
    if ((hi | lo) < 0)
      return FALSE;
    out[i] = (guint8) (hi << 4 | lo);
  }
  return TRUE;
}

void
ledger_sha256_hex (const void *data, gsize len, char out[LEDGER_HASH_HEX + 1])
{
  guint8 digest[SHA256_DIGEST_LENGTH];
  SHA256 (data, len, digest);
  ledger_hex (digest, sizeof digest, out);
}

void
ledger_hmac_sha256 (const guint8 key[LEDGER_KEY_BYTES], const void *data, gsize len,
                    guint8 out[32])
{
  unsigned int out_len = 32;
  HMAC (EVP_sha256 (), key, LEDGER_KEY_BYTES, data, len, out, &out_len);
}

void
ledger_key_evolve (guint8 key[LEDGER_KEY_BYTES])
{
  guint8 next[32];
  ledger_hmac_sha256 (key, LEDGER_EPOCH_LABEL, strlen (LEDGER_EPOCH_LABEL), next);
  memcpy (key, next, LEDGER_KEY_BYTES);
  OPENSSL_cleanse (next, sizeof next);
}

char *
ledger_seal_pd (const guint8 key[LEDGER_KEY_BYTES], const char *aad, const char *plain,
                gsize plain_len, GError **error)
{
  g_autofree guint8 *buf = g_malloc (LEDGER_GCM_NONCE + plain_len + LEDGER_GCM_TAG);
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new ();
  int n = 0, fin = 0;
  gboolean ok;

  if (!ledger_random (buf, LEDGER_GCM_NONCE, error)) {
    EVP_CIPHER_CTX_free (ctx);
    return NULL;
  }
  ok = EVP_EncryptInit_ex (ctx, EVP_aes_256_gcm (), NULL, key, buf) == 1 &&
       EVP_EncryptUpdate (ctx, NULL, &n, (const guint8 *) aad, (int) strlen (aad)) == 1 &&
       EVP_EncryptUpdate (ctx, buf + LEDGER_GCM_NONCE, &n, (const guint8 *) plain,
                          (int) plain_len) == 1 &&
       EVP_EncryptFinal_ex (ctx, buf + LEDGER_GCM_NONCE + n, &fin) == 1 &&
       EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_GCM_GET_TAG, LEDGER_GCM_TAG,
                            buf + LEDGER_GCM_NONCE + plain_len) == 1;
  EVP_CIPHER_CTX_free (ctx);
  if (!ok) {
    g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_KEY,
                 "encrypting personal data failed (OpenSSL AES-256-GCM)");
    return NULL;
  }
  return g_base64_encode (buf, LEDGER_GCM_NONCE + plain_len + LEDGER_GCM_TAG);
}

char *
ledger_open_pd (const guint8 key[LEDGER_KEY_BYTES], const char *aad, const char *sealed,
                gsize *plain_len)
{
  gsize len = 0;
  g_autofree guint8 *buf = g_base64_decode (sealed, &len);
  if (len < LEDGER_GCM_NONCE + LEDGER_GCM_TAG)
    return NULL;
  gsize clen = len - LEDGER_GCM_NONCE - LEDGER_GCM_TAG;
  g_autofree char *plain = g_malloc (clen + 1);
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new ();
  int n = 0, fin = 0;
  gboolean ok =
      EVP_DecryptInit_ex (ctx, EVP_aes_256_gcm (), NULL, key, buf) == 1 &&
      EVP_DecryptUpdate (ctx, NULL, &n, (const guint8 *) aad, (int) strlen (aad)) == 1 &&
      EVP_DecryptUpdate (ctx, (guint8 *) plain, &n, buf + LEDGER_GCM_NONCE, (int) clen) == 1 &&
      EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_GCM_SET_TAG, LEDGER_GCM_TAG,
                           buf + LEDGER_GCM_NONCE + clen) == 1 &&
      EVP_DecryptFinal_ex (ctx, (guint8 *) plain + n, &fin) == 1;
  EVP_CIPHER_CTX_free (ctx);
  if (!ok)
    return NULL;
  plain[clen] = '\0';
  if (plain_len)
    *plain_len = clen;
  return g_steal_pointer (&plain);
}

static gboolean
crypto_fail (GError **error, const char *what)
{
  g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_KEY,
               "Ed25519 %s failed (OpenSSL)", what);
  return FALSE;
}

gboolean
ledger_ed25519_generate (guint8 priv[LEDGER_ED25519_BYTES], guint8 pub[LEDGER_ED25519_BYTES],
                         GError **error)
{
  if (!ledger_random (priv, LEDGER_ED25519_BYTES, error))
    return FALSE;
  return ledger_ed25519_public (priv, pub, error);
}

gboolean
ledger_ed25519_public (const guint8 priv[LEDGER_ED25519_BYTES],
                       guint8 pub[LEDGER_ED25519_BYTES], GError **error)
{
  EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key (EVP_PKEY_ED25519, NULL, priv,
                                                 LEDGER_ED25519_BYTES);
  gsize len = LEDGER_ED25519_BYTES;
  gboolean ok = pkey && EVP_PKEY_get_raw_public_key (pkey, pub, &len) == 1;
  EVP_PKEY_free (pkey);
  return ok ? TRUE : crypto_fail (error, "key derivation");
}

gboolean
ledger_ed25519_sign (const guint8 priv[LEDGER_ED25519_BYTES], const void *msg, gsize len,
                     guint8 sig[LEDGER_ED25519_SIG], GError **error)
{
  EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key (EVP_PKEY_ED25519, NULL, priv,
                                                 LEDGER_ED25519_BYTES);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  gsize sig_len = LEDGER_ED25519_SIG;
  gboolean ok = pkey && EVP_DigestSignInit (ctx, NULL, NULL, NULL, pkey) == 1 &&
                EVP_DigestSign (ctx, sig, &sig_len, msg, len) == 1;
  EVP_MD_CTX_free (ctx);
  EVP_PKEY_free (pkey);
  return ok ? TRUE : crypto_fail (error, "signing");
}

gboolean
ledger_ed25519_verify (const guint8 pub[LEDGER_ED25519_BYTES], const void *msg, gsize len,
                       const guint8 sig[LEDGER_ED25519_SIG])
{
  EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key (EVP_PKEY_ED25519, NULL, pub,
                                                LEDGER_ED25519_BYTES);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  gboolean ok = pkey && EVP_DigestVerifyInit (ctx, NULL, NULL, NULL, pkey) == 1 &&
                EVP_DigestVerify (ctx, sig, LEDGER_ED25519_SIG, msg, len) == 1;
  EVP_MD_CTX_free (ctx);
  EVP_PKEY_free (pkey);
  return ok;
}

struct _LedgerHasher {
  EVP_MD *md;
  EVP_MD_CTX *ctx;
};

LedgerHasher *
ledger_hasher_new (void)
{
  LedgerHasher *h = g_new0 (LedgerHasher, 1);
  h->md = EVP_MD_fetch (NULL, "SHA256", NULL);
  h->ctx = EVP_MD_CTX_new ();
  return h;
}

void
ledger_hasher_free (LedgerHasher *h)
{
  if (!h)
    return;
  EVP_MD_CTX_free (h->ctx);
  EVP_MD_free (h->md);
  g_free (h);
}

void
ledger_hasher_sha256_hex (LedgerHasher *h, const void *data, gsize len,
                          char out[LEDGER_HASH_HEX + 1])
{
  guint8 digest[32];
  unsigned int n = 0;
  EVP_DigestInit_ex2 (h->ctx, h->md, NULL);
  EVP_DigestUpdate (h->ctx, data, len);
  EVP_DigestFinal_ex (h->ctx, digest, &n);
  ledger_hex (digest, sizeof digest, out);
}

struct _LedgerMac {
  EVP_MAC *mac;
  EVP_MAC_CTX *ctx;
};

LedgerMac *
ledger_mac_new (const guint8 key[LEDGER_KEY_BYTES])
{
  LedgerMac *m = g_new0 (LedgerMac, 1);
  OSSL_PARAM params[] = {
    OSSL_PARAM_construct_utf8_string ("digest", (char *) "SHA256", 0),
    OSSL_PARAM_construct_end (),
  };
  m->mac = EVP_MAC_fetch (NULL, "HMAC", NULL);
  m->ctx = EVP_MAC_CTX_new (m->mac);
  EVP_MAC_init (m->ctx, key, LEDGER_KEY_BYTES, params);
  return m;
}

void
ledger_mac_free (LedgerMac *m)
{
  if (!m)
    return;
  EVP_MAC_CTX_free (m->ctx);
  EVP_MAC_free (m->mac);
  g_free (m);
}

void
ledger_mac_compute (LedgerMac *m, const void *data, gsize len, guint8 out[32])
{
  gsize n = 0;
  /* a NULL key re-initialises with the key already set */
  EVP_MAC_init (m->ctx, NULL, 0, NULL);
  EVP_MAC_update (m->ctx, data, len);
  EVP_MAC_final (m->ctx, out, &n, 32);
}
