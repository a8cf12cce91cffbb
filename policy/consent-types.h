/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* consent-types.h: enums, error domain and small helpers shared by all of libconsent. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/**
 * ConsentError:
 * Error codes of the %CONSENT_ERROR domain. Wire error messages carry the
 * string form (see consent_error_code_name()), so the names are a contract.
 */
typedef enum {
  CONSENT_ERROR_INVALID,        /* "invalid": malformed input or value out of range */
  CONSENT_ERROR_TOO_LARGE,      /* "too-large": size cap exceeded */
  CONSENT_ERROR_TOO_DEEP,       /* "too-deep": nesting cap exceeded */
  CONSENT_ERROR_BAD_UTF8,       /* "bad-utf8" */
  CONSENT_ERROR_BAD_JSON,       /* "bad-json": not strict RFC 8259 JSON */
  CONSENT_ERROR_DUPLICATE_KEY,  /* "duplicate-key" */
  CONSENT_ERROR_UNKNOWN_TYPE,   /* "unknown-type": unknown message type */
  CONSENT_ERROR_BAD_FIELD,      /* "bad-field": missing, unknown or wrongly typed field */
  CONSENT_ERROR_BAD_TOKEN,      /* "bad-token": malformed or bad signature */
  CONSENT_ERROR_EXPIRED,        /* "expired" */
  CONSENT_ERROR_WRONG_MEETING,  /* "wrong-meeting" */
  CONSENT_ERROR_WRONG_ROLE,     /* "wrong-role" */
  CONSENT_ERROR_NOT_PRESENT,    /* "not-present": participant not in the roster */
  CONSENT_ERROR_UNKNOWN_MEETING,/* "unknown-meeting" */
  CONSENT_ERROR_STALE_NOTICE,   /* "stale-notice": answer for another notice version */
  CONSENT_ERROR_NO_REQUEST,     /* "no-request": no recording was requested */
  CONSENT_ERROR_CONFLICT,       /* "conflict": state does not allow this */
  CONSENT_ERROR_LEDGER,         /* "ledger-failed": ledger refused; fail closed */
  CONSENT_ERROR_POLICY,         /* "policy": policy file problem */
  CONSENT_ERROR_RATE_LIMITED,   /* "rate-limited": too many messages; the excess was dropped */
  CONSENT_ERROR_TIMEOUT,        /* "timeout": a required step (hello) did not come in time */
} ConsentError;

#define CONSENT_ERROR (consent_error_quark ())
GQuark consent_error_quark (void);

/** consent_error_code_name: the stable wire name of @code ("bad-json", ...). */
const char *consent_error_code_name (ConsentError code);
/** consent_error_code_from_name: the inverse of consent_error_code_name(). */
gboolean consent_error_code_from_name (const char *name, ConsentError *out);

typedef enum {
  CONSENT_SCOPE_MEETING,     /* the gate follows everyone present */
  CONSENT_SCOPE_PARTICIPANT, /* each participant's own stream follows only them */
} ConsentScope;

/* What happens when someone joins while the gate is open. Either way the
 * gate closes at once (promise 3); "stop" also ends the recording request so
 * an organiser must request it again. */
typedef enum {
  CONSENT_LATE_JOIN_CLOSE,
  CONSENT_LATE_JOIN_STOP,
} ConsentLateJoin;

typedef enum {
  CONSENT_ROLE_PARTICIPANT,
  CONSENT_ROLE_RECORDER,
} ConsentRole;

/* A participant's standing answer for the current notice version. */
typedef enum {
  CONSENT_ANSWER_NONE,      /* nothing asked yet */
  CONSENT_ANSWER_PENDING,   /* asked, not answered: never consent */
  CONSENT_ANSWER_ACCEPTED,  /* accepted, record durable */
  CONSENT_ANSWER_ACCEPTING, /* accepted, record not yet durable: does not count */
  CONSENT_ANSWER_DECLINED,
  CONSENT_ANSWER_WITHDRAWN,
  CONSENT_ANSWER_TIMED_OUT, /* answer timeout passed: same as declined */
} ConsentAnswer;

const char *consent_scope_name (ConsentScope scope);
/** consent_late_join_name: "close" or "stop" (the policy file's values). */
const char *consent_late_join_name (ConsentLateJoin late_join);
const char *consent_role_name (ConsentRole role);
gboolean consent_role_from_name (const char *name, ConsentRole *out);
const char *consent_answer_name (ConsentAnswer answer);

/**
 * consent_id_is_valid:
 * Meeting and participant ids end up in file names, URLs and logs: 1..64
 * characters of [A-Za-z0-9._-], not starting with '.' or '-'.
 */
gboolean consent_id_is_valid (const char *id);

G_END_DECLS
