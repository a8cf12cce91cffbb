/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>
#include "consent.h"

G_BEGIN_DECLS

/**
 * ConsentSource:
 * The one seam through which the plugin learns gate decisions and reports
 * finished segments. Two implementations:
 *  - in-process, around a #ConsentMeeting (consentgate's `meeting-object`);
 *  - the consentd client (consentgate's `server`), one shared connection per
 *    process and meeting (plugin/consent-client.c).
 *
 * Thread safety: every method may be called from any thread.
 * "decision-changed" (const char *participant_or_NULL, ConsentGateDecision *)
 * may be emitted from any thread (the client's own); handlers must not block
 * and must not push or post while holding their own locks.
 */
#define CONSENT_TYPE_SOURCE (consent_source_get_type ())
G_DECLARE_DERIVABLE_TYPE (ConsentSource, consent_source, CONSENT, SOURCE, GObject)

/**
 * ConsentSegmentReport: the facts of one finished recording file, reported to
 * the ledger (as a `segment` record) and written in its manifest.
 */
typedef struct {
  const char *path;
  const char *sha256;
  guint64 size;
  guint64 epoch;
  const char *start_utc; /* ISO 8601, µs, Z */
  const char *end_utc;
  guint64 duration_ns;
  const char *const *authorized_by;
  const char *const *present;
  const char *notice_version;
  const char *muxer;
} ConsentSegmentReport;

struct _ConsentSourceClass {
  GObjectClass parent_class;

  /* current decision for the meeting (@participant NULL) or one participant */
  ConsentGateDecision *(*get_decision) (ConsentSource *self, const char *participant);
  gboolean (*report_segment) (ConsentSource *self, const ConsentSegmentReport *report,
                              GError **error);
  const char *(*get_meeting_id) (ConsentSource *self);
};

ConsentGateDecision *consent_source_get_decision (ConsentSource *self,
                                                  const char *participant);
gboolean consent_source_report_segment (ConsentSource *self,
                                        const ConsentSegmentReport *report,
                                        GError **error);
const char *consent_source_get_meeting_id (ConsentSource *self);

/** For implementations: emit "decision-changed". */
void consent_source_emit_decision (ConsentSource *self, const char *participant,
                                   ConsentGateDecision *decision);

/** consent_source_new_for_meeting: the in-process source around @meeting. */
ConsentSource *consent_source_new_for_meeting (ConsentMeeting *meeting);

G_END_DECLS
