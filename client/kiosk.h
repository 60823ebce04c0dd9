/* kiosk.h — what a kiosk (testimony-client --kiosk) adds to the window: its fullscreen X11
 * window, and the words it shows the person in front of it, in English and Thai.
 *
 * The words are plain functions of the state (tested by client/test-kiosk.c); the window is the
 * only X11 code of the client. */
#pragma once

#include <glib.h>

/* The state the kiosk's caption tells: whether we publish (an observer does not), and whether
 * the court stopped forwarding our microphone or camera (the relay's `muted`). */
typedef struct {
  gboolean publishing;
  gboolean audio_muted; /* by the court */
  gboolean video_muted; /* by the court */
} TmKioskState;

/* The caption at the bottom of the kiosk: one English line, one Thai line per fact, as Pango
 * markup (what the court did stands out in a warm colour). Free with g_free. */
gchar *tm_kiosk_status_markup(const TmKioskState *state);
/* Whether the kiosk of someone with role OWN_ROLE shows the picture of a remote with ROLE: a
 * witness sees only the judge and the interpreter, as on the witness's web page. */
gboolean tm_kiosk_shows(const gchar *own_role, const gchar *role);
/* The waiting-room slate of the kiosk: TITLE (plain text, may be NULL), then the request to
 * wait in English and Thai. Plain text. */
gchar *tm_kiosk_waiting_text(const gchar *title);

typedef struct _TmKioskWindow TmKioskWindow;

/* A window covering the X screen of $DISPLAY, asked of the window manager as fullscreen
 * (_NET_WM_STATE_FULLSCREEN), black, without a pointer, mapped. NULL with ERROR when there is no
 * X display (or the client was built without X11). */
TmKioskWindow *tm_kiosk_window_new(GError **error);
/* The screen size the window covers. */
void tm_kiosk_window_get_size(TmKioskWindow *window, gint *width, gint *height);
/* The X window id, for GstVideoOverlay. */
guintptr tm_kiosk_window_get_handle(TmKioskWindow *window);
void tm_kiosk_window_free(TmKioskWindow *window);
