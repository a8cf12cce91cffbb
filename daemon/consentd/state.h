/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* state.h: the state directory (a contract: docs/admin-guide.md) and its secrets. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * ConsentdState:
 * The opened state directory:
 *   secret        token signing key: 64 lowercase hex digits (32 bytes) + "\n"
 *   admin.token   the admin API bearer token: 43 base64url characters + "\n"
 *   audit.key     the ledger's initial seal key (created by the ledger library)
 *   ledger/ keys/ the ledger library's
 *   policy.conf   written with defaults if absent
 *   recordings/   the default storage root (0750)
 * Secrets are created on first start with mode 0600 and never logged.
 */
typedef struct {
  char *dir;
  guint8 secret[32];
  char *admin_token;
  char *policy_path;
  char *recordings_dir;
} ConsentdState;

/** consentd_state_default_dir: $XDG_STATE_HOME/consentgate, else
 * ~/.local/state/consentgate. */
char *consentd_state_default_dir (void);

/**
 * consentd_state_open:
 * Creates @dir (0700) and whatever is missing in it, reads the secrets.
 * @policy_path NULL = <dir>/policy.conf, which is written with the default
 * policy if absent (a configured policy file must exist).
 */
ConsentdState *consentd_state_open (const char *dir, const char *policy_path,
                                    GError **error);
void consentd_state_free (ConsentdState *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ConsentdState, consentd_state_free)

/** consentd_state_check_admin_token: constant-time check of a presented bearer token. */
gboolean consentd_state_check_admin_token (const ConsentdState *state,
                                           const char *presented);

G_END_DECLS
