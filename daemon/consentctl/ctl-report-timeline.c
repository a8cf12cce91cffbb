/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-report-timeline.c: derives the report's lanes and intervals from the
 * ledger records of one meeting. Pure: no I/O.
 *
 * Each participant has a presence (join … leave) and a standing answer. The
 * answer survives a leave and rejoin (what a rejoining person is shown with
 * until their next recorded answer); a new recording request turns every
 * answer but an acceptance into "pending", a stop of the request turns
 * "pending" back into "present", and a changed notice makes acceptances
 * pending again (they were given for another text). Nothing is inferred
 * beyond what the records say: silence stays "pending", never consent.
 */
#include "ctl-report.h"
#include "consent-json.h"

#include <string.h>

static const char *const lane_state_names[CTL_LANE_N_STATES] = {
  "present", "pending", "accepted", "declined", "withdrawn",
};

const char *
ctl_lane_state_name (CtlLaneState state)
{
  g_return_val_if_fail (state < CTL_LANE_N_STATES, "unknown");
  return lane_state_names[state];
}

static void
lane_free (CtlLane *lane)
{
  g_free (lane->subject);
  g_free (lane->participant);
  g_free (lane->display_name);
  g_free (lane->role);
  g_array_unref (lane->intervals);
  g_array_unref (lane->gate);
  g_free (lane);
}

static void
segment_clear (CtlSegment *segment)
{
  g_free (segment->path);
  g_free (segment->sha256);
  g_free (segment->authorized_by);
}

static void
notice_seen_free (CtlNoticeSeen *notice)
{
  g_free (notice->version);
  g_free (notice->sha256);
  g_free (notice->text);
  g_free (notice);
}

CtlTimeline *
ctl_timeline_new (const char *meeting)
{
  CtlTimeline *timeline = g_new0 (CtlTimeline, 1);

  timeline->meeting = g_strdup (meeting);
  timeline->records = g_ptr_array_new_with_free_func ((GDestroyNotify) consent_ledger_record_free);
  timeline->erasures = g_ptr_array_new ();
  timeline->all_erasures =
      g_ptr_array_new_with_free_func ((GDestroyNotify) consent_ledger_record_free);
  timeline->lanes = g_ptr_array_new_with_free_func ((GDestroyNotify) lane_free);
  timeline->lane_by_subject = g_hash_table_new (g_str_hash, g_str_equal);
  timeline->gate = g_array_new (FALSE, TRUE, sizeof (CtlInterval));
  timeline->requested = g_array_new (FALSE, TRUE, sizeof (CtlInterval));
  timeline->segments = g_array_new (FALSE, TRUE, sizeof (CtlSegment));
  g_array_set_clear_func (timeline->segments, (GDestroyNotify) segment_clear);
  timeline->notices = g_ptr_array_new_with_free_func ((GDestroyNotify) notice_seen_free);
  return timeline;
}

void
ctl_timeline_free (CtlTimeline *timeline)
{
  if (timeline == NULL)
    return;
  g_free (timeline->meeting);
  g_hash_table_unref (timeline->lane_by_subject);
  g_ptr_array_unref (timeline->lanes);
  g_ptr_array_unref (timeline->erasures);
  g_ptr_array_unref (timeline->all_erasures);
  g_ptr_array_unref (timeline->records);
  g_array_unref (timeline->gate);
  g_array_unref (timeline->requested);
  g_array_unref (timeline->segments);
  g_ptr_array_unref (timeline->notices);
  g_free (timeline);
}

static CtlLane *
lane_for (CtlTimeline *timeline, const ConsentLedgerRecord *record)
{
  CtlLane *lane = g_hash_table_lookup (timeline->lane_by_subject, record->subject);

  if (lane == NULL) {
    lane = g_new0 (CtlLane, 1);
    lane->subject = g_strdup (record->subject);
    lane->intervals = g_array_new (FALSE, TRUE, sizeof (CtlInterval));
    lane->gate = g_array_new (FALSE, TRUE, sizeof (CtlInterval));
    lane->answer = CTL_LANE_PRESENT;
    g_ptr_array_add (timeline->lanes, lane);
    g_hash_table_insert (timeline->lane_by_subject, lane->subject, lane);
  }
  /* Keep what the key store could decrypt; any erased record marks the lane. */
  if (record->pd_readable) {
    if (lane->participant == NULL && record->participant != NULL)
      lane->participant = g_strdup (record->participant);
    if (record->display_name != NULL) {
      g_free (lane->display_name);
      lane->display_name = g_strdup (record->display_name);
    }
  }
  if (record->erased)
    lane->erased = TRUE;
  if (record->role != NULL && lane->role == NULL)
    lane->role = g_strdup (record->role);
  return lane;
}

static void
interval_open (GArray *intervals, gint64 ts_us, gint state, guint64 seq)
{
  CtlInterval interval = {.start_us = ts_us, .end_us = ts_us, .state = state, .start_seq = seq};

  g_array_append_val (intervals, interval);
}

static void
interval_close (GArray *intervals, gint64 ts_us, gboolean open_end)
{
  CtlInterval *last;

  g_return_if_fail (intervals->len > 0);
  last = &g_array_index (intervals, CtlInterval, intervals->len - 1);
  last->end_us = MAX (ts_us, last->start_us);
  last->open_end = open_end;
}

/* Moves a lane to (@present, @answer), cutting an interval when what is drawn changes. */
static void
lane_set (CtlLane *lane, gboolean present, CtlLaneState answer, gint64 ts_us, guint64 seq)
{
  if (lane->present == present && (lane->answer == answer || !present)) {
    lane->answer = answer;
    return;
  }
  if (lane->present)
    interval_close (lane->intervals, ts_us, FALSE);
  if (present)
    interval_open (lane->intervals, ts_us, answer, seq);
  lane->present = present;
  lane->answer = answer;
}

static void
apply_request (CtlTimeline *timeline, const ConsentLedgerRecord *record, gboolean active)
{
  for (guint i = 0; i < timeline->lanes->len; i++) {
    CtlLane *lane = g_ptr_array_index (timeline->lanes, i);
    CtlLaneState answer = lane->answer;

    if (active && answer != CTL_LANE_ACCEPTED)
      answer = CTL_LANE_PENDING;
    else if (!active && answer == CTL_LANE_PENDING)
      answer = CTL_LANE_PRESENT;
    lane_set (lane, lane->present, answer, record->ts_us, record->seq);
  }
  if (active && !timeline->request_active)
    interval_open (timeline->requested, record->ts_us, 0, record->seq);
  else if (!active && timeline->request_active)
    interval_close (timeline->requested, record->ts_us, FALSE);
  timeline->request_active = active;
}

static void
apply_notice_changed (CtlTimeline *timeline, const ConsentLedgerRecord *record)
{
  CtlLaneState again = timeline->request_active ? CTL_LANE_PENDING : CTL_LANE_PRESENT;

  for (guint i = 0; i < timeline->lanes->len; i++) {
    CtlLane *lane = g_ptr_array_index (timeline->lanes, i);

    if (lane->answer == CTL_LANE_ACCEPTED)
      lane_set (lane, lane->present, again, record->ts_us, record->seq);
  }
}

/* The meeting's gate, or (per-participant scope) one participant's own gate. */
static void
apply_gate (CtlTimeline *timeline, const ConsentLedgerRecord *record, gboolean open)
{
  GArray *gate = timeline->gate;
  gboolean *is_open = &timeline->gate_open;

  if (record->subject != NULL) {
    CtlLane *lane = lane_for (timeline, record);

    gate = lane->gate;
    is_open = &lane->gate_open;
  }
  if (open && !*is_open)
    interval_open (gate, record->ts_us, 0, record->seq);
  else if (!open && *is_open)
    interval_close (gate, record->ts_us, FALSE);
  *is_open = open;
}

static gboolean
json_time (json_object *details, const char *key, gint64 *out_us)
{
  const char *text = NULL;
  g_autoptr (GDateTime) time = NULL;

  if (!consent_json_get_string (details, key, FALSE, &text, NULL) || text == NULL)
    return FALSE;
  time = g_date_time_new_from_iso8601 (text, NULL);
  if (time == NULL)
    return FALSE;
  *out_us = g_date_time_to_unix (time) * G_USEC_PER_SEC + g_date_time_get_microsecond (time);
  return TRUE;
}

/* A `segment` record's facts live in its details object (the recorder's report). */
static void
apply_segment (CtlTimeline *timeline, const ConsentLedgerRecord *record)
{
  g_autoptr (json_object) details = NULL;
  CtlSegment segment = {.seq = record->seq, .start_us = record->ts_us, .end_us = record->ts_us};
  const char *text = NULL;
  gint64 number = 0;
  json_object *list = NULL;

  segment.has_epoch = record->has_epoch;
  segment.epoch = record->epoch;
  if (record->details_json != NULL)
    details = consent_json_parse_strict (record->details_json, strlen (record->details_json),
                                         CONSENT_LEDGER_MAX_RECORD_BYTES, 8, NULL);
  if (details != NULL && json_object_is_type (details, json_type_object)) {
    if (consent_json_get_string (details, "path", FALSE, &text, NULL) && text != NULL)
      segment.path = g_strdup (text);
    text = NULL;
    if (consent_json_get_string (details, "sha256", FALSE, &text, NULL) && text != NULL)
      segment.sha256 = g_strdup (text);
    if (consent_json_get_int64 (details, "size", FALSE, 0, G_MAXINT64, &number, NULL))
      segment.size = (guint64) number;
    if (!segment.has_epoch && json_object_object_get_ex (details, "epoch", NULL) &&
        consent_json_get_int64 (details, "epoch", TRUE, 0, G_MAXINT64, &number, NULL)) {
      segment.has_epoch = TRUE;
      segment.epoch = (guint64) number;
    }
    if (!json_time (details, "start", &segment.start_us))
      json_time (details, "start_utc", &segment.start_us);
    if (!json_time (details, "end", &segment.end_us))
      json_time (details, "end_utc", &segment.end_us);
    if (json_object_object_get_ex (details, "authorized-by", &list) &&
        json_object_is_type (list, json_type_array)) {
      g_autoptr (GString) ids = g_string_new (NULL);

      for (gsize i = 0; i < json_object_array_length (list); i++) {
        json_object *item = json_object_array_get_idx (list, i);

        g_string_append_printf (ids, "%s%s", i > 0 ? "," : "", json_object_get_string (item));
      }
      segment.authorized_by = g_string_free (g_steal_pointer (&ids), FALSE);
    }
  }
  if (segment.authorized_by == NULL && record->authorized_by != NULL)
    segment.authorized_by = g_strjoinv (",", record->authorized_by);
  if (segment.end_us < segment.start_us)
    segment.end_us = segment.start_us;
  g_array_append_val (timeline->segments, segment);
}

static void
note_notice (CtlTimeline *timeline, const ConsentLedgerRecord *record)
{
  g_autoptr (json_object) details = NULL;
  const char *text = NULL;
  CtlNoticeSeen *seen;

  if (record->notice_version == NULL && record->notice_sha256 == NULL)
    return;
  for (guint i = 0; i < timeline->notices->len; i++) {
    seen = g_ptr_array_index (timeline->notices, i);
    if (g_strcmp0 (seen->version, record->notice_version) == 0 &&
        g_strcmp0 (seen->sha256, record->notice_sha256) == 0)
      return;
  }
  seen = g_new0 (CtlNoticeSeen, 1);
  seen->version = g_strdup (record->notice_version);
  seen->sha256 = g_strdup (record->notice_sha256);
  seen->first_seq = record->seq;
  if (record->details_json != NULL)
    details = consent_json_parse_strict (record->details_json, strlen (record->details_json),
                                         CONSENT_LEDGER_MAX_RECORD_BYTES, 8, NULL);
  if (details != NULL && json_object_is_type (details, json_type_object) &&
      consent_json_get_string (details, "text", FALSE, &text, NULL) && text != NULL)
    seen->text = g_strdup (text);
  g_ptr_array_add (timeline->notices, seen);
}

static void
apply_participant_event (CtlTimeline *timeline, const ConsentLedgerRecord *record)
{
  CtlLane *lane = lane_for (timeline, record);
  const char *type = record->type;
  CtlLaneState answer = lane->answer;
  gboolean present = lane->present;

  if (strcmp (type, "join") == 0) {
    present = TRUE;
    if (timeline->request_active && answer == CTL_LANE_PRESENT)
      answer = CTL_LANE_PENDING;
  } else if (strcmp (type, "leave") == 0) {
    present = FALSE;
  } else if (strcmp (type, "accept") == 0) {
    answer = CTL_LANE_ACCEPTED;
  } else if (strcmp (type, "decline") == 0 || strcmp (type, "timeout") == 0) {
    answer = CTL_LANE_DECLINED;
  } else if (strcmp (type, "withdraw") == 0) {
    answer = CTL_LANE_WITHDRAWN;
  } else {
    return; /* notice-shown and the like: listed, not drawn */
  }
  lane_set (lane, present, answer, record->ts_us, record->seq);
}

static void
apply_record (CtlTimeline *timeline, const ConsentLedgerRecord *record)
{
  const char *type = record->type;

  note_notice (timeline, record);
  if (strcmp (type, "gate-opened") == 0)
    apply_gate (timeline, record, TRUE);
  else if (strcmp (type, "gate-closed") == 0)
    apply_gate (timeline, record, FALSE);
  else if (strcmp (type, "segment") == 0)
    apply_segment (timeline, record);
  else if (strcmp (type, "request") == 0)
    apply_request (timeline, record, TRUE);
  else if (strcmp (type, "recording-stop") == 0)
    apply_request (timeline, record, FALSE);
  else if (strcmp (type, "notice-changed") == 0)
    apply_notice_changed (timeline, record);
  else if (strcmp (type, "meeting-ended") == 0)
    timeline->ended = TRUE;
  else if (record->subject != NULL)
    apply_participant_event (timeline, record);
}

void
ctl_timeline_add_record (CtlTimeline *timeline, ConsentLedgerRecord *record)
{
  if (g_strcmp0 (record->type, "erase") == 0) {
    g_ptr_array_add (timeline->all_erasures, record);
    return;
  }
  if (g_strcmp0 (record->meeting, timeline->meeting) != 0) {
    consent_ledger_record_free (record);
    return;
  }
  if (timeline->records->len == 0) {
    timeline->first_us = record->ts_us;
    timeline->first_seq = record->seq;
  }
  timeline->last_us = MAX (timeline->last_us, record->ts_us);
  timeline->last_seq = record->seq;
  g_ptr_array_add (timeline->records, record);
  if (!timeline->ended)
    apply_record (timeline, record);
}

static void
close_open_intervals (CtlTimeline *timeline)
{
  gint64 end = timeline->last_us;
  gboolean open_end = !timeline->ended;

  for (guint i = 0; i < timeline->lanes->len; i++) {
    CtlLane *lane = g_ptr_array_index (timeline->lanes, i);

    if (lane->present)
      interval_close (lane->intervals, end, open_end);
    if (lane->gate_open)
      interval_close (lane->gate, end, open_end);
  }
  if (timeline->gate_open)
    interval_close (timeline->gate, end, open_end);
  if (timeline->request_active)
    interval_close (timeline->requested, end, open_end);
}

static void
keep_erasures_of_lanes (CtlTimeline *timeline)
{
  for (guint i = 0; i < timeline->all_erasures->len; i++) {
    ConsentLedgerRecord *record = g_ptr_array_index (timeline->all_erasures, i);
    CtlLane *lane = record->subject != NULL
                        ? g_hash_table_lookup (timeline->lane_by_subject, record->subject)
                        : NULL;

    if (lane != NULL)
      g_ptr_array_add (timeline->erasures, record);
  }
}

gboolean
ctl_timeline_finish (CtlTimeline *timeline, const ConsentNotice *policy_notice)
{
  if (timeline->records->len == 0)
    return FALSE;
  close_open_intervals (timeline);
  keep_erasures_of_lanes (timeline);
  for (guint i = 0; policy_notice != NULL && i < timeline->notices->len; i++) {
    CtlNoticeSeen *seen = g_ptr_array_index (timeline->notices, i);

    if (seen->text == NULL && g_strcmp0 (seen->version, policy_notice->version) == 0 &&
        g_strcmp0 (seen->sha256, policy_notice->sha256) == 0)
      seen->text = g_strdup (policy_notice->text);
  }
  return TRUE;
}
