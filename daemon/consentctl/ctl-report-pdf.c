/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-report-pdf.c: `audit report --format pdf`: the HTML report printed by
 * headless Chromium (the one renderer on Debian that prints it cleanly).
 * The HTML goes to a private temporary directory; nothing is fetched.
 */
#include "ctl-report.h"

#include <glib/gstdio.h>
#include <unistd.h>

static char *
find_chromium (void)
{
  const char *names[] = {"chromium", "chromium-browser", "google-chrome", NULL};

  for (guint i = 0; names[i] != NULL; i++) {
    char *path = g_find_program_in_path (names[i]);

    if (path != NULL)
      return path;
  }
  return NULL;
}

gboolean
ctl_report_write_pdf (const char *path, const char *html, GError **error)
{
  g_autofree char *chromium = find_chromium ();
  g_autofree char *dir = NULL, *html_path = NULL, *uri = NULL, *pdf_arg = NULL;
  g_autofree char *absolute = NULL;
  g_autofree char *errors = NULL;
  int status = 0;
  gboolean ok;

  if (chromium == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 "--format pdf needs chromium (apt install chromium), or use --format html");
    return FALSE;
  }
  dir = g_dir_make_tmp ("consentctl-report-XXXXXX", error);
  if (dir == NULL)
    return FALSE;
  html_path = g_build_filename (dir, "report.html", NULL);
  absolute = g_canonicalize_filename (path, NULL);
  pdf_arg = g_strdup_printf ("--print-to-pdf=%s", absolute);
  uri = g_filename_to_uri (html_path, NULL, error);
  ok = uri != NULL && g_file_set_contents_full (html_path, html, -1, G_FILE_SET_CONTENTS_NONE,
                                                 0600, error);
  if (ok) {
    /* Chromium refuses to run as root with its sandbox; a report is local, trusted HTML. */
    const char *argv[] = {chromium, "--headless", "--disable-gpu", "--no-pdf-header-footer",
                          "--disable-background-networking", pdf_arg,
                          geteuid () == 0 ? "--no-sandbox" : uri, geteuid () == 0 ? uri : NULL,
                          NULL};

    ok = g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                       &errors, &status, error) &&
         g_spawn_check_wait_status (status, error);
    if (!ok)
      g_prefix_error (error, "chromium could not print the report: ");
  }
  g_unlink (html_path);
  g_rmdir (dir);
  if (ok)
    g_chmod (absolute, 0600);
  return ok;
}
