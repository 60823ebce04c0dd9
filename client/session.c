/* session.c — the media pipelines and WebRTC negotiation (see session.h).
 *
 * Two pipelines: "publish" (capture, encode, publish webrtcbin) and "receive" (one bin per
 * feed, the display). webrtcbin's send path holds each buffer until its running time plus
 * the pipeline latency (a clocksync); in one shared pipeline that latency would include the
 * receive jitterbuffers (200 ms) and every picture we send would wait for it. */
#include "session.h"


#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <nice/agent.h>
#include <string.h>

#include "display.h"
#include "feed.h"

#define TM_SESSION_LOG_DOMAIN "testimony-session"
#define TM_SESSION_PUBLISH "publish"

G_DEFINE_QUARK(tm-session-error-quark, tm_session_error)

/* Lets callbacks queued from GStreamer threads find out, on the main thread, whether the
 * session still exists. */
typedef struct {
  TmSession *session;            /* NULL once freed; main thread only */
  GMainContext *context;         /* ref; immutable */
} TmSessionAnchor;

/* One WebRTC connection as seen from webrtcbin's threads: the user data of its signals. */
typedef struct {
  TmSessionAnchor *anchor;       /* ref */
  gchar *target;
  gint offered;                  /* atomic: the offer was made (no renegotiation) */
  gboolean ended;                /* main thread: end-of-candidates sent */
} TmSessionTarget;

struct _TmSession {
  TmSessionListener listener;
  gpointer user_data;
  TmSessionAnchor *anchor;       /* ref */
  GstElement *publish_pipeline;  /* capture, encode, publish webrtcbin */
  GstElement *pipeline;          /* receive: feeds and display */
  GstElement *media;             /* the profile's encode chains */
  GstElement *publish;           /* webrtcbin */
  TmDisplay *display;            /* NULL when headless */
  GHashTable *feeds;             /* id -> TmFeed* */
  GStrv media_addresses;         /* local addresses ICE may use; NULL: all interfaces */
  gboolean failed;               /* listener.failed called */
};

typedef enum {
  TM_SESSION_EVENT_OFFER,
  TM_SESSION_EVENT_CANDIDATE,
  TM_SESSION_EVENT_GATHERED,
  TM_SESSION_EVENT_STATE,
  TM_SESSION_EVENT_ERROR,
} TmSessionEventKind;

typedef struct {
  TmSessionTarget *target;       /* ref */
  TmSessionEventKind kind;
  gchar *text;
  guint number;
} TmSessionEvent;

static void tm_session_feed_failed(TmSession *session, const gchar *feed, const gchar *why);

static void
tm_session_anchor_clear(gpointer data)
{
  TmSessionAnchor *anchor = data;

  g_main_context_unref(anchor->context);
}

static void
tm_session_anchor_unref(TmSessionAnchor *anchor)
{
  g_atomic_rc_box_release_full(anchor, tm_session_anchor_clear);
}

static TmSessionTarget *
tm_session_target_new(TmSessionAnchor *anchor, const gchar *target)
{
  TmSessionTarget *t = g_atomic_rc_box_new0(TmSessionTarget);

  t->anchor = g_atomic_rc_box_acquire(anchor);
  t->target = g_strdup(target);
  return t;
}

static TmSessionTarget *
tm_session_target_ref(TmSessionTarget *t)
{
  return g_atomic_rc_box_acquire(t);
}

static void
tm_session_target_clear(gpointer data)
{
  TmSessionTarget *t = data;

  tm_session_anchor_unref(t->anchor);
  g_free(t->target);
}

static void
tm_session_target_unref(gpointer data)
{
  g_atomic_rc_box_release_full(data, tm_session_target_clear);
}

static void
tm_session_target_closure_free(gpointer data, GClosure *closure)
{
  tm_session_target_unref(data);
}

/* ---- events from GStreamer threads to the main context ---- */

static void
tm_session_event_free(gpointer data)
{
  TmSessionEvent *event = data;

  tm_session_target_unref(event->target);
  g_free(event->text);
  g_free(event);
}

static GstElement *
tm_session_webrtc_for(TmSession *session, const gchar *target)
{
  TmFeed *feed;

  if (g_strcmp0(target, TM_SESSION_PUBLISH) == 0)
    return session->publish;
  feed = g_hash_table_lookup(session->feeds, target);
  return feed != NULL ? tm_feed_get_webrtc(feed) : NULL;
}

static void
tm_session_connection_failed(TmSession *session, const gchar *target, const gchar *why)
{
  if (g_strcmp0(target, TM_SESSION_PUBLISH) == 0) {
    if (!session->failed) {
      session->failed = TRUE;
      session->listener.failed(session->user_data, why);
    }
  } else {
    tm_session_feed_failed(session, target, why);
  }
}

static void
tm_session_handle_state(TmSession *session, TmSessionTarget *t, guint state)
{
  g_autofree gchar *why = NULL;
  GEnumClass *klass = g_type_class_ref(GST_TYPE_WEBRTC_PEER_CONNECTION_STATE);
  GEnumValue *value = g_enum_get_value(klass, (gint) state);

  g_log(TM_SESSION_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "connection %s: %s", t->target,
        value != NULL ? value->value_nick : "?");
  g_type_class_unref(klass);
  if (state != GST_WEBRTC_PEER_CONNECTION_STATE_FAILED)
    return;
  if (g_strcmp0(t->target, TM_SESSION_PUBLISH) == 0)
    why = g_strdup("the media connection to the relay failed (ICE or DTLS)");
  else
    why = g_strdup_printf("the media connection for feed %s failed (ICE or DTLS)", t->target);
  tm_session_connection_failed(session, t->target, why);
}

static gboolean
tm_session_event_dispatch(gpointer data)
{
  TmSessionEvent *event = data;
  TmSessionTarget *t = event->target;
  TmSession *session = t->anchor->session;

  if (session == NULL || tm_session_webrtc_for(session, t->target) == NULL)
    return G_SOURCE_REMOVE;            /* session gone, or feed removed meanwhile */
  switch (event->kind) {
  case TM_SESSION_EVENT_OFFER:
    session->listener.offer(session->user_data, t->target, event->text);
    break;
  case TM_SESSION_EVENT_CANDIDATE:
    session->listener.candidate(session->user_data, t->target, event->number, event->text);
    break;
  case TM_SESSION_EVENT_GATHERED:
    if (!t->ended) {
      t->ended = TRUE;
      session->listener.candidate(session->user_data, t->target, 0, "");
    }
    break;
  case TM_SESSION_EVENT_STATE:
    tm_session_handle_state(session, t, event->number);
    break;
  case TM_SESSION_EVENT_ERROR:
    tm_session_connection_failed(session, t->target, event->text);
    break;
  }
  return G_SOURCE_REMOVE;
}

static void
tm_session_post(TmSessionTarget *t, TmSessionEventKind kind, gchar *text, guint number)
{
  TmSessionEvent *event = g_new0(TmSessionEvent, 1);
  GSource *source = g_idle_source_new();

  event->target = tm_session_target_ref(t);
  event->kind = kind;
  event->text = text;
  event->number = number;
  g_source_set_priority(source, G_PRIORITY_DEFAULT);
  g_source_set_callback(source, tm_session_event_dispatch, event, tm_session_event_free);
  g_source_attach(source, t->anchor->context);
  g_source_unref(source);
}

/* ---- negotiation (webrtcbin threads) ---- */

typedef struct {
  TmSessionTarget *target;       /* ref */
  GstElement *webrtc;            /* ref */
} TmSessionPromise;

static TmSessionPromise *
tm_session_promise_new(TmSessionTarget *t, GstElement *webrtc)
{
  TmSessionPromise *p = g_new0(TmSessionPromise, 1);

  p->target = tm_session_target_ref(t);
  p->webrtc = gst_object_ref(webrtc);
  return p;
}

static void
tm_session_promise_free(gpointer data)
{
  TmSessionPromise *p = data;

  tm_session_target_unref(p->target);
  gst_object_unref(p->webrtc);
  g_free(p);
}

/* The reply of a webrtcbin promise, or NULL with *WHY set. */
static const GstStructure *
tm_session_promise_reply(GstPromise *promise, gchar **why)
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
tm_session_on_offer_created(GstPromise *promise, gpointer user_data)
{
  TmSessionPromise *p = user_data;
  const GstStructure *reply;
  GstWebRTCSessionDescription *offer = NULL;
  gchar *why = NULL;

  reply = tm_session_promise_reply(promise, &why);
  if (reply != NULL)
    gst_structure_get(reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, NULL);
  if (offer == NULL) {
    tm_session_post(p->target, TM_SESSION_EVENT_ERROR,
                    g_strdup_printf("cannot create the WebRTC offer for %s: %s",
                                    p->target->target, why != NULL ? why : "no offer"), 0);
    g_free(why);
    return;
  }
  /* This runs on webrtcbin's operation thread: set-local-description is queued (so it is
   * applied before the relay's answer, whatever the relay's speed) and ICE gathering starts
   * only after we return, so the offer is posted before any of our candidates. */
  g_signal_emit_by_name(p->webrtc, "set-local-description", offer, NULL);
  tm_session_post(p->target, TM_SESSION_EVENT_OFFER, gst_sdp_message_as_text(offer->sdp), 0);
  gst_webrtc_session_description_free(offer);
}

static void
tm_session_on_negotiation_needed(GstElement *webrtc, gpointer user_data)
{
  TmSessionTarget *t = user_data;
  GstPromise *promise;

  if (!g_atomic_int_compare_and_exchange(&t->offered, 0, 1)) {
    g_log(TM_SESSION_LOG_DOMAIN, G_LOG_LEVEL_DEBUG,
          "connection %s: renegotiation requested; not supported, ignored", t->target);
    return;
  }
  promise = gst_promise_new_with_change_func(tm_session_on_offer_created,
                                             tm_session_promise_new(t, webrtc),
                                             tm_session_promise_free);
  g_signal_emit_by_name(webrtc, "create-offer", NULL, promise);
  gst_promise_unref(promise);
}

static void
tm_session_on_ice_candidate(GstElement *webrtc, guint mline, gchar *candidate,
                            gpointer user_data)
{
  TmSessionTarget *t = user_data;

  if (candidate == NULL || candidate[0] == '\0')
    return;                      /* end of candidates: sent once gathering completes */
  if (g_str_has_prefix(candidate, "a="))
    candidate += 2;
  tm_session_post(t, TM_SESSION_EVENT_CANDIDATE, g_strdup(candidate), mline);
}

static void
tm_session_on_gathering_state(GstElement *webrtc, GParamSpec *pspec, gpointer user_data)
{
  GstWebRTCICEGatheringState state;

  g_object_get(webrtc, "ice-gathering-state", &state, NULL);
  if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    tm_session_post(user_data, TM_SESSION_EVENT_GATHERED, NULL, 0);
}

static void
tm_session_on_connection_state(GstElement *webrtc, GParamSpec *pspec, gpointer user_data)
{
  GstWebRTCPeerConnectionState state;

  g_object_get(webrtc, "connection-state", &state, NULL);
  tm_session_post(user_data, TM_SESSION_EVENT_STATE, NULL, (guint) state);
}

/* Restricts ICE to ADDRESSES (libnice otherwise gathers on every interface but loopback). */
static void
tm_session_restrict_addresses(NiceAgent *agent, const gchar *const *addresses,
                              const gchar *target)
{
  for (guint i = 0; addresses != NULL && addresses[i] != NULL; i++) {
    NiceAddress address;

    nice_address_init(&address);
    if (!nice_address_set_from_string(&address, addresses[i]) ||
        !nice_agent_add_local_address(agent, &address)) {
      g_log(TM_SESSION_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
            "\"%s\" is not an IP address ICE can use; ignored", addresses[i]);
      continue;
    }
    g_log(TM_SESSION_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "connection %s: ICE on %s only", target,
          addresses[i]);
  }
}

/* libnice must not probe UPnP (it would send SSDP multicast from a court PC), and ICE is
 * UDP only; no STUN or TURN server is configured. */
static void
tm_session_configure_ice(TmSession *session, GstElement *webrtc, const gchar *target)
{
  g_autoptr(GObject) ice = NULL;
  NiceAgent *agent = NULL;
  gboolean upnp = TRUE, tcp = TRUE;

  g_object_get(webrtc, "ice-agent", &ice, NULL);
  if (ice == NULL)
    return;
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "ice-tcp") != NULL)
    g_object_set(ice, "ice-tcp", FALSE, NULL);
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "agent") != NULL)
    g_object_get(ice, "agent", &agent, NULL);
  if (agent != NULL && NICE_IS_AGENT(agent)) {
    g_object_set(agent, "upnp", FALSE, "ice-tcp", FALSE, NULL);
    g_object_get(agent, "upnp", &upnp, "ice-tcp", &tcp, NULL);
    tm_session_restrict_addresses(agent, (const gchar *const *) session->media_addresses,
                                  target);
  }
  g_clear_object(&agent);
  if (upnp)
    g_log(TM_SESSION_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
          "connection %s: cannot switch libnice UPnP off (no NiceAgent exposed)", target);
  g_log(TM_SESSION_LOG_DOMAIN, G_LOG_LEVEL_DEBUG,
        "connection %s: ICE agent %s, upnp=%s ice-tcp=%s, no STUN/TURN server", target,
        G_OBJECT_TYPE_NAME(ice), upnp ? "on" : "off", tcp ? "on" : "off");
}

/* A new webrtcbin for TARGET, configured and wired to the session (floating ref). */
static GstElement *
tm_session_make_webrtc(TmSession *session, const gchar *target, const gchar *name)
{
  GstElement *webrtc = gst_element_factory_make("webrtcbin", name);
  TmSessionTarget *t;

  if (webrtc == NULL)
    return NULL;
  g_object_set(webrtc, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, NULL);
  tm_session_configure_ice(session, webrtc, target);
  t = tm_session_target_new(session->anchor, target);
  g_signal_connect_data(webrtc, "on-negotiation-needed",
                        G_CALLBACK(tm_session_on_negotiation_needed), tm_session_target_ref(t),
                        tm_session_target_closure_free, 0);
  g_signal_connect_data(webrtc, "on-ice-candidate", G_CALLBACK(tm_session_on_ice_candidate),
                        tm_session_target_ref(t), tm_session_target_closure_free, 0);
  g_signal_connect_data(webrtc, "notify::ice-gathering-state",
                        G_CALLBACK(tm_session_on_gathering_state), tm_session_target_ref(t),
                        tm_session_target_closure_free, 0);
  g_signal_connect_data(webrtc, "notify::connection-state",
                        G_CALLBACK(tm_session_on_connection_state), tm_session_target_ref(t),
                        tm_session_target_closure_free, 0);
  tm_session_target_unref(t);
  return webrtc;
}

/* ---- pipeline ---- */

/* Ghosts the src pad of the element called NAME inside MEDIA as MEDIA's pad NAME. */
static gboolean
tm_session_expose(GstElement *media, const gchar *name, GError **error)
{
  g_autoptr(GstElement) element = gst_bin_get_by_name(GST_BIN(media), name);
  g_autoptr(GstPad) src = element != NULL ? gst_element_get_static_pad(element, "src") : NULL;
  GstPad *ghost;

  if (src == NULL) {
    g_set_error(error, TM_SESSION_ERROR, TM_SESSION_ERROR_PIPELINE,
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
tm_session_link_publish(TmSession *session, const gchar *name, GError **error)
{
  g_autoptr(GstPad) src = gst_element_get_static_pad(session->media, name);
  g_autoptr(GstPad) sink = gst_element_request_pad_simple(session->publish, "sink_%u");
  GstWebRTCRTPTransceiver *transceiver = NULL;

  if (src == NULL || sink == NULL || gst_pad_link(src, sink) != GST_PAD_LINK_OK) {
    g_set_error(error, TM_SESSION_ERROR, TM_SESSION_ERROR_PIPELINE,
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

static gboolean
tm_session_build_publish(TmSession *session, const gchar *description, GError **error)
{
  g_autoptr(GError) parse_error = NULL;

  session->media = gst_parse_bin_from_description_full(description, FALSE, NULL,
                                                       GST_PARSE_FLAG_FATAL_ERRORS,
                                                       &parse_error);
  if (session->media == NULL) {
    g_set_error(error, TM_SESSION_ERROR, TM_SESSION_ERROR_PIPELINE,
                "the capture pipeline does not build: %s", parse_error->message);
    return FALSE;
  }
  gst_object_set_name(GST_OBJECT(session->media), "capture");
  gst_bin_add(GST_BIN(session->publish_pipeline), session->media);
  if (!tm_session_expose(session->media, "video_out", error) ||
      !tm_session_expose(session->media, "audio_out", error))
    return FALSE;
  session->publish = tm_session_make_webrtc(session, TM_SESSION_PUBLISH, "publish");
  if (session->publish == NULL) {
    g_set_error(error, TM_SESSION_ERROR, TM_SESSION_ERROR_PIPELINE,
                "the GStreamer element webrtcbin is missing");
    return FALSE;
  }
  gst_bin_add(GST_BIN(session->publish_pipeline), session->publish);
  /* audio first: m-line 0 audio, m-line 1 video, as the subscribe connections */
  return tm_session_link_publish(session, "audio_out", error) &&
         tm_session_link_publish(session, "video_out", error);
}

static void
tm_session_dump_graph(TmSession *session, const gchar *why)
{
  if (g_getenv("GST_DEBUG_DUMP_DOT_DIR") == NULL)
    return;

  g_autofree gchar *publish = g_strconcat(why, "-publish", NULL);
  g_autofree gchar *receive = g_strconcat(why, "-receive", NULL);

  GST_DEBUG_BIN_TO_DOT_FILE_WITH_TS(GST_BIN(session->publish_pipeline),
                                    GST_DEBUG_GRAPH_SHOW_ALL, publish);
  GST_DEBUG_BIN_TO_DOT_FILE_WITH_TS(GST_BIN(session->pipeline), GST_DEBUG_GRAPH_SHOW_ALL,
                                    receive);
}

/* The feed whose bin contains OBJECT, or NULL. */
static TmFeed *
tm_session_feed_of(TmSession *session, GstObject *object)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init(&iter, session->feeds);
  while (g_hash_table_iter_next(&iter, NULL, &value)) {
    if (gst_object_has_as_ancestor(object, GST_OBJECT(tm_feed_get_bin(value))))
      return value;
  }
  return NULL;
}

static void
tm_session_bus_error(TmSession *session, GstMessage *message)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *debug = NULL;
  g_autofree gchar *why = NULL;
  g_autofree gchar *source = gst_object_get_path_string(GST_MESSAGE_SRC(message));
  TmFeed *feed = tm_session_feed_of(session, GST_MESSAGE_SRC(message));

  gst_message_parse_error(message, &error, &debug);
  g_log(TM_SESSION_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "error from %s: %s (%s)", source,
        error->message, debug != NULL ? debug : "");
  tm_session_dump_graph(session, "testimony-client-error");
  if (feed != NULL) {
    g_autofree gchar *id = g_strdup(tm_feed_get_id(feed));
    why = g_strdup_printf("the media of feed %s failed: %s", id, error->message);
    tm_session_feed_failed(session, id, why);
    return;
  }
  if (session->failed)
    return;
  session->failed = TRUE;
  why = g_strdup_printf("media failure in %s: %s", GST_OBJECT_NAME(GST_MESSAGE_SRC(message)),
                        error->message);
  session->listener.failed(session->user_data, why);
}

static void
tm_session_recalculate_latency(GstElement *pipeline)
{
  g_autoptr(GstQuery) query = gst_query_new_latency();
  GstClockTime min = 0;

  gst_bin_recalculate_latency(GST_BIN(pipeline));
  if (gst_element_query(pipeline, query))
    gst_query_parse_latency(query, NULL, &min, NULL);
  g_log(TM_SESSION_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "%s pipeline latency %" GST_TIME_FORMAT,
        GST_OBJECT_NAME(pipeline), GST_TIME_ARGS(min));
}

static gboolean
tm_session_on_bus(GstBus *bus, GstMessage *message, gpointer user_data)
{
  TmSession *session = user_data;

  switch (GST_MESSAGE_TYPE(message)) {
  case GST_MESSAGE_ERROR:
    tm_session_bus_error(session, message);
    break;
  case GST_MESSAGE_WARNING: {
    g_autoptr(GError) error = NULL;
    gst_message_parse_warning(message, &error, NULL);
    g_log(TM_SESSION_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "warning from %s: %s",
          GST_OBJECT_NAME(GST_MESSAGE_SRC(message)), error->message);
    break;
  }
  case GST_MESSAGE_LATENCY:
    tm_session_recalculate_latency(session->publish_pipeline);
    tm_session_recalculate_latency(session->pipeline);
    break;
  default:
    break;
  }
  return G_SOURCE_CONTINUE;
}

/* The first dtlsdec of a process generates the DTLS certificate all webrtcbins share (about
 * 180 ms of CPU, several times that on a busy machine). Doing it now, in parallel with the
 * TLS connection to the relay, takes it off the path to the first offer. */
static gpointer
tm_session_warm_dtls(gpointer data)
{
  GstElement *dtls = gst_element_factory_make("dtlsdec", NULL);

  if (dtls != NULL)
    gst_object_unref(gst_object_ref_sink(dtls));
  return NULL;
}

TmSession *
tm_session_new(const gchar *publish_description, gboolean headless,
               const gchar *const *media_addresses, const TmSessionListener *listener,
               gpointer user_data, GError **error)
{
  TmSession *session = g_new0(TmSession, 1);
  g_autoptr(GstBus) bus = NULL;

  g_thread_unref(g_thread_new("tm-dtls-warmup", tm_session_warm_dtls, NULL));
  session->media_addresses = g_strdupv((gchar **) media_addresses);
  session->listener = *listener;
  session->user_data = user_data;
  session->anchor = g_atomic_rc_box_new0(TmSessionAnchor);
  session->anchor->session = session;
  session->anchor->context = g_main_context_ref_thread_default();
  session->feeds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  session->publish_pipeline = gst_object_ref_sink(gst_pipeline_new("publish"));
  session->pipeline = gst_object_ref_sink(gst_pipeline_new("receive"));
  bus = gst_pipeline_get_bus(GST_PIPELINE(session->publish_pipeline));
  gst_bus_add_watch(bus, tm_session_on_bus, session);
  gst_object_unref(bus);
  bus = gst_pipeline_get_bus(GST_PIPELINE(session->pipeline));
  gst_bus_add_watch(bus, tm_session_on_bus, session);
  if (!headless) {
    session->display = tm_display_new(GST_BIN(session->pipeline), error);
    if (session->display == NULL) {
      tm_session_free(session);
      return NULL;
    }
  }
  if (!tm_session_build_publish(session, publish_description, error)) {
    tm_session_free(session);
    return NULL;
  }
  return session;
}

gboolean
tm_session_start(TmSession *session, GError **error)
{
  if (gst_element_set_state(session->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE ||
      gst_element_set_state(session->publish_pipeline, GST_STATE_PLAYING) ==
          GST_STATE_CHANGE_FAILURE) {
    tm_session_dump_graph(session, "testimony-client-start");
    g_set_error(error, TM_SESSION_ERROR, TM_SESSION_ERROR_STATE,
                "the media pipeline does not start (camera, microphone or display missing?)");
    return FALSE;
  }
  return TRUE;
}

void
tm_session_subscribe(TmSession *session, const gchar *feed_id, const gchar *name,
                     const gchar *role, TmAnalysis *analysis)
{
  g_autofree gchar *label = NULL;
  GstElement *webrtc;
  TmFeed *feed;

  if (g_hash_table_contains(session->feeds, feed_id))
    return;
  webrtc = tm_session_make_webrtc(session, feed_id, "webrtc");
  if (webrtc == NULL) {
    session->listener.feed_failed(session->user_data, feed_id,
                                  "the GStreamer element webrtcbin is missing");
    return;
  }
  label = g_strdup_printf("%s (%s)", name != NULL ? name : feed_id, role != NULL ? role : "?");
  feed = tm_feed_new(feed_id, label, analysis, session->display, webrtc);
  g_hash_table_insert(session->feeds, g_strdup(feed_id), feed);
  gst_bin_add(GST_BIN(session->pipeline), tm_feed_get_bin(feed));
  gst_element_sync_state_with_parent(tm_feed_get_bin(feed));
}

void
tm_session_unsubscribe(TmSession *session, const gchar *feed_id)
{
  TmFeed *feed = g_hash_table_lookup(session->feeds, feed_id);

  if (feed == NULL)
    return;
  g_hash_table_remove(session->feeds, feed_id);
  tm_feed_remove(feed, GST_BIN(session->pipeline));
  g_log(TM_SESSION_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "feed %s removed", feed_id);
}

static void
tm_session_feed_failed(TmSession *session, const gchar *feed, const gchar *why)
{
  g_autofree gchar *id = g_strdup(feed);

  if (!g_hash_table_contains(session->feeds, id))
    return;
  tm_session_unsubscribe(session, id);
  session->listener.feed_failed(session->user_data, id, why);
}

gboolean
tm_session_has_target(TmSession *session, const gchar *target)
{
  return tm_session_webrtc_for(session, target) != NULL;
}

static void
tm_session_on_answer_set(GstPromise *promise, gpointer user_data)
{
  TmSessionPromise *p = user_data;
  gchar *why = NULL;

  if (tm_session_promise_reply(promise, &why) == NULL && why != NULL &&
      g_strcmp0(why, "no reply") != 0)
    tm_session_post(p->target, TM_SESSION_EVENT_ERROR,
                    g_strdup_printf("the relay's answer for %s was not accepted: %s",
                                    p->target->target, why), 0);
  g_free(why);
}

gboolean
tm_session_apply_answer(TmSession *session, const gchar *target, const gchar *sdp,
                        GError **error)
{
  GstElement *webrtc = tm_session_webrtc_for(session, target);
  GstSDPMessage *message = NULL;
  GstWebRTCSessionDescription *answer;
  GstPromise *promise;
  TmSessionTarget *t;

  if (webrtc == NULL) {
    g_set_error(error, TM_SESSION_ERROR, TM_SESSION_ERROR_UNKNOWN_TARGET,
                "an answer for %s, which has no connection", target);
    return FALSE;
  }
  if (gst_sdp_message_new_from_text(sdp, &message) != GST_SDP_OK || message == NULL ||
      gst_sdp_message_medias_len(message) == 0) {
    if (message != NULL)
      gst_sdp_message_free(message);
    g_set_error(error, TM_SESSION_ERROR, TM_SESSION_ERROR_BAD_SDP,
                "the relay's answer for %s is not valid SDP", target);
    return FALSE;
  }
  answer = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, message);
  t = tm_session_target_new(session->anchor, target);
  promise = gst_promise_new_with_change_func(tm_session_on_answer_set,
                                             tm_session_promise_new(t, webrtc),
                                             tm_session_promise_free);
  g_signal_emit_by_name(webrtc, "set-remote-description", answer, promise);
  gst_promise_unref(promise);
  gst_webrtc_session_description_free(answer);
  tm_session_target_unref(t);
  return TRUE;
}

gboolean
tm_session_add_candidate(TmSession *session, const gchar *target, guint mline,
                         const gchar *candidate, GError **error)
{
  GstElement *webrtc = tm_session_webrtc_for(session, target);
  g_autofree gchar *line = NULL;

  if (webrtc == NULL) {
    g_set_error(error, TM_SESSION_ERROR, TM_SESSION_ERROR_UNKNOWN_TARGET,
                "a candidate for %s, which has no connection", target);
    return FALSE;
  }
  if (candidate[0] == '\0')
    return TRUE;                 /* end of candidates: nothing to tell webrtcbin */
  if (g_str_has_prefix(candidate, "a="))
    candidate += 2;
  line = g_strdup(candidate);
  g_signal_emit_by_name(webrtc, "add-ice-candidate", mline, line);
  return TRUE;
}

void
tm_session_set_slate(TmSession *session, const gchar *text)
{
  if (session->display != NULL)
    tm_display_set_slate(session->display, text);
}

void
tm_session_set_indicator(TmSession *session, TmDisplayIndicator which, const gchar *markup)
{
  if (session->display != NULL)
    tm_display_set_indicator(session->display, which, markup);
}

void
tm_session_stop_publishing(TmSession *session)
{
  if (session->publish == NULL)
    return;
  gst_element_set_state(session->publish_pipeline, GST_STATE_NULL);
  gst_bin_remove(GST_BIN(session->publish_pipeline), session->publish);
  gst_bin_remove(GST_BIN(session->publish_pipeline), session->media);
  session->publish = NULL;
  session->media = NULL;
  g_log(TM_SESSION_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "publishing stopped; receiving only");
}

void
tm_session_stop(TmSession *session)
{
  if (session->publish_pipeline != NULL)
    gst_element_set_state(session->publish_pipeline, GST_STATE_NULL);
  if (session->pipeline != NULL)
    gst_element_set_state(session->pipeline, GST_STATE_NULL);
}

void
tm_session_free(TmSession *session)
{
  GHashTableIter iter;
  gpointer value;

  if (session == NULL)
    return;
  session->anchor->session = NULL;
  tm_session_stop(session);
  g_hash_table_iter_init(&iter, session->feeds);
  while (g_hash_table_iter_next(&iter, NULL, &value))
    tm_feed_free(value);
  g_hash_table_unref(session->feeds);
  if (session->publish_pipeline != NULL) {
    g_autoptr(GstBus) bus = gst_pipeline_get_bus(GST_PIPELINE(session->publish_pipeline));
    gst_bus_remove_watch(bus);
    gst_object_unref(session->publish_pipeline);
  }
  if (session->pipeline != NULL) {
    g_autoptr(GstBus) bus = gst_pipeline_get_bus(GST_PIPELINE(session->pipeline));
    gst_bus_remove_watch(bus);
    gst_object_unref(session->pipeline);
  }
  tm_display_free(session->display);
  g_strfreev(session->media_addresses);
  tm_session_anchor_unref(session->anchor);
  g_free(session);
}
