/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-token.c: `consentctl token`: a participant's or recorder's token,
 * minted by consentd's admin API or, with --local, from the state
 * directory's signing secret (for when consentd is not running yet).
 * The token goes to standard output and nowhere else.
 */
#include "ctl-admin.h"
#include "ctl-common.h"
#include "consent-json.h"
#include "consent-token.h"

#include <gio/gio.h>

#include <stdio.h>
#include <string.h>

#define SECRET_FILE_MAX_BYTES 1024
#define DEFAULT_TTL_S 3600

typedef struct {
  CtlCommon common;
  char *meeting;
  char *participant;
  char *role_name;
  gint ttl;
  gboolean local;
  char *server;
  char *ca_file;
  gboolean json;
  ConsentRole role;
} TokenOptions;

static void
token_options_clear (TokenOptions *options)
{
  g_free (options->meeting);
  g_free (options->participant);
  g_free (options->role_name);
  ctl_common_clear (&options->common);
  g_free (options->server);
  g_free (options->ca_file);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (TokenOptions, token_options_clear)

static gboolean
validate_options (TokenOptions *options)
{
  if (options->meeting == NULL || options->participant == NULL) {
    ctl_printerr ("token needs --meeting M and --participant P (see --help)");
    return FALSE;
  }
  if (!consent_id_is_valid (options->meeting) || !consent_id_is_valid (options->participant)) {
    ctl_printerr ("meeting and participant ids are 1..64 characters of [A-Za-z0-9._-], not "
                  "starting with '.' or '-'");
    return FALSE;
  }
  if (!consent_role_from_name (options->role_name != NULL ? options->role_name : "participant",
                               &options->role)) {
    ctl_printerr ("unknown --role '%s' (participant or recorder)", options->role_name);
    return FALSE;
  }
  if (options->ttl < 1 || options->ttl > CONSENT_TOKEN_MAX_TTL_S) {
    ctl_printerr ("--ttl must be 1..%d seconds", CONSENT_TOKEN_MAX_TTL_S);
    return FALSE;
  }
  return TRUE;
}

static gboolean
parse_options (int argc, char **argv, TokenOptions *options)
{
  const GOptionEntry entries[] = {
    {"meeting", 0, 0, G_OPTION_ARG_STRING, &options->meeting, "The token's meeting", "M"},
    {"participant", 0, 0, G_OPTION_ARG_STRING, &options->participant,
     "The participant id (for a recorder: the recorder's own id)", "P"},
    {"role", 0, 0, G_OPTION_ARG_STRING, &options->role_name,
     "participant (default) or recorder", "ROLE"},
    {"ttl", 0, 0, G_OPTION_ARG_INT, &options->ttl, "Lifetime in seconds (default 3600)", "S"},
    {"local", 0, 0, G_OPTION_ARG_NONE, &options->local,
     "Mint with STATE/secret instead of asking consentd", NULL},
    {"server", 0, 0, G_OPTION_ARG_STRING, &options->server,
     "consentd admin URL (default " CTL_DEFAULT_SERVER ")", "URL"},
    {"ca-file", 0, 0, G_OPTION_ARG_FILENAME, &options->ca_file,
     "Trusted CA certificates for an https server", "FILE"},
    {"json", 0, 0, G_OPTION_ARG_NONE, &options->json,
     "Print {\"token\",\"expires\"} as JSON", NULL},
    {NULL},
  };

  options->ttl = DEFAULT_TTL_S;
  if (!ctl_parse (&argc, &argv, "- mint a consent token",
                  "Prints a token for the consent page (role participant) or for consentgate's\n"
                  "token-file (role recorder) on standard output, and nowhere else.",
                  entries, &options->common))
    return FALSE;
  if (argc > 1) {
    ctl_printerr ("token takes no argument '%s' (see --help)", argv[1]);
    return FALSE;
  }
  return validate_options (options);
}

/* STATE/secret: 64 hex digits (32 bytes) and a newline, as consentd writes it. */
static gboolean
read_secret (const char *state_dir, guint8 key[32], GError **error)
{
  g_autofree char *path = g_build_filename (state_dir, "secret", NULL);
  g_autofree char *data = NULL;
  gsize len = 0;
  gboolean ok = TRUE;

  if (!g_file_get_contents (path, &data, &len, error)) {
    g_prefix_error (error, "--local needs consentd's signing secret: ");
    return FALSE;
  }
  if (len > SECRET_FILE_MAX_BYTES)
    ok = FALSE;
  g_strstrip (data);
  if (ok && strlen (data) != 64)
    ok = FALSE;
  for (guint i = 0; ok && i < 32; i++) {
    int hi = g_ascii_xdigit_value (data[2 * i]), lo = g_ascii_xdigit_value (data[2 * i + 1]);

    ok = hi >= 0 && lo >= 0;
    key[i] = (guint8) (hi * 16 + lo);
  }
  memset (data, 0, strlen (data));
  if (!ok)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "%s does not hold a signing secret (64 hex digits)", path);
  return ok;
}

static char *
mint_local (const TokenOptions *options, GError **error)
{
  guint8 key[32];
  char *token;

  if (!read_secret (options->common.state_dir, key, error))
    return NULL;
  token = consent_token_mint (key, sizeof key, options->meeting, options->participant,
                              options->role, g_get_real_time () / G_USEC_PER_SEC,
                              (guint) options->ttl, error);
  memset (key, 0, sizeof key);
  return token;
}

static char *
mint_remote (const TokenOptions *options, GError **error)
{
  CtlAdminTarget target = {options->server, options->common.state_dir, options->ca_file};
  g_autoptr (json_object) body = json_object_new_object ();
  g_autoptr (json_object) reply = NULL;
  const char *token = NULL;

  json_object_object_add (body, "meeting", json_object_new_string (options->meeting));
  json_object_object_add (body, "participant", json_object_new_string (options->participant));
  json_object_object_add (body, "role", json_object_new_string (consent_role_name (options->role)));
  json_object_object_add (body, "ttl", json_object_new_int (options->ttl));
  if (!ctl_admin_request (&target, "POST", "/v1/tokens",
                          json_object_to_json_string_ext (body, JSON_C_TO_STRING_PLAIN), &reply,
                          error))
    return NULL;
  if (reply == NULL || !json_object_is_type (reply, json_type_object) ||
      !consent_json_get_string (reply, "token", TRUE, &token, error)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "consentd's reply to POST /v1/tokens has no \"token\" string");
    return NULL;
  }
  return g_strdup (token);
}

/* The token's own "exp" claim (base64url JSON between the dots), or 0. */
static gint64
token_expiry (const char *token)
{
  g_auto (GStrv) parts = g_strsplit (token, ".", 4);
  g_autofree guint8 *claims = NULL;
  g_autoptr (json_object) obj = NULL;
  g_autoptr (GString) b64 = NULL;
  gint64 exp = 0;
  gsize len = 0;

  if (g_strv_length (parts) != 3)
    return 0;
  b64 = g_string_new (parts[1]);
  g_strdelimit (b64->str, "-", '+');
  g_strdelimit (b64->str, "_", '/');
  while (b64->len % 4 != 0)
    g_string_append_c (b64, '=');
  claims = g_base64_decode (b64->str, &len);
  obj = consent_json_parse_strict ((const char *) claims, len, CONSENT_TOKEN_MAX_LEN, 4, NULL);
  if (obj == NULL || !consent_json_get_int64 (obj, "exp", TRUE, 0, G_MAXINT64, &exp, NULL))
    return 0;
  return exp;
}

int
ctl_token_main (int argc, char **argv)
{
  g_auto (TokenOptions) options = {0};
  g_autoptr (GError) error = NULL;
  g_autofree char *token = NULL;

  if (!parse_options (argc, argv, &options))
    return CTL_EXIT_USAGE;
  token = options.local ? mint_local (&options, &error) : mint_remote (&options, &error);
  if (token == NULL)
    return ctl_fail (error);
  if (options.json) {
    g_autoptr (json_object) out = json_object_new_object ();
    gint64 expires = token_expiry (token);

    json_object_object_add (out, "token", json_object_new_string (token));
    json_object_object_add (out, "expires", expires > 0 ? json_object_new_int64 (expires) : NULL);
    printf ("%s\n", json_object_to_json_string_ext (out, JSON_C_TO_STRING_PLAIN));
  } else {
    printf ("%s\n", token);
  }
  memset (token, 0, strlen (token));
  return fflush (stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_USAGE;
}
