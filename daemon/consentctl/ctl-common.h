/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-common.h: what every consentctl verb shares — exit codes, the
 * --state-dir option and its default, option parsing with --help, and
 * error printing. A verb is `int verb_main (int argc, char **argv)` with
 * argv[0] the verb's name; it returns the process exit code.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

enum {
  CTL_EXIT_OK = 0,      /* done; for audits: intact */
  CTL_EXIT_FINDING = 1, /* tampering or inconsistency found */
  CTL_EXIT_USAGE = 2,   /* usage or I/O error */
};

typedef struct {
  char *state_dir; /* --state-dir, defaulted by ctl_parse() */
} CtlCommon;

void ctl_common_clear (CtlCommon *common);

/**
 * ctl_parse:
 * Parses @argv with @entries plus --state-dir, --help on every verb.
 * @summary: one line shown by --help. Leaves only the verb name and positional
 * arguments in @argv. Returns FALSE (message printed) on a usage error.
 */
gboolean ctl_parse (int *argc, char ***argv, const char *usage, const char *summary,
                    const GOptionEntry *entries, CtlCommon *common);

/* `<state>/<name>` */
char *ctl_state_path (const CtlCommon *common, const char *name);

/* Prints "consentctl: <message>" to stderr. */
void ctl_printerr (const char *fmt, ...) G_GNUC_PRINTF (1, 2);
/* Prints @error's message and returns the exit code for it (2). */
int ctl_fail (const GError *error);

G_END_DECLS
