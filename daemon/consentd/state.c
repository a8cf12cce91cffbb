/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* state.c: create and read the state directory; secrets are born 0600. */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <openssl/rand.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "consent.h"

char *
consentd_state_default_dir (void)
{
  const char *xdg = g_getenv ("XDG_STATE_HOME");

  if (xdg && g_path_is_absolute (xdg))
    return g_build_filename (xdg, "consentgate", NULL);
  return g_build_filename (g_get_home_dir (), ".local", "state", "consentgate", NULL);
}

static gboolean
ensure_dir (const char *path, int mode, GError **error)
{
  if (g_mkdir_with_parents (path, mode) < 0) {
    int e = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
                 "cannot create directory %s: %s", path, g_strerror (e));
    return FALSE;
  }
  return TRUE;
}

/* Creates @path exclusively with mode 0600 holding @text; an existing file is kept. */
static gboolean
write_new_secret_file (const char *path, const char *text, GError **error)
{
  gsize len = strlen (text);
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

  if (fd < 0) {
    int e = errno;
    if (e == EEXIST)
      return TRUE;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "cannot create %s: %s",
                 path, g_strerror (e));
    return FALSE;
  }
  if (write (fd, text, len) != (ssize_t)len || fsync (fd) < 0) {
    int e = errno;
    close (fd);
    unlink (path);
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "cannot write %s: %s",
                 path, g_strerror (e));
    return FALSE;
  }
  close (fd);
  return TRUE;
}

/* Reads a secret file, refusing ones that others can read: a leaked signing
 * key lets anyone mint consent tokens. */
static char *
read_secret_file (const char *path, GError **error)
{
  struct stat st;
  char *data = NULL;

  if (g_lstat (path, &st) < 0 || !S_ISREG (st.st_mode)) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                 "%s is missing or not a regular file", path);
    return NULL;
  }
  if (st.st_mode & 0077) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_PERM,
                 "%s is readable by others (mode %03o); run chmod 600 on it", path,
                 (unsigned)(st.st_mode & 0777));
    return NULL;
  }
  if (!g_file_get_contents (path, &data, NULL, error))
    return NULL;
  return g_strstrip (data);
}

static char *
random_hex (gsize n_bytes)
{
  g_autofree guint8 *buf = g_malloc (n_bytes);
  GString *s = g_string_sized_new (n_bytes * 2 + 1);

  if (RAND_bytes (buf, (int)n_bytes) != 1)
    g_error ("OpenSSL RAND_bytes failed: no randomness, refusing to make secrets");
  for (gsize i = 0; i < n_bytes; i++)
    g_string_append_printf (s, "%02x", buf[i]);
  return g_string_free (s, FALSE);
}

static char *
random_base64url (gsize n_bytes)
{
  g_autofree guint8 *buf = g_malloc (n_bytes);
  char *b64;

  if (RAND_bytes (buf, (int)n_bytes) != 1)
    g_error ("OpenSSL RAND_bytes failed: no randomness, refusing to make secrets");
  b64 = g_base64_encode (buf, n_bytes);
  for (char *p = b64; *p; p++)
    *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
  if (strchr (b64, '='))
    *strchr (b64, '=') = '\0';
  return b64;
}

static gboolean
load_signing_secret (ConsentdState *st, GError **error)
{
  g_autofree char *path = g_build_filename (st->dir, "secret", NULL);
  g_autofree char *fresh = random_hex (sizeof st->secret);
  g_autofree char *line = g_strconcat (fresh, "\n", NULL);
  g_autofree char *text = NULL;

  if (!write_new_secret_file (path, line, error))
    return FALSE;
  text = read_secret_file (path, error);
  if (!text)
    return FALSE;
  if (strlen (text) != 2 * sizeof st->secret) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                 "%s must hold 64 hex digits; remove it to generate a new one "
                 "(tokens issued so far stop working)",
                 path);
    return FALSE;
  }
  for (gsize i = 0; i < sizeof st->secret; i++) {
    int hi = g_ascii_xdigit_value (text[2 * i]),
        lo = g_ascii_xdigit_value (text[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   "%s must hold 64 hex digits; remove it to generate a new one", path);
      return FALSE;
    }
    st->secret[i] = (guint8)(hi << 4 | lo);
  }
  explicit_bzero (text, strlen (text));
  explicit_bzero (fresh, strlen (fresh));
  explicit_bzero (line, strlen (line));
  return TRUE;
}

static gboolean
load_admin_token (ConsentdState *st, GError **error)
{
  g_autofree char *path = g_build_filename (st->dir, "admin.token", NULL);
  g_autofree char *fresh = random_base64url (32);
  g_autofree char *line = g_strconcat (fresh, "\n", NULL);

  if (!write_new_secret_file (path, line, error))
    return FALSE;
  explicit_bzero (fresh, strlen (fresh));
  explicit_bzero (line, strlen (line));
  st->admin_token = read_secret_file (path, error);
  if (!st->admin_token)
    return FALSE;
  if (strlen (st->admin_token) < 16) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                 "%s holds fewer than 16 characters; remove it to generate a new one",
                 path);
    return FALSE;
  }
  return TRUE;
}

static gboolean
ensure_policy_file (ConsentdState *st, GError **error)
{
  g_autoptr (ConsentPolicy) policy = NULL;
  g_autofree char *text = NULL;

  if (g_file_test (st->policy_path, G_FILE_TEST_EXISTS))
    return TRUE;
  policy = consent_policy_new_default (st->recordings_dir);
  text = consent_policy_to_data (policy);
  return g_file_set_contents_full (
      st->policy_path, text, -1,
      G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_ONLY_EXISTING, 0640, error);
}

ConsentdState *
consentd_state_open (const char *dir, const char *policy_path, GError **error)
{
  g_autoptr (ConsentdState) st = g_new0 (ConsentdState, 1);

  st->dir = g_canonicalize_filename (dir, NULL);
  st->recordings_dir = g_build_filename (st->dir, "recordings", NULL);
  if (!ensure_dir (st->dir, 0700, error) || !ensure_dir (st->recordings_dir, 0750, error))
    return NULL;
  if (!load_signing_secret (st, error) || !load_admin_token (st, error))
    return NULL;
  if (policy_path) {
    st->policy_path = g_canonicalize_filename (policy_path, NULL);
    if (!g_file_test (st->policy_path, G_FILE_TEST_IS_REGULAR)) {
      g_set_error (
          error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
          "policy file %s does not exist (remove policy-file from the config to use "
          "<state-dir>/policy.conf, created with defaults)",
          st->policy_path);
      return NULL;
    }
  } else {
    st->policy_path = g_build_filename (st->dir, "policy.conf", NULL);
    if (!ensure_policy_file (st, error))
      return NULL;
  }
  return g_steal_pointer (&st);
}

void
consentd_state_free (ConsentdState *st)
{
  if (!st)
    return;
  explicit_bzero (st->secret, sizeof st->secret);
  if (st->admin_token)
    explicit_bzero (st->admin_token, strlen (st->admin_token));
  g_free (st->admin_token);
  g_free (st->dir);
  g_free (st->policy_path);
  g_free (st->recordings_dir);
  g_free (st);
}

gboolean
consentd_state_check_admin_token (const ConsentdState *st, const char *presented)
{
  gsize want = strlen (st->admin_token);

  if (!presented || strlen (presented) != want)
    return FALSE;
  return consent_constant_time_equal ((const guint8 *)presented,
                                      (const guint8 *)st->admin_token, want);
}
