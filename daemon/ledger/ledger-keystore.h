/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ledger-keystore.h: the per-subject key store `<state>/keys/` (private).
 * One file `<subject>.key` per person: the subject pseudonym, the raw
 * participant id it stands for, and a random AES-256 key. Kept apart from the
 * ledger so erasure is deleting one file. Thread-safe.
 */
#pragma once

#include "ledger-crypto.h"

G_BEGIN_DECLS

#define LEDGER_MAX_KEY_FILES 1000000

typedef struct _LedgerKeystore LedgerKeystore;

/* Loads every key file of @dir (created, 0700, if @create). */
LedgerKeystore *ledger_keystore_open (const char *dir, gboolean create, GError **error);
void ledger_keystore_free (LedgerKeystore *ks);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LedgerKeystore, ledger_keystore_free)

/* The subject of @participant (newly allocated), or NULL. */
char *ledger_keystore_subject_of (LedgerKeystore *ks, const char *participant);
/* The participant of @subject (newly allocated), or NULL. */
char *ledger_keystore_participant_of (LedgerKeystore *ks, const char *subject);
/* Copies the subject's key into @key; FALSE if the key store lacks it. */
gboolean ledger_keystore_get_key (LedgerKeystore *ks, const char *subject,
                                  guint8 key[LEDGER_KEY_BYTES]);
/* The subject of @participant, creating subject and key (durably) if needed. */
char *ledger_keystore_ensure (LedgerKeystore *ks, const char *participant, GError **error);
/* Destroys the subject's key file durably. */
gboolean ledger_keystore_erase (LedgerKeystore *ks, const char *subject, GError **error);

G_END_DECLS
