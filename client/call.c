/* call.c — the media pipelines and WebRTC negotiation (see call.h).
 *
 * Two pipelines: "publish" (capture, encode, publish webrtcbin) and "receive" (one bin per
 * feed, the display). webrtcbin's send path holds each buffer until its running time plus
 * the pipeline latency (a clocksync); in one shared pipeline that latency would include the
 * receive jitterbuffers (200 ms) and every picture we send would wait for it. */
#include "call.h"

#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <nice/agent.h>
#include <stdatomic.h>
#include <string.h>

#include "bitrate.h"
#include "display.h"
#include "feed.h"

#define LOG_DOMAIN "testimony-session"
#define PUBLISH "publish"

/* The quark's name is taken as written. */
/* clang-format off */
G_DEFINE_QUARK(tm-call-error-quark, tm_call_error)
/* clang-format on */

/* Lets callbacks queued from GStreamer threads find out, on the main thread, whether the
 * call still exists. */
typedef struct {
  TmCall *call;          /* NULL once freed; main thread only */
  GMainContext *context; /* ref; immutable */
} Anchor;

/* One WebRTC connection as seen from webrtcbin's threads: the user data of its signals. */
typedef struct {
  Anchor *anchor; /* ref */
  gchar *target;
  gint offered;   /* atomic: the offer was made (no renegotiation) */
  guint serial;   /* of its webrtcbin: events of a replaced one are dropped */
  gboolean ended; /* main thread: end-of-candidates sent */
} Target;

struct _TmCall {
  TmCallListener listener;
  gpointer user_data;
  Anchor *anchor;               /* ref */
  GstElement *publish_pipeline; /* capture, encode, publish webrtcbin */
  GstElement *pipeline;         /* receive: feeds and display */
  GstElement *media;            /* the profile's encode chains */
  GstElement *publish;          /* webrtcbin */
  TmDisplay *display;           /* NULL when headless */
  GHashTable *feeds;            /* id -> TmFeed* */
  GStrv media_addresses;        /* local addresses ICE may use; NULL: all interfaces */
  gboolean failed;              /* listener.failed called */
  gchar *publish_description;   /* to build the publish connection again */
  GstElement *encoder;          /* the profile's video encoder (target-bitrate), or NULL */
  GstElement *size_filter;      /* the capsfilter before it that sets the picture's size, or NULL */
  gint full_width, full_height; /* the size the profile asks for */
  _Atomic gint64 video_bytes;   /* the encoder's output so far (its streaming thread adds) */
  gint64 video_bytes_at, video_bytes_at_us; /* at the last estimate */
  TmBitrate bitrate;                        /* its target, following the relay's REMB */
  guint serial;                             /* of the last webrtcbin made */
  GThread *warmup;       /* generating the DTLS certificate (warm_dtls); joined when freed */
  GStrv turn_servers;    /* "turn(s)://USER:PASS@HOST:PORT?..." for webrtcbin, or NULL */
  gboolean publish_turn; /* the publish webrtcbin was made with turn_servers */
};

typedef enum {
  EVENT_OFFER,
  EVENT_CANDIDATE,
  EVENT_GATHERED,
  EVENT_STATE,
  EVENT_ERROR,
  EVENT_REMB, /* number: the relay's estimate, kbit/s */
} EventKind;

typedef struct {
  Target *target; /* ref */
  EventKind kind;
  gchar *text;
  guint number;
} Event;

static void feed_failed(TmCall *call, const gchar *feed, const gchar *why);
static void post_event(Target *t, EventKind kind, gchar *text, guint number);

static void
anchor_clear(gpointer data)
{
  Anchor *anchor = data;

  g_main_context_unref(anchor->context);
}

static void
anchor_unref(Anchor *anchor)
{
  g_atomic_rc_box_release_full(anchor, anchor_clear);
}

static Target *
target_new(Anchor *anchor, const gchar *target)
{
  Target *t = g_atomic_rc_box_new0(Target);

  t->anchor = g_atomic_rc_box_acquire(anchor);
  t->target = g_strdup(target);
  return t;
}

static Target *
target_ref(Target *t)
{
  return g_atomic_rc_box_acquire(t);
}

static void
target_clear(gpointer data)
{
  Target *t = data;

  anchor_unref(t->anchor);
  g_free(t->target);
}

static void
target_unref(gpointer data)
{
  g_atomic_rc_box_release_full(data, target_clear);
}

static void
target_closure_free(gpointer data, GClosure *closure)
{
  target_unref(data);
}

/* ---- events from GStreamer threads to the main context ---- */

static void
event_free(gpointer data)
{
  Event *event = data;

  target_unref(event->target);
  g_free(event->text);
  g_free(event);
}

static GstElement *
webrtc_for(TmCall *call, const gchar *target)
{
  TmFeed *feed;

  if (g_strcmp0(target, PUBLISH) == 0)
    return call->publish;
  feed = g_hash_table_lookup(call->feeds, target);
  return feed != NULL ? tm_feed_get_webrtc(feed) : NULL;
}

static void
connection_failed(TmCall *call, const gchar *target, const gchar *why)
{
  if (g_strcmp0(target, PUBLISH) == 0) {
    if (call->listener.publish_failed != NULL) {
      call->listener.publish_failed(call->user_data, why);
    } else if (!call->failed) {
      call->failed = TRUE;
      call->listener.failed(call->user_data, why);
    }
  } else {
    feed_failed(call, target, why);
  }
}

/* ---- the relay's bandwidth estimate (REMB) drives the video encoder ---- */

/* RTCP feedback on the publish connection's RTP session (its RTCP thread). */
static void
on_feedback_rtcp(GObject *session, guint type, guint fbtype, guint sender_ssrc, guint media_ssrc,
                 GstBuffer *fci, gpointer user_data)
{
  GstMapInfo map;
  guint64 bps = 0;
  gboolean remb;

  if (type != 206 || fbtype != 15 || fci == NULL || !gst_buffer_map(fci, &map, GST_MAP_READ))
    return; /* only payload-specific, application layer: REMB */
  remb = tm_bitrate_parse_remb(map.data, map.size, &bps);
  gst_buffer_unmap(fci, &map);
  if (remb)
    post_event(user_data, EVENT_REMB, NULL, (guint) MIN(bps / 1000, G_MAXUINT));
}

/* Once the publish connection is up: listen to the relay's feedback on its RTP session. */
static void
watch_feedback(TmCall *call, Target *t)
{
  g_autoptr(GstElement) rtpbin = gst_bin_get_by_name(GST_BIN(call->publish), "rtpbin");
  GObject *session = NULL;

  if (rtpbin == NULL || call->encoder == NULL ||
      g_object_get_data(G_OBJECT(call->publish), "tm-feedback") != NULL)
    return;
  g_signal_emit_by_name(rtpbin, "get-internal-session", 0, &session);
  if (session == NULL)
    return;
  g_signal_connect_data(session, "on-feedback-rtcp", G_CALLBACK(on_feedback_rtcp), target_ref(t),
                        target_closure_free, 0);
  g_object_set_data(G_OBJECT(call->publish), "tm-feedback", session);
  g_object_unref(session);
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG,
        "video bitrate follows the relay's estimate (at most "
        "%u kbit/s; %u kbit/s of it for the sound)",
        call->bitrate.max_bps / 1000, call->bitrate.reserved_bps / 1000);
}

/* The capsfilter right before the encoder, when it gives the picture's width and height (as the
 * profiles do): the client makes the picture smaller through it when the bitrate is low. */
static void
find_size_filter(TmCall *call)
{
  g_autoptr(GstPad) sink = gst_element_get_static_pad(call->encoder, "sink");
  g_autoptr(GstPad) peer = sink != NULL ? gst_pad_get_peer(sink) : NULL;
  g_autoptr(GstElement) filter = peer != NULL ? gst_pad_get_parent_element(peer) : NULL;
  g_autoptr(GstCaps) caps = NULL;
  GstStructure *st;

  call->size_filter = NULL;
  if (filter == NULL || gst_element_get_factory(filter) == NULL ||
      g_strcmp0(GST_OBJECT_NAME(gst_element_get_factory(filter)), "capsfilter") != 0)
    return;
  g_object_get(filter, "caps", &caps, NULL);
  if (caps == NULL || gst_caps_get_size(caps) != 1)
    return;
  st = gst_caps_get_structure(caps, 0);
  if (!gst_structure_get_int(st, "width", &call->full_width) ||
      !gst_structure_get_int(st, "height", &call->full_height))
    return;
  call->size_filter = filter; /* owned by the bin */
}

/* The capture size for the bitrate's picture size (TmBitrate.quarters). */
static void
apply_size(TmCall *call)
{
  g_autoptr(GstCaps) caps = NULL;
  gint width = tm_bitrate_scaled(call->full_width, call->bitrate.quarters);
  gint height = tm_bitrate_scaled(call->full_height, call->bitrate.quarters);

  g_object_get(call->size_filter, "caps", &caps, NULL);
  if (caps == NULL)
    return;
  caps = gst_caps_make_writable(caps);
  gst_caps_set_simple(caps, "width", G_TYPE_INT, width, "height", G_TYPE_INT, height, NULL);
  g_object_set(call->size_filter, "caps", caps, NULL);
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "video at %u kbit/s: the picture is %dx%d",
        call->bitrate.target_bps / 1000, width, height);
}

/* The encoder's streaming thread: counts what it produces. */
static GstPadProbeReturn
count_video(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  TmCall *call = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);

  if (buffer != NULL)
    atomic_fetch_add(&call->video_bytes, (gint64) gst_buffer_get_size(buffer));
  return GST_PAD_PROBE_OK;
}

/* The encoder's bitrate since the last call, bit/s. */
static guint64
video_sent_bps(TmCall *call, gint64 now)
{
  gint64 bytes = atomic_load(&call->video_bytes);
  gint64 elapsed = now - call->video_bytes_at_us;
  guint64 bps = elapsed > 0 && call->video_bytes_at_us > 0
    ? (guint64) ((bytes - call->video_bytes_at) * 8 * G_USEC_PER_SEC / elapsed)
    : 0;

  call->video_bytes_at = bytes;
  call->video_bytes_at_us = now;
  return bps;
}

static void
apply_estimate(TmCall *call, guint kbps)
{
  gint64 now = g_get_monotonic_time();
  guint64 sent;

  if (call->encoder == NULL)
    return;
  sent = video_sent_bps(call, now);
  if (tm_bitrate_estimate(&call->bitrate, (guint64) kbps * 1000, now)) {
    g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "the relay estimates %u kbit/s: video at %u kbit/s", kbps,
          call->bitrate.target_bps / 1000);
    g_object_set(call->encoder, "target-bitrate", (gint) call->bitrate.target_bps, NULL);
  }
  if (call->size_filter != NULL && tm_bitrate_scale(&call->bitrate, sent, now))
    apply_size(call);
}

static void
handle_state(TmCall *call, Target *t, guint state)
{
  g_autofree gchar *why = NULL;
  GEnumClass *klass = g_type_class_ref(GST_TYPE_WEBRTC_PEER_CONNECTION_STATE);
  GEnumValue *value = g_enum_get_value(klass, (gint) state);

  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "connection %s: %s", t->target,
        value != NULL ? value->value_nick : "?");
  g_type_class_unref(klass);
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED && g_strcmp0(t->target, PUBLISH) == 0)
    watch_feedback(call, t);
  if (state != GST_WEBRTC_PEER_CONNECTION_STATE_FAILED)
    return;
  if (g_strcmp0(t->target, PUBLISH) == 0)
    why = g_strdup("the media connection to the relay failed (ICE or DTLS)");
  else
    why = g_strdup_printf("the media connection for feed %s failed (ICE or DTLS)", t->target);
  connection_failed(call, t->target, why);
}

static gboolean
event_dispatch(gpointer data)
{
  Event *event = data;
  Target *t = event->target;
  TmCall *call = t->anchor->call;
  GstElement *webrtc = call != NULL ? webrtc_for(call, t->target) : NULL;

  /* call gone, connection removed meanwhile, or made again since */
  if (webrtc == NULL ||
      GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(webrtc), "tm-serial")) != t->serial)
    return G_SOURCE_REMOVE;
  switch (event->kind) {
  case EVENT_OFFER: call->listener.offer(call->user_data, t->target, event->text); break;
  case EVENT_CANDIDATE:
    call->listener.candidate(call->user_data, t->target, event->number, event->text);
    break;
  case EVENT_GATHERED:
    if (!t->ended) {
      t->ended = TRUE;
      call->listener.candidate(call->user_data, t->target, 0, "");
    }
    break;
  case EVENT_STATE: handle_state(call, t, event->number); break;
  case EVENT_ERROR: connection_failed(call, t->target, event->text); break;
  case EVENT_REMB: apply_estimate(call, event->number); break;
  }
  return G_SOURCE_REMOVE;
}

static void
post_event(Target *t, EventKind kind, gchar *text, guint number)
{
  Event *event = g_new0(Event, 1);
  GSource *source = g_idle_source_new();

  event->target = target_ref(t);
  event->kind = kind;
  event->text = text;
  event->number = number;
  g_source_set_priority(source, G_PRIORITY_DEFAULT);
  g_source_set_callback(source, event_dispatch, event, event_free);
  g_source_attach(source, t->anchor->context);
  g_source_unref(source);
}

/* ---- negotiation (webrtcbin threads) ---- */

typedef struct {
  Target *target;     /* ref */
  GstElement *webrtc; /* ref */
} Promise;

static Promise *
promise_new(Target *t, GstElement *webrtc)
{
  Promise *p = g_new0(Promise, 1);

  p->target = target_ref(t);
  p->webrtc = gst_object_ref(webrtc);
  return p;
}

static void
promise_free(gpointer data)
{
  Promise *p = data;

  target_unref(p->target);
  gst_object_unref(p->webrtc);
  g_free(p);
}

/* The reply of a webrtcbin promise, or NULL with *WHY set. */
static const GstStructure *
promise_reply(GstPromise *promise, gchar **why)
{
  const GstStructure *reply;
  g_autoptr(GError) error = NULL;

  if (gst_promise_wait(promise) != GST_PROMISE_RESULT_REPLIED) {
    *why = g_strdup("no reply");
    return NULL;
  }
  reply = gst_promise_get_reply(promise);
  if (reply != NULL && gst_structure_has_field(reply, "error")) {
    gst_structure_get(reply, "error", G_TYPE_ERROR, &error, NULL);
    *why = g_strdup(error != NULL ? error->message : "unknown error");
    return NULL;
  }
  return reply;
}

static void
on_offer_created(GstPromise *promise, gpointer user_data)
{
  Promise *p = user_data;
  const GstStructure *reply;
  GstWebRTCSessionDescription *offer = NULL;
  gchar *why = NULL;

  reply = promise_reply(promise, &why);
  if (reply != NULL)
    gst_structure_get(reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, NULL);
  if (offer == NULL) {
    post_event(p->target, EVENT_ERROR,
               g_strdup_printf("cannot create the WebRTC offer for %s: %s", p->target->target,
                               why != NULL ? why : "no offer"),
               0);
    g_free(why);
    return;
  }
  /* This runs on webrtcbin's operation thread: set-local-description is queued (so it is
   * applied before the relay's answer, whatever the relay's speed) and ICE gathering starts
   * only after we return, so the offer is posted before any of our candidates. */
  g_signal_emit_by_name(p->webrtc, "set-local-description", offer, NULL);
  post_event(p->target, EVENT_OFFER, gst_sdp_message_as_text(offer->sdp), 0);
  gst_webrtc_session_description_free(offer);
}

static void
on_negotiation_needed(GstElement *webrtc, gpointer user_data)
{
  Target *t = user_data;
  GstPromise *promise;

  if (!g_atomic_int_compare_and_exchange(&t->offered, 0, 1)) {
    g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG,
          "connection %s: renegotiation requested; not supported, ignored", t->target);
    return;
  }
  promise =
    gst_promise_new_with_change_func(on_offer_created, promise_new(t, webrtc), promise_free);
  g_signal_emit_by_name(webrtc, "create-offer", NULL, promise);
  gst_promise_unref(promise);
}

static void
on_ice_candidate(GstElement *webrtc, guint mline, gchar *candidate, gpointer user_data)
{
  Target *t = user_data;

  if (candidate == NULL || candidate[0] == '\0')
    return; /* end of candidates: sent once gathering completes */
  if (g_str_has_prefix(candidate, "a="))
    candidate += 2;
  post_event(t, EVENT_CANDIDATE, g_strdup(candidate), mline);
}

static void
on_gathering_state(GstElement *webrtc, GParamSpec *pspec, gpointer user_data)
{
  GstWebRTCICEGatheringState state;

  g_object_get(webrtc, "ice-gathering-state", &state, NULL);
  if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    post_event(user_data, EVENT_GATHERED, NULL, 0);
}

static void
on_connection_state(GstElement *webrtc, GParamSpec *pspec, gpointer user_data)
{
  GstWebRTCPeerConnectionState state;

  g_object_get(webrtc, "connection-state", &state, NULL);
  post_event(user_data, EVENT_STATE, NULL, (guint) state);
}

/* Restricts ICE to ADDRESSES (libnice otherwise gathers on every interface but loopback). */
static void
restrict_addresses(NiceAgent *agent, const gchar *const *addresses, const gchar *target)
{
  for (guint i = 0; addresses != NULL && addresses[i] != NULL; i++) {
    NiceAddress address;

    nice_address_init(&address);
    if (!nice_address_set_from_string(&address, addresses[i]) ||
        !nice_agent_add_local_address(agent, &address)) {
      g_log(LOG_DOMAIN, G_LOG_LEVEL_WARNING, "\"%s\" is not an IP address ICE can use; ignored",
            addresses[i]);
      continue;
    }
    g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "connection %s: ICE on %s only", target, addresses[i]);
  }
}

/* libnice must not probe UPnP (it would send SSDP multicast from a court PC). ICE-TCP
 * (RFC 6544) is on, so that a client whose network lets only TCP out reaches a relay that takes
 * ICE-TCP; TURN servers are those the relay gave at join (tm_call_set_ice_servers), none
 * before. */
static void
configure_ice(TmCall *call, GstElement *webrtc, const gchar *target)
{
  g_autoptr(GObject) ice = NULL;
  NiceAgent *agent = NULL;
  gboolean upnp = TRUE, tcp = FALSE;
  guint turn = 0;

  g_object_get(webrtc, "ice-agent", &ice, NULL);
  if (ice == NULL)
    return;
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "ice-tcp") != NULL)
    g_object_set(ice, "ice-tcp", TRUE, NULL);
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "agent") != NULL)
    g_object_get(ice, "agent", &agent, NULL);
  if (agent != NULL && NICE_IS_AGENT(agent)) {
    g_object_set(agent, "upnp", FALSE, "ice-tcp", TRUE, NULL);
    g_object_get(agent, "upnp", &upnp, "ice-tcp", &tcp, NULL);
    restrict_addresses(agent, (const gchar *const *) call->media_addresses, target);
  }
  g_clear_object(&agent);
  for (guint i = 0; call->turn_servers != NULL && call->turn_servers[i] != NULL; i++) {
    gboolean added = FALSE;
    g_signal_emit_by_name(webrtc, "add-turn-server", call->turn_servers[i], &added);
    turn += added ? 1 : 0;
  }
  if (upnp)
    g_log(LOG_DOMAIN, G_LOG_LEVEL_WARNING,
          "connection %s: cannot switch libnice UPnP off (no NiceAgent exposed)", target);
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "connection %s: ICE agent %s, upnp=%s ice-tcp=%s, %u TURN",
        target, G_OBJECT_TYPE_NAME(ice), upnp ? "on" : "off", tcp ? "on" : "off", turn);
}

/* "turn:HOST:PORT?transport=tcp" with USER and PASS as webrtcbin takes it,
 * "turn://USER:PASS@HOST:PORT?transport=tcp" (user and password escaped: the username has a
 * colon, the password '+', '/', '='). NULL when URL is not a turn: or turns: address. */
static gchar *
webrtcbin_turn_url(const gchar *url, const gchar *user, const gchar *pass)
{
  const gchar *rest = NULL, *scheme = NULL;
  g_autofree gchar *u = NULL, *p = NULL;

  if (g_str_has_prefix(url, "turns:")) {
    scheme = "turns";
    rest = url + 6;
  } else if (g_str_has_prefix(url, "turn:")) {
    scheme = "turn";
    rest = url + 5;
  }
  if (rest == NULL || *rest == '\0' || g_str_has_prefix(rest, "//") || strchr(rest, '@') != NULL)
    return NULL;
  u = g_uri_escape_string(user, NULL, FALSE);
  p = g_uri_escape_string(pass, NULL, FALSE);
  return g_strdup_printf("%s://%s:%s@%s", scheme, u, p, rest);
}

gboolean
tm_call_set_ice_servers(TmCall *call, const gchar *const *urls, const gchar *username,
                        const gchar *credential)
{
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);

  for (guint i = 0; urls != NULL && username != NULL && credential != NULL && urls[i] != NULL;
       i++) {
    gchar *u = webrtcbin_turn_url(urls[i], username, credential);
    if (u == NULL)
      g_log(LOG_DOMAIN, G_LOG_LEVEL_WARNING, "TURN server \"%s\" not understood; ignored", urls[i]);
    else if (list->len < 8)
      g_ptr_array_add(list, u);
    else
      g_free(u);
  }
  g_strfreev(call->turn_servers);
  call->turn_servers = NULL;
  if (list->len > 0) {
    g_ptr_array_add(list, NULL);
    call->turn_servers = (GStrv) g_ptr_array_steal(list, NULL);
  }
  /* the publish connection gathered without them: it is made again */
  return call->turn_servers != NULL && call->publish != NULL && !call->publish_turn;
}

/* A new webrtcbin for TARGET, configured and wired to the call (floating ref). */
static GstElement *
make_webrtc(TmCall *call, const gchar *target, const gchar *name)
{
  GstElement *webrtc = gst_element_factory_make("webrtcbin", name);
  Target *t;

  if (webrtc == NULL)
    return NULL;
  g_object_set(webrtc, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, NULL);
  configure_ice(call, webrtc, target);
  t = target_new(call->anchor, target);
  t->serial = ++call->serial;
  g_object_set_data(G_OBJECT(webrtc), "tm-serial", GUINT_TO_POINTER(t->serial));
  g_signal_connect_data(webrtc, "on-negotiation-needed", G_CALLBACK(on_negotiation_needed),
                        target_ref(t), target_closure_free, 0);
  g_signal_connect_data(webrtc, "on-ice-candidate", G_CALLBACK(on_ice_candidate), target_ref(t),
                        target_closure_free, 0);
  g_signal_connect_data(webrtc, "notify::ice-gathering-state", G_CALLBACK(on_gathering_state),
                        target_ref(t), target_closure_free, 0);
  g_signal_connect_data(webrtc, "notify::connection-state", G_CALLBACK(on_connection_state),
                        target_ref(t), target_closure_free, 0);
  target_unref(t);
  return webrtc;
}

/* ---- pipeline ---- */

/* Ghosts the src pad of the element called NAME inside MEDIA as MEDIA's pad NAME. */
static gboolean
expose_pad(GstElement *media, const gchar *name, GError **error)
{
  g_autoptr(GstElement) element = gst_bin_get_by_name(GST_BIN(media), name);
  g_autoptr(GstPad) src = element != NULL ? gst_element_get_static_pad(element, "src") : NULL;
  GstPad *ghost;

  if (src == NULL) {
    g_set_error(error, TM_CALL_ERROR, TM_CALL_ERROR_PIPELINE,
                "the profile has no element named %s with a src pad", name);
    return FALSE;
  }
  ghost = gst_ghost_pad_new(name, src);
  gst_pad_set_active(ghost, TRUE);
  gst_element_add_pad(media, ghost);
  return TRUE;
}

/* Links MEDIA's pad NAME to a new sink pad of the publish webrtcbin, send-only. */
static gboolean
link_publish(TmCall *call, const gchar *name, GError **error)
{
  g_autoptr(GstPad) src = gst_element_get_static_pad(call->media, name);
  g_autoptr(GstPad) sink = gst_element_request_pad_simple(call->publish, "sink_%u");
  GstWebRTCRTPTransceiver *transceiver = NULL;

  if (src == NULL || sink == NULL || gst_pad_link(src, sink) != GST_PAD_LINK_OK) {
    g_set_error(error, TM_CALL_ERROR, TM_CALL_ERROR_PIPELINE,
                "cannot link the profile's %s to webrtcbin", name);
    return FALSE;
  }
  g_object_get(sink, "transceiver", &transceiver, NULL);
  if (transceiver != NULL) {
    g_object_set(transceiver, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, NULL);
    if (g_strcmp0(name, "video_out") == 0)
      g_object_set(transceiver, "do-nack", TRUE, NULL);
    gst_object_unref(transceiver);
  }
  return TRUE;
}

/* The profile's video encoder: the element of the capture bin with a target-bitrate (vp8enc). */
static void
find_encoder(TmCall *call)
{
  g_autoptr(GstIterator) it = gst_bin_iterate_recurse(GST_BIN(call->media));
  GValue item = G_VALUE_INIT;
  gint bps = 0;
  GstElement *audio = NULL;

  call->encoder = NULL;
  call->size_filter = NULL;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object(&item);
    GstElementFactory *f = gst_element_get_factory(e);
    const gchar *factory = f != NULL ? GST_OBJECT_NAME(f) : NULL;
    if (g_strcmp0(factory, "vp8enc") == 0 && call->encoder == NULL)
      call->encoder = e; /* owned by the bin */
    if (g_strcmp0(factory, "opusenc") == 0 && audio == NULL)
      audio = e;
    g_value_reset(&item);
  }
  g_value_unset(&item);
  if (call->encoder == NULL)
    return;
  g_object_get(call->encoder, "target-bitrate", &bps, NULL);
  tm_bitrate_init(&call->bitrate, (guint) MAX(bps, 0), g_get_monotonic_time());
  g_object_set(call->encoder, "target-bitrate", (gint) call->bitrate.target_bps, NULL);
  if (audio != NULL) { /* the relay's estimate covers the sound too: keep its share out */
    gint audio_bps = 0, frame_ms = 20;
    g_object_get(audio, "bitrate", &audio_bps, "frame-size", &frame_ms, NULL);
    tm_bitrate_reserve(&call->bitrate, (guint) MAX(audio_bps, 0),
                       frame_ms >= 5 ? 1000 / (guint) frame_ms : 400);
  }
  find_size_filter(call);
  if (call->size_filter != NULL) {
    g_autoptr(GstPad) src = gst_element_get_static_pad(call->encoder, "src");
    if (src != NULL)
      gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER, count_video, call, NULL);
  }
}

static gboolean
build_publish(TmCall *call, const gchar *description, GError **error)
{
  g_autoptr(GError) parse_error = NULL;

  call->media = gst_parse_bin_from_description_full(description, FALSE, NULL,
                                                    GST_PARSE_FLAG_FATAL_ERRORS, &parse_error);
  if (call->media == NULL) {
    g_set_error(error, TM_CALL_ERROR, TM_CALL_ERROR_PIPELINE,
                "the capture pipeline does not build: %s", parse_error->message);
    return FALSE;
  }
  gst_object_set_name(GST_OBJECT(call->media), "capture");
  find_encoder(call);
  if (call->display != NULL && call->encoder != NULL) {
    g_autoptr(GstPad) raw = gst_element_get_static_pad(call->encoder, "sink");
    tm_display_watch_self(call->display, raw); /* the kiosk's self-view */
  }
  gst_bin_add(GST_BIN(call->publish_pipeline), call->media);
  if (!expose_pad(call->media, "video_out", error) || !expose_pad(call->media, "audio_out", error))
    return FALSE;
  call->publish = make_webrtc(call, PUBLISH, "publish");
  call->publish_turn = call->turn_servers != NULL;
  if (call->publish == NULL) {
    g_set_error(error, TM_CALL_ERROR, TM_CALL_ERROR_PIPELINE,
                "the GStreamer element webrtcbin is missing");
    return FALSE;
  }
  gst_bin_add(GST_BIN(call->publish_pipeline), call->publish);
  /* audio first: m-line 0 audio, m-line 1 video, as the subscribe connections */
  return link_publish(call, "audio_out", error) && link_publish(call, "video_out", error);
}

static void
dump_graph(TmCall *call, const gchar *why)
{
  if (g_getenv("GST_DEBUG_DUMP_DOT_DIR") == NULL)
    return;

  g_autofree gchar *publish = g_strconcat(why, "-publish", NULL);
  g_autofree gchar *receive = g_strconcat(why, "-receive", NULL);

  GST_DEBUG_BIN_TO_DOT_FILE_WITH_TS(GST_BIN(call->publish_pipeline), GST_DEBUG_GRAPH_SHOW_ALL,
                                    publish);
  GST_DEBUG_BIN_TO_DOT_FILE_WITH_TS(GST_BIN(call->pipeline), GST_DEBUG_GRAPH_SHOW_ALL, receive);
}

/* The feed whose bin contains OBJECT, or NULL. */
static TmFeed *
feed_of(TmCall *call, GstObject *object)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init(&iter, call->feeds);
  while (g_hash_table_iter_next(&iter, NULL, &value)) {
    if (gst_object_has_as_ancestor(object, GST_OBJECT(tm_feed_get_bin(value))))
      return value;
  }
  return NULL;
}

static void
bus_error(TmCall *call, GstMessage *message)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *debug = NULL;
  g_autofree gchar *why = NULL;
  g_autofree gchar *source = gst_object_get_path_string(GST_MESSAGE_SRC(message));
  TmFeed *feed = feed_of(call, GST_MESSAGE_SRC(message));

  gst_message_parse_error(message, &error, &debug);
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "error from %s: %s (%s)", source, error->message,
        debug != NULL ? debug : "");
  dump_graph(call, "testimony-client-error");
  if (feed != NULL) {
    g_autofree gchar *id = g_strdup(tm_feed_get_id(feed));
    why = g_strdup_printf("the media of feed %s failed: %s", id, error->message);
    feed_failed(call, id, why);
    return;
  }
  if (call->failed)
    return;
  call->failed = TRUE;
  why = g_strdup_printf("media failure in %s: %s", GST_OBJECT_NAME(GST_MESSAGE_SRC(message)),
                        error->message);
  call->listener.failed(call->user_data, why);
}

static GstClockTime
recalculate_latency(GstElement *pipeline)
{
  g_autoptr(GstQuery) query = gst_query_new_latency();
  GstClockTime min = 0;

  gst_bin_recalculate_latency(GST_BIN(pipeline));
  if (gst_element_query(pipeline, query))
    gst_query_parse_latency(query, NULL, &min, NULL);
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "%s pipeline latency %" GST_TIME_FORMAT,
        GST_OBJECT_NAME(pipeline), GST_TIME_ARGS(min));
  return min;
}

static gboolean
on_bus(GstBus *bus, GstMessage *message, gpointer user_data)
{
  TmCall *call = user_data;

  switch (GST_MESSAGE_TYPE(message)) {
  case GST_MESSAGE_ERROR: bus_error(call, message); break;
  case GST_MESSAGE_WARNING: {
    g_autoptr(GError) error = NULL;
    gst_message_parse_warning(message, &error, NULL);
    g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "warning from %s: %s",
          GST_OBJECT_NAME(GST_MESSAGE_SRC(message)), error->message);
    break;
  }
  case GST_MESSAGE_LATENCY:
    recalculate_latency(call->publish_pipeline);
    tm_analysis_set_pipeline_latency(recalculate_latency(call->pipeline));
    break;
  default: break;
  }
  return G_SOURCE_CONTINUE;
}

/* The first dtlsdec of a process generates the DTLS certificate all webrtcbins share (about
 * 180 ms of CPU, several times that on a busy machine). Doing it now, in parallel with the
 * TLS connection to the relay, takes it off the path to the first offer. */
static gpointer
warm_dtls(gpointer data)
{
  GstElement *dtls = gst_element_factory_make("dtlsdec", NULL);

  if (dtls != NULL)
    gst_object_unref(gst_object_ref_sink(dtls));
  return NULL;
}

TmCall *
tm_call_new(const gchar *publish_description, TmCallDisplay shown,
            const gchar *const *media_addresses, const TmCallListener *listener, gpointer user_data,
            GError **error)
{
  TmCall *call = g_new0(TmCall, 1);
  g_autoptr(GstBus) bus = NULL;

  call->warmup = g_thread_new("tm-dtls-warmup", warm_dtls, NULL);
  call->media_addresses = g_strdupv((gchar **) media_addresses);
  call->publish_description = g_strdup(publish_description);
  call->listener = *listener;
  call->user_data = user_data;
  call->anchor = g_atomic_rc_box_new0(Anchor);
  call->anchor->call = call;
  call->anchor->context = g_main_context_ref_thread_default();
  call->feeds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  call->publish_pipeline = gst_object_ref_sink(gst_pipeline_new("publish"));
  call->pipeline = gst_object_ref_sink(gst_pipeline_new("receive"));
  bus = gst_pipeline_get_bus(GST_PIPELINE(call->publish_pipeline));
  gst_bus_add_watch(bus, on_bus, call);
  gst_object_unref(bus);
  bus = gst_pipeline_get_bus(GST_PIPELINE(call->pipeline));
  gst_bus_add_watch(bus, on_bus, call);
  if (shown != TM_CALL_HEADLESS) {
    call->display = tm_display_new(GST_BIN(call->pipeline), shown == TM_CALL_KIOSK, error);
    if (call->display == NULL) {
      tm_call_free(call);
      return NULL;
    }
  }
  if (!build_publish(call, publish_description, error)) {
    tm_call_free(call);
    return NULL;
  }
  return call;
}

gboolean
tm_call_start(TmCall *call, GError **error)
{
  if (gst_element_set_state(call->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE ||
      gst_element_set_state(call->publish_pipeline, GST_STATE_PLAYING) ==
        GST_STATE_CHANGE_FAILURE) {
    dump_graph(call, "testimony-client-start");
    g_set_error(error, TM_CALL_ERROR, TM_CALL_ERROR_STATE,
                "the media pipeline does not start (camera, microphone or display missing?)");
    return FALSE;
  }
  return TRUE;
}

void
tm_call_subscribe(TmCall *call, const gchar *feed_id, const gchar *name, const gchar *role,
                  TmAnalysis *analysis)
{
  g_autofree gchar *label = NULL;
  GstElement *webrtc;
  TmFeed *feed;

  if (g_hash_table_contains(call->feeds, feed_id))
    return;
  webrtc = make_webrtc(call, feed_id, "webrtc");
  if (webrtc == NULL) {
    call->listener.feed_failed(call->user_data, feed_id,
                               "the GStreamer element webrtcbin is missing");
    return;
  }
  label = g_strdup_printf("%s (%s)", name != NULL ? name : feed_id, role != NULL ? role : "?");
  feed = tm_feed_new(feed_id, label, role, analysis, call->display, webrtc);
  g_hash_table_insert(call->feeds, g_strdup(feed_id), feed);
  gst_bin_add(GST_BIN(call->pipeline), tm_feed_get_bin(feed));
  gst_element_sync_state_with_parent(tm_feed_get_bin(feed));
}

void
tm_call_set_repair(TmCall *call, const gchar *feed_id, const TmRepair *repair)
{
  TmFeed *feed = g_hash_table_lookup(call->feeds, feed_id);

  if (feed != NULL)
    tm_feed_set_repair(feed, repair);
}

void
tm_call_unsubscribe(TmCall *call, const gchar *feed_id)
{
  TmFeed *feed = g_hash_table_lookup(call->feeds, feed_id);

  if (feed == NULL)
    return;
  g_hash_table_remove(call->feeds, feed_id);
  tm_feed_remove(feed, GST_BIN(call->pipeline));
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "feed %s removed", feed_id);
}

static void
feed_failed(TmCall *call, const gchar *feed, const gchar *why)
{
  g_autofree gchar *id = g_strdup(feed);

  if (!g_hash_table_contains(call->feeds, id))
    return;
  tm_call_unsubscribe(call, id);
  call->listener.feed_failed(call->user_data, id, why);
}

gboolean
tm_call_has_target(TmCall *call, const gchar *target)
{
  return webrtc_for(call, target) != NULL;
}

static void
on_answer_set(GstPromise *promise, gpointer user_data)
{
  Promise *p = user_data;
  gchar *why = NULL;

  if (promise_reply(promise, &why) == NULL && why != NULL && g_strcmp0(why, "no reply") != 0)
    post_event(
      p->target, EVENT_ERROR,
      g_strdup_printf("the relay's answer for %s was not accepted: %s", p->target->target, why), 0);
  g_free(why);
}

gboolean
tm_call_apply_answer(TmCall *call, const gchar *target, const gchar *sdp, GError **error)
{
  GstElement *webrtc = webrtc_for(call, target);
  GstSDPMessage *message = NULL;
  GstWebRTCSessionDescription *answer;
  GstPromise *promise;
  Target *t;

  if (webrtc == NULL) {
    g_set_error(error, TM_CALL_ERROR, TM_CALL_ERROR_UNKNOWN_TARGET,
                "an answer for %s, which has no connection", target);
    return FALSE;
  }
  if (gst_sdp_message_new_from_text(sdp, &message) != GST_SDP_OK || message == NULL ||
      gst_sdp_message_medias_len(message) == 0) {
    if (message != NULL)
      gst_sdp_message_free(message);
    g_set_error(error, TM_CALL_ERROR, TM_CALL_ERROR_BAD_SDP,
                "the relay's answer for %s is not valid SDP", target);
    return FALSE;
  }
  answer = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, message);
  t = target_new(call->anchor, target);
  promise = gst_promise_new_with_change_func(on_answer_set, promise_new(t, webrtc), promise_free);
  g_signal_emit_by_name(webrtc, "set-remote-description", answer, promise);
  gst_promise_unref(promise);
  gst_webrtc_session_description_free(answer);
  target_unref(t);
  return TRUE;
}

gboolean
tm_call_add_candidate(TmCall *call, const gchar *target, guint mline, const gchar *candidate,
                      GError **error)
{
  GstElement *webrtc = webrtc_for(call, target);
  g_autofree gchar *line = NULL;

  if (webrtc == NULL) {
    g_set_error(error, TM_CALL_ERROR, TM_CALL_ERROR_UNKNOWN_TARGET,
                "a candidate for %s, which has no connection", target);
    return FALSE;
  }
  if (candidate[0] == '\0')
    return TRUE; /* end of candidates: nothing to tell webrtcbin */
  if (g_str_has_prefix(candidate, "a="))
    candidate += 2;
  line = g_strdup(candidate);
  g_signal_emit_by_name(webrtc, "add-ice-candidate", mline, line);
  return TRUE;
}

void
tm_call_set_slate(TmCall *call, const gchar *text)
{
  if (call->display != NULL)
    tm_display_set_slate(call->display, text);
}

void
tm_call_set_indicator(TmCall *call, TmDisplayIndicator which, const gchar *markup)
{
  if (call->display != NULL)
    tm_display_set_indicator(call->display, which, markup);
}

void
tm_call_stop_publishing(TmCall *call)
{
  if (call->publish == NULL)
    return;
  gst_element_set_state(call->publish_pipeline, GST_STATE_NULL);
  gst_bin_remove(GST_BIN(call->publish_pipeline), call->publish);
  gst_bin_remove(GST_BIN(call->publish_pipeline), call->media);
  call->publish = NULL;
  if (call->display != NULL)
    tm_display_watch_self(call->display, NULL);
  call->media = NULL;
  call->encoder = NULL;
  call->size_filter = NULL;
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "publishing stopped; receiving only");
}

void
tm_call_set_own_role(TmCall *call, const gchar *role)
{
  if (call->display != NULL)
    tm_display_set_own_role(call->display, role);
}

gboolean
tm_call_restart_publish(TmCall *call, GError **error)
{
  if (call->publish == NULL)
    return TRUE; /* receiving only */
  tm_call_stop_publishing(call);
  if (!build_publish(call, call->publish_description, error))
    return FALSE;
  if (gst_element_set_state(call->publish_pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    dump_graph(call, "testimony-client-restart");
    g_set_error(error, TM_CALL_ERROR, TM_CALL_ERROR_STATE,
                "the capture pipeline does not start again");
    return FALSE;
  }
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "publish connection made again");
  return TRUE;
}

void
tm_call_stop(TmCall *call)
{
  if (call->publish_pipeline != NULL)
    gst_element_set_state(call->publish_pipeline, GST_STATE_NULL);
  if (call->pipeline != NULL)
    gst_element_set_state(call->pipeline, GST_STATE_NULL);
}

void
tm_call_free(TmCall *call)
{
  GHashTableIter iter;
  gpointer value;

  if (call == NULL)
    return;
  call->anchor->call = NULL;
  tm_call_stop(call);
  /* OpenSSL's exit handlers must not run while this thread is still making the certificate
   * (a client that cannot reach the relay quits within milliseconds): it would crash there */
  if (call->warmup != NULL)
    g_thread_join(call->warmup);
  g_hash_table_iter_init(&iter, call->feeds);
  while (g_hash_table_iter_next(&iter, NULL, &value))
    tm_feed_free(value);
  g_hash_table_unref(call->feeds);
  if (call->publish_pipeline != NULL) {
    g_autoptr(GstBus) bus = gst_pipeline_get_bus(GST_PIPELINE(call->publish_pipeline));
    gst_bus_remove_watch(bus);
    gst_object_unref(call->publish_pipeline);
  }
  if (call->pipeline != NULL) {
    g_autoptr(GstBus) bus = gst_pipeline_get_bus(GST_PIPELINE(call->pipeline));
    gst_bus_remove_watch(bus);
    gst_object_unref(call->pipeline);
  }
  tm_display_free(call->display);
  g_strfreev(call->media_addresses);
  g_strfreev(call->turn_servers);
  g_free(call->publish_description);
  anchor_unref(call->anchor);
  g_free(call);
}
