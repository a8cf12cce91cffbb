/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>
#include "consent-gate-event.h"

G_BEGIN_DECLS

/**
 * ConsentRecording: one consented interval of consentsink = one file.
 * Owns the per-interval muxer and file writer (children of the consentsink
 * bin while it lives), the file and its meeting directory, and on EOS
 * finalizes: sha256 and size, the atomic manifest, the ledger report.
 *
 * Thread safety: the counters are atomic or under the recording's own lock;
 * nothing here takes consentsink's lock.
 */
typedef struct _ConsentRecording ConsentRecording;

/**
 * ConsentRecordingDone:
 * Called once from a streaming thread when the recording ended: @error NULL
 * when the file is durable and its manifest written (then @message is the
 * `consent-segment` element message to post), else the reason. On error the
 * file and any manifest have been removed.
 */
typedef void (*ConsentRecordingDone) (ConsentRecording *rec, const GError *error,
                                      GstStructure *message, gpointer user_data);

typedef struct {
  GstBin *bin;
  int location_fd;
  const char *location;
  gboolean allow_network;
  const char *muxer; /* factory name */
  guint serial;      /* distinguishes element names within the bin */
} ConsentRecordingParams;

/**
 * consent_recording_new:
 * Validates the meeting id of @info, opens its directory, creates the file
 * `<UTC start>-e<epoch>.<ext>` exclusively and builds muxer + writer in the
 * bin (not yet started). Nothing is left on disk on failure but the meeting
 * directory.
 */
ConsentRecording *consent_recording_new (const ConsentRecordingParams *params,
                                         const ConsentGateInfo *info,
                                         ConsentRecordingDone done, gpointer user_data,
                                         GError **error);

/** consent_recording_add_stream: a muxer pad for one stream; returns the (active) pad
 * to push into (transfer none, owned by @rec). @upstream answers its queries. */
GstPad *consent_recording_add_stream (ConsentRecording *rec, gboolean video,
                                      GstPad *upstream, GError **error);
/** consent_recording_start: brings the muxer and writer to the bin's state. */
void consent_recording_start (ConsentRecording *rec);
/** consent_recording_teardown: stops and removes the elements, closes the fds
 * (idempotent, not from a streaming thread of the recording). An unfinished file stays as
 * it is. */
void consent_recording_teardown (ConsentRecording *rec);

ConsentRecording *consent_recording_ref (ConsentRecording *rec);
void consent_recording_unref (ConsentRecording *rec);

guint64 consent_recording_get_epoch (ConsentRecording *rec);
GstClockTime consent_recording_get_t0 (ConsentRecording *rec);
guint consent_recording_get_group_id (ConsentRecording *rec);
const char *consent_recording_get_path (ConsentRecording *rec);
gboolean consent_recording_has_failed (ConsentRecording *rec);
/** consent_recording_note_end: a buffer ending at @end (file time) was written. */
void consent_recording_note_end (ConsentRecording *rec, GstClockTime end);
/** consent_recording_mark_closed: the interval closed now (wall clock end). */
void consent_recording_mark_closed (ConsentRecording *rec);

/** consent_format_utc_iso: "2026-11-28T21:40:07.123456Z". */
char *consent_format_utc_iso (GDateTime *dt);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ConsentRecording, consent_recording_unref)

G_END_DECLS
