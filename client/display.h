/* display.h — the window and the loudspeaker (not headless): remote pictures tiled by a
 * compositor on a black canvas, remote sound mixed by an audiomixer. Thread-safe: pads are
 * requested from streaming threads and released from the main thread. */
#pragma once

#include <gst/gst.h>

typedef struct _TmDisplay TmDisplay;

/* Small notices on the canvas, above the tiles and the slate. */
typedef enum {
  TM_DISPLAY_INDICATOR_RECORDING, /* top right: the hearing is being recorded */
  TM_DISPLAY_INDICATOR_WAITING,   /* top left: how many wait to be admitted (judge, clerk) */
  TM_DISPLAY_INDICATOR_STATUS,    /* bottom centre: the kiosk's own microphone and camera */
  TM_DISPLAY_N_INDICATORS
} TmDisplayIndicator;

/* Adds the display elements to PIPELINE. KIOSK: a fullscreen window laid out for one person
 * (the judge large, the others and a self-view beside, a caption band; docs/client.md). */
TmDisplay *tm_display_new(GstBin *pipeline, gboolean kiosk, GError **error);
/* A compositor sink pad for a new tile of a remote of ROLE (ref returned); tiles are laid out
 * again. */
GstPad *tm_display_add_video(TmDisplay *display, const gchar *role);
/* An audiomixer sink pad (ref returned). */
GstPad *tm_display_add_audio(TmDisplay *display);
/* Releases a pad got from tm_display_add_video/_audio (unlinked first); drops the ref. */
void tm_display_release(TmDisplay *display, GstPad *pad);
/* Text in the middle of the canvas (the waiting-room slate), with every tile hidden; NULL or ""
 * clears it and shows the tiles again. TEXT is plain text (a title may hold "&" or "<"). */
void tm_display_set_slate(TmDisplay *display, const gchar *text);
/* Pango MARKUP in the indicator's corner; NULL or "" hides it. */
void tm_display_set_indicator(TmDisplay *display, TmDisplayIndicator which, const gchar *markup);
/* Our own role, once the relay named it: a witness's kiosk shows only the judge and the
 * interpreter. */
void tm_display_set_own_role(TmDisplay *display, const gchar *role);
/* The kiosk's self-view shows the raw pictures that pass PAD (the encoder's sink pad in the
 * publish pipeline) from the first one on; NULL hides it (we stopped publishing). No-op unless
 * kiosk. */
void tm_display_watch_self(TmDisplay *display, GstPad *pad);
void tm_display_free(TmDisplay *display);
