/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "test-sink-common.h"

#include <ftw.h>
#include <glib/gstdio.h>
#include <sys/mount.h>

GST_PLUGIN_STATIC_DECLARE (consent);

static int
remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  /* a test may leave a mount behind on failure: never recurse into it */
  umount2 (path, MNT_DETACH);
  return remove (path) == 0 ? 0 : 0;
}

void
remove_tree (const char *path)
{
  nftw (path, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static int n_files;

static int
count_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  if (flag == FTW_F || flag == FTW_SL)
    n_files++;
  return 0;
}

guint
count_files (const char *dir)
{
  n_files = 0;
  nftw (dir, count_entry, 16, FTW_PHYS);
  return (guint)n_files;
}

void
sink_fixture_write_policy (SinkFixture *f, const char *extra)
{
  g_autofree char *text =
      g_strdup_printf ("[storage]\nroots=%s;\n%s", f->root, extra ? extra : "");
  g_assert_true (g_file_set_contents (f->policy, text, -1, NULL));
}

void
sink_fixture_setup (SinkFixture *f, gconstpointer data)
{
  GError *error = NULL;

  f->dir = g_dir_make_tmp ("consentsink-XXXXXX", &error);
  g_assert_no_error (error);
  f->root = g_build_filename (f->dir, "root", NULL);
  f->policy = g_build_filename (f->dir, "policy.conf", NULL);
  g_assert_cmpint (g_mkdir (f->root, 0750), ==, 0);
  sink_fixture_write_policy (f, NULL);
}

void
sink_fixture_teardown (SinkFixture *f, gconstpointer data)
{
  remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->root);
  g_free (f->policy);
}

void
sink_tests_init (int *argc, char ***argv, gboolean gtest)
{
  /* our plugin comes from this binary, never from a build directory */
  g_setenv ("GST_PLUGIN_PATH_1_0", "", TRUE);
  g_setenv ("GST_PLUGIN_PATH", "", TRUE);
  if (g_getenv ("CONSENT_BUILD_ROOT")) {
    g_autofree char *registry = g_build_filename (g_getenv ("CONSENT_BUILD_ROOT"),
                                                  "tests", "sink-registry.bin", NULL);
    g_setenv ("GST_REGISTRY_1_0", registry, TRUE);
  }
  if (gtest)
    g_test_init (argc, argv, NULL);
  gst_init (argc, argv);
  GST_PLUGIN_STATIC_REGISTER (consent);
}
