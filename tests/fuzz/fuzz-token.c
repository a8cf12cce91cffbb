/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: token verification. Arbitrary text must be refused cleanly;
 * a token minted here and then altered by the input must never verify
 * unless the input left it unchanged. */
#include "consent.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define NOW 1700000000

/* A fixed key is fine here: nothing is protected by it. */
static const guint8 key[32] = "fuzz-key-fuzz-key-fuzz-key-fuzz";

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr (ConsentTokenClaims) claims = NULL;
  g_autofree char *minted = NULL;

  claims = consent_token_verify (key, sizeof key, text, NOW, size % 2 ? "m1" : NULL, NULL);
  g_clear_pointer (&claims, consent_token_claims_free);

  /* XOR the input over a valid token: only an all-zero overlay may verify. */
  minted = consent_token_mint (key, sizeof key, "m1", "p1", CONSENT_ROLE_RECORDER, NOW, 60, NULL);
  if (minted != NULL && size > 0) {
    gsize len = strlen (minted);
    gboolean changed = FALSE;
    for (gsize i = 0; i < size && i < len; i++) {
      char c = (char) (minted[i] ^ data[i]);
      if (c == '\0')
        continue;
      changed |= c != minted[i];
      minted[i] = c;
    }
    claims = consent_token_verify (key, sizeof key, minted, NOW, "m1", NULL);
    if (claims != NULL && changed)
      g_error ("altered token verified: %s", minted);
  }
  return 0;
}
