/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ledger-record.h: building, sealing and checking one ledger line (private).
 *
 * A line is the canonical JSON of a record. Its `mac` is HMAC-SHA256 under
 * the epoch key over the line without the `"hash":"…",` and `"mac":"…",`
 * members; its `hash` is SHA-256 over the line without the `"hash":"…",`
 * member (so the hash also covers the mac). See docs/ledger.md.
 */
#pragma once

#include "ledger.h"
#include "ledger-crypto.h"
#include <json-c/json.h>

G_BEGIN_DECLS

#define LEDGER_FORMAT_VERSION 1
#define LEDGER_ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define LEDGER_MAX_DEPTH 16

/* Types the ledger writes itself; callers may not append them. */
#define LEDGER_TYPE_EPOCH "epoch"
#define LEDGER_TYPE_RECOVERED "recovered"
#define LEDGER_TYPE_ERASE "erase"
#define LEDGER_TYPE_PRUNE "prune"

/* Deep copies of caller entries (they cross to the writer thread). */
ConsentLedgerEntry *ledger_entry_copy (const ConsentLedgerEntry *entry);
void ledger_entry_free (ConsentLedgerEntry *entry);
/* Checks types, sizes and UTF-8; @internal allows the ledger's own types. */
gboolean ledger_entry_validate (const ConsentLedgerEntry *entry, gboolean internal,
                                GError **error);

/* Everything but the seal: what the writer thread fills in per record. */
typedef struct {
  guint64 seq;
  gint64 ts_us;
  guint64 key_epoch;
  const char *prev;
  const char *subject;           /* nullable */
  const char *pd;                /* nullable: sealed personal data */
  const char *const *present;    /* nullable: subjects */
} LedgerRecordFrame;

/* Builds the unsealed record object (no hash, no mac). */
json_object *ledger_record_build (const ConsentLedgerEntry *entry, const LedgerRecordFrame *frame,
                                  GError **error);
/* Seals @record in place (adds mac and hash) and appends its line + '\n' to @out. */
gboolean ledger_record_seal (json_object *record, const guint8 key[LEDGER_KEY_BYTES],
                             GString *out, char hash_out[LEDGER_HASH_HEX + 1], GError **error);

/* The plaintext of `pd`: canonical JSON of the personal fields. */
char *ledger_pd_plaintext (const char *participant, const char *display_name,
                           const char *client, const char *ip);
/* The associated data binding `pd` to its record position. */
char *ledger_pd_aad (guint64 seq);

/* A checked line. Pointers are valid until the next check with the same checker. */
typedef struct {
  json_object *json;   /* parsed record if the checker wants JSON, and always for
                          epoch and prune records; owned by the checker */
  guint64 seq;
  gint64 ts_us;
  char type[33];
  guint64 key_epoch;
  char prev[LEDGER_HASH_HEX + 1];
  char hash[LEDGER_HASH_HEX + 1];
  guint8 mac[32];
  const char *mac_input; /* the bytes the mac covers */
  gsize mac_input_len;
} LedgerLine;

typedef struct _LedgerLineChecker LedgerLineChecker;
/* @want_json: also parse every line with json-c (readers that decode). */
LedgerLineChecker *ledger_line_checker_new (gboolean want_json);
void ledger_line_checker_free (LedgerLineChecker *checker);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LedgerLineChecker, ledger_line_checker_free)

/*
 * Parses @line (without its '\n'), checks the required fields and that the
 * hash matches the content. FALSE with a reason in @error otherwise.
 * The parsed object stays owned by the checker (steal it with json_object_get).
 */
gboolean ledger_line_check (LedgerLineChecker *checker, const char *line, gsize len,
                            LedgerLine *out, GError **error);
/* Whether @line's mac is right under @key (after ledger_line_check). */
gboolean ledger_line_mac_ok (const LedgerLine *line, LedgerMac *key);

/* Small typed getters over a parsed record: NULL / FALSE when absent or mistyped. */
const char *ledger_json_str (json_object *obj, const char *key);
gboolean ledger_json_u64 (json_object *obj, const char *key, guint64 *out);

G_END_DECLS
