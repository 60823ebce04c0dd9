/* timeline.h — what a person would see and hear of a stream, in presentation time.
 *
 * A decoded frame or audio buffer is presented at its running time plus the pipeline's latency;
 * the receive path may hand it over late or in bursts (a jitter buffer that waited for a
 * retransmission releases what queued behind it at once), and a sink absorbs that as long as
 * each buffer comes before its presentation time. So freezes and gaps are counted on the
 * presentation timeline, not by when buffers passed: a buffer that comes after its presentation
 * time (plus a tolerance a sink allows) is late and not shown; a gap between consecutive shown
 * buffers longer than a limit is a freeze (video) or missing sound (audio). Pure: the times come
 * in as parameters, in nanoseconds of the pipeline clock's running time. */
#pragma once

#include <glib.h>

/* A video sink shows a frame up to 20 ms late (GstBaseSink's max-lateness for video). */
#define TM_TIMELINE_VIDEO_TOLERANCE_NS (20 * G_GINT64_CONSTANT(1000000))
/* A freeze: no new picture for longer than this. */
#define TM_TIMELINE_VIDEO_FREEZE_NS (500 * G_GINT64_CONSTANT(1000000))
/* An audio sink plays a buffer that comes up to 40 ms late (it skips ahead otherwise). */
#define TM_TIMELINE_AUDIO_TOLERANCE_NS (40 * G_GINT64_CONSTANT(1000000))
/* Sound missing: a hole in the played audio longer than this. */
#define TM_TIMELINE_AUDIO_GAP_NS (200 * G_GINT64_CONSTANT(1000000))

typedef struct {
  gint64 tolerance_ns, gap_limit_ns;
  gboolean have_last;
  gint64 last_end_ns; /* presentation end of the latest shown buffer */
  guint64 shown, late, gaps;
  gint64 longest_gap_ns; /* the longest hole between shown buffers */
} TmTimeline;

void tm_timeline_init(TmTimeline *t, gint64 tolerance_ns, gint64 gap_limit_ns);
/* One buffer presented from PRESENT_NS for DURATION_NS (0 for a video frame: it shows until
 * the next), handed over at ARRIVAL_NS. Returns TRUE when it is shown (in time). */
gboolean tm_timeline_add(TmTimeline *t, gint64 present_ns, gint64 duration_ns, gint64 arrival_ns);
