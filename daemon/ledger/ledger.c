/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ledger.c: ConsentLedger — opening (with crash recovery), the public append,
 * erase, prune and close calls. The writing itself is ledger-writer.c.
 */
#include "ledger.h"
#include "ledger-canon.h"
#include "ledger-fs.h"
#include "ledger-walk.h"
#include "ledger-writer.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

G_DEFINE_QUARK (consent-ledger-error-quark, consent_ledger_error)

struct _ConsentLedger {
  GObject parent;
  char *state_dir;
  char *keys_dir;
  int lock_fd;
  gboolean closed;
  GMainContext *owner_context;
  LedgerWriter w;
};

G_DEFINE_TYPE (ConsentLedger, consent_ledger, G_TYPE_OBJECT)

enum { SIGNAL_FAILED, N_SIGNALS };
static guint signals[N_SIGNALS];

void
consent_ledger_receipt_free (ConsentLedgerReceipt *r)
{
  if (!r)
    return;
  g_free (r->id);
  g_free (r->hash);
  g_free (r->subject);
  g_free (r);
}

ConsentLedgerReceipt *
consent_ledger_receipt_copy (const ConsentLedgerReceipt *r)
{
  ConsentLedgerReceipt *c = g_new0 (ConsentLedgerReceipt, 1);
  c->seq = r->seq;
  c->id = g_strdup (r->id);
  c->hash = g_strdup (r->hash);
  c->subject = g_strdup (r->subject);
  return c;
}

char *
consent_ledger_default_state_dir (void)
{
  const char *xdg = g_getenv ("XDG_STATE_HOME");
  if (xdg && g_path_is_absolute (xdg))
    return g_build_filename (xdg, "consentgate", NULL);
  return g_build_filename (g_get_home_dir (), ".local", "state", "consentgate", NULL);
}

/* ---- "failed" on the owner's main context ---- */

typedef struct {
  GWeakRef ref;
  GError *error;
} FailedNote;

static gboolean
emit_failed (gpointer data)
{
  FailedNote *note = data;
  ConsentLedger *self = g_weak_ref_get (&note->ref);
  if (self) {
    g_signal_emit (self, signals[SIGNAL_FAILED], 0, note->error);
    g_object_unref (self);
  }
  return G_SOURCE_REMOVE;
}

static void
failed_note_free (gpointer data)
{
  FailedNote *note = data;
  g_weak_ref_clear (&note->ref);
  g_error_free (note->error);
  g_free (note);
}

static void
on_writer_failed (gpointer owner, const GError *error)
{
  ConsentLedger *self = owner;
  FailedNote *note = g_new0 (FailedNote, 1);
  g_weak_ref_init (&note->ref, self);
  note->error = g_error_copy (error);
  GSource *src = g_idle_source_new ();
  g_source_set_callback (src, emit_failed, note, failed_note_free);
  g_source_attach (src, self->owner_context);
  g_source_unref (src);
}

/* ---- GObject ---- */

static void
consent_ledger_dispose (GObject *object)
{
  consent_ledger_close (CONSENT_LEDGER (object), NULL);
  G_OBJECT_CLASS (consent_ledger_parent_class)->dispose (object);
}

static void
consent_ledger_finalize (GObject *object)
{
  ConsentLedger *self = CONSENT_LEDGER (object);
  ledger_writer_clear (&self->w);
  ledger_keystore_free (self->w.ks);
  g_mutex_clear (&self->w.lock);
  g_cond_clear (&self->w.cond);
  g_free (self->w.ledger_dir);
  g_free (self->state_dir);
  g_free (self->keys_dir);
  if (self->lock_fd >= 0)
    close (self->lock_fd);
  g_main_context_unref (self->owner_context);
  G_OBJECT_CLASS (consent_ledger_parent_class)->finalize (object);
}

static void
consent_ledger_class_init (ConsentLedgerClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  oc->dispose = consent_ledger_dispose;
  oc->finalize = consent_ledger_finalize;
  signals[SIGNAL_FAILED] = g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void
consent_ledger_init (ConsentLedger *self)
{
  self->lock_fd = -1;
  self->w.seg_fd = -1;
  g_mutex_init (&self->w.lock);
  g_cond_init (&self->w.cond);
  g_queue_init (&self->w.queue);
  self->w.batch = g_string_sized_new (64 * 1024);
}

/* ---- opening ---- */

static gboolean
take_lock (ConsentLedger *self, GError **error)
{
  g_autofree char *path = g_build_filename (self->w.ledger_dir, LEDGER_LOCK_FILE, NULL);
  self->lock_fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (self->lock_fd < 0)
    return ledger_fs_errno (error, errno, "cannot open lock file", path);
  if (flock (self->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_LOCKED,
                 "the ledger %s is open in another process (consentd?); stop it or use "
                 "its interface", self->w.ledger_dir);
    return FALSE;
  }
  return TRUE;
}

/* Reads a file holding a 32-byte key as 64 hex digits. */
static gboolean
read_hex_key (const char *path, guint8 key[LEDGER_KEY_BYTES], GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  if (!ledger_fs_read_small (path, 4096, &text, &len, error))
    return FALSE;
  g_strstrip (text);
  gboolean ok = ledger_unhex (text, strlen (text), key, LEDGER_KEY_BYTES);
  OPENSSL_cleanse (text, len);
  if (!ok)
    g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_KEY,
                 "%s must hold a 32-byte key as 64 lowercase hex digits", path);
  return ok;
}

static gboolean
write_hex_key (const char *dir, const char *name, const guint8 *key, gsize len, GError **error)
{
  g_autofree char *hex = g_malloc (2 * len + 2);
  ledger_hex (key, len, hex);
  strcat (hex, "\n");
  gboolean ok = ledger_fs_write_atomic (dir, name, hex, strlen (hex), 0600, error);
  OPENSSL_cleanse (hex, 2 * len + 2);
  return ok;
}

static gboolean
load_signing_key (ConsentLedger *self, GError **error)
{
  LedgerWriter *w = &self->w;
  g_autofree char *path = g_build_filename (w->ledger_dir, LEDGER_SIGNING_KEY_FILE, NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
    if (!ledger_ed25519_generate (w->sign_priv, w->sign_pub, error))
      return FALSE;
    return write_hex_key (w->ledger_dir, LEDGER_SIGNING_KEY_FILE, w->sign_priv,
                          LEDGER_ED25519_BYTES, error);
  }
  return read_hex_key (path, w->sign_priv, error) &&
         ledger_ed25519_public (w->sign_priv, w->sign_pub, error);
}

/* The seal key to continue with: epoch.key if present (evolve once more),
 * else the initial key audit.key (created on first use) at epoch 0. */
static gboolean
load_epoch_key (ConsentLedger *self, gboolean have_segments, gboolean *evolve, GError **error)
{
  LedgerWriter *w = &self->w;
  g_autofree char *epoch_path = g_build_filename (w->ledger_dir, LEDGER_EPOCH_KEY_FILE, NULL);
  g_autofree char *audit_path = g_build_filename (self->state_dir, LEDGER_AUDIT_KEY_FILE, NULL);

  if (g_file_test (epoch_path, G_FILE_TEST_EXISTS)) {
    g_autofree char *text = NULL;
    gsize len = 0;
    if (!ledger_fs_read_small (epoch_path, 4096, &text, &len, error))
      return FALSE;
    json_object *obj = ledger_json_parse (text, strcspn (text, "\n"), 2, NULL);
    const char *hex = obj ? ledger_json_str (obj, "key") : NULL;
    gboolean ok = hex && ledger_json_u64 (obj, "epoch", &w->key_epoch) &&
                  ledger_unhex (hex, strlen (hex), w->epoch_key, LEDGER_KEY_BYTES);
    json_object_put (obj);
    OPENSSL_cleanse (text, len);
    if (!ok)
      g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_KEY,
                   "%s is malformed; the ledger cannot be sealed", epoch_path);
    *evolve = TRUE;
    return ok;
  }
  if (have_segments) {
    g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_KEY,
                 "%s is missing but the ledger has records; refusing to continue the chain "
                 "without its current seal key", epoch_path);
    return FALSE;
  }
  *evolve = FALSE;
  w->key_epoch = 0;
  if (!g_file_test (audit_path, G_FILE_TEST_EXISTS)) {
    if (!ledger_random (w->epoch_key, LEDGER_KEY_BYTES, error))
      return FALSE;
    return write_hex_key (self->state_dir, LEDGER_AUDIT_KEY_FILE, w->epoch_key,
                          LEDGER_KEY_BYTES, error);
  }
  return read_hex_key (audit_path, w->epoch_key, error);
}

/* Cuts a torn last line off, keeping its bytes aside; returns the details of
 * the `recovered` record to write. */
static char *
cut_torn_tail (ConsentLedger *self, const char *segment, gsize offset, const char *bytes,
               gsize len, GError **error)
{
  LedgerWriter *w = &self->w;
  char sha[LEDGER_HASH_HEX + 1];
  g_autofree char *saved = g_strdup_printf ("torn-%" G_GUINT64_FORMAT ".bin", w->next_seq);
  g_autofree char *path = g_build_filename (w->ledger_dir, segment, NULL);

  if (!ledger_fs_write_atomic (w->ledger_dir, saved, bytes, len, 0600, error))
    return NULL;
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || ftruncate (fd, (off_t) offset) != 0 || fsync (fd) != 0) {
    int err = errno;
    if (fd >= 0)
      close (fd);
    ledger_fs_errno (error, err, "cannot cut the torn last line of", path);
    return NULL;
  }
  close (fd);
  g_message ("ledger: cut a torn last line of %" G_GSIZE_FORMAT " bytes from %s (kept as %s)",
             len, segment, saved);
  ledger_sha256_hex (bytes, len, sha);
  json_object *d = json_object_new_object ();
  json_object_object_add (d, "segment", json_object_new_string (segment));
  json_object_object_add (d, "offset", json_object_new_uint64 (offset));
  json_object_object_add (d, "bytes", json_object_new_uint64 (len));
  json_object_object_add (d, "sha256", json_object_new_string (sha));
  json_object_object_add (d, "saved-as", json_object_new_string (saved));
  GString *text = g_string_new (NULL);
  ledger_canon_append (text, d, NULL);
  json_object_put (d);
  return g_string_free (text, FALSE);
}

/* Scans the whole chain; leaves the writer at its end, and @recovered set
 * when a torn tail was cut. A bad record anywhere refuses to open. */
static gboolean
recover (ConsentLedger *self, gboolean *have_segments, char **recovered, GError **error)
{
  LedgerWriter *w = &self->w;
  g_autoptr (LedgerWalker) walker = ledger_walker_new (w->ledger_dir, FALSE, error);
  LedgerStep step;
  gboolean done = FALSE;
  if (!walker)
    return FALSE;
  while (!done)
    if (!ledger_walker_next (walker, &step, &done, error)) {
      g_prefix_error (error, "the ledger is damaged and will not be opened: ");
      return FALSE;
    }
  guint64 last_seq = 0, last_epoch = 0;
  const char *last_hash = NULL;
  *have_segments = ledger_walker_get_n_segments (walker) > 0;
  if (ledger_walker_get_last (walker, &last_seq, &last_hash, &last_epoch)) {
    w->have_records = TRUE;
    w->next_seq = last_seq + 1;
    memcpy (w->last_hash, last_hash, sizeof w->last_hash);
  }
  const char *segment, *bytes;
  gsize offset, len;
  if (ledger_walker_get_torn (walker, &segment, &offset, &bytes, &len)) {
    *recovered = cut_torn_tail (self, segment, offset, bytes, len, error);
    if (!*recovered)
      return FALSE;
  }
  /* a last segment left without any record (crash right after creating it) */
  const char *last = ledger_walker_get_last_segment (walker);
  g_autofree char *expected = ledger_segment_name (w->next_seq);
  if (last && g_str_equal (last, expected))
    return ledger_fs_unlink_durable (w->ledger_dir, last, TRUE, error);
  return TRUE;
}

ConsentLedger *
consent_ledger_open (const char *state_dir, const ConsentLedgerOptions *options, GError **error)
{
  g_autoptr (ConsentLedger) self = g_object_new (CONSENT_TYPE_LEDGER, NULL);
  g_autofree char *recovered = NULL;
  gboolean have_segments = FALSE, evolve = FALSE;

  self->owner_context = g_main_context_ref_thread_default ();
  self->state_dir = g_strdup (state_dir);
  self->keys_dir = g_build_filename (state_dir, "keys", NULL);
  self->w.ledger_dir = g_build_filename (state_dir, "ledger", NULL);
  if (options)
    self->w.opts = *options;
  self->w.on_failed = on_writer_failed;
  self->w.owner = self;

  if (!ledger_fs_ensure_dir (state_dir, 0700, error) ||
      !ledger_fs_ensure_dir (self->w.ledger_dir, 0700, error) || !take_lock (self, error) ||
      !(self->w.ks = ledger_keystore_open (self->keys_dir, TRUE, error)) ||
      !load_signing_key (self, error) || !recover (self, &have_segments, &recovered, error) ||
      !load_epoch_key (self, have_segments, &evolve, error) ||
      !ledger_writer_start (&self->w, "open", recovered, evolve, error))
    return NULL;
  ledger_writer_spawn (&self->w);
  return g_steal_pointer (&self);
}

/* ---- appending ---- */

static void
task_done (LedgerOp *op, ConsentLedgerReceipt *receipt, GError *error)
{
  GTask *task = op->data;
  if (error)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, receipt, (GDestroyNotify) consent_ledger_receipt_free);
  g_object_unref (task);
  ledger_entry_free (op->entry);
  g_free (op->subject);
  g_free (op);
}

void
consent_ledger_append_async (ConsentLedger *self, const ConsentLedgerEntry *entry,
                             GCancellable *cancellable, GAsyncReadyCallback callback,
                             gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, consent_ledger_append_async);
  if (!ledger_entry_validate (entry, FALSE, &error)) {
    g_task_return_error (task, g_steal_pointer (&error));
    g_object_unref (task);
    return;
  }
  LedgerOp *op = g_new0 (LedgerOp, 1);
  op->kind = LEDGER_OP_APPEND;
  op->entry = ledger_entry_copy (entry);
  op->done = task_done;
  op->data = task;
  ledger_writer_submit (&self->w, op);
}

ConsentLedgerReceipt *
consent_ledger_append_finish (ConsentLedger *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* A blocking wait for one op (tools, erase, prune). */
typedef struct {
  GMutex lock;
  GCond cond;
  gboolean done;
  ConsentLedgerReceipt *receipt;
  GError *error;
  guint n_pruned;
} SyncWait;

static void
sync_done (LedgerOp *op, ConsentLedgerReceipt *receipt, GError *error)
{
  SyncWait *wait = op->data;
  g_mutex_lock (&wait->lock);
  wait->receipt = receipt;
  wait->error = error;
  wait->n_pruned = op->n_pruned;
  wait->done = TRUE;
  g_cond_signal (&wait->cond);
  g_mutex_unlock (&wait->lock);
  ledger_entry_free (op->entry);
  g_free (op->subject);
  g_free (op);
}

static gboolean
run_sync (ConsentLedger *self, LedgerOp *op, ConsentLedgerReceipt **receipt, guint *n_pruned,
          GError **error)
{
  SyncWait wait = {0};
  g_mutex_init (&wait.lock);
  g_cond_init (&wait.cond);
  op->done = sync_done;
  op->data = &wait;
  ledger_writer_submit (&self->w, op);
  g_mutex_lock (&wait.lock);
  while (!wait.done)
    g_cond_wait (&wait.cond, &wait.lock);
  g_mutex_unlock (&wait.lock);
  g_mutex_clear (&wait.lock);
  g_cond_clear (&wait.cond);
  if (n_pruned)
    *n_pruned = wait.n_pruned;
  if (wait.error) {
    g_propagate_error (error, wait.error);
    consent_ledger_receipt_free (wait.receipt);
    return FALSE;
  }
  if (receipt)
    *receipt = wait.receipt;
  else
    consent_ledger_receipt_free (wait.receipt);
  return TRUE;
}

ConsentLedgerReceipt *
consent_ledger_append_sync (ConsentLedger *self, const ConsentLedgerEntry *entry,
                            GError **error)
{
  ConsentLedgerReceipt *receipt = NULL;
  if (!ledger_entry_validate (entry, FALSE, error))
    return NULL;
  LedgerOp *op = g_new0 (LedgerOp, 1);
  op->kind = LEDGER_OP_APPEND;
  op->entry = ledger_entry_copy (entry);
  return run_sync (self, op, &receipt, NULL, error) ? receipt : NULL;
}

gboolean
consent_ledger_is_failed (ConsentLedger *self, GError **error)
{
  LedgerWriter *w = &self->w;
  g_mutex_lock (&w->lock);
  gboolean failed = w->failed || self->closed;
  if (failed && error)
    *error = w->fail_error ? g_error_copy (w->fail_error)
                           : g_error_new (CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_CLOSED,
                                          "the ledger is closed");
  g_mutex_unlock (&w->lock);
  return failed;
}

gboolean
consent_ledger_get_last_seq (ConsentLedger *self, guint64 *out_seq)
{
  g_mutex_lock (&self->w.lock);
  gboolean have = self->w.have_durable;
  if (have && out_seq)
    *out_seq = self->w.durable_seq;
  g_mutex_unlock (&self->w.lock);
  return have;
}

const char *
consent_ledger_get_state_dir (ConsentLedger *self)
{
  return self->state_dir;
}

const char *
consent_ledger_get_ledger_dir (ConsentLedger *self)
{
  return self->w.ledger_dir;
}

const char *
consent_ledger_get_keys_dir (ConsentLedger *self)
{
  return self->keys_dir;
}

char *
consent_ledger_lookup_subject (ConsentLedger *self, const char *participant)
{
  return ledger_keystore_subject_of (self->w.ks, participant);
}

ConsentLedgerReceipt *
consent_ledger_erase_subject (ConsentLedger *self, const char *participant, const char *subject,
                              const char *actor, GError **error)
{
  g_autofree char *target = NULL;
  ConsentLedgerReceipt *receipt = NULL;
  if ((participant == NULL) == (subject == NULL)) {
    g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_INVALID,
                 "name exactly one of participant or subject to erase");
    return NULL;
  }
  target = subject ? g_strdup (subject) : ledger_keystore_subject_of (self->w.ks, participant);
  if (!target) {
    g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_NOT_FOUND,
                 "participant %s is not in the key store (never recorded, or already erased)",
                 participant);
    return NULL;
  }
  if (consent_ledger_is_failed (self, error) ||
      !ledger_keystore_erase (self->w.ks, target, error))
    return NULL;
  ConsentLedgerEntry e = {.type = LEDGER_TYPE_ERASE, .actor = actor ? actor : "admin"};
  LedgerOp *op = g_new0 (LedgerOp, 1);
  op->kind = LEDGER_OP_APPEND;
  op->entry = ledger_entry_copy (&e);
  op->subject = g_strdup (target);
  op->internal = TRUE;
  return run_sync (self, op, &receipt, NULL, error) ? receipt : NULL;
}

gboolean
consent_ledger_prune (ConsentLedger *self, gint64 retention_us, gint64 now_us, guint *n_pruned,
                      GError **error)
{
  if (retention_us < 0) {
    g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_INVALID,
                 "the retention period must not be negative");
    return FALSE;
  }
  LedgerOp *op = g_new0 (LedgerOp, 1);
  op->kind = LEDGER_OP_PRUNE;
  op->retention_us = retention_us;
  op->now_us = now_us;
  return run_sync (self, op, NULL, n_pruned, error);
}

gboolean
consent_ledger_checkpoint_now (ConsentLedger *self, GError **error)
{
  LedgerOp *op = g_new0 (LedgerOp, 1);
  op->kind = LEDGER_OP_CHECKPOINT;
  return run_sync (self, op, NULL, NULL, error);
}

gboolean
consent_ledger_close (ConsentLedger *self, GError **error)
{
  if (self->closed)
    return TRUE;
  ledger_writer_stop (&self->w);
  g_mutex_lock (&self->w.lock);
  self->closed = TRUE;
  g_mutex_unlock (&self->w.lock);
  if (self->lock_fd >= 0) {
    close (self->lock_fd);
    self->lock_fd = -1;
  }
  if (self->w.failed && error) {
    *error = g_error_copy (self->w.fail_error);
    return FALSE;
  }
  return TRUE;
}
