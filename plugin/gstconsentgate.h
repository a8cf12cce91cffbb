/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_CONSENT_GATE (gst_consent_gate_get_type ())
G_DECLARE_FINAL_TYPE (GstConsentGate, gst_consent_gate, GST, CONSENT_GATE, GstElement)

/**
 * GstConsentGateTimeline:
 * @GST_CONSENT_GATE_TIMELINE_CONTINUOUS: closed intervals are cut out, so the
 *   output running time is contiguous across open/close/open
 * @GST_CONSENT_GATE_TIMELINE_WALLCLOCK: output running time equals input
 *   running time; closed intervals stay as gaps
 */
typedef enum {
  GST_CONSENT_GATE_TIMELINE_CONTINUOUS,
  GST_CONSENT_GATE_TIMELINE_WALLCLOCK,
} GstConsentGateTimeline;

GST_ELEMENT_REGISTER_DECLARE (consentgate);

G_END_DECLS
