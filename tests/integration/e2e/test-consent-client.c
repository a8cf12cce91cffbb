/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The consentd client (plugin/consent-client.c) against a scripted websocket
 * server (fake-consentd.py): hello, gate decisions, lease expiry, disconnect,
 * reconnect, segment reports, sharing, TLS verification. No timing
 * assertions: waits are generous upper bounds, never measurements. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <json-c/json.h>
#include <string.h>

#include "consent-client.h"

#define WAIT_US (20 * G_USEC_PER_SEC)

typedef struct {
  GSubprocess *server;
  GDataInputStream *out;
  GOutputStream *in;
  char *url;
  char *dir;
  char *token_file;
  char *token;
  GAsyncQueue *decisions; /* ConsentGateDecision* from "decision-changed" */
  ConsentSource *source;
} Fixture;

static char *
read_line(Fixture *f)
{
  g_autoptr(GError) error = NULL;
  char *line = g_data_input_stream_read_line_utf8(f->out, NULL, NULL, &error);

  g_assert_no_error(error);
  g_assert_nonnull(line); /* the server died */
  return line;
}

/* The next server line starting with @prefix (others are skipped). */
static char *
expect_line(Fixture *f, const char *prefix)
{
  for (;;) {
    g_autofree char *line = read_line(f);

    if (g_str_has_prefix(line, prefix))
      return g_steal_pointer(&line);
  }
}

static void server_command(Fixture *f, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
server_command(Fixture *f, const char *fmt, ...)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *cmd = NULL;
  g_autofree char *line = NULL;
  va_list ap;

  va_start(ap, fmt);
  cmd = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  line = g_strconcat(cmd, "\n", NULL);
  g_output_stream_write_all(f->in, line, strlen(line), NULL, NULL, &error);
  g_assert_no_error(error);
}

static void
start_server(Fixture *f, const char *scheme, const char *host, const char *cert,
             const char *key)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *script =
      g_build_filename(g_getenv("CONSENT_SOURCE_ROOT"), "tests", "integration", "e2e",
                       "fake-consentd.py", NULL);
  g_autofree char *line = NULL;

  if (cert)
    f->server = g_subprocess_new(
        G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
        "/usr/bin/python3", script, "--cert", cert, "--key", key, NULL);
  else
    f->server =
        g_subprocess_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                         &error, "/usr/bin/python3", script, NULL);
  g_assert_no_error(error);
  f->out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(f->server));
  f->in = g_object_ref(g_subprocess_get_stdin_pipe(f->server));
  line = expect_line(f, "PORT ");
  f->url = g_strdup_printf("%s://%s:%s", scheme, host, line + 5);
}

static void
on_decision(ConsentSource *source, const char *participant, ConsentGateDecision *d,
            gpointer user_data)
{
  g_assert_null(participant);
  g_async_queue_push(user_data, consent_gate_decision_ref(d));
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *secret = NULL;

  f->dir = g_dir_make_tmp("consent-client-XXXXXX", &error);
  g_assert_no_error(error);
  /* A fresh secret per run, in a file only (never argv). */
  secret = g_uuid_string_random();
  f->token = g_strdup_printf("ct1.test-%s", secret);
  f->token_file = g_build_filename(f->dir, "recorder.token", NULL);
  g_file_set_contents_full(f->token_file, f->token, -1, G_FILE_SET_CONTENTS_NONE, 0600,
                           &error);
  g_assert_no_error(error);
  f->decisions = g_async_queue_new_full((GDestroyNotify)consent_gate_decision_unref);
  if (!data)
    start_server(f, "ws", "127.0.0.1", NULL, NULL);
}

static void
fixture_connect(Fixture *f, const char *meeting, const char *ca_file)
{
  g_autoptr(GError) error = NULL;

  f->source = consent_client_source_get(f->url, meeting, f->token_file, ca_file, &error);
  g_assert_no_error(error);
  g_assert_true(CONSENT_IS_CLIENT_SOURCE(f->source));
  g_signal_connect(f->source, "decision-changed", G_CALLBACK(on_decision), f->decisions);
}

static void
remove_tree(const char *dir)
{
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name(d))) {
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_remove(path);
  }
  g_rmdir(dir);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
  if (f->source) {
    g_signal_handlers_disconnect_by_data(f->source, f->decisions);
    g_object_unref(f->source);
  }
  if (f->server) {
    server_command(f, "quit");
    g_subprocess_wait(f->server, NULL, NULL);
  }
  g_clear_object(&f->out);
  g_clear_object(&f->in);
  g_clear_object(&f->server);
  g_async_queue_unref(f->decisions);
  remove_tree(f->dir);
  g_free(f->dir);
  g_free(f->token_file);
  g_free(f->token);
  g_free(f->url);
}

static ConsentGateDecision *
next_decision(Fixture *f)
{
  ConsentGateDecision *d = g_async_queue_timeout_pop(f->decisions, WAIT_US);

  g_assert_nonnull(d); /* no decision arrived */
  return d;
}

/* Waits for the client's hello and checks the handshake and the token. */
static void
expect_hello(Fixture *f)
{
  g_autofree char *connect = expect_line(f, "CONNECT ");
  g_autofree char *recv = expect_line(f, "RECV ");
  json_object *hello = json_tokener_parse(recv + 5);
  json_object *v = NULL;

  g_assert_cmpstr(connect, ==, "CONNECT path=/v1/ws subprotocol=consent.v1 origin=-");
  g_assert_nonnull(hello);
  g_assert_true(json_object_object_get_ex(hello, "type", &v));
  g_assert_cmpstr(json_object_get_string(v), ==, "hello");
  g_assert_true(json_object_object_get_ex(hello, "token", &v));
  g_assert_cmpstr(json_object_get_string(v), ==, f->token);
  json_object_put(hello);
}

static void
send_gate(Fixture *f, gboolean open, guint64 epoch, const char *reason, guint lease_ms)
{
  server_command(f,
                 "send {\"type\":\"gate\",\"state\":\"%s\",\"epoch\":%" G_GUINT64_FORMAT
                 ",\"reason\":\"%s\",\"authorized-by\":%s,\"lease-ms\":%u}",
                 open ? "open" : "closed", epoch, reason,
                 open ? "[\"rec-1\",\"rec-2\"]" : "[]", lease_ms);
}

static void
assert_decision(ConsentGateDecision *d, gboolean open, guint64 epoch, const char *reason)
{
  g_assert_cmpint(d->open, ==, open);
  g_assert_cmpuint(d->epoch, ==, epoch);
  g_assert_cmpstr(d->reason, ==, reason);
  g_assert_cmpstr(d->meeting, ==, "m1");
  g_assert_null(d->participant);
}

static void
expect_decision(Fixture *f, gboolean open, guint64 epoch, const char *reason)
{
  g_autoptr(ConsentGateDecision) d = next_decision(f);

  assert_decision(d, open, epoch, reason);
}

static void
assert_current(Fixture *f, gboolean open)
{
  g_autoptr(ConsentGateDecision) d = consent_source_get_decision(f->source, NULL);

  g_assert_cmpint(d->open, ==, open);
}

static void
test_open_and_close(Fixture *f, gconstpointer data)
{
  g_autoptr(ConsentGateDecision) d = NULL;

  fixture_connect(f, "m1", NULL);
  d = consent_source_get_decision(f->source, NULL);
  assert_decision(d, FALSE, 0, "initial");
  g_assert_cmpstr(consent_source_get_meeting_id(f->source), ==, "m1");
  expect_hello(f);

  send_gate(f, TRUE, 3, "all-accepted", 60000);
  g_clear_pointer(&d, consent_gate_decision_unref);
  d = next_decision(f);
  assert_decision(d, TRUE, 3, "all-accepted");
  g_assert_cmpstrv(d->authorized_by, ((const char *const[]){"rec-1", "rec-2", NULL}));
  assert_current(f, TRUE);
  g_assert_true(consent_client_source_is_connected(CONSENT_CLIENT_SOURCE(f->source)));

  send_gate(f, FALSE, 4, "withdrawn", 60000);
  expect_decision(f, FALSE, 4, "withdrawn");
  assert_current(f, FALSE);

  /* A meeting-wide connection does not answer for a single participant. */
  g_clear_pointer(&d, consent_gate_decision_unref);
  d = consent_source_get_decision(f->source, "alice");
  g_assert_false(d->open);
  g_assert_cmpstr(d->reason, ==, "no-source");
}

static void
test_lease_expiry(Fixture *f, gconstpointer data)
{
  g_autofree char *closed = NULL;

  fixture_connect(f, "m1", NULL);
  expect_hello(f);
  send_gate(f, TRUE, 7, "all-accepted", 300);
  expect_decision(f, TRUE, 7, "all-accepted");
  /* No heartbeat: the client closes by itself and drops the connection. */
  expect_decision(f, FALSE, 7, "lease-expired");
  assert_current(f, FALSE);
  closed = expect_line(f, "CLOSED");
  /* It reconnects, says hello again, and stays closed until a new open. */
  expect_hello(f);
  assert_current(f, FALSE);
  send_gate(f, TRUE, 8, "all-accepted", 60000);
  expect_decision(f, TRUE, 8, "all-accepted");
}

static void
test_heartbeat_renews(Fixture *f, gconstpointer data)
{
  fixture_connect(f, "m1", NULL);
  expect_hello(f);
  server_command(f, "heartbeat 100 400 2");
  send_gate(f, TRUE, 2, "all-accepted", 400);
  expect_decision(f, TRUE, 2, "all-accepted");
  /* Stop the heartbeats: only then does the lease run out. */
  server_command(f, "heartbeat off");
  expect_decision(f, FALSE, 2, "lease-expired");
}

static void
test_disconnect(Fixture *f, gconstpointer data)
{
  g_autofree char *closed = NULL;

  fixture_connect(f, "m1", NULL);
  expect_hello(f);
  send_gate(f, TRUE, 5, "all-accepted", 60000);
  expect_decision(f, TRUE, 5, "all-accepted");
  server_command(f, "drop");
  expect_decision(f, FALSE, 5, "disconnected");
  closed = expect_line(f, "CLOSED");
  expect_hello(f);
  g_assert_false(consent_client_source_is_connected(CONSENT_CLIENT_SOURCE(f->source)));
  assert_current(f, FALSE);
  /* A closed gate from the new connection does not open anything. */
  send_gate(f, FALSE, 6, "pending", 60000);
  expect_decision(f, FALSE, 6, "pending");
  send_gate(f, TRUE, 9, "all-accepted", 60000);
  expect_decision(f, TRUE, 9, "all-accepted");
}

/* A restarted daemon may count epochs from lower down: the gate must still
 * see them newer than what it holds, and the ledger the daemon's own. */
static void
test_restarted_daemon_epochs(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *closed = NULL, *recv = NULL;
  ConsentSegmentReport report = {
      .path = "m1/a.mkv",
      .sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
      .size = 1,
      .epoch = 13,
      .start_utc = "2026-11-28T22:00:00.000000Z",
      .end_utc = "2026-11-28T22:00:05.000000Z",
  };

  fixture_connect(f, "m1", NULL);
  expect_hello(f);
  send_gate(f, TRUE, 12, "all-accepted", 60000);
  expect_decision(f, TRUE, 12, "all-accepted");
  server_command(f, "drop");
  expect_decision(f, FALSE, 12, "disconnected");
  closed = expect_line(f, "CLOSED");
  expect_hello(f);
  send_gate(f, TRUE, 2, "all-accepted", 60000);
  expect_decision(f, TRUE, 13, "all-accepted");
  g_assert_true(consent_source_report_segment(f->source, &report, &error));
  g_assert_no_error(error);
  recv = expect_line(f, "RECV ");
  g_assert_nonnull(strstr(recv, "\"epoch\":2"));
}

static void
test_bad_input_changes_nothing(Fixture *f, gconstpointer data)
{
  fixture_connect(f, "m1", NULL);
  expect_hello(f);
  server_command(f, "send {\"type\":\"gate\",\"state\":\"open\"");
  server_command(f,
                 "send {\"type\":\"gate\",\"state\":\"open\",\"epoch\":\"12x\","
                 "\"reason\":\"all-accepted\",\"authorized-by\":[],\"lease-ms\":1000}");
  server_command(f,
                 "send {\"type\":\"error\",\"code\":\"bad-token\",\"message\":\"no\"}");
  server_command(f, "send {\"type\":\"welcome\"}");
  /* The connection survives, and a valid open after all that still counts. */
  send_gate(f, TRUE, 11, "all-accepted", 60000);
  expect_decision(f, TRUE, 11, "all-accepted");
}

static void
test_segment_report(Fixture *f, gconstpointer data)
{
  static const char *const auth[] = {"rec-1", "rec-2", NULL};
  g_autoptr(GError) error = NULL;
  g_autofree char *recv = NULL;
  ConsentSegmentReport report = {
      .path = "m1/m1-20261128T220000Z-e3.mkv",
      .sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
      .size = 12345,
      .epoch = 3,
      .start_utc = "2026-11-28T22:00:00.000000Z",
      .end_utc = "2026-11-28T22:00:05.000000Z",
      .duration_ns = 5 * GST_SECOND,
      .authorized_by = auth,
      .muxer = "matroskamux",
  };
  json_object *seg, *v = NULL;

  fixture_connect(f, "m1", NULL);
  expect_hello(f);
  send_gate(f, TRUE, 3, "all-accepted", 60000);
  expect_decision(f, TRUE, 3, "all-accepted");
  g_assert_true(consent_source_report_segment(f->source, &report, &error));
  g_assert_no_error(error);
  recv = expect_line(f, "RECV ");
  seg = json_tokener_parse(recv + 5);
  g_assert_nonnull(seg);
  g_assert_true(json_object_object_get_ex(seg, "type", &v));
  g_assert_cmpstr(json_object_get_string(v), ==, "segment");
  g_assert_true(json_object_object_get_ex(seg, "sha256", &v));
  g_assert_cmpstr(json_object_get_string(v), ==, report.sha256);
  g_assert_true(json_object_object_get_ex(seg, "size", &v));
  g_assert_cmpint(json_object_get_int64(v), ==, 12345);
  g_assert_true(json_object_object_get_ex(seg, "authorized-by", &v));
  g_assert_cmpint(json_object_array_length(v), ==, 2);
  json_object_put(seg);
}

static void
test_shared_connection(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ConsentSource) same = NULL;
  g_autoptr(ConsentSource) other = NULL;
  g_autofree char *c1 = NULL;

  fixture_connect(f, "m1", NULL);
  same = consent_client_source_get(f->url, "m1", f->token_file, NULL, &error);
  g_assert_no_error(error);
  g_assert_true(same == f->source);
  other = consent_client_source_get(f->url, "m2", f->token_file, NULL, &error);
  g_assert_no_error(error);
  g_assert_true(other != f->source);
  /* Two connections, each with its own hello (lines may interleave). */
  for (int connects = 0, hellos = 0; connects < 2 || hellos < 2;) {
    g_autofree char *line = read_line(f);

    connects += g_str_has_prefix(line, "CONNECT ");
    hellos += g_str_has_prefix(line, "RECV ") && strstr(line, "\"hello\"") != NULL;
  }
  /* The last ref of m2 stops its connection (and joins its thread). */
  g_clear_object(&other);
  c1 = expect_line(f, "CLOSED");
}

static void
on_alice_decision(ConsentSource *source, const char *participant, ConsentGateDecision *d,
                  gpointer user_data)
{
  g_assert_cmpstr(participant, ==, "alice");
  g_async_queue_push(user_data, consent_gate_decision_ref(d));
}

/* A connection for one participant names them in its hello, heeds only the
 * gate/lease messages about them, and answers for them only. */
static void
test_participant_follow(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ConsentSource) same = NULL;
  g_autoptr(ConsentSource) meeting_wide = NULL;
  g_autoptr(ConsentGateDecision) d = NULL;
  g_autofree char *recv = NULL;
  json_object *hello, *v = NULL;

  f->source = consent_client_source_get_for_participant(f->url, "m1", "alice",
                                                        f->token_file, NULL, &error);
  g_assert_no_error(error);
  g_signal_connect(f->source, "decision-changed", G_CALLBACK(on_alice_decision),
                   f->decisions);
  g_free(expect_line(f, "CONNECT "));
  recv = expect_line(f, "RECV ");
  hello = json_tokener_parse(recv + 5);
  g_assert_nonnull(hello);
  g_assert_true(json_object_object_get_ex(hello, "participant", &v));
  g_assert_cmpstr(json_object_get_string(v), ==, "alice");
  json_object_put(hello);

  /* Someone else's decision and the meeting-wide one are ignored... */
  server_command(f, "send {\"type\":\"gate\",\"state\":\"open\",\"epoch\":7,"
                    "\"reason\":\"participant-accepted\",\"authorized-by\":[\"r9\"],"
                    "\"lease-ms\":60000,\"participant\":\"bob\"}");
  send_gate(f, TRUE, 8, "all-accepted", 60000);
  /* ...so the first decision seen is alice's own. */
  server_command(f, "send {\"type\":\"gate\",\"state\":\"open\",\"epoch\":5,"
                    "\"reason\":\"participant-accepted\",\"authorized-by\":[\"r1\"],"
                    "\"lease-ms\":60000,\"participant\":\"alice\"}");
  d = next_decision(f);
  g_assert_true(d->open);
  g_assert_cmpuint(d->epoch, ==, 5);
  g_assert_cmpstr(d->participant, ==, "alice");
  g_assert_cmpstrv(d->authorized_by, ((const char *const[]){"r1", NULL}));
  g_clear_pointer(&d, consent_gate_decision_unref);

  d = consent_source_get_decision(f->source, "alice");
  g_assert_true(d->open);
  g_clear_pointer(&d, consent_gate_decision_unref);
  /* It answers for alice only: anyone else, or the meeting, is closed. */
  d = consent_source_get_decision(f->source, NULL);
  g_assert_false(d->open);
  g_assert_cmpstr(d->reason, ==, "no-source");
  g_clear_pointer(&d, consent_gate_decision_unref);
  d = consent_source_get_decision(f->source, "bob");
  g_assert_false(d->open);
  g_clear_pointer(&d, consent_gate_decision_unref);

  /* A closing for someone else does not close alice's gate either. */
  server_command(f, "send {\"type\":\"gate\",\"state\":\"closed\",\"epoch\":9,"
                    "\"reason\":\"withdrawn\",\"authorized-by\":[],"
                    "\"lease-ms\":60000,\"participant\":\"bob\"}");
  server_command(f, "send {\"type\":\"gate\",\"state\":\"closed\",\"epoch\":6,"
                    "\"reason\":\"withdrawn\",\"authorized-by\":[],"
                    "\"lease-ms\":60000,\"participant\":\"alice\"}");
  d = next_decision(f);
  g_assert_false(d->open);
  g_assert_cmpuint(d->epoch, ==, 6);
  g_assert_cmpstr(d->reason, ==, "withdrawn");
  g_clear_pointer(&d, consent_gate_decision_unref);

  /* One connection per (server, meeting, participant). */
  same = consent_client_source_get_for_participant(f->url, "m1", "alice", f->token_file,
                                                   NULL, &error);
  g_assert_no_error(error);
  g_assert_true(same == f->source);
  meeting_wide = consent_client_source_get(f->url, "m1", f->token_file, NULL, &error);
  g_assert_no_error(error);
  g_assert_true(meeting_wide != f->source);
  g_clear_object(&meeting_wide);

  g_assert_null(consent_client_source_get_for_participant(f->url, "m1", "../bob",
                                                          f->token_file, NULL, &error));
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

static void
test_bad_arguments(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *missing = g_build_filename(f->dir, "missing.token", NULL);
  g_autofree char *empty = g_build_filename(f->dir, "empty.token", NULL);
  ConsentSource *s;

  s = consent_client_source_get(f->url, "m1", missing, NULL, &error);
  g_assert_null(s);
  g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull(strstr(error->message, "recorder token"));
  g_clear_error(&error);

  g_assert_true(g_file_set_contents(empty, "\n", -1, NULL));
  s = consent_client_source_get(f->url, "m1", empty, NULL, &error);
  g_assert_null(s);
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error(&error);

  s = consent_client_source_get("http://127.0.0.1:1", "m1", f->token_file, NULL, &error);
  g_assert_null(s);
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);

  s = consent_client_source_get(f->url, "../m1", f->token_file, NULL, &error);
  g_assert_null(s);
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error(&error);

  s = consent_client_source_get("wss://localhost:1", "m1", f->token_file, missing,
                                &error);
  g_assert_null(s);
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

/* A self-signed certificate for "localhost", made for this run. */
static void
make_cert(Fixture *f, char **cert, char **key)
{
  g_autoptr(GError) error = NULL;
  int status = 0;

  *cert = g_build_filename(f->dir, "cert.pem", NULL);
  *key = g_build_filename(f->dir, "key.pem", NULL);
  const char *argv[] = {"openssl",
                        "req",
                        "-x509",
                        "-newkey",
                        "ec",
                        "-pkeyopt",
                        "ec_paramgen_curve:prime256v1",
                        "-nodes",
                        "-days",
                        "1",
                        "-subj",
                        "/CN=localhost",
                        "-addext",
                        "subjectAltName=DNS:localhost",
                        "-keyout",
                        *key,
                        "-out",
                        *cert,
                        NULL};
  g_spawn_sync(NULL, (char **)argv, NULL,
               G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
                   G_SPAWN_STDERR_TO_DEV_NULL,
               NULL, NULL, NULL, NULL, &status, &error);
  g_assert_no_error(error);
  g_assert_true(g_spawn_check_wait_status(status, NULL));
}

static void
test_tls_verified(Fixture *f, gconstpointer data)
{
  g_autofree char *cert = NULL, *key = NULL;

  make_cert(f, &cert, &key);
  start_server(f, "wss", "localhost", cert, key);
  fixture_connect(f, "m1", cert);
  expect_hello(f);
  send_gate(f, TRUE, 1, "all-accepted", 60000);
  expect_decision(f, TRUE, 1, "all-accepted");
}

/* Unverifiable servers never get the token: the server reports every
 * websocket handshake it completes, and must report none. (A slow machine
 * makes fewer attempts in the time given; that weakens, never fails, this.) */
static void
assert_never_connected(Fixture *f)
{
  char *line;

  g_usleep(G_USEC_PER_SEC * 3 / 2);
  assert_current(f, FALSE);
  g_assert_false(consent_client_source_is_connected(CONSENT_CLIENT_SOURCE(f->source)));
  server_command(f, "quit");
  g_subprocess_wait(f->server, NULL, NULL);
  while ((line = g_data_input_stream_read_line_utf8(f->out, NULL, NULL, NULL))) {
    g_assert_false(g_str_has_prefix(line, "CONNECT"));
    g_free(line);
  }
  g_clear_object(&f->server);
}

static void
test_tls_unknown_ca(Fixture *f, gconstpointer data)
{
  g_autofree char *cert = NULL, *key = NULL;

  make_cert(f, &cert, &key);
  start_server(f, "wss", "localhost", cert, key);
  fixture_connect(f, "m1", NULL); /* system store: does not know our CA */
  assert_never_connected(f);
}

static void
test_tls_wrong_host(Fixture *f, gconstpointer data)
{
  g_autofree char *cert = NULL, *key = NULL;

  make_cert(f, &cert, &key);
  start_server(f, "wss", "127.0.0.1", cert, key); /* cert says localhost */
  fixture_connect(f, "m1", cert);
  assert_never_connected(f);
}

int
main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, NULL);

#define ADD(name, fn, data)                                                              \
  g_test_add("/consent-client/" name, Fixture, data, fixture_setup, fn, fixture_teardown)
  ADD("open-and-close", test_open_and_close, NULL);
  ADD("lease-expiry", test_lease_expiry, NULL);
  ADD("heartbeat-renews", test_heartbeat_renews, NULL);
  ADD("disconnect", test_disconnect, NULL);
  ADD("restarted-daemon-epochs", test_restarted_daemon_epochs, NULL);
  ADD("bad-input-changes-nothing", test_bad_input_changes_nothing, NULL);
  ADD("segment-report", test_segment_report, NULL);
  ADD("shared-connection", test_shared_connection, NULL);
  ADD("participant-follow", test_participant_follow, NULL);
  ADD("bad-arguments", test_bad_arguments, NULL);
  ADD("tls-verified", test_tls_verified, "tls");
  ADD("tls-unknown-ca", test_tls_unknown_ca, "tls");
  ADD("tls-wrong-host", test_tls_wrong_host, "tls");
#undef ADD
  return g_test_run();
}
