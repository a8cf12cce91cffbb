/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ledger-canon.h: the ledger's canonical JSON serialization (private).
 * Byte-exact so that hashes are reproducible: object keys sorted by byte
 * value, no whitespace, minimal string escapes. docs/ledger.md has the rules.
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>

G_BEGIN_DECLS

/* Appends the canonical form of @obj to @out; FALSE (with @error) for values
 * that have no canonical form (invalid UTF-8, non-finite numbers). */
gboolean ledger_canon_append (GString *out, json_object *obj, GError **error);
/* Appends a canonical JSON string literal (quotes included) of valid UTF-8 @s. */
void ledger_canon_append_string (GString *out, const char *s, gsize len);

/* Parses one JSON object or array from exactly @len bytes (no trailing bytes),
 * with a depth limit; NULL with @error (CONSENT_LEDGER_ERROR_INVALID) otherwise.
 * The _with variant reuses a tokener (hot loops). */
json_object *ledger_json_parse (const char *data, gsize len, int max_depth, GError **error);
json_object *ledger_json_parse_with (json_tokener *tok, const char *data, gsize len,
                                     GError **error);

G_END_DECLS
