/* analysis.h — what a person would see and hear of one remote participant.
 *
 * A TmAnalysis watches two pads of a remote's decode branches with buffer probes: decoded video
 * converted to RGBx (frame count, size, mean colour of the last frame, time of the first
 * frame) and decoded audio converted to mono F32 (buffer count, and the latest 4096 samples
 * for RMS level and dominant frequency). Probes run in streaming threads; snapshots are taken
 * from the main thread. The object is shared between the probes and its owner: ref-counted. */
#pragma once

#include <glib.h>
#include <gst/gst.h>

#define TM_ANALYSIS_AUDIO_WINDOW 4096

typedef struct _TmAnalysis TmAnalysis;

typedef struct {
  guint64 frames;            /* decoded video frames so far */
  gint width, height;        /* of the last frame */
  gint r, g, b;              /* mean colour of the last frame, 0..255 */
  gint64 first_frame_ms;     /* ms from the client's start to the first frame, 0 if none yet */
  gint64 subscribe_frame_ms; /* ms from the first subscription to the first frame, 0 if none */
  guint64 buffers;           /* decoded audio buffers so far */
  gdouble rms_db;            /* dBFS over the latest window, 0 if no audio yet */
  gdouble freq_hz;           /* dominant frequency over the latest window, 0 if none */
  /* on the presentation timeline (timeline.h): frames shown in time, frames too late to show,
   * holes of more than 500 ms between shown frames and the longest hole; audio buffers too
   * late, holes of more than 200 ms in the sound and the longest */
  guint64 shown, late, freezes;
  gint64 longest_freeze_ms;
  guint64 audio_late, audio_gaps;
  gint64 longest_audio_gap_ms;
  gint64 latency_ms; /* of the streams up to the analysis (jitter buffers, decoders); 0: unknown */
} TmAnalysisSnapshot;

/* START_US: the client's start, g_get_monotonic_time() base. */
TmAnalysis *tm_analysis_new(gint64 start_us);
TmAnalysis *tm_analysis_ref(TmAnalysis *analysis);
void tm_analysis_unref(TmAnalysis *analysis);

/* The client asks the relay for this remote's feed now (NOW_US: g_get_monotonic_time()); only
 * the first time counts (a subscription again after a reconnection does not). */
void tm_analysis_mark_subscribed(TmAnalysis *analysis, gint64 now_us);

/* PAD must carry video/x-raw,format=RGBx; the probe holds a reference to ANALYSIS. */
void tm_analysis_watch_video(TmAnalysis *analysis, GstPad *pad);
/* PAD must carry audio/x-raw,format=F32LE,channels=1 (interleaved). */
void tm_analysis_watch_audio(TmAnalysis *analysis, GstPad *pad);

/* The receive pipeline's latency (the client has one, shown on a display) and the latency of
 * ANALYSIS's streams up to its probes (what a sink that syncs would wait for, when the pipeline
 * has none: headless): buffers are presented at their running time plus the larger. */
void tm_analysis_set_pipeline_latency(GstClockTime latency);
void tm_analysis_set_latency(TmAnalysis *analysis, GstClockTime latency);

void tm_analysis_snapshot(TmAnalysis *analysis, TmAnalysisSnapshot *out);

/* Pure helpers, exposed for tests. Mean colour of an RGBx image sampled on a 32x32 grid. */
void tm_analysis_mean_rgb(const guint8 *pixels, gint width, gint height, gint stride, gint *r,
                          gint *g, gint *b);
/* RMS (dBFS, floor -120) and dominant frequency (Hann window, FFT, parabolic interpolation;
 * 0 when silent) of N mono samples at RATE Hz. N must be even. */
void tm_analysis_measure_audio(const gfloat *samples, guint n, gint rate, gdouble *rms_db,
                               gdouble *freq_hz);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(TmAnalysis, tm_analysis_unref)
