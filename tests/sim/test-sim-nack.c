/* test-sim-nack.c — NACK both ways: the relay answers a receiver's NACK from its retransmission
 * buffer (and ignores one for a packet it never had); it NACKs a gap in a publisher's video,
 * asks again every 100 ms at most four times; and with a lossy link on both legs the receiver
 * ends up with every packet. */
#include <glib.h>

#include "sim.h"

static void
test_answered(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene(sim, &s);
  tm_sim_send_rtp(s.pub, 96, 501, 12000, 0xBBBB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  tm_sim_send_rtp(s.pub, 96, 502, 15000, 0xBBBB, tm_sim_vp8_delta, sizeof tm_sim_vp8_delta);
  g_assert_cmpuint(s.sub->rtp_in->len, ==, 2);
  TmRtpPacket d = tm_sim_browser_nth_rtp(s.sub, 1);

  /* A packet lost on the way to the receiver is resent, identical, when it NACKs it. */
  s.sub->drop_rtp = 1;
  static const uint8_t vp8_lost[] = { 0x10, 0x01, 0x0d, 0x0e };
  tm_sim_send_rtp(s.pub, 96, 503, 18000, 0xBBBB, vp8_lost, sizeof vp8_lost);
  g_assert_cmpuint(s.sub->rtp_in->len, ==, 2);
  tm_sim_send_nack(s.sub, s.video_ssrc, (uint16_t) (d.seq + 1));
  g_assert_cmpuint(s.sub->rtp_in->len, ==, 3);
  TmRtpPacket r = tm_sim_browser_nth_rtp(s.sub, 2);
  g_assert_cmpint(r.seq, ==, (uint16_t) (d.seq + 1));
  g_assert_cmpuint(r.ssrc, ==, s.video_ssrc);
  g_assert_cmpuint(r.ts - d.ts, ==, 3000);
  g_assert_cmpmem(r.payload, r.payload_len, vp8_lost, sizeof vp8_lost);
  /* A NACK for a packet the relay never had is ignored. */
  tm_sim_send_nack(s.sub, s.video_ssrc, (uint16_t) (d.seq + 100));
  g_assert_cmpuint(s.sub->rtp_in->len, ==, 3);
  const TmPeerStats *st = tm_peer_stats(s.sub->peer);
  g_assert_cmpuint(st->nacks_in, ==, 2);
  g_assert_cmpuint(st->retransmits, ==, 1);
  tm_sim_free(sim);
}

static void
test_upstream(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene(sim, &s);
  tm_sim_send_rtp(s.pub, 96, 503, 18000, 0xBBBB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_NACK), ==, 0);
  /* A gap in the publisher's video makes the relay NACK it upstream, at once ... */
  tm_sim_send_rtp(s.pub, 96, 505, 24000, 0xBBBB, tm_sim_vp8_delta, sizeof tm_sim_vp8_delta);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_NACK), ==, 1);
  TmRtcpPacket nack;
  g_assert_true(tm_sim_browser_last_rtcp(s.pub, TM_RTCP_KIND_NACK, &nack));
  g_assert_cmpuint(nack.media_ssrc, ==, 0xBBBB);
  g_assert_cmpuint(nack.n_nacks, ==, 1);
  g_assert_cmpint(nack.nacks[0].pid, ==, 504);
  g_assert_cmpint(nack.nacks[0].blp, ==, 0);
  /* ... and again every 100 ms (the judge receives nothing, so no round-trip time is known)
   * while it stays missing, eight times in all. */
  tm_sim_advance(sim, 99000);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_NACK), ==, 1);
  tm_sim_advance(sim, 1000);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_NACK), ==, 2);
  tm_sim_advance(sim, 2000000);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_NACK), ==, 8);
  g_assert_cmpuint(tm_peer_stats(s.pub->peer)->nacks_out, ==, 8);
  g_assert_cmpuint(tm_peer_stats(s.pub->peer)->nack_given_up, ==, 1);
  g_assert_cmpuint(tm_peer_stats(s.pub->peer)->packets_lost, ==, 1);

  /* A packet that arrives after the relay asked for it is asked for no more. */
  tm_sim_send_rtp(s.pub, 96, 507, 30000, 0xBBBB, tm_sim_vp8_delta, sizeof tm_sim_vp8_delta);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_NACK), ==, 9);
  tm_sim_advance(sim, 50000);
  tm_sim_send_rtp(s.pub, 96, 506, 27000, 0xBBBB, tm_sim_vp8_delta, sizeof tm_sim_vp8_delta);
  g_assert_cmpuint(tm_peer_stats(s.pub->peer)->nack_recovered, ==, 1);
  tm_sim_advance(sim, 1000000);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_NACK), ==, 9);
  tm_sim_free(sim);
}

/* The publisher sends N video packets over LINK-impaired legs, answering the relay's NACKs as it
 * goes; the receiver NACKs its gaps every fifth packet; then a few more round trips. */
static void
stream_with_nacks(TmSim *sim, TmSimScene *s, int n)
{
  for (int i = 0; i < n; i++) {
    tm_sim_advance(sim, 33333);
    uint16_t seq = (uint16_t) (1000 + i);
    tm_sim_send_rtp(s->pub, 96, seq, (uint32_t) i * 3000, 0xB, tm_sim_vp8_key,
                    sizeof tm_sim_vp8_key);
    tm_sim_browser_answer_nacks(s->pub);
    tm_sim_run(sim);
    if (i % 5 == 4)
      tm_sim_browser_nack_gaps(s->sub, s->video_ssrc);
    tm_sim_run(sim);
  }
  for (int round = 0; round < 8; round++) { /* a few more round trips for the last losses */
    tm_sim_advance(sim, 100000);
    tm_sim_browser_answer_nacks(s->pub);
    tm_sim_run(sim);
    tm_sim_browser_nack_gaps(s->sub, s->video_ssrc);
    tm_sim_advance(sim, 2 * (sim->up.delay_us + sim->up.jitter_us) + 1);
  }
}

static void
check_recovered(TmSim *sim, TmSimScene *s, int n)
{
  int first, newest;
  guint have = tm_sim_browser_distinct_rtp(s->sub, &first, &newest);
  g_test_message("lost %" G_GUINT64_FORMAT " datagrams; receiver has %u distinct packets "
                 "from %d to %d", tm_sim_lost(sim), have, first, newest);
  g_assert_cmpint(tm_sim_lost(sim), >, 40);                 /* the link really lost packets */
  g_assert_cmpint(newest - first + 1, >=, n - 5);           /* nearly all of the stream ... */
  g_assert_cmpuint(have, ==, (guint) (newest - first + 1)); /* ... no holes */
  const TmPeerStats *up = tm_peer_stats(s->judge->publish);
  g_assert_cmpuint(up->nacks_out, >, 0);                    /* the relay asked the publisher */
  g_assert_cmpuint(tm_peer_stats(g_ptr_array_index(s->witness->subscriptions, 0))->retransmits,
                   >, 0);
}

static void
test_recovery_under_loss(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene(sim, &s);
  const int n = 300;
  sim->up.loss = sim->down.loss = 0.10; /* 10 % of RTP lost on each leg */
  stream_with_nacks(sim, &s, n);
  check_recovered(sim, &s, n);
  tm_sim_free(sim);
}

/* The same over a long, jittery link: retransmissions cross NACKs in flight, some packets come
 * twice (the second copy is an SRTP replay, refused) and the receiver still has every one. */
static void
test_recovery_with_delay(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene(sim, &s);
  const int n = 300;
  sim->up.loss = sim->down.loss = 0.08;
  sim->up.delay_us = sim->down.delay_us = 60000;
  sim->up.jitter_us = sim->down.jitter_us = 10000;
  stream_with_nacks(sim, &s, n);
  check_recovered(sim, &s, n);
  g_assert_cmpuint(s.sub->rtp_in->len, >=, (guint) (n - 5));
  tm_sim_free(sim);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sim/nack/answered", test_answered);
  g_test_add_func("/sim/nack/upstream", test_upstream);
  g_test_add_func("/sim/nack/recovery-under-loss", test_recovery_under_loss);
  g_test_add_func("/sim/nack/recovery-with-delay", test_recovery_with_delay);
  return g_test_run();
}
