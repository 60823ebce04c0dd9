/* test-sim-forward.c — forwarding: a judge publishes, a witness receives. Audio flows at once
 * with the receiver's payload type and the relay's SSRC; video waits for a key frame, which the
 * relay asks the publisher for; the stream the receiver gets is continuous in its own sequence
 * numbers and timestamps. */
#include <glib.h>

#include "sim.h"

static void
test_audio(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene(sim, &s);
  g_assert_cmpint(sim->published, ==, 1);
  g_assert_true(s.judge->publishing);

  tm_sim_send_rtp(s.pub, 111, 1000, 48000, 0xAAAA, tm_sim_opus, sizeof tm_sim_opus);
  g_assert_cmpint(sim->tapped, ==, 1); /* the recording tap sees it as received */
  uint8_t pt = 0;
  uint32_t clock = 0;
  g_assert_true(tm_hearing_track_info(s.judge, TM_TRACK_VIDEO, &pt, &clock));
  g_assert_cmpint(pt, ==, 96);
  g_assert_cmpuint(clock, ==, 90000);
  g_assert_cmpuint(s.sub->rtp_in->len, ==, 1);
  TmRtpPacket got = tm_sim_browser_nth_rtp(s.sub, 0);
  g_assert_cmpint(got.pt, ==, 109);
  g_assert_cmpuint(got.ssrc, ==, s.audio_ssrc);
  g_assert_cmpmem(got.payload, got.payload_len, tm_sim_opus, sizeof tm_sim_opus);
  tm_sim_free(sim);
}

static void
test_video_waits_for_keyframe(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene(sim, &s);
  tm_sim_send_rtp(s.pub, 96, 500, 9000, 0xBBBB, tm_sim_vp8_delta, sizeof tm_sim_vp8_delta);
  g_assert_cmpuint(s.sub->rtp_in->len, ==, 0);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_PLI), ==, 1);
  tm_sim_send_rtp(s.pub, 96, 501, 12000, 0xBBBB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  tm_sim_send_rtp(s.pub, 96, 502, 15000, 0xBBBB, tm_sim_vp8_delta, sizeof tm_sim_vp8_delta);
  g_assert_cmpuint(s.sub->rtp_in->len, ==, 2);
  TmRtpPacket k = tm_sim_browser_nth_rtp(s.sub, 0);
  TmRtpPacket d = tm_sim_browser_nth_rtp(s.sub, 1);
  g_assert_cmpint(k.pt, ==, 120);
  g_assert_cmpuint(k.ssrc, ==, s.video_ssrc);
  g_assert_cmpmem(k.payload, k.payload_len, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  g_assert_cmpint((uint16_t) (d.seq - k.seq), ==, 1);
  g_assert_cmpuint(d.ts - k.ts, ==, 3000);
  tm_sim_free(sim);
}

/* Over a link with delay and jitter wider than the frame spacing the packets arrive out of
 * order, yet every one arrives, and in the relay's numbering the receiver can put them back in
 * order: the relay rewrites, it does not renumber by arrival. */
static void
test_reordered(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene(sim, &s);
  sim->up.delay_us = sim->down.delay_us = 40000;
  sim->up.jitter_us = 30000;
  const int n = 60;
  tm_sim_send_video(sim, s.pub, 2000, n, true);
  tm_sim_advance(sim, 200000);
  g_assert_cmpuint(s.sub->rtp_in->len, ==, (guint) n);
  int first, newest;
  g_assert_cmpuint(tm_sim_browser_distinct_rtp(s.sub, &first, &newest), ==, (guint) n);
  g_assert_cmpint(newest - first + 1, ==, n);
  gboolean reordered = FALSE;
  for (guint i = 1; i < s.sub->rtp_in->len; i++) {
    TmRtpPacket a = tm_sim_browser_nth_rtp(s.sub, i - 1), b = tm_sim_browser_nth_rtp(s.sub, i);
    reordered |= (int16_t) (b.seq - a.seq) < 0;
    /* sequence number and timestamp moved together: 3000 per packet */
    g_assert_cmpuint(b.ts - a.ts, ==, (uint32_t) ((int16_t) (b.seq - a.seq) * 3000));
  }
  g_assert_true(reordered);
  tm_sim_free(sim);
}

/* A receiver whose screen does not show a feed's picture (display) gets its sound but no video,
 * and its link no longer limits the feed's sender; the preference outlives a new subscription;
 * shown again, the picture starts at a key frame, asked for at once. */
static void
test_not_shown(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene(sim, &s);
  tm_sim_scene_add_clerk(sim, &s);
  tm_sim_send_video(sim, s.pub, 100, 2, true);
  g_assert_cmpuint(s.sub->rtp_in->len, ==, 2);
  tm_hearing_set_shown(sim->hearing, s.witness, s.judge, false, sim->now);
  tm_sim_run(sim);
  uint16_t seq = tm_sim_send_video(sim, s.pub, 102, 5, true);
  tm_sim_send_rtp(s.pub, 111, 1000, 48000, 0xA, tm_sim_opus, sizeof tm_sim_opus);
  g_assert_cmpuint(s.sub->rtp_in->len, ==, 3); /* the sound only */
  g_assert_cmpuint(tm_sim_browser_nth_rtp(s.sub, 2).ssrc, ==, s.audio_ssrc);
  g_assert_cmpuint(s.sub2->rtp_in->len, ==, 8); /* the clerk: everything */
  g_assert_cmpuint(tm_peer_stats(s.sub->peer)->drop_not_shown, ==, 5);
  g_assert_false(tm_peer_track_enabled(s.sub->peer, TM_TRACK_VIDEO));
  g_assert_true(g_ptr_array_find(s.witness->not_shown, s.judge, NULL));
  /* Shown again: a key frame is asked for, and the picture starts with one. */
  tm_sim_advance(sim, 1000000);
  int plis = tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_PLI);
  tm_hearing_set_shown(sim->hearing, s.witness, s.judge, true, sim->now);
  tm_sim_run(sim);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_PLI), ==, plis + 1);
  seq = tm_sim_send_video(sim, s.pub, seq, 2, false);
  g_assert_cmpuint(s.sub->rtp_in->len, ==, 3); /* delta frames wait for the key frame */
  tm_sim_send_video(sim, s.pub, seq, 1, true);
  g_assert_cmpuint(s.sub->rtp_in->len, ==, 4);
  TmRtpPacket first = tm_sim_browser_nth_rtp(s.sub, 3);
  g_assert_true(tm_vp8_is_keyframe(first.payload, first.payload_len));
  /* Hidden again, then the witness subscribes anew: still not shown. */
  tm_hearing_set_shown(sim->hearing, s.witness, s.judge, false, sim->now);
  tm_hearing_close_subscription(sim->hearing, s.witness, s.judge);
  tm_sim_run(sim);
  TmSimBrowser *again = tm_sim_connect(sim, s.witness, s.judge, 111, 96, false);
  g_assert_true(again->connected);
  tm_sim_send_video(sim, s.pub, 500, 3, true);
  g_assert_cmpuint(again->rtp_in->len, ==, 0);
  g_assert_cmpuint(tm_peer_stats(again->peer)->drop_not_shown, ==, 3);
  tm_sim_free(sim);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sim/forward/audio", test_audio);
  g_test_add_func("/sim/forward/video-waits-for-keyframe", test_video_waits_for_keyframe);
  g_test_add_func("/sim/forward/reordered", test_reordered);
  g_test_add_func("/sim/forward/not-shown", test_not_shown);
  return g_test_run();
}
