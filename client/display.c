/* display.c — remote pictures tiled on one canvas, remote sound mixed (see display.h).
 *
 * A live black background at sink_0 keeps the compositor (and a silent live source keeps the
 * audiomixer) running before anyone arrives and after everyone left. Tiles keep 4:3 and are
 * laid out on a grid of ceil(sqrt(n)) columns. The sinks are autovideosink/autoaudiosink; for
 * development without a screen, $TESTIMONY_VIDEO_SINK / $TESTIMONY_AUDIO_SINK replace them with
 * a pipeline description ("fakesink", or "videoconvert ! pngenc ! multifilesink
 * location=tile%05d.png"). */
#include "display.h"

#include <math.h>

#define LOG_DOMAIN "testimony-display"
#define CANVAS_WIDTH 1280
#define CANVAS_HEIGHT 720

struct _TmDisplay {
  GMutex lock;
  GstElement *compositor;
  GstElement *slate; /* textoverlay on the whole canvas (waiting room) */
  GstElement *indicators[TM_DISPLAY_N_INDICATORS]; /* textoverlays in the top corners */
  GstElement *mixer;
  GPtrArray *tiles;     /* compositor sink pads of remote feeds, refs, under lock */
  gboolean slate_shown; /* under lock: tiles hidden (a frozen last picture of someone
                                    must not stay on a waiting witness's screen) */
};

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

static gboolean
build_video(TmDisplay *display, GstBin *pipeline, GError **error)
{
  const gchar *factories[] = { "videotestsrc", "capsfilter",  "compositor",   "textoverlay",
                               "textoverlay",  "textoverlay", "videoconvert", "autovideosink" };
  const gchar *names[] = { "display_background", "display_canvas",    "display_compositor",
                           "display_slate",      "display_recording", "display_waiting",
                           "display_convert",    "display_video_sink" };
  GstElement *e[G_N_ELEMENTS(factories)];
  GstElement *sink =
    make_sink("TESTIMONY_VIDEO_SINK", "autovideosink", "display_video_sink", error);
  g_autoptr(GstCaps) caps =
    gst_caps_new_simple("video/x-raw", "width", G_TYPE_INT, CANVAS_WIDTH, "height", G_TYPE_INT,
                        CANVAS_HEIGHT, "framerate", GST_TYPE_FRACTION, 30, 1, NULL);

  if (!build_chain(pipeline, factories, names, sink, e, G_N_ELEMENTS(e), error))
    return FALSE;
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
  return TRUE;
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
tm_display_new(GstBin *pipeline, GError **error)
{
  TmDisplay *display = g_new0(TmDisplay, 1);

  g_mutex_init(&display->lock);
  display->tiles = g_ptr_array_new_with_free_func(gst_object_unref);
  if (!build_video(display, pipeline, error) || !build_audio(display, pipeline, error)) {
    tm_display_free(display);
    return NULL;
  }
  return display;
}

/* Called with the lock held. */
static void
layout(TmDisplay *display)
{
  guint n = display->tiles->len;
  guint cols, rows;
  gint cell_w, cell_h, tile_w, tile_h;

  if (n == 0)
    return;
  cols = (guint) ceil(sqrt((gdouble) n));
  rows = (n + cols - 1) / cols;
  cell_w = CANVAS_WIDTH / (gint) cols;
  cell_h = CANVAS_HEIGHT / (gint) rows;
  tile_w = MIN(cell_w, cell_h * 4 / 3);
  tile_h = tile_w * 3 / 4;
  for (guint i = 0; i < n; i++) {
    gint col = (gint) (i % cols), row = (gint) (i / cols);
    g_object_set(g_ptr_array_index(display->tiles, i), "xpos", col * cell_w + (cell_w - tile_w) / 2,
                 "ypos", row * cell_h + (cell_h - tile_h) / 2, "width", tile_w, "height", tile_h,
                 "zorder", 1u, "alpha", display->slate_shown ? 0.0 : 1.0, NULL);
  }
}

GstPad *
tm_display_add_video(TmDisplay *display)
{
  GstPad *pad = gst_element_request_pad_simple(display->compositor, "sink_%u");

  if (pad == NULL)
    return NULL;
  g_mutex_lock(&display->lock);
  g_ptr_array_add(display->tiles, gst_object_ref(pad));
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
  g_ptr_array_remove(display->tiles, pad);
  layout(display);
  g_mutex_unlock(&display->lock);
  if (parent != NULL)
    gst_element_release_request_pad(parent, pad);
  gst_object_unref(pad);
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
  g_mutex_clear(&display->lock);
  g_free(display);
}
