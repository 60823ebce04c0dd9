/* feed.h — one subscribe connection: a GstBin holding a recv-only webrtcbin (audio Opus,
 * video VP8) and, as its pads appear, the decode branches: depayload, decode, convert,
 * analysis probes, then fakesinks (headless) or the display's compositor and audiomixer.
 * Used by call.c only. */
#pragma once

#include <gst/gst.h>

#include "analysis.h"
#include "display.h"
#include "playout.h"

typedef struct _TmFeed TmFeed;

/* DISPLAY: NULL when headless. LABEL: text drawn on the tile. ROLE: the remote's role (where
 * a kiosk puts the tile). WEBRTC: a configured, floating
 * webrtcbin (see call.c); the feed adds its recv-only transceivers and decodes its pads. */
TmFeed *tm_feed_new(const gchar *id, const gchar *label, const gchar *role, TmAnalysis *analysis,
                    TmDisplay *display, GstElement *webrtc);
/* What the relay's `repair` message tells of this feed (playout.h). Main thread. */
void tm_feed_set_repair(TmFeed *feed, const TmRepair *repair);
const gchar *tm_feed_get_id(TmFeed *feed);
GstElement *tm_feed_get_bin(TmFeed *feed);
GstElement *tm_feed_get_webrtc(TmFeed *feed);
/* Stops the feed's bin, unlinks it from the display and removes it from PIPELINE (it must have
 * been added to it), then frees the feed. Main thread only. */
void tm_feed_remove(TmFeed *feed, GstBin *pipeline);
/* Frees a feed whose bin was never added to a pipeline, or whose pipeline is stopped. */
void tm_feed_free(TmFeed *feed);
