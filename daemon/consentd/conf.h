/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* conf.h: consentd's configuration (consentd.conf, a GKeyFile) and its limits. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * ConsentdConfig:
 * Everything consentd.conf can set, with the embedded defaults filled in by
 * consentd_config_new_default(). Paths are as written (relative paths are
 * taken relative to the working directory); NULL means "derive at start".
 */
typedef struct {
  /* [server] */
  char *listen_host; /* "127.0.0.1", "::1", "0.0.0.0" */
  guint listen_port; /* 0 = any free port (logged at start) */
  char **origins;    /* browser Origin allow-list; empty = only same-host pages */
  char *web_dir;     /* consent page files; NULL = compiled-in datadir */
  guint lease_ms;    /* recorder lease; heartbeats every lease_ms/3 */

  /* [tls] */
  char *tls_cert; /* PEM file; a bare name is looked up in $CREDENTIALS_DIRECTORY */
  char *tls_key;

  /* [limits] */
  guint max_message_bytes; /* one websocket message, counted across fragments */
  guint max_json_depth;
  guint messages_per_second; /* per connection, token bucket with this burst */
  guint max_connections;     /* websocket sessions in total */
  guint max_connections_per_ip;
  guint hello_timeout_s;
  guint ping_interval_s; /* idle seconds before a ping */
  guint idle_timeout_s;  /* idle seconds before hanging up */
  guint max_admin_body_bytes;
  guint max_meetings;
  guint max_participants; /* roster entries per meeting */

  /* [state] */
  char *state_dir;   /* NULL = $XDG_STATE_HOME/consentgate */
  char *policy_file; /* NULL = <state-dir>/policy.conf */
} ConsentdConfig;

#define CONSENTD_DEFAULT_HOST "127.0.0.1"
#define CONSENTD_DEFAULT_PORT 8480

ConsentdConfig *consentd_config_new_default (void);
void consentd_config_free (ConsentdConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ConsentdConfig, consentd_config_free)

/**
 * consentd_config_parse:
 * Applies the settings of one consentd.conf held in @data (@len bytes, need
 * not be NUL-terminated) on top of @config. On error nothing is applied and
 * @error says "FILE:LINE: what is wrong (what is allowed)". Unknown groups
 * and keys are errors: a typo must not silently leave a limit at its default.
 * Safe on any input (the config fuzz target calls it).
 */
gboolean consentd_config_parse (ConsentdConfig *config, const char *data, gsize len,
                                const char *file_name, GError **error);

/** consentd_config_load_file: reads @path and calls consentd_config_parse(). */
gboolean consentd_config_load_file (ConsentdConfig *config, const char *path,
                                    GError **error);

/**
 * consentd_parse_listen:
 * Parses "ADDR:PORT" ("127.0.0.1:8480", "[::1]:0"); the address must be a
 * numeric IPv4 or IPv6 address.
 */
gboolean consentd_parse_listen (const char *text, char **host, guint *port,
                                GError **error);

/** consentd_config_resolve_credential: @name as is if it contains '/', else from
 * $CREDENTIALS_DIRECTORY. */
char *consentd_config_resolve_credential (const char *name);

G_END_DECLS
