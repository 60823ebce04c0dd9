/* test-sim-nack.c — NACK both ways: the relay answers a receiver's NACK from its retransmission
 * buffer (and ignores one for a packet it never had); it NACKs a gap in a publisher's video and
 * asks again after 1.5 round trips + 10 ms (100 ms while the round trip is unknown), at most
 * eight times; with a lossy link on both legs the receiver ends up with every packet, with
 * plain retransmissions and with RTX (RFC 4588) both ways; RTX that fills no hole is dropped. */
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

/* The publisher's video is kept once for both receivers: each one's NACK is answered with the
 * packet as that receiver got it (its own SSRC, sequence number and timestamp); once 512 newer
 * packets have taken its place in the store, a NACK for it is answered with nothing. */
static void
test_shared_store(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene(sim, &s);
  tm_sim_scene_add_clerk(sim, &s);
  tm_sim_send_rtp(s.pub, 96, 501, 12000, 0xBBBB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  g_assert_cmpuint(s.sub->rtp_in->len, ==, 1);
  g_assert_cmpuint(s.sub2->rtp_in->len, ==, 1);
  TmRtpPacket a = tm_sim_browser_nth_rtp(s.sub, 0);
  TmRtpPacket b = tm_sim_browser_nth_rtp(s.sub2, 0);
  g_assert_cmpuint(a.ssrc, !=, b.ssrc);
  s.sub->drop_rtp = 1;
  s.sub2->drop_rtp = 1;
  static const uint8_t vp8_lost[] = { 0x10, 0x01, 0x0d, 0x0e, 0x0f };
  tm_sim_send_rtp(s.pub, 96, 502, 15000, 0xBBBB, vp8_lost, sizeof vp8_lost);
  tm_sim_send_nack(s.sub, a.ssrc, (uint16_t) (a.seq + 1));
  tm_sim_send_nack(s.sub2, b.ssrc, (uint16_t) (b.seq + 1));
  g_assert_cmpuint(s.sub->rtp_in->len, ==, 2);
  g_assert_cmpuint(s.sub2->rtp_in->len, ==, 2);
  TmSimBrowser *subs[] = { s.sub, s.sub2 };
  TmRtpPacket firsts[] = { a, b };
  for (int i = 0; i < 2; i++) {
    TmRtpPacket r = tm_sim_browser_nth_rtp(subs[i], 1);
    g_assert_cmpuint(r.ssrc, ==, firsts[i].ssrc);
    g_assert_cmpint(r.seq, ==, (uint16_t) (firsts[i].seq + 1));
    g_assert_cmpuint(r.ts - firsts[i].ts, ==, 3000);
    g_assert_cmpmem(r.payload, r.payload_len, vp8_lost, sizeof vp8_lost);
  }
  /* 512 packets later the lost one is gone from the store: nothing is sent for it. */
  for (uint16_t i = 0; i < 512; i++)
    tm_sim_send_rtp(s.pub, 96, (uint16_t) (503 + i), 18000 + 3000u * i, 0xBBBB, tm_sim_vp8_delta,
                    sizeof tm_sim_vp8_delta);
  guint before = s.sub->rtp_in->len;
  tm_sim_advance(sim, 600000); /* past the receiver's repeat guard */
  tm_sim_send_nack(s.sub, a.ssrc, (uint16_t) (a.seq + 1));
  g_assert_cmpuint(s.sub->rtp_in->len, ==, before);
  g_assert_cmpuint(tm_peer_stats(s.sub->peer)->retransmits, ==, 1);
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
   * while it stays missing, eight times in all; each request after the first once more a
   * quarter of that later (a request lost on the way costs a try). */
  tm_sim_advance(sim, 99000);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_NACK), ==, 1);
  tm_sim_advance(sim, 1000);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_NACK), ==, 2);
  tm_sim_advance(sim, 24000);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_NACK), ==, 2);
  tm_sim_advance(sim, 1000);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_NACK), ==, 3);
  g_assert_true(tm_sim_browser_last_rtcp(s.pub, TM_RTCP_KIND_NACK, &nack));
  g_assert_cmpint(nack.nacks[0].pid, ==, 504);
  /* the third request 100 ms after the second, not after its copy */
  tm_sim_advance(sim, 74000);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_NACK), ==, 3);
  tm_sim_advance(sim, 1000);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_NACK), ==, 4);
  tm_sim_advance(sim, 2000000);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_NACK), ==, 15);
  g_assert_cmpuint(tm_peer_stats(s.pub->peer)->nacks_out, ==, 15);
  g_assert_cmpuint(tm_peer_stats(s.pub->peer)->nack_given_up, ==, 1);
  g_assert_cmpuint(tm_peer_stats(s.pub->peer)->packets_lost, ==, 1);

  /* A packet that arrives after the relay asked for it is asked for no more. */
  tm_sim_send_rtp(s.pub, 96, 507, 30000, 0xBBBB, tm_sim_vp8_delta, sizeof tm_sim_vp8_delta);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_NACK), ==, 16);
  tm_sim_advance(sim, 50000);
  tm_sim_send_rtp(s.pub, 96, 506, 27000, 0xBBBB, tm_sim_vp8_delta, sizeof tm_sim_vp8_delta);
  g_assert_cmpuint(tm_peer_stats(s.pub->peer)->nack_recovered, ==, 1);
  /* 50 ms after the gap was seen: in the first quarter second */
  g_assert_cmpuint(tm_peer_stats(s.pub->peer)->repaired_within[0], ==, 1);
  g_assert_cmpint(tm_peer_recent_repair_us(s.pub->peer, sim->now), ==, 50000);
  tm_sim_advance(sim, 1000000);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_NACK), ==, 16);
  /* A longer repair is the recent longest at once; the 50 ms one is forgotten 15-30 s later. */
  tm_sim_send_rtp(s.pub, 96, 509, 36000, 0xBBBB, tm_sim_vp8_delta, sizeof tm_sim_vp8_delta);
  tm_sim_advance(sim, 700000);
  tm_sim_send_rtp(s.pub, 96, 508, 33000, 0xBBBB, tm_sim_vp8_delta, sizeof tm_sim_vp8_delta);
  g_assert_cmpuint(tm_peer_stats(s.pub->peer)->repaired_within[2], ==, 1);
  g_assert_cmpint(tm_peer_recent_repair_us(s.pub->peer, sim->now), ==, 700000);
  tm_sim_advance(sim, TM_PEER_REPAIR_WINDOW_US);
  g_assert_cmpint(tm_peer_recent_repair_us(s.pub->peer, sim->now), ==, 700000);
  tm_sim_advance(sim, TM_PEER_REPAIR_WINDOW_US);
  g_assert_cmpint(tm_peer_recent_repair_us(s.pub->peer, sim->now), ==, 0);
  /* and a receive connection has none */
  g_assert_cmpint(tm_peer_recent_repair_us(s.sub->peer, sim->now), ==, 0);
  tm_sim_free(sim);
}

/* The publisher sends N video packets over LINK-impaired legs, answering the relay's NACKs as it
 * goes; the receiver NACKs its gaps every fifth packet; then, with TAIL, a few more round trips
 * (in which the publisher answers only every 100 ms). */
static void
stream_with_nacks(TmSim *sim, TmSimScene *s, int n, bool tail)
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
  for (int round = 0; tail && round < 8; round++) { /* more round trips for the last losses */
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
  const TmPeerStats *up = tm_peer_stats(s->judge->publish);
  const TmPeerStats *down = tm_peer_stats(g_ptr_array_index(s->witness->subscriptions, 0));
  g_test_message("retransmitted to the receiver %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT
                 " as RTX); from the publisher %" G_GUINT64_FORMAT " recovered, %" G_GUINT64_FORMAT
                 " RTX discarded",
                 down->retransmits, down->rtx_out, up->nack_recovered, up->rtx_discarded);
  g_assert_cmpuint(up->nack_recovered, >, 0);
  if (s->video_rtx_ssrc != 0) { /* RTX both ways: the publisher's restored, the receiver's made */
    g_assert_cmpuint(up->rtx_in, >, 0);
    g_assert_cmpuint(up->rtx_in, ==, up->nack_recovered + up->rtx_discarded);
    g_assert_cmpuint(down->rtx_out, ==, down->retransmits);
    int last = -1;
    for (guint i = 0; i < s->sub->rtp_in->len; i++) {
      TmRtpPacket r = tm_sim_browser_nth_rtp(s->sub, i);
      g_assert_true(r.ssrc == s->video_ssrc || r.ssrc == s->video_rtx_ssrc);
      g_assert_cmpuint(r.pt, ==, r.ssrc == s->video_ssrc ? 120 : 121);
      if (r.ssrc == s->video_rtx_ssrc) { /* its own sequence, in order on this link */
        g_assert_cmpint((int) r.seq, !=, last);
        last = r.seq;
      }
    }
  } else {
    g_assert_cmpuint(down->rtx_out, ==, 0);
    g_assert_cmpuint(up->rtx_in, ==, 0);
  }
  int first, newest;
  guint have = tm_sim_browser_distinct_rtp(s->sub, &first, &newest);
  g_test_message("lost %" G_GUINT64_FORMAT " datagrams; receiver has %u distinct packets "
                 "from %d to %d",
                 tm_sim_lost(sim), have, first, newest);
  g_assert_cmpint(tm_sim_lost(sim), >, 30);                 /* the link really lost packets */
  g_assert_cmpint(newest - first + 1, >=, n - 5);           /* nearly all of the stream ... */
  g_assert_cmpuint(have, ==, (guint) (newest - first + 1)); /* ... no holes */
  g_assert_cmpuint(up->nacks_out, >, 0);                    /* the relay asked the publisher */
  g_assert_cmpuint(down->retransmits, >, 0);
}

static void
recovery_under_loss(bool rtx)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene_full(sim, &s, rtx, false);
  const int n = 300;
  sim->up.loss = sim->down.loss = 0.10; /* 10 % of RTP lost on each leg */
  stream_with_nacks(sim, &s, n, true);
  check_recovered(sim, &s, n);
  tm_sim_free(sim);
}

static void
test_recovery_under_loss(void)
{
  recovery_under_loss(false);
}

static void
test_rtx_recovery_under_loss(void)
{
  recovery_under_loss(true);
}

/* The same over a long, jittery link: retransmissions cross NACKs in flight, some packets come
 * twice (the second copy is an SRTP replay, refused) and the receiver still has every one. */
static void
recovery_with_delay(bool rtx)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene_full(sim, &s, rtx, false);
  const int n = 300;
  sim->up.loss = sim->down.loss = 0.08;
  sim->up.delay_us = sim->down.delay_us = 60000;
  sim->up.jitter_us = sim->down.jitter_us = 10000;
  stream_with_nacks(sim, &s, n, true);
  check_recovered(sim, &s, n);
  g_assert_cmpuint(s.sub->rtp_in->len, >=, (guint) (n - 5));
  tm_sim_free(sim);
}

static void
test_recovery_with_delay(void)
{
  recovery_with_delay(false);
}

static void
test_rtx_recovery_with_delay(void)
{
  recovery_with_delay(true);
}

/* An RTX packet that fills no hole (a padding probe, a copy of a packet that came, one never
 * asked for) is counted and not forwarded; one of a packet the relay asked for is restored. */
static void
test_rtx_discarded(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene_full(sim, &s, true, false);
  tm_sim_send_rtp(s.pub, 96, 10, 0, 0xB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  tm_sim_send_rtp(s.pub, 96, 12, 0, 0xB, tm_sim_vp8_delta, sizeof tm_sim_vp8_delta); /* 11 lost */
  g_assert_cmpuint(s.sub->rtp_in->len, ==, 2);
  const TmPeerStats *up = tm_peer_stats(s.judge->publish);
  tm_sim_send_rtp(s.pub, 97, 1, 0, 0xC, NULL, 0);      /* no OSN: a probe */
  static const uint8_t copy[] = { 0, 10, 0x10, 0x01 }; /* OSN 10: already here */
  tm_sim_send_rtp(s.pub, 97, 2, 0, 0xC, copy, sizeof copy);
  static const uint8_t newer[] = { 0, 13, 0x10, 0x01 }; /* OSN 13: not asked for */
  tm_sim_send_rtp(s.pub, 97, 3, 0, 0xC, newer, sizeof newer);
  g_assert_cmpuint(up->rtx_discarded, ==, 3);
  g_assert_cmpuint(s.sub->rtp_in->len, ==, 2);
  static const uint8_t hole[] = { 0, 11, 0x10, 0x01, 0x02 }; /* OSN 11: the hole */
  tm_sim_send_rtp(s.pub, 97, 4, 0, 0xC, hole, sizeof hole);
  tm_sim_send_rtp(s.pub, 97, 5, 0, 0xC, hole, sizeof hole); /* twice: the second is a copy */
  g_assert_cmpuint(up->rtx_in, ==, 5);
  g_assert_cmpuint(up->rtx_discarded, ==, 4);
  g_assert_cmpuint(up->nack_recovered, ==, 1);
  g_assert_cmpuint(s.sub->rtp_in->len, ==, 3);
  TmRtpPacket r = tm_sim_browser_nth_rtp(s.sub, 2); /* restored: VP8, the next number */
  g_assert_cmpuint(r.pt, ==, 120);
  g_assert_cmpuint(r.ssrc, ==, s.video_ssrc);
  g_assert_cmpuint(r.seq, ==, (uint16_t) (tm_sim_browser_nth_rtp(s.sub, 0).seq + 1));
  g_assert_cmpuint(r.payload_len, ==, 3);
  tm_sim_free(sim);
}

/* Retries follow the participant's round trip: 100 ms each way, measured from the witness's
 * receiver report on its subscription, makes the relay ask the witness's publisher again every
 * 310 ms, each repeated request once more 77 ms later; a packet missing 1.5 s is given up. */
static void
test_retry_follows_rtt(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene(sim, &s);
  TmSimBrowser *pub_w = tm_sim_connect(sim, s.witness, NULL, 111, 96, false);
  g_assert_cmpint(tm_peer_nack_retry_us(s.witness->publish), ==, 100000); /* not known yet */
  sim->up.delay_us = sim->down.delay_us = 100000;
  tm_sim_send_rtp(s.pub, 96, 1, 0, 0xA, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  TmRtcpPacket sr;
  for (int i = 0; i < 3000 && !tm_sim_browser_last_rtcp(s.sub, TM_RTCP_KIND_SR, &sr); i++)
    tm_sim_advance(sim, 1000); /* the relay's sender report reaches the witness ... */
  TmRtcpPacket rr = { .kind = TM_RTCP_KIND_RR, .sender_ssrc = 7, .n_blocks = 1 };
  rr.blocks[0] = (TmRtcpReportBlock){ .ssrc = s.video_ssrc, .lsr = (uint32_t) (sr.ntp >> 16) };
  tm_sim_send_rtcp(s.sub, &rr); /* ... which answers at once */
  tm_sim_advance(sim, 100000);
  const TmPeerStats *up = tm_peer_stats(s.witness->publish);
  g_assert_cmpfloat_with_epsilon(up->rtt_ms, 200.0, 1.5);
  g_assert_cmpint(tm_peer_nack_retry_us(s.witness->publish), >=, 307000);
  g_assert_cmpint(tm_peer_nack_retry_us(s.witness->publish), <=, 313000);
  /* the witness's video loses 3 and 4 */
  tm_sim_send_rtp(pub_w, 96, 1, 0, 0xB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  tm_sim_send_rtp(pub_w, 96, 2, 3000, 0xB, tm_sim_vp8_delta, sizeof tm_sim_vp8_delta);
  tm_sim_send_rtp(pub_w, 96, 5, 12000, 0xB, tm_sim_vp8_delta, sizeof tm_sim_vp8_delta);
  int64_t times[16];
  int n = 0, seen = 0;
  for (int64_t start = sim->now; sim->now - start < 3000000 && n < 16;) {
    int count = tm_sim_browser_count_rtcp(pub_w, TM_RTCP_KIND_NACK);
    if (count > seen)
      times[n++] = sim->now;
    seen = count;
    tm_sim_advance(sim, 10000);
  }
  g_test_message("%d NACKs, %" G_GUINT64_FORMAT " packets given up", n, up->nack_given_up);
  /* 0, 310 (+77), 620 (+77), 930 (+77), 1240 (+77) ms; at 1550 ms they are too old */
  g_assert_cmpint(n, ==, 9);
  for (int i = 1; i < n; i++) {
    int64_t since = times[i] - times[i - 1];
    if (i % 2 == 1) { /* a request: 310 ms after the last one, 233 after its copy */
      g_assert_cmpint(since, >=, i == 1 ? 300000 : 223000);
      g_assert_cmpint(since, <=, i == 1 ? 320000 : 243000);
    } else { /* its copy */
      g_assert_cmpint(since, >=, 70000);
      g_assert_cmpint(since, <=, 87000);
    }
  }
  g_assert_cmpuint(up->nack_given_up, ==, 2);
  g_assert_cmpuint(up->nacks_out, ==, 9);
  /* the hint is bounded and smoothed */
  TmPeer *jp = s.judge->publish;
  g_assert_cmpint(tm_peer_nack_retry_us(jp), ==, 100000);
  tm_peer_set_rtt_hint(jp, 1.0);
  g_assert_cmpint(tm_peer_nack_retry_us(jp), ==, 20000);
  tm_peer_set_rtt_hint(jp, 20000.0); /* beyond 10 s: ignored */
  tm_peer_set_rtt_hint(jp, -5.0);
  g_assert_cmpint(tm_peer_nack_retry_us(jp), ==, 20000);
  tm_peer_set_rtt_hint(jp, 5000.0); /* one sample moves it an eighth of the way */
  g_assert_cmpfloat_with_epsilon(tm_peer_stats(jp)->rtt_ms, 1.0 + 4999.0 / 8, 0.01);
  for (int i = 0; i < 100; i++)
    tm_peer_set_rtt_hint(jp, 5000.0);
  g_assert_cmpint(tm_peer_nack_retry_us(jp), ==, 500000);
  tm_sim_free(sim);
}

/* The round trip measured from retransmissions stays the path's at 10 % loss: a packet asked
 * for more than once gives no sample (Karn's rule), else every lost copy lengthened the wait
 * before the next retry and so the next sample. The publisher here answers NACKs as it sends,
 * every 33 ms, so a sample is the 200 ms path and up to 33 ms more. */
static void
test_rtt_under_loss(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene_full(sim, &s, true, false);
  sim->up.loss = sim->down.loss = 0.10;
  sim->up.delay_us = sim->down.delay_us = 100000;
  stream_with_nacks(sim, &s, 600, false);
  const TmPeerStats *up = tm_peer_stats(s.judge->publish);
  g_test_message("round trip %.1f ms, retry %" G_GINT64_FORMAT " us, %" G_GUINT64_FORMAT
                 " NACKs, %" G_GUINT64_FORMAT " recovered",
                 up->rtt_ms, tm_peer_nack_retry_us(s.judge->publish), up->nacks_out,
                 up->nack_recovered);
  g_assert_cmpuint(up->nack_recovered, >, 30);
  /* every repair counted by how long it took; most in the first try, none past a second */
  guint64 repaired = 0;
  for (guint i = 0; i < TM_PEER_REPAIR_BUCKETS; i++)
    repaired += up->repaired_within[i];
  g_assert_cmpuint(repaired, ==, up->nack_recovered);
  g_assert_cmpuint(up->repaired_within[0], >, up->nack_recovered / 2);
  g_assert_cmpuint(up->repaired_within[TM_PEER_REPAIR_BUCKETS - 1], ==, 0);
  g_assert_cmpfloat(up->rtt_ms, >=, 199.0);
  g_assert_cmpfloat(up->rtt_ms, <=, 240.0); /* it was 406 before Karn's rule */
  /* a steady path: retries a little more than a round trip apart, not 1.5 */
  g_assert_cmpint(tm_peer_nack_retry_us(s.judge->publish), <=,
                  (int64_t) (up->rtt_ms * 1000) + 30000);
  tm_sim_free(sim);
}

/* A receiver that asks again for a packet before the first copy could have reached it gets no
 * second copy until a round trip has passed (100 ms while its round trip is unknown); and all
 * retransmissions to a receiver take at most half of what it can take, at least 64 kbit/s,
 * so that on a congested link they do not crowd out the stream they repair. */
static void
test_repeats_and_budget(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene(sim, &s);
  tm_sim_send_rtp(s.pub, 96, 1, 0, 0xBBBB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  TmRtpPacket k = tm_sim_browser_nth_rtp(s.sub, 0);
  s.sub->drop_rtp = 1;
  tm_sim_send_rtp(s.pub, 96, 2, 3000, 0xBBBB, tm_sim_vp8_delta, sizeof tm_sim_vp8_delta);
  const TmPeerStats *st = tm_peer_stats(s.sub->peer);
  guint got = s.sub->rtp_in->len;
  s.sub->drop_rtp = 1; /* the answer is lost too */
  tm_sim_send_nack(s.sub, s.video_ssrc, (uint16_t) (k.seq + 1));
  g_assert_cmpuint(st->retransmits, ==, 1);
  tm_sim_advance(sim, 50000);
  tm_sim_send_nack(s.sub, s.video_ssrc, (uint16_t) (k.seq + 1));
  g_assert_cmpuint(st->retransmits, ==, 1);
  g_assert_cmpuint(st->rtx_repeats, ==, 1);
  tm_sim_advance(sim, 50000);
  s.sub->drop_rtp = 1; /* and the answer to the second request */
  tm_sim_send_nack(s.sub, s.video_ssrc, (uint16_t) (k.seq + 1));
  g_assert_cmpuint(st->retransmits, ==, 2);
  /* asked for again, so a try failed: once more a quarter of a round trip later (100 ms while
   * not known), and that copy brings the packet */
  tm_sim_advance(sim, 24000);
  g_assert_cmpuint(st->retransmits, ==, 2);
  g_assert_cmpuint(s.sub->rtp_in->len, ==, got);
  tm_sim_advance(sim, 1000);
  g_assert_cmpuint(st->retransmits, ==, 3);
  g_assert_cmpuint(st->rtx_echoes, ==, 1);
  g_assert_cmpuint(s.sub->rtp_in->len, ==, got + 1);
  g_assert_cmpuint(tm_sim_browser_nth_rtp(s.sub, got).seq, ==, (uint16_t) (k.seq + 1));
  tm_sim_advance(sim, 1000000);
  g_assert_cmpuint(st->retransmits, ==, 3);

  /* The receiver can take 100 kbit/s (its REMB): 64 kbit/s of retransmissions (half of it is
   * less than the floor), in bursts of a second's worth (8000 bytes). Forty packets of about
   * 900 bytes lost, all asked for at once: eight come back; a second later, eight more. */
  TmRtcpPacket remb = { .kind = TM_RTCP_KIND_REMB,
                        .sender_ssrc = 7,
                        .remb_bitrate = 100000,
                        .n_remb_ssrcs = 1,
                        .remb_ssrcs = { s.video_ssrc } };
  tm_sim_send_rtcp(s.sub, &remb);
  uint8_t big[900] = { 0x10, 0x01 };
  s.sub->drop_rtp = 40;
  for (int i = 0; i < 40; i++)
    tm_sim_send_rtp(s.pub, 96, (uint16_t) (3 + i), (uint32_t) (6000 + 3000 * i), 0xBBBB, big,
                    sizeof big);
  TmRtcpPacket nack = { .kind = TM_RTCP_KIND_NACK, .sender_ssrc = 1, .media_ssrc = s.video_ssrc };
  for (int i = 0; i < 40; i += 17)
    nack.nacks[nack.n_nacks++] = (TmRtcpNackItem){ (uint16_t) (k.seq + 2 + i), 0xffff };
  uint64_t before = st->retransmits;
  tm_sim_send_rtcp(s.sub, &nack);
  g_assert_cmpuint(st->retransmits - before, ==, 8);
  tm_sim_advance(sim, 1000000);
  tm_sim_send_rtcp(s.sub, &nack);
  g_assert_cmpuint(st->retransmits - before, ==, 16);
  g_assert_cmpuint(st->drop_rate_limited, >, 30);
  tm_sim_free(sim);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sim/nack/answered", test_answered);
  g_test_add_func("/sim/nack/upstream", test_upstream);
  g_test_add_func("/sim/nack/shared-store", test_shared_store);
  g_test_add_func("/sim/nack/recovery-under-loss", test_recovery_under_loss);
  g_test_add_func("/sim/nack/rtx-recovery-under-loss", test_rtx_recovery_under_loss);
  g_test_add_func("/sim/nack/rtx-recovery-with-delay", test_rtx_recovery_with_delay);
  g_test_add_func("/sim/nack/rtx-discarded", test_rtx_discarded);
  g_test_add_func("/sim/nack/retry-follows-rtt", test_retry_follows_rtt);
  g_test_add_func("/sim/nack/rtt-under-loss", test_rtt_under_loss);
  g_test_add_func("/sim/nack/recovery-with-delay", test_recovery_with_delay);
  g_test_add_func("/sim/nack/repeats-and-budget", test_repeats_and_budget);
  return g_test_run();
}
