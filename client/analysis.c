/* analysis.c — frame and audio analysis of one remote participant (see analysis.h). */
#include "analysis.h"

#include "timeline.h"

#include <gst/audio/audio.h>
#include <gst/fft/gstfftf32.h>
#include <gst/video/video.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#define LOG_DOMAIN "testimony-analysis"
#define GRID 32
#define SILENCE_DB -120.0

struct _TmAnalysis {
  gint64 start_us;
  GMutex lock;

  /* video, under lock */
  guint64 frames;
  gint width, height;
  gint r, g, b;
  gint64 first_frame_ms;
  gint64 subscribed_us; /* the first subscription, 0 before */
  gint64 subscribe_frame_ms;
  GstCaps *video_caps; /* caps VIDEO_INFO was made from */
  GstVideoInfo video_info;
  TmTimeline video_timeline;

  /* audio, under lock */
  guint64 buffers;
  gint rate;
  gfloat ring[TM_ANALYSIS_AUDIO_WINDOW];
  guint ring_pos;  /* next write index */
  guint ring_fill; /* valid samples, <= TM_ANALYSIS_AUDIO_WINDOW */
  TmTimeline audio_timeline;

  _Atomic gint64 latency_ns; /* of the streams up to the probes, 0: not known yet */
};

/* The receive pipeline's latency (one per process), set when it is recalculated. */
static _Atomic gint64 pipeline_latency_ns;

static gint64
valid_ns(GstClockTime t)
{
  return GST_CLOCK_TIME_IS_VALID(t) ? (gint64) t : 0;
}

void
tm_analysis_set_pipeline_latency(GstClockTime latency)
{
  atomic_store(&pipeline_latency_ns, valid_ns(latency));
}

void
tm_analysis_set_latency(TmAnalysis *analysis, GstClockTime latency)
{
  atomic_store(&analysis->latency_ns, valid_ns(latency));
}

/* When BUFFER, passing PAD now, is to be presented and the time now, both in the running time
 * of PAD's element's clock; FALSE when either is unknown (not playing, no timestamp, no
 * latency yet). */
static gboolean
presentation_times(TmAnalysis *analysis, GstPad *pad, GstBuffer *buffer, gint64 *present_ns,
                   gint64 *arrival_ns)
{
  GstElement *element = GST_PAD_PARENT(pad);
  g_autoptr(GstClock) clock = element != NULL ? gst_element_get_clock(element) : NULL;
  g_autoptr(GstEvent) event = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0);
  const GstSegment *segment = NULL;
  guint64 running;
  /* a sink in the pipeline waits for its latency, one that syncs without a pipeline latency
   * (headless) for the streams' own */
  gint64 latency = MAX(atomic_load(&pipeline_latency_ns), atomic_load(&analysis->latency_ns));

  /* not before the latency is known (the jitter buffers add some) */
  if (latency <= 0 || clock == NULL || event == NULL || !GST_BUFFER_PTS_IS_VALID(buffer))
    return FALSE;
  gst_event_parse_segment(event, &segment);
  running = gst_segment_to_running_time(segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer));
  if (!GST_CLOCK_TIME_IS_VALID(running))
    return FALSE;
  *present_ns = (gint64) running + latency;
  *arrival_ns = (gint64) (gst_clock_get_time(clock) - gst_element_get_base_time(element));
  return TRUE;
}

/* Adds one shown or late buffer to TIMELINE (under the lock); a new freeze or gap is logged
 * (debug) with its times, to tell in a run's log a hole in the sender's timestamps from a late
 * or dropped buffer. */
static void
timeline_add(TmAnalysis *analysis, TmTimeline *timeline, const gchar *what, gint64 present_ns,
             gint64 duration_ns, gint64 arrival_ns)
{
  guint64 gaps = timeline->gaps, late = timeline->late;
  gint64 last_end_ns = timeline->last_end_ns;

  tm_timeline_add(timeline, present_ns, duration_ns, arrival_ns);
  if (timeline->gaps != gaps)
    g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG,
          "%s: no %s for %" G_GINT64_FORMAT " ms (shown until %" G_GINT64_FORMAT
          " ms, the next at %" G_GINT64_FORMAT " ms, handed over %" G_GINT64_FORMAT
          " ms before it; latency %" G_GINT64_FORMAT " ms; %" G_GUINT64_FORMAT " late so far)",
          what, what, (present_ns - last_end_ns) / 1000000, last_end_ns / 1000000,
          present_ns / 1000000, (present_ns - arrival_ns) / 1000000,
          MAX(atomic_load(&pipeline_latency_ns), atomic_load(&analysis->latency_ns)) / 1000000,
          timeline->late);
  else if (timeline->late != late && timeline->late % 30 == 1)
    g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG,
          "%s: came %" G_GINT64_FORMAT " ms after its time (%" G_GUINT64_FORMAT " late so far)",
          what, (arrival_ns - present_ns) / 1000000, timeline->late);
}

static void
analysis_clear(gpointer data)
{
  TmAnalysis *analysis = data;

  gst_clear_caps(&analysis->video_caps);
  g_mutex_clear(&analysis->lock);
}

TmAnalysis *
tm_analysis_new(gint64 start_us)
{
  TmAnalysis *analysis = g_atomic_rc_box_new0(TmAnalysis);

  analysis->start_us = start_us;
  analysis->rate = 48000;
  tm_timeline_init(&analysis->video_timeline, TM_TIMELINE_VIDEO_TOLERANCE_NS,
                   TM_TIMELINE_VIDEO_FREEZE_NS);
  tm_timeline_init(&analysis->audio_timeline, TM_TIMELINE_AUDIO_TOLERANCE_NS,
                   TM_TIMELINE_AUDIO_GAP_NS);
  g_mutex_init(&analysis->lock);
  return analysis;
}

void
tm_analysis_mark_subscribed(TmAnalysis *analysis, gint64 now_us)
{
  g_mutex_lock(&analysis->lock);
  if (analysis->subscribed_us == 0)
    analysis->subscribed_us = now_us;
  g_mutex_unlock(&analysis->lock);
}

TmAnalysis *
tm_analysis_ref(TmAnalysis *analysis)
{
  return g_atomic_rc_box_acquire(analysis);
}

void
tm_analysis_unref(TmAnalysis *analysis)
{
  g_atomic_rc_box_release_full(analysis, analysis_clear);
}

void
tm_analysis_mean_rgb(const guint8 *pixels, gint width, gint height, gint stride, gint *r, gint *g,
                     gint *b)
{
  guint64 sum[3] = { 0, 0, 0 };
  guint count = 0;

  *r = *g = *b = 0;
  if (width <= 0 || height <= 0)
    return;
  for (gint gy = 0; gy < GRID; gy++) {
    gint y = (gint) (((gint64) gy * 2 + 1) * height / (2 * GRID));
    const guint8 *row = pixels + (gsize) y * (gsize) stride;
    for (gint gx = 0; gx < GRID; gx++) {
      gint x = (gint) (((gint64) gx * 2 + 1) * width / (2 * GRID));
      const guint8 *px = row + (gsize) x * 4;
      sum[0] += px[0];
      sum[1] += px[1];
      sum[2] += px[2];
      count++;
    }
  }
  *r = (gint) ((sum[0] + count / 2) / count);
  *g = (gint) ((sum[1] + count / 2) / count);
  *b = (gint) ((sum[2] + count / 2) / count);
}

static GstPadProbeReturn
video_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  TmAnalysis *analysis = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  g_autoptr(GstCaps) caps = gst_pad_get_current_caps(pad);
  GstVideoFrame frame;
  gint r, g, b;
  gint64 present, arrival;
  gboolean timed;

  if (buffer == NULL || caps == NULL)
    return GST_PAD_PROBE_OK;
  timed = presentation_times(analysis, pad, buffer, &present, &arrival);

  g_mutex_lock(&analysis->lock);
  if (timed)
    timeline_add(analysis, &analysis->video_timeline, "picture", present, 0, arrival);
  if (analysis->video_caps == NULL || !gst_caps_is_equal(caps, analysis->video_caps)) {
    if (!gst_video_info_from_caps(&analysis->video_info, caps) ||
        GST_VIDEO_INFO_FORMAT(&analysis->video_info) != GST_VIDEO_FORMAT_RGBx) {
      gst_clear_caps(&analysis->video_caps);
      g_mutex_unlock(&analysis->lock);
      return GST_PAD_PROBE_OK;
    }
    gst_caps_replace(&analysis->video_caps, caps);
  }
  if (!gst_video_frame_map(&frame, &analysis->video_info, buffer, GST_MAP_READ)) {
    g_mutex_unlock(&analysis->lock);
    return GST_PAD_PROBE_OK;
  }
  tm_analysis_mean_rgb(GST_VIDEO_FRAME_PLANE_DATA(&frame, 0), GST_VIDEO_FRAME_WIDTH(&frame),
                       GST_VIDEO_FRAME_HEIGHT(&frame), GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0), &r,
                       &g, &b);
  analysis->r = r;
  analysis->g = g;
  analysis->b = b;
  analysis->width = GST_VIDEO_FRAME_WIDTH(&frame);
  analysis->height = GST_VIDEO_FRAME_HEIGHT(&frame);
  gst_video_frame_unmap(&frame);
  if (analysis->frames == 0) {
    gint64 now = g_get_monotonic_time();
    analysis->first_frame_ms = MAX((now - analysis->start_us) / 1000, 1);
    if (analysis->subscribed_us != 0)
      analysis->subscribe_frame_ms = MAX((now - analysis->subscribed_us) / 1000, 1);
  }
  analysis->frames++;
  g_mutex_unlock(&analysis->lock);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
audio_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  TmAnalysis *analysis = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  g_autoptr(GstCaps) caps = gst_pad_get_current_caps(pad);
  GstAudioInfo audio_info;
  GstMapInfo map;
  gint64 present, arrival;
  gboolean timed;

  if (buffer == NULL || caps == NULL || !gst_audio_info_from_caps(&audio_info, caps) ||
      GST_AUDIO_INFO_FORMAT(&audio_info) != GST_AUDIO_FORMAT_F32LE ||
      GST_AUDIO_INFO_CHANNELS(&audio_info) != 1)
    return GST_PAD_PROBE_OK;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ))
    return GST_PAD_PROBE_OK;
  timed = presentation_times(analysis, pad, buffer, &present, &arrival);

  g_mutex_lock(&analysis->lock);
  if (timed)
    timeline_add(analysis, &analysis->audio_timeline, "sound", present,
                 GST_BUFFER_DURATION_IS_VALID(buffer) ? (gint64) GST_BUFFER_DURATION(buffer) : 0,
                 arrival);
  analysis->rate = GST_AUDIO_INFO_RATE(&audio_info);
  for (gsize i = 0; i + sizeof(gfloat) <= map.size; i += sizeof(gfloat)) {
    gfloat sample;
    memcpy(&sample, map.data + i, sizeof sample);
    analysis->ring[analysis->ring_pos] = sample;
    analysis->ring_pos = (analysis->ring_pos + 1) % TM_ANALYSIS_AUDIO_WINDOW;
    if (analysis->ring_fill < TM_ANALYSIS_AUDIO_WINDOW)
      analysis->ring_fill++;
  }
  analysis->buffers++;
  g_mutex_unlock(&analysis->lock);
  gst_buffer_unmap(buffer, &map);
  return GST_PAD_PROBE_OK;
}

static void
watch_pad(TmAnalysis *analysis, GstPad *pad, GstPadProbeCallback callback)
{
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, callback, tm_analysis_ref(analysis),
                    (GDestroyNotify) tm_analysis_unref);
}

void
tm_analysis_watch_video(TmAnalysis *analysis, GstPad *pad)
{
  watch_pad(analysis, pad, video_probe);
}

void
tm_analysis_watch_audio(TmAnalysis *analysis, GstPad *pad)
{
  watch_pad(analysis, pad, audio_probe);
}

static gdouble
bin_power(const GstFFTF32Complex *bin)
{
  return (gdouble) bin->r * bin->r + (gdouble) bin->i * bin->i;
}

/* Peak of the power spectrum above 20 Hz, refined by a parabola through the log powers of the
 * peak bin and its two neighbours (Hann window: error well under a tenth of a bin). */
static gdouble
dominant_frequency(const GstFFTF32Complex *spectrum, guint bins, guint n, gint rate)
{
  guint first = MAX((guint) ceil(20.0 * n / rate), 1u);
  guint peak = 0;
  gdouble peak_power = 0.0;
  gdouble delta = 0.0;
  gdouble a, b, c, denom;

  for (guint k = first; k + 1 < bins; k++) {
    gdouble power = bin_power(&spectrum[k]);
    if (power > peak_power) {
      peak_power = power;
      peak = k;
    }
  }
  if (peak == 0 || peak_power < 1e-12)
    return 0.0;
  a = log(1e-30 + bin_power(&spectrum[peak - 1]));
  b = log(1e-30 + peak_power);
  c = log(1e-30 + bin_power(&spectrum[peak + 1]));
  denom = a - 2.0 * b + c;
  if (denom < 0.0)
    delta = CLAMP(0.5 * (a - c) / denom, -0.5, 0.5);
  return ((gdouble) peak + delta) * rate / n;
}

void
tm_analysis_measure_audio(const gfloat *samples, guint n, gint rate, gdouble *rms_db,
                          gdouble *freq_hz)
{
  g_autofree gfloat *windowed = NULL;
  g_autofree GstFFTF32Complex *spectrum = NULL;
  GstFFTF32 *fft;
  gdouble energy = 0.0;

  *rms_db = SILENCE_DB;
  *freq_hz = 0.0;
  if (n < 2 || rate <= 0)
    return;
  n &= ~1u;
  for (guint i = 0; i < n; i++)
    energy += (gdouble) samples[i] * samples[i];
  if (energy / n > 0.0)
    *rms_db = MAX(10.0 * log10(energy / n), SILENCE_DB);
  if (*rms_db <= SILENCE_DB)
    return;

  windowed = g_memdup2(samples, n * sizeof(gfloat));
  spectrum = g_new0(GstFFTF32Complex, n / 2 + 1);
  fft = gst_fft_f32_new((gint) n, FALSE);
  gst_fft_f32_window(fft, windowed, GST_FFT_WINDOW_HANN);
  gst_fft_f32_fft(fft, windowed, spectrum);
  gst_fft_f32_free(fft);
  *freq_hz = dominant_frequency(spectrum, n / 2 + 1, n, rate);
}

void
tm_analysis_snapshot(TmAnalysis *analysis, TmAnalysisSnapshot *out)
{
  gfloat window[TM_ANALYSIS_AUDIO_WINDOW];
  guint fill;
  gint rate;

  memset(out, 0, sizeof *out);
  g_mutex_lock(&analysis->lock);
  out->frames = analysis->frames;
  out->width = analysis->width;
  out->height = analysis->height;
  out->r = analysis->r;
  out->g = analysis->g;
  out->b = analysis->b;
  out->first_frame_ms = analysis->first_frame_ms;
  out->subscribe_frame_ms = analysis->subscribe_frame_ms;
  out->buffers = analysis->buffers;
  out->shown = analysis->video_timeline.shown;
  out->late = analysis->video_timeline.late;
  out->freezes = analysis->video_timeline.gaps;
  out->longest_freeze_ms = analysis->video_timeline.longest_gap_ns / 1000000;
  out->audio_late = analysis->audio_timeline.late;
  out->audio_gaps = analysis->audio_timeline.gaps;
  out->longest_audio_gap_ms = analysis->audio_timeline.longest_gap_ns / 1000000;
  out->latency_ms = atomic_load(&analysis->latency_ns) / 1000000;
  fill = analysis->ring_fill;
  rate = analysis->rate;
  /* oldest sample first */
  for (guint i = 0; i < fill; i++) {
    guint idx =
      (analysis->ring_pos + TM_ANALYSIS_AUDIO_WINDOW - fill + i) % TM_ANALYSIS_AUDIO_WINDOW;
    window[i] = analysis->ring[idx];
  }
  g_mutex_unlock(&analysis->lock);

  if (out->buffers > 0)
    tm_analysis_measure_audio(window, fill, rate, &out->rms_db, &out->freq_hz);
}
