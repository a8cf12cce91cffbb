/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* consent-client.c: the ConsentSource that follows consentd over a websocket.
 *
 * One libwebsockets client context per connection, serviced on the client's
 * own thread with lws's default poll loop (the glib event-loop plugin of
 * lws 4.1 crashes when a context with no connection is destroyed, which is
 * exactly what a stopping client does). Other threads talk to that thread
 * only through the locked fields and lws_cancel_service().
 *
 * Locking contract:
 *  - registry_lock protects the process-wide (server, meeting, participant)
 *    table;
 *  - self->lock protects every field marked [lock];
 *  - fields marked [thread] are touched only on the client thread (or before
 *    it starts / after it is joined);
 *  - registry_lock is taken before self->lock; no lock is held while
 *    "decision-changed" is emitted.
 */
#include "consent-client.h"

#include <errno.h>
#include <string.h>
#include <gio/gio.h>
#include <libwebsockets.h>

GST_DEBUG_CATEGORY_STATIC(consent_client_debug);
#define GST_CAT_DEFAULT consent_client_debug

#define CONSENT_CLIENT_PROTOCOL "consent.v1"
#define CONSENT_CLIENT_DEFAULT_PATH "/v1/ws"
/* Used when a daemon's gate message carries no usable lease: short, so the
 * gate still closes soon if the daemon goes quiet. */
#define CONSENT_CLIENT_DEFAULT_LEASE_MS 5000
#define CONSENT_CLIENT_MIN_LEASE_MS 50
#define CONSENT_CLIENT_MAX_LEASE_MS 600000
/* How long a stopping client keeps trying to deliver queued segment reports. */
#define CONSENT_CLIENT_FLUSH_US (2 * G_USEC_PER_SEC)
/* How long consent_source_report_segment() waits for the report to be sent. */
#define CONSENT_CLIENT_REPORT_WAIT_US (3 * G_USEC_PER_SEC)

struct _ConsentClientSource {
  ConsentSource parent;

  /* immutable after construction */
  char *key;
  char *server;
  char *meeting;
  char *participant; /* the one participant followed, or NULL: meeting-wide */
  char *host;
  char *path;
  int port;
  gboolean tls;
  char *ca_file;
  char *token; /* secret: never logged, wiped on finalize */
  struct lws_context *context;
  GThread *thread;

  GMutex lock;
  GCond cond;
  ConsentGateDecision *decision; /* [lock] */
  gint64 lease_deadline_us;      /* [lock] monotonic; 0 = no lease running */
  gboolean connected;            /* [lock] a gate arrived on the live connection */
  gboolean stopping;             /* [lock] */
  gboolean disposed;             /* [registry_lock] */
  guint64 epoch_offset;          /* [lock] added to the daemon's epochs, see below */
  GQueue outgoing;               /* [lock] JSON texts of segment reports */
  guint64 n_queued;              /* [lock] reports ever queued */
  guint64 n_sent;                /* [lock] reports ever written to the socket */

  struct lws *wsi;                      /* [thread] */
  lws_sorted_usec_list_t sul_lease;     /* [thread] */
  lws_sorted_usec_list_t sul_reconnect; /* [thread] */
  lws_sorted_usec_list_t sul_flush;     /* [thread] */
  guint backoff_ms;                     /* [thread] */
  gboolean need_hello;                  /* [thread] */
  gboolean heartbeats_seen;             /* [thread] on this connection */
  gboolean stop_armed;                  /* [thread] */
  gboolean thread_done;                 /* [thread] */
  gboolean unref_on_exit;               /* [thread] last ref dropped on this thread */
  GString *rx;                          /* [thread] message being reassembled */
  gboolean rx_reset;                    /* [thread] */
};

G_DEFINE_FINAL_TYPE(ConsentClientSource, consent_client_source, CONSENT_TYPE_SOURCE)

static GMutex registry_lock;
static GHashTable *registry; /* key → RegistryEntry */

typedef struct {
  GWeakRef ref;
  gpointer owner; /* compared only, never dereferenced */
} RegistryEntry;

static void
registry_entry_free(gpointer data)
{
  RegistryEntry *entry = data;

  g_weak_ref_clear(&entry->ref);
  g_free(entry);
}

/* ---- decisions ------------------------------------------------------------ */

static ConsentGateDecision *
client_decision_new(ConsentClientSource *self, gboolean open, guint64 epoch,
                    const char *reason, char **authorized_by)
{
  ConsentGateDecision *d =
      consent_gate_decision_new_closed(self->meeting, self->participant, epoch, reason);

  /* Freshly made and not yet shared, so filling it in keeps it immutable
   * for everyone else. */
  d->open = open;
  if (authorized_by) {
    g_strfreev(d->authorized_by);
    d->authorized_by = g_strdupv(authorized_by);
  }
  d->decided_us = g_get_real_time();
  return d;
}

static gboolean
strv_equal0(char **a, char **b)
{
  if (!a || !b)
    return (!a || !*a) && (!b || !*b);
  return g_strv_equal((const char *const *)a, (const char *const *)b);
}

/* Installs @d (transfer full) and emits it if the gate would see a change. */
static void
client_set_decision(ConsentClientSource *self, ConsentGateDecision *d)
{
  g_autoptr(ConsentGateDecision) old = NULL;
  gboolean changed, stopping;

  g_mutex_lock(&self->lock);
  old = self->decision;
  self->decision = consent_gate_decision_ref(d);
  /* Local closes keep the epoch, so closed→closed with a new reason is quiet. */
  changed = old->open != d->open || old->epoch != d->epoch ||
            !strv_equal0(old->authorized_by, d->authorized_by);
  if (!d->open)
    self->lease_deadline_us = 0;
  stopping = self->stopping;
  g_mutex_unlock(&self->lock);

  GST_INFO("meeting %s%s%s: gate %s (%s, epoch %" G_GUINT64_FORMAT ")%s", self->meeting,
           self->participant ? ", participant " : "",
           self->participant ? self->participant : "", d->open ? "open" : "closed",
           d->reason, d->epoch, changed ? "" : " (no change)");
  /* A stopping client has no listeners left that could act on it. */
  if (changed && !stopping)
    consent_source_emit_decision(CONSENT_SOURCE(self), self->participant, d);
  consent_gate_decision_unref(d);
}

/* Fail closed locally: keeps the daemon's last epoch, so only a newer daemon
 * decision can open again. */
static void
client_close_locally(ConsentClientSource *self, const char *reason)
{
  guint64 epoch;

  g_mutex_lock(&self->lock);
  epoch = self->decision->epoch;
  self->connected = FALSE;
  g_mutex_unlock(&self->lock);
  client_set_decision(self, client_decision_new(self, FALSE, epoch, reason, NULL));
}

/* ---- the lease ------------------------------------------------------------ */

static void
lease_expired_cb(lws_sorted_usec_list_t *sul)
{
  ConsentClientSource *self = lws_container_of(sul, ConsentClientSource, sul_lease);
  gboolean was_open;

  g_mutex_lock(&self->lock);
  was_open = self->decision->open;
  g_mutex_unlock(&self->lock);
  GST_WARNING("meeting %s: no lease heartbeat from %s in time%s", self->meeting,
              self->server, was_open ? "; closing the gate" : "");
  client_close_locally(self, "lease-expired");
  /* A daemon that stopped renewing is not trusted on this connection again:
   * reconnect, and wait for a fresh gate decision after the new hello. (A
   * daemon that renews only open gates is left alone while closed.) */
  if (self->wsi && (was_open || self->heartbeats_seen))
    lws_set_timeout(self->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static void
client_renew_lease(ConsentClientSource *self, guint lease_ms)
{
  if (lease_ms == 0)
    lease_ms = CONSENT_CLIENT_DEFAULT_LEASE_MS;
  lease_ms = CLAMP(lease_ms, CONSENT_CLIENT_MIN_LEASE_MS, CONSENT_CLIENT_MAX_LEASE_MS);

  g_mutex_lock(&self->lock);
  self->lease_deadline_us = g_get_monotonic_time() + (gint64)lease_ms * 1000;
  g_mutex_unlock(&self->lock);
  lws_sul_schedule(self->context, 0, &self->sul_lease, lease_expired_cb,
                   (lws_usec_t)lease_ms * 1000);
}

/* ---- connecting ----------------------------------------------------------- */

static void client_connect(ConsentClientSource *self);

static void
reconnect_cb(lws_sorted_usec_list_t *sul)
{
  client_connect(lws_container_of(sul, ConsentClientSource, sul_reconnect));
}

static void
client_schedule_reconnect(ConsentClientSource *self)
{
  if (self->stop_armed)
    return;
  GST_DEBUG("meeting %s: reconnecting in %u ms", self->meeting, self->backoff_ms);
  lws_sul_schedule(self->context, 0, &self->sul_reconnect, reconnect_cb,
                   (lws_usec_t)self->backoff_ms * 1000);
  self->backoff_ms = MIN(self->backoff_ms * 2, CONSENT_CLIENT_BACKOFF_MAX_MS);
}

static void
client_connect(ConsentClientSource *self)
{
  struct lws_client_connect_info info = {0};

  if (self->stop_armed || self->wsi)
    return;
  info.context = self->context;
  info.address = self->host;
  info.port = self->port;
  info.path = self->path;
  info.host = self->host;
  /* No Origin: we are not a browser, and lws would rewrite it to http://… */
  info.origin = NULL;
  info.protocol = CONSENT_CLIENT_PROTOCOL;
  info.local_protocol_name = CONSENT_CLIENT_PROTOCOL;
  info.ietf_version_or_minus_one = -1;
  info.ssl_connection = self->tls ? LCCSCF_USE_SSL : 0;
  info.pwsi = &self->wsi;
  if (!lws_client_connect_via_info(&info)) {
    self->wsi = NULL;
    client_schedule_reconnect(self);
  }
}

static void
client_on_disconnect(ConsentClientSource *self, const char *why)
{
  self->wsi = NULL;
  self->need_hello = FALSE;
  self->heartbeats_seen = FALSE;
  lws_sul_cancel(&self->sul_lease);
  if (self->stop_armed) {
    self->thread_done = TRUE;
    return;
  }
  GST_INFO("meeting %s: connection to %s lost: %s", self->meeting, self->server,
           why ? why : "closed");
  client_close_locally(self, "disconnected");
  client_schedule_reconnect(self);
}

/* ---- receiving ------------------------------------------------------------ */

/* Gates ignore decisions older than the one they hold. A restarted daemon
 * may count epochs from a lower number than before; shift its epochs so that
 * what the gate sees never goes backwards (segment reports shift them back). */
static guint64
client_map_epoch_locked(ConsentClientSource *self, guint64 daemon_epoch)
{
  guint64 mapped = daemon_epoch + self->epoch_offset;

  if (mapped < self->decision->epoch) {
    self->epoch_offset = self->decision->epoch + 1 - daemon_epoch;
    mapped = self->decision->epoch + 1;
  }
  return mapped;
}

static void
client_handle_gate(ConsentClientSource *self, const ConsentMessage *msg)
{
  const char *reason =
      msg->reason ? msg->reason : (msg->gate_open ? "all-accepted" : "initial");
  guint64 epoch;

  client_renew_lease(self, msg->lease_ms);
  g_mutex_lock(&self->lock);
  self->connected = TRUE;
  epoch = client_map_epoch_locked(self, msg->epoch);
  g_mutex_unlock(&self->lock);
  self->backoff_ms = CONSENT_CLIENT_BACKOFF_MIN_MS;
  client_set_decision(
      self, client_decision_new(self, msg->gate_open, epoch, reason, msg->authorized_by));
}

/* A gate or lease counts only if it is about what this connection follows:
 * the meeting-wide decision (no "participant") or its one participant. Any
 * other is ignored, so it can neither open nor extend anything (fail closed). */
static gboolean
client_message_is_ours(ConsentClientSource *self, const ConsentMessage *msg)
{
  if (g_strcmp0(msg->participant, self->participant) == 0)
    return TRUE;
  GST_WARNING("meeting %s: ignoring a '%s' message for %s %s (following %s)",
              self->meeting, consent_message_type_name(msg->type),
              msg->participant ? "participant" : "the",
              msg->participant ? msg->participant : "meeting",
              self->participant ? self->participant : "the meeting");
  return FALSE;
}

static void
client_handle_message(ConsentClientSource *self, const char *data, gsize len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ConsentMessage) msg = consent_message_parse(data, len, NULL, &error);

  if (!msg) {
    /* Bad input changes nothing (promise 9); the lease still runs out. */
    GST_WARNING("meeting %s: ignoring a malformed message from %s: %s", self->meeting,
                self->server, error->message);
    return;
  }
  if ((msg->type == CONSENT_MSG_GATE || msg->type == CONSENT_MSG_LEASE) &&
      !client_message_is_ours(self, msg))
    return;
  switch (msg->type) {
  case CONSENT_MSG_GATE:
    client_handle_gate(self, msg);
    break;
  case CONSENT_MSG_LEASE:
    /* A heartbeat only extends an existing grant; it never opens. */
    self->heartbeats_seen = TRUE;
    client_renew_lease(self, msg->lease_ms);
    break;
  case CONSENT_MSG_ERROR:
    GST_WARNING("meeting %s: %s refused the recorder: %s: %s", self->meeting,
                self->server, msg->code, msg->message);
    break;
  default:
    GST_DEBUG("meeting %s: ignoring a '%s' message", self->meeting,
              consent_message_type_name(msg->type));
    break;
  }
}

static int
client_receive(ConsentClientSource *self, struct lws *wsi, const char *in, size_t len)
{
  if (self->rx_reset) {
    g_string_truncate(self->rx, 0);
    self->rx_reset = FALSE;
  }
  /* lws 4.1 has no message size cap: count the fragments ourselves. */
  if (lws_frame_is_binary(wsi) || self->rx->len + len > CONSENT_WIRE_DEFAULT_MAX_BYTES) {
    GST_WARNING("meeting %s: %s sent a binary or oversized message; reconnecting",
                self->meeting, self->server);
    return -1;
  }
  g_string_append_len(self->rx, in, len);
  if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
    client_handle_message(self, self->rx->str, self->rx->len);
    self->rx_reset = TRUE;
  }
  return 0;
}

/* ---- sending -------------------------------------------------------------- */

static int
client_write_text(struct lws *wsi, const char *text)
{
  gsize len = strlen(text);
  g_autofree guchar *buf = g_malloc(LWS_PRE + len);
  int written;

  memcpy(buf + LWS_PRE, text, len);
  written = lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_TEXT);
  explicit_bzero(buf, LWS_PRE + len);
  return written < (int)len ? -1 : 0;
}

static int
client_send_hello(ConsentClientSource *self, struct lws *wsi)
{
  g_autoptr(ConsentMessage) hello = consent_message_new(CONSENT_MSG_HELLO);
  g_autofree char *json = NULL;
  int ret;

  hello->token = g_strdup(self->token);
  /* Ask consentd for this participant's decisions instead of the meeting's. */
  hello->participant = g_strdup(self->participant);
  json = consent_message_to_json(hello);
  explicit_bzero(hello->token, strlen(hello->token));
  if (!json)
    return -1;
  ret = client_write_text(wsi, json);
  explicit_bzero(json, strlen(json));
  return ret;
}

static void client_finish_stop(ConsentClientSource *self);

/* Sends the hello first, then one queued segment report per writable event. */
static int
client_writable(ConsentClientSource *self, struct lws *wsi)
{
  g_autofree char *json = NULL;
  gboolean more;

  if (self->need_hello) {
    self->need_hello = FALSE;
    if (client_send_hello(self, wsi) < 0)
      return -1;
    lws_callback_on_writable(wsi);
    return 0;
  }
  g_mutex_lock(&self->lock);
  json = g_queue_pop_head(&self->outgoing);
  g_mutex_unlock(&self->lock);
  if (json && client_write_text(wsi, json) < 0) {
    /* Keep it for the next connection. */
    g_mutex_lock(&self->lock);
    g_queue_push_head(&self->outgoing, g_steal_pointer(&json));
    g_mutex_unlock(&self->lock);
    return -1;
  }
  g_mutex_lock(&self->lock);
  if (json)
    self->n_sent++;
  more = !g_queue_is_empty(&self->outgoing);
  g_cond_broadcast(&self->cond);
  g_mutex_unlock(&self->lock);
  if (more)
    lws_callback_on_writable(wsi);
  else if (self->stop_armed)
    client_finish_stop(self);
  return 0;
}

/* ---- stopping ------------------------------------------------------------- */

static void
client_finish_stop(ConsentClientSource *self)
{
  self->thread_done = TRUE;
  lws_sul_cancel(&self->sul_flush);
  if (self->wsi)
    lws_set_timeout(self->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static void
flush_timeout_cb(lws_sorted_usec_list_t *sul)
{
  ConsentClientSource *self = lws_container_of(sul, ConsentClientSource, sul_flush);

  GST_WARNING("meeting %s: stopping with segment reports not delivered to %s",
              self->meeting, self->server);
  client_finish_stop(self);
}

/* On the client thread, woken by lws_cancel_service(). */
static void
client_wakeup(ConsentClientSource *self)
{
  gboolean stopping, pending;

  g_mutex_lock(&self->lock);
  stopping = self->stopping;
  pending = !g_queue_is_empty(&self->outgoing);
  g_mutex_unlock(&self->lock);

  if (stopping && !self->stop_armed) {
    self->stop_armed = TRUE;
    lws_sul_cancel(&self->sul_reconnect);
    lws_sul_cancel(&self->sul_lease);
    if (!self->wsi || !pending) {
      client_finish_stop(self);
      return;
    }
    /* Give queued segment reports a short chance to reach the ledger. */
    lws_sul_schedule(self->context, 0, &self->sul_flush, flush_timeout_cb,
                     CONSENT_CLIENT_FLUSH_US);
  }
  if (self->wsi && pending && !self->need_hello)
    lws_callback_on_writable(self->wsi);
}

/* ---- the lws callback ----------------------------------------------------- */

static int
client_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                size_t len)
{
  ConsentClientSource *self = lws_context_user(lws_get_context(wsi));

  switch (reason) {
  case LWS_CALLBACK_CLIENT_ESTABLISHED:
    GST_INFO("meeting %s: connected to %s", self->meeting, self->server);
    self->wsi = wsi;
    self->need_hello = TRUE;
    self->rx_reset = TRUE;
    lws_callback_on_writable(wsi);
    break;
  case LWS_CALLBACK_CLIENT_RECEIVE:
    return client_receive(self, wsi, in, len);
  case LWS_CALLBACK_CLIENT_WRITEABLE:
    return client_writable(self, wsi);
  case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    client_on_disconnect(self, in && len ? (const char *)in : "connection failed");
    break;
  case LWS_CALLBACK_CLIENT_CLOSED:
    client_on_disconnect(self, NULL);
    break;
  case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
    if (self)
      client_wakeup(self);
    break;
  default:
    break;
  }
  return 0;
}

static const struct lws_protocols client_protocols[] = {
    {CONSENT_CLIENT_PROTOCOL, client_callback, 0, CONSENT_WIRE_DEFAULT_MAX_BYTES, 0, NULL,
     0},
    {NULL, NULL, 0, 0, 0, NULL, 0}};

static gpointer
client_thread(gpointer data)
{
  ConsentClientSource *self = data;

  client_connect(self);
  while (!self->thread_done)
    lws_service(self->context, 0);
  /* Destroyed on the thread that serviced it; callbacks run during the
   * destruction see stop_armed and do nothing. */
  lws_context_destroy(self->context);
  self->context = NULL;
  if (self->unref_on_exit) {
    /* Nobody can join us: detach, then let the object go. */
    g_thread_unref(g_steal_pointer(&self->thread));
    g_object_unref(self);
  }
  return NULL;
}

static void
client_lws_log(int level, const char *line)
{
  GST_CAT_LEVEL_LOG(consent_client_debug,
                    level == LLL_ERR ? GST_LEVEL_WARNING : GST_LEVEL_DEBUG, NULL,
                    "lws: %s", line);
}

/* ---- construction --------------------------------------------------------- */

static gboolean
client_parse_server(ConsentClientSource *self, const char *server, GError **error)
{
  g_autoptr(GUri) uri = g_uri_parse(server, G_URI_FLAGS_NONE, NULL);
  const char *scheme, *path;

  if (!uri || !g_uri_get_host(uri) || !*g_uri_get_host(uri)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "server '%s' is not a URL; use ws://HOST:PORT or wss://HOST:PORT",
                server);
    return FALSE;
  }
  scheme = g_uri_get_scheme(uri);
  if (g_ascii_strcasecmp(scheme, "ws") != 0 && g_ascii_strcasecmp(scheme, "wss") != 0) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "server '%s' has scheme '%s'; use ws:// (loopback) or wss://", server,
                scheme);
    return FALSE;
  }
  self->tls = g_ascii_strcasecmp(scheme, "wss") == 0;
  self->host = g_strdup(g_uri_get_host(uri));
  self->port = g_uri_get_port(uri) > 0 ? g_uri_get_port(uri) : (self->tls ? 443 : 80);
  path = g_uri_get_path(uri);
  self->path = g_strdup(
      path && *path && strcmp(path, "/") != 0 ? path : CONSENT_CLIENT_DEFAULT_PATH);
  return TRUE;
}

static char *
client_read_token(const char *token_file, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  char *token;

  if (!token_file || !*token_file) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "no token-file set: the recorder token must be given in a file");
    return NULL;
  }
  if (!g_file_get_contents(token_file, &data, &len, error)) {
    g_prefix_error(error, "cannot read the recorder token: ");
    return NULL;
  }
  if (len > CONSENT_CLIENT_MAX_TOKEN_FILE) {
    explicit_bzero(data, len);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "token file %s is larger than %d bytes; it must hold one token",
                token_file, CONSENT_CLIENT_MAX_TOKEN_FILE);
    return NULL;
  }
  token = g_strdup(g_strstrip(data));
  explicit_bzero(data, len);
  if (!*token || strchr(token, '\n') || !g_utf8_validate(token, -1, NULL)) {
    g_free(token);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "token file %s must hold exactly one token on one line", token_file);
    return NULL;
  }
  return token;
}

static gboolean
client_create_context(ConsentClientSource *self, GError **error)
{
  struct lws_context_creation_info info = {0};

  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = client_protocols;
  info.user = self;
  info.gid = -1;
  info.uid = -1;
  /* lws otherwise sizes its fd table by the process fd limit. */
  info.fd_limit_per_thread = 8;
  if (self->tls) {
    /* Without this flag lws 4.1 silently leaves TLS off. */
    info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.client_ssl_ca_filepath = self->ca_file;
  }
  self->context = lws_create_context(&info);
  if (!self->context) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                "cannot set up the websocket client for %s%s", self->server,
                self->tls ? " (check ca-file)" : "");
    return FALSE;
  }
  return TRUE;
}

static ConsentClientSource *
client_new(const char *key, const char *server, const char *meeting,
           const char *participant, const char *token_file, const char *ca_file,
           GError **error)
{
  g_autoptr(ConsentClientSource) self = NULL;

  if (!consent_id_is_valid(meeting)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "meeting id '%s' is not valid (1-64 of A-Z a-z 0-9 . _ -)",
                meeting ? meeting : "");
    return NULL;
  }
  if (participant && !consent_id_is_valid(participant)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "participant id '%s' is not valid (1-64 of A-Z a-z 0-9 . _ -)",
                participant);
    return NULL;
  }
  self = g_object_new(CONSENT_TYPE_CLIENT_SOURCE, NULL);
  self->server = g_strdup(server);
  self->meeting = g_strdup(meeting);
  self->participant = g_strdup(participant);
  self->decision = consent_gate_decision_new_closed(meeting, participant, 0, "initial");
  if (!client_parse_server(self, server, error))
    return NULL;
  if (ca_file && *ca_file) {
    if (!g_file_test(ca_file, G_FILE_TEST_IS_REGULAR)) {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                  "ca-file %s does not exist or is not a file", ca_file);
      return NULL;
    }
    self->ca_file = g_strdup(ca_file);
  }
  self->token = client_read_token(token_file, error);
  if (!self->token || !client_create_context(self, error))
    return NULL;
  self->thread = g_thread_new("consent-client", client_thread, self);
  /* Only now: a failed construction must not touch the (locked) registry. */
  self->key = g_strdup(key);
  return g_steal_pointer(&self);
}

ConsentSource *
consent_client_source_get(const char *server, const char *meeting, const char *token_file,
                          const char *ca_file, GError **error)
{
  return consent_client_source_get_for_participant(server, meeting, NULL, token_file,
                                                   ca_file, error);
}

ConsentSource *
consent_client_source_get_for_participant(const char *server, const char *meeting,
                                          const char *participant, const char *token_file,
                                          const char *ca_file, GError **error)
{
  g_autofree char *key = NULL;
  g_autoptr(ConsentClientSource) stale = NULL;
  ConsentClientSource *self;
  RegistryEntry *entry;

  g_return_val_if_fail(server != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  /* Ids cannot hold a newline, and "\n-" cannot be a participant: the keys
   * of a meeting-wide and a participant connection never collide. */
  key = g_strdup_printf("%s\n%s\n%s%s", server, meeting ? meeting : "",
                        participant ? "+" : "-", participant ? participant : "");
  g_mutex_lock(&registry_lock);
  if (!registry)
    registry =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, registry_entry_free);
  entry = g_hash_table_lookup(registry, key);
  self = entry ? g_weak_ref_get(&entry->ref) : NULL;
  if (self && self->disposed) {
    /* Caught between its last unref and its dispose: it is stopping. Let
     * it go after unlocking (its dispose takes the registry lock). */
    stale = g_steal_pointer(&self);
  }
  if (!self) {
    self = client_new(key, server, meeting, participant, token_file, ca_file, error);
    if (self) {
      entry = g_new0(RegistryEntry, 1);
      g_weak_ref_init(&entry->ref, self);
      entry->owner = self;
      g_hash_table_replace(registry, g_strdup(key), entry);
    }
  }
  g_mutex_unlock(&registry_lock);
  return self ? CONSENT_SOURCE(self) : NULL;
}

gboolean
consent_client_source_is_connected(ConsentClientSource *self)
{
  gboolean connected;

  g_return_val_if_fail(CONSENT_IS_CLIENT_SOURCE(self), FALSE);
  g_mutex_lock(&self->lock);
  connected = self->connected;
  g_mutex_unlock(&self->lock);
  return connected;
}

/* ---- ConsentSource -------------------------------------------------------- */

static ConsentGateDecision *
client_get_decision(ConsentSource *source, const char *participant)
{
  ConsentClientSource *self = CONSENT_CLIENT_SOURCE(source);
  ConsentGateDecision *d;
  gboolean expired;

  if (g_strcmp0(participant, self->participant) != 0) {
    /* A connection carries the decision of what it follows only: any other
     * participant (or the meeting, from a participant connection) is closed. */
    return consent_gate_decision_new_closed(self->meeting, participant, 0, "no-source");
  }
  g_mutex_lock(&self->lock);
  d = consent_gate_decision_ref(self->decision);
  /* Checked here too, so a stalled client thread cannot keep a gate open. */
  expired = d->open && self->lease_deadline_us &&
            g_get_monotonic_time() > self->lease_deadline_us;
  g_mutex_unlock(&self->lock);
  if (expired) {
    guint64 epoch = d->epoch;

    consent_gate_decision_unref(d);
    d = client_decision_new(self, FALSE, epoch, "lease-expired", NULL);
  }
  return d;
}

static char *
client_segment_json(ConsentClientSource *self, const ConsentSegmentReport *report)
{
  g_autoptr(ConsentMessage) msg = consent_message_new(CONSENT_MSG_SEGMENT);

  msg->path = g_strdup(report->path);
  msg->sha256 = g_strdup(report->sha256);
  msg->size = report->size;
  g_mutex_lock(&self->lock);
  msg->epoch = report->epoch >= self->epoch_offset ? report->epoch - self->epoch_offset
                                                   : report->epoch;
  g_mutex_unlock(&self->lock);
  msg->start = g_strdup(report->start_utc);
  msg->end = g_strdup(report->end_utc);
  msg->authorized_by = report->authorized_by ? g_strdupv((char **)report->authorized_by)
                                             : g_new0(char *, 1);
  msg->muxer = g_strdup(report->muxer);
  msg->notice_version = g_strdup(report->notice_version);
  return consent_message_to_json(msg);
}

/* Queues the report; on a live connection, waits (bounded) until it is
 * written to the socket. */
static gboolean
client_report_segment(ConsentSource *source, const ConsentSegmentReport *report,
                      GError **error)
{
  ConsentClientSource *self = CONSENT_CLIENT_SOURCE(source);
  g_autofree char *json = client_segment_json(self, report);
  gint64 deadline = g_get_monotonic_time() + CONSENT_CLIENT_REPORT_WAIT_US;
  guint64 ticket;
  gboolean sent;

  if (!json) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "segment report for %s lacks required fields (path, sha256, start, end)",
                report->path ? report->path : "(no path)");
    return FALSE;
  }
  g_mutex_lock(&self->lock);
  if (g_queue_get_length(&self->outgoing) >= CONSENT_CLIENT_MAX_QUEUED) {
    g_mutex_unlock(&self->lock);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
                "%d segment reports are already waiting for %s; is consentd reachable?",
                CONSENT_CLIENT_MAX_QUEUED, self->server);
    return FALSE;
  }
  g_queue_push_tail(&self->outgoing, g_steal_pointer(&json));
  ticket = ++self->n_queued;
  g_mutex_unlock(&self->lock);
  lws_cancel_service(self->context);

  /* Wait (bounded) only on a live connection: then the report is on the
   * wire before, say, the process exits. Without one it waits in the queue
   * and the caller's thread is not held up. */
  g_mutex_lock(&self->lock);
  while (self->n_sent < ticket && self->connected && !self->stopping &&
         g_cond_wait_until(&self->cond, &self->lock, deadline))
    ;
  sent = self->n_sent >= ticket;
  g_mutex_unlock(&self->lock);
  if (!sent)
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                "segment report for %s not yet delivered to %s; it stays queued and is "
                "sent when the connection is back",
                report->path, self->server);
  return sent;
}

static const char *
client_get_meeting_id(ConsentSource *source)
{
  return CONSENT_CLIENT_SOURCE(source)->meeting;
}

/* ---- GObject -------------------------------------------------------------- */

static void
client_unregister(ConsentClientSource *self)
{
  RegistryEntry *entry;

  if (!self->key)
    return;
  g_mutex_lock(&registry_lock);
  self->disposed = TRUE;
  entry = registry ? g_hash_table_lookup(registry, self->key) : NULL;
  if (entry && entry->owner == self)
    g_hash_table_remove(registry, self->key);
  g_mutex_unlock(&registry_lock);
}

static void
consent_client_source_dispose(GObject *object)
{
  ConsentClientSource *self = CONSENT_CLIENT_SOURCE(object);

  client_unregister(self);
  if (self->thread && g_thread_self() == self->thread) {
    /* The last ref went away on our own thread (a handler of our signal
     * dropped it): a thread cannot join itself, so keep the object alive
     * until the thread has wound down, and free it from there. */
    g_mutex_lock(&self->lock);
    self->stopping = TRUE;
    g_mutex_unlock(&self->lock);
    self->unref_on_exit = TRUE;
    g_object_ref(self);
    lws_cancel_service(self->context);
  } else if (self->thread) {
    g_mutex_lock(&self->lock);
    self->stopping = TRUE;
    g_cond_broadcast(&self->cond);
    g_mutex_unlock(&self->lock);
    lws_cancel_service(self->context);
    g_thread_join(g_steal_pointer(&self->thread));
  } else if (self->context) {
    lws_context_destroy(g_steal_pointer(&self->context));
  }
  G_OBJECT_CLASS(consent_client_source_parent_class)->dispose(object);
}

static void
consent_client_source_finalize(GObject *object)
{
  ConsentClientSource *self = CONSENT_CLIENT_SOURCE(object);

  if (self->token) {
    explicit_bzero(self->token, strlen(self->token));
    g_free(self->token);
  }
  g_queue_clear_full(&self->outgoing, g_free);
  g_clear_pointer(&self->decision, consent_gate_decision_unref);
  g_string_free(self->rx, TRUE);
  g_free(self->key);
  g_free(self->server);
  g_free(self->meeting);
  g_free(self->participant);
  g_free(self->host);
  g_free(self->path);
  g_free(self->ca_file);
  g_mutex_clear(&self->lock);
  g_cond_clear(&self->cond);
  G_OBJECT_CLASS(consent_client_source_parent_class)->finalize(object);
}

static void
consent_client_source_class_init(ConsentClientSourceClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  ConsentSourceClass *source_class = CONSENT_SOURCE_CLASS(klass);

  gobject_class->dispose = consent_client_source_dispose;
  gobject_class->finalize = consent_client_source_finalize;
  source_class->get_decision = client_get_decision;
  source_class->report_segment = client_report_segment;
  source_class->get_meeting_id = client_get_meeting_id;

  GST_DEBUG_CATEGORY_INIT(consent_client_debug, "consentclient", 0,
                          "consentd client of the consent plugin");
  lws_set_log_level(LLL_ERR | LLL_WARN, client_lws_log);
}

static void
consent_client_source_init(ConsentClientSource *self)
{
  g_mutex_init(&self->lock);
  g_cond_init(&self->cond);
  g_queue_init(&self->outgoing);
  self->rx = g_string_sized_new(256);
  self->backoff_ms = CONSENT_CLIENT_BACKOFF_MIN_MS;
}
