/* test-sim-red.c — redundant sound (RFC 2198, relay/engine/red.h). A browser that offers RED is
 * answered with it: as a publisher it sends its Opus inside RED, each packet carrying the one
 * before; the relay takes it apart, restores from the next packet what the link lost, and
 * forwards plain Opus to a receiver without RED (and to the recording). To a receiver that
 * offers RED the relay sends RED itself, with the packets it sent that receiver just before. */
#include <glib.h>
#include <string.h>

#include "red.h"
#include "sim.h"

#define RED_PT 63
#define OPUS_TS 960 /* 20 ms at 48 kHz */

/* An Opus payload that names its packet. */
static void
opus_for(uint16_t seq, uint8_t out[3])
{
  out[0] = 0xfc;
  out[1] = (uint8_t) (seq >> 8);
  out[2] = (uint8_t) seq;
}

/* PUB sends packet SEQ as RED with packet SEQ - 1 inside, as Chromium does. */
static void
send_red(TmSimBrowser *pub, uint16_t seq)
{
  uint8_t now[3], before[3], payload[64];
  opus_for(seq, now);
  opus_for((uint16_t) (seq - 1), before);
  TmRedBlock prev = { 111, OPUS_TS, before, sizeof before };
  TmRedBlock primary = { 111, 0, now, sizeof now };
  size_t n = tm_red_build(&prev, 1, &primary, payload, sizeof payload);
  g_assert_cmpuint(n, ==, 4 + 1 + 3 + 3);
  tm_sim_send_rtp(pub, RED_PT, seq, (uint32_t) seq * OPUS_TS, 0xAAAA, payload, n);
}

/* PUB sends packets FROM .. TO - 1 as plain Opus. */
static void
send_opus(TmSimBrowser *pub, uint16_t from, uint16_t to)
{
  uint8_t op[3];
  for (uint16_t seq = from; seq < to; seq++) {
    opus_for(seq, op);
    tm_sim_send_rtp(pub, 111, seq, (uint32_t) seq * OPUS_TS, 0xAAAA, op, sizeof op);
  }
}

/* The source's sequence number of the plain Opus packet GOT (opus_for). */
static int
source_seq(const TmRtpPacket *got)
{
  g_assert_cmpuint(got->payload_len, ==, 3);
  g_assert_cmpuint(got->payload[0], ==, 0xfc);
  return got->payload[1] << 8 | got->payload[2];
}

/* A judge publishing (Opus 111) and a witness receiving the judge (Opus 109), each browser
 * offering RED when told to. */
static void
connect_pair(TmSim *sim, bool pub_red, bool sub_red, TmSimBrowser **pub, TmSimBrowser **sub)
{
  TmParticipant *judge = tm_sim_join(sim, "Judge", TM_ROLE_JUDGE);
  TmParticipant *witness = tm_sim_join(sim, "Witness", TM_ROLE_WITNESS);
  sim->offer_red = pub_red ? RED_PT : 0;
  *pub = tm_sim_connect(sim, judge, NULL, 111, 96, false);
  sim->offer_red = sub_red ? RED_PT : 0;
  *sub = tm_sim_connect(sim, witness, judge, 109, 120, false);
  g_assert_true((*pub)->connected && (*sub)->connected);
}

static void
test_restores_lost_sound(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimBrowser *pub, *sub;
  connect_pair(sim, true, false, &pub, &sub);
  /* the publisher's answer lists RED first: a browser sends RED then */
  const TmSdpMedia *a = &pub->answer->media[0];
  g_assert_cmpuint(a->n_codecs, ==, 2);
  g_assert_cmpuint(a->codecs[0].pt, ==, RED_PT);
  g_assert_cmpuint(a->codecs[1].pt, ==, 111);
  g_assert_cmpuint(sub->answer->media[0].n_codecs, ==, 1);

  /* 1003, 1007 and 1008 lost on the way: 1003 and 1008 come inside the packets after them;
   * 1007 came only inside 1008, lost too */
  for (uint16_t seq = 1000; seq <= 1012; seq++)
    if (seq != 1003 && seq != 1007 && seq != 1008)
      send_red(pub, seq);

  const TmPeerStats *st = tm_peer_stats(pub->peer);
  g_assert_cmpuint(st->red_in, ==, 10);
  g_assert_cmpuint(st->red_recovered, ==, 2);
  g_assert_cmpint(sim->tapped, ==, 12); /* the recording has them too */
  /* the receiver hears every packet but 1007, plain Opus in its own numbering and timing */
  g_assert_cmpuint(sub->rtp_in->len, ==, 12);
  TmRtpPacket first = tm_sim_browser_nth_rtp(sub, 0);
  gboolean heard[13] = { FALSE };
  for (guint i = 0; i < sub->rtp_in->len; i++) {
    TmRtpPacket got = tm_sim_browser_nth_rtp(sub, i);
    int src = source_seq(&got);
    g_assert_cmpint(got.pt, ==, 109);
    g_assert_false(got.marker);
    g_assert_cmpint((uint16_t) (got.seq - first.seq), ==, src - 1000);
    g_assert_cmpuint(got.ts - first.ts, ==, (uint32_t) (src - 1000) * OPUS_TS);
    g_assert_cmpint(src, >=, 1000);
    g_assert_cmpint(src, <=, 1012);
    g_assert_false(heard[src - 1000]);
    heard[src - 1000] = TRUE;
  }
  g_assert_false(heard[7]);
  /* each restored packet before the one that brought it */
  for (guint i = 1; i < sub->rtp_in->len; i++) {
    TmRtpPacket got = tm_sim_browser_nth_rtp(sub, i);
    TmRtpPacket before = tm_sim_browser_nth_rtp(sub, i - 1);
    if (source_seq(&got) == 1004 || source_seq(&got) == 1009)
      g_assert_cmpint(source_seq(&before), ==, source_seq(&got) - 1);
  }

  /* the real 1008, late: forwarded once only */
  send_red(pub, 1008);
  g_assert_cmpuint(st->red_discarded, ==, 1);
  g_assert_cmpuint(sub->rtp_in->len, ==, 12);

  /* the publisher is told its link lost three packets: its encoder should know */
  tm_sim_advance(sim, 1100000);
  TmRtcpPacket rr;
  g_assert_true(tm_sim_browser_last_rtcp(pub, TM_RTCP_KIND_RR, &rr));
  gboolean reported = FALSE;
  for (unsigned i = 0; i < rr.n_blocks; i++) {
    if (rr.blocks[i].ssrc == 0xAAAA) {
      g_assert_cmpint(rr.blocks[i].cumulative_lost, ==, 3);
      reported = TRUE;
    }
  }
  g_assert_true(reported);
  tm_sim_free(sim);
}

/* A publisher whose RED carries many earlier packets after a gap: no more than two of them are
 * restored, so that one datagram never makes the relay forward many. */
static void
test_restores_at_most_two_back(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimBrowser *pub, *sub;
  connect_pair(sim, true, false, &pub, &sub);
  send_red(pub, 3000);
  uint8_t op[6][3], payload[64];
  TmRedBlock blocks[6];
  for (int i = 0; i < 6; i++) { /* 3001 .. 3005 inside 3006, then 3006's own */
    opus_for((uint16_t) (3001 + i), op[i]);
    blocks[i] = (TmRedBlock){ 111, (uint32_t) (5 - i) * OPUS_TS, op[i], 3 };
  }
  size_t n = tm_red_build(blocks, 5, &blocks[5], payload, sizeof payload);
  g_assert_cmpuint(n, >, 0);
  tm_sim_send_rtp(pub, RED_PT, 3006, 3006 * OPUS_TS, 0xAAAA, payload, n);
  g_assert_cmpuint(tm_peer_stats(pub->peer)->red_recovered, ==, 2);
  g_assert_cmpuint(sub->rtp_in->len, ==, 4); /* 3000, 3004, 3005, 3006 */
  TmRtpPacket got = tm_sim_browser_nth_rtp(sub, 1);
  g_assert_cmpint(source_seq(&got), ==, 3004);
  tm_sim_free(sim);
}

/* The I-th packet SUB received, taken apart as RED: its blocks, oldest first. */
static size_t
red_blocks(const TmSimBrowser *sub, guint i, TmRedBlock *blocks)
{
  TmRtpPacket got = tm_sim_browser_nth_rtp(sub, i);
  g_assert_cmpint(got.pt, ==, RED_PT);
  size_t n = tm_red_parse(got.payload, got.payload_len, blocks, TM_RED_MAX_BLOCKS);
  g_assert_cmpuint(n, >=, 1);
  for (size_t b = 0; b < n; b++)
    g_assert_cmpint(blocks[b].pt, ==, 109); /* the receiver's Opus */
  return n;
}

/* The source's sequence number of the Opus in B. */
static int
block_seq(const TmRedBlock *b)
{
  TmRtpPacket p = { .payload = b->data, .payload_len = b->len };
  return source_seq(&p);
}

static void
test_sends_redundancy(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimBrowser *pub, *sub;
  connect_pair(sim, false, true, &pub, &sub);
  g_assert_cmpuint(pub->answer->media[0].n_codecs, ==, 1);
  uint32_t audio_ssrc = sub->answer->media[0].ssrcs[0];

  /* plain Opus in, RED out: each packet with the one before it */
  send_opus(pub, 1000, 1004);
  g_assert_cmpuint(sub->rtp_in->len, ==, 4);
  TmRedBlock blocks[TM_RED_MAX_BLOCKS];
  g_assert_cmpuint(red_blocks(sub, 0, blocks), ==, 1); /* nothing sent before the first */
  g_assert_cmpint(block_seq(&blocks[0]), ==, 1000);
  for (guint i = 1; i < 4; i++) {
    g_assert_cmpuint(red_blocks(sub, i, blocks), ==, 2);
    g_assert_cmpint(block_seq(&blocks[0]), ==, 1000 + (int) i - 1);
    g_assert_cmpuint(blocks[0].ts_offset, ==, OPUS_TS);
    g_assert_cmpint(block_seq(&blocks[1]), ==, 1000 + (int) i);
  }
  g_assert_cmpuint(tm_peer_stats(sub->peer)->red_out, ==, 4);

  /* the receiver reports loss: two before each packet */
  TmRtcpPacket rr = { .kind = TM_RTCP_KIND_RR, .sender_ssrc = 0x5151, .n_blocks = 1 };
  rr.blocks[0] = (TmRtcpReportBlock){ .ssrc = audio_ssrc, .fraction_lost = 26 }; /* 10 % */
  tm_sim_send_rtcp(sub, &rr);
  send_opus(pub, 1004, 1005);
  g_assert_cmpuint(red_blocks(sub, 4, blocks), ==, 3);
  g_assert_cmpint(block_seq(&blocks[0]), ==, 1002);
  g_assert_cmpuint(blocks[0].ts_offset, ==, 2 * OPUS_TS);
  g_assert_cmpint(block_seq(&blocks[1]), ==, 1003);
  g_assert_cmpint(block_seq(&blocks[2]), ==, 1004);

  /* what the receiver may not hear is never sent, not even inside a later packet */
  g_assert_false(tm_peer_set_track_enabled(sub->peer, TM_TRACK_AUDIO, false));
  send_opus(pub, 1005, 1007);
  g_assert_cmpuint(sub->rtp_in->len, ==, 5);
  tm_peer_set_track_enabled(sub->peer, TM_TRACK_AUDIO, true);
  send_opus(pub, 1007, 1009);
  g_assert_cmpuint(sub->rtp_in->len, ==, 7);
  g_assert_cmpuint(red_blocks(sub, 5, blocks), ==, 1);
  g_assert_cmpint(block_seq(&blocks[0]), ==, 1007);
  g_assert_cmpuint(red_blocks(sub, 6, blocks), ==, 2);
  g_assert_cmpint(block_seq(&blocks[0]), ==, 1007);
  g_assert_cmpint(block_seq(&blocks[1]), ==, 1008);
  tm_sim_free(sim);
}

/* A browser publishing RED to a browser receiving RED over a lossy link: every packet the
 * first link lost that a later one carried, and every packet of the second link's losses that
 * a later one carried, is heard; nothing is heard twice. */
static void
test_red_both_ways(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimBrowser *pub, *sub;
  connect_pair(sim, true, true, &pub, &sub);
  sim->up.loss = sim->down.loss = 0.1;
  const int n = 500;
  for (int i = 0; i < n; i++) {
    send_red(pub, (uint16_t) (2000 + i));
    tm_sim_advance(sim, 20000);
  }
  g_assert_cmpuint(sim->up_stats.lost, >, 25);
  g_assert_cmpuint(sim->down_stats.lost, >, 25);
  /* what the receiver can play: every packet it got, and every block inside them */
  gboolean *heard = g_new0(gboolean, n);
  int heard_count = 0;
  for (guint i = 0; i < sub->rtp_in->len; i++) {
    TmRedBlock blocks[TM_RED_MAX_BLOCKS];
    size_t nb = red_blocks(sub, i, blocks);
    for (size_t b = 0; b < nb; b++) {
      int src = block_seq(&blocks[b]) - 2000;
      g_assert_cmpint(src, >=, 0);
      g_assert_cmpint(src, <, n);
      heard_count += !heard[src];
      heard[src] = TRUE;
    }
  }
  /* each way a packet is lost one time in ten; it is lost to the ear only when the packets
   * that carry it are lost too: about 1 % each way without RED's second copy */
  g_test_message("heard %d of %d; %u packets arrived; the links lost %u and %u", heard_count, n,
                 sub->rtp_in->len, (unsigned) sim->up_stats.lost, (unsigned) sim->down_stats.lost);
  g_assert_cmpint(heard_count, >=, n * 96 / 100);
  g_assert_cmpuint(sub->rtp_in->len, <, (guint) heard_count);
  g_free(heard);
  tm_sim_free(sim);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/red/restores-lost-sound", test_restores_lost_sound);
  g_test_add_func("/red/restores-at-most-two-back", test_restores_at_most_two_back);
  g_test_add_func("/red/sends-redundancy", test_sends_redundancy);
  g_test_add_func("/red/both-ways", test_red_both_ways);
  return g_test_run();
}
