/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PLACEHOLDER until the consentsink issue lands: fails closed. */
#include "consent-storage.h"

gboolean
consent_storage_check_downstream (GstPad *srcpad, GstElement **offender)
{
  if (offender)
    *offender = NULL;
  return FALSE;
}
