/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "test-sink-probe.h"

#include <string.h>

#include "consent-json.h"

json_object *
ffprobe (const char *path, const char *const *extra)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (GError) error = NULL;
  int status = -1;
  json_object *o;

  g_ptr_array_add (argv, "ffprobe");
  g_ptr_array_add (argv, "-v");
  g_ptr_array_add (argv, "error");
  g_ptr_array_add (argv, "-print_format");
  g_ptr_array_add (argv, "json");
  for (; extra && *extra; extra++)
    g_ptr_array_add (argv, (char *)*extra);
  g_ptr_array_add (argv, (char *)path);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH,
                               NULL, NULL, &out, &err, &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("ffprobe %s failed: %s", path, err);
  o = json_tokener_parse (out);
  g_assert_nonnull (o);
  return o;
}

const char *
jstr (json_object *o, const char *key)
{
  json_object *v;
  return json_object_object_get_ex (o, key, &v) &&
                 json_object_is_type (v, json_type_string)
             ? json_object_get_string (v)
             : NULL;
}

json_object *
jget (json_object *o, const char *key)
{
  json_object *v = NULL;
  g_assert_true (json_object_object_get_ex (o, key, &v));
  return v;
}

void
probe_file (const char *path, Probe *p)
{
  static const char *const fmt[] = {"-show_format", "-show_streams", NULL};
  static const char *const frames[] = {"-select_streams", "v:0", "-show_entries",
                                       "frame=key_frame,pts_time", NULL};
  g_autoptr (json_object) f = ffprobe (path, fmt);
  g_autoptr (json_object) fr = ffprobe (path, frames);
  json_object *streams = jget (f, "streams");
  json_object *frame_list = jget (fr, "frames");

  memset (p, 0, sizeof *p);
  p->n_streams = json_object_array_length (streams);
  p->video_start = -1;
  for (guint i = 0; i < p->n_streams; i++) {
    json_object *s = json_object_array_get_idx (streams, i);
    if (g_strcmp0 (jstr (s, "codec_type"), "video") == 0 && jstr (s, "start_time"))
      p->video_start = g_ascii_strtod (jstr (s, "start_time"), NULL);
  }
  p->duration = jstr (jget (f, "format"), "duration")
                    ? g_ascii_strtod (jstr (jget (f, "format"), "duration"), NULL)
                    : -1;
  p->n_video_frames = json_object_array_length (frame_list);
  if (p->n_video_frames > 0)
    p->first_is_key = json_object_get_int (jget (
                          json_object_array_get_idx (frame_list, 0), "key_frame")) == 1;
}

char *
file_sha256 (const char *path, gsize *len)
{
  g_autofree char *data = NULL;
  g_assert_true (g_file_get_contents (path, &data, len, NULL));
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (guchar *)data, *len);
}
