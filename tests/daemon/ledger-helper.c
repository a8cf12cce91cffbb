/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ledger-helper.c: a small ledger client for the ledger tests.
 *   ledger-helper write STATE N      append N records (many in flight), close
 *   ledger-helper crash STATE        append forever; print "seq hash" per ack
 *   ledger-helper open STATE         open (recovering), print the last seq, close
 *   ledger-helper list STATE         print "seq hash" of every record
 */
#include "ledger-reader.h"
#include "ledger.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const participants[] = {"alice@example.org", "bob", "carol \"c\"", "dave",
                                           "érika", NULL};

static void
fill_entry (ConsentLedgerEntry *e, guint i)
{
  static const char *types[] = {"join", "notice-shown", "request", "accept", "gate-opened"};
  *e = (ConsentLedgerEntry){
    .type = types[i % G_N_ELEMENTS (types)],
    .meeting = (i % 3 == 0) ? "meeting-a" : "meeting-b",
    .participant = participants[i % 5],
    .display_name = "Display Name",
    .client = "Mozilla/5.0 (X11)",
    .ip = "192.0.2.7",
    .notice_version = "2",
    .notice_sha256 = "3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea",
    .channel = "ws",
    .actor = "participant",
    .present = (const char *const *) participants,
    .has_epoch = i % 5 == 4,
    .epoch = i,
  };
}

typedef struct {
  GMainLoop *loop;
  ConsentLedger *ledger;
  guint submitted, completed, target, failed;
  gboolean print;
} Run;

static void submit_one (Run *run);

static void
on_done (GObject *src, GAsyncResult *res, gpointer data)
{
  Run *run = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (ConsentLedgerReceipt) r = consent_ledger_append_finish (CONSENT_LEDGER (src), res,
                                                                     &error);
  run->completed++;
  if (!r) {
    run->failed++;
    fprintf (stderr, "append failed: %s\n", error->message);
  } else if (run->print) {
    printf ("%s %s\n", r->id, r->hash);
    fflush (stdout);
  }
  if (run->target == 0 || run->submitted < run->target)
    submit_one (run);
  if (run->target && run->completed == run->target)
    g_main_loop_quit (run->loop);
}

static void
submit_one (Run *run)
{
  ConsentLedgerEntry e;
  fill_entry (&e, run->submitted++);
  consent_ledger_append_async (run->ledger, &e, NULL, on_done, run);
}

static int
run_appends (const char *state, guint n, gboolean print)
{
  g_autoptr (GError) error = NULL;
  Run run = {.target = n, .print = print};
  run.ledger = consent_ledger_open (state, NULL, &error);
  if (!run.ledger) {
    fprintf (stderr, "open: %s\n", error->message);
    return 2;
  }
  run.loop = g_main_loop_new (NULL, FALSE);
  for (guint i = 0; (n > 0 || print) && i < 16 && (n == 0 || i < n); i++)
    submit_one (&run);
  if (n > 0 || print)
    g_main_loop_run (run.loop);
  g_main_loop_unref (run.loop);
  gboolean ok = consent_ledger_close (run.ledger, &error);
  g_object_unref (run.ledger);
  if (!ok)
    fprintf (stderr, "close: %s\n", error->message);
  return ok && run.failed == 0 ? 0 : 1;
}

static int
list (const char *state)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *ledger = g_build_filename (state, "ledger", NULL);
  g_autoptr (ConsentLedgerReader) reader = consent_ledger_reader_new (ledger, NULL, &error);
  if (!reader) {
    fprintf (stderr, "%s\n", error->message);
    return 2;
  }
  for (;;) {
    g_autoptr (ConsentLedgerRecord) r = NULL;
    if (!consent_ledger_reader_next (reader, &r, &error)) {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
    if (!r)
      return 0;
    printf ("%s %s\n", r->id, r->hash);
  }
}

int
main (int argc, char **argv)
{
  if (argc < 3) {
    fprintf (stderr, "usage: ledger-helper write|crash|open|list STATE [N]\n");
    return 2;
  }
  if (g_str_equal (argv[1], "write") && argc == 4)
    return run_appends (argv[2], (guint) atoi (argv[3]), FALSE);
  if (g_str_equal (argv[1], "crash"))
    return run_appends (argv[2], 0, TRUE);
  if (g_str_equal (argv[1], "open"))
    return run_appends (argv[2], 0, FALSE);
  if (g_str_equal (argv[1], "list"))
    return list (argv[2]);
  fprintf (stderr, "unknown mode %s\n", argv[1]);
  return 2;
}
