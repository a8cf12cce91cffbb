/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Real-pipeline tests of consentgate: test sources → encoders → consentgate →
 * muxer → file, driven by an in-process ConsentMeeting, checked with ffprobe
 * and ffmpeg. Usage: test-gate-pipeline CASE (see `cases` below).
 *
 * Non-live cases rely on the gate blocking while closed: consent is given
 * before any media flows, withdrawn from a pad probe when the video reaches
 * WITHDRAW_AT, and given again once the gate has closed; the sources stop
 * after MEDIA_LEN. Live cases give consent at LIVE_OPEN, withdraw at
 * LIVE_CLOSE (pipeline running time) and send EOS shortly after.
 */
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <json-c/json.h>
#include <math.h>

#include "consent.h"

#define MEDIA_LEN (4 * GST_SECOND)
#define WITHDRAW_AT (1500 * GST_MSECOND)
#define LIVE_OPEN (800 * GST_MSECOND)
#define LIVE_CLOSE (2800 * GST_MSECOND)
#define GOP (600 * GST_MSECOND) /* 15 frames at 25 fps */
#define FRAME (40 * GST_MSECOND)

typedef struct {
  const char *name;
  const char *video_enc;
  const char *audio_enc;
  const char *mux;
  gboolean live;
  double audio_frame_s;
} Case;

static const Case cases[] = {
    {"mkv-h264-opus",
     "x264enc key-int-max=15 speed-preset=ultrafast tune=zerolatency ! h264parse",
     "opusenc", "matroskamux", FALSE, 0.020},
    {"mp4-h264b-aac",
     "x264enc key-int-max=15 speed-preset=ultrafast bframes=2 ! h264parse",
     "voaacenc ! aacparse", "mp4mux", FALSE, 1024.0 / 48000},
    {"mkv-vp8-opus", "vp8enc keyframe-max-dist=15 deadline=1", "opusenc", "matroskamux",
     FALSE, 0.020},
    {"mp4-h264-aac-live",
     "x264enc key-int-max=15 speed-preset=ultrafast tune=zerolatency ! h264parse",
     "voaacenc ! aacparse", "mp4mux", TRUE, 1024.0 / 48000},
    {"mkv-h264b-opus-live",
     "x264enc key-int-max=15 speed-preset=ultrafast bframes=2 ! h264parse", "opusenc",
     "matroskamux", TRUE, 0.020},
};

static const ConsentMethod method = {"in-process", "pipeline-test", NULL};

typedef struct {
  const Case *c;
  GMainLoop *loop;
  GstElement *pipeline, *gate;
  ConsentMeeting *meeting;
  gint withdrawn; /* atomic */
  guint opens, closes;
  gboolean failed;
  gint64 min_dts_rt;
  GstClockTime opened_rt, closed_rt; /* live: pipeline running time of the decisions */
} Run;

#define CHECK(run, cond, ...)                                                            \
  G_STMT_START                                                                           \
  {                                                                                      \
    if (!(cond)) {                                                                       \
      g_printerr ("FAIL %s: ", (run)->c->name);                                          \
      g_printerr (__VA_ARGS__);                                                          \
      g_printerr ("\n");                                                                 \
      (run)->failed = TRUE;                                                              \
    }                                                                                    \
  }                                                                                      \
  G_STMT_END

static void
answer (Run *run, const char *who, gboolean accept)
{
  g_autoptr (GError) error = NULL;
  const char *version = consent_meeting_get_notice (run->meeting)->version;

  if (!consent_meeting_answer (run->meeting, who, accept, version, NULL, &method, &error))
    g_error ("answer %s: %s", who, error->message);
}

static GstClockTime
pipeline_running_time (Run *run)
{
  g_autoptr (GstClock) clock = gst_element_get_clock (run->pipeline);

  return gst_clock_get_time (clock) - gst_element_get_base_time (run->pipeline);
}

/* Non-live: withdraw when the video reaches WITHDRAW_AT (from the streaming thread). */
static GstPadProbeReturn
withdraw_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Run *run = user_data;
  GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER (info);
  g_autoptr (GstEvent) e = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
  const GstSegment *seg;
  GstClockTime rt;

  if (!e)
    return GST_PAD_PROBE_OK;
  gst_event_parse_segment (e, &seg); /* encoders may offset their timestamps */
  rt = gst_segment_to_running_time (seg, GST_FORMAT_TIME, GST_BUFFER_PTS (b));
  if (GST_CLOCK_TIME_IS_VALID (rt) && rt >= WITHDRAW_AT &&
      g_atomic_int_compare_and_exchange (&run->withdrawn, 0, 1))
    consent_meeting_withdraw (run->meeting, "bob", &method, NULL);
  return GST_PAD_PROBE_OK;
}

/* Output DTS running time of every video buffer, after the gate's offsets. */
static GstPadProbeReturn
dts_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Run *run = user_data;
  GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER (info);
  g_autoptr (GstEvent) e = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
  const GstSegment *seg;
  guint64 rt;
  int sign;

  if (!e || !GST_BUFFER_DTS_IS_VALID (b))
    return GST_PAD_PROBE_OK;
  gst_event_parse_segment (e, &seg);
  sign = gst_segment_to_running_time_full (seg, GST_FORMAT_TIME, GST_BUFFER_DTS (b), &rt);
  if (sign < 0)
    g_printerr ("negative DTS running time -%" GST_TIME_FORMAT " for %" GST_PTR_FORMAT
                "\n",
                GST_TIME_ARGS (rt), b);
  if (sign != 0)
    run->min_dts_rt = MIN (run->min_dts_rt, sign > 0 ? (gint64)rt : -(gint64)rt);
  return GST_PAD_PROBE_OK;
}

static gboolean
reopen_cb (gpointer data)
{
  answer (data, "bob", TRUE);
  return G_SOURCE_REMOVE;
}

static gboolean
live_open_cb (gpointer data)
{
  Run *run = data;

  run->opened_rt = pipeline_running_time (run);
  answer (run, "bob", TRUE);
  return G_SOURCE_REMOVE;
}

static gboolean
live_close_cb (gpointer data)
{
  Run *run = data;

  run->closed_rt = pipeline_running_time (run);
  consent_meeting_withdraw (run->meeting, "bob", &method, NULL);
  return G_SOURCE_REMOVE;
}

static gboolean
live_eos_cb (gpointer data)
{
  Run *run = data;

  gst_element_send_event (run->pipeline, gst_event_new_eos ());
  return G_SOURCE_REMOVE;
}

static gboolean
timeout_cb (gpointer data)
{
  Run *run = data;

  CHECK (run, FALSE, "timed out");
  g_main_loop_quit (run->loop);
  return G_SOURCE_REMOVE;
}

static void
on_gate_message (Run *run, const GstStructure *s)
{
  const char *state = gst_structure_get_string (s, "state");

  g_print ("%s: gate %s (%s)\n", run->c->name, state,
           gst_structure_get_string (s, "reason"));
  if (g_strcmp0 (state, "open") == 0) {
    run->opens++;
  } else {
    run->closes++;
    if (!run->c->live && run->closes == 1) /* consent again, mid-stream */
      g_timeout_add (100, reopen_cb, run);
  }
}

static gboolean
bus_cb (GstBus *bus, GstMessage *m, gpointer data)
{
  Run *run = data;
  g_autoptr (GError) err = NULL;
  g_autofree char *dbg = NULL;

  (void)bus;
  switch (GST_MESSAGE_TYPE (m)) {
  case GST_MESSAGE_ELEMENT:
    if (gst_message_has_name (m, "consent-gate"))
      on_gate_message (run, gst_message_get_structure (m));
    break;
  case GST_MESSAGE_ERROR:
    gst_message_parse_error (m, &err, &dbg);
    CHECK (run, FALSE, "error from %s: %s (%s)", GST_OBJECT_NAME (m->src), err->message,
           dbg);
    g_main_loop_quit (run->loop);
    break;
  case GST_MESSAGE_EOS:
    g_main_loop_quit (run->loop);
    break;
  default:
    break;
  }
  return G_SOURCE_CONTINUE;
}

static ConsentMeeting *
meeting_new (void)
{
  ConsentPolicy *policy = consent_policy_new_default (NULL);
  g_autoptr (ConsentMemoryRecorder) recorder = consent_memory_recorder_new (TRUE);
  ConsentMeeting *meeting;

  policy->allow_foreign_sinks = TRUE; /* these tests write with filesink */
  meeting = consent_meeting_new ("pipeline-test", policy, CONSENT_RECORDER (recorder));
  consent_policy_unref (policy);
  consent_meeting_join (meeting, "alice", "Alice", "participant", &method, NULL);
  consent_meeting_join (meeting, "bob", "Bob", "participant", &method, NULL);
  consent_meeting_request_recording (meeting, "organiser", NULL);
  return meeting;
}

static GstElement *
pipeline_new (const Case *c, const char *path)
{
  g_autoptr (GError) error = NULL;
  const char *live = c->live ? "true" : "false";
  guint64 vbufs = c->live ? 0 : MEDIA_LEN / FRAME,
          abufs = c->live ? 0 : MEDIA_LEN / (20 * GST_MSECOND);
  g_autofree char *desc = g_strdup_printf (
      "videotestsrc is-live=%s num-buffers=%" G_GINT64_FORMAT " pattern=ball "
      "! video/x-raw,width=160,height=120,framerate=25/1 ! %s ! queue ! g.sink_0 "
      "audiotestsrc is-live=%s num-buffers=%" G_GINT64_FORMAT " samplesperbuffer=960 "
      "! audio/x-raw,rate=48000,channels=1 ! %s ! queue ! g.sink_1 "
      "consentgate name=g "
      "g.src_0 ! queue name=qv ! mux.video_0 g.src_1 ! queue ! mux.audio_0 "
      "%s name=mux ! filesink location=\"%s\" async=false",
      live, vbufs ? (gint64)vbufs : -1, c->video_enc, live, abufs ? (gint64)abufs : -1,
      c->audio_enc, c->mux, path);
  GstElement *p = gst_parse_launch (desc, &error);

  if (!p)
    g_error ("cannot build the pipeline: %s\n%s", error->message, desc);
  return p;
}

static char *
run_program (const char *const *argv, int *status)
{
  g_autoptr (GError) error = NULL;
  char *out = NULL, *err = NULL;

  if (!g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                     &err, status, &error))
    g_error ("cannot run %s: %s", argv[0], error->message);
  if (err && *err)
    g_printerr ("%s: %s", argv[0], err);
  if (err && *err && argv[0][1] == 'f' && g_str_equal (argv[0], "ffmpeg"))
    *status = 1; /* ffmpeg -v error prints only decoding errors */
  g_free (err);
  return out;
}

typedef struct {
  double v_first_pts, v_end, a_first_pts;
  gboolean v_first_key;
  guint v_packets, a_packets;
} Probe;

static double
json_double (json_object *o, const char *key)
{
  json_object *v;

  if (!json_object_object_get_ex (o, key, &v))
    return NAN;
  return g_ascii_strtod (json_object_get_string (v), NULL);
}

static void
probe_file (Run *run, const char *path, Probe *p)
{
  const char *argv[] = {"ffprobe",
                        "-v",
                        "error",
                        "-show_packets",
                        "-show_entries",
                        "packet=codec_type,pts_time,dts_time,duration_time,flags",
                        "-of",
                        "json",
                        path,
                        NULL};
  int status = 0;
  g_autofree char *out = run_program (argv, &status);
  json_object *root = json_tokener_parse (out), *packets;

  memset (p, 0, sizeof *p);
  p->v_first_pts = p->a_first_pts = INFINITY;
  CHECK (run, status == 0 && root, "ffprobe failed");
  if (!root || !json_object_object_get_ex (root, "packets", &packets))
    return;
  for (size_t i = 0; i < json_object_array_length (packets); i++) {
    json_object *pk = json_object_array_get_idx (packets, i), *type, *flags;
    double pts = json_double (pk, "pts_time"), dur = json_double (pk, "duration_time");
    json_object_object_get_ex (pk, "codec_type", &type);
    json_object_object_get_ex (pk, "flags", &flags);
    if (g_str_equal (json_object_get_string (type), "video")) {
      if (p->v_packets++ == 0)
        p->v_first_key = strchr (json_object_get_string (flags), 'K') != NULL;
      p->v_first_pts = MIN (p->v_first_pts, pts);
      p->v_end = MAX (p->v_end, pts + (isnan (dur) ? 0.04 : dur));
    } else if (g_str_equal (json_object_get_string (type), "audio")) {
      p->a_packets++;
      p->a_first_pts = MIN (p->a_first_pts, pts);
    }
  }
  json_object_put (root);
}

static void
check_file (Run *run, const char *path)
{
  const Case *c = run->c;
  const char *argv[] = {"ffmpeg", "-v", "error", "-i", path, "-f", "null", "-", NULL};
  int status = 0;
  g_autofree char *out = NULL;
  double expected, got, gop = (double)GOP / GST_SECOND,
                        frame = (double)FRAME / GST_SECOND;
  Probe p;

  probe_file (run, path, &p);
  got = p.v_end - p.v_first_pts;
  expected = c->live ? (double)(run->closed_rt - run->opened_rt) / GST_SECOND
                     : (double)MEDIA_LEN / GST_SECOND;
  g_print (
      "%s: video %u packets %.3f–%.3f s (expected %.3f s of consent), audio %u packets "
      "from %.3f s, min output DTS %" G_GINT64_FORMAT " ns\n",
      c->name, p.v_packets, p.v_first_pts, p.v_end, expected, p.a_packets, p.a_first_pts,
      run->min_dts_rt);
  CHECK (run, p.v_packets > 0 && p.a_packets > 0, "no media written");
  CHECK (run, p.v_first_key, "first video packet is not a keyframe");
  CHECK (run, fabs (got - expected) <= gop + frame,
         "video lasts %.3f s, consented %.3f s", got, expected);
  CHECK (run, fabs (p.a_first_pts - p.v_first_pts) <= c->audio_frame_s + 0.001,
         "audio starts %.3f s, video %.3f s: more than one audio frame apart",
         p.a_first_pts, p.v_first_pts);
  CHECK (run, run->min_dts_rt >= 0, "negative output DTS running time");
  CHECK (run, run->opens >= 1 + !c->live && run->closes >= 1, "saw %u opens, %u closes",
         run->opens, run->closes);
  out = run_program (argv, &status);
  CHECK (run, status == 0, "the file does not decode cleanly");
}

static void
schedule (Run *run)
{
  if (run->c->live) {
    g_timeout_add (LIVE_OPEN / GST_MSECOND, live_open_cb, run);
    g_timeout_add (LIVE_CLOSE / GST_MSECOND, live_close_cb, run);
    g_timeout_add ((LIVE_CLOSE + 400 * GST_MSECOND) / GST_MSECOND, live_eos_cb, run);
  } else {
    g_timeout_add (200, reopen_cb, run); /* bob: the first consent, while blocked */
  }
  g_timeout_add_seconds (120, timeout_cb, run);
}

/* A live pipeline with the gate closed still reaches PLAYING (GAP events
 * let the sink preroll), and EOS passes the closed gate. */
static int
run_closed_live (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) p = gst_parse_launch (
      "videotestsrc is-live=true ! video/x-raw,framerate=25/1 ! consentgate "
      "! fakesink async=true",
      &error);
  g_autoptr (GstMessage) m = NULL;
  GstStateChangeReturn r;

  if (!p || error)
    g_error ("cannot build the pipeline: %s", error ? error->message : "?");
  gst_element_set_state (p, GST_STATE_PLAYING);
  r = gst_element_get_state (p, NULL, NULL, 20 * GST_SECOND);
  gst_element_send_event (p, gst_event_new_eos ());
  m = gst_bus_timed_pop_filtered (GST_ELEMENT_BUS (p), 20 * GST_SECOND,
                                  GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  gst_element_set_state (p, GST_STATE_NULL);
  g_print ("closed-live: state change %s, %s\n",
           gst_element_state_change_return_get_name (r),
           m ? GST_MESSAGE_TYPE_NAME (m) : "no EOS");
  return r == GST_STATE_CHANGE_SUCCESS && m && GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS
             ? 0
             : 1;
}

int
main (int argc, char **argv)
{
  Run run = {0};
  g_autofree char *dir = NULL, *path = NULL;
  g_autoptr (GstPad) src0 = NULL, qv_src = NULL;
  g_autoptr (GstElement) qv = NULL;
  g_autoptr (GstBus) bus = NULL;

  gst_init (&argc, &argv);
  if (argc == 2 && g_str_equal (argv[1], "closed-live"))
    return run_closed_live ();
  for (gsize i = 0; argc == 2 && i < G_N_ELEMENTS (cases); i++)
    if (g_str_equal (argv[1], cases[i].name))
      run.c = &cases[i];
  if (!run.c) {
    g_printerr ("usage: %s CASE\n", argv[0]);
    return 2;
  }
  dir = g_dir_make_tmp ("gate-pipeline-XXXXXX", NULL);
  path = g_build_filename (dir, strstr (run.c->mux, "mp4") ? "out.mp4" : "out.mkv", NULL);
  run.min_dts_rt = G_MAXINT64;
  run.loop = g_main_loop_new (NULL, FALSE);
  run.meeting = meeting_new ();
  answer (&run, "alice", TRUE);
  run.pipeline = pipeline_new (run.c, path);
  run.gate = gst_bin_get_by_name (GST_BIN (run.pipeline), "g");
  g_object_set (run.gate, "meeting-object", run.meeting, NULL);
  src0 = gst_element_get_static_pad (run.gate, "src_0");
  if (!run.c->live)
    gst_pad_add_probe (src0, GST_PAD_PROBE_TYPE_BUFFER, withdraw_probe, &run, NULL);
  qv = gst_bin_get_by_name (GST_BIN (run.pipeline), "qv");
  qv_src = gst_element_get_static_pad (qv, "src");
  gst_pad_add_probe (qv_src, GST_PAD_PROBE_TYPE_BUFFER, dts_probe, &run, NULL);
  bus = gst_element_get_bus (run.pipeline);
  gst_bus_add_watch (bus, bus_cb, &run);

  gst_element_set_state (run.pipeline, GST_STATE_PLAYING);
  schedule (&run);
  g_main_loop_run (run.loop);
  gst_element_set_state (run.pipeline, GST_STATE_NULL);
  gst_bus_remove_watch (bus);
  if (!run.failed)
    check_file (&run, path);

  gst_object_unref (run.gate);
  gst_object_unref (run.pipeline);
  g_object_unref (run.meeting);
  g_main_loop_unref (run.loop);
  g_unlink (path);
  g_rmdir (dir);
  g_print ("%s: %s\n", run.c->name, run.failed ? "FAILED" : "ok");
  return run.failed ? 1 : 0;
}
