/* test-sim-reports.c — RTCP reports per hop: receivers get sender reports that count what the
 * relay sent them, publishers receiver reports that count what the relay lost of theirs; a
 * receiver's report gives the relay the round-trip time of its link. */
#include <glib.h>

#include "sim.h"

static void
test_sender_and_receiver(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene(sim, &s);
  tm_sim_send_rtp(s.pub, 111, 1000, 48000, 0xAAAA, tm_sim_opus, sizeof tm_sim_opus);
  tm_sim_send_video(sim, s.pub, 500, 4, true);
  tm_sim_advance(sim, 1500000);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.sub, TM_RTCP_KIND_SR), >=, 2);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_RR), >=, 1);
  g_assert_cmpint(tm_hearing_next_deadline(sim->hearing), >, sim->now);
  TmRtcpPacket sr;
  g_assert_true(tm_sim_browser_last_rtcp(s.sub, TM_RTCP_KIND_SR, &sr));
  g_assert_true(sr.sender_ssrc == s.video_ssrc || sr.sender_ssrc == s.audio_ssrc);
  g_assert_cmpuint(sr.packet_count, ==, sr.sender_ssrc == s.video_ssrc ? 4 : 1);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_SR), ==, 0);
  tm_sim_free(sim);
}

/* What the relay lost of the publisher's video shows in its receiver reports. */
static void
test_loss_reported(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene(sim, &s);
  sim->up.loss = 0.2;
  tm_sim_send_video(sim, s.pub, 100, 30, true);
  tm_sim_send_rtp(s.pub, 96, 130, 390000, 0xB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  sim->up.loss = 0; /* the last packet arrives: no loss hides at the end */
  tm_sim_send_rtp(s.pub, 96, 131, 393000, 0xB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  tm_sim_advance(sim, 2000000); /* the relay's NACKs end; a report comes after them */
  TmRtcpPacket rr;
  g_assert_true(tm_sim_browser_last_rtcp(s.pub, TM_RTCP_KIND_RR, &rr));
  g_assert_cmpuint(rr.n_blocks, ==, 1);
  g_assert_cmpuint(rr.blocks[0].ssrc, ==, 0xB);
  g_assert_cmpint(rr.blocks[0].cumulative_lost, >, 0);
  g_assert_cmpint(rr.blocks[0].cumulative_lost, ==, (gint64) tm_sim_lost(sim));
  g_assert_cmpuint(rr.blocks[0].highest_seq & 0xffff, ==, 131);
  tm_sim_free(sim);
}

/* The receiver answers a sender report at once over a link of 25 ms each way: the relay
 * measures 50 ms. */
static void
test_round_trip(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene(sim, &s);
  sim->up.delay_us = sim->down.delay_us = 25000;
  tm_sim_send_video(sim, s.pub, 100, 3, true);
  TmRtcpPacket sr;
  for (int i = 0; i < 2000 && !tm_sim_browser_last_rtcp(s.sub, TM_RTCP_KIND_SR, &sr); i++)
    tm_sim_advance(sim, 1000);
  g_assert_true(tm_sim_browser_last_rtcp(s.sub, TM_RTCP_KIND_SR, &sr));
  TmRtcpPacket rr = { .kind = TM_RTCP_KIND_RR, .sender_ssrc = 1, .n_blocks = 1 };
  rr.blocks[0].ssrc = sr.sender_ssrc;
  rr.blocks[0].lsr = (uint32_t) (sr.ntp >> 16);
  rr.blocks[0].dlsr = 0;
  tm_sim_send_rtcp(s.sub, &rr);
  tm_sim_advance(sim, 100000);
  double rtt = tm_peer_stats(s.sub->peer)->rtt_ms;
  g_test_message("round trip %.2f ms", rtt);
  g_assert_cmpfloat(rtt, >=, 49.0);
  g_assert_cmpfloat(rtt, <=, 52.0);
  tm_sim_free(sim);
}

/* Before any report, the DTLS handshakes give the round trips (100 ms each way): the witness's
 * receive connection and the judge's publish connection both know 200 ms as they come up, and
 * the relay asks the judge again for a lost packet in 1.5 of them (+ 10 ms). */
static void
test_handshake_round_trip(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  sim->up.delay_us = sim->down.delay_us = 100000;
  TmSimScene s;
  tm_sim_scene(sim, &s);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.sub, TM_RTCP_KIND_RR), ==, 0);
  double sub_rtt = tm_peer_stats(s.sub->peer)->rtt_ms;
  double pub_rtt = tm_peer_stats(s.judge->publish)->rtt_ms;
  g_test_message("handshakes: receive %.1f ms, publish %.1f ms", sub_rtt, pub_rtt);
  g_assert_cmpfloat_with_epsilon(sub_rtt, 200.0, 1.0);
  g_assert_cmpfloat_with_epsilon(pub_rtt, 200.0, 1.0);
  g_assert_cmpint(tm_peer_nack_retry_us(s.judge->publish), >=, 309000);
  g_assert_cmpint(tm_peer_nack_retry_us(s.judge->publish), <=, 311000);
  tm_sim_free(sim);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sim/reports/sender-and-receiver", test_sender_and_receiver);
  g_test_add_func("/sim/reports/loss-reported", test_loss_reported);
  g_test_add_func("/sim/reports/round-trip", test_round_trip);
  g_test_add_func("/sim/reports/handshake-round-trip", test_handshake_round_trip);
  return g_test_run();
}
