/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: consentd.conf. A refusal names the file and line and leaves
 * the config untouched; an accepted config keeps every limit nonzero. */
#include "conf.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (ConsentdConfig) config = consentd_config_new_default ();
  g_autoptr (ConsentdConfig) pristine = consentd_config_new_default ();
  g_autoptr (GError) error = NULL;

  if (!consentd_config_parse (config, (const char *)data, size, "fuzz.conf", &error)) {
    if (error == NULL || !g_str_has_prefix (error->message, "fuzz.conf:"))
      g_error ("refusal without location: %s", error != NULL ? error->message : "(none)");
    /* "On error nothing is applied": spot-check the limits. */
    if (config->max_message_bytes != pristine->max_message_bytes ||
        config->max_connections != pristine->max_connections ||
        config->listen_port != pristine->listen_port ||
        g_strcmp0 (config->listen_host, pristine->listen_host) != 0)
      g_error ("a refused config changed the settings: %s", error->message);
    return 0;
  }
  /* Zero limits would disable a cap; the ranges forbid them. */
  if (config->max_message_bytes == 0 || config->max_json_depth == 0 ||
      config->messages_per_second == 0 || config->max_connections == 0 ||
      config->max_admin_body_bytes == 0)
    g_error ("an accepted config has a zero limit");
  return 0;
}
