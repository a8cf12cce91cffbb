/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* web.c: serve the consent page from memory (no file system access per request). */
#include "web.h"

#include "consent-config.h"

#define WEB_MAX_FILE (256 * 1024)

typedef struct {
  const char *name;
  const char *content_type;
} WebFile;

static const WebFile web_files[] = {
    {"index.html", "text/html; charset=utf-8"},
    {"consent.js", "text/javascript; charset=utf-8"},
    {"consent.css", "text/css; charset=utf-8"},
};

struct _ConsentdWeb {
  GBytes *files[G_N_ELEMENTS (web_files)];
};

char *
consentd_web_default_dir (void)
{
  const char *env = g_getenv ("CONSENTD_WEB_DIR");

  if (env && *env)
    return g_strdup (env);
  return g_build_filename (CONSENT_DATADIR, "web", NULL);
}

ConsentdWeb *
consentd_web_load (const char *dir, GError **error)
{
  ConsentdWeb *web = g_new0 (ConsentdWeb, 1);

  for (gsize i = 0; i < G_N_ELEMENTS (web_files); i++) {
    g_autofree char *path = g_build_filename (dir, web_files[i].name, NULL);
    char *data = NULL;
    gsize len = 0;
    if (!g_file_get_contents (path, &data, &len, error)) {
      g_prefix_error (error, "consent page (set web-dir in [server]): ");
      consentd_web_free (web);
      return NULL;
    }
    if (len > WEB_MAX_FILE) {
      g_free (data);
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s is larger than %d bytes",
                   path, WEB_MAX_FILE);
      consentd_web_free (web);
      return NULL;
    }
    web->files[i] = g_bytes_new_take (data, len);
  }
  return web;
}

void
consentd_web_free (ConsentdWeb *web)
{
  if (!web)
    return;
  for (gsize i = 0; i < G_N_ELEMENTS (web_files); i++)
    g_clear_pointer (&web->files[i], g_bytes_unref);
  g_free (web);
}

GBytes *
consentd_web_lookup (ConsentdWeb *web, const char *path, const char **content_type)
{
  const char *name = g_str_equal (path, "/") ? "index.html" : path + 1;

  if (!web || path[0] != '/')
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (web_files); i++)
    if (g_str_equal (name, web_files[i].name)) {
      *content_type = web_files[i].content_type;
      return g_bytes_ref (web->files[i]);
    }
  return NULL;
}
