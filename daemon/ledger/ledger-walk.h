/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ledger-walk.h: walking the chain of a ledger directory (private).
 * Shared by open (recovery), the reader and the verifier so the three agree
 * on what a well-formed ledger is: segment order, contiguous seq, the prev
 * chain across segments, each hash, one key epoch per segment (strictly
 * increasing), an `epoch` record first in every segment, and a start that is
 * seq 0 or justified by a later prune record.
 */
#pragma once

#include "ledger-record.h"

G_BEGIN_DECLS

#define LEDGER_SEGMENT_PREFIX "seg-"
#define LEDGER_SEGMENT_SUFFIX ".jsonl"
#define LEDGER_MAX_SEGMENT_FILE (G_GUINT64_CONSTANT (1) << 32)

char *ledger_segment_name (guint64 first_seq);
/* Sorted segment file names of @dir. */
GPtrArray *ledger_segments_list (const char *dir, GError **error);

typedef struct _LedgerWalker LedgerWalker;

typedef struct {
  const LedgerLine *line;   /* checked line (hash ok); see ledger_line_check() */
  const char *segment;      /* file name */
  guint line_no;            /* 1-based */
  gboolean first_in_segment;
} LedgerStep;

/* @want_json: parse every record with json-c too (LedgerLine.json), for decoding. */
LedgerWalker *ledger_walker_new (const char *dir, gboolean want_json, GError **error);
void ledger_walker_free (LedgerWalker *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LedgerWalker, ledger_walker_free)

/*
 * Next record, checked against the chain. Returns TRUE with *@done FALSE and
 * @step filled; TRUE with *@done TRUE at the end (after the end-of-log checks);
 * FALSE with @error (CONSENT_LEDGER_ERROR_CORRUPT naming file, line, seq and
 * why, or _IO) otherwise. The details of the failure are also kept in the
 * walker (ledger_walker_get_failure()).
 */
gboolean ledger_walker_next (LedgerWalker *w, LedgerStep *step, gboolean *done, GError **error);

/* After the end: a torn last line (no newline) in the last segment, if any. */
gboolean ledger_walker_get_torn (LedgerWalker *w, const char **segment, gsize *offset,
                                 const char **bytes, gsize *len);
/* After the end: whether any record was seen, last seq/hash/key epoch, segment count. */
gboolean ledger_walker_get_last (LedgerWalker *w, guint64 *seq, const char **hash,
                                 guint64 *key_epoch);
guint ledger_walker_get_n_segments (LedgerWalker *w);
const char *ledger_walker_get_last_segment (LedgerWalker *w);
guint64 ledger_walker_get_first_seq (LedgerWalker *w);
/* Where the walk failed: file, line (0 = none), seq (has_seq), reason. */
void ledger_walker_get_failure (LedgerWalker *w, const char **file, guint *line,
                                gboolean *has_seq, guint64 *seq, const char **reason);

G_END_DECLS
