/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ctl-subject.c: `consentctl subject export|erase` (a person's rights). */
#include "ctl-common.h"
#include "ctl-verbs.h"
#include "ledger-reader.h"

#include <stdio.h>

typedef struct {
  CtlCommon common;
  char *participant;
  char *subject;
  char *format;
} SubjectOptions;

static void
subject_options_clear (SubjectOptions *o)
{
  ctl_common_clear (&o->common);
  g_free (o->participant);
  g_free (o->subject);
  g_free (o->format);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SubjectOptions, subject_options_clear)

static gboolean
parse_subject_options (int *argc, char ***argv, SubjectOptions *o, gboolean with_format,
                       const char *usage, const char *summary)
{
  const GOptionEntry entries[] = {
    {"participant", 0, 0, G_OPTION_ARG_STRING, &o->participant,
     "The person by their conference participant id", "P"},
    {"subject", 0, 0, G_OPTION_ARG_STRING, &o->subject,
     "The person by their ledger pseudonym", "S"},
    {with_format ? "format" : NULL, 0, 0, G_OPTION_ARG_STRING, &o->format,
     "json (JSON lines, default) or csv", "FMT"},
    {NULL},
  };
  if (!ctl_parse (argc, argv, usage, summary, entries, &o->common))
    return FALSE;
  if ((o->participant == NULL) == (o->subject == NULL) || *argc > 1) {
    ctl_printerr ("give exactly one of --participant P or --subject S");
    return FALSE;
  }
  return TRUE;
}

int
ctl_subject_export_main (int argc, char **argv)
{
  g_auto (SubjectOptions) o = {0};
  g_autoptr (GError) error = NULL;
  ConsentLedgerExportFormat format;
  if (!parse_subject_options (&argc, &argv, &o, TRUE, "- export one person's consent history",
                              "Every record naming the person, with their personal data "
                              "where their key still exists.") ||
      !ctl_parse_format (o.format, &format))
    return CTL_EXIT_USAGE;
  g_autofree char *keys = ctl_state_path (&o.common, "keys");
  g_autofree char *ledger = ctl_state_path (&o.common, "ledger");
  if (o.participant &&
      !(o.subject = consent_ledger_keys_lookup_subject (keys, o.participant, &error)))
    return ctl_fail (error);
  return ctl_export_to_stdout (ledger, keys, NULL, o.subject, format);
}

int
ctl_subject_erase_main (int argc, char **argv)
{
  g_auto (SubjectOptions) o = {0};
  g_autoptr (GError) error = NULL;
  if (!parse_subject_options (&argc, &argv, &o, FALSE, "- erase one person's personal data",
                              "Destroys the person's key in STATE/keys and records the "
                              "erasure; the ledger still verifies. Needs the ledger to "
                              "itself (stop consentd first)."))
    return CTL_EXIT_USAGE;
  g_autoptr (ConsentLedger) ledger = consent_ledger_open (o.common.state_dir, NULL, &error);
  if (!ledger)
    return ctl_fail (error);
  g_autoptr (ConsentLedgerReceipt) receipt =
      consent_ledger_erase_subject (ledger, o.participant, o.subject, "admin", &error);
  if (!receipt || !consent_ledger_close (ledger, &error))
    return ctl_fail (error);
  printf ("erased: key destroyed; erase record %s, hash %s\n", receipt->id, receipt->hash);
  return CTL_EXIT_OK;
}
