/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The consent.v1 codec: round trips of every message and a corpus of bad ones. */
#include "consent.h"

#include <string.h>

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static ConsentMessage *
parse (const char *text, GError **error)
{
  return consent_message_parse (text, strlen (text), NULL, error);
}

/* Writes @msg, parses it back, writes again: both texts must be identical. */
static ConsentMessage *
round_trip (ConsentMessage *msg)
{
  g_autofree char *json = consent_message_to_json (msg);
  g_autofree char *again = NULL;
  g_autoptr (GError) error = NULL;
  ConsentMessage *back;

  g_assert_nonnull (json);
  back = parse (json, &error);
  g_assert_no_error (error);
  g_assert_nonnull (back);
  g_assert_cmpint (back->type, ==, msg->type);
  again = consent_message_to_json (back);
  g_assert_cmpstr (json, ==, again);
  consent_message_free (msg);
  return back;
}

static void
test_hello (void)
{
  ConsentMessage *m = consent_message_new (CONSENT_MSG_HELLO);
  g_autoptr (ConsentMessage) b = NULL;

  m->token = g_strdup ("ct1.abc.def");
  b = round_trip (m);
  g_assert_cmpstr (b->token, ==, "ct1.abc.def");
}

static void
test_consent (void)
{
  ConsentMessage *m = consent_message_new (CONSENT_MSG_CONSENT);
  g_autoptr (ConsentMessage) b = NULL;
  g_autoptr (ConsentMessage) d = NULL;

  m->accept = TRUE;
  m->notice_version = g_strdup ("3");
  m->request_id = g_strdup ("r-1");
  b = round_trip (m);
  g_assert_true (b->accept);
  g_assert_cmpstr (b->notice_version, ==, "3");
  g_assert_cmpstr (b->request_id, ==, "r-1");
  d = parse ("{\"type\":\"consent\",\"decision\":\"decline\",\"notice\":\"3\",\"request\":\"r\"}", NULL);
  g_assert_nonnull (d);
  g_assert_false (d->accept);
}

static void
test_withdraw (void)
{
  g_autoptr (ConsentMessage) b = round_trip (consent_message_new (CONSENT_MSG_WITHDRAW));
  g_autofree char *json = consent_message_to_json (b);

  g_assert_cmpstr (json, ==, "{\"type\":\"withdraw\"}");
}

static void
test_welcome (void)
{
  ConsentMessage *m = consent_message_new (CONSENT_MSG_WELCOME);
  g_autoptr (ConsentMessage) b = NULL;

  m->meeting = g_strdup ("m1");
  m->participant = g_strdup ("alice");
  m->notice = consent_notice_new ("2", "Text \"quoted\"\nline two \xc3\xa9", "ACME", "minutes",
                                  "on-site", 30);
  b = round_trip (m);
  g_assert_cmpstr (b->meeting, ==, "m1");
  g_assert_cmpstr (b->participant, ==, "alice");
  g_assert_cmpstr (b->notice->text, ==, "Text \"quoted\"\nline two \xc3\xa9");
  g_assert_cmpuint (b->notice->retention_days, ==, 30);
  g_assert_cmpuint (strlen (b->notice->sha256), ==, 64);
}

static void
test_request (void)
{
  ConsentMessage *m = consent_message_new (CONSENT_MSG_REQUEST);
  g_autoptr (ConsentMessage) b = NULL;

  m->request_id = g_strdup ("8c1f0e7a-1111-2222-3333-444455556666");
  m->notice_version = g_strdup ("1");
  b = round_trip (m);
  g_assert_cmpstr (b->request_id, ==, "8c1f0e7a-1111-2222-3333-444455556666");
}

static void
test_recorded (void)
{
  ConsentMessage *m = consent_message_new (CONSENT_MSG_RECORDED);
  g_autoptr (ConsentMessage) b = NULL;

  m->event = g_strdup ("accept");
  m->record_id = g_strdup ("42");
  m->record_hash = g_strdup (SHA);
  b = round_trip (m);
  g_assert_cmpstr (b->event, ==, "accept");
  g_assert_cmpstr (b->record_hash, ==, SHA);
}

static void
test_state (void)
{
  ConsentMessage *m = consent_message_new (CONSENT_MSG_STATE);
  g_autoptr (ConsentMessage) b = NULL;

  m->gate_open = TRUE;
  m->recording = TRUE;
  b = round_trip (m);
  g_assert_true (b->gate_open);
  g_assert_true (b->recording);
}

static void
test_error (void)
{
  g_autofree char *json = consent_message_error_json (CONSENT_ERROR_STALE_NOTICE, "read it again");
  g_autoptr (ConsentMessage) b = parse (json, NULL);

  g_assert_nonnull (b);
  g_assert_cmpint (b->type, ==, CONSENT_MSG_ERROR);
  g_assert_cmpstr (b->code, ==, "stale-notice");
  g_assert_cmpstr (b->message, ==, "read it again");
}

static void
test_error_message_sanitized (void)
{
  g_autofree char *long_msg = g_strnfill (2000, 'x');
  g_autofree char *json = consent_message_error_json (CONSENT_ERROR_BAD_JSON, long_msg);
  g_autofree char *json2 = consent_message_error_json (CONSENT_ERROR_BAD_UTF8, "bad \xff byte");
  g_autoptr (ConsentMessage) a = parse (json, NULL);
  g_autoptr (ConsentMessage) b = parse (json2, NULL);

  g_assert_nonnull (a);
  g_assert_cmpuint (strlen (a->message), <=, 512);
  g_assert_nonnull (b);
  g_assert_true (g_utf8_validate (b->message, -1, NULL));
}

static void
test_gate (void)
{
  ConsentMessage *m = consent_message_new (CONSENT_MSG_GATE);
  g_autoptr (ConsentMessage) b = NULL;
  const char *auth[] = { "mem-1", "mem-2", NULL };

  m->gate_open = TRUE;
  m->epoch = 7;
  m->reason = g_strdup ("all-accepted");
  m->authorized_by = g_strdupv ((char **) auth);
  m->lease_ms = 5000;
  b = round_trip (m);
  g_assert_true (b->gate_open);
  g_assert_cmpuint (b->epoch, ==, 7);
  g_assert_cmpuint (b->lease_ms, ==, 5000);
  g_assert_cmpuint (g_strv_length (b->authorized_by), ==, 2);
  g_assert_cmpstr (b->authorized_by[1], ==, "mem-2");
}

static void
test_lease (void)
{
  ConsentMessage *m = consent_message_new (CONSENT_MSG_LEASE);
  g_autoptr (ConsentMessage) b = NULL;

  m->epoch = G_MAXINT64;
  m->lease_ms = 3600000;
  b = round_trip (m);
  g_assert_cmpuint (b->epoch, ==, G_MAXINT64);
}

static void
test_segment (void)
{
  ConsentMessage *m = consent_message_new (CONSENT_MSG_SEGMENT);
  g_autoptr (ConsentMessage) b = NULL;
  ConsentMessage *m2;
  g_autoptr (ConsentMessage) b2 = NULL;

  m->path = g_strdup ("/srv/rec/m1/2026-11-28T10-00-00Z-e3.mkv");
  m->sha256 = g_strdup (SHA);
  m->size = 123456789;
  m->epoch = 3;
  m->start = g_strdup ("2026-11-28T10:00:00.000000Z");
  m->end = g_strdup ("2026-11-28T10:05:00Z");
  m->authorized_by = g_new0 (char *, 1);
  m->muxer = g_strdup ("matroskamux");
  m->notice_version = g_strdup ("1");
  b = round_trip (m);
  g_assert_cmpuint (b->size, ==, 123456789);
  g_assert_cmpstr (b->muxer, ==, "matroskamux");
  /* Optional fields may be absent. */
  m2 = consent_message_new (CONSENT_MSG_SEGMENT);
  m2->path = g_strdup ("/a");
  m2->sha256 = g_strdup (SHA);
  m2->start = g_strdup ("2026-11-28T10:00:00Z");
  m2->end = g_strdup ("2026-11-28T10:00:01Z");
  b2 = round_trip (m2);
  g_assert_null (b2->muxer);
  g_assert_null (b2->notice_version);
}

/* The optional "participant" of hello, gate and lease: left out when unset. */
static void
test_follow_participant (void)
{
  ConsentMessage *h = consent_message_new (CONSENT_MSG_HELLO);
  ConsentMessage *g = consent_message_new (CONSENT_MSG_GATE);
  ConsentMessage *l = consent_message_new (CONSENT_MSG_LEASE);
  ConsentMessage *plain = consent_message_new (CONSENT_MSG_GATE);
  g_autoptr (ConsentMessage) hb = NULL, gb = NULL, lb = NULL, pb = NULL;
  g_autofree char *plain_json = NULL;

  h->token = g_strdup ("ct1.a.b");
  h->participant = g_strdup ("alice");
  hb = round_trip (h);
  g_assert_cmpstr (hb->participant, ==, "alice");
  g->reason = g_strdup ("participant-accepted");
  g->gate_open = TRUE;
  g->participant = g_strdup ("alice");
  gb = round_trip (g);
  g_assert_cmpstr (gb->participant, ==, "alice");
  l->epoch = 4;
  l->participant = g_strdup ("alice");
  lb = round_trip (l);
  g_assert_cmpstr (lb->participant, ==, "alice");
  plain->reason = g_strdup ("initial");
  plain_json = consent_message_to_json (plain);
  g_assert_null (strstr (plain_json, "participant"));
  pb = round_trip (plain);
  g_assert_null (pb->participant);
}

static void
test_notice_json_object (void)
{
  g_autoptr (ConsentNotice) n = consent_notice_new ("v2", "text", "ACME", "minutes", "on-site", 9);
  g_autoptr (json_object) o = consent_notice_to_json_object (n);
  g_autoptr (ConsentNotice) back = NULL;
  g_autoptr (GError) error = NULL;

  back = consent_notice_from_json_object (o, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->sha256, ==, n->sha256);
  /* A changed text no longer matches the sha256 it came with. */
  json_object_object_add (o, "text", json_object_new_string ("other text"));
  g_clear_pointer (&back, consent_notice_unref);
  back = consent_notice_from_json_object (o, &error);
  g_assert_null (back);
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_BAD_FIELD);
  g_clear_error (&error);
  g_assert_null (consent_notice_from_json_object (NULL, &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_BAD_FIELD);
}

static void
test_writer_refuses_incomplete (void)
{
  g_autoptr (ConsentMessage) m = consent_message_new (CONSENT_MSG_HELLO);
  g_autoptr (ConsentMessage) g = consent_message_new (CONSENT_MSG_GATE);

  g_assert_null (consent_message_to_json (m));
  g_assert_null (consent_message_to_json (g));
}

typedef struct {
  const char *text;
  ConsentError code;
} Bad;

#define WELCOME_NOTICE(extra)                                                                    \
  "{\"type\":\"welcome\",\"meeting\":\"m\",\"participant\":\"p\",\"notice\":{\"version\":\"1\"," \
  "\"text\":\"t\",\"controller\":\"c\",\"purpose\":\"p\",\"storage\":\"s\",\"retention-days\":1," \
  "\"sha256\":\"" SHA "\"" extra "}}"

static const Bad bad_corpus[] = {
  { "{\"type\":\"hello\"}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"hello\",\"token\":12}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"hello\",\"token\":\"\"}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"hello\",\"token\":\"t\",\"extra\":1}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"hello\",\"token\":\"t\",\"token\":\"u\"}", CONSENT_ERROR_DUPLICATE_KEY },
  { "{\"type\":\"helo\",\"token\":\"t\"}", CONSENT_ERROR_UNKNOWN_TYPE },
  { "{\"type\":\"HELLO\",\"token\":\"t\"}", CONSENT_ERROR_UNKNOWN_TYPE },
  { "{\"type\":1}", CONSENT_ERROR_BAD_FIELD },
  { "{\"token\":\"t\"}", CONSENT_ERROR_BAD_FIELD },
  { "[\"hello\"]", CONSENT_ERROR_BAD_FIELD },
  { "\"hello\"", CONSENT_ERROR_BAD_FIELD },
  { "{'type':'withdraw'}", CONSENT_ERROR_BAD_JSON },
  { "{\"type\":\"withdraw\",}", CONSENT_ERROR_BAD_JSON },
  { "{\"type\":\"withdraw\"} x", CONSENT_ERROR_BAD_JSON },
  { "{\"type\":\"withdraw\",\"x\":{}}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"withdraw\",\"x\":[[[[[[[[[1]]]]]]]]]}", CONSENT_ERROR_TOO_DEEP },
  { "{\"type\":\"with\xff" "draw\"}", CONSENT_ERROR_BAD_UTF8 },
  { "{\"type\":\"consent\",\"decision\":\"yes\",\"notice\":\"1\",\"request\":\"r\"}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"consent\",\"decision\":true,\"notice\":\"1\",\"request\":\"r\"}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"consent\",\"decision\":\"accept\",\"notice\":1,\"request\":\"r\"}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"consent\",\"decision\":\"accept\",\"notice\":\"1\"}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"consent\",\"decision\":\"accept\",\"notice\":\"../1\",\"request\":\"r\"}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"state\",\"gate\":\"ajar\",\"recording\":true}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"state\",\"gate\":\"open\",\"recording\":1}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"state\",\"gate\":\"open\",\"recording\":\"true\"}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"error\",\"code\":\"oops\",\"message\":\"m\"}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"gate\",\"state\":\"open\",\"epoch\":-1,\"reason\":\"r\",\"authorized-by\":[],\"lease-ms\":1}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"gate\",\"state\":\"open\",\"epoch\":\"1\",\"reason\":\"r\",\"authorized-by\":[],\"lease-ms\":1}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"gate\",\"state\":\"open\",\"epoch\":1.0,\"reason\":\"r\",\"authorized-by\":[],\"lease-ms\":1}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"gate\",\"state\":\"open\",\"epoch\":1,\"reason\":\"r\",\"authorized-by\":[1],\"lease-ms\":1}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"gate\",\"state\":\"open\",\"epoch\":1,\"reason\":\"r\",\"authorized-by\":\"a\",\"lease-ms\":1}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"gate\",\"state\":\"open\",\"epoch\":1,\"reason\":\"r\",\"authorized-by\":[],\"lease-ms\":3600001}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"lease\",\"epoch\":99999999999999999999,\"lease-ms\":1}", CONSENT_ERROR_BAD_JSON },
  { "{\"type\":\"recorded\",\"event\":\"party\",\"record\":\"1\",\"hash\":\"h\"}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"recorded\",\"event\":\"accept\",\"record\":\"a b\",\"hash\":\"h\"}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"segment\",\"path\":\"rel/x.mkv\",\"sha256\":\"" SHA "\",\"size\":1,\"epoch\":1,\"start\":\"2026-01-01T00:00:00Z\",\"end\":\"2026-01-01T00:00:01Z\",\"authorized-by\":[]}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"segment\",\"path\":\"/x\",\"sha256\":\"ABC\",\"size\":1,\"epoch\":1,\"start\":\"2026-01-01T00:00:00Z\",\"end\":\"2026-01-01T00:00:01Z\",\"authorized-by\":[]}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"segment\",\"path\":\"/x\",\"sha256\":\"" SHA "\",\"size\":1,\"epoch\":1,\"start\":\"yesterday\",\"end\":\"2026-01-01T00:00:01Z\",\"authorized-by\":[]}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"segment\",\"path\":\"/x\",\"sha256\":\"" SHA "\",\"size\":1,\"epoch\":1,\"start\":\"2026-01-01T00:00:00+01:00\",\"end\":\"2026-01-01T00:00:01Z\",\"authorized-by\":[]}", CONSENT_ERROR_BAD_FIELD },
  { WELCOME_NOTICE (",\"extra\":1"), CONSENT_ERROR_BAD_FIELD },
  { WELCOME_NOTICE (""), CONSENT_ERROR_BAD_FIELD }, /* sha256 does not match the notice */
  { "", CONSENT_ERROR_BAD_JSON },
  { "{\"type\":\"hello\",\"token\":\"t\",\"participant\":\"../x\"}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"hello\",\"token\":\"t\",\"participant\":7}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"hello\",\"token\":\"t\",\"participant\":\"\"}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"gate\",\"state\":\"open\",\"epoch\":1,\"reason\":\"r\",\"authorized-by\":[],\"lease-ms\":1,\"participant\":null}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"lease\",\"epoch\":1,\"lease-ms\":1,\"participant\":\"a b\"}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"welcome\",\"meeting\":\"m\",\"participant\":\"p\"}", CONSENT_ERROR_BAD_FIELD },
  { "{\"type\":\"error\",\"code\":\"rate-limit\",\"message\":\"m\"}", CONSENT_ERROR_BAD_FIELD },
};

static void
test_bad_corpus (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (bad_corpus); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (ConsentMessage) m = parse (bad_corpus[i].text, &error);
    if (m != NULL || !g_error_matches (error, CONSENT_ERROR, bad_corpus[i].code))
      g_error ("case %u: %s: expected %s, got %s", i, bad_corpus[i].text,
               consent_error_code_name (bad_corpus[i].code),
               error != NULL ? consent_error_code_name (error->code) : "success");
  }
}

static void
test_size_limit (void)
{
  g_autofree char *pad = g_strnfill (CONSENT_WIRE_DEFAULT_MAX_BYTES, 'a');
  g_autofree char *text = g_strdup_printf ("{\"type\":\"hello\",\"token\":\"%s\"}", pad);
  g_autoptr (GError) error = NULL;
  ConsentWireLimits small = { 32, 4 };
  const char *hello = "{\"type\":\"hello\",\"token\":\"0123456789\"}";

  g_assert_null (parse (text, &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_assert_null (consent_message_parse (hello, strlen (hello), &small, &error));
  g_assert_error (error, CONSENT_ERROR, CONSENT_ERROR_TOO_LARGE);
}

static void
test_type_names (void)
{
  for (int t = 0; t < CONSENT_MSG_N_TYPES; t++)
    g_assert_nonnull (consent_message_type_name (t));
  g_assert_null (consent_message_type_name (CONSENT_MSG_N_TYPES));
  g_assert_cmpstr (consent_error_code_name (CONSENT_ERROR_LEDGER), ==, "ledger-failed");
}

static void
test_error_code_names (void)
{
  ConsentError code = CONSENT_ERROR_INVALID;
  g_autofree char *json = consent_message_error_json (CONSENT_ERROR_RATE_LIMITED, "slow down");
  g_autoptr (ConsentMessage) m = parse (json, NULL);

  g_assert_cmpstr (consent_error_code_name (CONSENT_ERROR_RATE_LIMITED), ==, "rate-limited");
  g_assert_cmpstr (consent_error_code_name (CONSENT_ERROR_TIMEOUT), ==, "timeout");
  g_assert_true (consent_error_code_from_name ("rate-limited", &code));
  g_assert_cmpint (code, ==, CONSENT_ERROR_RATE_LIMITED);
  g_assert_true (consent_error_code_from_name ("timeout", &code));
  g_assert_cmpint (code, ==, CONSENT_ERROR_TIMEOUT);
  /* Appended: the earlier codes keep their numbers. */
  g_assert_cmpint (CONSENT_ERROR_RATE_LIMITED, ==, CONSENT_ERROR_POLICY + 1);
  g_assert_cmpint (CONSENT_ERROR_TIMEOUT, ==, CONSENT_ERROR_POLICY + 2);
  /* Every code has a distinct name that maps back to it. */
  for (int c = CONSENT_ERROR_INVALID; c <= CONSENT_ERROR_TIMEOUT; c++) {
    ConsentError back = CONSENT_ERROR_INVALID;
    g_assert_true (consent_error_code_from_name (consent_error_code_name (c), &back));
    g_assert_cmpint (back, ==, c);
  }
  g_assert_nonnull (m);
  g_assert_cmpstr (m->code, ==, "rate-limited");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/wire/hello", test_hello);
  g_test_add_func ("/wire/consent", test_consent);
  g_test_add_func ("/wire/withdraw", test_withdraw);
  g_test_add_func ("/wire/welcome", test_welcome);
  g_test_add_func ("/wire/request", test_request);
  g_test_add_func ("/wire/recorded", test_recorded);
  g_test_add_func ("/wire/state", test_state);
  g_test_add_func ("/wire/error", test_error);
  g_test_add_func ("/wire/error-sanitized", test_error_message_sanitized);
  g_test_add_func ("/wire/gate", test_gate);
  g_test_add_func ("/wire/lease", test_lease);
  g_test_add_func ("/wire/segment", test_segment);
  g_test_add_func ("/wire/writer-refuses-incomplete", test_writer_refuses_incomplete);
  g_test_add_func ("/wire/bad-corpus", test_bad_corpus);
  g_test_add_func ("/wire/size-limit", test_size_limit);
  g_test_add_func ("/wire/type-names", test_type_names);
  g_test_add_func ("/wire/error-code-names", test_error_code_names);
  g_test_add_func ("/wire/follow-participant", test_follow_participant);
  g_test_add_func ("/wire/notice-json-object", test_notice_json_object);
  return g_test_run ();
}
