/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The storage guard of consentsink, one rule at a time, on the real
 * filesystem (the network-filesystem rule through its f_type seam), and the
 * downstream walk the gate relies on. */
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "consent-manifest.h"
#include "consent-storage.h"
#include "test-sink-common.h"

static ConsentPolicy *
load_policy (SinkFixture *f)
{
  GError *error = NULL;
  ConsentPolicy *p = consent_policy_load_file (f->policy, &error);

  g_assert_no_error (error);
  return p;
}

static void
assert_refused (SinkFixture *f, const char *location, const char *expected)
{
  g_autoptr (ConsentPolicy) p = load_policy (f);
  g_autoptr (GError) error = NULL;
  int fd = consent_storage_open_location (p, location, &error);

  g_assert_cmpint (fd, ==, -1);
  g_assert_nonnull (error);
  g_assert_cmpstr (error->message, ==, expected);
}

static void
test_fs_seam (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_cmpstr (consent_storage_network_fs_name (0x6969), ==, "nfs");
  g_assert_cmpstr (consent_storage_network_fs_name (0xFF534D42), ==, "cifs");
  g_assert_cmpstr (consent_storage_network_fs_name (0xFE534D42), ==, "smb2");
  g_assert_cmpstr (consent_storage_network_fs_name (0x65735546), ==, "fuse");
  g_assert_cmpstr (consent_storage_network_fs_name (0x00C36400), ==, "ceph");
  g_assert_null (consent_storage_network_fs_name (0xEF53));     /* ext2/3/4 */
  g_assert_null (consent_storage_network_fs_name (0x01021994)); /* tmpfs */
  g_assert_null (consent_storage_network_fs_name (0x58465342)); /* xfs */
  g_assert_null (consent_storage_network_fs_name (0x9123683E)); /* btrfs */

  g_assert_false (consent_storage_check_fs_type (0x6969, "/srv/rec", FALSE, &error));
  g_assert_cmpstr (
      error->message, ==,
      "storage location '/srv/rec' is on a network filesystem (nfs, f_type "
      "0x6969); set allow-network-filesystems=true in the policy's [storage] "
      "group to permit");
  g_assert_true (consent_storage_check_fs_type (0x6969, "/srv/rec", TRUE, NULL));
  g_assert_true (consent_storage_check_fs_type (0xEF53, "/srv/rec", FALSE, NULL));
}

/* The real statfs path: a local directory passes, and its f_type is local. */
static void
test_local_statfs (SinkFixture *f, gconstpointer data)
{
  g_autoptr (ConsentPolicy) p = load_policy (f);
  g_autoptr (GError) error = NULL;
  g_autofree char *loc = g_build_filename (f->root, "a", NULL);
  struct statfs st;
  int fd;

  g_assert_cmpint (g_mkdir (loc, 0750), ==, 0);
  g_assert_cmpint (statfs (loc, &st), ==, 0);
  g_assert_null (consent_storage_network_fs_name ((guint64)(gulong)st.f_type));
  fd = consent_storage_open_location (p, loc, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fd, >=, 0);
  close (fd);
  /* the root itself is a valid location */
  fd = consent_storage_open_location (p, f->root, &error);
  g_assert_no_error (error);
  close (fd);
}

static void
test_outside_root (SinkFixture *f, gconstpointer data)
{
  g_autofree char *expected = g_strdup_printf (
      "storage location '%s' is outside every storage root allowed by the policy (%s)",
      f->dir, f->root);
  g_autofree char *sibling = g_strdup_printf ("%s-x", f->root);
  g_autofree char *expected2 = g_strdup_printf (
      "storage location '%s' is outside every storage root allowed by the policy (%s)",
      sibling, f->root);

  assert_refused (f, f->dir, expected);
  /* a name that merely starts like the root is not under it */
  assert_refused (f, sibling, expected2);
  assert_refused (f, "rel/path", "storage location 'rel/path' is not an absolute path");
}

static void
test_dotdot (SinkFixture *f, gconstpointer data)
{
  g_autofree char *loc = g_strdup_printf ("%s/../..", f->root);
  g_autofree char *parent = g_path_get_dirname (f->dir);
  g_autofree char *expected =
      g_strdup_printf ("storage location '%s' leaves the storage roots (%s) through '..' "
                       "(it resolves to '%s')",
                       loc, f->root, parent);
  g_autofree char *inside = g_strdup_printf ("%s/a/../b", f->root);
  g_autofree char *b = g_build_filename (f->root, "b", NULL);
  g_autofree char *a = g_build_filename (f->root, "a", NULL);
  g_autoptr (ConsentPolicy) p = load_policy (f);
  g_autoptr (GError) error = NULL;
  int fd;

  assert_refused (f, loc, expected);
  /* '..' that stays inside the root is fine */
  g_assert_cmpint (g_mkdir (a, 0750), ==, 0);
  g_assert_cmpint (g_mkdir (b, 0750), ==, 0);
  fd = consent_storage_open_location (p, inside, &error);
  g_assert_no_error (error);
  close (fd);
}

static void
test_symlink_escape (SinkFixture *f, gconstpointer data)
{
  g_autofree char *link = g_build_filename (f->root, "escape", NULL);
  g_autofree char *loc = g_build_filename (link, "sub", NULL);
  g_autofree char *outside_sub = g_build_filename (f->dir, "sub", NULL);
  g_autofree char *real_root = realpath (f->root, NULL);
  g_autofree char *expected =
      g_strdup_printf ("storage location '%s': component '%s' is a symbolic link leading "
                       "out of storage root "
                       "'%s'",
                       loc, link, real_root);
  g_autofree char *inner = g_build_filename (f->root, "inner", NULL);
  g_autofree char *inner_link = g_build_filename (f->root, "alias", NULL);
  g_autoptr (ConsentPolicy) p = load_policy (f);
  g_autoptr (GError) error = NULL;
  int fd;

  g_assert_cmpint (g_mkdir (outside_sub, 0750), ==, 0);
  g_assert_cmpint (symlink (f->dir, link), ==, 0);
  assert_refused (f, loc, expected);

  /* a link that stays inside the root is followed */
  g_assert_cmpint (g_mkdir (inner, 0750), ==, 0);
  g_assert_cmpint (symlink ("inner", inner_link), ==, 0);
  fd = consent_storage_open_location (p, inner_link, &error);
  g_assert_no_error (error);
  close (fd);
}

static void
test_meeting_dir (SinkFixture *f, gconstpointer data)
{
  g_autoptr (ConsentPolicy) p = load_policy (f);
  g_autoptr (GError) error = NULL;
  g_autofree char *m2 = g_build_filename (f->root, "m2", NULL);
  g_autofree char *m3 = g_build_filename (f->root, "m3", NULL);
  g_autofree char *expected = NULL;
  struct stat st;
  int loc, fd;

  loc = consent_storage_open_location (p, f->root, &error);
  g_assert_no_error (error);

  fd = consent_storage_open_meeting_dir (loc, f->root, "../x", FALSE, &error);
  g_assert_cmpint (fd, ==, -1);
  g_assert_cmpstr (
      error->message, ==,
      "meeting id '../x' is not valid (1..64 characters of [A-Za-z0-9._-], not "
      "starting with '.' or '-')");
  g_clear_error (&error);

  fd = consent_storage_open_meeting_dir (loc, f->root, "m1", FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fstat (fd, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 027, ==, 0);
  close (fd);

  /* an existing, too open directory is tightened */
  g_assert_cmpint (g_mkdir (m2, 0777), ==, 0);
  g_assert_cmpint (chmod (m2, 0777), ==, 0);
  fd = consent_storage_open_meeting_dir (loc, f->root, "m2", FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fstat (fd, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0750);
  close (fd);

  /* a meeting directory that is a symlink is refused */
  g_assert_cmpint (symlink (f->dir, m3), ==, 0);
  fd = consent_storage_open_meeting_dir (loc, f->root, "m3", FALSE, &error);
  g_assert_cmpint (fd, ==, -1);
  expected = g_strdup_printf ("meeting directory '%s' is a symbolic link or not a "
                              "directory; refusing to follow it",
                              m3);
  g_assert_cmpstr (error->message, ==, expected);
  close (loc);
}

static void
test_create_file (SinkFixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *existing = g_build_filename (f->root, "x.mkv", NULL);
  g_autofree char *dangling = g_build_filename (f->root, "y.mkv", NULL);
  g_autofree char *target = g_build_filename (f->dir, "target", NULL);
  g_autofree char *expected = NULL;
  int dir = open (f->root, O_RDONLY | O_DIRECTORY);
  struct stat st;
  int fd;

  g_assert_true (g_file_set_contents (existing, "old", -1, NULL));
  fd = consent_storage_create_file (dir, f->root, "x.mkv", &error);
  g_assert_cmpint (fd, ==, -1);
  expected =
      g_strdup_printf ("recording file '%s/x.mkv' already exists; consentsink never "
                       "overwrites or reuses a file",
                       f->root);
  g_assert_cmpstr (error->message, ==, expected);
  g_clear_error (&error);

  /* a dangling symlink at the name is not followed to create its target */
  g_assert_cmpint (symlink (target, dangling), ==, 0);
  fd = consent_storage_create_file (dir, f->root, "y.mkv", &error);
  g_assert_cmpint (fd, ==, -1);
  g_assert_false (g_file_test (target, G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  fd = consent_storage_create_file (dir, f->root, "z.mkv", &error);
  g_assert_no_error (error);
  g_assert_cmpint (fstat (fd, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0137, ==, 0);
  close (fd);
  close (dir);
}

static void
test_manifest (SinkFixture *f, gconstpointer data)
{
  static const char *const auth[] = {"r1", "r2", NULL};
  static const char *const present[] = {"p-a", "p-b", NULL};
  g_autoptr (GError) error = NULL;
  g_autofree char *media = g_build_filename (f->root, "a.mkv", NULL);
  g_autofree char *mpath = g_build_filename (f->root, "a.mkv.manifest.json", NULL);
  g_autofree char *sha = NULL, *json = NULL;
  g_autofree char *expected_sha =
      g_compute_checksum_for_string (G_CHECKSUM_SHA256, "media!", -1);
  guint64 size = 0;
  int dir = open (f->root, O_RDONLY | O_DIRECTORY);
  int fd;
  ConsentSegmentReport r = {.path = media,
                            .epoch = 3,
                            .start_utc = "2026-11-28T21:40:07.123456Z",
                            .end_utc = "2026-11-28T21:41:07.000000Z",
                            .duration_ns = 59876543210,
                            .authorized_by = auth,
                            .present = present,
                            .notice_version = "2",
                            .muxer = "matroskamux"};
  ConsentManifest m = {.report = &r, .file_name = "a.mkv", .meeting = "m1"};
  struct stat st;

  g_assert_true (g_file_set_contents (media, "media!", -1, NULL));
  fd = open (media, O_RDONLY);
  g_assert_true (consent_file_sha256 (fd, &sha, &size, &error));
  close (fd);
  g_assert_cmpstr (sha, ==, expected_sha);
  g_assert_cmpuint (size, ==, 6);
  r.sha256 = sha;
  r.size = size;

  g_assert_true (consent_manifest_write (dir, f->root, &m, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (mpath, &json, NULL, NULL));
  g_assert_cmpstr (
      json, ==,
      "{\"authorized_by\":[\"r1\",\"r2\"],\"duration_ns\":59876543210,\"end_utc\":"
      "\"2026-11-28T21:41:07.000000Z\",\"epoch\":3,\"file\":\"a.mkv\",\"meeting\":"
      "\"m1\",\"muxer\":\"matroskamux\",\"notice_version\":\"2\",\"participant\":"
      "null,\"present\":[\"p-a\",\"p-b\"],\"sha256\":"
      "\"22362bbfa1cf9be666b73d7464626d0d3151040dcbaab4f594ce1521c70161f7\","
      "\"size\":6,\"start_utc\":\"2026-11-28T21:40:07.123456Z\",\"version\":1}\n");
  g_assert_cmpint (stat (mpath, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0137, ==, 0);
  /* only the media file and its manifest: no temporary file left */
  g_assert_cmpuint (count_files (f->root), ==, 2);
  /* a second write never replaces the first silently via a stale temp */
  g_assert_true (consent_manifest_write (dir, f->root, &m, &error));
  g_assert_cmpuint (count_files (f->root), ==, 2);
  close (dir);
}

/* ---- consent_storage_check_downstream ---- */

static GstElement *
make (GstElement *bin, const char *factory)
{
  GstElement *e = gst_element_factory_make (factory, NULL);

  g_assert_nonnull (e);
  gst_bin_add (GST_BIN (bin), e);
  return e;
}

static GstPad *
src_of (GstElement *e)
{
  return gst_element_get_static_pad (e, "src");
}

static void
assert_check (GstPad *pad, gboolean expected, GstElement *expected_offender)
{
  GstElement *offender = (GstElement *)0x1;
  gboolean ok = consent_storage_check_downstream (pad, &offender);

  g_assert_cmpint (ok, ==, expected);
  g_assert_true (offender == expected_offender);
  if (offender)
    gst_object_unref (offender);
}

static void
test_downstream (void)
{
  g_autoptr (GstElement) pipe = gst_pipeline_new (NULL);
  GstElement *src = make (pipe, "fakesrc");
  GstElement *q = make (pipe, "queue");
  GstElement *tee = make (pipe, "tee");
  GstElement *q1 = make (pipe, "queue");
  GstElement *q2 = make (pipe, "queue");
  GstElement *sink1 = make (pipe, "consentsink");
  GstElement *sink2 = make (pipe, "consentsink");
  GstElement *fake = make (pipe, "fakesink");
  g_autoptr (GstPad) srcpad = src_of (src);
  g_autoptr (GstPad) qsrc = src_of (q);
  g_autoptr (GstPad) q2src = src_of (q2);

  /* unlinked: FALSE with no offender */
  assert_check (srcpad, FALSE, NULL);

  g_assert_true (gst_element_link_many (src, q, tee, NULL));
  g_assert_true (gst_element_link (q1, sink1));
  g_assert_true (gst_element_link_pads (tee, "src_%u", q1, "sink"));
  g_assert_true (gst_element_link_pads (tee, "src_%u", q2, "sink"));
  /* one tee branch dangling */
  assert_check (srcpad, FALSE, NULL);
  g_assert_true (gst_element_link_pads (q2, "src", sink2, "video_%u"));
  assert_check (srcpad, TRUE, NULL);

  /* a third branch into a plain sink is named */
  {
    GstElement *q3 = make (pipe, "queue");
    g_assert_true (gst_element_link_pads (tee, "src_%u", q3, "sink"));
    g_assert_true (gst_element_link (q3, fake));
    assert_check (srcpad, FALSE, fake);
  }
  /* from the queue src pad alone it is still a tee with a foreign branch */
  assert_check (qsrc, FALSE, fake);
  assert_check (q2src, TRUE, NULL);
}

/* Through bins and ghost pads on both sides. */
static void
test_downstream_bins (void)
{
  g_autoptr (GstElement) pipe = gst_pipeline_new (NULL);
  GstElement *src = make (pipe, "fakesrc");
  GstElement *bin = gst_bin_new ("inner");
  GstElement *parse, *q, *sink;
  GstElement *filesink;
  g_autoptr (GstPad) srcpad = src_of (src);
  g_autoptr (GstPad) qsink = NULL, qsrc = NULL;

  gst_bin_add (GST_BIN (pipe), bin);
  parse = make (bin, "identity");
  q = make (bin, "queue");
  g_assert_true (gst_element_link (parse, q));
  qsink = gst_element_get_static_pad (parse, "sink");
  qsrc = src_of (q);
  gst_element_add_pad (bin, gst_ghost_pad_new ("sink", qsink));
  gst_element_add_pad (bin, gst_ghost_pad_new ("src", qsrc));
  sink = make (pipe, "consentsink");
  g_assert_true (gst_element_link (src, bin));
  g_assert_true (gst_element_link_pads (bin, "src", sink, "audio_%u"));
  assert_check (srcpad, TRUE, NULL);

  /* the same bin ending in a filesink */
  gst_element_unlink (bin, sink);
  filesink = make (pipe, "filesink");
  g_assert_true (gst_element_link (bin, filesink));
  assert_check (srcpad, FALSE, filesink);
}

int
main (int argc, char **argv)
{
  sink_tests_init (&argc, &argv, TRUE);
  g_test_add_func ("/sink/storage/fs-seam", test_fs_seam);
#define ADD(path, fn)                                                                    \
  g_test_add (path, SinkFixture, NULL, sink_fixture_setup, fn, sink_fixture_teardown)
  ADD ("/sink/storage/local-statfs", test_local_statfs);
  ADD ("/sink/storage/outside-root", test_outside_root);
  ADD ("/sink/storage/dotdot", test_dotdot);
  ADD ("/sink/storage/symlink-escape", test_symlink_escape);
  ADD ("/sink/storage/meeting-dir", test_meeting_dir);
  ADD ("/sink/storage/create-file", test_create_file);
  ADD ("/sink/storage/manifest", test_manifest);
  g_test_add_func ("/sink/downstream/tee-queue", test_downstream);
  g_test_add_func ("/sink/downstream/bins", test_downstream_bins);
  return g_test_run ();
}
