/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ledger-fs.h: durable file operations (private). Every new name is made
 * durable by syncing its directory; nothing here retries a failed sync. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* ledger_fs_write_all: writes all of @data, retrying short writes and EINTR;
 * FALSE with errno set on failure. */
gboolean ledger_fs_write_all (int fd, const char *data, gsize len);

gboolean ledger_fs_fsync_dir (const char *dir, GError **error);
/* Creates @path (mode @mode) if missing, syncing its parent. */
gboolean ledger_fs_ensure_dir (const char *path, int mode, GError **error);
/* Writes @dir/@name through a temporary file, fsync, rename, directory fsync. */
gboolean ledger_fs_write_atomic (const char *dir, const char *name, const void *data, gsize len,
                                 int mode, GError **error);
/* Reads a whole file of at most @max bytes. */
gboolean ledger_fs_read_small (const char *path, gsize max, char **out, gsize *len,
                               GError **error);
/* Unlinks @dir/@name and syncs @dir. Missing is an error only if @must_exist. */
gboolean ledger_fs_unlink_durable (const char *dir, const char *name, gboolean must_exist,
                                   GError **error);
/* Overwrites a file's bytes with zeros and syncs before unlinking it (best effort
 * against recovery of erased keys on simple filesystems). */
gboolean ledger_fs_shred (const char *dir, const char *name, GError **error);
/* Sets a GError from errno with "what path: strerror". */
gboolean ledger_fs_errno (GError **error, int err, const char *what, const char *path);

G_END_DECLS
