/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* consent-policy.c: the site's consent rules, read from a GKeyFile policy file.
 *
 * GKeyFile reports no line numbers and silently merges duplicate groups and
 * keys, so the text is first scanned here: every line is a comment, a group
 * header or a key=value line, nothing appears twice, and the line of every
 * group and key is remembered for the error messages. */
#include "consent-policy.h"

#include <string.h>

#define POLICY_MAX_BYTES (1024 * 1024)
#define DEFAULT_ROOT "/var/lib/consentgate/recordings"
#define MAX_ROOTS 16
#define MAX_NOTICE_TEXT 8192
#define MAX_NOTICE_FIELD 512

G_DEFINE_BOXED_TYPE (ConsentPolicy, consent_policy, consent_policy_ref, consent_policy_unref)

typedef struct {
  ConsentPolicy pub;
  gatomicrefcount ref;
} PolicyPriv;

/* The known keys per group: anything else is an error (a typo must not weaken the policy). */
static const char *const consent_keys[] = { "scope", "late-join", "reuse-on-rejoin", "answer-timeout", NULL };
static const char *const notice_keys[] = { "version", "text", "controller", "purpose", "storage",
                                           "retention-days", NULL };
static const char *const storage_keys[] = { "roots", "allow-network-filesystems", "allow-foreign-sinks", NULL };
static const char *const ledger_keys[] = { "retention-days", NULL };

static const struct {
  const char *group;
  const char *const *keys;
} known_groups[] = {
  { "consent", consent_keys },
  { "notice", notice_keys },
  { "storage", storage_keys },
  { "ledger", ledger_keys },
};

static ConsentPolicy *
policy_alloc (void)
{
  PolicyPriv *priv = g_new0 (PolicyPriv, 1);

  g_atomic_ref_count_init (&priv->ref);
  return &priv->pub;
}

ConsentPolicy *
consent_policy_ref (ConsentPolicy *policy)
{
  g_return_val_if_fail (policy != NULL, NULL);
  g_atomic_ref_count_inc (&((PolicyPriv *) policy)->ref);
  return policy;
}

void
consent_policy_unref (ConsentPolicy *policy)
{
  PolicyPriv *priv = (PolicyPriv *) policy;

  if (policy == NULL || !g_atomic_ref_count_dec (&priv->ref))
    return;
  g_clear_pointer (&policy->notice, consent_notice_unref);
  g_strfreev (policy->storage_roots);
  g_free (priv);
}

ConsentPolicy *
consent_policy_new_default (const char *storage_root)
{
  ConsentPolicy *p = policy_alloc ();
  const char *root = storage_root != NULL ? storage_root : DEFAULT_ROOT;

  p->scope = CONSENT_SCOPE_MEETING;
  p->late_join = CONSENT_LATE_JOIN_CLOSE;
  p->reuse_on_rejoin = TRUE;
  p->answer_timeout_s = 300;
  p->notice = consent_notice_new (
      "1",
      "This meeting may be recorded. Recording starts only after everyone present has "
      "accepted, and stops as soon as anyone withdraws. You can withdraw at any time.",
      "The meeting organiser's organisation", "Keeping a record of the meeting",
      "On the organisation's own servers, never with third parties", 30);
  p->storage_roots = g_new0 (char *, 2);
  p->storage_roots[0] = g_canonicalize_filename (root, "/");
  p->allow_network_filesystems = FALSE;
  p->allow_foreign_sinks = FALSE;
  p->ledger_retention_days = 2190;
  return p;
}

/* ---- the line scan ---- */

typedef struct {
  const char *file;
  GHashTable *lines; /* "group" or "group\nkey" -> line number */
  GError **error;
} Lines;

static gboolean
fail_at (Lines *l, guint line, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail_at (Lines *l, guint line, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *what = NULL;

  va_start (ap, fmt);
  what = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (l->error, CONSENT_ERROR, CONSENT_ERROR_POLICY, "%s:%u: %s", l->file, line, what);
  return FALSE;
}

static guint
line_of (Lines *l, const char *group, const char *key)
{
  g_autofree char *k = key != NULL ? g_strconcat (group, "\n", key, NULL) : g_strdup (group);

  return GPOINTER_TO_UINT (g_hash_table_lookup (l->lines, k));
}

static const char *const *
keys_of_group (const char *group)
{
  for (guint i = 0; i < G_N_ELEMENTS (known_groups); i++)
    if (strcmp (known_groups[i].group, group) == 0)
      return known_groups[i].keys;
  return NULL;
}

static gboolean
scan_group_line (Lines *l, guint n, const char *line, char **group)
{
  const char *close = strchr (line, ']');
  g_autofree char *name = NULL;

  if (close == NULL || close[1] != '\0')
    return fail_at (l, n, "malformed group header (write it as [name])");
  name = g_strndup (line + 1, (gsize) (close - line - 1));
  if (keys_of_group (name) == NULL)
    return fail_at (l, n, "unknown group [%s] (allowed: [consent], [notice], [storage], [ledger])", name);
  if (g_hash_table_contains (l->lines, name))
    return fail_at (l, n, "group [%s] appears twice (first at line %u)", name, line_of (l, name, NULL));
  g_hash_table_insert (l->lines, g_strdup (name), GUINT_TO_POINTER (n));
  g_free (*group);
  *group = g_steal_pointer (&name);
  return TRUE;
}

static gboolean
scan_key_line (Lines *l, guint n, const char *line, const char *group)
{
  const char *eq = strchr (line, '=');
  g_autofree char *key = NULL;
  g_autofree char *allowed = NULL;
  g_autofree char *k = NULL;
  const char *const *keys;

  if (eq == NULL)
    return fail_at (l, n, "expected key=value, a [group] header or a # comment");
  if (group == NULL)
    return fail_at (l, n, "key outside of any group (start with a [group] line)");
  key = g_strstrip (g_strndup (line, (gsize) (eq - line)));
  keys = keys_of_group (group);
  if (!g_strv_contains (keys, key)) {
    allowed = g_strjoinv (", ", (char **) keys);
    return fail_at (l, n, "unknown key '%s' in [%s] (allowed: %s)", key, group, allowed);
  }
  k = g_strconcat (group, "\n", key, NULL);
  if (g_hash_table_contains (l->lines, k))
    return fail_at (l, n, "key '%s' appears twice in [%s] (first at line %u)", key, group,
                    line_of (l, group, key));
  g_hash_table_insert (l->lines, g_steal_pointer (&k), GUINT_TO_POINTER (n));
  return TRUE;
}

static gboolean
scan_lines (Lines *l, const char *data)
{
  g_auto (GStrv) lines = g_strsplit (data, "\n", -1);
  g_autofree char *group = NULL;

  for (guint i = 0; lines[i] != NULL; i++) {
    const char *line;
    guint n = i + 1;
    if (!g_utf8_validate (lines[i], -1, NULL))
      return fail_at (l, n, "not valid UTF-8 (the policy file must be UTF-8 text)");
    line = g_strstrip (lines[i]);
    if (line[0] == '\0' || line[0] == '#')
      continue;
    if (line[0] == '[' ? !scan_group_line (l, n, line, &group) : !scan_key_line (l, n, line, group))
      return FALSE;
  }
  return TRUE;
}

/* ---- values ---- */

/* Reads a word-like value (number, boolean, choice): trailing blanks, which
 * GKeyFile keeps and nobody sees, are dropped. */
static gboolean read_string (Lines *l, GKeyFile *kf, const char *group, const char *key,
                             gsize max_len, char **out);

static gboolean
read_word (Lines *l, GKeyFile *kf, const char *group, const char *key, char **out)
{
  if (!read_string (l, kf, group, key, 32, out))
    return FALSE;
  if (*out != NULL)
    g_strchomp (*out);
  return TRUE;
}

static gboolean
read_string (Lines *l, GKeyFile *kf, const char *group, const char *key, gsize max_len,
             char **out)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *v = NULL;
  guint n = line_of (l, group, key);

  if (n == 0)
    return TRUE; /* absent: keep the default */
  v = g_key_file_get_string (kf, group, key, &local);
  if (v == NULL)
    return fail_at (l, n, "bad value for '%s': %s", key, local->message);
  if (v[0] == '\0' || strlen (v) > max_len)
    return fail_at (l, n, "'%s' must be non-empty and at most %" G_GSIZE_FORMAT " bytes", key, max_len);
  g_free (*out);
  *out = g_steal_pointer (&v);
  return TRUE;
}

static gboolean
read_uint (Lines *l, GKeyFile *kf, const char *group, const char *key, guint min, guint max,
           guint *out)
{
  g_autofree char *v = NULL;
  guint64 n = 0;

  if (!read_word (l, kf, group, key, &v))
    return FALSE;
  if (v == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned (v, 10, min, max, &n, NULL))
    return fail_at (l, line_of (l, group, key), "'%s=%s' is not allowed (a whole number from %u to %u)",
                    key, v, min, max);
  *out = (guint) n;
  return TRUE;
}

/* Only the words true and false: "1", "yes" or "True" are refused, not guessed. */
static gboolean
read_bool (Lines *l, GKeyFile *kf, const char *group, const char *key, gboolean *out)
{
  g_autofree char *v = NULL;

  if (!read_word (l, kf, group, key, &v))
    return FALSE;
  if (v == NULL)
    return TRUE;
  if (strcmp (v, "true") != 0 && strcmp (v, "false") != 0)
    return fail_at (l, line_of (l, group, key), "'%s=%s' is not allowed (true or false)", key, v);
  *out = strcmp (v, "true") == 0;
  return TRUE;
}

static gboolean
read_choice (Lines *l, GKeyFile *kf, const char *group, const char *key, const char *a,
             const char *b, gboolean *is_b)
{
  g_autofree char *v = NULL;

  if (!read_word (l, kf, group, key, &v))
    return FALSE;
  if (v == NULL)
    return TRUE;
  if (strcmp (v, a) != 0 && strcmp (v, b) != 0)
    return fail_at (l, line_of (l, group, key), "'%s=%s' is not allowed (%s or %s)", key, v, a, b);
  *is_b = strcmp (v, b) == 0;
  return TRUE;
}

static gboolean
read_roots (Lines *l, GKeyFile *kf, char ***roots)
{
  guint n = line_of (l, "storage", "roots");
  g_auto (GStrv) list = NULL;
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  gsize len = 0;

  if (n == 0)
    return TRUE;
  list = g_key_file_get_string_list (kf, "storage", "roots", &len, NULL);
  if (list == NULL || len == 0)
    return fail_at (l, n, "'roots' must list at least one absolute directory (separated by ';')");
  if (len > MAX_ROOTS)
    return fail_at (l, n, "'roots' lists %" G_GSIZE_FORMAT " directories (at most %d)", len, MAX_ROOTS);
  for (gsize i = 0; i < len; i++) {
    const char *r = list[i];
    if (!g_path_is_absolute (r) || strstr (r, "/../") != NULL || g_str_has_suffix (r, "/..") ||
        strlen (r) > 1024)
      return fail_at (l, n, "storage root '%s' is not allowed (an absolute path without '..')", r);
    g_autofree char *canonical = g_canonicalize_filename (r, "/");
    g_strv_builder_add (b, canonical);
  }
  g_strfreev (*roots);
  *roots = g_strv_builder_end (b);
  return TRUE;
}

static gboolean
read_notice (Lines *l, GKeyFile *kf, ConsentPolicy *p)
{
  const ConsentNotice *d = p->notice;
  g_autofree char *version = g_strdup (d->version), *text = g_strdup (d->text);
  g_autofree char *controller = g_strdup (d->controller), *purpose = g_strdup (d->purpose);
  g_autofree char *storage = g_strdup (d->storage);
  guint days = d->retention_days;

  if (!read_string (l, kf, "notice", "version", 64, &version) ||
      !read_string (l, kf, "notice", "text", MAX_NOTICE_TEXT, &text) ||
      !read_string (l, kf, "notice", "controller", MAX_NOTICE_FIELD, &controller) ||
      !read_string (l, kf, "notice", "purpose", MAX_NOTICE_FIELD, &purpose) ||
      !read_string (l, kf, "notice", "storage", MAX_NOTICE_FIELD, &storage) ||
      !read_uint (l, kf, "notice", "retention-days", 1, 36500, &days))
    return FALSE;
  /* The version goes into ledger records and wire messages as an identifier. */
  if (!consent_id_is_valid (version))
    return fail_at (l, line_of (l, "notice", "version"),
                    "notice version '%s' is not allowed (1-64 characters of A-Z a-z 0-9 . _ -, "
                    "not starting with . or -)", version);
  consent_notice_unref (p->notice);
  p->notice = consent_notice_new (version, text, controller, purpose, storage, days);
  return TRUE;
}

static gboolean
read_values (Lines *l, GKeyFile *kf, ConsentPolicy *p)
{
  gboolean participant_scope = p->scope == CONSENT_SCOPE_PARTICIPANT;
  gboolean stop = p->late_join == CONSENT_LATE_JOIN_STOP;

  if (!read_choice (l, kf, "consent", "scope", "meeting", "participant", &participant_scope) ||
      !read_choice (l, kf, "consent", "late-join", "close", "stop", &stop) ||
      !read_bool (l, kf, "consent", "reuse-on-rejoin", &p->reuse_on_rejoin) ||
      !read_uint (l, kf, "consent", "answer-timeout", 5, 86400, &p->answer_timeout_s) ||
      !read_notice (l, kf, p) || !read_roots (l, kf, &p->storage_roots) ||
      !read_bool (l, kf, "storage", "allow-network-filesystems", &p->allow_network_filesystems) ||
      !read_bool (l, kf, "storage", "allow-foreign-sinks", &p->allow_foreign_sinks) ||
      !read_uint (l, kf, "ledger", "retention-days", 1, 36500, &p->ledger_retention_days))
    return FALSE;
  p->scope = participant_scope ? CONSENT_SCOPE_PARTICIPANT : CONSENT_SCOPE_MEETING;
  p->late_join = stop ? CONSENT_LATE_JOIN_STOP : CONSENT_LATE_JOIN_CLOSE;
  return TRUE;
}

ConsentPolicy *
consent_policy_load_data (const char *data, gsize len, const char *file_name, GError **error)
{
  g_autoptr (GHashTable) lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  Lines l = { file_name != NULL ? file_name : "<policy>", lines, error };
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_autoptr (ConsentPolicy) p = NULL;
  g_autofree char *text = NULL;

  if (len > POLICY_MAX_BYTES) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_POLICY, "%s: larger than %d bytes", l.file,
                 POLICY_MAX_BYTES);
    return NULL;
  }
  if (memchr (data, '\0', len) != NULL) {
    const char *nul = memchr (data, '\0', len);
    guint line = 1;
    for (const char *c = data; c < nul; c++)
      line += *c == '\n';
    fail_at (&l, line, "NUL byte (the policy file must be text)");
    return NULL;
  }
  text = g_strndup (data, len);
  if (!scan_lines (&l, text))
    return NULL;
  if (!g_key_file_load_from_data (kf, text, len, G_KEY_FILE_NONE, &local)) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_POLICY, "%s:1: cannot parse: %s", l.file,
                 local->message);
    return NULL;
  }
  p = consent_policy_new_default (NULL);
  if (!read_values (&l, kf, p))
    return NULL;
  return g_steal_pointer (&p);
}

ConsentPolicy *
consent_policy_load_file (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  g_autoptr (GError) local = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &data, &len, &local)) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_POLICY, "%s: cannot read the policy file: %s",
                 path, local->message);
    return NULL;
  }
  return consent_policy_load_data (data, len, path, error);
}

/* ---- writing ---- */

static void
set_commented (GKeyFile *kf, const char *group, const char *key, const char *value,
               const char *comment)
{
  g_key_file_set_string (kf, group, key, value);
  g_key_file_set_comment (kf, group, key, comment, NULL);
}

char *
consent_policy_to_data (const ConsentPolicy *p)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *timeout = g_strdup_printf ("%u", p->answer_timeout_s);
  g_autofree char *notice_days = g_strdup_printf ("%u", p->notice->retention_days);
  g_autofree char *ledger_days = g_strdup_printf ("%u", p->ledger_retention_days);
  g_autofree char *body = NULL;

  set_commented (kf, "consent", "scope", consent_scope_name (p->scope),
                 " Who must consent: meeting (everyone present, one gate for the mixed stream)\n"
                 " or participant (each person's own stream follows only that person).");
  set_commented (kf, "consent", "late-join", consent_late_join_name (p->late_join),
                 " Someone joins while recording: close (pause until they accept) or stop\n"
                 " (also end the recording request; it must be requested again).");
  set_commented (kf, "consent", "reuse-on-rejoin", p->reuse_on_rejoin ? "true" : "false",
                 " A person who leaves and rejoins keeps their answer to the same request and\n"
                 " notice version (true or false).");
  set_commented (kf, "consent", "answer-timeout", timeout,
                 " Seconds to answer a request, 5 to 86400. A timeout never counts as consent.");
  set_commented (kf, "notice", "version", p->notice->version,
                 " The notice people accept. Change the version whenever the text changes:\n"
                 " earlier answers then stop counting. Version: 1-64 of A-Z a-z 0-9 . _ -");
  set_commented (kf, "notice", "text", p->notice->text, " The full text shown before people answer.");
  set_commented (kf, "notice", "controller", p->notice->controller, " Who records (the data controller).");
  set_commented (kf, "notice", "purpose", p->notice->purpose, " Why it is recorded.");
  set_commented (kf, "notice", "storage", p->notice->storage, " Where recordings are kept.");
  set_commented (kf, "notice", "retention-days", notice_days,
                 " How long recordings are kept, in days (1 to 36500).");
  g_key_file_set_string_list (kf, "storage", "roots", (const char *const *) p->storage_roots,
                              g_strv_length (p->storage_roots));
  g_key_file_set_comment (kf, "storage", "roots",
                          " Directories recordings may be written under, absolute, ';'-separated.", NULL);
  set_commented (kf, "storage", "allow-network-filesystems",
                 p->allow_network_filesystems ? "true" : "false",
                 " Allow storage roots on NFS/CIFS and other network filesystems (true or false).");
  set_commented (kf, "storage", "allow-foreign-sinks", p->allow_foreign_sinks ? "true" : "false",
                 " For tests only: let the gate open into something other than consentsink.");
  set_commented (kf, "ledger", "retention-days", ledger_days,
                 " How long consent records are kept, in days (1 to 36500).");
  body = g_key_file_to_data (kf, NULL, NULL);
  return g_strconcat ("# consentgate policy. Every key is shown with its current value.\n"
                      "# Unknown groups or keys are refused, so a typo cannot weaken the policy.\n\n",
                      body, NULL);
}
