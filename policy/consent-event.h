/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "consent-types.h"

G_BEGIN_DECLS

/**
 * ConsentEventType:
 * Everything the ledger records about a meeting (promise 8). The string names
 * (consent_event_type_name()) are the ledger's `type` values: a contract.
 */
typedef enum {
  CONSENT_EVENT_MEETING_UPDATED, /* "meeting-updated" */
  CONSENT_EVENT_JOIN,            /* "join" */
  CONSENT_EVENT_LEAVE,           /* "leave" */
  CONSENT_EVENT_NOTICE_SHOWN,    /* "notice-shown" */
  CONSENT_EVENT_NOTICE_CHANGED,  /* "notice-changed" */
  CONSENT_EVENT_REQUEST,         /* "request": recording requested */
  CONSENT_EVENT_RECORDING_STOP,  /* "recording-stop" */
  CONSENT_EVENT_ACCEPT,          /* "accept" */
  CONSENT_EVENT_DECLINE,         /* "decline" */
  CONSENT_EVENT_WITHDRAW,        /* "withdraw" */
  CONSENT_EVENT_TIMEOUT,         /* "timeout": no answer in time (never consent) */
  CONSENT_EVENT_GATE_OPENED,     /* "gate-opened" */
  CONSENT_EVENT_GATE_CLOSED,     /* "gate-closed" */
  CONSENT_EVENT_SEGMENT,         /* "segment": a recording file was finished */
  CONSENT_EVENT_MEETING_ENDED,   /* "meeting-ended" */
  CONSENT_EVENT_N_TYPES
} ConsentEventType;

const char *consent_event_type_name (ConsentEventType type);
gboolean consent_event_type_from_name (const char *name, ConsentEventType *out);

/** ConsentMethod: how an answer arrived (promise 8: "how"). All optional. */
typedef struct {
  const char *channel; /* "ws", "web", "admin-api", "in-process" */
  const char *client;  /* user agent or client name (personal data) */
  const char *ip;      /* peer address (personal data) */
} ConsentMethod;

/**
 * ConsentEvent:
 * One event the meeting asks its #ConsentRecorder to make durable. Strings are
 * owned by the event. Personal data (display_name, client, ip) must only be
 * stored encrypted by the ledger; the participant id is mapped to a subject
 * pseudonym by the ledger's key store.
 */
typedef struct {
  ConsentEventType type;
  guint64 ticket;        /* set by the meeting; give back to consent_meeting_record_done() */
  gint64 ts_us;          /* wall-clock time of the event (UTC, µs) */
  char *meeting;
  char *participant;     /* raw participant id, or NULL for meeting-level events */
  char *display_name;    /* personal data */
  char *role;            /* roster role ("host", "guest", …) for joins */
  char *notice_version;
  char *notice_sha256;
  char *request_id;
  char *channel;
  char *client;          /* personal data */
  char *ip;              /* personal data */
  char *actor;           /* "participant", "admin", "system", "recorder" */
  guint64 epoch;         /* gate events */
  char *reason;          /* gate events */
  char **authorized_by;  /* gate-opened: ledger record ids of the authorizing accepts */
  char **present;        /* gate events: participant ids present */
  char *details_json;    /* type-specific JSON object text (segment facts), or NULL */
} ConsentEvent;

#define CONSENT_TYPE_EVENT (consent_event_get_type ())
GType consent_event_get_type (void);
ConsentEvent *consent_event_new (ConsentEventType type, const char *meeting);
ConsentEvent *consent_event_copy (const ConsentEvent *event);
void consent_event_free (ConsentEvent *event);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ConsentEvent, consent_event_free)

G_END_DECLS
