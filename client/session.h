/* session.h — the client's media: one GstPipeline holding the publish webrtcbin (fed by the
 * profile's encode chains), one subscribe webrtcbin per remote feed, and (unless headless) the
 * display.
 *
 * Every WebRTC connection is named by its target as in docs/protocol.md: "publish", or the
 * feed's participant id. The client always offers; the relay answers. webrtcbin calls back from
 * its own threads; the session hands everything to the listener on the main context that
 * created it, in order (an offer always before its candidates). */
#pragma once

#include <glib.h>

#include "analysis.h"
#include "display.h"

#define TM_SESSION_ERROR (tm_session_error_quark())

typedef enum {
  TM_SESSION_ERROR_PIPELINE,     /* the profile does not build, or lacks video_out/audio_out */
  TM_SESSION_ERROR_STATE,        /* the pipeline would not start */
  TM_SESSION_ERROR_UNKNOWN_TARGET,
  TM_SESSION_ERROR_BAD_SDP,
} TmSessionError;

GQuark tm_session_error_quark(void);

typedef struct _TmSession TmSession;

typedef struct {
  /* Our SDP offer for TARGET is ready: send it ("publish" or "subscribe"). */
  void (*offer)(gpointer user_data, const gchar *target, const gchar *sdp);
  /* A local ICE candidate for TARGET ("" = end of candidates). */
  void (*candidate)(gpointer user_data, const gchar *target, guint mline,
                    const gchar *candidate);
  /* The publish connection or the pipeline failed: the client cannot go on. */
  void (*failed)(gpointer user_data, const gchar *message);
  /* The subscribe connection for FEED failed; the session has already dropped it. */
  void (*feed_failed)(gpointer user_data, const gchar *feed, const gchar *message);
} TmSessionListener;

/* PUBLISH_DESCRIPTION: the loaded profile (see profile.h). HEADLESS: no window, no sound.
 * MEDIA_ADDRESSES: the only local IP addresses ICE may use, NULL for every interface (libnice
 * leaves loopback out then). */
TmSession *tm_session_new(const gchar *publish_description, gboolean headless,
                          const gchar *const *media_addresses,
                          const TmSessionListener *listener, gpointer user_data,
                          GError **error);
/* Starts the pipeline and negotiates the publish connection. */
gboolean tm_session_start(TmSession *session, GError **error);
/* Creates the subscribe connection for FEED (name and role label its tile) and offers.
 * ANALYSIS (a new reference is taken) watches its decoded media. No-op if it exists. */
void tm_session_subscribe(TmSession *session, const gchar *feed, const gchar *name,
                          const gchar *role, TmAnalysis *analysis);
/* Removes FEED's connection and branches from the running pipeline. No-op if unknown. */
void tm_session_unsubscribe(TmSession *session, const gchar *feed);
gboolean tm_session_has_target(TmSession *session, const gchar *target);
gboolean tm_session_apply_answer(TmSession *session, const gchar *target, const gchar *sdp,
                                 GError **error);
gboolean tm_session_add_candidate(TmSession *session, const gchar *target, guint mline,
                                  const gchar *candidate, GError **error);
/* The waiting-room slate on the display (no-op when headless); NULL clears it. */
void tm_session_set_slate(TmSession *session, const gchar *text);
/* A corner indicator on the display (no-op when headless); NULL hides it. */
void tm_session_set_indicator(TmSession *session, TmDisplayIndicator which, const gchar *markup);
/* Stops and drops the publish connection and the capture (receive-only participant). */
void tm_session_stop_publishing(TmSession *session);
/* Stops the pipeline (NULL state). */
void tm_session_stop(TmSession *session);
void tm_session_free(TmSession *session);
