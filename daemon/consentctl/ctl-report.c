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

static void
print_summary (const ReportOptions *options, const CtlTimeline *timeline,
               const CtlReportContext *context)
{
  g_autoptr (json_object) root = json_object_new_object ();

  json_object_object_add (root, "output", json_object_new_string (options->output));
  json_object_object_add (root, "format", json_object_new_string (options->format));
  json_object_object_add (root, "meeting", json_object_new_string (timeline->meeting));
  json_object_object_add (root, "events", json_object_new_int64 (timeline->records->len));
  json_object_object_add (root, "participants", json_object_new_int64 (timeline->lanes->len));
  json_object_object_add (root, "segments", json_object_new_int64 (timeline->segments->len));
  json_object_object_add (root, "verification", ctl_report_verification_json (context));
  printf ("%s\n", json_object_to_json_string_ext (root, JSON_C_TO_STRING_PLAIN |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE));
}

static int
finding_exit_code (const CtlReportContext *context)
{
  if (context->read_error != NULL || !context->verify_ok || !context->verify->intact)
    return CTL_EXIT_FINDING;
  return CTL_EXIT_OK;
}

static gboolean
write_report (const ReportOptions *options, const CtlTimeline *timeline,
              const CtlReportContext *context, GError **error)
{
  g_autofree char *data = NULL;

  if (g_strcmp0 (options->format, "json") == 0) {
    data = ctl_report_json (timeline, context);
    return write_output (options->output, data, error);
  }
  data = ctl_report_html (timeline, context);
  if (g_strcmp0 (options->format, "pdf") == 0)
    return ctl_report_write_pdf (options->output, data, error);
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
  CtlReportContext context;

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
  context = (CtlReportContext){
    .ledger_dir = options.ledger_dir,
    .verify_ok = verification.ran,
    .verify_error = verification.error,
    .read_error = verification.read_error,
    .verify = &verification.result,
    .generated_us = g_get_real_time (),
  };
  if (!write_report (&options, timeline, &context, &error)) {
    ctl_printerr ("cannot write %s: %s", options.output, error->message);
    return CTL_EXIT_USAGE;
  }
  if (options.json)
    print_summary (&options, timeline, &context);
  return finding_exit_code (&context);
}
