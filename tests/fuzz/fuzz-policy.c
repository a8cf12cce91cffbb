/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the policy file reader. A policy that loads must write out
 * (consent_policy_to_data) and load back to the same text. */
#include "consent.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (ConsentPolicy) policy = NULL;
  g_autoptr (ConsentPolicy) back = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *again = NULL;

  policy = consent_policy_load_data ((const char *) data, size, "fuzz.conf", &error);
  if (policy == NULL) {
    /* Every refusal names the file and a line. */
    if (error == NULL || !g_str_has_prefix (error->message, "fuzz.conf:"))
      g_error ("refusal without location: %s", error != NULL ? error->message : "(none)");
    return 0;
  }
  text = consent_policy_to_data (policy);
  back = consent_policy_load_data (text, strlen (text), "written.conf", &error);
  if (back == NULL)
    g_error ("written policy does not load: %s\n%s", error->message, text);
  again = consent_policy_to_data (back);
  if (strcmp (text, again) != 0)
    g_error ("policy round trip changed:\n%s\n---\n%s", text, again);
  return 0;
}
