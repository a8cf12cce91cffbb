/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-report.h: the audit report of one meeting, in three steps:
 *  1. ctl-report-timeline.c derives lanes and intervals from the meeting's
 *     ledger records (pure: no I/O, tested through the verb's --format json);
 *  2. ctl-report-svg.c draws the timeline as inline SVG;
 *  3. ctl-report-html.c writes the self-contained HTML document.
 * ctl-report.c is the verb: it reads the ledger, verifies it and writes.
 */
#pragma once

#include "ledger-reader.h"
#include "ledger-verify.h"
#include "consent-notice.h"

G_BEGIN_DECLS

/* What a lane shows. The order is the legend's order. */
typedef enum {
  CTL_LANE_PRESENT,   /* in the roster, not asked (no recording requested) */
  CTL_LANE_PENDING,   /* asked, no answer yet: never consent */
  CTL_LANE_ACCEPTED,
  CTL_LANE_DECLINED,  /* declined, or the answer timed out */
  CTL_LANE_WITHDRAWN,
  CTL_LANE_N_STATES
} CtlLaneState;

const char *ctl_lane_state_name (CtlLaneState state);

typedef struct {
  gint64 start_us;
  gint64 end_us;
  gint state;          /* CtlLaneState for participant lanes */
  guint64 start_seq;   /* the record that began the interval */
  gboolean open_end;   /* still going on at the end of the ledger's records */
} CtlInterval;

typedef struct {
  char *subject;       /* pseudonym */
  char *participant;   /* raw id, where the key store still has it */
  char *display_name;  /* real name, where the key store still has it */
  char *role;
  gboolean erased;     /* personal data was recorded but its key is gone */
  GArray *intervals;   /* CtlInterval, in time order, only while present */
  GArray *gate;        /* CtlInterval: this participant's own gate (participant scope) */
  /* derivation state */
  gboolean present;
  gboolean gate_open;
  CtlLaneState answer;
} CtlLane;

typedef struct {
  guint64 seq;
  gint64 start_us;
  gint64 end_us;
  gboolean has_epoch;
  guint64 epoch;
  char *path;
  char *sha256;
  guint64 size;
  char *authorized_by; /* comma-separated record ids, or NULL */
} CtlSegment;

typedef struct {
  char *version;
  char *sha256;
  guint64 first_seq;
  char *text;          /* where known: from the record or a matching policy notice */
} CtlNoticeSeen;

typedef struct {
  char *meeting;
  GPtrArray *records;   /* ConsentLedgerRecord*, the meeting's records in order */
  GPtrArray *erasures;  /* erase records naming one of its subjects (in all_erasures) */
  GPtrArray *all_erasures; /* every erase record, filtered at finish (owned) */
  GPtrArray *lanes;     /* CtlLane*, in order of first appearance */
  GHashTable *lane_by_subject;
  GArray *gate;         /* CtlInterval: the gate's open intervals */
  GArray *requested;    /* CtlInterval: recording requested */
  GArray *segments;     /* CtlSegment */
  GPtrArray *notices;   /* CtlNoticeSeen* */
  gint64 first_us, last_us;
  guint64 first_seq, last_seq;
  gboolean ended;       /* a meeting-ended record was seen */
  /* derivation state */
  gboolean gate_open, request_active;
} CtlTimeline;

CtlTimeline *ctl_timeline_new (const char *meeting);
void ctl_timeline_free (CtlTimeline *timeline);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtlTimeline, ctl_timeline_free)

/**
 * ctl_timeline_add_record:
 * Takes @record (ownership): kept and applied when it belongs to the
 * meeting, kept aside when it is an erasure, freed otherwise.
 */
void ctl_timeline_add_record (CtlTimeline *timeline, ConsentLedgerRecord *record);

/**
 * ctl_timeline_finish:
 * Closes what is still open at the last record of the meeting and keeps the
 * erasures that name one of its subjects. Fills in notice texts from
 * @policy_notice when its version and hash match. Returns FALSE when the
 * ledger holds no record of the meeting.
 */
gboolean ctl_timeline_finish (CtlTimeline *timeline, const ConsentNotice *policy_notice);

/** ctl_report_escape: text safe inside HTML and SVG (XML 1.0) content and attributes. */
char *ctl_report_escape (const char *text);

/** ctl_report_format_time: "2026-11-28 21:49:20.123456 UTC". */
char *ctl_report_format_time (gint64 ts_us);

/** ctl_report_svg: the timeline picture as a standalone-valid <svg> element. */
char *ctl_report_svg (const CtlTimeline *timeline);

typedef struct {
  const char *ledger_dir;
  gboolean verify_ok;          /* verification ran (no I/O error) */
  const char *verify_error;    /* the I/O or usage error otherwise */
  const char *read_error;      /* (nullable) reading stopped early: the report is partial */
  const ConsentLedgerVerifyResult *verify;
  gint64 generated_us;
} CtlReportContext;

/** ctl_report_html: the whole self-contained HTML document. */
char *ctl_report_html (const CtlTimeline *timeline, const CtlReportContext *context);

/** ctl_report_json: the derived timeline, events and verification as pretty JSON. */
char *ctl_report_json (const CtlTimeline *timeline, const CtlReportContext *context);

/** ctl_report_verification_json: the verification part (also the --json summary's). */
struct json_object *ctl_report_verification_json (const CtlReportContext *context);

/**
 * ctl_report_write_pdf:
 * Prints @html to @path (mode 0600) with headless Chromium; a clear error
 * when Chromium is not installed.
 */
gboolean ctl_report_write_pdf (const char *path, const char *html, GError **error);

G_END_DECLS
