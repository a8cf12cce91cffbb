/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ledger-scan.h: a one-pass, allocation-free check that a ledger line is
 * canonical JSON (docs/ledger.md §3: no whitespace, members sorted and unique,
 * strict strings and numbers) that also finds the top-level members the
 * chain needs. It is what makes verification fast; decoding records still
 * goes through json-c (private).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const char *p;
  gsize len;
} LedgerSpan;

typedef struct {
  /* raw value text: strings without their quotes */
  LedgerSpan v, seq, ts, type, key_epoch, prev, hash, mac;
  /* where the `"hash":"…",` and `"mac":"…",` members are (comma included) */
  gsize hash_member, hash_member_len, mac_member, mac_member_len;
} LedgerScan;

/* FALSE with a static reason in *@why if @line is not a canonical JSON object. */
gboolean ledger_scan_line (const char *line, gsize len, int max_depth, LedgerScan *out,
                           const char **why);

G_END_DECLS
