/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-ledger.c: how fast is the consent ledger, and against what?
 *
 *   bench-ledger [--quick] [--verify-only] [DIR]
 *
 * Measures, in a scratch directory (default: a new one under $TMPDIR):
 *  1. durable appends/s with 1, 16 and 64 concurrent producers (each waits
 *     for its record to be durable before the next), against
 *     - SQLite in WAL mode, synchronous=FULL, one insert per transaction
 *       (same producers) and 64 inserts per transaction,
 *     - a raw write()+fdatasync() per record;
 *  2. the ack latency (p50/p99) at 1,000 records/s offered;
 *  3. verification speed in records/s (with seals).
 * Each figure is the median of several runs; ratios are ledger / peer.
 * Not a test: it asserts nothing about time.
 */
#include "ledger-canon.h"
#include "ledger-checkpoint.h"
#include "ledger-record.h"
#include "ledger-verify.h"
#include "ledger-walk.h"
#include "ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double run_seconds = 2.0;
static int n_runs = 3;

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
median (double *v, int n)
{
  qsort (v, (size_t) n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static char *
scratch (const char *base, const char *name)
{
  static int counter;
  return g_strdup_printf ("%s/%s-%d", base, name, counter++);
}

static const ConsentLedgerEntry sample = {
  .type = "accept", .meeting = "weekly-sync", .participant = "participant-17",
  .display_name = "Some Person", .client = "Mozilla/5.0", .ip = "192.0.2.10",
  .notice_version = "3",
  .notice_sha256 = "3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea",
  .channel = "ws", .actor = "participant", .request_id = "req-1",
};

/* ---- 1. throughput: producers that each wait for durability ---- */

typedef struct {
  gint64 deadline;
  guint64 count;
  gpointer target; /* ConsentLedger*, sqlite3*, or fd */
  GMutex *lock;    /* sqlite: one writer connection */
  int batch;
} Producer;

static gpointer
ledger_producer (gpointer data)
{
  Producer *p = data;
  while (g_get_monotonic_time () < p->deadline) {
    ConsentLedgerReceipt *r = consent_ledger_append_sync (p->target, &sample, NULL);
    if (!r)
      g_error ("append failed");
    consent_ledger_receipt_free (r);
    p->count++;
  }
  return NULL;
}

static gpointer
sqlite_producer (gpointer data)
{
  Producer *p = data;
  sqlite3 *db = p->target;
  while (g_get_monotonic_time () < p->deadline) {
    g_mutex_lock (p->lock);
    sqlite3_exec (db, "BEGIN", NULL, NULL, NULL);
    for (int i = 0; i < p->batch; i++) {
      sqlite3_stmt *st;
      sqlite3_prepare_v2 (db, "INSERT INTO ev (ts, type, meeting, subject, data) "
                              "VALUES (?, 'accept', 'weekly-sync', 's0123', ?)", -1, &st, NULL);
      sqlite3_bind_int64 (st, 1, g_get_real_time ());
      sqlite3_bind_text (st, 2, "encrypted personal data placeholder of similar size", -1,
                         SQLITE_STATIC);
      if (sqlite3_step (st) != SQLITE_DONE)
        g_error ("sqlite insert: %s", sqlite3_errmsg (db));
      sqlite3_finalize (st);
    }
    if (sqlite3_exec (db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
      g_error ("sqlite commit: %s", sqlite3_errmsg (db));
    g_mutex_unlock (p->lock);
    p->count += (guint64) p->batch;
  }
  return NULL;
}

static gpointer
raw_producer (gpointer data)
{
  Producer *p = data;
  int fd = GPOINTER_TO_INT (p->target);
  char line[400];
  memset (line, 'x', sizeof line - 1);
  line[sizeof line - 1] = '\n';
  while (g_get_monotonic_time () < p->deadline) {
    g_mutex_lock (p->lock);
    if (write (fd, line, sizeof line) != (ssize_t) sizeof line || fdatasync (fd) != 0)
      g_error ("raw write: %s", g_strerror (errno));
    g_mutex_unlock (p->lock);
    p->count++;
  }
  return NULL;
}

static double
run_producers (GThreadFunc fn, gpointer target, int n, int batch)
{
  GMutex lock;
  g_mutex_init (&lock);
  Producer *ps = g_new0 (Producer, n);
  GThread **ts = g_new0 (GThread *, n);
  gint64 start = g_get_monotonic_time ();
  gint64 deadline = start + (gint64) (run_seconds * G_USEC_PER_SEC);
  guint64 total = 0;
  for (int i = 0; i < n; i++) {
    ps[i] = (Producer){.deadline = deadline, .target = target, .lock = &lock, .batch = batch};
    ts[i] = g_thread_new ("producer", fn, &ps[i]);
  }
  for (int i = 0; i < n; i++) {
    g_thread_join (ts[i]);
    total += ps[i].count;
  }
  double secs = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  g_free (ps);
  g_free (ts);
  g_mutex_clear (&lock);
  return (double) total / secs;
}

static double
bench_ledger (const char *base, int producers)
{
  double v[16];
  for (int r = 0; r < n_runs; r++) {
    g_autofree char *dir = scratch (base, "ledger");
    g_autoptr (GError) error = NULL;
    ConsentLedger *l = consent_ledger_open (dir, NULL, &error);
    if (!l)
      g_error ("%s", error->message);
    v[r] = run_producers (ledger_producer, l, producers, 1);
    consent_ledger_close (l, NULL);
    g_object_unref (l);
  }
  return median (v, n_runs);
}

static double
bench_sqlite (const char *base, int producers, int batch)
{
  double v[16];
  for (int r = 0; r < n_runs; r++) {
    g_autofree char *path = scratch (base, "sqlite.db");
    sqlite3 *db;
    if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                        SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK)
      g_error ("sqlite open");
    sqlite3_exec (db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                      "CREATE TABLE ev (seq INTEGER PRIMARY KEY, ts INTEGER, type TEXT,"
                      " meeting TEXT, subject TEXT, data TEXT)", NULL, NULL, NULL);
    v[r] = run_producers (sqlite_producer, db, producers, batch);
    sqlite3_close (db);
  }
  return median (v, n_runs);
}

static double
bench_raw (const char *base)
{
  double v[16];
  for (int r = 0; r < n_runs; r++) {
    g_autofree char *path = scratch (base, "raw.log");
    int fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    v[r] = run_producers (raw_producer, GINT_TO_POINTER (fd), 1, 1);
    close (fd);
  }
  return median (v, n_runs);
}

/* ---- 2. ack latency at a fixed offered rate ---- */

typedef struct {
  ConsentLedger *ledger;
  GArray *latencies; /* double, ms */
  guint submitted, completed, target;
} LatencyRun;

typedef struct {
  LatencyRun *run;
  gint64 t0;
} Pending;

static void
on_ack (GObject *src, GAsyncResult *res, gpointer data)
{
  Pending *p = data;
  ConsentLedgerReceipt *r = consent_ledger_append_finish (CONSENT_LEDGER (src), res, NULL);
  double ms = (double) (g_get_monotonic_time () - p->t0) / 1000.0;
  g_array_append_val (p->run->latencies, ms);
  p->run->completed++;
  consent_ledger_receipt_free (r);
  g_free (p);
}

static gboolean
offer (gpointer data)
{
  LatencyRun *run = data;
  Pending *p = g_new0 (Pending, 1);
  p->run = run;
  p->t0 = g_get_monotonic_time ();
  consent_ledger_append_async (run->ledger, &sample, NULL, on_ack, p);
  return ++run->submitted < run->target ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
bench_latency (const char *base, double *p50, double *p99)
{
  g_autofree char *dir = scratch (base, "latency");
  g_autoptr (GError) error = NULL;
  LatencyRun run = {.latencies = g_array_new (FALSE, FALSE, sizeof (double)),
                    .target = (guint) (1000 * run_seconds * 2)};
  run.ledger = consent_ledger_open (dir, NULL, &error);
  if (!run.ledger)
    g_error ("%s", error->message);
  g_timeout_add (1, offer, &run); /* 1,000 records/s offered */
  while (run.completed < run.target)
    g_main_context_iteration (NULL, TRUE);
  qsort (run.latencies->data, run.latencies->len, sizeof (double), cmp_double);
  double *l = (double *) (void *) run.latencies->data;
  *p50 = l[run.latencies->len / 2];
  *p99 = l[(run.latencies->len * 99) / 100];
  consent_ledger_close (run.ledger, NULL);
  g_object_unref (run.ledger);
  g_array_unref (run.latencies);
}

/* ---- 3. verification speed over a synthetic sealed ledger ---- */

static void
write_synthetic (const char *dir, guint64 n, guint8 key[LEDGER_KEY_BYTES])
{
  g_autofree char *ledger = g_build_filename (dir, "ledger", NULL);
  g_autofree char *name = ledger_segment_name (0);
  g_autofree char *path = g_build_filename (ledger, name, NULL);
  g_autoptr (GString) out = g_string_sized_new (64 << 20);
  char prev[LEDGER_HASH_HEX + 1] = LEDGER_ZERO_HASH, hash[LEDGER_HASH_HEX + 1];
  guint8 priv[32], pub[32];
  char pub_hex[65];
  g_mkdir_with_parents (ledger, 0700);
  ledger_random (key, LEDGER_KEY_BYTES, NULL);
  ledger_ed25519_generate (priv, pub, NULL);
  ledger_hex (pub, 32, pub_hex);
  g_autofree char *epoch_details = g_strdup_printf ("{\"checkpoint-key\":\"%s\",\"reason\":"
                                                    "\"open\"}", pub_hex);
  for (guint64 seq = 0; seq < n; seq++) {
    ConsentLedgerEntry e = sample;
    if (seq == 0)
      e = (ConsentLedgerEntry){.type = "epoch", .actor = "system",
                               .details_json = epoch_details};
    LedgerRecordFrame f = {.seq = seq, .ts_us = g_get_real_time (), .prev = prev,
                           .subject = "s0123456789abcdef0123456789abcdef",
                           .pd = seq ? "bm9uY2Vub25jZW5vbmNlY2lwaGVydGV4dGNpcGhlcnRleHRjaXBoZXJ0ZXh0"
                                       "dGFndGFndGFndGFn" : NULL};
    json_object *rec = ledger_record_build (&e, &f, NULL);
    ledger_record_seal (rec, key, out, hash, NULL);
    json_object_put (rec);
    memcpy (prev, hash, sizeof prev);
  }
  g_file_set_contents (path, out->str, (gssize) out->len, NULL);
}

static double
cpu_seconds (void)
{
  return (double) clock () / CLOCKS_PER_SEC;
}

static double
bench_verify (const char *base, guint64 n, double *per_cpu_second)
{
  g_autofree char *dir = scratch (base, "verify");
  guint8 key[LEDGER_KEY_BYTES];
  double v[16], c[16];
  write_synthetic (dir, n, key);
  g_autofree char *ledger = g_build_filename (dir, "ledger", NULL);
  g_autoptr (GBytes) kb = g_bytes_new (key, sizeof key);
  for (int r = 0; r < n_runs; r++) {
    ConsentLedgerVerifyOptions o = {.ledger_dir = ledger, .key = kb};
    ConsentLedgerVerifyResult res;
    gint64 t0 = g_get_monotonic_time ();
    double c0 = cpu_seconds ();
    if (!consent_ledger_verify (&o, &res, NULL) || !res.intact || res.n_records != n)
      g_error ("synthetic ledger does not verify: %s", res.bad_reason);
    v[r] = (double) n / ((double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC);
    c[r] = (double) n / (cpu_seconds () - c0);
    consent_ledger_verify_result_clear (&res);
  }
  *per_cpu_second = median (c, n_runs);
  return median (v, n_runs);
}

/* Appends/s against the peers, and the ack latency. */
static void
bench_durability (const char *base)
{
  printf ("durable appends/s      ledger   sqlite-wal-full(1/txn)  ratio   raw-fdatasync  "
          "ratio\n");
  double raw = bench_raw (base);
  const int producers[] = {1, 16, 64};
  for (gsize i = 0; i < G_N_ELEMENTS (producers); i++) {
    double l = bench_ledger (base, producers[i]);
    double s = bench_sqlite (base, producers[i], 1);
    printf ("  %2d producers    %10.0f   %10.0f              %6.2f  %10.0f     %6.2f\n",
            producers[i], l, s, l / s, raw, l / raw);
    fflush (stdout);
  }
  double sb = bench_sqlite (base, 1, 64);
  printf ("  sqlite-wal-full, 64 inserts per transaction (not durable per event): %.0f/s\n",
          sb);
  double p50 = 0, p99 = 0;
  bench_latency (base, &p50, &p99);
  printf ("\nack latency at 1,000 records/s offered: p50 %.2f ms, p99 %.2f ms\n", p50, p99);
}

int
main (int argc, char **argv)
{
  gboolean quick = FALSE, verify_only = FALSE;
  const char *dir_arg = NULL;
  for (int i = 1; i < argc; i++) {
    if (g_str_equal (argv[i], "--quick"))
      quick = TRUE;
    else if (g_str_equal (argv[i], "--verify-only"))
      verify_only = TRUE;
    else
      dir_arg = argv[i];
  }
  g_autofree char *base = dir_arg ? g_strdup (dir_arg) : g_dir_make_tmp ("bench-ledger-XXXXXX",
                                                                         NULL);
  if (quick) {
    run_seconds = 1.0;
    n_runs = 1;
  }
  g_mkdir_with_parents (base, 0700);
  printf ("scratch directory: %s (medians of %d runs of %.0f s)\n\n", base, n_runs,
          run_seconds);
  if (!verify_only)
    bench_durability (base);
  guint64 n = quick ? 100000 : 300000;
  double vc;
  double vr = bench_verify (base, n, &vc);
  printf ("verify (with seals) over %" G_GUINT64_FORMAT " records: %.0f records/s wall clock, "
          "%.0f records per CPU second\n", n, vr, vc);
  printf ("\n(scratch directory left in place: %s)\n", base);
  return 0;
}
