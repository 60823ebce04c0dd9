/* test-sim-twcc.c — transport-cc (docs/poor-networks.md): a publisher that offers it gets it in
 * the relay's answer (receivers do not), and the relay reports every packet's arrival in
 * feedback about every 100 ms: each transport-wide sequence number once, lost ones as lost, the
 * arrival times as they were (the link's spacing, to the quarter millisecond), probes and RTX
 * included; the media still reaches the receivers. */
#include <glib.h>
#include <string.h>

#include "sim.h"
#include "twcc.h"

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
    /* the relay does not estimate its own sending: receivers are not offered it */
    g_assert_cmpuint(s.sub->answer->media[m].twcc_id, ==, 0);
    g_assert_false(s.sub->answer->media[m].codecs[0].fb_transport_cc);
  }
  g_autofree char *text = tm_sdp_serialize(s.pub->answer);
  g_assert_nonnull(strstr(text, "a=extmap:3 " TM_TWCC_URI "\r\n"));
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

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sim/twcc/negotiated", test_negotiated);
  g_test_add_func("/sim/twcc/feedback", test_feedback);
  g_test_add_func("/sim/twcc/not-offered", test_not_offered);
  return g_test_run();
}
