/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The gate decision table of ConsentMeeting (DESIGN promises 1-6). */
#include "consent.h"

#include <string.h>

typedef struct {
  char *participant;
  gboolean open;
  char *reason;
  guint64 epoch;
  guint events_at_emit; /* recorder events when the signal fired */
} Emission;

typedef struct {
  ConsentPolicy *policy;
  ConsentMemoryRecorder *rec;
  ConsentMeeting *m;
  GPtrArray *emissions;
  gint64 now_us;
} Fixture;

static void
emission_free (Emission *e)
{
  g_free (e->participant);
  g_free (e->reason);
  g_free (e);
}

static void
on_decision (ConsentMeeting *m, const char *participant, ConsentGateDecision *d, Fixture *f)
{
  Emission *e = g_new0 (Emission, 1);

  e->participant = g_strdup (participant);
  e->open = d->open;
  e->reason = g_strdup (d->reason);
  e->epoch = d->epoch;
  e->events_at_emit = consent_memory_recorder_get_events (f->rec)->len;
  g_ptr_array_add (f->emissions, e);
}

static gint64
fake_now (gpointer data)
{
  return ((Fixture *) data)->now_us;
}

static Fixture *
fixture_new_full (const char *policy_text, gboolean auto_ack)
{
  Fixture *f = g_new0 (Fixture, 1);
  g_autoptr (GError) error = NULL;

  if (policy_text != NULL) {
    f->policy = consent_policy_load_data (policy_text, strlen (policy_text), "test.conf", &error);
    g_assert_no_error (error);
  } else {
    f->policy = consent_policy_new_default (NULL);
  }
  f->rec = consent_memory_recorder_new (auto_ack);
  f->m = consent_meeting_new ("m1", f->policy, CONSENT_RECORDER (f->rec));
  f->emissions = g_ptr_array_new_with_free_func ((GDestroyNotify) emission_free);
  f->now_us = (gint64) 1700000000 * G_USEC_PER_SEC;
  consent_meeting_set_time_func (f->m, fake_now, f);
  g_signal_connect (f->m, "decision-changed", G_CALLBACK (on_decision), f);
  return f;
}

static Fixture *
fixture_new (void)
{
  return fixture_new_full (NULL, TRUE);
}

static void
fixture_free (Fixture *f)
{
  g_object_unref (f->m);
  g_object_unref (f->rec);
  consent_policy_unref (f->policy);
  g_ptr_array_unref (f->emissions);
  g_free (f);
}

static void
join (Fixture *f, const char *who)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (consent_meeting_join (f->m, who, who, "guest", NULL, &error));
  g_assert_no_error (error);
}

static void
request (Fixture *f)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (consent_meeting_request_recording (f->m, "admin", &error));
  g_assert_no_error (error);
}

static void
answer (Fixture *f, const char *who, gboolean accept)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (consent_meeting_answer (f->m, who, accept, consent_meeting_get_notice (f->m)->version,
                                         consent_meeting_get_request_id (f->m), NULL, &error));
  g_assert_no_error (error);
}

static void
assert_decision (Fixture *f, const char *participant, gboolean open, const char *reason)
{
  g_autoptr (ConsentGateDecision) d = consent_meeting_get_decision (f->m, participant);

  g_assert_cmpstr (d->reason, ==, reason);
  g_assert_cmpint (d->open, ==, open);
}

static ConsentAnswer
answer_of (Fixture *f, const char *who)
{
  ConsentParticipantState *s = NULL;
  ConsentAnswer a;

  g_assert_true (consent_meeting_get_participant (f->m, who, &s));
  a = s->answer;
  consent_participant_state_free (s);
  return a;
}

static guint
count_events (Fixture *f, ConsentEventType type)
{
  GPtrArray *events = consent_memory_recorder_get_events (f->rec);
  guint n = 0;

  for (guint i = 0; i < events->len; i++)
    n += ((ConsentEvent *) g_ptr_array_index (events, i))->type == type;
  return n;
}

/* Two present, requested, both accepted: the gate is open. */
static Fixture *
fixture_open (void)
{
  Fixture *f = fixture_new ();

  join (f, "alice");
  join (f, "bob");
  request (f);
  answer (f, "alice", TRUE);
  answer (f, "bob", TRUE);
  assert_decision (f, NULL, TRUE, "all-accepted");
  return f;
}

static void
test_initial_closed (void)
{
  Fixture *f = fixture_new ();
  g_autoptr (ConsentGateDecision) d = consent_meeting_get_decision (f->m, NULL);

  g_assert_false (d->open);
  g_assert_cmpstr (d->reason, ==, "initial");
  g_assert_cmpuint (d->epoch, ==, 0);
  g_assert_null (d->participant);
  fixture_free (f);
}

static void
test_all_accept_opens (void)
{
  Fixture *f = fixture_new ();
  g_autoptr (ConsentGateDecision) d = NULL;

  join (f, "alice");
  join (f, "bob");
  assert_decision (f, NULL, FALSE, "not-requested");
  request (f);
  assert_decision (f, NULL, FALSE, "pending");
  answer (f, "alice", TRUE);
  assert_decision (f, NULL, FALSE, "pending");
  g_assert_cmpuint (f->emissions->len, ==, 0);
  answer (f, "bob", TRUE);
  d = consent_meeting_get_decision (f->m, NULL);
  g_assert_true (d->open);
  g_assert_cmpstr (d->reason, ==, "all-accepted");
  /* Each accept's record plus the request's record. */
  g_assert_cmpuint (g_strv_length (d->authorized_by), ==, 3);
  g_assert_cmpuint (g_strv_length (d->present), ==, 2);
  g_assert_cmpuint (f->emissions->len, ==, 1);
  g_assert_cmpuint (d->epoch, ==, 1);
  fixture_free (f);
}

static void
test_authorized_by_are_record_ids (void)
{
  Fixture *f = fixture_open ();
  g_autoptr (ConsentGateDecision) d = consent_meeting_get_decision (f->m, NULL);
  ConsentParticipantState *a = NULL, *b = NULL;

  g_assert_true (consent_meeting_get_participant (f->m, "alice", &a));
  g_assert_true (consent_meeting_get_participant (f->m, "bob", &b));
  g_assert_nonnull (a->answer_record_id);
  g_assert_true (g_strv_contains ((const char *const *) d->authorized_by, a->answer_record_id));
  g_assert_true (g_strv_contains ((const char *const *) d->authorized_by, b->answer_record_id));
  consent_participant_state_free (a);
  consent_participant_state_free (b);
  fixture_free (f);
}

static void
test_answer_without_request (void)
{
  Fixture *f = fixture_new ();
  g_autoptr (GError) error = NULL;

  join (f, "alice");
  g_assert_false (consent_meeting_answer (f->m, "alice", TRUE, "1", NULL, NULL, &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_NO_REQUEST);
  assert_decision (f, NULL, FALSE, "not-requested");
  g_assert_cmpint (answer_of (f, "alice"), ==, CONSENT_ANSWER_NONE);
  fixture_free (f);
}

static void
test_nobody_present (void)
{
  Fixture *f = fixture_new ();

  request (f);
  assert_decision (f, NULL, FALSE, "nobody-present");
  join (f, "alice");
  answer (f, "alice", TRUE);
  assert_decision (f, NULL, TRUE, "all-accepted");
  g_assert_true (consent_meeting_leave (f->m, "alice", NULL, NULL));
  assert_decision (f, NULL, FALSE, "nobody-present");
  fixture_free (f);
}

static void
test_nobody_present_before_durable (void)
{
  Fixture *f = fixture_new_full (NULL, FALSE);

  request (f);
  assert_decision (f, NULL, FALSE, "nobody-present");
  join (f, "alice");
  assert_decision (f, NULL, FALSE, "pending");
  fixture_free (f);
}

static void
test_reason_priority (void)
{
  Fixture *f = fixture_new ();

  join (f, "alice");
  join (f, "bob");
  join (f, "carol");
  request (f);
  consent_meeting_tick (f->m, f->now_us + (gint64) 86400 * G_USEC_PER_SEC);
  assert_decision (f, NULL, FALSE, "timeout");
  answer (f, "bob", FALSE);
  assert_decision (f, NULL, FALSE, "declined");
  answer (f, "carol", TRUE);
  g_assert_true (consent_meeting_withdraw (f->m, "carol", NULL, NULL));
  assert_decision (f, NULL, FALSE, "withdrawn");
  g_assert_true (consent_meeting_stop_recording (f->m, "admin", NULL));
  assert_decision (f, NULL, FALSE, "recording-stopped");
  consent_meeting_end (f->m, "admin");
  assert_decision (f, NULL, FALSE, "meeting-ended");
  fixture_free (f);
}

static void
test_decline_closes (void)
{
  Fixture *f = fixture_new ();

  join (f, "alice");
  join (f, "bob");
  request (f);
  answer (f, "alice", TRUE);
  answer (f, "bob", FALSE);
  assert_decision (f, NULL, FALSE, "declined");
  g_assert_cmpint (answer_of (f, "bob"), ==, CONSENT_ANSWER_DECLINED);
  g_assert_cmpuint (count_events (f, CONSENT_EVENT_DECLINE), ==, 1);
  answer (f, "bob", TRUE);
  assert_decision (f, NULL, TRUE, "all-accepted");
  fixture_free (f);
}

static void
test_withdraw_closes_before_record (void)
{
  Fixture *f = fixture_open ();
  guint before = consent_memory_recorder_get_events (f->rec)->len;
  Emission *e;

  g_assert_true (consent_meeting_withdraw (f->m, "bob", NULL, NULL));
  assert_decision (f, NULL, FALSE, "withdrawn");
  e = g_ptr_array_index (f->emissions, f->emissions->len - 1);
  g_assert_false (e->open);
  g_assert_cmpstr (e->reason, ==, "withdrawn");
  /* The signal fired before the withdraw event reached the recorder. */
  g_assert_cmpuint (e->events_at_emit, ==, before);
  g_assert_cmpuint (count_events (f, CONSENT_EVENT_WITHDRAW), ==, 1);
  g_assert_cmpuint (count_events (f, CONSENT_EVENT_GATE_CLOSED), ==, 1);
  fixture_free (f);
}

static void
test_withdraw_priority_over_decline (void)
{
  Fixture *f = fixture_open ();

  join (f, "carol");
  answer (f, "carol", FALSE);
  assert_decision (f, NULL, FALSE, "declined");
  g_assert_true (consent_meeting_withdraw (f->m, "alice", NULL, NULL));
  assert_decision (f, NULL, FALSE, "withdrawn");
  fixture_free (f);
}

static void
test_late_join_closes (void)
{
  Fixture *f = fixture_open ();

  join (f, "carol");
  assert_decision (f, NULL, FALSE, "late-join");
  g_assert_true (consent_meeting_is_recording_requested (f->m));
  g_assert_cmpint (answer_of (f, "carol"), ==, CONSENT_ANSWER_PENDING);
  answer (f, "carol", TRUE);
  assert_decision (f, NULL, TRUE, "all-accepted");
  fixture_free (f);
}

static void
test_late_join_stop (void)
{
  Fixture *f = fixture_new_full ("[consent]\nlate-join=stop\n", TRUE);

  join (f, "alice");
  request (f);
  answer (f, "alice", TRUE);
  assert_decision (f, NULL, TRUE, "all-accepted");
  join (f, "bob");
  assert_decision (f, NULL, FALSE, "late-join");
  g_assert_false (consent_meeting_is_recording_requested (f->m));
  g_assert_null (consent_meeting_get_request_id (f->m));
  g_assert_cmpuint (count_events (f, CONSENT_EVENT_RECORDING_STOP), ==, 1);
  fixture_free (f);
}

static void
test_leave_opens_when_rest_accepted (void)
{
  Fixture *f = fixture_new ();

  join (f, "alice");
  join (f, "bob");
  request (f);
  answer (f, "alice", TRUE);
  assert_decision (f, NULL, FALSE, "pending");
  g_assert_true (consent_meeting_leave (f->m, "bob", NULL, NULL));
  assert_decision (f, NULL, TRUE, "all-accepted");
  g_assert_cmpuint (count_events (f, CONSENT_EVENT_LEAVE), ==, 1);
  fixture_free (f);
}

static void
test_leave_changes_authorization (void)
{
  Fixture *f = fixture_open ();
  g_autoptr (ConsentGateDecision) before = consent_meeting_get_decision (f->m, NULL);
  g_autoptr (ConsentGateDecision) after = NULL;

  g_assert_true (consent_meeting_leave (f->m, "bob", NULL, NULL));
  after = consent_meeting_get_decision (f->m, NULL);
  g_assert_true (after->open);
  g_assert_cmpuint (after->epoch, ==, before->epoch + 1);
  g_assert_cmpuint (g_strv_length (after->authorized_by), ==, 2);
  fixture_free (f);
}

static void
test_rejoin_with_reuse (void)
{
  Fixture *f = fixture_open ();

  g_assert_true (consent_meeting_leave (f->m, "bob", NULL, NULL));
  join (f, "bob");
  g_assert_cmpint (answer_of (f, "bob"), ==, CONSENT_ANSWER_ACCEPTED);
  assert_decision (f, NULL, TRUE, "all-accepted");
  fixture_free (f);
}

static void
test_rejoin_without_reuse (void)
{
  Fixture *f = fixture_new_full ("[consent]\nreuse-on-rejoin=false\n", TRUE);

  join (f, "alice");
  join (f, "bob");
  request (f);
  answer (f, "alice", TRUE);
  answer (f, "bob", TRUE);
  g_assert_true (consent_meeting_leave (f->m, "bob", NULL, NULL));
  assert_decision (f, NULL, TRUE, "all-accepted");
  join (f, "bob");
  g_assert_cmpint (answer_of (f, "bob"), ==, CONSENT_ANSWER_PENDING);
  assert_decision (f, NULL, FALSE, "late-join");
  fixture_free (f);
}

static void
test_rejoin_reuse_needs_same_request (void)
{
  Fixture *f = fixture_open ();

  g_assert_true (consent_meeting_leave (f->m, "bob", NULL, NULL));
  request (f);
  answer (f, "alice", TRUE);
  assert_decision (f, NULL, TRUE, "all-accepted");
  join (f, "bob");
  g_assert_cmpint (answer_of (f, "bob"), ==, CONSENT_ANSWER_PENDING);
  assert_decision (f, NULL, FALSE, "late-join");
  fixture_free (f);
}

static void
test_new_request_asks_again (void)
{
  Fixture *f = fixture_open ();
  const char *first = NULL;
  g_autofree char *first_id = g_strdup (consent_meeting_get_request_id (f->m));

  request (f);
  first = consent_meeting_get_request_id (f->m);
  g_assert_cmpstr (first, !=, first_id);
  assert_decision (f, NULL, FALSE, "pending");
  g_assert_cmpint (answer_of (f, "alice"), ==, CONSENT_ANSWER_PENDING);
  g_assert_cmpint (answer_of (f, "bob"), ==, CONSENT_ANSWER_PENDING);
  fixture_free (f);
}

static void
test_stop_closes (void)
{
  Fixture *f = fixture_open ();
  g_autoptr (GError) error = NULL;

  g_assert_true (consent_meeting_stop_recording (f->m, "admin", NULL));
  assert_decision (f, NULL, FALSE, "recording-stopped");
  g_assert_false (consent_meeting_is_recording_requested (f->m));
  g_assert_cmpuint (count_events (f, CONSENT_EVENT_RECORDING_STOP), ==, 1);
  g_assert_false (consent_meeting_answer (f->m, "alice", TRUE, "1", NULL, NULL, &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_NO_REQUEST);
  fixture_free (f);
}

static void
test_timeout_never_opens (void)
{
  Fixture *f = fixture_new ();
  gint64 timeout_us = (gint64) f->policy->answer_timeout_s * G_USEC_PER_SEC;

  join (f, "alice");
  join (f, "bob");
  request (f);
  answer (f, "alice", TRUE);
  consent_meeting_tick (f->m, f->now_us + timeout_us - 1);
  g_assert_cmpint (answer_of (f, "bob"), ==, CONSENT_ANSWER_PENDING);
  assert_decision (f, NULL, FALSE, "pending");
  consent_meeting_tick (f->m, f->now_us + timeout_us);
  g_assert_cmpint (answer_of (f, "bob"), ==, CONSENT_ANSWER_TIMED_OUT);
  g_assert_cmpint (answer_of (f, "alice"), ==, CONSENT_ANSWER_ACCEPTED);
  assert_decision (f, NULL, FALSE, "timeout");
  g_assert_cmpuint (count_events (f, CONSENT_EVENT_TIMEOUT), ==, 1);
  g_assert_cmpuint (f->emissions->len, ==, 0);
  fixture_free (f);
}

static void
test_timeout_with_nobody_else (void)
{
  Fixture *f = fixture_new ();

  join (f, "alice");
  request (f);
  consent_meeting_tick (f->m, f->now_us + (gint64) 10 * 86400 * G_USEC_PER_SEC);
  assert_decision (f, NULL, FALSE, "timeout");
  g_assert_cmpuint (f->emissions->len, ==, 0);
  fixture_free (f);
}

static void
test_notice_change (void)
{
  Fixture *f = fixture_open ();
  g_autoptr (ConsentNotice) v2 = consent_notice_new ("2", "new text", "c", "p", "s", 10);
  g_autoptr (GError) error = NULL;

  g_assert_true (consent_meeting_set_notice (f->m, v2, "admin", NULL));
  assert_decision (f, NULL, FALSE, "notice-changed");
  g_assert_cmpint (answer_of (f, "alice"), ==, CONSENT_ANSWER_PENDING);
  g_assert_cmpuint (count_events (f, CONSENT_EVENT_NOTICE_CHANGED), ==, 1);
  g_assert_false (consent_meeting_answer (f->m, "alice", TRUE, "1", NULL, NULL, &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_STALE_NOTICE);
  answer (f, "alice", TRUE);
  assert_decision (f, NULL, FALSE, "notice-changed");
  answer (f, "bob", TRUE);
  assert_decision (f, NULL, TRUE, "all-accepted");
  fixture_free (f);
}

static void
test_notice_same_version_other_text (void)
{
  Fixture *f = fixture_open ();
  g_autoptr (ConsentNotice) other = consent_notice_new ("1", "other", "c", "p", "s", 10);
  g_autoptr (GError) error = NULL;

  g_assert_false (consent_meeting_set_notice (f->m, other, "admin", &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_CONFLICT);
  assert_decision (f, NULL, TRUE, "all-accepted");
  fixture_free (f);
}

static void
test_stale_request_id (void)
{
  Fixture *f = fixture_new ();
  g_autofree char *old = NULL;
  g_autoptr (GError) error = NULL;

  join (f, "alice");
  request (f);
  old = g_strdup (consent_meeting_get_request_id (f->m));
  request (f);
  g_assert_false (consent_meeting_answer (f->m, "alice", TRUE, "1", old, NULL, &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_NO_REQUEST);
  g_assert_cmpint (answer_of (f, "alice"), ==, CONSENT_ANSWER_PENDING);
  g_clear_error (&error);
  g_assert_false (consent_meeting_answer (f->m, "alice", TRUE, "1", "no-such-request", NULL, &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_NO_REQUEST);
  fixture_free (f);
}

static void
test_not_present (void)
{
  Fixture *f = fixture_new ();
  g_autoptr (GError) error = NULL;

  join (f, "alice");
  join (f, "bob");
  request (f);
  g_assert_false (consent_meeting_answer (f->m, "mallory", TRUE, "1", NULL, NULL, &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_NOT_PRESENT);
  g_clear_error (&error);
  g_assert_true (consent_meeting_leave (f->m, "bob", NULL, NULL));
  g_assert_false (consent_meeting_answer (f->m, "bob", TRUE, "1", NULL, NULL, &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_NOT_PRESENT);
  g_clear_error (&error);
  g_assert_false (consent_meeting_withdraw (f->m, "bob", NULL, &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_NOT_PRESENT);
  g_clear_error (&error);
  g_assert_false (consent_meeting_leave (f->m, "bob", NULL, &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_NOT_PRESENT);
  fixture_free (f);
}

static void
test_bad_input_changes_nothing (void)
{
  Fixture *f = fixture_open ();
  guint events = consent_memory_recorder_get_events (f->rec)->len;
  guint emissions = f->emissions->len;
  g_autoptr (ConsentGateDecision) before = consent_meeting_get_decision (f->m, NULL);
  g_autoptr (ConsentGateDecision) after = NULL;
  GError *error = NULL;

  g_assert_false (consent_meeting_answer (f->m, "alice", FALSE, "0", NULL, NULL, &error));
  g_clear_error (&error);
  g_assert_false (consent_meeting_answer (f->m, "alice", FALSE, NULL, NULL, NULL, &error));
  g_clear_error (&error);
  g_assert_false (consent_meeting_answer (f->m, "alice", FALSE, "1", "x", NULL, &error));
  g_clear_error (&error);
  g_assert_false (consent_meeting_join (f->m, "../etc", "x", "guest", NULL, &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (consent_meeting_join (f->m, "carol", "\xff", "guest", NULL, &error));
  g_clear_error (&error);
  after = consent_meeting_get_decision (f->m, NULL);
  g_assert_true (after->open);
  g_assert_cmpuint (after->epoch, ==, before->epoch);
  g_assert_cmpuint (consent_memory_recorder_get_events (f->rec)->len, ==, events);
  g_assert_cmpuint (f->emissions->len, ==, emissions);
  g_assert_cmpint (answer_of (f, "alice"), ==, CONSENT_ANSWER_ACCEPTED);
  fixture_free (f);
}

static void
test_accept_waits_for_durable (void)
{
  Fixture *f = fixture_new_full (NULL, FALSE);

  join (f, "alice");
  request (f);
  answer (f, "alice", TRUE);
  g_assert_cmpint (answer_of (f, "alice"), ==, CONSENT_ANSWER_ACCEPTING);
  assert_decision (f, NULL, FALSE, "pending");
  /* join, request, accept are waiting; ack join and request only. */
  g_assert_cmpuint (consent_memory_recorder_ack (f->rec, 2), ==, 2);
  assert_decision (f, NULL, FALSE, "pending");
  g_assert_cmpuint (f->emissions->len, ==, 0);
  g_assert_cmpuint (consent_memory_recorder_ack (f->rec, 1), ==, 1);
  g_assert_cmpint (answer_of (f, "alice"), ==, CONSENT_ANSWER_ACCEPTED);
  assert_decision (f, NULL, TRUE, "all-accepted");
  g_assert_cmpuint (f->emissions->len, ==, 1);
  fixture_free (f);
}

static void
test_request_must_be_durable (void)
{
  Fixture *f = fixture_new_full (NULL, FALSE);
  GPtrArray *events = consent_memory_recorder_get_events (f->rec);

  join (f, "alice");
  consent_memory_recorder_ack (f->rec, 0);
  request (f);
  answer (f, "alice", TRUE);
  g_assert_cmpuint (consent_memory_recorder_n_waiting (f->rec), ==, 2);
  /* Ack the accept first (out of order): the request is still not durable. */
  g_assert_cmpint (((ConsentEvent *) g_ptr_array_index (events, events->len - 1))->type, ==,
                   CONSENT_EVENT_ACCEPT);
  consent_meeting_record_done (f->m, ((ConsentEvent *) g_ptr_array_index (events, events->len - 1))->ticket,
                               "rec-accept", NULL);
  assert_decision (f, NULL, FALSE, "pending");
  consent_memory_recorder_ack (f->rec, 1);
  assert_decision (f, NULL, TRUE, "all-accepted");
  fixture_free (f);
}

static void
test_withdraw_before_ack (void)
{
  Fixture *f = fixture_new_full (NULL, FALSE);

  join (f, "alice");
  request (f);
  consent_memory_recorder_ack (f->rec, 0);
  answer (f, "alice", TRUE);
  g_assert_true (consent_meeting_withdraw (f->m, "alice", NULL, NULL));
  consent_memory_recorder_ack (f->rec, 0);
  g_assert_cmpint (answer_of (f, "alice"), ==, CONSENT_ANSWER_WITHDRAWN);
  assert_decision (f, NULL, FALSE, "withdrawn");
  g_assert_cmpuint (f->emissions->len, ==, 0);
  fixture_free (f);
}

static void
test_late_ack_after_new_request (void)
{
  Fixture *f = fixture_new_full (NULL, FALSE);

  join (f, "alice");
  request (f);
  consent_memory_recorder_ack (f->rec, 0);
  answer (f, "alice", TRUE);
  request (f);
  consent_memory_recorder_ack (f->rec, 0);
  g_assert_cmpint (answer_of (f, "alice"), ==, CONSENT_ANSWER_PENDING);
  assert_decision (f, NULL, FALSE, "pending");
  fixture_free (f);
}

static void
test_ledger_failure (void)
{
  Fixture *f = fixture_new_full (NULL, FALSE);
  g_autoptr (GError) error = NULL;

  join (f, "alice");
  request (f);
  consent_memory_recorder_ack (f->rec, 0);
  answer (f, "alice", TRUE);
  consent_memory_recorder_ack (f->rec, 0);
  consent_memory_recorder_ack (f->rec, 0); /* the gate-opened event */
  assert_decision (f, NULL, TRUE, "all-accepted");
  consent_meeting_notice_shown (f->m, "alice", NULL, NULL);
  g_assert_true (consent_memory_recorder_fail (f->rec));
  assert_decision (f, NULL, FALSE, "ledger-failed");
  g_assert_false (consent_meeting_answer (f->m, "alice", TRUE, "1", NULL, NULL, &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_LEDGER);
  g_clear_error (&error);
  g_assert_false (consent_meeting_request_recording (f->m, "admin", &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_LEDGER);
  consent_memory_recorder_ack (f->rec, 0);
  assert_decision (f, NULL, FALSE, "ledger-failed");
  fixture_free (f);
}

static const char participant_scope[] = "[consent]\nscope=participant\n";

static void
test_participant_scope (void)
{
  Fixture *f = fixture_new_full (participant_scope, TRUE);
  g_autoptr (ConsentGateDecision) d = NULL;

  join (f, "alice");
  join (f, "bob");
  request (f);
  answer (f, "alice", TRUE);
  answer (f, "bob", FALSE);
  assert_decision (f, "alice", TRUE, "participant-accepted");
  assert_decision (f, "bob", FALSE, "declined");
  /* The mixed stream contains everyone. */
  assert_decision (f, NULL, FALSE, "declined");
  d = consent_meeting_get_decision (f->m, "alice");
  g_assert_cmpstr (d->participant, ==, "alice");
  g_assert_cmpuint (g_strv_length (d->authorized_by), ==, 2);
  g_assert_true (consent_meeting_withdraw (f->m, "alice", NULL, NULL));
  assert_decision (f, "alice", FALSE, "withdrawn");
  fixture_free (f);
}

static void
test_participant_scope_absent (void)
{
  Fixture *f = fixture_new_full (participant_scope, TRUE);

  join (f, "alice");
  request (f);
  assert_decision (f, "nobody", FALSE, "participant-absent");
  answer (f, "alice", TRUE);
  assert_decision (f, "alice", TRUE, "participant-accepted");
  g_assert_true (consent_meeting_leave (f->m, "alice", NULL, NULL));
  assert_decision (f, "alice", FALSE, "participant-absent");
  fixture_free (f);
}

static void
test_participant_scope_signals (void)
{
  Fixture *f = fixture_new_full (participant_scope, TRUE);
  gboolean saw_alice = FALSE, saw_meeting = FALSE;

  join (f, "alice");
  request (f);
  answer (f, "alice", TRUE);
  for (guint i = 0; i < f->emissions->len; i++) {
    Emission *e = g_ptr_array_index (f->emissions, i);
    saw_alice |= g_strcmp0 (e->participant, "alice") == 0 && e->open;
    saw_meeting |= e->participant == NULL && e->open;
  }
  g_assert_true (saw_alice);
  g_assert_true (saw_meeting);
  fixture_free (f);
}

static void
test_meeting_scope_participant_query (void)
{
  Fixture *f = fixture_open ();
  g_autoptr (ConsentGateDecision) whole = consent_meeting_get_decision (f->m, NULL);
  g_autoptr (ConsentGateDecision) one = consent_meeting_get_decision (f->m, "alice");

  g_assert_true (one->open);
  g_assert_cmpstr (one->reason, ==, whole->reason);
  g_assert_cmpuint (one->epoch, ==, whole->epoch);
  fixture_free (f);
}

static void
test_epoch_counts_changes (void)
{
  Fixture *f = fixture_open ();

  consent_meeting_withdraw (f->m, "bob", NULL, NULL);
  answer (f, "bob", TRUE);
  join (f, "carol");
  answer (f, "carol", TRUE);
  g_assert_cmpuint (f->emissions->len, ==, 5);
  for (guint i = 0; i < f->emissions->len; i++) {
    Emission *e = g_ptr_array_index (f->emissions, i);
    g_assert_cmpuint (e->epoch, ==, i + 1);
    g_assert_cmpint (e->open, ==, i % 2 == 0);
  }
  fixture_free (f);
}

static void
test_no_emission_without_change (void)
{
  Fixture *f = fixture_new ();

  join (f, "alice");
  join (f, "bob");
  request (f);
  answer (f, "alice", FALSE);
  answer (f, "alice", TRUE);
  consent_meeting_leave (f->m, "alice", NULL, NULL);
  g_assert_cmpuint (f->emissions->len, ==, 0);
  fixture_free (f);
}

static void
test_gate_events_recorded (void)
{
  Fixture *f = fixture_open ();
  GPtrArray *events = consent_memory_recorder_get_events (f->rec);
  const ConsentEvent *opened = NULL;

  for (guint i = 0; i < events->len; i++) {
    const ConsentEvent *e = g_ptr_array_index (events, i);
    if (e->type == CONSENT_EVENT_GATE_OPENED)
      opened = e;
  }
  g_assert_nonnull (opened);
  g_assert_cmpuint (opened->epoch, ==, 1);
  g_assert_cmpstr (opened->reason, ==, "all-accepted");
  g_assert_cmpuint (g_strv_length (opened->authorized_by), ==, 3);
  g_assert_cmpuint (g_strv_length (opened->present), ==, 2);
  fixture_free (f);
}

static void
test_every_event_type (void)
{
  Fixture *f = fixture_open ();
  g_autoptr (ConsentNotice) v2 = consent_notice_new ("2", "t", "c", "p", "s", 1);
  GPtrArray *events = consent_memory_recorder_get_events (f->rec);

  g_assert_true (consent_meeting_set_title (f->m, "Weekly", NULL));
  g_assert_true (consent_meeting_notice_shown (f->m, "alice", NULL, NULL));
  answer (f, "bob", FALSE);
  consent_meeting_withdraw (f->m, "alice", NULL, NULL);
  g_assert_true (consent_meeting_record_segment (f->m, "{\"sha256\":\"x\"}", NULL));
  g_assert_true (consent_meeting_set_notice (f->m, v2, "admin", NULL));
  consent_meeting_tick (f->m, f->now_us + (gint64) 3600 * G_USEC_PER_SEC);
  consent_meeting_leave (f->m, "bob", NULL, NULL);
  consent_meeting_stop_recording (f->m, "admin", NULL);
  consent_meeting_end (f->m, "admin");
  for (int t = 0; t < CONSENT_EVENT_N_TYPES; t++) {
    g_test_message ("event type %s", consent_event_type_name (t));
    g_assert_cmpuint (count_events (f, t), >, 0);
  }
  for (guint i = 0; i < events->len; i++) {
    const ConsentEvent *e = g_ptr_array_index (events, i);
    g_assert_cmpstr (e->meeting, ==, "m1");
    g_assert_cmpint (e->ts_us, ==, f->now_us);
    g_assert_nonnull (e->notice_version);
    g_assert_cmpuint (strlen (e->notice_sha256), ==, 64);
    g_assert_nonnull (e->actor);
  }
  fixture_free (f);
}

static void
test_method_recorded (void)
{
  Fixture *f = fixture_new ();
  ConsentMethod method = { "ws", "test-client/1", "127.0.0.1" };
  GPtrArray *events = consent_memory_recorder_get_events (f->rec);
  const ConsentEvent *e;

  join (f, "alice");
  request (f);
  g_assert_true (consent_meeting_answer (f->m, "alice", TRUE, "1", NULL, &method, NULL));
  e = g_ptr_array_index (events, 2);
  g_assert_cmpint (e->type, ==, CONSENT_EVENT_ACCEPT);
  g_assert_cmpstr (e->channel, ==, "ws");
  g_assert_cmpstr (e->client, ==, "test-client/1");
  g_assert_cmpstr (e->ip, ==, "127.0.0.1");
  g_assert_cmpstr (e->participant, ==, "alice");
  g_assert_cmpstr (e->actor, ==, "participant");
  g_assert_cmpstr (e->request_id, ==, consent_meeting_get_request_id (f->m));
  fixture_free (f);
}

static void
test_meeting_end (void)
{
  Fixture *f = fixture_open ();
  g_autoptr (GError) error = NULL;

  consent_meeting_end (f->m, "admin");
  g_assert_true (consent_meeting_is_ended (f->m));
  assert_decision (f, NULL, FALSE, "meeting-ended");
  g_assert_false (consent_meeting_request_recording (f->m, "admin", &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_CONFLICT);
  g_clear_error (&error);
  g_assert_false (consent_meeting_join (f->m, "carol", "Carol", "guest", NULL, &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_CONFLICT);
  fixture_free (f);
}

static void
test_participant_list (void)
{
  Fixture *f = fixture_open ();
  g_autoptr (GPtrArray) list = NULL;
  ConsentParticipantState *s;

  consent_meeting_leave (f->m, "alice", NULL, NULL);
  list = consent_meeting_list_participants (f->m);
  g_assert_cmpuint (list->len, ==, 2);
  s = g_ptr_array_index (list, 0);
  g_assert_cmpstr (s->id, ==, "alice");
  g_assert_false (s->present);
  s = g_ptr_array_index (list, 1);
  g_assert_cmpstr (s->id, ==, "bob");
  g_assert_true (s->present);
  g_assert_cmpint (s->answer, ==, CONSENT_ANSWER_ACCEPTED);
  g_assert_cmpstr (s->answer_notice_version, ==, "1");
  fixture_free (f);
}

static char *
record_of (Fixture *f, const char *who)
{
  ConsentParticipantState *s = NULL;
  char *id;

  g_assert_true (consent_meeting_get_participant (f->m, who, &s));
  id = g_strdup (s->answer_record_id);
  consent_participant_state_free (s);
  return id;
}

/* The ticket of the last submitted event of @type. */
static guint64
last_ticket (Fixture *f, ConsentEventType type)
{
  GPtrArray *events = consent_memory_recorder_get_events (f->rec);

  for (guint i = events->len; i > 0; i--) {
    const ConsentEvent *e = g_ptr_array_index (events, i - 1);
    if (e->type == type)
      return e->ticket;
  }
  g_assert_not_reached ();
}

/* A decline and a withdrawal keep their durable record as the person's
 * receipt; it never counts as consent, and a stale ack sets nothing. */
static void
test_answer_receipts (void)
{
  Fixture *f = fixture_new_full (NULL, FALSE);
  g_autofree char *declined = NULL, *withdrawn = NULL, *stale = NULL, *accepted = NULL;

  join (f, "alice");
  join (f, "bob");
  request (f);
  consent_memory_recorder_ack (f->rec, 0);
  answer (f, "bob", TRUE);
  answer (f, "alice", FALSE);
  declined = record_of (f, "alice");
  g_assert_null (declined); /* not durable yet */
  consent_meeting_record_done (f->m, last_ticket (f, CONSENT_EVENT_DECLINE), "rec-decline", NULL);
  g_clear_pointer (&declined, g_free);
  declined = record_of (f, "alice");
  g_assert_cmpstr (declined, ==, "rec-decline");
  g_assert_cmpint (answer_of (f, "alice"), ==, CONSENT_ANSWER_DECLINED);
  consent_memory_recorder_ack (f->rec, 0);
  assert_decision (f, NULL, FALSE, "declined");

  /* A withdrawal whose ack arrives after a newer answer is history only. */
  g_assert_true (consent_meeting_withdraw (f->m, "bob", NULL, NULL));
  answer (f, "bob", TRUE);
  consent_meeting_record_done (f->m, last_ticket (f, CONSENT_EVENT_WITHDRAW), "rec-withdraw", NULL);
  stale = record_of (f, "bob");
  g_assert_null (stale);
  consent_meeting_record_done (f->m, last_ticket (f, CONSENT_EVENT_ACCEPT), "rec-accept", NULL);
  accepted = record_of (f, "bob");
  g_assert_cmpstr (accepted, ==, "rec-accept");

  g_assert_true (consent_meeting_withdraw (f->m, "bob", NULL, NULL));
  consent_memory_recorder_ack (f->rec, 0);
  withdrawn = record_of (f, "bob");
  g_assert_nonnull (withdrawn);
  g_assert_cmpstr (withdrawn, !=, "rec-accept");
  g_assert_cmpint (answer_of (f, "bob"), ==, CONSENT_ANSWER_WITHDRAWN);
  assert_decision (f, NULL, FALSE, "withdrawn");
  fixture_free (f);
}

/* With reuse-on-rejoin a kept decline keeps its receipt, and still closes. */
static void
test_decline_receipt_survives_rejoin (void)
{
  Fixture *f = fixture_new ();
  g_autofree char *before = NULL, *after = NULL;

  join (f, "alice");
  request (f);
  answer (f, "alice", FALSE);
  before = record_of (f, "alice");
  g_assert_nonnull (before);
  consent_meeting_leave (f->m, "alice", NULL, NULL);
  join (f, "alice");
  after = record_of (f, "alice");
  g_assert_cmpstr (after, ==, before);
  assert_decision (f, NULL, FALSE, "declined");
  fixture_free (f);
}

/* The event's details carry what a restart needs: the title, the whole notice. */
static void
test_details_for_replay (void)
{
  Fixture *f = fixture_new ();
  g_autoptr (ConsentNotice) v2 = consent_notice_new ("2", "Line one\nline \"two\"", "ACME",
                                                     "minutes", "on-site", 7);
  GPtrArray *events = consent_memory_recorder_get_events (f->rec);
  g_autoptr (json_object) title = NULL, notice = NULL;
  g_autoptr (ConsentNotice) back = NULL;
  g_autoptr (GError) error = NULL;
  const ConsentEvent *e;
  json_object *n = NULL;
  const char *t = NULL;

  g_assert_true (consent_meeting_set_title (f->m, "Weekly \"sync\"", NULL));
  e = g_ptr_array_index (events, events->len - 1);
  g_assert_cmpint (e->type, ==, CONSENT_EVENT_MEETING_UPDATED);
  title = consent_json_parse_strict (e->details_json, strlen (e->details_json), 65536, 4, &error);
  g_assert_no_error (error);
  g_assert_true (consent_json_get_string (title, "title", TRUE, &t, NULL));
  g_assert_cmpstr (t, ==, "Weekly \"sync\"");

  g_assert_true (consent_meeting_set_notice (f->m, v2, "admin", NULL));
  e = g_ptr_array_index (events, events->len - 1);
  g_assert_cmpint (e->type, ==, CONSENT_EVENT_NOTICE_CHANGED);
  g_assert_cmpstr (e->notice_sha256, ==, v2->sha256);
  notice = consent_json_parse_strict (e->details_json, strlen (e->details_json), 65536, 4, &error);
  g_assert_no_error (error);
  g_assert_true (json_object_object_get_ex (notice, "notice", &n));
  back = consent_notice_from_json_object (n, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->sha256, ==, v2->sha256);
  g_assert_cmpstr (back->text, ==, v2->text);
  g_assert_cmpuint (back->retention_days, ==, 7);
  fixture_free (f);
}

/* Another meeting's record failed on the shared ledger: this one closes too. */
static void
test_fail_ledger_from_outside (void)
{
  Fixture *f = fixture_open ();
  Fixture *idle = fixture_new ();
  g_autoptr (GError) error = NULL;
  guint n = f->emissions->len;

  consent_meeting_fail_ledger (f->m);
  assert_decision (f, NULL, FALSE, "ledger-failed");
  g_assert_cmpuint (f->emissions->len, ==, n + 1);
  consent_meeting_fail_ledger (f->m); /* idempotent */
  g_assert_cmpuint (f->emissions->len, ==, n + 1);
  g_assert_false (consent_meeting_answer (f->m, "alice", TRUE, "1", NULL, NULL, &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_LEDGER);
  /* A closed gate stays closed (no announcement) but says why. */
  consent_meeting_fail_ledger (idle->m);
  assert_decision (idle, NULL, FALSE, "ledger-failed");
  g_assert_cmpuint (idle->emissions->len, ==, 0);
  fixture_free (idle);
  fixture_free (f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/meeting/initial-closed", test_initial_closed);
  g_test_add_func ("/meeting/all-accept-opens", test_all_accept_opens);
  g_test_add_func ("/meeting/authorized-by-record-ids", test_authorized_by_are_record_ids);
  g_test_add_func ("/meeting/answer-without-request", test_answer_without_request);
  g_test_add_func ("/meeting/nobody-present", test_nobody_present);
  g_test_add_func ("/meeting/nobody-present-before-durable", test_nobody_present_before_durable);
  g_test_add_func ("/meeting/reason-priority", test_reason_priority);
  g_test_add_func ("/meeting/decline-closes", test_decline_closes);
  g_test_add_func ("/meeting/withdraw-closes-before-record", test_withdraw_closes_before_record);
  g_test_add_func ("/meeting/withdraw-priority", test_withdraw_priority_over_decline);
  g_test_add_func ("/meeting/late-join-closes", test_late_join_closes);
  g_test_add_func ("/meeting/late-join-stop", test_late_join_stop);
  g_test_add_func ("/meeting/leave-opens", test_leave_opens_when_rest_accepted);
  g_test_add_func ("/meeting/leave-changes-authorization", test_leave_changes_authorization);
  g_test_add_func ("/meeting/rejoin-with-reuse", test_rejoin_with_reuse);
  g_test_add_func ("/meeting/rejoin-without-reuse", test_rejoin_without_reuse);
  g_test_add_func ("/meeting/rejoin-reuse-same-request", test_rejoin_reuse_needs_same_request);
  g_test_add_func ("/meeting/new-request-asks-again", test_new_request_asks_again);
  g_test_add_func ("/meeting/stop-closes", test_stop_closes);
  g_test_add_func ("/meeting/timeout-never-opens", test_timeout_never_opens);
  g_test_add_func ("/meeting/timeout-alone", test_timeout_with_nobody_else);
  g_test_add_func ("/meeting/notice-change", test_notice_change);
  g_test_add_func ("/meeting/notice-same-version", test_notice_same_version_other_text);
  g_test_add_func ("/meeting/stale-request-id", test_stale_request_id);
  g_test_add_func ("/meeting/not-present", test_not_present);
  g_test_add_func ("/meeting/bad-input-changes-nothing", test_bad_input_changes_nothing);
  g_test_add_func ("/meeting/accept-waits-for-durable", test_accept_waits_for_durable);
  g_test_add_func ("/meeting/request-must-be-durable", test_request_must_be_durable);
  g_test_add_func ("/meeting/withdraw-before-ack", test_withdraw_before_ack);
  g_test_add_func ("/meeting/late-ack-after-new-request", test_late_ack_after_new_request);
  g_test_add_func ("/meeting/ledger-failure", test_ledger_failure);
  g_test_add_func ("/meeting/participant-scope", test_participant_scope);
  g_test_add_func ("/meeting/participant-scope-absent", test_participant_scope_absent);
  g_test_add_func ("/meeting/participant-scope-signals", test_participant_scope_signals);
  g_test_add_func ("/meeting/meeting-scope-participant-query", test_meeting_scope_participant_query);
  g_test_add_func ("/meeting/epoch-counts-changes", test_epoch_counts_changes);
  g_test_add_func ("/meeting/no-emission-without-change", test_no_emission_without_change);
  g_test_add_func ("/meeting/gate-events-recorded", test_gate_events_recorded);
  g_test_add_func ("/meeting/every-event-type", test_every_event_type);
  g_test_add_func ("/meeting/method-recorded", test_method_recorded);
  g_test_add_func ("/meeting/end", test_meeting_end);
  g_test_add_func ("/meeting/participant-list", test_participant_list);
  g_test_add_func ("/meeting/answer-receipts", test_answer_receipts);
  g_test_add_func ("/meeting/decline-receipt-survives-rejoin", test_decline_receipt_survives_rejoin);
  g_test_add_func ("/meeting/details-for-replay", test_details_for_replay);
  g_test_add_func ("/meeting/fail-ledger-from-outside", test_fail_ledger_from_outside);
  return g_test_run ();
}
