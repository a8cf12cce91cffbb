/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-report-svg.c: the report's timeline picture, inline SVG.
 *
 * One row for the recording request and the gate, one for the recorded
 * segments, then one lane per participant coloured by their standing answer
 * while present. Every shape carries a <title> with exact times, so the
 * picture is an index into the event table, not the evidence itself.
 */
#include "ctl-report.h"

#define SVG_WIDTH 1100
#define LABEL_WIDTH 230
#define PLOT_LEFT (LABEL_WIDTH + 10)
#define PLOT_WIDTH (SVG_WIDTH - PLOT_LEFT - 34)
#define AXIS_TOP 34
#define ROW_HEIGHT 30
#define BAR_HEIGHT 18
#define N_TICKS 6
#define LABEL_MAX_CHARS 30

static const char *const state_colours[CTL_LANE_N_STATES] = {
  "#9e9e9e", /* present */
  "#f0ad4e", /* pending */
  "#2e7d32", /* accepted */
  "#c62828", /* declined */
  "#6a1b9a", /* withdrawn */
};
#define REQUESTED_COLOUR "#90caf9"
#define GATE_COLOUR "#1b5e20"
#define SEGMENT_COLOUR "#1565c0"

typedef struct {
  GString *out;
  gint64 t0, t1;
} Svg;

static double
x_of (const Svg *svg, gint64 ts_us)
{
  return PLOT_LEFT + (double) (ts_us - svg->t0) * PLOT_WIDTH / (double) (svg->t1 - svg->t0);
}

static char *
time_of_day (gint64 ts_us)
{
  g_autoptr (GDateTime) time = g_date_time_new_from_unix_utc (ts_us / G_USEC_PER_SEC);

  return time != NULL ? g_date_time_format (time, "%H:%M:%S") : g_strdup ("?");
}

/* A bar from @start to @end in row @row, at least 2 px wide so instants show. */
static void
bar (Svg *svg, guint row, double inset, gint64 start_us, gint64 end_us, const char *colour,
     const char *title)
{
  double x = x_of (svg, start_us), w = x_of (svg, end_us) - x;
  double y = AXIS_TOP + row * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2.0 + inset;
  g_autofree char *escaped = ctl_report_escape (title);
  g_autofree char *start = ctl_report_format_time (start_us);
  g_autofree char *end = ctl_report_format_time (end_us);

  g_string_append_printf (svg->out,
                          "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                          "fill=\"%s\"><title>%s: %s – %s</title></rect>\n",
                          x, y, MAX (w, 2.0), BAR_HEIGHT - 2 * inset, colour, escaped, start,
                          end);
}

static void
row_label (Svg *svg, guint row, const char *label, const char *hint)
{
  g_autofree char *valid = g_utf8_make_valid (label, -1);
  g_autofree char *head = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *escaped_hint = ctl_report_escape (hint != NULL ? hint : label);
  double y = AXIS_TOP + row * ROW_HEIGHT + ROW_HEIGHT / 2.0 + 4;

  /* Long (attacker-chosen) names are cut; the full text stays in the title. */
  if (g_utf8_strlen (valid, -1) > LABEL_MAX_CHARS) {
    g_autofree char *cut = g_utf8_substring (valid, 0, LABEL_MAX_CHARS - 1);

    head = g_strconcat (cut, "…", NULL);
  }
  escaped = ctl_report_escape (head != NULL ? head : valid);
  g_string_append_printf (svg->out,
                          "<text x=\"8\" y=\"%.1f\" class=\"label\">%s<title>%s</title></text>\n",
                          y, escaped, escaped_hint);
  g_string_append_printf (svg->out,
                          "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"rule\"/>\n",
                          PLOT_LEFT, AXIS_TOP + (row + 1.0) * ROW_HEIGHT, SVG_WIDTH - 20,
                          AXIS_TOP + (row + 1.0) * ROW_HEIGHT);
}

/* A tick step of whole seconds, minutes or hours, giving at most N_TICKS intervals. */
static gint64
tick_step_us (gint64 span_us)
{
  static const gint64 steps_s[] = {1,    2,    5,     10,    15,    30,    60,     120,
                                   300,  600,  900,   1800,  3600,  7200,  10800,  21600,
                                   43200, 86400, 172800, 604800};

  for (guint i = 0; i < G_N_ELEMENTS (steps_s); i++) {
    if (span_us / (steps_s[i] * G_USEC_PER_SEC) <= N_TICKS)
      return steps_s[i] * G_USEC_PER_SEC;
  }
  return span_us / N_TICKS + 1;
}

static void
axis (Svg *svg, guint n_rows)
{
  double bottom = AXIS_TOP + n_rows * ROW_HEIGHT;
  gint64 step = tick_step_us (svg->t1 - svg->t0);
  gint64 first = (svg->t0 + step - 1) / step * step;

  for (gint64 ts = first; ts <= svg->t1; ts += step) {
    double x = x_of (svg, ts);
    g_autofree char *label = time_of_day (ts);

    g_string_append_printf (svg->out,
                            "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" class=\"tick\"/>"
                            "<text x=\"%.1f\" y=\"%d\" class=\"axis\" text-anchor=\"middle\">%s"
                            "</text>\n",
                            x, AXIS_TOP - 6, x, bottom, x, AXIS_TOP - 10, label);
  }
}

static void
gate_row (Svg *svg, const CtlTimeline *timeline, guint row)
{
  row_label (svg, row, "Gate", "light: recording requested; dark: gate open");
  for (guint i = 0; i < timeline->requested->len; i++) {
    const CtlInterval *in = &g_array_index (timeline->requested, CtlInterval, i);

    bar (svg, row, 0, in->start_us, in->end_us, REQUESTED_COLOUR, "recording requested");
  }
  for (guint i = 0; i < timeline->gate->len; i++) {
    const CtlInterval *in = &g_array_index (timeline->gate, CtlInterval, i);

    bar (svg, row, 4, in->start_us, in->end_us, GATE_COLOUR, "gate open");
  }
}

static void
segment_row (Svg *svg, const CtlTimeline *timeline, guint row)
{
  row_label (svg, row, "Recorded segments", NULL);
  for (guint i = 0; i < timeline->segments->len; i++) {
    const CtlSegment *segment = &g_array_index (timeline->segments, CtlSegment, i);
    g_autofree char *base = segment->path != NULL ? g_path_get_basename (segment->path) : NULL;
    g_autofree char *title = g_strdup_printf ("segment %u %s sha256 %s", i + 1,
                                              base != NULL ? base : "(no path)",
                                              segment->sha256 != NULL ? segment->sha256 : "?");

    bar (svg, row, 2, segment->start_us, segment->end_us, SEGMENT_COLOUR, title);
  }
}

static void
participant_row (Svg *svg, const CtlLane *lane, guint row)
{
  g_autofree char *hint = g_strdup_printf ("subject %s", lane->subject);
  const char *label = lane->display_name != NULL ? lane->display_name : lane->subject;

  row_label (svg, row, label, hint);
  for (guint i = 0; i < lane->intervals->len; i++) {
    const CtlInterval *in = &g_array_index (lane->intervals, CtlInterval, i);

    bar (svg, row, 0, in->start_us, in->end_us, state_colours[in->state],
         ctl_lane_state_name (in->state));
  }
  for (guint i = 0; i < lane->gate->len; i++) {
    const CtlInterval *in = &g_array_index (lane->gate, CtlInterval, i);

    bar (svg, row, 7, in->start_us, in->end_us, GATE_COLOUR, "own gate open");
  }
}

static void
legend (Svg *svg, guint n_rows)
{
  const char *names[CTL_LANE_N_STATES + 3];
  const char *colours[CTL_LANE_N_STATES + 3];
  double y = AXIS_TOP + n_rows * ROW_HEIGHT + 22;
  guint n = 0;

  for (guint i = 0; i < CTL_LANE_N_STATES; i++) {
    names[n] = ctl_lane_state_name (i);
    colours[n++] = state_colours[i];
  }
  names[n] = "recording requested";
  colours[n++] = REQUESTED_COLOUR;
  names[n] = "gate open";
  colours[n++] = GATE_COLOUR;
  names[n] = "segment";
  colours[n++] = SEGMENT_COLOUR;
  for (guint i = 0; i < n; i++) {
    double x = 8 + i * 135.0;

    g_string_append_printf (svg->out,
                            "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"14\" fill=\"%s\"/>"
                            "<text x=\"%.1f\" y=\"%.1f\" class=\"axis\">%s</text>\n",
                            x, y - 11, colours[i], x + 19, y, names[i]);
  }
}

char *
ctl_report_svg (const CtlTimeline *timeline)
{
  Svg svg = {.out = g_string_new (NULL), .t0 = timeline->first_us, .t1 = timeline->last_us};
  guint n_rows = 2 + timeline->lanes->len;
  guint height = AXIS_TOP + n_rows * ROW_HEIGHT + 40;
  g_autofree char *meeting = ctl_report_escape (timeline->meeting);

  if (svg.t1 <= svg.t0)
    svg.t1 = svg.t0 + G_USEC_PER_SEC;
  g_string_append_printf (svg.out,
                          "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%u\" "
                          "viewBox=\"0 0 %d %u\" role=\"img\" "
                          "aria-label=\"Consent timeline of meeting %s\">\n"
                          "<style>.label{font:13px sans-serif;fill:#212121}"
                          ".axis{font:11px sans-serif;fill:#424242}"
                          ".tick{stroke:#e0e0e0;stroke-width:1}"
                          ".rule{stroke:#f0f0f0;stroke-width:1}</style>\n",
                          SVG_WIDTH, height, SVG_WIDTH, height, meeting);
  axis (&svg, n_rows);
  gate_row (&svg, timeline, 0);
  segment_row (&svg, timeline, 1);
  for (guint i = 0; i < timeline->lanes->len; i++)
    participant_row (&svg, g_ptr_array_index (timeline->lanes, i), 2 + i);
  legend (&svg, n_rows);
  g_string_append (svg.out, "</svg>\n");
  return g_string_free (svg.out, FALSE);
}
