/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ledger-verify.c: the offline audit (docs/ledger.md, "Verifying a ledger"). */
#include "ledger-verify.h"
#include "ledger-checkpoint.h"
#include "ledger-fs.h"
#include "ledger-walk.h"

#include <openssl/crypto.h>
#include <string.h>

#define MAX_EPOCH_STEP G_GUINT64_CONSTANT (10000000)

void
consent_ledger_verify_result_clear (ConsentLedgerVerifyResult *r)
{
  g_free (r->last_hash);
  g_free (r->bad_file);
  g_free (r->bad_reason);
  memset (r, 0, sizeof *r);
}

GBytes *
consent_ledger_read_key_file (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  guint8 key[LEDGER_KEY_BYTES];
  if (!ledger_fs_read_small (path, 4096, &text, &len, error))
    return NULL;
  if (len == LEDGER_KEY_BYTES && !g_utf8_validate (text, (gssize) len, NULL)) {
    memcpy (key, text, LEDGER_KEY_BYTES);
  } else {
    g_strstrip (text);
    if (!ledger_unhex (text, strlen (text), key, sizeof key)) {
      OPENSSL_cleanse (text, len);
      g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_KEY,
                   "%s does not hold a 32-byte key (64 lowercase hex digits)", path);
      return NULL;
    }
  }
  OPENSSL_cleanse (text, len);
  GBytes *b = g_bytes_new (key, sizeof key);
  OPENSSL_cleanse (key, sizeof key);
  return b;
}

char *
consent_ledger_export_checkpoint (const char *ledger_dir, GError **error)
{
  g_autofree char *path = g_build_filename (ledger_dir, LEDGER_CHECKPOINT_FILE, NULL);
  g_autofree char *text = NULL;
  gsize len = 0;
  LedgerCheckpoint cp;
  if (!ledger_fs_read_small (path, 4096, &text, &len, error) ||
      !ledger_checkpoint_parse (text, len, &cp, error))
    return NULL;
  return g_strndup (text, strcspn (text, "\r\n"));
}

/* One checkpoint to hold the log against. */
typedef struct {
  const char *what; /* "checkpoint.json" or "witness checkpoint" */
  gboolean present;
  LedgerCheckpoint cp;
  gboolean root_seen;
} Claim;

typedef struct {
  const ConsentLedgerVerifyOptions *opts;
  ConsentLedgerVerifyResult *res;
  guint8 key[LEDGER_KEY_BYTES];
  guint64 key_epoch;
  LedgerMac *mac; /* for key_epoch */
  GHashTable *announced; /* checkpoint key hex -> present */
  Claim claims[2];
} Audit;

static void
bad (Audit *a, const char *file, guint line, gboolean has_seq, guint64 seq, const char *why)
{
  ConsentLedgerVerifyResult *r = a->res;
  if (!r->intact)
    return; /* keep the first problem */
  r->intact = FALSE;
  r->bad_file = g_strdup (file);
  r->bad_line = line;
  r->bad_has_seq = has_seq;
  r->bad_seq = seq;
  r->bad_reason = g_strdup (why);
}

static gboolean
load_claim (Audit *a, Claim *c, const char *what, const char *text, gsize len)
{
  g_autoptr (GError) local = NULL;
  c->what = what;
  if (!ledger_checkpoint_parse (text, len, &c->cp, &local)) {
    bad (a, what, 0, FALSE, 0, local->message);
    return FALSE;
  }
  c->present = TRUE;
  return TRUE;
}

static gboolean
load_claims (Audit *a, GError **error)
{
  g_autofree char *path = g_build_filename (a->opts->ledger_dir, LEDGER_CHECKPOINT_FILE, NULL);
  if (g_file_test (path, G_FILE_TEST_EXISTS)) {
    g_autofree char *text = NULL;
    gsize len = 0;
    if (!ledger_fs_read_small (path, 4096, &text, &len, error))
      return FALSE;
    load_claim (a, &a->claims[0], LEDGER_CHECKPOINT_FILE, text, len);
  }
  if (a->opts->witness)
    load_claim (a, &a->claims[1], "witness checkpoint", a->opts->witness,
                strlen (a->opts->witness));
  return TRUE;
}

static void
check_mac (Audit *a, const LedgerStep *s)
{
  const LedgerLine *l = s->line;
  if (l->key_epoch < a->key_epoch || l->key_epoch - a->key_epoch > MAX_EPOCH_STEP) {
    bad (a, s->segment, s->line_no, TRUE, l->seq, "implausible key epoch");
    return;
  }
  while (a->key_epoch < l->key_epoch) {
    ledger_key_evolve (a->key);
    a->key_epoch++;
    g_clear_pointer (&a->mac, ledger_mac_free);
  }
  if (!a->mac)
    a->mac = ledger_mac_new (a->key);
  if (!ledger_line_mac_ok (l, a->mac)) {
    g_autofree char *why = g_strdup_printf (
        "mac does not verify under the epoch %" G_GUINT64_FORMAT
        " key (record altered or re-sealed, or the wrong key was given)", l->key_epoch);
    bad (a, s->segment, s->line_no, TRUE, l->seq, why);
  }
}

static void
note_record (Audit *a, const LedgerStep *s)
{
  const LedgerLine *l = s->line;
  if (g_str_equal (l->type, "epoch")) {
    json_object *details = NULL;
    const char *k = NULL;
    if (json_object_object_get_ex (l->json, "details", &details))
      k = ledger_json_str (details, "checkpoint-key");
    if (k)
      g_hash_table_add (a->announced, g_strdup (k));
  }
  for (guint i = 0; i < G_N_ELEMENTS (a->claims); i++) {
    Claim *c = &a->claims[i];
    if (!c->present || c->cp.size == 0 || l->seq != c->cp.size - 1)
      continue;
    c->root_seen = TRUE;
    if (strcmp (l->hash, c->cp.root) != 0) {
      g_autofree char *why = g_strdup_printf (
          "the %s says record %" G_GUINT64_FORMAT " has hash %.12s…, the log has %.12s… "
          "(rolled back or rewritten)", c->what, l->seq, c->cp.root, l->hash);
      bad (a, s->segment, s->line_no, TRUE, l->seq, why);
    }
  }
}

static void
check_claims (Audit *a)
{
  ConsentLedgerVerifyResult *r = a->res;
  for (guint i = 0; i < G_N_ELEMENTS (a->claims); i++) {
    Claim *c = &a->claims[i];
    if (!c->present)
      continue;
    if (!g_hash_table_contains (a->announced, c->cp.key_hex)) {
      bad (a, c->what, 0, FALSE, 0,
           "signed by a key that no epoch record of this ledger announces");
      continue;
    }
    r->n_checkpoints++;
    if (i == 1)
      r->witness_checked = TRUE;
    if (c->cp.size == 0)
      continue;
    if (!r->has_records || c->cp.size - 1 > r->last_seq) {
      g_autofree char *why = g_strdup_printf (
          "the %s covers %" G_GUINT64_FORMAT " records but the log ends at %s (records "
          "removed from the end, or rolled back)", c->what, c->cp.size,
          r->has_records ? "an earlier seq" : "no record");
      bad (a, c->what, 0, TRUE, c->cp.size - 1, why);
    }
    /* a root pruned away is no longer checkable: the prune record vouches for it */
    (void) c->root_seen;
  }
}

static gboolean
walk (Audit *a, GError **error)
{
  ConsentLedgerVerifyResult *r = a->res;
  g_autoptr (GError) local = NULL;
  g_autoptr (LedgerWalker) w = ledger_walker_new (a->opts->ledger_dir, FALSE, error);
  LedgerStep s;
  gboolean done = FALSE;
  if (!w)
    return FALSE;
  while (!done && r->intact) {
    if (!ledger_walker_next (w, &s, &done, &local)) {
      const char *file, *reason;
      guint line;
      gboolean has_seq;
      guint64 seq;
      if (!g_error_matches (local, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_CORRUPT)) {
        g_propagate_error (error, g_steal_pointer (&local));
        return FALSE;
      }
      ledger_walker_get_failure (w, &file, &line, &has_seq, &seq, &reason);
      bad (a, file, line, has_seq, seq, reason);
      break;
    }
    if (done)
      break;
    if (!r->has_records)
      r->first_seq = s.line->seq;
    r->has_records = TRUE;
    r->last_seq = s.line->seq;
    r->n_records++;
    if (s.first_in_segment)
      r->n_segments++;
    if (a->opts->key)
      check_mac (a, &s);
    note_record (a, &s);
  }
  const char *seg, *bytes;
  gsize offset, len;
  guint64 last_seq, epoch;
  const char *hash;
  if (ledger_walker_get_last (w, &last_seq, &hash, &epoch))
    r->last_hash = g_strdup (hash);
  if (r->intact && ledger_walker_get_torn (w, &seg, &offset, &bytes, &len))
    bad (a, seg, 0, TRUE, r->has_records ? r->last_seq + 1 : 0,
         "incomplete last line (a write was cut short; opening the ledger for writing "
         "cuts it off and records the cut)");
  return TRUE;
}

gboolean
consent_ledger_verify (const ConsentLedgerVerifyOptions *opts, ConsentLedgerVerifyResult *res,
                       GError **error)
{
  Audit a = {.opts = opts, .res = res};
  gboolean ok;
  memset (res, 0, sizeof *res);
  res->intact = TRUE;
  if (!g_file_test (opts->ledger_dir, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_IO,
                 "%s is not a ledger directory", opts->ledger_dir);
    return FALSE;
  }
  if (opts->key) {
    gsize len = 0;
    const guint8 *k = g_bytes_get_data ((GBytes *) opts->key, &len);
    if (len != LEDGER_KEY_BYTES) {
      g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_KEY,
                   "the seal key must be %d bytes", LEDGER_KEY_BYTES);
      return FALSE;
    }
    memcpy (a.key, k, LEDGER_KEY_BYTES);
    res->seals_checked = TRUE;
  }
  a.announced = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  ok = load_claims (&a, error) && walk (&a, error);
  if (ok && res->intact)
    check_claims (&a);
  g_hash_table_destroy (a.announced);
  ledger_mac_free (a.mac);
  OPENSSL_cleanse (a.key, sizeof a.key);
  return ok;
}
