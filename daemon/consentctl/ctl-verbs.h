/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ctl-verbs.h: the ledger verbs of consentctl (ctl-audit.c, ctl-subject.c). */
#pragma once

#include "ledger-verify.h"

G_BEGIN_DECLS

int ctl_audit_verify_main (int argc, char **argv);
int ctl_audit_export_main (int argc, char **argv);
int ctl_audit_checkpoint_main (int argc, char **argv);
int ctl_subject_erase_main (int argc, char **argv);
int ctl_subject_export_main (int argc, char **argv);

/* Shared by the export verbs. */
gboolean ctl_parse_format (const char *name, ConsentLedgerExportFormat *out);
int ctl_export_to_stdout (const char *ledger_dir, const char *keys_dir, const char *meeting,
                          const char *subject, ConsentLedgerExportFormat format);

G_END_DECLS
