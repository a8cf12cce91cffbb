/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* http-admin.h: everything consentd serves over plain HTTP: the admin API,
 * /healthz, /metrics, the consent page, and the websocket upgrade checks. */
#pragma once

#include <libwebsockets.h>

#include "daemon.h"

G_BEGIN_DECLS

/** Per-connection storage lws allocates for the HTTP protocol. */
typedef struct {
  gpointer txn;
} ConsentdHttpSlot;

/** consentd_http_callback: the lws callback of the first ("http") protocol. */
int consentd_http_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user,
                            void *in, size_t len);

G_END_DECLS
