/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-status.c: `consentctl status MEETING`: the live state of one meeting
 * from consentd's admin API (GET /v1/meetings/{m}): the gate, the recording
 * request, the notice in force and each participant's answer since when.
 *
 * Names come from the conference roster, that is from the participants
 * themselves: control characters are replaced before they reach a terminal.
 */
#include "ctl-admin.h"
#include "ctl-common.h"
#include "consent-json.h"
#include "consent-types.h"

#include <stdio.h>
#include <string.h>

#define COLUMN_MAX_CHARS 32

typedef struct {
  CtlCommon common;
  char *server;
  char *ca_file;
  gboolean json;
  char *meeting;
} StatusOptions;

static void
status_options_clear (StatusOptions *options)
{
  ctl_common_clear (&options->common);
  g_free (options->server);
  g_free (options->ca_file);
  g_free (options->meeting);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (StatusOptions, status_options_clear)

static gboolean
parse_options (int argc, char **argv, StatusOptions *options)
{
  const GOptionEntry entries[] = {
    {"server", 0, 0, G_OPTION_ARG_STRING, &options->server,
     "consentd admin URL (default " CTL_DEFAULT_SERVER ")", "URL"},
    {"ca-file", 0, 0, G_OPTION_ARG_FILENAME, &options->ca_file,
     "Trusted CA certificates for an https server", "FILE"},
    {"json", 0, 0, G_OPTION_ARG_NONE, &options->json, "Print consentd's state as JSON", NULL},
    {NULL},
  };

  if (!ctl_parse (&argc, &argv, "[MEETING] - show live meeting state",
                  "Asks consentd (admin API, token from STATE/admin.token) for the gate, the\n"
                  "recording request and each participant's answer and since when; without\n"
                  "MEETING, lists the meetings consentd knows.",
                  entries, &options->common))
    return FALSE;
  if (argc > 2) {
    ctl_printerr ("status takes at most one MEETING");
    return FALSE;
  }
  if (argc < 2)
    return TRUE; /* list every meeting */
  if (!consent_id_is_valid (argv[1])) {
    ctl_printerr ("invalid meeting id (1..64 characters of [A-Za-z0-9._-])");
    return FALSE;
  }
  options->meeting = g_strdup (argv[1]);
  return TRUE;
}

/* Text safe for a terminal: no escape sequences, valid UTF-8, bounded. */
static char *
terminal_safe (const char *text, guint max_chars)
{
  g_autofree char *valid = g_utf8_make_valid (text != NULL ? text : "-", -1);
  GString *out = g_string_new (NULL);
  guint n = 0;

  for (const char *p = valid; *p != '\0' && n < max_chars; p = g_utf8_next_char (p), n++) {
    gunichar c = g_utf8_get_char (p);

    if (c < 0x20 || (c >= 0x7f && c < 0xa0))
      g_string_append_c (out, '?');
    else
      g_string_append_unichar (out, c);
  }
  if (g_utf8_strlen (valid, -1) > (glong) max_chars)
    g_string_append (out, "…");
  return g_string_free (out, FALSE);
}

static const char *
get_string (json_object *obj, const char *key)
{
  json_object *value = NULL;

  if (json_object_object_get_ex (obj, key, &value) && json_object_is_type (value, json_type_string))
    return json_object_get_string (value);
  return NULL;
}

static gboolean
get_bool (json_object *obj, const char *key)
{
  json_object *value = NULL;

  return json_object_object_get_ex (obj, key, &value) &&
         json_object_is_type (value, json_type_boolean) && json_object_get_boolean (value);
}

/* "closed (epoch 3, reason: late-join)": whatever of it the server sent. */
static char *
gate_line (json_object *state)
{
  GString *line = g_string_new (g_strcmp0 (get_string (state, "gate"), "open") == 0 ? "open"
                                                                                   : "closed");
  const char *reason = get_string (state, "reason");
  json_object *epoch = NULL;
  const char *sep = " (";

  if (json_object_object_get_ex (state, "epoch", &epoch) &&
      json_object_is_type (epoch, json_type_int)) {
    g_string_append_printf (line, "%sepoch %" G_GINT64_FORMAT, sep, json_object_get_int64 (epoch));
    sep = ", ";
  }
  if (reason != NULL && *reason != '\0') {
    g_autofree char *safe = terminal_safe (reason, 80);

    g_string_append_printf (line, "%sreason: %s", sep, safe);
    sep = ", ";
  }
  if (strcmp (sep, ", ") == 0)
    g_string_append_c (line, ')');
  return g_string_free (line, FALSE);
}

static void
print_header (json_object *state)
{
  g_autofree char *meeting = terminal_safe (get_string (state, "meeting"), 64);
  g_autofree char *gate = gate_line (state);
  const char *title = get_string (state, "title");
  const char *request = get_string (state, "request");
  json_object *notice = NULL;

  printf ("Meeting:   %s", meeting);
  if (title != NULL) {
    g_autofree char *safe = terminal_safe (title, 80);

    printf (" (%s)", safe);
  }
  printf ("\nGate:      %s\nRecording: %s", gate,
          get_bool (state, "recording") ? "requested" : "not requested");
  if (request != NULL) {
    g_autofree char *safe = terminal_safe (request, 64);

    printf (" (request %s)", safe);
  }
  printf ("\n");
  if (json_object_object_get_ex (state, "notice", &notice) &&
      json_object_is_type (notice, json_type_object)) {
    g_autofree char *version = terminal_safe (get_string (notice, "version"), 64);
    g_autofree char *sha = terminal_safe (get_string (notice, "sha256"), 64);

    printf ("Notice:    version %s, sha256 %s\n", version, sha);
  }
}

typedef struct {
  const char *title;
  const char *key;
} Column;

static const Column columns[] = {
  {"PARTICIPANT", "id"}, {"NAME", "display-name"}, {"ROLE", "role"}, {"PRESENT", "present"},
  {"ANSWER", "answer"},  {"SINCE", "since"},       {"RECORD", "record"},
};
#define N_COLUMNS G_N_ELEMENTS (columns)

static char *
cell (json_object *participant, const Column *column)
{
  if (strcmp (column->key, "present") == 0)
    return g_strdup (get_bool (participant, "present") ? "yes" : "no");
  return terminal_safe (get_string (participant, column->key), COLUMN_MAX_CHARS);
}

static void
print_participants (json_object *state)
{
  json_object *list = NULL;
  g_autoptr (GPtrArray) cells = g_ptr_array_new_with_free_func (g_free);
  glong widths[N_COLUMNS];
  gsize n = 0;

  if (!json_object_object_get_ex (state, "participants", &list) ||
      !json_object_is_type (list, json_type_array) || json_object_array_length (list) == 0) {
    printf ("\nNo participants.\n");
    return;
  }
  n = json_object_array_length (list);
  for (guint c = 0; c < N_COLUMNS; c++)
    widths[c] = (glong) strlen (columns[c].title);
  for (gsize i = 0; i < n; i++) {
    for (guint c = 0; c < N_COLUMNS; c++) {
      char *text = cell (json_object_array_get_idx (list, i), &columns[c]);

      widths[c] = MAX (widths[c], g_utf8_strlen (text, -1));
      g_ptr_array_add (cells, text);
    }
  }
  printf ("\n");
  for (guint c = 0; c < N_COLUMNS; c++)
    printf ("%-*s%s", (int) widths[c], columns[c].title, c + 1 < N_COLUMNS ? "  " : "\n");
  for (gsize i = 0; i < n; i++) {
    for (guint c = 0; c < N_COLUMNS; c++) {
      const char *text = g_ptr_array_index (cells, i * N_COLUMNS + c);
      /* Pad by characters, not bytes: names are UTF-8. */
      int pad = (int) (widths[c] - g_utf8_strlen (text, -1));

      printf ("%s%*s%s", text, c + 1 < N_COLUMNS ? pad : 0, "", c + 1 < N_COLUMNS ? "  " : "\n");
    }
  }
}

/* One line per meeting from GET /v1/meetings. */
static void
print_meeting_list (json_object *list)
{
  json_object *meetings = NULL;
  size_t n;

  if (!json_object_object_get_ex (list, "meetings", &meetings) ||
      !json_object_is_type (meetings, json_type_array))
    return;
  n = json_object_array_length (meetings);
  printf ("%-24s %-7s %-9s %s\n", "MEETING", "GATE", "RECORDING", "PRESENT");
  for (size_t i = 0; i < n; i++) {
    json_object *m = json_object_array_get_idx (meetings, i);
    json_object *v;
    g_autofree char *id = NULL;
    const char *gate = "-";
    gboolean recording = FALSE;
    int present = 0;

    if (!json_object_is_type (m, json_type_object))
      continue;
    id = terminal_safe (json_object_object_get_ex (m, "meeting", &v) &&
                                json_object_is_type (v, json_type_string)
                            ? json_object_get_string (v)
                            : "?",
                        64);
    if (json_object_object_get_ex (m, "gate", &v) && json_object_is_type (v, json_type_string))
      gate = json_object_get_string (v);
    if (json_object_object_get_ex (m, "recording", &v) && json_object_is_type (v, json_type_boolean))
      recording = json_object_get_boolean (v);
    if (json_object_object_get_ex (m, "participants", &v) && json_object_is_type (v, json_type_int))
      present = json_object_get_int (v);
    printf ("%-24s %-7s %-9s %d\n", id, g_strcmp0 (gate, "open") == 0 ? "open" : "closed",
            recording ? "yes" : "no", present);
  }
}

int
ctl_status_main (int argc, char **argv)
{
  g_auto (StatusOptions) options = {0};
  g_autoptr (GError) error = NULL;
  g_autoptr (json_object) state = NULL;
  g_autofree char *path = NULL;
  CtlAdminTarget target;

  if (!parse_options (argc, argv, &options))
    return CTL_EXIT_USAGE;
  target = (CtlAdminTarget){options.server, options.common.state_dir, options.ca_file};
  path = options.meeting != NULL ? g_strconcat ("/v1/meetings/", options.meeting, NULL)
                                 : g_strdup ("/v1/meetings");
  if (!ctl_admin_request (&target, "GET", path, NULL, &state, &error))
    return ctl_fail (error);
  if (state == NULL || !json_object_is_type (state, json_type_object)) {
    ctl_printerr ("consentd's reply to GET %s is not a JSON object", path);
    return CTL_EXIT_USAGE;
  }
  if (options.json) {
    printf ("%s\n", json_object_to_json_string_ext (state, JSON_C_TO_STRING_PLAIN |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE));
  } else if (options.meeting == NULL) {
    print_meeting_list (state);
  } else {
    print_header (state);
    print_participants (state);
  }
  return fflush (stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_USAGE;
}
