/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ws.h: websocket sessions of the consent.v1 protocol. */
#pragma once

#include <libwebsockets.h>

#include "daemon.h"

G_BEGIN_DECLS

#define CONSENTD_WS_PROTOCOL "consent.v1"
#define CONSENTD_WS_PATH "/v1/ws"

/** consentd_ws_callback: the lws protocol callback of "consent.v1". */
int consentd_ws_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user,
                          void *in, size_t len);

/** What the session is (set by its hello); NULL/FALSE before. */
const char *consentd_session_get_participant (ConsentdSession *s);
gboolean consentd_session_is_recorder (ConsentdSession *s);

/**
 * consentd_session_follows: whether @s is a recorder that follows the
 * decision announced for @participant (NULL = meeting-wide) of @m. In meeting
 * scope every recorder follows the meeting-wide decision.
 */
gboolean consentd_session_follows (ConsentdSession *s, ConsentMeeting *m,
                                   const char *participant);

/** consentd_session_get_decision: the decision of @m that recorder @s follows. */
ConsentGateDecision *consentd_session_get_decision (ConsentdSession *s,
                                                    ConsentMeeting *m);

/** consentd_session_send: queues @msg (serialized with libconsent's codec). */
void consentd_session_send (ConsentdSession *s, const ConsentMessage *msg);

/** consentd_session_send_gate: a `gate` for @d, naming the followed participant. */
void consentd_session_send_gate (ConsentdSession *s, const ConsentGateDecision *d);

/** consentd_session_send_state: a `state` message from the meeting's current state. */
void consentd_session_send_state (ConsentdSession *s, ConsentMeeting *meeting);

/** consentd_session_meeting_ended: the meeting is gone; the session closes (1000). */
void consentd_session_meeting_ended (ConsentdSession *s);

G_END_DECLS
