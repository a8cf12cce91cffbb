/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the consentgate element tests: a scripted ConsentSource
 * and small buffer factories. */
#pragma once

#include <gst/gst.h>

#include "consent-source.h"

G_BEGIN_DECLS

/* FakeSource: a ConsentSource whose decisions the test sets by hand. */
#define FAKE_TYPE_SOURCE (fake_source_get_type ())
G_DECLARE_FINAL_TYPE (FakeSource, fake_source, FAKE, SOURCE, ConsentSource)

FakeSource *fake_source_new (gboolean allow_foreign_sinks);
/* Sets and emits a decision (@participant NULL: meeting-wide). */
void fake_source_decide (FakeSource *self, const char *participant, gboolean open,
                         const char *reason);

G_END_DECLS
