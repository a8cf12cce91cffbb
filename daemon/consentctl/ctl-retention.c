/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-retention.c: `consentctl retention prune`: applies the policy's
 * retention to the ledger (whole segments, through the ledger library, which
 * records the prune itself) and to recordings (media file + manifest, judged
 * by the manifest's end time against the notice's retention-days; each
 * deletion is recorded in the ledger first as a `recording-pruned` record).
 *
 * --dry-run opens nothing for writing: it reads the ledger and the storage
 * roots and lists what a real run would remove, with the same rules.
 */
#include "ctl-admin.h"
#include "ctl-common.h"
#include "consent-json.h"
#include "consent-policy.h"
#include "ledger-reader.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#define MANIFEST_SUFFIX ".manifest.json"
#define MANIFEST_MAX_BYTES (256 * 1024)
#define WALK_MAX_DEPTH 8
#define WALK_MAX_ENTRIES 1000000
#define DAY_US (G_GINT64_CONSTANT (86400) * G_USEC_PER_SEC)

typedef struct {
  CtlCommon common;
  gboolean dry_run;
  char *policy_file;
  gboolean json;
} RetentionOptions;

static void
retention_options_clear (RetentionOptions *options)
{
  ctl_common_clear (&options->common);
  g_free (options->policy_file);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RetentionOptions, retention_options_clear)

typedef struct {
  char *name;
  guint64 first_seq, last_seq;
  gint64 last_ts_us;
} SegmentPlan;

typedef struct {
  char *manifest_path;
  char *media_path;
  char *meeting;
  char *sha256;
  char *end_utc;
  guint64 size;
  gint64 end_us;
} RecordingPlan;

typedef struct {
  gint64 now_us;
  guint ledger_days, recording_days;
  GArray *segments;     /* SegmentPlan */
  GArray *recordings;   /* RecordingPlan */
  GPtrArray *skipped;   /* char*: manifests that could not be judged, and why */
  guint n_pruned_segments;
  guint n_deleted_recordings;
} Plan;

static void
segment_plan_clear (SegmentPlan *segment)
{
  g_free (segment->name);
}

static void
recording_plan_clear (RecordingPlan *recording)
{
  g_free (recording->manifest_path);
  g_free (recording->media_path);
  g_free (recording->meeting);
  g_free (recording->sha256);
  g_free (recording->end_utc);
}

static void
plan_clear (Plan *plan)
{
  g_clear_pointer (&plan->segments, g_array_unref);
  g_clear_pointer (&plan->recordings, g_array_unref);
  g_clear_pointer (&plan->skipped, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Plan, plan_clear)

static gboolean
parse_options (int argc, char **argv, RetentionOptions *options)
{
  const GOptionEntry entries[] = {
    {"dry-run", 'n', 0, G_OPTION_ARG_NONE, &options->dry_run,
     "List what would be removed; change nothing", NULL},
    {"policy", 0, 0, G_OPTION_ARG_FILENAME, &options->policy_file,
     "Policy file (default: STATE/policy.conf)", "FILE"},
    {"json", 0, 0, G_OPTION_ARG_NONE, &options->json,
     "Print what was (or would be) removed as JSON", NULL},
    {NULL},
  };

  if (!ctl_parse (&argc, &argv, "- apply the retention policy",
                  "Deletes ledger segments older than [ledger] retention-days and recordings\n"
                  "(media file and manifest) that ended more than [notice] retention-days ago,\n"
                  "and records both in the ledger. Needs the ledger to itself: stop consentd.",
                  entries, &options->common))
    return FALSE;
  if (argc > 1) {
    ctl_printerr ("retention prune takes no argument '%s' (see --help)", argv[1]);
    return FALSE;
  }
  if (options->policy_file == NULL)
    options->policy_file = ctl_state_path (&options->common, "policy.conf");
  return TRUE;
}

/* The same rule as consent_ledger_prune(): oldest first, stop at the first young segment. */
static gboolean
plan_segments (const char *state_dir, Plan *plan, GError **error)
{
  g_autofree char *ledger_dir = g_build_filename (state_dir, "ledger", NULL);
  g_autoptr (ConsentLedgerReader) reader = consent_ledger_reader_new (ledger_dir, NULL, error);
  gint64 cutoff = plan->now_us - (gint64) plan->ledger_days * DAY_US;
  g_autoptr (GArray) all = g_array_new (FALSE, TRUE, sizeof (SegmentPlan));

  if (reader == NULL)
    return FALSE;
  g_array_set_clear_func (all, (GDestroyNotify) segment_plan_clear);
  for (;;) {
    g_autoptr (ConsentLedgerRecord) record = NULL;
    SegmentPlan *last = all->len > 0 ? &g_array_index (all, SegmentPlan, all->len - 1) : NULL;

    if (!consent_ledger_reader_next (reader, &record, error)) {
      g_prefix_error (error, "cannot read the ledger (run 'consentctl audit verify'): ");
      return FALSE;
    }
    if (record == NULL)
      break;
    if (last == NULL || g_strcmp0 (last->name, record->segment) != 0) {
      SegmentPlan segment = {.name = g_strdup (record->segment), .first_seq = record->seq};

      g_array_append_val (all, segment);
      last = &g_array_index (all, SegmentPlan, all->len - 1);
    }
    last->last_seq = record->seq;
    last->last_ts_us = record->ts_us;
  }
  for (guint i = 0; i < all->len; i++) {
    SegmentPlan *segment = &g_array_index (all, SegmentPlan, i);

    if (segment->last_ts_us >= cutoff)
      break;
    g_array_append_val (plan->segments, *segment);
    segment->name = NULL; /* moved */
  }
  return TRUE;
}

static gboolean
read_manifest (const char *path, json_object **out, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  GStatBuf st;

  if (g_lstat (path, &st) != 0 || !S_ISREG (st.st_mode) || st.st_size > MANIFEST_MAX_BYTES) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "not a regular file of at most %d bytes", MANIFEST_MAX_BYTES);
    return FALSE;
  }
  if (!g_file_get_contents (path, &data, &len, error))
    return FALSE;
  *out = consent_json_parse_strict (data, len, MANIFEST_MAX_BYTES, 8, error);
  return *out != NULL;
}

/* Judges one manifest; adds it to the plan when its recording is past retention. */
static void
judge_manifest (const char *dir, const char *name, Plan *plan)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *expected = g_strndup (name, strlen (name) - strlen (MANIFEST_SUFFIX));
  g_autoptr (json_object) manifest = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GDateTime) end = NULL;
  const char *file = NULL, *end_utc = NULL, *meeting = NULL, *sha256 = NULL;
  gint64 size = 0;
  RecordingPlan recording = {0};

  if (!read_manifest (path, &manifest, &error) ||
      !consent_json_get_string (manifest, "file", TRUE, &file, &error) ||
      !consent_json_get_string (manifest, "end_utc", TRUE, &end_utc, &error) ||
      !consent_json_get_string (manifest, "meeting", FALSE, &meeting, &error) ||
      !consent_json_get_string (manifest, "sha256", FALSE, &sha256, &error) ||
      !consent_json_get_int64 (manifest, "size", FALSE, 0, G_MAXINT64, &size, &error)) {
    g_ptr_array_add (plan->skipped, g_strdup_printf ("%s: %s", path, error->message));
    return;
  }
  /* The manifest may only speak for its own sibling file. */
  if (strcmp (file, expected) != 0) {
    g_ptr_array_add (plan->skipped,
                     g_strdup_printf ("%s: names file '%s', not its sibling '%s'", path, file,
                                      expected));
    return;
  }
  end = g_date_time_new_from_iso8601 (end_utc, NULL);
  if (end == NULL) {
    g_ptr_array_add (plan->skipped, g_strdup_printf ("%s: end_utc '%s' is not an ISO 8601 time",
                                                     path, end_utc));
    return;
  }
  recording.end_us = g_date_time_to_unix (end) * G_USEC_PER_SEC + g_date_time_get_microsecond (end);
  if (recording.end_us >= plan->now_us - (gint64) plan->recording_days * DAY_US)
    return;
  recording.manifest_path = g_steal_pointer (&path);
  recording.media_path = g_build_filename (dir, file, NULL);
  recording.meeting = g_strdup (meeting);
  recording.sha256 = g_strdup (sha256);
  recording.end_utc = g_strdup (end_utc);
  recording.size = (guint64) size;
  g_array_append_val (plan->recordings, recording);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Walks a storage root without following symlinks, bounded in depth and entries. */
static void
walk_dir (const char *dir, guint depth, guint *n_entries, Plan *plan)
{
  g_autoptr (GDir) handle = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (handle == NULL)
    return;
  while ((name = g_dir_read_name (handle)) != NULL && ++*n_entries <= WALK_MAX_ENTRIES)
    g_ptr_array_add (names, g_strdup (name));
  /* Sorted, so that output and deletion order do not depend on the filesystem. */
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++) {
    const char *entry = g_ptr_array_index (names, i);
    g_autofree char *path = g_build_filename (dir, entry, NULL);
    GStatBuf st;

    if (g_lstat (path, &st) != 0)
      continue;
    if (S_ISDIR (st.st_mode) && depth < WALK_MAX_DEPTH)
      walk_dir (path, depth + 1, n_entries, plan);
    else if (S_ISREG (st.st_mode) && g_str_has_suffix (entry, MANIFEST_SUFFIX) &&
             entry[0] != '.')
      judge_manifest (dir, entry, plan);
  }
}

static void
plan_recordings (const ConsentPolicy *policy, Plan *plan)
{
  guint n_entries = 0;

  for (guint i = 0; policy->storage_roots != NULL && policy->storage_roots[i] != NULL; i++)
    walk_dir (policy->storage_roots[i], 0, &n_entries, plan);
  if (n_entries > WALK_MAX_ENTRIES)
    g_ptr_array_add (plan->skipped, g_strdup_printf ("the storage roots hold more than %d "
                                                     "entries: the rest was not examined",
                                                     WALK_MAX_ENTRIES));
}

static char *
recording_details (const RecordingPlan *recording, guint retention_days)
{
  g_autoptr (json_object) details = json_object_new_object ();
  g_autofree char *file = g_path_get_basename (recording->media_path);

  json_object_object_add (details, "file", json_object_new_string (file));
  json_object_object_add (details, "path", json_object_new_string (recording->media_path));
  if (recording->sha256 != NULL)
    json_object_object_add (details, "sha256", json_object_new_string (recording->sha256));
  json_object_object_add (details, "size", json_object_new_int64 ((gint64) recording->size));
  json_object_object_add (details, "end_utc", json_object_new_string (recording->end_utc));
  json_object_object_add (details, "retention-days", json_object_new_int (retention_days));
  return consent_json_to_string (details);
}

/* The ledger record is durable before the files go, as for the ledger's own prune. */
static gboolean
delete_recording (ConsentLedger *ledger, const RecordingPlan *recording, guint retention_days,
                  GError **error)
{
  g_autofree char *details = recording_details (recording, retention_days);
  g_autoptr (ConsentLedgerReceipt) receipt = NULL;
  ConsentLedgerEntry entry = {
    .type = "recording-pruned",
    .meeting = recording->meeting != NULL && consent_id_is_valid (recording->meeting)
                   ? recording->meeting
                   : NULL,
    .actor = "admin",
    .reason = "retention",
    .details_json = details,
  };

  receipt = consent_ledger_append_sync (ledger, &entry, error);
  if (receipt == NULL)
    return FALSE;
  if ((g_unlink (recording->media_path) != 0 && errno != ENOENT) ||
      g_unlink (recording->manifest_path) != 0) {
    int saved = errno;

    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                 "recorded the deletion of %s in the ledger (record %s) but could not delete "
                 "it: %s",
                 recording->media_path, receipt->id, g_strerror (saved));
    return FALSE;
  }
  return TRUE;
}

static gboolean
execute_plan (const RetentionOptions *options, Plan *plan, GError **error)
{
  g_autoptr (ConsentLedger) ledger = NULL;
  gboolean ok = TRUE;

  /* Opening starts a new segment: with nothing to remove, leave the ledger alone. */
  if (plan->segments->len == 0 && plan->recordings->len == 0)
    return TRUE;
  ledger = consent_ledger_open (options->common.state_dir, NULL, error);
  if (ledger == NULL) {
    if (g_error_matches (*error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_LOCKED))
      g_prefix_error (error, "stop consentd first: ");
    return FALSE;
  }
  if (plan->segments->len > 0)
    ok = consent_ledger_prune (ledger, (gint64) plan->ledger_days * DAY_US, plan->now_us,
                               &plan->n_pruned_segments, error);
  for (guint i = 0; ok && i < plan->recordings->len; i++) {
    ok = delete_recording (ledger, &g_array_index (plan->recordings, RecordingPlan, i),
                           plan->recording_days, error);
    if (ok)
      plan->n_deleted_recordings++;
  }
  if (!consent_ledger_close (ledger, ok ? error : NULL))
    ok = FALSE;
  return ok;
}

static json_object *
time_json (gint64 ts_us)
{
  g_autoptr (GDateTime) time = g_date_time_new_from_unix_utc (ts_us / G_USEC_PER_SEC);
  g_autofree char *text = time != NULL ? g_date_time_format_iso8601 (time) : NULL;

  return text != NULL ? json_object_new_string (text) : NULL;
}

static void
print_json (const Plan *plan, gboolean dry_run)
{
  g_autoptr (json_object) root = json_object_new_object ();
  json_object *segments = json_object_new_array ();
  json_object *recordings = json_object_new_array ();
  json_object *skipped = json_object_new_array ();
  guint n_segments = dry_run ? plan->segments->len : plan->n_pruned_segments;
  guint n_recordings = dry_run ? plan->recordings->len : plan->n_deleted_recordings;

  for (guint i = 0; i < n_segments; i++) {
    const SegmentPlan *segment = &g_array_index (plan->segments, SegmentPlan, i);
    json_object *item = json_object_new_object ();

    json_object_object_add (item, "name", json_object_new_string (segment->name));
    json_object_object_add (item, "first_seq", json_object_new_uint64 (segment->first_seq));
    json_object_object_add (item, "last_seq", json_object_new_uint64 (segment->last_seq));
    json_object_object_add (item, "last_time", time_json (segment->last_ts_us));
    json_object_array_add (segments, item);
  }
  for (guint i = 0; i < n_recordings; i++) {
    const RecordingPlan *recording = &g_array_index (plan->recordings, RecordingPlan, i);
    json_object *item = json_object_new_object ();

    json_object_object_add (item, "file", json_object_new_string (recording->media_path));
    json_object_object_add (item, "manifest", json_object_new_string (recording->manifest_path));
    json_object_object_add (item, "meeting", recording->meeting != NULL
                                                 ? json_object_new_string (recording->meeting)
                                                 : NULL);
    json_object_object_add (item, "end_utc", json_object_new_string (recording->end_utc));
    json_object_array_add (recordings, item);
  }
  for (guint i = 0; i < plan->skipped->len; i++)
    json_object_array_add (skipped, json_object_new_string (g_ptr_array_index (plan->skipped, i)));
  json_object_object_add (root, "dry_run", json_object_new_boolean (dry_run));
  json_object_object_add (root, "now", time_json (plan->now_us));
  json_object_object_add (root, "ledger_retention_days", json_object_new_int (plan->ledger_days));
  json_object_object_add (root, "recording_retention_days",
                          json_object_new_int (plan->recording_days));
  json_object_object_add (root, "segments", segments);
  json_object_object_add (root, "recordings", recordings);
  json_object_object_add (root, "skipped", skipped);
  printf ("%s\n", json_object_to_json_string_ext (root, JSON_C_TO_STRING_PLAIN |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE));
}

static void
print_text (const Plan *plan, gboolean dry_run)
{
  const char *verb = dry_run ? "would prune" : "pruned";
  guint n_segments = dry_run ? plan->segments->len : plan->n_pruned_segments;
  guint n_recordings = dry_run ? plan->recordings->len : plan->n_deleted_recordings;

  for (guint i = 0; i < n_segments; i++) {
    const SegmentPlan *segment = &g_array_index (plan->segments, SegmentPlan, i);

    printf ("%s ledger segment %s (records %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT ")\n", verb,
            segment->name, segment->first_seq, segment->last_seq);
  }
  for (guint i = 0; i < n_recordings; i++) {
    const RecordingPlan *recording = &g_array_index (plan->recordings, RecordingPlan, i);

    printf ("%s recording %s (ended %s)\n", verb, recording->media_path, recording->end_utc);
  }
  for (guint i = 0; i < plan->skipped->len; i++)
    ctl_printerr ("retention: skipped %s", (char *) g_ptr_array_index (plan->skipped, i));
  printf ("%u ledger segment%s and %u recording%s %s%s.\n", n_segments, n_segments == 1 ? "" : "s",
          n_recordings, n_recordings == 1 ? "" : "s", dry_run ? "would be pruned" : "pruned",
          dry_run ? " (dry run: nothing changed)" : "");
}

int
ctl_retention_main (int argc, char **argv)
{
  g_auto (RetentionOptions) options = {0};
  g_auto (Plan) plan = {0};
  g_autoptr (GError) error = NULL;
  g_autoptr (ConsentPolicy) policy = NULL;
  gboolean ok;

  if (!parse_options (argc, argv, &options))
    return CTL_EXIT_USAGE;
  policy = consent_policy_load_file (options.policy_file, &error);
  if (policy == NULL)
    return ctl_fail (error);
  plan.now_us = g_get_real_time ();
  plan.ledger_days = policy->ledger_retention_days;
  plan.recording_days = policy->notice->retention_days;
  plan.segments = g_array_new (FALSE, TRUE, sizeof (SegmentPlan));
  g_array_set_clear_func (plan.segments, (GDestroyNotify) segment_plan_clear);
  plan.recordings = g_array_new (FALSE, TRUE, sizeof (RecordingPlan));
  g_array_set_clear_func (plan.recordings, (GDestroyNotify) recording_plan_clear);
  plan.skipped = g_ptr_array_new_with_free_func (g_free);
  if (!plan_segments (options.common.state_dir, &plan, &error))
    return ctl_fail (error);
  plan_recordings (policy, &plan);
  ok = options.dry_run || execute_plan (&options, &plan, &error);
  if (options.json)
    print_json (&plan, options.dry_run);
  else
    print_text (&plan, options.dry_run);
  if (!ok)
    return ctl_fail (error);
  return CTL_EXIT_OK;
}
