/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ledger-writer.h: internals shared by ledger.c and its writer thread (private). */
#pragma once

#include "ledger.h"
#include "ledger-checkpoint.h"
#include "ledger-keystore.h"

G_BEGIN_DECLS

#define LEDGER_EPOCH_KEY_FILE "epoch.key"
#define LEDGER_LOCK_FILE "lock"
#define LEDGER_AUDIT_KEY_FILE "audit.key"

typedef enum {
  LEDGER_OP_APPEND,
  LEDGER_OP_CHECKPOINT,
  LEDGER_OP_PRUNE,
} LedgerOpKind;

typedef struct _LedgerOp LedgerOp;
typedef void (*LedgerOpDone) (LedgerOp *op, ConsentLedgerReceipt *receipt, GError *error);

/* One queued request for the writer thread; completion takes ownership of
 * @receipt / @error and frees the op. */
struct _LedgerOp {
  LedgerOpKind kind;
  ConsentLedgerEntry *entry;  /* APPEND */
  char *subject;              /* APPEND: use this subject as is (erase records) */
  gboolean internal;          /* APPEND: ledger-written type */
  gint64 retention_us, now_us;/* PRUNE */
  guint n_pruned;             /* PRUNE result */
  LedgerOpDone done;
  gpointer data;              /* GTask, or a LedgerSyncWait */
  /* filled by the writer while the batch is in flight */
  ConsentLedgerReceipt *receipt;
};

/* The writer's view of the ledger; lives inside ConsentLedger. */
typedef struct {
  char *ledger_dir;
  ConsentLedgerOptions opts;
  LedgerKeystore *ks;

  GMutex lock;              /* guards everything up to `thread` */
  GCond cond;
  GQueue queue;             /* LedgerOp* */
  gboolean stopping;
  gboolean failed;
  GError *fail_error;
  gboolean have_durable;
  guint64 durable_seq;
  GThread *thread;
  void (*on_failed) (gpointer owner, const GError *error);
  gpointer owner;

  /* writer thread only (set up before the thread starts) */
  int seg_fd;
  char *seg_name;
  guint64 seg_bytes;
  gint64 seg_day;
  gboolean have_records;
  guint64 next_seq;
  char last_hash[LEDGER_HASH_HEX + 1];
  guint64 key_epoch;
  guint8 epoch_key[LEDGER_KEY_BYTES];
  guint8 sign_priv[LEDGER_ED25519_BYTES];
  guint8 sign_pub[LEDGER_ED25519_BYTES];
  guint64 checkpointed_size;
  gint64 last_checkpoint_us;
  GString *batch;           /* lines waiting for the next write + fdatasync */
} LedgerWriter;

/* Starts a new segment (under the next epoch if @evolve) and writes its epoch
 * record (plus a `recovered` record with @recovered_json details, if set). */
gboolean ledger_writer_start (LedgerWriter *w, const char *reason, const char *recovered_json,
                              gboolean evolve, GError **error);
void ledger_writer_spawn (LedgerWriter *w);
/* Queues @op (or completes it at once with the failure if failed/stopping). */
void ledger_writer_submit (LedgerWriter *w, LedgerOp *op);
/* Stops the thread after the queue drains; writes the final checkpoint. */
void ledger_writer_stop (LedgerWriter *w);
void ledger_writer_clear (LedgerWriter *w);
gboolean ledger_writer_save_epoch_key (const char *ledger_dir, guint64 epoch,
                                       const guint8 key[LEDGER_KEY_BYTES], GError **error);

G_END_DECLS
