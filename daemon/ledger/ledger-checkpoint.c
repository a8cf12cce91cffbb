/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ledger-checkpoint.c: signing and checking checkpoint lines. */
#include "ledger-checkpoint.h"
#include "ledger-canon.h"
#include "ledger-record.h"
#include "ledger.h"

#include <string.h>

static json_object *
checkpoint_body (const guint8 pub[LEDGER_ED25519_BYTES], guint64 size, const char *root,
                 gint64 ts_us)
{
  char key_hex[2 * LEDGER_ED25519_BYTES + 1];
  json_object *obj = json_object_new_object ();
  ledger_hex (pub, LEDGER_ED25519_BYTES, key_hex);
  json_object_object_add (obj, "v", json_object_new_int (LEDGER_FORMAT_VERSION));
  json_object_object_add (obj, "type", json_object_new_string ("checkpoint"));
  json_object_object_add (obj, "size", json_object_new_uint64 (size));
  json_object_object_add (obj, "root", json_object_new_string (root));
  json_object_object_add (obj, "ts", json_object_new_int64 (ts_us));
  json_object_object_add (obj, "key", json_object_new_string (key_hex));
  return obj;
}

char *
ledger_checkpoint_make (const guint8 priv[LEDGER_ED25519_BYTES],
                        const guint8 pub[LEDGER_ED25519_BYTES], guint64 size, const char *root,
                        gint64 ts_us, GError **error)
{
  json_object *obj = checkpoint_body (pub, size, root, ts_us);
  g_autoptr (GString) text = g_string_new (NULL);
  guint8 sig[LEDGER_ED25519_SIG];
  char sig_hex[2 * LEDGER_ED25519_SIG + 1];

  ledger_canon_append (text, obj, NULL);
  if (!ledger_ed25519_sign (priv, text->str, text->len, sig, error)) {
    json_object_put (obj);
    return NULL;
  }
  ledger_hex (sig, sizeof sig, sig_hex);
  json_object_object_add (obj, "sig", json_object_new_string (sig_hex));
  g_string_truncate (text, 0);
  ledger_canon_append (text, obj, NULL);
  json_object_put (obj);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static gboolean
bad (GError **error, const char *why)
{
  g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_CORRUPT,
               "checkpoint is invalid: %s", why);
  return FALSE;
}

gboolean
ledger_checkpoint_parse (const char *text, gsize len, LedgerCheckpoint *out, GError **error)
{
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
    len--;
  g_autoptr (GError) local = NULL;
  json_object *obj = ledger_json_parse (text, len, 4, &local);
  if (!obj)
    return bad (error, local->message);
  guint64 v = 0;
  const char *type = ledger_json_str (obj, "type");
  const char *root = ledger_json_str (obj, "root");
  const char *key = ledger_json_str (obj, "key");
  const char *sig_hex = ledger_json_str (obj, "sig");
  json_object *ts = NULL;
  guint8 sig[LEDGER_ED25519_SIG];
  gboolean ok = FALSE;
  const char *why = "fields v, type, size, root, ts, key, sig are required";

  memset (out, 0, sizeof *out);
  if (ledger_json_u64 (obj, "v", &v) && v == LEDGER_FORMAT_VERSION && type &&
      g_str_equal (type, "checkpoint") && ledger_json_u64 (obj, "size", &out->size) && root &&
      strlen (root) == LEDGER_HASH_HEX && key && sig_hex &&
      json_object_object_get_ex (obj, "ts", &ts) && json_object_is_type (ts, json_type_int)) {
    why = "key or sig is not lowercase hex of the right length";
    if (ledger_unhex (key, strlen (key), out->key, sizeof out->key) &&
        ledger_unhex (sig_hex, strlen (sig_hex), sig, sizeof sig)) {
      out->ts_us = json_object_get_int64 (ts);
      memcpy (out->root, root, sizeof out->root);
      memcpy (out->key_hex, key, sizeof out->key_hex);
      json_object *body = checkpoint_body (out->key, out->size, out->root, out->ts_us);
      g_autoptr (GString) canon = g_string_new (NULL);
      ledger_canon_append (canon, body, NULL);
      json_object_put (body);
      why = "signature does not verify";
      ok = ledger_ed25519_verify (out->key, canon->str, canon->len, sig);
    }
  }
  json_object_put (obj);
  return ok ? TRUE : bad (error, why);
}
