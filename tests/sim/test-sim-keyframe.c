/* test-sim-keyframe.c — key-frame requests: a receiver's PLI or FIR reaches the publisher as a
 * PLI, rate-limited per publisher (about three a second), however many receivers ask and however
 * often (those over the limit are dropped: the key frame asked for answers them); none again
 * before the last key frame could have crossed the slowest receiver's link; a new
 * receiver's
 * first key frame is asked for as soon as its ICE is up (its first DTLS flight). */
#include <glib.h>
#include <string.h>

#include "sim.h"

/* The publisher's video is flowing (the relay asks nobody for a key frame it cannot have). */
static void
start_video(TmSim *sim, TmSimScene *s)
{
  tm_sim_scene(sim, s);
  tm_sim_send_video(sim, s->pub, 100, 3, true);
  g_assert_cmpuint(s->sub->rtp_in->len, ==, 3);
}

static void
test_rate_limited(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  start_video(sim, &s);
  int plis = tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_PLI);
  tm_sim_advance(sim, 2000000);
  tm_sim_send_pli(s.sub, s.video_ssrc);
  tm_sim_send_pli(s.sub, s.video_ssrc);
  tm_sim_send_pli(s.sub, s.video_ssrc);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_PLI), ==, plis + 1);
  TmRtcpPacket pli;
  g_assert_true(tm_sim_browser_last_rtcp(s.pub, TM_RTCP_KIND_PLI, &pli));
  g_assert_cmpuint(pli.media_ssrc, ==, 0xB); /* the publisher's own SSRC */
  g_assert_cmpuint(tm_peer_stats(s.sub->peer)->keyframe_requests_in, ==, 3);
  /* The two asked for while the bucket was empty are dropped: the key frame asked for answers
   * them too, and on a slow link each key frame costs several frames' worth. */
  tm_sim_advance(sim, 1000000);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_PLI), ==, plis + 1);
  /* A FIR counts the same. */
  TmRtcpPacket fir = { .kind = TM_RTCP_KIND_FIR, .sender_ssrc = 1, .n_firs = 1 };
  fir.firs[0] = (TmRtcpFirItem){ s.video_ssrc, 1 };
  tm_sim_send_rtcp(s.sub, &fir);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_PLI), ==, plis + 2);
  tm_sim_free(sim);
}

/* A receiver that joins while the video flows: its first key frame is asked for as its ICE comes
 * up, without waiting for a delta frame to be dropped, and the key frame is the first picture it
 * gets. */
static void
test_new_receiver(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  start_video(sim, &s);
  tm_sim_advance(sim, 2000000);
  int before = tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_PLI);
  tm_sim_scene_add_clerk(sim, &s);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_PLI), ==, before + 1);
  g_assert_cmpuint(tm_peer_stats(s.sub2->peer)->drop_waiting_keyframe, ==, 0);
  tm_sim_send_video(sim, s.pub, 200, 2, true);
  g_assert_cmpuint(s.sub2->rtp_in->len, ==, 2);
  tm_sim_free(sim);
}

/* Two receivers send a PLI every 10 ms for 10 s (2000 requests): the publisher gets at most one
 * at once and three a second after that, and the storm does not starve them either. */
static void
test_storm(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  start_video(sim, &s);
  tm_sim_scene_add_clerk(sim, &s);
  tm_sim_advance(sim, 2000000);
  int before = tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_PLI);
  guint64 out_before = tm_peer_stats(s.pub->peer)->keyframe_requests_out;
  const int seconds = 10;
  for (int i = 0; i < seconds * 100; i++) {
    tm_sim_send_pli(s.sub, s.video_ssrc);
    tm_sim_send_pli(s.sub2, s.video_ssrc2);
    tm_sim_advance(sim, 10000);
  }
  int upstream = tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_PLI) - before;
  g_test_message("%d requests from receivers, %d PLIs to the publisher", 2 * seconds * 100,
                 upstream);
  g_assert_cmpint(upstream, <=, 1 + 3 * seconds);
  g_assert_cmpint(upstream, >=, 3 * seconds - 2);
  g_assert_cmpuint(tm_peer_stats(s.sub->peer)->keyframe_requests_in, ==, seconds * 100);
  g_assert_cmpuint(tm_peer_stats(s.sub2->peer)->keyframe_requests_in, ==, seconds * 100);
  g_assert_cmpuint(tm_peer_stats(s.pub->peer)->keyframe_requests_out - out_before, ==,
                   (guint64) upstream);
  tm_sim_free(sim);
}

/* A key frame of twenty 1000-byte packets to a receiver that can take 100 kbit/s takes 1.6 s to
 * cross its link: a request within that is held, one after it goes on. */
static void
test_held_while_key_frame_crosses(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  start_video(sim, &s);
  static uint8_t key[1000], rest[1000]; /* the frame's first packet, then the others (S = 0) */
  memcpy(key, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  for (int i = 0; i < 20; i++)
    tm_sim_send_rtp(s.pub, 96, (uint16_t) (200 + i), 90000, 0xB, i == 0 ? key : rest, 1000);
  tm_sim_send_rtp(s.pub, 96, 220, 93000, 0xB, tm_sim_vp8_delta, sizeof tm_sim_vp8_delta);
  TmRtcpPacket remb = { .kind = TM_RTCP_KIND_REMB,
                        .sender_ssrc = 7,
                        .remb_bitrate = 100000,
                        .n_remb_ssrcs = 1,
                        .remb_ssrcs = { s.video_ssrc } };
  TmRtcpPacket rr = { .kind = TM_RTCP_KIND_RR, .sender_ssrc = 7, .n_blocks = 1 };
  rr.blocks[0] = (TmRtcpReportBlock){ .ssrc = s.video_ssrc, .highest_seq = 220 };
  tm_sim_send_rtcp(s.sub, &rr);
  tm_sim_send_rtcp(s.sub, &remb);
  tm_sim_send_video(sim, s.pub, 221, 40, false); /* 1.3 s of delta frames: the estimates start */
  tm_sim_send_rtcp(s.sub, &rr);
  tm_sim_send_rtcp(s.sub, &remb);
  int plis = tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_PLI);
  tm_sim_send_pli(s.sub, s.video_ssrc);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_PLI), ==, plis + 1);
  tm_sim_advance(sim, 600000); /* the token bucket would allow one again; the link would not */
  tm_sim_send_rtcp(s.sub, &remb);
  tm_sim_send_pli(s.sub, s.video_ssrc);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_PLI), ==, plis + 1);
  g_assert_cmpuint(tm_peer_stats(s.judge->publish)->keyframe_requests_held, ==, 1);
  tm_sim_advance(sim, 1100000);
  tm_sim_send_rtcp(s.sub, &remb);
  tm_sim_send_pli(s.sub, s.video_ssrc);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_PLI), ==, plis + 2);
  tm_sim_free(sim);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sim/keyframe/rate-limited", test_rate_limited);
  g_test_add_func("/sim/keyframe/new-receiver", test_new_receiver);
  g_test_add_func("/sim/keyframe/storm", test_storm);
  g_test_add_func("/sim/keyframe/held-while-key-frame-crosses", test_held_while_key_frame_crosses);
  return g_test_run();
}
