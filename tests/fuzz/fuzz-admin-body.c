/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the admin API's JSON bodies. The first input byte picks the
 * body kind, the rest is the body. A parsed body respects the size limits. */
#include "admin-body.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define FUZZ_MAX_BODY (64 * 1024)

static void
check_short (const char *field, const char *value)
{
  if (value != NULL && strlen (value) > CONSENTD_ADMIN_MAX_SHORT)
    g_error ("%s longer than %d accepted", field, CONSENTD_ADMIN_MAX_SHORT);
  if (value != NULL && !g_utf8_validate (value, -1, NULL))
    g_error ("%s is not UTF-8", field);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (ConsentdAdminBody) body = NULL;
  g_autoptr (GError) error = NULL;
  ConsentdAdminBodyKind kind;

  if (size < 1)
    return 0;
  kind = (ConsentdAdminBodyKind)(data[0] % 4);
  body = consentd_admin_body_parse (kind, (const char *)data + 1, size - 1, FUZZ_MAX_BODY,
                                    &error);
  if (body == NULL) {
    if (error == NULL || error->message == NULL || error->message[0] == '\0')
      g_error ("refusal without a message");
    return 0;
  }
  if (size - 1 > FUZZ_MAX_BODY)
    g_error ("a body over the cap was accepted");
  check_short ("title", body->title);
  check_short ("display-name", body->display_name);
  check_short ("role", body->role);
  check_short ("meeting", body->meeting);
  check_short ("participant", body->participant);
  check_short ("notice version", body->notice_version);
  if (body->notice_text != NULL && strlen (body->notice_text) > CONSENTD_ADMIN_MAX_TEXT)
    g_error ("notice text longer than %d accepted", CONSENTD_ADMIN_MAX_TEXT);
  return 0;
}
