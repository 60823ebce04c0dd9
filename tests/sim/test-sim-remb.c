/* test-sim-remb.c — congestion feedback to a publisher (docs/poor-networks.md): with 15 % of its
 * packets lost the REMB it gets falls, with none it rises again, always within bounds; loss that
 * RTX repairs on a link without a queue does not lower it; a receiver that can take less lowers it at once and stops limiting it once its REMB is 5 s old;
 * a receiver the policy hides does not; a publisher that did not offer goog-remb gets REMB too. */
#include <glib.h>

#include "bwe.h"
#include "sim.h"

/* FRAMES frames of 1 Mbit/s video from the scene's publisher: 30 frames a second, 4 packets of
 * 1000 bytes each; returns the next sequence number. */
static uint16_t
send_frames(TmSim *sim, TmSimBrowser *pub, uint16_t seq, int frames)
{
  static const uint8_t payload[1000] = { 0x10, 0x01 }; /* VP8 delta frames */
  for (int f = 0; f < frames; f++) {
    for (int k = 0; k < 4; k++, seq++)
      tm_sim_send_rtp(pub, 96, seq, (uint32_t) (seq / 4) * 3000, 0xB, payload, sizeof payload);
    tm_sim_advance(sim, 33333);
  }
  return seq;
}

/* SECONDS of it, answering the relay's NACKs after each frame when REPAIR. */
static uint16_t
send_video_repairing(TmSim *sim, TmSimBrowser *pub, uint16_t seq, int seconds, bool repair)
{
  for (int f = 0; f < 30 * seconds; f++) {
    seq = send_frames(sim, pub, seq, 1);
    if (repair)
      tm_sim_browser_answer_nacks(pub);
  }
  return seq;
}

static uint16_t
send_video(TmSim *sim, TmSimBrowser *pub, uint16_t seq, int seconds)
{
  return send_video_repairing(sim, pub, seq, seconds, false);
}

/* The REMB values PUB received, in order. */
static GArray *
remb_values(const TmSimBrowser *pub)
{
  GArray *rembs = tm_sim_browser_rtcp_of_kind(pub, TM_RTCP_KIND_REMB);
  GArray *out = g_array_new(FALSE, FALSE, sizeof(uint64_t));
  for (guint i = 0; i < rembs->len; i++)
    g_array_append_val(out, g_array_index(rembs, TmRtcpPacket, i).remb_bitrate);
  g_array_unref(rembs);
  return out;
}

static uint64_t
last_remb(const TmSimBrowser *pub)
{
  TmRtcpPacket remb;
  g_assert_true(tm_sim_browser_last_rtcp(pub, TM_RTCP_KIND_REMB, &remb));
  return remb.remb_bitrate;
}

static void
test_loss(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene_full(sim, &s, false, true);
  g_assert_true(s.pub->answer->media[1].codecs[0].fb_goog_remb);
  tm_sim_send_rtp(s.pub, 96, 99, 0, 0xB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  uint16_t seq = send_video(sim, s.pub, 100, 5);
  const TmPeerStats *up = tm_peer_stats(s.judge->publish);
  uint64_t clean = last_remb(s.pub);
  g_assert_cmpuint(clean, >=, 800000);
  g_assert_cmpuint(up->estimate_bps - clean, <, (up->estimate_bps >> 17) + 1);
  TmRtcpPacket remb;
  g_assert_true(tm_sim_browser_last_rtcp(s.pub, TM_RTCP_KIND_REMB, &remb));
  g_assert_cmpuint(remb.n_remb_ssrcs, ==, 1);
  g_assert_cmpuint(remb.remb_ssrcs[0], ==, 0xB);
  sim->up.loss = 0.15;
  seq = send_video(sim, s.pub, seq, 10);
  uint64_t lossy = last_remb(s.pub);
  sim->up.loss = 0;
  seq = send_video(sim, s.pub, seq, 10);
  uint64_t again = last_remb(s.pub);
  GArray *rembs = remb_values(s.pub);
  g_test_message("%u REMBs: clean %" G_GUINT64_FORMAT
                 " bit/s, after 10 s at 15 %% loss %" G_GUINT64_FORMAT
                 ", after 10 s clean again %" G_GUINT64_FORMAT,
                 rembs->len, clean, lossy, again);
  g_assert_cmpuint(lossy, <, clean * 6 / 10);
  g_assert_cmpuint(again, >, lossy * 3 / 2);
  for (guint i = 0; i < rembs->len; i++) {
    g_assert_cmpuint(g_array_index(rembs, uint64_t, i), >=, TM_BWE_MIN_BPS);
    g_assert_cmpuint(g_array_index(rembs, uint64_t, i), <=, TM_BWE_MAX_BPS);
  }
  g_assert_cmpuint(up->remb_out, ==, rembs->len);
  /* The witness's browser says it can take 200 kbit/s: the judge's is told at once ... */
  guint before = rembs->len;
  TmRtcpPacket limit = { .kind = TM_RTCP_KIND_REMB,
                         .sender_ssrc = 7,
                         .remb_bitrate = 200000,
                         .n_remb_ssrcs = 1,
                         .remb_ssrcs = { s.video_ssrc } };
  tm_sim_send_rtcp(s.sub, &limit);
  g_array_unref(rembs);
  rembs = remb_values(s.pub);
  g_assert_cmpuint(rembs->len, ==, before + 1);
  /* (less what the judge's browser has been seen to send over what it is told: this one sends
   * its rate whatever it is told, and the relay allows for at most 1.3 times) */
  g_assert_cmpuint(up->estimate_bps, ==, 200000);
  uint64_t told = g_array_index(rembs, uint64_t, before);
  g_test_message("told %" G_GUINT64_FORMAT " for 200000", told);
  g_assert_cmpuint(told, <=, 200000);
  g_assert_cmpuint(told, >=, 200000 * 10 / 13);
  g_assert_cmpuint(tm_peer_stats(s.sub->peer)->remb_in, ==, 1);
  seq = send_video(sim, s.pub, seq, 3);
  g_assert_cmpuint(last_remb(s.pub), <, told);
  g_assert_cmpuint(last_remb(s.pub), >=, 200000 * 10 / 13);
  /* ... until its REMB is 5 s old */
  send_video(sim, s.pub, seq, 4);
  g_assert_cmpuint(last_remb(s.pub), >, 200000);
  g_array_unref(rembs);
  tm_sim_free(sim);
}

/* 10 % of the publisher's packets lost on a link with room, every one repaired by RTX: the
 * reports it gets count the repaired packets as received, and its REMB does not fall (the loss
 * rule sees the loss left after repair). The same loss unrepaired lowers it (test_loss). */
static void
test_repaired_loss(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene_full(sim, &s, true, true);
  tm_sim_send_rtp(s.pub, 96, 99, 0, 0xB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  uint16_t seq = send_video(sim, s.pub, 100, 5);
  uint64_t clean = last_remb(s.pub);
  guint reports_before = tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_RR);
  sim->up.loss = 0.10;
  seq = send_video_repairing(sim, s.pub, seq, 20, true);
  sim->up.loss = 0;
  send_video_repairing(sim, s.pub, seq, 1, true);
  const TmPeerStats *up = tm_peer_stats(s.judge->publish);
  GArray *rrs = tm_sim_browser_rtcp_of_kind(s.pub, TM_RTCP_KIND_RR);
  double sum = 0;
  guint n = 0;
  int32_t cumulative = -1;
  for (guint i = reports_before; i < rrs->len; i++) {
    const TmRtcpPacket *rr = &g_array_index(rrs, TmRtcpPacket, i);
    for (unsigned b = 0; b < rr->n_blocks; b++) {
      if (rr->blocks[b].ssrc != 0xB)
        continue;
      sum += rr->blocks[b].fraction_lost / 256.0;
      n++;
      cumulative = rr->blocks[b].cumulative_lost;
    }
  }
  g_array_unref(rrs);
  uint64_t after = last_remb(s.pub);
  g_test_message(
    "%" G_GUINT64_FORMAT " packets lost, %" G_GUINT64_FORMAT
    " repaired; reports: mean loss %.3f over %u, cumulative %d at the end; REMB %" G_GUINT64_FORMAT
    " -> %" G_GUINT64_FORMAT " bit/s",
    up->packets_lost, up->nack_recovered, n > 0 ? sum / n : 0.0, n, cumulative, clean, after);
  g_assert_cmpuint(up->packets_lost, >, 150); /* about 10 % of 2400 */
  g_assert_cmpuint(up->nack_recovered + up->nack_given_up, >=, up->packets_lost - 8);
  g_assert_cmpuint(n, >=, 15);
  g_assert_cmpfloat(sum / n, <, 0.05);
  g_assert_cmpint(cumulative, <=, (int32_t) up->nack_given_up + 8); /* in flight at the end */
  g_assert_cmpuint(after, >=, clean * 9 / 10);
  tm_sim_free(sim);
}

/* A receiver the policy does not show the video does not limit its sender: the screened
 * witness's REMB follows the judge's browser, not the defendant's. */
static void
test_hidden_receiver(void)
{
  TmSim *sim = tm_sim_new(false, TM_MEASURE_SCREEN_WITNESS);
  TmParticipant *witness = tm_sim_join(sim, "Witness", TM_ROLE_WITNESS);
  TmParticipant *judge = tm_sim_join(sim, "Judge", TM_ROLE_JUDGE);
  TmParticipant *defendant = tm_sim_join(sim, "Defendant", TM_ROLE_DEFENDANT);
  TmSimBrowser *pub = tm_sim_connect_full(sim, witness, NULL, 111, 96, 0, true);
  TmSimBrowser *to_judge = tm_sim_connect_full(sim, judge, witness, 111, 96, 0, true);
  TmSimBrowser *to_defendant = tm_sim_connect_full(sim, defendant, witness, 111, 96, 0, true);
  tm_sim_send_rtp(pub, 96, 1, 0, 0xB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  uint16_t seq = send_video(sim, pub, 2, 2);
  g_assert_cmpuint(last_remb(pub), >, 500000);
  TmRtcpPacket remb = {
    .kind = TM_RTCP_KIND_REMB, .sender_ssrc = 7, .remb_bitrate = 100000, .n_remb_ssrcs = 1
  };
  remb.remb_ssrcs[0] = to_defendant->answer->media[1].ssrcs[0];
  tm_sim_send_rtcp(to_defendant, &remb);
  seq = send_video(sim, pub, seq, 2);
  g_assert_cmpuint(last_remb(pub), >, 500000);
  remb.remb_bitrate = 300000;
  remb.remb_ssrcs[0] = to_judge->answer->media[1].ssrcs[0];
  tm_sim_send_rtcp(to_judge, &remb);
  /* the judge's 300 kbit/s, less what this sender (which follows no REMB) sends over it */
  g_assert_cmpuint(tm_peer_stats(witness->publish)->estimate_bps, ==, 300000);
  g_assert_cmpuint(last_remb(pub), <=, 300000);
  g_assert_cmpuint(last_remb(pub), >=, 300000 * 10 / 13);
  send_video(sim, pub, seq, 2);
  g_assert_cmpuint(tm_peer_stats(witness->publish)->estimate_bps, ==, 300000);
  g_assert_cmpuint(last_remb(pub), >=, 300000 * 10 / 13);
  tm_sim_free(sim);
}

/* A publisher that did not offer goog-remb (webrtcbin 1.22 cannot) gets no goog-remb in the
 * answer, and REMB all the same: the testimony-client reads it from its RTP session. */
static void
test_not_negotiated(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene(sim, &s);
  g_assert_false(s.pub->answer->media[1].codecs[0].fb_goog_remb);
  tm_sim_send_rtp(s.pub, 96, 99, 0, 0xB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  send_video(sim, s.pub, 100, 3);
  g_assert_cmpint(tm_sim_browser_count_rtcp(s.pub, TM_RTCP_KIND_REMB), >=, 2);
  uint64_t e = tm_peer_stats(s.judge->publish)->estimate_bps;
  g_assert_cmpuint(last_remb(s.pub), <=, e); /* REMB's 18-bit mantissa rounds down */
  g_assert_cmpuint(last_remb(s.pub), >, e - (e >> 17) - 1);
  tm_sim_free(sim);
}

/* SECONDS of video, the receiver reporting (no loss) once a second when REPORTS. */
static uint16_t
send_video_reported(TmSim *sim, TmSimScene *s, uint16_t seq, int seconds, bool reports)
{
  for (int i = 0; i < seconds; i++) {
    seq = send_video(sim, s->pub, seq, 1);
    if (reports) {
      TmRtcpPacket rr = { .kind = TM_RTCP_KIND_RR, .sender_ssrc = 7, .n_blocks = 1 };
      rr.blocks[0] = (TmRtcpReportBlock){ .ssrc = s->video_ssrc };
      tm_sim_send_rtcp(s->sub, &rr);
    }
  }
  return seq;
}

/* A receiver whose reports stop while its link is up (its feedback does not get through a
 * congested uplink) limits its sender ever more: after 5 s what it can take halves, and halves
 * again each second. Once the participant is away (its link is down: the shell says so), it no
 * longer counts. */
static void
test_silent_receiver(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene_full(sim, &s, false, true);
  tm_sim_send_rtp(s.pub, 96, 99, 0, 0xB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  uint16_t seq = send_video_reported(sim, &s, 100, 6, true);
  uint64_t reporting = last_remb(s.pub);
  g_assert_cmpuint(reporting, >=, 800000);
  seq = send_video_reported(sim, &s, seq, 4, false);
  g_assert_cmpuint(last_remb(s.pub), >=, reporting * 9 / 10);
  seq = send_video_reported(sim, &s, seq, 4, false);
  uint64_t silent = last_remb(s.pub);
  g_test_message("REMB %" G_GUINT64_FORMAT " bit/s with the receiver reporting, %" G_GUINT64_FORMAT
                 " after 8 s of its silence",
                 reporting, silent);
  g_assert_cmpuint(silent, <=, reporting / 4);
  g_assert_cmpuint(silent, >=, TM_BWE_MIN_BPS);
  s.witness->away_since_us = 1;
  send_video_reported(sim, &s, seq, 2, false);
  g_assert_cmpuint(last_remb(s.pub), >=, 800000);
  tm_sim_free(sim);
}

/* A receiver that reports ten times a second is judged on the loss over half a second or more,
 * not report by report: 2 % loss that
 * falls as one packet in every fourth report (25 % of that report's dozen) leaves what it can
 * take where it was; 30 % reported the same way lowers it. */
static void
test_frequent_reports(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene_full(sim, &s, false, true);
  TmPeer *sub = g_ptr_array_index(s.witness->subscriptions, 0);
  tm_sim_send_rtp(s.pub, 96, 99, 0, 0xB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  uint16_t seq = send_video_reported(sim, &s, 100, 4, true);
  uint64_t before = tm_peer_receiver_estimate(sub, sim->now);
  int32_t lost = 0;
  uint32_t highest = 1000;
  for (int r = 0; r < 60; r++) { /* 6 s of reports every 100 ms */
    seq = send_frames(sim, s.pub, seq, 3);
    highest += 12;
    lost += r % 4 == 0;
    TmRtcpPacket rr = { .kind = TM_RTCP_KIND_RR, .sender_ssrc = 7, .n_blocks = 1 };
    rr.blocks[0] = (TmRtcpReportBlock){ .ssrc = s.video_ssrc,
                                        .fraction_lost = r % 4 == 0 ? 64 : 0,
                                        .cumulative_lost = lost,
                                        .highest_seq = highest };
    tm_sim_send_rtcp(s.sub, &rr);
  }
  uint64_t after = tm_peer_receiver_estimate(sub, sim->now);
  g_test_message("what the receiver can take: %" G_GUINT64_FORMAT " bit/s, then %" G_GUINT64_FORMAT
                 " after 6 s of reports every 100 ms with 2 %% loss",
                 before, after);
  g_assert_cmpuint(before, >, 0);
  g_assert_cmpuint(after, >=, before);
  for (int r = 0; r < 20; r++) { /* now 30 % */
    seq = send_frames(sim, s.pub, seq, 3);
    highest += 10;
    lost += 3;
    TmRtcpPacket rr = { .kind = TM_RTCP_KIND_RR, .sender_ssrc = 7, .n_blocks = 1 };
    rr.blocks[0] = (TmRtcpReportBlock){
      .ssrc = s.video_ssrc, .fraction_lost = 77, .cumulative_lost = lost, .highest_seq = highest
    };
    tm_sim_send_rtcp(s.sub, &rr);
  }
  g_assert_cmpuint(tm_peer_receiver_estimate(sub, sim->now), <, after * 3 / 4);
  tm_sim_free(sim);
}

/* A publisher whose own pacer falls behind its camera: 30 frames a second captured, 25 sent,
 * each frame leaving 6.7 ms later after its capture than the one before, on a link that
 * delivers every packet at once. Returns the least REMB it was told while it did so, and in
 * *BEFORE the last before. */
static uint64_t
least_remb_behind_pacer(bool abs_send_time, uint64_t *before)
{
  TmSim *sim = tm_sim_new(false, 0);
  sim->offer_abs_send_time = abs_send_time;
  TmSimScene s;
  tm_sim_scene_full(sim, &s, false, true);
  g_assert_cmpuint(s.pub->abs_send_id, ==, abs_send_time ? 2 : 0);
  tm_sim_send_rtp(s.pub, 96, 99, 0, 0xB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  uint16_t seq = send_video(sim, s.pub, 100, 3); /* sent as captured */
  *before = last_remb(s.pub);
  GArray *rembs = remb_values(s.pub);
  guint from = rembs->len;
  g_array_unref(rembs);
  static const uint8_t payload[1000] = { 0x10, 0x01 };
  for (int f = 0; f < 25 * 4; f++) {
    for (int k = 0; k < 4; k++, seq++)
      tm_sim_send_rtp(s.pub, 96, seq, (uint32_t) (seq / 4) * 3000, 0xB, payload, sizeof payload);
    tm_sim_advance(sim, 40000);
  }
  rembs = remb_values(s.pub);
  g_assert_cmpuint(rembs->len, >, from);
  uint64_t least = UINT64_MAX;
  for (guint i = from; i < rembs->len; i++)
    least = MIN(least, g_array_index(rembs, uint64_t, i));
  g_array_unref(rembs);
  tm_sim_free(sim);
  return least;
}

/* With abs-send-time the relay judges the link by when packets were sent: a queue in the
 * sender is not the link's, and the REMB does not fall for it. Judged by capture times alone
 * (no abs-send-time offered) the same sender is told less. */
static void
test_pacer_queue(void)
{
  uint64_t before_capture, before_sent;
  uint64_t capture = least_remb_behind_pacer(false, &before_capture);
  uint64_t sent = least_remb_behind_pacer(true, &before_sent);
  g_test_message("REMB before and least behind the pacer: by capture times %" G_GUINT64_FORMAT
                 " -> %" G_GUINT64_FORMAT ", by send times %" G_GUINT64_FORMAT
                 " -> %" G_GUINT64_FORMAT,
                 before_capture, capture, before_sent, sent);
  g_assert_cmpuint(capture, <, before_capture * 9 / 10);
  g_assert_cmpuint(sent, >=, before_sent * 95 / 100);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sim/remb/loss", test_loss);
  g_test_add_func("/sim/remb/repaired-loss", test_repaired_loss);
  g_test_add_func("/sim/remb/hidden-receiver", test_hidden_receiver);
  g_test_add_func("/sim/remb/not-negotiated", test_not_negotiated);
  g_test_add_func("/sim/remb/silent-receiver", test_silent_receiver);
  g_test_add_func("/sim/remb/frequent-reports", test_frequent_reports);
  g_test_add_func("/sim/remb/pacer-queue", test_pacer_queue);
  return g_test_run();
}
