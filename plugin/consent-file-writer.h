/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS

/**
 * ConsentFileWriter: the last element of one consentsink recording. Writes
 * what the muxer produces to a file descriptor that consentsink created
 * itself (never opening anything by name), honours the muxer's byte seeks
 * (header rewrite on EOS), and on EOS makes the data durable (fsync) before
 * reporting. Internal to consentsink; not registered as a factory.
 */
#define CONSENT_TYPE_FILE_WRITER (consent_file_writer_get_type ())
G_DECLARE_FINAL_TYPE (ConsentFileWriter, consent_file_writer, CONSENT, FILE_WRITER,
                      GstBaseSink)

/**
 * ConsentFileWriterDone:
 * Called once per writer from its streaming thread: with @error NULL after
 * EOS once the file is fsync'd, or with the first write/fsync error (after
 * which every buffer is refused with GST_FLOW_ERROR).
 */
typedef void (*ConsentFileWriterDone) (ConsentFileWriter *writer, const GError *error,
                                       gpointer user_data);

/** consent_file_writer_new: @fd stays owned by the caller and must outlive the writer. */
GstElement *consent_file_writer_new (const char *name, int fd, ConsentFileWriterDone done,
                                     gpointer user_data);

/** consent_file_writer_get_size: the file's size so far (largest offset written). */
guint64 consent_file_writer_get_size (ConsentFileWriter *self);

G_END_DECLS
