/* test-sim-twcc.c — transport-cc (docs/poor-networks.md): a publisher that offers it gets it in
 * the relay's answer, and so does a receiver that sends no REMB of its own; the relay numbers
 * every packet to such a receiver, and its feedback tells the relay when a queue grows on the
 * receiver's link (the sender is told less before loss says so). The relay reports every packet's arrival in
 * feedback about every 100 ms: each transport-wide sequence number once, lost ones as lost, the
 * arrival times as they were (the link's spacing, to the quarter millisecond), probes and RTX
 * included; the media still reaches the receivers. */
#include <glib.h>
#include <string.h>

#include "sim.h"
#include "twcc.h"
#include "util.h"

typedef struct {
  GArray *received; /* gboolean per transport-wide sequence number */
  GArray *arrival;  /* gint64 µs per sequence number, on the feedback's own time line */
  guint feedbacks;
  int64_t first_feedback_us; /* virtual time the first one was seen, 0 none */
} Reports;

/* Reads every transport-cc feedback PUB received into R (sequence numbers from 0). */
static void
read_reports(const TmSimBrowser *pub, Reports *r)
{
  for (guint i = 0; i < pub->rtcp_in->len; i++) {
    gsize len;
    const uint8_t *d = g_bytes_get_data(g_ptr_array_index(pub->rtcp_in, i), &len);
    TmRtcpIter it;
    tm_rtcp_iter_init(&it, d, len);
    for (;;) {
      size_t start = it.pos;
      bool done = false;
      TmRtcpPacket pkt;
      if (tm_rtcp_iter_next(&it, &pkt, &done) != TM_RTCP_OK || done)
        break;
      if (pkt.pt != TM_RTCP_RTPFB || pkt.count != 15)
        continue;
      static TmTwccFeedback fb;
      g_assert_true(tm_twcc_parse(d + start, it.pos - start, &fb));
      g_assert_cmpuint(fb.fb_count, ==, (guint8) r->feedbacks);
      r->feedbacks++;
      for (guint k = 0; k < fb.count; k++) {
        guint seq = (guint16) (fb.base + k);
        if (seq >= r->received->len) {
          g_array_set_size(r->received, seq + 1);
          g_array_set_size(r->arrival, seq + 1);
        }
        /* each sequence number is reported once */
        g_assert_false(g_array_index(r->received, gboolean, seq));
        g_array_index(r->received, gboolean, seq) = fb.received[k];
        g_array_index(r->arrival, gint64, seq) = (gint64) fb.reference * 64000 + fb.arrival_us[k];
      }
    }
  }
}

static void
reports_init(Reports *r)
{
  r->received = g_array_new(FALSE, TRUE, sizeof(gboolean));
  r->arrival = g_array_new(FALSE, TRUE, sizeof(gint64));
  r->feedbacks = 0;
}

static void
reports_clear(Reports *r)
{
  g_array_unref(r->received);
  g_array_unref(r->arrival);
}

static void
test_negotiated(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  sim->offer_twcc = true;
  TmSimScene s;
  tm_sim_scene(sim, &s);
  for (int m = 0; m < 2; m++) {
    g_assert_cmpuint(s.pub->answer->media[m].twcc_id, ==, 3);
    g_assert_true(s.pub->answer->media[m].codecs[0].fb_transport_cc);
    /* a receiver without REMB of its own sends the feedback for the relay's estimate */
    g_assert_cmpuint(s.sub->answer->media[m].twcc_id, ==, 3);
    g_assert_true(s.sub->answer->media[m].codecs[0].fb_transport_cc);
  }
  g_autofree char *text = tm_sdp_serialize(s.pub->answer);
  g_assert_nonnull(strstr(text, "a=extmap:3 " TM_TWCC_URI "\r\n"));
  tm_sim_free(sim);
  /* a receiver that sends REMB (its own estimate, as Chromium) is not asked for it */
  sim = tm_sim_new(false, 0);
  sim->offer_twcc = true;
  tm_sim_scene_full(sim, &s, false, true);
  for (int m = 0; m < 2; m++) {
    g_assert_cmpuint(s.sub->answer->media[m].twcc_id, ==, 0);
    g_assert_false(s.sub->answer->media[m].codecs[0].fb_transport_cc);
  }
  tm_sim_free(sim);
}

/* The witness's link from the relay: LINK bit/s behind a queue (the test's own model). Every
 * packet the witness received gets its arrival from the queue; every 100 ms its feedback goes
 * back, once a second a receiver report without loss. */
typedef struct {
  TmTwcc twcc;
  guint seen; /* rtp_in entries taken */
  int64_t queue_free;
  int next_tseq;  /* the transport-wide number expected next, -1 before the first */
  guint gaps;     /* numbers skipped */
  GArray *queued; /* int64 pairs: number, arrival; not arrived yet */
  bool nack;      /* the witness asks again for the video it lost (nack_missing) */
  guint nack_from;
  int nack_next;
} Downlink;

static void
downlink_take(TmSim *sim, TmSimScene *s, Downlink *d, double link)
{
  for (; d->seen < s->sub->rtp_in->len; d->seen++) {
    TmRtpPacket p = tm_sim_browser_nth_rtp(s->sub, d->seen);
    const uint8_t *ext;
    size_t len;
    g_assert_true(tm_rtp_find_extension(&p, 3, &ext, &len));
    g_assert_cmpuint(len, ==, 2);
    uint16_t tseq = (uint16_t) (ext[0] << 8 | ext[1]);
    if (d->next_tseq >= 0 && tseq != (uint16_t) d->next_tseq)
      d->gaps++;
    d->next_tseq = (uint16_t) (tseq + 1);
    gsize bytes;
    g_bytes_get_data(g_ptr_array_index(s->sub->rtp_in, d->seen), &bytes);
    d->queue_free = MAX(d->queue_free, sim->now) + (int64_t) ((double) (bytes + 40) * 8e6 / link);
    int64_t rec[2] = { tseq, d->queue_free };
    g_array_append_vals(d->queued, rec, 2);
  }
}

/* What arrived by NOW, reported. */
static void
downlink_feedback(TmSimScene *s, Downlink *d, int64_t now)
{
  guint k = 0;
  for (; k < d->queued->len && g_array_index(d->queued, int64_t, k + 1) <= now; k += 2)
    tm_twcc_on_packet(&d->twcc, (uint16_t) g_array_index(d->queued, int64_t, k),
                      g_array_index(d->queued, int64_t, k + 1));
  g_array_remove_range(d->queued, 0, k);
  uint8_t buf[TM_TWCC_MAX_FEEDBACK + 64];
  size_t n = tm_twcc_build(&d->twcc, 7, s->video_ssrc, now, buf, TM_TWCC_MAX_FEEDBACK);
  if (n == 0)
    return;
  g_assert_cmpint(tm_srtp_protect_rtcp(s->sub->srtp, buf, &n, sizeof buf), ==, TM_SRTP_OK);
  tm_sim_browser_transmit(s->sub, buf, n);
}

/* A frame's packets are sent: they go into the witness's downlink of LINK bit/s, 33 ms pass,
 * feedback goes back every 100 ms and, when REPORTS, a receiver report every second (up to
 * SEQ). */
static void
downlink_frame_sent(TmSim *sim, TmSimScene *s, Downlink *d, uint16_t seq, double link, bool reports)
{
  downlink_take(sim, s, d, link);
  int64_t before = sim->now;
  tm_sim_advance(sim, 1000000 / 30);
  if (sim->now / 100000 != before / 100000)
    downlink_feedback(s, d, sim->now);
  if (reports && sim->now / 1000000 != before / 1000000) {
    TmRtcpPacket rr = { .kind = TM_RTCP_KIND_RR, .sender_ssrc = 7, .n_blocks = 1 };
    rr.blocks[0] = (TmRtcpReportBlock){ .ssrc = s->video_ssrc, .highest_seq = seq };
    tm_sim_send_rtcp(s->sub, &rr);
  }
  tm_sim_run(sim);
}

/* The witness asks again (NACK) for each of the judge's video packets missing from what it
 * received since entry *FROM (those after *NEXT, the sequence number it expects). */
static void
nack_missing(TmSimScene *s, guint *from, int *next)
{
  for (; *from < s->sub->rtp_in->len; (*from)++) {
    TmRtpPacket p = tm_sim_browser_nth_rtp(s->sub, *from);
    if (p.ssrc != s->video_ssrc)
      continue;
    int16_t ahead = (int16_t) (p.seq - (uint16_t) *next);
    if (*next >= 0 && ahead < 0)
      continue; /* a retransmission */
    for (uint16_t q = (uint16_t) *next; *next >= 0 && q != p.seq; q++)
      tm_sim_send_nack(s->sub, s->video_ssrc, q);
    *next = (uint16_t) (p.seq + 1);
  }
}

/* SECONDS of the judge's video at about 960 kbit/s (30 frames of four 1000-byte packets a
 * second) through the witness's downlink of LINK bit/s; receiver reports when REPORTS. */
static uint16_t
run_downlink_full(TmSim *sim, TmSimScene *s, Downlink *d, uint16_t seq, double seconds, double link,
                  bool reports)
{
  static uint8_t payload[1000];
  memcpy(payload, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  for (int f = 0; f < (int) (seconds * 30); f++) {
    for (int k = 0; k < 4; k++, seq++)
      tm_sim_send_rtp(s->pub, 96, seq, (uint32_t) seq / 4 * 3000, 0xB, payload, sizeof payload);
    downlink_frame_sent(sim, s, d, seq, link, reports);
    if (d->nack)
      nack_missing(s, &d->nack_from, &d->nack_next);
  }
  return seq;
}

static uint16_t
run_downlink(TmSim *sim, TmSimScene *s, Downlink *d, uint16_t seq, double seconds, double link)
{
  return run_downlink_full(sim, s, d, seq, seconds, link, true);
}

static uint64_t
last_remb(const TmSimBrowser *b)
{
  TmRtcpPacket pkt;
  return tm_sim_browser_last_rtcp(b, TM_RTCP_KIND_REMB, &pkt) ? pkt.remb_bitrate : 0;
}

/* The scene with transport-cc offered: the witness's subscription to the judge, D ready. */
static TmPeer *
downlink_scene(TmSim *sim, TmSimScene *s, Downlink *d)
{
  sim->offer_twcc = true;
  tm_sim_scene(sim, s);
  *d = (Downlink){ .next_tseq = -1, .queued = g_array_new(FALSE, FALSE, sizeof(int64_t)) };
  tm_twcc_init(&d->twcc);
  return g_ptr_array_index(s->witness->subscriptions, 0);
}

/* The witness's downlink steps from 2 Mbit/s to 300 kbit/s while the judge sends 960 kbit/s:
 * nothing is lost yet (the queue only grows), but the witness's feedback shows it, and within
 * 2 s the relay's estimate of what the witness can take, and the REMB to the judge, are below
 * the link's rate. Every packet to the witness carried the next number. */
static void
test_receiver_queue(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  Downlink d;
  TmPeer *sub = downlink_scene(sim, &s, &d);
  uint16_t seq = run_downlink(sim, &s, &d, 100, 10, 2000000);
  uint64_t before = tm_peer_receiver_estimate(sub, sim->now);
  g_assert_cmpuint(tm_peer_stats(sub)->overuse_events, ==, 0);
  g_assert_cmpuint(before, >=, 900000);
  g_assert_cmpuint(tm_peer_stats(sub)->twcc_feedback_in, >=, 90);
  seq = run_downlink(sim, &s, &d, seq, 2, 300000);
  uint64_t after = tm_peer_receiver_estimate(sub, sim->now);
  g_test_message("what the witness can take: %" G_GUINT64_FORMAT " bit/s, %" G_GUINT64_FORMAT
                 " 2 s after its link fell to 300 kbit/s; REMB to the judge %" G_GUINT64_FORMAT,
                 before, after, last_remb(s.pub));
  g_assert_cmpuint(tm_peer_stats(sub)->overuse_events, >=, 1);
  g_assert_cmpuint(after, <=, 300000);
  g_assert_cmpuint(last_remb(s.pub), <=, 300000);
  g_assert_cmpuint(d.gaps, ==, 0);
  /* all of the video went, or was held back once the link was full (test_congestion_hold) */
  g_assert_cmpuint(d.seen + tm_peer_stats(sub)->drop_congested, >=, 12 * 30 * 4);
  g_array_unref(d.queued);
  tm_sim_free(sim);
}

static void
test_feedback(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  sim->offer_twcc = true;
  TmSimScene s;
  tm_sim_scene(sim, &s);
  sim->up.delay_us = 40000;
  g_assert_cmpuint(s.pub->twcc_id, ==, 3);
  /* 3 s of video and audio, a packet every 10 ms; packets 50-52 and 200 are lost on the way. */
  const guint n = 300;
  uint8_t buf[256];
  for (guint i = 0; i < n; i++) {
    bool video = i % 2 == 0;
    size_t len = tm_sim_browser_protect_rtp(s.pub, video ? 96 : 111, (uint16_t) (1000 + i), i * 900,
                                            video ? 0xB : 0xA, video ? tm_sim_vp8_key : tm_sim_opus,
                                            video ? sizeof tm_sim_vp8_key : sizeof tm_sim_opus, buf,
                                            sizeof buf);
    if (!((i >= 50 && i <= 52) || i == 200))
      tm_sim_browser_transmit(s.pub, buf, len);
    tm_sim_run(sim);
    tm_sim_advance(sim, 10000);
  }
  tm_sim_advance(sim, 500000);
  Reports r;
  reports_init(&r);
  read_reports(s.pub, &r);
  /* about ten feedback packets a second, covering every packet once */
  g_test_message("%u feedback packets for %u packets", r.feedbacks, n);
  g_assert_cmpuint(r.feedbacks, >=, 25);
  g_assert_cmpuint(r.feedbacks, <=, 40);
  g_assert_cmpuint(r.received->len, ==, n);
  int64_t prev = 0;
  for (guint i = 0; i < n; i++) {
    bool lost = (i >= 50 && i <= 52) || i == 200;
    g_assert_cmpint(g_array_index(r.received, gboolean, i), ==, !lost);
    if (lost)
      continue;
    int64_t at = g_array_index(r.arrival, gint64, i);
    if (i > 0 && prev != 0) {
      /* 10 ms between sends, a constant delay: arrivals 10 ms apart (× the gap) */
      guint gap = 1;
      while (i - gap > 0 && ((i - gap >= 50 && i - gap <= 52) || i - gap == 200))
        gap++;
      g_assert_cmpint(at - prev, >=, (int64_t) gap * 10000 - 250);
      g_assert_cmpint(at - prev, <=, (int64_t) gap * 10000 + 250);
    }
    prev = at;
  }
  g_assert_cmpuint(tm_peer_stats(s.pub->peer)->twcc_in, ==, n - 4);
  g_assert_cmpuint(tm_peer_stats(s.pub->peer)->twcc_out, ==, r.feedbacks);
  /* the witness still gets the video, intact */
  g_assert_cmpuint(s.sub->rtp_in->len, >=, n - 4);
  reports_clear(&r);
  tm_sim_free(sim);
}

/* Without transport-cc offered, no packet carries the number and no feedback is sent. */
static void
test_not_offered(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  tm_sim_scene(sim, &s);
  g_assert_cmpuint(s.pub->answer->media[1].twcc_id, ==, 0);
  tm_sim_send_video(sim, s.pub, 100, 30, true);
  tm_sim_advance(sim, 1000000);
  Reports r;
  reports_init(&r);
  read_reports(s.pub, &r);
  g_assert_cmpuint(r.feedbacks, ==, 0);
  g_assert_cmpuint(tm_peer_stats(s.pub->peer)->twcc_in, ==, 0);
  reports_clear(&r);
  tm_sim_free(sim);
}

/* The downlink scene's first 10 s: the judge's video to the witness over a clean 2 Mbit/s
 * link, the witness sending feedback and no receiver reports. */
typedef struct {
  TmSim *sim;
  TmSimScene s;
  Downlink d;
  TmPeer *sub;    /* the witness's subscription to the judge */
  uint64_t clean; /* what it can take then (over 900 kbit/s) */
  uint16_t seq;   /* the judge's next sequence number */
} CleanStart;

static void
clean_start(CleanStart *c)
{
  c->sim = tm_sim_new(false, 0);
  c->sub = downlink_scene(c->sim, &c->s, &c->d);
  c->seq = run_downlink_full(c->sim, &c->s, &c->d, 100, 10, 2000000, false);
  c->clean = tm_peer_receiver_estimate(c->sub, c->sim->now);
  g_assert_cmpuint(tm_peer_stats(c->sub)->reports_in, ==, 0);
  g_assert_cmpuint(c->clean, >=, 900000);
}

static void
clean_end(CleanStart *c)
{
  g_array_unref(c->d.queued);
  tm_sim_free(c->sim);
}

/* A receiver whose transport-cc feedback comes but whose receiver reports do not (GStreamer
 * sends them seldom once it sends feedback) is not a silent receiver: what it can take is not
 * halved, it grows with what arrives; and the feedback's loss lowers it once a second as a
 * report's would. 60 % of the packets are lost on the way to the witness: the relay resends
 * what the feedback reports lost (test_reported_lost_resent), and most of that is lost too. */
static void
test_feedback_is_a_report(void)
{
  CleanStart c;
  clean_start(&c);
  c.sim->down.loss = 0.60;
  run_downlink_full(c.sim, &c.s, &c.d, c.seq, 6, 2000000, false);
  uint64_t lossy = tm_peer_receiver_estimate(c.sub, c.sim->now);
  g_test_message("no receiver reports: %" G_GUINT64_FORMAT
                 " bit/s; then 60 %% lost: %" G_GUINT64_FORMAT " (%.0f %% at the last second)",
                 c.clean, lossy, tm_peer_stats(c.sub)->fraction_lost * 100);
  g_assert_cmpfloat(tm_peer_stats(c.sub)->fraction_lost, >, 0.05);
  g_assert_cmpuint(lossy, <, c.clean * 3 / 4);
  clean_end(&c);
}

/* 10 % of the witness's downlink lost at random, with no queue, and the witness asks again for
 * what it lost (as testimony-client does): nearly all of it comes back, and what the witness
 * can take stays near what it took; without the retransmissions it falls
 * (test_feedback_is_a_report). Only what was not got back counts for a link without a queue. */
static void
test_lossy_repaired(void)
{
  CleanStart c;
  clean_start(&c);
  c.sim->down.loss = 0.10;
  c.d.nack = true;
  c.d.nack_from = c.s.sub->rtp_in->len;
  c.d.nack_next = -1;
  run_downlink_full(c.sim, &c.s, &c.d, c.seq, 8, 2000000, false);
  uint64_t lossy = tm_peer_receiver_estimate(c.sub, c.sim->now);
  const TmPeerStats *st = tm_peer_stats(c.sub);
  g_test_message("clean: %" G_GUINT64_FORMAT " bit/s; 10 %% lost and repaired (%" G_GUINT64_FORMAT
                 " retransmissions): %" G_GUINT64_FORMAT " (%.0f %% at the last second)",
                 c.clean, st->retransmits, lossy, st->fraction_lost * 100);
  g_assert_cmpuint(st->retransmits, >, 8 * 30 * 4 / 20);
  g_assert_cmpuint(lossy, >=, c.clean * 85 / 100);
  clean_end(&c);
}

/* The video packets the witness has of FIRST .. LAST (sequence numbers as sent to it, from
 * entry FROM on), and how many copies came of one it already had. */
static guint
distinct_video(const TmSimScene *s, guint from, uint16_t first, uint16_t last, guint *again)
{
  g_autoptr(GHashTable) have = g_hash_table_new(NULL, NULL);
  *again = 0;
  for (guint i = from; i < s->sub->rtp_in->len; i++) {
    TmRtpPacket p = tm_sim_browser_nth_rtp(s->sub, i);
    if (p.ssrc != s->video_ssrc || tm_seq_diff(first, p.seq) < 0 || tm_seq_diff(p.seq, last) < 0)
      continue;
    if (g_hash_table_contains(have, GUINT_TO_POINTER(p.seq)))
      (*again)++;
    g_hash_table_add(have, GUINT_TO_POINTER(p.seq));
  }
  return g_hash_table_size(have);
}

/* 10 % of the witness's downlink lost at random and the witness never asks again (its NACKs
 * lost, say): its transport-cc feedback reports the losses, and the relay sends each lost
 * packet again, and again while its copy is reported lost (at most three times), but not those
 * sent with the last that arrived before the feedback (TM_TWCC_REORDER_US: here a frame's four
 * packets go at once, a frame a feedback in three; the receiver's NACK is for those): 4 % is
 * missing at most where 10 % was, and no packet came twice. On the clean link before, nothing
 * was sent again. */
static void
test_reported_lost_resent(void)
{
  CleanStart c;
  clean_start(&c);
  const TmPeerStats *st = tm_peer_stats(c.sub);
  g_assert_cmpuint(st->retransmits, ==, 0);
  guint from = c.s.sub->rtp_in->len;
  uint16_t first = (uint16_t) (tm_sim_browser_nth_rtp(c.s.sub, from - 1).seq + 1);
  c.sim->down.loss = 0.10;
  run_downlink_full(c.sim, &c.s, &c.d, c.seq, 6, 2000000, false);
  c.sim->down.loss = 0;
  run_downlink_full(c.sim, &c.s, &c.d, (uint16_t) (c.seq + 6 * 30 * 4), 1, 2000000, false);
  guint sent = 6 * 30 * 4, again = 0;
  guint have = distinct_video(&c.s, from, first, (uint16_t) (first + sent - 1), &again);
  g_test_message("%u of %u packets at 10 %% loss, %" G_GUINT64_FORMAT
                 " sent again on loss reports, %u twice",
                 have, sent, st->rtx_reported, again);
  g_assert_cmpuint(st->rtx_reported, >=, sent / 20);
  g_assert_cmpuint(st->rtx_reported, ==, st->retransmits);
  g_assert_cmpuint(have, >=, sent * 96 / 100);
  g_assert_cmpuint(again, ==, 0);
  clean_end(&c);
}

/* One frame of the judge's: PACKETS packets of BYTES (a key frame when KEY) and a packet of
 * sound, through the witness's downlink of LINK bit/s; 33 ms pass, feedback every 100 ms, a
 * receiver report every second. */
static void
feed_frame(TmSim *sim, TmSimScene *s, Downlink *d, uint16_t *seq, int packets, size_t bytes,
           bool key, double link)
{
  static uint8_t payload[1000];
  memcpy(payload, key ? tm_sim_vp8_key : tm_sim_vp8_delta,
         key ? sizeof tm_sim_vp8_key : sizeof tm_sim_vp8_delta);
  uint32_t ts = (uint32_t) (sim->now / 1000 * 90);
  for (int k = 0; k < packets; k++, (*seq)++)
    tm_sim_send_rtp(s->pub, 96, *seq, ts, 0xB, payload, MIN(bytes, sizeof payload));
  tm_sim_send_rtp(s->pub, 111, *seq, (uint32_t) (sim->now / 1000 * 48), 0xA, tm_sim_opus,
                  sizeof tm_sim_opus);
  downlink_frame_sent(sim, s, d, *seq, link, true);
}

/* What the witness received from entry FROM on: video and audio packets, and whether the first
 * video packet was a key frame's. */
static void
count_received(const TmSimScene *s, guint from, guint *video, guint *audio, bool *first_key)
{
  *video = *audio = 0;
  for (guint i = from; i < s->sub->rtp_in->len; i++) {
    TmRtpPacket p = tm_sim_browser_nth_rtp(s->sub, i);
    if (p.ssrc == s->audio_ssrc) {
      (*audio)++;
    } else if (p.ssrc == s->video_ssrc) {
      if (*video == 0 && first_key != NULL)
        *first_key = tm_vp8_is_keyframe(p.payload, p.payload_len);
      (*video)++;
    }
  }
}

/* The witness's link steps from 2 Mbit/s to 300 kbit/s while the judge sends 960 kbit/s. Once
 * its feedback shows the link full, the judge's video is held back from the witness (its sound
 * still goes, nothing is resent, and its requests for a key frame do not reach the judge): the
 * link drains instead of losing the judge's key frames and retransmissions as well. The judge
 * comes down to 120 kbit/s (its encoder following the REMB); then the video flows again from the
 * key frame the relay asked the judge for, at most 2 s after it was held. */
static void
test_congestion_hold(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmSimScene s;
  Downlink d;
  TmPeer *sub = downlink_scene(sim, &s, &d);
  uint16_t seq = 100;
  for (int f = 0; f < 300; f++)
    feed_frame(sim, &s, &d, &seq, 4, 1000, f % 60 == 0, 2000000);
  g_assert_cmpuint(tm_peer_stats(sub)->congestion_holds, ==, 0);
  int64_t step = sim->now;
  for (int f = 0; f < 90 && tm_peer_stats(sub)->congestion_holds == 0; f++)
    feed_frame(sim, &s, &d, &seq, 4, 1000, false, 300000);
  g_assert_cmpuint(tm_peer_stats(sub)->congestion_holds, ==, 1);
  int64_t held = sim->now;
  g_test_message("held %.1f s after the step", (double) (held - step) / 1e6);
  g_assert_cmpint(held - step, <=, 2000000);
  /* held: a second of the judge still at 960 kbit/s; the witness asks for a key frame */
  guint mark = s.sub->rtp_in->len;
  uint64_t asked = tm_peer_stats(s.judge->publish)->keyframe_requests_out;
  tm_sim_send_pli(s.sub, s.video_ssrc);
  for (int f = 0; f < 15; f++)
    feed_frame(sim, &s, &d, &seq, 4, 1000, false, 300000);
  guint video, audio;
  count_received(&s, mark, &video, &audio, NULL);
  g_assert_cmpuint(video, ==, 0);
  g_assert_cmpuint(audio, >=, 14);
  g_assert_cmpuint(tm_peer_stats(sub)->drop_congested, >=, 15 * 4);
  g_assert_cmpuint(tm_peer_stats(s.judge->publish)->keyframe_requests_out, ==, asked);
  /* the judge comes down, and makes a key frame when asked */
  bool first_key = false;
  int64_t resumed = 0;
  for (int f = 0; f < 90 && resumed == 0; f++) {
    uint64_t now_asked = tm_peer_stats(s.judge->publish)->keyframe_requests_out;
    feed_frame(sim, &s, &d, &seq, 1, 500, now_asked > asked, 300000);
    asked = now_asked;
    count_received(&s, mark, &video, &audio, &first_key);
    if (video > 0)
      resumed = sim->now;
  }
  g_test_message("video again %.1f s after it was held", (double) (resumed - held) / 1e6);
  g_assert_cmpint(resumed, >, 0);
  g_assert_cmpint(resumed - held, <=, 2000000 + 100000);
  g_assert_true(first_key);
  g_assert_cmpuint(tm_peer_stats(sub)->congestion_holds, ==, 1);
  g_array_unref(d.queued);
  tm_sim_free(sim);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sim/twcc/negotiated", test_negotiated);
  g_test_add_func("/sim/twcc/feedback", test_feedback);
  g_test_add_func("/sim/twcc/not-offered", test_not_offered);
  g_test_add_func("/sim/twcc/receiver-queue", test_receiver_queue);
  g_test_add_func("/sim/twcc/feedback-is-a-report", test_feedback_is_a_report);
  g_test_add_func("/sim/twcc/lossy-repaired", test_lossy_repaired);
  g_test_add_func("/sim/twcc/reported-lost-resent", test_reported_lost_resent);
  g_test_add_func("/sim/twcc/congestion-hold", test_congestion_hold);
  return g_test_run();
}
