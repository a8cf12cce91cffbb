/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * SECTION:element-consentgate
 * @title: consentgate
 *
 * A recording-consent gate: lets no media through until the consent source
 * says everyone present has accepted recording (or, with #GstConsentGate:participant,
 * until that one participant has), and stops at once when anyone withdraws or
 * a new participant joins.
 *
 * Each `sink_%u` request pad has a matching `src_%u`. All streams open and
 * close together at the same running time:
 *  - opening waits for the first video keyframe at or after the (durable)
 *    decision and sends a force-key-unit event upstream; audio starts within
 *    one audio frame of it;
 *  - closing is immediate, at the running time of the decision, on every
 *    stream (raw audio is clipped sample-accurately, encoded audio is cut at
 *    whole frames, video stops at the first frame at or after that instant).
 *
 * Decisions are judged by buffer running time: a decision taken at clock time
 * T applies to buffers whose running time is at or after T − base-time.
 *
 * While closed it drops buffers (live input) or blocks (non-live input),
 * forwards sticky events and GAP events so a live pipeline reaches PLAYING,
 * and always forwards EOS and flushes. Input is live when the upstream latency
 * query says so (an upstream that does not answer counts as live). Non-live
 * input has no clock-based "now": a decision applies at the gate's position,
 * the highest running time it has seen. Seeks are refused; only TIME
 * segments at rate 1.0 are accepted.
 *
 * Put a queue before each sink pad: while the gate opens, a stream that runs
 * ahead of the main (first) video stream waits until that stream has found
 * its opening keyframe. A stream without caps yet counts as possible video.
 *
 * With the default `timeline=continuous` closed intervals are cut out: the
 * first open interval starts at running time 0 and each later one where the
 * previous one's output ended (plus the opening keyframe's DTS lead, so DTS
 * never goes backwards or below 0).
 *
 * On every open and close it posts an element message `consent-gate` on the
 * bus and sends a serialized custom downstream event `consent-gate` (before
 * the first buffer of an open interval and after its last) with the fields
 * `state` ("open"/"closed"), `running-time`, `reason`, `epoch`,
 * `authorized-by` (ledger record ids), `meeting`, `participant`, `present`,
 * `notice-version` (and, in the event only, `source`).
 *
 * Before opening, it checks that every path downstream ends in a consentsink;
 * otherwise it refuses to open with an element error naming the offending
 * element, unless the meeting's policy sets allow-foreign-sinks (tests only),
 * in which case it posts a warning saying so.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -e videotestsrc is-live=true ! x264enc ! queue ! gate.sink_0 \
 *     audiotestsrc is-live=true ! opusenc ! queue ! gate.sink_1 \
 *     consentgate name=gate server=wss://consent.example.org/v1/ws meeting=weekly \
 *       token-file=/etc/consentgate/recorder.token \
 *     gate.src_0 ! queue ! consentsink name=sink \
 *       location=/var/lib/consentgate/recordings \
 *     gate.src_1 ! queue ! sink.
 * ]|
 */
#include "consent-config.h"

#include "gstconsentgate.h"

#include <stdio.h>

#include <gst/audio/audio.h>
#include <gst/video/video.h>

#include "consent-client.h"
#include "consent-gate-event.h"
#include "consent-source.h"
#include "consent-storage.h"

GST_DEBUG_CATEGORY_STATIC (consent_gate_debug);
#define GST_CAT_DEFAULT consent_gate_debug

/* At most this many past intervals are remembered for streams that lag
 * behind the others; older ones are forgotten (their buffers are dropped). */
#define MAX_INTERVALS 64
#define MAX_STREAMS 64

/*
 * Locking. Order: pad STREAM_LOCK → self->lock → GST_OBJECT_LOCK (self).
 *  - self->lock guards the decision state (intervals, arming, decisions,
 *    the source) and every GateStream field marked "lock" below.
 *  - GST_OBJECT_LOCK (self) guards the property strings and the meeting.
 *  - No lock of ours is held while pushing, posting, emitting notify or
 *    calling into the ConsentSource or downstream (storage check).
 *  - Streaming threads wait on self->cond (non-live closed input, or a
 *    secondary stream waiting for the main video stream to find the opening
 *    keyframe); every state change, flush, EOS and stop bumps self->cookie and
 *    broadcasts, so waits always end.
 *  - Fast path: a buffer whose verdict cannot have changed since its stream
 *    last took the lock (same self->fast_gen, inside the cached range) is
 *    pushed or dropped without the lock. gate_changed(), a thread starting to
 *    wait and a timeline change bump fast_gen, so any decision sends every
 *    stream back to the locked path. Such a buffer is ordered before the
 *    decision, as if it had taken the lock just before it. The lock-free pass
 *    publishes position and out_end with atomic stores; readers on other
 *    threads load them atomically, and gate_output_end() waits out a pass in
 *    flight (fast_busy) so a cut never overlaps a passed frame.
 */

typedef enum {
  STREAM_KIND_UNKNOWN, /* no caps yet: may be video */
  STREAM_KIND_OTHER,
  STREAM_KIND_VIDEO,
  STREAM_KIND_RAW_AUDIO,
  STREAM_KIND_AUDIO, /* encoded audio: cut at whole frames */
} StreamKind;

/* One open interval of the gate, in input running time. */
typedef struct {
  guint id;                       /* increasing; 0 is never used */
  GstClockTime start;             /* first running time inside */
  GstClockTime end;               /* first running time outside; NONE while open */
  GstClockTimeDiff shift;         /* output running time = input − shift */
  ConsentGateDecision *opened_by; /* authorization (may be updated while open) */
  ConsentGateDecision *closed_by; /* NULL while open or closed by EOS */
} GateInterval;

typedef struct {
  GstPad *sinkpad, *srcpad; /* owned by the element */
  GstSegment segment;       /* streaming thread */
  gint live;                /* atomic: -1 not asked yet */
  /* lock: */
  StreamKind kind;
  gint rate, bpf;
  GstClockTime position; /* highest running time seen (buffer starts) */
  GstClockTime last_end; /* end of the latest buffer */
  GstClockTime out_end;  /* output running time where the last passed buffer ends */
  guint cur;             /* interval this stream is inside, 0 = none */
  guint done_id;         /* intervals up to this id are finished for this stream */
  gboolean need_keyframe;
  gboolean gap_sent;
  gboolean eos, flushing;
  GstClockTimeDiff offset; /* the output offset currently applied (−shift) */
  /* Steady-state cache, streaming thread only (see stream_fast_path): while
   * the gate's generation still equals fast_gen, a buffer starting at or
   * after fast_lo gets the verdict fast_verdict without the lock. */
  guint fast_gen;
  gint fast_verdict;           /* FAST_NONE, FAST_PASS or FAST_DROP */
  GstClockTime fast_lo;        /* first running time the verdict holds for */
  GstClockTimeDiff fast_shift; /* FAST_PASS: the open interval's shift */
  gint fast_busy;              /* atomic: a lock-free pass is publishing out_end */
} GateStream;

struct _GstConsentGate {
  GstElement parent;

  GMutex lock;
  GCond cond;
  guint64 cookie;  /* lock: bumped on every change a waiter may care about */
  guint n_waiting; /* lock */

  /* GST_OBJECT_LOCK: properties */
  char *server, *meeting_id, *token_file, *ca_file, *participant;
  ConsentMeeting *meeting;
  ConsentSource *source_object;
  /* atomic (read on the streaming threads; set only in NULL/READY) */
  gint timeline; /* GstConsentGateTimeline */

  /* lock: */
  GPtrArray *streams; /* GateStream* */
  GQueue intervals;   /* GateInterval*, oldest first */
  guint next_interval_id;
  gboolean armed; /* an open decision waits for its keyframe */
  GstClockTime arm_rt;
  ConsentGateDecision *decision; /* latest decision followed */
  GstClockTime out_end;          /* output running time where the last interval ended */
  gboolean stopping;
  ConsentSource *source;
  gulong source_handler;

  gint live;      /* atomic: any input live */
  gint is_open;   /* atomic */
  guint fast_gen; /* atomic: bumped (under lock) whenever a cached verdict may change */
};

enum {
  PROP_0,
  PROP_SERVER,
  PROP_MEETING,
  PROP_TOKEN_FILE,
  PROP_CA_FILE,
  PROP_PARTICIPANT,
  PROP_MEETING_OBJECT,
  PROP_SOURCE_OBJECT,
  PROP_TIMELINE,
  PROP_IS_OPEN,
  N_PROPS
};
static GParamSpec *props[N_PROPS];

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE (
    "sink_%u", GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE (
    "src_%u", GST_PAD_SRC, GST_PAD_SOMETIMES, GST_STATIC_CAPS_ANY);

#define gst_consent_gate_parent_class parent_class
G_DEFINE_TYPE (GstConsentGate, gst_consent_gate, GST_TYPE_ELEMENT)
GST_ELEMENT_REGISTER_DEFINE (consentgate, "consentgate", GST_RANK_NONE,
                             GST_TYPE_CONSENT_GATE)

#define GST_TYPE_CONSENT_GATE_TIMELINE (gst_consent_gate_timeline_get_type ())
static GType
gst_consent_gate_timeline_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_CONSENT_GATE_TIMELINE_CONTINUOUS,
       "Cut closed intervals out: output running time is contiguous", "continuous"},
      {GST_CONSENT_GATE_TIMELINE_WALLCLOCK,
       "Keep closed intervals as gaps: output running time equals input", "wallclock"},
      {0, NULL, NULL}};

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstConsentGateTimeline", values));
  return type;
}

/* Read on every dropped buffer: an atomic, never the object lock. */
static inline gboolean
gate_is_continuous (GstConsentGate *self)
{
  return g_atomic_int_get (&self->timeline) == GST_CONSENT_GATE_TIMELINE_CONTINUOUS;
}

/* ---------------------------------------------------------------- intervals */

static void
gate_interval_free (GateInterval *iv)
{
  g_clear_pointer (&iv->opened_by, consent_gate_decision_unref);
  g_clear_pointer (&iv->closed_by, consent_gate_decision_unref);
  g_free (iv);
}

static GateInterval *
gate_last_interval (GstConsentGate *self)
{
  return g_queue_peek_tail (&self->intervals);
}

static gboolean
gate_is_open_ended (GstConsentGate *self)
{
  GateInterval *last = gate_last_interval (self);

  return last && !GST_CLOCK_TIME_IS_VALID (last->end);
}

/* Forget intervals that every stream has finished with. */
static void
gate_prune_intervals (GstConsentGate *self)
{
  while (g_queue_get_length (&self->intervals) > 1) {
    GateInterval *head = g_queue_peek_head (&self->intervals);
    gboolean in_use = FALSE;

    for (guint i = 0; i < self->streams->len; i++) {
      GateStream *s = g_ptr_array_index (self->streams, i);
      if (!s->eos && s->done_id < head->id)
        in_use = TRUE;
    }
    if (in_use && g_queue_get_length (&self->intervals) <= MAX_INTERVALS)
      break;
    gate_interval_free (g_queue_pop_head (&self->intervals));
  }
}

/* Ends every stream's steady-state cache: the next buffer takes the lock. */
static void
gate_invalidate_fast (GstConsentGate *self)
{
  g_atomic_int_inc ((gint *)&self->fast_gen);
}

static void
gate_changed (GstConsentGate *self)
{
  self->cookie++;
  gate_invalidate_fast (self);
  g_cond_broadcast (&self->cond);
}

/* ------------------------------------------------------------------ events */

static GstStructure *
gate_info_structure (GstConsentGate *self, const GateInterval *iv, gboolean open,
                     GstClockTime out_rt, const char *reason_override,
                     gboolean with_source)
{
  const ConsentGateDecision *d = open || !iv->closed_by ? iv->opened_by : iv->closed_by;
  ConsentGateInfo info = {
      .open = open,
      .running_time = out_rt,
      .reason = reason_override ? reason_override : d->reason,
      .epoch = d->epoch,
      .authorized_by = (const char *const *)iv->opened_by->authorized_by,
      .meeting = d->meeting,
      .participant = d->participant,
      .present = (const char *const *)d->present,
      .notice_version = iv->opened_by->notice_version,
      .source = self->source,
  };

  return consent_gate_structure_new (&info, with_source);
}

static GstMessage *
gate_message_new (GstConsentGate *self, const GateInterval *iv, gboolean open,
                  GstClockTime out_rt)
{
  return gst_message_new_element (
      GST_OBJECT (self), gate_info_structure (self, iv, open, out_rt, NULL, FALSE));
}

static GstEvent *
gate_event_new (GstConsentGate *self, const GateInterval *iv, gboolean open,
                GstClockTime out_rt, const char *reason)
{
  return gst_event_new_custom (
      GST_EVENT_CUSTOM_DOWNSTREAM,
      gate_info_structure (self, iv, open, out_rt, reason, TRUE));
}

/* ------------------------------------------------------------- the decision */

/* A stream without caps yet (an encoder still filling its lookahead) may
 * turn out to be video, so the opening waits for it. */
static gboolean
stream_may_be_video (const GateStream *s)
{
  return (s->kind == STREAM_KIND_VIDEO || s->kind == STREAM_KIND_UNKNOWN) && !s->eos;
}

static gboolean
gate_has_video (GstConsentGate *self)
{
  for (guint i = 0; i < self->streams->len; i++)
    if (stream_may_be_video (g_ptr_array_index (self->streams, i)))
      return TRUE;
  return FALSE;
}

/* The stream whose keyframes decide the opening point: the first video one
 * (or one that may still become video). */
static GateStream *
gate_main_video (GstConsentGate *self)
{
  for (guint i = 0; i < self->streams->len; i++) {
    GateStream *s = g_ptr_array_index (self->streams, i);
    if (stream_may_be_video (s))
      return s;
  }
  return NULL;
}

/* Output running time where the next interval may start: after everything
 * already passed, so frames never overlap across a cut. */
static GstClockTime
gate_output_end (GstConsentGate *self)
{
  GstClockTime end = self->out_end;

  for (guint i = 0; i < self->streams->len; i++) {
    GateStream *s = g_ptr_array_index (self->streams, i);
    while (g_atomic_int_get (&s->fast_busy)) /* a lock-free pass is finishing */
      g_thread_yield ();
    end = MAX (end, __atomic_load_n (&s->out_end, __ATOMIC_ACQUIRE));
  }
  return end;
}

/* Opens the gate at input running time @rt. @lead is how far the opening
 * keyframe's DTS precedes its PTS, so that in the continuous timeline DTS stays
 * at or after the end of the previous interval (and ≥ 0). */
static GateInterval *
gate_open_at (GstConsentGate *self, GstClockTime rt, GstClockTime lead, GstMessage **msg)
{
  GateInterval *iv = g_new0 (GateInterval, 1);
  gboolean continuous;

  continuous = gate_is_continuous (self);

  iv->id = ++self->next_interval_id;
  iv->start = rt;
  iv->end = GST_CLOCK_TIME_NONE;
  iv->shift = continuous
                  ? GST_CLOCK_DIFF (gate_output_end (self), rt) - (GstClockTimeDiff)lead
                  : 0;
  iv->opened_by = consent_gate_decision_ref (self->decision);
  g_queue_push_tail (&self->intervals, iv);
  self->armed = FALSE;
  g_atomic_int_set (&self->is_open, TRUE);
  *msg = gate_message_new (self, iv, TRUE, rt - iv->shift);
  gate_prune_intervals (self);
  gate_changed (self);
  GST_INFO_OBJECT (self, "open at %" GST_TIME_FORMAT " (output %" GST_STIME_FORMAT ")",
                   GST_TIME_ARGS (rt), GST_STIME_ARGS (GST_CLOCK_DIFF (iv->shift, rt)));
  return iv;
}

/* Liveness of the input, from the upstream latency query: live input is
 * dropped while closed and judged by the clock; non-live input is blocked
 * while closed and judged by its own position. An upstream that does not
 * answer once data flows counts as live (drop rather than block forever);
 * an unlinked pad is asked again later. */
static void
stream_query_live (GstConsentGate *self, GateStream *s, gboolean data_flows)
{
  g_autoptr (GstQuery) q = gst_query_new_latency ();
  gboolean live = TRUE;

  if (gst_pad_peer_query (s->sinkpad, q))
    gst_query_parse_latency (q, &live, NULL, NULL);
  else if (!data_flows)
    return;
  g_atomic_int_set (&s->live, live);
  if (live)
    g_atomic_int_set (&self->live, TRUE);
  GST_DEBUG_OBJECT (s->sinkpad, "upstream is %slive", live ? "" : "not ");
}

/* A decision can come before the first buffer: ask upstream now. */
static void
gate_query_live (GstConsentGate *self)
{
  g_autoptr (GPtrArray) pads = g_ptr_array_new_with_free_func (gst_object_unref);

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->streams->len; i++) {
    GateStream *s = g_ptr_array_index (self->streams, i);
    if (g_atomic_int_get (&s->live) < 0)
      g_ptr_array_add (pads, gst_object_ref (s->sinkpad));
  }
  g_mutex_unlock (&self->lock);
  for (guint i = 0; i < pads->len; i++) {
    GstPad *pad = g_ptr_array_index (pads, i);
    GateStream *s = gst_pad_get_element_private (pad);
    if (s)
      stream_query_live (self, s, FALSE);
  }
}

/* "Now" as a running time: the clock for live input; for non-live input,
 * where the clock says nothing about the media, the gate's own position. */
static GstClockTime
gate_now (GstConsentGate *self)
{
  GstClockTime now = GST_CLOCK_TIME_NONE;

  gate_query_live (self);
  if (g_atomic_int_get (&self->live)) {
    GstClock *clock = gst_element_get_clock (GST_ELEMENT (self));
    if (clock) {
      GstClockTime t = gst_clock_get_time (clock);
      GstClockTime base = gst_element_get_base_time (GST_ELEMENT (self));
      now = t >= base ? t - base : 0;
      gst_object_unref (clock);
    }
  }
  return now;
}

static GstClockTime
gate_position_locked (GstConsentGate *self)
{
  GstClockTime pos = 0;

  for (guint i = 0; i < self->streams->len; i++) {
    GateStream *s = g_ptr_array_index (self->streams, i);
    GstClockTime p = __atomic_load_n (&s->position, __ATOMIC_RELAXED);
    if (GST_CLOCK_TIME_IS_VALID (p))
      pos = MAX (pos, p);
  }
  return pos;
}

static void
gate_close_locked (GstConsentGate *self, GstClockTime now, GstMessage **msg)
{
  GateInterval *last = gate_last_interval (self);

  self->armed = FALSE;
  if (!last || GST_CLOCK_TIME_IS_VALID (last->end))
    return;
  last->end = MAX (now, last->start);
  last->closed_by = consent_gate_decision_ref (self->decision);
  self->out_end = last->end - last->shift;
  g_atomic_int_set (&self->is_open, FALSE);
  *msg = gate_message_new (self, last, FALSE, self->out_end);
  GST_INFO_OBJECT (self, "closed at %" GST_TIME_FORMAT " (%s)", GST_TIME_ARGS (last->end),
                   self->decision->reason);
}

/* Promise 7: opens only into consentsinks, unless policy relaxes it. */
static gboolean
gate_storage_allows_open (GstConsentGate *self)
{
  g_autoptr (GstIterator) it = gst_element_iterate_src_pads (GST_ELEMENT (self));
  g_auto (GValue) item = G_VALUE_INIT;
  gboolean allow_foreign = FALSE;
  gboolean ok = TRUE;

  g_autoptr (ConsentSource) source = NULL;

  g_mutex_lock (&self->lock);
  source = self->source ? g_object_ref (self->source) : NULL;
  g_mutex_unlock (&self->lock);
  if (source)
    g_object_get (source, "allow-foreign-sinks", &allow_foreign, NULL);

  while (ok && gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstPad *pad = g_value_get_object (&item);
    g_autoptr (GstElement) offender = NULL;
    g_autofree char *name = NULL;

    if (!consent_storage_check_downstream (pad, &offender)) {
      name = offender ? gst_object_get_path_string (GST_OBJECT (offender))
                      : g_strdup_printf ("nothing (%s is unlinked)", GST_PAD_NAME (pad));
      if (allow_foreign) {
        GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
                             ("Opening although %s downstream of %s is not a consentsink",
                              name, GST_PAD_NAME (pad)),
                             ("the meeting's policy sets allow-foreign-sinks=true"));
      } else {
        GST_ELEMENT_ERROR (self, RESOURCE, WRITE,
                           ("Refusing to open: %s downstream of %s is not a consentsink",
                            name, GST_PAD_NAME (pad)),
                           ("recordings may only be written by consentsink; policy "
                            "allow-foreign-sinks=true relaxes this for tests only"));
        ok = FALSE;
      }
    }
    g_value_reset (&item);
  }
  return ok;
}

/* Armed, and no stream is (or may become) video: open at the decision. */
static void
gate_open_without_video (GstConsentGate *self, GstMessage **msg)
{
  if (self->armed && !gate_has_video (self))
    gate_open_at (self, self->arm_rt, 0, msg);
}

static void
gate_request_keyframe (GstConsentGate *self)
{
  g_autoptr (GPtrArray) pads = g_ptr_array_new_with_free_func (gst_object_unref);

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->streams->len; i++) {
    GateStream *s = g_ptr_array_index (self->streams, i);
    if (s->kind == STREAM_KIND_VIDEO && !s->eos)
      g_ptr_array_add (pads, gst_object_ref (s->sinkpad));
  }
  g_mutex_unlock (&self->lock);

  for (guint i = 0; i < pads->len; i++)
    gst_pad_push_event (
        g_ptr_array_index (pads, i),
        gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE, TRUE, 0));
}

static void
gate_post_transition (GstConsentGate *self, GstMessage *msg)
{
  if (!msg)
    return;
  gst_element_post_message (GST_ELEMENT (self), msg);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_IS_OPEN]);
}

static void
gate_apply_decision (GstConsentGate *self, ConsentGateDecision *d)
{
  GstClockTime now = gate_now (self);
  GstMessage *msg = NULL;
  gboolean want_keyframe = FALSE;

  if (d->open && !gate_storage_allows_open (self))
    d = consent_gate_decision_new_closed (d->meeting, d->participant, d->epoch,
                                          "foreign-sink");
  else
    consent_gate_decision_ref (d);

  g_mutex_lock (&self->lock);
  if (self->decision && d->epoch < self->decision->epoch && d->epoch != 0) {
    GST_DEBUG_OBJECT (self, "ignoring stale decision (epoch %" G_GUINT64_FORMAT ")",
                      d->epoch);
    g_mutex_unlock (&self->lock);
    consent_gate_decision_unref (d);
    return;
  }
  if (!GST_CLOCK_TIME_IS_VALID (now))
    now = gate_position_locked (self);
  g_clear_pointer (&self->decision, consent_gate_decision_unref);
  self->decision = d;

  if (!d->open) {
    gate_close_locked (self, now, &msg);
  } else if (gate_is_open_ended (self)) {
    GateInterval *last = gate_last_interval (self); /* new authorization, same interval */
    consent_gate_decision_unref (last->opened_by);
    last->opened_by = consent_gate_decision_ref (d);
  } else if (!self->armed || now > self->arm_rt) {
    self->armed = TRUE;
    self->arm_rt = now; /* nothing captured before the last consent */
    GST_INFO_OBJECT (self, "armed at %" GST_TIME_FORMAT, GST_TIME_ARGS (now));
    if (!gate_has_video (self))
      gate_open_at (self, now, 0, &msg);
    else
      want_keyframe = TRUE;
  }
  gate_changed (self);
  g_mutex_unlock (&self->lock);

  if (want_keyframe)
    gate_request_keyframe (self);
  gate_post_transition (self, msg);
}

static void
on_decision_changed (ConsentSource *source, const char *participant,
                     ConsentGateDecision *decision, gpointer user_data)
{
  GstConsentGate *self = GST_CONSENT_GATE (user_data);
  gboolean ours;

  (void)source;
  GST_OBJECT_LOCK (self);
  ours = g_strcmp0 (participant, self->participant) == 0;
  GST_OBJECT_UNLOCK (self);
  if (ours)
    gate_apply_decision (self, decision);
}

/* The one place where the gate gets its ConsentSource: the shared consentd
 * client for `server` (NULL and @error set if it cannot be set up, e.g. the
 * token file is unreadable), else the in-process source, else none. */
static ConsentSource *
gate_create_source (GstConsentGate *self, GError **error)
{
  ConsentSource *source = NULL;
  g_autofree char *server = NULL, *meeting = NULL, *token_file = NULL, *ca_file = NULL;
  g_autofree char *participant = NULL;

  GST_OBJECT_LOCK (self);
  if (self->server && *self->server) {
    server = g_strdup (self->server);
    meeting = g_strdup (self->meeting_id);
    participant = g_strdup (self->participant);
    token_file = g_strdup (self->token_file);
    ca_file = g_strdup (self->ca_file);
  } else if (self->source_object)
    source = g_object_ref (self->source_object);
  else if (self->meeting)
    source = consent_source_new_for_meeting (self->meeting);
  GST_OBJECT_UNLOCK (self);
  if (server) /* not under the object lock: it reads the token file */
    /* A participant gate gets the connection that follows that participant. */
    source = consent_client_source_get_for_participant (server, meeting, participant,
                                                        token_file, ca_file, error);
  return source;
}

static gboolean
gate_attach_source (GstConsentGate *self)
{
  g_autoptr (GError) error = NULL;
  ConsentSource *source = gate_create_source (self, &error);
  g_autofree char *participant = NULL;
  ConsentGateDecision *d;

  GST_OBJECT_LOCK (self);
  participant = g_strdup (self->participant);
  GST_OBJECT_UNLOCK (self);

  if (error) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, ("%s", error->message), (NULL));
    return FALSE;
  }
  if (!source) {
    GST_INFO_OBJECT (self, "no consent source: the gate stays closed");
    return TRUE;
  }
  g_mutex_lock (&self->lock);
  self->source = source;
  self->source_handler = g_signal_connect_object (
      source, "decision-changed", G_CALLBACK (on_decision_changed), self, 0);
  g_mutex_unlock (&self->lock);

  d = consent_source_get_decision (source, participant);
  gate_apply_decision (self, d);
  consent_gate_decision_unref (d);
  return TRUE;
}

static void
gate_detach_source (GstConsentGate *self)
{
  ConsentSource *source;

  g_mutex_lock (&self->lock);
  source = g_steal_pointer (&self->source);
  if (source)
    g_clear_signal_handler (&self->source_handler, source);
  g_mutex_unlock (&self->lock);
  g_clear_object (&source);
}

/* -------------------------------------------------------------- streaming */

typedef enum { VERDICT_PASS, VERDICT_DROP, VERDICT_WAIT } Verdict;

/* GateStream.fast_verdict */
enum { FAST_NONE, FAST_PASS, FAST_DROP };

/* What a streaming thread must do once it has released the lock. */
typedef struct {
  Verdict verdict;
  guint64 cookie;
  GstEvent *close_event, *open_event, *gap_event;
  GstMessage *msg;
  gboolean set_offset;
  GstClockTimeDiff offset;
  gboolean discont;
  GstClockTime clip_start, clip_end; /* raw audio: keep this running-time range */
} GateActions;

typedef struct {
  GstClockTime start, end; /* running time of the buffer (end may be NONE) */
  GstClockTime lead;       /* PTS − DTS running time, 0 if none */
  gboolean keyframe;
} BufferTimes;

static gboolean
stream_covers (GateStream *s, const GateInterval *iv, const BufferTimes *bt)
{
  GstClockTime end = iv->end;
  gboolean bounded = GST_CLOCK_TIME_IS_VALID (end);
  gboolean has_end = GST_CLOCK_TIME_IS_VALID (bt->end);

  switch (s->kind) {
  case STREAM_KIND_RAW_AUDIO: /* any overlap: clipped later */
    return (!bounded || bt->start < end) &&
           (bt->start >= iv->start || (has_end && bt->end > iv->start));
  case STREAM_KIND_AUDIO: /* whole frames only */
    return bt->start >= iv->start &&
           (!bounded || (has_end ? bt->end <= end : bt->start < end));
  default:
    return bt->start >= iv->start && (!bounded || bt->start < end);
  }
}

static GateInterval *
stream_find_interval (GstConsentGate *self, GateStream *s, const BufferTimes *bt)
{
  for (GList *l = self->intervals.head; l; l = l->next) {
    GateInterval *iv = l->data;
    if (iv->id > s->done_id && stream_covers (s, iv, bt))
      return iv;
  }
  return NULL;
}

/* TRUE if @bt is in the gate's current closed period (no later interval). */
static gboolean
stream_in_current_closed_period (GstConsentGate *self, const BufferTimes *bt)
{
  GateInterval *last = gate_last_interval (self);

  return !last || (GST_CLOCK_TIME_IS_VALID (last->end) && bt->start >= last->end);
}

static GstClockTime
interval_out_end (const GateInterval *iv, const GateStream *s)
{
  GstClockTime end = GST_CLOCK_TIME_IS_VALID (iv->end) ? iv->end : s->last_end;

  return GST_CLOCK_TIME_IS_VALID (end) && (GstClockTimeDiff)end >= iv->shift
             ? end - iv->shift
             : 0;
}

static GateInterval *
gate_find_by_id (GstConsentGate *self, guint id)
{
  for (GList *l = self->intervals.head; l; l = l->next)
    if (((GateInterval *)l->data)->id == id)
      return l->data;
  return NULL;
}

static void
stream_leave (GstConsentGate *self, GateStream *s, GateActions *a, const char *reason)
{
  GateInterval *iv = gate_find_by_id (self, s->cur);

  if (iv)
    a->close_event = gate_event_new (self, iv, FALSE, interval_out_end (iv, s), reason);
  s->done_id = MAX (s->done_id, s->cur);
  s->cur = 0;
  s->gap_sent = FALSE;
  if (s->kind == STREAM_KIND_VIDEO)
    s->need_keyframe = TRUE;
}

static void
stream_enter (GstConsentGate *self, GateStream *s, GateInterval *iv, GateActions *a)
{
  s->cur = iv->id;
  s->need_keyframe = FALSE;
  a->discont = TRUE;
  a->open_event = gate_event_new (self, iv, TRUE, iv->start - iv->shift, NULL);
  if (s->offset != -iv->shift) {
    s->offset = -iv->shift;
    a->set_offset = TRUE;
    a->offset = s->offset;
  }
}

/* A GAP event while closed, so live downstream prerolls and keeps going.
 * With the continuous timeline the gap sits at the cut point (zero length),
 * so output running time never runs ahead of where the next interval starts. */
static void
stream_make_gap (GstConsentGate *self, GateStream *s, const BufferTimes *bt,
                 GstBuffer *buf, GateActions *a)
{
  gboolean continuous;
  guint64 pos;

  continuous = gate_is_continuous (self);

  if (!continuous) {
    pos = GST_BUFFER_PTS_IS_VALID (buf) ? GST_BUFFER_PTS (buf) : s->segment.position;
    if (GST_CLOCK_TIME_IS_VALID (pos))
      a->gap_event = gst_event_new_gap (pos, GST_BUFFER_DURATION (buf));
    return;
  }
  if (s->gap_sent)
    return;
  s->gap_sent = TRUE;
  pos = gst_segment_position_from_running_time (&s->segment, GST_FORMAT_TIME,
                                                gate_output_end (self) - s->offset);
  if (!GST_CLOCK_TIME_IS_VALID (pos))
    pos = s->segment.start;
  (void)bt;
  a->gap_event = gst_event_new_gap (pos, 0);
}

static gboolean
stream_must_wait_for_main (GstConsentGate *self, GateStream *s, const BufferTimes *bt)
{
  GateStream *main_video;
  GstClockTime main_pos;

  if (!self->armed || bt->start < self->arm_rt)
    return FALSE;
  main_video = gate_main_video (self);
  if (!main_video || main_video == s || main_video->flushing)
    return FALSE;
  main_pos = __atomic_load_n (&main_video->position, __ATOMIC_RELAXED);
  return !GST_CLOCK_TIME_IS_VALID (main_pos) || main_pos < bt->start;
}

static void
stream_note_output (GateStream *s, const GateInterval *iv, const BufferTimes *bt)
{
  GstClockTime end = GST_CLOCK_TIME_IS_VALID (bt->end) ? bt->end : bt->start;

  if (s->kind == STREAM_KIND_RAW_AUDIO && GST_CLOCK_TIME_IS_VALID (iv->end))
    end = MIN (end, iv->end); /* clipped */
  if ((GstClockTimeDiff)end > iv->shift)
    s->out_end = MAX (s->out_end, end - iv->shift);
}

/* Decides what happens to one buffer. Called with the lock held. */
static void
stream_judge (GstConsentGate *self, GateStream *s, const BufferTimes *bt, GstBuffer *buf,
              GateActions *a)
{
  GateInterval *iv = stream_find_interval (self, s, bt);

  if (!iv && self->armed && s == gate_main_video (self) && bt->keyframe &&
      bt->start >= self->arm_rt)
    iv = gate_open_at (self, bt->start, bt->lead, &a->msg);

  if (!iv && stream_must_wait_for_main (self, s, bt)) {
    a->verdict = VERDICT_WAIT;
    return;
  }
  if (iv && iv->id != s->cur && s->cur)
    stream_leave (self, s, a, NULL);
  if (iv && iv->id != s->cur && s->need_keyframe && !bt->keyframe)
    iv = NULL; /* a video stream enters only at a keyframe */

  if (!iv) {
    if (s->cur)
      stream_leave (self, s, a, NULL);
    stream_make_gap (self, s, bt, buf, a);
    a->verdict = !g_atomic_int_get (&self->live) && !self->armed &&
                         stream_in_current_closed_period (self, bt)
                     ? VERDICT_WAIT
                     : VERDICT_DROP;
    return;
  }
  if (iv->id != s->cur)
    stream_enter (self, s, iv, a);
  stream_note_output (s, iv, bt);
  a->verdict = VERDICT_PASS;
  a->clip_start = iv->start;
  a->clip_end = iv->end;
}

/* Signed running time of @ts, or FALSE if it has none. */
static gboolean
segment_signed_running_time (const GstSegment *seg, GstClockTime ts, gint64 *out)
{
  guint64 rt;
  int sign = gst_segment_to_running_time_full (seg, GST_FORMAT_TIME, ts, &rt);

  *out = sign > 0 ? (gint64)rt : -(gint64)rt;
  return sign != 0;
}

static void
buffer_times (GateStream *s, GstBuffer *buf, BufferTimes *bt)
{
  GstClockTime ts =
      GST_BUFFER_PTS_IS_VALID (buf) ? GST_BUFFER_PTS (buf) : GST_BUFFER_DTS (buf);
  gint64 pts, dts;

  bt->start = gst_segment_to_running_time (&s->segment, GST_FORMAT_TIME, ts);
  if (!GST_CLOCK_TIME_IS_VALID (bt->start)) /* untimed: treat as "where we are" */
    bt->start = GST_CLOCK_TIME_IS_VALID (s->position) ? s->position : 0;
  bt->end = GST_BUFFER_DURATION_IS_VALID (buf) ? bt->start + GST_BUFFER_DURATION (buf)
                                               : GST_CLOCK_TIME_NONE;
  bt->keyframe = !GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT);
  bt->lead = 0;
  if (GST_BUFFER_PTS_IS_VALID (buf) && GST_BUFFER_DTS_IS_VALID (buf) &&
      segment_signed_running_time (&s->segment, GST_BUFFER_PTS (buf), &pts) &&
      segment_signed_running_time (&s->segment, GST_BUFFER_DTS (buf), &dts) && dts < pts)
    bt->lead = (GstClockTime)(pts - dts);
}

/* Raw audio: keep only the samples inside [start, end) (input running time). */
static GstBuffer *
stream_clip_audio (GateStream *s, GstBuffer *buf, const BufferTimes *bt,
                   GstClockTime start, GstClockTime end)
{
  guint64 samples, trim = 0, keep;
  GstClockTime pts;

  if (s->kind != STREAM_KIND_RAW_AUDIO || s->rate <= 0 || s->bpf <= 0)
    return buf;
  samples = gst_buffer_get_size (buf) / s->bpf;
  if (start > bt->start)
    trim = gst_util_uint64_scale_int_ceil (start - bt->start, s->rate, GST_SECOND);
  keep = samples > trim ? samples - trim : 0;
  if (GST_CLOCK_TIME_IS_VALID (end) &&
      end < bt->start + gst_util_uint64_scale_int (samples, GST_SECOND, s->rate)) {
    guint64 until = end > bt->start ? gst_util_uint64_scale_int_ceil (end - bt->start,
                                                                      s->rate, GST_SECOND)
                                    : 0;
    keep = until > trim ? MIN (keep, until - trim) : 0;
  }
  if (trim == 0 && keep == samples)
    return buf;
  pts = GST_BUFFER_PTS (buf);
  buf = gst_audio_buffer_truncate (buf, s->bpf, trim, keep);
  if (!buf)
    return NULL;
  if (GST_CLOCK_TIME_IS_VALID (pts))
    GST_BUFFER_PTS (buf) = pts + gst_util_uint64_scale_int (trim, GST_SECOND, s->rate);
  GST_BUFFER_DURATION (buf) = gst_util_uint64_scale_int (keep, GST_SECOND, s->rate);
  return buf;
}

static GstFlowReturn
stream_push_events (GateStream *s, GateActions *a)
{
  if (a->close_event)
    gst_pad_push_event (s->srcpad, g_steal_pointer (&a->close_event));
  if (a->gap_event)
    gst_pad_push_event (s->srcpad, g_steal_pointer (&a->gap_event));
  if (a->set_offset)
    gst_pad_set_offset (s->srcpad, a->offset);
  if (a->open_event)
    gst_pad_push_event (s->srcpad, g_steal_pointer (&a->open_event));
  return GST_FLOW_OK;
}

/* Under the lock, after judging a buffer: if its verdict holds for every later
 * buffer of @s starting at or after some running time until the decision state
 * changes (fast_gen moves on from @gen, read before judging), remember it for
 * stream_fast_path(). Only verdicts without side effects qualify: passing
 * inside the open-ended interval the stream is already in, or dropping while
 * closed, not armed, live, with the (continuous timeline) GAP already sent. */
static void
stream_cache_verdict (GstConsentGate *self, GateStream *s, const GateActions *a,
                      guint gen)
{
  GateInterval *last = gate_last_interval (self);
  GstClockTime lo = 0;
  gboolean continuous;

  s->fast_verdict = FAST_NONE;
  if (self->n_waiting || self->armed || s->eos || a->close_event || a->open_event ||
      a->msg)
    return;
  /* earlier intervals this stream may still enter: stay past their ends */
  for (GList *l = self->intervals.head; l; l = l->next) {
    GateInterval *iv = l->data;
    if (iv->id > s->done_id && iv->id != s->cur && GST_CLOCK_TIME_IS_VALID (iv->end))
      lo = MAX (lo, iv->end + 1);
  }
  if (a->verdict == VERDICT_PASS && last && last->id == s->cur &&
      !GST_CLOCK_TIME_IS_VALID (last->end)) {
    s->fast_verdict = FAST_PASS;
    s->fast_lo = MAX (lo, last->start);
    s->fast_shift = last->shift;
  } else if (a->verdict == VERDICT_DROP && !s->cur && s->gap_sent &&
             !gate_is_open_ended (self) && g_atomic_int_get (&self->live)) {
    continuous = gate_is_continuous (self);
    if (!continuous)
      return; /* wallclock: every dropped buffer becomes a GAP event */
    s->fast_verdict = FAST_DROP;
    s->fast_lo = lo;
  }
  s->fast_gen = gen;
}

/* Running time of @buf as buffer_times() computes it, where the cheap form of
 * the conversion is exact (rate 1.0 is enforced; before the segment's start,
 * inside its offset or past its stop the full conversion is used instead). */
static inline gboolean
stream_fast_times (const GateStream *s, GstBuffer *buf, GstClockTime *start,
                   GstClockTime *end)
{
  const GstSegment *seg = &s->segment;
  GstClockTime ts =
      GST_BUFFER_PTS_IS_VALID (buf) ? GST_BUFFER_PTS (buf) : GST_BUFFER_DTS (buf);

  if (!GST_CLOCK_TIME_IS_VALID (ts)) { /* untimed: "where we are" */
    *start = GST_CLOCK_TIME_IS_VALID (s->position) ? s->position : 0;
  } else {
    if (ts < seg->start || ts - seg->start < seg->offset ||
        (GST_CLOCK_TIME_IS_VALID (seg->stop) && ts > seg->stop))
      return FALSE;
    *start = ts - seg->start - seg->offset + seg->base;
  }
  *end = GST_BUFFER_DURATION_IS_VALID (buf) ? *start + GST_BUFFER_DURATION (buf)
                                            : GST_CLOCK_TIME_NONE;
  return TRUE;
}

/* Lock-free path for a buffer in the steady state cached by
 * stream_cache_verdict(): does what the locked path would (position,
 * last_end, out_end, then push or drop). FALSE: take the locked path. */
static gboolean
stream_fast_path (GstConsentGate *self, GateStream *s, GstBuffer *buf, GstFlowReturn *ret)
{
  GstClockTime start, end, out;
  gboolean pass = s->fast_verdict == FAST_PASS;

  if (s->fast_verdict == FAST_NONE || !stream_fast_times (s, buf, &start, &end) ||
      start < s->fast_lo)
    return FALSE;
  if (pass) /* before checking the generation: see gate_output_end() */
    g_atomic_int_set (&s->fast_busy, TRUE);
  if ((guint)g_atomic_int_get ((gint *)&self->fast_gen) != s->fast_gen) {
    g_atomic_int_set (&s->fast_busy, FALSE);
    s->fast_verdict = FAST_NONE;
    return FALSE;
  }
  s->last_end = GST_CLOCK_TIME_IS_VALID (end) ? end : start;
  if (!GST_CLOCK_TIME_IS_VALID (s->position) || start > s->position)
    __atomic_store_n (&s->position, start, __ATOMIC_RELAXED);
  if (!pass) {
    GST_LOG_OBJECT (s->sinkpad, "dropping (closed)");
    gst_buffer_unref (buf);
    *ret = GST_FLOW_OK;
    return TRUE;
  }
  out = s->last_end;
  if ((GstClockTimeDiff)out > s->fast_shift && out - s->fast_shift > s->out_end)
    __atomic_store_n (&s->out_end, out - s->fast_shift, __ATOMIC_RELEASE);
  g_atomic_int_set (&s->fast_busy, FALSE);
  *ret = gst_pad_push (s->srcpad, buf);
  return TRUE;
}

/* Slow path: judge, push what the judgement asks for, and wait if told to. */
static GstFlowReturn
stream_handle_buffer (GstConsentGate *self, GateStream *s, GstBuffer *buf)
{
  BufferTimes bt;
  GateActions a;

  buffer_times (s, buf, &bt);
  for (;;) {
    guint gen;

    memset (&a, 0, sizeof a);
    g_mutex_lock (&self->lock);
    gen = g_atomic_int_get ((gint *)&self->fast_gen); /* before judging: see cache */
    if (s->flushing || self->stopping) {
      g_mutex_unlock (&self->lock);
      gst_buffer_unref (buf);
      return GST_FLOW_FLUSHING;
    }
    s->last_end = GST_CLOCK_TIME_IS_VALID (bt.end) ? bt.end : bt.start;
    if (!GST_CLOCK_TIME_IS_VALID (s->position) || bt.start > s->position) {
      s->position = bt.start;
      if (self->n_waiting)
        gate_changed (self);
    }
    stream_judge (self, s, &bt, buf, &a);
    stream_cache_verdict (self, s, &a, gen);
    a.cookie = self->cookie;
    g_mutex_unlock (&self->lock);

    gate_post_transition (self, g_steal_pointer (&a.msg));
    stream_push_events (s, &a);
    if (a.verdict != VERDICT_WAIT)
      break;
    g_mutex_lock (&self->lock);
    self->n_waiting++;
    gate_invalidate_fast (self); /* others must take the lock to wake us */
    while (self->cookie == a.cookie && !s->flushing && !self->stopping)
      g_cond_wait (&self->cond, &self->lock);
    self->n_waiting--;
    g_mutex_unlock (&self->lock);
  }

  if (a.verdict == VERDICT_DROP) {
    gst_buffer_unref (buf);
    return GST_FLOW_OK;
  }
  buf = stream_clip_audio (s, buf, &bt, a.clip_start, a.clip_end);
  if (!buf)
    return GST_FLOW_OK;
  if (a.discont) {
    buf = gst_buffer_make_writable (buf);
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
  }
  return gst_pad_push (s->srcpad, buf);
}

static GstFlowReturn
gst_consent_gate_chain (GstPad *pad, GstObject *parent, GstBuffer *buf)
{
  GstConsentGate *self = GST_CONSENT_GATE (parent);
  GateStream *s = gst_pad_get_element_private (pad);
  GstFlowReturn ret;

  if (G_UNLIKELY (g_atomic_int_get (&s->live) < 0))
    stream_query_live (self, s, TRUE);
  if (G_LIKELY (stream_fast_path (self, s, buf, &ret)))
    return ret;
  return stream_handle_buffer (self, s, buf);
}

/* ------------------------------------------------------------- sink events */

static gboolean
stream_set_caps (GstConsentGate *self, GateStream *s, GstCaps *caps)
{
  const GstStructure *st = gst_caps_get_structure (caps, 0);
  const char *name = gst_structure_get_name (st);
  GstAudioInfo info;
  StreamKind kind = STREAM_KIND_OTHER;
  GstMessage *msg = NULL;

  if (g_str_has_prefix (name, "video/") || g_str_has_prefix (name, "image/"))
    kind = STREAM_KIND_VIDEO;
  else if (g_str_equal (name, "audio/x-raw") && gst_audio_info_from_caps (&info, caps))
    kind = STREAM_KIND_RAW_AUDIO;
  else if (g_str_has_prefix (name, "audio/"))
    kind = STREAM_KIND_AUDIO;

  g_mutex_lock (&self->lock);
  s->kind = kind;
  if (kind == STREAM_KIND_RAW_AUDIO) {
    s->rate = GST_AUDIO_INFO_RATE (&info);
    s->bpf = GST_AUDIO_INFO_BPF (&info);
  }
  if (kind == STREAM_KIND_VIDEO && !s->cur)
    s->need_keyframe = TRUE;
  gate_open_without_video (self, &msg);
  gate_changed (self);
  g_mutex_unlock (&self->lock);
  gate_post_transition (self, msg);
  return TRUE;
}

static gboolean
stream_set_segment (GstConsentGate *self, GateStream *s, GstEvent *event)
{
  const GstSegment *seg;

  gst_event_parse_segment (event, &seg);
  if (seg->format != GST_FORMAT_TIME || seg->rate != 1.0) {
    GST_ELEMENT_ERROR (
        self, STREAM, FORMAT,
        ("consentgate needs TIME segments at rate 1.0 (got %s at rate %g on %s)",
         gst_format_get_name (seg->format), seg->rate, GST_PAD_NAME (s->sinkpad)),
        ("consent is judged by running time; put the gate after a decoder or "
         "parser that outputs TIME, and do not play it back at another rate"));
    return FALSE;
  }
  s->segment = *seg;
  return TRUE;
}

static void
stream_flush (GstConsentGate *self, GateStream *s, gboolean start)
{
  g_mutex_lock (&self->lock);
  s->flushing = start;
  if (!start) {
    s->eos = FALSE;
    s->position = GST_CLOCK_TIME_NONE;
    s->cur = 0;
    /* rejoin the open interval, if any, at its next keyframe */
    s->done_id = self->next_interval_id - (gate_is_open_ended (self) ? 1 : 0);
    s->need_keyframe = s->kind == STREAM_KIND_VIDEO;
    s->gap_sent = FALSE;
    gst_segment_init (&s->segment, GST_FORMAT_TIME);
  }
  gate_changed (self);
  g_mutex_unlock (&self->lock);
}

static void
stream_eos (GstConsentGate *self, GateStream *s)
{
  GateActions a = {0};

  g_mutex_lock (&self->lock);
  s->eos = TRUE;
  if (s->cur)
    stream_leave (self, s, &a, "eos");
  gate_open_without_video (self, &a.msg);
  gate_changed (self);
  g_mutex_unlock (&self->lock);

  gate_post_transition (self, g_steal_pointer (&a.msg));
  stream_push_events (s, &a);
}

static gboolean
gst_consent_gate_sink_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  GstConsentGate *self = GST_CONSENT_GATE (parent);
  GateStream *s = gst_pad_get_element_private (pad);

  switch (GST_EVENT_TYPE (event)) {
  case GST_EVENT_CAPS: {
    GstCaps *caps;
    gst_event_parse_caps (event, &caps);
    stream_set_caps (self, s, caps);
    break;
  }
  case GST_EVENT_SEGMENT:
    if (!stream_set_segment (self, s, event)) {
      gst_event_unref (event);
      return FALSE;
    }
    break;
  case GST_EVENT_FLUSH_START:
    stream_flush (self, s, TRUE);
    break;
  case GST_EVENT_FLUSH_STOP:
    stream_flush (self, s, FALSE);
    break;
  case GST_EVENT_EOS:
    stream_eos (self, s);
    break;
  case GST_EVENT_GAP:
    if (!g_atomic_int_get (&self->is_open)) { /* we make our own while closed */
      gst_event_unref (event);
      return TRUE;
    }
    break;
  default:
    break;
  }
  return gst_pad_push_event (s->srcpad, event);
}

static gboolean
gst_consent_gate_src_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  GateStream *s = gst_pad_get_element_private (pad);

  if (GST_EVENT_TYPE (event) == GST_EVENT_SEEK) {
    GST_DEBUG_OBJECT (parent, "refusing seek: a consent gate only moves forward");
    gst_event_unref (event);
    return FALSE;
  }
  return gst_pad_push_event (s->sinkpad, event);
}

static GstIterator *
gst_consent_gate_iterate_internal_links (GstPad *pad, GstObject *parent)
{
  GateStream *s = gst_pad_get_element_private (pad);
  GstPad *other = pad == s->sinkpad ? s->srcpad : s->sinkpad;
  g_auto (GValue) v = G_VALUE_INIT;
  GstIterator *it;

  (void)parent;
  g_value_init (&v, GST_TYPE_PAD);
  g_value_set_object (&v, other);
  it = gst_iterator_new_single (GST_TYPE_PAD, &v);
  return it;
}

/* ------------------------------------------------------------ request pads */

static GateStream *
gate_stream_new (GstConsentGate *self, guint index)
{
  GstElementClass *klass = GST_ELEMENT_GET_CLASS (self);
  GateStream *s = g_new0 (GateStream, 1);
  g_autofree char *sink_name = g_strdup_printf ("sink_%u", index);
  g_autofree char *src_name = g_strdup_printf ("src_%u", index);

  s->sinkpad = gst_pad_new_from_template (
      gst_element_class_get_pad_template (klass, "sink_%u"), sink_name);
  s->srcpad = gst_pad_new_from_template (
      gst_element_class_get_pad_template (klass, "src_%u"), src_name);
  gst_pad_set_chain_function (s->sinkpad, gst_consent_gate_chain);
  gst_pad_set_event_function (s->sinkpad, gst_consent_gate_sink_event);
  gst_pad_set_event_function (s->srcpad, gst_consent_gate_src_event);
  gst_pad_set_iterate_internal_links_function (s->sinkpad,
                                               gst_consent_gate_iterate_internal_links);
  gst_pad_set_iterate_internal_links_function (s->srcpad,
                                               gst_consent_gate_iterate_internal_links);
  GST_PAD_SET_PROXY_CAPS (s->sinkpad);
  GST_PAD_SET_PROXY_ALLOCATION (s->sinkpad);
  GST_PAD_SET_PROXY_SCHEDULING (s->sinkpad);
  GST_PAD_SET_PROXY_CAPS (s->srcpad);
  GST_PAD_SET_PROXY_SCHEDULING (s->srcpad);
  gst_pad_set_element_private (s->sinkpad, s);
  gst_pad_set_element_private (s->srcpad, s);
  gst_segment_init (&s->segment, GST_FORMAT_TIME);
  s->live = -1;
  s->position = GST_CLOCK_TIME_NONE;
  return s;
}

static guint
gate_pick_index (GstConsentGate *self, const char *name)
{
  guint index = 0;
  gboolean taken;

  if (name && sscanf (name, "sink_%u", &index) == 1)
    return index;
  do { /* the lowest free number */
    taken = FALSE;
    for (guint i = 0; i < self->streams->len; i++) {
      GateStream *s = g_ptr_array_index (self->streams, i);
      g_autofree char *n = g_strdup_printf ("sink_%u", index);
      if (g_str_equal (GST_PAD_NAME (s->sinkpad), n))
        taken = TRUE;
    }
  } while (taken && ++index);
  return index;
}

static GstPad *
gst_consent_gate_request_new_pad (GstElement *element, GstPadTemplate *templ,
                                  const char *name, const GstCaps *caps)
{
  GstConsentGate *self = GST_CONSENT_GATE (element);
  GateStream *s;
  guint index;

  (void)templ;
  (void)caps;
  g_mutex_lock (&self->lock);
  if (self->streams->len >= MAX_STREAMS) {
    g_mutex_unlock (&self->lock);
    GST_WARNING_OBJECT (self, "at most %d streams per gate", MAX_STREAMS);
    return NULL;
  }
  index = gate_pick_index (self, name);
  for (guint i = 0; i < self->streams->len; i++) {
    GateStream *other = g_ptr_array_index (self->streams, i);
    g_autofree char *n = g_strdup_printf ("sink_%u", index);
    if (g_str_equal (GST_PAD_NAME (other->sinkpad), n)) {
      g_mutex_unlock (&self->lock);
      GST_WARNING_OBJECT (self, "pad %s already exists", n);
      return NULL;
    }
  }
  s = gate_stream_new (self, index);
  s->need_keyframe = TRUE;
  s->done_id = self->next_interval_id; /* a new stream joins at the next opening */
  g_ptr_array_add (self->streams, s);
  g_mutex_unlock (&self->lock);

  gst_pad_set_active (s->srcpad, TRUE);
  gst_element_add_pad (element, s->srcpad);
  gst_element_add_pad (element, s->sinkpad);
  return s->sinkpad;
}

static void
gst_consent_gate_release_pad (GstElement *element, GstPad *pad)
{
  GstConsentGate *self = GST_CONSENT_GATE (element);
  GateStream *s = gst_pad_get_element_private (pad);

  if (!s || pad != s->sinkpad)
    return;
  g_mutex_lock (&self->lock);
  s->flushing = TRUE; /* wakes its streaming thread if it waits */
  g_ptr_array_remove (self->streams, s);
  gate_changed (self);
  g_mutex_unlock (&self->lock);

  gst_pad_set_active (s->sinkpad, FALSE); /* waits for the streaming thread */
  gst_pad_set_active (s->srcpad, FALSE);
  gst_pad_set_element_private (s->srcpad, NULL);
  gst_pad_set_element_private (s->sinkpad, NULL);
  gst_element_remove_pad (element, s->srcpad);
  gst_element_remove_pad (element, s->sinkpad);
  g_free (s);
}

/* ------------------------------------------------------------ state changes */

static void
gate_reset (GstConsentGate *self)
{
  g_mutex_lock (&self->lock);
  g_queue_clear_full (&self->intervals, (GDestroyNotify)gate_interval_free);
  self->armed = FALSE;
  self->out_end = 0;
  self->stopping = FALSE;
  g_clear_pointer (&self->decision, consent_gate_decision_unref);
  GST_OBJECT_LOCK (self);
  self->decision = consent_gate_decision_new_closed (
      self->meeting ? consent_meeting_get_id (self->meeting) : self->meeting_id,
      self->participant, 0, self->server && *self->server ? "no-source" : "initial");
  GST_OBJECT_UNLOCK (self);
  for (guint i = 0; i < self->streams->len; i++) {
    GateStream *s = g_ptr_array_index (self->streams, i);
    s->cur = s->done_id = 0;
    s->position = GST_CLOCK_TIME_NONE;
    s->out_end = 0;
    s->kind = STREAM_KIND_UNKNOWN;
    s->eos = s->flushing = s->gap_sent = FALSE;
    s->need_keyframe = TRUE;
    s->live = -1;
    s->offset = 0;
    gst_segment_init (&s->segment, GST_FORMAT_TIME);
  }
  g_atomic_int_set (&self->live, FALSE);
  g_atomic_int_set (&self->is_open, FALSE);
  gate_changed (self);
  g_mutex_unlock (&self->lock);
}

static void
gate_stop (GstConsentGate *self)
{
  g_mutex_lock (&self->lock);
  self->stopping = TRUE; /* wakes blocked streaming threads */
  gate_changed (self);
  g_mutex_unlock (&self->lock);
}

static GstStateChangeReturn
gst_consent_gate_change_state (GstElement *element, GstStateChange transition)
{
  GstConsentGate *self = GST_CONSENT_GATE (element);
  GstStateChangeReturn ret;

  switch (transition) {
  case GST_STATE_CHANGE_READY_TO_PAUSED:
    gate_reset (self);
    if (!gate_attach_source (self))
      return GST_STATE_CHANGE_FAILURE;
    break;
  case GST_STATE_CHANGE_PAUSED_TO_READY:
    gate_stop (self);
    break;
  default:
    break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);

  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    gate_detach_source (self);
    gate_reset (self);
  }
  return ret;
}

/* -------------------------------------------------------------- properties */

static void
gst_consent_gate_set_property (GObject *object, guint prop_id, const GValue *value,
                               GParamSpec *pspec)
{
  GstConsentGate *self = GST_CONSENT_GATE (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
  case PROP_SERVER:
    g_free (self->server);
    self->server = g_value_dup_string (value);
    break;
  case PROP_MEETING:
    g_free (self->meeting_id);
    self->meeting_id = g_value_dup_string (value);
    break;
  case PROP_TOKEN_FILE:
    g_free (self->token_file);
    self->token_file = g_value_dup_string (value);
    break;
  case PROP_CA_FILE:
    g_free (self->ca_file);
    self->ca_file = g_value_dup_string (value);
    break;
  case PROP_PARTICIPANT:
    g_free (self->participant);
    self->participant = g_value_dup_string (value);
    break;
  case PROP_MEETING_OBJECT:
    g_clear_object (&self->meeting);
    self->meeting = g_value_dup_object (value);
    break;
  case PROP_SOURCE_OBJECT:
    g_clear_object (&self->source_object);
    self->source_object = g_value_dup_object (value);
    break;
  case PROP_TIMELINE:
    g_atomic_int_set (&self->timeline, g_value_get_enum (value));
    gate_invalidate_fast (self); /* cached drops depend on it */
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_consent_gate_get_property (GObject *object, guint prop_id, GValue *value,
                               GParamSpec *pspec)
{
  GstConsentGate *self = GST_CONSENT_GATE (object);

  if (prop_id == PROP_IS_OPEN) {
    g_value_set_boolean (value, g_atomic_int_get (&self->is_open));
    return;
  }
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
  case PROP_SERVER:
    g_value_set_string (value, self->server);
    break;
  case PROP_MEETING:
    g_value_set_string (value, self->meeting_id);
    break;
  case PROP_TOKEN_FILE:
    g_value_set_string (value, self->token_file);
    break;
  case PROP_CA_FILE:
    g_value_set_string (value, self->ca_file);
    break;
  case PROP_PARTICIPANT:
    g_value_set_string (value, self->participant);
    break;
  case PROP_MEETING_OBJECT:
    g_value_set_object (value, self->meeting);
    break;
  case PROP_SOURCE_OBJECT:
    g_value_set_object (value, self->source_object);
    break;
  case PROP_TIMELINE:
    g_value_set_enum (value, g_atomic_int_get (&self->timeline));
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_consent_gate_finalize (GObject *object)
{
  GstConsentGate *self = GST_CONSENT_GATE (object);

  gate_detach_source (self);
  g_queue_clear_full (&self->intervals, (GDestroyNotify)gate_interval_free);
  g_clear_pointer (&self->decision, consent_gate_decision_unref);
  g_ptr_array_unref (self->streams); /* pads (and their streams) were released */
  g_free (self->server);
  g_free (self->meeting_id);
  g_free (self->token_file);
  g_free (self->ca_file);
  g_free (self->participant);
  g_clear_object (&self->meeting);
  g_clear_object (&self->source_object);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_consent_gate_dispose (GObject *object)
{
  GstConsentGate *self = GST_CONSENT_GATE (object);

  /* release request pads so their streams are freed */
  while (GST_ELEMENT (self)->sinkpads)
    gst_element_release_request_pad (GST_ELEMENT (self),
                                     GST_ELEMENT (self)->sinkpads->data);
  G_OBJECT_CLASS (parent_class)->dispose (object);
}

#define READY_STRING_FLAGS                                                               \
  (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)

static void
gst_consent_gate_install_properties (GObjectClass *oclass)
{
  props[PROP_SERVER] = g_param_spec_string (
      "server", "Server",
      "ws:// or wss:// URL of consentd. Takes precedence over meeting-object. "
      "Needs meeting and token-file: without a usable token file READY→PAUSED fails "
      "with an error; while consentd is unreachable the gate stays closed "
      "(reason \"disconnected\")",
      NULL, READY_STRING_FLAGS);
  props[PROP_MEETING] =
      g_param_spec_string ("meeting", "Meeting", "Meeting id at the consentd server",
                           NULL, READY_STRING_FLAGS);
  props[PROP_TOKEN_FILE] =
      g_param_spec_string ("token-file", "Token file",
                           "File holding the recorder token for the server (never put a "
                           "token on the command line)",
                           NULL, READY_STRING_FLAGS);
  props[PROP_CA_FILE] = g_param_spec_string (
      "ca-file", "CA file",
      "PEM file of the CA that signed the wss:// server's certificate", NULL,
      READY_STRING_FLAGS);
  props[PROP_PARTICIPANT] = g_param_spec_string (
      "participant", "Participant",
      "Follow only this participant's decision (a gate on their own stream, policy "
      "scope=participant); unset: follow the meeting-wide decision",
      NULL, READY_STRING_FLAGS);
  props[PROP_MEETING_OBJECT] =
      g_param_spec_object ("meeting-object", "Meeting object",
                           "An in-process ConsentMeeting to follow (embedding and "
                           "tests); used when server is unset",
                           CONSENT_TYPE_MEETING, READY_STRING_FLAGS);
  props[PROP_SOURCE_OBJECT] = g_param_spec_object (
      "source-object", "Source object",
      "A ConsentSource to follow (embedding and tests); used when server is unset, "
      "before meeting-object",
      CONSENT_TYPE_SOURCE, READY_STRING_FLAGS);
  props[PROP_TIMELINE] = g_param_spec_enum (
      "timeline", "Timeline", "What happens to the running time of closed intervals",
      GST_TYPE_CONSENT_GATE_TIMELINE, GST_CONSENT_GATE_TIMELINE_CONTINUOUS,
      READY_STRING_FLAGS);
  props[PROP_IS_OPEN] = g_param_spec_boolean (
      "is-open", "Is open",
      "Whether media currently passes (notifies on every open/close)", FALSE,
      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (oclass, N_PROPS, props);
}

static void
gst_consent_gate_class_init (GstConsentGateClass *klass)
{
  GObjectClass *oclass = G_OBJECT_CLASS (klass);
  GstElementClass *eclass = GST_ELEMENT_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (consent_gate_debug, "consentgate", 0,
                           "recording consent gate");
  oclass->set_property = gst_consent_gate_set_property;
  oclass->get_property = gst_consent_gate_get_property;
  oclass->dispose = gst_consent_gate_dispose;
  oclass->finalize = gst_consent_gate_finalize;
  gst_consent_gate_install_properties (oclass);

  gst_element_class_add_static_pad_template (eclass, &sink_template);
  gst_element_class_add_static_pad_template (eclass, &src_template);
  gst_element_class_set_static_metadata (
      eclass, "Recording consent gate", "Filter",
      "Passes media only while everyone present has consented to recording; "
      "posts and sends \"consent-gate\" on every open and close",
      "consentgate project");
  eclass->request_new_pad = GST_DEBUG_FUNCPTR (gst_consent_gate_request_new_pad);
  eclass->release_pad = GST_DEBUG_FUNCPTR (gst_consent_gate_release_pad);
  eclass->change_state = GST_DEBUG_FUNCPTR (gst_consent_gate_change_state);
  gst_type_mark_as_plugin_api (GST_TYPE_CONSENT_GATE_TIMELINE, 0);
}

static void
gst_consent_gate_init (GstConsentGate *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->intervals);
  self->streams = g_ptr_array_new ();
  g_atomic_int_set (&self->timeline, GST_CONSENT_GATE_TIMELINE_CONTINUOUS);
}
