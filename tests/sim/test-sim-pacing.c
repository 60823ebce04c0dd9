/* test-sim-pacing.c — what the relay sends a receiver goes at the pace its link takes
 * (relay/engine/pacer.h, docs/poor-networks.md): a key frame's burst from the publisher reaches
 * a receiver that can take 300 kbit/s spread over a third of a second, in order and whole,
 * while sound sent in the middle of it is not held; a receiver whose link is not known yet gets
 * the burst at once; a queue longer than a second is cut. */
#include <glib.h>
#include <string.h>

#include "sim.h"

#define BURST 20
#define PACKET 1000

/* The judge's key frame: BURST packets of PACKET bytes at once, from sequence number SEQ. */
static void
send_burst(TmSimScene *s, uint16_t seq)
{
  static uint8_t payload[PACKET];
  memcpy(payload, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  for (int i = 0; i < BURST; i++)
    tm_sim_send_rtp(s->pub, 96, (uint16_t) (seq + i), 90000, 0xB, payload, sizeof payload);
}

/* The witness says (REMB) it can take BPS. */
static void
witness_takes(TmSimScene *s, uint64_t bps)
{
  TmRtcpPacket remb = { .kind = TM_RTCP_KIND_REMB,
                        .sender_ssrc = 7,
                        .remb_bitrate = bps,
                        .n_remb_ssrcs = 1,
                        .remb_ssrcs = { s->video_ssrc } };
  tm_sim_send_rtcp(s->sub, &remb);
}

static guint
video_received(const TmSimBrowser *b)
{
  guint n = 0;
  for (guint i = 0; i < b->rtp_in->len; i++)
    n += tm_sim_browser_nth_rtp(b, i).pt == 120;
  return n;
}

static void
test_key_frame_paced(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene(sim, &s);
  witness_takes(&s, 300000); /* paced at 1.5 × 300 kbit/s: 56 kB a second */
  send_burst(&s, 100);
  guint at_once = video_received(s.sub);
  tm_sim_advance(sim, 5000);
  tm_sim_send_rtp(s.pub, 111, 1, 960, 0xA, tm_sim_opus, sizeof tm_sim_opus);
  guint audio_before = s.sub->rtp_in->len - video_received(s.sub);
  g_assert_cmpuint(audio_before, ==, 1); /* the sound went at once, past the queue */
  tm_sim_advance(sim, 150000);
  guint mid = video_received(s.sub);
  tm_sim_advance(sim, 300000);
  guint all = video_received(s.sub);
  const TmPeerStats *st = tm_peer_stats(s.sub->peer);
  g_test_message("key frame of %d packets: %u at once, %u after 155 ms, %u after 455 ms; "
                 "%" G_GUINT64_FORMAT " waited",
                 BURST, at_once, mid, all, st->paced);
  g_assert_cmpuint(at_once, <=, 3); /* the burst allowance: two or three */
  g_assert_cmpuint(mid, >=, 8);     /* ~56 kB/s: about nine by then */
  g_assert_cmpuint(mid, <=, 12);
  g_assert_cmpuint(all, ==, BURST); /* whole */
  g_assert_cmpuint(st->paced, >=, BURST - 3);
  g_assert_cmpuint(st->drop_paced, ==, 0);
  for (guint i = 1, prev = 0; i < s.sub->rtp_in->len; i++) { /* in order */
    TmRtpPacket p = tm_sim_browser_nth_rtp(s.sub, i);
    if (p.pt != 120)
      continue;
    if (prev != 0)
      g_assert_cmpuint(p.seq, ==, (uint16_t) (prev + 1));
    prev = p.seq;
  }
  tm_sim_free(sim);
}

static void
test_unknown_link_not_paced(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene(sim, &s);
  send_burst(&s, 100);
  g_assert_cmpuint(video_received(s.sub), ==, BURST);
  g_assert_cmpuint(tm_peer_stats(s.sub->peer)->paced, ==, 0);
  tm_sim_free(sim);
}

/* Ten key frames at once into a receiver that takes 100 kbit/s (paced at the 150 kbit/s floor):
 * what would wait more than a second is dropped at the relay and counted. */
static void
test_queue_bounded(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene(sim, &s);
  witness_takes(&s, 100000);
  for (int k = 0; k < 10; k++)
    send_burst(&s, (uint16_t) (100 + k * BURST));
  const TmPeerStats *st = tm_peer_stats(s.sub->peer);
  g_test_message("%" G_GUINT64_FORMAT " waited, %" G_GUINT64_FORMAT " dropped", st->paced,
                 st->drop_paced);
  g_assert_cmpuint(st->drop_paced, >, 0);
  g_assert_cmpuint(st->paced * PACKET, <=, 150000 / 8 + 2 * PACKET); /* a second's worth */
  tm_sim_advance(sim, 2000000);
  g_assert_cmpuint(video_received(s.sub), ==, 10 * BURST - st->drop_paced);
  tm_sim_free(sim);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sim/pacing/key-frame", test_key_frame_paced);
  g_test_add_func("/sim/pacing/unknown-link", test_unknown_link_not_paced);
  g_test_add_func("/sim/pacing/queue-bounded", test_queue_bounded);
  return g_test_run();
}
