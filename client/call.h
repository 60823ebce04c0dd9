/* call.h — the client's media and its WebRTC connections to the relay: the publish webrtcbin
 * (fed by the profile's encode chains), one subscribe webrtcbin per remote feed, and (unless
 * headless) the display, in two pipelines (see call.c).
 *
 * Every WebRTC connection is named by its target as in docs/protocol.md: "publish", or the
 * feed's participant id. The client always offers; the relay answers. webrtcbin calls back from
 * its own threads; the call hands everything to the listener on the main context that
 * created it, in order (an offer always before its candidates). */
#pragma once

#include <glib.h>

#include "analysis.h"
#include "display.h"
#include "playout.h"

#define TM_CALL_ERROR (tm_call_error_quark())

typedef enum {
  TM_CALL_ERROR_PIPELINE, /* the profile does not build, or lacks video_out/audio_out */
  TM_CALL_ERROR_STATE,    /* the pipeline would not start */
  TM_CALL_ERROR_UNKNOWN_TARGET,
  TM_CALL_ERROR_BAD_SDP,
} TmCallError;

GQuark tm_call_error_quark(void);

typedef struct _TmCall TmCall;

typedef struct {
  /* Our SDP offer for TARGET is ready: send it ("publish" or "subscribe"). */
  void (*offer)(gpointer user_data, const gchar *target, const gchar *sdp);
  /* A local ICE candidate for TARGET ("" = end of candidates). */
  void (*candidate)(gpointer user_data, const gchar *target, guint mline, const gchar *candidate);
  /* The pipeline failed (or the publish connection, when publish_failed is NULL): the client
   * cannot go on. */
  void (*failed)(gpointer user_data, const gchar *message);
  /* The publish connection failed (ICE or DTLS): tm_call_restart_publish() makes it again. */
  void (*publish_failed)(gpointer user_data, const gchar *message);
  /* The subscribe connection for FEED failed; the call has already dropped it. */
  void (*feed_failed)(gpointer user_data, const gchar *feed, const gchar *message);
} TmCallListener;

/* How the call shows what it receives. */
typedef enum {
  TM_CALL_HEADLESS, /* no window, no sound */
  TM_CALL_WINDOW,   /* a window of tiles and the loudspeaker */
  TM_CALL_KIOSK,    /* a fullscreen kiosk window (display.h) and the loudspeaker */
} TmCallDisplay;

/* PUBLISH_DESCRIPTION: the loaded profile (see profile.h). SHOWN: how received media is shown.
 * MEDIA_ADDRESSES: the only local IP addresses ICE may use, NULL for every interface (libnice
 * leaves loopback out then). */
TmCall *tm_call_new(const gchar *publish_description, TmCallDisplay shown,
                    const gchar *const *media_addresses, const TmCallListener *listener,
                    gpointer user_data, GError **error);
/* Starts the pipeline and negotiates the publish connection. */
gboolean tm_call_start(TmCall *call, GError **error);
/* Creates the subscribe connection for FEED (name and role label its tile) and offers.
 * ANALYSIS (a new reference is taken) watches its decoded media. No-op if it exists. */
void tm_call_subscribe(TmCall *call, const gchar *feed, const gchar *name, const gchar *role,
                       TmAnalysis *analysis);
/* Removes FEED's connection and branches from the running pipeline. No-op if unknown. */
void tm_call_unsubscribe(TmCall *call, const gchar *feed);
/* The relay's `repair` for FEED (tm_feed_set_repair); ignored for a feed not subscribed to. */
void tm_call_set_repair(TmCall *call, const gchar *feed, const TmRepair *repair);
gboolean tm_call_has_target(TmCall *call, const gchar *target);
gboolean tm_call_apply_answer(TmCall *call, const gchar *target, const gchar *sdp, GError **error);
gboolean tm_call_add_candidate(TmCall *call, const gchar *target, guint mline,
                               const gchar *candidate, GError **error);
/* The waiting-room slate on the display (no-op when headless); NULL clears it. */
void tm_call_set_slate(TmCall *call, const gchar *text);
/* A corner indicator on the display (no-op when headless); NULL hides it. */
void tm_call_set_indicator(TmCall *call, TmDisplayIndicator which, const gchar *markup);
/* Our own role, as the relay named it (the kiosk's layout; no-op when headless). */
void tm_call_set_own_role(TmCall *call, const gchar *role);
/* Builds the capture and the publish connection again and offers anew (the old connection's
 * link dropped). No-op when receiving only. */
/* The TURN servers (URLS, "turn:…"/"turns:…") and credentials the relay gave at join, for
 * every connection made from now on (NULL URLS: none). TRUE when the publish connection was
 * made without TURN and should be made again (tm_call_restart_publish) to use them. */
gboolean tm_call_set_ice_servers(TmCall *call, const gchar *const *urls, const gchar *username,
                                 const gchar *credential);
gboolean tm_call_restart_publish(TmCall *call, GError **error);
/* Stops and drops the publish connection and the capture (receive-only participant). */
void tm_call_stop_publishing(TmCall *call);
/* Stops the pipeline (NULL state). */
void tm_call_stop(TmCall *call);
void tm_call_free(TmCall *call);
