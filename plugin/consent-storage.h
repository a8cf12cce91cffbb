/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>
#include "consent.h"

G_BEGIN_DECLS

/**
 * consent_storage_check_downstream:
 * Promise 7: the gate opens only into local storage. Walks every path
 * downstream of @srcpad (through queues, parsers, muxers, tees, bins, ghost
 * pads) and returns TRUE only when each ends in a consentsink. Otherwise FALSE
 * and, if @offender is not NULL, a ref to the first element that is not
 * (NULL when the pad is unlinked). Fails closed.
 */
gboolean consent_storage_check_downstream (GstPad *srcpad, GstElement **offender);

G_END_DECLS
