/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the consent.v1 message codec. A message that parses must
 * write back out and parse again to the same text. */
#include "consent.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (ConsentMessage) msg = NULL;
  g_autofree char *json = NULL;
  g_autofree char *again = NULL;
  g_autofree char *text = NULL;
  g_autofree char *error_json = NULL;

  msg = consent_message_parse ((const char *) data, size, NULL, NULL);
  if (msg != NULL) {
    g_autoptr (ConsentMessage) back = NULL;
    g_autoptr (GError) error = NULL;
    json = consent_message_to_json (msg);
    if (json == NULL)
      abort ();
    back = consent_message_parse (json, strlen (json), NULL, &error);
    if (back == NULL)
      g_error ("re-parse of %s failed: %s", json, error->message);
    again = consent_message_to_json (back);
    if (g_strcmp0 (json, again) != 0)
      g_error ("round trip changed %s into %s", json, again);
  }
  /* Error messages quote peer input: any bytes must give a valid message. */
  text = g_strndup ((const char *) data, MIN (size, 4096));
  error_json = consent_message_error_json (CONSENT_ERROR_BAD_JSON, text);
  {
    g_autoptr (ConsentMessage) err = consent_message_parse (error_json, strlen (error_json), NULL, NULL);
    if (err == NULL)
      g_error ("error message does not parse: %s", error_json);
  }
  return 0;
}
