/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ledger-reader.c: decoded records in seq order, personal data decrypted where possible. */
#include "ledger-reader.h"
#include "ledger-canon.h"
#include "ledger-keystore.h"
#include "ledger-walk.h"

#include <openssl/crypto.h>
#include <string.h>

struct _ConsentLedgerReader {
  LedgerWalker *walker;
  LedgerKeystore *ks; /* NULL: decrypt nothing */
};

void
consent_ledger_record_free (ConsentLedgerRecord *r)
{
  if (!r)
    return;
  g_free (r->id);
  g_free (r->type);
  g_free (r->meeting);
  g_free (r->subject);
  g_free (r->participant);
  g_free (r->display_name);
  g_free (r->client);
  g_free (r->ip);
  g_free (r->role);
  g_free (r->notice_version);
  g_free (r->notice_sha256);
  g_free (r->request_id);
  g_free (r->channel);
  g_free (r->actor);
  g_free (r->reason);
  g_strfreev (r->authorized_by);
  g_strfreev (r->present);
  g_strfreev (r->present_participants);
  g_free (r->details_json);
  g_free (r->prev);
  g_free (r->hash);
  g_free (r->segment);
  json_object_put (r->json);
  g_free (r);
}

ConsentLedgerReader *
consent_ledger_reader_new (const char *ledger_dir, const char *keys_dir, GError **error)
{
  g_autoptr (ConsentLedgerReader) reader = g_new0 (ConsentLedgerReader, 1);
  if (!(reader->walker = ledger_walker_new (ledger_dir, TRUE, error)))
    return NULL;
  if (keys_dir && g_file_test (keys_dir, G_FILE_TEST_IS_DIR) &&
      !(reader->ks = ledger_keystore_open (keys_dir, FALSE, error)))
    return NULL;
  return g_steal_pointer (&reader);
}

ConsentLedgerReader *
consent_ledger_reader_new_for_ledger (ConsentLedger *ledger, GError **error)
{
  return consent_ledger_reader_new (consent_ledger_get_ledger_dir (ledger),
                                    consent_ledger_get_keys_dir (ledger), error);
}

void
consent_ledger_reader_free (ConsentLedgerReader *reader)
{
  if (!reader)
    return;
  ledger_walker_free (reader->walker);
  ledger_keystore_free (reader->ks);
  g_free (reader);
}

static char *
dup_str (json_object *obj, const char *key)
{
  return g_strdup (ledger_json_str (obj, key));
}

static char **
dup_list (json_object *obj, const char *key)
{
  json_object *arr = NULL;
  if (!json_object_object_get_ex (obj, key, &arr) || !json_object_is_type (arr, json_type_array))
    return NULL;
  gsize n = json_object_array_length (arr);
  char **v = g_new0 (char *, n + 1);
  for (gsize i = 0; i < n; i++) {
    json_object *s = json_object_array_get_idx (arr, i);
    v[i] = g_strdup (json_object_is_type (s, json_type_string) ? json_object_get_string (s) : "");
  }
  return v;
}

static void
decrypt_pd (ConsentLedgerReader *reader, ConsentLedgerRecord *r, const char *pd)
{
  guint8 key[LEDGER_KEY_BYTES];
  r->has_pd = TRUE;
  if (!reader->ks || !r->subject || !ledger_keystore_get_key (reader->ks, r->subject, key)) {
    r->erased = reader->ks != NULL;
    return;
  }
  g_autofree char *aad = ledger_pd_aad (r->seq);
  gsize len = 0;
  g_autofree char *plain = ledger_open_pd (key, aad, pd, &len);
  OPENSSL_cleanse (key, sizeof key);
  if (!plain)
    return;
  json_object *obj = ledger_json_parse (plain, len, 2, NULL);
  OPENSSL_cleanse (plain, len);
  if (!obj)
    return;
  r->pd_readable = TRUE;
  r->participant = dup_str (obj, "participant");
  r->display_name = dup_str (obj, "name");
  r->client = dup_str (obj, "client");
  r->ip = dup_str (obj, "ip");
  json_object_put (obj);
}

static void
decode_nested (ConsentLedgerRecord *r, json_object *rec)
{
  json_object *sub = NULL;
  if (json_object_object_get_ex (rec, "notice", &sub)) {
    r->notice_version = dup_str (sub, "version");
    r->notice_sha256 = dup_str (sub, "sha256");
  }
  if (json_object_object_get_ex (rec, "method", &sub))
    r->channel = dup_str (sub, "channel");
  if (json_object_object_get_ex (rec, "epoch", &sub) && json_object_is_type (sub, json_type_int)) {
    r->has_epoch = TRUE;
    r->epoch = json_object_get_uint64 (sub);
  }
  if (json_object_object_get_ex (rec, "details", &sub)) {
    GString *s = g_string_new (NULL);
    ledger_canon_append (s, sub, NULL);
    r->details_json = g_string_free (s, FALSE);
  }
}

static ConsentLedgerRecord *
decode (ConsentLedgerReader *reader, const LedgerStep *step)
{
  const LedgerLine *l = step->line;
  json_object *rec = l->json;
  ConsentLedgerRecord *r = g_new0 (ConsentLedgerRecord, 1);
  r->seq = l->seq;
  r->id = g_strdup_printf ("%" G_GUINT64_FORMAT, l->seq);
  r->ts_us = l->ts_us;
  r->type = g_strdup (l->type);
  r->key_epoch = l->key_epoch;
  r->meeting = dup_str (rec, "meeting");
  r->subject = dup_str (rec, "subject");
  r->role = dup_str (rec, "role");
  r->request_id = dup_str (rec, "request");
  r->actor = dup_str (rec, "actor");
  r->reason = dup_str (rec, "reason");
  r->authorized_by = dup_list (rec, "authorized-by");
  r->present = dup_list (rec, "present");
  r->prev = g_strdup (l->prev);
  r->hash = g_strdup (l->hash);
  r->segment = g_strdup (step->segment);
  r->line = step->line_no;
  decode_nested (r, rec);
  const char *pd = ledger_json_str (rec, "pd");
  if (pd)
    decrypt_pd (reader, r, pd);
  if (r->present) {
    guint n = g_strv_length (r->present);
    r->present_participants = g_new0 (char *, n + 1);
    for (guint i = 0; i < n; i++) {
      char *p = reader->ks ? ledger_keystore_participant_of (reader->ks, r->present[i]) : NULL;
      r->present_participants[i] = p ? p : g_strdup ("");
    }
  }
  r->json = json_object_get (rec);
  return r;
}

gboolean
consent_ledger_reader_next (ConsentLedgerReader *reader, ConsentLedgerRecord **out,
                            GError **error)
{
  LedgerStep step;
  gboolean done = FALSE;
  *out = NULL;
  if (!ledger_walker_next (reader->walker, &step, &done, error))
    return FALSE;
  if (!done)
    *out = decode (reader, &step);
  return TRUE;
}

char *
consent_ledger_keys_lookup_subject (const char *keys_dir, const char *participant,
                                    GError **error)
{
  g_autoptr (LedgerKeystore) ks = ledger_keystore_open (keys_dir, FALSE, error);
  if (!ks)
    return NULL;
  char *subject = ledger_keystore_subject_of (ks, participant);
  if (!subject)
    g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_NOT_FOUND,
                 "participant %s is not in the key store (never recorded, or erased)",
                 participant);
  return subject;
}
