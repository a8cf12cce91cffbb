/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-report.c: `consentctl audit report`: one meeting's consent history as a
 * self-contained HTML document (or PDF through headless Chromium, or the
 * derived timeline as JSON), ending with the verification of the ledger.
 *
 * Exit: 0 written and the ledger is intact; 1 written but verification found
 * tampering (the report says where); 2 usage or I/O error, nothing written.
 */
#include "ctl-admin.h"
#include "ctl-common.h"
#include "ctl-report.h"
#include "consent-json.h"
#include "consent-policy.h"

#include <json-c/json.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <unistd.h>

typedef struct {
  CtlCommon common;
  char *meeting;
  char *output;
  char *format;
  char *ledger_dir;
  char *keys_dir;
  char *key_file;
  char *policy_file;
  gboolean json;
} ReportOptions;

static void
report_options_clear (ReportOptions *options)
{
  g_free (options->meeting);
  g_free (options->output);
  g_free (options->format);
  ctl_common_clear (&options->common);
  g_free (options->ledger_dir);
  g_free (options->keys_dir);
  g_free (options->key_file);
  g_free (options->policy_file);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ReportOptions, report_options_clear)

typedef struct {
  ConsentLedgerVerifyResult result;
  gboolean ran;
  char *error;      /* why verification could not run */
  char *read_error; /* the reader stopped early (the report is partial) */
} Verification;

static void
verification_clear (Verification *verification)
{
  consent_ledger_verify_result_clear (&verification->result);
  g_free (verification->error);
  g_free (verification->read_error);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Verification, verification_clear)

static gboolean
parse_options (int argc, char **argv, ReportOptions *options)
{
  const GOptionEntry entries[] = {
    {"meeting", 0, 0, G_OPTION_ARG_STRING, &options->meeting, "The meeting to report on", "M"},
    {"output", 'o', 0, G_OPTION_ARG_FILENAME, &options->output,
     "Write the report to FILE ('-' for standard output)", "FILE"},
    {"format", 0, 0, G_OPTION_ARG_STRING, &options->format,
     "html (default), pdf (needs chromium), or json (the derived timeline)", "FORMAT"},
    {"ledger", 0, 0, G_OPTION_ARG_FILENAME, &options->ledger_dir,
     "Ledger directory (default: STATE/ledger)", "DIR"},
    {"keys", 0, 0, G_OPTION_ARG_FILENAME, &options->keys_dir,
     "Subject key store (default: STATE/keys); names are shown only where it has the key", "DIR"},
    {"key-file", 0, 0, G_OPTION_ARG_FILENAME, &options->key_file,
     "Initial seal key to check every seal (default: STATE/audit.key if readable)", "FILE"},
    {"policy", 0, 0, G_OPTION_ARG_FILENAME, &options->policy_file,
     "Policy whose notice text is shown when its hash matches (default: STATE/policy.conf)",
     "FILE"},
    {"json", 0, 0, G_OPTION_ARG_NONE, &options->json,
     "Print a summary of what was written as JSON", NULL},
    {NULL},
  };

  if (!ctl_parse (&argc, &argv, "- write a meeting's audit report",
                  "A self-contained report for auditors: the notice shown, each participant,\n"
                  "every event in order, a timeline picture, the recorded segments and the\n"
                  "verification of the ledger. Exit 1 when verification finds tampering.",
                  entries, &options->common))
    return FALSE;
  if (argc > 1) {
    ctl_printerr ("audit report takes no argument '%s' (see --help)", argv[1]);
    return FALSE;
  }
  if (options->meeting == NULL || options->output == NULL) {
    ctl_printerr ("audit report needs --meeting M and --output FILE (see --help)");
    return FALSE;
  }
  if (options->format == NULL)
    options->format = g_strdup ("html");
  if (!g_strv_contains ((const char *const[]){"html", "pdf", "json", NULL}, options->format)) {
    ctl_printerr ("unknown --format '%s' (html, pdf or json)", options->format);
    return FALSE;
  }
  if (options->ledger_dir == NULL)
    options->ledger_dir = ctl_state_path (&options->common, "ledger");
  if (options->keys_dir == NULL)
    options->keys_dir = ctl_state_path (&options->common, "keys");
  return TRUE;
}

/* Reads every record; a bad record stops reading (verification will name it). */
static CtlTimeline *
read_timeline (const ReportOptions *options, Verification *verification, GError **error)
{
  g_autoptr (CtlTimeline) timeline = ctl_timeline_new (options->meeting);
  g_autoptr (ConsentLedgerReader) reader = NULL;
  const char *keys = g_file_test (options->keys_dir, G_FILE_TEST_IS_DIR) ? options->keys_dir : NULL;

  reader = consent_ledger_reader_new (options->ledger_dir, keys, error);
  if (reader == NULL)
    return NULL;
  for (;;) {
    ConsentLedgerRecord *record = NULL;
    g_autoptr (GError) local_error = NULL;

    if (!consent_ledger_reader_next (reader, &record, &local_error)) {
      verification->read_error = g_strdup (local_error->message);
      break;
    }
    if (record == NULL)
      break;
    ctl_timeline_add_record (timeline, record);
  }
  return g_steal_pointer (&timeline);
}

static ConsentNotice *
load_policy_notice (const ReportOptions *options)
{
  g_autofree char *path = options->policy_file != NULL
                              ? g_strdup (options->policy_file)
                              : ctl_state_path (&options->common, "policy.conf");
  g_autoptr (ConsentPolicy) policy = NULL;

  if (options->policy_file == NULL && !g_file_test (path, G_FILE_TEST_EXISTS))
    return NULL;
  policy = consent_policy_load_file (path, NULL);
  return policy != NULL ? consent_notice_ref (policy->notice) : NULL;
}

static gboolean
run_verification (const ReportOptions *options, Verification *verification, GError **error)
{
  g_autofree char *default_key = ctl_state_path (&options->common, "audit.key");
  g_autoptr (GBytes) key = NULL;
  g_autoptr (GError) local_error = NULL;
  ConsentLedgerVerifyOptions verify = {.ledger_dir = options->ledger_dir};

  if (options->key_file != NULL) {
    key = consent_ledger_read_key_file (options->key_file, error);
    if (key == NULL)
      return FALSE;
  } else if (access (default_key, R_OK) == 0) {
    key = consent_ledger_read_key_file (default_key, NULL);
  }
  verify.key = key;
  verification->ran = consent_ledger_verify (&verify, &verification->result, &local_error);
  if (!verification->ran)
    verification->error = g_strdup (local_error->message);
  return TRUE;
}

static json_object *
json_time (gint64 ts_us)
{
  g_autoptr (GDateTime) time = g_date_time_new_from_unix_utc (ts_us / G_USEC_PER_SEC);
  g_autofree char *seconds = time != NULL ? g_date_time_format (time, "%Y-%m-%dT%H:%M:%S") : NULL;
  g_autofree char *text = NULL;

  if (seconds == NULL)
    return NULL;
  text = g_strdup_printf ("%s.%06dZ", seconds, (int) (ts_us % G_USEC_PER_SEC));
  return json_object_new_string (text);
}

static void
add_string (json_object *obj, const char *key, const char *value)
{
  json_object_object_add (obj, key, value != NULL ? json_object_new_string (value) : NULL);
}

static json_object *
intervals_json (const GArray *intervals, gboolean with_state)
{
  json_object *array = json_object_new_array ();

  for (guint i = 0; i < intervals->len; i++) {
    const CtlInterval *in = &g_array_index (intervals, CtlInterval, i);
    json_object *item = json_object_new_object ();

    if (with_state)
      add_string (item, "state", ctl_lane_state_name (in->state));
    json_object_object_add (item, "start", json_time (in->start_us));
    json_object_object_add (item, "end", json_time (in->end_us));
    json_object_object_add (item, "start_us", json_object_new_int64 (in->start_us));
    json_object_object_add (item, "end_us", json_object_new_int64 (in->end_us));
    json_object_object_add (item, "start_seq", json_object_new_uint64 (in->start_seq));
    json_object_object_add (item, "open_end", json_object_new_boolean (in->open_end));
    json_object_array_add (array, item);
  }
  return array;
}

static json_object *
lanes_json (const CtlTimeline *timeline)
{
  json_object *array = json_object_new_array ();

  for (guint i = 0; i < timeline->lanes->len; i++) {
    const CtlLane *lane = g_ptr_array_index (timeline->lanes, i);
    json_object *item = json_object_new_object ();

    add_string (item, "subject", lane->subject);
    add_string (item, "participant", lane->participant);
    add_string (item, "display_name", lane->display_name);
    add_string (item, "role", lane->role);
    json_object_object_add (item, "erased", json_object_new_boolean (lane->erased));
    add_string (item, "answer", ctl_lane_state_name (lane->answer));
    json_object_object_add (item, "intervals", intervals_json (lane->intervals, TRUE));
    json_object_object_add (item, "gate", intervals_json (lane->gate, FALSE));
    json_object_array_add (array, item);
  }
  return array;
}

static json_object *
segments_json (const CtlTimeline *timeline)
{
  json_object *array = json_object_new_array ();

  for (guint i = 0; i < timeline->segments->len; i++) {
    const CtlSegment *segment = &g_array_index (timeline->segments, CtlSegment, i);
    json_object *item = json_object_new_object ();

    json_object_object_add (item, "seq", json_object_new_uint64 (segment->seq));
    add_string (item, "path", segment->path);
    add_string (item, "sha256", segment->sha256);
    json_object_object_add (item, "size", json_object_new_uint64 (segment->size));
    json_object_object_add (item, "start_us", json_object_new_int64 (segment->start_us));
    json_object_object_add (item, "end_us", json_object_new_int64 (segment->end_us));
    json_object_object_add (item, "epoch",
                            segment->has_epoch ? json_object_new_uint64 (segment->epoch) : NULL);
    add_string (item, "authorized_by", segment->authorized_by);
    json_object_array_add (array, item);
  }
  return array;
}

static json_object *
records_json (const GPtrArray *records)
{
  json_object *array = json_object_new_array ();

  for (guint i = 0; i < records->len; i++) {
    const ConsentLedgerRecord *record = g_ptr_array_index (records, i);
    json_object *item = json_object_new_object ();

    json_object_object_add (item, "seq", json_object_new_uint64 (record->seq));
    json_object_object_add (item, "ts_us", json_object_new_int64 (record->ts_us));
    add_string (item, "type", record->type);
    add_string (item, "subject", record->subject);
    add_string (item, "hash", record->hash);
    json_object_array_add (array, item);
  }
  return array;
}

static json_object *
notices_json (const CtlTimeline *timeline)
{
  json_object *array = json_object_new_array ();

  for (guint i = 0; i < timeline->notices->len; i++) {
    const CtlNoticeSeen *notice = g_ptr_array_index (timeline->notices, i);
    json_object *item = json_object_new_object ();

    add_string (item, "version", notice->version);
    add_string (item, "sha256", notice->sha256);
    json_object_object_add (item, "first_seq", json_object_new_uint64 (notice->first_seq));
    add_string (item, "text", notice->text);
    json_object_array_add (array, item);
  }
  return array;
}

static json_object *
verification_json (const Verification *verification)
{
  const ConsentLedgerVerifyResult *result = &verification->result;
  json_object *item = json_object_new_object ();

  json_object_object_add (item, "ran", json_object_new_boolean (verification->ran));
  add_string (item, "error", verification->error);
  add_string (item, "read_error", verification->read_error);
  if (!verification->ran)
    return item;
  json_object_object_add (item, "intact", json_object_new_boolean (result->intact));
  json_object_object_add (item, "seals_checked", json_object_new_boolean (result->seals_checked));
  json_object_object_add (item, "records", json_object_new_uint64 (result->n_records));
  json_object_object_add (item, "segments", json_object_new_int64 (result->n_segments));
  json_object_object_add (item, "checkpoints", json_object_new_int64 (result->n_checkpoints));
  add_string (item, "last_hash", result->last_hash);
  add_string (item, "bad_file", result->bad_file);
  if (result->bad_line > 0)
    json_object_object_add (item, "bad_line", json_object_new_int64 (result->bad_line));
  if (result->bad_has_seq)
    json_object_object_add (item, "bad_seq", json_object_new_uint64 (result->bad_seq));
  add_string (item, "bad_reason", result->bad_reason);
  return item;
}

static char *
timeline_to_json (const CtlTimeline *timeline, const Verification *verification)
{
  g_autoptr (json_object) root = json_object_new_object ();

  add_string (root, "meeting", timeline->meeting);
  json_object_object_add (root, "first_seq", json_object_new_uint64 (timeline->first_seq));
  json_object_object_add (root, "last_seq", json_object_new_uint64 (timeline->last_seq));
  json_object_object_add (root, "first_us", json_object_new_int64 (timeline->first_us));
  json_object_object_add (root, "last_us", json_object_new_int64 (timeline->last_us));
  json_object_object_add (root, "ended", json_object_new_boolean (timeline->ended));
  json_object_object_add (root, "notices", notices_json (timeline));
  json_object_object_add (root, "lanes", lanes_json (timeline));
  json_object_object_add (root, "requested", intervals_json (timeline->requested, FALSE));
  json_object_object_add (root, "gate", intervals_json (timeline->gate, FALSE));
  json_object_object_add (root, "segments", segments_json (timeline));
  json_object_object_add (root, "events", records_json (timeline->records));
  json_object_object_add (root, "erasures", records_json (timeline->erasures));
  json_object_object_add (root, "verification", verification_json (verification));
  return g_strdup_printf ("%s\n", json_object_to_json_string_ext (root, JSON_C_TO_STRING_PRETTY |
                                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* The report holds personal data: owner-only, replaced atomically. */
static gboolean
write_output (const char *path, const char *data, GError **error)
{
  if (g_strcmp0 (path, "-") == 0) {
    fputs (data, stdout);
    return fflush (stdout) == 0;
  }
  return g_file_set_contents_full (path, data, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

static char *
find_chromium (void)
{
  const char *names[] = {"chromium", "chromium-browser", "google-chrome", NULL};

  for (guint i = 0; names[i] != NULL; i++) {
    char *path = g_find_program_in_path (names[i]);

    if (path != NULL)
      return path;
  }
  return NULL;
}

/* PDF through headless Chromium: the HTML goes to a private temporary directory. */
static gboolean
write_pdf (const char *path, const char *html, GError **error)
{
  g_autofree char *chromium = find_chromium ();
  g_autofree char *dir = NULL, *html_path = NULL, *uri = NULL, *pdf_arg = NULL;
  g_autofree char *absolute = NULL;
  g_autofree char *errors = NULL;
  int status = 0;
  gboolean ok;

  if (chromium == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 "--format pdf needs chromium (apt install chromium), or use --format html");
    return FALSE;
  }
  dir = g_dir_make_tmp ("consentctl-report-XXXXXX", error);
  if (dir == NULL)
    return FALSE;
  html_path = g_build_filename (dir, "report.html", NULL);
  absolute = g_canonicalize_filename (path, NULL);
  pdf_arg = g_strdup_printf ("--print-to-pdf=%s", absolute);
  uri = g_filename_to_uri (html_path, NULL, error);
  ok = uri != NULL && g_file_set_contents_full (html_path, html, -1, G_FILE_SET_CONTENTS_NONE,
                                                 0600, error);
  if (ok) {
    /* Chromium refuses to run as root with its sandbox; a report is local, trusted HTML. */
    const char *argv[] = {chromium, "--headless", "--disable-gpu", "--no-pdf-header-footer",
                          "--disable-background-networking", pdf_arg,
                          geteuid () == 0 ? "--no-sandbox" : uri, geteuid () == 0 ? uri : NULL,
                          NULL};

    ok = g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                       &errors, &status, error) &&
         g_spawn_check_wait_status (status, error);
    if (!ok)
      g_prefix_error (error, "chromium could not print the report: ");
  }
  g_unlink (html_path);
  g_rmdir (dir);
  if (ok)
    g_chmod (absolute, 0600);
  return ok;
}

static void
print_summary (const ReportOptions *options, const CtlTimeline *timeline,
               const Verification *verification)
{
  g_autoptr (json_object) root = json_object_new_object ();

  add_string (root, "output", options->output);
  add_string (root, "format", options->format);
  add_string (root, "meeting", timeline->meeting);
  json_object_object_add (root, "events", json_object_new_int64 (timeline->records->len));
  json_object_object_add (root, "participants", json_object_new_int64 (timeline->lanes->len));
  json_object_object_add (root, "segments", json_object_new_int64 (timeline->segments->len));
  json_object_object_add (root, "verification", verification_json (verification));
  printf ("%s\n", json_object_to_json_string_ext (root, JSON_C_TO_STRING_PLAIN |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE));
}

static int
finding_exit_code (const Verification *verification)
{
  if (verification->read_error != NULL || !verification->ran || !verification->result.intact)
    return CTL_EXIT_FINDING;
  return CTL_EXIT_OK;
}

static gboolean
write_report (const ReportOptions *options, const CtlTimeline *timeline,
              const Verification *verification, GError **error)
{
  g_autofree char *data = NULL;
  CtlReportContext context = {
    .ledger_dir = options->ledger_dir,
    .verify_ok = verification->ran,
    .verify_error = verification->error,
    .read_error = verification->read_error,
    .verify = &verification->result,
    .generated_us = g_get_real_time (),
  };

  if (g_strcmp0 (options->format, "json") == 0) {
    data = timeline_to_json (timeline, verification);
    return write_output (options->output, data, error);
  }
  data = ctl_report_html (timeline, &context);
  if (g_strcmp0 (options->format, "pdf") == 0)
    return write_pdf (options->output, data, error);
  return write_output (options->output, data, error);
}

int
ctl_report_main (int argc, char **argv)
{
  g_auto (ReportOptions) options = {0};
  g_auto (Verification) verification = {0};
  g_autoptr (CtlTimeline) timeline = NULL;
  g_autoptr (ConsentNotice) notice = NULL;
  g_autoptr (GError) error = NULL;

  if (!parse_options (argc, argv, &options))
    return CTL_EXIT_USAGE;
  timeline = read_timeline (&options, &verification, &error);
  if (timeline == NULL || !run_verification (&options, &verification, &error))
    return ctl_fail (error);
  notice = load_policy_notice (&options);
  if (!ctl_timeline_finish (timeline, notice)) {
    ctl_printerr ("the ledger in %s has no record of meeting '%s'%s%s", options.ledger_dir,
                  options.meeting,
                  verification.read_error != NULL ? "; reading stopped early: " : "",
                  verification.read_error != NULL ? verification.read_error : "");
    return verification.read_error != NULL ? CTL_EXIT_FINDING : CTL_EXIT_USAGE;
  }
  if (!write_report (&options, timeline, &verification, &error)) {
    ctl_printerr ("cannot write %s: %s", options.output, error->message);
    return CTL_EXIT_USAGE;
  }
  if (options.json)
    print_summary (&options, timeline, &verification);
  return finding_exit_code (&verification);
}
