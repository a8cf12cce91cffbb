/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* consent-event.c: the events a meeting hands to its recorder. */
#include "consent-event.h"

#include <string.h>

G_DEFINE_BOXED_TYPE (ConsentEvent, consent_event, consent_event_copy, consent_event_free)

/* The ledger's `type` values: a contract. */
static const char *const event_names[CONSENT_EVENT_N_TYPES] = {
  [CONSENT_EVENT_MEETING_UPDATED] = "meeting-updated",
  [CONSENT_EVENT_JOIN] = "join",
  [CONSENT_EVENT_LEAVE] = "leave",
  [CONSENT_EVENT_NOTICE_SHOWN] = "notice-shown",
  [CONSENT_EVENT_NOTICE_CHANGED] = "notice-changed",
  [CONSENT_EVENT_REQUEST] = "request",
  [CONSENT_EVENT_RECORDING_STOP] = "recording-stop",
  [CONSENT_EVENT_ACCEPT] = "accept",
  [CONSENT_EVENT_DECLINE] = "decline",
  [CONSENT_EVENT_WITHDRAW] = "withdraw",
  [CONSENT_EVENT_TIMEOUT] = "timeout",
  [CONSENT_EVENT_GATE_OPENED] = "gate-opened",
  [CONSENT_EVENT_GATE_CLOSED] = "gate-closed",
  [CONSENT_EVENT_SEGMENT] = "segment",
  [CONSENT_EVENT_MEETING_ENDED] = "meeting-ended",
};

const char *
consent_event_type_name (ConsentEventType type)
{
  if ((guint) type >= CONSENT_EVENT_N_TYPES)
    return NULL;
  return event_names[type];
}

gboolean
consent_event_type_from_name (const char *name, ConsentEventType *out)
{
  for (guint i = 0; name != NULL && i < CONSENT_EVENT_N_TYPES; i++) {
    if (strcmp (event_names[i], name) == 0) {
      if (out != NULL)
        *out = (ConsentEventType) i;
      return TRUE;
    }
  }
  return FALSE;
}

ConsentEvent *
consent_event_new (ConsentEventType type, const char *meeting)
{
  ConsentEvent *event = g_new0 (ConsentEvent, 1);

  event->type = type;
  event->meeting = g_strdup (meeting);
  return event;
}

ConsentEvent *
consent_event_copy (const ConsentEvent *event)
{
  ConsentEvent *copy;

  g_return_val_if_fail (event != NULL, NULL);
  copy = g_memdup2 (event, sizeof *event);
  copy->meeting = g_strdup (event->meeting);
  copy->participant = g_strdup (event->participant);
  copy->display_name = g_strdup (event->display_name);
  copy->role = g_strdup (event->role);
  copy->notice_version = g_strdup (event->notice_version);
  copy->notice_sha256 = g_strdup (event->notice_sha256);
  copy->request_id = g_strdup (event->request_id);
  copy->channel = g_strdup (event->channel);
  copy->client = g_strdup (event->client);
  copy->ip = g_strdup (event->ip);
  copy->actor = g_strdup (event->actor);
  copy->reason = g_strdup (event->reason);
  copy->authorized_by = g_strdupv (event->authorized_by);
  copy->present = g_strdupv (event->present);
  copy->details_json = g_strdup (event->details_json);
  return copy;
}

void
consent_event_free (ConsentEvent *event)
{
  if (event == NULL)
    return;
  g_free (event->meeting);
  g_free (event->participant);
  g_free (event->display_name);
  g_free (event->role);
  g_free (event->notice_version);
  g_free (event->notice_sha256);
  g_free (event->request_id);
  g_free (event->channel);
  g_free (event->client);
  g_free (event->ip);
  g_free (event->actor);
  g_free (event->reason);
  g_strfreev (event->authorized_by);
  g_strfreev (event->present);
  g_free (event->details_json);
  g_free (event);
}
