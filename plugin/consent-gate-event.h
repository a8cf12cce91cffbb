/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>
#include "consent-source.h"

G_BEGIN_DECLS

/**
 * The `consent-gate` serialized downstream custom event (contract): sent by
 * consentgate before the first buffer of each open interval (state "open")
 * and after its last (state "closed"), on every src pad. Fields:
 *   state          string  "open" | "closed"
 *   running-time   guint64 running time of the boundary (output timeline)
 *   reason         string
 *   epoch          guint64
 *   authorized-by  GStrv   ledger record ids
 *   meeting        string
 *   participant    string  (NULL for meeting scope)
 *   present        GStrv   participants present
 *   notice-version string
 *   source         ConsentSource (where consentsink reports the segment)
 * The same fields except `source` are in the bus element message
 * `consent-gate`.
 */
#define CONSENT_GATE_EVENT_NAME "consent-gate"

typedef struct {
  gboolean open;
  GstClockTime running_time;
  const char *reason;
  guint64 epoch;
  const char *const *authorized_by;
  const char *meeting;
  const char *participant;
  const char *const *present;
  const char *notice_version;
  ConsentSource *source; /* may be NULL */
} ConsentGateInfo;

/** consent_gate_structure_new: the structure shared by the event and the bus message. */
GstStructure *consent_gate_structure_new (const ConsentGateInfo *info, gboolean with_source);
GstEvent *consent_gate_event_new (const ConsentGateInfo *info);
/** consent_gate_event_parse: TRUE if @event is a consent-gate event; fills @info
 * with pointers valid as long as the event lives (source: transfer none). */
gboolean consent_gate_event_parse (GstEvent *event, ConsentGateInfo *info);

G_END_DECLS
