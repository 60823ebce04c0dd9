/* test-playout.c — the presentation timeline (client/timeline.c) and the jitter-buffer wait
 * that follows late packets (client/playout.c). */
#include <glib.h>

#include "playout.h"
#include "timeline.h"

#define MS G_GINT64_CONSTANT(1000000) /* ns */
#define S G_USEC_PER_SEC              /* us */

static void
test_timeline_bursts_are_not_freezes(void)
{
  TmTimeline t;
  tm_timeline_init(&t, TM_TIMELINE_VIDEO_TOLERANCE_NS, TM_TIMELINE_VIDEO_FREEZE_NS);
  /* 30 frames a second, presented 400 ms after capture; frames 10-19 held 350 ms by a jitter
   * buffer waiting for a retransmission, then released at once: all in time, no freeze */
  for (gint i = 0; i < 60; i++) {
    gint64 present = i * 33 * MS + 400 * MS;
    gint64 arrival = i * 33 * MS + 10 * MS;
    if (i >= 10 && i < 20)
      arrival = 10 * 33 * MS + 350 * MS;
    g_assert_true(tm_timeline_add(&t, present, 0, arrival));
  }
  g_assert_cmpuint(t.shown, ==, 60);
  g_assert_cmpuint(t.late, ==, 0);
  g_assert_cmpuint(t.gaps, ==, 0);
  g_assert_cmpint(t.longest_gap_ns, ==, 33 * MS);
}

static void
test_timeline_late_and_missing(void)
{
  TmTimeline t;
  tm_timeline_init(&t, TM_TIMELINE_VIDEO_TOLERANCE_NS, TM_TIMELINE_VIDEO_FREEZE_NS);
  g_assert_true(tm_timeline_add(&t, 1000 * MS, 0, 800 * MS));
  /* 15 ms after its time: a sink still shows it */
  g_assert_true(tm_timeline_add(&t, 1033 * MS, 0, 1048 * MS));
  /* 100 ms after its time: not shown */
  g_assert_false(tm_timeline_add(&t, 1066 * MS, 0, 1166 * MS));
  g_assert_cmpuint(t.late, ==, 1);
  /* nothing for 600 ms of presentation (frames lost, waiting for a key frame): one freeze */
  g_assert_true(tm_timeline_add(&t, 1633 * MS, 0, 1500 * MS));
  g_assert_cmpuint(t.gaps, ==, 1);
  g_assert_cmpint(t.longest_gap_ns, ==, 600 * MS);
  /* 400 ms: a stall, not a freeze */
  g_assert_true(tm_timeline_add(&t, 2033 * MS, 0, 1900 * MS));
  g_assert_cmpuint(t.gaps, ==, 1);
  g_assert_cmpuint(t.shown, ==, 4);
}

static void
test_timeline_audio(void)
{
  TmTimeline t;
  tm_timeline_init(&t, TM_TIMELINE_AUDIO_TOLERANCE_NS, TM_TIMELINE_AUDIO_GAP_NS);
  /* 20 ms buffers back to back: no hole at all */
  for (gint i = 0; i < 50; i++)
    tm_timeline_add(&t, i * 20 * MS, 20 * MS, 0);
  g_assert_cmpint(t.longest_gap_ns, ==, 0);
  /* ten buffers missing (200 ms): at the limit, not over it; then 220 ms: over */
  tm_timeline_add(&t, 60 * 20 * MS, 20 * MS, 0);
  g_assert_cmpuint(t.gaps, ==, 0);
  tm_timeline_add(&t, 72 * 20 * MS, 20 * MS, 0);
  g_assert_cmpuint(t.gaps, ==, 1);
  g_assert_cmpint(t.longest_gap_ns, ==, 220 * MS);
  /* a buffer inside what was already played leaves no hole behind */
  tm_timeline_add(&t, 71 * 20 * MS, 20 * MS, 0);
  g_assert_cmpuint(t.gaps, ==, 1);
  g_assert_cmpuint(t.shown, ==, 53);
}

static gboolean
update_upstream(TmPlayout *p, guint64 late, guint64 rtx, guint rtt_ms, guint up_rtt_ms,
                guint up_retry_ms, gint64 now_us)
{
  TmPlayoutStats stats = { .late = late,
                           .rtx_requests = rtx,
                           .rtx_rtt_ms = rtt_ms,
                           .repair = { .rtt_ms = up_rtt_ms, .retry_ms = up_retry_ms } };
  return tm_playout_update(p, &stats, now_us);
}

static gboolean
update(TmPlayout *p, guint64 late, guint64 rtx, guint rtt_ms, gint64 now_us)
{
  return update_upstream(p, late, rtx, rtt_ms, 0, 0, now_us);
}

/* The jitter buffers ask again after the relay's round trip to this client and a margin, not
 * after their own measure, which starts far too high: across a 200 ms round trip (220 ms
 * measured) three tries fit in a 1 s wait; next to the relay, every 40 ms; unknown, their own. */
static void
test_playout_retry_wait(void)
{
  TmPlayoutStats stats = { .rtx_rtt_ms = 612, .repair = { .own_rtt_ms = 220 } };
  guint retry = tm_playout_retry_ms(&stats);
  g_assert_cmpuint(retry, ==, 295);
  guint first = 25, tries = 0; /* rtpjitterbuffer's first request, 25 ms after the gap */
  for (guint at = first; at + retry <= TM_PLAYOUT_MAX_MS; at += retry)
    tries++;
  g_assert_cmpuint(tries, ==, 3);
  stats.repair.own_rtt_ms = 1;
  g_assert_cmpuint(tm_playout_retry_ms(&stats), ==, TM_PLAYOUT_RETRY_MIN_MS);
  stats.repair.own_rtt_ms = 0;
  g_assert_cmpuint(tm_playout_retry_ms(&stats), ==, 0);
}

static void
test_playout_follows_late_packets(void)
{
  TmPlayout p;
  tm_playout_init(&p, 0);
  g_assert_cmpuint(p.latency_ms, ==, TM_PLAYOUT_MIN_MS);
  /* a clean link: never changes */
  for (gint64 t = 1; t <= 60; t++)
    g_assert_false(update(&p, 0, 0, 0, t * S));
  /* late packets each second: a step each second, up to the limit */
  guint64 late = 0;
  for (gint64 t = 61; t <= 80; t++) {
    late += 3;
    update(&p, late, 0, 0, t * S);
    g_assert_cmpuint(p.latency_ms, <=, TM_PLAYOUT_MAX_MS);
  }
  g_assert_cmpuint(p.latency_ms, ==, TM_PLAYOUT_MAX_MS);
  /* enough now: late packets stop; it holds for the quiet spell, then steps down slowly */
  for (gint64 t = 81; t < 80 + TM_PLAYOUT_QUIET_US / S; t++)
    g_assert_false(update(&p, late, 0, 0, t * S));
  g_assert_cmpuint(p.latency_ms, ==, TM_PLAYOUT_MAX_MS);
  gint64 t = 80 + TM_PLAYOUT_QUIET_US / S;
  g_assert_true(update(&p, late, 0, 0, t * S));
  g_assert_cmpuint(p.latency_ms, ==, TM_PLAYOUT_MAX_MS - TM_PLAYOUT_LOWER_MS);
  /* not again before the next spell */
  g_assert_false(update(&p, late, 0, 0, (t + 1) * S));
  /* a late packet again: up at once */
  g_assert_true(update(&p, late + 1, 0, 0, (t + 2) * S));
  g_assert_cmpuint(p.latency_ms, ==, TM_PLAYOUT_MAX_MS);
  /* one late packet: one step; many: two steps at most in one update */
  TmPlayout q;
  tm_playout_init(&q, 0);
  g_assert_true(update(&q, 1, 0, 0, 1 * S));
  g_assert_cmpuint(q.latency_ms, ==, TM_PLAYOUT_MIN_MS + TM_PLAYOUT_RAISE_MS);
  g_assert_true(update(&q, 3, 0, 0, 2 * S));
  g_assert_cmpuint(q.latency_ms, ==, TM_PLAYOUT_MIN_MS + 3 * TM_PLAYOUT_RAISE_MS);
  g_assert_true(update(&q, 13, 0, 0, 3 * S));
  g_assert_cmpuint(q.latency_ms, ==,
                   TM_PLAYOUT_MIN_MS + 3 * TM_PLAYOUT_RAISE_MS + TM_PLAYOUT_RAISE_MAX_MS);
  /* a jitter buffer replaced (its count starts again): no false alarm */
  g_assert_false(update(&p, 0, 0, 0, (t + 3) * S));
  /* and never below the least wait */
  for (gint64 u = t + 4; u < t + 1000; u++)
    update(&p, 0, 0, 0, u * S);
  g_assert_cmpuint(p.latency_ms, ==, TM_PLAYOUT_MIN_MS);
}

static void
test_playout_covers_retransmissions(void)
{
  TmPlayout p;
  tm_playout_init(&p, 0);
  /* retransmissions asked for after the first seconds, 220 ms round trips: three of them and
   * the margin, at once (in whole steps) */
  const gint64 T = TM_PLAYOUT_START_US / S;
  g_assert_true(update(&p, 0, 5, 220, (T + 1) * S));
  g_assert_cmpuint(p.latency_ms, ==, 750);
  g_assert_cmpuint(3 * 220 + TM_PLAYOUT_RTX_MARGIN_MS, <=, 750);
  /* a round trip a few ms longer does not move it */
  g_assert_false(update(&p, 0, 7, 225, (T + 1) * S + S / 2));
  /* the round trip grows: so does the wait; never past the limit */
  g_assert_true(update(&p, 0, 9, 300, (T + 2) * S));
  g_assert_cmpuint(p.latency_ms, ==, 950);
  update(&p, 0, 12, 900, (T + 3) * S);
  g_assert_cmpuint(p.latency_ms, ==, TM_PLAYOUT_MAX_MS);
  /* a loopback link's round trip asks for no more than the least */
  TmPlayout q;
  tm_playout_init(&q, 0);
  g_assert_false(update(&q, 0, 4, 2, 1 * S));
  g_assert_cmpuint(q.latency_ms, ==, TM_PLAYOUT_MIN_MS);
  /* in the first seconds, four of them: 4 x 220 + 50 */
  TmPlayout f;
  tm_playout_init(&f, 0);
  g_assert_true(update(&f, 0, 5, 220, 1 * S));
  g_assert_cmpuint(f.latency_ms, ==, 950);
  /* repairs stop (the link got better): after the quiet spell, down by steps to the least */
  guint prev = p.latency_ms;
  for (gint64 t = T + 4; t < T + 200; t++) {
    update(&p, 0, 12, 900, t * S);
    g_assert_cmpuint(p.latency_ms, <=, prev);
    if (t < T + 3 + TM_PLAYOUT_QUIET_US / S)
      g_assert_cmpuint(p.latency_ms, ==, TM_PLAYOUT_MAX_MS);
    prev = p.latency_ms;
  }
  g_assert_cmpuint(p.latency_ms, ==, TM_PLAYOUT_MIN_MS);
}

/* Once a second from FROM to TO (seconds), ten more retransmission requests each time; with
 * STAYS_AT (not 0) the wait must be that after every update. */
static void
repairs_go_on(TmPlayout *p, TmPlayoutStats *stats, gint64 from, gint64 to, guint stays_at)
{
  for (gint64 t = from; t < to; t++) {
    stats->rtx_requests += 10;
    tm_playout_update(p, stats, t * S);
    if (stays_at != 0)
      g_assert_cmpuint(p->latency_ms, ==, stays_at);
  }
}

/* The relay's repairs from the publisher took longer lately than three of its tries (a fourth
 * request, about one repair in a hundred at 10 % bursty loss): the wait covers the longest. In
 * three benchmark runs every freeze of the witness at the judge came after the quiet spell had
 * brought the judge's wait down to the three tries (850-950 ms) while such repairs went on. */
static void
test_playout_covers_the_publishers_repairs(void)
{
  TmPlayout p;
  TmPlayoutStats stats = { .rtx_rtt_ms = 2,
                           .repair = { .own_rtt_ms = 1, .rtt_ms = 220, .retry_ms = 260 } };
  tm_playout_init(&p, 0);
  /* three tries: 6 + 220 + 520 + 50 = 796 */
  stats.rtx_requests = 10;
  g_assert_true(tm_playout_update(&p, &stats, 1 * S));
  g_assert_cmpuint(p.latency_ms, ==, 800);
  /* one repair took 980 ms: 6 + 980 + 50, at most the limit; and it stays there while such
   * repairs go on, with no late packet for minutes */
  stats.repair.repair_ms = 980;
  repairs_go_on(&p, &stats, 2, 200, TM_PLAYOUT_MAX_MS);
  /* the repairs got quicker: down by steps to the three tries, not below */
  stats.repair.repair_ms = 480;
  repairs_go_on(&p, &stats, 200, 400, 0);
  g_assert_cmpuint(p.latency_ms, ==, 800);
  /* a repair quicker than three tries changes nothing */
  stats.repair.repair_ms = 100;
  stats.rtx_requests += 10;
  g_assert_false(tm_playout_update(&p, &stats, 400 * S));
}

/* The witness's own far link (its retransmissions' round trip 245 ms) while repairs go on: three
 * tries set the least (3 x 245 + 41 + 50 = 826), but a wait that rose above it comes down only
 * as far as a fourth try (1071: the limit), and all the way once the repairs stop. */
static void
test_playout_keeps_a_fourth_try(void)
{
  TmPlayout p;
  TmPlayoutStats stats = { .rtx_rtt_ms = 245,
                           .repair = { .own_rtt_ms = 230, .rtt_ms = 1, .retry_ms = 20 } };
  tm_playout_init(&p, 0);
  stats.rtx_requests = 10;
  tm_playout_update(&p, &stats, 11 * S); /* past the first seconds */
  g_assert_cmpuint(p.latency_ms, ==, 850);
  /* two late packets: up to the limit */
  stats.late = 2;
  stats.rtx_requests += 10;
  tm_playout_update(&p, &stats, 12 * S);
  g_assert_cmpuint(p.latency_ms, ==, 1000);
  repairs_go_on(&p, &stats, 13, 300, TM_PLAYOUT_MAX_MS);
  /* a nearer link (120 ms): down to its fourth try, 4 x 120 + 91 = 571 */
  stats.rtx_rtt_ms = 120;
  repairs_go_on(&p, &stats, 300, 500, 0);
  g_assert_cmpuint(p.latency_ms, ==, 600);
  /* no more repairs: after the quiet spell, all the way down */
  for (gint64 t = 500; t < 800; t++)
    tm_playout_update(&p, &stats, t * S);
  g_assert_cmpuint(p.latency_ms, ==, TM_PLAYOUT_MIN_MS);
}

/* A jitter buffer next to the relay (the judge's: its own round trip 2 ms) receiving a
 * publisher on a far, lossy link: the relay's `repair` figures set the wait from the first
 * retransmission on, not the late packets one by one. */
static void
test_playout_covers_the_publishers_link(void)
{
  TmPlayout p;
  tm_playout_init(&p, 0);
  /* told as the feed starts, before its first picture and before anything was asked for: the
   * publisher's round trip, two of the relay's waits and the margin (220 + 536 + 50 = 806), in
   * whole steps */
  g_assert_true(update_upstream(&p, 0, 0, 0, 220, 268, 1 * S));
  g_assert_cmpuint(p.latency_ms, ==, 850);
  /* the first retransmissions, its own round trip not yet measured: the same */
  g_assert_false(update_upstream(&p, 0, 40, 0, 220, 268, 2 * S));
  g_assert_cmpuint(p.latency_ms, ==, 850);
  /* with its own round trip known, three of those too (2 ms: 812, the same step) */
  g_assert_false(update_upstream(&p, 0, 80, 2, 220, 268, 3 * S));
  /* never past the limit */
  update_upstream(&p, 0, 90, 2, 400, 500, 4 * S);
  g_assert_cmpuint(p.latency_ms, ==, TM_PLAYOUT_MAX_MS);
  /* the publisher's link got better and repairs stop: down by steps to the least */
  for (gint64 t = 5; t < 300; t++)
    update_upstream(&p, 0, 90, 2, 20, 20, t * S);
  g_assert_cmpuint(p.latency_ms, ==, TM_PLAYOUT_MIN_MS);
  /* the far client's own jitter buffers, before they measured a retransmission's round trip:
   * the relay's figure for ours stands for it; in the first seconds for a fourth try too
   * (4 x 150 + 1 + 2 x 20 + 50 = 691) */
  TmPlayout w;
  tm_playout_init(&w, 0);
  TmPlayoutStats told = { .rtx_requests = 10,
                          .repair = { .own_rtt_ms = 150, .rtt_ms = 1, .retry_ms = 20 } };
  g_assert_true(tm_playout_update(&w, &told, 1 * S));
  g_assert_cmpuint(w.latency_ms, ==, 700);
  /* once measured, theirs counts (4 x 300 + 41 + 50) */
  told.rtx_requests = 20;
  told.rtx_rtt_ms = 300;
  g_assert_true(tm_playout_update(&w, &told, 2 * S));
  g_assert_cmpuint(w.latency_ms, ==, TM_PLAYOUT_MAX_MS);
  /* a publisher next to the relay adds next to nothing */
  TmPlayout q;
  tm_playout_init(&q, 0);
  g_assert_false(update_upstream(&q, 0, 4, 2, 1, 20, 1 * S));
  g_assert_cmpuint(q.latency_ms, ==, TM_PLAYOUT_MIN_MS);
}

/* A far publisher whose link turns out clean: the wait set at the start for its repairs holds
 * through the first seconds, then, nothing asked for again, comes down step by step after the
 * quiet spell. Told only after the start's seconds (a late `repair`), a clean link keeps the
 * least wait. */
static void
test_playout_clean_far_link(void)
{
  TmPlayout p;
  tm_playout_init(&p, 0);
  g_assert_true(update_upstream(&p, 0, 0, 0, 220, 268, S / 2));
  g_assert_cmpuint(p.latency_ms, ==, 850);
  for (gint64 t = 1; t < TM_PLAYOUT_QUIET_US / S; t++) {
    g_assert_false(update_upstream(&p, 0, 0, 0, 220, 268, t * S));
    g_assert_cmpuint(p.latency_ms, ==, 850);
  }
  guint prev = p.latency_ms;
  for (gint64 t = TM_PLAYOUT_QUIET_US / S; t < 300; t++) {
    update_upstream(&p, 0, 0, 0, 220, 268, t * S);
    g_assert_cmpuint(p.latency_ms, <=, prev);
    g_assert_cmpuint(prev - p.latency_ms, <=, TM_PLAYOUT_LOWER_MS);
    prev = p.latency_ms;
  }
  g_assert_cmpuint(p.latency_ms, ==, TM_PLAYOUT_MIN_MS);
  TmPlayout late;
  tm_playout_init(&late, 0);
  g_assert_false(update_upstream(&late, 0, 0, 0, 220, 268, TM_PLAYOUT_START_US));
  g_assert_cmpuint(late.latency_ms, ==, TM_PLAYOUT_MIN_MS);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/timeline/bursts-are-not-freezes", test_timeline_bursts_are_not_freezes);
  g_test_add_func("/timeline/late-and-missing", test_timeline_late_and_missing);
  g_test_add_func("/timeline/audio", test_timeline_audio);
  g_test_add_func("/playout/follows-late-packets", test_playout_follows_late_packets);
  g_test_add_func("/playout/retry-wait", test_playout_retry_wait);
  g_test_add_func("/playout/covers-retransmissions", test_playout_covers_retransmissions);
  g_test_add_func("/playout/covers-the-publishers-link", test_playout_covers_the_publishers_link);
  g_test_add_func("/playout/clean-far-link", test_playout_clean_far_link);
  g_test_add_func("/playout/keeps-a-fourth-try", test_playout_keeps_a_fourth_try);
  g_test_add_func("/playout/covers-the-publishers-repairs",
                  test_playout_covers_the_publishers_repairs);
  return g_test_run();
}
