/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The in-process ConsentSource: wraps a ConsentMeeting living in the same
 * process (consentgate's `meeting-object`, for embedding and tests). */
#include "consent-source.h"

#define CONSENT_TYPE_MEETING_SOURCE (consent_meeting_source_get_type ())
G_DECLARE_FINAL_TYPE (ConsentMeetingSource, consent_meeting_source, CONSENT,
                      MEETING_SOURCE, ConsentSource)

struct _ConsentMeetingSource {
  ConsentSource parent;
  ConsentMeeting *meeting;
  gulong handler;
};

G_DEFINE_FINAL_TYPE (ConsentMeetingSource, consent_meeting_source, CONSENT_TYPE_SOURCE)

static void
on_meeting_decision (ConsentMeeting *meeting, const char *participant,
                     ConsentGateDecision *decision, gpointer user_data)
{
  (void)meeting;
  consent_source_emit_decision (CONSENT_SOURCE (user_data), participant, decision);
}

static ConsentGateDecision *
meeting_source_get_decision (ConsentSource *source, const char *participant)
{
  ConsentMeetingSource *self = CONSENT_MEETING_SOURCE (source);

  return consent_meeting_get_decision (self->meeting, participant);
}

static const char *
meeting_source_get_meeting_id (ConsentSource *source)
{
  return consent_meeting_get_id (CONSENT_MEETING_SOURCE (source)->meeting);
}

static void
add_string_array (json_object *obj, const char *key, const char *const *strv)
{
  json_object *arr = json_object_new_array ();

  for (gsize i = 0; strv && strv[i]; i++)
    json_object_array_add (arr, json_object_new_string (strv[i]));
  json_object_object_add (obj, key, arr);
}

static void
add_string (json_object *obj, const char *key, const char *value)
{
  if (value)
    json_object_object_add (obj, key, json_object_new_string (value));
}

/* The segment record's details, as the meeting records them in the ledger. */
static char *
segment_report_to_json (const ConsentSegmentReport *r)
{
  g_autoptr (json_object) obj = json_object_new_object ();

  add_string (obj, "path", r->path);
  add_string (obj, "sha256", r->sha256);
  json_object_object_add (obj, "size", json_object_new_int64 ((gint64)r->size));
  json_object_object_add (obj, "epoch", json_object_new_int64 ((gint64)r->epoch));
  add_string (obj, "start", r->start_utc);
  add_string (obj, "end", r->end_utc);
  json_object_object_add (obj, "duration-ns",
                          json_object_new_int64 ((gint64)r->duration_ns));
  add_string_array (obj, "authorized-by", r->authorized_by);
  add_string_array (obj, "present", r->present);
  add_string (obj, "notice-version", r->notice_version);
  add_string (obj, "muxer", r->muxer);
  return consent_json_to_string (obj);
}

static gboolean
meeting_source_report_segment (ConsentSource *source, const ConsentSegmentReport *report,
                               GError **error)
{
  ConsentMeetingSource *self = CONSENT_MEETING_SOURCE (source);
  g_autofree char *details = segment_report_to_json (report);

  return consent_meeting_record_segment (self->meeting, details, error);
}

static void
consent_meeting_source_dispose (GObject *object)
{
  ConsentMeetingSource *self = CONSENT_MEETING_SOURCE (object);

  if (self->meeting) {
    g_clear_signal_handler (&self->handler, self->meeting);
    g_clear_object (&self->meeting);
  }
  G_OBJECT_CLASS (consent_meeting_source_parent_class)->dispose (object);
}

static void
consent_meeting_source_class_init (ConsentMeetingSourceClass *klass)
{
  ConsentSourceClass *source_class = CONSENT_SOURCE_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = consent_meeting_source_dispose;
  source_class->get_decision = meeting_source_get_decision;
  source_class->report_segment = meeting_source_report_segment;
  source_class->get_meeting_id = meeting_source_get_meeting_id;
}

static void
consent_meeting_source_init (ConsentMeetingSource *self)
{
  (void)self;
}

ConsentSource *
consent_source_new_for_meeting (ConsentMeeting *meeting)
{
  ConsentMeetingSource *self;

  g_return_val_if_fail (CONSENT_IS_MEETING (meeting), NULL);
  self = g_object_new (CONSENT_TYPE_MEETING_SOURCE, "allow-foreign-sinks",
                       consent_meeting_get_policy (meeting)->allow_foreign_sinks, NULL);
  self->meeting = g_object_ref (meeting);
  self->handler = g_signal_connect_object (meeting, "decision-changed",
                                           G_CALLBACK (on_meeting_decision), self, 0);
  return CONSENT_SOURCE (self);
}
