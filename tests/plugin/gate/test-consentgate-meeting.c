/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* consentgate following a real in-process ConsentMeeting (meeting-object). */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "consent.h"

#define MS (GST_MSECOND)
#define VIDEO_CAPS "video/x-h264,stream-format=byte-stream,alignment=au"
#define RAW_CAPS "audio/x-raw,format=S16LE,rate=1000,channels=1,layout=interleaved"

static const ConsentMethod method = {"in-process", "test", NULL};

typedef struct {
  ConsentMemoryRecorder *recorder;
  ConsentMeeting *meeting;
  GstElement *gate;
  GstHarness *hv, *ha;
  GstBus *bus;
} Mx;

static Mx *
mx_new (ConsentScope scope, gboolean auto_ack, const char *participant)
{
  Mx *mx = g_new0 (Mx, 1);
  ConsentPolicy *policy = consent_policy_new_default (NULL);
  GstPad *p;

  policy->allow_foreign_sinks = TRUE; /* the harness is not a consentsink */
  policy->scope = scope;
  mx->recorder = consent_memory_recorder_new (auto_ack);
  mx->meeting = consent_meeting_new ("weekly", policy, CONSENT_RECORDER (mx->recorder));
  consent_policy_unref (policy);
  fail_unless (
      consent_meeting_join (mx->meeting, "alice", "Alice", "participant", &method, NULL));
  fail_unless (
      consent_meeting_join (mx->meeting, "bob", "Bob", "participant", &method, NULL));
  if (!auto_ack)
    consent_memory_recorder_ack (mx->recorder, 0);

  mx->gate = gst_element_factory_make ("consentgate", NULL);
  g_object_set (mx->gate, "meeting-object", mx->meeting, "participant", participant,
                NULL);
  mx->bus = gst_bus_new ();
  gst_element_set_bus (mx->gate, mx->bus);
  p = gst_element_request_pad_simple (mx->gate, "sink_%u");
  gst_object_unref (p);
  p = gst_element_request_pad_simple (mx->gate, "sink_%u");
  gst_object_unref (p);
  mx->hv = gst_harness_new_with_element (mx->gate, "sink_0", "src_0");
  mx->ha = gst_harness_new_with_element (mx->gate, "sink_1", "src_1");
  gst_harness_use_testclock (mx->hv);
  gst_harness_play (mx->hv);
  gst_harness_play (mx->ha);
  gst_element_set_base_time (mx->gate, 0);
  gst_harness_set_src_caps_str (mx->hv, VIDEO_CAPS);
  gst_harness_set_src_caps_str (mx->ha, RAW_CAPS);
  return mx;
}

static void
mx_free (Mx *mx)
{
  gst_harness_teardown (mx->hv);
  gst_harness_teardown (mx->ha);
  gst_element_set_bus (mx->gate, NULL);
  gst_object_unref (mx->bus);
  gst_object_unref (mx->gate);
  g_object_unref (mx->meeting);
  g_object_unref (mx->recorder);
  g_free (mx);
}

static void
accept (Mx *mx, const char *who)
{
  g_autoptr (GError) error = NULL;
  const char *version = consent_meeting_get_notice (mx->meeting)->version;

  fail_unless (
      consent_meeting_answer (mx->meeting, who, TRUE, version, NULL, &method, &error),
      "%s", error ? error->message : "");
}

/* Pushes one video frame and 40 ms of audio at @t; returns buffers that passed. */
static guint
push_at (Mx *mx, GstClockTime t, gboolean key)
{
  GstBuffer *v = gst_buffer_new_allocate (NULL, 16, NULL);
  GstBuffer *a = gst_buffer_new_allocate (NULL, 80, NULL);
  guint before =
      gst_harness_buffers_in_queue (mx->hv) + gst_harness_buffers_in_queue (mx->ha);

  gst_harness_set_time (mx->hv, t);
  GST_BUFFER_PTS (v) = GST_BUFFER_DTS (v) = GST_BUFFER_PTS (a) = t;
  GST_BUFFER_DURATION (v) = GST_BUFFER_DURATION (a) = 40 * MS;
  if (!key)
    GST_BUFFER_FLAG_SET (v, GST_BUFFER_FLAG_DELTA_UNIT);
  fail_unless_equals_int (gst_harness_push (mx->hv, v), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_push (mx->ha, a), GST_FLOW_OK);
  return gst_harness_buffers_in_queue (mx->hv) + gst_harness_buffers_in_queue (mx->ha) -
         before;
}

static GstStructure *
last_gate_message (Mx *mx)
{
  GstStructure *last = NULL;
  GstMessage *m;

  while ((m = gst_bus_pop_filtered (mx->bus, GST_MESSAGE_ELEMENT))) {
    if (gst_message_has_name (m, "consent-gate")) {
      g_clear_pointer (&last, gst_structure_free);
      last = gst_structure_copy (gst_message_get_structure (m));
    }
    gst_message_unref (m);
  }
  return last;
}

GST_START_TEST (test_meeting_opens_when_everyone_accepted)
{
  Mx *mx = mx_new (CONSENT_SCOPE_MEETING, TRUE, NULL);
  GstStructure *s;
  const GValue *auth;

  fail_unless (consent_meeting_request_recording (mx->meeting, "organiser", NULL));
  fail_unless_equals_int (push_at (mx, 0, TRUE), 0);
  accept (mx, "alice");
  fail_unless_equals_int (push_at (mx, 40 * MS, TRUE), 0); /* bob has not answered */
  accept (mx, "bob");
  fail_unless_equals_int (push_at (mx, 80 * MS, FALSE), 0); /* waits for a keyframe */
  fail_unless_equals_int (push_at (mx, 120 * MS, TRUE), 2);
  s = last_gate_message (mx);
  fail_unless (s != NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "state"), "open");
  fail_unless_equals_string (gst_structure_get_string (s, "reason"), "all-accepted");
  fail_unless_equals_string (gst_structure_get_string (s, "meeting"), "weekly");
  auth = gst_structure_get_value (s, "authorized-by");
  fail_unless (auth && g_strv_length (g_value_get_boxed (auth)) >= 2);
  gst_structure_free (s);
  mx_free (mx);
}
GST_END_TEST;

GST_START_TEST (test_meeting_withdrawal_closes_at_once)
{
  Mx *mx = mx_new (CONSENT_SCOPE_MEETING, TRUE, NULL);
  GstStructure *s;

  fail_unless (consent_meeting_request_recording (mx->meeting, "organiser", NULL));
  accept (mx, "alice");
  accept (mx, "bob");
  fail_unless_equals_int (push_at (mx, 0, TRUE), 2);
  gst_harness_set_time (mx->hv, 60 * MS);
  fail_unless (consent_meeting_withdraw (mx->meeting, "bob", &method, NULL));
  fail_unless_equals_int (push_at (mx, 80 * MS, FALSE), 0);
  fail_unless_equals_int (push_at (mx, 120 * MS, TRUE), 0);
  s = last_gate_message (mx);
  fail_unless_equals_string (gst_structure_get_string (s, "state"), "closed");
  fail_unless_equals_string (gst_structure_get_string (s, "reason"), "withdrawn");
  gst_structure_free (s);
  mx_free (mx);
}
GST_END_TEST;

GST_START_TEST (test_meeting_late_join_closes)
{
  Mx *mx = mx_new (CONSENT_SCOPE_MEETING, TRUE, NULL);
  GstStructure *s;

  fail_unless (consent_meeting_request_recording (mx->meeting, "organiser", NULL));
  accept (mx, "alice");
  accept (mx, "bob");
  fail_unless_equals_int (push_at (mx, 0, TRUE), 2);
  gst_harness_set_time (mx->hv, 40 * MS);
  fail_unless (
      consent_meeting_join (mx->meeting, "carol", "Carol", "participant", &method, NULL));
  fail_unless_equals_int (push_at (mx, 40 * MS, TRUE), 0);
  s = last_gate_message (mx);
  fail_unless_equals_string (gst_structure_get_string (s, "state"), "closed");
  fail_unless_equals_string (gst_structure_get_string (s, "reason"), "late-join");
  gst_structure_free (s);
  accept (mx, "carol");
  fail_unless_equals_int (push_at (mx, 80 * MS, TRUE), 2);
  mx_free (mx);
}
GST_END_TEST;

GST_START_TEST (test_meeting_waits_for_durable_record)
{
  Mx *mx = mx_new (CONSENT_SCOPE_MEETING, FALSE, NULL);

  fail_unless (consent_meeting_request_recording (mx->meeting, "organiser", NULL));
  consent_memory_recorder_ack (mx->recorder, 0);
  accept (mx, "alice");
  accept (mx, "bob");
  fail_unless_equals_int (push_at (mx, 0, TRUE), 0); /* ledger not durable yet */
  consent_memory_recorder_ack (mx->recorder, 0);
  fail_unless_equals_int (push_at (mx, 40 * MS, TRUE), 2);
  mx_free (mx);
}
GST_END_TEST;

GST_START_TEST (test_meeting_participant_scope)
{
  Mx *mx = mx_new (CONSENT_SCOPE_PARTICIPANT, TRUE, "alice");

  fail_unless (consent_meeting_request_recording (mx->meeting, "organiser", NULL));
  fail_unless (consent_meeting_answer (mx->meeting, "bob", FALSE,
                                       consent_meeting_get_notice (mx->meeting)->version,
                                       NULL, &method, NULL));
  fail_unless_equals_int (push_at (mx, 0, TRUE), 0);
  accept (mx, "alice");
  fail_unless_equals_int (push_at (mx, 40 * MS, TRUE),
                          2); /* bob's decline does not count */
  mx_free (mx);
}
GST_END_TEST;

GST_START_TEST (test_meeting_end_closes)
{
  Mx *mx = mx_new (CONSENT_SCOPE_MEETING, TRUE, NULL);

  fail_unless (consent_meeting_request_recording (mx->meeting, "organiser", NULL));
  accept (mx, "alice");
  accept (mx, "bob");
  fail_unless_equals_int (push_at (mx, 0, TRUE), 2);
  gst_harness_set_time (mx->hv, 40 * MS);
  consent_meeting_end (mx->meeting, "organiser");
  fail_unless_equals_int (push_at (mx, 40 * MS, TRUE), 0);
  mx_free (mx);
}
GST_END_TEST;

static Suite *
consentgate_meeting_suite (void)
{
  Suite *s = suite_create ("consentgate-meeting");
  TCase *tc = tcase_create ("meeting");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_meeting_opens_when_everyone_accepted);
  tcase_add_test (tc, test_meeting_withdrawal_closes_at_once);
  tcase_add_test (tc, test_meeting_late_join_closes);
  tcase_add_test (tc, test_meeting_waits_for_durable_record);
  tcase_add_test (tc, test_meeting_participant_scope);
  tcase_add_test (tc, test_meeting_end_closes);
  return s;
}

int
main (int argc, char **argv)
{
  int failed;

  gst_check_init (&argc, &argv);
  failed =
      gst_check_run_suite (consentgate_meeting_suite (), "consentgate-meeting", __FILE__);
  return failed;
}
