/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* metrics.c: a handful of counters and one histogram, rendered as Prometheus text. */
#include "metrics.h"

/* Upper bounds (seconds) of the ledger ack latency histogram: an fdatasync
 * takes from well under a millisecond (tmpfs) to tens of ms (spinning disk). */
static const double ack_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                     0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

struct _ConsentdMetrics {
  guint64 connections_open;
  guint64 connections_total;
  GHashTable *rejected;  /* reason → guint64* */
  GHashTable *decisions; /* kind → guint64* */
  GHashTable *errors;    /* code → guint64* */
  guint64 gate_opens, gate_closes;
  guint64 ack_counts[G_N_ELEMENTS (ack_buckets)];
  guint64 ack_total;
  double ack_sum_s;
};

static GHashTable *
counter_table (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

static void
counter_inc (GHashTable *t, const char *label)
{
  guint64 *v = g_hash_table_lookup (t, label);

  /* Labels come from fixed vocabularies (event types, error codes): the
   * number of series stays bounded. */
  if (!v) {
    v = g_new0 (guint64, 1);
    g_hash_table_insert (t, g_strdup (label), v);
  }
  (*v)++;
}

ConsentdMetrics *
consentd_metrics_new (void)
{
  ConsentdMetrics *m = g_new0 (ConsentdMetrics, 1);

  m->rejected = counter_table ();
  m->decisions = counter_table ();
  m->errors = counter_table ();
  return m;
}

void
consentd_metrics_free (ConsentdMetrics *m)
{
  if (!m)
    return;
  g_hash_table_unref (m->rejected);
  g_hash_table_unref (m->decisions);
  g_hash_table_unref (m->errors);
  g_free (m);
}

void
consentd_metrics_connection_opened (ConsentdMetrics *m)
{
  m->connections_open++;
  m->connections_total++;
}

void
consentd_metrics_connection_closed (ConsentdMetrics *m)
{
  if (m->connections_open)
    m->connections_open--;
}

void
consentd_metrics_connection_rejected (ConsentdMetrics *m, const char *reason)
{
  counter_inc (m->rejected, reason);
}

void
consentd_metrics_decision (ConsentdMetrics *m, const char *kind)
{
  counter_inc (m->decisions, kind);
}

void
consentd_metrics_protocol_error (ConsentdMetrics *m, const char *code)
{
  counter_inc (m->errors, code);
}

void
consentd_metrics_gate (ConsentdMetrics *m, gboolean opened)
{
  if (opened)
    m->gate_opens++;
  else
    m->gate_closes++;
}

void
consentd_metrics_ledger_ack (ConsentdMetrics *m, gint64 latency_us)
{
  double s = latency_us / 1e6;

  for (gsize i = 0; i < G_N_ELEMENTS (ack_buckets); i++)
    if (s <= ack_buckets[i])
      m->ack_counts[i]++;
  m->ack_total++;
  m->ack_sum_s += s;
}

static void
render_table (GString *out, const char *name, const char *help, const char *label,
              GHashTable *t)
{
  GHashTableIter it;
  gpointer k, v;

  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
  g_hash_table_iter_init (&it, t);
  while (g_hash_table_iter_next (&it, &k, &v))
    g_string_append_printf (out, "%s{%s=\"%s\"} %" G_GUINT64_FORMAT "\n", name, label,
                            (const char *)k, *(guint64 *)v);
}

char *
consentd_metrics_render (ConsentdMetrics *m, guint meetings)
{
  GString *o = g_string_new (NULL);

  g_string_append_printf (
      o,
      "# HELP consentd_connections Open websocket sessions.\n"
      "# TYPE consentd_connections gauge\nconsentd_connections %" G_GUINT64_FORMAT "\n"
      "# HELP consentd_connections_total Websocket sessions accepted.\n"
      "# TYPE consentd_connections_total counter\nconsentd_connections_total "
      "%" G_GUINT64_FORMAT "\n"
      "# HELP consentd_meetings Meetings in progress.\n"
      "# TYPE consentd_meetings gauge\nconsentd_meetings %u\n"
      "# HELP consentd_gate_opens_total Meeting gate decisions that opened.\n"
      "# TYPE consentd_gate_opens_total counter\nconsentd_gate_opens_total "
      "%" G_GUINT64_FORMAT "\n"
      "# HELP consentd_gate_closes_total Meeting gate decisions that closed.\n"
      "# TYPE consentd_gate_closes_total counter\nconsentd_gate_closes_total "
      "%" G_GUINT64_FORMAT "\n",
      m->connections_open, m->connections_total, meetings, m->gate_opens, m->gate_closes);
  render_table (o, "consentd_decisions_total", "Consent events by kind.", "kind",
                m->decisions);
  render_table (o, "consentd_connections_rejected_total",
                "Connections refused, by reason.", "reason", m->rejected);
  render_table (o, "consentd_protocol_errors_total", "Error messages sent, by code.",
                "code", m->errors);
  g_string_append (
      o, "# HELP consentd_ledger_ack_seconds Time until a ledger record was durable.\n"
         "# TYPE consentd_ledger_ack_seconds histogram\n");
  for (gsize i = 0; i < G_N_ELEMENTS (ack_buckets); i++)
    g_string_append_printf (
        o, "consentd_ledger_ack_seconds_bucket{le=\"%g\"} %" G_GUINT64_FORMAT "\n",
        ack_buckets[i], m->ack_counts[i]);
  g_string_append_printf (
      o,
      "consentd_ledger_ack_seconds_bucket{le=\"+Inf\"} %" G_GUINT64_FORMAT "\n"
      "consentd_ledger_ack_seconds_sum %.6f\nconsentd_ledger_ack_seconds_count "
      "%" G_GUINT64_FORMAT "\n",
      m->ack_total, m->ack_sum_s, m->ack_total);
  return g_string_free (o, FALSE);
}
