/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* server.c: the lws context, its single vhost, TLS and idle policy. */
#include "server.h"

#include <dlfcn.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <unistd.h>
#include <libwebsockets.h>
#include <string.h>

#include "http-admin.h"
#include "ws.h"

struct _ConsentdServer {
  struct lws_context *context;
  lws_retry_bo_t retry;
  struct lws_protocols protocols[3];
  char *cert, *key;
};

/* lws logs through our structured log; only warnings and errors by default
 * (lws notices are chatty). lws never sees tokens: it does not log frames. */
static void
lws_log_to_glib (int level, const char *line)
{
  g_autofree char *msg = g_strchomp (g_strdup (line));

  if (level & LLL_ERR)
    g_warning ("libwebsockets: %s", msg);
  else
    g_debug ("libwebsockets: %s", msg);
}

static gboolean
check_readable (const char *what, const char *path, GError **error)
{
  if (g_file_test (path, G_FILE_TEST_IS_REGULAR) && g_access (path, R_OK) == 0)
    return TRUE;
  g_set_error (
      error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
      "TLS %s %s is missing or unreadable (with systemd LoadCredential= give its "
      "credential name)",
      what, path);
  return FALSE;
}

/* lws 4.1's glib backend is a plugin that lws_context_destroy() unloads.
 * A GSource that lws destroyed during the current dispatch round is only
 * released after it, and GLib then reads its GSourceFuncs, which live in the
 * already unmapped plugin: a crash at shutdown. Keeping the plugin mapped
 * for the life of the process (RTLD_NODELETE) removes it. */
#define LWS_GLIB_PLUGIN "libwebsockets-evlib_glib.so"

static void
pin_glib_plugin (void)
{
  static void *handle;

  if (!handle &&
      !(handle = dlopen (LWS_GLIB_PLUGIN, RTLD_NOW | RTLD_NODELETE | RTLD_LOCAL)))
    g_warning ("cannot load %s (install libwebsockets-evlib-glib): %s", LWS_GLIB_PLUGIN,
               dlerror ());
}

ConsentdServer *
consentd_server_start (ConsentdDaemon *d, guint *bound_port, GError **error)
{
  ConsentdServer *srv = g_new0 (ConsentdServer, 1);
  struct lws_context_creation_info info;
  void *foreign_loops[1] = {d->loop};
  struct lws_vhost *vh;

  lws_set_log_level (LLL_ERR | LLL_WARN, lws_log_to_glib);
  pin_glib_plugin ();
  srv->protocols[0] = (struct lws_protocols){
      "http", consentd_http_callback, sizeof (ConsentdHttpSlot), 0, 0, NULL, 0};
  srv->protocols[1] = (struct lws_protocols){
      CONSENTD_WS_PROTOCOL, consentd_ws_callback, sizeof (gpointer), 4096, 0, NULL, 0};
  srv->retry.secs_since_valid_ping = (uint16_t)d->config->ping_interval_s;
  srv->retry.secs_since_valid_hangup = (uint16_t)d->config->idle_timeout_s;

  memset (&info, 0, sizeof info);
  /* UTF-8 is checked by libconsent's parser so the peer gets an `error`
   * before the 1007 close, which lws's own check would not send. */
  info.options = LWS_SERVER_OPTION_GLIB;
  info.foreign_loops = foreign_loops;
  info.iface = d->config->listen_host;
  info.port = (int)d->config->listen_port;
  info.protocols = srv->protocols;
  info.user = d;
  info.retry_and_idle_policy = &srv->retry;
  info.timeout_secs = 30;
  info.vhost_name = "default";
  if (d->config->tls_cert) {
    srv->cert = consentd_config_resolve_credential (d->config->tls_cert);
    srv->key = consentd_config_resolve_credential (d->config->tls_key);
    if (!check_readable ("certificate", srv->cert, error) ||
        !check_readable ("key", srv->key, error)) {
      consentd_server_stop (srv);
      return NULL;
    }
    /* The vhost created from this same info must carry the global-init flag
     * itself, or lws 4.1 silently serves it without TLS. */
    info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.ssl_cert_filepath = srv->cert;
    info.ssl_private_key_filepath = srv->key;
  }
  srv->context = lws_create_context (&info);
  if (!srv->context) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                 "cannot listen on %s:%u (address in use, not local, or bad TLS files; "
                 "is libwebsockets-evlib-glib installed?)",
                 d->config->listen_host, d->config->listen_port);
    consentd_server_stop (srv);
    return NULL;
  }
  vh = lws_get_vhost_by_name (srv->context, "default");
  *bound_port = vh ? (guint)lws_get_vhost_listen_port (vh) : d->config->listen_port;
  return srv;
}

void
consentd_server_stop (ConsentdServer *srv)
{
  if (!srv)
    return;
  if (srv->context)
    lws_context_destroy (srv->context);
  g_free (srv->cert);
  g_free (srv->key);
  g_free (srv);
}
