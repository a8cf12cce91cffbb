/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "consent-types.h"
#include "consent-notice.h"

G_BEGIN_DECLS

/**
 * ConsentPolicy:
 * The site's consent rules, loaded from a GKeyFile policy file. Immutable
 * after loading; refcounted.
 *
 * File format (every key optional, defaults shown):
 *
 *   [consent]
 *   scope=meeting              # meeting | participant
 *   late-join=close            # close | stop
 *   reuse-on-rejoin=true       # a rejoining person keeps this meeting's consent
 *   answer-timeout=300         # seconds, 5..86400; a timeout never implies consent
 *
 *   [notice]
 *   version=1                  # an id: 1-64 of [A-Za-z0-9._-]
 *   controller=…  purpose=…  storage=…  text=…
 *   retention-days=30          # 1..36500
 *
 *   [storage]
 *   roots=/var/lib/consentgate/recordings;   # absolute paths, ';'-separated
 *   allow-network-filesystems=false
 *   allow-foreign-sinks=false  # tests only: gate may open into non-consentsink
 *
 *   [ledger]
 *   retention-days=2190        # 1..36500
 */
typedef struct {
  ConsentScope scope;
  ConsentLateJoin late_join;
  gboolean reuse_on_rejoin;
  guint answer_timeout_s;
  ConsentNotice *notice;
  char **storage_roots; /* NULL-terminated, absolute, normalised */
  gboolean allow_network_filesystems;
  gboolean allow_foreign_sinks;
  guint ledger_retention_days;
} ConsentPolicy;

#define CONSENT_TYPE_POLICY (consent_policy_get_type ())
GType consent_policy_get_type (void);

/** consent_policy_new_default: built-in defaults; @storage_root may be NULL. */
ConsentPolicy *consent_policy_new_default (const char *storage_root);

/**
 * consent_policy_load_file / consent_policy_load_data:
 * Parse a policy. Every bad value fails with CONSENT_ERROR_POLICY and a message
 * "FILE:LINE: what is wrong (what is allowed)". Unknown groups or keys are
 * errors too (a typo must not silently weaken the policy).
 */
ConsentPolicy *consent_policy_load_file (const char *path, GError **error);
ConsentPolicy *consent_policy_load_data (const char *data, gsize len,
                                         const char *file_name, GError **error);

/** consent_policy_to_data: a complete policy file with every key, commented. */
char *consent_policy_to_data (const ConsentPolicy *policy);

ConsentPolicy *consent_policy_ref (ConsentPolicy *policy);
void consent_policy_unref (ConsentPolicy *policy);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ConsentPolicy, consent_policy_unref)

G_END_DECLS
