/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* consent-recorder.c: the recorder interface and the in-memory recorder. */
#include "consent-recorder.h"
#include "consent-meeting.h"

G_DEFINE_INTERFACE (ConsentRecorder, consent_recorder, G_TYPE_OBJECT)

static void
consent_recorder_default_init (ConsentRecorderInterface *iface)
{
}

void
consent_recorder_submit (ConsentRecorder *self, ConsentMeeting *meeting, const ConsentEvent *event)
{
  ConsentRecorderInterface *iface;

  g_return_if_fail (CONSENT_IS_RECORDER (self));
  iface = CONSENT_RECORDER_GET_IFACE (self);
  g_return_if_fail (iface->submit != NULL);
  iface->submit (self, meeting, event);
}

/* A submitted event waiting for its (simulated) durability. */
typedef struct {
  ConsentMeeting *meeting; /* weak: a meeting may go away with events waiting */
  guint64 ticket;
} Waiting;

struct _ConsentMemoryRecorder {
  GObject parent;
  gboolean auto_ack;
  guint64 next_record;
  GPtrArray *events; /* ConsentEvent*, every submitted event */
  GQueue waiting;    /* Waiting* */
};

static void consent_memory_recorder_iface_init (ConsentRecorderInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ConsentMemoryRecorder, consent_memory_recorder, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (CONSENT_TYPE_RECORDER,
                                                      consent_memory_recorder_iface_init))

static void
waiting_free (Waiting *w)
{
  g_clear_weak_pointer (&w->meeting);
  g_free (w);
}

static void
complete (ConsentMemoryRecorder *self, Waiting *w, const GError *error)
{
  g_autofree char *record_id = NULL;

  if (error == NULL)
    record_id = g_strdup_printf ("mem-%" G_GUINT64_FORMAT, ++self->next_record);
  if (w->meeting != NULL)
    consent_meeting_record_done (w->meeting, w->ticket, record_id, error);
  waiting_free (w);
}

static void
memory_submit (ConsentRecorder *recorder, ConsentMeeting *meeting, const ConsentEvent *event)
{
  ConsentMemoryRecorder *self = CONSENT_MEMORY_RECORDER (recorder);
  Waiting *w = g_new0 (Waiting, 1);

  g_ptr_array_add (self->events, consent_event_copy (event));
  g_set_weak_pointer (&w->meeting, meeting);
  w->ticket = event->ticket;
  if (self->auto_ack)
    complete (self, w, NULL);
  else
    g_queue_push_tail (&self->waiting, w);
}

static void
consent_memory_recorder_iface_init (ConsentRecorderInterface *iface)
{
  iface->submit = memory_submit;
}

static void
consent_memory_recorder_finalize (GObject *object)
{
  ConsentMemoryRecorder *self = CONSENT_MEMORY_RECORDER (object);

  g_queue_clear_full (&self->waiting, (GDestroyNotify) waiting_free);
  g_ptr_array_unref (self->events);
  G_OBJECT_CLASS (consent_memory_recorder_parent_class)->finalize (object);
}

static void
consent_memory_recorder_class_init (ConsentMemoryRecorderClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = consent_memory_recorder_finalize;
}

static void
consent_memory_recorder_init (ConsentMemoryRecorder *self)
{
  self->auto_ack = TRUE;
  self->events = g_ptr_array_new_with_free_func ((GDestroyNotify) consent_event_free);
  g_queue_init (&self->waiting);
}

ConsentMemoryRecorder *
consent_memory_recorder_new (gboolean auto_ack)
{
  ConsentMemoryRecorder *self = g_object_new (CONSENT_TYPE_MEMORY_RECORDER, NULL);

  self->auto_ack = auto_ack;
  return self;
}

guint
consent_memory_recorder_ack (ConsentMemoryRecorder *self, guint n)
{
  guint done = 0;

  g_return_val_if_fail (CONSENT_IS_MEMORY_RECORDER (self), 0);
  /* Acks may submit new events (gate-opened): only the ones waiting now count. */
  if (n == 0)
    n = self->waiting.length;
  while (done < n && !g_queue_is_empty (&self->waiting)) {
    complete (self, g_queue_pop_head (&self->waiting), NULL);
    done++;
  }
  return done;
}

gboolean
consent_memory_recorder_fail (ConsentMemoryRecorder *self)
{
  g_autoptr (GError) error = NULL;

  g_return_val_if_fail (CONSENT_IS_MEMORY_RECORDER (self), FALSE);
  if (g_queue_is_empty (&self->waiting))
    return FALSE;
  error = g_error_new_literal (CONSENT_ERROR, CONSENT_ERROR_LEDGER, "simulated ledger failure");
  complete (self, g_queue_pop_head (&self->waiting), error);
  return TRUE;
}

GPtrArray *
consent_memory_recorder_get_events (ConsentMemoryRecorder *self)
{
  g_return_val_if_fail (CONSENT_IS_MEMORY_RECORDER (self), NULL);
  return self->events;
}

guint
consent_memory_recorder_n_waiting (ConsentMemoryRecorder *self)
{
  g_return_val_if_fail (CONSENT_IS_MEMORY_RECORDER (self), 0);
  return self->waiting.length;
}

void
consent_memory_recorder_set_auto_ack (ConsentMemoryRecorder *self, gboolean auto_ack)
{
  g_return_if_fail (CONSENT_IS_MEMORY_RECORDER (self));
  self->auto_ack = auto_ack;
}
