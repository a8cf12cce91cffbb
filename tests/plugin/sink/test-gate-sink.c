/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* consentgate ! consentsink in live pipelines: the real gate, driven by a
 * ConsentSource of the test, writes one checked file per consented interval,
 * and refuses to open into a plain filesink. */
#include <gio/gio.h>
#include <sys/stat.h>

#include "consent-source.h"
#include "test-sink-common.h"
#include "test-sink-probe.h"

#define GOP_S 0.5 /* key-int-max=15 at 30 fps */

/* ---- a ConsentSource whose decision the test sets ---- */

#define DRIVEN_TYPE_SOURCE (driven_source_get_type ())
G_DECLARE_FINAL_TYPE (DrivenSource, driven_source, DRIVEN, SOURCE, ConsentSource)
struct _DrivenSource {
  ConsentSource parent;
  GMutex lock;
  ConsentGateDecision *decision;
  guint reports;
};
G_DEFINE_FINAL_TYPE (DrivenSource, driven_source, CONSENT_TYPE_SOURCE)

static ConsentGateDecision *
driven_get_decision (ConsentSource *source, const char *participant)
{
  DrivenSource *self = DRIVEN_SOURCE (source);
  ConsentGateDecision *d;

  g_mutex_lock (&self->lock);
  d = consent_gate_decision_ref (self->decision);
  g_mutex_unlock (&self->lock);
  return d;
}

static gboolean
driven_report_segment (ConsentSource *source, const ConsentSegmentReport *r,
                       GError **error)
{
  DrivenSource *self = DRIVEN_SOURCE (source);

  g_mutex_lock (&self->lock);
  self->reports++;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static const char *
driven_get_meeting_id (ConsentSource *source)
{
  return "m1";
}

static void
driven_finalize (GObject *o)
{
  DrivenSource *self = DRIVEN_SOURCE (o);
  consent_gate_decision_unref (self->decision);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (driven_source_parent_class)->finalize (o);
}

static void
driven_source_class_init (DrivenSourceClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = driven_finalize;
  CONSENT_SOURCE_CLASS (klass)->get_decision = driven_get_decision;
  CONSENT_SOURCE_CLASS (klass)->report_segment = driven_report_segment;
  CONSENT_SOURCE_CLASS (klass)->get_meeting_id = driven_get_meeting_id;
}

static void
driven_source_init (DrivenSource *self)
{
  g_mutex_init (&self->lock);
  self->decision = consent_gate_decision_new_closed ("m1", NULL, 0, "initial");
}

/* A decision as the meeting would make it; the struct is public, so the
 * test fills the fields of a fresh one before anyone sees it. */
static void
driven_decide (DrivenSource *self, gboolean open, guint64 epoch)
{
  static const char *const auth[] = {"rec-1", "rec-2", NULL};
  static const char *const present[] = {"p-a", NULL};
  ConsentGateDecision *d = consent_gate_decision_new_closed (
      "m1", NULL, epoch, open ? "initial" : "withdrawn");

  if (open) {
    d->open = TRUE;
    g_free (d->reason);
    d->reason = g_strdup ("all-accepted");
    g_strfreev (d->authorized_by);
    d->authorized_by = g_strdupv ((char **)auth);
    g_strfreev (d->present);
    d->present = g_strdupv ((char **)present);
    d->notice_version = g_strdup ("1");
  }
  g_mutex_lock (&self->lock);
  consent_gate_decision_unref (self->decision);
  self->decision = consent_gate_decision_ref (d);
  g_mutex_unlock (&self->lock);
  consent_source_emit_decision (CONSENT_SOURCE (self), NULL, d);
  consent_gate_decision_unref (d);
}

/* ---- driving a live pipeline ---- */

typedef struct {
  GstElement *pipeline;
  GstBus *bus;
  GPtrArray *segments; /* consent-segment structures */
  char *error;
} Live;

static const char *LIVE_SOURCES =
    "videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=30/1 ! "
    "x264enc key-int-max=15 tune=zerolatency speed-preset=ultrafast ! h264parse ! "
    "g.sink_0 "
    "audiotestsrc is-live=true samplesperbuffer=960 ! audio/x-raw,rate=48000,channels=1 "
    "! "
    "opusenc frame-size=20 ! g.sink_1 consentgate name=g ";

static void
live_start (Live *l, const char *tail, DrivenSource *source)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *desc = g_strconcat (LIVE_SOURCES, tail, NULL);
  GstElement *gate;

  l->pipeline = gst_parse_launch (desc, &error);
  g_assert_no_error (error);
  gst_object_set_name (GST_OBJECT (l->pipeline), "p");
  gate = gst_bin_get_by_name (GST_BIN (l->pipeline), "g");
  g_object_set (gate, "source-object", source, NULL);
  gst_object_unref (gate);
  l->bus = gst_element_get_bus (l->pipeline);
  l->segments = g_ptr_array_new_with_free_func ((GDestroyNotify)gst_structure_free);
  g_assert_cmpint (gst_element_set_state (l->pipeline, GST_STATE_PLAYING), !=,
                   GST_STATE_CHANGE_FAILURE);
}

/* Handles bus messages for up to @ms; returns the gate message of @state if one came. */
static GstStructure *
live_poll (Live *l, guint ms, const char *state)
{
  g_autoptr (GstMessage) msg = gst_bus_timed_pop (l->bus, ms * GST_MSECOND);
  const GstStructure *s;

  if (!msg)
    return NULL;
  switch (GST_MESSAGE_TYPE (msg)) {
  case GST_MESSAGE_ERROR: {
    g_autoptr (GError) e = NULL;
    gst_message_parse_error (msg, &e, NULL);
    if (!l->error)
      l->error =
          g_strdup_printf ("%s: %s", GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), e->message);
    break;
  }
  case GST_MESSAGE_ELEMENT:
    s = gst_message_get_structure (msg);
    if (gst_structure_has_name (s, "consent-segment"))
      g_ptr_array_add (l->segments, gst_structure_copy (s));
    if (state && gst_structure_has_name (s, "consent-gate") &&
        g_strcmp0 (gst_structure_get_string (s, "state"), state) == 0)
      return gst_structure_copy (s);
    break;
  default:
    break;
  }
  return NULL;
}

static GstClockTime
live_running_time (Live *l)
{
  g_autoptr (GstClock) clock = gst_pipeline_get_clock (GST_PIPELINE (l->pipeline));
  return gst_clock_get_time (clock) - gst_element_get_base_time (l->pipeline);
}

/* Waits (bounded) for the gate's message of @state; returns its running time. */
static GstClockTime
live_wait_gate (Live *l, const char *state)
{
  for (guint i = 0; i < 600 && !l->error; i++) {
    g_autoptr (GstStructure) s = live_poll (l, 100, state);
    guint64 rt = 0;
    if (s) {
      g_assert_true (gst_structure_get_uint64 (s, "running-time", &rt));
      return rt;
    }
  }
  return GST_CLOCK_TIME_NONE;
}

/* Lets the pipeline run for @seconds of its clock, handling messages. */
static void
live_run_for (Live *l, double seconds)
{
  GstClockTime until = live_running_time (l) + (GstClockTime)(seconds * GST_SECOND);

  while (!l->error && live_running_time (l) < until)
    g_clear_pointer (&(GstStructure *){live_poll (l, 50, NULL)}, gst_structure_free);
}

static void
live_stop (Live *l)
{
  gst_element_send_event (l->pipeline, gst_event_new_eos ());
  for (guint i = 0; i < 600; i++) {
    g_autoptr (GstMessage) msg = gst_bus_timed_pop_filtered (
        l->bus, 100 * GST_MSECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT);
    if (!msg)
      continue;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT) {
      const GstStructure *s = gst_message_get_structure (msg);
      if (gst_structure_has_name (s, "consent-segment"))
        g_ptr_array_add (l->segments, gst_structure_copy (s));
      continue;
    }
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR && !l->error) {
      g_autoptr (GError) e = NULL;
      gst_message_parse_error (msg, &e, NULL);
      l->error =
          g_strdup_printf ("%s: %s", GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), e->message);
    }
    break;
  }
  gst_element_set_state (l->pipeline, GST_STATE_NULL);
  gst_object_unref (l->bus);
  gst_object_unref (l->pipeline);
}

static void
live_clear (Live *l)
{
  g_ptr_array_unref (l->segments);
  g_free (l->error);
}

static void
check_file (const GstStructure *seg, double consented)
{
  const char *path = gst_structure_get_string (seg, "location");
  const char *mpath = gst_structure_get_string (seg, "manifest");
  g_autofree char *mtext = NULL, *sha = NULL;
  g_autoptr (json_object) m = NULL;
  gsize len = 0;
  Probe p;

  g_assert_true (g_file_get_contents (mpath, &mtext, NULL, NULL));
  m = json_tokener_parse (mtext);
  g_assert_nonnull (m);
  sha = file_sha256 (path, &len);
  g_assert_cmpstr (jstr (m, "sha256"), ==, sha);
  g_assert_cmpint (json_object_get_int64 (jget (m, "size")), ==, (gint64)len);
  g_assert_cmpstr (jstr (m, "meeting"), ==, "m1");
  g_assert_cmpstr (
      json_object_get_string (json_object_array_get_idx (jget (m, "authorized_by"), 0)),
      ==, "rec-1");

  probe_file (path, &p);
  g_test_message ("%s: %.3f s (consented %.3f s), %u video frames", path, p.duration,
                  consented, p.n_video_frames);
  g_assert_cmpuint (p.n_streams, ==, 2);
  g_assert_true (p.first_is_key);
  g_assert_cmpfloat (p.video_start, <, 0.001);
  g_assert_cmpfloat (p.duration, >=, consented - GOP_S - 0.1);
  g_assert_cmpfloat (p.duration, <=, consented + GOP_S + 0.1);
}

static void
test_gate_intervals (SinkFixture *f, gconstpointer data)
{
  g_autoptr (DrivenSource) source = g_object_new (DRIVEN_TYPE_SOURCE, NULL);
  g_autofree char *tail = g_strdup_printf (
      "g.src_0 ! queue ! s.video_0 g.src_1 ! queue ! s.audio_0 consentsink name=s "
      "location=%s policy-file=%s",
      f->root, f->policy);
  double consented[2];
  Live l = {0};

  live_start (&l, tail, source);
  live_run_for (&l, 0.5);
  for (guint i = 0; i < 2; i++) {
    GstClockTime open_rt, close_rt;
    driven_decide (source, TRUE, 2 * i + 1);
    open_rt = live_wait_gate (&l, "open");
    g_assert_cmpstr (l.error, ==, NULL);
    g_assert_true (GST_CLOCK_TIME_IS_VALID (open_rt));
    live_run_for (&l, 1.5);
    driven_decide (source, FALSE, 2 * i + 2);
    close_rt = live_wait_gate (&l, "closed");
    g_assert_true (GST_CLOCK_TIME_IS_VALID (close_rt));
    consented[i] = (double)(close_rt - open_rt) / GST_SECOND;
    live_run_for (&l, 0.5);
  }
  live_stop (&l);
  g_assert_cmpstr (l.error, ==, NULL);
  g_assert_cmpuint (l.segments->len, ==, 2);
  g_assert_cmpuint (count_files (f->root), ==, 4);
  for (guint i = 0; i < 2; i++)
    check_file (l.segments->pdata[i], consented[i]);
  g_assert_cmpuint (source->reports, ==, 2);
  live_clear (&l);
}

/* The gate refuses to open into a plain filesink and nothing reaches it. */
static void
test_gate_refuses_filesink (SinkFixture *f, gconstpointer data)
{
  g_autoptr (DrivenSource) source = g_object_new (DRIVEN_TYPE_SOURCE, NULL);
  g_autofree char *out = g_build_filename (f->root, "plain.mkv", NULL);
  g_autofree char *tail = g_strdup_printf ("g.src_0 ! queue ! mux.video_0 g.src_1 ! "
                                           "queue ! mux.audio_0 matroskamux name=mux ! "
                                           "filesink name=plain location=%s",
                                           out);
  struct stat st;
  Live l = {0};

  live_start (&l, tail, source);
  live_run_for (&l, 0.5);
  driven_decide (source, TRUE, 1);
  for (guint i = 0; i < 100 && !l.error; i++)
    g_clear_pointer (&(GstStructure *){live_poll (&l, 100, NULL)}, gst_structure_free);
  gst_element_set_state (l.pipeline, GST_STATE_NULL);
  gst_object_unref (l.bus);
  gst_object_unref (l.pipeline);
  g_test_message ("error: %s", l.error);
  g_assert_cmpstr (l.error, ==,
                   "g: Refusing to open: /GstPipeline:p/GstFileSink:plain downstream "
                   "of src_0 is not a consentsink");
  /* matroskamux wrote no header: no media reached it */
  g_assert_cmpint (stat (out, &st), ==, 0);
  g_assert_cmpint (st.st_size, ==, 0);
  live_clear (&l);
}

int
main (int argc, char **argv)
{
  sink_tests_init (&argc, &argv, TRUE);
  g_test_add ("/sink/gate/intervals", SinkFixture, NULL, sink_fixture_setup,
              test_gate_intervals, sink_fixture_teardown);
  g_test_add ("/sink/gate/refuses-filesink", SinkFixture, NULL, sink_fixture_setup,
              test_gate_refuses_filesink, sink_fixture_teardown);
  return g_test_run ();
}
