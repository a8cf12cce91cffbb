/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include "consent-source.h"

G_BEGIN_DECLS

/**
 * ConsentManifest: the sidecar `<file>.manifest.json` of one finished
 * recording: the facts reported to the ledger plus where they belong.
 */
typedef struct {
  const ConsentSegmentReport *report;
  const char *file_name; /* base name of the media file */
  const char *meeting;
  const char *participant; /* NULL for meeting scope */
} ConsentManifest;

/** consent_manifest_to_json: canonical JSON (sorted keys) of @manifest. */
char *consent_manifest_to_json (const ConsentManifest *manifest);

/**
 * consent_manifest_write:
 * Writes `<file_name>.manifest.json` in @dir_fd atomically: a temporary file
 * (O_EXCL, mode 0640), fsync, rename, fsync of the directory. On failure
 * nothing is left behind (the temporary file is removed).
 */
gboolean consent_manifest_write (int dir_fd, const char *dir_path,
                                 const ConsentManifest *manifest, GError **error);

/** consent_manifest_unlink: removes @file_name's manifest and its temporary file, if any.
 */
void consent_manifest_unlink (int dir_fd, const char *file_name);

/** consent_file_sha256: hex sha256 and size of the whole file behind @fd (read with
 * pread). */
gboolean consent_file_sha256 (int fd, char **hex, guint64 *size, GError **error);

G_END_DECLS
