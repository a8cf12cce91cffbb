/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* metrics.h: counters for GET /metrics (Prometheus text format 0.0.4). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _ConsentdMetrics ConsentdMetrics;

ConsentdMetrics *consentd_metrics_new (void);
void consentd_metrics_free (ConsentdMetrics *m);

void consentd_metrics_connection_opened (ConsentdMetrics *m);
void consentd_metrics_connection_closed (ConsentdMetrics *m);
void consentd_metrics_connection_rejected (ConsentdMetrics *m, const char *reason);
/** A participant's decision or a roster change, by ledger event type ("accept", …). */
void consentd_metrics_decision (ConsentdMetrics *m, const char *kind);
void consentd_metrics_gate (ConsentdMetrics *m, gboolean opened);
/** Time from handing an event to the ledger until it was durable. */
void consentd_metrics_ledger_ack (ConsentdMetrics *m, gint64 latency_us);
void consentd_metrics_protocol_error (ConsentdMetrics *m, const char *code);

/** consentd_metrics_render: the exposition text; @meetings is the current gauge. */
char *consentd_metrics_render (ConsentdMetrics *m, guint meetings);

G_END_DECLS
