/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ledger-recorder.c: ConsentRecorder over ConsentLedger (meeting events → durable records). */
#include "ledger-recorder.h"
#include "consent-meeting.h"

struct _ConsentLedgerRecorder {
  GObject parent;
  ConsentLedger *ledger;
};

static void consent_ledger_recorder_iface_init (ConsentRecorderInterface *iface);

G_DEFINE_TYPE_WITH_CODE (ConsentLedgerRecorder, consent_ledger_recorder, G_TYPE_OBJECT,
                         G_IMPLEMENT_INTERFACE (CONSENT_TYPE_RECORDER,
                                                consent_ledger_recorder_iface_init))

enum { SIGNAL_RECORDED, SIGNAL_FAILED, N_SIGNALS };
static guint signals[N_SIGNALS];

void
consent_ledger_entry_from_event (const ConsentEvent *ev, ConsentLedgerEntry *e)
{
  *e = (ConsentLedgerEntry){
    .type = consent_event_type_name (ev->type),
    .ts_us = ev->ts_us,
    .meeting = ev->meeting,
    .participant = ev->participant,
    .display_name = ev->display_name,
    .client = ev->client,
    .ip = ev->ip,
    .role = ev->role,
    .notice_version = ev->notice_version,
    .notice_sha256 = ev->notice_sha256,
    .request_id = ev->request_id,
    .channel = ev->channel,
    .actor = ev->actor,
    .reason = ev->reason,
    .authorized_by = (const char *const *) ev->authorized_by,
    .present = (const char *const *) ev->present,
    .details_json = ev->details_json,
  };
  /* the gate epoch only means something on gate events */
  e->has_epoch = ev->type == CONSENT_EVENT_GATE_OPENED || ev->type == CONSENT_EVENT_GATE_CLOSED;
  e->epoch = ev->epoch;
}

typedef struct {
  ConsentLedgerRecorder *self;
  ConsentMeeting *meeting;
  ConsentEvent *event;
} Submission;

static void
submission_free (Submission *s)
{
  g_object_unref (s->self);
  g_object_unref (s->meeting);
  consent_event_free (s->event);
  g_free (s);
}

static void
on_appended (GObject *source, GAsyncResult *result, gpointer data)
{
  Submission *s = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (ConsentLedgerReceipt) receipt =
      consent_ledger_append_finish (CONSENT_LEDGER (source), result, &error);
  if (receipt) {
    consent_meeting_record_done (s->meeting, s->event->ticket, receipt->id, NULL);
    g_signal_emit (s->self, signals[SIGNAL_RECORDED], 0, s->meeting, s->event, receipt->id,
                   receipt->hash, receipt->subject);
  } else {
    g_autoptr (GError) ledger_error =
        g_error_new (CONSENT_ERROR, CONSENT_ERROR_LEDGER, "the ledger refused the %s event: %s",
                     consent_event_type_name (s->event->type), error->message);
    consent_meeting_record_done (s->meeting, s->event->ticket, NULL, ledger_error);
    g_signal_emit (s->self, signals[SIGNAL_FAILED], 0, s->meeting, s->event, ledger_error);
  }
  submission_free (s);
}

static void
recorder_submit (ConsentRecorder *recorder, ConsentMeeting *meeting, const ConsentEvent *event)
{
  ConsentLedgerRecorder *self = CONSENT_LEDGER_RECORDER (recorder);
  ConsentLedgerEntry entry;
  Submission *s = g_new0 (Submission, 1);
  s->self = g_object_ref (self);
  s->meeting = g_object_ref (meeting);
  s->event = consent_event_copy (event);
  consent_ledger_entry_from_event (s->event, &entry);
  consent_ledger_append_async (self->ledger, &entry, NULL, on_appended, s);
}

static void
consent_ledger_recorder_iface_init (ConsentRecorderInterface *iface)
{
  iface->submit = recorder_submit;
}

static void
consent_ledger_recorder_finalize (GObject *object)
{
  ConsentLedgerRecorder *self = CONSENT_LEDGER_RECORDER (object);
  g_clear_object (&self->ledger);
  G_OBJECT_CLASS (consent_ledger_recorder_parent_class)->finalize (object);
}

static void
consent_ledger_recorder_class_init (ConsentLedgerRecorderClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = consent_ledger_recorder_finalize;
  signals[SIGNAL_RECORDED] = g_signal_new (
      "recorded", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 5, CONSENT_TYPE_MEETING, CONSENT_TYPE_EVENT | G_SIGNAL_TYPE_STATIC_SCOPE,
      G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_FAILED] = g_signal_new (
      "failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
      3, CONSENT_TYPE_MEETING, CONSENT_TYPE_EVENT | G_SIGNAL_TYPE_STATIC_SCOPE, G_TYPE_ERROR);
}

static void
consent_ledger_recorder_init (ConsentLedgerRecorder *self)
{
}

ConsentLedgerRecorder *
consent_ledger_recorder_new (ConsentLedger *ledger)
{
  ConsentLedgerRecorder *self = g_object_new (CONSENT_TYPE_LEDGER_RECORDER, NULL);
  self->ledger = g_object_ref (ledger);
  return self;
}

ConsentLedger *
consent_ledger_recorder_get_ledger (ConsentLedgerRecorder *self)
{
  return self->ledger;
}
