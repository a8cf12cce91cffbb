/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "consent-source.h"

G_BEGIN_DECLS

/**
 * ConsentClientSource:
 * The #ConsentSource that follows consentd over the `consent.v1` websocket
 * as a recorder. One connection per process and (server, meeting,
 * participant-or-none): every gate and sink that follows the same decision
 * shares it. A connection for a participant asks consentd (in its hello) for
 * that participant's decisions (policy scope=participant) and heeds only
 * gate/lease messages naming that participant; a meeting-wide one heeds only
 * those naming none. Anything else is ignored (fail closed).
 *
 * Fail closed (promise 1): the decision starts closed ("initial"); it opens
 * only on a `gate` open from the daemon received on the current connection.
 * A lost connection closes it at once ("disconnected"); a lease that runs out
 * without a `lease` heartbeat closes it ("lease-expired") and drops the
 * connection. Reconnects use exponential backoff, capped.
 *
 * Threading: the websocket runs on the client's own thread (a libwebsockets
 * context serviced there). "decision-changed" is emitted from that thread,
 * with no lock of the client held. All public methods may be called from any
 * thread. Lock order: the registry lock, then a client's lock; neither is
 * held while emitting.
 */
#define CONSENT_TYPE_CLIENT_SOURCE (consent_client_source_get_type())
G_DECLARE_FINAL_TYPE(ConsentClientSource, consent_client_source, CONSENT, CLIENT_SOURCE,
                     ConsentSource)

/* Reconnect backoff: starts here, doubles, is capped (milliseconds). */
#define CONSENT_CLIENT_BACKOFF_MIN_MS 100
#define CONSENT_CLIENT_BACKOFF_MAX_MS 3000
/* A token file larger than this is refused (tokens are < 1 KiB). */
#define CONSENT_CLIENT_MAX_TOKEN_FILE 4096
/* Segment reports waiting for a connection; more are refused. */
#define CONSENT_CLIENT_MAX_QUEUED 64

/**
 * consent_client_source_get:
 * @server: `ws://HOST:PORT` or `wss://HOST:PORT` (path defaults to `/v1/ws`)
 * @meeting: the meeting id (also the recorder token's audience)
 * @token_file: a file holding the recorder token; read once, never logged
 * @ca_file: (nullable): PEM CA bundle to verify a wss server with; NULL uses
 *   the system store. The server's host name is always checked.
 *
 * Returns the process-wide shared connection for (@server, @meeting),
 * creating and starting it if needed. The first caller's @token_file and
 * @ca_file are used for a shared connection. The connection stops, and its
 * thread is joined, when the last reference is dropped.
 *
 * Returns: (transfer full): the source, or NULL with @error set (bad URL,
 * invalid meeting id, unreadable or empty token file).
 */
ConsentSource *consent_client_source_get(const char *server, const char *meeting,
                                         const char *token_file, const char *ca_file,
                                         GError **error);

/**
 * consent_client_source_get_for_participant:
 * @participant: (nullable): the participant whose own decision to follow;
 *   NULL follows the meeting-wide decision (as consent_client_source_get())
 *
 * Like consent_client_source_get(), for the connection that follows
 * @participant. Its consent_source_get_decision() answers for @participant
 * only; asked about anyone else (or NULL) it answers closed ("no-source").
 *
 * Returns: (transfer full): the source, or NULL with @error set (also for an
 * invalid participant id).
 */
ConsentSource *consent_client_source_get_for_participant(const char *server,
                                                         const char *meeting,
                                                         const char *participant,
                                                         const char *token_file,
                                                         const char *ca_file,
                                                         GError **error);

/** consent_client_source_is_connected: TRUE once a `gate` arrived on a live connection.
 */
gboolean consent_client_source_is_connected(ConsentClientSource *self);

G_END_DECLS
