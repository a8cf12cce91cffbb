/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-report-json.c: the derived timeline as JSON (`audit report --format
 * json`): what scripts and the golden tests read instead of parsing HTML.
 * Times are given both as ISO 8601 UTC and as integer microseconds.
 */
#include "ctl-report.h"
#include "consent-json.h"

static json_object *
json_time (gint64 ts_us)
{
  g_autoptr (GDateTime) time = g_date_time_new_from_unix_utc (ts_us / G_USEC_PER_SEC);
  g_autofree char *seconds = time != NULL ? g_date_time_format (time, "%Y-%m-%dT%H:%M:%S") : NULL;
  g_autofree char *text = NULL;

  if (seconds == NULL)
    return NULL;
  text = g_strdup_printf ("%s.%06dZ", seconds, (int) (ts_us % G_USEC_PER_SEC));
  return json_object_new_string (text);
}

static void
add_string (json_object *obj, const char *key, const char *value)
{
  json_object_object_add (obj, key, value != NULL ? json_object_new_string (value) : NULL);
}

static json_object *
intervals_json (const GArray *intervals, gboolean with_state)
{
  json_object *array = json_object_new_array ();

  for (guint i = 0; i < intervals->len; i++) {
    const CtlInterval *in = &g_array_index (intervals, CtlInterval, i);
    json_object *item = json_object_new_object ();

    if (with_state)
      add_string (item, "state", ctl_lane_state_name (in->state));
    json_object_object_add (item, "start", json_time (in->start_us));
    json_object_object_add (item, "end", json_time (in->end_us));
    json_object_object_add (item, "start_us", json_object_new_int64 (in->start_us));
    json_object_object_add (item, "end_us", json_object_new_int64 (in->end_us));
    json_object_object_add (item, "start_seq", json_object_new_uint64 (in->start_seq));
    json_object_object_add (item, "open_end", json_object_new_boolean (in->open_end));
    json_object_array_add (array, item);
  }
  return array;
}

static json_object *
lanes_json (const CtlTimeline *timeline)
{
  json_object *array = json_object_new_array ();

  for (guint i = 0; i < timeline->lanes->len; i++) {
    const CtlLane *lane = g_ptr_array_index (timeline->lanes, i);
    json_object *item = json_object_new_object ();

    add_string (item, "subject", lane->subject);
    add_string (item, "participant", lane->participant);
    add_string (item, "display_name", lane->display_name);
    add_string (item, "role", lane->role);
    json_object_object_add (item, "erased", json_object_new_boolean (lane->erased));
    add_string (item, "answer", ctl_lane_state_name (lane->answer));
    json_object_object_add (item, "intervals", intervals_json (lane->intervals, TRUE));
    json_object_object_add (item, "gate", intervals_json (lane->gate, FALSE));
    json_object_array_add (array, item);
  }
  return array;
}

static json_object *
segments_json (const CtlTimeline *timeline)
{
  json_object *array = json_object_new_array ();

  for (guint i = 0; i < timeline->segments->len; i++) {
    const CtlSegment *segment = &g_array_index (timeline->segments, CtlSegment, i);
    json_object *item = json_object_new_object ();

    json_object_object_add (item, "seq", json_object_new_uint64 (segment->seq));
    add_string (item, "path", segment->path);
    add_string (item, "sha256", segment->sha256);
    json_object_object_add (item, "size", json_object_new_uint64 (segment->size));
    json_object_object_add (item, "start_us", json_object_new_int64 (segment->start_us));
    json_object_object_add (item, "end_us", json_object_new_int64 (segment->end_us));
    json_object_object_add (item, "epoch",
                            segment->has_epoch ? json_object_new_uint64 (segment->epoch) : NULL);
    add_string (item, "authorized_by", segment->authorized_by);
    json_object_array_add (array, item);
  }
  return array;
}

static json_object *
records_json (const GPtrArray *records)
{
  json_object *array = json_object_new_array ();

  for (guint i = 0; i < records->len; i++) {
    const ConsentLedgerRecord *record = g_ptr_array_index (records, i);
    json_object *item = json_object_new_object ();

    json_object_object_add (item, "seq", json_object_new_uint64 (record->seq));
    json_object_object_add (item, "ts_us", json_object_new_int64 (record->ts_us));
    add_string (item, "type", record->type);
    add_string (item, "subject", record->subject);
    add_string (item, "hash", record->hash);
    json_object_array_add (array, item);
  }
  return array;
}

static json_object *
notices_json (const CtlTimeline *timeline)
{
  json_object *array = json_object_new_array ();

  for (guint i = 0; i < timeline->notices->len; i++) {
    const CtlNoticeSeen *notice = g_ptr_array_index (timeline->notices, i);
    json_object *item = json_object_new_object ();

    add_string (item, "version", notice->version);
    add_string (item, "sha256", notice->sha256);
    json_object_object_add (item, "first_seq", json_object_new_uint64 (notice->first_seq));
    add_string (item, "text", notice->text);
    json_object_array_add (array, item);
  }
  return array;
}

json_object *
ctl_report_verification_json (const CtlReportContext *context)
{
  const ConsentLedgerVerifyResult *result = context->verify;
  json_object *item = json_object_new_object ();

  json_object_object_add (item, "ran", json_object_new_boolean (context->verify_ok));
  add_string (item, "error", context->verify_error);
  add_string (item, "read_error", context->read_error);
  if (!context->verify_ok)
    return item;
  json_object_object_add (item, "intact", json_object_new_boolean (result->intact));
  json_object_object_add (item, "seals_checked", json_object_new_boolean (result->seals_checked));
  json_object_object_add (item, "records", json_object_new_uint64 (result->n_records));
  json_object_object_add (item, "segments", json_object_new_int64 (result->n_segments));
  json_object_object_add (item, "checkpoints", json_object_new_int64 (result->n_checkpoints));
  add_string (item, "last_hash", result->last_hash);
  add_string (item, "bad_file", result->bad_file);
  if (result->bad_line > 0)
    json_object_object_add (item, "bad_line", json_object_new_int64 (result->bad_line));
  if (result->bad_has_seq)
    json_object_object_add (item, "bad_seq", json_object_new_uint64 (result->bad_seq));
  add_string (item, "bad_reason", result->bad_reason);
  return item;
}

char *
ctl_report_json (const CtlTimeline *timeline, const CtlReportContext *context)
{
  g_autoptr (json_object) root = json_object_new_object ();

  add_string (root, "meeting", timeline->meeting);
  json_object_object_add (root, "first_seq", json_object_new_uint64 (timeline->first_seq));
  json_object_object_add (root, "last_seq", json_object_new_uint64 (timeline->last_seq));
  json_object_object_add (root, "first_us", json_object_new_int64 (timeline->first_us));
  json_object_object_add (root, "last_us", json_object_new_int64 (timeline->last_us));
  json_object_object_add (root, "ended", json_object_new_boolean (timeline->ended));
  json_object_object_add (root, "notices", notices_json (timeline));
  json_object_object_add (root, "lanes", lanes_json (timeline));
  json_object_object_add (root, "requested", intervals_json (timeline->requested, FALSE));
  json_object_object_add (root, "gate", intervals_json (timeline->gate, FALSE));
  json_object_object_add (root, "segments", segments_json (timeline));
  json_object_object_add (root, "events", records_json (timeline->records));
  json_object_object_add (root, "erasures", records_json (timeline->erasures));
  json_object_object_add (root, "verification", ctl_report_verification_json (context));
  return g_strdup_printf ("%s\n", json_object_to_json_string_ext (root, JSON_C_TO_STRING_PRETTY |
                                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
}
