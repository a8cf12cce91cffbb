/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "gate-test-util.h"

struct _FakeSource {
  ConsentSource parent;
  GMutex lock;
  ConsentGateDecision *meeting_wide;
  guint64 epoch;
};

G_DEFINE_FINAL_TYPE (FakeSource, fake_source, CONSENT_TYPE_SOURCE)

static ConsentGateDecision *
fake_get_decision (ConsentSource *source, const char *participant)
{
  FakeSource *self = FAKE_SOURCE (source);
  ConsentGateDecision *d;

  g_mutex_lock (&self->lock);
  d = self->meeting_wide && !participant ? consent_gate_decision_ref (self->meeting_wide)
                                         : NULL;
  g_mutex_unlock (&self->lock);
  return d;
}

static const char *
fake_get_meeting_id (ConsentSource *source)
{
  (void)source;
  return "fake-meeting";
}

static void
fake_source_finalize (GObject *object)
{
  FakeSource *self = FAKE_SOURCE (object);

  g_clear_pointer (&self->meeting_wide, consent_gate_decision_unref);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (fake_source_parent_class)->finalize (object);
}

static void
fake_source_class_init (FakeSourceClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = fake_source_finalize;
  CONSENT_SOURCE_CLASS (klass)->get_decision = fake_get_decision;
  CONSENT_SOURCE_CLASS (klass)->get_meeting_id = fake_get_meeting_id;
}

static void
fake_source_init (FakeSource *self)
{
  g_mutex_init (&self->lock);
}

FakeSource *
fake_source_new (gboolean allow_foreign_sinks)
{
  return g_object_new (FAKE_TYPE_SOURCE, "allow-foreign-sinks", allow_foreign_sinks,
                       NULL);
}

void
fake_source_decide (FakeSource *self, const char *participant, gboolean open,
                    const char *reason)
{
  ConsentGateDecision *d;
  static const char *const auth[] = {"rec-1", "rec-2", NULL};
  static const char *const present[] = {"alice", "bob", NULL};

  g_mutex_lock (&self->lock);
  d = consent_gate_decision_new_closed ("fake-meeting", participant, ++self->epoch,
                                        reason);
  d->open = open;
  if (open) { /* the fields are public; replace what the constructor set */
    g_strfreev (d->authorized_by);
    d->authorized_by = g_strdupv ((char **)auth);
    g_free (d->notice_version);
    d->notice_version = g_strdup ("1");
  }
  g_strfreev (d->present);
  d->present = g_strdupv ((char **)present);
  if (!participant) {
    g_clear_pointer (&self->meeting_wide, consent_gate_decision_unref);
    self->meeting_wide = consent_gate_decision_ref (d);
  }
  g_mutex_unlock (&self->lock);
  consent_source_emit_decision (CONSENT_SOURCE (self), participant, d);
  consent_gate_decision_unref (d);
}
