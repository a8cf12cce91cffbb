/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the consentsink tests: a scratch directory, a policy
 * file naming it as storage root, and the statically registered plugin. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct {
  char *dir;    /* scratch directory (removed at the end) */
  char *root;   /* dir/root: the policy's storage root */
  char *policy; /* dir/policy.conf */
} SinkFixture;

void sink_fixture_setup (SinkFixture *f, gconstpointer data);
void sink_fixture_teardown (SinkFixture *f, gconstpointer data);
/** sink_fixture_write_policy: (re)writes the policy with @extra lines in [storage]. */
void sink_fixture_write_policy (SinkFixture *f, const char *extra);
/** sink_tests_init: (g_test_init if @gtest and) gst_init with the system plugins and
 * our plugin registered statically. */
void sink_tests_init (int *argc, char ***argv, gboolean gtest);
/** count_files: number of files and symlinks below @dir (recursive). */
guint count_files (const char *dir);
void remove_tree (const char *path);

G_END_DECLS
