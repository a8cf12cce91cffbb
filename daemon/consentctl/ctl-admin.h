/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-admin.h: the administrator's and auditor's verbs of consentctl beyond
 * verify/export/erase: status, token, audit report, retention prune.
 * Each takes the arguments after its verb name (argv[0] is the verb) and
 * returns the process exit code: 0 ok, 1 a finding, 2 usage or I/O error.
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>

G_BEGIN_DECLS

#define CTL_DEFAULT_SERVER "http://127.0.0.1:8480"

int ctl_status_main (int argc, char **argv);
int ctl_token_main (int argc, char **argv);
int ctl_report_main (int argc, char **argv);
int ctl_retention_main (int argc, char **argv);

/* Where the admin API is and how to trust it (the token is read from the state dir). */
typedef struct {
  const char *server;    /* base URL; NULL = CTL_DEFAULT_SERVER */
  const char *state_dir; /* holds admin.token */
  const char *ca_file;   /* (nullable) for https */
} CtlAdminTarget;

/**
 * ctl_admin_request:
 * One admin API call: @body_json (nullable) sent with the admin token, the
 * 2xx reply parsed strictly into *@out (NULL for an empty body). Any other
 * status is an error carrying the server's message; a refused token says
 * which file it came from.
 */
gboolean ctl_admin_request (const CtlAdminTarget *target, const char *method, const char *path,
                            const char *body_json, struct json_object **out, GError **error);

/**
 * ctl_read_admin_token:
 * The admin API bearer token from `<state_dir>/admin.token` (one line,
 * at most 256 bytes). Never passed on a command line.
 */
char *ctl_read_admin_token (const char *state_dir, GError **error);

G_END_DECLS
