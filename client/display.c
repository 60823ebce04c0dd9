/* display.c — remote pictures tiled on one canvas, remote sound mixed (see display.h).
 *
 * A live black background at sink_0 keeps the compositor (and a silent live source keeps the
 * audiomixer) running before anyone arrives and after everyone left. Tiles keep 4:3 and are
 * laid out on a grid of ceil(sqrt(n)) columns; a kiosk lays them out its own way (below,
 * layout_kiosk). The sinks are autovideosink/autoaudiosink (a kiosk: ximagesink in its own
 * fullscreen window, or waylandsink fullscreen); for development without a screen,
 * $TESTIMONY_VIDEO_SINK / $TESTIMONY_AUDIO_SINK replace them with a pipeline description
 * ("fakesink", or "videoconvert ! pngenc ! multifilesink location=tile%05d.png"). */
#include "display.h"

#include <gst/app/gstappsrc.h>
#include <gst/video/videooverlay.h>
#include <math.h>

#include "kiosk.h"

#define LOG_DOMAIN "testimony-display"
#define CANVAS_WIDTH 1280
#define CANVAS_HEIGHT 720

/* A remote's picture: its compositor sink pad (a ref) and the role it was announced with. */
typedef struct {
  GstPad *pad;
  gchar *role;
} Tile;

struct _TmDisplay {
  GMutex lock;
  gboolean kiosk;
  gint width, height;    /* the canvas */
  TmKioskWindow *window; /* the kiosk's own X11 window, or NULL */
  GstElement *compositor;
  GstElement *slate; /* textoverlay on the whole canvas (waiting room) */
  GstElement *indicators[TM_DISPLAY_N_INDICATORS]; /* textoverlays in the corners and the
                                                     kiosk's caption band */
  GstElement *mixer;
  GstElement *self_src; /* kiosk: appsrc of our own camera's pictures, else NULL */
  GstPad *self_pad;     /* kiosk: its compositor sink pad (a ref), else NULL */
  GPtrArray *tiles;     /* Tile*, remote feeds, under lock */
  gchar *own_role;      /* under lock: our role once joined (the kiosk's rule), else NULL */
  gboolean self_shown;  /* under lock: a picture of ourselves has arrived */
  gboolean slate_shown; /* under lock: tiles hidden (a frozen last picture of someone
                                    must not stay on a waiting witness's screen) */
};

static void
tile_free(gpointer data)
{
  Tile *tile = data;

  gst_object_unref(tile->pad);
  g_free(tile->role);
  g_free(tile);
}

static GstElement *
make_element(const gchar *factory, const gchar *name, GError **error)
{
  GstElement *element = gst_element_factory_make(factory, name);

  if (element == NULL)
    g_set_error(error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
                "the GStreamer element \"%s\" is missing", factory);
  return element;
}

/* The sink: $ENV as a pipeline description if set, else FALLBACK. */
static GstElement *
make_sink(const gchar *env, const gchar *fallback, const gchar *name, GError **error)
{
  const gchar *value = g_getenv(env);
  GstElement *sink;

  if (value == NULL || value[0] == '\0') {
    /* without a display autovideosink ends up probing dfbvideosink, which crashes */
    if (g_str_equal(fallback, "autovideosink") && g_getenv("DISPLAY") == NULL &&
        g_getenv("WAYLAND_DISPLAY") == NULL) {
      g_set_error(error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE,
                  "there is no display to show the hearing on (neither DISPLAY nor "
                  "WAYLAND_DISPLAY is set); use --headless for a client without a window");
      return NULL;
    }
    return make_element(fallback, name, error);
  }
  sink = gst_parse_bin_from_description(value, TRUE, error);
  if (sink != NULL)
    gst_object_set_name(GST_OBJECT(sink), name);
  return sink;
}

/* Builds FACTORIES[0] ! ... ! FACTORIES[n-2] ! SINK inside PIPELINE (SINK: floating, taken);
 * returns the elements in OUT. */
static gboolean
build_chain(GstBin *pipeline, const gchar *const *factories, const gchar *const *names,
            GstElement *sink, GstElement **out, guint n, GError **error)
{
  if (sink == NULL)
    return FALSE;
  out[n - 1] = sink;
  for (guint i = 0; i + 1 < n; i++) {
    out[i] = make_element(factories[i], names[i], error);
    if (out[i] == NULL) {
      for (guint j = 0; j < i; j++)
        gst_object_unref(out[j]);
      gst_object_unref(sink);
      return FALSE;
    }
  }
  for (guint i = 0; i < n; i++)
    gst_bin_add(pipeline, out[i]);
  for (guint i = 0; i + 1 < n; i++) {
    if (!gst_element_link(out[i], out[i + 1])) {
      g_set_error(error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
                  "cannot link %s to %s for the display", factories[i], factories[i + 1]);
      return FALSE;
    }
  }
  return TRUE;
}

/* The kiosk's video sink: $TESTIMONY_VIDEO_SINK if set; else waylandsink fullscreen on
 * Wayland; else ximagesink in a window of our own that covers the X screen (the canvas then has
 * the screen's size: ximagesink does not scale). */
static GstElement *
make_kiosk_sink(TmDisplay *display, GError **error)
{
  const gchar *env = g_getenv("TESTIMONY_VIDEO_SINK");
  GstElement *sink;

  if (env != NULL && env[0] != '\0')
    return make_sink("TESTIMONY_VIDEO_SINK", "autovideosink", "display_video_sink", error);
  if (g_getenv("WAYLAND_DISPLAY") != NULL) {
    sink = make_element("waylandsink", "display_video_sink", error);
    if (sink != NULL)
      g_object_set(sink, "fullscreen", TRUE, NULL);
    return sink;
  }
  if (g_getenv("DISPLAY") == NULL) {
    g_set_error(error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE,
                "there is no display to show the hearing on (neither DISPLAY nor "
                "WAYLAND_DISPLAY is set); a kiosk needs a screen");
    return NULL;
  }
  display->window = tm_kiosk_window_new(error);
  if (display->window == NULL)
    return NULL;
  tm_kiosk_window_get_size(display->window, &display->width, &display->height);
  sink = make_element("ximagesink", "display_video_sink", error);
  if (sink != NULL) {
    gst_video_overlay_set_window_handle(GST_VIDEO_OVERLAY(sink),
                                        tm_kiosk_window_get_handle(display->window));
    g_object_set(sink, "force-aspect-ratio", TRUE, NULL);
  }
  return sink;
}

/* The kiosk's own camera: appsrc ! videoconvert ! textoverlay into a compositor pad of its own
 * (labelled "You"), hidden until
 * the first picture arrives (tm_display_watch_self). */
static gboolean
build_self_view(TmDisplay *display, GstBin *pipeline, GError **error)
{
  GstElement *src = make_element("appsrc", "display_self", error);
  GstElement *convert =
    src != NULL ? make_element("videoconvert", "display_self_convert", error) : NULL;
  GstElement *label =
    convert != NULL ? make_element("textoverlay", "display_self_label", error) : NULL;
  g_autoptr(GstPad) out = NULL;

  if (label == NULL) {
    g_clear_pointer(&src, gst_object_unref);
    g_clear_pointer(&convert, gst_object_unref);
    return FALSE;
  }
  /* never hold the capture back: an old picture of ourselves is dropped */
  g_object_set(src, "is-live", TRUE, "format", GST_FORMAT_TIME, "do-timestamp", TRUE, "max-buffers",
               (guint64) 2, "leaky-type", GST_APP_LEAKY_TYPE_DOWNSTREAM, NULL);
  /* the same caption as a remote's tile (feed.c) */
  g_object_set(label, "text", "You · คุณ", "font-desc", "Sans 20", "shaded-background", TRUE, NULL);
  gst_util_set_object_arg(G_OBJECT(label), "valignment", "bottom");
  gst_util_set_object_arg(G_OBJECT(label), "halignment", "left");
  gst_bin_add_many(pipeline, src, convert, label, NULL);
  display->self_pad = gst_element_request_pad_simple(display->compositor, "sink_%u");
  out = gst_element_get_static_pad(label, "src");
  if (!gst_element_link_many(src, convert, label, NULL) || display->self_pad == NULL ||
      gst_pad_link(out, display->self_pad) != GST_PAD_LINK_OK) {
    g_set_error(error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
                "cannot link the kiosk's self-view to the display");
    return FALSE;
  }
  g_object_set(display->self_pad, "alpha", 0.0, "zorder", 2u, NULL);
  display->self_src = src;
  return TRUE;
}

static gboolean
build_video(TmDisplay *display, GstBin *pipeline, GError **error)
{
  const gchar *factories[] = { "videotestsrc", "capsfilter",   "compositor",
                               "textoverlay",  "textoverlay",  "textoverlay",
                               "textoverlay",  "videoconvert", "autovideosink" };
  const gchar *names[] = { "display_background", "display_canvas",    "display_compositor",
                           "display_slate",      "display_recording", "display_waiting",
                           "display_status",     "display_convert",   "display_video_sink" };
  GstElement *e[G_N_ELEMENTS(factories)];
  GstElement *sink = display->kiosk
    ? make_kiosk_sink(display, error)
    : make_sink("TESTIMONY_VIDEO_SINK", "autovideosink", "display_video_sink", error);
  g_autoptr(GstCaps) caps = NULL;
  /* the caption's size follows the canvas (kiosk screens differ), not textoverlay's auto-resize */
  gint caption_px = MAX(12, display->height * 26 / CANVAS_HEIGHT);

  if (!build_chain(pipeline, factories, names, sink, e, G_N_ELEMENTS(e), error))
    return FALSE;
  caps =
    gst_caps_new_simple("video/x-raw", "width", G_TYPE_INT, display->width, "height", G_TYPE_INT,
                        display->height, "framerate", GST_TYPE_FRACTION, 30, 1, NULL);
  g_object_set(e[0], "is-live", TRUE, NULL);
  gst_util_set_object_arg(G_OBJECT(e[0]), "pattern", "black");
  g_object_set(e[1], "caps", caps, NULL);
  display->compositor = e[2];
  display->slate = e[3];
  g_object_set(display->slate, "text", "", "font-desc", "Sans 28", NULL);
  gst_util_set_object_arg(G_OBJECT(display->slate), "valignment", "center");
  gst_util_set_object_arg(G_OBJECT(display->slate), "halignment", "center");
  for (guint i = 0; i < TM_DISPLAY_N_INDICATORS; i++) {
    GstElement *indicator = display->indicators[i] = e[4 + i];
    g_object_set(indicator, "text", "", "font-desc", "Sans 18", "xpad", 24, "ypad", 20, NULL);
    gst_util_set_object_arg(G_OBJECT(indicator), "valignment", "top");
    gst_util_set_object_arg(G_OBJECT(indicator), "halignment",
                            i == TM_DISPLAY_INDICATOR_RECORDING ? "right" : "left");
  }
  {
    GstElement *caption = display->indicators[TM_DISPLAY_INDICATOR_STATUS];
    g_autofree gchar *desc = g_strdup_printf("Sans %dpx", caption_px);
    g_object_set(caption, "font-desc", desc, "auto-resize", FALSE, "ypad", display->height / 48,
                 NULL);
    gst_util_set_object_arg(G_OBJECT(caption), "valignment", "bottom");
    gst_util_set_object_arg(G_OBJECT(caption), "halignment", "center");
    gst_util_set_object_arg(G_OBJECT(caption), "line-alignment", "center");
  }
  return !display->kiosk || build_self_view(display, pipeline, error);
}

static gboolean
build_audio(TmDisplay *display, GstBin *pipeline, GError **error)
{
  const gchar *factories[] = { "audiotestsrc", "audiomixer", "audioconvert", "audioresample",
                               "autoaudiosink" };
  const gchar *names[] = { "display_silence", "display_mixer", "display_audio_convert",
                           "display_resample", "display_audio_sink" };
  GstElement *e[G_N_ELEMENTS(factories)];
  GstElement *sink =
    make_sink("TESTIMONY_AUDIO_SINK", "autoaudiosink", "display_audio_sink", error);

  if (!build_chain(pipeline, factories, names, sink, e, G_N_ELEMENTS(e), error))
    return FALSE;
  g_object_set(e[0], "is-live", TRUE, NULL);
  gst_util_set_object_arg(G_OBJECT(e[0]), "wave", "silence");
  display->mixer = e[1];
  return TRUE;
}

TmDisplay *
tm_display_new(GstBin *pipeline, gboolean kiosk, GError **error)
{
  TmDisplay *display = g_new0(TmDisplay, 1);

  g_mutex_init(&display->lock);
  display->kiosk = kiosk;
  display->width = CANVAS_WIDTH;
  display->height = CANVAS_HEIGHT;
  display->tiles = g_ptr_array_new_with_free_func(tile_free);
  if (!build_video(display, pipeline, error) || !build_audio(display, pipeline, error)) {
    tm_display_free(display);
    return NULL;
  }
  return display;
}

static void
place(GstPad *pad, gint x, gint y, gint w, gint h, gboolean shown)
{
  g_object_set(pad, "xpos", x, "ypos", y, "width", MAX(w, 1), "height", MAX(h, 1), "alpha",
               shown ? 1.0 : 0.0, NULL);
}

/* The grid: ceil(sqrt(n)) columns of 4:3 tiles. Called with the lock held. */
static void
layout_grid(TmDisplay *display)
{
  guint n = display->tiles->len;
  guint cols, rows;
  gint cell_w, cell_h, tile_w, tile_h;

  if (n == 0)
    return;
  cols = (guint) ceil(sqrt((gdouble) n));
  rows = (n + cols - 1) / cols;
  cell_w = display->width / (gint) cols;
  cell_h = display->height / (gint) rows;
  tile_w = MIN(cell_w, cell_h * 4 / 3);
  tile_h = tile_w * 3 / 4;
  for (guint i = 0; i < n; i++) {
    Tile *tile = g_ptr_array_index(display->tiles, i);
    gint col = (gint) (i % cols), row = (gint) (i / cols);
    place(tile->pad, col * cell_w + (cell_w - tile_w) / 2, row * cell_h + (cell_h - tile_h) / 2,
          tile_w, tile_h, !display->slate_shown);
    g_object_set(tile->pad, "zorder", 1u, NULL);
  }
}

/* Whether the kiosk shows a remote of ROLE (tm_kiosk_shows; the relay decides what it may
 * forward, this decides the screen, and the relay is told so: attendance.c). */
static gboolean
kiosk_shows(TmDisplay *display, const gchar *role)
{
  return tm_kiosk_shows(display->own_role, role);
}

/* The kiosk: the (first) judge large on the left, everyone else it shows and then ourselves
 * stacked on the right, a band at the bottom for the caption. Called with the lock held. */
static void
layout_kiosk(TmDisplay *display)
{
  gint band = display->height / 6, area = display->height - band;
  gint big_w = MIN(display->width * 2 / 3, area * 4 / 3), big_h = big_w * 3 / 4;
  gint side_w = display->width - big_w, n_side = 0, slot = 0, cell_h, tile_w, tile_h;
  gboolean judge_placed = FALSE, self = display->self_shown && !display->slate_shown;

  for (guint i = 0; i < display->tiles->len; i++) {
    Tile *tile = g_ptr_array_index(display->tiles, i);
    if (kiosk_shows(display, tile->role) && (g_strcmp0(tile->role, "judge") != 0 || judge_placed))
      n_side++;
    judge_placed = judge_placed || g_strcmp0(tile->role, "judge") == 0;
  }
  n_side += self ? 1 : 0;
  cell_h = area / MAX(n_side, 1);
  tile_w = MIN(side_w, cell_h * 4 / 3);
  tile_h = tile_w * 3 / 4;
  judge_placed = FALSE;
  for (guint i = 0; i < display->tiles->len; i++) {
    Tile *tile = g_ptr_array_index(display->tiles, i);
    gboolean shown = !display->slate_shown && kiosk_shows(display, tile->role);
    g_object_set(tile->pad, "zorder", 1u, NULL);
    if (g_strcmp0(tile->role, "judge") == 0 && !judge_placed) {
      judge_placed = TRUE;
      place(tile->pad, 0, (area - big_h) / 2, big_w, big_h, shown);
    } else if (kiosk_shows(display, tile->role)) {
      place(tile->pad, big_w + (side_w - tile_w) / 2, slot * cell_h + (cell_h - tile_h) / 2, tile_w,
            tile_h, shown);
      slot++;
    } else {
      place(tile->pad, 0, 0, 1, 1, FALSE);
    }
  }
  if (display->self_pad != NULL)
    place(display->self_pad, big_w + (side_w - tile_w) / 2, slot * cell_h + (cell_h - tile_h) / 2,
          tile_w, tile_h, self);
}

/* Called with the lock held. */
static void
layout(TmDisplay *display)
{
  if (display->kiosk)
    layout_kiosk(display);
  else
    layout_grid(display);
}

GstPad *
tm_display_add_video(TmDisplay *display, const gchar *role)
{
  GstPad *pad = gst_element_request_pad_simple(display->compositor, "sink_%u");
  Tile *tile;

  if (pad == NULL)
    return NULL;
  tile = g_new0(Tile, 1);
  tile->pad = gst_object_ref(pad);
  tile->role = g_strdup(role);
  g_mutex_lock(&display->lock);
  g_ptr_array_add(display->tiles, tile);
  layout(display);
  g_mutex_unlock(&display->lock);
  return pad;
}

GstPad *
tm_display_add_audio(TmDisplay *display)
{
  return gst_element_request_pad_simple(display->mixer, "sink_%u");
}

void
tm_display_release(TmDisplay *display, GstPad *pad)
{
  g_autoptr(GstPad) peer = gst_pad_get_peer(pad);
  g_autoptr(GstElement) parent = gst_pad_get_parent_element(pad);

  if (peer != NULL)
    gst_pad_unlink(peer, pad);
  g_mutex_lock(&display->lock);
  for (guint i = 0; i < display->tiles->len; i++) {
    if (((Tile *) g_ptr_array_index(display->tiles, i))->pad == pad) {
      g_ptr_array_remove_index(display->tiles, i);
      break;
    }
  }
  layout(display);
  g_mutex_unlock(&display->lock);
  if (parent != NULL)
    gst_element_release_request_pad(parent, pad);
  gst_object_unref(pad);
}

void
tm_display_set_own_role(TmDisplay *display, const gchar *role)
{
  g_mutex_lock(&display->lock);
  g_free(display->own_role);
  display->own_role = g_strdup(role);
  layout(display);
  g_mutex_unlock(&display->lock);
}

/* The publish pipeline's raw pictures (its streaming thread): their caps, then a copy of each
 * picture for the kiosk's self-view, timestamped anew by the appsrc. */
static GstPadProbeReturn
on_own_picture(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  TmDisplay *display = user_data;
  gboolean first = FALSE;

  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    GstCaps *caps = NULL;
    if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
      gst_event_parse_caps(event, &caps);
      g_object_set(display->self_src, "caps", caps, NULL);
    }
    return GST_PAD_PROBE_OK;
  }
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *copy = gst_buffer_copy(GST_PAD_PROBE_INFO_BUFFER(info));
    GST_BUFFER_PTS(copy) = GST_BUFFER_DTS(copy) = GST_CLOCK_TIME_NONE;
    gst_app_src_push_buffer(GST_APP_SRC(display->self_src), copy);
    g_mutex_lock(&display->lock);
    if (!display->self_shown) {
      display->self_shown = first = TRUE;
      layout(display);
    }
    g_mutex_unlock(&display->lock);
    if (first)
      g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "kiosk: the self-view shows our camera");
  }
  return GST_PAD_PROBE_OK;
}

void
tm_display_watch_self(TmDisplay *display, GstPad *pad)
{
  if (display->self_src == NULL)
    return;
  if (pad == NULL) {
    g_mutex_lock(&display->lock);
    display->self_shown = FALSE;
    layout(display);
    g_mutex_unlock(&display->lock);
    return;
  }
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                    on_own_picture, display, NULL);
}

void
tm_display_set_slate(TmDisplay *display, const gchar *text)
{
  g_autofree gchar *escaped = g_markup_escape_text(text != NULL ? text : "", -1);

  g_mutex_lock(&display->lock);
  display->slate_shown = text != NULL && text[0] != '\0';
  layout(display);
  g_mutex_unlock(&display->lock);
  g_object_set(display->slate, "text", escaped, NULL);
}

void
tm_display_set_indicator(TmDisplay *display, TmDisplayIndicator which, const gchar *markup)
{
  g_autofree gchar *boxed = NULL;

  g_return_if_fail(which < TM_DISPLAY_N_INDICATORS);
  /* a dark box of its own: shaded-background is not drawn on every format the compositor may
   * negotiate, and the corner may lie over a bright tile */
  if (markup != NULL && markup[0] != '\0')
    boxed = g_strdup_printf("<span background=\"#000000\" bgalpha=\"60%%\"> %s </span>", markup);
  g_object_set(display->indicators[which], "text", boxed != NULL ? boxed : "", NULL);
}

void
tm_display_free(TmDisplay *display)
{
  if (display == NULL)
    return;
  g_ptr_array_unref(display->tiles);
  if (display->self_pad != NULL)
    gst_object_unref(display->self_pad);
  tm_kiosk_window_free(display->window);
  g_free(display->own_role);
  g_mutex_clear(&display->lock);
  g_free(display);
}
