/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* consentsink in real pipelines: encoders, intervals driven by
 * `consent-gate` events pushed the way the gate pushes them, files checked
 * with ffprobe, manifests checked against the files, every storage refusal
 * with its exact message and nothing left behind, a full disk, and a
 * recording process killed with SIGKILL. */
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-c/json.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "consent-gate-event.h"
#include "consent-source.h"
#include "test-sink-common.h"
#include "test-sink-probe.h"

#define GOP_S 0.5 /* key-int-max=15 at 30 fps */

/* ---- a ConsentSource that records the reports ---- */

#define TEST_TYPE_SOURCE (test_source_get_type ())
G_DECLARE_FINAL_TYPE (TestSource, test_source, TEST, SOURCE, ConsentSource)
struct _TestSource {
  ConsentSource parent;
  GMutex lock;
  GPtrArray *reports; /* GstStructure* */
};
G_DEFINE_FINAL_TYPE (TestSource, test_source, CONSENT_TYPE_SOURCE)

static gboolean
test_source_report_segment (ConsentSource *source, const ConsentSegmentReport *r,
                            GError **error)
{
  TestSource *self = TEST_SOURCE (source);
  GstStructure *s = gst_structure_new (
      "report", "path", G_TYPE_STRING, r->path, "sha256", G_TYPE_STRING, r->sha256,
      "size", G_TYPE_UINT64, r->size, "epoch", G_TYPE_UINT64, r->epoch, "duration",
      G_TYPE_UINT64, r->duration_ns, "muxer", G_TYPE_STRING, r->muxer, "notice",
      G_TYPE_STRING, r->notice_version, "auth0", G_TYPE_STRING,
      r->authorized_by ? r->authorized_by[0] : NULL, NULL);
  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->reports, s);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static const char *
test_source_get_meeting_id (ConsentSource *source)
{
  return "m1";
}

static void
test_source_finalize (GObject *o)
{
  TestSource *self = TEST_SOURCE (o);
  g_ptr_array_unref (self->reports);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (test_source_parent_class)->finalize (o);
}

static void
test_source_class_init (TestSourceClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_source_finalize;
  CONSENT_SOURCE_CLASS (klass)->report_segment = test_source_report_segment;
  CONSENT_SOURCE_CLASS (klass)->get_meeting_id = test_source_get_meeting_id;
}

static void
test_source_init (TestSource *self)
{
  g_mutex_init (&self->lock);
  self->reports = g_ptr_array_new_with_free_func ((GDestroyNotify)gst_structure_free);
}

/* ---- a schedule of consented intervals, applied by a pad probe ---- */

typedef struct {
  double open_s, close_s;
} Interval;

typedef struct {
  const Interval *iv;
  guint n;
  gboolean video;
  int cur; /* open interval or -1 */
  const char *meeting;
  ConsentSource *source;
  /* live only: the video keyframe decides the open instant, audio follows
   * (as the gate does); NULL: open at the scheduled times */
  GstClockTime *open_rt;
  /* between adjacent intervals, send only the next open (no close) */
  gboolean skip_close;
} Gate;

static GMutex open_rt_lock; /* Gate.open_rt is shared by two streaming threads */

static const char *const test_auth[] = {"rec-17", "rec-18", NULL};
static const char *const test_present[] = {"p-4f2a", "p-9c1d", NULL};

static void
push_gate_event (GstPad *pad, Gate *g, int k, gboolean open)
{
  ConsentGateInfo info = {
      .open = open,
      .running_time = (GstClockTime)(g->iv[k].open_s * GST_SECOND),
      .reason = open ? "all-accepted" : "stop",
      .epoch = (guint64)k + 1,
      .authorized_by = test_auth,
      .meeting = g->meeting,
      .present = test_present,
      .notice_version = "3",
      .source = g->source,
  };
  if (!open)
    info.running_time = (GstClockTime)(g->iv[k].close_s * GST_SECOND);
  if (open && g->open_rt) {
    g_mutex_lock (&open_rt_lock);
    info.running_time = g->open_rt[k];
    g_mutex_unlock (&open_rt_lock);
  }
  gst_pad_push_event (pad, consent_gate_event_new (&info));
}

static GstPadProbeReturn
gate_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Gate *g = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  g_autoptr (GstEvent) seg_event = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
  const GstSegment *segment;
  GstClockTime pts;
  int want = -1;

  /* encoders offset timestamps (x264enc by 1000 h): decide on running time */
  g_assert_nonnull (seg_event);
  gst_event_parse_segment (seg_event, &segment);
  pts = gst_segment_to_running_time (segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buf));

  for (guint k = 0; k < g->n; k++)
    if (pts >= g->iv[k].open_s * GST_SECOND && pts < g->iv[k].close_s * GST_SECOND)
      want = (int)k;
  if (want != g->cur && g->cur >= 0) {
    if (!g->skip_close || want < 0)
      push_gate_event (pad, g, g->cur, FALSE);
    g->cur = -1;
  }
  if (want >= 0 && g->cur < 0) {
    /* like the gate: open at a video keyframe */
    if (g->video && GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT))
      return GST_PAD_PROBE_DROP;
    if (g->open_rt) {
      gboolean wait;
      g_mutex_lock (&open_rt_lock);
      if (g->video)
        g->open_rt[want] = pts;
      wait = !GST_CLOCK_TIME_IS_VALID (g->open_rt[want]) || pts < g->open_rt[want];
      g_mutex_unlock (&open_rt_lock);
      if (wait)
        return GST_PAD_PROBE_DROP;
    }
    push_gate_event (pad, g, want, TRUE);
    g->cur = want;
  }
  return g->cur >= 0 ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

/* ---- pipelines ---- */

typedef struct {
  const char *location;
  const char *policy;
  const char *muxer;   /* NULL: default */
  const char *meeting; /* NULL: m1 */
  gboolean audio;
  gboolean live;
  int video_buffers; /* -1: endless */
  int bitrate;       /* kbit/s, 0: x264enc default */
  const Interval *iv;
  guint n_iv;
  ConsentSource *source;
  gboolean skip_close;
} Recording;

typedef struct {
  GstElement *pipeline;
  Gate vgate, agate;
  GstClockTime open_rt[8];
} Running;

static void
running_start (Running *r, const Recording *rec)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *bitrate =
      rec->bitrate ? g_strdup_printf ("bitrate=%d", rec->bitrate) : g_strdup ("");
  g_autofree char *audio =
      rec->audio
          ? g_strdup_printf (
                "audiotestsrc is-live=%d num-buffers=%d samplesperbuffer=960 "
                "! audio/x-raw,rate=48000,channels=1 ! opusenc frame-size=20 "
                "name=agate ! s.audio_0",
                rec->live, rec->video_buffers < 0 ? -1 : rec->video_buffers * 50 / 30)
          : g_strdup ("");
  g_autofree char *desc = g_strdup_printf (
      "videotestsrc is-live=%d num-buffers=%d ! "
      "video/x-raw,width=160,height=120,framerate=30/1 "
      "! x264enc key-int-max=15 tune=zerolatency speed-preset=ultrafast %s "
      "option-string=scenecut=0 ! h264parse name=vgate ! s.video_0 %s consentsink name=s",
      rec->live, rec->video_buffers, bitrate, audio);
  GstElement *sink;
  g_autoptr (GstPad) vpad = NULL;

  r->pipeline = gst_parse_launch (desc, &error);
  g_assert_no_error (error);
  sink = gst_bin_get_by_name (GST_BIN (r->pipeline), "s");
  g_object_set (sink, "location", rec->location, "policy-file", rec->policy, NULL);
  if (rec->muxer)
    g_object_set (sink, "muxer", rec->muxer, NULL);
  gst_object_unref (sink);

  r->vgate = (Gate){rec->iv,    rec->n_iv, TRUE, -1, rec->meeting ? rec->meeting : "m1",
                    rec->source};
  g_assert_cmpuint (rec->n_iv, <=, G_N_ELEMENTS (r->open_rt));
  for (guint i = 0; i < G_N_ELEMENTS (r->open_rt); i++)
    r->open_rt[i] = GST_CLOCK_TIME_NONE;
  if (rec->live)
    r->vgate.open_rt = r->open_rt;
  r->vgate.skip_close = rec->skip_close;
  r->agate = r->vgate;
  r->agate.video = FALSE;
  {
    GstElement *v = gst_bin_get_by_name (GST_BIN (r->pipeline), "vgate");
    vpad = gst_element_get_static_pad (v, "src");
    gst_pad_add_probe (vpad, GST_PAD_PROBE_TYPE_BUFFER, gate_probe, &r->vgate, NULL);
    gst_object_unref (v);
  }
  if (rec->audio) {
    GstElement *a = gst_bin_get_by_name (GST_BIN (r->pipeline), "agate");
    g_autoptr (GstPad) apad = gst_element_get_static_pad (a, "src");
    gst_pad_add_probe (apad, GST_PAD_PROBE_TYPE_BUFFER, gate_probe, &r->agate, NULL);
    gst_object_unref (a);
  }
  gst_element_set_state (r->pipeline, GST_STATE_PLAYING);
}

/* Runs to EOS or the first error; returns the error message (or NULL) and
 * collects the consent-segment messages. A generous liveness bound only. */
static char *
running_wait (Running *r, GPtrArray *segments)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (r->pipeline);
  char *result = NULL;

  for (;;) {
    g_autoptr (GstMessage) msg = gst_bus_timed_pop_filtered (
        bus, 300 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT);
    if (!msg) {
      result = g_strdup ("(no EOS or error within 300 s)");
      break;
    }
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT) {
      const GstStructure *s = gst_message_get_structure (msg);
      if (segments && gst_structure_has_name (s, "consent-segment"))
        g_ptr_array_add (segments, gst_structure_copy (s));
      continue;
    }
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      g_autoptr (GError) error = NULL;
      gst_message_parse_error (msg, &error, NULL);
      result = g_strdup_printf ("%s: %s", GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)),
                                error->message);
    }
    break;
  }
  gst_element_set_state (r->pipeline, GST_STATE_NULL);
  gst_object_unref (r->pipeline);
  return result;
}

static char *
record (const Recording *rec, GPtrArray *segments)
{
  Running r;

  running_start (&r, rec);
  return running_wait (&r, segments);
}

/* Checks one finished file against its manifest, ffprobe and the schedule. */
static void
check_segment (const GstStructure *seg, const Interval *iv, guint64 epoch,
               guint n_streams, const char *muxer)
{
  const char *path = gst_structure_get_string (seg, "location");
  const char *mpath = gst_structure_get_string (seg, "manifest");
  g_autofree char *mtext = NULL, *sha = NULL, *base = g_path_get_basename (path);
  g_autoptr (json_object) m = NULL;
  g_autofree char *suffix = g_strdup_printf (
      "-e%" G_GUINT64_FORMAT ".%s", epoch, g_str_equal (muxer, "mp4mux") ? "mp4" : "mkv");
  gsize len = 0;
  double consented = iv->close_s - iv->open_s;
  struct stat st;
  Probe p;

  g_assert_true (g_str_has_suffix (base, suffix));
  g_assert_true (g_regex_match_simple (
      "^[0-9]{8}T[0-9]{6}\\.[0-9]{3}Z-e[0-9]+\\.(mkv|mp4)$", base, 0, 0));
  g_assert_cmpint (stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0137, ==, 0);
  g_assert_true (g_file_get_contents (mpath, &mtext, NULL, NULL));
  m = json_tokener_parse (mtext);
  g_assert_nonnull (m);
  sha = file_sha256 (path, &len);
  g_assert_cmpstr (jstr (m, "sha256"), ==, sha);
  g_assert_cmpint (json_object_get_int64 (jget (m, "size")), ==, (gint64)len);
  g_assert_cmpstr (jstr (m, "file"), ==, base);
  g_assert_cmpstr (jstr (m, "meeting"), ==, "m1");
  g_assert_cmpstr (jstr (m, "muxer"), ==, muxer);
  g_assert_cmpstr (jstr (m, "notice_version"), ==, "3");
  g_assert_cmpint (json_object_get_int64 (jget (m, "epoch")), ==, (gint64)epoch);
  g_assert_cmpstr (
      json_object_get_string (json_object_array_get_idx (jget (m, "authorized_by"), 1)),
      ==, "rec-18");
  g_assert_cmpstr (
      json_object_get_string (json_object_array_get_idx (jget (m, "present"), 0)), ==,
      "p-4f2a");
  g_assert_true (
      g_regex_match_simple ("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z$",
                            jstr (m, "start_utc"), 0, 0));
  g_assert_true (
      g_regex_match_simple ("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z$",
                            jstr (m, "end_utc"), 0, 0));
  g_assert_cmpstr (gst_structure_get_string (seg, "sha256"), ==, sha);
  {
    double mdur = json_object_get_int64 (jget (m, "duration_ns")) / 1e9;
    g_assert_cmpfloat (mdur, >=, consented - GOP_S - 0.05);
    g_assert_cmpfloat (mdur, <=, consented + 0.05);
  }

  probe_file (path, &p);
  g_assert_cmpuint (p.n_streams, ==, n_streams);
  g_assert_true (p.first_is_key);
  g_assert_cmpfloat (p.video_start, >=, 0.0);
  g_assert_cmpfloat (p.video_start, <, 0.001);
  g_assert_cmpfloat (p.duration, >=, consented - GOP_S - 0.05);
  g_assert_cmpfloat (p.duration, <=, consented + 0.1);
  g_assert_cmpuint (p.n_video_frames, >=, (guint)((consented - GOP_S) * 30) - 1);
}

static int
compare_epoch (gconstpointer a, gconstpointer b)
{
  guint64 ea = 0, eb = 0;
  gst_structure_get_uint64 (*(GstStructure **)a, "epoch", &ea);
  gst_structure_get_uint64 (*(GstStructure **)b, "epoch", &eb);
  return ea < eb ? -1 : ea > eb;
}

static void
check_intervals (SinkFixture *f, const char *muxer, gboolean audio)
{
  static const Interval iv[] = {{0.5, 1.5}, {2.0, 3.0}, {3.5, 4.5}};
  g_autoptr (TestSource) source = g_object_new (TEST_TYPE_SOURCE, NULL);
  g_autoptr (GPtrArray) segments =
      g_ptr_array_new_with_free_func ((GDestroyNotify)gst_structure_free);
  g_autofree char *meeting_dir = g_build_filename (f->root, "m1", NULL);
  Recording rec = {.location = f->root,
                   .policy = f->policy,
                   .muxer = muxer,
                   .audio = audio,
                   .video_buffers = 150,
                   .iv = iv,
                   .n_iv = G_N_ELEMENTS (iv),
                   .source = CONSENT_SOURCE (source)};
  g_autofree char *err = record (&rec, segments);
  struct stat st;

  g_assert_cmpstr (err, ==, NULL);
  g_assert_cmpuint (segments->len, ==, 3);
  g_ptr_array_sort (segments, compare_epoch);
  /* one media file and one manifest per interval, nothing else */
  g_assert_cmpuint (count_files (f->root), ==, 6);
  g_assert_cmpint (stat (meeting_dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 027, ==, 0);
  for (guint i = 0; i < 3; i++)
    check_segment (segments->pdata[i], &iv[i], i + 1, audio ? 2 : 1,
                   muxer ? muxer : "matroskamux");

  /* the ledger got the same facts */
  g_assert_cmpuint (source->reports->len, ==, 3);
  for (guint i = 0; i < 3; i++) {
    GstStructure *r = source->reports->pdata[i];
    gboolean found = FALSE;
    for (guint j = 0; j < 3; j++)
      if (g_strcmp0 (gst_structure_get_string (r, "sha256"),
                     gst_structure_get_string (segments->pdata[j], "sha256")) == 0 &&
          g_strcmp0 (gst_structure_get_string (r, "path"),
                     gst_structure_get_string (segments->pdata[j], "location")) == 0)
        found = TRUE;
    g_assert_true (found);
    g_assert_cmpstr (gst_structure_get_string (r, "auth0"), ==, "rec-17");
    g_assert_cmpstr (gst_structure_get_string (r, "notice"), ==, "3");
  }
}

static void
test_intervals_mkv (SinkFixture *f, gconstpointer data)
{
  check_intervals (f, NULL, TRUE);
}

static void
test_intervals_mp4 (SinkFixture *f, gconstpointer data)
{
  check_intervals (f, "mp4mux", TRUE);
}

/* An open for a new epoch without the previous close ends the previous file. */
static void
test_open_without_close (SinkFixture *f, gconstpointer data)
{
  static const Interval iv[] = {{0.5, 1.5}, {1.5, 2.5}};
  g_autoptr (GPtrArray) segments =
      g_ptr_array_new_with_free_func ((GDestroyNotify)gst_structure_free);
  Recording rec = {.location = f->root,
                   .policy = f->policy,
                   .audio = TRUE,
                   .video_buffers = 90,
                   .iv = iv,
                   .n_iv = G_N_ELEMENTS (iv),
                   .skip_close = TRUE};
  g_autofree char *err = record (&rec, segments);

  g_assert_cmpstr (err, ==, NULL);
  g_assert_cmpuint (segments->len, ==, 2);
  g_ptr_array_sort (segments, compare_epoch);
  for (guint i = 0; i < 2; i++)
    check_segment (segments->pdata[i], &iv[i], i + 1, 2, "matroskamux");
  g_assert_cmpuint (count_files (f->root), ==, 4);
}

static void
test_nothing_without_consent (SinkFixture *f, gconstpointer data)
{
  Recording rec = {
      .location = f->root, .policy = f->policy, .audio = TRUE, .video_buffers = 60};
  g_autofree char *err = record (&rec, NULL);

  g_assert_cmpstr (err, ==, NULL);
  g_assert_cmpuint (count_files (f->root), ==, 0);
}

/* ---- refusals ---- */

static const Interval whole[] = {{0.0, 100.0}};

static char *
record_refused (SinkFixture *f, const char *location, const char *meeting)
{
  Recording rec = {.location = location,
                   .policy = f->policy,
                   .meeting = meeting,
                   .video_buffers = 30,
                   .iv = whole,
                   .n_iv = 1};
  return record (&rec, NULL);
}

static void
test_refuse_outside_root (SinkFixture *f, gconstpointer data)
{
  g_autofree char *err = record_refused (f, f->dir, NULL);
  g_autofree char *expected = g_strdup_printf (
      "s: storage location '%s' is outside every storage root allowed by the policy (%s)",
      f->dir, f->root);

  g_assert_cmpstr (err, ==, expected);
  g_assert_cmpuint (count_files (f->dir), ==, 1); /* the policy file only */
}

static void
test_refuse_dotdot (SinkFixture *f, gconstpointer data)
{
  g_autofree char *loc = g_strdup_printf ("%s/..", f->root);
  g_autofree char *err = record_refused (f, loc, NULL);
  g_autofree char *expected =
      g_strdup_printf ("s: storage location '%s' leaves the storage roots (%s) through "
                       "'..' (it resolves to "
                       "'%s')",
                       loc, f->root, f->dir);

  g_assert_cmpstr (err, ==, expected);
  g_assert_cmpuint (count_files (f->dir), ==, 1);
}

static void
test_refuse_symlink (SinkFixture *f, gconstpointer data)
{
  g_autofree char *link = g_build_filename (f->root, "out", NULL);
  g_autofree char *real_root = realpath (f->root, NULL);
  g_autofree char *expected = NULL, *err = NULL;

  g_assert_cmpint (symlink (f->dir, link), ==, 0);
  err = record_refused (f, link, NULL);
  expected = g_strdup_printf ("s: storage location '%s': component '%s' is a symbolic "
                              "link leading out of storage "
                              "root '%s'",
                              link, link, real_root);
  g_assert_cmpstr (err, ==, expected);
  g_assert_cmpuint (count_files (f->dir), ==, 2); /* policy file and the link */
}

static void
test_refuse_bad_meeting (SinkFixture *f, gconstpointer data)
{
  g_autofree char *err = record_refused (f, f->root, "..");

  g_assert_cmpstr (
      err, ==,
      "s: meeting id '..' is not valid (1..64 characters of [A-Za-z0-9._-], not "
      "starting with '.' or '-')");
  g_assert_cmpuint (count_files (f->root), ==, 0);
}

/* Every name the sink could pick in the next 20 s exists already. */
static void
test_refuse_existing (SinkFixture *f, gconstpointer data)
{
  g_autofree char *mdir = g_build_filename (f->root, "m1", NULL);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr (GDateTime) from = g_date_time_add_seconds (now, -1);
  const guint n = 21000;
  g_autofree char *err = NULL, *prefix = NULL;
  int dfd;

  g_assert_cmpint (g_mkdir (mdir, 0750), ==, 0);
  dfd = open (mdir, O_RDONLY | O_DIRECTORY);
  for (guint i = 0; i < n; i++) {
    g_autoptr (GDateTime) t = g_date_time_add (from, (GTimeSpan)i * 1000);
    g_autofree char *stamp = g_date_time_format (t, "%Y%m%dT%H%M%S");
    g_autofree char *name = g_strdup_printf ("%s.%03dZ-e1.mkv", stamp,
                                             g_date_time_get_microsecond (t) / 1000);
    int fd = openat (dfd, name, O_WRONLY | O_CREAT | O_EXCL, 0640);
    g_assert_cmpint (fd, >=, 0);
    close (fd);
  }
  close (dfd);
  err = record_refused (f, f->root, NULL);
  prefix = g_strdup_printf ("s: recording file '%s/", mdir);
  g_assert_nonnull (err);
  g_assert_true (g_str_has_prefix (err, prefix));
  g_assert_true (g_str_has_suffix (
      err, "-e1.mkv' already exists; consentsink never overwrites or reuses a file"));
  /* nothing added, nothing written into the existing files */
  g_assert_cmpuint (count_files (f->root), ==, n);
}

static gboolean
mount_tmpfs (const char *dir, const char *options, unsigned long flags)
{
  if (mount ("tmpfs", dir, "tmpfs", flags, options) != 0) {
    g_test_message ("mounting a tmpfs at %s failed: %s (this test needs CAP_SYS_ADMIN)",
                    dir, g_strerror (errno));
    g_test_fail ();
    return FALSE;
  }
  return TRUE;
}

/* Unwritable storage (tests run as root, so permissions would not stop us):
 * a read-only tmpfs as location, and a read-only bind mount of an existing
 * meeting directory. */
static void
test_refuse_readonly (SinkFixture *f, gconstpointer data)
{
  g_autofree char *ro = g_build_filename (f->root, "ro", NULL);
  g_autofree char *rw = g_build_filename (f->root, "rw", NULL);
  g_autofree char *rw_m1 = g_build_filename (rw, "m1", NULL);
  g_autofree char *err = NULL, *expected = NULL, *prefix = NULL;

  g_assert_cmpint (g_mkdir (ro, 0750), ==, 0);
  if (!mount_tmpfs (ro, "size=64k", MS_RDONLY))
    return;
  err = record_refused (f, ro, NULL);
  expected = g_strdup_printf ("s: cannot create meeting directory '%s/m1': %s", ro,
                              g_strerror (EROFS));
  g_assert_cmpstr (err, ==, expected);
  g_assert_cmpuint (count_files (ro), ==, 0);
  g_assert_cmpint (umount (ro), ==, 0);

  g_assert_cmpint (g_mkdir_with_parents (rw_m1, 0750), ==, 0);
  g_assert_cmpint (mount (rw, rw, NULL, MS_BIND, NULL), ==, 0);
  g_assert_cmpint (mount (NULL, rw, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL), ==, 0);
  g_clear_pointer (&err, g_free);
  err = record_refused (f, rw, NULL);
  prefix = g_strdup_printf ("s: cannot create recording file '%s/", rw_m1);
  g_assert_nonnull (err);
  g_assert_true (g_str_has_prefix (err, prefix));
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("-e1.mkv': %s", g_strerror (EROFS));
  g_assert_true (g_str_has_suffix (err, expected));
  g_assert_cmpuint (count_files (rw), ==, 0);
  g_assert_cmpint (umount (rw), ==, 0);
}

/* A full disk stops the recording with an error and leaves neither the
 * unfinished file nor a manifest. */
static void
test_full_disk (SinkFixture *f, gconstpointer data)
{
  g_autofree char *small = g_build_filename (f->root, "small", NULL);
  g_autofree char *prefix = NULL, *suffix = NULL;
  g_autofree char *err = NULL;
  Recording rec = {
      .policy = f->policy, .video_buffers = 90, .bitrate = 4000, .iv = whole, .n_iv = 1};

  g_assert_cmpint (g_mkdir (small, 0750), ==, 0);
  if (!mount_tmpfs (small, "size=128k", 0))
    return;
  rec.location = small;
  err = record (&rec, NULL);
  prefix = g_strdup_printf ("s: recording '%s/m1/", small);
  suffix = g_strdup_printf (
      "-e1.mkv' was stopped and removed: writing the recording failed: %s",
      g_strerror (ENOSPC));
  g_assert_nonnull (err);
  g_test_message ("error: %s", err);
  g_assert_true (g_str_has_prefix (err, prefix));
  g_assert_true (g_str_has_suffix (err, suffix));
  g_assert_cmpuint (count_files (small), ==, 0);
  g_assert_cmpint (umount (small), ==, 0);
}

/* ---- SIGKILL ---- */

static int
record_child (const char *location, const char *policy, const char *muxer)
{
  static const Interval forever[] = {{0.0, 1e6}};
  Recording rec = {.location = location,
                   .policy = policy,
                   .muxer = muxer,
                   .audio = TRUE,
                   .live = TRUE,
                   .video_buffers = -1,
                   .bitrate = 1000,
                   .iv = forever,
                   .n_iv = 1};
  g_autofree char *err = record (&rec, NULL);

  g_printerr ("recording ended: %s\n", err ? err : "EOS");
  return 1;
}

static char *
find_media (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name (d)))
    if (g_str_has_suffix (name, ".mkv") || g_str_has_suffix (name, ".mp4"))
      return g_build_filename (dir, name, NULL);
  return NULL;
}

static void
check_sigkill (SinkFixture *f, const char *muxer)
{
  g_autofree char *mdir = g_build_filename (f->root, "m1", NULL);
  g_autofree char *path = NULL;
  const char *argv[] = {
      "/proc/self/exe", "--record-child", f->root, f->policy, muxer, NULL};
  g_autoptr (GError) error = NULL;
  GPid pid;
  int status;
  struct stat st;
  Probe p;

  g_assert_true (g_spawn_async (NULL, (char **)argv, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL,
                                NULL, NULL, &pid, &error));
  g_assert_no_error (error);
  /* wait until ~3 s of media (1000 kbit/s) are on disk (liveness bound: 5 min) */
  for (guint i = 0; i < 3000; i++) {
    g_clear_pointer (&path, g_free);
    path = find_media (mdir);
    if (path && stat (path, &st) == 0 && st.st_size > 400000)
      break;
    g_assert_cmpint (waitpid (pid, &status, WNOHANG), ==, 0);
    g_usleep (100 * 1000);
  }
  g_assert_nonnull (path);
  g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  g_spawn_close_pid (pid);

  /* the cut file plays up to the cut; no manifest for it */
  probe_file (path, &p);
  g_test_message ("cut file: %u video frames, %u streams", p.n_video_frames, p.n_streams);
  g_assert_cmpuint (p.n_streams, ==, 2);
  g_assert_true (p.first_is_key);
  g_assert_cmpuint (p.n_video_frames, >=, 45);
  g_assert_cmpfloat (p.video_start, <, 0.001);
  g_assert_cmpuint (count_files (f->root), ==, 1);
}

static void
test_sigkill_mkv (SinkFixture *f, gconstpointer data)
{
  check_sigkill (f, "matroskamux");
}

static void
test_sigkill_mp4 (SinkFixture *f, gconstpointer data)
{
  check_sigkill (f, "mp4mux");
}

int
main (int argc, char **argv)
{
  if (argc == 5 && g_str_equal (argv[1], "--record-child")) {
    int one = 1;
    sink_tests_init (&one, &argv, FALSE);
    return record_child (argv[2], argv[3], argv[4]);
  }
  sink_tests_init (&argc, &argv, TRUE);
#define ADD(path, fn)                                                                    \
  g_test_add (path, SinkFixture, NULL, sink_fixture_setup, fn, sink_fixture_teardown)
  ADD ("/sink/record/intervals-mkv", test_intervals_mkv);
  ADD ("/sink/record/intervals-mp4", test_intervals_mp4);
  ADD ("/sink/record/nothing-without-consent", test_nothing_without_consent);
  ADD ("/sink/record/open-without-close", test_open_without_close);
  ADD ("/sink/refuse/outside-root", test_refuse_outside_root);
  ADD ("/sink/refuse/dotdot", test_refuse_dotdot);
  ADD ("/sink/refuse/symlink-escape", test_refuse_symlink);
  ADD ("/sink/refuse/bad-meeting", test_refuse_bad_meeting);
  ADD ("/sink/refuse/existing-file", test_refuse_existing);
  ADD ("/sink/refuse/read-only", test_refuse_readonly);
  ADD ("/sink/refuse/full-disk", test_full_disk);
  ADD ("/sink/crash/sigkill-mkv", test_sigkill_mkv);
  ADD ("/sink/crash/sigkill-mp4", test_sigkill_mp4);
  return g_test_run ();
}
