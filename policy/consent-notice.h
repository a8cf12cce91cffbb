/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/**
 * ConsentNotice:
 * What a participant is told before they answer: who records (controller),
 * why (purpose), where it is kept (storage), for how long (retention_days).
 * Immutable once created; refcounted boxed type.
 */
typedef struct {
  char *version;        /* opaque version label, e.g. "3" or "2026-11" */
  char *text;           /* the full notice text shown to people */
  char *controller;     /* who records (the data controller) */
  char *purpose;
  char *storage;        /* human description of where recordings are kept */
  guint retention_days; /* 1..36500 */
  char *sha256;         /* lowercase hex sha256 of the canonical form */
} ConsentNotice;

#define CONSENT_TYPE_NOTICE (consent_notice_get_type ())
GType consent_notice_get_type (void);

/** consent_notice_new: builds a notice and computes its hash; all strings required. */
ConsentNotice *consent_notice_new (const char *version, const char *text,
                                   const char *controller, const char *purpose,
                                   const char *storage, guint retention_days);
ConsentNotice *consent_notice_ref (ConsentNotice *notice);
void consent_notice_unref (ConsentNotice *notice);

/**
 * consent_notice_canonical:
 * The byte string the hash is computed over (documented in docs/ledger.md):
 * a JSON object with keys in lexicographic order, no whitespace.
 */
char *consent_notice_canonical (const ConsentNotice *notice);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ConsentNotice, consent_notice_unref)

G_END_DECLS
