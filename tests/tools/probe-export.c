/* probe-export.c — what an exported Matroska file holds, as JSON on stdout, for
 * recording_tools.py:
 *
 *   {"duration_s": D, "streams": [{"kind": "video"|"audio", "title": T, "caps": C}...],
 *    "decoded": [{"kind", "title", "first_s", "last_s", "count", "max_hole_s", "hole_at_s",
 *                 video: "colour": [R,G,B] (mean over the frames), "grid": [[R,G,B] x 4]
 *                 (the mean of each quarter of the picture),
 *                 audio: "tones": {"440": power, ...}}]}
 *
 * The stream list comes from GstDiscoverer (as gst-discoverer-1.0 prints it); the rest from
 * decoding every stream (decodebin) into appsinks. */
#include <gst/app/app.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  GString *json;
  GMutex lock;
  GPtrArray *streams; /* of Stream* */
} Probe;

typedef struct {
  gboolean video;
  char *title;
  double first, last, max_hole, hole_at;
  guint64 count;
  double rgb[3], grid[4][3];
  guint64 frames;
  double tone_power[4]; /* 440, 660, 880, 1100 Hz: Goertzel power, summed */
  guint64 samples;
} Stream;

static const double tones[] = { 440, 660, 880, 1100 };

static void
discover(const char *uri, GString *json)
{
  GError *err = NULL;
  GstDiscoverer *d = gst_discoverer_new(30 * GST_SECOND, &err);
  GstDiscovererInfo *info = d != NULL ? gst_discoverer_discover_uri(d, uri, &err) : NULL;
  if (info == NULL) {
    g_string_append_printf(json, "\"error\": \"%s\", ", err != NULL ? err->message : "?");
    g_clear_error(&err);
    return;
  }
  g_string_append_printf(json, "\"duration_s\": %.3f, \"streams\": [",
                         (double) gst_discoverer_info_get_duration(info) / GST_SECOND);
  GList *streams = gst_discoverer_info_get_stream_list(info);
  gboolean first = TRUE;
  for (GList *l = streams; l != NULL; l = l->next) {
    GstDiscovererStreamInfo *si = l->data;
    const char *kind = GST_IS_DISCOVERER_VIDEO_INFO(si) ? "video"
      : GST_IS_DISCOVERER_AUDIO_INFO(si)                ? "audio"
                                                        : NULL;
    if (kind == NULL)
      continue;
    const GstTagList *tags = gst_discoverer_stream_info_get_tags(si);
    g_autofree char *title = NULL;
    if (tags != NULL)
      gst_tag_list_get_string(tags, GST_TAG_TITLE, &title);
    g_autoptr(GstCaps) caps = gst_discoverer_stream_info_get_caps(si);
    g_autofree char *cs = caps != NULL ? gst_caps_to_string(caps) : g_strdup("");
    g_autofree char *et = g_strescape(title != NULL ? title : "", NULL);
    g_autofree char *ec = g_strescape(cs, NULL);
    g_string_append_printf(json, "%s{\"kind\": \"%s\", \"title\": \"%s\", \"caps\": \"%s\"}",
                           first ? "" : ", ", kind, et, ec);
    first = FALSE;
  }
  g_string_append(json, "], ");
  gst_discoverer_stream_info_list_free(streams);
  gst_discoverer_info_unref(info);
  g_object_unref(d);
}

static void
note_time(Stream *s, GstBuffer *b)
{
  if (!GST_BUFFER_PTS_IS_VALID(b))
    return;
  double t = (double) GST_BUFFER_PTS(b) / GST_SECOND;
  if (s->count == 0)
    s->first = t;
  else if (t - s->last > s->max_hole) {
    s->max_hole = t - s->last;
    s->hole_at = s->last;
  }
  s->last = t;
  s->count++;
}

static void
video_frame(Stream *s, GstSample *sample)
{
  GstBuffer *b = gst_sample_get_buffer(sample);
  GstStructure *st = gst_caps_get_structure(gst_sample_get_caps(sample), 0);
  int w = 0, h = 0;
  gst_structure_get_int(st, "width", &w);
  gst_structure_get_int(st, "height", &h);
  GstMapInfo map;
  if (w <= 0 || h <= 0 || !gst_buffer_map(b, &map, GST_MAP_READ))
    return;
  int stride = (w * 3 + 3) & ~3;
  double sum[3] = { 0 }, grid[4][3] = { { 0 } };
  guint64 n = 0, gn[4] = { 0 };
  for (int y = 0; y < h; y += 8) {
    for (int x = 0; x < w; x += 8) {
      const guint8 *px = map.data + (gsize) y * stride + (gsize) x * 3;
      if ((gsize) (px - map.data) + 3 > map.size)
        continue;
      int q = (y >= h / 2) * 2 + (x >= w / 2);
      for (int c = 0; c < 3; c++) {
        sum[c] += px[c];
        grid[q][c] += px[c];
      }
      n++;
      gn[q]++;
    }
  }
  gst_buffer_unmap(b, &map);
  for (int c = 0; c < 3; c++) {
    s->rgb[c] += sum[c] / MAX(n, 1);
    for (int q = 0; q < 4; q++)
      s->grid[q][c] += grid[q][c] / MAX(gn[q], 1);
  }
  s->frames++;
}

static void
audio_block(Stream *s, GstSample *sample)
{
  GstBuffer *b = gst_sample_get_buffer(sample);
  GstMapInfo map;
  if (!gst_buffer_map(b, &map, GST_MAP_READ))
    return;
  const float *x = (const float *) map.data;
  gsize n = map.size / sizeof(float);
  for (gsize k = 0; k < G_N_ELEMENTS(tones); k++) {
    double coeff = 2 * cos(2 * G_PI * tones[k] / 48000), s0, s1 = 0, s2 = 0;
    for (gsize i = 0; i < n; i++) {
      s0 = x[i] + coeff * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    s->tone_power[k] += (s1 * s1 + s2 * s2 - coeff * s1 * s2) / MAX(n, 1) / MAX(n, 1);
  }
  s->samples += n;
  gst_buffer_unmap(b, &map);
}

static GstPadProbeReturn
tag_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Stream *s = data;
  GstEvent *ev = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(ev) == GST_EVENT_TAG && s->title == NULL) {
    GstTagList *tags;
    gst_event_parse_tag(ev, &tags);
    gst_tag_list_get_string(tags, GST_TAG_TITLE, &s->title);
  }
  return GST_PAD_PROBE_OK;
}

static GstFlowReturn
on_sample(GstAppSink *sink, gpointer data)
{
  Stream *s = data;
  GstSample *sample = gst_app_sink_pull_sample(sink);
  if (sample == NULL)
    return GST_FLOW_EOS;
  note_time(s, gst_sample_get_buffer(sample));
  if (s->video)
    video_frame(s, sample);
  else
    audio_block(s, sample);
  gst_sample_unref(sample);
  return GST_FLOW_OK;
}

static void
on_pad(GstElement *decodebin, GstPad *pad, gpointer data)
{
  Probe *p = data;
  g_autoptr(GstCaps) caps = gst_pad_query_caps(pad, NULL);
  const char *name = gst_structure_get_name(gst_caps_get_structure(caps, 0));
  gboolean video = g_str_has_prefix(name, "video/");
  if (!video && !g_str_has_prefix(name, "audio/"))
    return;
  GstElement *pipe = GST_ELEMENT(gst_element_get_parent(decodebin));
  const char *desc = video ? "videoconvert ! video/x-raw,format=RGB ! appsink sync=false"
                           : "audioconvert ! audioresample ! "
                             "audio/x-raw,format=F32LE,channels=1,rate=48000 ! appsink sync=false";
  GstElement *bin = gst_parse_bin_from_description(desc, TRUE, NULL);
  Stream *s = g_new0(Stream, 1);
  s->video = video;
  g_mutex_lock(&p->lock);
  g_ptr_array_add(p->streams, s);
  g_mutex_unlock(&p->lock);
  GstIterator *it = gst_bin_iterate_sinks(GST_BIN(bin));
  GValue v = G_VALUE_INIT;
  if (gst_iterator_next(it, &v) == GST_ITERATOR_OK) {
    GstAppSinkCallbacks cb = { .new_sample = on_sample };
    gst_app_sink_set_callbacks(GST_APP_SINK(g_value_get_object(&v)), &cb, s, NULL);
    g_value_unset(&v);
  }
  gst_iterator_free(it);
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, tag_probe, s, NULL);
  gst_bin_add(GST_BIN(pipe), bin);
  gst_element_sync_state_with_parent(bin);
  g_autoptr(GstPad) sink = gst_element_get_static_pad(bin, "sink");
  gst_pad_link(pad, sink);
  gst_object_unref(pipe);
}

static void
decode(const char *path, Probe *p)
{
  GstElement *pipe = gst_pipeline_new(NULL);
  GstElement *src = gst_element_factory_make("filesrc", NULL);
  GstElement *dec = gst_element_factory_make("decodebin", NULL);
  g_object_set(src, "location", path, NULL);
  gst_bin_add_many(GST_BIN(pipe), src, dec, NULL);
  gst_element_link(src, dec);
  g_signal_connect(dec, "pad-added", G_CALLBACK(on_pad), p);
  gst_element_set_state(pipe, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus(pipe);
  GstMessage *msg =
    gst_bus_timed_pop_filtered(bus, 300 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (msg != NULL && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError *err = NULL;
    gst_message_parse_error(msg, &err, NULL);
    g_autofree char *e = g_strescape(err->message, NULL);
    g_string_append_printf(p->json, "\"decode_error\": \"%s\", ", e);
    g_error_free(err);
  }
  if (msg != NULL)
    gst_message_unref(msg);
  gst_object_unref(bus);
  gst_element_set_state(pipe, GST_STATE_NULL);
  gst_object_unref(pipe);
}

static void
print_stream(GString *j, const Stream *s)
{
  g_autofree char *title = g_strescape(s->title != NULL ? s->title : "", NULL);
  g_string_append_printf(j,
                         "{\"kind\": \"%s\", \"title\": \"%s\", \"first_s\": %.3f, "
                         "\"last_s\": %.3f, \"count\": %" G_GUINT64_FORMAT ", "
                         "\"max_hole_s\": %.3f, \"hole_at_s\": %.3f, ",
                         s->video ? "video" : "audio", title, s->first, s->last, s->count,
                         s->max_hole, s->hole_at);
  if (s->video) {
    double n = (double) MAX(s->frames, 1);
    g_string_append_printf(j, "\"colour\": [%.0f, %.0f, %.0f], \"grid\": [", s->rgb[0] / n,
                           s->rgb[1] / n, s->rgb[2] / n);
    for (int q = 0; q < 4; q++)
      g_string_append_printf(j, "%s[%.0f, %.0f, %.0f]", q ? ", " : "", s->grid[q][0] / n,
                             s->grid[q][1] / n, s->grid[q][2] / n);
    g_string_append(j, "]}");
  } else {
    g_string_append(j, "\"tones\": {");
    for (gsize k = 0; k < G_N_ELEMENTS(tones); k++)
      g_string_append_printf(j, "%s\"%.0f\": %.6g", k ? ", " : "", tones[k], s->tone_power[k]);
    g_string_append(j, "}}");
  }
}

int
main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  if (argc != 2) {
    fprintf(stderr, "usage: probe-export FILE.mkv\n");
    return 2;
  }
  g_autofree char *abs = g_canonicalize_filename(argv[1], NULL);
  g_autofree char *uri = gst_filename_to_uri(abs, NULL);
  Probe p = { .json = g_string_new("{"), .streams = g_ptr_array_new() };
  g_mutex_init(&p.lock);
  discover(uri, p.json);
  decode(abs, &p);
  g_string_append(p.json, "\"decoded\": [");
  for (guint i = 0; i < p.streams->len; i++) {
    if (i > 0)
      g_string_append(p.json, ", ");
    print_stream(p.json, g_ptr_array_index(p.streams, i));
  }
  g_string_append(p.json, "]}");
  printf("%s\n", p.json->str);
  return 0;
}
