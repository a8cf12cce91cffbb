/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The GStreamer plugin "consent": registers its elements, nothing else. */
#include "consent-config.h"
#include <gst/gst.h>

#include "gstconsentgate.h"
#include "gstconsentsink.h"

static gboolean
plugin_init (GstPlugin *plugin)
{
  gboolean ok = FALSE;

  ok |= GST_ELEMENT_REGISTER (consentgate, plugin);
  ok |= GST_ELEMENT_REGISTER (consentsink, plugin);
  return ok;
}

#define PACKAGE CONSENT_PACKAGE
GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, consent,
                   "Recording consent: a gate that holds recording until everyone present "
                   "has accepted, and a sink that writes only to local storage",
                   plugin_init, CONSENT_VERSION, "LGPL", "consentgate",
                   "https://consentgate.invalid/")
