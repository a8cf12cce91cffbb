/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ledger-verify.h: the offline audit of a ledger directory, and exports.
 * The algorithm is the one docs/ledger.md specifies step by step.
 */
#pragma once

#include "ledger.h"

G_BEGIN_DECLS

typedef struct {
  const char *ledger_dir;      /* required */
  const GBytes *key;           /* (nullable) the initial seal key (32 bytes): seals are checked */
  const char *witness;         /* (nullable) an exported checkpoint line kept elsewhere */
} ConsentLedgerVerifyOptions;

typedef struct {
  gboolean intact;             /* no tampering or inconsistency found */
  gboolean seals_checked;      /* a key was given: every `mac` was checked */
  guint64 n_records;
  guint n_segments;
  guint n_checkpoints;         /* checkpoints whose signature was checked */
  gboolean witness_checked;
  gboolean has_records;
  guint64 first_seq, last_seq;
  char *last_hash;
  /* the first problem, when !intact */
  char *bad_file;              /* segment or checkpoint file name */
  guint bad_line;              /* 1-based; 0 if not about a line */
  gboolean bad_has_seq;
  guint64 bad_seq;
  char *bad_reason;
} ConsentLedgerVerifyResult;

void consent_ledger_verify_result_clear (ConsentLedgerVerifyResult *result);

/**
 * consent_ledger_verify:
 * Checks every segment: canonical records, contiguous seq, the prev chain
 * (across segments and prunes), each hash, key epochs, and — with a key —
 * each mac under the evolved epoch key; then the checkpoint signatures and,
 * with a witness, that the log still contains the witnessed size and root.
 * Returns: FALSE with @error only for usage or I/O problems (exit 2); else
 * TRUE with @result filled (exit 0 if result->intact, 1 if not).
 */
gboolean consent_ledger_verify (const ConsentLedgerVerifyOptions *options,
                                ConsentLedgerVerifyResult *result, GError **error);

/** consent_ledger_read_key_file: reads a 32-byte key file (hex or raw). */
GBytes *consent_ledger_read_key_file (const char *path, GError **error);

/**
 * consent_ledger_export_checkpoint:
 * The latest signed checkpoint of @ledger_dir as one line of text an
 * auditor stores elsewhere (the witness for a later verify --checkpoint).
 */
char *consent_ledger_export_checkpoint (const char *ledger_dir, GError **error);

typedef enum {
  CONSENT_LEDGER_EXPORT_JSON, /* JSON lines: decoded records */
  CONSENT_LEDGER_EXPORT_CSV,
} ConsentLedgerExportFormat;

/**
 * consent_ledger_export:
 * Writes the records of one meeting (@meeting) or one subject (@subject:
 * the records whose subject or present list names it) to @out. Personal
 * data appears only where the key store still holds the key; erased fields
 * are written as null (JSON) or empty (CSV) with `erased` true.
 * @n_out: (out) (optional): records written.
 */
gboolean consent_ledger_export (const char *ledger_dir, const char *keys_dir,
                                const char *meeting, const char *subject,
                                ConsentLedgerExportFormat format, GOutputStream *out,
                                guint64 *n_out, GError **error);

G_END_DECLS
