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

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sim/forward/audio", test_audio);
  g_test_add_func("/sim/forward/video-waits-for-keyframe", test_video_waits_for_keyframe);
  g_test_add_func("/sim/forward/reordered", test_reordered);
  return g_test_run();
}
