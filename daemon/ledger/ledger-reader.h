/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ledger-reader.h: reading decoded ledger records (restart recovery, export).
 *
 * A reader walks every complete record of a ledger directory in seq order,
 * decrypting personal data where the subject's key is still in the key store.
 * It checks the chain (seq, prev, hash) as it goes but not the seals; use
 * consent_ledger_verify() for an audit. It may run while a writer appends:
 * it sees the records that were complete when it reached them.
 */
#pragma once

#include "ledger.h"
#include <json-c/json.h>

G_BEGIN_DECLS

/**
 * ConsentLedgerRecord:
 * One decoded record. Strings are owned by the record; absent fields are NULL.
 * Personal fields (@participant, @display_name, @client, @ip) are decrypted
 * only when the key store still holds the subject's key (@pd_readable); after
 * erasure they are NULL and @erased is TRUE.
 */
typedef struct {
  guint64 seq;
  char *id;                /* decimal seq: what `authorized-by` lists */
  gint64 ts_us;
  char *type;
  guint64 key_epoch;       /* seal key epoch */
  char *meeting;
  char *subject;
  char *participant;       /* decrypted raw participant id, or NULL */
  char *display_name;      /* decrypted, or NULL */
  char *client;            /* decrypted, or NULL */
  char *ip;                /* decrypted, or NULL */
  gboolean has_pd;         /* the record carries encrypted personal data */
  gboolean pd_readable;    /* ... and it could be decrypted */
  gboolean erased;         /* has_pd but the subject's key is gone */
  char *role;
  char *notice_version;
  char *notice_sha256;
  char *request_id;
  char *channel;
  char *actor;
  gboolean has_epoch;      /* gate epoch */
  guint64 epoch;
  char *reason;
  char **authorized_by;    /* NULL-terminated, or NULL */
  char **present;          /* subjects, NULL-terminated, or NULL */
  char **present_participants; /* same order; "" where the key store lacks the subject */
  char *details_json;      /* canonical JSON object text, or NULL */
  char *prev;
  char *hash;
  char *segment;           /* file name of the segment holding the record */
  guint line;              /* 1-based line within that segment */
  json_object *json;       /* the whole parsed record (owned) */
} ConsentLedgerRecord;

void consent_ledger_record_free (ConsentLedgerRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ConsentLedgerRecord, consent_ledger_record_free)

typedef struct _ConsentLedgerReader ConsentLedgerReader;

/**
 * consent_ledger_reader_new:
 * @ledger_dir: the `ledger/` directory.
 * @keys_dir: (nullable): the `keys/` directory, or NULL to decrypt nothing.
 */
ConsentLedgerReader *consent_ledger_reader_new (const char *ledger_dir, const char *keys_dir,
                                                GError **error);
/** consent_ledger_reader_new_for_ledger: a reader over an open ledger's directories. */
ConsentLedgerReader *consent_ledger_reader_new_for_ledger (ConsentLedger *ledger,
                                                           GError **error);

/**
 * consent_ledger_reader_next:
 * @out: (out) (transfer full): the next record, or NULL at the end.
 * Returns: FALSE with @error on a bad record or I/O error; TRUE otherwise
 * (also at the end, with *@out NULL). A torn last line ends the iteration.
 */
gboolean consent_ledger_reader_next (ConsentLedgerReader *reader, ConsentLedgerRecord **out,
                                     GError **error);
void consent_ledger_reader_free (ConsentLedgerReader *reader);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ConsentLedgerReader, consent_ledger_reader_free)

G_END_DECLS

G_BEGIN_DECLS
/**
 * consent_ledger_keys_lookup_subject:
 * The subject of @participant in the key store @keys_dir (read-only), or NULL
 * (with @error NOT_FOUND) if it was never recorded or has been erased.
 */
char *consent_ledger_keys_lookup_subject (const char *keys_dir, const char *participant,
                                          GError **error);
G_END_DECLS
