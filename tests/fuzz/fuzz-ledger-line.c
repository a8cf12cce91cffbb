/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: one ledger record line, as the reader and verifier check it
 * before trusting any field. */
#include "ledger-record.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (LedgerLineChecker) checker = ledger_line_checker_new (TRUE);
  g_autoptr (GError) error = NULL;
  LedgerLine line;

  memset (&line, 0, sizeof line);
  if (!ledger_line_check (checker, (const char *)data, size, &line, &error)) {
    if (error == NULL)
      g_error ("refusal without a reason");
    return 0;
  }
  /* An accepted line has its fixed-size fields terminated and in range. */
  if (strlen (line.hash) != LEDGER_HASH_HEX || strlen (line.prev) != LEDGER_HASH_HEX)
    g_error ("accepted line with a malformed hash or prev");
  if (memchr (line.type, '\0', sizeof line.type) == NULL)
    g_error ("type not terminated");
  if (line.mac_input == NULL || line.mac_input_len > size)
    g_error ("mac input outside the line");
  return 0;
}
