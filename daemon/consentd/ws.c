/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ws.c: one consent.v1 websocket session: hello, limits, the write queue. */
#include "ws.h"

#include <string.h>

#include "meetings.h"
#include "metrics.h"

/* A peer that does not read its messages must not make us buffer without
 * bound: past this many queued messages the session is dropped. */
#define SESSION_MAX_QUEUED 256

/* RFC 6455 close codes we use. */
#define CLOSE_NORMAL 1000
#define CLOSE_UNSUPPORTED 1003
#define CLOSE_BAD_DATA 1007
#define CLOSE_POLICY 1008
#define CLOSE_TOO_BIG 1009
#define CLOSE_ERROR 1011

struct _ConsentdSession {
  ConsentdDaemon *daemon;
  struct lws *wsi;
  char ip[64];
  char *client;        /* User-Agent, personal data: only for the ledger */
  GQueue out;          /* GBytes* of JSON text */
  GByteArray *rx;      /* the message being reassembled from fragments */
  gboolean rx_discard; /* rest of an oversized or binary message */
  gboolean hello_done;
  ConsentRole role;
  char *meeting;
  char *participant;
  char *follow;     /* recorders: the participant whose decisions they follow, or NULL */
  gboolean closing; /* send what is queued, then close */
  int close_code;
  double tokens; /* rate limit bucket */
  gint64 refill_us;
  gint64 last_rate_error_us;
  guint hello_timer;
  guint lease_timer;
};

/* lws keeps this in its per-session storage. */
typedef struct {
  ConsentdSession *s;
} SessionSlot;

const char *
consentd_session_get_participant (ConsentdSession *s)
{
  return s->participant;
}

gboolean
consentd_session_is_recorder (ConsentdSession *s)
{
  return s->hello_done && s->role == CONSENT_ROLE_RECORDER;
}

/* Which of the meeting's decisions the recorder follows: its participant's
 * own only in participant scope; in meeting scope libconsent has just the
 * meeting-wide one (NULL). */
static const char *
decision_key (ConsentdSession *s, ConsentMeeting *m)
{
  return consent_meeting_get_policy (m)->scope == CONSENT_SCOPE_PARTICIPANT ? s->follow
                                                                            : NULL;
}

gboolean
consentd_session_follows (ConsentdSession *s, ConsentMeeting *m, const char *participant)
{
  return consentd_session_is_recorder (s) &&
         g_strcmp0 (decision_key (s, m), participant) == 0;
}

ConsentGateDecision *
consentd_session_get_decision (ConsentdSession *s, ConsentMeeting *m)
{
  return consent_meeting_get_decision (m, decision_key (s, m));
}

static void
queue_text (ConsentdSession *s, char *json)
{
  if (!json || s->closing) {
    g_free (json);
    return;
  }
  if (g_queue_get_length (&s->out) >= SESSION_MAX_QUEUED) {
    g_free (json);
    g_warning ("session from %s does not read its messages; closing it", s->ip);
    s->closing = TRUE;
    s->close_code = CLOSE_POLICY;
    lws_callback_on_writable (s->wsi);
    return;
  }
  g_queue_push_tail (&s->out, g_bytes_new_take (json, strlen (json)));
  lws_callback_on_writable (s->wsi);
}

void
consentd_session_send (ConsentdSession *s, const ConsentMessage *msg)
{
  char *json = consent_message_to_json (msg);

  if (!json)
    g_critical ("refusing to send an incomplete %s message",
                consent_message_type_name (msg->type));
  queue_text (s, json);
}

/* Sends an `error` and, with @close_code, closes after it. */
static void
send_error (ConsentdSession *s, ConsentError code, const char *message, int close_code)
{
  g_autoptr (ConsentMessage) msg = consent_message_new (CONSENT_MSG_ERROR);

  msg->code = g_strdup (consent_error_code_name (code));
  msg->message = g_strdup (message);
  consentd_metrics_protocol_error (s->daemon->metrics, msg->code);
  consentd_session_send (s, msg);
  if (close_code) {
    s->closing = TRUE;
    s->close_code = close_code;
    lws_callback_on_writable (s->wsi);
  }
}

static void
send_gerror (ConsentdSession *s, const GError *error, int close_code)
{
  ConsentError code =
      error->domain == CONSENT_ERROR ? (ConsentError)error->code : CONSENT_ERROR_INVALID;
  send_error (s, code, error->message, close_code);
}

void
consentd_session_send_gate (ConsentdSession *s, const ConsentGateDecision *d)
{
  g_autoptr (ConsentMessage) msg = consent_message_new (CONSENT_MSG_GATE);

  msg->gate_open = d->open;
  msg->epoch = d->epoch;
  msg->reason = g_strdup (d->reason);
  msg->authorized_by = g_strdupv (d->authorized_by ? d->authorized_by : (char *[]){NULL});
  msg->lease_ms = s->daemon->config->lease_ms;
  msg->participant = g_strdup (s->follow);
  consentd_session_send (s, msg);
}

void
consentd_session_send_state (ConsentdSession *s, ConsentMeeting *meeting)
{
  g_autoptr (ConsentMessage) msg = consent_message_new (CONSENT_MSG_STATE);
  g_autoptr (ConsentGateDecision) d = consent_meeting_get_decision (meeting, NULL);

  msg->gate_open = d->open;
  msg->recording = consent_meeting_is_recording_requested (meeting);
  consentd_session_send (s, msg);
}

void
consentd_session_meeting_ended (ConsentdSession *s)
{
  if (s->hello_done && !consentd_session_is_recorder (s)) {
    g_autoptr (ConsentMessage) msg = consent_message_new (CONSENT_MSG_STATE);
    msg->gate_open = FALSE;
    msg->recording = FALSE;
    consentd_session_send (s, msg);
  }
  consentd_registry_detach (s->daemon->registry, s->meeting, s);
  g_clear_pointer (&s->meeting, g_free);
  s->closing = TRUE;
  s->close_code = CLOSE_NORMAL;
  lws_callback_on_writable (s->wsi);
}

/* ---- timers ---------------------------------------------------------------- */

static gboolean
on_hello_timeout (gpointer user_data)
{
  ConsentdSession *s = user_data;

  s->hello_timer = 0;
  if (!s->hello_done)
    send_error (s, CONSENT_ERROR_TIMEOUT, "no hello with a token in time", CLOSE_POLICY);
  return G_SOURCE_REMOVE;
}

static gboolean
on_lease_tick (gpointer user_data)
{
  ConsentdSession *s = user_data;
  ConsentMeeting *m =
      s->meeting ? consentd_registry_lookup (s->daemon->registry, s->meeting) : NULL;
  g_autoptr (ConsentMessage) msg = consent_message_new (CONSENT_MSG_LEASE);
  g_autoptr (ConsentGateDecision) d = NULL;

  if (!m || s->closing)
    return G_SOURCE_CONTINUE;
  /* A failed ledger stops the heartbeats: the recorder's lease expires and
   * its gate closes even if our close message is lost. */
  if (s->daemon->ledger_failed)
    return G_SOURCE_CONTINUE;
  /* The epoch of the decision this recorder follows, so it renews that gate. */
  d = consentd_session_get_decision (s, m);
  msg->epoch = d->epoch;
  msg->lease_ms = s->daemon->config->lease_ms;
  msg->participant = g_strdup (s->follow);
  consentd_session_send (s, msg);
  return G_SOURCE_CONTINUE;
}

/* ---- incoming messages ----------------------------------------------------- */

static gboolean
rate_allows (ConsentdSession *s)
{
  double rate = s->daemon->config->messages_per_second;
  gint64 now = g_get_monotonic_time ();

  s->tokens = MIN (rate, s->tokens + (now - s->refill_us) * rate / G_USEC_PER_SEC);
  s->refill_us = now;
  if (s->tokens < 1.0)
    return FALSE;
  s->tokens -= 1.0;
  return TRUE;
}

static void
welcome_participant (ConsentdSession *s, ConsentMeeting *m)
{
  g_autoptr (ConsentMessage) welcome = consent_message_new (CONSENT_MSG_WELCOME);
  ConsentMethod method = {"ws", s->client, s->ip};
  ConsentParticipantState *ps = NULL;

  welcome->meeting = g_strdup (s->meeting);
  welcome->participant = g_strdup (s->participant);
  welcome->notice = consent_notice_ref (consent_meeting_get_notice (m));
  consentd_session_send (s, welcome);
  /* Recording the notice as shown is best effort: someone not (yet) in the
   * roster may read the notice, but nothing about them is recorded. */
  if (consent_meeting_get_participant (m, s->participant, &ps) && ps->present)
    consent_meeting_notice_shown (m, s->participant, &method, NULL);
  g_clear_pointer (&ps, consent_participant_state_free);
  if (consent_meeting_get_request_id (m)) {
    g_autoptr (ConsentMessage) req = consent_message_new (CONSENT_MSG_REQUEST);
    req->request_id = g_strdup (consent_meeting_get_request_id (m));
    req->notice_version = g_strdup (consent_meeting_get_notice (m)->version);
    consentd_session_send (s, req);
  }
  consentd_session_send_state (s, m);
}

static void
handle_hello (ConsentdSession *s, const ConsentMessage *msg)
{
  ConsentdDaemon *d = s->daemon;
  g_autoptr (GError) err = NULL;
  g_autoptr (ConsentTokenClaims) claims =
      consent_token_verify (d->state->secret, sizeof d->state->secret, msg->token,
                            g_get_real_time () / G_USEC_PER_SEC, NULL, &err);
  ConsentMeeting *m;

  if (!claims) {
    send_gerror (s, err, CLOSE_POLICY);
    return;
  }
  /* A participant speaks only for itself; only recorders follow someone. */
  if (msg->participant && claims->role == CONSENT_ROLE_PARTICIPANT &&
      !g_str_equal (msg->participant, claims->participant)) {
    send_error (
        s, CONSENT_ERROR_WRONG_ROLE,
        "a participant token follows only its own participant; omit \"participant\" "
        "or use a recorder token",
        CLOSE_POLICY);
    return;
  }
  m = consentd_registry_lookup (d->registry, claims->meeting);
  if (!m) {
    send_error (s, CONSENT_ERROR_UNKNOWN_MEETING,
                "the token's meeting is not in progress", CLOSE_POLICY);
    return;
  }
  g_clear_handle_id (&s->hello_timer, g_source_remove);
  s->hello_done = TRUE;
  s->role = claims->role;
  s->meeting = g_strdup (claims->meeting);
  s->participant = g_strdup (claims->participant);
  if (s->role == CONSENT_ROLE_RECORDER)
    s->follow = g_strdup (msg->participant);
  consentd_registry_attach (d->registry, s->meeting, s);
  if (s->role == CONSENT_ROLE_RECORDER) {
    g_autoptr (ConsentGateDecision) gate = consentd_session_get_decision (s, m);
    consentd_session_send_gate (s, gate);
    s->lease_timer = g_timeout_add (MAX (d->config->lease_ms / 3, 100), on_lease_tick, s);
  } else {
    welcome_participant (s, m);
  }
}

static void
handle_participant_message (ConsentdSession *s, ConsentMeeting *m,
                            const ConsentMessage *msg)
{
  ConsentMethod method = {"ws", s->client, s->ip};
  g_autoptr (GError) err = NULL;
  gboolean ok;

  if (s->daemon->ledger_failed) {
    send_error (s, CONSENT_ERROR_LEDGER,
                "the consent ledger failed; no answers are taken", 0);
    return;
  }
  if (msg->type == CONSENT_MSG_CONSENT)
    ok = consent_meeting_answer (m, s->participant, msg->accept, msg->notice_version,
                                 msg->request_id, &method, &err);
  else
    ok = consent_meeting_withdraw (m, s->participant, &method, &err);
  if (!ok)
    send_gerror (s, err, 0);
}

static void
handle_segment (ConsentdSession *s, ConsentMeeting *m, const ConsentMessage *msg)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *details = consent_message_to_json (msg);

  if (!details || !consent_meeting_record_segment (m, details, &err)) {
    if (err)
      send_gerror (s, err, 0);
    else
      send_error (s, CONSENT_ERROR_BAD_FIELD, "segment lacks required fields", 0);
  }
}

static void
handle_message (ConsentdSession *s, const char *data, gsize len)
{
  ConsentdConfig *c = s->daemon->config;
  ConsentWireLimits limits = {c->max_message_bytes, c->max_json_depth};
  g_autoptr (GError) err = NULL;
  g_autoptr (ConsentMessage) msg = consent_message_parse (data, len, &limits, &err);
  ConsentMeeting *m;

  if (!msg) {
    gboolean utf8 = err->domain == CONSENT_ERROR && err->code == CONSENT_ERROR_BAD_UTF8;
    /* Bad UTF-8 breaks the protocol (RFC 6455 says close with 1007);
     * other bad messages are answered and the session goes on. */
    send_gerror (s, err, utf8 ? CLOSE_BAD_DATA : 0);
    return;
  }
  if (!s->hello_done) {
    if (msg->type != CONSENT_MSG_HELLO)
      send_error (s, CONSENT_ERROR_CONFLICT, "the first message must be hello",
                  CLOSE_POLICY);
    else
      handle_hello (s, msg);
    return;
  }
  m = consentd_registry_lookup (s->daemon->registry, s->meeting);
  if (!m) {
    send_error (s, CONSENT_ERROR_UNKNOWN_MEETING, "the meeting has ended", CLOSE_NORMAL);
    return;
  }
  switch (msg->type) {
  case CONSENT_MSG_CONSENT:
  case CONSENT_MSG_WITHDRAW:
    if (s->role != CONSENT_ROLE_PARTICIPANT)
      send_error (s, CONSENT_ERROR_WRONG_ROLE,
                  "a recorder cannot answer for participants", 0);
    else
      handle_participant_message (s, m, msg);
    break;
  case CONSENT_MSG_SEGMENT:
    if (s->role != CONSENT_ROLE_RECORDER)
      send_error (s, CONSENT_ERROR_WRONG_ROLE, "only a recorder reports segments", 0);
    else
      handle_segment (s, m, msg);
    break;
  case CONSENT_MSG_HELLO:
    send_error (s, CONSENT_ERROR_CONFLICT, "hello was already received", 0);
    break;
  default:
    send_error (s, CONSENT_ERROR_UNKNOWN_TYPE, "servers do not accept this message type",
                0);
    break;
  }
}

/* Reassembles fragments, counting the size across all of them (lws has no
 * per-message cap), and rejects binary frames. */
static void
on_receive (ConsentdSession *s, const void *in, size_t len)
{
  struct lws *wsi = s->wsi;
  gboolean first = lws_is_first_fragment (wsi), last = lws_is_final_fragment (wsi);

  if (first) {
    g_byte_array_set_size (s->rx, 0);
    s->rx_discard = FALSE;
    if (lws_frame_is_binary (wsi)) {
      send_error (s, CONSENT_ERROR_INVALID,
                  "binary frames are not part of consent.v1 (send JSON text)",
                  CLOSE_UNSUPPORTED);
      s->rx_discard = TRUE;
    } else if (!rate_allows (s)) {
      /* Dropped, not closed: closing while the peer keeps sending ends in a
       * TCP reset that loses our close frame. One error per second at most. */
      gint64 now = g_get_monotonic_time ();
      if (now - s->last_rate_error_us >= G_USEC_PER_SEC) {
        s->last_rate_error_us = now;
        send_error (
            s, CONSENT_ERROR_RATE_LIMITED,
            "more messages per second than messages-per-second allows; message dropped",
            0);
      }
      s->rx_discard = TRUE;
    }
  }
  if (s->rx_discard || s->closing)
    return;
  if (s->rx->len + len + lws_remaining_packet_payload (wsi) >
      s->daemon->config->max_message_bytes) {
    send_error (s, CONSENT_ERROR_TOO_LARGE, "message exceeds max-message-bytes",
                CLOSE_TOO_BIG);
    s->rx_discard = TRUE;
    return;
  }
  g_byte_array_append (s->rx, in, len);
  if (last)
    handle_message (s, (const char *)s->rx->data, s->rx->len);
}

/* ---- lws glue -------------------------------------------------------------- */

static ConsentdSession *
session_new (ConsentdDaemon *d, struct lws *wsi)
{
  ConsentdSession *s = g_new0 (ConsentdSession, 1);
  char ua[256] = "";
  guint *per_ip;

  s->daemon = d;
  s->wsi = wsi;
  lws_get_peer_simple (wsi, s->ip, sizeof s->ip);
  if (lws_hdr_copy (wsi, ua, sizeof ua, WSI_TOKEN_HTTP_USER_AGENT) > 0 &&
      g_utf8_validate (ua, -1, NULL))
    s->client = g_strdup (ua);
  g_queue_init (&s->out);
  s->rx = g_byte_array_new ();
  s->tokens = d->config->messages_per_second;
  s->refill_us = g_get_monotonic_time ();
  s->hello_timer =
      g_timeout_add_seconds (d->config->hello_timeout_s, on_hello_timeout, s);
  d->n_sessions++;
  per_ip = g_hash_table_lookup (d->sessions_per_ip, s->ip);
  if (!per_ip) {
    per_ip = g_new0 (guint, 1);
    g_hash_table_insert (d->sessions_per_ip, g_strdup (s->ip), per_ip);
  }
  (*per_ip)++;
  consentd_metrics_connection_opened (d->metrics);
  return s;
}

static void
session_free (ConsentdSession *s)
{
  ConsentdDaemon *d = s->daemon;
  guint *per_ip = g_hash_table_lookup (d->sessions_per_ip, s->ip);

  if (per_ip && --(*per_ip) == 0)
    g_hash_table_remove (d->sessions_per_ip, s->ip);
  d->n_sessions--;
  consentd_metrics_connection_closed (d->metrics);
  if (s->meeting)
    consentd_registry_detach (d->registry, s->meeting, s);
  g_clear_handle_id (&s->hello_timer, g_source_remove);
  g_clear_handle_id (&s->lease_timer, g_source_remove);
  g_queue_clear_full (&s->out, (GDestroyNotify)g_bytes_unref);
  g_byte_array_unref (s->rx);
  g_free (s->client);
  g_free (s->meeting);
  g_free (s->participant);
  g_free (s->follow);
  g_free (s);
}

static int
on_writable (ConsentdSession *s)
{
  GBytes *b = g_queue_pop_head (&s->out);

  if (b) {
    gsize n;
    const guint8 *data = g_bytes_get_data (b, &n);
    g_autofree guint8 *buf = g_malloc (LWS_PRE + n);
    int written;

    memcpy (buf + LWS_PRE, data, n);
    g_bytes_unref (b);
    written = lws_write (s->wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
    if (written < (int)n)
      return -1;
    if (!g_queue_is_empty (&s->out) || s->closing)
      lws_callback_on_writable (s->wsi);
    return 0;
  }
  if (s->closing) {
    lws_close_reason (s->wsi, (enum lws_close_status)s->close_code, NULL, 0);
    return -1;
  }
  return 0;
}

int
consentd_ws_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user,
                      void *in, size_t len)
{
  SessionSlot *slot = user;
  ConsentdDaemon *d = lws_context_user (lws_get_context (wsi));

  switch (reason) {
  case LWS_CALLBACK_ESTABLISHED:
    slot->s = session_new (d, wsi);
    return 0;
  case LWS_CALLBACK_RECEIVE:
    if (slot->s)
      on_receive (slot->s, in, len);
    return 0;
  case LWS_CALLBACK_SERVER_WRITEABLE:
    return slot->s ? on_writable (slot->s) : 0;
  case LWS_CALLBACK_CLOSED:
    if (slot->s)
      session_free (g_steal_pointer (&slot->s));
    return 0;
  default:
    return 0;
  }
}
