/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* web.h: the static consent page, loaded into memory once at start. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _ConsentdWeb ConsentdWeb;

/** Security headers on every page response (the page needs nothing more). */
#define CONSENTD_WEB_CSP                                                                 \
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "        \
  "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/**
 * consentd_web_load:
 * Reads index.html, consent.js and consent.css from @dir (each at most
 * 256 KiB). A missing directory is an error naming it.
 */
ConsentdWeb *consentd_web_load (const char *dir, GError **error);
void consentd_web_free (ConsentdWeb *web);

/** consentd_web_lookup: the file served at @path ("/", "/consent.js", …), or NULL. */
GBytes *consentd_web_lookup (ConsentdWeb *web, const char *path,
                             const char **content_type);

/** consentd_web_default_dir: $CONSENTD_WEB_DIR (build-tree tests), else the installed
 * datadir. */
char *consentd_web_default_dir (void);

G_END_DECLS
