/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* consent-wire.c: the consent.v1 message codec (docs/protocol.md).
 *
 * Parsing is strict on purpose: a peer that sends anything we did not define
 * gets an error naming the problem, never a best-effort guess. */
#include "consent-wire.h"
#include "consent-event.h"
#include "consent-json.h"

#include <string.h>

#define MAX_TEXT 8192      /* notice text */
#define MAX_SHORT 512      /* controller, purpose, storage, error message */
#define MAX_REF 128        /* record ids, hashes, reasons */
#define MAX_PATH_LEN 4096
#define MAX_AUTHORIZED 256 /* authorizing records in one decision */
#define MAX_LEASE_MS 3600000

static const char *const type_names[CONSENT_MSG_N_TYPES] = {
  [CONSENT_MSG_HELLO] = "hello",       [CONSENT_MSG_CONSENT] = "consent",
  [CONSENT_MSG_WITHDRAW] = "withdraw", [CONSENT_MSG_WELCOME] = "welcome",
  [CONSENT_MSG_REQUEST] = "request",   [CONSENT_MSG_RECORDED] = "recorded",
  [CONSENT_MSG_STATE] = "state",       [CONSENT_MSG_ERROR] = "error",
  [CONSENT_MSG_GATE] = "gate",         [CONSENT_MSG_LEASE] = "lease",
  [CONSENT_MSG_SEGMENT] = "segment",
};

/* Exactly the fields each type may carry ("type" included). */
static const char *const *const type_keys[CONSENT_MSG_N_TYPES] = {
  [CONSENT_MSG_HELLO] = (const char *const[]){ "type", "token", "participant", NULL },
  [CONSENT_MSG_CONSENT] = (const char *const[]){ "type", "decision", "notice", "request", NULL },
  [CONSENT_MSG_WITHDRAW] = (const char *const[]){ "type", NULL },
  [CONSENT_MSG_WELCOME] = (const char *const[]){ "type", "meeting", "participant", "notice", NULL },
  [CONSENT_MSG_REQUEST] = (const char *const[]){ "type", "request", "notice", NULL },
  [CONSENT_MSG_RECORDED] = (const char *const[]){ "type", "event", "record", "hash", NULL },
  [CONSENT_MSG_STATE] = (const char *const[]){ "type", "gate", "recording", NULL },
  [CONSENT_MSG_ERROR] = (const char *const[]){ "type", "code", "message", NULL },
  [CONSENT_MSG_GATE] = (const char *const[]){ "type", "state", "epoch", "reason", "authorized-by",
                                              "lease-ms", "participant", NULL },
  [CONSENT_MSG_LEASE] = (const char *const[]){ "type", "epoch", "lease-ms", "participant", NULL },
  [CONSENT_MSG_SEGMENT] = (const char *const[]){ "type", "path", "sha256", "size", "epoch", "start",
                                                 "end", "authorized-by", "muxer", "notice", NULL },
};

static const char *const notice_keys[] = { "version", "text", "controller", "purpose",
                                           "storage", "retention-days", "sha256", NULL };

const char *
consent_message_type_name (ConsentMessageType type)
{
  return (guint) type < CONSENT_MSG_N_TYPES ? type_names[type] : NULL;
}

ConsentMessage *
consent_message_new (ConsentMessageType type)
{
  ConsentMessage *msg = g_new0 (ConsentMessage, 1);

  msg->type = type;
  return msg;
}

void
consent_message_free (ConsentMessage *msg)
{
  if (msg == NULL)
    return;
  g_free (msg->token);
  g_free (msg->notice_version);
  g_free (msg->request_id);
  g_free (msg->meeting);
  g_free (msg->participant);
  g_clear_pointer (&msg->notice, consent_notice_unref);
  g_free (msg->event);
  g_free (msg->record_id);
  g_free (msg->record_hash);
  g_free (msg->code);
  g_free (msg->message);
  g_free (msg->reason);
  g_strfreev (msg->authorized_by);
  g_free (msg->path);
  g_free (msg->sha256);
  g_free (msg->start);
  g_free (msg->end);
  g_free (msg->muxer);
  g_free (msg);
}

/* ---- field readers: each checks the JSON type, then the value's shape ---- */

static gboolean
field_fail (GError **error, const char *key, const char *allowed)
{
  g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_BAD_FIELD, "field '%s' must be %s", key, allowed);
  return FALSE;
}

static gboolean
is_ref (const char *s)
{
  gsize n = strlen (s);

  if (n < 1 || n > MAX_REF)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if ((guchar) s[i] <= 0x20 || (guchar) s[i] >= 0x7f)
      return FALSE;
  return TRUE;
}

static gboolean
is_sha256_hex (const char *s)
{
  if (strlen (s) != 64)
    return FALSE;
  for (; *s != '\0'; s++)
    if (!g_ascii_isdigit (*s) && !(*s >= 'a' && *s <= 'f'))
      return FALSE;
  return TRUE;
}

static gboolean
is_utc_timestamp (const char *s)
{
  g_autoptr (GDateTime) dt = NULL;
  gsize n = strlen (s);

  if (n < 20 || n > 40 || s[n - 1] != 'Z')
    return FALSE;
  dt = g_date_time_new_from_iso8601 (s, NULL);
  return dt != NULL;
}

typedef enum { KIND_ID, KIND_REF, KIND_TEXT, KIND_SHORT, KIND_PATH, KIND_SHA256, KIND_UTC } Kind;

static gboolean
check_kind (const char *v, Kind kind)
{
  switch (kind) {
  case KIND_ID:
    return consent_id_is_valid (v);
  case KIND_REF:
    return is_ref (v);
  case KIND_TEXT:
    return v[0] != '\0' && strlen (v) <= MAX_TEXT;
  case KIND_SHORT:
    return v[0] != '\0' && strlen (v) <= MAX_SHORT;
  case KIND_PATH:
    return v[0] == '/' && strlen (v) <= MAX_PATH_LEN;
  case KIND_SHA256:
    return is_sha256_hex (v);
  case KIND_UTC:
    return is_utc_timestamp (v);
  }
  return FALSE;
}

static const char *const kind_desc[] = {
  [KIND_ID] = "1-64 characters of A-Z a-z 0-9 . _ - (not starting with . or -)",
  [KIND_REF] = "1-128 printable ASCII characters without spaces",
  [KIND_TEXT] = "a non-empty string of at most 8192 bytes",
  [KIND_SHORT] = "a non-empty string of at most 512 bytes",
  [KIND_PATH] = "an absolute path of at most 4096 bytes",
  [KIND_SHA256] = "64 lowercase hex digits",
  [KIND_UTC] = "a UTC ISO 8601 timestamp ending in Z",
};

static gboolean
get_str (json_object *obj, const char *key, Kind kind, gboolean required, char **out,
         GError **error)
{
  const char *v = NULL;

  if (!consent_json_get_string (obj, key, required, &v, error))
    return FALSE;
  if (v == NULL)
    return TRUE;
  if (!check_kind (v, kind))
    return field_fail (error, key, kind_desc[kind]);
  *out = g_strdup (v);
  return TRUE;
}

static gboolean
get_uint (json_object *obj, const char *key, gint64 max, guint64 *out, GError **error)
{
  gint64 v = 0;

  if (!consent_json_get_int64 (obj, key, TRUE, 0, max, &v, error))
    return FALSE;
  *out = (guint64) v;
  return TRUE;
}

static gboolean
get_refs (json_object *obj, const char *key, char ***out, GError **error)
{
  json_object *arr = NULL;
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  gsize n;

  if (!json_object_object_get_ex (obj, key, &arr))
    return field_fail (error, key, "present");
  if (!json_object_is_type (arr, json_type_array))
    return field_fail (error, key, "an array of record ids");
  n = json_object_array_length (arr);
  if (n > MAX_AUTHORIZED)
    return field_fail (error, key, "an array of at most 256 record ids");
  for (gsize i = 0; i < n; i++) {
    json_object *v = json_object_array_get_idx (arr, i);
    if (!json_object_is_type (v, json_type_string) || !is_ref (json_object_get_string (v)))
      return field_fail (error, key, "an array of record ids (1-128 printable ASCII characters)");
    g_strv_builder_add (b, json_object_get_string (v));
  }
  *out = g_strv_builder_end (b);
  return TRUE;
}

static gboolean
get_open_closed (json_object *obj, const char *key, gboolean *open, GError **error)
{
  const char *v = NULL;

  if (!consent_json_get_string (obj, key, TRUE, &v, error))
    return FALSE;
  if (g_strcmp0 (v, "open") != 0 && g_strcmp0 (v, "closed") != 0)
    return field_fail (error, key, "\"open\" or \"closed\"");
  *open = strcmp (v, "open") == 0;
  return TRUE;
}

ConsentNotice *
consent_notice_from_json_object (json_object *n, GError **error)
{
  g_autofree char *version = NULL, *text = NULL, *controller = NULL, *purpose = NULL;
  g_autofree char *storage = NULL, *sha256 = NULL;
  gint64 days = 0;
  g_autoptr (ConsentNotice) notice = NULL;

  if (n == NULL || !json_object_is_type (n, json_type_object)) {
    field_fail (error, "notice", "an object");
    return NULL;
  }
  if (!consent_json_check_keys (n, notice_keys, error) ||
      !get_str (n, "version", KIND_ID, TRUE, &version, error) ||
      !get_str (n, "text", KIND_TEXT, TRUE, &text, error) ||
      !get_str (n, "controller", KIND_SHORT, TRUE, &controller, error) ||
      !get_str (n, "purpose", KIND_SHORT, TRUE, &purpose, error) ||
      !get_str (n, "storage", KIND_SHORT, TRUE, &storage, error) ||
      !get_str (n, "sha256", KIND_SHA256, TRUE, &sha256, error) ||
      !consent_json_get_int64 (n, "retention-days", TRUE, 1, 36500, &days, error))
    return NULL;
  notice = consent_notice_new (version, text, controller, purpose, storage, (guint) days);
  /* The hash is what the ledger records: a notice that does not match it is not the one shown. */
  if (strcmp (notice->sha256, sha256) != 0) {
    field_fail (error, "notice.sha256", "the sha256 of the notice's canonical form");
    return NULL;
  }
  return g_steal_pointer (&notice);
}

static gboolean
get_notice (json_object *obj, ConsentNotice **out, GError **error)
{
  json_object *n = NULL;

  if (!json_object_object_get_ex (obj, "notice", &n))
    return field_fail (error, "notice", "an object");
  *out = consent_notice_from_json_object (n, error);
  return *out != NULL;
}

static gboolean
parse_fields (ConsentMessage *m, json_object *o, GError **error)
{
  const char *s = NULL;
  guint64 u = 0;

  switch (m->type) {
  case CONSENT_MSG_HELLO:
    if (!consent_json_get_string (o, "token", TRUE, &s, error))
      return FALSE;
    if (s[0] == '\0' || strlen (s) > 1024)
      return field_fail (error, "token", "a non-empty string of at most 1024 bytes");
    m->token = g_strdup (s);
    return get_str (o, "participant", KIND_ID, FALSE, &m->participant, error);
  case CONSENT_MSG_CONSENT:
    if (!consent_json_get_string (o, "decision", TRUE, &s, error))
      return FALSE;
    if (strcmp (s, "accept") != 0 && strcmp (s, "decline") != 0)
      return field_fail (error, "decision", "\"accept\" or \"decline\"");
    m->accept = strcmp (s, "accept") == 0;
    return get_str (o, "notice", KIND_ID, TRUE, &m->notice_version, error) &&
           get_str (o, "request", KIND_ID, TRUE, &m->request_id, error);
  case CONSENT_MSG_WITHDRAW:
    return TRUE;
  case CONSENT_MSG_WELCOME:
    return get_str (o, "meeting", KIND_ID, TRUE, &m->meeting, error) &&
           get_str (o, "participant", KIND_ID, TRUE, &m->participant, error) &&
           get_notice (o, &m->notice, error);
  case CONSENT_MSG_REQUEST:
    return get_str (o, "request", KIND_ID, TRUE, &m->request_id, error) &&
           get_str (o, "notice", KIND_ID, TRUE, &m->notice_version, error);
  case CONSENT_MSG_RECORDED:
    if (!consent_json_get_string (o, "event", TRUE, &s, error))
      return FALSE;
    if (!consent_event_type_from_name (s, NULL))
      return field_fail (error, "event", "a ledger event type name");
    m->event = g_strdup (s);
    return get_str (o, "record", KIND_REF, TRUE, &m->record_id, error) &&
           get_str (o, "hash", KIND_REF, TRUE, &m->record_hash, error);
  case CONSENT_MSG_STATE:
    return get_open_closed (o, "gate", &m->gate_open, error) &&
           consent_json_get_bool (o, "recording", TRUE, &m->recording, error);
  case CONSENT_MSG_ERROR:
    if (!consent_json_get_string (o, "code", TRUE, &s, error))
      return FALSE;
    if (!consent_error_code_from_name (s, NULL))
      return field_fail (error, "code", "a consent.v1 error code");
    m->code = g_strdup (s);
    return get_str (o, "message", KIND_SHORT, TRUE, &m->message, error);
  case CONSENT_MSG_GATE:
    if (!get_open_closed (o, "state", &m->gate_open, error) ||
        !get_uint (o, "epoch", G_MAXINT64, &m->epoch, error) ||
        !get_str (o, "reason", KIND_REF, TRUE, &m->reason, error) ||
        !get_refs (o, "authorized-by", &m->authorized_by, error) ||
        !get_uint (o, "lease-ms", MAX_LEASE_MS, &u, error) ||
        !get_str (o, "participant", KIND_ID, FALSE, &m->participant, error))
      return FALSE;
    m->lease_ms = (guint) u;
    return TRUE;
  case CONSENT_MSG_LEASE:
    if (!get_uint (o, "epoch", G_MAXINT64, &m->epoch, error) ||
        !get_uint (o, "lease-ms", MAX_LEASE_MS, &u, error) ||
        !get_str (o, "participant", KIND_ID, FALSE, &m->participant, error))
      return FALSE;
    m->lease_ms = (guint) u;
    return TRUE;
  case CONSENT_MSG_SEGMENT:
    return get_str (o, "path", KIND_PATH, TRUE, &m->path, error) &&
           get_str (o, "sha256", KIND_SHA256, TRUE, &m->sha256, error) &&
           get_uint (o, "size", G_MAXINT64, &m->size, error) &&
           get_uint (o, "epoch", G_MAXINT64, &m->epoch, error) &&
           get_str (o, "start", KIND_UTC, TRUE, &m->start, error) &&
           get_str (o, "end", KIND_UTC, TRUE, &m->end, error) &&
           get_refs (o, "authorized-by", &m->authorized_by, error) &&
           get_str (o, "muxer", KIND_ID, FALSE, &m->muxer, error) &&
           get_str (o, "notice", KIND_ID, FALSE, &m->notice_version, error);
  case CONSENT_MSG_N_TYPES:
    break;
  }
  return FALSE;
}

ConsentMessage *
consent_message_parse (const char *data, gsize len, const ConsentWireLimits *limits,
                       GError **error)
{
  gsize max_bytes = limits != NULL && limits->max_bytes > 0 ? limits->max_bytes
                                                              : CONSENT_WIRE_DEFAULT_MAX_BYTES;
  guint max_depth = limits != NULL && limits->max_depth > 0 ? limits->max_depth
                                                             : CONSENT_WIRE_DEFAULT_MAX_DEPTH;
  g_autoptr (json_object) obj = NULL;
  g_autoptr (ConsentMessage) msg = NULL;
  const char *type = NULL;
  guint t;

  obj = consent_json_parse_strict (data, len, max_bytes, max_depth, error);
  if (obj == NULL)
    return NULL;
  if (!json_object_is_type (obj, json_type_object)) {
    g_set_error_literal (error, CONSENT_ERROR, CONSENT_ERROR_BAD_FIELD,
                         "a message must be a JSON object with a \"type\"");
    return NULL;
  }
  if (!consent_json_get_string (obj, "type", TRUE, &type, error))
    return NULL;
  for (t = 0; t < CONSENT_MSG_N_TYPES && strcmp (type_names[t], type) != 0; t++)
    ;
  if (t == CONSENT_MSG_N_TYPES) {
    g_set_error_literal (error, CONSENT_ERROR, CONSENT_ERROR_UNKNOWN_TYPE,
                         "unknown message type (consent.v1 defines hello, consent, withdraw, "
                         "welcome, request, recorded, state, error, gate, lease, segment)");
    return NULL;
  }
  msg = consent_message_new ((ConsentMessageType) t);
  if (!consent_json_check_keys (obj, type_keys[t], error) || !parse_fields (msg, obj, error))
    return NULL;
  return g_steal_pointer (&msg);
}

/* ---- writing ---- */

static void
add_str (json_object *o, const char *key, const char *v)
{
  json_object_object_add (o, key, json_object_new_string (v));
}

/* Optional fields are left out when unset, so older peers see what they know. */
static void
add_opt_str (json_object *o, const char *key, const char *v)
{
  if (v != NULL)
    add_str (o, key, v);
}

static void
add_refs (json_object *o, const char *key, char **refs)
{
  json_object *arr = json_object_new_array ();

  for (guint i = 0; refs != NULL && refs[i] != NULL; i++)
    json_object_array_add (arr, json_object_new_string (refs[i]));
  json_object_object_add (o, key, arr);
}

json_object *
consent_notice_to_json_object (const ConsentNotice *n)
{
  json_object *o = json_object_new_object ();

  add_str (o, "version", n->version);
  add_str (o, "text", n->text);
  add_str (o, "controller", n->controller);
  add_str (o, "purpose", n->purpose);
  add_str (o, "storage", n->storage);
  add_str (o, "sha256", n->sha256);
  json_object_object_add (o, "retention-days", json_object_new_int64 (n->retention_days));
  return o;
}

/* Whether @m has every string its type requires (the writer never invents fields). */
static gboolean
has_required (const ConsentMessage *m)
{
  switch (m->type) {
  case CONSENT_MSG_HELLO:
    return m->token != NULL;
  case CONSENT_MSG_CONSENT:
  case CONSENT_MSG_REQUEST:
    return m->notice_version != NULL && m->request_id != NULL;
  case CONSENT_MSG_WELCOME:
    return m->meeting != NULL && m->participant != NULL && m->notice != NULL;
  case CONSENT_MSG_RECORDED:
    return m->event != NULL && m->record_id != NULL && m->record_hash != NULL;
  case CONSENT_MSG_ERROR:
    return m->code != NULL && m->message != NULL;
  case CONSENT_MSG_GATE:
    return m->reason != NULL;
  case CONSENT_MSG_SEGMENT:
    return m->path != NULL && m->sha256 != NULL && m->start != NULL && m->end != NULL;
  case CONSENT_MSG_WITHDRAW:
  case CONSENT_MSG_STATE:
  case CONSENT_MSG_LEASE:
    return TRUE;
  case CONSENT_MSG_N_TYPES:
    break;
  }
  return FALSE;
}

static void
add_fields (json_object *o, const ConsentMessage *m)
{
  switch (m->type) {
  case CONSENT_MSG_HELLO:
    add_str (o, "token", m->token);
    add_opt_str (o, "participant", m->participant);
    break;
  case CONSENT_MSG_CONSENT:
    add_str (o, "decision", m->accept ? "accept" : "decline");
    add_str (o, "notice", m->notice_version);
    add_str (o, "request", m->request_id);
    break;
  case CONSENT_MSG_WELCOME:
    add_str (o, "meeting", m->meeting);
    add_str (o, "participant", m->participant);
    json_object_object_add (o, "notice", consent_notice_to_json_object (m->notice));
    break;
  case CONSENT_MSG_REQUEST:
    add_str (o, "request", m->request_id);
    add_str (o, "notice", m->notice_version);
    break;
  case CONSENT_MSG_RECORDED:
    add_str (o, "event", m->event);
    add_str (o, "record", m->record_id);
    add_str (o, "hash", m->record_hash);
    break;
  case CONSENT_MSG_STATE:
    add_str (o, "gate", m->gate_open ? "open" : "closed");
    json_object_object_add (o, "recording", json_object_new_boolean (m->recording));
    break;
  case CONSENT_MSG_ERROR:
    add_str (o, "code", m->code);
    add_str (o, "message", m->message);
    break;
  case CONSENT_MSG_GATE:
    add_str (o, "state", m->gate_open ? "open" : "closed");
    json_object_object_add (o, "epoch", json_object_new_int64 ((gint64) m->epoch));
    add_str (o, "reason", m->reason);
    add_refs (o, "authorized-by", m->authorized_by);
    json_object_object_add (o, "lease-ms", json_object_new_int64 (m->lease_ms));
    add_opt_str (o, "participant", m->participant);
    break;
  case CONSENT_MSG_LEASE:
    json_object_object_add (o, "epoch", json_object_new_int64 ((gint64) m->epoch));
    json_object_object_add (o, "lease-ms", json_object_new_int64 (m->lease_ms));
    add_opt_str (o, "participant", m->participant);
    break;
  case CONSENT_MSG_SEGMENT:
    add_str (o, "path", m->path);
    add_str (o, "sha256", m->sha256);
    json_object_object_add (o, "size", json_object_new_int64 ((gint64) m->size));
    json_object_object_add (o, "epoch", json_object_new_int64 ((gint64) m->epoch));
    add_str (o, "start", m->start);
    add_str (o, "end", m->end);
    add_refs (o, "authorized-by", m->authorized_by);
    add_opt_str (o, "muxer", m->muxer);
    add_opt_str (o, "notice", m->notice_version);
    break;
  case CONSENT_MSG_WITHDRAW:
  case CONSENT_MSG_N_TYPES:
    break;
  }
}

char *
consent_message_to_json (const ConsentMessage *msg)
{
  g_autoptr (json_object) o = NULL;

  g_return_val_if_fail (msg != NULL, NULL);
  if ((guint) msg->type >= CONSENT_MSG_N_TYPES || !has_required (msg))
    return NULL;
  o = json_object_new_object ();
  add_str (o, "type", type_names[msg->type]);
  add_fields (o, msg);
  return consent_json_to_string (o);
}

char *
consent_message_error_json (ConsentError code, const char *message)
{
  g_autoptr (ConsentMessage) msg = consent_message_new (CONSENT_MSG_ERROR);
  g_autofree char *trimmed = NULL;

  /* Error messages may quote peer input: keep them valid UTF-8 and short. */
  trimmed = g_utf8_make_valid (message != NULL && message[0] != '\0' ? message : "error", -1);
  if (strlen (trimmed) > MAX_SHORT) {
    const char *cut = g_utf8_find_prev_char (trimmed, trimmed + MAX_SHORT);
    trimmed[cut - trimmed] = '\0';
  }
  msg->code = g_strdup (consent_error_code_name (code));
  msg->message = g_steal_pointer (&trimmed);
  return consent_message_to_json (msg);
}
