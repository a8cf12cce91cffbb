/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the consentsink tests read back from files: ffprobe's view, sha256. */
#pragma once

#include <glib.h>
#include <json-c/json.h>

G_BEGIN_DECLS

typedef struct {
  guint n_streams;
  double video_start;
  double duration;
  guint n_video_frames;
  gboolean first_is_key;
} Probe;

/** ffprobe: runs ffprobe -print_format json with @extra on @path (aborts the test on
 * failure). */
json_object *ffprobe (const char *path, const char *const *extra);
/** probe_file: streams, video start, format duration, video frames, first frame key? */
void probe_file (const char *path, Probe *p);
const char *jstr (json_object *o, const char *key);
json_object *jget (json_object *o, const char *key);
char *file_sha256 (const char *path, gsize *len);

G_END_DECLS
