/* feed.c — one subscribe connection and its decode branches (see feed.h). */
#include "feed.h"

#include <gst/webrtc/webrtc.h>

#include "playout.h"

#define LOG_DOMAIN "testimony-feed"
#define TM_FEED_REPORT_INTERVAL GST_SECOND
#define TM_FEED_TWCC_INTERVAL (100 * GST_MSECOND)
#define TM_FEED_TWCC_CAPS                                                                          \
  "extmap-3=(string)http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01,"    \
  "rtcp-fb-transport-cc=(boolean)true"

struct _TmFeed {
  gchar *id;
  gchar *label; /* the tile's caption, escaped for Pango markup */
  gchar *role;  /* the remote's role (the kiosk's layout) */
  TmAnalysis *analysis;
  TmDisplay *display; /* borrowed, NULL when headless */
  GstElement *bin;    /* ref held */
  GstElement *webrtc; /* inside bin */
  GMutex lock;
  GPtrArray *display_pads;  /* compositor/mixer pads in use, refs, under lock */
  GstElement *rtpbin;       /* webrtcbin's, ref held */
  GPtrArray *jitterbuffers; /* refs, under lock */
  GPtrArray *analysed;      /* the decode branches' pads the analysis watches, refs, under lock */
  TmPlayout playout;
  guint playout_timer;
  TmRepair repair;   /* the relay's `repair` for this feed (main thread) */
  gboolean answered; /* the relay's answer has been read for AUDIO_SSRC (main thread) */
  guint audio_ssrc;  /* the relay's audio SSRC in it (a=ssrc), 0 if none */
};

static gchar *
bin_name(const gchar *id)
{
  GString *name = g_string_new("feed-");

  for (const gchar *p = id; *p != '\0' && name->len < 64; p++)
    g_string_append_c(name, g_ascii_isalnum(*p) || *p == '-' || *p == '_' ? *p : '_');
  return g_string_free(name, FALSE);
}

static void
add_transceiver(GstElement *webrtc, const gchar *caps_text, gboolean nack)
{
  g_autoptr(GstCaps) caps = gst_caps_from_string(caps_text);
  GstWebRTCRTPTransceiver *transceiver = NULL;

  g_signal_emit_by_name(webrtc, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY,
                        caps, &transceiver);
  if (transceiver == NULL) {
    g_log(LOG_DOMAIN, G_LOG_LEVEL_WARNING, "webrtcbin refused a transceiver for %s", caps_text);
    return;
  }
  if (nack)
    g_object_set(transceiver, "do-nack", TRUE, NULL);
  gst_object_unref(transceiver);
}

/* Makes FACTORIES[i] (NULL-terminated), adds them to BIN and links them in a chain. Returns
 * the elements (g_free the array) or NULL. */
static GstElement **
build_chain(GstBin *bin, const gchar *const *factories)
{
  guint n = g_strv_length((gchar **) factories);
  g_autofree GstElement **elements = g_new0(GstElement *, n + 1);

  for (guint i = 0; i < n; i++) {
    elements[i] = gst_element_factory_make(factories[i], NULL);
    if (elements[i] == NULL) {
      g_log(LOG_DOMAIN, G_LOG_LEVEL_WARNING, "the GStreamer element \"%s\" is missing",
            factories[i]);
      for (guint j = 0; j < i; j++)
        gst_object_unref(elements[j]);
      return NULL;
    }
  }
  for (guint i = 0; i < n; i++)
    gst_bin_add(bin, elements[i]);
  for (guint i = 0; i + 1 < n; i++) {
    if (!gst_element_link(elements[i], elements[i + 1])) {
      g_log(LOG_DOMAIN, G_LOG_LEVEL_WARNING, "cannot link %s to %s", factories[i],
            factories[i + 1]);
      return NULL;
    }
  }
  return g_steal_pointer(&elements);
}

/* Exposes SRC (the branch's last element's src pad) on the feed bin and links it to a display
 * pad; keeps the display pad for tm_feed_remove(). */
static gboolean
link_display(TmFeed *feed, GstPad *src, GstPad *display_pad)
{
  GstPad *ghost;

  if (display_pad == NULL)
    return FALSE;
  ghost = gst_ghost_pad_new(NULL, src);
  gst_pad_set_active(ghost, TRUE);
  gst_element_add_pad(feed->bin, ghost);
  g_mutex_lock(&feed->lock);
  g_ptr_array_add(feed->display_pads, display_pad);
  g_mutex_unlock(&feed->lock);
  if (gst_pad_link(ghost, display_pad) != GST_PAD_LINK_OK) {
    g_log(LOG_DOMAIN, G_LOG_LEVEL_WARNING, "cannot link a feed to the display");
    return FALSE;
  }
  return TRUE;
}

static const gchar *const video_decode[] = { "queue",        "rtpvp8depay", "vp8dec",
                                             "videoconvert", "capsfilter",  NULL };
static const gchar *const audio_decode[] = {
  "queue", "rtpopusdepay", "opusdec", "audioconvert", "audioresample", "capsfilter", NULL
};
static const gchar *const video_show[] = { "queue", "textoverlay", "videoconvert", NULL };
static const gchar *const audio_play[] = { "queue", "audioconvert", NULL };
static const gchar *const discard[] = { "fakesink", NULL };

/* Builds decode ! analysis ! (fakesink | display) for one webrtcbin src pad. Returns the
 * elements to start, in a GPtrArray (sinks first). */
static GPtrArray *
build_branch(TmFeed *feed, gboolean video)
{
  GstBin *bin = GST_BIN(feed->bin);
  g_autofree GstElement **decode = build_chain(bin, video ? video_decode : audio_decode);
  g_autofree GstElement **tail = NULL;
  GPtrArray *started = g_ptr_array_new();
  guint n_decode = g_strv_length((gchar **) (video ? video_decode : audio_decode));
  GstElement *last;
  g_autoptr(GstPad) analysed = NULL;
  g_autoptr(GstCaps) caps = NULL;

  if (decode == NULL)
    return started;
  last = decode[n_decode - 1];
  if (video) {
    caps = gst_caps_from_string("video/x-raw,format=RGBx");
    /* ask for a keyframe (PLI) at once rather than waiting up to keyframe-max-dist for one,
     * and after loss; one libvpx thread (its workers spin while waiting) */
    g_object_set(decode[1], "request-keyframe", TRUE, "wait-for-keyframe", TRUE, NULL);
    g_object_set(decode[2], "threads", 1u, NULL);
  } else {
    caps = gst_caps_from_string("audio/x-raw,format=F32LE,layout=interleaved,channels=1");
    g_object_set(decode[2], "use-inband-fec", TRUE, "plc", TRUE, NULL);
  }
  g_object_set(last, "caps", caps, NULL);
  analysed = gst_element_get_static_pad(last, "src");
  g_mutex_lock(&feed->lock);
  g_ptr_array_add(feed->analysed, gst_object_ref(analysed));
  g_mutex_unlock(&feed->lock);
  if (video)
    tm_analysis_watch_video(feed->analysis, analysed);
  else
    tm_analysis_watch_audio(feed->analysis, analysed);

  tail = build_chain(bin, feed->display == NULL ? discard : video ? video_show : audio_play);
  if (tail == NULL)
    return started;
  if (feed->display == NULL) {
    g_object_set(tail[0], "sync", FALSE, "async", FALSE, NULL);
    g_ptr_array_add(started, tail[0]);
  } else {
    GstElement *tail_last = video ? tail[2] : tail[1];
    g_autoptr(GstPad) src = gst_element_get_static_pad(tail_last, "src");
    g_object_set(tail[0], "max-size-buffers", 0, "max-size-bytes", 0, "max-size-time",
                 (guint64) 200 * GST_MSECOND, NULL);
    if (video) {
      g_object_set(tail[1], "text", feed->label, "font-desc", "Sans 20", "shaded-background", TRUE,
                   NULL);
      gst_util_set_object_arg(G_OBJECT(tail[1]), "valignment", "bottom");
      gst_util_set_object_arg(G_OBJECT(tail[1]), "halignment", "left");
    }
    link_display(feed, src,
                 video ? tm_display_add_video(feed->display, feed->role)
                       : tm_display_add_audio(feed->display));
    for (gint i = video ? 2 : 1; i >= 0; i--)
      g_ptr_array_add(started, tail[i]);
  }
  gst_element_link(last, tail[0]);
  for (gint i = (gint) n_decode - 1; i >= 0; i--)
    g_ptr_array_add(started, decode[i]);
  return started;
}

static void
on_pad_added(GstElement *webrtc, GstPad *pad, gpointer user_data)
{
  TmFeed *feed = user_data;
  g_autoptr(GstCaps) caps = NULL;
  const gchar *media = NULL;
  g_autoptr(GPtrArray) started = NULL;
  GstElement *first;
  g_autoptr(GstPad) sink = NULL;

  if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC)
    return;
  caps = gst_pad_get_current_caps(pad);
  if (caps == NULL)
    caps = gst_pad_query_caps(pad, NULL);
  if (caps != NULL && gst_caps_get_size(caps) > 0)
    media = gst_structure_get_string(gst_caps_get_structure(caps, 0), "media");
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "feed %s: new %s pad %s", feed->id,
        media != NULL ? media : "unknown", GST_PAD_NAME(pad));

  if (g_strcmp0(media, "video") == 0 || g_strcmp0(media, "audio") == 0) {
    started = build_branch(feed, g_strcmp0(media, "video") == 0);
  } else {
    started = g_ptr_array_new();
    g_ptr_array_add(started, gst_element_factory_make("fakesink", NULL));
    gst_bin_add(GST_BIN(feed->bin), g_ptr_array_index(started, 0));
  }
  if (started->len == 0) {
    g_log(LOG_DOMAIN, G_LOG_LEVEL_WARNING, "feed %s: cannot decode its %s", feed->id,
          media != NULL ? media : "stream");
    return;
  }
  first = g_ptr_array_index(started, started->len - 1);
  sink = gst_element_get_static_pad(first, "sink");
  for (guint i = 0; i < started->len; i++)
    gst_element_sync_state_with_parent(g_ptr_array_index(started, i));
  if (gst_pad_link(pad, sink) != GST_PAD_LINK_OK)
    g_log(LOG_DOMAIN, G_LOG_LEVEL_WARNING, "feed %s: cannot link its %s pad", feed->id,
          media != NULL ? media : "unknown");
}

/* The SSRC the relay announced for its audio in its answer (a=ssrc; 0: none), into *SSRC once
 * the answer is there; FALSE before. */
static gboolean
announced_audio_ssrc(GstElement *webrtc, guint *out)
{
  GstWebRTCSessionDescription *desc = NULL;
  guint ssrc = 0;

  g_object_get(webrtc, "current-remote-description", &desc, NULL);
  if (desc == NULL)
    return FALSE;
  for (guint i = 0; ssrc == 0 && i < gst_sdp_message_medias_len(desc->sdp); i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media(desc->sdp, i);
    const gchar *line = gst_sdp_media_get_attribute_val(media, "ssrc");
    if (g_strcmp0(gst_sdp_media_get_media(media), "audio") == 0 && line != NULL)
      ssrc = (guint) g_ascii_strtoull(line, NULL, 10);
  }
  gst_webrtc_session_description_free(desc);
  *out = ssrc;
  return TRUE;
}

/* The audio jitter buffer asks for no retransmissions. webrtcbin 1.22 switches them on for
 * every stream of a bundle when one transceiver has do-nack: across a lossy link the witness's
 * client sent about 100 NACKs a second for audio the relay keeps no copies of
 * (docs/poor-networks.md). Returns whether JITTERBUFFER still asks for them. */
static gboolean
audio_without_nack(TmFeed *feed, GstElement *jitterbuffer)
{
  guint ssrc = GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(jitterbuffer), "tm-ssrc"));
  gboolean on = FALSE;

  g_object_get(jitterbuffer, "do-retransmission", &on, NULL);
  if (!on || ssrc == 0)
    return on;
  /* read once: a feed's answer does not change (it was copied each second per video stream) */
  if (!feed->answered)
    feed->answered = announced_audio_ssrc(feed->webrtc, &feed->audio_ssrc);
  if (feed->answered && ssrc == feed->audio_ssrc) {
    g_object_set(jitterbuffer, "do-retransmission", FALSE, NULL);
    g_log(LOG_DOMAIN, G_LOG_LEVEL_INFO, "feed %s: no retransmissions asked for its audio",
          feed->id);
    return FALSE;
  }
  return TRUE;
}

/* The retry wait RETRY_MS (playout.h; 0: its own) on JITTERBUFFER, which asks for
 * retransmissions (video), when the wait changed. */
static void
set_retry(TmFeed *feed, GstElement *jitterbuffer, guint retry_ms)
{
  gint now = -1;
  gint want = retry_ms > 0 ? (gint) retry_ms : -1;
  g_object_get(jitterbuffer, "rtx-retry-timeout", &now, NULL);
  if (now == want)
    return;
  g_object_set(jitterbuffer, "rtx-retry-timeout", want, NULL);
  g_log(LOG_DOMAIN, G_LOG_LEVEL_INFO, "feed %s: retransmissions asked again after %u ms", feed->id,
        retry_ms);
}

/* rtpbin's streaming thread: a jitter buffer for a new stream of the feed. */
static void
on_new_jitterbuffer(GstElement *rtpbin, GstElement *jitterbuffer, guint session, guint ssrc,
                    gpointer user_data)
{
  TmFeed *feed = user_data;

  GObject *rtp_session = NULL;

  /* Receiver reports once a second rather than every 2.5-7.5 s (RFC 3550's 5 s minimum,
   * rtpsession's default): the relay's estimate of what this client's link takes, and its
   * round trip, come from them (docs/poor-networks.md). */
  g_signal_emit_by_name(rtpbin, "get-internal-session", session, &rtp_session);
  if (rtp_session != NULL) {
    g_object_set(rtp_session, "rtcp-min-interval", (guint64) TM_FEED_REPORT_INTERVAL,
                 "twcc-feedback-interval", (guint64) TM_FEED_TWCC_INTERVAL, NULL);
    g_object_unref(rtp_session);
  }
  g_object_set_data(G_OBJECT(jitterbuffer), "tm-ssrc", GUINT_TO_POINTER(ssrc));
  g_mutex_lock(&feed->lock);
  g_ptr_array_add(feed->jitterbuffers, gst_object_ref(jitterbuffer));
  g_mutex_unlock(&feed->lock);
}

/* Once a second: the packets that came after their jitter buffer gave up on them set how long
 * the feed's jitter buffers wait (playout.h). */
static gboolean
playout_tick(gpointer user_data)
{
  TmFeed *feed = user_data;
  TmPlayoutStats counted = { 0 };
  GstClockTime latency = 0;
  g_autoptr(GPtrArray) pads = g_ptr_array_new_with_free_func(gst_object_unref);

  counted.repair = feed->repair;
  guint retry_ms = tm_playout_retry_ms(&counted);
  g_mutex_lock(&feed->lock);
  for (guint i = 0; i < feed->analysed->len; i++)
    g_ptr_array_add(pads, gst_object_ref(g_ptr_array_index(feed->analysed, i)));
  for (guint i = 0; i < feed->jitterbuffers->len; i++) {
    g_autoptr(GstStructure) stats = NULL;
    guint64 late = 0, requests = 0, rtt_ns = 0;
    if (audio_without_nack(feed, g_ptr_array_index(feed->jitterbuffers, i)))
      set_retry(feed, g_ptr_array_index(feed->jitterbuffers, i), retry_ms);
    g_object_get(g_ptr_array_index(feed->jitterbuffers, i), "stats", &stats, NULL);
    if (stats == NULL)
      continue;
    if (gst_structure_get_uint64(stats, "num-late", &late))
      counted.late += late;
    if (gst_structure_get_uint64(stats, "rtx-count", &requests))
      counted.rtx_requests += requests;
    if (gst_structure_get_uint64(stats, "rtx-rtt", &rtt_ns))
      counted.rtx_rtt_ms = MAX(counted.rtx_rtt_ms, (guint) MIN(rtt_ns / GST_MSECOND, 10000));
  }
  g_mutex_unlock(&feed->lock);
  /* the streams' latency up to the analysis (jitter buffer, decoder), queried outside the lock */
  for (guint i = 0; i < pads->len; i++) {
    g_autoptr(GstQuery) query = gst_query_new_latency();
    GstClockTime min = 0;
    if (gst_pad_query(g_ptr_array_index(pads, i), query)) {
      gst_query_parse_latency(query, NULL, &min, NULL);
      if (GST_CLOCK_TIME_IS_VALID(min))
        latency = MAX(latency, min);
    }
  }
  if (latency > 0)
    tm_analysis_set_latency(feed->analysis, latency);
  if (tm_playout_update(&feed->playout, &counted, g_get_monotonic_time())) {
    g_log(
      LOG_DOMAIN, G_LOG_LEVEL_INFO,
      "feed %s: jitter buffers wait %u ms (%" G_GUINT64_FORMAT " late packets, %" G_GUINT64_FORMAT
      " retransmissions asked for so far, their round trip %u ms)",
      feed->id, feed->playout.latency_ms, counted.late, counted.rtx_requests, counted.rtx_rtt_ms);
    g_object_set(feed->webrtc, "latency", feed->playout.latency_ms, NULL);
  }
  return G_SOURCE_CONTINUE;
}

TmFeed *
tm_feed_new(const gchar *id, const gchar *label, const gchar *role, TmAnalysis *analysis,
            TmDisplay *display, GstElement *webrtc)
{
  TmFeed *feed = g_new0(TmFeed, 1);
  g_autofree gchar *name = bin_name(id);

  feed->id = g_strdup(id);
  feed->label = g_markup_escape_text(label, -1); /* textoverlay reads Pango markup */
  feed->role = g_strdup(role);
  feed->analysis = tm_analysis_ref(analysis);
  feed->display = display;
  g_mutex_init(&feed->lock);
  feed->display_pads = g_ptr_array_new();
  feed->bin = gst_object_ref_sink(gst_bin_new(name));
  feed->webrtc = webrtc;
  gst_bin_add(GST_BIN(feed->bin), webrtc);
  /* Opus/48000/2 as RFC 7587 wants it (and the relay checks); useinbandfec=1 asks the sender
   * for in-band FEC. Both ask for transport-cc: the relay numbers what it sends us and our
   * RTP session reports when each packet came, from which the relay sees a queue grow on our
   * link before it loses packets (docs/poor-networks.md). */
  add_transceiver(webrtc,
                  "application/x-rtp,media=audio,encoding-name=OPUS,"
                  "clock-rate=48000,payload=111,encoding-params=(string)2,"
                  "useinbandfec=(string)1," TM_FEED_TWCC_CAPS,
                  FALSE);
  add_transceiver(webrtc,
                  "application/x-rtp,media=video,encoding-name=VP8,"
                  "clock-rate=90000,payload=96," TM_FEED_TWCC_CAPS,
                  TRUE);
  g_signal_connect(webrtc, "pad-added", G_CALLBACK(on_pad_added), feed);
  feed->jitterbuffers = g_ptr_array_new_with_free_func(gst_object_unref);
  feed->analysed = g_ptr_array_new_with_free_func(gst_object_unref);
  feed->rtpbin = gst_bin_get_by_name(GST_BIN(webrtc), "rtpbin");
  if (feed->rtpbin != NULL)
    g_signal_connect(feed->rtpbin, "new-jitterbuffer", G_CALLBACK(on_new_jitterbuffer), feed);
  tm_playout_init(&feed->playout, g_get_monotonic_time());
  g_object_set(webrtc, "latency", feed->playout.latency_ms, NULL);
  feed->playout_timer = g_timeout_add_seconds(1, playout_tick, feed);
  return feed;
}

void
tm_feed_set_repair(TmFeed *feed, const TmRepair *repair)
{
  gboolean first = (feed->repair.rtt_ms == 0 && repair->rtt_ms > 0) ||
    (feed->repair.own_rtt_ms == 0 && repair->own_rtt_ms > 0);

  feed->repair = *repair;
  if (first) /* at once: the first lost packets come in the first seconds */
    playout_tick(feed);
}

const gchar *
tm_feed_get_id(TmFeed *feed)
{
  return feed->id;
}

GstElement *
tm_feed_get_bin(TmFeed *feed)
{
  return feed->bin;
}

GstElement *
tm_feed_get_webrtc(TmFeed *feed)
{
  return feed->webrtc;
}

void
tm_feed_remove(TmFeed *feed, GstBin *pipeline)
{
  g_autoptr(GPtrArray) pads = NULL;

  /* NULL state joins the streaming threads: no pad-added handler runs after this. */
  gst_element_set_locked_state(feed->bin, TRUE);
  gst_element_set_state(feed->bin, GST_STATE_NULL);
  g_signal_handlers_disconnect_by_data(feed->webrtc, feed);
  if (feed->rtpbin != NULL)
    g_signal_handlers_disconnect_by_data(feed->rtpbin, feed);
  g_mutex_lock(&feed->lock);
  pads = g_steal_pointer(&feed->display_pads);
  feed->display_pads = g_ptr_array_new();
  g_mutex_unlock(&feed->lock);
  for (guint i = 0; i < pads->len; i++)
    tm_display_release(feed->display, g_ptr_array_index(pads, i));
  gst_bin_remove(pipeline, feed->bin);
  tm_feed_free(feed);
}

void
tm_feed_free(TmFeed *feed)
{
  if (feed == NULL)
    return;
  g_signal_handlers_disconnect_by_data(feed->webrtc, feed);
  if (feed->rtpbin != NULL)
    g_signal_handlers_disconnect_by_data(feed->rtpbin, feed);
  g_clear_handle_id(&feed->playout_timer, g_source_remove);
  gst_element_set_state(feed->bin, GST_STATE_NULL);
  g_ptr_array_unref(feed->jitterbuffers);
  g_ptr_array_unref(feed->analysed);
  gst_clear_object(&feed->rtpbin);
  if (feed->display != NULL) {
    for (guint i = 0; i < feed->display_pads->len; i++)
      gst_object_unref(g_ptr_array_index(feed->display_pads, i));
  }
  g_ptr_array_unref(feed->display_pads);
  gst_object_unref(feed->bin);
  tm_analysis_unref(feed->analysis);
  g_mutex_clear(&feed->lock);
  g_free(feed->label);
  g_free(feed->role);
  g_free(feed->id);
  g_free(feed);
}
