/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libconsent: the consent model shared by consentd, consentctl and the plugin.
 * No sockets, no GStreamer, no files beyond reading its policy. */
#pragma once

#include "consent-types.h"
#include "consent-notice.h"
#include "consent-policy.h"
#include "consent-event.h"
#include "consent-recorder.h"
#include "consent-meeting.h"
#include "consent-json.h"
#include "consent-wire.h"
#include "consent-token.h"
