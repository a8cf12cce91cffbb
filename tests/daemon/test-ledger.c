/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-ledger.c: unit tests of the ledger writer, reader, keys, recovery, erase, prune. */
#include "ledger-reader.h"
#include "ledger-recorder.h"
#include "ledger-verify.h"
#include "consent-meeting.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>

/* ---- fixtures ---- */

typedef struct {
  char *state;
  char *ledger_dir;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  f->state = g_dir_make_tmp ("ledger-test-XXXXXX", &error);
  g_assert_no_error (error);
  f->ledger_dir = g_build_filename (f->state, "ledger", NULL);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d))) {
    g_autofree char *child = g_build_filename (path, name, NULL);
    if (g_file_test (child, G_FILE_TEST_IS_DIR))
      remove_tree (child);
    else
      g_unlink (child);
  }
  g_rmdir (path);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  remove_tree (f->state);
  g_free (f->state);
  g_free (f->ledger_dir);
}

static ConsentLedger *
open_ledger (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  ConsentLedger *l = consent_ledger_open (f->state, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (l);
  return l;
}

static ConsentLedgerReceipt *
append (ConsentLedger *l, const char *type, const char *participant, gint64 ts)
{
  g_autoptr (GError) error = NULL;
  ConsentLedgerEntry e = {.type = type, .meeting = "m1", .participant = participant,
                          .display_name = "Ann Example", .ip = "198.51.100.4",
                          .client = "TestAgent/1", .channel = "ws", .actor = "participant",
                          .ts_us = ts};
  ConsentLedgerReceipt *r = consent_ledger_append_sync (l, &e, &error);
  g_assert_no_error (error);
  g_assert_nonnull (r);
  return r;
}

static GBytes *
audit_key (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (f->state, "audit.key", NULL);
  GBytes *key = consent_ledger_read_key_file (path, &error);
  g_assert_no_error (error);
  return key;
}

static void
assert_intact (Fixture *f, const char *witness)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) key = audit_key (f);
  ConsentLedgerVerifyOptions o = {.ledger_dir = f->ledger_dir, .key = key, .witness = witness};
  ConsentLedgerVerifyResult r;
  g_assert_true (consent_ledger_verify (&o, &r, &error));
  g_assert_no_error (error);
  if (!r.intact)
    g_error ("not intact: %s line %u: %s", r.bad_file, r.bad_line, r.bad_reason);
  g_assert_true (r.seals_checked);
  consent_ledger_verify_result_clear (&r);
}

static GPtrArray *
read_all (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *keys = g_build_filename (f->state, "keys", NULL);
  g_autoptr (ConsentLedgerReader) reader = consent_ledger_reader_new (f->ledger_dir, keys, &error);
  g_assert_no_error (error);
  GPtrArray *all = g_ptr_array_new_with_free_func ((GDestroyNotify) consent_ledger_record_free);
  for (;;) {
    ConsentLedgerRecord *r = NULL;
    g_assert_true (consent_ledger_reader_next (reader, &r, &error));
    g_assert_no_error (error);
    if (!r)
      return all;
    g_ptr_array_add (all, r);
  }
}

static char *
last_segment_path (Fixture *f)
{
  g_autoptr (GDir) d = g_dir_open (f->ledger_dir, 0, NULL);
  g_autofree char *last = NULL;
  const char *name;
  while ((name = g_dir_read_name (d)))
    if (g_str_has_prefix (name, "seg-") && (!last || strcmp (name, last) > 0)) {
      g_free (last);
      last = g_strdup (name);
    }
  return g_build_filename (f->ledger_dir, last, NULL);
}

/* ---- tests ---- */

typedef struct {
  GThread *thread;
  guint done;
  guint64 last_seq;
  gboolean any;
  gboolean ordered;
} AsyncState;

static void
on_appended (GObject *src, GAsyncResult *res, gpointer data)
{
  AsyncState *st = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (ConsentLedgerReceipt) r = consent_ledger_append_finish (CONSENT_LEDGER (src), res,
                                                                     &error);
  g_assert_no_error (error);
  g_assert_true (g_thread_self () == st->thread);
  g_assert_cmpuint (strlen (r->hash), ==, 64);
  g_assert_nonnull (r->subject);
  g_assert_cmpint (r->subject[0], ==, 's');
  if (st->any && r->seq != st->last_seq + 1)
    st->ordered = FALSE;
  st->any = TRUE;
  st->last_seq = r->seq;
  st->done++;
}

static void
test_async_append (Fixture *f, gconstpointer data)
{
  g_autoptr (ConsentLedger) l = open_ledger (f);
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  AsyncState st = {.thread = g_thread_self (), .ordered = TRUE};
  const guint n = 300;
  g_main_context_push_thread_default (ctx);
  for (guint i = 0; i < n; i++) {
    g_autofree char *p = g_strdup_printf ("participant-%u", i % 7);
    ConsentLedgerEntry e = {.type = "accept", .meeting = "m1", .participant = p,
                            .display_name = "Name", .channel = "ws"};
    consent_ledger_append_async (l, &e, NULL, on_appended, &st);
  }
  while (st.done < n)
    g_main_context_iteration (ctx, TRUE);
  g_main_context_pop_thread_default (ctx);
  g_assert_true (st.ordered);
  guint64 last = 0;
  g_assert_true (consent_ledger_get_last_seq (l, &last));
  g_assert_cmpuint (last, ==, n); /* seq 0 is the epoch record */
  g_assert_true (consent_ledger_close (l, NULL));
  assert_intact (f, NULL);

  g_autoptr (GPtrArray) all = read_all (f);
  g_assert_cmpuint (all->len, ==, n + 1);
  ConsentLedgerRecord *r = all->pdata[1];
  g_assert_cmpstr (r->type, ==, "accept");
  g_assert_cmpstr (r->participant, ==, "participant-0");
  g_assert_cmpstr (r->display_name, ==, "Name");
  g_assert_true (r->pd_readable);
  g_assert_cmpstr (r->id, ==, "1");
}

static void
test_personal_data_never_in_clear (Fixture *f, gconstpointer data)
{
  g_autoptr (ConsentLedger) l = open_ledger (f);
  const char *present[] = {"ann@example.org", "bo", NULL};
  ConsentLedgerEntry e = {.type = "gate-opened", .meeting = "m1", .participant = "ann@example.org",
                          .display_name = "Ann Secret", .ip = "203.0.113.99",
                          .client = "SecretAgent/9", .present = present, .has_epoch = TRUE,
                          .epoch = 7, .reason = "all-accepted"};
  g_autoptr (GError) error = NULL;
  g_autoptr (ConsentLedgerReceipt) r = consent_ledger_append_sync (l, &e, &error);
  g_assert_no_error (error);
  g_assert_true (consent_ledger_close (l, NULL));
  g_autofree char *path = last_segment_path (f);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_null (strstr (text, "ann@example.org"));
  g_assert_null (strstr (text, "Ann Secret"));
  g_assert_null (strstr (text, "203.0.113.99"));
  g_assert_null (strstr (text, "SecretAgent"));
  g_assert_nonnull (strstr (text, r->subject));

  g_autoptr (GPtrArray) all = read_all (f);
  ConsentLedgerRecord *rec = all->pdata[1];
  g_assert_cmpstr (rec->ip, ==, "203.0.113.99");
  g_assert_true (rec->has_epoch);
  g_assert_cmpuint (rec->epoch, ==, 7);
  g_assert_cmpstr (rec->present_participants[0], ==, "ann@example.org");
  g_assert_cmpstr (rec->present_participants[1], ==, "bo");
  g_assert_cmpstr (rec->present[0], ==, r->subject);
}

static void
test_invalid_entries_write_nothing (Fixture *f, gconstpointer data)
{
  g_autoptr (ConsentLedger) l = open_ledger (f);
  g_autoptr (GError) error = NULL;
  g_autofree char *big = g_strnfill (CONSENT_LEDGER_MAX_FIELD_BYTES + 1, 'x');
  const struct {
    ConsentLedgerEntry e;
    int code;
  } cases[] = {
    {{.type = "epoch"}, CONSENT_LEDGER_ERROR_INVALID},
    {{.type = "Accept"}, CONSENT_LEDGER_ERROR_INVALID},
    {{.type = NULL}, CONSENT_LEDGER_ERROR_INVALID},
    {{.type = "accept", .meeting = big}, CONSENT_LEDGER_ERROR_TOO_LARGE},
    {{.type = "accept", .meeting = "\xff\xfe"}, CONSENT_LEDGER_ERROR_INVALID},
    {{.type = "segment", .details_json = "[1]"}, CONSENT_LEDGER_ERROR_INVALID},
    {{.type = "segment", .details_json = "{\"a\":1} x"}, CONSENT_LEDGER_ERROR_INVALID},
  };
  guint64 before = 0, after = 0;
  g_assert_true (consent_ledger_get_last_seq (l, &before));
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_assert_null (consent_ledger_append_sync (l, &cases[i].e, &error));
    g_assert_error (error, CONSENT_LEDGER_ERROR, cases[i].code);
    g_clear_error (&error);
  }
  g_assert_true (consent_ledger_get_last_seq (l, &after));
  g_assert_cmpuint (before, ==, after);
  g_assert_false (consent_ledger_is_failed (l, NULL));
}

static void
test_second_writer_locked (Fixture *f, gconstpointer data)
{
  g_autoptr (ConsentLedger) l = open_ledger (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (ConsentLedger) l2 = consent_ledger_open (f->state, NULL, &error);
  g_assert_null (l2);
  g_assert_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_LOCKED);
}

static void
test_reopen_evolves_epoch (Fixture *f, gconstpointer data)
{
  for (int round = 0; round < 3; round++) {
    g_autoptr (ConsentLedger) l = open_ledger (f);
    g_autoptr (ConsentLedgerReceipt) r = append (l, "join", "p", 0);
    g_assert_true (consent_ledger_close (l, NULL));
  }
  g_autoptr (GPtrArray) all = read_all (f);
  g_assert_cmpuint (all->len, ==, 6);
  g_assert_cmpuint (((ConsentLedgerRecord *) all->pdata[0])->key_epoch, ==, 0);
  g_assert_cmpuint (((ConsentLedgerRecord *) all->pdata[2])->key_epoch, ==, 1);
  g_assert_cmpuint (((ConsentLedgerRecord *) all->pdata[5])->key_epoch, ==, 2);
  /* the on-disk key is the current one only */
  g_autofree char *epoch_key = g_build_filename (f->ledger_dir, "epoch.key", NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (epoch_key, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "\"epoch\":2"));
  assert_intact (f, NULL);
}

static void
test_torn_tail_recovered (Fixture *f, gconstpointer data)
{
  {
    g_autoptr (ConsentLedger) l = open_ledger (f);
    g_autoptr (ConsentLedgerReceipt) r = append (l, "join", "p", 0);
    g_assert_true (consent_ledger_close (l, NULL));
  }
  g_autofree char *seg = last_segment_path (f);
  FILE *fp = fopen (seg, "a");
  fputs ("{\"actor\":\"participant\",\"hash\":\"00", fp);
  fclose (fp);
  {
    g_autoptr (ConsentLedger) l = open_ledger (f);
    g_assert_true (consent_ledger_close (l, NULL));
  }
  g_autofree char *torn = g_build_filename (f->ledger_dir, "torn-2.bin", NULL);
  g_assert_true (g_file_test (torn, G_FILE_TEST_EXISTS));
  g_autoptr (GPtrArray) all = read_all (f);
  g_assert_cmpuint (all->len, ==, 4);
  ConsentLedgerRecord *rec = all->pdata[3];
  g_assert_cmpstr (rec->type, ==, "recovered");
  g_assert_nonnull (strstr (rec->details_json, "\"saved-as\":\"torn-2.bin\""));
  assert_intact (f, NULL);
}

static void
test_bad_middle_record_refuses_open (Fixture *f, gconstpointer data)
{
  {
    g_autoptr (ConsentLedger) l = open_ledger (f);
    for (int i = 0; i < 3; i++)
      consent_ledger_receipt_free (append (l, "join", "p", 0));
    g_assert_true (consent_ledger_close (l, NULL));
  }
  g_autofree char *seg = last_segment_path (f);
  g_autofree char *text = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (seg, &text, &len, NULL));
  char *second = strchr (text, '\n') + 1;
  char *where = strstr (second, "\"m1\"");
  where[2] = '2'; /* the second line now names another meeting */
  g_assert_true (g_file_set_contents (seg, text, (gssize) len, NULL));
  g_autoptr (GError) error = NULL;
  g_autoptr (ConsentLedger) l = consent_ledger_open (f->state, NULL, &error);
  g_assert_null (l);
  g_assert_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "seg-00000000000000000000.jsonl line 2 (seq 1)"));
  g_assert_nonnull (strstr (error->message, "hash mismatch"));
}

static void
test_erase_subject (Fixture *f, gconstpointer data)
{
  g_autoptr (ConsentLedger) l = open_ledger (f);
  g_autoptr (ConsentLedgerReceipt) a = append (l, "accept", "erin", 0);
  g_autoptr (ConsentLedgerReceipt) b = append (l, "accept", "frank", 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (ConsentLedgerReceipt) e =
      consent_ledger_erase_subject (l, "erin", NULL, "admin", &error);
  g_assert_no_error (error);
  g_assert_null (consent_ledger_lookup_subject (l, "erin"));
  g_assert_null (consent_ledger_erase_subject (l, NULL, a->subject, "admin", &error));
  g_assert_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* the same participant coming back is a new subject */
  g_autoptr (ConsentLedgerReceipt) again = append (l, "join", "erin", 0);
  g_assert_cmpstr (again->subject, !=, a->subject);
  g_assert_true (consent_ledger_close (l, NULL));

  g_autoptr (GPtrArray) all = read_all (f);
  ConsentLedgerRecord *ra = all->pdata[1], *rb = all->pdata[2], *re = all->pdata[3];
  g_assert_true (ra->has_pd);
  g_assert_true (ra->erased);
  g_assert_null (ra->participant);
  g_assert_null (ra->display_name);
  g_assert_cmpstr (rb->participant, ==, "frank");
  g_assert_cmpstr (re->type, ==, "erase");
  g_assert_cmpstr (re->subject, ==, a->subject);
  g_autofree char *keyfile = g_strdup_printf ("%s/keys/%s.key", f->state, a->subject);
  g_assert_false (g_file_test (keyfile, G_FILE_TEST_EXISTS));
  assert_intact (f, NULL);
}

static void
test_prune (Fixture *f, gconstpointer data)
{
  ConsentLedgerOptions opts = {.max_segment_bytes = 2000, .no_daily_segments = TRUE};
  gint64 now = g_get_real_time ();
  gint64 day = G_GINT64_CONSTANT (86400) * G_USEC_PER_SEC;
  g_autoptr (GError) error = NULL;
  g_autoptr (ConsentLedger) l = consent_ledger_open (f->state, &opts, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 30; i++)
    consent_ledger_receipt_free (append (l, "accept", "p", now - 40 * day + i));
  for (int i = 0; i < 5; i++)
    consent_ledger_receipt_free (append (l, "accept", "p", now));
  guint n = 0;
  g_assert_true (consent_ledger_prune (l, 30 * day, now, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, >, 1);
  g_assert_true (consent_ledger_checkpoint_now (l, &error));
  g_autofree char *witness = consent_ledger_export_checkpoint (f->ledger_dir, &error);
  g_assert_no_error (error);
  consent_ledger_receipt_free (append (l, "accept", "p", now));
  g_assert_true (consent_ledger_close (l, NULL));
  assert_intact (f, witness);
  g_autoptr (GPtrArray) all = read_all (f);
  ConsentLedgerRecord *first = all->pdata[0];
  g_assert_cmpuint (first->seq, >, 0);
  ConsentLedgerRecord *last = all->pdata[all->len - 1];
  g_assert_cmpstr (last->type, ==, "accept");
  /* pruning again finds nothing more to prune */
  g_autoptr (ConsentLedger) l2 = open_ledger (f);
  g_assert_true (consent_ledger_prune (l2, 30 * day, now, &n, &error));
  g_assert_cmpuint (n, ==, 0);
}

static void
test_witness_checkpoint (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ConsentLedger) l = open_ledger (f);
  consent_ledger_receipt_free (append (l, "join", "p", 0));
  g_assert_true (consent_ledger_checkpoint_now (l, &error));
  g_autofree char *witness = consent_ledger_export_checkpoint (f->ledger_dir, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (witness, "{\"key\":"));
  consent_ledger_receipt_free (append (l, "leave", "p", 0));
  g_assert_true (consent_ledger_close (l, NULL));
  assert_intact (f, witness);
}

/* Fail closed: a write that fails (file size limit) fails this and every
 * later append, and "failed" is emitted on the owner's context. */
static void
on_failed (ConsentLedger *l, const GError *error, gpointer data)
{
  *(gboolean *) data = TRUE;
}

static void
test_fail_closed_child (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  gboolean signalled = FALSE;
  /* failing closed logs a warning: expected here */
  g_log_set_always_fatal (G_LOG_FATAL_MASK);
  g_autoptr (ConsentLedger) l = open_ledger (f);
  g_signal_connect (l, "failed", G_CALLBACK (on_failed), &signalled);
  consent_ledger_receipt_free (append (l, "join", "p", 0));
  signal (SIGXFSZ, SIG_IGN);
  g_autofree char *seg = last_segment_path (f);
  GStatBuf st;
  g_assert_cmpint (g_stat (seg, &st), ==, 0);
  struct rlimit lim = {.rlim_cur = (rlim_t) st.st_size + 10, .rlim_max = RLIM_INFINITY};
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &lim), ==, 0);
  ConsentLedgerEntry e = {.type = "accept", .meeting = "m1"};
  g_assert_null (consent_ledger_append_sync (l, &e, &error));
  g_assert_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_FAILED);
  g_clear_error (&error);
  lim.rlim_cur = RLIM_INFINITY;
  setrlimit (RLIMIT_FSIZE, &lim);
  /* never retried, even though writing would work again now */
  g_assert_null (consent_ledger_append_sync (l, &e, &error));
  g_assert_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_FAILED);
  g_assert_true (consent_ledger_is_failed (l, NULL));
  while (!signalled)
    g_main_context_iteration (NULL, TRUE);
}

static void
test_fail_closed (Fixture *f, gconstpointer data)
{
  if (g_test_subprocess ()) {
    test_fail_closed_child (f);
    return;
  }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* The ConsentRecorder adapter: a meeting's events become records, and
 * "recorded" carries id and hash. */
static void
on_recorded (ConsentLedgerRecorder *rec, ConsentMeeting *m, ConsentEvent *ev, const char *id,
             const char *hash, const char *subject, gpointer data)
{
  guint *n = data;
  g_assert_nonnull (id);
  g_assert_cmpuint (strlen (hash), ==, 64);
  (*n)++;
}

static void
test_recorder (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ConsentLedger) l = open_ledger (f);
  g_autoptr (ConsentLedgerRecorder) rec = consent_ledger_recorder_new (l);
  g_autoptr (ConsentPolicy) policy = consent_policy_new_default (NULL);
  g_autoptr (ConsentMeeting) m = consent_meeting_new ("room-1", policy, CONSENT_RECORDER (rec));
  guint n = 0;
  g_signal_connect (rec, "recorded", G_CALLBACK (on_recorded), &n);
  ConsentMethod method = {.channel = "admin-api", .ip = "192.0.2.1"};
  g_assert_true (consent_meeting_join (m, "zoe", "Zoe Z", "guest", &method, &error));
  g_assert_no_error (error);
  while (n < 1)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (consent_ledger_close (l, NULL));
  g_autoptr (GPtrArray) all = read_all (f);
  gboolean found = FALSE;
  for (guint i = 0; i < all->len; i++) {
    ConsentLedgerRecord *r = all->pdata[i];
    if (g_str_equal (r->type, "join")) {
      g_assert_cmpstr (r->participant, ==, "zoe");
      g_assert_cmpstr (r->display_name, ==, "Zoe Z");
      g_assert_cmpstr (r->meeting, ==, "room-1");
      found = TRUE;
    }
  }
  g_assert_true (found);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, fn) \
  g_test_add ("/ledger/" name, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("async-append", test_async_append);
  ADD ("personal-data-never-in-clear", test_personal_data_never_in_clear);
  ADD ("invalid-entries-write-nothing", test_invalid_entries_write_nothing);
  ADD ("second-writer-locked", test_second_writer_locked);
  ADD ("reopen-evolves-epoch", test_reopen_evolves_epoch);
  ADD ("torn-tail-recovered", test_torn_tail_recovered);
  ADD ("bad-middle-record-refuses-open", test_bad_middle_record_refuses_open);
  ADD ("erase-subject", test_erase_subject);
  ADD ("prune", test_prune);
  ADD ("witness-checkpoint", test_witness_checkpoint);
  ADD ("fail-closed", test_fail_closed);
  ADD ("recorder", test_recorder);
  return g_test_run ();
}
