/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the strict JSON reader. Whatever it accepts, the canonical
 * writer must turn into JSON it accepts again, unchanged by a second pass. */
#include "consent.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (json_object) obj = NULL;
  g_autoptr (json_object) back = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *again = NULL;

  obj = consent_json_parse_strict ((const char *) data, size, 65536, 16, &error);
  if (obj == NULL) {
    if (error == NULL || error->domain != CONSENT_ERROR)
      g_error ("refusal without a consent error");
    return 0;
  }
  text = consent_json_to_string (obj);
  back = consent_json_parse_strict (text, strlen (text), G_MAXSIZE, 16, &error);
  if (back == NULL)
    g_error ("canonical output does not parse: %s: %s", error->message, text);
  again = consent_json_to_string (back);
  if (strcmp (text, again) != 0)
    g_error ("canonical output not stable: %s vs %s", text, again);
  return 0;
}
