/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* consent-selfcheck: prints a policy and runs the consent rules through a
 * scripted meeting, so an administrator can see what the policy means.
 *
 *   consent-selfcheck [POLICY-FILE]
 *
 * Exit status 0 only if every step decided as expected. */
#include "consent.h"

#include <stdio.h>
#include <stdlib.h>

static void
print_policy (const ConsentPolicy *p)
{
  const ConsentNotice *n = p->notice;
  g_autofree char *roots = g_strjoinv (", ", p->storage_roots);

  printf ("Policy\n");
  printf ("  scope:              %s\n", consent_scope_name (p->scope));
  printf ("  late join:          %s\n", consent_late_join_name (p->late_join));
  printf ("  reuse on rejoin:    %s\n", p->reuse_on_rejoin ? "yes" : "no");
  printf ("  answer timeout:     %u s\n", p->answer_timeout_s);
  printf ("  storage roots:      %s\n", roots);
  printf ("  network filesystems: %s\n", p->allow_network_filesystems ? "allowed" : "refused");
  printf ("  ledger retention:   %u days\n", p->ledger_retention_days);
  printf ("Notice (version %s, sha256 %.16s…)\n", n->version, n->sha256);
  printf ("  controller: %s\n  purpose:    %s\n  storage:    %s\n  retention:  %u days\n",
          n->controller, n->purpose, n->storage, n->retention_days);
  printf ("  text:       %s\n\n", n->text);
}

static void
on_decision (ConsentMeeting *m, const char *participant, ConsentGateDecision *d, gpointer data)
{
  if (participant == NULL)
    printf ("    decision: %s (%s), epoch %" G_GUINT64_FORMAT "\n", d->open ? "open" : "closed",
            d->reason, d->epoch);
}

static gboolean
expect (ConsentMeeting *m, const char *step, gboolean want_open)
{
  g_autoptr (ConsentGateDecision) d = consent_meeting_get_decision (m, NULL);
  gboolean ok = d->open == want_open;

  printf ("  %-44s %s (%s) %s\n", step, d->open ? "open" : "closed", d->reason,
          ok ? "ok" : "UNEXPECTED");
  return ok;
}

static gboolean
accept (ConsentMeeting *m, const char *who)
{
  g_autoptr (GError) error = NULL;
  ConsentNotice *n = consent_meeting_get_notice (m);

  if (!consent_meeting_answer (m, who, TRUE, n->version, consent_meeting_get_request_id (m), NULL,
                               &error)) {
    printf ("  %s could not accept: %s\n", who, error->message);
    return FALSE;
  }
  return TRUE;
}

static gboolean
run_script (ConsentPolicy *policy)
{
  g_autoptr (ConsentMemoryRecorder) rec = consent_memory_recorder_new (TRUE);
  g_autoptr (ConsentMeeting) m = consent_meeting_new ("selfcheck", policy, CONSENT_RECORDER (rec));
  gboolean ok = TRUE;

  g_signal_connect (m, "decision-changed", G_CALLBACK (on_decision), NULL);
  printf ("Scripted meeting\n");
  ok &= consent_meeting_join (m, "alice", "Alice", "host", NULL, NULL);
  ok &= consent_meeting_join (m, "bob", "Bob", "guest", NULL, NULL);
  ok &= expect (m, "alice and bob join", FALSE);
  ok &= consent_meeting_request_recording (m, "admin", NULL);
  ok &= expect (m, "recording requested", FALSE);
  ok &= accept (m, "alice");
  ok &= expect (m, "alice accepts", FALSE);
  ok &= accept (m, "bob");
  ok &= expect (m, "bob accepts", TRUE);
  ok &= consent_meeting_join (m, "carol", "Carol", "guest", NULL, NULL);
  ok &= expect (m, "carol joins late", FALSE);
  if (policy->late_join == CONSENT_LATE_JOIN_STOP) {
    ok &= consent_meeting_request_recording (m, "admin", NULL);
    ok &= accept (m, "alice") & accept (m, "bob");
  }
  ok &= accept (m, "carol");
  ok &= expect (m, "carol accepts", TRUE);
  ok &= consent_meeting_withdraw (m, "bob", NULL, NULL);
  ok &= expect (m, "bob withdraws", FALSE);
  printf ("  %u ledger events recorded\n", consent_memory_recorder_get_events (rec)->len);
  return ok;
}

int
main (int argc, char **argv)
{
  g_autoptr (ConsentPolicy) policy = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
    fprintf (stderr, "usage: %s [POLICY-FILE]\n", argv[0]);
    return 2;
  }
  policy = argc == 2 ? consent_policy_load_file (argv[1], &error) : consent_policy_new_default (NULL);
  if (policy == NULL) {
    fprintf (stderr, "%s\n", error->message);
    return 1;
  }
  print_policy (policy);
  ok = run_script (policy);
  printf ("\n%s\n", ok ? "selfcheck passed" : "selfcheck FAILED");
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
