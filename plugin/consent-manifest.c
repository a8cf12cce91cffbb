/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "consent-manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <stdio.h>
#include <unistd.h>

#include "consent-json.h"

#define MANIFEST_VERSION 1

static json_object *
strv_to_json (const char *const *strv)
{
  json_object *a = json_object_new_array ();

  for (; strv && *strv; strv++)
    json_object_array_add (a, json_object_new_string (*strv));
  return a;
}

static json_object *
string_or_null (const char *s)
{
  return s ? json_object_new_string (s) : NULL;
}

char *
consent_manifest_to_json (const ConsentManifest *manifest)
{
  const ConsentSegmentReport *r = manifest->report;
  g_autoptr (json_object) o = json_object_new_object ();

  json_object_object_add (o, "version", json_object_new_int (MANIFEST_VERSION));
  json_object_object_add (o, "file", json_object_new_string (manifest->file_name));
  json_object_object_add (o, "size", json_object_new_int64 ((gint64)r->size));
  json_object_object_add (o, "sha256", json_object_new_string (r->sha256));
  json_object_object_add (o, "duration_ns",
                          json_object_new_int64 ((gint64)r->duration_ns));
  json_object_object_add (o, "start_utc", json_object_new_string (r->start_utc));
  json_object_object_add (o, "end_utc", json_object_new_string (r->end_utc));
  json_object_object_add (o, "meeting", json_object_new_string (manifest->meeting));
  json_object_object_add (o, "participant", string_or_null (manifest->participant));
  json_object_object_add (o, "epoch", json_object_new_int64 ((gint64)r->epoch));
  json_object_object_add (o, "authorized_by", strv_to_json (r->authorized_by));
  json_object_object_add (o, "present", strv_to_json (r->present));
  json_object_object_add (o, "notice_version", string_or_null (r->notice_version));
  json_object_object_add (o, "muxer", json_object_new_string (r->muxer));
  return consent_json_to_string (o);
}

static gboolean
write_all (int fd, const char *data, gsize len)
{
  while (len > 0) {
    ssize_t n = write (fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      if (n == 0)
        errno = ENOSPC;
      return FALSE;
    }
    data += n;
    len -= (gsize)n;
  }
  return TRUE;
}

static gboolean
fail (GError **error, int e, const char *dir_path, const char *name, const char *what)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
               "%s manifest '%s/%s' failed: %s", what, dir_path, name, g_strerror (e));
  return FALSE;
}

gboolean
consent_manifest_write (int dir_fd, const char *dir_path, const ConsentManifest *manifest,
                        GError **error)
{
  g_autofree char *json = consent_manifest_to_json (manifest);
  g_autofree char *name = g_strdup_printf ("%s.manifest.json", manifest->file_name);
  g_autofree char *tmp = g_strdup_printf (".%s.tmp", name);
  g_autofree char *text = g_strconcat (json, "\n", NULL);
  int fd, e;

  fd = openat (dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
  if (fd < 0)
    return fail (error, errno, dir_path, name, "creating");
  if (!write_all (fd, text, strlen (text)) || fsync (fd) != 0) {
    e = errno;
    close (fd);
    unlinkat (dir_fd, tmp, 0);
    return fail (error, e, dir_path, name, "writing");
  }
  if (close (fd) != 0 || renameat (dir_fd, tmp, dir_fd, name) != 0) {
    e = errno;
    unlinkat (dir_fd, tmp, 0);
    return fail (error, e, dir_path, name, "renaming");
  }
  if (fsync (dir_fd) != 0) {
    /* the rename may not be durable: take it back rather than pretend */
    e = errno;
    unlinkat (dir_fd, name, 0);
    return fail (error, e, dir_path, name, "syncing the directory of");
  }
  return TRUE;
}

void
consent_manifest_unlink (int dir_fd, const char *file_name)
{
  g_autofree char *name = g_strdup_printf ("%s.manifest.json", file_name);
  g_autofree char *tmp = g_strdup_printf (".%s.tmp", name);

  unlinkat (dir_fd, name, 0);
  unlinkat (dir_fd, tmp, 0);
}

gboolean
consent_file_sha256 (int fd, char **hex, guint64 *size, GError **error)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guint8 *buf = g_malloc (64 * 1024);
  guint64 off = 0;

  for (;;) {
    ssize_t n = pread (fd, buf, 64 * 1024, (off_t)off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                   "reading the recording back for its sha256 failed: %s",
                   g_strerror (e));
      return FALSE;
    }
    if (n == 0)
      break;
    g_checksum_update (sum, buf, n);
    off += (guint64)n;
  }
  *hex = g_strdup (g_checksum_get_string (sum));
  *size = off;
  return TRUE;
}
