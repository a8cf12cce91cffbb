/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ConsentSource: the abstract seam through which the plugin learns gate
 * decisions. Implementations live in their own files (in-process meeting:
 * consent-source-meeting.c). */
#include "consent-source.h"

typedef struct {
  gboolean allow_foreign_sinks;
} ConsentSourcePrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (ConsentSource, consent_source, G_TYPE_OBJECT)

enum { SIGNAL_DECISION_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

enum { PROP_0, PROP_ALLOW_FOREIGN_SINKS };

static void
consent_source_set_property (GObject *object, guint prop_id, const GValue *value,
                             GParamSpec *pspec)
{
  ConsentSourcePrivate *priv =
      consent_source_get_instance_private (CONSENT_SOURCE (object));

  if (prop_id == PROP_ALLOW_FOREIGN_SINKS)
    priv->allow_foreign_sinks = g_value_get_boolean (value);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
consent_source_get_property (GObject *object, guint prop_id, GValue *value,
                             GParamSpec *pspec)
{
  ConsentSourcePrivate *priv =
      consent_source_get_instance_private (CONSENT_SOURCE (object));

  if (prop_id == PROP_ALLOW_FOREIGN_SINKS)
    g_value_set_boolean (value, priv->allow_foreign_sinks);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
consent_source_class_init (ConsentSourceClass *klass)
{
  GObjectClass *oclass = G_OBJECT_CLASS (klass);

  oclass->set_property = consent_source_set_property;
  oclass->get_property = consent_source_get_property;
  /**
   * ConsentSource:allow-foreign-sinks:
   * The meeting's policy lets a gate open into something other than a
   * consentsink (policy `[storage] allow-foreign-sinks`, tests only). Set
   * once by the implementation from the policy it follows.
   */
  g_object_class_install_property (
      oclass, PROP_ALLOW_FOREIGN_SINKS,
      g_param_spec_boolean (
          "allow-foreign-sinks", "Allow foreign sinks",
          "Policy lets the gate open into a sink other than consentsink", FALSE,
          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));
  /**
   * ConsentSource::decision-changed:
   * @participant: (nullable): the participant the decision is about, NULL for
   *   the meeting-wide decision
   * @decision: the new decision
   *
   * Emitted from any thread whenever a decision flips or its authorization
   * changes. Handlers must return quickly and must not block.
   */
  signals[SIGNAL_DECISION_CHANGED] = g_signal_new (
      "decision-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
      NULL, G_TYPE_NONE, 2, G_TYPE_STRING, CONSENT_TYPE_GATE_DECISION);
}

static void
consent_source_init (ConsentSource *self)
{
  (void)self;
}

/**
 * consent_source_get_decision:
 * Returns: (transfer full): the current decision; a closed decision with
 * reason "no-source" if the implementation cannot tell.
 */
ConsentGateDecision *
consent_source_get_decision (ConsentSource *self, const char *participant)
{
  ConsentSourceClass *klass;
  ConsentGateDecision *d = NULL;

  g_return_val_if_fail (CONSENT_IS_SOURCE (self), NULL);
  klass = CONSENT_SOURCE_GET_CLASS (self);
  if (klass->get_decision)
    d = klass->get_decision (self, participant);
  if (!d) /* fail closed */
    d = consent_gate_decision_new_closed (consent_source_get_meeting_id (self),
                                          participant, 0, "no-source");
  return d;
}

gboolean
consent_source_report_segment (ConsentSource *self, const ConsentSegmentReport *report,
                               GError **error)
{
  ConsentSourceClass *klass;

  g_return_val_if_fail (CONSENT_IS_SOURCE (self), FALSE);
  g_return_val_if_fail (report != NULL, FALSE);
  klass = CONSENT_SOURCE_GET_CLASS (self);
  if (!klass->report_segment) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_CONFLICT,
                 "this consent source (%s) cannot record segments",
                 G_OBJECT_TYPE_NAME (self));
    return FALSE;
  }
  return klass->report_segment (self, report, error);
}

const char *
consent_source_get_meeting_id (ConsentSource *self)
{
  ConsentSourceClass *klass;

  g_return_val_if_fail (CONSENT_IS_SOURCE (self), NULL);
  klass = CONSENT_SOURCE_GET_CLASS (self);
  return klass->get_meeting_id ? klass->get_meeting_id (self) : NULL;
}

void
consent_source_emit_decision (ConsentSource *self, const char *participant,
                              ConsentGateDecision *decision)
{
  g_return_if_fail (CONSENT_IS_SOURCE (self));
  g_return_if_fail (decision != NULL);
  g_signal_emit (self, signals[SIGNAL_DECISION_CHANGED], 0, participant, decision);
}
