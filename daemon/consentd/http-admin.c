/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* http-admin.c: HTTP routing, the admin API, and the websocket handshake checks. */
#include "http-admin.h"

#include <string.h>

#include "admin-body.h"
#include "meetings.h"
#include "metrics.h"
#include "web.h"
#include "ws.h"

typedef enum { M_OTHER, M_GET, M_HEAD, M_POST, M_PUT, M_DELETE } Method;

/* One request/response on a (possibly kept-alive) connection. */
typedef struct {
  Method method;
  char *path;
  GByteArray *body;
  gboolean body_too_large;
  guint status;
  const char *content_type;
  GBytes *payload;
  const char *allow;     /* for 405 */
  gboolean is_page;      /* the consent page: its CSP allows scripts from self */
  gboolean unauthorized; /* add WWW-Authenticate */
  gboolean close_after;  /* the rest of the request body was not read */
  gboolean headers_sent;
} Txn;

static void
txn_free (Txn *t)
{
  if (!t)
    return;
  g_free (t->path);
  if (t->body)
    g_byte_array_unref (t->body);
  if (t->payload)
    g_bytes_unref (t->payload);
  g_free (t);
}

static Method
request_method (struct lws *wsi)
{
  if (lws_hdr_total_length (wsi, WSI_TOKEN_GET_URI))
    return M_GET;
  if (lws_hdr_total_length (wsi, WSI_TOKEN_POST_URI))
    return M_POST;
  if (lws_hdr_total_length (wsi, WSI_TOKEN_PUT_URI))
    return M_PUT;
  if (lws_hdr_total_length (wsi, WSI_TOKEN_DELETE_URI))
    return M_DELETE;
  if (lws_hdr_total_length (wsi, WSI_TOKEN_HEAD_URI))
    return M_HEAD;
  return M_OTHER;
}

/* ---- responses --------------------------------------------------------------- */

static void
respond (struct lws *wsi, Txn *t, guint status, const char *content_type, char *body)
{
  t->status = status;
  t->content_type = content_type;
  t->payload = g_bytes_new_take (body, strlen (body));
  lws_callback_on_writable (wsi);
}

static void
respond_json (struct lws *wsi, Txn *t, guint status, json_object *o)
{
  char *text = consent_json_to_string (o);

  respond (wsi, t, status, "application/json", g_strconcat (text, "\n", NULL));
  g_free (text);
}

static void
respond_error (struct lws *wsi, Txn *t, guint status, const char *code,
               const char *message)
{
  g_autoptr (json_object) o = json_object_new_object ();

  json_object_object_add (o, "error", json_object_new_string (code));
  json_object_object_add (o, "message", json_object_new_string (message));
  respond_json (wsi, t, status, o);
}

static guint
status_for_error (const GError *e)
{
  if (e->domain != CONSENT_ERROR)
    return 500;
  switch ((ConsentError)e->code) {
  case CONSENT_ERROR_TOO_LARGE:
    return 413;
  case CONSENT_ERROR_BAD_TOKEN:
  case CONSENT_ERROR_EXPIRED:
    return 401;
  case CONSENT_ERROR_WRONG_MEETING:
  case CONSENT_ERROR_WRONG_ROLE:
    return 403;
  case CONSENT_ERROR_NOT_PRESENT:
  case CONSENT_ERROR_UNKNOWN_MEETING:
    return 404;
  case CONSENT_ERROR_CONFLICT:
    return 409;
  case CONSENT_ERROR_LEDGER:
    return 503;
  default:
    return 400;
  }
}

static void
respond_gerror (struct lws *wsi, Txn *t, const GError *e)
{
  const char *code =
      e->domain == CONSENT_ERROR ? consent_error_code_name (e->code) : "internal";

  respond_error (wsi, t, status_for_error (e), code, e->message);
}

static int
add_header (struct lws *wsi, const char *name, const char *value, unsigned char **p,
            unsigned char *end)
{
  return lws_add_http_header_by_name (wsi, (const unsigned char *)name,
                                      (const unsigned char *)value, (int)strlen (value),
                                      p, end);
}

static int
write_headers (struct lws *wsi, Txn *t)
{
  unsigned char buf[LWS_PRE + 2048], *start = buf + LWS_PRE, *p = start,
                                     *end = buf + sizeof buf;
  gsize len = t->payload ? g_bytes_get_size (t->payload) : 0;

  if (lws_add_http_common_headers (wsi, t->status, t->content_type, len, &p, end) ||
      add_header (wsi, "content-security-policy:",
                  t->is_page ? CONSENTD_WEB_CSP
                             : "default-src 'none'; frame-ancestors 'none'",
                  &p, end) ||
      add_header (wsi, "x-content-type-options:", "nosniff", &p, end) ||
      add_header (wsi, "referrer-policy:", "no-referrer", &p, end) ||
      add_header (wsi, "x-frame-options:", "DENY", &p, end) ||
      add_header (wsi, "cache-control:", "no-store", &p, end) ||
      (t->allow && add_header (wsi, "allow:", t->allow, &p, end)) ||
      (t->unauthorized && add_header (wsi, "www-authenticate:", "Bearer", &p, end)) ||
      (t->close_after && add_header (wsi, "connection:", "close", &p, end)))
    return -1;
  return lws_finalize_write_http_header (wsi, start, &p, end) ? -1 : 0;
}

static int
on_http_writable (struct lws *wsi, Txn *t)
{
  gsize len;
  const guint8 *data;
  g_autofree guint8 *buf = NULL;

  if (!t || !t->status)
    return 0;
  if (!t->headers_sent) {
    t->headers_sent = TRUE;
    if (write_headers (wsi, t))
      return -1;
    lws_callback_on_writable (wsi);
    return 0;
  }
  data = g_bytes_get_data (t->payload, &len);
  buf = g_malloc (LWS_PRE + len + 1);
  memcpy (buf + LWS_PRE, data, len);
  if (t->method != M_HEAD &&
      lws_write (wsi, buf + LWS_PRE, len, LWS_WRITE_HTTP_FINAL) != (int)len)
    return -1;
  if (t->close_after)
    return -1;
  return lws_http_transaction_completed (wsi) ? -1 : 0;
}

/* ---- the admin API ----------------------------------------------------------- */

static char *
iso8601 (gint64 us)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (us / G_USEC_PER_SEC);

  return dt ? g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup ("");
}

static json_object *
strv_json (char **v)
{
  json_object *a = json_object_new_array ();

  for (guint i = 0; v && v[i]; i++)
    json_object_array_add (a, json_object_new_string (v[i]));
  return a;
}

static json_object *
meeting_state_json (ConsentMeeting *m)
{
  json_object *o = json_object_new_object (), *ps = json_object_new_array (), *n;
  g_autoptr (ConsentGateDecision) d = consent_meeting_get_decision (m, NULL);
  g_autoptr (GPtrArray) list = consent_meeting_list_participants (m);
  ConsentNotice *notice = consent_meeting_get_notice (m);
  const char *req = consent_meeting_get_request_id (m);
  const char *title = consent_meeting_get_title (m);

  json_object_object_add (o, "meeting",
                          json_object_new_string (consent_meeting_get_id (m)));
  json_object_object_add (o, "title", title ? json_object_new_string (title) : NULL);
  json_object_object_add (o, "gate",
                          json_object_new_string (d->open ? "open" : "closed"));
  json_object_object_add (o, "epoch", json_object_new_uint64 (d->epoch));
  json_object_object_add (o, "reason",
                          json_object_new_string (d->reason ? d->reason : ""));
  json_object_object_add (o, "authorized-by", strv_json (d->authorized_by));
  json_object_object_add (
      o, "recording",
      json_object_new_boolean (consent_meeting_is_recording_requested (m)));
  json_object_object_add (o, "request", req ? json_object_new_string (req) : NULL);
  n = json_object_new_object ();
  json_object_object_add (n, "version", json_object_new_string (notice->version));
  json_object_object_add (n, "sha256", json_object_new_string (notice->sha256));
  json_object_object_add (o, "notice", n);
  for (guint i = 0; i < list->len; i++) {
    ConsentParticipantState *s = g_ptr_array_index (list, i);
    json_object *p = json_object_new_object ();
    g_autofree char *since = iso8601 (s->since_us);
    json_object_object_add (p, "id", json_object_new_string (s->id));
    json_object_object_add (p, "display-name",
                            s->display_name ? json_object_new_string (s->display_name)
                                            : NULL);
    json_object_object_add (p, "role", s->role ? json_object_new_string (s->role) : NULL);
    json_object_object_add (p, "present", json_object_new_boolean (s->present));
    json_object_object_add (p, "answer",
                            json_object_new_string (consent_answer_name (s->answer)));
    json_object_object_add (p, "notice",
                            s->answer_notice_version
                                ? json_object_new_string (s->answer_notice_version)
                                : NULL);
    json_object_object_add (
        p, "record",
        s->answer_record_id ? json_object_new_string (s->answer_record_id) : NULL);
    json_object_object_add (p, "since", json_object_new_string (since));
    json_object_object_add (p, "since-us", json_object_new_int64 (s->since_us));
    json_object_array_add (ps, p);
  }
  json_object_object_add (o, "participants", ps);
  return o;
}

/* GET /v1/meetings: one line per meeting in progress, for status overviews. */
static void
list_meetings (ConsentdDaemon *d, struct lws *wsi, Txn *t)
{
  g_autoptr (GPtrArray) list = consentd_registry_list (d->registry);
  g_autoptr (json_object) o = json_object_new_object ();
  json_object *arr = json_object_new_array ();

  for (guint i = 0; i < list->len; i++) {
    ConsentMeeting *m = g_ptr_array_index (list, i);
    g_autoptr (ConsentGateDecision) dec = consent_meeting_get_decision (m, NULL);
    g_autoptr (GPtrArray) ps = consent_meeting_list_participants (m);
    const char *title = consent_meeting_get_title (m);
    json_object *e = json_object_new_object ();
    guint present = 0;

    for (guint j = 0; j < ps->len; j++)
      present += ((ConsentParticipantState *)g_ptr_array_index (ps, j))->present;
    json_object_object_add (e, "meeting",
                            json_object_new_string (consent_meeting_get_id (m)));
    json_object_object_add (e, "title", title ? json_object_new_string (title) : NULL);
    json_object_object_add (e, "gate",
                            json_object_new_string (dec->open ? "open" : "closed"));
    json_object_object_add (
        e, "recording",
        json_object_new_boolean (consent_meeting_is_recording_requested (m)));
    json_object_object_add (e, "participants", json_object_new_int64 (present));
    json_object_array_add (arr, e);
  }
  json_object_object_add (o, "meetings", arr);
  respond_json (wsi, t, 200, o);
}

/* The notice override of PUT /v1/meetings/{m}: text, purpose and a shorter
 * retention may change per meeting; who records and where stays the site's. */
static ConsentNotice *
notice_override (ConsentPolicy *policy, const ConsentdAdminBody *b, GError **error)
{
  ConsentNotice *base = policy->notice;
  guint days = b->notice_retention_days ? b->notice_retention_days : base->retention_days;

  if (days > base->retention_days) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_POLICY,
                 "notice retention-days %u exceeds the policy's %u", days,
                 base->retention_days);
    return NULL;
  }
  return consent_notice_new (
      b->notice_version, b->notice_text ? b->notice_text : base->text, base->controller,
      b->notice_purpose ? b->notice_purpose : base->purpose, base->storage, days);
}

static void
put_meeting (ConsentdDaemon *d, struct lws *wsi, Txn *t, const char *id,
             ConsentdAdminBody *b)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (ConsentNotice) notice = NULL;
  g_autoptr (json_object) o = NULL;
  gboolean created = FALSE;
  ConsentMeeting *m;

  if (b->has_notice && !(notice = notice_override (d->policy, b, &err)))
    return respond_gerror (wsi, t, err);
  if (!(m = consentd_registry_ensure (d->registry, id, &created, &err)))
    return respond_gerror (wsi, t, err);
  if (b->title && g_strcmp0 (b->title, consent_meeting_get_title (m)) != 0 &&
      !consent_meeting_set_title (m, b->title, &err))
    return respond_gerror (wsi, t, err);
  if (notice && !g_str_equal (notice->sha256, consent_meeting_get_notice (m)->sha256) &&
      !consent_meeting_set_notice (m, notice, "admin", &err))
    return respond_gerror (wsi, t, err);
  o = meeting_state_json (m);
  respond_json (wsi, t, created ? 201 : 200, o);
}

static void
put_participant (ConsentdDaemon *d, struct lws *wsi, Txn *t, ConsentMeeting *m,
                 const char *pid, ConsentdAdminBody *b)
{
  ConsentMethod method = {"admin-api", NULL, NULL};
  ConsentParticipantState *ps = NULL;
  g_autoptr (GError) err = NULL;
  g_autoptr (json_object) o = NULL;
  gboolean known = consent_meeting_get_participant (m, pid, &ps);
  gboolean present = known && ps->present;

  g_clear_pointer (&ps, consent_participant_state_free);
  if (!known) {
    g_autoptr (GPtrArray) all = consent_meeting_list_participants (m);
    if (all->len >= d->config->max_participants)
      return respond_error (wsi, t, 409, "conflict",
                            "the roster is full (max-participants)");
  }
  /* Joining twice is not an error: a conference server may repeat itself. */
  if (!present && !consent_meeting_join (m, pid, b->display_name,
                                         b->role ? b->role : "guest", &method, &err))
    return respond_gerror (wsi, t, err);
  consent_meeting_get_participant (m, pid, &ps);
  o = json_object_new_object ();
  json_object_object_add (o, "participant", json_object_new_string (pid));
  json_object_object_add (o, "present", json_object_new_boolean (ps->present));
  json_object_object_add (o, "answer",
                          json_object_new_string (consent_answer_name (ps->answer)));
  consent_participant_state_free (ps);
  respond_json (wsi, t, present ? 200 : 201, o);
}

static void
post_token (ConsentdDaemon *d, struct lws *wsi, Txn *t, ConsentdAdminBody *b)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (json_object) o = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autofree char *token = NULL;

  if (!consentd_registry_lookup (d->registry, b->meeting))
    return respond_error (wsi, t, 404, "unknown-meeting", "no such meeting in progress");
  token = consent_token_mint (d->state->secret, sizeof d->state->secret, b->meeting,
                              b->participant, b->token_role, now, b->ttl_s, &err);
  if (!token)
    return respond_gerror (wsi, t, err);
  o = json_object_new_object ();
  json_object_object_add (o, "token", json_object_new_string (token));
  json_object_object_add (o, "expires", json_object_new_int64 (now + b->ttl_s));
  respond_json (wsi, t, 201, o);
  explicit_bzero (token, strlen (token));
}

static void
simple_ok (struct lws *wsi, Txn *t, ConsentMeeting *m)
{
  g_autoptr (json_object) o = meeting_state_json (m);

  respond_json (wsi, t, 200, o);
}

static ConsentdAdminBody *
parse_body (ConsentdDaemon *d, struct lws *wsi, Txn *t, ConsentdAdminBodyKind kind)
{
  g_autoptr (GError) err = NULL;
  ConsentdAdminBody *b = consentd_admin_body_parse (
      kind, t->body ? (const char *)t->body->data : "", t->body ? t->body->len : 0,
      d->config->max_admin_body_bytes, &err);
  if (!b)
    respond_gerror (wsi, t, err);
  return b;
}

static void
method_not_allowed (struct lws *wsi, Txn *t, const char *allow)
{
  t->allow = allow;
  respond_error (wsi, t, 405, "method-not-allowed",
                 "method not allowed on this resource");
}

/* /v1/meetings/{m}[/participants/{p} | /recording] */
static void
route_meeting (ConsentdDaemon *d, struct lws *wsi, Txn *t, char **seg, guint n)
{
  g_autoptr (ConsentdAdminBody) b = NULL;
  g_autoptr (GError) err = NULL;
  ConsentMethod method = {"admin-api", NULL, NULL};
  ConsentMeeting *m;
  const char *mid = seg[2];

  if (!consent_id_is_valid (mid) || (n == 5 && !consent_id_is_valid (seg[4])))
    return respond_error (wsi, t, 400, "invalid", "invalid meeting or participant id");
  if (n == 3 && t->method == M_PUT) {
    if ((b = parse_body (d, wsi, t, CONSENTD_ADMIN_BODY_MEETING)))
      put_meeting (d, wsi, t, mid, b);
    return;
  }
  m = consentd_registry_lookup (d->registry, mid);
  if (n == 3) {
    if (t->method != M_GET && t->method != M_DELETE)
      return method_not_allowed (wsi, t, "GET, PUT, DELETE");
    if (!m)
      return respond_error (wsi, t, 404, "unknown-meeting",
                            "no such meeting in progress");
    if (t->method == M_GET)
      return simple_ok (wsi, t, m);
    consentd_registry_end (d->registry, mid, "admin");
    b = NULL;
    {
      g_autoptr (json_object) o = json_object_new_object ();
      json_object_object_add (o, "meeting", json_object_new_string (mid));
      json_object_object_add (o, "ended", json_object_new_boolean (TRUE));
      respond_json (wsi, t, 200, o);
    }
    return;
  }
  if (n == 4 && g_str_equal (seg[3], "recording")) {
    if (t->method != M_POST)
      return method_not_allowed (wsi, t, "POST");
    if (!(b = parse_body (d, wsi, t, CONSENTD_ADMIN_BODY_RECORDING)))
      return;
    if (!m)
      return respond_error (wsi, t, 404, "unknown-meeting",
                            "no such meeting in progress");
    if (b->stop ? !consent_meeting_stop_recording (m, "admin", &err)
                : !consent_meeting_request_recording (m, "admin", &err))
      return respond_gerror (wsi, t, err);
    return simple_ok (wsi, t, m);
  }
  if (n == 5 && g_str_equal (seg[3], "participants")) {
    if (t->method != M_PUT && t->method != M_DELETE)
      return method_not_allowed (wsi, t, "PUT, DELETE");
    if (t->method == M_PUT &&
        !(b = parse_body (d, wsi, t, CONSENTD_ADMIN_BODY_PARTICIPANT)))
      return;
    if (!m)
      return respond_error (wsi, t, 404, "unknown-meeting",
                            "no such meeting in progress");
    if (t->method == M_PUT)
      return put_participant (d, wsi, t, m, seg[4], b);
    if (!consent_meeting_leave (m, seg[4], &method, &err))
      return respond_gerror (wsi, t, err);
    return simple_ok (wsi, t, m);
  }
  respond_error (wsi, t, 404, "not-found", "no such resource");
}

static void
route_api (ConsentdDaemon *d, struct lws *wsi, Txn *t)
{
  g_auto (GStrv) seg = g_strsplit (t->path + 1, "/", 7);
  guint n = g_strv_length (seg);
  char auth[512] = "";

  if (lws_hdr_copy (wsi, auth, sizeof auth, WSI_TOKEN_HTTP_AUTHORIZATION) <= 0 ||
      !g_str_has_prefix (auth, "Bearer ") ||
      !consentd_state_check_admin_token (d->state, auth + strlen ("Bearer "))) {
    explicit_bzero (auth, sizeof auth);
    t->unauthorized = TRUE;
    return respond_error (
        wsi, t, 401, "unauthorized",
        "send Authorization: Bearer <the state directory's admin.token>");
  }
  explicit_bzero (auth, sizeof auth);
  if (t->body_too_large)
    return respond_error (wsi, t, 413, "too-large",
                          "request body exceeds max-admin-body-bytes");
  /* Fail closed: with a failed ledger nothing that would be recorded is
   * admitted until an operator restarts consentd. */
  if (d->ledger_failed && t->method != M_GET)
    return respond_error (
        wsi, t, 503, "ledger-failed",
        "the consent ledger failed; restart consentd after fixing the disk");
  if (n == 2 && g_str_equal (seg[1], "tokens")) {
    g_autoptr (ConsentdAdminBody) b = NULL;
    if (t->method != M_POST)
      return method_not_allowed (wsi, t, "POST");
    if ((b = parse_body (d, wsi, t, CONSENTD_ADMIN_BODY_TOKEN)))
      post_token (d, wsi, t, b);
    return;
  }
  if (n == 2 && g_str_equal (seg[1], "meetings")) {
    if (t->method != M_GET && t->method != M_HEAD)
      return method_not_allowed (wsi, t, "GET, HEAD");
    return list_meetings (d, wsi, t);
  }
  if (n >= 3 && n <= 5 && g_str_equal (seg[1], "meetings"))
    return route_meeting (d, wsi, t, seg, n);
  respond_error (wsi, t, 404, "not-found", "no such resource");
}

static void
route (ConsentdDaemon *d, struct lws *wsi, Txn *t)
{
  const char *ctype = NULL;
  GBytes *page;

  if (g_str_has_prefix (t->path, "/v1/"))
    return route_api (d, wsi, t);
  if (t->method != M_GET && t->method != M_HEAD)
    return method_not_allowed (wsi, t, "GET, HEAD");
  if (g_str_equal (t->path, "/healthz")) {
    g_autoptr (json_object) o = json_object_new_object ();
    json_object_object_add (
        o, "status", json_object_new_string (d->ledger_failed ? "ledger-failed" : "ok"));
    return respond_json (wsi, t, d->ledger_failed ? 503 : 200, o);
  }
  if (g_str_equal (t->path, "/metrics"))
    return respond (
        wsi, t, 200, "text/plain; version=0.0.4",
        consentd_metrics_render (d->metrics, consentd_registry_count (d->registry)));
  if ((page = consentd_web_lookup (d->web, t->path, &ctype))) {
    t->status = 200;
    t->content_type = ctype;
    t->payload = page;
    t->is_page = TRUE;
    lws_callback_on_writable (wsi);
    return;
  }
  respond_error (wsi, t, 404, "not-found", "no such resource");
}

/* ---- websocket handshake checks ---------------------------------------------- */

static gboolean
offers_subprotocol (struct lws *wsi)
{
  char buf[256] = "";
  g_auto (GStrv) items = NULL;

  if (lws_hdr_copy (wsi, buf, sizeof buf, WSI_TOKEN_PROTOCOL) <= 0)
    return FALSE;
  items = g_strsplit (buf, ",", -1);
  for (guint i = 0; items[i]; i++)
    if (g_str_equal (g_strstrip (items[i]), CONSENTD_WS_PROTOCOL))
      return TRUE;
  return FALSE;
}

/* Browsers always send Origin; other clients (the plugin, tools) may not and
 * are not subject to cross-site attacks, so no Origin is allowed. */
static gboolean
origin_allowed (ConsentdDaemon *d, struct lws *wsi)
{
  char origin[256] = "", host[256] = "";
  int n = lws_hdr_copy (wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN);

  if (n <= 0 && lws_hdr_total_length (wsi, WSI_TOKEN_ORIGIN) == 0)
    return TRUE;
  if (n <= 0)
    return FALSE;
  for (guint i = 0; d->config->origins[i]; i++)
    if (g_ascii_strcasecmp (origin, d->config->origins[i]) == 0)
      return TRUE;
  /* The consent page served by this daemon itself. */
  if (lws_hdr_copy (wsi, host, sizeof host, WSI_TOKEN_HOST) > 0) {
    const char *rest = g_str_has_prefix (origin, "https://")  ? origin + 8
                       : g_str_has_prefix (origin, "http://") ? origin + 7
                                                              : NULL;
    if (rest && g_ascii_strcasecmp (rest, host) == 0)
      return TRUE;
  }
  return FALSE;
}

static const char *
status_text (guint status)
{
  switch (status) {
  case 400:
    return "Bad Request";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 429:
    return "Too Many Requests";
  default:
    return "Service Unavailable";
  }
}

/* lws_return_http_status() answers an upgrade request with "HTTP/1.0",
 * which websocket clients refuse to parse; write the refusal ourselves and
 * close the connection after it. */
static int
reject_upgrade (ConsentdDaemon *d, struct lws *wsi, guint status, const char *why)
{
  g_autofree char *body =
      g_strdup_printf ("{\"error\":\"handshake\",\"message\":\"%s\"}\n", why);
  g_autofree char *head = g_strdup_printf (
      "HTTP/1.1 %u %s\r\ncontent-type: application/json\r\ncontent-length: %zu\r\n"
      "x-content-type-options: nosniff\r\ncache-control: no-store\r\nconnection: "
      "close\r\n\r\n%s",
      status, status_text (status), strlen (body), body);
  gsize n = strlen (head);
  g_autofree guint8 *buf = g_malloc (LWS_PRE + n);

  consentd_metrics_connection_rejected (d->metrics, why);
  g_debug ("websocket handshake refused: %s", why);
  memcpy (buf + LWS_PRE, head, n);
  lws_write (wsi, buf + LWS_PRE, n, LWS_WRITE_RAW);
  return -1;
}

static int
confirm_upgrade (ConsentdDaemon *d, struct lws *wsi, const char *upgrade)
{
  char path[128] = "", ip[64] = "";
  guint *per_ip;

  if (!upgrade || g_ascii_strcasecmp (upgrade, "websocket") != 0)
    return reject_upgrade (d, wsi, 400, "only websocket upgrades");
  if (lws_hdr_copy (wsi, path, sizeof path, WSI_TOKEN_GET_URI) <= 0 ||
      !g_str_equal (path, CONSENTD_WS_PATH))
    return reject_upgrade (d, wsi, 404, "websocket only at /v1/ws");
  if (!origin_allowed (d, wsi))
    return reject_upgrade (d, wsi, 403, "origin not allowed");
  if (!offers_subprotocol (wsi))
    return reject_upgrade (d, wsi, 400, "subprotocol consent.v1 required");
  if (d->stopping || d->n_sessions >= d->config->max_connections)
    return reject_upgrade (d, wsi, 503, "too many connections");
  lws_get_peer_simple (wsi, ip, sizeof ip);
  per_ip = g_hash_table_lookup (d->sessions_per_ip, ip);
  if (per_ip && *per_ip >= d->config->max_connections_per_ip)
    return reject_upgrade (d, wsi, 429, "too many connections from this address");
  return 0;
}

/* ---- the lws callback -------------------------------------------------------- */

static void
start_request (ConsentdDaemon *d, struct lws *wsi, ConsentdHttpSlot *slot,
               const char *path)
{
  Txn *t = g_new0 (Txn, 1);
  char clen[32] = "";
  guint64 expected = 0;

  txn_free (slot->txn);
  slot->txn = t;
  t->method = request_method (wsi);
  t->path = g_strdup (path && *path ? path : "/");
  if (t->method == M_OTHER)
    return method_not_allowed (wsi, t, "GET, HEAD, PUT, POST, DELETE");
  if (t->method == M_PUT || t->method == M_POST) {
    if (lws_hdr_copy (wsi, clen, sizeof clen, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0)
      g_ascii_string_to_unsigned (clen, 10, 0, G_MAXUINT64, &expected, NULL);
    if (expected > d->config->max_admin_body_bytes) {
      /* Answer at once without reading the body; the connection closes. */
      t->close_after = TRUE;
      return respond_error (wsi, t, 413, "too-large",
                            "request body exceeds max-admin-body-bytes");
    }
    if (expected > 0) {
      t->body = g_byte_array_sized_new ((guint)expected);
      return; /* wait for LWS_CALLBACK_HTTP_BODY_COMPLETION */
    }
  }
  route (d, wsi, t);
}

static void
append_body (ConsentdDaemon *d, Txn *t, const void *in, size_t len)
{
  if (!t || !t->body || t->body_too_large)
    return;
  if (t->body->len + len > d->config->max_admin_body_bytes) {
    t->body_too_large = TRUE;
    return;
  }
  g_byte_array_append (t->body, in, len);
}

int
consentd_http_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user,
                        void *in, size_t len)
{
  ConsentdHttpSlot *slot = user;
  ConsentdDaemon *d = lws_context_user (lws_get_context (wsi));

  switch (reason) {
  case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
    return confirm_upgrade (d, wsi, in);
  case LWS_CALLBACK_HTTP:
    start_request (d, wsi, slot, in);
    return 0;
  case LWS_CALLBACK_HTTP_BODY:
    append_body (d, slot->txn, in, len);
    return 0;
  case LWS_CALLBACK_HTTP_BODY_COMPLETION:
    if (slot->txn && !((Txn *)slot->txn)->status)
      route (d, wsi, slot->txn);
    return 0;
  case LWS_CALLBACK_HTTP_WRITEABLE:
    return on_http_writable (wsi, slot->txn);
  case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
  case LWS_CALLBACK_CLOSED_HTTP:
    if (slot) {
      txn_free (slot->txn);
      slot->txn = NULL;
    }
    break;
  default:
    break;
  }
  return lws_callback_http_dummy (wsi, reason, user, in, len);
}
