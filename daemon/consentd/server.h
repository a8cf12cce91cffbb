/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* server.h: the libwebsockets context on the GLib main loop, with optional TLS. */
#pragma once

#include "daemon.h"

G_BEGIN_DECLS

/**
 * consentd_server_start:
 * Listens on the configured address (TLS when a cert and key are set) with
 * libwebsockets driven by @daemon->loop. @bound_port gets the actual port.
 */
ConsentdServer *consentd_server_start (ConsentdDaemon *daemon, guint *bound_port,
                                       GError **error);

/**
 * consentd_server_stop:
 * Closes every connection and destroys the lws context, while the main loop
 * still exists (the glib event backend of lws 4.1 crashes when a context is
 * destroyed after its loop is gone).
 */
void consentd_server_stop (ConsentdServer *server);

G_END_DECLS
