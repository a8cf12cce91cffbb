/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* main.c: consentd's command line, start-up order and clean shutdown. */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <stdio.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "consent-config.h"
#include "daemon.h"
#include "ledger-recorder.h"
#include "meetings.h"
#include "metrics.h"
#include "server.h"
#include "web.h"

typedef struct {
  char *config_file;
  char *state_dir;
  char *listen;
  char *web_dir;
  gboolean check_config;
  gboolean version;
} Options;

static gboolean
parse_options (int *argc, char ***argv, Options *o, GError **error)
{
  const GOptionEntry entries[] = {
      {"config", 'c', 0, G_OPTION_ARG_FILENAME, &o->config_file, "Configuration file",
       "FILE"},
      {"state-dir", 's', 0, G_OPTION_ARG_FILENAME, &o->state_dir, "State directory",
       "DIR"},
      {"listen", 'l', 0, G_OPTION_ARG_STRING, &o->listen, "Listen address", "ADDR:PORT"},
      {"web-dir", 0, 0, G_OPTION_ARG_FILENAME, &o->web_dir, "Consent page directory",
       "DIR"},
      {"check-config", 0, 0, G_OPTION_ARG_NONE, &o->check_config,
       "Check the configuration file and exit", NULL},
      {"version", 0, 0, G_OPTION_ARG_NONE, &o->version, "Print the version and exit",
       NULL},
      {NULL},
  };
  g_autoptr (GOptionContext) ctx =
      g_option_context_new ("- the recording consent server");

  g_option_context_add_main_entries (ctx, entries, NULL);
  return g_option_context_parse (ctx, argc, argv, error);
}

/* Flags override the file. */
static gboolean
apply_flags (ConsentdConfig *c, const Options *o, GError **error)
{
  if (o->listen) {
    char *host = NULL;
    if (!consentd_parse_listen (o->listen, &host, &c->listen_port, error))
      return FALSE;
    g_free (c->listen_host);
    c->listen_host = host;
  }
  if (o->state_dir) {
    g_free (c->state_dir);
    c->state_dir = g_strdup (o->state_dir);
  }
  if (o->web_dir) {
    g_free (c->web_dir);
    c->web_dir = g_strdup (o->web_dir);
  }
  return TRUE;
}

static gboolean
on_stop_signal (gpointer user_data)
{
  ConsentdDaemon *d = user_data;

  if (d->stopping)
    return G_SOURCE_CONTINUE;
  g_message ("stopping");
  sd_notify (0, "STOPPING=1");
  d->stopping = TRUE;
  /* Destroy the lws context while the loop still runs (see server.h). */
  g_clear_pointer (&d->server, consentd_server_stop);
  g_main_loop_quit (d->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_watchdog (gpointer user_data)
{
  sd_notify (0, "WATCHDOG=1");
  return G_SOURCE_CONTINUE;
}

static gboolean
on_tick (gpointer user_data)
{
  ConsentdDaemon *d = user_data;

  if (!d->ledger_failed)
    consentd_registry_tick (d->registry);
  return G_SOURCE_CONTINUE;
}

static void
on_ledger_failed (ConsentLedger *ledger, const GError *error, gpointer user_data)
{
  ConsentdDaemon *d = user_data;

  /* Never retry: fail closed and stop admitting consent (DESIGN pitfalls). */
  g_critical ("the ledger failed: %s; every gate is closed and no consent is admitted",
              error ? error->message : "unknown error");
  d->ledger_failed = TRUE;
  if (d->registry)
    consentd_registry_fail_all (d->registry);
  sd_notify (0, "STATUS=ledger failed; consent is not admitted");
}

/* The unclean-stop marker. It exists while consentd runs and is removed only
 * after a clean stop whose ledger never failed, so finding it at start means
 * the previous run crashed, was killed or lost its ledger: a withdrawal may
 * then be missing from the ledger and earlier answers must not reopen a gate
 * (fail closed, DESIGN promises 1 and 4). */
#define UNCLEAN_MARKER "consentd.unclean"

static gboolean
fsync_dir (const char *dir, GError **error)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int saved;

  if (fd >= 0 && fsync (fd) == 0) {
    close (fd);
    return TRUE;
  }
  saved = errno;
  if (fd >= 0)
    close (fd);
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
               "cannot sync the state directory %s: %s", dir, g_strerror (saved));
  return FALSE;
}

/* Creates the marker; *was_unclean says whether it was there already. */
static gboolean
unclean_marker_create (const char *dir, gboolean *was_unclean, GError **error)
{
  g_autofree char *path = g_build_filename (dir, UNCLEAN_MARKER, NULL);
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

  *was_unclean = fd < 0 && errno == EEXIST;
  if (fd < 0 && !*was_unclean) {
    int saved = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                 "cannot create %s: %s; check the state directory's owner and free space",
                 path, g_strerror (saved));
    return FALSE;
  }
  if (fd >= 0)
    close (fd);
  return fsync_dir (dir, error);
}

static void
unclean_marker_remove (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, UNCLEAN_MARKER, NULL);
  g_autoptr (GError) error = NULL;

  if (g_unlink (path) != 0) {
    g_warning ("cannot remove %s: %s; the next start will ask for consent again", path,
               g_strerror (errno));
    return;
  }
  if (!fsync_dir (dir, &error))
    g_warning ("%s", error->message);
}

static gboolean
load_config (ConsentdConfig *config, const Options *o, GError **error)
{
  if (o->config_file && !consentd_config_load_file (config, o->config_file, error))
    return FALSE;
  return apply_flags (config, o, error);
}

static gboolean
open_state (ConsentdDaemon *d, GError **error)
{
  g_autofree char *dir = d->config->state_dir ? g_strdup (d->config->state_dir)
                                              : consentd_state_default_dir ();
  g_autofree char *web_dir =
      d->config->web_dir ? g_strdup (d->config->web_dir) : consentd_web_default_dir ();
  g_autoptr (GError) web_error = NULL;

  if (!(d->state = consentd_state_open (dir, d->config->policy_file, error)))
    return FALSE;
  if (!(d->policy = consent_policy_load_file (d->state->policy_path, error)))
    return FALSE;
  if (!(d->web = consentd_web_load (web_dir, &web_error)))
    g_warning ("no consent page will be served: %s", web_error->message);
  if (!(d->ledger = consent_ledger_open (d->state->dir, NULL, error)))
    return FALSE;
  g_signal_connect (d->ledger, "failed", G_CALLBACK (on_ledger_failed), d);
  /* Before any connection is served: from here on a stop must be clean. */
  if (!unclean_marker_create (d->state->dir, &d->was_unclean, error))
    return FALSE;
  /* An inherited marker stays until the meetings were asked again. */
  d->marker_created = !d->was_unclean;
  return TRUE;
}

static gboolean
start (ConsentdDaemon *d, GError **error)
{
  g_autoptr (ConsentLedgerRecorder) recorder = NULL;
  guint port = 0, n_meetings = 0;
  guint64 watchdog_us = 0;

  /* Before anything that takes time: a stop request during start-up is
   * handled by the loop instead of killing us half-way. */
  d->sources[0] = g_unix_signal_add (SIGTERM, on_stop_signal, d);
  d->sources[1] = g_unix_signal_add (SIGINT, on_stop_signal, d);
  if (!open_state (d, error))
    return FALSE;
  recorder = consent_ledger_recorder_new (d->ledger);
  d->registry = consentd_registry_new (d, CONSENT_RECORDER (recorder));
  if (!consentd_registry_recover (d->registry, d->ledger, &n_meetings, error))
    return FALSE;
  if (n_meetings)
    g_message ("recovered %u meeting(s) in progress from the ledger", n_meetings);
  if (d->was_unclean) {
    guint n = consentd_registry_request_again (d->registry);
    g_warning ("the previous run did not stop cleanly (crash, kill or ledger failure), "
               "so a withdrawal may be missing from the ledger: recording consent is "
               "asked again in %u meeting(s) and no gate opens on earlier answers",
               n);
    d->marker_created = TRUE;
  }
  if (!(d->server = consentd_server_start (d, &port, error)))
    return FALSE;
  g_message ("listening on %s://%s%s%s:%u (state in %s)",
             d->config->tls_cert ? "https" : "http",
             strchr (d->config->listen_host, ':') ? "[" : "", d->config->listen_host,
             strchr (d->config->listen_host, ':') ? "]" : "", port, d->state->dir);
  d->sources[2] = g_timeout_add_seconds (1, on_tick, d);
  if (sd_watchdog_enabled (0, &watchdog_us) > 0 && watchdog_us > 0)
    d->sources[3] = g_timeout_add (MAX (watchdog_us / 2000, 1), on_watchdog, d);
  sd_notify (0, "READY=1");
  return TRUE;
}

static void
shutdown_daemon (ConsentdDaemon *d)
{
  g_autoptr (GError) error = NULL;
  gboolean closed = TRUE;

  for (guint i = 0; i < G_N_ELEMENTS (d->sources); i++)
    g_clear_handle_id (&d->sources[i], g_source_remove);
  g_clear_pointer (&d->server, consentd_server_stop);
  g_clear_pointer (&d->registry, consentd_registry_free);
  if (d->ledger && !consent_ledger_close (d->ledger, &error)) {
    g_warning ("closing the ledger: %s", error->message);
    closed = FALSE;
  }
  /* Completions queued by the close run before the ledger goes away. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  /* A failed ledger may lack a withdrawal: keep the marker (fail closed). */
  if (d->marker_created && closed && !d->ledger_failed)
    unclean_marker_remove (d->state->dir);
  g_clear_object (&d->ledger);
  g_clear_pointer (&d->web, consentd_web_free);
  g_clear_pointer (&d->policy, consent_policy_unref);
  g_clear_pointer (&d->state, consentd_state_free);
  g_clear_pointer (&d->metrics, consentd_metrics_free);
  g_clear_pointer (&d->sessions_per_ip, g_hash_table_unref);
  g_clear_pointer (&d->loop, g_main_loop_unref);
}

static void
options_clear (Options *o)
{
  g_free (o->config_file);
  g_free (o->state_dir);
  g_free (o->listen);
  g_free (o->web_dir);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear)

/* Returns the exit status: 0, 1 (bad config or failed start), 2 (usage). */
static int
run (int argc, char **argv)
{
  g_auto (Options) o = {0};
  g_autoptr (GError) error = NULL;
  g_autoptr (ConsentdConfig) config = consentd_config_new_default ();
  ConsentdDaemon d = {0};
  int ret = 0;

  if (!parse_options (&argc, &argv, &o, &error)) {
    g_printerr ("consentd: %s (see --help)\n", error->message);
    return 2;
  }
  if (o.version) {
    g_print ("consentd %s\n", CONSENT_VERSION);
    return 0;
  }
  if (o.check_config && !o.config_file) {
    g_printerr ("consentd: --check-config needs --config FILE\n");
    return 2;
  }
  if (!load_config (config, &o, &error)) {
    g_printerr ("%s\n", error->message);
    return 1;
  }
  if (o.check_config) {
    g_print ("%s: OK\n", o.config_file);
    return 0;
  }

  d.config = config;
  d.metrics = consentd_metrics_new ();
  d.sessions_per_ip = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  d.loop = g_main_loop_new (NULL, FALSE);
  if (start (&d, &error)) {
    g_main_loop_run (d.loop);
    g_message ("stopped");
  } else {
    g_printerr ("consentd: %s\n", error->message);
    sd_notifyf (0, "STATUS=failed to start: %s", error->message);
    ret = 1;
  }
  shutdown_daemon (&d);
  return ret;
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  return run (argc, argv);
}
