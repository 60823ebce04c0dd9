/* test-sim-replay.c — SRTP replays: a datagram sent again, by an attacker or by a link that
 * duplicates, is refused by SRTP and counted (drop_srtp), never forwarded, recorded or acted on
 * twice. */
#include <glib.h>

#include "sim.h"

static void
test_rtp(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene(sim, &s);
  uint8_t buf[2048];
  size_t n = tm_sim_browser_protect_rtp(s.pub, 96, 10, 3000, 0xB, tm_sim_vp8_key,
                                        sizeof tm_sim_vp8_key, buf, sizeof buf);
  tm_sim_send_raw(s.pub, buf, n);
  const TmPeerStats *st = tm_peer_stats(s.pub->peer);
  g_assert_cmpuint(st->rtp_in, ==, 1);
  g_assert_cmpuint(st->drop_srtp, ==, 0);
  tm_sim_send_raw(s.pub, buf, n);
  tm_sim_advance(sim, 10000);
  tm_sim_send_raw(s.pub, buf, n);
  g_assert_cmpuint(st->rtp_in, ==, 1);
  g_assert_cmpuint(st->drop_srtp, ==, 2);
  g_assert_cmpint(sim->tapped, ==, 1);
  g_assert_cmpuint(s.sub->rtp_in->len, ==, 1);
  g_assert_cmpuint(tm_hearing_packets_sent(sim->hearing, s.judge, s.witness, TM_TRACK_VIDEO), ==,
                   1);
  tm_sim_free(sim);
}

/* A receiver's NACK replayed makes the relay resend nothing more. */
static void
test_rtcp(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene(sim, &s);
  tm_sim_send_rtp(s.pub, 96, 10, 3000, 0xB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  s.sub->drop_rtp = 1;
  tm_sim_send_rtp(s.pub, 96, 11, 6000, 0xB, tm_sim_vp8_delta, sizeof tm_sim_vp8_delta);
  g_assert_cmpuint(s.sub->rtp_in->len, ==, 1);
  TmRtcpPacket nack = {
    .kind = TM_RTCP_KIND_NACK, .sender_ssrc = 1, .media_ssrc = s.video_ssrc, .n_nacks = 1
  };
  nack.nacks[0].pid = (uint16_t) (tm_sim_browser_nth_rtp(s.sub, 0).seq + 1);
  uint8_t buf[2048];
  size_t n = tm_sim_browser_protect_rtcp(s.sub, &nack, buf, sizeof buf);
  tm_sim_send_raw(s.sub, buf, n);
  tm_sim_send_raw(s.sub, buf, n);
  const TmPeerStats *st = tm_peer_stats(s.sub->peer);
  g_assert_cmpuint(st->nacks_in, ==, 1);
  g_assert_cmpuint(st->retransmits, ==, 1);
  g_assert_cmpuint(st->drop_srtp, ==, 1);
  g_assert_cmpuint(s.sub->rtp_in->len, ==, 2);
  tm_sim_free(sim);
}

/* A link that delivers a fifth of all datagrams twice, both ways: every second copy is refused
 * where it arrives, and what was sent once is received once. */
static void
test_duplicating_link(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene(sim, &s);
  sim->up.duplicate = sim->down.duplicate = 0.2;
  const int n = 100;
  tm_sim_send_video(sim, s.pub, 100, n, true);
  tm_sim_advance(sim, 1000000);
  g_assert_cmpuint(sim->up_stats.duplicated, >, 5);
  g_assert_cmpuint(sim->down_stats.duplicated, >, 5);
  uint64_t refused = tm_peer_stats(s.pub->peer)->drop_srtp + tm_peer_stats(s.sub->peer)->drop_srtp;
  g_assert_cmpuint(refused, ==, sim->up_stats.duplicated);
  g_assert_cmpuint(s.sub->rejected_rtp + s.sub->rejected_rtcp + s.pub->rejected_rtp +
                     s.pub->rejected_rtcp,
                   ==, sim->down_stats.duplicated);
  g_assert_cmpuint(tm_peer_stats(s.pub->peer)->rtp_in, ==, (guint64) n);
  g_assert_cmpint(sim->tapped, ==, n);
  g_assert_cmpuint(s.sub->rtp_in->len, ==, (guint) n);
  tm_sim_free(sim);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sim/replay/rtp", test_rtp);
  g_test_add_func("/sim/replay/rtcp", test_rtcp);
  g_test_add_func("/sim/replay/duplicating-link", test_duplicating_link);
  return g_test_run();
}
