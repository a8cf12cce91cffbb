/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_CONSENT_SINK (gst_consent_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstConsentSink, gst_consent_sink, GST, CONSENT_SINK, GstBin)

GST_ELEMENT_REGISTER_DECLARE (consentsink);

G_END_DECLS
