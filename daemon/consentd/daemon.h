/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon.h: the one process-wide object every consentd module hangs off. */
#pragma once

#include <glib.h>

#include "conf.h"
#include "consent.h"
#include "ledger.h"
#include "state.h"

G_BEGIN_DECLS

typedef struct _ConsentdRegistry ConsentdRegistry;
typedef struct _ConsentdMetrics ConsentdMetrics;
typedef struct _ConsentdWeb ConsentdWeb;
typedef struct _ConsentdServer ConsentdServer;
typedef struct _ConsentdSession ConsentdSession;

/**
 * ConsentdDaemon:
 * Owned by main.c; lives for the whole run. Everything runs on the default
 * GMainContext (libwebsockets, ledger completions, timers, signals).
 */
typedef struct {
  ConsentdConfig *config;
  ConsentdState *state;
  ConsentPolicy *policy;
  ConsentLedger *ledger;
  ConsentdRegistry *registry;
  ConsentdMetrics *metrics;
  ConsentdWeb *web;
  ConsentdServer *server;
  GMainLoop *loop;
  gboolean ledger_failed; /* fail closed: no consent is admitted */
  gboolean stopping;
  guint n_sessions;            /* websocket sessions */
  GHashTable *sessions_per_ip; /* ip → count */
  guint sources[4];            /* signals, tick, watchdog: removed first at shutdown */
  gboolean marker_created;     /* <state>/consentd.unclean is ours to remove (main.c) */
  gboolean was_unclean;        /* the marker was there: the last run stopped uncleanly */
} ConsentdDaemon;

G_END_DECLS
