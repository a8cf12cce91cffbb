/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ledger-fs.c: durable file operations for the ledger and key store. */
#include "ledger-fs.h"
#include "ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

gboolean
ledger_fs_errno (GError **error, int err, const char *what, const char *path)
{
  g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_IO, "%s %s: %s", what, path,
               g_strerror (err));
  return FALSE;
}

gboolean
ledger_fs_fsync_dir (const char *dir, GError **error)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return ledger_fs_errno (error, errno, "cannot open directory", dir);
  if (fsync (fd) != 0) {
    int err = errno;
    close (fd);
    return ledger_fs_errno (error, err, "cannot sync directory", dir);
  }
  close (fd);
  return TRUE;
}

gboolean
ledger_fs_ensure_dir (const char *path, int mode, GError **error)
{
  if (mkdir (path, (mode_t) mode) == 0) {
    g_autofree char *parent = g_path_get_dirname (path);
    return ledger_fs_fsync_dir (parent, error);
  }
  if (errno != EEXIST)
    return ledger_fs_errno (error, errno, "cannot create directory", path);
  if (!g_file_test (path, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_IO,
                 "%s exists but is not a directory", path);
    return FALSE;
  }
  return TRUE;
}

gboolean
ledger_fs_write_all (int fd, const char *data, gsize len)
{
  while (len > 0) {
    ssize_t n = write (fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return FALSE;
    data += n;
    len -= (gsize) n;
  }
  return TRUE;
}

gboolean
ledger_fs_write_atomic (const char *dir, const char *name, const void *data, gsize len,
                        int mode, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *tmp = g_strdup_printf ("%s.tmp", path);
  int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, (mode_t) mode);
  if (fd < 0)
    return ledger_fs_errno (error, errno, "cannot create", tmp);
  if (!ledger_fs_write_all (fd, data, len) || fsync (fd) != 0) {
    int err = errno;
    close (fd);
    unlink (tmp);
    return ledger_fs_errno (error, err, "cannot write", tmp);
  }
  close (fd);
  if (rename (tmp, path) != 0) {
    int err = errno;
    unlink (tmp);
    return ledger_fs_errno (error, err, "cannot rename to", path);
  }
  return ledger_fs_fsync_dir (dir, error);
}

gboolean
ledger_fs_read_small (const char *path, gsize max, char **out, gsize *len, GError **error)
{
  struct stat st;
  if (stat (path, &st) != 0)
    return ledger_fs_errno (error, errno, "cannot read", path);
  if ((gsize) st.st_size > max) {
    g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_TOO_LARGE,
                 "%s is larger than %" G_GSIZE_FORMAT " bytes", path, max);
    return FALSE;
  }
  g_autoptr (GError) local = NULL;
  if (!g_file_get_contents (path, out, len, &local)) {
    g_set_error (error, CONSENT_LEDGER_ERROR, CONSENT_LEDGER_ERROR_IO, "%s", local->message);
    return FALSE;
  }
  return TRUE;
}

gboolean
ledger_fs_unlink_durable (const char *dir, const char *name, gboolean must_exist,
                          GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  if (unlink (path) != 0) {
    if (errno == ENOENT && !must_exist)
      return TRUE;
    return ledger_fs_errno (error, errno, "cannot delete", path);
  }
  return ledger_fs_fsync_dir (dir, error);
}

gboolean
ledger_fs_shred (const char *dir, const char *name, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  int fd = open (path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return ledger_fs_errno (error, errno, "cannot open", path);
  struct stat st;
  if (fstat (fd, &st) == 0 && st.st_size > 0) {
    g_autofree char *zeros = g_malloc0 ((gsize) st.st_size);
    if (!ledger_fs_write_all (fd, zeros, (gsize) st.st_size) || fdatasync (fd) != 0) {
      int err = errno;
      close (fd);
      return ledger_fs_errno (error, err, "cannot overwrite", path);
    }
  }
  close (fd);
  return ledger_fs_unlink_durable (dir, name, TRUE, error);
}
