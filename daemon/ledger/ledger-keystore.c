/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ledger-keystore.c: per-subject keys, one file each, for crypto-erasure. */
#include "ledger-keystore.h"
#include "ledger-canon.h"
#include "ledger-fs.h"
#include "ledger-record.h"
#include "ledger.h"

#include <openssl/crypto.h>
#include <string.h>

#define KEY_FILE_MAX 16384
#define KEY_SUFFIX ".key"

typedef struct {
  char *subject;
  char *participant;
  guint8 key[LEDGER_KEY_BYTES];
} SubjectKey;

struct _LedgerKeystore {
  GMutex lock;
  char *dir;
  GHashTable *by_subject;     /* subject -> SubjectKey (owned) */
  GHashTable *by_participant; /* participant -> SubjectKey (borrowed) */
};

static void
subject_key_free (SubjectKey *sk)
{
  OPENSSL_cleanse (sk->key, sizeof sk->key);
  g_free (sk->subject);
  g_free (sk->participant);
  g_free (sk);
}

static gboolean
is_subject_name (const char *s)
{
  gsize len = strlen (s);
  if (len != 33 || s[0] != 's')
    return FALSE;
  for (gsize i = 1; i < len; i++)
    if (!g_ascii_isxdigit (s[i]) || g_ascii_isupper (s[i]))
      return FALSE;
  return TRUE;
}

static gboolean
load_key_file (LedgerKeystore *ks, const char *name, GError **error)
{
  g_autofree char *path = g_build_filename (ks->dir, name, NULL);
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!ledger_fs_read_small (path, KEY_FILE_MAX, &data, &len, error))
    return FALSE;
  while (len > 0 && data[len - 1] == '\n')
    len--;
  g_autoptr (GError) local = NULL;
  json_object *obj = ledger_json_parse (data, len, 4, &local);
  const char *subject = obj ? ledger_json_str (obj, "subject") : NULL;
  const char *participant = obj ? ledger_json_str (obj, "participant") : NULL;
  const char *key = obj ? ledger_json_str (obj, "key") : NULL;
  SubjectKey *sk = g_new0 (SubjectKey, 1);
  if (!subject || !participant || !key || !is_subject_name (subject) ||
      !ledger_unhex (key, strlen (key), sk->key, sizeof sk->key)) {
    g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_KEY,
                 "key file %s is malformed", path);
    json_object_put (obj);
    subject_key_free (sk);
    return FALSE;
  }
  sk->subject = g_strdup (subject);
  sk->participant = g_strdup (participant);
  json_object_put (obj);
  g_hash_table_replace (ks->by_participant, sk->participant, sk);
  g_hash_table_replace (ks->by_subject, sk->subject, sk);
  return TRUE;
}

LedgerKeystore *
ledger_keystore_open (const char *dir, gboolean create, GError **error)
{
  g_autoptr (LedgerKeystore) ks = g_new0 (LedgerKeystore, 1);
  g_mutex_init (&ks->lock);
  ks->dir = g_strdup (dir);
  ks->by_subject = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                          (GDestroyNotify) subject_key_free);
  ks->by_participant = g_hash_table_new (g_str_hash, g_str_equal);
  if (create && !ledger_fs_ensure_dir (dir, 0700, error))
    return NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (GDir) d = g_dir_open (dir, 0, &local);
  if (!d) {
    g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_IO,
                 "cannot read the key store: %s", local->message);
    return NULL;
  }
  const char *name;
  while ((name = g_dir_read_name (d))) {
    if (!g_str_has_suffix (name, KEY_SUFFIX))
      continue;
    if (g_hash_table_size (ks->by_subject) >= LEDGER_MAX_KEY_FILES) {
      g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_TOO_LARGE,
                   "the key store %s holds more than %d keys", dir, LEDGER_MAX_KEY_FILES);
      return NULL;
    }
    if (!load_key_file (ks, name, error))
      return NULL;
  }
  return g_steal_pointer (&ks);
}

void
ledger_keystore_free (LedgerKeystore *ks)
{
  if (!ks)
    return;
  if (ks->by_participant)
    g_hash_table_destroy (ks->by_participant);
  if (ks->by_subject)
    g_hash_table_destroy (ks->by_subject);
  g_mutex_clear (&ks->lock);
  g_free (ks->dir);
  g_free (ks);
}

char *
ledger_keystore_subject_of (LedgerKeystore *ks, const char *participant)
{
  g_mutex_lock (&ks->lock);
  SubjectKey *sk = g_hash_table_lookup (ks->by_participant, participant);
  char *s = sk ? g_strdup (sk->subject) : NULL;
  g_mutex_unlock (&ks->lock);
  return s;
}

char *
ledger_keystore_participant_of (LedgerKeystore *ks, const char *subject)
{
  g_mutex_lock (&ks->lock);
  SubjectKey *sk = g_hash_table_lookup (ks->by_subject, subject);
  char *p = sk ? g_strdup (sk->participant) : NULL;
  g_mutex_unlock (&ks->lock);
  return p;
}

gboolean
ledger_keystore_get_key (LedgerKeystore *ks, const char *subject, guint8 key[LEDGER_KEY_BYTES])
{
  g_mutex_lock (&ks->lock);
  SubjectKey *sk = g_hash_table_lookup (ks->by_subject, subject);
  if (sk)
    memcpy (key, sk->key, LEDGER_KEY_BYTES);
  g_mutex_unlock (&ks->lock);
  return sk != NULL;
}

static SubjectKey *
create_subject (LedgerKeystore *ks, const char *participant, GError **error)
{
  guint8 token[16];
  char token_hex[33], key_hex[65];
  SubjectKey *sk = g_new0 (SubjectKey, 1);
  if (!ledger_random (token, sizeof token, error) ||
      !ledger_random (sk->key, sizeof sk->key, error)) {
    subject_key_free (sk);
    return NULL;
  }
  ledger_hex (token, sizeof token, token_hex);
  ledger_hex (sk->key, sizeof sk->key, key_hex);
  sk->subject = g_strconcat ("s", token_hex, NULL);
  sk->participant = g_strdup (participant);

  json_object *obj = json_object_new_object ();
  json_object_object_add (obj, "v", json_object_new_int (1));
  json_object_object_add (obj, "subject", json_object_new_string (sk->subject));
  json_object_object_add (obj, "participant", json_object_new_string (participant));
  json_object_object_add (obj, "key", json_object_new_string (key_hex));
  g_autoptr (GString) text = g_string_new (NULL);
  ledger_canon_append (text, obj, NULL);
  g_string_append_c (text, '\n');
  json_object_put (obj);
  OPENSSL_cleanse (key_hex, sizeof key_hex);

  g_autofree char *name = g_strconcat (sk->subject, KEY_SUFFIX, NULL);
  gboolean ok = ledger_fs_write_atomic (ks->dir, name, text->str, text->len, 0600, error);
  OPENSSL_cleanse (text->str, text->len);
  if (!ok) {
    subject_key_free (sk);
    return NULL;
  }
  return sk;
}

char *
ledger_keystore_ensure (LedgerKeystore *ks, const char *participant, GError **error)
{
  char *subject = NULL;
  g_mutex_lock (&ks->lock);
  SubjectKey *sk = g_hash_table_lookup (ks->by_participant, participant);
  if (!sk) {
    sk = create_subject (ks, participant, error);
    if (sk) {
      g_hash_table_replace (ks->by_participant, sk->participant, sk);
      g_hash_table_replace (ks->by_subject, sk->subject, sk);
    }
  }
  if (sk)
    subject = g_strdup (sk->subject);
  g_mutex_unlock (&ks->lock);
  return subject;
}

gboolean
ledger_keystore_erase (LedgerKeystore *ks, const char *subject, GError **error)
{
  gboolean ok;
  g_mutex_lock (&ks->lock);
  SubjectKey *sk = g_hash_table_lookup (ks->by_subject, subject);
  if (!sk) {
    g_mutex_unlock (&ks->lock);
    g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_NOT_FOUND,
                 "subject %s has no key in the key store (unknown or already erased)",
                 subject);
    return FALSE;
  }
  g_autofree char *name = g_strconcat (subject, KEY_SUFFIX, NULL);
  ok = ledger_fs_shred (ks->dir, name, error);
  if (ok) {
    g_hash_table_remove (ks->by_participant, sk->participant);
    g_hash_table_remove (ks->by_subject, subject);
  }
  g_mutex_unlock (&ks->lock);
  return ok;
}
