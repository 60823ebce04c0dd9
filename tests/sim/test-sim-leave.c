/* test-sim-leave.c — leaving: a receiver that leaves is closed and gets nothing more, even while
 * a NACK of its and the retransmission that answers it are still on the link; the others keep
 * receiving. A publisher that leaves while the relay still asks it for lost packets is asked no
 * more. */
#include <glib.h>

#include "sim.h"

static void
test_witness_leaves(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene(sim, &s);
  tm_sim_send_video(sim, s.pub, 500, 3, true);
  g_assert_cmpuint(s.sub->rtp_in->len, ==, 3);
  guint received = s.sub->rtp_in->len;
  tm_hearing_leave(sim->hearing, s.witness);
  tm_sim_run(sim);
  g_assert_cmpint(sim->closed, ==, 1);
  g_assert_null(s.sub->peer);
  g_assert_cmpuint(s.judge->subscribers->len, ==, 0);
  tm_sim_send_rtp(s.pub, 96, 506, 27000, 0xB, tm_sim_vp8_delta, sizeof tm_sim_vp8_delta);
  g_assert_cmpuint(s.sub->rtp_in->len, ==, received);
  g_assert_cmpuint(tm_hearing_n_participants(sim->hearing), ==, 1);
  tm_sim_free(sim);
}

static void
test_mid_retransmission(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene(sim, &s);
  tm_sim_scene_add_clerk(sim, &s);
  sim->up.delay_us = sim->down.delay_us = 30000;
  uint16_t seq = tm_sim_send_video(sim, s.pub, 100, 5, true);
  s.sub->drop_rtp = 1;
  s.sub2->drop_rtp = 1;
  seq = tm_sim_send_video(sim, s.pub, seq, 5, true);
  tm_sim_advance(sim, 100000);
  g_assert_cmpuint(s.sub->rtp_in->len, ==, 9);
  g_assert_cmpuint(s.sub2->rtp_in->len, ==, 9);

  /* Both receivers NACK; the witness twice, 20 ms apart. When the witness leaves, its first
   * NACK has been answered (the retransmission is on its way) and its second is still on the
   * way to the relay. */
  tm_sim_browser_nack_gaps(s.sub, s.video_ssrc);
  tm_sim_browser_nack_gaps(s.sub2, s.video_ssrc2);
  tm_sim_advance(sim, 20000);
  tm_sim_browser_nack_gaps(s.sub, s.video_ssrc);
  tm_sim_advance(sim, 20000);
  g_assert_cmpuint(tm_peer_stats(s.sub->peer)->retransmits, ==, 1);
  g_assert_cmpuint(s.sub->rtp_in->len, ==, 9);
  uint64_t to_closed = sim->up_stats.to_closed;
  tm_hearing_leave(sim->hearing, s.witness);
  tm_sim_run(sim);
  g_assert_cmpint(sim->closed, ==, 1);
  g_assert_cmpuint(s.judge->subscribers->len, ==, 1);
  tm_sim_advance(sim, 100000);
  g_assert_cmpuint(sim->up_stats.to_closed, >, to_closed); /* the late NACK found no one */
  g_assert_cmpuint(s.sub->rtp_in->len, ==, 10);            /* what was on the wire arrived */

  /* The clerk got its retransmission and keeps receiving; the witness gets nothing more. */
  g_assert_cmpuint(s.sub2->rtp_in->len, ==, 10);
  int first, newest;
  g_assert_cmpuint(tm_sim_browser_distinct_rtp(s.sub2, &first, &newest), ==, 10);
  tm_sim_send_video(sim, s.pub, seq, 5, true);
  tm_sim_advance(sim, 100000);
  g_assert_cmpuint(s.sub2->rtp_in->len, ==, 15);
  g_assert_cmpuint(s.sub->rtp_in->len, ==, 10);
  tm_sim_free(sim);
}

static void
test_publisher_leaves_with_nacks_pending(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene(sim, &s);
  tm_sim_send_rtp(s.pub, 96, 10, 3000, 0xB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  tm_sim_send_rtp(s.pub, 96, 15, 18000, 0xB, tm_sim_vp8_delta, sizeof tm_sim_vp8_delta);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_NACK), ==, 1);
  int64_t deadline = tm_hearing_next_deadline(sim->hearing);
  g_assert_cmpint(deadline, <=, sim->now + 100000); /* the relay will ask again */
  guint rtcp = s.pub->rtcp_in->len;
  tm_hearing_leave(sim->hearing, s.judge);
  tm_sim_run(sim);
  g_assert_cmpint(sim->closed, ==, 2); /* its publish connection and the witness's subscription */
  g_assert_cmpuint(s.witness->subscriptions->len, ==, 0);
  tm_sim_advance(sim, 3000000);
  g_assert_cmpuint(s.pub->rtcp_in->len, ==, rtcp);
  g_assert_cmpuint(tm_hearing_n_participants(sim->hearing), ==, 1);
  tm_sim_free(sim);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sim/leave/witness", test_witness_leaves);
  g_test_add_func("/sim/leave/mid-retransmission", test_mid_retransmission);
  g_test_add_func("/sim/leave/publisher-with-nacks-pending",
                  test_publisher_leaves_with_nacks_pending);
  return g_test_run();
}
