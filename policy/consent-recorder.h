/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "consent-event.h"

G_BEGIN_DECLS

typedef struct _ConsentMeeting ConsentMeeting;

/**
 * ConsentRecorder:
 * The seam between the consent model and the ledger. A #ConsentMeeting hands
 * every event to submit(); the implementation makes it durable and then calls
 * consent_meeting_record_done() with the event's ticket and the ledger record
 * id (or an error), on the thread that owns the meeting, possibly from within
 * submit() itself. An accept counts only once its record is done.
 */
#define CONSENT_TYPE_RECORDER (consent_recorder_get_type ())
G_DECLARE_INTERFACE (ConsentRecorder, consent_recorder, CONSENT, RECORDER, GObject)

struct _ConsentRecorderInterface {
  GTypeInterface parent_iface;
  void (*submit) (ConsentRecorder *self, ConsentMeeting *meeting, const ConsentEvent *event);
};

void consent_recorder_submit (ConsentRecorder *self, ConsentMeeting *meeting,
                              const ConsentEvent *event);

/**
 * ConsentMemoryRecorder:
 * In-memory recorder for embedding and tests. With auto-ack (default TRUE)
 * each event is "durable" at once with record id "mem-<n>". Without it, events
 * wait until consent_memory_recorder_ack() / _fail() so tests can hold the
 * ledger back.
 */
#define CONSENT_TYPE_MEMORY_RECORDER (consent_memory_recorder_get_type ())
G_DECLARE_FINAL_TYPE (ConsentMemoryRecorder, consent_memory_recorder, CONSENT,
                      MEMORY_RECORDER, GObject)

ConsentMemoryRecorder *consent_memory_recorder_new (gboolean auto_ack);
/** consent_memory_recorder_ack: completes the oldest @n waiting events (0 = all); returns how many. */
guint consent_memory_recorder_ack (ConsentMemoryRecorder *self, guint n);
/** consent_memory_recorder_fail: fails the oldest waiting event with CONSENT_ERROR_LEDGER. */
gboolean consent_memory_recorder_fail (ConsentMemoryRecorder *self);
/** consent_memory_recorder_get_events: every event submitted so far, in order (transfer none). */
GPtrArray *consent_memory_recorder_get_events (ConsentMemoryRecorder *self);
guint consent_memory_recorder_n_waiting (ConsentMemoryRecorder *self);
/** consent_memory_recorder_set_auto_ack: switch between auto and manual acks. */
void consent_memory_recorder_set_auto_ack (ConsentMemoryRecorder *self, gboolean auto_ack);

G_END_DECLS
