/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "consent-recording.h"

#include <errno.h>
#include <gio/gio.h>
#include <unistd.h>

#include "consent-file-writer.h"
#include "consent-manifest.h"
#include "consent-storage.h"

GST_DEBUG_CATEGORY_EXTERN (gst_consent_sink_debug);
#define GST_CAT_DEFAULT gst_consent_sink_debug

/* Fragment length of fragmented mp4: a file cut by a crash loses at most
 * this much, and players need no index to play it. */
#define MP4_FRAGMENT_MS 1000

struct _ConsentRecording {
  gint refcount;
  GMutex lock;

  /* facts of the interval (immutable after new) */
  guint64 epoch;
  GstClockTime t0;
  guint group_id;
  char *meeting, *participant, *notice_version, *muxer_name;
  GStrv authorized_by, present;
  ConsentSource *source;
  char *start_utc;

  /* storage */
  char *dir_path, *file_name, *path;
  int dir_fd, fd;

  /* elements */
  GstBin *bin;
  GstElement *mux, *writer;
  GPtrArray *feeds;
  gboolean torn_down;

  /* progress (under lock) */
  GstClockTime max_end;
  char *end_utc;
  gboolean failed;

  ConsentRecordingDone done;
  gpointer user_data;
};

char *
consent_format_utc_iso (GDateTime *dt)
{
  g_autofree char *base = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
  return g_strdup_printf ("%s.%06dZ", base, g_date_time_get_microsecond (dt));
}

static char *
file_name_for (GDateTime *dt, guint64 epoch, const char *ext)
{
  g_autofree char *base = g_date_time_format (dt, "%Y%m%dT%H%M%S");
  return g_strdup_printf ("%s.%03dZ-e%" G_GUINT64_FORMAT ".%s", base,
                          g_date_time_get_microsecond (dt) / 1000, epoch, ext);
}

static const char *
extension_for (const char *muxer)
{
  if (g_str_equal (muxer, "mp4mux") || g_str_equal (muxer, "qtmux"))
    return "mp4";
  if (g_str_equal (muxer, "webmmux"))
    return "webm";
  return "mkv";
}

static GstElement *
make_muxer (const char *muxer, guint serial, GError **error)
{
  g_autofree char *name = g_strdup_printf ("mux%u", serial);
  GstElement *mux = gst_element_factory_make (muxer, name);

  if (!mux) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 "muxer '%s' is not available (install its GStreamer plugin)", muxer);
    return NULL;
  }
  /* fragmented mp4: every fragment is self-contained, so a cut file plays */
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (mux), "fragment-duration"))
    g_object_set (mux, "fragment-duration", (guint)MP4_FRAGMENT_MS, NULL);
  return mux;
}

/* Removes what the recording created, for refusals and failures. */
static void
remove_files (ConsentRecording *rec)
{
  if (rec->dir_fd >= 0 && rec->file_name) {
    unlinkat (rec->dir_fd, rec->file_name, 0);
    consent_manifest_unlink (rec->dir_fd, rec->file_name);
  }
}

static gboolean
finalize_file (ConsentRecording *rec, GstStructure **message, GError **error)
{
  g_autofree char *sha256 = NULL;
  guint64 size = 0;
  ConsentSegmentReport report;
  ConsentManifest manifest;
  g_autofree char *end_utc = NULL;
  GstClockTime duration;

  if (!consent_file_sha256 (rec->fd, &sha256, &size, error))
    return FALSE;
  g_mutex_lock (&rec->lock);
  duration = GST_CLOCK_TIME_IS_VALID (rec->max_end) ? rec->max_end : 0;
  if (!rec->end_utc) {
    g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
    rec->end_utc = consent_format_utc_iso (now);
  }
  end_utc = g_strdup (rec->end_utc);
  g_mutex_unlock (&rec->lock);

  report = (ConsentSegmentReport){
      .path = rec->path,
      .sha256 = sha256,
      .size = size,
      .epoch = rec->epoch,
      .start_utc = rec->start_utc,
      .end_utc = end_utc,
      .duration_ns = duration,
      .authorized_by = (const char *const *)rec->authorized_by,
      .present = (const char *const *)rec->present,
      .notice_version = rec->notice_version,
      .muxer = rec->muxer_name,
  };
  manifest = (ConsentManifest){.report = &report,
                               .file_name = rec->file_name,
                               .meeting = rec->meeting,
                               .participant = rec->participant};
  if (!consent_manifest_write (rec->dir_fd, rec->dir_path, &manifest, error))
    return FALSE;

  /* the ledger learns of the segment only once file and manifest are durable */
  if (rec->source) {
    g_autoptr (GError) report_error = NULL;
    if (!consent_source_report_segment (rec->source, &report, &report_error))
      GST_ELEMENT_WARNING (rec->bin, RESOURCE, WRITE,
                           ("recording '%s' is complete but could not be reported to the "
                            "ledger: %s",
                            rec->path, report_error->message),
                           (NULL));
  }
  {
    g_autofree char *mpath = g_strdup_printf ("%s.manifest.json", rec->path);
    *message = gst_structure_new ("consent-segment", "location", G_TYPE_STRING, rec->path,
                                  "manifest", G_TYPE_STRING, mpath, "sha256",
                                  G_TYPE_STRING, sha256, "size", G_TYPE_UINT64, size,
                                  "epoch", G_TYPE_UINT64, rec->epoch, "duration",
                                  G_TYPE_UINT64, (guint64)duration, NULL);
  }
  return TRUE;
}

static void
on_writer_done (ConsentFileWriter *writer, const GError *werror, gpointer user_data)
{
  ConsentRecording *rec = user_data;
  g_autoptr (GError) error = werror ? g_error_copy (werror) : NULL;
  GstStructure *message = NULL;

  if (!error && !finalize_file (rec, &message, &error))
    g_assert (error);
  if (error) {
    g_mutex_lock (&rec->lock);
    rec->failed = TRUE;
    g_mutex_unlock (&rec->lock);
    /* never a half-written recording or manifest: remove both */
    remove_files (rec);
    g_prefix_error (&error, "recording '%s' was stopped and removed: ", rec->path);
  }
  rec->done (rec, error, message, rec->user_data);
}

static gboolean
open_file (ConsentRecording *rec, const ConsentRecordingParams *params, GDateTime *start,
           GError **error)
{
  rec->dir_fd = consent_storage_open_meeting_dir (
      params->location_fd, params->location, rec->meeting, params->allow_network, error);
  if (rec->dir_fd < 0)
    return FALSE;
  rec->dir_path = g_build_filename (params->location, rec->meeting, NULL);
  rec->file_name = file_name_for (start, rec->epoch, extension_for (params->muxer));
  rec->path = g_build_filename (rec->dir_path, rec->file_name, NULL);
  rec->fd =
      consent_storage_create_file (rec->dir_fd, rec->dir_path, rec->file_name, error);
  if (rec->fd < 0) {
    g_clear_pointer (&rec->file_name, g_free); /* not ours: never remove it */
    return FALSE;
  }
  return TRUE;
}

static gboolean
build_elements (ConsentRecording *rec, const ConsentRecordingParams *params,
                GError **error)
{
  g_autofree char *wname = g_strdup_printf ("writer%u", params->serial);

  if (!(rec->mux = make_muxer (params->muxer, params->serial, error)))
    return FALSE;
  rec->writer = consent_file_writer_new (wname, rec->fd, on_writer_done, rec);
  /* not a sink of the bin: its per-interval EOS must not end the pipeline */
  GST_OBJECT_FLAG_UNSET (rec->writer, GST_ELEMENT_FLAG_SINK);
  gst_object_ref (rec->mux);
  gst_object_ref (rec->writer);
  gst_bin_add_many (rec->bin, rec->mux, rec->writer, NULL);
  if (!gst_element_link (rec->mux, rec->writer)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                 "cannot link muxer '%s' to the writer", params->muxer);
    return FALSE;
  }
  return TRUE;
}

ConsentRecording *
consent_recording_new (const ConsentRecordingParams *params, const ConsentGateInfo *info,
                       ConsentRecordingDone done, gpointer user_data, GError **error)
{
  g_autoptr (ConsentRecording) rec = g_new0 (ConsentRecording, 1);
  g_autoptr (GDateTime) start = g_date_time_new_now_utc ();

  rec->refcount = 1;
  g_mutex_init (&rec->lock);
  rec->dir_fd = rec->fd = -1;
  rec->epoch = info->epoch;
  rec->t0 = GST_CLOCK_TIME_IS_VALID (info->running_time) ? info->running_time : 0;
  rec->group_id = gst_util_group_id_next ();
  rec->meeting = g_strdup (info->meeting);
  rec->participant = g_strdup (info->participant);
  rec->notice_version = g_strdup (info->notice_version);
  rec->muxer_name = g_strdup (params->muxer);
  rec->authorized_by = g_strdupv ((char **)info->authorized_by);
  rec->present = g_strdupv ((char **)info->present);
  rec->source = info->source ? g_object_ref (info->source) : NULL;
  rec->start_utc = consent_format_utc_iso (start);
  rec->bin = gst_object_ref (params->bin);
  rec->feeds = g_ptr_array_new ();
  rec->max_end = GST_CLOCK_TIME_NONE;
  rec->done = done;
  rec->user_data = user_data;

  if (!open_file (rec, params, start, error))
    return NULL;
  if (!build_elements (rec, params, error)) {
    remove_files (rec);
    consent_recording_teardown (rec);
    return NULL;
  }
  return g_steal_pointer (&rec);
}

static gboolean
feed_query (GstPad *pad, GstObject *parent, GstQuery *query)
{
  GstPad *upstream = g_object_get_data (G_OBJECT (pad), "consent-upstream");

  /* the muxer asks about the stream: the stream's own peer answers */
  return upstream && gst_pad_peer_query (upstream, query);
}

GstPad *
consent_recording_add_stream (ConsentRecording *rec, gboolean video, GstPad *upstream,
                              GError **error)
{
  g_autofree char *name = g_strdup_printf ("feed%u", rec->feeds->len);
  GstPad *feed, *muxpad;

  muxpad = gst_element_request_pad_simple (rec->mux, video ? "video_%u" : "audio_%u");
  if (!muxpad) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "muxer '%s' has no %s pad",
                 rec->muxer_name, video ? "video" : "audio");
    return NULL;
  }
  feed = gst_pad_new (name, GST_PAD_SRC);
  g_object_set_data_full (G_OBJECT (feed), "consent-upstream", gst_object_ref (upstream),
                          gst_object_unref);
  g_object_set_data_full (G_OBJECT (feed), "consent-muxpad", muxpad, gst_object_unref);
  gst_pad_set_query_function (feed, feed_query);
  gst_pad_set_active (feed, TRUE);
  if (gst_pad_link (feed, muxpad) != GST_PAD_LINK_OK) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                 "cannot link a stream to muxer '%s'", rec->muxer_name);
    gst_object_unref (feed);
    return NULL;
  }
  g_ptr_array_add (rec->feeds, feed);
  return feed;
}

void
consent_recording_start (ConsentRecording *rec)
{
  gst_element_sync_state_with_parent (rec->writer);
  gst_element_sync_state_with_parent (rec->mux);
}

static void
release_feed (GstPad *feed, ConsentRecording *rec)
{
  GstPad *muxpad = g_object_get_data (G_OBJECT (feed), "consent-muxpad");

  gst_pad_set_active (feed, FALSE);
  if (muxpad) {
    gst_pad_unlink (feed, muxpad);
    if (rec->mux)
      gst_element_release_request_pad (rec->mux, muxpad);
  }
  gst_object_unref (feed);
}

void
consent_recording_teardown (ConsentRecording *rec)
{
  g_mutex_lock (&rec->lock);
  if (rec->torn_down) {
    g_mutex_unlock (&rec->lock);
    return;
  }
  rec->torn_down = TRUE;
  g_mutex_unlock (&rec->lock);

  if (rec->writer)
    gst_element_set_state (rec->writer, GST_STATE_NULL);
  if (rec->mux)
    gst_element_set_state (rec->mux, GST_STATE_NULL);
  for (guint i = 0; i < rec->feeds->len; i++)
    release_feed (rec->feeds->pdata[i], rec);
  g_ptr_array_set_size (rec->feeds, 0);
  if (rec->writer) {
    gst_bin_remove (rec->bin, rec->writer);
    g_clear_object (&rec->writer);
  }
  if (rec->mux) {
    gst_bin_remove (rec->bin, rec->mux);
    g_clear_object (&rec->mux);
  }
  if (rec->fd >= 0)
    close (rec->fd);
  rec->fd = -1;
}

ConsentRecording *
consent_recording_ref (ConsentRecording *rec)
{
  g_atomic_int_inc (&rec->refcount);
  return rec;
}

void
consent_recording_unref (ConsentRecording *rec)
{
  if (!g_atomic_int_dec_and_test (&rec->refcount))
    return;
  consent_recording_teardown (rec);
  if (rec->dir_fd >= 0)
    close (rec->dir_fd);
  g_ptr_array_unref (rec->feeds);
  g_clear_object (&rec->source);
  gst_object_unref (rec->bin);
  g_strfreev (rec->authorized_by);
  g_strfreev (rec->present);
  g_free (rec->meeting);
  g_free (rec->participant);
  g_free (rec->notice_version);
  g_free (rec->muxer_name);
  g_free (rec->start_utc);
  g_free (rec->end_utc);
  g_free (rec->dir_path);
  g_free (rec->file_name);
  g_free (rec->path);
  g_mutex_clear (&rec->lock);
  g_free (rec);
}

guint64
consent_recording_get_epoch (ConsentRecording *rec)
{
  return rec->epoch;
}

GstClockTime
consent_recording_get_t0 (ConsentRecording *rec)
{
  return rec->t0;
}

guint
consent_recording_get_group_id (ConsentRecording *rec)
{
  return rec->group_id;
}

const char *
consent_recording_get_path (ConsentRecording *rec)
{
  return rec->path;
}

gboolean
consent_recording_has_failed (ConsentRecording *rec)
{
  gboolean failed;

  g_mutex_lock (&rec->lock);
  failed = rec->failed;
  g_mutex_unlock (&rec->lock);
  return failed;
}

void
consent_recording_note_end (ConsentRecording *rec, GstClockTime end)
{
  g_mutex_lock (&rec->lock);
  if (!GST_CLOCK_TIME_IS_VALID (rec->max_end) || end > rec->max_end)
    rec->max_end = end;
  g_mutex_unlock (&rec->lock);
}

void
consent_recording_mark_closed (ConsentRecording *rec)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

  g_mutex_lock (&rec->lock);
  if (!rec->end_utc)
    rec->end_utc = consent_format_utc_iso (now);
  g_mutex_unlock (&rec->lock);
}
