/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ledger-record.c: one record — entry validation, building, sealing, checking. */
#include "ledger-record.h"
#include "ledger-canon.h"
#include "ledger-scan.h"

#include <string.h>
#include <openssl/crypto.h>

static char **
strv_copy_or_null (const char *const *v)
{
  return v ? g_strdupv ((char **) v) : NULL;
}

ConsentLedgerEntry *
ledger_entry_copy (const ConsentLedgerEntry *e)
{
  ConsentLedgerEntry *c = g_new0 (ConsentLedgerEntry, 1);
  *c = *e;
  c->type = g_strdup (e->type);
  c->meeting = g_strdup (e->meeting);
  c->participant = g_strdup (e->participant);
  c->display_name = g_strdup (e->display_name);
  c->client = g_strdup (e->client);
  c->ip = g_strdup (e->ip);
  c->role = g_strdup (e->role);
  c->notice_version = g_strdup (e->notice_version);
  c->notice_sha256 = g_strdup (e->notice_sha256);
  c->request_id = g_strdup (e->request_id);
  c->channel = g_strdup (e->channel);
  c->actor = g_strdup (e->actor);
  c->reason = g_strdup (e->reason);
  c->authorized_by = (const char *const *) strv_copy_or_null (e->authorized_by);
  c->present = (const char *const *) strv_copy_or_null (e->present);
  c->details_json = g_strdup (e->details_json);
  return c;
}

void
ledger_entry_free (ConsentLedgerEntry *e)
{
  if (!e)
    return;
  g_free ((char *) e->type);
  g_free ((char *) e->meeting);
  g_free ((char *) e->participant);
  g_free ((char *) e->display_name);
  g_free ((char *) e->client);
  g_free ((char *) e->ip);
  g_free ((char *) e->role);
  g_free ((char *) e->notice_version);
  g_free ((char *) e->notice_sha256);
  g_free ((char *) e->request_id);
  g_free ((char *) e->channel);
  g_free ((char *) e->actor);
  g_free ((char *) e->reason);
  g_strfreev ((char **) e->authorized_by);
  g_strfreev ((char **) e->present);
  g_free ((char *) e->details_json);
  g_free (e);
}

static gboolean
check_field (const char *name, const char *value, GError **error)
{
  if (!value)
    return TRUE;
  if (strlen (value) > CONSENT_LEDGER_MAX_FIELD_BYTES) {
    g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_TOO_LARGE,
                 "field %s is longer than %d bytes", name, CONSENT_LEDGER_MAX_FIELD_BYTES);
    return FALSE;
  }
  if (!g_utf8_validate (value, -1, NULL)) {
    g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_INVALID,
                 "field %s is not valid UTF-8", name);
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_list (const char *name, const char *const *list, GError **error)
{
  guint n = 0;
  for (; list && list[n]; n++) {
    if (!check_field (name, list[n], error))
      return FALSE;
    if (n >= CONSENT_LEDGER_MAX_LIST) {
      g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_TOO_LARGE,
                   "list %s has more than %d entries", name, CONSENT_LEDGER_MAX_LIST);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
is_reserved_type (const char *type)
{
  return g_str_equal (type, LEDGER_TYPE_EPOCH) || g_str_equal (type, LEDGER_TYPE_RECOVERED) ||
         g_str_equal (type, LEDGER_TYPE_ERASE) || g_str_equal (type, LEDGER_TYPE_PRUNE);
}

static gboolean
check_type (const char *type, gboolean internal, GError **error)
{
  gsize len = type ? strlen (type) : 0;
  gboolean ok = len > 0 && len <= 32;
  for (gsize i = 0; ok && i < len; i++)
    ok = g_ascii_islower (type[i]) || g_ascii_isdigit (type[i]) || type[i] == '-';
  if (!ok) {
    g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_INVALID,
                 "record type must be 1-32 characters of a-z, 0-9 and '-'");
    return FALSE;
  }
  if (!internal && is_reserved_type (type)) {
    g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_INVALID,
                 "record type \"%s\" is written by the ledger itself", type);
    return FALSE;
  }
  return TRUE;
}

gboolean
ledger_entry_validate (const ConsentLedgerEntry *e, gboolean internal, GError **error)
{
  const struct {
    const char *name, *value;
  } fields[] = {
    {"meeting", e->meeting},       {"participant", e->participant},
    {"display-name", e->display_name}, {"client", e->client},
    {"ip", e->ip},                 {"role", e->role},
    {"notice version", e->notice_version}, {"notice sha256", e->notice_sha256},
    {"request", e->request_id},    {"channel", e->channel},
    {"actor", e->actor},           {"reason", e->reason},
  };
  if (!check_type (e->type, internal, error))
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (fields); i++)
    if (!check_field (fields[i].name, fields[i].value, error))
      return FALSE;
  if (!check_list ("authorized-by", e->authorized_by, error) ||
      !check_list ("present", e->present, error))
    return FALSE;
  if (e->details_json) {
    gsize len = strlen (e->details_json);
    if (len > CONSENT_LEDGER_MAX_RECORD_BYTES / 2) {
      g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_TOO_LARGE,
                   "details are larger than %d bytes", CONSENT_LEDGER_MAX_RECORD_BYTES / 2);
      return FALSE;
    }
    g_autoptr (GError) local = NULL;
    json_object *obj = ledger_json_parse (e->details_json, len, LEDGER_MAX_DEPTH - 2, &local);
    gboolean is_obj = obj && json_object_is_type (obj, json_type_object);
    json_object_put (obj);
    if (!is_obj) {
      g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_INVALID,
                   "details must be a JSON object: %s",
                   local ? local->message : "not an object");
      return FALSE;
    }
  }
  return TRUE;
}

static void
put_str (json_object *obj, const char *key, const char *value)
{
  if (value)
    json_object_object_add (obj, key, json_object_new_string (value));
}

static void
put_list (json_object *obj, const char *key, const char *const *list)
{
  if (!list)
    return;
  json_object *arr = json_object_new_array ();
  for (guint i = 0; list[i]; i++)
    json_object_array_add (arr, json_object_new_string (list[i]));
  json_object_object_add (obj, key, arr);
}

json_object *
ledger_record_build (const ConsentLedgerEntry *e, const LedgerRecordFrame *f, GError **error)
{
  json_object *rec = json_object_new_object ();

  json_object_object_add (rec, "v", json_object_new_int (LEDGER_FORMAT_VERSION));
  json_object_object_add (rec, "seq", json_object_new_uint64 (f->seq));
  json_object_object_add (rec, "ts", json_object_new_int64 (f->ts_us));
  json_object_object_add (rec, "type", json_object_new_string (e->type));
  json_object_object_add (rec, "key-epoch", json_object_new_uint64 (f->key_epoch));
  json_object_object_add (rec, "prev", json_object_new_string (f->prev));
  put_str (rec, "meeting", e->meeting);
  put_str (rec, "subject", f->subject);
  put_str (rec, "pd", f->pd);
  put_str (rec, "role", e->role);
  put_str (rec, "actor", e->actor);
  put_str (rec, "request", e->request_id);
  put_str (rec, "reason", e->reason);
  if (e->notice_version || e->notice_sha256) {
    json_object *notice = json_object_new_object ();
    put_str (notice, "version", e->notice_version);
    put_str (notice, "sha256", e->notice_sha256);
    json_object_object_add (rec, "notice", notice);
  }
  if (e->channel) {
    json_object *method = json_object_new_object ();
    put_str (method, "channel", e->channel);
    json_object_object_add (rec, "method", method);
  }
  if (e->has_epoch)
    json_object_object_add (rec, "epoch", json_object_new_uint64 (e->epoch));
  put_list (rec, "authorized-by", e->authorized_by);
  put_list (rec, "present", f->present);
  if (e->details_json) {
    json_object *details = ledger_json_parse (e->details_json, strlen (e->details_json),
                                              LEDGER_MAX_DEPTH - 2, error);
    if (!details) {
      json_object_put (rec);
      return NULL;
    }
    json_object_object_add (rec, "details", details);
  }
  return rec;
}

gboolean
ledger_record_seal (json_object *rec, const guint8 key[LEDGER_KEY_BYTES], GString *out,
                    char hash_out[LEDGER_HASH_HEX + 1], GError **error)
{
  g_autoptr (GString) body = g_string_sized_new (512);
  guint8 mac[32];
  char mac_hex[65];

  if (!ledger_canon_append (body, rec, error))
    return FALSE;
  ledger_hmac_sha256 (key, body->str, body->len, mac);
  ledger_hex (mac, sizeof mac, mac_hex);
  json_object_object_add (rec, "mac", json_object_new_string (mac_hex));

  g_string_truncate (body, 0);
  ledger_canon_append (body, rec, NULL);
  ledger_sha256_hex (body->str, body->len, hash_out);
  json_object_object_add (rec, "hash", json_object_new_string (hash_out));

  g_string_truncate (body, 0);
  ledger_canon_append (body, rec, NULL);
  if (body->len > CONSENT_LEDGER_MAX_RECORD_BYTES) {
    g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_TOO_LARGE,
                 "the record would be %" G_GSIZE_FORMAT " bytes (limit %d)", body->len,
                 CONSENT_LEDGER_MAX_RECORD_BYTES);
    return FALSE;
  }
  g_string_append_len (out, body->str, (gssize) body->len);
  g_string_append_c (out, '\n');
  return TRUE;
}

char *
ledger_pd_plaintext (const char *participant, const char *display_name, const char *client,
                     const char *ip)
{
  json_object *pd = json_object_new_object ();
  GString *s = g_string_new (NULL);
  put_str (pd, "participant", participant);
  put_str (pd, "name", display_name);
  put_str (pd, "client", client);
  put_str (pd, "ip", ip);
  ledger_canon_append (s, pd, NULL);
  json_object_put (pd);
  return g_string_free (s, FALSE);
}

char *
ledger_pd_aad (guint64 seq)
{
  return g_strdup_printf ("consentgate pd seq=%" G_GUINT64_FORMAT, seq);
}

/* ---- checking ---- */

struct _LedgerLineChecker {
  gboolean want_json;
  json_tokener *tok;
  json_object *last;
  GString *scratch;
  LedgerHasher *hasher;
};

LedgerLineChecker *
ledger_line_checker_new (gboolean want_json)
{
  LedgerLineChecker *c = g_new0 (LedgerLineChecker, 1);
  c->want_json = want_json;
  c->tok = json_tokener_new_ex (LEDGER_MAX_DEPTH);
  c->scratch = g_string_sized_new (1024);
  c->hasher = ledger_hasher_new ();
  return c;
}

void
ledger_line_checker_free (LedgerLineChecker *c)
{
  if (!c)
    return;
  json_tokener_free (c->tok);
  json_object_put (c->last);
  g_string_free (c->scratch, TRUE);
  ledger_hasher_free (c->hasher);
  g_free (c);
}

const char *
ledger_json_str (json_object *obj, const char *key)
{
  json_object *v = NULL;
  if (!json_object_object_get_ex (obj, key, &v) || !json_object_is_type (v, json_type_string))
    return NULL;
  return json_object_get_string (v);
}

gboolean
ledger_json_u64 (json_object *obj, const char *key, guint64 *out)
{
  json_object *v = NULL;
  if (!json_object_object_get_ex (obj, key, &v) || !json_object_is_type (v, json_type_int) ||
      json_object_get_int64 (v) < 0)
    return FALSE;
  *out = json_object_get_uint64 (v);
  return TRUE;
}

static gboolean
line_fail (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);
static gboolean
line_fail (GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_CORRUPT, msg);
  return FALSE;
}

static gboolean
span_is_hex64 (LedgerSpan s)
{
  guint8 bin[LEDGER_HASH_HEX / 2];
  return s.len == LEDGER_HASH_HEX && ledger_unhex (s.p, s.len, bin, sizeof bin);
}

/* A non-negative integer in canonical form (no sign, no leading zero). */
static gboolean
span_u64 (LedgerSpan s, guint64 *out)
{
  guint64 v = 0;
  if (s.len == 0 || s.len > 20 || (s.len > 1 && s.p[0] == '0'))
    return FALSE;
  for (gsize i = 0; i < s.len; i++) {
    if (!g_ascii_isdigit (s.p[i]))
      return FALSE;
    guint64 d = (guint64) (s.p[i] - '0');
    if (v > (G_MAXUINT64 - d) / 10)
      return FALSE;
    v = v * 10 + d;
  }
  *out = v;
  return TRUE;
}

static gboolean
span_i64 (LedgerSpan s, gint64 *out)
{
  guint64 v;
  gboolean neg;
  LedgerSpan digits;

  /* An absent field is an empty span with a NULL pointer: no arithmetic on it. */
  if (s.len == 0 || s.p == NULL)
    return FALSE;
  neg = s.len > 1 && s.p[0] == '-';
  digits = (LedgerSpan){s.p + neg, s.len - neg};
  if (!span_u64 (digits, &v) || v > (guint64) G_MAXINT64)
    return FALSE;
  *out = neg ? -(gint64) v : (gint64) v;
  return TRUE;
}

static gboolean
check_fields (const LedgerScan *sc, LedgerLine *out, GError **error)
{
  guint64 v = 0;
  if (!span_u64 (sc->v, &v) || v != LEDGER_FORMAT_VERSION)
    return line_fail (error, "field v is missing or not %d", LEDGER_FORMAT_VERSION);
  if (!span_u64 (sc->seq, &out->seq))
    return line_fail (error, "field seq is missing or not a non-negative integer");
  if (!span_i64 (sc->ts, &out->ts_us))
    return line_fail (error, "field ts is missing or not an integer");
  if (sc->type.len == 0 || sc->type.len >= sizeof out->type)
    return line_fail (error, "field type is missing or too long");
  for (gsize i = 0; i < sc->type.len; i++)
    if (!(g_ascii_islower (sc->type.p[i]) || g_ascii_isdigit (sc->type.p[i]) ||
          sc->type.p[i] == '-'))
      return line_fail (error, "field type has characters other than a-z, 0-9 and '-'");
  memcpy (out->type, sc->type.p, sc->type.len);
  out->type[sc->type.len] = '\0';
  if (!span_u64 (sc->key_epoch, &out->key_epoch))
    return line_fail (error, "field key-epoch is missing or not a non-negative integer");
  if (!span_is_hex64 (sc->prev) || !span_is_hex64 (sc->hash) || !span_is_hex64 (sc->mac))
    return line_fail (error, "prev, hash and mac must each be 64 lowercase hex digits");
  memcpy (out->prev, sc->prev.p, LEDGER_HASH_HEX);
  out->prev[LEDGER_HASH_HEX] = '\0';
  memcpy (out->hash, sc->hash.p, LEDGER_HASH_HEX);
  out->hash[LEDGER_HASH_HEX] = '\0';
  ledger_unhex (sc->mac.p, LEDGER_HASH_HEX, out->mac, sizeof out->mac);
  return TRUE;
}

gboolean
ledger_line_check (LedgerLineChecker *c, const char *line, gsize len, LedgerLine *out,
                   GError **error)
{
  char computed[LEDGER_HASH_HEX + 1];
  LedgerScan sc;
  const char *why = NULL;
  GString *s = c->scratch;

  memset (out, 0, sizeof *out);
  g_clear_pointer (&c->last, json_object_put);
  if (len > CONSENT_LEDGER_MAX_RECORD_BYTES)
    return line_fail (error, "line is longer than %d bytes", CONSENT_LEDGER_MAX_RECORD_BYTES);
  if (!ledger_scan_line (line, len, LEDGER_MAX_DEPTH, &sc, &why))
    return line_fail (error, "not a canonical JSON object: %s", why);
  if (!check_fields (&sc, out, error))
    return FALSE;
  if (sc.hash_member > sc.mac_member || line[sc.hash_member + sc.hash_member_len - 1] != ',' ||
      line[sc.mac_member + sc.mac_member_len - 1] != ',')
    return line_fail (error, "hash/mac members are not in canonical position");

  /* hash input: the line without the hash member */
  g_string_truncate (s, 0);
  g_string_append_len (s, line, (gssize) sc.hash_member);
  g_string_append_len (s, line + sc.hash_member + sc.hash_member_len,
                       (gssize) (len - sc.hash_member - sc.hash_member_len));
  ledger_hasher_sha256_hex (c->hasher, s->str, s->len, computed);
  if (memcmp (computed, out->hash, LEDGER_HASH_HEX) != 0)
    return line_fail (error, "hash mismatch: the record says %.12s…, its content hashes to %.12s…",
                      out->hash, computed);
  /* mac input: also without the mac member (which follows the hash member) */
  g_string_erase (s, (gssize) (sc.mac_member - sc.hash_member_len), (gssize) sc.mac_member_len);
  out->mac_input = s->str;
  out->mac_input_len = s->len;

  /* the ledger's own records carry details the walker needs */
  if (c->want_json || g_str_equal (out->type, LEDGER_TYPE_EPOCH) ||
      g_str_equal (out->type, LEDGER_TYPE_PRUNE)) {
    g_autoptr (GError) local = NULL;
    c->last = ledger_json_parse_with (c->tok, line, len, &local);
    if (!c->last)
      return line_fail (error, "not a JSON object: %s", local->message);
    out->json = c->last;
  }
  return TRUE;
}

gboolean
ledger_line_mac_ok (const LedgerLine *line, LedgerMac *key)
{
  guint8 mac[32];
  ledger_mac_compute (key, line->mac_input, line->mac_input_len, mac);
  return CRYPTO_memcmp (mac, line->mac, sizeof mac) == 0;
}
