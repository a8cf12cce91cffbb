/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * SECTION:element-consentsink
 * @title: consentsink
 *
 * Writes what a consentgate lets through to local files, one file per
 * consented interval, each with a `*.manifest.json` sidecar.
 *
 * The bin holds no muxer of its own between intervals: when the gate's
 * serialized `consent-gate` event announces an open interval, consentsink
 * checks the storage rules, creates `<location>/<meeting>/<UTC start>-e<epoch>.<ext>`
 * (e.g. `20261128T214007.123Z-e3.mkv`) exclusively with mode 0640 in a meeting
 * directory of mode 0750, and builds a fresh muxer and file writer for it.
 * Each file starts at a video keyframe (delta frames before the first
 * keyframe are dropped and a key unit is requested upstream) with timestamps
 * starting at 0. When the gate closes, the muxer gets EOS, the file is
 * fsync'd, hashed, and its manifest is written atomically (temp, fsync,
 * rename, directory fsync); then the segment is reported to the ledger
 * through the event's #ConsentSource and posted on the bus as an element
 * message `consent-segment` (location, manifest, sha256, size, epoch,
 * duration). The pipeline keeps running for the next interval.
 *
 * Without a `consent-gate` open event nothing is written (fail closed).
 *
 * Storage rules (promise 7), checked before any byte is written; each
 * refusal is a RESOURCE element error that names the rule: the location is
 * under a storage root of the policy after resolving `..` and symlinks; no
 * component is a symlink leading out of the root; the filesystem is local
 * (NFS, CIFS/SMB, FUSE (sshfs, glusterfs, …), ceph, 9p, AFS, coda, NCP,
 * OCFS2, GFS2, Lustre, OrangeFS, GPFS are refused unless the policy sets
 * allow-network-filesystems); an existing file is never overwritten. A write
 * error (e.g. a full disk) stops the recording with an error and removes the
 * unfinished file; no manifest is left half-written.
 *
 * Request pads: `video_%u` for video and `audio_%u` for audio (the pad, not
 * the caps, says which stream is video: only video waits for a keyframe),
 * accepting what the chosen muxer accepts on such a pad. Request them all before the
 * first interval opens: a stream added while an interval is being written joins the next
 * one.
 *
 * Crash tolerance: matroskamux (the default) writes clusters as it goes and
 * mp4mux is run fragmented (1 s fragments), so a file cut by a crash plays up
 * to the cut. To finish the file being written when stopping, send EOS
 * first.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -e \
 *   consentgate name=g server=ws://127.0.0.1:8480/v1/ws meeting=m1 \
 *     token-file=/etc/consentgate/recorder.token \
 *   consentsink name=s location=/var/lib/consentgate/recordings \
 *     policy-file=/etc/consentgate/policy.conf \
 *   v4l2src ! videoconvert ! x264enc tune=zerolatency key-int-max=30 ! h264parse !
 * g.sink_0 \
 *   g.src_0 ! queue ! s.video_0 \
 *   pulsesrc ! audioconvert ! audioresample ! opusenc ! g.sink_1 \
 *   g.src_1 ! queue ! s.audio_0
 * ]| Records meeting m1 whenever everyone present has consented: each
 * consented interval becomes `recordings/m1/<UTC start>-e<epoch>.mkv` plus
 * its `.manifest.json`.
 */
#include "consent-config.h"
#include "gstconsentsink.h"

#include <gio/gio.h>
#include <gst/video/video.h>
#include <unistd.h>

#include "consent-gate-event.h"
#include "consent-recording.h"
#include "consent-storage.h"

GST_DEBUG_CATEGORY (gst_consent_sink_debug);
#define GST_CAT_DEFAULT gst_consent_sink_debug

#define DEFAULT_MUXER "matroskamux"

enum { PROP_0, PROP_LOCATION, PROP_POLICY_FILE, PROP_MUXER };

/* One request pad. Fields under the sink's lock unless noted. */
typedef struct {
  GstPad *pad;
  gboolean video;
  GstSegment segment;     /* upstream segment (streaming thread only) */
  ConsentRecording *rec;  /* the recording this stream is linked into */
  GstPad *feed;           /* its pad into rec's muxer (owned by rec) */
  gboolean opened;        /* rec's open event arrived on this stream */
  gboolean need_keyframe; /* streaming thread only */
  gboolean fku_sent;      /* streaming thread only */
  gboolean eos;
} SinkStream;

/* Lock order: the sink's lock, then a recording's own lock. Nothing is
 * pushed, posted or state-changed while the sink's lock is held, except the
 * creation of a recording (which only adds elements to the bin). */
struct _GstConsentSink {
  GstBin parent;

  GMutex lock;
  GCond cond; /* current recording changed, or flushing */

  /* properties */
  char *location, *policy_file, *muxer;

  /* running state */
  ConsentPolicy *policy;
  int location_fd;
  GList *streams;    /* SinkStream* */
  GList *recordings; /* ConsentRecording* not yet torn down */
  ConsentRecording
      *current; /* (owned) the one streams open into; NULL between intervals */
  guint serial;
  guint pending_teardowns; /* scheduled teardown_async calls not yet done */
  guint video_pads, audio_pads;
  gboolean flushing, failed, eos_posted;
};

G_DEFINE_FINAL_TYPE (GstConsentSink, gst_consent_sink, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (
    consentsink, "consentsink", GST_RANK_NONE, GST_TYPE_CONSENT_SINK,
    GST_DEBUG_CATEGORY_INIT (gst_consent_sink_debug, "consentsink", 0,
                             "consent recording sink"));

/* Media types only, so that automatic linking picks the right template; the
 * caps query narrows them to what the configured muxer accepts. */
static GstStaticPadTemplate video_template = GST_STATIC_PAD_TEMPLATE (
    "video_%u", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("video/x-h264; video/x-h265; video/x-vp8; video/x-vp9; video/x-av1; "
                     "video/x-theora; video/mpeg; image/jpeg; video/x-raw"));
static GstStaticPadTemplate audio_template = GST_STATIC_PAD_TEMPLATE (
    "audio_%u", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS (
        "audio/x-opus; audio/mpeg; audio/x-vorbis; audio/x-flac; audio/x-ac3; "
        "audio/x-eac3; audio/x-alaw; audio/x-mulaw; audio/x-raw"));

/* ---- errors ---- */

static void
post_storage_error (GstConsentSink *self, const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE))
    GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT, ("%s", error->message), (NULL));
  else
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, ("%s", error->message), (NULL));
}

/* ---- caps: what the configured muxer accepts ---- */

static GstCaps *
muxer_caps (GstConsentSink *self, gboolean video)
{
  g_autofree char *muxer = NULL;
  g_autoptr (GstElementFactory) factory = NULL;
  const GList *l;

  GST_OBJECT_LOCK (self);
  muxer = g_strdup (self->muxer);
  GST_OBJECT_UNLOCK (self);
  factory = gst_element_factory_find (muxer);
  if (!factory)
    return gst_caps_new_empty ();
  for (l = gst_element_factory_get_static_pad_templates (factory); l; l = l->next) {
    GstStaticPadTemplate *t = l->data;
    if (t->direction == GST_PAD_SINK &&
        g_str_equal (t->name_template, video ? "video_%u" : "audio_%u"))
      return gst_static_caps_get (&t->static_caps);
  }
  return gst_caps_new_empty ();
}

static gboolean
sink_query (GstPad *pad, GstObject *parent, GstQuery *query)
{
  GstConsentSink *self = GST_CONSENT_SINK (parent);
  SinkStream *s = gst_pad_get_element_private (pad);

  switch (GST_QUERY_TYPE (query)) {
  case GST_QUERY_CAPS: {
    g_autoptr (GstCaps) caps = muxer_caps (self, s->video);
    GstCaps *filter;
    gst_query_parse_caps (query, &filter);
    if (filter) {
      GstCaps *res = gst_caps_intersect_full (filter, caps, GST_CAPS_INTERSECT_FIRST);
      gst_query_set_caps_result (query, res);
      gst_caps_unref (res);
    } else {
      gst_query_set_caps_result (query, caps);
    }
    return TRUE;
  }
  case GST_QUERY_ACCEPT_CAPS: {
    g_autoptr (GstCaps) caps = muxer_caps (self, s->video);
    GstCaps *c;
    gst_query_parse_accept_caps (query, &c);
    gst_query_set_accept_caps_result (query, gst_caps_can_intersect (c, caps));
    return TRUE;
  }
  default:
    return gst_pad_query_default (pad, parent, query);
  }
}

/* ---- end of stream ---- */

static gboolean
all_eos_locked (GstConsentSink *self)
{
  for (GList *l = self->streams; l; l = l->next)
    if (!((SinkStream *)l->data)->eos)
      return FALSE;
  return self->streams != NULL;
}

/* The bin's own EOS: only once every stream ended and every file is done,
 * so the application sees EOS after the last manifest exists. */
static void
maybe_post_eos (GstConsentSink *self)
{
  gboolean post;

  g_mutex_lock (&self->lock);
  post = !self->eos_posted && all_eos_locked (self) && self->current == NULL &&
         self->recordings == NULL;
  if (post)
    self->eos_posted = TRUE;
  g_mutex_unlock (&self->lock);
  if (post)
    gst_element_post_message (GST_ELEMENT (self),
                              gst_message_new_eos (GST_OBJECT (self)));
}

/* ---- recordings ---- */

static void
teardown_async (GstElement *element, gpointer user_data)
{
  GstConsentSink *self = GST_CONSENT_SINK (element);
  ConsentRecording *rec = user_data;
  GList *link;

  g_mutex_lock (&self->lock);
  link = g_list_find (self->recordings, rec);
  if (link)
    self->recordings = g_list_delete_link (self->recordings, link);
  g_mutex_unlock (&self->lock);
  if (link) {
    consent_recording_teardown (rec);
    consent_recording_unref (rec);
  }
  consent_recording_unref (rec);
  g_mutex_lock (&self->lock);
  self->pending_teardowns--;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  maybe_post_eos (self);
}

/* From the writer's streaming thread: the muxer finished (or writing failed). */
static void
on_recording_done (ConsentRecording *rec, const GError *error, GstStructure *message,
                   gpointer user_data)
{
  GstConsentSink *self = user_data;

  if (error) {
    g_mutex_lock (&self->lock);
    self->failed = TRUE;
    g_cond_broadcast (&self->cond);
    g_mutex_unlock (&self->lock);
    post_storage_error (self, error);
  } else {
    GST_INFO_OBJECT (self, "recording %s complete", consent_recording_get_path (rec));
    gst_element_post_message (GST_ELEMENT (self),
                              gst_message_new_element (GST_OBJECT (self), message));
  }
  /* the muxer and writer cannot be stopped from their own thread */
  g_mutex_lock (&self->lock);
  self->pending_teardowns++;
  g_mutex_unlock (&self->lock);
  gst_element_call_async (GST_ELEMENT (self), teardown_async, consent_recording_ref (rec),
                          NULL);
}

/* Creates the recording of a new interval and links every live stream into
 * it (a muxer's streams are fixed once it has written its header). */
static ConsentRecording *
create_recording_locked (GstConsentSink *self, const ConsentGateInfo *info,
                         GError **error)
{
  g_autoptr (ConsentRecording) rec = NULL;
  ConsentRecordingParams params = {
      .bin = GST_BIN (self),
      .location_fd = self->location_fd,
      .location = self->location,
      .allow_network = self->policy->allow_network_filesystems,
      .muxer = self->muxer,
      .serial = self->serial++,
  };

  if (!info->meeting) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "the consent-gate event names no meeting; refusing to record");
    return NULL;
  }
  rec = consent_recording_new (&params, info, on_recording_done, self, error);
  if (!rec)
    return NULL;
  for (GList *l = self->streams; l; l = l->next) {
    SinkStream *s = l->data;
    GstPad *feed;
    if (s->eos || s->rec)
      continue;
    if (!(feed = consent_recording_add_stream (rec, s->video, s->pad, error)))
      break;
    s->rec = consent_recording_ref (rec);
    s->feed = feed;
    s->opened = FALSE;
  }
  if (error && *error) {
    for (GList *l = self->streams; l; l = l->next) {
      SinkStream *s = l->data;
      if (s->rec == rec) {
        consent_recording_unref (s->rec);
        s->rec = NULL;
        s->feed = NULL;
      }
    }
    consent_recording_teardown (rec);
    return NULL;
  }
  self->recordings = g_list_append (self->recordings, consent_recording_ref (rec));
  consent_recording_start (rec);
  return g_steal_pointer (&rec);
}

/* Sticky events that make the muxer see a fresh stream starting at 0. */
static void
push_stream_head (GstConsentSink *self, SinkStream *s, ConsentRecording *rec,
                  GstPad *feed)
{
  g_autofree char *id =
      g_strdup_printf ("consentsink/%" G_GUINT64_FORMAT "/%s",
                       consent_recording_get_epoch (rec), GST_PAD_NAME (s->pad));
  GstEvent *start = gst_event_new_stream_start (id);
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (s->pad);
  GstSegment segment;

  gst_event_set_group_id (start, consent_recording_get_group_id (rec));
  gst_pad_push_event (feed, start);
  if (caps)
    gst_pad_push_event (feed, gst_event_new_caps (caps));
  gst_segment_init (&segment, GST_FORMAT_TIME);
  gst_pad_push_event (feed, gst_event_new_segment (&segment));
}

/* Ends @s's part of its recording; the muxer finishes once all parts ended. */
static void
handle_close (GstConsentSink *self, SinkStream *s)
{
  ConsentRecording *rec, *current = NULL;
  GstPad *feed;
  gboolean last = TRUE;

  g_mutex_lock (&self->lock);
  rec = s->rec;
  /* our own ref: the EOS below can finish the file, and its teardown (on
   * another thread) releases the feed while this push is still unwinding */
  feed = s->feed ? gst_object_ref (s->feed) : NULL;
  s->rec = NULL;
  s->feed = NULL;
  s->opened = FALSE;
  if (!rec) {
    g_mutex_unlock (&self->lock);
    return;
  }
  for (GList *l = self->streams; l; l = l->next)
    if (((SinkStream *)l->data)->rec == rec)
      last = FALSE;
  if (last && self->current == rec) {
    current = g_steal_pointer (&self->current);
    consent_recording_mark_closed (rec);
    g_cond_broadcast (&self->cond);
  }
  g_mutex_unlock (&self->lock);

  gst_pad_push_event (feed, gst_event_new_eos ());
  gst_object_unref (feed);
  consent_recording_unref (rec);
  if (current)
    consent_recording_unref (current);
}

static gboolean
handle_open (GstConsentSink *self, SinkStream *s, const ConsentGateInfo *info)
{
  g_autoptr (GError) error = NULL;
  ConsentRecording *rec = NULL;
  GstPad *feed = NULL;
  gboolean stale, failed;

  /* an open without the close of the previous interval ends that one first */
  g_mutex_lock (&self->lock);
  stale = s->rec && consent_recording_get_epoch (s->rec) != info->epoch;
  g_mutex_unlock (&self->lock);
  if (stale)
    handle_close (self, s);

  g_mutex_lock (&self->lock);
  for (;;) {
    if (self->flushing || self->failed)
      break;
    if (self->current && consent_recording_get_epoch (self->current) == info->epoch) {
      if (s->rec == self->current && !s->opened) {
        rec = s->rec;
        feed = gst_object_ref (s->feed);
        s->opened = TRUE;
      } else {
        GST_WARNING_OBJECT (self,
                            "%s joins no recording in epoch %" G_GUINT64_FORMAT
                            " (added after it started)",
                            GST_PAD_NAME (s->pad), info->epoch);
      }
      break;
    }
    if (!self->current && !s->rec) {
      self->current = create_recording_locked (self, info, &error);
      if (!self->current) {
        self->failed = TRUE;
        break;
      }
      g_cond_broadcast (&self->cond);
      continue;
    }
    /* another stream is still inside the previous interval: the gate closes
     * all streams together, so its close event is on the way */
    g_cond_wait (&self->cond, &self->lock);
  }
  if (rec)
    consent_recording_ref (rec);
  failed = self->failed;
  g_mutex_unlock (&self->lock);

  if (error) {
    post_storage_error (self, error);
    return FALSE;
  }
  if (!rec)
    return !failed;
  s->need_keyframe = s->video;
  s->fku_sent = FALSE;
  push_stream_head (self, s, rec, feed);
  gst_object_unref (feed);
  consent_recording_unref (rec);
  return TRUE;
}

/* ---- data path ---- */

static GstClockTime
to_file_time (const GstSegment *segment, GstClockTime ts, GstClockTime t0)
{
  guint64 rt;

  if (!GST_CLOCK_TIME_IS_VALID (ts) || segment->format != GST_FORMAT_TIME)
    return ts;
  rt = gst_segment_to_running_time (segment, GST_FORMAT_TIME, ts);
  if (!GST_CLOCK_TIME_IS_VALID (rt))
    return GST_CLOCK_TIME_NONE;
  /* the gate opens at t0; anything earlier (B-frame DTS) is clamped */
  return rt > t0 ? rt - t0 : 0;
}

/* FALSE when @buffer must be dropped because the file has to start at a keyframe. */
static gboolean
starts_at_keyframe (SinkStream *s, GstBuffer *buffer)
{
  if (!s->need_keyframe)
    return TRUE;
  if (!GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT)) {
    s->need_keyframe = FALSE;
    return TRUE;
  }
  if (!s->fku_sent) {
    s->fku_sent = TRUE;
    gst_pad_push_event (s->pad, gst_video_event_new_upstream_force_key_unit (
                                    GST_CLOCK_TIME_NONE, TRUE, 0));
  }
  return FALSE;
}

static GstFlowReturn
sink_chain (GstPad *pad, GstObject *parent, GstBuffer *buffer)
{
  GstConsentSink *self = GST_CONSENT_SINK (parent);
  SinkStream *s = gst_pad_get_element_private (pad);
  g_autoptr (ConsentRecording) rec = NULL;
  GstPad *feed = NULL;
  GstClockTime t0, end;
  GstFlowReturn ret;

  g_mutex_lock (&self->lock);
  if (self->failed) {
    g_mutex_unlock (&self->lock);
    gst_buffer_unref (buffer);
    return GST_FLOW_ERROR;
  }
  if (s->rec && s->opened) {
    rec = consent_recording_ref (s->rec);
    feed = gst_object_ref (s->feed);
  }
  g_mutex_unlock (&self->lock);

  /* no open interval: nothing is written (fail closed) */
  if (!rec || !starts_at_keyframe (s, buffer)) {
    gst_buffer_unref (buffer);
    g_clear_object (&feed);
    return GST_FLOW_OK;
  }
  t0 = consent_recording_get_t0 (rec);
  buffer = gst_buffer_make_writable (buffer);
  GST_BUFFER_PTS (buffer) = to_file_time (&s->segment, GST_BUFFER_PTS (buffer), t0);
  GST_BUFFER_DTS (buffer) = to_file_time (&s->segment, GST_BUFFER_DTS (buffer), t0);
  if (GST_BUFFER_PTS_IS_VALID (buffer)) {
    end = GST_BUFFER_PTS (buffer);
    if (GST_BUFFER_DURATION_IS_VALID (buffer))
      end += GST_BUFFER_DURATION (buffer);
    consent_recording_note_end (rec, end);
  }
  ret = gst_pad_push (feed, buffer);
  gst_object_unref (feed);
  if (ret == GST_FLOW_EOS || ret == GST_FLOW_FLUSHING)
    ret = consent_recording_has_failed (rec) ? GST_FLOW_ERROR : GST_FLOW_OK;
  return ret;
}

static gboolean
forward_caps (GstConsentSink *self, SinkStream *s, GstEvent *event)
{
  GstPad *feed = NULL;

  g_mutex_lock (&self->lock);
  if (s->rec && s->opened)
    feed = gst_object_ref (s->feed);
  g_mutex_unlock (&self->lock);
  if (feed) {
    gst_pad_push_event (feed, gst_event_ref (event));
    gst_object_unref (feed);
  }
  return TRUE;
}

static gboolean
sink_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  GstConsentSink *self = GST_CONSENT_SINK (parent);
  SinkStream *s = gst_pad_get_element_private (pad);
  ConsentGateInfo info;
  gboolean ret = TRUE;

  switch (GST_EVENT_TYPE (event)) {
  case GST_EVENT_SEGMENT:
    gst_event_copy_segment (event, &s->segment);
    break;
  case GST_EVENT_CAPS:
    ret = forward_caps (self, s, event);
    break;
  case GST_EVENT_CUSTOM_DOWNSTREAM:
    if (consent_gate_event_parse (event, &info)) {
      GST_DEBUG_OBJECT (pad, "consent-gate %s epoch %" G_GUINT64_FORMAT,
                        info.open ? "open" : "closed", info.epoch);
      if (info.open)
        ret = handle_open (self, s, &info);
      else
        handle_close (self, s);
    }
    break;
  case GST_EVENT_EOS:
    handle_close (self, s);
    g_mutex_lock (&self->lock);
    s->eos = TRUE;
    g_mutex_unlock (&self->lock);
    maybe_post_eos (self);
    break;
  case GST_EVENT_FLUSH_STOP:
    gst_segment_init (&s->segment, GST_FORMAT_UNDEFINED);
    break;
  default:
    /* stream-start, tags, gaps, flushes: the muxer gets its own */
    break;
  }
  gst_event_unref (event);
  return ret;
}

/* ---- pads ---- */

static GstPad *
gst_consent_sink_request_new_pad (GstElement *element, GstPadTemplate *templ,
                                  const char *name, const GstCaps *caps)
{
  GstConsentSink *self = GST_CONSENT_SINK (element);
  gboolean video = g_str_equal (GST_PAD_TEMPLATE_NAME_TEMPLATE (templ), "video_%u");
  g_autofree char *pad_name = NULL;
  SinkStream *s;

  g_mutex_lock (&self->lock);
  pad_name = name ? g_strdup (name)
                  : g_strdup_printf (video ? "video_%u" : "audio_%u",
                                     video ? self->video_pads : self->audio_pads);
  if (video)
    self->video_pads++;
  else
    self->audio_pads++;
  g_mutex_unlock (&self->lock);

  s = g_new0 (SinkStream, 1);
  s->video = video;
  gst_segment_init (&s->segment, GST_FORMAT_UNDEFINED);
  s->pad = gst_pad_new_from_template (templ, pad_name);
  gst_pad_set_element_private (s->pad, s);
  gst_pad_set_chain_function (s->pad, sink_chain);
  gst_pad_set_event_function (s->pad, sink_event);
  gst_pad_set_query_function (s->pad, sink_query);
  GST_PAD_SET_PROXY_ALLOCATION (s->pad);

  g_mutex_lock (&self->lock);
  self->streams = g_list_append (self->streams, s);
  g_mutex_unlock (&self->lock);
  if (!gst_element_add_pad (element, s->pad)) {
    g_mutex_lock (&self->lock);
    self->streams = g_list_remove (self->streams, s);
    g_mutex_unlock (&self->lock);
    g_free (s);
    return NULL;
  }
  return s->pad;
}

static void
gst_consent_sink_release_pad (GstElement *element, GstPad *pad)
{
  GstConsentSink *self = GST_CONSENT_SINK (element);
  SinkStream *s = gst_pad_get_element_private (pad);

  handle_close (self, s);
  g_mutex_lock (&self->lock);
  self->streams = g_list_remove (self->streams, s);
  g_mutex_unlock (&self->lock);
  gst_pad_set_element_private (pad, NULL);
  gst_element_remove_pad (element, pad);
  g_free (s);
}

/* ---- state ---- */

static gboolean
start (GstConsentSink *self)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ConsentPolicy) policy = NULL;
  int fd;

  if (self->policy_file)
    policy = consent_policy_load_file (self->policy_file, &error);
  else
    policy = consent_policy_new_default (NULL);
  if (!policy) {
    GST_ELEMENT_ERROR (
        self, RESOURCE, OPEN_READ,
        ("cannot load policy file '%s': %s", self->policy_file, error->message), (NULL));
    return FALSE;
  }
  if (!self->location) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
                       ("no storage location set (property 'location')"), (NULL));
    return FALSE;
  }
  fd = consent_storage_open_location (policy, self->location, &error);
  if (fd < 0) {
    post_storage_error (self, error);
    return FALSE;
  }
  g_mutex_lock (&self->lock);
  self->policy = g_steal_pointer (&policy);
  self->location_fd = fd;
  self->flushing = self->failed = self->eos_posted = FALSE;
  for (GList *l = self->streams; l; l = l->next)
    ((SinkStream *)l->data)->eos = FALSE;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/* After the children stopped: an unfinished file stays as a crash would
 * leave it (playable up to the cut), without a manifest. */
static void
stop (GstConsentSink *self)
{
  GList *recordings;

  g_mutex_lock (&self->lock);
  for (GList *l = self->streams; l; l = l->next) {
    SinkStream *s = l->data;
    g_clear_pointer (&s->rec, consent_recording_unref);
    s->feed = NULL;
    s->opened = FALSE;
  }
  g_clear_pointer (&self->current, consent_recording_unref);
  recordings = g_steal_pointer (&self->recordings);
  g_mutex_unlock (&self->lock);

  for (GList *l = recordings; l; l = l->next) {
    if (!consent_recording_has_failed (l->data))
      GST_WARNING_OBJECT (self, "stopped while writing %s; it has no manifest",
                          consent_recording_get_path (l->data));
    consent_recording_teardown (l->data);
  }
  g_list_free_full (recordings, (GDestroyNotify)consent_recording_unref);

  g_mutex_lock (&self->lock);
  /* a stopped sink holds no file or directory open: wait for the
   * teardowns already scheduled from streaming threads */
  while (self->pending_teardowns > 0)
    g_cond_wait (&self->cond, &self->lock);
  if (self->location_fd >= 0)
    close (self->location_fd);
  self->location_fd = -1;
  g_clear_pointer (&self->policy, consent_policy_unref);
  g_mutex_unlock (&self->lock);
}

static GstStateChangeReturn
gst_consent_sink_change_state (GstElement *element, GstStateChange transition)
{
  GstConsentSink *self = GST_CONSENT_SINK (element);
  GstStateChangeReturn ret;

  switch (transition) {
  case GST_STATE_CHANGE_READY_TO_PAUSED:
    if (!start (self))
      return GST_STATE_CHANGE_FAILURE;
    break;
  case GST_STATE_CHANGE_PAUSED_TO_READY:
    g_mutex_lock (&self->lock);
    self->flushing = TRUE;
    g_cond_broadcast (&self->cond);
    g_mutex_unlock (&self->lock);
    break;
  default:
    break;
  }
  ret = GST_ELEMENT_CLASS (gst_consent_sink_parent_class)
            ->change_state (element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    stop (self);
  if (ret == GST_STATE_CHANGE_FAILURE && transition == GST_STATE_CHANGE_READY_TO_PAUSED)
    stop (self);
  return ret;
}

/* Per-interval writers are not sinks of the pipeline: their EOS ends an
 * interval, not the stream. The bin posts its own EOS (maybe_post_eos). */
static void
gst_consent_sink_handle_message (GstBin *bin, GstMessage *message)
{
  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_EOS &&
      GST_MESSAGE_SRC (message) != GST_OBJECT (bin)) {
    gst_message_unref (message);
    return;
  }
  GST_BIN_CLASS (gst_consent_sink_parent_class)->handle_message (bin, message);
}

static gboolean
gst_consent_sink_query (GstElement *element, GstQuery *query)
{
  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    /* files are written as fast as they come: no clock sync, no latency */
    gst_query_set_latency (query, FALSE, 0, GST_CLOCK_TIME_NONE);
    return TRUE;
  }
  return GST_ELEMENT_CLASS (gst_consent_sink_parent_class)->query (element, query);
}

/* ---- properties ---- */

static void
gst_consent_sink_set_property (GObject *object, guint prop_id, const GValue *value,
                               GParamSpec *pspec)
{
  GstConsentSink *self = GST_CONSENT_SINK (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
  case PROP_LOCATION:
    g_free (self->location);
    self->location = g_value_dup_string (value);
    break;
  case PROP_POLICY_FILE:
    g_free (self->policy_file);
    self->policy_file = g_value_dup_string (value);
    break;
  case PROP_MUXER:
    g_free (self->muxer);
    self->muxer = g_value_dup_string (value);
    if (!self->muxer)
      self->muxer = g_strdup (DEFAULT_MUXER);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_consent_sink_get_property (GObject *object, guint prop_id, GValue *value,
                               GParamSpec *pspec)
{
  GstConsentSink *self = GST_CONSENT_SINK (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
  case PROP_LOCATION:
    g_value_set_string (value, self->location);
    break;
  case PROP_POLICY_FILE:
    g_value_set_string (value, self->policy_file);
    break;
  case PROP_MUXER:
    g_value_set_string (value, self->muxer);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_consent_sink_finalize (GObject *object)
{
  GstConsentSink *self = GST_CONSENT_SINK (object);

  g_list_free_full (self->streams, g_free);
  g_free (self->location);
  g_free (self->policy_file);
  g_free (self->muxer);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (gst_consent_sink_parent_class)->finalize (object);
}

static void
gst_consent_sink_class_init (GstConsentSinkClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBinClass *bin_class = GST_BIN_CLASS (klass);
  const GParamFlags flags =
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY;

  gobject_class->set_property = gst_consent_sink_set_property;
  gobject_class->get_property = gst_consent_sink_get_property;
  gobject_class->finalize = gst_consent_sink_finalize;

  g_object_class_install_property (
      gobject_class, PROP_LOCATION,
      g_param_spec_string (
          "location", "Location",
          "Directory for recordings (one subdirectory per meeting); must lie "
          "under a storage root of the policy, on a local filesystem",
          NULL, flags));
  g_object_class_install_property (
      gobject_class, PROP_POLICY_FILE,
      g_param_spec_string (
          "policy-file", "Policy file",
          "Consent policy file whose [storage] group decides where recordings "
          "may be written (default: the built-in policy)",
          NULL, flags));
  g_object_class_install_property (
      gobject_class, PROP_MUXER,
      g_param_spec_string ("muxer", "Muxer",
                           "Muxer factory: matroskamux (crash-tolerant, .mkv) or mp4mux "
                           "(fragmented, 1 s fragments, .mp4)",
                           DEFAULT_MUXER, flags));

  gst_element_class_add_static_pad_template (element_class, &video_template);
  gst_element_class_add_static_pad_template (element_class, &audio_template);
  gst_element_class_set_static_metadata (
      element_class, "Consent recording sink", "Sink/File",
      "Writes each consented interval to its own local file with a manifest",
      "consentgate project");
  element_class->request_new_pad = gst_consent_sink_request_new_pad;
  element_class->release_pad = gst_consent_sink_release_pad;
  element_class->change_state = gst_consent_sink_change_state;
  element_class->query = gst_consent_sink_query;
  bin_class->handle_message = gst_consent_sink_handle_message;
}

static void
gst_consent_sink_init (GstConsentSink *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->muxer = g_strdup (DEFAULT_MUXER);
  self->location_fd = -1;
  /* a sink to its pipeline even between intervals, when it has no children */
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SINK);
}
