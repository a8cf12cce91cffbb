/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ctl-audit.c: `consentctl audit verify|export|checkpoint`. */
#include "ctl-common.h"
#include "ctl-verbs.h"
#include "ledger-reader.h"
#include "ledger-verify.h"

#include <gio/gunixoutputstream.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#define WITNESS_MAX 4096

typedef struct {
  CtlCommon common;
  char *ledger_dir;
  char *key_file;
  char *witness_file;
  gboolean json;
} VerifyOptions;

static void
verify_options_clear (VerifyOptions *o)
{
  ctl_common_clear (&o->common);
  g_free (o->ledger_dir);
  g_free (o->key_file);
  g_free (o->witness_file);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VerifyOptions, verify_options_clear)

static char *
read_witness (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &text, &len, error))
    return NULL;
  if (len > WITNESS_MAX) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                 "%s is larger than a checkpoint line (%d bytes)", path, WITNESS_MAX);
    return NULL;
  }
  return g_steal_pointer (&text);
}

static void
print_json_result (const ConsentLedgerVerifyResult *r)
{
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "intact", json_object_new_boolean (r->intact));
  json_object_object_add (o, "seals-checked", json_object_new_boolean (r->seals_checked));
  json_object_object_add (o, "records", json_object_new_uint64 (r->n_records));
  json_object_object_add (o, "segments", json_object_new_int (r->n_segments));
  json_object_object_add (o, "checkpoints", json_object_new_int (r->n_checkpoints));
  json_object_object_add (o, "witness-checked", json_object_new_boolean (r->witness_checked));
  if (r->has_records) {
    json_object_object_add (o, "first-seq", json_object_new_uint64 (r->first_seq));
    json_object_object_add (o, "last-seq", json_object_new_uint64 (r->last_seq));
  }
  if (r->last_hash)
    json_object_object_add (o, "root", json_object_new_string (r->last_hash));
  if (!r->intact) {
    json_object *bad = json_object_new_object ();
    if (r->bad_file)
      json_object_object_add (bad, "file", json_object_new_string (r->bad_file));
    if (r->bad_line)
      json_object_object_add (bad, "line", json_object_new_int ((int) r->bad_line));
    if (r->bad_has_seq)
      json_object_object_add (bad, "seq", json_object_new_uint64 (r->bad_seq));
    json_object_object_add (bad, "reason", json_object_new_string (r->bad_reason));
    json_object_object_add (o, "first-bad", bad);
  }
  printf ("%s\n", json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN));
  json_object_put (o);
}

static void
print_text_result (const ConsentLedgerVerifyResult *r, const char *key_from)
{
  if (!r->intact) {
    printf ("TAMPERED OR INCONSISTENT: %s", r->bad_file ? r->bad_file : "ledger");
    if (r->bad_line)
      printf (" line %u", r->bad_line);
    if (r->bad_has_seq)
      printf (" (seq %" G_GUINT64_FORMAT ")", r->bad_seq);
    printf (": %s\n", r->bad_reason);
    return;
  }
  if (r->has_records)
    printf ("ledger intact: %" G_GUINT64_FORMAT " records (seq %" G_GUINT64_FORMAT
            "..%" G_GUINT64_FORMAT ") in %u segments, root %s\n",
            r->n_records, r->first_seq, r->last_seq, r->n_segments, r->last_hash);
  else
    printf ("ledger intact: no records\n");
  if (r->seals_checked)
    printf ("seals: every mac verified with the key from %s\n", key_from);
  else
    printf ("seals: NOT checked (no key given: use --key-file with the audit key); only the "
            "hash chain and checkpoint signatures were verified\n");
  printf ("checkpoints: %u verified%s\n", r->n_checkpoints,
          r->witness_checked ? " (including the witness)" : "");
}

int
ctl_audit_verify_main (int argc, char **argv)
{
  g_auto (VerifyOptions) o = {0};
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) key = NULL;
  g_autofree char *witness = NULL;
  const GOptionEntry entries[] = {
    {"ledger", 0, 0, G_OPTION_ARG_FILENAME, &o.ledger_dir,
     "Ledger directory (default: STATE/ledger)", "DIR"},
    {"key-file", 0, 0, G_OPTION_ARG_FILENAME, &o.key_file,
     "The initial seal key (audit.key): also check every mac", "FILE"},
    {"checkpoint", 0, 0, G_OPTION_ARG_FILENAME, &o.witness_file,
     "A checkpoint line kept elsewhere (from 'audit checkpoint'): the log must still "
     "contain it", "FILE"},
    {"json", 0, 0, G_OPTION_ARG_NONE, &o.json, "Print the result as JSON", NULL},
    {NULL},
  };
  if (!ctl_parse (&argc, &argv, "- verify the consent ledger",
                  "Exit status: 0 intact, 1 tampering or inconsistency (the first bad record "
                  "is named), 2 usage or I/O error.\nKeys are read from files only.",
                  entries, &o.common))
    return CTL_EXIT_USAGE;
  if (argc > 1) {
    ctl_printerr ("unexpected argument '%s'", argv[1]);
    return CTL_EXIT_USAGE;
  }
  if (!o.ledger_dir)
    o.ledger_dir = ctl_state_path (&o.common, "ledger");
  if (o.key_file && !(key = consent_ledger_read_key_file (o.key_file, &error)))
    return ctl_fail (error);
  if (o.witness_file && !(witness = read_witness (o.witness_file, &error)))
    return ctl_fail (error);

  ConsentLedgerVerifyOptions vo = {.ledger_dir = o.ledger_dir, .key = key, .witness = witness};
  ConsentLedgerVerifyResult r;
  if (!consent_ledger_verify (&vo, &r, &error))
    return ctl_fail (error);
  if (o.json)
    print_json_result (&r);
  else
    print_text_result (&r, o.key_file);
  int code = r.intact ? CTL_EXIT_OK : CTL_EXIT_FINDING;
  consent_ledger_verify_result_clear (&r);
  return code;
}

/* ---- export ---- */

typedef struct {
  CtlCommon common;
  char *ledger_dir;
  char *meeting;
  char *subject;
  char *format;
} ExportOptions;

static void
export_options_clear (ExportOptions *o)
{
  ctl_common_clear (&o->common);
  g_free (o->ledger_dir);
  g_free (o->meeting);
  g_free (o->subject);
  g_free (o->format);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ExportOptions, export_options_clear)

gboolean
ctl_parse_format (const char *name, ConsentLedgerExportFormat *out)
{
  if (!name || g_str_equal (name, "json"))
    *out = CONSENT_LEDGER_EXPORT_JSON;
  else if (g_str_equal (name, "csv"))
    *out = CONSENT_LEDGER_EXPORT_CSV;
  else {
    ctl_printerr ("--format must be json or csv, not '%s'", name);
    return FALSE;
  }
  return TRUE;
}

int
ctl_export_to_stdout (const char *ledger_dir, const char *keys_dir, const char *meeting,
                      const char *subject, ConsentLedgerExportFormat format)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GOutputStream) out = g_unix_output_stream_new (1, FALSE);
  if (!consent_ledger_export (ledger_dir, keys_dir, meeting, subject, format, out, NULL,
                              &error))
    return ctl_fail (error);
  return CTL_EXIT_OK;
}

int
ctl_audit_export_main (int argc, char **argv)
{
  g_auto (ExportOptions) o = {0};
  ConsentLedgerExportFormat format;
  const GOptionEntry entries[] = {
    {"ledger", 0, 0, G_OPTION_ARG_FILENAME, &o.ledger_dir,
     "Ledger directory (default: STATE/ledger)", "DIR"},
    {"meeting", 0, 0, G_OPTION_ARG_STRING, &o.meeting, "Export this meeting's records", "M"},
    {"subject", 0, 0, G_OPTION_ARG_STRING, &o.subject,
     "Export this subject's records (pseudonym)", "S"},
    {"format", 0, 0, G_OPTION_ARG_STRING, &o.format, "json (JSON lines, default) or csv",
     "FMT"},
    {NULL},
  };
  if (!ctl_parse (&argc, &argv, "- export ledger records",
                  "Personal data is decrypted with the key store STATE/keys where the "
                  "subject's key still exists; erased subjects show none.",
                  entries, &o.common))
    return CTL_EXIT_USAGE;
  if ((o.meeting == NULL) == (o.subject == NULL) || argc > 1) {
    ctl_printerr ("give exactly one of --meeting M or --subject S");
    return CTL_EXIT_USAGE;
  }
  if (!ctl_parse_format (o.format, &format))
    return CTL_EXIT_USAGE;
  if (!o.ledger_dir)
    o.ledger_dir = ctl_state_path (&o.common, "ledger");
  g_autofree char *keys = ctl_state_path (&o.common, "keys");
  return ctl_export_to_stdout (o.ledger_dir, keys, o.meeting, o.subject, format);
}

int
ctl_audit_checkpoint_main (int argc, char **argv)
{
  CtlCommon common = {0};
  g_autofree char *ledger_dir = NULL;
  g_autoptr (GError) error = NULL;
  const GOptionEntry entries[] = {
    {"ledger", 0, 0, G_OPTION_ARG_FILENAME, &ledger_dir,
     "Ledger directory (default: STATE/ledger)", "DIR"},
    {NULL},
  };
  gboolean ok = ctl_parse (&argc, &argv, "- print the latest signed checkpoint",
                           "Store the line elsewhere; later, 'audit verify --checkpoint FILE' "
                           "proves the log still holds everything it covers.",
                           entries, &common);
  if (ok && !ledger_dir)
    ledger_dir = ctl_state_path (&common, "ledger");
  ctl_common_clear (&common);
  if (!ok)
    return CTL_EXIT_USAGE;
  g_autofree char *line = consent_ledger_export_checkpoint (ledger_dir, &error);
  if (!line)
    return ctl_fail (error);
  printf ("%s\n", line);
  return CTL_EXIT_OK;
}
