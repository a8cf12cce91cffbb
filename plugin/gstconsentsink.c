/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PLACEHOLDER until its issue lands: registers nothing. */
#include "gstconsentsink.h"

gboolean
gst_element_register_consentsink (GstPlugin *plugin)
{
  return TRUE;
}
