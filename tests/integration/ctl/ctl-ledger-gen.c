/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-ledger-gen.c: writes a ledger with known content for the consentctl
 * tests, through the ledger library itself (never by hand), so reports,
 * erasure and retention are tested against the real format.
 *
 *   ctl-ledger-gen --state-dir DIR --policy FILE report T0_S
 *     one meeting ("m-report") with a late joiner, a decline, a withdrawal,
 *     two gate intervals and two segments, at T0_S + fixed offsets (seconds);
 *     plus one record of another meeting that the report must leave out.
 *   ctl-ledger-gen --state-dir DIR --policy FILE old-segment T0_S MEETING
 *     one ledger session (one segment) of three records at T0_S.
 */
#include "ledger.h"
#include "consent-policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_USAGE 2

typedef struct {
  ConsentLedger *ledger;
  gint64 t0_us;
  const ConsentNotice *notice;
  const char *meeting;
} Gen;

/* Appends one record at T0 + @offset_s; returns its record id (owned by the caller). */
static char *
put (Gen *gen, int offset_s, ConsentLedgerEntry entry)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ConsentLedgerReceipt) receipt = NULL;

  entry.ts_us = gen->t0_us + (gint64) offset_s * G_USEC_PER_SEC;
  if (entry.meeting == NULL)
    entry.meeting = gen->meeting;
  if (entry.notice_version == NULL && gen->notice != NULL) {
    entry.notice_version = gen->notice->version;
    entry.notice_sha256 = gen->notice->sha256;
  }
  receipt = consent_ledger_append_sync (gen->ledger, &entry, &error);
  if (receipt == NULL) {
    g_printerr ("ctl-ledger-gen: appending %s: %s\n", entry.type, error->message);
    exit (1);
  }
  return g_strdup (receipt->id);
}

static char *
segment_details (Gen *gen, int start_s, int end_s, guint64 epoch, const char *sha256,
                 const char *authorized_by)
{
  g_autoptr (GDateTime) start =
      g_date_time_new_from_unix_utc (gen->t0_us / G_USEC_PER_SEC + start_s);
  g_autoptr (GDateTime) end = g_date_time_new_from_unix_utc (gen->t0_us / G_USEC_PER_SEC + end_s);
  g_autofree char *start_text = g_date_time_format_iso8601 (start);
  g_autofree char *end_text = g_date_time_format_iso8601 (end);

  return g_strdup_printf ("{\"authorized-by\":[%s],\"end\":\"%s\",\"epoch\":%" G_GUINT64_FORMAT
                          ",\"path\":\"/srv/rec/%s/%s-e%" G_GUINT64_FORMAT
                          ".mkv\",\"sha256\":\"%s\",\"size\":%d,\"start\":\"%s\"}",
                          authorized_by, end_text, epoch, gen->meeting, gen->meeting, epoch,
                          sha256, 1000 + (int) epoch, start_text);
}

static void
scenario_report (Gen *gen)
{
  const char *bob_name = "<script>alert(\"x\")</script> & Bob <b>bold</b>";
  const char *present_ab[] = {"alice", "bob", NULL};
  const char *present_abc[] = {"alice", "bob", "carol", NULL};
  g_autofree char *accept_a = NULL, *accept_b = NULL, *ids = NULL, *seg1 = NULL, *seg2 = NULL;
  g_autofree char *ignored = NULL;

  g_free (put (gen, 0, (ConsentLedgerEntry){.type = "meeting-updated", .actor = "admin",
                                            .channel = "admin-api"}));
  g_free (put (gen, 1, (ConsentLedgerEntry){.type = "join", .participant = "alice",
                                            .display_name = "Alice Example", .role = "host",
                                            .actor = "admin", .channel = "admin-api"}));
  g_free (put (gen, 2, (ConsentLedgerEntry){.type = "join", .participant = "bob",
                                            .display_name = bob_name, .role = "guest",
                                            .actor = "admin", .channel = "admin-api"}));
  g_free (put (gen, 3, (ConsentLedgerEntry){.type = "notice-shown", .participant = "alice",
                                            .actor = "participant", .channel = "ws"}));
  g_free (put (gen, 3, (ConsentLedgerEntry){.type = "notice-shown", .participant = "bob",
                                            .actor = "participant", .channel = "web"}));
  ignored = put (gen, 5, (ConsentLedgerEntry){.type = "join", .meeting = "m-other",
                                              .participant = "dave", .display_name = "Dave",
                                              .actor = "admin"});
  g_free (put (gen, 10, (ConsentLedgerEntry){.type = "request", .request_id = "r1",
                                             .actor = "admin", .channel = "admin-api"}));
  accept_a = put (gen, 20, (ConsentLedgerEntry){.type = "accept", .participant = "alice",
                                                .request_id = "r1", .actor = "participant",
                                                .channel = "ws", .client = "test-client/1"});
  accept_b = put (gen, 30, (ConsentLedgerEntry){.type = "accept", .participant = "bob",
                                                .request_id = "r1", .actor = "participant",
                                                .channel = "web", .ip = "127.0.0.1"});
  {
    const char *auth[] = {accept_a, accept_b, NULL};

    ids = g_strdup_printf ("\"%s\",\"%s\"", accept_a, accept_b);
    g_free (put (gen, 31, (ConsentLedgerEntry){.type = "gate-opened", .actor = "system",
                                               .has_epoch = TRUE, .epoch = 1,
                                               .reason = "all-accepted", .authorized_by = auth,
                                               .present = present_ab}));
    g_free (put (gen, 40, (ConsentLedgerEntry){.type = "join", .participant = "carol",
                                               .display_name = "Carol", .role = "guest",
                                               .actor = "admin", .channel = "admin-api"}));
    g_free (put (gen, 40, (ConsentLedgerEntry){.type = "gate-closed", .actor = "system",
                                               .has_epoch = TRUE, .epoch = 1,
                                               .reason = "late-join", .present = present_abc}));
    seg1 = segment_details (gen, 31, 40, 1, "aa11", ids);
    g_free (put (gen, 41, (ConsentLedgerEntry){.type = "segment", .actor = "recorder",
                                               .has_epoch = TRUE, .epoch = 1,
                                               .authorized_by = auth, .details_json = seg1}));
    g_free (put (gen, 50, (ConsentLedgerEntry){.type = "decline", .participant = "carol",
                                               .request_id = "r1", .actor = "participant",
                                               .channel = "ws"}));
    g_free (put (gen, 60, (ConsentLedgerEntry){.type = "leave", .participant = "carol",
                                               .actor = "admin", .channel = "admin-api"}));
    g_free (put (gen, 61, (ConsentLedgerEntry){.type = "gate-opened", .actor = "system",
                                               .has_epoch = TRUE, .epoch = 2,
                                               .reason = "all-accepted", .authorized_by = auth,
                                               .present = present_ab}));
    g_free (put (gen, 80, (ConsentLedgerEntry){.type = "withdraw", .participant = "alice",
                                               .actor = "participant", .channel = "ws"}));
    g_free (put (gen, 80, (ConsentLedgerEntry){.type = "gate-closed", .actor = "system",
                                               .has_epoch = TRUE, .epoch = 2,
                                               .reason = "withdrawn", .present = present_ab}));
    seg2 = segment_details (gen, 61, 80, 2, "bb22", ids);
    g_free (put (gen, 81, (ConsentLedgerEntry){.type = "segment", .actor = "recorder",
                                               .has_epoch = TRUE, .epoch = 2,
                                               .authorized_by = auth, .details_json = seg2}));
  }
  g_free (put (gen, 90, (ConsentLedgerEntry){.type = "recording-stop", .actor = "admin",
                                             .channel = "admin-api"}));
  g_free (put (gen, 95, (ConsentLedgerEntry){.type = "meeting-ended", .actor = "admin",
                                             .channel = "admin-api"}));
}

static void
scenario_old_segment (Gen *gen)
{
  g_free (put (gen, 0, (ConsentLedgerEntry){.type = "meeting-updated", .actor = "admin"}));
  g_free (put (gen, 1, (ConsentLedgerEntry){.type = "join", .participant = "erin",
                                            .display_name = "Erin", .actor = "admin"}));
  g_free (put (gen, 2, (ConsentLedgerEntry){.type = "meeting-ended", .actor = "admin"}));
}

int
main (int argc, char **argv)
{
  g_autofree char *state_dir = NULL, *policy_file = NULL;
  GOptionEntry entries[] = {
    {"state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir, "State directory", "DIR"},
    {"policy", 0, 0, G_OPTION_ARG_FILENAME, &policy_file, "Policy (for the notice)", "FILE"},
    {NULL},
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("SCENARIO T0_S [MEETING]");
  g_autoptr (GError) error = NULL;
  g_autoptr (ConsentPolicy) policy = NULL;
  g_autoptr (ConsentLedger) ledger = NULL;
  Gen gen = {0};

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || state_dir == NULL ||
      policy_file == NULL || argc < 3) {
    g_printerr ("usage: ctl-ledger-gen --state-dir DIR --policy FILE report|old-segment T0_S "
                "[MEETING]\n");
    return EXIT_USAGE;
  }
  policy = consent_policy_load_file (policy_file, &error);
  ledger = policy != NULL ? consent_ledger_open (state_dir, NULL, &error) : NULL;
  if (ledger == NULL) {
    g_printerr ("ctl-ledger-gen: %s\n", error->message);
    return 1;
  }
  gen = (Gen){.ledger = ledger, .t0_us = g_ascii_strtoll (argv[2], NULL, 10) * G_USEC_PER_SEC,
              .notice = policy->notice};
  if (strcmp (argv[1], "report") == 0) {
    gen.meeting = "m-report";
    scenario_report (&gen);
  } else if (strcmp (argv[1], "old-segment") == 0 && argc == 4) {
    gen.meeting = argv[3];
    scenario_old_segment (&gen);
  } else {
    g_printerr ("ctl-ledger-gen: unknown scenario '%s'\n", argv[1]);
    return EXIT_USAGE;
  }
  if (!consent_ledger_close (ledger, &error)) {
    g_printerr ("ctl-ledger-gen: %s\n", error->message);
    return 1;
  }
  return 0;
}
