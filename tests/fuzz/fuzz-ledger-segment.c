/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: a whole segment file, read by the reader (restart recovery,
 * export) and by the verifier (audit). Both must refuse bad input with a
 * reason and never crash. */
#include "ledger-reader.h"
#include "ledger-verify.h"

#include <glib/gstdio.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define FUZZ_SEGMENT "seg-00000000000000000000.jsonl"
#define FUZZ_MAX_RECORDS 10000

static char *fuzz_dir;

static void
fuzz_cleanup (void)
{
  g_autofree char *seg = g_build_filename (fuzz_dir, FUZZ_SEGMENT, NULL);
  g_unlink (seg);
  g_rmdir (fuzz_dir);
}

static const char *
fuzz_ledger_dir (void)
{
  if (fuzz_dir == NULL) {
    g_autoptr (GError) error = NULL;
    fuzz_dir = g_dir_make_tmp ("fuzz-ledger-XXXXXX", &error);
    if (fuzz_dir == NULL)
      g_error ("%s", error->message);
    atexit (fuzz_cleanup);
  }
  return fuzz_dir;
}

/* Reads every record; TRUE if the reader accepted the whole file. */
static gboolean
read_all (const char *dir)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ConsentLedgerReader) reader = consent_ledger_reader_new (dir, NULL, &error);
  guint n = 0;

  if (reader == NULL)
    return FALSE;
  for (;;) {
    g_autoptr (ConsentLedgerRecord) record = NULL;
    if (!consent_ledger_reader_next (reader, &record, &error)) {
      if (error == NULL)
        g_error ("reader refusal without a reason");
      return FALSE;
    }
    if (record == NULL)
      return TRUE;
    if (record->type == NULL || record->id == NULL)
      g_error ("record without type or id");
    if (++n > FUZZ_MAX_RECORDS)
      g_error ("more records than input lines");
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *dir = fuzz_ledger_dir ();
  g_autofree char *seg = g_build_filename (dir, FUZZ_SEGMENT, NULL);
  g_autoptr (GError) error = NULL;
  ConsentLedgerVerifyOptions options = {.ledger_dir = dir};
  ConsentLedgerVerifyResult result = {0};

  if (size > 256 * 1024)
    return 0;
  if (!g_file_set_contents (seg, (const char *)data, size, &error))
    g_error ("%s", error->message);
  read_all (dir);
  if (consent_ledger_verify (&options, &result, &error)) {
    if (!result.intact && result.bad_reason == NULL)
      g_error ("verify found a problem but gives no reason");
    if (result.intact && result.has_records && result.last_seq < result.first_seq)
      g_error ("verify: last seq before first seq");
  }
  consent_ledger_verify_result_clear (&result);
  return 0;
}
