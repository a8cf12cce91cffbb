/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ledger-writer.c: the single writer thread. It takes every queued append in
 * one batch, seals the records in order, writes them with one write() and one
 * fdatasync() (group commit) and only then completes them. A failed write or
 * sync is never retried: the writer fails closed for good.
 */
#include "ledger-writer.h"
#include "ledger-canon.h"
#include "ledger-fs.h"
#include "ledger-record.h"
#include "ledger-walk.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <string.h>
#include <unistd.h>

#define DAY_US (G_GINT64_CONSTANT (86400) * G_USEC_PER_SEC)
#define DEFAULT_SEGMENT_BYTES (G_GUINT64_CONSTANT (64) << 20)

/* ---- failure ---- */

static void
fail_closed (LedgerWriter *w, const GError *error)
{
  gboolean first;
  g_mutex_lock (&w->lock);
  first = !w->failed;
  if (first) {
    w->failed = TRUE;
    w->fail_error = g_error_new (CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_FAILED,
                                 "the ledger failed closed: %s", error->message);
  }
  g_mutex_unlock (&w->lock);
  if (first) {
    g_warning ("ledger: failed closed, no further records are admitted: %s", error->message);
    if (w->on_failed)
      w->on_failed (w->owner, w->fail_error);
  }
}

static GError *
failure_copy (LedgerWriter *w)
{
  g_mutex_lock (&w->lock);
  GError *e = w->fail_error ? g_error_copy (w->fail_error)
                            : g_error_new (CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_CLOSED,
                                           "the ledger is closed");
  g_mutex_unlock (&w->lock);
  return e;
}

static gboolean
is_failed (LedgerWriter *w)
{
  g_mutex_lock (&w->lock);
  gboolean f = w->failed;
  g_mutex_unlock (&w->lock);
  return f;
}

/* ---- files ---- */

gboolean
ledger_writer_save_epoch_key (const char *ledger_dir, guint64 epoch,
                              const guint8 key[LEDGER_KEY_BYTES], GError **error)
{
  char hex[2 * LEDGER_KEY_BYTES + 1];
  ledger_hex (key, LEDGER_KEY_BYTES, hex);
  g_autofree char *text =
      g_strdup_printf ("{\"epoch\":%" G_GUINT64_FORMAT ",\"key\":\"%s\"}\n", epoch, hex);
  gboolean ok = ledger_fs_write_atomic (ledger_dir, LEDGER_EPOCH_KEY_FILE, text, strlen (text),
                                        0600, error);
  OPENSSL_cleanse (hex, sizeof hex);
  OPENSSL_cleanse (text, strlen (text));
  return ok;
}

/* Makes the batch durable: one write, one fdatasync. Never retried. */
static gboolean
flush_batch (LedgerWriter *w, GError **error)
{
  if (w->batch->len == 0)
    return TRUE;
  if (!ledger_fs_write_all (w->seg_fd, w->batch->str, w->batch->len) || fdatasync (w->seg_fd) != 0)
    return ledger_fs_errno (error, errno, "cannot write and sync ledger segment", w->seg_name);
  w->seg_bytes += w->batch->len;
  g_string_truncate (w->batch, 0);
  return TRUE;
}

static gboolean
open_segment (LedgerWriter *w, GError **error)
{
  g_autofree char *name = ledger_segment_name (w->next_seq);
  g_autofree char *path = g_build_filename (w->ledger_dir, name, NULL);
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0)
    return ledger_fs_errno (error, errno, "cannot create ledger segment", path);
  if (w->seg_fd >= 0)
    close (w->seg_fd);
  w->seg_fd = fd;
  g_free (w->seg_name);
  w->seg_name = g_steal_pointer (&name);
  w->seg_bytes = 0;
  return ledger_fs_fsync_dir (w->ledger_dir, error);
}

static void
set_durable (LedgerWriter *w)
{
  g_mutex_lock (&w->lock);
  if (w->have_records) {
    w->have_durable = TRUE;
    w->durable_seq = w->next_seq - 1;
  }
  g_mutex_unlock (&w->lock);
}

/* ---- records ---- */

static gboolean
seal_entry (LedgerWriter *w, const ConsentLedgerEntry *e, const char *subject,
            const char *const *present, const char *pd, ConsentLedgerReceipt **receipt,
            GError **error)
{
  char hash[LEDGER_HASH_HEX + 1];
  LedgerRecordFrame frame = {
    .seq = w->next_seq,
    .ts_us = e->ts_us ? e->ts_us : g_get_real_time (),
    .key_epoch = w->key_epoch,
    .prev = w->have_records ? w->last_hash : LEDGER_ZERO_HASH,
    .subject = subject,
    .pd = pd,
    .present = present,
  };
  json_object *rec = ledger_record_build (e, &frame, error);
  if (!rec)
    return FALSE;
  gsize before = w->batch->len;
  gboolean ok = ledger_record_seal (rec, w->epoch_key, w->batch, hash, error);
  json_object_put (rec);
  if (!ok) {
    g_string_truncate (w->batch, before);
    return FALSE;
  }
  if (receipt) {
    *receipt = g_new0 (ConsentLedgerReceipt, 1);
    (*receipt)->seq = w->next_seq;
    (*receipt)->id = g_strdup_printf ("%" G_GUINT64_FORMAT, w->next_seq);
    (*receipt)->hash = g_strdup (hash);
    (*receipt)->subject = g_strdup (subject);
  }
  memcpy (w->last_hash, hash, sizeof hash);
  w->have_records = TRUE;
  w->next_seq++;
  return TRUE;
}

static char *
seal_personal_data (LedgerWriter *w, const ConsentLedgerEntry *e, const char *subject,
                    GError **error)
{
  guint8 key[LEDGER_KEY_BYTES];
  if (!e->participant || !subject)
    return NULL; /* personal data without a person is not kept at all */
  if (!ledger_keystore_get_key (w->ks, subject, key)) {
    g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_KEY,
                 "no key for subject %s", subject);
    return NULL;
  }
  g_autofree char *plain = ledger_pd_plaintext (e->participant, e->display_name, e->client,
                                                e->ip);
  g_autofree char *aad = ledger_pd_aad (w->next_seq);
  char *sealed = ledger_seal_pd (key, aad, plain, strlen (plain), error);
  OPENSSL_cleanse (key, sizeof key);
  OPENSSL_cleanse (plain, strlen (plain));
  return sealed;
}

/* Maps ids to subjects (creating keys) and appends the sealed line to the batch. */
static gboolean
append_entry (LedgerWriter *w, const ConsentLedgerEntry *e, const char *subject_override,
              ConsentLedgerReceipt **receipt, GError **error)
{
  g_autofree char *subject = g_strdup (subject_override);
  g_auto (GStrv) present = NULL;
  g_autofree char *pd = NULL;

  if (!subject && e->participant && !(subject = ledger_keystore_ensure (w->ks, e->participant,
                                                                        error)))
    return FALSE;
  if (e->present) {
    guint n = g_strv_length ((char **) e->present);
    present = g_new0 (char *, n + 1);
    for (guint i = 0; i < n; i++)
      if (!(present[i] = ledger_keystore_ensure (w->ks, e->present[i], error)))
        return FALSE;
  }
  if (!subject_override && e->participant) {
    pd = seal_personal_data (w, e, subject, error);
    if (!pd)
      return FALSE;
  }
  return seal_entry (w, e, subject, (const char *const *) present, pd, receipt, error);
}

gboolean
ledger_writer_start (LedgerWriter *w, const char *reason, const char *recovered_json,
                     gboolean evolve, GError **error)
{
  char pub_hex[2 * LEDGER_ED25519_BYTES + 1];
  if (!flush_batch (w, error))
    return FALSE;
  if (evolve) {
    /* a new segment, a new epoch: the old key is gone from disk once saved */
    ledger_key_evolve (w->epoch_key);
    w->key_epoch++;
  }
  if (!ledger_writer_save_epoch_key (w->ledger_dir, w->key_epoch, w->epoch_key, error) ||
      !open_segment (w, error))
    return FALSE;
  w->seg_day = g_get_real_time () / DAY_US;

  ledger_hex (w->sign_pub, sizeof w->sign_pub, pub_hex);
  g_autofree char *details = g_strdup_printf ("{\"checkpoint-key\":\"%s\",\"reason\":\"%s\"}",
                                              pub_hex, reason);
  ConsentLedgerEntry epoch = {.type = LEDGER_TYPE_EPOCH, .actor = "system",
                              .details_json = details};
  if (!append_entry (w, &epoch, NULL, NULL, error))
    return FALSE;
  if (recovered_json) {
    ConsentLedgerEntry rec = {.type = LEDGER_TYPE_RECOVERED, .actor = "system",
                              .details_json = recovered_json};
    if (!append_entry (w, &rec, NULL, NULL, error))
      return FALSE;
  }
  if (!flush_batch (w, error))
    return FALSE;
  set_durable (w);
  return TRUE;
}

static gboolean
needs_rotation (LedgerWriter *w)
{
  guint64 max = w->opts.max_segment_bytes ? w->opts.max_segment_bytes : DEFAULT_SEGMENT_BYTES;
  if (w->seg_bytes + w->batch->len >= max)
    return TRUE;
  return !w->opts.no_daily_segments && g_get_real_time () / DAY_US != w->seg_day;
}

/* ---- checkpoints ---- */

static gboolean
write_checkpoint (LedgerWriter *w, GError **error)
{
  if (!w->have_records)
    return TRUE;
  g_autofree char *line = ledger_checkpoint_make (w->sign_priv, w->sign_pub, w->next_seq,
                                                  w->last_hash, g_get_real_time (), error);
  if (!line)
    return FALSE;
  g_autofree char *text = g_strconcat (line, "\n", NULL);
  if (!ledger_fs_write_atomic (w->ledger_dir, LEDGER_CHECKPOINT_FILE, text, strlen (text), 0644,
                               error))
    return FALSE;
  w->checkpointed_size = w->next_seq;
  w->last_checkpoint_us = g_get_monotonic_time ();
  return TRUE;
}

static guint
interval_ms (guint v, guint dflt)
{
  return v ? v : dflt;
}

static gint64
next_deadline (LedgerWriter *w)
{
  gint64 cp = w->last_checkpoint_us;
  if (w->next_seq > w->checkpointed_size)
    return cp + (gint64) interval_ms (w->opts.checkpoint_interval_ms, 1000) * 1000;
  return cp + (gint64) interval_ms (w->opts.heartbeat_interval_ms, 60000) * 1000;
}

static void
maybe_checkpoint (LedgerWriter *w, gboolean force)
{
  g_autoptr (GError) error = NULL;
  if (is_failed (w) || (!force && g_get_monotonic_time () < next_deadline (w)))
    return;
  if (!write_checkpoint (w, &error))
    fail_closed (w, error);
}

/* ---- prune ---- */

/* Reads first seq, last seq, last hash and last ts of a closed segment. */
static gboolean
segment_facts (LedgerWriter *w, const char *name, guint64 *first, guint64 *last,
               char **last_hash, gint64 *last_ts, GError **error)
{
  g_autofree char *path = g_build_filename (w->ledger_dir, name, NULL);
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!ledger_fs_read_small (path, LEDGER_MAX_SEGMENT_FILE, &data, &len, error))
    return FALSE;
  if (len == 0 || data[len - 1] != '\n')
    return ledger_fs_errno (error, EINVAL, "cannot prune incomplete segment", path);
  const char *end = data + len - 1;
  const char *start = g_strrstr_len (data, (gssize) (len - 1), "\n");
  start = start ? start + 1 : data;
  json_object *rec = ledger_json_parse (start, (gsize) (end - start), LEDGER_MAX_DEPTH, error);
  json_object *ts = NULL;
  gboolean ok = rec && ledger_json_u64 (rec, "seq", last) && ledger_json_str (rec, "hash") &&
                json_object_object_get_ex (rec, "ts", &ts);
  if (ok) {
    *last_hash = g_strdup (ledger_json_str (rec, "hash"));
    *last_ts = json_object_get_int64 (ts);
    *first = g_ascii_strtoull (name + strlen (LEDGER_SEGMENT_PREFIX), NULL, 10);
  }
  json_object_put (rec);
  if (!ok && error && !*error)
    ledger_fs_errno (error, EINVAL, "cannot read the last record of", path);
  return ok;
}

static gboolean
prune_segments (LedgerWriter *w, LedgerOp *op, GError **error)
{
  g_autoptr (GPtrArray) names = ledger_segments_list (w->ledger_dir, error);
  if (!names)
    return FALSE;
  g_autoptr (GPtrArray) doomed = g_ptr_array_new ();
  json_object *list = json_object_new_array ();
  for (guint i = 0; i < names->len; i++) {
    const char *name = names->pdata[i];
    guint64 first = 0, last = 0;
    g_autofree char *last_hash = NULL;
    gint64 last_ts = 0;
    if (g_str_equal (name, w->seg_name))
      break;
    if (!segment_facts (w, name, &first, &last, &last_hash, &last_ts, error)) {
      json_object_put (list);
      return FALSE;
    }
    if (last_ts >= op->now_us - op->retention_us)
      break;
    json_object *s = json_object_new_object ();
    json_object_object_add (s, "name", json_object_new_string (name));
    json_object_object_add (s, "first", json_object_new_uint64 (first));
    json_object_object_add (s, "last", json_object_new_uint64 (last));
    json_object_object_add (s, "last-hash", json_object_new_string (last_hash));
    json_object_array_add (list, s);
    g_ptr_array_add (doomed, (gpointer) name);
  }
  op->n_pruned = doomed->len;
  if (doomed->len == 0) {
    json_object_put (list);
    return TRUE;
  }
  json_object *details = json_object_new_object ();
  json_object_object_add (details, "segments", list);
  json_object_object_add (details, "retention-us", json_object_new_int64 (op->retention_us));
  g_autoptr (GString) text = g_string_new (NULL);
  ledger_canon_append (text, details, NULL);
  json_object_put (details);
  ConsentLedgerEntry e = {.type = LEDGER_TYPE_PRUNE, .actor = "system",
                          .details_json = text->str, .ts_us = op->now_us};
  /* the prune record is durable before any segment goes */
  if (!append_entry (w, &e, NULL, &op->receipt, error) || !flush_batch (w, error))
    return FALSE;
  for (guint i = 0; i < doomed->len; i++) {
    g_autofree char *path = g_build_filename (w->ledger_dir, doomed->pdata[i], NULL);
    if (unlink (path) != 0)
      return ledger_fs_errno (error, errno, "cannot delete pruned segment", path);
  }
  return ledger_fs_fsync_dir (w->ledger_dir, error);
}

/* ---- the batch ---- */

static void
complete (LedgerOp *op, ConsentLedgerReceipt *receipt, GError *error)
{
  op->done (op, receipt, error);
}

/* Completes the ops whose records are in the batch: all succeed once it is
 * durable, or all fail with the ledger. */
static void
settle (LedgerWriter *w, GPtrArray *inflight)
{
  g_autoptr (GError) error = NULL;
  if (!is_failed (w) && !flush_batch (w, &error))
    fail_closed (w, error);
  if (!is_failed (w))
    set_durable (w);
  for (guint i = 0; i < inflight->len; i++) {
    LedgerOp *op = inflight->pdata[i];
    if (is_failed (w)) {
      g_clear_pointer (&op->receipt, consent_ledger_receipt_free);
      complete (op, NULL, failure_copy (w));
    } else {
      complete (op, g_steal_pointer (&op->receipt), NULL);
    }
  }
  g_ptr_array_set_size (inflight, 0);
}

static void
run_op (LedgerWriter *w, LedgerOp *op, GPtrArray *inflight)
{
  g_autoptr (GError) error = NULL;
  if (is_failed (w)) {
    complete (op, NULL, failure_copy (w));
    return;
  }
  switch (op->kind) {
  case LEDGER_OP_APPEND:
    if (needs_rotation (w)) {
      settle (w, inflight);
      if (!is_failed (w) && !ledger_writer_start (w, "rotate", NULL, TRUE, &error))
        fail_closed (w, error);
      if (is_failed (w)) {
        complete (op, NULL, failure_copy (w));
        return;
      }
    }
    if (!append_entry (w, op->entry, op->subject, &op->receipt, &error)) {
      /* the batch may hold a half-made record state: never write it */
      fail_closed (w, error);
      complete (op, NULL, failure_copy (w));
      return;
    }
    g_ptr_array_add (inflight, op);
    return;
  case LEDGER_OP_CHECKPOINT:
    settle (w, inflight);
    if (!is_failed (w) && !write_checkpoint (w, &error))
      fail_closed (w, error);
    complete (op, NULL, is_failed (w) ? failure_copy (w) : NULL);
    return;
  case LEDGER_OP_PRUNE:
    settle (w, inflight);
    if (!is_failed (w) && !prune_segments (w, op, &error))
      fail_closed (w, error);
    if (!is_failed (w))
      set_durable (w);
    complete (op, g_steal_pointer (&op->receipt), is_failed (w) ? failure_copy (w) : NULL);
    return;
  }
}

static gpointer
writer_thread (gpointer data)
{
  LedgerWriter *w = data;
  g_autoptr (GPtrArray) inflight = g_ptr_array_new ();
  g_mutex_lock (&w->lock);
  for (;;) {
    while (g_queue_is_empty (&w->queue) && !w->stopping)
      if (!g_cond_wait_until (&w->cond, &w->lock, next_deadline (w)))
        break;
    GQueue batch = w->queue;
    g_queue_init (&w->queue);
    gboolean stop = w->stopping && g_queue_is_empty (&batch);
    g_mutex_unlock (&w->lock);

    LedgerOp *op;
    while ((op = g_queue_pop_head (&batch)))
      run_op (w, op, inflight);
    settle (w, inflight);
    maybe_checkpoint (w, stop);

    g_mutex_lock (&w->lock);
    if (stop)
      break;
  }
  g_mutex_unlock (&w->lock);
  return NULL;
}

void
ledger_writer_spawn (LedgerWriter *w)
{
  w->last_checkpoint_us = g_get_monotonic_time ();
  w->thread = g_thread_new ("ledger-writer", writer_thread, w);
}

void
ledger_writer_submit (LedgerWriter *w, LedgerOp *op)
{
  g_mutex_lock (&w->lock);
  if (w->failed || w->stopping || !w->thread) {
    g_mutex_unlock (&w->lock);
    complete (op, NULL, failure_copy (w));
    return;
  }
  g_queue_push_tail (&w->queue, op);
  g_cond_signal (&w->cond);
  g_mutex_unlock (&w->lock);
}

void
ledger_writer_stop (LedgerWriter *w)
{
  g_mutex_lock (&w->lock);
  w->stopping = TRUE;
  g_cond_signal (&w->cond);
  GThread *t = g_steal_pointer (&w->thread);
  g_mutex_unlock (&w->lock);
  if (t)
    g_thread_join (t);
}

void
ledger_writer_clear (LedgerWriter *w)
{
  if (w->seg_fd >= 0)
    close (w->seg_fd);
  w->seg_fd = -1;
  OPENSSL_cleanse (w->epoch_key, sizeof w->epoch_key);
  OPENSSL_cleanse (w->sign_priv, sizeof w->sign_priv);
  g_clear_pointer (&w->seg_name, g_free);
  g_clear_error (&w->fail_error);
  if (w->batch)
    g_string_free (w->batch, TRUE);
  w->batch = NULL;
}
