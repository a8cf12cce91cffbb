/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "consent-gate-event.h"

GstStructure *
consent_gate_structure_new (const ConsentGateInfo *info, gboolean with_source)
{
  static const char *const empty[] = {NULL};
  GstStructure *s = gst_structure_new (
      CONSENT_GATE_EVENT_NAME, "state", G_TYPE_STRING, info->open ? "open" : "closed",
      "running-time", G_TYPE_UINT64, (guint64) info->running_time, "reason", G_TYPE_STRING,
      info->reason ? info->reason : "", "epoch", G_TYPE_UINT64, info->epoch,
      "authorized-by", G_TYPE_STRV, info->authorized_by ? info->authorized_by : empty,
      "meeting", G_TYPE_STRING, info->meeting, "participant", G_TYPE_STRING,
      info->participant, "present", G_TYPE_STRV, info->present ? info->present : empty,
      "notice-version", G_TYPE_STRING, info->notice_version, NULL);
  if (with_source && info->source)
    gst_structure_set (s, "source", CONSENT_TYPE_SOURCE, info->source, NULL);
  return s;
}

GstEvent *
consent_gate_event_new (const ConsentGateInfo *info)
{
  return gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM,
                               consent_gate_structure_new (info, TRUE));
}

gboolean
consent_gate_event_parse (GstEvent *event, ConsentGateInfo *info)
{
  const GstStructure *s;
  const char *state;
  const GValue *v;

  if (GST_EVENT_TYPE (event) != GST_EVENT_CUSTOM_DOWNSTREAM)
    return FALSE;
  s = gst_event_get_structure (event);
  if (!s || !gst_structure_has_name (s, CONSENT_GATE_EVENT_NAME))
    return FALSE;

  memset (info, 0, sizeof *info);
  state = gst_structure_get_string (s, "state");
  info->open = g_strcmp0 (state, "open") == 0;
  gst_structure_get_uint64 (s, "running-time", &info->running_time);
  gst_structure_get_uint64 (s, "epoch", &info->epoch);
  info->reason = gst_structure_get_string (s, "reason");
  info->meeting = gst_structure_get_string (s, "meeting");
  info->participant = gst_structure_get_string (s, "participant");
  info->notice_version = gst_structure_get_string (s, "notice-version");
  if ((v = gst_structure_get_value (s, "authorized-by")) && G_VALUE_HOLDS (v, G_TYPE_STRV))
    info->authorized_by = g_value_get_boxed (v);
  if ((v = gst_structure_get_value (s, "present")) && G_VALUE_HOLDS (v, G_TYPE_STRV))
    info->present = g_value_get_boxed (v);
  if ((v = gst_structure_get_value (s, "source")) && G_VALUE_HOLDS (v, CONSENT_TYPE_SOURCE))
    info->source = g_value_get_object (v);
  return TRUE;
}
