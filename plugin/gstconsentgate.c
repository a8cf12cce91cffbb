/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PLACEHOLDER until its issue lands: registers nothing. */
#include "gstconsentgate.h"

gboolean
gst_element_register_consentgate (GstPlugin *plugin)
{
  return TRUE;
}
