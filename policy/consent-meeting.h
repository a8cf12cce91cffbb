/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "consent-policy.h"
#include "consent-recorder.h"

G_BEGIN_DECLS

/**
 * ConsentGateDecision:
 * The one place that says whether recording may happen. Immutable, refcounted.
 * `participant` is NULL for the meeting-wide decision (what a gate on the mixed
 * stream follows) and a participant id for a per-participant gate.
 */
typedef struct {
  gboolean open;
  guint64 epoch;          /* increases on every change of any decision of the meeting */
  char *meeting;
  char *participant;      /* NULL = meeting-wide */
  char *reason;           /* see below */
  char **authorized_by;   /* open: ledger record ids of the accepts (and request) */
  char **present;         /* participant ids present when decided */
  char *notice_version;
  gint64 decided_us;      /* wall clock (UTC µs) of the decision */
} ConsentGateDecision;
/* Reasons (a contract, shown on the bus, in events and in the ledger):
 * open:   "all-accepted", "participant-accepted"
 * closed: "initial", "not-requested", "recording-stopped", "pending",
 *         "declined", "withdrawn", "late-join", "notice-changed", "timeout",
 *         "nobody-present", "participant-absent", "ledger-failed", "meeting-ended",
 *         "no-source", "lease-expired", "disconnected" (the last three from the plugin) */

#define CONSENT_TYPE_GATE_DECISION (consent_gate_decision_get_type ())
GType consent_gate_decision_get_type (void);
ConsentGateDecision *consent_gate_decision_new_closed (const char *meeting,
                                                       const char *participant,
                                                       guint64 epoch, const char *reason);
ConsentGateDecision *consent_gate_decision_ref (ConsentGateDecision *d);
void consent_gate_decision_unref (ConsentGateDecision *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ConsentGateDecision, consent_gate_decision_unref)

/** ConsentParticipantState: a snapshot of one roster entry. */
typedef struct {
  char *id;
  char *display_name;
  char *role;
  gboolean present;
  ConsentAnswer answer;
  char *answer_notice_version;
  char *answer_record_id;  /* ledger record of the standing answer (accept, decline,
                            * withdraw) once durable; NULL for none, pending, timed-out */
  gint64 since_us;         /* when the answer (or presence) last changed */
} ConsentParticipantState;
void consent_participant_state_free (ConsentParticipantState *s);

#define CONSENT_TYPE_MEETING (consent_meeting_get_type ())
G_DECLARE_FINAL_TYPE (ConsentMeeting, consent_meeting, CONSENT, MEETING, GObject)

/**
 * consent_meeting_new:
 * @recorder: where events go (required; use #ConsentMemoryRecorder in-process).
 * Signals:
 *  - "decision-changed" (const char *participant_or_NULL, ConsentGateDecision *):
 *    emitted synchronously whenever a decision flips (open↔closed) or its
 *    authorization changes. Closing decisions are emitted before the event is
 *    recorded; opening ones only after the authorizing records are durable.
 *  - "request" (const char *request_id): a recording was requested.
 *  - "recorded" (ConsentEvent *event, const char *record_id): an event is durable.
 *  - "participant-changed" (const char *participant): roster or answer changed.
 */
ConsentMeeting *consent_meeting_new (const char *id, ConsentPolicy *policy,
                                     ConsentRecorder *recorder);

const char *consent_meeting_get_id (ConsentMeeting *self);
ConsentPolicy *consent_meeting_get_policy (ConsentMeeting *self);
ConsentNotice *consent_meeting_get_notice (ConsentMeeting *self);
/** consent_meeting_set_time_func: override the wall clock (tests). */
void consent_meeting_set_time_func (ConsentMeeting *self, gint64 (*now_us) (gpointer),
                                    gpointer user_data);

/** Replace the notice (new version): accepts of older versions stop counting. */
gboolean consent_meeting_set_notice (ConsentMeeting *self, ConsentNotice *notice,
                                     const char *actor, GError **error);
gboolean consent_meeting_set_title (ConsentMeeting *self, const char *title, GError **error);
const char *consent_meeting_get_title (ConsentMeeting *self);

/* Roster (from the conference server, not from who is connected). */
gboolean consent_meeting_join (ConsentMeeting *self, const char *participant,
                               const char *display_name, const char *role,
                               const ConsentMethod *method, GError **error);
gboolean consent_meeting_leave (ConsentMeeting *self, const char *participant,
                                const ConsentMethod *method, GError **error);

/* Recording requests. A new request asks everyone present again. */
gboolean consent_meeting_request_recording (ConsentMeeting *self, const char *actor,
                                            GError **error);
gboolean consent_meeting_stop_recording (ConsentMeeting *self, const char *actor,
                                         GError **error);
gboolean consent_meeting_is_recording_requested (ConsentMeeting *self);
/** The id of the current recording request, or NULL. */
const char *consent_meeting_get_request_id (ConsentMeeting *self);

/* Participants' answers. @request_id may be NULL (then any current request). */
gboolean consent_meeting_notice_shown (ConsentMeeting *self, const char *participant,
                                       const ConsentMethod *method, GError **error);
gboolean consent_meeting_answer (ConsentMeeting *self, const char *participant,
                                 gboolean accept, const char *notice_version,
                                 const char *request_id, const ConsentMethod *method,
                                 GError **error);
gboolean consent_meeting_withdraw (ConsentMeeting *self, const char *participant,
                                   const ConsentMethod *method, GError **error);

/** Segment report (a finished recording file): recorded, does not change decisions. */
gboolean consent_meeting_record_segment (ConsentMeeting *self, const char *details_json,
                                         GError **error);

/** consent_meeting_tick: expire unanswered requests older than the policy's timeout. */
void consent_meeting_tick (ConsentMeeting *self, gint64 now_us);

/** consent_meeting_end: closes every gate for good and records the end. */
void consent_meeting_end (ConsentMeeting *self, const char *actor);
gboolean consent_meeting_is_ended (ConsentMeeting *self);

/**
 * consent_meeting_record_done:
 * Called by the recorder when the event with @ticket is durable (@error NULL,
 * @record_id set) or failed (@error set: the meeting fails closed for good).
 */
void consent_meeting_record_done (ConsentMeeting *self, guint64 ticket,
                                  const char *record_id, const GError *error);

/**
 * consent_meeting_fail_ledger:
 * The shared recorder failed on some other meeting's record (one ledger for
 * all meetings): this meeting fails closed for good too, as if one of its own
 * records had failed. Every decision closes with "ledger-failed"; those that
 * were open are announced ("decision-changed"). Idempotent.
 */
void consent_meeting_fail_ledger (ConsentMeeting *self);

/** consent_meeting_get_decision: current decision; @participant NULL = meeting-wide. */
ConsentGateDecision *consent_meeting_get_decision (ConsentMeeting *self,
                                                   const char *participant);

/** consent_meeting_list_participants: snapshot, ordered by join; free with g_ptr_array_unref. */
GPtrArray *consent_meeting_list_participants (ConsentMeeting *self);
gboolean consent_meeting_get_participant (ConsentMeeting *self, const char *participant,
                                          ConsentParticipantState **out);

G_END_DECLS
