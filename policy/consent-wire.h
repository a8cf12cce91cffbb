/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "consent-types.h"
#include "consent-notice.h"

#include <json-c/json.h>

G_BEGIN_DECLS

/**
 * The consent.v1 websocket protocol: JSON text frames, each an object with a
 * "type". The type names and field names are a contract (docs/protocol.md).
 *
 *  participant/recorder → server   hello    {"token", optional "participant"}
 *  participant → server            consent  {"decision":"accept"|"decline","notice","request"}
 *                                  withdraw {}
 *  server → participant            welcome  {"meeting","participant","notice":{…}}
 *                                  request  {"request","notice"}
 *                                  recorded {"event","record","hash"}
 *                                  state    {"gate":"open"|"closed","recording":bool}
 *                                  error    {"code","message"}
 *  server → recorder               gate     {"state","epoch","reason","authorized-by":[…],"lease-ms",
 *                                            optional "participant"}
 *                                  lease    {"epoch","lease-ms", optional "participant"}
 *  recorder → server               segment  {"path","sha256","size","epoch","start","end",
 *                                            "authorized-by":[…], optional "muxer","notice"}
 *
 * Field shapes checked by the parser: meeting, participant, notice versions,
 * request ids and muxer are ids (consent_id_is_valid()); record ids, hashes
 * and reasons 1-128 printable ASCII without spaces; sha256 64 lowercase hex;
 * start/end UTC ISO 8601 ending in "Z"; path absolute (≤ 4096 bytes); notice
 * text ≤ 8192 bytes, other texts ≤ 512; epoch/size 0..INT64_MAX; lease-ms
 * 0..3600000; authorized-by ≤ 256 entries; hello token ≤ 1024 bytes; error
 * code a known consent_error_code_name(). The welcome notice carries its
 * "sha256", which must match the notice's canonical form.
 *
 * Following one participant (optional "participant", an id): a recorder's
 * hello may name the participant whose own stream it records; the server then
 * sends that participant's decisions (policy scope=participant; in meeting
 * scope the meeting-wide decision) and every `gate` and `lease` it sends that
 * recorder carries the same "participant". Without it a recorder follows the
 * meeting-wide decision and its gate/lease carry no "participant". A
 * participant's hello needs no "participant" (its token names it); if it has
 * one, it must equal the token's participant, else the server answers
 * "wrong-role" and closes: a participant cannot follow someone else. The
 * codec only checks the shape; the token check is the server's.
 */
typedef enum {
  CONSENT_MSG_HELLO,
  CONSENT_MSG_CONSENT,
  CONSENT_MSG_WITHDRAW,
  CONSENT_MSG_WELCOME,
  CONSENT_MSG_REQUEST,
  CONSENT_MSG_RECORDED,
  CONSENT_MSG_STATE,
  CONSENT_MSG_ERROR,
  CONSENT_MSG_GATE,
  CONSENT_MSG_LEASE,
  CONSENT_MSG_SEGMENT,
  CONSENT_MSG_N_TYPES
} ConsentMessageType;

/** ConsentMessage: one wire message; only the fields of its type are set. */
typedef struct {
  ConsentMessageType type;
  char *token;              /* hello */
  gboolean accept;          /* consent: decision */
  char *notice_version;     /* consent, request, segment (optional) */
  char *request_id;         /* consent, request */
  char *meeting;            /* welcome */
  char *participant;        /* welcome; optional in hello, gate, lease (followed participant) */
  ConsentNotice *notice;    /* welcome */
  char *event;              /* recorded: the event type name */
  char *record_id;          /* recorded */
  char *record_hash;        /* recorded */
  gboolean gate_open;       /* state, gate */
  gboolean recording;       /* state */
  char *code;               /* error */
  char *message;            /* error */
  guint64 epoch;            /* gate, lease, segment */
  char *reason;             /* gate */
  char **authorized_by;     /* gate, segment */
  guint lease_ms;           /* gate, lease */
  char *path;               /* segment */
  char *sha256;             /* segment */
  guint64 size;             /* segment */
  char *start;              /* segment: UTC ISO 8601 */
  char *end;                /* segment: UTC ISO 8601 */
  char *muxer;              /* segment (optional) */
} ConsentMessage;

typedef struct {
  gsize max_bytes; /* default 16384 */
  guint max_depth; /* default 8 */
} ConsentWireLimits;

#define CONSENT_WIRE_DEFAULT_MAX_BYTES 16384
#define CONSENT_WIRE_DEFAULT_MAX_DEPTH 8

const char *consent_message_type_name (ConsentMessageType type);
ConsentMessage *consent_message_new (ConsentMessageType type);
void consent_message_free (ConsentMessage *msg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ConsentMessage, consent_message_free)

/**
 * consent_message_parse:
 * Strict: size and depth capped (@limits NULL = defaults), strict JSON, no
 * duplicate keys, valid UTF-8, known type, exactly the fields of that type with
 * exact JSON types and bounded string lengths. Errors are %CONSENT_ERROR codes
 * whose names (consent_error_code_name()) go back to the peer in an `error`.
 */
ConsentMessage *consent_message_parse (const char *data, gsize len,
                                       const ConsentWireLimits *limits, GError **error);

/** consent_message_to_json: compact JSON text; returns NULL if @msg lacks required fields. */
char *consent_message_to_json (const ConsentMessage *msg);

/**
 * consent_notice_to_json_object:
 * The notice as the wire and the ledger carry it: {"version","text",
 * "controller","purpose","storage","retention-days","sha256"}. Free with json_object_put().
 */
json_object *consent_notice_to_json_object (const ConsentNotice *notice);

/**
 * consent_notice_from_json_object:
 * The inverse of consent_notice_to_json_object(), as strict as the welcome
 * parser: exactly those keys, bounded strings, and a "sha256" that matches
 * the notice's canonical form (BAD_FIELD otherwise).
 */
ConsentNotice *consent_notice_from_json_object (json_object *obj, GError **error);

/** consent_message_error_json: the `error` message for @code with @message. */
char *consent_message_error_json (ConsentError code, const char *message);

G_END_DECLS
