/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ledger-checkpoint.h: signed checkpoints over the log's size and root (private).
 * A checkpoint is one canonical JSON line, signed with Ed25519 over the line
 * without its `"sig":"…"` member (docs/ledger.md, "Checkpoints").
 */
#pragma once

#include "ledger-crypto.h"

G_BEGIN_DECLS

#define LEDGER_CHECKPOINT_FILE "checkpoint.json"
#define LEDGER_SIGNING_KEY_FILE "signing.key"

typedef struct {
  guint64 size;   /* records ever written: last seq + 1 */
  char root[LEDGER_HASH_HEX + 1]; /* hash of record size-1 */
  gint64 ts_us;
  guint8 key[LEDGER_ED25519_BYTES];
  char key_hex[2 * LEDGER_ED25519_BYTES + 1];
} LedgerCheckpoint;

/* Builds and signs a checkpoint line (no trailing newline). */
char *ledger_checkpoint_make (const guint8 priv[LEDGER_ED25519_BYTES],
                              const guint8 pub[LEDGER_ED25519_BYTES], guint64 size,
                              const char *root, gint64 ts_us, GError **error);
/* Parses @text (one line, trailing newline allowed) and checks its signature
 * against the key it names. FALSE with a reason otherwise. */
gboolean ledger_checkpoint_parse (const char *text, gsize len, LedgerCheckpoint *out,
                                  GError **error);

G_END_DECLS
