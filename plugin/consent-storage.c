/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The storage guard of consentsink (promise 7) and the downstream check the
 * gate runs before it opens.
 *
 * Rules, each refused with a message naming it:
 *  - the location is an absolute path;
 *  - after resolving `..` it lies under one of the policy's storage roots;
 *  - no component of it is a symbolic link leading out of that root (links
 *    that stay inside are followed once, when the canonical path is computed);
 *  - the canonical path is then opened component by component from the root
 *    with O_DIRECTORY|O_NOFOLLOW, so a component swapped for a link between
 *    the check and the open is refused, not followed;
 *  - the filesystem is local (statfs f_type, see network_filesystems[])
 *    unless the policy sets allow-network-filesystems;
 *  - meeting directories are real directories of mode 0750 or stricter,
 *    files are created with O_CREAT|O_EXCL|O_NOFOLLOW and mode 0640.
 */
#include "consent-storage.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "gstconsentsink.h"

/* Filesystems whose data does not stay on this machine, or whose f_type
 * cannot tell (FUSE: sshfs, glusterfs, s3fs … all share one magic). Values
 * from linux/magic.h and the filesystems' own sources. */
static const struct {
  guint64 magic;
  const char *name;
} network_filesystems[] = {
    {0x6969, "nfs"},      {0xFF534D42, "cifs"},   {0xFE534D42, "smb2"},
    {0x517B, "smb"},      {0x65735546, "fuse"},   {0x00C36400, "ceph"},
    {0x01021997, "9p"},   {0x73757245, "coda"},   {0x5346414F, "afs"},
    {0x6B414653, "afs"},  {0x564C, "ncp"},        {0x7461636F, "ocfs2"},
    {0x01161970, "gfs2"}, {0x0BD00BD0, "lustre"}, {0x20030528, "orangefs"},
    {0x47504653, "gpfs"}, {0x013111A8, "ibrix"},
};

const char *
consent_storage_network_fs_name (guint64 f_type)
{
  for (gsize i = 0; i < G_N_ELEMENTS (network_filesystems); i++)
    if (network_filesystems[i].magic == f_type)
      return network_filesystems[i].name;
  return NULL;
}

gboolean
consent_storage_check_fs_type (guint64 f_type, const char *path, gboolean allow_network,
                               GError **error)
{
  const char *name = consent_storage_network_fs_name (f_type);

  if (!name || allow_network)
    return TRUE;
  g_set_error (
      error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
      "storage location '%s' is on a network filesystem (%s, f_type 0x%" G_GINT64_MODIFIER
      "x); set allow-network-filesystems=true in the policy's [storage] group to permit",
      path, name, f_type);
  return FALSE;
}

static gboolean
check_fd_fs (int fd, const char *path, gboolean allow_network, GError **error)
{
  struct statfs st;

  if (fstatfs (fd, &st) != 0) {
    int e = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                 "cannot determine the filesystem of storage location '%s': %s", path,
                 g_strerror (e));
    return FALSE;
  }
  return consent_storage_check_fs_type ((guint64)(gulong)st.f_type, path, allow_network,
                                        error);
}

/* Lexical normalisation of an absolute path: removes ".", "" and resolves
 * ".." against the components before it (never above "/"). */
static char *
normalize_path (const char *path)
{
  g_auto (GStrv) parts = g_strsplit (path, "/", -1);
  g_autoptr (GPtrArray) out = g_ptr_array_new ();
  GString *s = g_string_new (NULL);

  for (char **p = parts; *p; p++) {
    if (**p == '\0' || strcmp (*p, ".") == 0)
      continue;
    if (strcmp (*p, "..") == 0) {
      if (out->len > 0)
        g_ptr_array_remove_index (out, out->len - 1);
      continue;
    }
    g_ptr_array_add (out, *p);
  }
  for (guint i = 0; i < out->len; i++)
    g_string_append_printf (s, "/%s", (const char *)out->pdata[i]);
  if (s->len == 0)
    g_string_append_c (s, '/');
  return g_string_free (s, FALSE);
}

/* TRUE when @path is @root or below it (component boundary). */
static gboolean
path_is_under (const char *path, const char *root)
{
  gsize n = strlen (root);

  if (strcmp (root, "/") == 0)
    return TRUE;
  return strncmp (path, root, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static gboolean
has_dotdot (const char *path)
{
  g_auto (GStrv) parts = g_strsplit (path, "/", -1);

  for (char **p = parts; *p; p++)
    if (strcmp (*p, "..") == 0)
      return TRUE;
  return FALSE;
}

static char *
roots_list (const ConsentPolicy *policy)
{
  if (!policy->storage_roots || !policy->storage_roots[0])
    return g_strdup ("none configured");
  return g_strjoinv (", ", policy->storage_roots);
}

/* Which root the (lexically normalised) location lies under; refuses with
 * the outside-root or the '..' rule. */
static const char *
find_root (const ConsentPolicy *policy, const char *location, const char *lex,
           GError **error)
{
  g_autofree char *roots = NULL;

  for (char **r = policy->storage_roots; r && *r; r++) {
    g_autofree char *lex_root = normalize_path (*r);
    if (path_is_under (lex, lex_root))
      return *r;
  }
  roots = roots_list (policy);
  if (has_dotdot (location)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                 "storage location '%s' leaves the storage roots (%s) through '..' (it "
                 "resolves to '%s')",
                 location, roots, lex);
    return NULL;
  }
  g_set_error (
      error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
      "storage location '%s' is outside every storage root allowed by the policy (%s)",
      location, roots);
  return NULL;
}

/* The symlink rule: every component below the root that is a link must
 * resolve inside the (canonical) root. */
static gboolean
check_components (const char *location, const char *lex, const char *lex_root,
                  const char *real_root, GError **error)
{
  g_autoptr (GString) cur = g_string_new (lex_root);
  g_auto (GStrv) parts = g_strsplit (lex + strlen (lex_root), "/", -1);

  for (char **p = parts; *p; p++) {
    struct stat st;
    if (**p == '\0')
      continue;
    if (cur->len == 0 || cur->str[cur->len - 1] != '/')
      g_string_append_c (cur, '/');
    g_string_append (cur, *p);
    if (lstat (cur->str, &st) != 0) {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                   "storage location '%s' cannot be used: '%s': %s", location, cur->str,
                   g_strerror (e));
      return FALSE;
    }
    if (S_ISLNK (st.st_mode)) {
      g_autofree char *target = realpath (cur->str, NULL);
      if (!target || !path_is_under (target, real_root)) {
        g_set_error (
            error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
            "storage location '%s': component '%s' is a symbolic link leading out of "
            "storage root '%s'",
            location, cur->str, real_root);
        return FALSE;
      }
    }
  }
  return TRUE;
}

/* Opens @real_loc from @real_root one component at a time, never following
 * a link (a component swapped for one after the checks is refused). */
static int
open_beneath (const char *location, const char *real_root, const char *real_loc,
              GError **error)
{
  g_auto (GStrv) parts = g_strsplit (real_loc + strlen (real_root), "/", -1);
  int fd = open (real_root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0) {
    int e = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                 "cannot open storage root '%s': %s", real_root, g_strerror (e));
    return -1;
  }
  for (char **p = parts; *p; p++) {
    int next;
    if (**p == '\0')
      continue;
    next = openat (fd, *p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) {
      int e = errno;
      g_set_error (
          error, G_IO_ERROR,
          e == ELOOP || e == ENOTDIR ? G_IO_ERROR_PERMISSION_DENIED
                                     : g_io_error_from_errno (e),
          "storage location '%s' changed while it was opened ('%s' is no longer a "
          "directory): %s",
          location, *p, g_strerror (e));
      close (fd);
      return -1;
    }
    close (fd);
    fd = next;
  }
  return fd;
}

int
consent_storage_open_location (const ConsentPolicy *policy, const char *location,
                               GError **error)
{
  g_autofree char *lex = NULL, *lex_root = NULL, *real_root = NULL, *real_loc = NULL;
  const char *root;
  int fd;

  if (!location || !g_path_is_absolute (location)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "storage location '%s' is not an absolute path",
                 location ? location : "");
    return -1;
  }
  lex = normalize_path (location);
  if (!(root = find_root (policy, location, lex, error)))
    return -1;
  lex_root = normalize_path (root);
  if (!(real_root = realpath (lex_root, NULL))) {
    int e = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                 "storage root '%s' cannot be resolved: %s", root, g_strerror (e));
    return -1;
  }
  if (!check_components (location, lex, lex_root, real_root, error))
    return -1;
  real_loc = realpath (lex, NULL);
  if (!real_loc || !path_is_under (real_loc, real_root)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                 "storage location '%s' resolves outside storage root '%s'", location,
                 real_root);
    return -1;
  }
  if ((fd = open_beneath (location, real_root, real_loc, error)) < 0)
    return -1;
  if (!check_fd_fs (fd, location, policy->allow_network_filesystems, error)) {
    close (fd);
    return -1;
  }
  return fd;
}

int
consent_storage_open_meeting_dir (int location_fd, const char *location,
                                  const char *meeting, gboolean allow_network,
                                  GError **error)
{
  g_autofree char *path = NULL;
  struct stat st;
  int fd;

  if (!consent_id_is_valid (meeting)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "meeting id '%s' is not valid (1..64 characters of [A-Za-z0-9._-], not "
                 "starting with '.' or '-')",
                 meeting ? meeting : "");
    return -1;
  }
  path = g_build_filename (location, meeting, NULL);
  if (mkdirat (location_fd, meeting, 0750) != 0 && errno != EEXIST) {
    int e = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                 "cannot create meeting directory '%s': %s", path, g_strerror (e));
    return -1;
  }
  fd = openat (location_fd, meeting, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (e == ELOOP || e == ENOTDIR)
      g_set_error (
          error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
          "meeting directory '%s' is a symbolic link or not a directory; refusing to "
          "follow it",
          path);
    else
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                   "cannot open meeting directory '%s': %s", path, g_strerror (e));
    return -1;
  }
  /* A directory made by someone else with looser bits is tightened, never
   * loosened: recordings are owner and group only. */
  if (fstat (fd, &st) == 0 && (st.st_mode & 027) != 0 &&
      fchmod (fd, st.st_mode & 0750) != 0) {
    int e = errno;
    g_set_error (
        error, G_IO_ERROR, g_io_error_from_errno (e),
        "meeting directory '%s' has mode %04o and cannot be restricted to 0750: %s", path,
        (unsigned)(st.st_mode & 07777), g_strerror (e));
    close (fd);
    return -1;
  }
  if (!check_fd_fs (fd, path, allow_network, error)) {
    close (fd);
    return -1;
  }
  return fd;
}

int
consent_storage_create_file (int dir_fd, const char *dir_path, const char *name,
                             GError **error)
{
  int fd =
      openat (dir_fd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);

  if (fd < 0) {
    int e = errno;
    if (e == EEXIST)
      g_set_error (
          error, G_IO_ERROR, G_IO_ERROR_EXISTS,
          "recording file '%s/%s' already exists; consentsink never overwrites or "
          "reuses a file",
          dir_path, name);
    else
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                   "cannot create recording file '%s/%s': %s", dir_path, name,
                   g_strerror (e));
    return -1;
  }
  return fd;
}

/* ---- consent_storage_check_downstream ---- */

#define MAX_WALK_DEPTH 64

static gboolean walk_src (GstPad *srcpad, GstElement **offender, guint depth);

static void
set_offender (GstElement **offender, GstElement *element)
{
  if (offender && !*offender && element)
    *offender = gst_object_ref (element);
}

/* @sinkpad was reached from upstream: its element must be a consentsink or
 * pass everything on to consentsinks. */
static gboolean
walk_sink (GstPad *sinkpad, GstElement **offender, guint depth)
{
  g_autoptr (GstElement) element = NULL;
  gboolean ok = TRUE;
  guint n_src = 0;
  GList *l;

  if (GST_IS_GHOST_PAD (sinkpad)) {
    g_autoptr (GstElement) bin = gst_pad_get_parent_element (sinkpad);
    g_autoptr (GstPad) target = NULL;
    if (bin && G_TYPE_CHECK_INSTANCE_TYPE (bin, GST_TYPE_CONSENT_SINK))
      return TRUE;
    target = gst_ghost_pad_get_target (GST_GHOST_PAD (sinkpad));
    if (!target) {
      set_offender (offender, bin);
      return FALSE;
    }
    return walk_sink (target, offender, depth + 1);
  }
  element = gst_pad_get_parent_element (sinkpad);
  if (!element)
    return FALSE;
  if (G_TYPE_CHECK_INSTANCE_TYPE (element, GST_TYPE_CONSENT_SINK))
    return TRUE;
  GST_OBJECT_LOCK (element);
  for (l = element->srcpads; l; l = l->next)
    n_src++;
  GST_OBJECT_UNLOCK (element);
  if (n_src == 0) {
    set_offender (offender, element);
    return FALSE;
  }
  {
    g_autoptr (GstIterator) it = gst_element_iterate_src_pads (element);
    GValue v = G_VALUE_INIT;
    gboolean done = FALSE;
    while (!done && ok) {
      switch (gst_iterator_next (it, &v)) {
      case GST_ITERATOR_OK:
        ok = walk_src (g_value_get_object (&v), offender, depth + 1);
        g_value_reset (&v);
        break;
      case GST_ITERATOR_RESYNC:
        /* the pads changed under us: fail closed rather than guess */
        ok = FALSE;
        set_offender (offender, element);
        break;
      default:
        done = TRUE;
        break;
      }
    }
    g_value_unset (&v);
  }
  return ok;
}

static gboolean
walk_src (GstPad *srcpad, GstElement **offender, guint depth)
{
  g_autoptr (GstPad) peer = NULL;

  if (depth > MAX_WALK_DEPTH)
    return FALSE;
  peer = gst_pad_get_peer (srcpad);
  if (!peer)
    return FALSE;
  /* the inside of a bin's src ghost pad: continue from the ghost pad */
  if (GST_IS_PROXY_PAD (peer) && !GST_IS_GHOST_PAD (peer)) {
    g_autoptr (GstProxyPad) ghost = gst_proxy_pad_get_internal (GST_PROXY_PAD (peer));
    if (!ghost || !GST_IS_GHOST_PAD (ghost))
      return FALSE;
    return walk_src (GST_PAD (ghost), offender, depth + 1);
  }
  return walk_sink (peer, offender, depth + 1);
}

gboolean
consent_storage_check_downstream (GstPad *srcpad, GstElement **offender)
{
  gboolean ok;

  if (offender)
    *offender = NULL;
  g_return_val_if_fail (GST_IS_PAD (srcpad), FALSE);
  ok = walk_src (srcpad, offender, 0);
  if (ok && offender)
    g_clear_object (offender);
  return ok;
}
