/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * gate-bench: the per-buffer cost of consentgate against its peers in the
 * same pipeline shape, timed from PLAYING to EOS:
 *
 *   fakesrc is-live=true format=time num-buffers=N ! X ! fakesink sync=false
 *   (× streams; TIME segments because the gate judges running time)
 *
 * The clock stops when every source has pushed EOS (a probe on each fakesrc
 * pad): pushes are synchronous, so by then every buffer went through X, and
 * valve drop=true, which swallows EOS, is timed the same way as the others.
 *
 * X is consentgate (open or closed, following an in-process ConsentMeeting
 * whose policy allows foreign sinks, since fakesink is not a consentsink),
 * valve (drop=false / drop=true) or identity. The sources are live because a
 * closed gate holds non-live input back instead of dropping it (a recording
 * pipeline is live). fakesrc buffers carry no timestamps; the gate treats an
 * untimed buffer as "where the stream is", which is the cheapest honest path.
 *
 * Each case runs REPS times, the cases interleaved so that load drifting on
 * the machine hits all of them alike. Output: one TSV row per case,
 *   gate <tab> case <tab> median ns/buffer <tab> unit <tab> peer <tab> ratio
 *
 *   gate-bench [--buffers N] [--reps R] [--streams S] [--only CASE]
 */
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent.h"

#define BENCH_MAX_STREAMS 16
#define BENCH_MAX_REPS 101

typedef enum { GATE_NONE, GATE_OPEN, GATE_CLOSED } GateMode;

typedef struct {
  const char *name;    /* row label */
  const char *element; /* the X of the pipeline, with its properties */
  GateMode gate;
  const char *peer; /* the case this one is compared with, or NULL */
} BenchCase;

static const BenchCase bench_cases[] = {
    {"identity", "identity", GATE_NONE, NULL},
    {"valve-open", "valve drop=false", GATE_NONE, "identity"},
    {"consentgate-open", "consentgate", GATE_OPEN, "valve-open"},
    {"valve-drop", "valve drop=true", GATE_NONE, NULL},
    {"consentgate-closed", "consentgate", GATE_CLOSED, "valve-drop"},
};
#define N_CASES G_N_ELEMENTS (bench_cases)

static const ConsentMethod bench_method = {"in-process", "bench", NULL};

/* A meeting of one participant whose decision is open or closed. */
static ConsentMeeting *
bench_meeting_new (gboolean open)
{
  g_autoptr (GError) error = NULL;
  ConsentPolicy *policy = consent_policy_new_default (NULL);
  g_autoptr (ConsentMemoryRecorder) recorder = consent_memory_recorder_new (TRUE);
  ConsentMeeting *meeting;

  policy->allow_foreign_sinks = TRUE; /* fakesink is not a consentsink */
  meeting = consent_meeting_new ("bench", policy, CONSENT_RECORDER (recorder));
  consent_policy_unref (policy);
  if (!consent_meeting_join (meeting, "alice", "Alice", "participant", &bench_method,
                             &error) ||
      !consent_meeting_request_recording (meeting, "organiser", &error))
    g_error ("meeting setup: %s", error->message);
  if (open && !consent_meeting_answer (meeting, "alice", TRUE,
                                       consent_meeting_get_notice (meeting)->version,
                                       NULL, &bench_method, &error))
    g_error ("accept: %s", error->message);
  return meeting;
}

static char *
bench_launch_line (const BenchCase *c, guint streams, guint64 buffers)
{
  GString *s = g_string_new (NULL);

  if (c->gate != GATE_NONE)
    g_string_append (s, "consentgate name=g ");
  for (guint i = 0; i < streams; i++) {
    g_string_append_printf (
        s,
        "fakesrc name=src%u is-live=true format=time num-buffers=%" G_GUINT64_FORMAT
        " ! ",
        i, buffers);
    if (c->gate != GATE_NONE)
      g_string_append_printf (s, "g.sink_%u g.src_%u ! ", i, i);
    else
      g_string_append_printf (s, "%s ! ", c->element);
    g_string_append (s, "fakesink sync=false ");
  }
  return g_string_free (s, FALSE);
}

/* Counts sources that pushed EOS (pushes are synchronous through X). */
typedef struct {
  GMutex lock;
  GCond cond;
  guint n_eos;
} EosCount;

static GstPadProbeReturn
on_src_event (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  EosCount *eos = user_data;

  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS) {
    g_mutex_lock (&eos->lock);
    eos->n_eos++;
    g_cond_broadcast (&eos->cond);
    g_mutex_unlock (&eos->lock);
  }
  return GST_PAD_PROBE_OK;
}

static void
bench_watch_sources (GstElement *pipeline, guint streams, EosCount *eos)
{
  for (guint i = 0; i < streams; i++) {
    g_autofree char *name = g_strdup_printf ("src%u", i);
    g_autoptr (GstElement) src = gst_bin_get_by_name (GST_BIN (pipeline), name);
    g_autoptr (GstPad) pad = gst_element_get_static_pad (src, "src");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_src_event, eos, NULL);
  }
}

static void
bench_wait_eos (EosCount *eos, guint streams, const char *line)
{
  gint64 deadline = g_get_monotonic_time () + 600 * G_TIME_SPAN_SECOND;

  g_mutex_lock (&eos->lock);
  while (eos->n_eos < streams)
    if (!g_cond_wait_until (&eos->cond, &eos->lock, deadline))
      g_error ("%s: no EOS within 600 s", line);
  g_mutex_unlock (&eos->lock);
}

/* A run that posted an error measured nothing. */
static void
bench_check_bus (GstElement *pipeline, const char *line)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  g_autoptr (GstMessage) msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);

  if (msg != NULL) {
    g_autoptr (GError) error = NULL;
    gst_message_parse_error (msg, &error, NULL);
    g_error ("%s: %s", line, error->message);
  }
}

/* Runs the pipeline once; returns ns per buffer (all streams together). */
static double
bench_run_once (const BenchCase *c, guint streams, guint64 buffers)
{
  g_autofree char *line = bench_launch_line (c, streams, buffers);
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipeline = gst_parse_launch (line, &error);
  g_autoptr (ConsentMeeting) meeting = NULL;
  EosCount eos = {0};
  gint64 t0, t1;

  if (pipeline == NULL)
    g_error ("%s: %s", line, error->message);
  g_mutex_init (&eos.lock);
  g_cond_init (&eos.cond);
  bench_watch_sources (pipeline, streams, &eos);
  if (c->gate != GATE_NONE) {
    g_autoptr (GstElement) gate = gst_bin_get_by_name (GST_BIN (pipeline), "g");
    meeting = bench_meeting_new (c->gate == GATE_OPEN);
    g_object_set (gate, "meeting-object", meeting, NULL);
  }
  /* Prepare everything up to PAUSED first, so the timing is the data flow. */
  if (gst_element_set_state (pipeline, GST_STATE_PAUSED) == GST_STATE_CHANGE_FAILURE)
    g_error ("%s: cannot pause", line);
  gst_element_get_state (pipeline, NULL, NULL, GST_CLOCK_TIME_NONE);
  t0 = g_get_monotonic_time ();
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  bench_wait_eos (&eos, streams, line);
  t1 = g_get_monotonic_time ();
  if (c->gate != GATE_NONE) {
    g_autoptr (GstElement) gate = gst_bin_get_by_name (GST_BIN (pipeline), "g");
    gboolean open = FALSE;
    g_object_get (gate, "is-open", &open, NULL);
    if (open != (c->gate == GATE_OPEN))
      g_error ("%s: the gate is %s, expected %s", line, open ? "open" : "closed",
               c->gate == GATE_OPEN ? "open" : "closed");
  }
  bench_check_bus (pipeline, line);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  g_mutex_clear (&eos.lock);
  g_cond_clear (&eos.cond);
  return (double)(t1 - t0) * 1000.0 / (double)(buffers * streams);
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double
median (double *v, guint n)
{
  qsort (v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int
bench_case_index (const char *name)
{
  for (guint i = 0; i < N_CASES; i++)
    if (g_strcmp0 (bench_cases[i].name, name) == 0)
      return (int)i;
  return -1;
}

int
main (int argc, char **argv)
{
  gint64 buffers = 1000000, reps = 5, streams = 1;
  g_autofree char *only = NULL;
  GOptionEntry entries[] = {
      {"buffers", 0, 0, G_OPTION_ARG_INT64, &buffers, "Buffers per stream and run", "N"},
      {"reps", 0, 0, G_OPTION_ARG_INT64, &reps, "Runs per case (median reported)", "R"},
      {"streams", 0, 0, G_OPTION_ARG_INT64, &streams, "Streams through one gate", "S"},
      {"only", 0, 0, G_OPTION_ARG_STRING, &only, "Run one case (for callgrind)", "CASE"},
      {NULL}};
  g_autoptr (GOptionContext) ctx =
      g_option_context_new ("- consentgate vs valve and identity");
  g_autoptr (GError) error = NULL;
  double results[N_CASES][BENCH_MAX_REPS];
  double med[N_CASES];

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    fprintf (stderr, "gate-bench: %s\n", error->message);
    return 2;
  }
  if (buffers < 1 || buffers > 100000000 || reps < 1 || reps > BENCH_MAX_REPS ||
      streams < 1 || streams > BENCH_MAX_STREAMS) {
    fprintf (stderr, "gate-bench: --buffers 1..1e8, --reps 1..%d, --streams 1..%d\n",
             BENCH_MAX_REPS, BENCH_MAX_STREAMS);
    return 2;
  }
  if (only != NULL && bench_case_index (only) < 0) {
    fprintf (stderr, "gate-bench: unknown case %s\n", only);
    return 2;
  }
  gst_init (NULL, NULL);

  for (gint64 r = 0; r < reps; r++)
    for (guint i = 0; i < N_CASES; i++)
      if (only == NULL || i == (guint)bench_case_index (only))
        results[i][r] =
            bench_run_once (&bench_cases[i], (guint)streams, (guint64)buffers);

  for (guint i = 0; i < N_CASES; i++) {
    const BenchCase *c = &bench_cases[i];
    int p;
    if (only != NULL && i != (guint)bench_case_index (only))
      continue;
    med[i] = median (results[i], (guint)reps);
    p = c->peer ? bench_case_index (c->peer) : -1;
    if (p >= 0 && only == NULL)
      printf ("gate\t%s, %" G_GINT64_FORMAT " stream%s\t%.1f\tns/buffer\t%s\t%.3f\n",
              c->name, streams, streams > 1 ? "s" : "", med[i], c->peer, med[i] / med[p]);
    else
      printf ("gate\t%s, %" G_GINT64_FORMAT " stream%s\t%.1f\tns/buffer\t-\t-\n", c->name,
              streams, streams > 1 ? "s" : "", med[i]);
  }
  return 0;
}
