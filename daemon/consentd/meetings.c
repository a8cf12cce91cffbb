/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* meetings.c: the meetings in progress, their bridge to the ledger recorder,
 * and the fan-out of their signals to websocket sessions. */
#include "meetings.h"

#include <string.h>

#include "ledger-reader.h"
#include "ledger-recorder.h"
#include "metrics.h"
#include "ws.h"

/* ---- the bridge recorder ---------------------------------------------------
 * Every meeting records through this thin ConsentRecorder. Normally it hands
 * events to the ledger recorder and times the acknowledgement; while the
 * registry replays the ledger after a restart it acknowledges at once with
 * the id of the record being replayed, so a replay writes nothing. */

#define CONSENTD_TYPE_BRIDGE_RECORDER (consentd_bridge_recorder_get_type ())
G_DECLARE_FINAL_TYPE (ConsentdBridgeRecorder, consentd_bridge_recorder, CONSENTD,
                      BRIDGE_RECORDER, GObject)

struct _ConsentdBridgeRecorder {
  GObject parent;
  ConsentRecorder *inner;
  const char *replay_record_id; /* non-NULL while replaying */
  GHashTable *submitted_us;     /* "meeting-ptr/ticket" → submit time */
};

static void consentd_bridge_recorder_iface_init (ConsentRecorderInterface *iface);
G_DEFINE_TYPE_WITH_CODE (ConsentdBridgeRecorder, consentd_bridge_recorder, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (CONSENT_TYPE_RECORDER,
                                                consentd_bridge_recorder_iface_init))

static char *
ticket_key (ConsentMeeting *meeting, guint64 ticket)
{
  return g_strdup_printf ("%p/%" G_GUINT64_FORMAT, (void *)meeting, ticket);
}

static void
bridge_submit (ConsentRecorder *recorder, ConsentMeeting *meeting,
               const ConsentEvent *event)
{
  ConsentdBridgeRecorder *self = CONSENTD_BRIDGE_RECORDER (recorder);
  gint64 *t;

  if (self->replay_record_id) {
    consent_meeting_record_done (meeting, event->ticket, self->replay_record_id, NULL);
    return;
  }
  t = g_new (gint64, 1);
  *t = g_get_monotonic_time ();
  g_hash_table_insert (self->submitted_us, ticket_key (meeting, event->ticket), t);
  consent_recorder_submit (self->inner, meeting, event);
}

static void
consentd_bridge_recorder_iface_init (ConsentRecorderInterface *iface)
{
  iface->submit = bridge_submit;
}

static void
consentd_bridge_recorder_finalize (GObject *obj)
{
  ConsentdBridgeRecorder *self = CONSENTD_BRIDGE_RECORDER (obj);

  g_clear_object (&self->inner);
  g_hash_table_unref (self->submitted_us);
  G_OBJECT_CLASS (consentd_bridge_recorder_parent_class)->finalize (obj);
}

static void
consentd_bridge_recorder_class_init (ConsentdBridgeRecorderClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = consentd_bridge_recorder_finalize;
}

static void
consentd_bridge_recorder_init (ConsentdBridgeRecorder *self)
{
  self->submitted_us = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

/* ---- the registry ---------------------------------------------------------- */

typedef struct {
  ConsentMeeting *meeting;
  GPtrArray *sessions; /* ConsentdSession*, borrowed: sessions detach on close */
  gulong handlers[2];
} MeetingEntry;

struct _ConsentdRegistry {
  ConsentdDaemon *daemon;
  ConsentdBridgeRecorder *bridge;
  GHashTable *meetings; /* id → MeetingEntry* */
  gulong recorded_handler, failed_handler;
  gint64 replay_now_us;
};

static void
meeting_entry_free (MeetingEntry *e)
{
  for (guint i = 0; i < G_N_ELEMENTS (e->handlers); i++)
    g_clear_signal_handler (&e->handlers[i], e->meeting);
  g_ptr_array_unref (e->sessions);
  g_object_unref (e->meeting);
  g_free (e);
}

/* A decision flipped. Closing decisions arrive before their ledger record is
 * written, opening ones only once their authorizing records are durable:
 * libconsent guarantees the order, we only pass it on at once. The
 * meeting-wide decision goes to meeting-wide recorders and (as `state`) to
 * participants; a participant's own decision (scope=participant) goes to the
 * recorders that follow that participant. */
static void
on_decision_changed (ConsentMeeting *meeting, const char *participant,
                     ConsentGateDecision *decision, gpointer user_data)
{
  ConsentdRegistry *reg = user_data;
  MeetingEntry *e = g_hash_table_lookup (reg->meetings, consent_meeting_get_id (meeting));

  if (!participant && !reg->bridge->replay_record_id)
    consentd_metrics_gate (reg->daemon->metrics, decision->open);
  if (!e)
    return;
  for (guint i = 0; i < e->sessions->len; i++) {
    ConsentdSession *s = g_ptr_array_index (e->sessions, i);
    if (consentd_session_follows (s, meeting, participant))
      consentd_session_send_gate (s, decision);
    else if (!participant && !consentd_session_is_recorder (s))
      consentd_session_send_state (s, meeting);
  }
}

static void
on_request (ConsentMeeting *meeting, const char *request_id, gpointer user_data)
{
  ConsentdRegistry *reg = user_data;
  MeetingEntry *e = g_hash_table_lookup (reg->meetings, consent_meeting_get_id (meeting));
  g_autoptr (ConsentMessage) msg = consent_message_new (CONSENT_MSG_REQUEST);

  if (!e)
    return;
  msg->request_id = g_strdup (request_id);
  msg->notice_version = g_strdup (consent_meeting_get_notice (meeting)->version);
  for (guint i = 0; i < e->sessions->len; i++) {
    ConsentdSession *s = g_ptr_array_index (e->sessions, i);
    if (!consentd_session_is_recorder (s)) {
      consentd_session_send (s, msg);
      consentd_session_send_state (s, meeting);
    }
  }
}

/* The ledger made an event durable: time it, and hand the receipt (record id
 * and hash) to the sessions of the person it is about. */
static void
on_ledger_recorded (GObject *recorder, ConsentMeeting *meeting, ConsentEvent *event,
                    const char *record_id, const char *hash, const char *subject,
                    gpointer user_data)
{
  ConsentdRegistry *reg = user_data;
  g_autofree char *key = ticket_key (meeting, event->ticket);
  gint64 *t = g_hash_table_lookup (reg->bridge->submitted_us, key);
  MeetingEntry *e;
  g_autoptr (ConsentMessage) msg = NULL;

  if (t) {
    consentd_metrics_ledger_ack (reg->daemon->metrics, g_get_monotonic_time () - *t);
    g_hash_table_remove (reg->bridge->submitted_us, key);
  }
  consentd_metrics_decision (reg->daemon->metrics, consent_event_type_name (event->type));
  e = g_hash_table_lookup (reg->meetings, consent_meeting_get_id (meeting));
  /* Gate events name no participant; everything about a person (join,
   * notice-shown, answers, leave) is that person's receipt. */
  if (!e || e->meeting != meeting || !event->participant)
    return;
  msg = consent_message_new (CONSENT_MSG_RECORDED);
  msg->event = g_strdup (consent_event_type_name (event->type));
  msg->record_id = g_strdup (record_id);
  msg->record_hash = g_strdup (hash);
  for (guint i = 0; i < e->sessions->len; i++) {
    ConsentdSession *s = g_ptr_array_index (e->sessions, i);
    if (!consentd_session_is_recorder (s) &&
        g_strcmp0 (consentd_session_get_participant (s), event->participant) == 0)
      consentd_session_send (s, msg);
  }
}

static void
on_ledger_failed (GObject *recorder, ConsentMeeting *meeting, ConsentEvent *event,
                  const GError *error, gpointer user_data)
{
  ConsentdRegistry *reg = user_data;
  g_autofree char *key = ticket_key (meeting, event->ticket);

  g_hash_table_remove (reg->bridge->submitted_us, key);
  g_warning ("ledger refused a %s record of meeting %s: %s; the meeting fails closed",
             consent_event_type_name (event->type), consent_meeting_get_id (meeting),
             error ? error->message : "unknown error");
}

ConsentdRegistry *
consentd_registry_new (ConsentdDaemon *daemon, ConsentRecorder *recorder)
{
  ConsentdRegistry *reg = g_new0 (ConsentdRegistry, 1);

  reg->daemon = daemon;
  reg->bridge = g_object_new (CONSENTD_TYPE_BRIDGE_RECORDER, NULL);
  reg->bridge->inner = g_object_ref (recorder);
  reg->meetings = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify)meeting_entry_free);
  if (CONSENT_IS_LEDGER_RECORDER (recorder)) {
    reg->recorded_handler =
        g_signal_connect (recorder, "recorded", G_CALLBACK (on_ledger_recorded), reg);
    reg->failed_handler =
        g_signal_connect (recorder, "failed", G_CALLBACK (on_ledger_failed), reg);
  }
  return reg;
}

void
consentd_registry_free (ConsentdRegistry *reg)
{
  if (!reg)
    return;
  g_hash_table_unref (reg->meetings);
  g_clear_signal_handler (&reg->recorded_handler, reg->bridge->inner);
  g_clear_signal_handler (&reg->failed_handler, reg->bridge->inner);
  g_object_unref (reg->bridge);
  g_free (reg);
}

ConsentMeeting *
consentd_registry_lookup (ConsentdRegistry *reg, const char *id)
{
  MeetingEntry *e = g_hash_table_lookup (reg->meetings, id);

  return e ? e->meeting : NULL;
}

static MeetingEntry *
registry_add (ConsentdRegistry *reg, const char *id)
{
  MeetingEntry *e = g_new0 (MeetingEntry, 1);

  e->meeting =
      consent_meeting_new (id, reg->daemon->policy, CONSENT_RECORDER (reg->bridge));
  e->sessions = g_ptr_array_new ();
  e->handlers[0] = g_signal_connect (e->meeting, "decision-changed",
                                     G_CALLBACK (on_decision_changed), reg);
  e->handlers[1] = g_signal_connect (e->meeting, "request", G_CALLBACK (on_request), reg);
  g_hash_table_insert (reg->meetings, g_strdup (id), e);
  return e;
}

ConsentMeeting *
consentd_registry_ensure (ConsentdRegistry *reg, const char *id, gboolean *created,
                          GError **error)
{
  MeetingEntry *e = g_hash_table_lookup (reg->meetings, id);

  *created = FALSE;
  if (e)
    return e->meeting;
  if (g_hash_table_size (reg->meetings) >= reg->daemon->config->max_meetings) {
    g_set_error (
        error, CONSENT_ERROR, CONSENT_ERROR_CONFLICT,
        "%u meetings are in progress, the configured max-meetings; end one first",
        reg->daemon->config->max_meetings);
    return NULL;
  }
  *created = TRUE;
  return registry_add (reg, id)->meeting;
}

gboolean
consentd_registry_end (ConsentdRegistry *reg, const char *id, const char *actor)
{
  MeetingEntry *e = g_hash_table_lookup (reg->meetings, id);
  g_autoptr (GPtrArray) sessions = NULL;

  if (!e)
    return FALSE;
  consent_meeting_end (e->meeting, actor);
  /* Sessions detach themselves while closing: walk a copy. */
  sessions = g_ptr_array_copy (e->sessions, NULL, NULL);
  for (guint i = 0; i < sessions->len; i++)
    consentd_session_meeting_ended (g_ptr_array_index (sessions, i));
  g_hash_table_remove (reg->meetings, id);
  return TRUE;
}

guint
consentd_registry_count (ConsentdRegistry *reg)
{
  return g_hash_table_size (reg->meetings);
}

static gint
compare_meeting_ids (gconstpointer a, gconstpointer b)
{
  return strcmp (consent_meeting_get_id (*(ConsentMeeting *const *)a),
                 consent_meeting_get_id (*(ConsentMeeting *const *)b));
}

GPtrArray *
consentd_registry_list (ConsentdRegistry *reg)
{
  GPtrArray *list = g_ptr_array_sized_new (g_hash_table_size (reg->meetings));
  GHashTableIter it;
  gpointer v;

  g_hash_table_iter_init (&it, reg->meetings);
  while (g_hash_table_iter_next (&it, NULL, &v))
    g_ptr_array_add (list, ((MeetingEntry *)v)->meeting);
  g_ptr_array_sort (list, compare_meeting_ids);
  return list;
}

void
consentd_registry_attach (ConsentdRegistry *reg, const char *meeting, ConsentdSession *s)
{
  MeetingEntry *e = g_hash_table_lookup (reg->meetings, meeting);

  if (e)
    g_ptr_array_add (e->sessions, s);
}

void
consentd_registry_detach (ConsentdRegistry *reg, const char *meeting, ConsentdSession *s)
{
  MeetingEntry *e = g_hash_table_lookup (reg->meetings, meeting);

  if (e)
    g_ptr_array_remove_fast (e->sessions, s);
}

/* Every meeting fails closed in libconsent, so GET state, `state` messages
 * and recorders all agree. Recorders whose gate was open hear of it through
 * "decision-changed"; those already closed are told the new reason here. */
void
consentd_registry_fail_all (ConsentdRegistry *reg)
{
  GHashTableIter it;
  gpointer v;

  g_hash_table_iter_init (&it, reg->meetings);
  while (g_hash_table_iter_next (&it, NULL, &v)) {
    MeetingEntry *e = v;
    g_autoptr (GPtrArray) was_closed = g_ptr_array_new ();

    for (guint i = 0; i < e->sessions->len; i++) {
      ConsentdSession *s = g_ptr_array_index (e->sessions, i);
      g_autoptr (ConsentGateDecision) d = NULL;
      if (!consentd_session_is_recorder (s))
        continue;
      d = consentd_session_get_decision (s, e->meeting);
      if (!d->open)
        g_ptr_array_add (was_closed, s);
    }
    consent_meeting_fail_ledger (e->meeting);
    for (guint i = 0; i < was_closed->len; i++) {
      ConsentdSession *s = g_ptr_array_index (was_closed, i);
      g_autoptr (ConsentGateDecision) d = consentd_session_get_decision (s, e->meeting);
      consentd_session_send_gate (s, d);
    }
  }
}

/* ---- restart recovery ------------------------------------------------------ */

static gint64
replay_clock (gpointer user_data)
{
  ConsentdRegistry *reg = user_data;

  return reg->replay_now_us;
}

/* The details of a replayed record, or NULL when it has none we can read. */
static json_object *
replay_details (const ConsentLedgerRecord *r)
{
  if (!r->details_json)
    return NULL;
  return consent_json_parse_strict (r->details_json, strlen (r->details_json),
                                    CONSENT_LEDGER_MAX_RECORD_BYTES, 8, NULL);
}

/* A notice-changed record restores the meeting's notice from the full notice
 * in its details ({"notice":{…}}, libconsent's wire form) when that notice
 * hashes to the sha256 the record itself carries; otherwise the site's notice
 * stays and answers to the override no longer count (fail closed). */
static void
replay_notice (ConsentMeeting *meeting, const ConsentLedgerRecord *r)
{
  g_autoptr (json_object) o = replay_details (r);
  g_autoptr (ConsentNotice) notice = NULL;
  g_autoptr (GError) err = NULL;
  json_object *n = NULL;

  if (!o || !r->notice_sha256 || !json_object_object_get_ex (o, "notice", &n) ||
      !(notice = consent_notice_from_json_object (n, &err)) ||
      !g_str_equal (notice->sha256, r->notice_sha256)) {
    g_warning ("ledger record %s of meeting %s does not carry a notice matching its "
               "sha256%s%s; the meeting keeps the site's notice",
               r->id, r->meeting, err ? ": " : "", err ? err->message : "");
    return;
  }
  consent_meeting_set_notice (meeting, notice, r->actor ? r->actor : "admin", NULL);
}

/* A meeting-updated record restores the title ({"title": …}); records
 * written before titles were kept say nothing and change nothing. */
static void
replay_title (ConsentMeeting *meeting, const ConsentLedgerRecord *r)
{
  g_autoptr (json_object) o = replay_details (r);
  const char *title = NULL;

  if (o && consent_json_get_string (o, "title", FALSE, &title, NULL) && title &&
      g_strcmp0 (title, consent_meeting_get_title (meeting)) != 0)
    consent_meeting_set_title (meeting, title, NULL);
}

static void
replay_record (ConsentdRegistry *reg, const ConsentLedgerRecord *r)
{
  MeetingEntry *e = g_hash_table_lookup (reg->meetings, r->meeting);
  ConsentMethod method = {r->channel, NULL, NULL};
  g_autoptr (GError) err = NULL;
  const char *p = r->participant;
  const char *actor = r->actor ? r->actor : "system";
  ConsentEventType type;

  if (!consent_event_type_from_name (r->type, &type))
    return; /* ledger-internal records (checkpoints, erasure, recovery) */
  if (type == CONSENT_EVENT_MEETING_ENDED) {
    g_hash_table_remove (reg->meetings, r->meeting);
    return;
  }
  if (!e) {
    e = registry_add (reg, r->meeting);
    consent_meeting_set_time_func (e->meeting, replay_clock, reg);
  }
  reg->replay_now_us = r->ts_us;
  reg->bridge->replay_record_id = r->id;
  switch (type) {
  case CONSENT_EVENT_JOIN:
    if (p)
      consent_meeting_join (e->meeting, p, r->display_name, r->role, &method, &err);
    break;
  case CONSENT_EVENT_LEAVE:
    if (p)
      consent_meeting_leave (e->meeting, p, &method, &err);
    break;
  case CONSENT_EVENT_REQUEST:
    consent_meeting_request_recording (e->meeting, actor, &err);
    break;
  case CONSENT_EVENT_RECORDING_STOP:
    consent_meeting_stop_recording (e->meeting, actor, &err);
    break;
  case CONSENT_EVENT_ACCEPT:
  case CONSENT_EVENT_DECLINE:
    if (p)
      consent_meeting_answer (e->meeting, p, type == CONSENT_EVENT_ACCEPT,
                              r->notice_version, NULL, &method, &err);
    break;
  case CONSENT_EVENT_WITHDRAW:
    if (p)
      consent_meeting_withdraw (e->meeting, p, &method, &err);
    break;
  case CONSENT_EVENT_NOTICE_CHANGED:
    replay_notice (e->meeting, r);
    break;
  case CONSENT_EVENT_MEETING_UPDATED:
    replay_title (e->meeting, r);
    break;
  case CONSENT_EVENT_TIMEOUT:
    consent_meeting_tick (e->meeting, r->ts_us);
    break;
  default:
    break; /* derived (gate-*) or informational (segment, notice-shown) */
  }
  reg->bridge->replay_record_id = NULL;
  if (err)
    g_debug ("replay of record %s (%s) of meeting %s: %s", r->id, r->type, r->meeting,
             err->message);
}

gboolean
consentd_registry_recover (ConsentdRegistry *reg, ConsentLedger *ledger,
                           guint *n_meetings, GError **error)
{
  g_autoptr (ConsentLedgerReader) reader =
      consent_ledger_reader_new_for_ledger (ledger, error);
  GHashTableIter it;
  gpointer v;

  if (!reader)
    return FALSE;
  for (;;) {
    g_autoptr (ConsentLedgerRecord) r = NULL;
    if (!consent_ledger_reader_next (reader, &r, error))
      return FALSE;
    if (!r)
      break;
    if (r->meeting && consent_id_is_valid (r->meeting))
      replay_record (reg, r);
  }
  g_hash_table_iter_init (&it, reg->meetings);
  while (g_hash_table_iter_next (&it, NULL, &v))
    consent_meeting_set_time_func (((MeetingEntry *)v)->meeting, NULL, NULL);
  *n_meetings = g_hash_table_size (reg->meetings);
  return TRUE;
}

guint
consentd_registry_request_again (ConsentdRegistry *reg)
{
  GHashTableIter it;
  gpointer v;
  guint n = 0;

  g_hash_table_iter_init (&it, reg->meetings);
  while (g_hash_table_iter_next (&it, NULL, &v)) {
    ConsentMeeting *m = ((MeetingEntry *)v)->meeting;
    g_autoptr (GError) err = NULL;

    if (!consent_meeting_is_recording_requested (m))
      continue;
    if (consent_meeting_request_recording (m, "system", &err))
      n++;
    else
      g_warning ("cannot ask meeting %s for consent again: %s",
                 consent_meeting_get_id (m), err->message);
  }
  return n;
}

void
consentd_registry_tick (ConsentdRegistry *reg)
{
  GHashTableIter it;
  gpointer v;
  gint64 now = g_get_real_time ();

  g_hash_table_iter_init (&it, reg->meetings);
  while (g_hash_table_iter_next (&it, NULL, &v))
    consent_meeting_tick (((MeetingEntry *)v)->meeting, now);
}
