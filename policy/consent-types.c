/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* consent-types.c: the error domain, enum names and id validation. */
#include "consent-types.h"

#include <string.h>

G_DEFINE_QUARK (consent-error-quark, consent_error)

/* Wire names of the error codes: peers see these, so they are a contract. */
static const char *const error_names[] = {
  [CONSENT_ERROR_INVALID] = "invalid",
  [CONSENT_ERROR_TOO_LARGE] = "too-large",
  [CONSENT_ERROR_TOO_DEEP] = "too-deep",
  [CONSENT_ERROR_BAD_UTF8] = "bad-utf8",
  [CONSENT_ERROR_BAD_JSON] = "bad-json",
  [CONSENT_ERROR_DUPLICATE_KEY] = "duplicate-key",
  [CONSENT_ERROR_UNKNOWN_TYPE] = "unknown-type",
  [CONSENT_ERROR_BAD_FIELD] = "bad-field",
  [CONSENT_ERROR_BAD_TOKEN] = "bad-token",
  [CONSENT_ERROR_EXPIRED] = "expired",
  [CONSENT_ERROR_WRONG_MEETING] = "wrong-meeting",
  [CONSENT_ERROR_WRONG_ROLE] = "wrong-role",
  [CONSENT_ERROR_NOT_PRESENT] = "not-present",
  [CONSENT_ERROR_UNKNOWN_MEETING] = "unknown-meeting",
  [CONSENT_ERROR_STALE_NOTICE] = "stale-notice",
  [CONSENT_ERROR_NO_REQUEST] = "no-request",
  [CONSENT_ERROR_CONFLICT] = "conflict",
  [CONSENT_ERROR_LEDGER] = "ledger-failed",
  [CONSENT_ERROR_POLICY] = "policy",
  [CONSENT_ERROR_RATE_LIMITED] = "rate-limited",
  [CONSENT_ERROR_TIMEOUT] = "timeout",
};

const char *
consent_error_code_name (ConsentError code)
{
  if ((guint) code >= G_N_ELEMENTS (error_names))
    return "invalid";
  return error_names[code];
}

gboolean
consent_error_code_from_name (const char *name, ConsentError *out)
{
  for (guint i = 0; name != NULL && i < G_N_ELEMENTS (error_names); i++) {
    if (strcmp (error_names[i], name) == 0) {
      if (out != NULL)
        *out = (ConsentError) i;
      return TRUE;
    }
  }
  return FALSE;
}

const char *
consent_scope_name (ConsentScope scope)
{
  return scope == CONSENT_SCOPE_PARTICIPANT ? "participant" : "meeting";
}

const char *
consent_late_join_name (ConsentLateJoin late_join)
{
  return late_join == CONSENT_LATE_JOIN_STOP ? "stop" : "close";
}

const char *
consent_role_name (ConsentRole role)
{
  return role == CONSENT_ROLE_RECORDER ? "recorder" : "participant";
}

gboolean
consent_role_from_name (const char *name, ConsentRole *out)
{
  ConsentRole role;

  if (g_strcmp0 (name, "participant") == 0)
    role = CONSENT_ROLE_PARTICIPANT;
  else if (g_strcmp0 (name, "recorder") == 0)
    role = CONSENT_ROLE_RECORDER;
  else
    return FALSE;
  if (out != NULL)
    *out = role;
  return TRUE;
}

const char *
consent_answer_name (ConsentAnswer answer)
{
  switch (answer) {
  case CONSENT_ANSWER_NONE:
    return "none";
  case CONSENT_ANSWER_PENDING:
    return "pending";
  case CONSENT_ANSWER_ACCEPTED:
    return "accepted";
  case CONSENT_ANSWER_ACCEPTING:
    return "accepting";
  case CONSENT_ANSWER_DECLINED:
    return "declined";
  case CONSENT_ANSWER_WITHDRAWN:
    return "withdrawn";
  case CONSENT_ANSWER_TIMED_OUT:
    return "timed-out";
  }
  return "none";
}

gboolean
consent_id_is_valid (const char *id)
{
  gsize len;

  if (id == NULL)
    return FALSE;
  len = strlen (id);
  if (len < 1 || len > 64 || id[0] == '.' || id[0] == '-')
    return FALSE;
  for (gsize i = 0; i < len; i++) {
    char c = id[i];
    if (!g_ascii_isalnum (c) && c != '.' && c != '_' && c != '-')
      return FALSE;
  }
  return TRUE;
}
