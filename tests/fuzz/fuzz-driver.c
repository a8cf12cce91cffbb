/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-driver.c: replays files through a fuzz target without libFuzzer, so
 * every target's corpus runs as an ordinary test with any compiler.
 *
 *   fuzz-X-replay FILE|DIR...   (directories: every regular file in them) */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT (4 * 1024 * 1024)

static gboolean
replay_file (const char *path)
{
  g_autofree char *data = NULL;
  g_autoptr (GError) error = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &data, &len, &error)) {
    fprintf (stderr, "%s\n", error->message);
    return FALSE;
  }
  if (len > REPLAY_MAX_INPUT) {
    fprintf (stderr, "%s: larger than %d bytes\n", path, REPLAY_MAX_INPUT);
    return FALSE;
  }
  /* An exact-size copy, so ASan sees any read past the input. */
  {
    g_autofree guint8 *exact = g_memdup2 (data, len);
    LLVMFuzzerTestOneInput (exact, len);
  }
  printf ("ok %s\n", path);
  return TRUE;
}

static gboolean
replay_dir (const char *path, guint *n)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = g_dir_open (path, 0, &error);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (dir == NULL) {
    fprintf (stderr, "%s\n", error->message);
    return FALSE;
  }
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  for (guint i = 0; i < names->len; i++) {
    const char *file = g_ptr_array_index (names, i);
    if (!g_file_test (file, G_FILE_TEST_IS_REGULAR))
      continue;
    if (!replay_file (file))
      return FALSE;
    (*n)++;
  }
  return TRUE;
}

int
main (int argc, char **argv)
{
  guint n = 0;

  if (argc < 2) {
    fprintf (stderr, "usage: %s FILE|DIR...\n", argv[0]);
    return 2;
  }
  for (int i = 1; i < argc; i++) {
    gboolean ok = g_file_test (argv[i], G_FILE_TEST_IS_DIR) ? replay_dir (argv[i], &n)
                                                             : (n++, replay_file (argv[i]));
    if (!ok)
      return 1;
  }
  if (n == 0) {
    /* An empty corpus would make this test pass without testing anything. */
    fprintf (stderr, "no inputs found\n");
    return 1;
  }
  printf ("%u inputs replayed\n", n);
  return 0;
}
