/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* conf.c: parse consentd.conf with errors that name the file and line. */
#include "conf.h"

#include <gio/gio.h>
#include <stddef.h>
#include <string.h>

#include "consent-types.h"

/* A config file larger than this is certainly a mistake (a log, a binary). */
#define CONF_MAX_BYTES (256 * 1024)

typedef enum { KEY_UINT, KEY_STRING, KEY_PATH, KEY_LIST, KEY_LISTEN } KeyKind;

typedef struct {
  const char *group;
  const char *key;
  KeyKind kind;
  gsize offset;
  guint min, max;
} ConfKey;

#define OFF(f) offsetof (ConsentdConfig, f)

/* Every key consentd.conf knows, with its allowed range (documented in
 * packaging's example consentd.conf and docs/admin-guide.md). */
static const ConfKey conf_keys[] = {
    {"server", "listen", KEY_LISTEN, 0, 0, 0},
    {"server", "origins", KEY_LIST, OFF (origins), 0, 0},
    {"server", "web-dir", KEY_PATH, OFF (web_dir), 0, 0},
    {"server", "lease-ms", KEY_UINT, OFF (lease_ms), 300, 600000},
    {"tls", "cert", KEY_PATH, OFF (tls_cert), 0, 0},
    {"tls", "key", KEY_PATH, OFF (tls_key), 0, 0},
    {"limits", "max-message-bytes", KEY_UINT, OFF (max_message_bytes), 256, 1048576},
    {"limits", "max-json-depth", KEY_UINT, OFF (max_json_depth), 2, 64},
    {"limits", "messages-per-second", KEY_UINT, OFF (messages_per_second), 1, 10000},
    {"limits", "max-connections", KEY_UINT, OFF (max_connections), 1, 100000},
    {"limits", "max-connections-per-ip", KEY_UINT, OFF (max_connections_per_ip), 1,
     100000},
    {"limits", "hello-timeout-s", KEY_UINT, OFF (hello_timeout_s), 1, 300},
    {"limits", "ping-interval-s", KEY_UINT, OFF (ping_interval_s), 1, 3600},
    {"limits", "idle-timeout-s", KEY_UINT, OFF (idle_timeout_s), 2, 7200},
    {"limits", "max-admin-body-bytes", KEY_UINT, OFF (max_admin_body_bytes), 256,
     1048576},
    {"limits", "max-meetings", KEY_UINT, OFF (max_meetings), 1, 1000000},
    {"limits", "max-participants", KEY_UINT, OFF (max_participants), 1, 100000},
    {"state", "state-dir", KEY_PATH, OFF (state_dir), 0, 0},
    {"state", "policy-file", KEY_PATH, OFF (policy_file), 0, 0},
};

ConsentdConfig *
consentd_config_new_default (void)
{
  ConsentdConfig *c = g_new0 (ConsentdConfig, 1);

  c->listen_host = g_strdup (CONSENTD_DEFAULT_HOST);
  c->listen_port = CONSENTD_DEFAULT_PORT;
  c->origins = g_new0 (char *, 1);
  c->lease_ms = 15000;
  c->max_message_bytes = 16384;
  c->max_json_depth = 8;
  c->messages_per_second = 20;
  c->max_connections = 1024;
  c->max_connections_per_ip = 64;
  c->hello_timeout_s = 5;
  c->ping_interval_s = 30;
  c->idle_timeout_s = 120;
  c->max_admin_body_bytes = 65536;
  c->max_meetings = 1000;
  c->max_participants = 1000;
  return c;
}

void
consentd_config_free (ConsentdConfig *c)
{
  if (!c)
    return;
  g_free (c->listen_host);
  g_strfreev (c->origins);
  g_free (c->web_dir);
  g_free (c->tls_cert);
  g_free (c->tls_key);
  g_free (c->state_dir);
  g_free (c->policy_file);
  g_free (c);
}

/* Deep copy of every field of @src into @dst (whose old strings are freed). */
static void
consentd_config_copy_into (ConsentdConfig *dst, const ConsentdConfig *src)
{
  char *host = g_strdup (src->listen_host);
  char **origins = g_strdupv (src->origins);
  char *web = g_strdup (src->web_dir), *cert = g_strdup (src->tls_cert);
  char *key = g_strdup (src->tls_key), *state = g_strdup (src->state_dir);
  char *policy = g_strdup (src->policy_file);

  g_free (dst->listen_host);
  g_strfreev (dst->origins);
  g_free (dst->web_dir);
  g_free (dst->tls_cert);
  g_free (dst->tls_key);
  g_free (dst->state_dir);
  g_free (dst->policy_file);
  *dst = *src;
  dst->listen_host = host;
  dst->origins = origins;
  dst->web_dir = web;
  dst->tls_cert = cert;
  dst->tls_key = key;
  dst->state_dir = state;
  dst->policy_file = policy;
}

gboolean
consentd_parse_listen (const char *text, char **host, guint *port, GError **error)
{
  g_autofree char *addr = NULL;
  const char *colon;
  guint64 p;

  if (text[0] == '[') {
    const char *close = strchr (text, ']');
    if (!close || close[1] != ':')
      goto bad;
    addr = g_strndup (text + 1, close - text - 1);
    colon = close + 1;
  } else {
    colon = strrchr (text, ':');
    if (!colon)
      goto bad;
    addr = g_strndup (text, colon - text);
  }
  if (!g_hostname_is_ip_address (addr) ||
      !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &p, NULL))
    goto bad;
  *host = g_steal_pointer (&addr);
  *port = (guint)p;
  return TRUE;

bad:
  g_set_error (
      error, CONSENT_ERROR, CONSENT_ERROR_INVALID,
      "listen address \"%s\" is not ADDR:PORT (numeric IPv4 like 127.0.0.1:8480, "
      "or [IPv6]:PORT, port 0..65535)",
      text);
  return FALSE;
}

char *
consentd_config_resolve_credential (const char *name)
{
  const char *dir = g_getenv ("CREDENTIALS_DIRECTORY");

  if (strchr (name, '/') || !dir || !*dir)
    return g_strdup (name);
  return g_build_filename (dir, name, NULL);
}

/* GKeyFile forgets where things were; this scan remembers the line of every
 * group and key so errors can point at it, and rejects lines GKeyFile would
 * reject with a line number of our own. */
typedef struct {
  GHashTable *lines; /* "group\nkey" or "group" → line (1-based) */
} LineIndex;

static gboolean
index_lines (const char *data, gsize len, const char *file, LineIndex *ix, GError **error)
{
  g_auto (GStrv) lines = NULL;
  g_autofree char *group = NULL;
  g_autofree char *text = g_strndup (data, len);

  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    guint line = i + 1;
    char *l = g_strstrip (lines[i]);
    char *eq;

    if (!*l || *l == '#' || *l == ';')
      continue;
    if (*l == '[') {
      gsize n = strlen (l);
      if (n < 3 || l[n - 1] != ']') {
        g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_INVALID,
                     "%s:%u: malformed group header (write [name])", file, line);
        return FALSE;
      }
      g_free (group);
      group = g_strndup (l + 1, n - 2);
      if (g_hash_table_contains (ix->lines, group)) {
        g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_INVALID,
                     "%s:%u: group [%s] appears twice", file, line, group);
        return FALSE;
      }
      g_hash_table_insert (ix->lines, g_strdup (group), GUINT_TO_POINTER (line));
      continue;
    }
    eq = strchr (l, '=');
    if (!eq || eq == l) {
      g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_INVALID,
                   "%s:%u: not a group, key=value or comment", file, line);
      return FALSE;
    }
    if (!group) {
      g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_INVALID,
                   "%s:%u: key outside of a group (start with [server])", file, line);
      return FALSE;
    }
    *eq = '\0';
    g_strchomp (l);
    {
      char *k = g_strdup_printf ("%s\n%s", group, l);
      if (g_hash_table_contains (ix->lines, k)) {
        g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_INVALID,
                     "%s:%u: key \"%s\" set twice in [%s]", file, line, l, group);
        g_free (k);
        return FALSE;
      }
      g_hash_table_insert (ix->lines, k, GUINT_TO_POINTER (line));
    }
  }
  return TRUE;
}

static guint
line_of (LineIndex *ix, const char *group, const char *key)
{
  g_autofree char *k = key ? g_strdup_printf ("%s\n%s", group, key) : g_strdup (group);
  return GPOINTER_TO_UINT (g_hash_table_lookup (ix->lines, k));
}

static const ConfKey *
find_key (const char *group, const char *key)
{
  for (gsize i = 0; i < G_N_ELEMENTS (conf_keys); i++)
    if (g_str_equal (conf_keys[i].group, group) &&
        (!key || g_str_equal (conf_keys[i].key, key)))
      return &conf_keys[i];
  return NULL;
}

/* Applies one key to @c; @value is GKeyFile's unescaped string. */
static gboolean
apply_key (ConsentdConfig *c, const ConfKey *k, GKeyFile *kf, const char *where,
           GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *value = g_key_file_get_string (kf, k->group, k->key, &local);
  guint64 n;

  if (!value) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_INVALID, "%s: %s", where,
                 local->message);
    return FALSE;
  }
  g_strstrip (value);
  switch (k->kind) {
  case KEY_UINT:
    if (!g_ascii_string_to_unsigned (value, 10, k->min, k->max, &n, NULL)) {
      g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_INVALID,
                   "%s: %s=\"%s\" is not a whole number in %u..%u", where, k->key, value,
                   k->min, k->max);
      return FALSE;
    }
    G_STRUCT_MEMBER (guint, c, k->offset) = (guint)n;
    return TRUE;
  case KEY_STRING:
  case KEY_PATH:
    if (!*value) {
      g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_INVALID,
                   "%s: %s is empty (give a value or remove the line)", where, k->key);
      return FALSE;
    }
    g_free (G_STRUCT_MEMBER (char *, c, k->offset));
    G_STRUCT_MEMBER (char *, c, k->offset) = g_steal_pointer (&value);
    return TRUE;
  case KEY_LIST: {
    g_auto (GStrv) items = g_strsplit (value, ";", -1);
    GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
    for (guint i = 0; items[i]; i++) {
      char *item = g_strstrip (items[i]);
      if (!*item)
        continue;
      if (!g_str_has_prefix (item, "http://") && !g_str_has_prefix (item, "https://")) {
        g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_INVALID,
                     "%s: origin \"%s\" must start with http:// or https:// "
                     "(as browsers send it, e.g. https://meet.example.org)",
                     where, item);
        g_ptr_array_free (out, TRUE);
        return FALSE;
      }
      g_ptr_array_add (out, g_strdup (item));
    }
    g_ptr_array_add (out, NULL);
    g_strfreev (G_STRUCT_MEMBER (char **, c, k->offset));
    G_STRUCT_MEMBER (char **, c, k->offset) = (char **)g_ptr_array_free (out, FALSE);
    return TRUE;
  }
  case KEY_LISTEN: {
    char *host = NULL;
    guint port = 0;
    if (!consentd_parse_listen (value, &host, &port, &local)) {
      g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_INVALID, "%s: %s", where,
                   local->message);
      return FALSE;
    }
    g_free (c->listen_host);
    c->listen_host = host;
    c->listen_port = port;
    return TRUE;
  }
  }
  g_assert_not_reached ();
}

static gboolean
check_cross_keys (ConsentdConfig *c, LineIndex *ix, const char *file, GError **error)
{
  if (!c->tls_cert != !c->tls_key) {
    guint line = line_of (ix, "tls", NULL);
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_INVALID,
                 "%s:%u: [tls] needs both cert and key (or neither for plain ws/http)",
                 file, line ? line : 1);
    return FALSE;
  }
  if (c->idle_timeout_s <= c->ping_interval_s) {
    guint line = line_of (ix, "limits", "idle-timeout-s");
    if (!line)
      line = line_of (ix, "limits", "ping-interval-s");
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_INVALID,
                 "%s:%u: idle-timeout-s (%u) must be larger than ping-interval-s (%u)",
                 file, line ? line : 1, c->idle_timeout_s, c->ping_interval_s);
    return FALSE;
  }
  return TRUE;
}

gboolean
consentd_config_parse (ConsentdConfig *config, const char *data, gsize len,
                       const char *file_name, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GHashTable) lines =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (ConsentdConfig) work = NULL;
  g_autoptr (GError) local = NULL;
  g_auto (GStrv) groups = NULL;
  LineIndex ix = {lines};
  const char *file = file_name ? file_name : "consentd.conf";

  if (len > CONF_MAX_BYTES) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_TOO_LARGE,
                 "%s:1: file is %" G_GSIZE_FORMAT " bytes, more than %u allowed", file,
                 len, CONF_MAX_BYTES);
    return FALSE;
  }
  if (memchr (data, '\0', len) || !g_utf8_validate (data, len, NULL)) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_BAD_UTF8,
                 "%s:1: file is not UTF-8 text", file);
    return FALSE;
  }
  if (!index_lines (data, len, file, &ix, error))
    return FALSE;
  if (!g_key_file_load_from_data (kf, data, len, G_KEY_FILE_NONE, &local)) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_INVALID, "%s:1: %s", file,
                 local->message);
    return FALSE;
  }

  /* Work on a copy so a bad file applies nothing. */
  work = consentd_config_new_default ();
  consentd_config_copy_into (work, config);

  groups = g_key_file_get_groups (kf, NULL);
  for (guint g = 0; groups[g]; g++) {
    g_auto (GStrv) keys = NULL;
    if (!find_key (groups[g], NULL)) {
      g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_INVALID,
                   "%s:%u: unknown group [%s] (known: server, tls, limits, state)", file,
                   line_of (&ix, groups[g], NULL), groups[g]);
      return FALSE;
    }
    keys = g_key_file_get_keys (kf, groups[g], NULL, NULL);
    for (guint k = 0; keys && keys[k]; k++) {
      const ConfKey *ck = find_key (groups[g], keys[k]);
      g_autofree char *where =
          g_strdup_printf ("%s:%u", file, line_of (&ix, groups[g], keys[k]));
      if (!ck) {
        g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_INVALID,
                     "%s: unknown key \"%s\" in [%s]", where, keys[k], groups[g]);
        return FALSE;
      }
      if (!apply_key (work, ck, kf, where, error))
        return FALSE;
    }
  }
  if (!check_cross_keys (work, &ix, file, error))
    return FALSE;
  consentd_config_copy_into (config, work);
  return TRUE;
}

gboolean
consentd_config_load_file (ConsentdConfig *config, const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;

  if (!g_file_get_contents (path, &data, &len, &local)) {
    g_set_error (error, CONSENT_ERROR, CONSENT_ERROR_INVALID, "%s:0: cannot read: %s",
                 path, local->message);
    return FALSE;
  }
  return consentd_config_parse (config, data, len, path, error);
}
