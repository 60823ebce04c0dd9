/* kiosk.c — the kiosk's words and its fullscreen window (see kiosk.h). */
#include "kiosk.h"

#include <gst/gst.h>

#ifdef HAVE_X11
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#endif

/* One fact in both languages; the Thai wording is the web pages' (web/i18n/th.js). */
typedef struct {
  const gchar *en;
  const gchar *th;
} Words;

static const Words mic_on = { "Your microphone is on.", "ไมโครโฟนของคุณเปิดอยู่" };
static const Words mic_muted = { "The court has muted your microphone.",
                                 "ศาลได้ปิดเสียงไมโครโฟนของคุณ" };
static const Words cam_on = { "Your camera is on.", "กล้องของคุณเปิดอยู่" };
static const Words cam_stopped = { "The court has stopped your video.", "ศาลได้หยุดวิดีโอของคุณ" };
static const Words watch_only = { "You watch and listen only.", "คุณดูและฟังเท่านั้น" };
static const Words please_wait = { "Please wait. The court will admit you shortly.",
                                   "กรุณารอสักครู่ ศาลจะให้คุณเข้าร่วมในไม่ช้า" };

/* WORDS (static text, no markup characters) as "English  ·  Thai" lines, coloured when the
 * court did it. */
static void
append(GString *out, const Words *words, gboolean by_court)
{
  if (out->len > 0)
    g_string_append_c(out, '\n');
  if (by_court)
    g_string_append(out, "<span foreground=\"#ffb347\" weight=\"bold\">");
  g_string_append_printf(out, "%s  \u00B7  %s", words->en, words->th);
  if (by_court)
    g_string_append(out, "</span>");
}

gchar *
tm_kiosk_status_markup(const TmKioskState *state)
{
  GString *out = g_string_new(NULL);

  if (!state->publishing) {
    append(out, &watch_only, FALSE);
    return g_string_free(out, FALSE);
  }
  append(out, state->audio_muted ? &mic_muted : &mic_on, state->audio_muted);
  append(out, state->video_muted ? &cam_stopped : &cam_on, state->video_muted);
  return g_string_free(out, FALSE);
}

gchar *
tm_kiosk_waiting_text(const gchar *title)
{
  return g_strdup_printf("%s\n\n%s\n%s", title != NULL ? title : "Hearing · การพิจารณาคดี",
                         please_wait.en, please_wait.th);
}

#ifdef HAVE_X11

struct _TmKioskWindow {
  Display *display; /* our own connection: the window lives as long as it is open */
  Window window;
  gint width, height;
};

/* An invisible pointer: nobody should see an arrow over the judge's face. */
static void
hide_pointer(TmKioskWindow *k)
{
  static const char empty[8] = { 0 };
  XColor black = { 0 };
  Pixmap pixmap = XCreateBitmapFromData(k->display, k->window, empty, 8, 8);
  Cursor cursor = XCreatePixmapCursor(k->display, pixmap, pixmap, &black, &black, 0, 0);

  XDefineCursor(k->display, k->window, cursor);
  XFreeCursor(k->display, cursor);
  XFreePixmap(k->display, pixmap);
}

TmKioskWindow *
tm_kiosk_window_new(GError **error)
{
  TmKioskWindow *k;
  Display *display = XOpenDisplay(NULL);
  int screen;
  Atom state, fullscreen;

  if (display == NULL) {
    g_set_error(error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE,
                "the kiosk cannot open the X display \"%s\"",
                g_getenv("DISPLAY") != NULL ? g_getenv("DISPLAY") : "");
    return NULL;
  }
  k = g_new0(TmKioskWindow, 1);
  k->display = display;
  screen = DefaultScreen(display);
  k->width = DisplayWidth(display, screen);
  k->height = DisplayHeight(display, screen);
  k->window = XCreateSimpleWindow(display, RootWindow(display, screen), 0, 0, (guint) k->width,
                                  (guint) k->height, 0, BlackPixel(display, screen),
                                  BlackPixel(display, screen));
  XStoreName(display, k->window, "testimony");
  state = XInternAtom(display, "_NET_WM_STATE", False);
  fullscreen = XInternAtom(display, "_NET_WM_STATE_FULLSCREEN", False);
  XChangeProperty(display, k->window, state, XA_ATOM, 32, PropModeReplace,
                  (unsigned char *) &fullscreen, 1);
  hide_pointer(k);
  XMapRaised(display, k->window);
  XSync(display, False);
  return k;
}

void
tm_kiosk_window_get_size(TmKioskWindow *window, gint *width, gint *height)
{
  *width = window->width;
  *height = window->height;
}

guintptr
tm_kiosk_window_get_handle(TmKioskWindow *window)
{
  return (guintptr) window->window;
}

void
tm_kiosk_window_free(TmKioskWindow *window)
{
  if (window == NULL)
    return;
  XDestroyWindow(window->display, window->window);
  XCloseDisplay(window->display);
  g_free(window);
}

#else

TmKioskWindow *
tm_kiosk_window_new(GError **error)
{
  g_set_error(error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE,
              "this testimony-client was built without X11: the kiosk needs Wayland");
  return NULL;
}

void
tm_kiosk_window_get_size(TmKioskWindow *window, gint *width, gint *height)
{
  *width = *height = 0;
}

guintptr
tm_kiosk_window_get_handle(TmKioskWindow *window)
{
  return 0;
}

void
tm_kiosk_window_free(TmKioskWindow *window)
{}

#endif

gboolean
tm_kiosk_shows(const gchar *own_role, const gchar *role)
{
  if (g_strcmp0(own_role, "witness") != 0)
    return TRUE;
  return g_strcmp0(role, "judge") == 0 || g_strcmp0(role, "interpreter") == 0;
}
