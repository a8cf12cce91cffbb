/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "consent-file-writer.h"

#include <errno.h>
#include <gio/gio.h>
#include <unistd.h>

GST_DEBUG_CATEGORY_STATIC (consent_file_writer_debug);
#define GST_CAT_DEFAULT consent_file_writer_debug

struct _ConsentFileWriter {
  GstBaseSink parent;
  int fd;
  guint64 position; /* next write offset (muxers seek back to rewrite headers) */
  guint64 size;
  gboolean reported; /* done() is called at most once */
  ConsentFileWriterDone done;
  gpointer user_data;
};

G_DEFINE_FINAL_TYPE_WITH_CODE (ConsentFileWriter, consent_file_writer, GST_TYPE_BASE_SINK,
                               GST_DEBUG_CATEGORY_INIT (consent_file_writer_debug,
                                                        "consentfilewriter", 0,
                                                        "consentsink file writer"));

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE ("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static void
report (ConsentFileWriter *self, const GError *error)
{
  if (self->reported)
    return;
  self->reported = TRUE;
  if (self->done)
    self->done (self, error, self->user_data);
}

static void
report_errno (ConsentFileWriter *self, int e, const char *what)
{
  g_autoptr (GError) error =
      g_error_new (G_IO_ERROR, g_io_error_from_errno (e), "%s: %s", what, g_strerror (e));
  report (self, error);
}

static GstFlowReturn
consent_file_writer_render (GstBaseSink *sink, GstBuffer *buffer)
{
  ConsentFileWriter *self = CONSENT_FILE_WRITER (sink);
  GstMapInfo map;
  gsize done = 0;

  if (self->reported)
    return GST_FLOW_ERROR;
  if (!gst_buffer_map (buffer, &map, GST_MAP_READ))
    return GST_FLOW_ERROR;
  while (done < map.size) {
    ssize_t n = pwrite (self->fd, map.data + done, map.size - done,
                        (off_t)(self->position + done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int e = n < 0 ? errno : ENOSPC;
      gst_buffer_unmap (buffer, &map);
      report_errno (self, e, "writing the recording failed");
      return GST_FLOW_ERROR;
    }
    done += (gsize)n;
  }
  gst_buffer_unmap (buffer, &map);
  self->position += done;
  self->size = MAX (self->size, self->position);
  return GST_FLOW_OK;
}

static gboolean
consent_file_writer_event (GstBaseSink *sink, GstEvent *event)
{
  ConsentFileWriter *self = CONSENT_FILE_WRITER (sink);

  switch (GST_EVENT_TYPE (event)) {
  case GST_EVENT_SEGMENT: {
    const GstSegment *segment;
    gst_event_parse_segment (event, &segment);
    if (segment->format == GST_FORMAT_BYTES)
      self->position = segment->start;
    break;
  }
  case GST_EVENT_EOS:
    if (!self->reported) {
      /* durable before anyone (manifest, ledger) says it exists; a failed
       * fsync is never retried */
      if (fsync (self->fd) != 0)
        report_errno (self, errno, "making the recording durable (fsync) failed");
      else
        report (self, NULL);
    }
    break;
  default:
    break;
  }
  return GST_BASE_SINK_CLASS (consent_file_writer_parent_class)->event (sink, event);
}

static gboolean
consent_file_writer_query (GstBaseSink *sink, GstQuery *query)
{
  GstFormat format;

  /* muxers only rewrite headers (duration, index) into a seekable sink */
  if (GST_QUERY_TYPE (query) == GST_QUERY_SEEKING) {
    gst_query_parse_seeking (query, &format, NULL, NULL, NULL);
    gst_query_set_seeking (query, format, format == GST_FORMAT_BYTES, 0, -1);
    return TRUE;
  }
  return GST_BASE_SINK_CLASS (consent_file_writer_parent_class)->query (sink, query);
}

static void
consent_file_writer_class_init (ConsentFileWriterClass *klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *sink_class = GST_BASE_SINK_CLASS (klass);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (
      element_class, "Consent file writer", "Sink/File",
      "Writes one recording to a file descriptor", "consentgate project");
  sink_class->render = consent_file_writer_render;
  sink_class->event = consent_file_writer_event;
  sink_class->query = consent_file_writer_query;
}

static void
consent_file_writer_init (ConsentFileWriter *self)
{
  self->fd = -1;
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
  gst_base_sink_set_async_enabled (GST_BASE_SINK (self), FALSE);
  g_object_set (self, "enable-last-sample", FALSE, NULL);
}

GstElement *
consent_file_writer_new (const char *name, int fd, ConsentFileWriterDone done,
                         gpointer user_data)
{
  ConsentFileWriter *self = g_object_new (CONSENT_TYPE_FILE_WRITER, "name", name, NULL);

  self->fd = fd;
  self->done = done;
  self->user_data = user_data;
  return GST_ELEMENT (self);
}

guint64
consent_file_writer_get_size (ConsentFileWriter *self)
{
  return self->size;
}
