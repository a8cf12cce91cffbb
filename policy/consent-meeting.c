/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* consent-meeting.c: one meeting's roster, answers and gate decisions.
 *
 * This is the one place that decides whether recording may happen (DESIGN
 * promises 1-6). Every change follows the same order: update the state,
 * decide (emitting "decision-changed" at once when a decision closes), hand
 * the triggering event to the recorder, then the gate events. Opening only
 * ever happens from consent_meeting_record_done(), once an accept is durable.
 * The recorder may call record_done() from inside submit(): all state is
 * consistent before every submit. */
#include "consent-meeting.h"

#include <string.h>

#include "consent-json.h"
#include "consent-wire.h"

struct _ConsentMeeting {
  GObject parent;
  char *id;
  char *title;
  ConsentPolicy *policy;
  ConsentRecorder *recorder;
  ConsentNotice *notice;
  gint64 (*now_us) (gpointer);
  gpointer now_data;

  gboolean requested;
  char *request_id;
  char *request_record_id;    /* durable record of the current request */
  const char *idle_reason;    /* why nothing is requested: "not-requested", "recording-stopped", "late-join" */
  gboolean ended;
  gboolean ledger_failed;

  GHashTable *participants;   /* id -> Participant */
  GPtrArray *order;           /* Participant*, join order (owned by the table) */
  GHashTable *pending;        /* ticket -> Pending */
  guint64 next_ticket;
  guint64 epoch;
  ConsentGateDecision *decision;  /* meeting-wide */
  GHashTable *decisions;          /* participant id -> ConsentGateDecision (participant scope) */
  GQueue gate_events;             /* ConsentEvent* waiting to be submitted */
};

typedef struct {
  char *id;
  char *display_name;
  char *role;
  gboolean present;
  ConsentAnswer answer;
  char *notice_version;   /* of the standing answer */
  char *request_id;       /* of the standing answer */
  char *record_id;        /* durable record of the standing answer */
  guint64 generation;     /* +1 on every answer change: stale acks are recognised */
  gint64 since_us;
  gint64 asked_us;        /* when the answer became PENDING (timeouts) */
  gboolean late_join;     /* joined while open and not answered since */
  gboolean notice_reset;  /* PENDING because the notice changed */
} Participant;

/* An event handed to the recorder and not yet reported durable. */
typedef struct {
  ConsentEvent *event;
  guint64 generation;     /* accepts: the answer generation it belongs to */
} Pending;

enum { SIGNAL_DECISION_CHANGED, SIGNAL_REQUEST, SIGNAL_RECORDED, SIGNAL_PARTICIPANT_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (ConsentMeeting, consent_meeting, G_TYPE_OBJECT)

/* ---- decisions (boxed) ---- */

typedef struct {
  ConsentGateDecision pub;
  gatomicrefcount ref;
} DecisionPriv;

G_DEFINE_BOXED_TYPE (ConsentGateDecision, consent_gate_decision, consent_gate_decision_ref,
                     consent_gate_decision_unref)

static ConsentGateDecision *
decision_new (gboolean open, const char *meeting, const char *participant, guint64 epoch,
              const char *reason)
{
  DecisionPriv *priv = g_new0 (DecisionPriv, 1);

  g_atomic_ref_count_init (&priv->ref);
  priv->pub.open = open;
  priv->pub.epoch = epoch;
  priv->pub.meeting = g_strdup (meeting);
  priv->pub.participant = g_strdup (participant);
  priv->pub.reason = g_strdup (reason);
  priv->pub.authorized_by = g_new0 (char *, 1);
  priv->pub.present = g_new0 (char *, 1);
  priv->pub.decided_us = g_get_real_time ();
  return &priv->pub;
}

ConsentGateDecision *
consent_gate_decision_new_closed (const char *meeting, const char *participant, guint64 epoch,
                                  const char *reason)
{
  return decision_new (FALSE, meeting, participant, epoch, reason);
}

ConsentGateDecision *
consent_gate_decision_ref (ConsentGateDecision *d)
{
  g_return_val_if_fail (d != NULL, NULL);
  g_atomic_ref_count_inc (&((DecisionPriv *) d)->ref);
  return d;
}

void
consent_gate_decision_unref (ConsentGateDecision *d)
{
  if (d == NULL || !g_atomic_ref_count_dec (&((DecisionPriv *) d)->ref))
    return;
  g_free (d->meeting);
  g_free (d->participant);
  g_free (d->reason);
  g_strfreev (d->authorized_by);
  g_strfreev (d->present);
  g_free (d->notice_version);
  g_free ((DecisionPriv *) d);
}

void
consent_participant_state_free (ConsentParticipantState *s)
{
  if (s == NULL)
    return;
  g_free (s->id);
  g_free (s->display_name);
  g_free (s->role);
  g_free (s->answer_notice_version);
  g_free (s->answer_record_id);
  g_free (s);
}

/* ---- helpers ---- */

static gint64
now (ConsentMeeting *self)
{
  return self->now_us != NULL ? self->now_us (self->now_data) : g_get_real_time ();
}

static void
participant_free (Participant *p)
{
  g_free (p->id);
  g_free (p->display_name);
  g_free (p->role);
  g_free (p->notice_version);
  g_free (p->request_id);
  g_free (p->record_id);
  g_free (p);
}

static void
pending_free (Pending *pe)
{
  consent_event_free (pe->event);
  g_free (pe);
}

static void
set_answer (ConsentMeeting *self, Participant *p, ConsentAnswer answer)
{
  p->answer = answer;
  p->generation++;
  p->since_us = now (self);
  p->late_join = FALSE;
  p->notice_reset = FALSE;
  g_clear_pointer (&p->record_id, g_free);
  g_free (p->notice_version);
  p->notice_version = answer == CONSENT_ANSWER_NONE ? NULL : g_strdup (self->notice->version);
  g_free (p->request_id);
  p->request_id = answer == CONSENT_ANSWER_NONE ? NULL : g_strdup (self->request_id);
  if (answer == CONSENT_ANSWER_PENDING)
    p->asked_us = p->since_us;
}

/* Whether @p's standing answer is for the current notice and request. */
static gboolean
answer_is_current (ConsentMeeting *self, Participant *p)
{
  return self->requested && g_strcmp0 (p->notice_version, self->notice->version) == 0 &&
         g_strcmp0 (p->request_id, self->request_id) == 0;
}

static gboolean
counts_as_accepted (ConsentMeeting *self, Participant *p)
{
  return p->answer == CONSENT_ANSWER_ACCEPTED && p->record_id != NULL && answer_is_current (self, p);
}

static char **
present_ids (ConsentMeeting *self)
{
  GStrvBuilder *b = g_strv_builder_new ();
  char **ids;

  for (guint i = 0; i < self->order->len; i++) {
    Participant *p = g_ptr_array_index (self->order, i);
    if (p->present)
      g_strv_builder_add (b, p->id);
  }
  ids = g_strv_builder_end (b);
  g_strv_builder_unref (b);
  return ids;
}

/* The closed reason that one present participant's answer implies, by priority (lower wins). */
static guint
answer_rank (ConsentMeeting *self, Participant *p, const char **reason)
{
  if (counts_as_accepted (self, p))
    return G_MAXUINT;
  switch (p->answer) {
  case CONSENT_ANSWER_WITHDRAWN:
    *reason = "withdrawn";
    return 0;
  case CONSENT_ANSWER_DECLINED:
    *reason = "declined";
    return 1;
  case CONSENT_ANSWER_TIMED_OUT:
    *reason = "timeout";
    return 2;
  default:
    break;
  }
  if (p->late_join) {
    *reason = "late-join";
    return 3;
  }
  if (p->notice_reset) {
    *reason = "notice-changed";
    return 4;
  }
  *reason = "pending";
  return 5;
}

/* Reasons that hold for every decision of the meeting, or NULL. */
static const char *
meeting_closed_reason (ConsentMeeting *self)
{
  if (self->ended)
    return "meeting-ended";
  if (self->ledger_failed)
    return "ledger-failed";
  if (!self->requested)
    return self->idle_reason;
  return NULL;
}

static ConsentGateDecision *
compute_meeting_wide (ConsentMeeting *self)
{
  const char *reason = meeting_closed_reason (self);
  const char *worst = NULL;
  guint best = G_MAXUINT, n_present = 0;
  g_autoptr (GStrvBuilder) auth = g_strv_builder_new ();
  ConsentGateDecision *d;

  for (guint i = 0; reason == NULL && i < self->order->len; i++) {
    Participant *p = g_ptr_array_index (self->order, i);
    const char *r = NULL;
    guint rank;
    if (!p->present)
      continue;
    n_present++;
    rank = answer_rank (self, p, &r);
    if (rank == G_MAXUINT)
      g_strv_builder_add (auth, p->record_id);
    else if (rank < best) {
      best = rank;
      worst = r;
    }
  }
  if (reason == NULL && n_present == 0)
    reason = "nobody-present";
  if (reason == NULL)
    reason = worst;
  /* Everyone accepted, but the request itself is not durable yet. */
  if (reason == NULL && self->request_record_id == NULL)
    reason = "pending";
  d = decision_new (reason == NULL, self->id, NULL, self->epoch, reason != NULL ? reason : "all-accepted");
  if (d->open) {
    g_strfreev (d->authorized_by);
    g_strv_builder_add (auth, self->request_record_id);
    d->authorized_by = g_strv_builder_end (auth);
  }
  return d;
}

static ConsentGateDecision *
compute_for_participant (ConsentMeeting *self, const char *id)
{
  Participant *p = g_hash_table_lookup (self->participants, id);
  const char *reason = meeting_closed_reason (self);
  ConsentGateDecision *d;

  if (reason == NULL && (p == NULL || !p->present))
    reason = "participant-absent";
  if (reason == NULL)
    answer_rank (self, p, &reason);
  if (reason == NULL && self->request_record_id == NULL)
    reason = "pending";
  d = decision_new (reason == NULL, self->id, id, self->epoch,
                    reason != NULL ? reason : "participant-accepted");
  if (d->open) {
    g_strfreev (d->authorized_by);
    d->authorized_by = g_new0 (char *, 3);
    d->authorized_by[0] = g_strdup (self->request_record_id);
    d->authorized_by[1] = g_strdup (p->record_id);
  }
  return d;
}

static gboolean
strv_equal0 (char **a, char **b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return g_strv_equal ((const char *const *) a, (const char *const *) b);
}

static ConsentEvent *
event_new (ConsentMeeting *self, ConsentEventType type, const char *participant,
           const char *actor, const ConsentMethod *method)
{
  ConsentEvent *e = consent_event_new (type, self->id);

  e->ts_us = now (self);
  e->participant = g_strdup (participant);
  e->notice_version = g_strdup (self->notice->version);
  e->notice_sha256 = g_strdup (self->notice->sha256);
  e->request_id = g_strdup (self->request_id);
  e->actor = g_strdup (actor);
  if (method != NULL) {
    e->channel = g_strdup (method->channel);
    e->client = g_strdup (method->client);
    e->ip = g_strdup (method->ip);
  }
  return e;
}

/* Hands @event (owned) to the recorder; the pending entry exists before submit
 * because the recorder may report it durable from inside submit(). */
static void
submit (ConsentMeeting *self, ConsentEvent *event, guint64 generation)
{
  Pending *pe = g_new0 (Pending, 1);
  guint64 ticket = ++self->next_ticket;

  event->ticket = ticket;
  pe->event = event;
  pe->generation = generation;
  g_hash_table_insert (self->pending, g_memdup2 (&ticket, sizeof ticket), pe);
  g_object_ref (self);
  consent_recorder_submit (self->recorder, self, event);
  g_object_unref (self);
}

static void
queue_gate_event (ConsentMeeting *self, ConsentGateDecision *d)
{
  ConsentEvent *e = event_new (self, d->open ? CONSENT_EVENT_GATE_OPENED : CONSENT_EVENT_GATE_CLOSED,
                               d->participant, "system", NULL);

  e->epoch = d->epoch;
  e->reason = g_strdup (d->reason);
  e->authorized_by = g_strdupv (d->authorized_by);
  e->present = g_strdupv (d->present);
  g_queue_push_tail (&self->gate_events, e);
}

static void
flush_gate_events (ConsentMeeting *self)
{
  ConsentEvent *e;

  while ((e = g_queue_pop_head (&self->gate_events)) != NULL)
    submit (self, e, 0);
}

/* Completes @fresh against the decision it replaces; returns whether it is a
 * change (open/closed or authorization), which takes a new epoch. */
static gboolean
finish_decision (ConsentMeeting *self, ConsentGateDecision *old, ConsentGateDecision *fresh)
{
  gboolean changed = old->open != fresh->open || !strv_equal0 (old->authorized_by, fresh->authorized_by);

  g_strfreev (fresh->present);
  fresh->present = present_ids (self);
  fresh->notice_version = g_strdup (self->notice->version);
  if (!changed) {
    /* Same state: keep epoch and time, refresh the reason for status queries. */
    fresh->epoch = old->epoch;
    fresh->decided_us = old->decided_us;
    return FALSE;
  }
  fresh->epoch = ++self->epoch;
  fresh->decided_us = now (self);
  return TRUE;
}

static void
announce (ConsentMeeting *self, ConsentGateDecision *d)
{
  consent_gate_decision_ref (d);
  queue_gate_event (self, d);
  g_signal_emit (self, signals[SIGNAL_DECISION_CHANGED], 0, d->participant, d);
  consent_gate_decision_unref (d);
}

static void
decide (ConsentMeeting *self)
{
  ConsentGateDecision *fresh = compute_meeting_wide (self);
  gboolean changed = finish_decision (self, self->decision, fresh);

  consent_gate_decision_unref (self->decision);
  self->decision = fresh;
  if (changed)
    announce (self, fresh);
  if (self->policy->scope != CONSENT_SCOPE_PARTICIPANT)
    return;
  for (guint i = 0; i < self->order->len; i++) {
    Participant *p = g_ptr_array_index (self->order, i);
    ConsentGateDecision *old = g_hash_table_lookup (self->decisions, p->id);
    g_autoptr (ConsentGateDecision) initial = NULL;
    if (old == NULL)
      old = initial = consent_gate_decision_new_closed (self->id, p->id, 0, "initial");
    fresh = compute_for_participant (self, p->id);
    changed = finish_decision (self, old, fresh);
    /* Stored before it is announced: handlers may query it. */
    g_hash_table_replace (self->decisions, g_strdup (p->id), fresh);
    if (changed)
      announce (self, fresh);
  }
}

static void
changed_participant (ConsentMeeting *self, const char *id)
{
  g_signal_emit (self, signals[SIGNAL_PARTICIPANT_CHANGED], 0, id);
}

/* Decide, then record the triggering event, then the gate events. */
static void
decide_and_record (ConsentMeeting *self, ConsentEvent *event, guint64 generation)
{
  g_object_ref (self);
  decide (self);
  if (event != NULL)
    submit (self, event, generation);
  flush_gate_events (self);
  g_object_unref (self);
}

static gboolean
check_usable (ConsentMeeting *self, GError **error)
{
  if (self->ended) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_CONFLICT, "meeting '%s' has ended", self->id);
    return FALSE;
  }
  if (self->ledger_failed) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_LEDGER,
                 "the consent ledger failed for meeting '%s'; no consent can be recorded", self->id);
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_id (const char *id, GError **error)
{
  if (!consent_id_is_valid (id)) {
    g_set_error_literal (error, CONSENT_ERROR, CONSENT_ERROR_INVALID,
                         "participant id must be 1-64 characters of A-Z a-z 0-9 . _ - "
                         "not starting with '.' or '-'");
    return FALSE;
  }
  return TRUE;
}

static Participant *
lookup_present (ConsentMeeting *self, const char *id, GError **error)
{
  Participant *p = id != NULL ? g_hash_table_lookup (self->participants, id) : NULL;

  if (p == NULL || !p->present) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_NOT_PRESENT,
                 "participant '%s' is not present in meeting '%s'", id != NULL ? id : "(null)",
                 self->id);
    return NULL;
  }
  return p;
}

/* ---- GObject ---- */

static void
consent_meeting_dispose (GObject *object)
{
  ConsentMeeting *self = CONSENT_MEETING (object);

  g_clear_object (&self->recorder);
  G_OBJECT_CLASS (consent_meeting_parent_class)->dispose (object);
}

static void
consent_meeting_finalize (GObject *object)
{
  ConsentMeeting *self = CONSENT_MEETING (object);

  g_queue_clear_full (&self->gate_events, (GDestroyNotify) consent_event_free);
  g_hash_table_unref (self->pending);
  g_hash_table_unref (self->decisions);
  g_ptr_array_unref (self->order);
  g_hash_table_unref (self->participants);
  g_clear_pointer (&self->decision, consent_gate_decision_unref);
  g_clear_pointer (&self->notice, consent_notice_unref);
  g_clear_pointer (&self->policy, consent_policy_unref);
  g_free (self->id);
  g_free (self->title);
  g_free (self->request_id);
  g_free (self->request_record_id);
  G_OBJECT_CLASS (consent_meeting_parent_class)->finalize (object);
}

static void
consent_meeting_class_init (ConsentMeetingClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = consent_meeting_dispose;
  object_class->finalize = consent_meeting_finalize;
  signals[SIGNAL_DECISION_CHANGED] =
      g_signal_new ("decision-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                    NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, CONSENT_TYPE_GATE_DECISION);
  signals[SIGNAL_REQUEST] = g_signal_new ("request", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_RECORDED] =
      g_signal_new ("recorded", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 2, CONSENT_TYPE_EVENT, G_TYPE_STRING);
  signals[SIGNAL_PARTICIPANT_CHANGED] =
      g_signal_new ("participant-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                    NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
consent_meeting_init (ConsentMeeting *self)
{
  self->participants = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                              (GDestroyNotify) participant_free);
  self->order = g_ptr_array_new ();
  self->pending = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                         (GDestroyNotify) pending_free);
  self->decisions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) consent_gate_decision_unref);
  self->idle_reason = "not-requested";
  g_queue_init (&self->gate_events);
}

ConsentMeeting *
consent_meeting_new (const char *id, ConsentPolicy *policy, ConsentRecorder *recorder)
{
  ConsentMeeting *self;

  g_return_val_if_fail (consent_id_is_valid (id), NULL);
  g_return_val_if_fail (policy != NULL, NULL);
  g_return_val_if_fail (CONSENT_IS_RECORDER (recorder), NULL);
  self = g_object_new (CONSENT_TYPE_MEETING, NULL);
  self->id = g_strdup (id);
  self->policy = consent_policy_ref (policy);
  self->recorder = g_object_ref (recorder);
  self->notice = consent_notice_ref (policy->notice);
  self->decision = consent_gate_decision_new_closed (id, NULL, 0, "initial");
  return self;
}

const char *
consent_meeting_get_id (ConsentMeeting *self)
{
  return self->id;
}

ConsentPolicy *
consent_meeting_get_policy (ConsentMeeting *self)
{
  return self->policy;
}

ConsentNotice *
consent_meeting_get_notice (ConsentMeeting *self)
{
  return self->notice;
}

void
consent_meeting_set_time_func (ConsentMeeting *self, gint64 (*now_us) (gpointer), gpointer user_data)
{
  self->now_us = now_us;
  self->now_data = user_data;
}

const char *
consent_meeting_get_title (ConsentMeeting *self)
{
  return self->title;
}

/* The ledger keeps what a restart needs to rebuild the meeting: the title and
 * the full notice (its record's notice sha256 lets a reader check it). */
static char *
title_details (const char *title)
{
  g_autoptr (json_object) o = json_object_new_object ();

  json_object_object_add (o, "title", json_object_new_string (title));
  return consent_json_to_string (o);
}

static char *
notice_details (const ConsentNotice *notice)
{
  g_autoptr (json_object) o = json_object_new_object ();

  json_object_object_add (o, "notice", consent_notice_to_json_object (notice));
  return consent_json_to_string (o);
}

gboolean
consent_meeting_set_title (ConsentMeeting *self, const char *title, GError **error)
{
  ConsentEvent *e;

  if (title == NULL || strlen (title) > 512 || !g_utf8_validate (title, -1, NULL)) {
    g_set_error_literal (error, CONSENT_ERROR, CONSENT_ERROR_INVALID,
                         "meeting title must be UTF-8 text of at most 512 bytes");
    return FALSE;
  }
  if (!check_usable (self, error))
    return FALSE;
  g_free (self->title);
  self->title = g_strdup (title);
  e = event_new (self, CONSENT_EVENT_MEETING_UPDATED, NULL, "admin", NULL);
  e->details_json = title_details (title);
  decide_and_record (self, e, 0);
  return TRUE;
}

gboolean
consent_meeting_set_notice (ConsentMeeting *self, ConsentNotice *notice, const char *actor,
                            GError **error)
{
  ConsentEvent *e;

  g_return_val_if_fail (notice != NULL, FALSE);
  if (!check_usable (self, error))
    return FALSE;
  if (strcmp (notice->version, self->notice->version) == 0) {
    if (strcmp (notice->sha256, self->notice->sha256) == 0)
      return TRUE;
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_CONFLICT,
                 "notice version '%s' is already in use with a different text; give the new "
                 "notice a new version", notice->version);
    return FALSE;
  }
  consent_notice_unref (self->notice);
  self->notice = consent_notice_ref (notice);
  /* Answers to the old notice stop counting: everyone present is asked again. */
  for (guint i = 0; i < self->order->len; i++) {
    Participant *p = g_ptr_array_index (self->order, i);
    set_answer (self, p, p->present && self->requested ? CONSENT_ANSWER_PENDING : CONSENT_ANSWER_NONE);
    p->notice_reset = p->answer == CONSENT_ANSWER_PENDING;
  }
  e = event_new (self, CONSENT_EVENT_NOTICE_CHANGED, NULL, actor, NULL);
  e->details_json = notice_details (notice);
  decide_and_record (self, e, 0);
  return TRUE;
}

/* ---- roster ---- */

gboolean
consent_meeting_join (ConsentMeeting *self, const char *participant, const char *display_name,
                      const char *role, const ConsentMethod *method, GError **error)
{
  Participant *p;
  ConsentEvent *e;
  gboolean was_open = self->decision->open;
  gboolean reuse;

  if (!check_id (participant, error))
    return FALSE;
  if ((display_name != NULL && (strlen (display_name) > 256 || !g_utf8_validate (display_name, -1, NULL))) ||
      (role != NULL && (strlen (role) > 64 || !g_utf8_validate (role, -1, NULL)))) {
    g_set_error_literal (error, CONSENT_ERROR, CONSENT_ERROR_INVALID,
                         "display name (at most 256 bytes) and role (at most 64) must be UTF-8 text");
    return FALSE;
  }
  if (self->ended) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_CONFLICT, "meeting '%s' has ended", self->id);
    return FALSE;
  }
  p = g_hash_table_lookup (self->participants, participant);
  if (p != NULL && p->present) {
    /* Already here: roster updates of name or role are no change of consent. */
    g_free (p->display_name);
    p->display_name = g_strdup (display_name);
    g_free (p->role);
    p->role = g_strdup (role);
    return TRUE;
  }
  if (p == NULL) {
    p = g_new0 (Participant, 1);
    p->id = g_strdup (participant);
    g_hash_table_insert (self->participants, p->id, p);
    g_ptr_array_add (self->order, p);
  }
  g_free (p->display_name);
  p->display_name = g_strdup (display_name);
  g_free (p->role);
  p->role = g_strdup (role);
  p->present = TRUE;
  p->since_us = now (self);
  reuse = self->policy->reuse_on_rejoin && answer_is_current (self, p) &&
          (p->answer == CONSENT_ANSWER_ACCEPTED || p->answer == CONSENT_ANSWER_ACCEPTING ||
           p->answer == CONSENT_ANSWER_DECLINED || p->answer == CONSENT_ANSWER_WITHDRAWN);
  if (!reuse) {
    set_answer (self, p, self->requested ? CONSENT_ANSWER_PENDING : CONSENT_ANSWER_NONE);
    p->late_join = was_open;
  }
  e = event_new (self, CONSENT_EVENT_JOIN, participant, "admin", method);
  e->display_name = g_strdup (display_name);
  e->role = g_strdup (role);
  if (was_open && !reuse && self->policy->late_join == CONSENT_LATE_JOIN_STOP) {
    /* late-join=stop: the request ends; an organiser must ask again. */
    self->requested = FALSE;
    self->idle_reason = "late-join";
    decide (self);
    submit (self, e, 0);
    e = event_new (self, CONSENT_EVENT_RECORDING_STOP, participant, "system", NULL);
    e->reason = g_strdup ("late-join");
  }
  changed_participant (self, participant);
  decide_and_record (self, e, 0);
  return TRUE;
}

gboolean
consent_meeting_leave (ConsentMeeting *self, const char *participant, const ConsentMethod *method,
                       GError **error)
{
  Participant *p;

  if (!check_id (participant, error))
    return FALSE;
  p = lookup_present (self, participant, error);
  if (p == NULL)
    return FALSE;
  p->present = FALSE;
  p->since_us = now (self);
  p->late_join = FALSE;
  changed_participant (self, participant);
  decide_and_record (self, event_new (self, CONSENT_EVENT_LEAVE, participant, "admin", method), 0);
  return TRUE;
}

/* ---- requests ---- */

gboolean
consent_meeting_request_recording (ConsentMeeting *self, const char *actor, GError **error)
{
  ConsentEvent *e;
  g_autofree char *request_id = NULL;

  if (!check_usable (self, error))
    return FALSE;
  g_free (self->request_id);
  self->request_id = g_uuid_string_random ();
  g_clear_pointer (&self->request_record_id, g_free);
  self->requested = TRUE;
  /* Each request asks again: silence is never consent. */
  for (guint i = 0; i < self->order->len; i++) {
    Participant *p = g_ptr_array_index (self->order, i);
    set_answer (self, p, p->present ? CONSENT_ANSWER_PENDING : CONSENT_ANSWER_NONE);
  }
  request_id = g_strdup (self->request_id);
  e = event_new (self, CONSENT_EVENT_REQUEST, NULL, actor, NULL);
  decide_and_record (self, e, 0);
  g_signal_emit (self, signals[SIGNAL_REQUEST], 0, request_id);
  return TRUE;
}

gboolean
consent_meeting_stop_recording (ConsentMeeting *self, const char *actor, GError **error)
{
  if (self->ended) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_CONFLICT, "meeting '%s' has ended", self->id);
    return FALSE;
  }
  if (!self->requested)
    return TRUE;
  self->requested = FALSE;
  self->idle_reason = "recording-stopped";
  decide_and_record (self, event_new (self, CONSENT_EVENT_RECORDING_STOP, NULL, actor, NULL), 0);
  g_clear_pointer (&self->request_id, g_free);
  g_clear_pointer (&self->request_record_id, g_free);
  return TRUE;
}

gboolean
consent_meeting_is_recording_requested (ConsentMeeting *self)
{
  return self->requested;
}

const char *
consent_meeting_get_request_id (ConsentMeeting *self)
{
  return self->requested ? self->request_id : NULL;
}

/* ---- answers ---- */

gboolean
consent_meeting_notice_shown (ConsentMeeting *self, const char *participant,
                              const ConsentMethod *method, GError **error)
{
  if (!check_usable (self, error) || lookup_present (self, participant, error) == NULL)
    return FALSE;
  submit (self, event_new (self, CONSENT_EVENT_NOTICE_SHOWN, participant, "participant", method), 0);
  return TRUE;
}

static gboolean
check_answerable (ConsentMeeting *self, Participant *p, const char *notice_version,
                  const char *request_id, GError **error)
{
  if (!self->requested) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_NO_REQUEST,
                 "no recording is requested in meeting '%s'", self->id);
    return FALSE;
  }
  if (request_id != NULL && strcmp (request_id, self->request_id) != 0) {
    g_set_error_literal (error, CONSENT_ERROR, CONSENT_ERROR_NO_REQUEST,
                         "this answer is for an earlier recording request; answer the current one");
    return FALSE;
  }
  if (notice_version == NULL || strcmp (notice_version, self->notice->version) != 0) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_STALE_NOTICE,
                 "this answer is for notice version '%s', the current version is '%s'; read the "
                 "current notice and answer again",
                 notice_version != NULL ? notice_version : "(none)", self->notice->version);
    return FALSE;
  }
  return TRUE;
}

gboolean
consent_meeting_answer (ConsentMeeting *self, const char *participant, gboolean accept,
                        const char *notice_version, const char *request_id,
                        const ConsentMethod *method, GError **error)
{
  Participant *p;
  ConsentEvent *e;

  if (!check_usable (self, error))
    return FALSE;
  p = lookup_present (self, participant, error);
  if (p == NULL || !check_answerable (self, p, notice_version, request_id, error))
    return FALSE;
  if (accept && answer_is_current (self, p) &&
      (p->answer == CONSENT_ANSWER_ACCEPTED || p->answer == CONSENT_ANSWER_ACCEPTING))
    return TRUE; /* a repeated accept changes nothing */
  if (!accept && answer_is_current (self, p) && p->answer == CONSENT_ANSWER_DECLINED)
    return TRUE;
  set_answer (self, p, accept ? CONSENT_ANSWER_ACCEPTING : CONSENT_ANSWER_DECLINED);
  e = event_new (self, accept ? CONSENT_EVENT_ACCEPT : CONSENT_EVENT_DECLINE, participant,
                 "participant", method);
  changed_participant (self, participant);
  /* An accept opens nothing until its record is durable (record_done). */
  decide_and_record (self, e, p->generation);
  return TRUE;
}

gboolean
consent_meeting_withdraw (ConsentMeeting *self, const char *participant,
                          const ConsentMethod *method, GError **error)
{
  Participant *p;

  /* Withdrawal must work even when the ledger failed: the gate is closed then anyway. */
  if (self->ended) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_CONFLICT, "meeting '%s' has ended", self->id);
    return FALSE;
  }
  p = lookup_present (self, participant, error);
  if (p == NULL)
    return FALSE;
  set_answer (self, p, CONSENT_ANSWER_WITHDRAWN);
  changed_participant (self, participant);
  /* Closes at once (decide emits) before the ledger hears of it. */
  decide_and_record (self, event_new (self, CONSENT_EVENT_WITHDRAW, participant, "participant", method),
                     p->generation);
  return TRUE;
}

gboolean
consent_meeting_record_segment (ConsentMeeting *self, const char *details_json, GError **error)
{
  ConsentEvent *e;

  if (details_json == NULL || strlen (details_json) > 65536) {
    g_set_error_literal (error, CONSENT_ERROR, CONSENT_ERROR_INVALID,
                         "segment details must be a JSON object of at most 64 KiB");
    return FALSE;
  }
  e = event_new (self, CONSENT_EVENT_SEGMENT, NULL, "recorder", NULL);
  e->epoch = self->epoch;
  e->details_json = g_strdup (details_json);
  submit (self, e, 0);
  return TRUE;
}

void
consent_meeting_tick (ConsentMeeting *self, gint64 now_us)
{
  gint64 limit = (gint64) self->policy->answer_timeout_s * G_USEC_PER_SEC;
  g_autoptr (GPtrArray) expired = g_ptr_array_new ();

  if (self->ended || !self->requested)
    return;
  for (guint i = 0; i < self->order->len; i++) {
    Participant *p = g_ptr_array_index (self->order, i);
    if (p->present && p->answer == CONSENT_ANSWER_PENDING && now_us - p->asked_us >= limit)
      g_ptr_array_add (expired, p);
  }
  if (expired->len == 0)
    return;
  g_object_ref (self);
  for (guint i = 0; i < expired->len; i++) {
    Participant *p = g_ptr_array_index (expired, i);
    set_answer (self, p, CONSENT_ANSWER_TIMED_OUT);
    changed_participant (self, p->id);
  }
  decide (self);
  for (guint i = 0; i < expired->len; i++) {
    Participant *p = g_ptr_array_index (expired, i);
    submit (self, event_new (self, CONSENT_EVENT_TIMEOUT, p->id, "system", NULL), 0);
  }
  flush_gate_events (self);
  g_object_unref (self);
}

void
consent_meeting_end (ConsentMeeting *self, const char *actor)
{
  if (self->ended)
    return;
  self->ended = TRUE;
  decide_and_record (self, event_new (self, CONSENT_EVENT_MEETING_ENDED, NULL, actor, NULL), 0);
}

gboolean
consent_meeting_is_ended (ConsentMeeting *self)
{
  return self->ended;
}

/* ---- durability ---- */

/* The standing answer a person's answer event leaves until its record is
 * durable, or NONE. Timeouts are the system's, not the person's: one tick
 * may expire several people, so they carry no receipt. */
static ConsentAnswer
answer_of_event (ConsentEventType type)
{
  switch (type) {
  case CONSENT_EVENT_ACCEPT:
    return CONSENT_ANSWER_ACCEPTING;
  case CONSENT_EVENT_DECLINE:
    return CONSENT_ANSWER_DECLINED;
  case CONSENT_EVENT_WITHDRAW:
    return CONSENT_ANSWER_WITHDRAWN;
  default:
    return CONSENT_ANSWER_NONE;
  }
}

static void
apply_durable (ConsentMeeting *self, Pending *pe, const char *record_id)
{
  const ConsentEvent *e = pe->event;
  Participant *p;

  if (e->type == CONSENT_EVENT_REQUEST && g_strcmp0 (e->request_id, self->request_id) == 0) {
    g_free (self->request_record_id);
    self->request_record_id = g_strdup (record_id);
    return;
  }
  if (answer_of_event (e->type) == CONSENT_ANSWER_NONE || e->participant == NULL)
    return;
  p = g_hash_table_lookup (self->participants, e->participant);
  /* Only the very answer this record belongs to: a withdrawal or a new
   * request since then makes this late ack history, not consent. */
  if (p == NULL || p->generation != pe->generation || p->answer != answer_of_event (e->type))
    return;
  /* Declines and withdrawals get their record too: it is the
   * person's receipt, and it never counts as consent (only ACCEPTED does). */
  if (p->answer == CONSENT_ANSWER_ACCEPTING)
    p->answer = CONSENT_ANSWER_ACCEPTED;
  g_free (p->record_id);
  p->record_id = g_strdup (record_id);
  changed_participant (self, p->id);
}

void
consent_meeting_record_done (ConsentMeeting *self, guint64 ticket, const char *record_id,
                             const GError *error)
{
  Pending *pe = NULL;
  gpointer key = NULL;

  g_return_if_fail (CONSENT_IS_MEETING (self));
  if (!g_hash_table_steal_extended (self->pending, &ticket, &key, (gpointer *) &pe))
    return;
  g_free (key);
  g_object_ref (self);
  if (error != NULL || record_id == NULL) {
    /* The recorder logs the failure itself; here it only closes everything. */
    g_debug ("meeting %s: the ledger failed (%s); closing for good", self->id,
             error != NULL ? error->message : "no record id");
    self->ledger_failed = TRUE;
  } else {
    apply_durable (self, pe, record_id);
    g_signal_emit (self, signals[SIGNAL_RECORDED], 0, pe->event, record_id);
  }
  pending_free (pe);
  decide (self);
  flush_gate_events (self);
  g_object_unref (self);
}

void
consent_meeting_fail_ledger (ConsentMeeting *self)
{
  g_return_if_fail (CONSENT_IS_MEETING (self));
  if (self->ledger_failed)
    return;
  g_object_ref (self);
  self->ledger_failed = TRUE;
  decide (self);
  flush_gate_events (self);
  g_object_unref (self);
}

/* ---- queries ---- */

ConsentGateDecision *
consent_meeting_get_decision (ConsentMeeting *self, const char *participant)
{
  ConsentGateDecision *d;

  g_return_val_if_fail (CONSENT_IS_MEETING (self), NULL);
  if (participant == NULL || self->policy->scope != CONSENT_SCOPE_PARTICIPANT)
    return consent_gate_decision_ref (self->decision);
  d = g_hash_table_lookup (self->decisions, participant);
  if (d != NULL)
    return consent_gate_decision_ref (d);
  return consent_gate_decision_new_closed (self->id, participant, self->epoch,
                                           self->ended ? "meeting-ended" : "participant-absent");
}

static ConsentParticipantState *
snapshot (Participant *p)
{
  ConsentParticipantState *s = g_new0 (ConsentParticipantState, 1);

  s->id = g_strdup (p->id);
  s->display_name = g_strdup (p->display_name);
  s->role = g_strdup (p->role);
  s->present = p->present;
  s->answer = p->answer;
  s->answer_notice_version = g_strdup (p->notice_version);
  s->answer_record_id = g_strdup (p->record_id);
  s->since_us = p->since_us;
  return s;
}

GPtrArray *
consent_meeting_list_participants (ConsentMeeting *self)
{
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) consent_participant_state_free);

  for (guint i = 0; i < self->order->len; i++)
    g_ptr_array_add (list, snapshot (g_ptr_array_index (self->order, i)));
  return list;
}

gboolean
consent_meeting_get_participant (ConsentMeeting *self, const char *participant,
                                 ConsentParticipantState **out)
{
  Participant *p = participant != NULL ? g_hash_table_lookup (self->participants, participant) : NULL;

  if (p == NULL)
    return FALSE;
  if (out != NULL)
    *out = snapshot (p);
  return TRUE;
}
