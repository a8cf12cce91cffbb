/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ctl-common.c: state directory, option parsing and errors for every verb. */
#include "ctl-common.h"
#include "ledger.h"

#include <stdio.h>

void
ctl_common_clear (CtlCommon *common)
{
  g_clear_pointer (&common->state_dir, g_free);
}

gboolean
ctl_parse (int *argc, char ***argv, const char *usage, const char *summary,
           const GOptionEntry *entries, CtlCommon *common)
{
  const GOptionEntry common_entries[] = {
    {"state-dir", 0, 0, G_OPTION_ARG_FILENAME, &common->state_dir,
     "State directory (default: $XDG_STATE_HOME/consentgate, else "
     "~/.local/state/consentgate)", "DIR"},
    {NULL},
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (usage);
  g_autoptr (GError) error = NULL;
  g_option_context_set_summary (ctx, summary);
  g_option_context_add_main_entries (ctx, common_entries, NULL);
  if (entries)
    g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, argc, argv, &error)) {
    ctl_printerr ("%s (see --help)", error->message);
    return FALSE;
  }
  if (!common->state_dir)
    common->state_dir = consent_ledger_default_state_dir ();
  return TRUE;
}

char *
ctl_state_path (const CtlCommon *common, const char *name)
{
  return g_build_filename (common->state_dir, name, NULL);
}

void
ctl_printerr (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  fprintf (stderr, "consentctl: %s\n", msg);
}

int
ctl_fail (const GError *error)
{
  ctl_printerr ("%s", error->message);
  return CTL_EXIT_USAGE;
}
