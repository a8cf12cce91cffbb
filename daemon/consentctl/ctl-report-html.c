/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-report-html.c: the self-contained HTML audit report of one meeting.
 *
 * No scripts, no external resources: an auditor files the one document. Every
 * string from the ledger is escaped (participant names are chosen by the
 * participants, that is by potential attackers).
 */
#include "ctl-report.h"
#include "consent-config.h"

#include <string.h>

char *
ctl_report_escape (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text != NULL ? text : "", -1);

  /* XML 1.0 has no way to carry C0 controls, not even as references. */
  for (char *p = valid; *p != '\0'; p++) {
    if ((guchar) *p < 0x20 && *p != '\n' && *p != '\t')
      *p = '?';
  }
  return g_markup_escape_text (valid, -1);
}

char *
ctl_report_format_time (gint64 ts_us)
{
  g_autoptr (GDateTime) time = g_date_time_new_from_unix_utc (ts_us / G_USEC_PER_SEC);
  g_autofree char *seconds = NULL;

  if (time == NULL)
    return g_strdup ("(invalid time)");
  seconds = g_date_time_format (time, "%Y-%m-%d %H:%M:%S");
  return g_strdup_printf ("%s.%06d UTC", seconds, (int) (ts_us % G_USEC_PER_SEC));
}

static const char *const css =
    "body{font:14px/1.45 sans-serif;color:#212121;margin:24px;max-width:1140px}"
    "h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}"
    "table{border-collapse:collapse;width:100%;font-size:12px}"
    "th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}"
    "th{background:#f5f5f5}code,.hash{font-family:monospace;font-size:11px;word-break:break-all}"
    ".notice{white-space:pre-wrap;border-left:4px solid #90caf9;padding:6px 10px;"
    "background:#f7fbff}.ok{color:#1b5e20;font-weight:bold}"
    ".bad{color:#b71c1c;font-weight:bold}.muted{color:#757575}"
    ".timeline svg{max-width:100%;height:auto}"
    "@media print{body{margin:0}h2{page-break-after:avoid}}";

/* Appends @text escaped, or @fallback (already HTML) when @text is NULL. */
static void
put (GString *out, const char *text, const char *fallback)
{
  g_autofree char *escaped = NULL;

  if (text == NULL) {
    g_string_append (out, fallback);
    return;
  }
  escaped = ctl_report_escape (text);
  g_string_append (out, escaped);
}

static void
put_time (GString *out, gint64 ts_us)
{
  g_autofree char *text = ctl_report_format_time (ts_us);

  g_string_append (out, text);
}

static const CtlLane *
lane_of (const CtlTimeline *timeline, const char *subject)
{
  return subject != NULL ? g_hash_table_lookup (timeline->lane_by_subject, subject) : NULL;
}

/* Who: the real name where the key store still has it, always the pseudonym. */
static void
put_who (GString *out, const CtlTimeline *timeline, const ConsentLedgerRecord *record)
{
  const CtlLane *lane = lane_of (timeline, record->subject);

  if (record->subject == NULL) {
    g_string_append (out, "<span class=\"muted\">meeting</span>");
    return;
  }
  if (lane != NULL && lane->display_name != NULL) {
    put (out, lane->display_name, "");
    g_string_append (out, "<br>");
  } else if (record->erased || (lane != NULL && lane->erased)) {
    g_string_append (out, "<span class=\"muted\">(erased)</span><br>");
  }
  g_string_append (out, "<code>");
  put (out, record->subject, "");
  g_string_append (out, "</code>");
}

static void
header_section (GString *out, const CtlTimeline *timeline, const CtlReportContext *context)
{
  g_string_append (out, "<h1>Consent report: meeting <code>");
  put (out, timeline->meeting, "");
  g_string_append (out, "</code></h1>\n<table>\n<tr><th>Meeting</th><td><code>");
  put (out, timeline->meeting, "");
  g_string_append (out, "</code></td></tr>\n<tr><th>First record</th><td>");
  put_time (out, timeline->first_us);
  g_string_append_printf (out, " (seq %" G_GUINT64_FORMAT ")</td></tr>\n<tr><th>Last record</th><td>",
                          timeline->first_seq);
  put_time (out, timeline->last_us);
  g_string_append_printf (out, " (seq %" G_GUINT64_FORMAT ")%s</td></tr>\n", timeline->last_seq,
                          timeline->ended ? ", meeting ended" : ", meeting not ended");
  g_string_append (out, "<tr><th>Ledger</th><td><code>");
  put (out, context->ledger_dir, "");
  g_string_append (out, "</code></td></tr>\n<tr><th>Generated</th><td>");
  put_time (out, context->generated_us);
  g_string_append (out, " by consentctl " CONSENT_VERSION "</td></tr>\n</table>\n");
}

static void
notice_section (GString *out, const CtlTimeline *timeline)
{
  g_string_append (out, "<h2>Notice shown</h2>\n");
  if (timeline->notices->len == 0)
    g_string_append (out, "<p class=\"muted\">No record of this meeting names a notice.</p>\n");
  for (guint i = 0; i < timeline->notices->len; i++) {
    const CtlNoticeSeen *notice = g_ptr_array_index (timeline->notices, i);

    g_string_append (out, "<p>Version <b>");
    put (out, notice->version, "(none)");
    g_string_append (out, "</b>, sha256 <span class=\"hash\">");
    put (out, notice->sha256, "(none)");
    g_string_append_printf (out, "</span>, first named by record %" G_GUINT64_FORMAT ".</p>\n",
                            notice->first_seq);
    if (notice->text != NULL) {
      g_string_append (out, "<div class=\"notice\">");
      put (out, notice->text, "");
      g_string_append (out, "</div>\n");
    } else {
      g_string_append (out, "<p class=\"muted\">The text of this version is not in the ledger "
                            "and the current policy's notice has another version or hash.</p>\n");
    }
  }
}

static void
participants_section (GString *out, const CtlTimeline *timeline)
{
  g_string_append (out, "<h2>Participants</h2>\n<table>\n<tr><th>Pseudonym (subject)</th>"
                        "<th>Name</th><th>Participant id</th><th>Role</th>"
                        "<th>Last answer</th><th>Erased</th></tr>\n");
  for (guint i = 0; i < timeline->lanes->len; i++) {
    const CtlLane *lane = g_ptr_array_index (timeline->lanes, i);
    const char *gone = lane->erased ? "<span class=\"muted\">(erased)</span>"
                                    : "<span class=\"muted\">(not recorded)</span>";

    g_string_append (out, "<tr><td><code>");
    put (out, lane->subject, "");
    g_string_append (out, "</code></td><td>");
    put (out, lane->display_name, gone);
    g_string_append (out, "</td><td><code>");
    put (out, lane->participant, gone);
    g_string_append (out, "</code></td><td>");
    put (out, lane->role, "");
    g_string_append_printf (out, "</td><td>%s</td><td>%s</td></tr>\n",
                            ctl_lane_state_name (lane->answer), lane->erased ? "yes" : "no");
  }
  g_string_append (out, "</table>\n");
}

static void
timeline_section (GString *out, const CtlTimeline *timeline)
{
  g_autofree char *svg = ctl_report_svg (timeline);

  g_string_append (out, "<h2>Timeline</h2>\n<div class=\"timeline\">\n");
  g_string_append (out, svg);
  g_string_append (out, "</div>\n<p class=\"muted\">Lanes show each participant while present, "
                        "coloured by their standing answer as recorded in the ledger; hover a "
                        "bar for exact times. Times are UTC.</p>\n");
}

static void
segments_section (GString *out, const CtlTimeline *timeline)
{
  g_string_append (out, "<h2>Recorded segments</h2>\n");
  if (timeline->segments->len == 0) {
    g_string_append (out, "<p class=\"muted\">No segment was recorded.</p>\n");
    return;
  }
  g_string_append (out, "<table>\n<tr><th>#</th><th>File</th><th>sha256</th><th>Size</th>"
                        "<th>Start</th><th>End</th><th>Epoch</th><th>Authorized by</th>"
                        "<th>Record</th></tr>\n");
  for (guint i = 0; i < timeline->segments->len; i++) {
    const CtlSegment *segment = &g_array_index (timeline->segments, CtlSegment, i);

    g_string_append_printf (out, "<tr><td>%u</td><td><code>", i + 1);
    put (out, segment->path, "(unknown)");
    g_string_append (out, "</code></td><td class=\"hash\">");
    put (out, segment->sha256, "(unknown)");
    g_string_append_printf (out, "</td><td>%" G_GUINT64_FORMAT "</td><td>", segment->size);
    put_time (out, segment->start_us);
    g_string_append (out, "</td><td>");
    put_time (out, segment->end_us);
    g_string_append (out, "</td><td>");
    if (segment->has_epoch)
      g_string_append_printf (out, "%" G_GUINT64_FORMAT, segment->epoch);
    g_string_append (out, "</td><td>");
    put (out, segment->authorized_by, "");
    g_string_append_printf (out, "</td><td>%" G_GUINT64_FORMAT "</td></tr>\n", segment->seq);
  }
  g_string_append (out, "</table>\n");
}

static void
put_details (GString *out, const ConsentLedgerRecord *record)
{
  if (record->reason != NULL) {
    g_string_append (out, "reason: ");
    put (out, record->reason, "");
    g_string_append (out, "<br>");
  }
  if (record->has_epoch)
    g_string_append_printf (out, "epoch: %" G_GUINT64_FORMAT "<br>", record->epoch);
  if (record->request_id != NULL) {
    g_string_append (out, "request: ");
    put (out, record->request_id, "");
    g_string_append (out, "<br>");
  }
  if (record->authorized_by != NULL) {
    g_autofree char *ids = g_strjoinv (", ", record->authorized_by);

    g_string_append (out, "authorized by records: ");
    put (out, ids, "");
    g_string_append (out, "<br>");
  }
  if (record->present != NULL)
    g_string_append_printf (out, "present: %u<br>", g_strv_length (record->present));
  if (record->details_json != NULL) {
    g_string_append (out, "<code>");
    put (out, record->details_json, "");
    g_string_append (out, "</code>");
  }
}

static void
event_row (GString *out, const CtlTimeline *timeline, const ConsentLedgerRecord *record)
{
  g_string_append_printf (out, "<tr id=\"r%" G_GUINT64_FORMAT "\"><td>%" G_GUINT64_FORMAT
                               "</td><td>",
                          record->seq, record->seq);
  put_time (out, record->ts_us);
  g_string_append (out, "</td><td>");
  put (out, record->type, "");
  g_string_append (out, "</td><td>");
  put_who (out, timeline, record);
  g_string_append (out, "</td><td>");
  put (out, record->notice_version, "");
  g_string_append (out, "</td><td>");
  put (out, record->channel, "");
  g_string_append (out, record->channel != NULL && record->actor != NULL ? " / " : "");
  put (out, record->actor, "");
  g_string_append (out, "</td><td>");
  put_details (out, record);
  g_string_append (out, "</td><td class=\"hash\">");
  put (out, record->hash, "");
  g_string_append (out, "</td></tr>\n");
}

static void
events_section (GString *out, const CtlTimeline *timeline, const GPtrArray *records,
                const char *title)
{
  g_string_append_printf (out, "<h2>%s</h2>\n", title);
  g_string_append (out, "<table class=\"events\">\n<tr><th>Seq</th><th>Time (UTC)</th>"
                        "<th>Event</th><th>Who</th><th>Notice</th><th>How</th>"
                        "<th>Details</th><th>Record hash</th></tr>\n");
  for (guint i = 0; i < records->len; i++)
    event_row (out, timeline, g_ptr_array_index (records, i));
  g_string_append (out, "</table>\n");
}

static void
verification_section (GString *out, const CtlTimeline *timeline, const CtlReportContext *context)
{
  const ConsentLedgerVerifyResult *result = context->verify;

  g_string_append_printf (out, "<h2>Verification</h2>\n<p>This report draws on records %"
                               G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT
                               " of the ledger. The whole ledger was verified:</p>\n<p id=\"verification\">",
                          timeline->first_seq, timeline->last_seq);
  if (!context->verify_ok) {
    g_string_append (out, "<span class=\"bad\">NOT VERIFIED</span>: ");
    put (out, context->verify_error, "");
  } else if (result->intact) {
    g_string_append_printf (out, "<span class=\"ok\">INTACT</span>: %" G_GUINT64_FORMAT
                                 " records in %u segments, %u signed checkpoints checked; seals "
                                 "%s.",
                            result->n_records, result->n_segments, result->n_checkpoints,
                            result->seals_checked ? "checked with the initial seal key"
                                                  : "NOT checked (no seal key given)");
    if (result->last_hash != NULL) {
      g_string_append (out, " Last hash <span class=\"hash\">");
      put (out, result->last_hash, "");
      g_string_append (out, "</span>.");
    }
  } else {
    g_string_append (out, "<span class=\"bad\">TAMPERING OR INCONSISTENCY</span>: ");
    put (out, result->bad_file, "");
    if (result->bad_line > 0)
      g_string_append_printf (out, " line %u", result->bad_line);
    if (result->bad_has_seq)
      g_string_append_printf (out, " (seq %" G_GUINT64_FORMAT ")", result->bad_seq);
    g_string_append (out, ": ");
    put (out, result->bad_reason, "");
  }
  g_string_append (out, "</p>\n");
  if (context->read_error != NULL) {
    /* A record that could not be read is a finding of its own: the report stops there. */
    g_string_append (out, "<p id=\"read-error\"><span class=\"bad\">INCOMPLETE</span>: the "
                          "ledger could not be read past a bad record, so this report lists "
                          "only what came before it: ");
    put (out, context->read_error, "");
    g_string_append (out, "</p>\n");
  }
}

char *
ctl_report_html (const CtlTimeline *timeline, const CtlReportContext *context)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autofree char *meeting = ctl_report_escape (timeline->meeting);

  g_string_append_printf (out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                               "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                               "'none'; style-src 'unsafe-inline'\">\n"
                               "<title>Consent report: %s</title>\n<style>%s</style>\n</head>\n<body>\n",
                          meeting, css);
  header_section (out, timeline, context);
  notice_section (out, timeline);
  participants_section (out, timeline);
  timeline_section (out, timeline);
  segments_section (out, timeline);
  events_section (out, timeline, timeline->records, "Events");
  if (timeline->erasures->len > 0)
    events_section (out, timeline, timeline->erasures, "Erasures");
  verification_section (out, timeline, context);
  g_string_append (out, "</body>\n</html>\n");
  return g_string_free (g_steal_pointer (&out), FALSE);
}
