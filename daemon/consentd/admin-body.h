/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* admin-body.h: the JSON bodies of the admin API, parsed strictly. */
#pragma once

#include "consent.h"

G_BEGIN_DECLS

typedef enum {
  CONSENTD_ADMIN_BODY_MEETING,     /* PUT /v1/meetings/{m}: {"title", "notice":{…}} */
  CONSENTD_ADMIN_BODY_PARTICIPANT, /* PUT …/participants/{p}: {"display-name", "role"} */
  CONSENTD_ADMIN_BODY_RECORDING,   /* POST …/recording: {"action":"request"|"stop"} */
  CONSENTD_ADMIN_BODY_TOKEN, /* POST /v1/tokens: {"meeting","participant","role","ttl"} */
} ConsentdAdminBodyKind;

#define CONSENTD_ADMIN_MAX_TEXT 8192 /* notice text */
#define CONSENTD_ADMIN_MAX_SHORT 256 /* every other string */
#define CONSENTD_ADMIN_DEFAULT_TTL 3600

typedef struct {
  ConsentdAdminBodyKind kind;
  char *title;
  gboolean has_notice; /* meeting: a notice override */
  char *notice_version, *notice_text, *notice_purpose;
  guint notice_retention_days; /* 0 = the policy's */
  char *display_name, *role;
  gboolean stop; /* recording: "stop" (else "request") */
  char *meeting, *participant;
  ConsentRole token_role;
  guint ttl_s;
} ConsentdAdminBody;

/**
 * consentd_admin_body_parse:
 * Parses @len bytes of @data as the body of @kind with libconsent's strict
 * JSON reader (size capped at @max_bytes). An empty body means {} where
 * every field is optional. "title", "display-name" and "role" must hold no
 * control characters (U+0000-U+001F, U+007F). Errors are %CONSENT_ERROR
 * codes with messages naming the field. Safe on any input (a fuzz target calls it).
 */
ConsentdAdminBody *consentd_admin_body_parse (ConsentdAdminBodyKind kind,
                                              const char *data, gsize len,
                                              gsize max_bytes, GError **error);
void consentd_admin_body_free (ConsentdAdminBody *body);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ConsentdAdminBody, consentd_admin_body_free)

G_END_DECLS
