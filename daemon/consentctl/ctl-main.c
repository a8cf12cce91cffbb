/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-main.c: consentctl — the administrator's and auditor's tool.
 * `consentctl GROUP [VERB] [OPTIONS]`; the verb table below is the whole
 * command surface. Exit codes: 0 ok, 1 finding (tampering), 2 usage or I/O.
 */
#include "consent-config.h"
#include "ctl-common.h"
#include "ctl-verbs.h"
#ifdef CTL_WITH_ADMIN_VERBS
#include "ctl-admin.h"
#endif

#include <locale.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  const char *group;
  const char *verb; /* NULL: the group is the verb (e.g. "status") */
  int (*run) (int argc, char **argv);
  const char *summary;
} CtlVerb;

static const CtlVerb verbs[] = {
  {"audit", "verify", ctl_audit_verify_main, "check the ledger for tampering (exit 0/1/2)"},
  {"audit", "export", ctl_audit_export_main, "one meeting's or subject's records (json, csv)"},
  {"audit", "checkpoint", ctl_audit_checkpoint_main,
   "print the latest signed checkpoint, to keep elsewhere as a witness"},
#ifdef CTL_WITH_ADMIN_VERBS
  {"audit", "report", ctl_report_main, "an HTML report with a timeline of one meeting"},
  {"status", NULL, ctl_status_main, "one meeting's gate and answers, from consentd"},
  {"token", NULL, ctl_token_main, "issue a participant or recorder token"},
  {"retention", "prune", ctl_retention_main, "delete ledger segments and recordings past retention"},
#endif
  {"subject", "export", ctl_subject_export_main, "one person's consent history"},
  {"subject", "erase", ctl_subject_erase_main,
   "destroy a person's key: their personal data becomes unreadable"},
};

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage: consentctl COMMAND [OPTIONS]   (COMMAND --help for its options)\n\n");
  for (gsize i = 0; i < G_N_ELEMENTS (verbs); i++) {
    g_autofree char *name = g_strjoin (" ", verbs[i].group, verbs[i].verb, NULL);
    fprintf (out, "  %-20s %s\n", name, verbs[i].summary);
  }
  fprintf (out, "\nExit status: 0 ok, 1 tampering or inconsistency found, 2 usage or I/O "
                "error.\n");
}

static const CtlVerb *
find_verb (const char *group, const char *verb, gboolean *group_known)
{
  *group_known = FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (verbs); i++) {
    if (!g_str_equal (verbs[i].group, group))
      continue;
    *group_known = TRUE;
    if (verbs[i].verb == NULL || (verb && g_str_equal (verbs[i].verb, verb)))
      return &verbs[i];
  }
  return NULL;
}

int
main (int argc, char **argv)
{
  gboolean group_known;
  setlocale (LC_ALL, "");
  g_set_prgname ("consentctl");
  if (argc < 2 || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") ||
      g_str_equal (argv[1], "help")) {
    print_usage (argc < 2 ? stderr : stdout);
    return argc < 2 ? CTL_EXIT_USAGE : CTL_EXIT_OK;
  }
  if (g_str_equal (argv[1], "--version")) {
    printf ("consentctl %s\n", CONSENT_VERSION);
    return CTL_EXIT_OK;
  }
  const CtlVerb *v = find_verb (argv[1], argc > 2 ? argv[2] : NULL, &group_known);
  if (!v) {
    if (group_known)
      ctl_printerr ("'%s' needs a verb: %s", argv[1],
                    argc > 2 ? "unknown verb (see consentctl --help)" : "see consentctl --help");
    else
      ctl_printerr ("unknown command '%s' (see consentctl --help)", argv[1]);
    return CTL_EXIT_USAGE;
  }
  /* the verb sees itself as argv[0] */
  int skip = v->verb ? 2 : 1;
  return v->run (argc - skip, argv + skip);
}
