/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* consentgate element tests (GstHarness, a test clock, a scripted source). */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/check/gsttestclock.h>
#include <glib/gstdio.h>
#include <gst/video/video.h>

#include "consent-gate-event.h"
#include "gate-test-util.h"

#define MS (GST_MSECOND)
#define VIDEO_CAPS "video/x-h264,stream-format=byte-stream,alignment=au"
#define RAW_CAPS "audio/x-raw,format=S16LE,rate=1000,channels=1,layout=interleaved"
#define OPUS_CAPS "audio/x-opus,channel-mapping-family=0"
#define MAX_H 3

typedef struct {
  GstElement *gate;
  GstHarness *h[MAX_H];
  guint n;
  FakeSource *src;
  GstBus *bus;
  GMutex log_lock;
  GPtrArray *log; /* "<stream>:<what>" in push order */
} Fx;

static GstPadProbeReturn
log_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Fx *fx = user_data;
  guint idx = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (pad), "idx"));
  char *entry = NULL;

  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER (info);
    entry =
        g_strdup_printf ("%u:B%" G_GUINT64_FORMAT "%s", idx, GST_BUFFER_PTS (b) / MS,
                         GST_BUFFER_FLAG_IS_SET (b, GST_BUFFER_FLAG_DISCONT) ? "d" : "");
  } else {
    GstEvent *e = GST_PAD_PROBE_INFO_EVENT (info);
    ConsentGateInfo gi;
    if (consent_gate_event_parse (e, &gi))
      entry = g_strdup_printf ("%u:%s%" G_GUINT64_FORMAT, idx, gi.open ? "O" : "C",
                               gi.running_time / MS);
    else if (GST_EVENT_TYPE (e) == GST_EVENT_GAP)
      entry = g_strdup_printf ("%u:G", idx);
    else if (GST_EVENT_TYPE (e) == GST_EVENT_CAPS)
      entry = g_strdup_printf ("%u:caps", idx);
    else if (GST_EVENT_TYPE (e) == GST_EVENT_EOS)
      entry = g_strdup_printf ("%u:eos", idx);
  }
  if (entry) {
    g_mutex_lock (&fx->log_lock);
    g_ptr_array_add (fx->log, entry);
    g_mutex_unlock (&fx->log_lock);
  }
  return GST_PAD_PROBE_OK;
}

static gint
log_find (Fx *fx, const char *entry)
{
  gint found = -1;

  g_mutex_lock (&fx->log_lock);
  for (guint i = 0; i < fx->log->len && found < 0; i++)
    if (g_str_equal (g_ptr_array_index (fx->log, i), entry))
      found = (gint)i;
  g_mutex_unlock (&fx->log_lock);
  return found;
}

static guint
log_count_prefix (Fx *fx, const char *prefix)
{
  guint n = 0;

  g_mutex_lock (&fx->log_lock);
  for (guint i = 0; i < fx->log->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (fx->log, i), prefix))
      n++;
  g_mutex_unlock (&fx->log_lock);
  return n;
}

static guint
log_count_suffix (Fx *fx, const char *suffix)
{
  guint n = 0;

  g_mutex_lock (&fx->log_lock);
  for (guint i = 0; i < fx->log->len; i++)
    if (g_str_has_suffix (g_ptr_array_index (fx->log, i), suffix))
      n++;
  g_mutex_unlock (&fx->log_lock);
  return n;
}

static GstHarness *
fx_add_stream (Fx *fx)
{
  GstPad *sink = gst_element_request_pad_simple (fx->gate, "sink_%u");
  const char *num = GST_PAD_NAME (sink) + strlen ("sink_");
  g_autofree char *src_name = g_strdup_printf ("src_%s", num);
  GstPad *src = gst_element_get_static_pad (fx->gate, src_name);
  GstHarness *h;

  fail_unless (src != NULL);
  g_object_set_data (G_OBJECT (src), "idx", GUINT_TO_POINTER (fx->n));
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_DATA_DOWNSTREAM, log_probe, fx, NULL);
  h = gst_harness_new_with_element (fx->gate, GST_PAD_NAME (sink), src_name);
  fx->h[fx->n++] = h;
  gst_object_unref (src);
  gst_object_unref (sink);
  return h;
}

static GstPadQueryFunction harness_src_query;

/* GstHarness always answers the latency query as live; non-live tests
 * answer it themselves. */
static gboolean
nonlive_src_query (GstPad *pad, GstObject *parent, GstQuery *query)
{
  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    gst_query_set_latency (query, FALSE, 0, GST_CLOCK_TIME_NONE);
    return TRUE;
  }
  return harness_src_query (pad, parent, query);
}

/* A gate with @n streams of @caps, following a FakeSource, playing. */
static Fx *
fx_new_full (guint n, const char *const *caps, const char *timeline, gboolean live)
{
  Fx *fx = g_new0 (Fx, 1);

  g_mutex_init (&fx->log_lock);
  fx->log = g_ptr_array_new_with_free_func (g_free);
  fx->gate = gst_element_factory_make ("consentgate", NULL);
  fail_unless (fx->gate != NULL);
  fx->src = fake_source_new (TRUE);
  g_object_set (fx->gate, "source-object", fx->src, NULL);
  if (timeline)
    gst_util_set_object_arg (G_OBJECT (fx->gate), "timeline", timeline);
  fx->bus = gst_bus_new ();
  gst_element_set_bus (fx->gate, fx->bus);
  for (guint i = 0; i < n; i++)
    fx_add_stream (fx);
  gst_harness_use_testclock (fx->h[0]);
  for (guint i = 0; i < n; i++) {
    if (!live) {
      harness_src_query = GST_PAD_QUERYFUNC (fx->h[i]->srcpad);
      gst_pad_set_query_function (fx->h[i]->srcpad, nonlive_src_query);
    }
  }
  /* start afresh, so liveness is asked of the harnesses as set up above */
  gst_element_set_state (fx->gate, GST_STATE_READY);
  for (guint i = 0; i < n; i++)
    gst_harness_play (fx->h[i]);
  gst_element_set_base_time (fx->gate, 0);
  for (guint i = 0; i < n; i++)
    if (caps[i]) /* NULL: the test sets them later */
      gst_harness_set_src_caps_str (fx->h[i], caps[i]);
  return fx;
}

static Fx *
fx_new (guint n, const char *const *caps)
{
  return fx_new_full (n, caps, NULL, TRUE);
}

static void
fx_free (Fx *fx)
{
  for (guint i = 0; i < fx->n; i++)
    gst_harness_teardown (fx->h[i]);
  gst_element_set_bus (fx->gate, NULL);
  gst_object_unref (fx->bus);
  gst_object_unref (fx->gate);
  g_object_unref (fx->src);
  g_ptr_array_unref (fx->log);
  g_mutex_clear (&fx->log_lock);
  g_free (fx);
}

static void
fx_at (Fx *fx, GstClockTime t)
{
  gst_harness_set_time (fx->h[0], t);
}

static void
fx_open (Fx *fx)
{
  fake_source_decide (fx->src, NULL, TRUE, "all-accepted");
}

static void
fx_close (Fx *fx, const char *reason)
{
  fake_source_decide (fx->src, NULL, FALSE, reason);
}

static GstBuffer *
video_buf (GstClockTime pts, gboolean key)
{
  GstBuffer *b = gst_buffer_new_allocate (NULL, 16, NULL);

  GST_BUFFER_PTS (b) = GST_BUFFER_DTS (b) = pts;
  GST_BUFFER_DURATION (b) = 40 * MS;
  if (!key)
    GST_BUFFER_FLAG_SET (b, GST_BUFFER_FLAG_DELTA_UNIT);
  return b;
}

static GstBuffer *
raw_buf (GstClockTime pts, guint samples)
{
  GstBuffer *b = gst_buffer_new_allocate (NULL, samples * 2, NULL);

  GST_BUFFER_PTS (b) = pts;
  GST_BUFFER_DURATION (b) = samples * MS; /* 1000 Hz */
  return b;
}

static GstBuffer *
opus_buf (GstClockTime pts)
{
  GstBuffer *b = gst_buffer_new_allocate (NULL, 8, NULL);

  GST_BUFFER_PTS (b) = pts;
  GST_BUFFER_DURATION (b) = 20 * MS;
  return b;
}

static void
push_ok (GstHarness *h, GstBuffer *b)
{
  fail_unless_equals_int (gst_harness_push (h, b), GST_FLOW_OK);
}

static GstClockTime
out_rt (GstHarness *h, GstBuffer *b, gboolean dts)
{
  GstEvent *e = gst_pad_get_sticky_event (h->sinkpad, GST_EVENT_SEGMENT, 0);
  const GstSegment *seg;
  GstClockTime rt;

  fail_unless (e != NULL);
  gst_event_parse_segment (e, &seg);
  rt = gst_segment_to_running_time (seg, GST_FORMAT_TIME,
                                    dts ? GST_BUFFER_DTS (b) : GST_BUFFER_PTS (b));
  gst_event_unref (e);
  return rt;
}

static GstStructure *
pop_gate_message (Fx *fx)
{
  GstMessage *m;

  while ((m = gst_bus_pop_filtered (fx->bus, GST_MESSAGE_ELEMENT))) {
    if (gst_message_has_name (m, CONSENT_GATE_EVENT_NAME)) {
      GstStructure *s = gst_structure_copy (gst_message_get_structure (m));
      gst_message_unref (m);
      return s;
    }
    gst_message_unref (m);
  }
  return NULL;
}

static const char *const V[] = {VIDEO_CAPS};
static const char *const VA[] = {VIDEO_CAPS, RAW_CAPS};
static const char *const VO[] = {VIDEO_CAPS, OPUS_CAPS};
static const char *const A[] = {RAW_CAPS};
static const char *const O[] = {OPUS_CAPS};
static const char *const VAO[] = {VIDEO_CAPS, RAW_CAPS, OPUS_CAPS};

/* Opens a video(+x) gate at @t with a keyframe at @t. */
static void
open_video_at (Fx *fx, GstClockTime t)
{
  fx_at (fx, t);
  fx_open (fx);
  push_ok (fx->h[0], video_buf (t, TRUE));
}

/* ------------------------------------------------------------------ tests */

GST_START_TEST (test_starts_closed_forwards_sticky_and_gap)
{
  Fx *fx = fx_new (1, V);
  GstEvent *e;
  gboolean saw_gap = FALSE, is_open = TRUE;

  push_ok (fx->h[0], video_buf (0, TRUE));
  push_ok (fx->h[0], video_buf (40 * MS, FALSE));
  fail_unless_equals_int (gst_harness_buffers_in_queue (fx->h[0]), 0);
  e = gst_pad_get_sticky_event (fx->h[0]->sinkpad, GST_EVENT_STREAM_START, 0);
  fail_unless (e != NULL);
  gst_event_unref (e);
  while ((e = gst_harness_try_pull_event (fx->h[0]))) {
    saw_gap |= GST_EVENT_TYPE (e) == GST_EVENT_GAP;
    gst_event_unref (e);
  }
  fail_unless (saw_gap);
  g_object_get (fx->gate, "is-open", &is_open, NULL);
  fail_if (is_open);
  fx_free (fx);
}
GST_END_TEST;

GST_START_TEST (test_never_opens_without_source)
{
  GstElement *gate = gst_element_factory_make ("consentgate", NULL);
  GstHarness *h = gst_harness_new_with_element (gate, "sink_%u", NULL);
  gboolean open = TRUE;

  (void)h;
  gst_harness_teardown (h);
  gst_object_unref (gate);

  /* with server= and a token file but no reachable consentd: the client is
   * set up, its connection fails, and the gate stays closed ("disconnected") */
  {
    g_autoptr (GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp ("consentgate-test-XXXXXX", &error);
    g_autofree char *token_file = NULL;
    GstPad *sink;

    g_assert_no_error (error);
    token_file = g_build_filename (dir, "recorder.token", NULL);
    fail_unless (g_file_set_contents (token_file, "ct1.not-a-real-token", -1, &error));
    gate = gst_element_factory_make ("consentgate", NULL);
    /* port 1 on loopback: nothing listens there, so connecting fails */
    g_object_set (gate, "server", "ws://127.0.0.1:1/v1/ws", "meeting", "m1", "token-file",
                  token_file, NULL);
    sink = gst_element_request_pad_simple (gate, "sink_%u");
    h = gst_harness_new_with_element (gate, "sink_0", "src_0");
    gst_harness_set_src_caps_str (h, VIDEO_CAPS);
    for (int i = 0; i < 10; i++)
      push_ok (h, video_buf (i * 40 * MS, TRUE));
    fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
    g_object_get (gate, "is-open", &open, NULL);
    fail_if (open);
    gst_object_unref (sink);
    gst_harness_teardown (h);
    gst_object_unref (gate);
    fail_unless_equals_int (g_unlink (token_file), 0);
    fail_unless_equals_int (g_rmdir (dir), 0);
  }

  /* with server= but no token file: READY→PAUSED fails, and the element
   * error says what is missing */
  {
    GstBus *bus = gst_bus_new ();
    GstMessage *msg;
    g_autoptr (GError) error = NULL;
    g_autofree char *debug = NULL;

    gate = gst_element_factory_make ("consentgate", NULL);
    g_object_set (gate, "server", "ws://127.0.0.1:1/v1/ws", "meeting", "m1", NULL);
    gst_element_set_bus (gate, bus);
    fail_unless_equals_int (gst_element_set_state (gate, GST_STATE_PAUSED),
                            GST_STATE_CHANGE_FAILURE);
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    fail_unless (msg != NULL);
    gst_message_parse_error (msg, &error, &debug);
    fail_unless (g_strrstr (error->message, "token-file") != NULL, "error: %s",
                 error->message);
    gst_message_unref (msg);
    gst_element_set_state (gate, GST_STATE_NULL);
    gst_element_set_bus (gate, NULL);
    gst_object_unref (bus);
    gst_object_unref (gate);
  }
}
GST_END_TEST;

GST_START_TEST (test_opens_at_first_keyframe_after_decision)
{
  Fx *fx = fx_new (1, V);
  GstEvent *e;
  gboolean fku = FALSE;
  GstBuffer *b;

  fx_at (fx, 1000 * MS);
  fx_open (fx);
  push_ok (fx->h[0], video_buf (960 * MS, TRUE));   /* before the decision */
  push_ok (fx->h[0], video_buf (1000 * MS, FALSE)); /* delta */
  push_ok (fx->h[0], video_buf (1040 * MS, TRUE));
  push_ok (fx->h[0], video_buf (1080 * MS, FALSE));
  fail_unless_equals_int (gst_harness_buffers_in_queue (fx->h[0]), 2);
  b = gst_harness_pull (fx->h[0]);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (b), 1040 * MS);
  fail_unless (GST_BUFFER_FLAG_IS_SET (b, GST_BUFFER_FLAG_DISCONT));
  gst_buffer_unref (b);
  while ((e = gst_harness_try_pull_upstream_event (fx->h[0]))) {
    fku |= gst_video_event_is_force_key_unit (e);
    gst_event_unref (e);
  }
  fail_unless (fku);
  fx_free (fx);
}
GST_END_TEST;

GST_START_TEST (test_open_event_and_bus_message)
{
  Fx *fx = fx_new (1, V);
  GstStructure *s;
  const GValue *auth;
  guint64 rt = 1, epoch = 0;

  open_video_at (fx, 500 * MS);
  fail_unless (log_find (fx, "0:O0") >= 0);
  fail_unless (log_find (fx, "0:O0") < log_find (fx, "0:B500d"));
  s = pop_gate_message (fx);
  fail_unless (s != NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "state"), "open");
  fail_unless_equals_string (gst_structure_get_string (s, "reason"), "all-accepted");
  fail_unless (gst_structure_get_uint64 (s, "running-time", &rt));
  fail_unless_equals_uint64 (rt, 0); /* continuous: the first interval starts at 0 */
  fail_unless (gst_structure_get_uint64 (s, "epoch", &epoch));
  fail_unless (epoch > 0);
  auth = gst_structure_get_value (s, "authorized-by");
  fail_unless (auth && G_VALUE_HOLDS (auth, G_TYPE_STRV));
  fail_unless_equals_string (((char **)g_value_get_boxed (auth))[0], "rec-1");
  fail_if (gst_structure_has_field (s, "source"));
  gst_structure_free (s);

  fx_at (fx, 700 * MS);
  fx_close (fx, "withdrawn");
  s = pop_gate_message (fx);
  fail_unless (s != NULL);
  fail_unless_equals_string (gst_structure_get_string (s, "state"), "closed");
  fail_unless_equals_string (gst_structure_get_string (s, "reason"), "withdrawn");
  fail_unless (gst_structure_get_uint64 (s, "running-time", &rt));
  fail_unless_equals_uint64 (rt, 200 * MS);
  gst_structure_free (s);
  fx_free (fx);
}
GST_END_TEST;

GST_START_TEST (test_event_carries_source)
{
  Fx *fx = fx_new (1, V);
  GstEvent *e;
  gboolean found = FALSE;

  open_video_at (fx, 100 * MS);
  while ((e = gst_harness_try_pull_event (fx->h[0]))) {
    ConsentGateInfo gi;
    if (consent_gate_event_parse (e, &gi)) {
      fail_unless (gi.open);
      fail_unless (gi.source == CONSENT_SOURCE (fx->src));
      fail_unless_equals_string (gi.meeting, "fake-meeting");
      fail_unless_equals_string (gi.notice_version, "1");
      found = TRUE;
    }
    gst_event_unref (e);
  }
  fail_unless (found);
  fx_free (fx);
}
GST_END_TEST;

GST_START_TEST (test_withdrawal_closes_at_decision_running_time)
{
  Fx *fx = fx_new (2, VA);

  open_video_at (fx, 1000 * MS);
  push_ok (fx->h[1], raw_buf (1000 * MS, 100));
  fx_at (fx, 1500 * MS);
  fx_close (fx, "withdrawn");
  /* late-arriving buffers captured before the withdrawal still pass */
  push_ok (fx->h[0], video_buf (1440 * MS, FALSE));
  push_ok (fx->h[0], video_buf (1480 * MS, FALSE));
  push_ok (fx->h[0], video_buf (1520 * MS, FALSE));
  push_ok (fx->h[0], video_buf (1560 * MS, TRUE)); /* keyframe: still closed */
  push_ok (fx->h[1], raw_buf (1100 * MS, 500));    /* 1.1–1.6: clipped at 1.5 */
  push_ok (fx->h[1], raw_buf (1600 * MS, 100));
  fail_unless_equals_int (gst_harness_buffers_in_queue (fx->h[0]), 3);
  fail_unless_equals_int (gst_harness_buffers_in_queue (fx->h[1]), 2);
  gst_buffer_unref (gst_harness_pull (fx->h[1]));
  {
    GstBuffer *b = gst_harness_pull (fx->h[1]);
    fail_unless_equals_uint64 (gst_buffer_get_size (b), 400 * 2);
    gst_buffer_unref (b);
  }
  fail_unless (log_find (fx, "0:C500") > log_find (fx, "0:B1480"));
  fail_unless (log_find (fx, "1:C500") >= 0);
  fx_free (fx);
}
GST_END_TEST;

GST_START_TEST (test_late_join_closes_all_streams)
{
  Fx *fx = fx_new (2, VO);

  open_video_at (fx, 0);
  push_ok (fx->h[1], opus_buf (0));
  fx_at (fx, 200 * MS);
  fx_close (fx, "late-join");
  push_ok (fx->h[0], video_buf (200 * MS, FALSE));
  push_ok (fx->h[1], opus_buf (200 * MS));
  fail_unless_equals_int (gst_harness_buffers_in_queue (fx->h[0]), 1);
  fail_unless_equals_int (gst_harness_buffers_in_queue (fx->h[1]), 1);
  fail_unless (log_find (fx, "0:C200") >= 0);
  fail_unless (log_find (fx, "1:C200") >= 0);
  fx_free (fx);
}
GST_END_TEST;

GST_START_TEST (test_decision_judged_by_running_time_not_arrival)
{
  Fx *fx = fx_new (1, V);

  /* the decision arrives at 2 s; buffers stamped before it arrive later */
  fx_at (fx, 2000 * MS);
  fx_open (fx);
  push_ok (fx->h[0], video_buf (1960 * MS, TRUE));
  fail_unless_equals_int (gst_harness_buffers_in_queue (fx->h[0]), 0);
  push_ok (fx->h[0], video_buf (2000 * MS, TRUE));
  fail_unless_equals_int (gst_harness_buffers_in_queue (fx->h[0]), 1);
  fx_free (fx);
}
GST_END_TEST;

GST_START_TEST (test_raw_audio_clipped_at_open)
{
  Fx *fx = fx_new (1, A);
  GstBuffer *b;

  fx_at (fx, 1005 * MS);
  fx_open (fx); /* audio only: opens at once, at the decision */
  push_ok (fx->h[0], raw_buf (1000 * MS, 10));
  b = gst_harness_pull (fx->h[0]);
  fail_unless_equals_uint64 (gst_buffer_get_size (b), 5 * 2);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (b), 1005 * MS);
  fail_unless_equals_uint64 (out_rt (fx->h[0], b, FALSE), 0);
  gst_buffer_unref (b);
  fx_free (fx);
}
GST_END_TEST;

GST_START_TEST (test_encoded_audio_cut_at_whole_frames)
{
  Fx *fx = fx_new (1, O);

  fx_at (fx, 1010 * MS);
  fx_open (fx);
  push_ok (fx->h[0], opus_buf (1000 * MS)); /* straddles the opening: dropped */
  push_ok (fx->h[0], opus_buf (1020 * MS));
  push_ok (fx->h[0], opus_buf (1040 * MS));
  fx_at (fx, 1070 * MS);
  fx_close (fx, "withdrawn");
  push_ok (fx->h[0], opus_buf (1060 * MS)); /* straddles the closing: dropped */
  push_ok (fx->h[0], opus_buf (1080 * MS));
  fail_unless_equals_int (gst_harness_buffers_in_queue (fx->h[0]), 2);
  fx_free (fx);
}
GST_END_TEST;

GST_START_TEST (test_av_start_within_one_audio_frame)
{
  Fx *fx = fx_new (2, VO);
  GstBuffer *v, *a;

  fx_at (fx, 1000 * MS);
  fx_open (fx);
  push_ok (fx->h[0], video_buf (1000 * MS, FALSE));
  push_ok (fx->h[0], video_buf (1040 * MS, FALSE));
  push_ok (fx->h[0], video_buf (1080 * MS, TRUE)); /* opens here */
  for (int i = 0; i < 6; i++)                      /* 1.00 .. 1.10 */
    push_ok (fx->h[1], opus_buf ((1000 + 20 * i) * MS));
  v = gst_harness_pull (fx->h[0]);
  a = gst_harness_pull (fx->h[1]);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (v), 1080 * MS);
  fail_unless (GST_BUFFER_PTS (a) >= GST_BUFFER_PTS (v));
  fail_unless (GST_BUFFER_PTS (a) - GST_BUFFER_PTS (v) < 20 * MS);
  fail_unless_equals_uint64 (out_rt (fx->h[0], v, FALSE), 0);
  fail_unless_equals_uint64 (out_rt (fx->h[1], a, FALSE), 0);
  /* the audio from before the keyframe was dropped with the delta frames:
   * only 1.08 and 1.10 passed */
  fail_unless_equals_int (gst_harness_buffers_in_queue (fx->h[1]), 1);
  gst_buffer_unref (v);
  gst_buffer_unref (a);
  fx_free (fx);
}
GST_END_TEST;

static gpointer
push_audio_thread (gpointer data)
{
  GstHarness *h = data;

  return GINT_TO_POINTER (gst_harness_push (h, raw_buf (1100 * MS, 20)));
}

GST_START_TEST (test_audio_waits_for_opening_keyframe)
{
  Fx *fx = fx_new (2, VA);
  GThread *t;

  fx_at (fx, 1000 * MS);
  fx_open (fx);
  /* audio ahead of video: it must wait until the video decides the opening */
  t = g_thread_new ("audio", push_audio_thread, fx->h[1]);
  push_ok (fx->h[0], video_buf (1000 * MS, FALSE));
  push_ok (fx->h[0], video_buf (1110 * MS, TRUE));
  push_ok (fx->h[0], video_buf (1150 * MS, FALSE));
  fail_unless_equals_int (GPOINTER_TO_INT (g_thread_join (t)), GST_FLOW_OK);
  {
    GstBuffer *a = gst_harness_pull (fx->h[1]); /* 1.100–1.120 clipped to 1.110 */
    fail_unless_equals_uint64 (GST_BUFFER_PTS (a), 1110 * MS);
    fail_unless_equals_uint64 (gst_buffer_get_size (a), 10 * 2);
    gst_buffer_unref (a);
  }
  fx_free (fx);
}
GST_END_TEST;

GST_START_TEST (test_continuous_timeline_contiguous)
{
  Fx *fx = fx_new (2, VA);
  GstBuffer *b;

  open_video_at (fx, 1000 * MS);
  push_ok (fx->h[0], video_buf (1040 * MS, FALSE));
  push_ok (fx->h[1], raw_buf (1000 * MS, 80));
  fx_at (fx, 1080 * MS);
  fx_close (fx, "withdrawn");
  push_ok (fx->h[0], video_buf (1080 * MS, FALSE));
  fx_at (fx, 3000 * MS);
  fx_open (fx);
  push_ok (fx->h[0], video_buf (3000 * MS, TRUE));
  push_ok (fx->h[1], raw_buf (3000 * MS, 40));

  fail_unless_equals_int (gst_harness_buffers_in_queue (fx->h[0]), 3);
  b = gst_harness_pull (fx->h[0]);
  gst_buffer_unref (b);
  b = gst_harness_pull (fx->h[0]);
  gst_buffer_unref (b);
  b = gst_harness_pull (fx->h[0]);
  fail_unless (GST_BUFFER_FLAG_IS_SET (b, GST_BUFFER_FLAG_DISCONT));
  fail_unless_equals_uint64 (out_rt (fx->h[0], b, FALSE), 80 * MS);
  gst_buffer_unref (b);
  gst_buffer_unref (gst_harness_pull (fx->h[1]));
  b = gst_harness_pull (fx->h[1]);
  fail_unless_equals_uint64 (out_rt (fx->h[1], b, FALSE), 80 * MS);
  gst_buffer_unref (b);
  fail_unless (log_find (fx, "0:O80") >= 0);
  fx_free (fx);
}
GST_END_TEST;

GST_START_TEST (test_wallclock_timeline_keeps_gaps)
{
  Fx *fx = fx_new_full (1, V, "wallclock", TRUE);
  GstBuffer *b;

  open_video_at (fx, 1000 * MS);
  fx_at (fx, 1040 * MS);
  fx_close (fx, "withdrawn");
  fx_at (fx, 3000 * MS);
  fx_open (fx);
  push_ok (fx->h[0], video_buf (3000 * MS, TRUE));
  b = gst_harness_pull (fx->h[0]);
  fail_unless_equals_uint64 (out_rt (fx->h[0], b, FALSE), 1000 * MS);
  gst_buffer_unref (b);
  b = gst_harness_pull (fx->h[0]);
  fail_unless_equals_uint64 (out_rt (fx->h[0], b, FALSE), 3000 * MS);
  gst_buffer_unref (b);
  fx_free (fx);
}
GST_END_TEST;

GST_START_TEST (test_bframes_keep_dts_non_negative)
{
  Fx *fx = fx_new (1, V);
  GstBuffer *b = video_buf (1080 * MS, TRUE);
  gint64 dts_rt = -1;
  GstEvent *e;
  const GstSegment *seg;

  GST_BUFFER_DTS (b) = 1000 * MS; /* two B-frames of reorder delay */
  fx_at (fx, 1000 * MS);
  fx_open (fx);
  push_ok (fx->h[0], b);
  b = gst_harness_pull (fx->h[0]);
  e = gst_pad_get_sticky_event (fx->h[0]->sinkpad, GST_EVENT_SEGMENT, 0);
  gst_event_parse_segment (e, &seg);
  fail_unless (gst_segment_to_running_time_full (seg, GST_FORMAT_TIME, GST_BUFFER_DTS (b),
                                                 (guint64 *)&dts_rt) == 1);
  fail_unless_equals_uint64 (dts_rt, 0);
  fail_unless_equals_uint64 (out_rt (fx->h[0], b, FALSE), 80 * MS);
  gst_event_unref (e);
  gst_buffer_unref (b);
  fx_free (fx);
}
GST_END_TEST;

GST_START_TEST (test_caps_change_while_closed_before_first_buffer)
{
  Fx *fx = fx_new (1, V);

  push_ok (fx->h[0], video_buf (0, TRUE));
  gst_harness_set_src_caps_str (fx->h[0], VIDEO_CAPS ",width=640,height=480");
  open_video_at (fx, 100 * MS);
  fail_unless (log_count_prefix (fx, "0:caps") >= 2);
  fail_unless (log_find (fx, "0:B100d") > (gint)0);
  {
    GstCaps *caps = gst_pad_get_current_caps (fx->h[0]->sinkpad);
    fail_unless (gst_structure_has_field (gst_caps_get_structure (caps, 0), "width"));
    gst_caps_unref (caps);
  }
  fx_free (fx);
}
GST_END_TEST;

GST_START_TEST (test_eos_while_closed_passes)
{
  Fx *fx = fx_new (2, VA);

  push_ok (fx->h[0], video_buf (0, TRUE));
  fail_unless (gst_harness_push_event (fx->h[0], gst_event_new_eos ()));
  fail_unless (gst_harness_push_event (fx->h[1], gst_event_new_eos ()));
  fail_unless (log_find (fx, "0:eos") >= 0);
  fail_unless (log_find (fx, "1:eos") >= 0);
  fx_free (fx);
}
GST_END_TEST;

GST_START_TEST (test_eos_main_first)
{
  Fx *fx = fx_new (2, VA);

  open_video_at (fx, 0);
  fail_unless (gst_harness_push_event (fx->h[0], gst_event_new_eos ()));
  fail_unless (log_find (fx, "0:C40") >= 0 || log_find (fx, "0:C0") >= 0);
  push_ok (fx->h[1], raw_buf (0, 100));
  push_ok (fx->h[1], raw_buf (100 * MS, 100));
  fail_unless_equals_int (gst_harness_buffers_in_queue (fx->h[1]), 2);
  fail_unless (gst_harness_push_event (fx->h[1], gst_event_new_eos ()));
  fail_unless (log_find (fx, "1:eos") > log_find (fx, "1:B100"));

  /* armed while the only video has ended: audio opens at the decision */
  fx_close (fx, "withdrawn");
  fx_free (fx);
}
GST_END_TEST;

GST_START_TEST (test_eos_secondary_first)
{
  Fx *fx = fx_new (2, VA);

  open_video_at (fx, 0);
  push_ok (fx->h[1], raw_buf (0, 40));
  fail_unless (gst_harness_push_event (fx->h[1], gst_event_new_eos ()));
  push_ok (fx->h[0], video_buf (40 * MS, FALSE));
  push_ok (fx->h[0], video_buf (80 * MS, FALSE));
  fail_unless_equals_int (gst_harness_buffers_in_queue (fx->h[0]), 3);
  fail_unless (log_find (fx, "1:C40") >= 0);
  fail_unless (log_find (fx, "1:eos") > log_find (fx, "1:C40"));
  fx_free (fx);
}
GST_END_TEST;

GST_START_TEST (test_eos_main_while_armed_opens_audio)
{
  Fx *fx = fx_new (2, VA);

  fx_at (fx, 100 * MS);
  fx_open (fx);
  push_ok (fx->h[0], video_buf (100 * MS, FALSE));
  fail_unless (gst_harness_push_event (fx->h[0], gst_event_new_eos ()));
  push_ok (fx->h[1], raw_buf (100 * MS, 20));
  fail_unless_equals_int (gst_harness_buffers_in_queue (fx->h[1]), 1);
  fx_free (fx);
}
GST_END_TEST;

GST_START_TEST (test_flush_always_passes)
{
  Fx *fx = fx_new (1, V);
  GstEvent *e;
  gboolean start = FALSE, stop = FALSE;

  fail_unless (gst_harness_push_event (fx->h[0], gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (fx->h[0], gst_event_new_flush_stop (TRUE)));
  while ((e = gst_harness_try_pull_event (fx->h[0]))) {
    start |= GST_EVENT_TYPE (e) == GST_EVENT_FLUSH_START;
    stop |= GST_EVENT_TYPE (e) == GST_EVENT_FLUSH_STOP;
    gst_event_unref (e);
  }
  fail_unless (start && stop);
  fx_free (fx);
}
GST_END_TEST;

static gpointer
push_video_thread (gpointer data)
{
  GstHarness *h = data;

  return GINT_TO_POINTER (gst_harness_push (h, video_buf (0, TRUE)));
}

GST_START_TEST (test_nonlive_blocks_while_closed)
{
  Fx *fx = fx_new_full (1, V, NULL, FALSE);
  GThread *t = g_thread_new ("push", push_video_thread, fx->h[0]);
  GstEvent *e;

  /* the gap comes before the block, so downstream can preroll */
  while (!(e = gst_harness_try_pull_event (fx->h[0])) ||
         GST_EVENT_TYPE (e) != GST_EVENT_GAP) {
    if (e)
      gst_event_unref (e);
    g_usleep (1000);
  }
  gst_event_unref (e);
  fail_unless_equals_int (gst_harness_buffers_in_queue (fx->h[0]), 0);
  fx_open (fx); /* non-live: opens where the stream stands */
  fail_unless_equals_int (GPOINTER_TO_INT (g_thread_join (t)), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_buffers_in_queue (fx->h[0]), 1);
  fx_free (fx);
}
GST_END_TEST;

static void
wait_for_gap (GstHarness *h)
{
  GstEvent *e;

  while (!(e = gst_harness_try_pull_event (h)) || GST_EVENT_TYPE (e) != GST_EVENT_GAP) {
    if (e)
      gst_event_unref (e);
    g_usleep (1000);
  }
  gst_event_unref (e);
}

GST_START_TEST (test_nonlive_flush_unblocks)
{
  Fx *fx = fx_new_full (1, V, NULL, FALSE);
  GThread *t = g_thread_new ("push", push_video_thread, fx->h[0]);

  wait_for_gap (fx->h[0]);
  fail_unless (gst_harness_push_event (fx->h[0], gst_event_new_flush_start ()));
  fail_unless_equals_int (GPOINTER_TO_INT (g_thread_join (t)), GST_FLOW_FLUSHING);
  fail_unless (gst_harness_push_event (fx->h[0], gst_event_new_flush_stop (TRUE)));
  fx_free (fx);
}
GST_END_TEST;

GST_START_TEST (test_nonlive_state_change_unblocks)
{
  Fx *fx = fx_new_full (1, V, NULL, FALSE);
  GThread *t = g_thread_new ("push", push_video_thread, fx->h[0]);

  wait_for_gap (fx->h[0]);
  fail_unless_equals_int (gst_element_set_state (fx->gate, GST_STATE_READY),
                          GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (GPOINTER_TO_INT (g_thread_join (t)), GST_FLOW_FLUSHING);
  fx_free (fx);
}
GST_END_TEST;

GST_START_TEST (test_three_streams_open_and_close_together)
{
  Fx *fx = fx_new (3, VAO);

  fx_at (fx, 1000 * MS);
  fx_open (fx);
  push_ok (fx->h[0], video_buf (1000 * MS, FALSE));
  push_ok (fx->h[0], video_buf (1040 * MS, TRUE));
  push_ok (fx->h[0], video_buf (1080 * MS, FALSE));
  push_ok (fx->h[1], raw_buf (1000 * MS, 100));
  for (int i = 0; i < 5; i++)
    push_ok (fx->h[2], opus_buf ((1000 + 20 * i) * MS));
  fx_at (fx, 1100 * MS);
  fx_close (fx, "withdrawn");
  push_ok (fx->h[0], video_buf (1120 * MS, FALSE));
  push_ok (fx->h[1], raw_buf (1100 * MS, 100));
  push_ok (fx->h[2], opus_buf (1100 * MS));
  /* all open at 1.04 (output 0) and close at 1.10 (output 60 ms) */
  fail_unless (log_find (fx, "0:O0") >= 0 && log_find (fx, "1:O0") >= 0 &&
               log_find (fx, "2:O0") >= 0);
  fail_unless (log_find (fx, "0:C60") >= 0 && log_find (fx, "1:C60") >= 0 &&
               log_find (fx, "2:C60") >= 0);
  fail_unless_equals_int (gst_harness_buffers_in_queue (fx->h[0]), 2);
  fail_unless_equals_int (gst_harness_buffers_in_queue (fx->h[1]), 1); /* 1.04–1.10 */
  fail_unless_equals_int (gst_harness_buffers_in_queue (fx->h[2]), 3); /* 1.04–1.10 */
  {
    GstBuffer *b = gst_harness_pull (fx->h[1]);
    fail_unless_equals_uint64 (gst_buffer_get_size (b), 60 * 2);
    gst_buffer_unref (b);
  }
  fx_free (fx);
}
GST_END_TEST;

GST_START_TEST (test_toggle_faster_than_gop)
{
  Fx *fx = fx_new (1, V);

  push_ok (fx->h[0], video_buf (0, TRUE));
  fx_at (fx, 40 * MS);
  fx_open (fx);
  push_ok (fx->h[0], video_buf (40 * MS, FALSE));
  fx_at (fx, 80 * MS);
  fx_close (fx, "withdrawn");
  push_ok (fx->h[0], video_buf (80 * MS, FALSE));
  fx_at (fx, 120 * MS);
  fx_open (fx);
  push_ok (fx->h[0], video_buf (120 * MS, FALSE));
  push_ok (fx->h[0], video_buf (160 * MS, TRUE));
  push_ok (fx->h[0], video_buf (200 * MS, FALSE));
  fail_unless_equals_int (log_count_prefix (fx, "0:O"), 1);
  fail_unless_equals_int (log_count_prefix (fx, "0:C"), 0);
  fail_unless_equals_int (log_count_suffix (fx, "d"), 1);
  fail_unless_equals_int (gst_harness_buffers_in_queue (fx->h[0]), 2);
  fx_free (fx);
}
GST_END_TEST;

GST_START_TEST (test_open_close_open_with_gaps)
{
  Fx *fx = fx_new (1, V);

  push_ok (fx->h[0], video_buf (0, TRUE));
  open_video_at (fx, 100 * MS);
  fx_at (fx, 200 * MS);
  fx_close (fx, "withdrawn");
  push_ok (fx->h[0], video_buf (200 * MS, TRUE));
  push_ok (fx->h[0], video_buf (240 * MS, TRUE));
  open_video_at (fx, 300 * MS);
  /* gap before the first open and one after the close, nothing in between */
  fail_unless (log_find (fx, "0:G") < log_find (fx, "0:O0"));
  fail_unless_equals_int (log_count_prefix (fx, "0:G"), 2);
  fail_unless (log_find (fx, "0:O100") >= 0);
  fail_unless_equals_int (log_count_suffix (fx, "d"), 2);
  fx_free (fx);
}
GST_END_TEST;

GST_START_TEST (test_wallclock_gap_per_dropped_buffer)
{
  Fx *fx = fx_new_full (1, V, "wallclock", TRUE);

  for (int i = 0; i < 5; i++)
    push_ok (fx->h[0], video_buf (i * 40 * MS, TRUE));
  fail_unless_equals_int (log_count_prefix (fx, "0:G"), 5);
  fx_free (fx);
}
GST_END_TEST;

GST_START_TEST (test_non_time_segment_is_an_error)
{
  Fx *fx = fx_new (1, V);
  GstSegment seg;
  GstMessage *m;

  gst_segment_init (&seg, GST_FORMAT_BYTES);
  gst_harness_push_event (fx->h[0], gst_event_new_segment (&seg));
  m = gst_bus_pop_filtered (fx->bus, GST_MESSAGE_ERROR);
  fail_unless (m != NULL);
  gst_message_unref (m);

  gst_segment_init (&seg, GST_FORMAT_TIME);
  seg.rate = 2.0;
  gst_harness_push_event (fx->h[0], gst_event_new_segment (&seg));
  m = gst_bus_pop_filtered (fx->bus, GST_MESSAGE_ERROR);
  fail_unless (m != NULL);
  gst_message_unref (m);
  fx_free (fx);
}
GST_END_TEST;

GST_START_TEST (test_seek_refused)
{
  Fx *fx = fx_new (1, V);

  fail_if (gst_harness_push_upstream_event (
      fx->h[0], gst_event_new_seek (1.0, GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH,
                                    GST_SEEK_TYPE_SET, 0, GST_SEEK_TYPE_NONE, 0)));
  fx_free (fx);
}
GST_END_TEST;

static void
count_notify (GObject *o, GParamSpec *p, gpointer data)
{
  (void)o;
  (void)p;
  (*(int *)data)++;
}

GST_START_TEST (test_is_open_notifies)
{
  Fx *fx = fx_new (1, V);
  int n = 0;
  gboolean open = FALSE;

  g_signal_connect (fx->gate, "notify::is-open", G_CALLBACK (count_notify), &n);
  open_video_at (fx, 100 * MS);
  g_object_get (fx->gate, "is-open", &open, NULL);
  fail_unless (open);
  fx_close (fx, "withdrawn");
  g_object_get (fx->gate, "is-open", &open, NULL);
  fail_if (open);
  fail_unless_equals_int (n, 2);
  fx_free (fx);
}
GST_END_TEST;

GST_START_TEST (test_participant_scope_follows_only_them)
{
  GstElement *gate = gst_element_factory_make ("consentgate", NULL);
  FakeSource *src = fake_source_new (TRUE);
  GstPad *sink;
  GstHarness *h;

  g_object_set (gate, "source-object", src, "participant", "alice", NULL);
  sink = gst_element_request_pad_simple (gate, "sink_%u");
  h = gst_harness_new_with_element (gate, "sink_0", "src_0");
  gst_harness_set_src_caps_str (h, RAW_CAPS);
  fake_source_decide (src, NULL, TRUE, "all-accepted");
  fake_source_decide (src, "bob", TRUE, "participant-accepted");
  push_ok (h, raw_buf (0, 10));
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  fake_source_decide (src, "alice", TRUE, "participant-accepted");
  push_ok (h, raw_buf (10 * MS, 10));
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 1);
  fake_source_decide (src, NULL, FALSE, "withdrawn"); /* someone else: ignored */
  push_ok (h, raw_buf (20 * MS, 10));
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 2);
  gst_object_unref (sink);
  gst_harness_teardown (h);
  gst_object_unref (gate);
  g_object_unref (src);
}
GST_END_TEST;

GST_START_TEST (test_foreign_sink_refused_by_policy)
{
  GstElement *gate = gst_element_factory_make ("consentgate", NULL);
  FakeSource *src = fake_source_new (FALSE);
  GstBus *bus = gst_bus_new ();
  GstPad *sink;
  GstHarness *h;
  GstMessage *m;
  g_autoptr (GError) err = NULL;
  g_autofree char *dbg = NULL;

  g_object_set (gate, "source-object", src, NULL);
  gst_element_set_bus (gate, bus);
  sink = gst_element_request_pad_simple (gate, "sink_%u");
  h = gst_harness_new_with_element (gate, "sink_0", "src_0");
  gst_harness_set_src_caps_str (h, RAW_CAPS);
  fake_source_decide (src, NULL, TRUE, "all-accepted");
  push_ok (h, raw_buf (0, 10));
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (m != NULL);
  gst_message_parse_error (m, &err, &dbg);
  fail_unless (strstr (err->message, "not a consentsink") != NULL, "%s", err->message);
  fail_unless (strstr (err->message, "harness") != NULL || strstr (err->message, "src_0"),
               "%s", err->message);
  gst_message_unref (m);
  gst_object_unref (sink);
  gst_harness_teardown (h);
  gst_element_set_bus (gate, NULL);
  gst_object_unref (bus);
  gst_object_unref (gate);
  g_object_unref (src);
}
GST_END_TEST;

GST_START_TEST (test_foreign_sink_allowed_warns)
{
  Fx *fx = fx_new (1, A);
  GstMessage *m;

  fx_open (fx);
  m = gst_bus_pop_filtered (fx->bus, GST_MESSAGE_WARNING);
  fail_unless (m != NULL);
  gst_message_unref (m);
  push_ok (fx->h[0], raw_buf (0, 10));
  fail_unless_equals_int (gst_harness_buffers_in_queue (fx->h[0]), 1);
  fx_free (fx);
}
GST_END_TEST;

typedef struct {
  Fx *fx;
  guint stream;
  gint stop;
} StressArg;

static gpointer
stress_push (gpointer data)
{
  StressArg *a = data;
  GstHarness *h = a->fx->h[a->stream];

  for (guint i = 0; i < 400; i++) {
    GstClockTime t = i * 20 * MS;
    GstBuffer *b = a->stream == 0 ? video_buf (t, i % 5 == 0) : raw_buf (t, 20);
    if (gst_harness_push (h, b) != GST_FLOW_OK)
      break;
    while (gst_harness_buffers_in_queue (h))
      gst_buffer_unref (gst_harness_pull (h));
    if (i % 16 == 0) {
      GstEvent *e;
      while ((e = gst_harness_try_pull_event (h)))
        gst_event_unref (e);
    }
  }
  return NULL;
}

GST_START_TEST (test_stress_concurrent_decisions)
{
  Fx *fx = fx_new (2, VA);
  StressArg a0 = {fx, 0, 0}, a1 = {fx, 1, 0};
  GThread *t0 = g_thread_new ("v", stress_push, &a0);
  GThread *t1 = g_thread_new ("a", stress_push, &a1);

  for (guint i = 0; i < 300; i++) {
    fx_at (fx, i * 25 * MS);
    if (i % 2)
      fx_open (fx);
    else
      fx_close (fx, "withdrawn");
    g_thread_yield ();
  }
  fx_close (fx, "withdrawn"); /* no waiter may stay blocked */
  fx_at (fx, 100 * GST_SECOND);
  g_thread_join (t0);
  g_thread_join (t1);
  fx_free (fx);
}
GST_END_TEST;

static GstBuffer *
bframe_buf (GstClockTime pts, GstClockTime dts, gboolean key)
{
  GstBuffer *b = video_buf (pts, key);

  GST_BUFFER_DTS (b) = dts;
  return b;
}

/* Checks the queued buffers' output DTS: positive and increasing. */
static void
check_dts_increasing (GstHarness *h, gint64 *last_dts)
{
  GstBuffer *b;

  while ((b = gst_harness_try_pull (h))) {
    GstEvent *e = gst_pad_get_sticky_event (h->sinkpad, GST_EVENT_SEGMENT, 0);
    const GstSegment *seg;
    guint64 rt;
    gint sign;

    gst_event_parse_segment (e, &seg);
    sign =
        gst_segment_to_running_time_full (seg, GST_FORMAT_TIME, GST_BUFFER_DTS (b), &rt);
    fail_unless (sign == 1, "negative output DTS for %" GST_PTR_FORMAT, b);
    fail_unless ((gint64)rt > *last_dts || *last_dts < 0);
    *last_dts = (gint64)rt;
    gst_event_unref (e);
    gst_buffer_unref (b);
  }
}

GST_START_TEST (test_bframes_close_reopen_dts_monotonic)
{
  Fx *fx = fx_new (1, V);
  gint64 last_dts = -1;

  fx_at (fx, 1000 * MS);
  fx_open (fx);
  /* decode order I P B B with two frames of reorder delay */
  push_ok (fx->h[0], bframe_buf (1080 * MS, 1000 * MS, TRUE));
  fail_unless_equals_int (gst_harness_buffers_in_queue (fx->h[0]), 1);
  check_dts_increasing (fx->h[0], &last_dts);
  fx_at (fx, 1150 * MS);
  fx_close (fx, "withdrawn");
  push_ok (fx->h[0], bframe_buf (1200 * MS, 1040 * MS, FALSE)); /* at/after the close */
  push_ok (fx->h[0],
           bframe_buf (1120 * MS, 1080 * MS, FALSE)); /* refers to the dropped P */
  push_ok (fx->h[0], bframe_buf (1160 * MS, 1120 * MS, FALSE));
  fx_at (fx, 2000 * MS);
  fx_open (fx);
  push_ok (fx->h[0], bframe_buf (2080 * MS, 2000 * MS, TRUE));
  push_ok (fx->h[0], bframe_buf (2200 * MS, 2040 * MS, FALSE));
  fail_unless_equals_int (gst_harness_buffers_in_queue (fx->h[0]), 2);
  check_dts_increasing (fx->h[0], &last_dts);
  fx_free (fx);
}
GST_END_TEST;

static gpointer
push_raw_thread (gpointer data)
{
  GstHarness *h = data;

  return GINT_TO_POINTER (gst_harness_push (h, raw_buf (1000 * MS, 100)));
}

GST_START_TEST (test_opening_waits_for_stream_without_caps)
{
  static const char *const caps[] = {NULL, RAW_CAPS};
  Fx *fx = fx_new_full (2, caps, NULL, TRUE);
  GThread *t;
  GstBuffer *a;

  /* stream 0 has no caps yet (an encoder filling its lookahead): it may be
   * video, so the audio waits for it instead of opening alone */
  fx_at (fx, 1000 * MS);
  fx_open (fx);
  t = g_thread_new ("audio", push_raw_thread, fx->h[1]);
  gst_harness_set_src_caps_str (fx->h[0], VIDEO_CAPS);
  push_ok (fx->h[0], video_buf (1040 * MS, TRUE));
  push_ok (fx->h[0], video_buf (1080 * MS, FALSE));
  push_ok (fx->h[0], video_buf (1120 * MS, FALSE));
  fail_unless_equals_int (GPOINTER_TO_INT (g_thread_join (t)), GST_FLOW_OK);
  a = gst_harness_pull (fx->h[1]);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (a), 1040 * MS); /* with the keyframe */
  gst_buffer_unref (a);
  fx_free (fx);
}
GST_END_TEST;

GST_START_TEST (test_stream_turning_out_audio_opens)
{
  static const char *const caps[] = {NULL, RAW_CAPS};
  Fx *fx = fx_new_full (2, caps, NULL, TRUE);

  fx_at (fx, 1000 * MS);
  fx_open (fx);
  gst_harness_set_src_caps_str (fx->h[0], OPUS_CAPS); /* no video after all */
  push_ok (fx->h[1], raw_buf (1000 * MS, 100));
  push_ok (fx->h[0], opus_buf (1000 * MS));
  fail_unless_equals_int (gst_harness_buffers_in_queue (fx->h[1]), 1);
  fail_unless_equals_int (gst_harness_buffers_in_queue (fx->h[0]), 1);
  fx_free (fx);
}
GST_END_TEST;

static Suite *
consentgate_suite (void)
{
  Suite *s = suite_create ("consentgate");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_starts_closed_forwards_sticky_and_gap);
  tcase_add_test (tc, test_never_opens_without_source);
  tcase_add_test (tc, test_opens_at_first_keyframe_after_decision);
  tcase_add_test (tc, test_open_event_and_bus_message);
  tcase_add_test (tc, test_event_carries_source);
  tcase_add_test (tc, test_withdrawal_closes_at_decision_running_time);
  tcase_add_test (tc, test_late_join_closes_all_streams);
  tcase_add_test (tc, test_decision_judged_by_running_time_not_arrival);
  tcase_add_test (tc, test_raw_audio_clipped_at_open);
  tcase_add_test (tc, test_encoded_audio_cut_at_whole_frames);
  tcase_add_test (tc, test_av_start_within_one_audio_frame);
  tcase_add_test (tc, test_audio_waits_for_opening_keyframe);
  tcase_add_test (tc, test_continuous_timeline_contiguous);
  tcase_add_test (tc, test_wallclock_timeline_keeps_gaps);
  tcase_add_test (tc, test_bframes_keep_dts_non_negative);
  tcase_add_test (tc, test_caps_change_while_closed_before_first_buffer);
  tcase_add_test (tc, test_eos_while_closed_passes);
  tcase_add_test (tc, test_eos_main_first);
  tcase_add_test (tc, test_eos_secondary_first);
  tcase_add_test (tc, test_eos_main_while_armed_opens_audio);
  tcase_add_test (tc, test_flush_always_passes);
  tcase_add_test (tc, test_nonlive_blocks_while_closed);
  tcase_add_test (tc, test_nonlive_flush_unblocks);
  tcase_add_test (tc, test_nonlive_state_change_unblocks);
  tcase_add_test (tc, test_three_streams_open_and_close_together);
  tcase_add_test (tc, test_toggle_faster_than_gop);
  tcase_add_test (tc, test_open_close_open_with_gaps);
  tcase_add_test (tc, test_wallclock_gap_per_dropped_buffer);
  tcase_add_test (tc, test_non_time_segment_is_an_error);
  tcase_add_test (tc, test_seek_refused);
  tcase_add_test (tc, test_is_open_notifies);
  tcase_add_test (tc, test_participant_scope_follows_only_them);
  tcase_add_test (tc, test_foreign_sink_refused_by_policy);
  tcase_add_test (tc, test_foreign_sink_allowed_warns);
  tcase_add_test (tc, test_stress_concurrent_decisions);
  tcase_add_test (tc, test_bframes_close_reopen_dts_monotonic);
  tcase_add_test (tc, test_opening_waits_for_stream_without_caps);
  tcase_add_test (tc, test_stream_turning_out_audio_opens);
  return s;
}

int
main (int argc, char **argv)
{
  int failed;

  gst_check_init (&argc, &argv);
  g_type_ensure (FAKE_TYPE_SOURCE);
  failed = gst_check_run_suite (consentgate_suite (), "consentgate", __FILE__);
  return failed;
}
