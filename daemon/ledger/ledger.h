/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ledger.h: the consent ledger writer (libconsentledger).
 *
 * One #ConsentLedger per state directory and process: an append-only,
 * hash-chained, MAC-sealed log of JSON lines under `<state>/ledger/`, with the
 * per-subject key store in `<state>/keys/` and the auditor's initial seal key
 * in `<state>/audit.key`. The on-disk format is specified in docs/ledger.md.
 *
 * Threading: every function may be called from any thread. Appends are made
 * durable by one writer thread (group commit: many appends share one
 * fdatasync); completions are delivered on the thread-default #GMainContext of
 * the thread that called consent_ledger_append_async(), only once the record
 * is durable. A failed write or fsync is never retried: the ledger fails
 * closed, every pending and later append fails with
 * %CONSENT_LEDGER_ERROR_FAILED and #ConsentLedger::failed is emitted once.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define CONSENT_LEDGER_ERROR (consent_ledger_error_quark ())
GQuark consent_ledger_error_quark (void);

typedef enum {
  CONSENT_LEDGER_ERROR_IO,        /* reading or writing a file failed */
  CONSENT_LEDGER_ERROR_FAILED,    /* the ledger failed closed earlier; nothing is admitted */
  CONSENT_LEDGER_ERROR_CLOSED,    /* the ledger was closed */
  CONSENT_LEDGER_ERROR_CORRUPT,   /* a record is malformed or breaks the chain (refuses open) */
  CONSENT_LEDGER_ERROR_LOCKED,    /* another process has the ledger open for writing */
  CONSENT_LEDGER_ERROR_KEY,       /* a key file is missing, unreadable or malformed */
  CONSENT_LEDGER_ERROR_INVALID,   /* an entry or argument is invalid (nothing written) */
  CONSENT_LEDGER_ERROR_TOO_LARGE, /* an entry exceeds a size limit (nothing written) */
  CONSENT_LEDGER_ERROR_NOT_FOUND, /* unknown subject, meeting or record */
} ConsentLedgerError;

/* Limits (every user-controlled size is capped). */
#define CONSENT_LEDGER_MAX_RECORD_BYTES (64 * 1024) /* one serialized line */
#define CONSENT_LEDGER_MAX_FIELD_BYTES (4 * 1024)   /* one string field */
#define CONSENT_LEDGER_MAX_LIST (1024)              /* present / authorized-by entries */

/**
 * ConsentLedgerEntry:
 * What a caller asks the ledger to record. Every pointer may be NULL (absent)
 * except @type. Strings are copied by consent_ledger_append_async(). The
 * ledger maps @participant and every @present id to a subject pseudonym via
 * its key store (creating the subject and its key on first sight) and stores
 * @participant, @display_name, @client and @ip only encrypted under that
 * subject's key (the record's `pd`).
 */
typedef struct {
  const char *type;          /* ledger `type` (e.g. "accept"); required, [a-z0-9-]+ */
  gint64 ts_us;              /* UTC µs of the event; 0 = now */
  const char *meeting;
  const char *participant;   /* raw participant id (never stored in clear) */
  const char *display_name;  /* personal data: encrypted */
  const char *client;        /* personal data: encrypted */
  const char *ip;            /* personal data: encrypted */
  const char *role;          /* roster role, e.g. "host" */
  const char *notice_version;
  const char *notice_sha256;
  const char *request_id;
  const char *channel;       /* "ws", "web", "admin-api", "in-process" */
  const char *actor;         /* "participant", "admin", "system", "recorder" */
  gboolean has_epoch;        /* gate epoch present? */
  guint64 epoch;             /* gate epoch */
  const char *reason;
  const char *const *authorized_by; /* NULL-terminated ledger record ids */
  const char *const *present;       /* NULL-terminated raw participant ids */
  const char *details_json;  /* a JSON object (segment facts), stored canonically */
} ConsentLedgerEntry;

/**
 * ConsentLedgerReceipt:
 * What a durable append produced: the participant's consent receipt.
 */
typedef struct {
  guint64 seq;    /* position in the log (contiguous from 0) */
  char *id;       /* record id: the decimal seq, as used in `authorized-by` */
  char *hash;     /* the record's `hash` (64 lowercase hex) */
  char *subject;  /* subject pseudonym of the entry's participant, or NULL */
} ConsentLedgerReceipt;

void consent_ledger_receipt_free (ConsentLedgerReceipt *receipt);
ConsentLedgerReceipt *consent_ledger_receipt_copy (const ConsentLedgerReceipt *receipt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ConsentLedgerReceipt, consent_ledger_receipt_free)

/**
 * ConsentLedgerOptions:
 * Tuning for consent_ledger_open(); zero fields take the defaults.
 */
typedef struct {
  guint64 max_segment_bytes;      /* start a new segment beyond this size; default 64 MiB */
  gboolean no_daily_segments;     /* default FALSE: a new segment each UTC day */
  guint checkpoint_interval_ms;   /* while records flow; default 1000 */
  guint heartbeat_interval_ms;    /* idle heartbeat checkpoints; default 60000 */
} ConsentLedgerOptions;

#define CONSENT_TYPE_LEDGER (consent_ledger_get_type ())
G_DECLARE_FINAL_TYPE (ConsentLedger, consent_ledger, CONSENT, LEDGER, GObject)

/**
 * consent_ledger_open:
 * @state_dir: the state directory (`ledger/`, `keys/`, `audit.key` inside).
 * @options: (nullable): tuning, or NULL for defaults.
 *
 * Opens the ledger for writing, creating the directories (0700), the initial
 * seal key `audit.key` (0600) and the checkpoint signing key on first use.
 * Takes an exclusive lock (a second writer gets %CONSENT_LEDGER_ERROR_LOCKED).
 * Scans the whole chain: a torn last line (crash mid-write) is cut off, kept
 * as `ledger/torn-<seq>.bin` and recorded as a `recovered` record; a bad
 * record anywhere else refuses to open (%CONSENT_LEDGER_ERROR_CORRUPT, the
 * message names file, line, seq and why). Every open starts a new segment
 * under a new (evolved) key epoch.
 *
 * Signals (emitted on the thread-default main context of the opening thread):
 *  - "failed" (const GError *error): the ledger failed closed (once).
 *
 * Returns: (transfer full): the ledger, or NULL with @error set.
 */
ConsentLedger *consent_ledger_open (const char *state_dir, const ConsentLedgerOptions *options,
                                    GError **error);

/**
 * consent_ledger_append_async:
 * Queues @entry (copied; validated at once: an invalid entry completes with
 * %CONSENT_LEDGER_ERROR_INVALID / _TOO_LARGE and writes nothing). @callback
 * runs on the caller's thread-default main context once the record is
 * durable, or failed. @cancellable is only honoured before the record is
 * written.
 */
void consent_ledger_append_async (ConsentLedger *self, const ConsentLedgerEntry *entry,
                                  GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data);

/** consent_ledger_append_finish: Returns: (transfer full): the receipt, or NULL with @error. */
ConsentLedgerReceipt *consent_ledger_append_finish (ConsentLedger *self, GAsyncResult *result,
                                                    GError **error);

/** consent_ledger_append_sync: appends and blocks until durable (tools, tests). */
ConsentLedgerReceipt *consent_ledger_append_sync (ConsentLedger *self,
                                                  const ConsentLedgerEntry *entry,
                                                  GError **error);

/**
 * consent_ledger_is_failed:
 * Whether the ledger failed closed (or was closed). With @error, the cause.
 * Callers must stop admitting consent while this is TRUE.
 */
gboolean consent_ledger_is_failed (ConsentLedger *self, GError **error);

/** consent_ledger_get_last_seq: seq of the last durable record; FALSE if the log is empty. */
gboolean consent_ledger_get_last_seq (ConsentLedger *self, guint64 *out_seq);

/** Directories of this ledger (owned by @self). */
const char *consent_ledger_get_state_dir (ConsentLedger *self);
const char *consent_ledger_get_ledger_dir (ConsentLedger *self);
const char *consent_ledger_get_keys_dir (ConsentLedger *self);

/**
 * consent_ledger_lookup_subject:
 * The subject pseudonym of @participant, or NULL if the key store does not
 * know it (never seen, or erased). Creates nothing.
 */
char *consent_ledger_lookup_subject (ConsentLedger *self, const char *participant);

/**
 * consent_ledger_erase_subject:
 * Right to erasure: destroys the subject's key in the key store (so its
 * personal data in the ledger can never be decrypted again) and then appends
 * an `erase` record naming the subject. Exactly one of @participant or
 * @subject. The chain and all seals still verify afterwards. Blocks until
 * durable. Returns: (transfer full): the erase record's receipt, or NULL.
 */
ConsentLedgerReceipt *consent_ledger_erase_subject (ConsentLedger *self, const char *participant,
                                                    const char *subject, const char *actor,
                                                    GError **error);

/**
 * consent_ledger_prune:
 * Retention: deletes whole segments (oldest first, never the current one)
 * whose last record is older than @now_us - @retention_us, after appending
 * and syncing a `prune` record that lists each pruned segment's first and
 * last seq and last hash, so verification continues from the first
 * remaining segment. @n_pruned: (out) (optional). Blocks until durable.
 */
gboolean consent_ledger_prune (ConsentLedger *self, gint64 retention_us, gint64 now_us,
                               guint *n_pruned, GError **error);

/**
 * consent_ledger_checkpoint_now:
 * Writes a signed checkpoint over the current size and root at once (it is
 * also written every second while records flow, as idle heartbeats and at
 * close). Blocks until durable.
 */
gboolean consent_ledger_checkpoint_now (ConsentLedger *self, GError **error);

/**
 * consent_ledger_close:
 * Completes or fails every pending append, writes a final checkpoint, stops
 * the writer thread and releases the lock. Later appends fail with
 * %CONSENT_LEDGER_ERROR_CLOSED. Idempotent; also done on the last unref.
 */
gboolean consent_ledger_close (ConsentLedger *self, GError **error);

/**
 * consent_ledger_default_state_dir:
 * `$XDG_STATE_HOME/consentgate`, else `~/.local/state/consentgate`.
 */
char *consent_ledger_default_state_dir (void);

G_END_DECLS
