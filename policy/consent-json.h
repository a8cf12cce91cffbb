/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <json-c/json.h>

G_BEGIN_DECLS

/**
 * consent_json_parse_strict:
 * The one JSON reader for outside input (wire messages, admin API bodies,
 * manifests). Rejects, with a %CONSENT_ERROR code: more than @max_bytes
 * (TOO_LARGE, checked before parsing), nesting deeper than @max_depth
 * (TOO_DEEP), invalid UTF-8 (BAD_UTF8), anything that is not strict RFC 8259
 * JSON — single quotes, comments, trailing commas, NaN, trailing bytes —
 * (BAD_JSON), and duplicate keys in one object (DUPLICATE_KEY).
 * Returns a new json-c object (put with json_object_put), or NULL.
 */
json_object *consent_json_parse_strict (const char *data, gsize len, gsize max_bytes,
                                        guint max_depth, GError **error);

/* Typed getters that never coerce: a wrong type is an error (BAD_FIELD) naming the key.
 * An absent optional key returns TRUE and leaves *@out unchanged (set a default first).
 * Integers outside the signed 64-bit range, non-finite numbers and "\u0000" are
 * refused by consent_json_parse_strict() already (BAD_JSON), because json-c would
 * silently saturate or truncate them. */
gboolean consent_json_get_string (json_object *obj, const char *key, gboolean required,
                                  const char **out, GError **error);
gboolean consent_json_get_bool (json_object *obj, const char *key, gboolean required,
                                gboolean *out, GError **error);
gboolean consent_json_get_int64 (json_object *obj, const char *key, gboolean required,
                                 gint64 min, gint64 max, gint64 *out, GError **error);
/** consent_json_check_keys: every key of @obj must be in the NULL-terminated @allowed. */
gboolean consent_json_check_keys (json_object *obj, const char *const *allowed,
                                  GError **error);

/** consent_json_append_string: appends @str as a quoted, escaped JSON string. */
void consent_json_append_string (GString *out, const char *str);

/** consent_json_to_string: compact serialization with object keys sorted (canonical). */
char *consent_json_to_string (json_object *obj);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (json_object, json_object_put)

G_END_DECLS
