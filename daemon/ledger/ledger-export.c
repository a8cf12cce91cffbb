/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ledger-export.c: one meeting's or one subject's history as JSON lines or CSV. */
#include "ledger-canon.h"
#include "ledger-reader.h"
#include "ledger-verify.h"

#include <string.h>

static gboolean
matches (const ConsentLedgerRecord *r, const char *meeting, const char *subject)
{
  if (meeting)
    return r->meeting && g_str_equal (r->meeting, meeting);
  if (r->subject && g_str_equal (r->subject, subject))
    return TRUE;
  return r->present && g_strv_contains ((const char *const *) r->present, subject);
}

static char *
iso_time (gint64 ts_us)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (ts_us / G_USEC_PER_SEC);
  if (!dt)
    return g_strdup ("");
  g_autofree char *base = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
  return g_strdup_printf ("%s.%06dZ", base, (int) (ts_us % G_USEC_PER_SEC));
}

static void
put (json_object *o, const char *k, const char *v)
{
  if (v)
    json_object_object_add (o, k, json_object_new_string (v));
}

static void
put_pd (json_object *o, const char *k, const ConsentLedgerRecord *r, const char *v)
{
  if (!r->has_pd)
    return;
  json_object_object_add (o, k, v ? json_object_new_string (v) : NULL);
}

static void
put_list (json_object *o, const char *k, char **v)
{
  if (!v)
    return;
  json_object *a = json_object_new_array ();
  for (guint i = 0; v[i]; i++)
    json_object_array_add (a, json_object_new_string (v[i]));
  json_object_object_add (o, k, a);
}

static void
append_json (GString *out, const ConsentLedgerRecord *r)
{
  json_object *o = json_object_new_object ();
  g_autofree char *time = iso_time (r->ts_us);
  json_object_object_add (o, "seq", json_object_new_uint64 (r->seq));
  put (o, "time", time);
  put (o, "type", r->type);
  put (o, "meeting", r->meeting);
  put (o, "subject", r->subject);
  put_pd (o, "participant", r, r->participant);
  put_pd (o, "name", r, r->display_name);
  put_pd (o, "client", r, r->client);
  put_pd (o, "ip", r, r->ip);
  if (r->has_pd)
    json_object_object_add (o, "erased", json_object_new_boolean (!r->pd_readable));
  put (o, "role", r->role);
  put (o, "notice-version", r->notice_version);
  put (o, "notice-sha256", r->notice_sha256);
  put (o, "request", r->request_id);
  put (o, "channel", r->channel);
  put (o, "actor", r->actor);
  if (r->has_epoch)
    json_object_object_add (o, "epoch", json_object_new_uint64 (r->epoch));
  put (o, "reason", r->reason);
  put_list (o, "authorized-by", r->authorized_by);
  put_list (o, "present", r->present);
  if (r->details_json)
    json_object_object_add (o, "details", ledger_json_parse (r->details_json,
                                                             strlen (r->details_json), 16, NULL));
  put (o, "hash", r->hash);
  ledger_canon_append (out, o, NULL);
  g_string_append_c (out, '\n');
  json_object_put (o);
}

/* RFC 4180 quoting; cells that a spreadsheet would run as a formula get a
 * leading apostrophe. */
static void
csv_cell (GString *out, const char *v, gboolean last)
{
  g_string_append_c (out, '"');
  if (v && strchr ("=+-@\t\r", v[0]) && v[0])
    g_string_append_c (out, '\'');
  for (const char *p = v ? v : ""; *p; p++) {
    if (*p == '"')
      g_string_append_c (out, '"');
    g_string_append_c (out, *p);
  }
  g_string_append_c (out, '"');
  g_string_append_c (out, last ? '\n' : ',');
}

static const char *csv_header =
    "seq,time,type,meeting,subject,participant,name,client,ip,erased,role,notice_version,"
    "notice_sha256,request,channel,actor,epoch,reason,authorized_by,present,details,hash\n";

static void
append_csv (GString *out, const ConsentLedgerRecord *r)
{
  g_autofree char *seq = g_strdup_printf ("%" G_GUINT64_FORMAT, r->seq);
  g_autofree char *time = iso_time (r->ts_us);
  g_autofree char *epoch = r->has_epoch ? g_strdup_printf ("%" G_GUINT64_FORMAT, r->epoch) : NULL;
  g_autofree char *auth = r->authorized_by ? g_strjoinv (" ", r->authorized_by) : NULL;
  g_autofree char *present = r->present ? g_strjoinv (" ", r->present) : NULL;
  const char *erased = r->has_pd ? (r->pd_readable ? "false" : "true") : "";
  const char *cells[] = {seq, time, r->type, r->meeting, r->subject, r->participant,
                         r->display_name, r->client, r->ip, erased, r->role, r->notice_version,
                         r->notice_sha256, r->request_id, r->channel, r->actor, epoch,
                         r->reason, auth, present, r->details_json, r->hash};
  for (gsize i = 0; i < G_N_ELEMENTS (cells); i++)
    csv_cell (out, cells[i], i + 1 == G_N_ELEMENTS (cells));
}

gboolean
consent_ledger_export (const char *ledger_dir, const char *keys_dir, const char *meeting,
                       const char *subject, ConsentLedgerExportFormat format,
                       GOutputStream *out, guint64 *n_out, GError **error)
{
  g_autoptr (ConsentLedgerReader) reader = NULL;
  g_autoptr (GString) buf = g_string_sized_new (64 * 1024);
  guint64 n = 0;
  if ((meeting == NULL) == (subject == NULL)) {
    g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_INVALID,
                 "export needs exactly one of a meeting or a subject");
    return FALSE;
  }
  if (!(reader = consent_ledger_reader_new (ledger_dir, keys_dir, error)))
    return FALSE;
  if (format == CONSENT_LEDGER_EXPORT_CSV)
    g_string_append (buf, csv_header);
  for (;;) {
    g_autoptr (ConsentLedgerRecord) r = NULL;
    if (!consent_ledger_reader_next (reader, &r, error))
      return FALSE;
    if (!r)
      break;
    if (!matches (r, meeting, subject))
      continue;
    n++;
    if (format == CONSENT_LEDGER_EXPORT_CSV)
      append_csv (buf, r);
    else
      append_json (buf, r);
    if (buf->len > 32 * 1024) {
      if (!g_output_stream_write_all (out, buf->str, buf->len, NULL, NULL, error))
        return FALSE;
      g_string_truncate (buf, 0);
    }
  }
  if (!g_output_stream_write_all (out, buf->str, buf->len, NULL, NULL, error))
    return FALSE;
  if (n_out)
    *n_out = n;
  return TRUE;
}
