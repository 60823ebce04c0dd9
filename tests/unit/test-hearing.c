/* test-hearing.c — the hearing's router with real DTLS, SRTP, RTP and RTCP, no network.
 *
 * Simulated participants are engine-level endpoints: a DTLS client (tm_dtls) and an SRTP session
 * (tm_srtp) each, exchanging datagrams with the relay's peers in memory. Time is a counter. */
#include <glib.h>
#include <string.h>

#include "dtls.h"
#include "hearing.h"
#include "rtcp.h"
#include "rtp.h"
#include "sdp.h"
#include "srtp.h"
#include "util.h"

typedef struct _Sim Sim;

typedef struct {
  Sim *sim;
  TmDtlsIdentity *identity;
  TmDtls *dtls;
  TmSrtp *srtp;
  TmPeer *peer;          /* the relay's side */
  gboolean connected;
  gboolean failed;
  int drop_rtp;          /* lose this many incoming RTP packets */
  GPtrArray *rtp_in;     /* GBytes of decrypted RTP received */
  GPtrArray *rtcp_in;    /* GBytes of decrypted RTCP received */
  uint8_t relay_fp[TM_DTLS_FINGERPRINT_LEN];
} Endpoint;

typedef struct {
  Endpoint *to;          /* NULL: to the relay */
  TmPeer *peer;          /* relay peer (when to == NULL) */
  GBytes *data;
} Datagram;

struct _Sim {
  TmHearing *hearing;
  TmDtlsIdentity *relay_identity;
  GQueue queue;
  GHashTable *by_peer;   /* TmPeer* -> Endpoint* */
  int64_t now;
  int published;
  int failed;
  int closed;
  int tapped;     /* packets the media tap (recording) saw */
  GRand *rand;    /* seeded: the fake link's losses are the same every run */
  GRand *relay_rand; /* seeded: the relay's SSRCs, offsets and session ids too */
  double loss;    /* share of RTP datagrams lost, both ways */
  int lost;
};

/* ---- endpoint (a participant's browser, simulated) ---- */

static void
ep_transmit(void *ud, const uint8_t *buf, size_t len)
{
  Endpoint *e = ud;
  Datagram *d = g_new0(Datagram, 1);
  d->peer = e->peer;
  d->data = g_bytes_new(buf, len);
  g_queue_push_tail(&e->sim->queue, d);
}

static void
ep_connected(void *ud, const TmSrtpKeys *keys)
{
  Endpoint *e = ud;
  TmSrtpError err;
  e->srtp = tm_srtp_new(keys, &err);
  g_assert_nonnull(e->srtp);
  g_assert_cmpint(keys->profile, ==, TM_SRTP_PROFILE_AEAD_AES_128_GCM);
  e->connected = TRUE;
}

static void
ep_failed(void *ud, TmDtlsError err)
{
  Endpoint *e = ud;
  e->failed = TRUE;
}

static const TmDtlsListener ep_listener = { ep_transmit, ep_connected, ep_failed };

static void
ep_receive(Endpoint *e, GBytes *data)
{
  gsize len;
  const uint8_t *p = g_bytes_get_data(data, &len);
  TmPacketClass c = tm_packet_classify(p, len);
  if (c == TM_PACKET_DTLS) {
    tm_dtls_handle_datagram(e->dtls, p, len, e->sim->now);
    return;
  }
  if (e->srtp == NULL)
    return;
  if (c == TM_PACKET_RTP && e->drop_rtp > 0) {
    e->drop_rtp--; /* lost on the way */
    return;
  }
  uint8_t buf[2048];
  memcpy(buf, p, len);
  size_t n = len;
  if (c == TM_PACKET_RTP && tm_srtp_unprotect_rtp(e->srtp, buf, &n) == TM_SRTP_OK)
    g_ptr_array_add(e->rtp_in, g_bytes_new(buf, n));
  else if (c == TM_PACKET_RTCP && tm_srtp_unprotect_rtcp(e->srtp, buf, &n) == TM_SRTP_OK)
    g_ptr_array_add(e->rtcp_in, g_bytes_new(buf, n));
}

/* ---- relay listener ---- */

static void
relay_transmit(void *ud, TmPeer *peer, const uint8_t *buf, size_t len)
{
  Sim *sim = ud;
  Endpoint *e = g_hash_table_lookup(sim->by_peer, peer);
  if (e == NULL)
    return;
  Datagram *d = g_new0(Datagram, 1);
  d->to = e;
  d->data = g_bytes_new(buf, len);
  g_queue_push_tail(&sim->queue, d);
}

static void
relay_published(void *ud, TmParticipant *p)
{
  ((Sim *) ud)->published++;
}

static void
relay_failed(void *ud, TmPeer *peer, const char *reason)
{
  ((Sim *) ud)->failed++;
}

static void
relay_closed(void *ud, TmPeer *peer)
{
  Sim *sim = ud;
  sim->closed++;
  g_hash_table_remove(sim->by_peer, peer);
}

static void
relay_media(void *ud, TmParticipant *from, TmTrack track, const uint8_t *buf, size_t len,
            int64_t now_us)
{
  ((Sim *) ud)->tapped++;
}

static const TmHearingListener relay_listener = {
  relay_transmit, relay_published, relay_failed, relay_closed, relay_media,
};

static void
run(Sim *sim)
{
  for (int i = 0; i < 10000 && !g_queue_is_empty(&sim->queue); i++) {
    Datagram *d = g_queue_pop_head(&sim->queue);
    gsize len;
    const uint8_t *p = g_bytes_get_data(d->data, &len);
    if (sim->loss > 0 && tm_packet_classify(p, len) == TM_PACKET_RTP &&
        g_rand_double(sim->rand) < sim->loss) {
      sim->lost++;
    } else if (d->to != NULL)
      ep_receive(d->to, d->data);
    else if (g_hash_table_contains(sim->by_peer, d->peer))
      tm_hearing_handle_datagram(sim->hearing, d->peer, p, len, sim->now);
    g_bytes_unref(d->data);
    g_free(d);
  }
  g_assert_true(g_queue_is_empty(&sim->queue));
}

static Sim *
sim_new_with(bool waiting_room, guint measures)
{
  Sim *sim = g_new0(Sim, 1);
  sim->now = 1000000;
  sim->relay_identity = tm_dtls_identity_new(1800000000);
  sim->by_peer = g_hash_table_new(NULL, NULL);
  sim->rand = g_rand_new_with_seed(20261130);
  sim->relay_rand = g_rand_new_with_seed(20261205);
  g_queue_init(&sim->queue);
  TmHearingConfig cfg = { "h1", "C-1", sim->relay_identity, 0, waiting_room, measures,
                          sim->relay_rand };
  sim->hearing = tm_hearing_new(&cfg, &relay_listener, sim);
  return sim;
}

static Sim *
sim_new(void)
{
  return sim_new_with(false, 0);
}

static void
endpoint_free(Endpoint *e)
{
  tm_dtls_free(e->dtls);
  tm_srtp_free(e->srtp);
  tm_dtls_identity_unref(e->identity);
  g_ptr_array_unref(e->rtp_in);
  g_ptr_array_unref(e->rtcp_in);
  g_free(e);
}

static void
sim_free(Sim *sim)
{
  tm_hearing_free(sim->hearing);
  g_hash_table_unref(sim->by_peer);
  while (!g_queue_is_empty(&sim->queue)) {
    Datagram *d = g_queue_pop_head(&sim->queue);
    g_bytes_unref(d->data);
    g_free(d);
  }
  tm_dtls_identity_unref(sim->relay_identity);
  g_rand_free(sim->rand);
  g_rand_free(sim->relay_rand);
  g_free(sim);
}

/* An offer as a browser would make it: audio and video, BUNDLE, rtcp-mux. */
static char *
make_offer(const uint8_t *fp, const char *dir, int opus_pt, int vp8_pt)
{
  char hex[3 * TM_DTLS_FINGERPRINT_LEN + 1];
  tm_hex_colon(fp, TM_DTLS_FINGERPRINT_LEN, hex);
  return g_strdup_printf(
    "v=0\r\no=- 42 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE a v\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 %s\r\n"
    "a=setup:actpass\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF %d\r\nc=IN IP4 0.0.0.0\r\na=mid:a\r\na=%s\r\na=rtcp-mux\r\n"
    "a=rtpmap:%d opus/48000/2\r\na=fmtp:%d useinbandfec=1\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF %d\r\nc=IN IP4 0.0.0.0\r\na=mid:v\r\na=%s\r\na=rtcp-mux\r\n"
    "a=rtpmap:%d VP8/90000\r\na=rtcp-fb:%d nack\r\na=rtcp-fb:%d nack pli\r\n",
    hex, opus_pt, dir, opus_pt, opus_pt, vp8_pt, dir, vp8_pt, vp8_pt, vp8_pt);
}

/* Opens a connection for P (to FEED, or publishing when NULL) and completes DTLS. */
static Endpoint *
connect_endpoint(Sim *sim, TmParticipant *p, TmParticipant *feed, int opus_pt, int vp8_pt,
                 gboolean wrong_fingerprint, TmSdp *answer_out)
{
  Endpoint *e = g_new0(Endpoint, 1);
  e->sim = sim;
  e->identity = tm_dtls_identity_new(1800000000);
  e->rtp_in = g_ptr_array_new_with_free_func((GDestroyNotify) g_bytes_unref);
  e->rtcp_in = g_ptr_array_new_with_free_func((GDestroyNotify) g_bytes_unref);
  const uint8_t *fp = tm_dtls_identity_fingerprint(e->identity);
  TmDtlsIdentity *stranger = wrong_fingerprint ? tm_dtls_identity_new(1800000000) : NULL;
  if (stranger != NULL)
    fp = tm_dtls_identity_fingerprint(stranger);
  g_autofree char *text = make_offer(fp, feed != NULL ? "recvonly" : "sendonly", opus_pt, vp8_pt);
  g_autofree TmSdp *offer = g_new0(TmSdp, 1);
  g_assert_cmpint(tm_sdp_parse(text, strlen(text), offer), ==, TM_SDP_OK);
  static const char *const cands[] = { "candidate:1 1 UDP 2013266431 127.0.0.1 30000 typ host" };
  TmIceParams ice = { "rlay", "relaypasswordrelaypassword", cands, 1 };
  TmHearingError he;
  TmSdpError se;
  e->peer = tm_hearing_open_peer(sim->hearing, p, feed, offer, &ice, answer_out, sim->now, &he,
                                 &se);
  g_assert_nonnull(e->peer);
  g_hash_table_insert(sim->by_peer, e->peer, e);
  e->dtls = tm_dtls_new(e->identity, TM_DTLS_ROLE_CLIENT,
                        tm_dtls_identity_fingerprint(sim->relay_identity), TM_DTLS_FINGERPRINT_LEN,
                        &ep_listener, e);
  tm_dtls_start(e->dtls, sim->now);
  run(sim);
  if (stranger != NULL)
    tm_dtls_identity_unref(stranger);
  return e;
}

static void
send_rtp(Endpoint *e, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc, const uint8_t *payload,
         size_t payload_len)
{
  TmRtpPacket p = { .pt = pt, .seq = seq, .ts = ts, .ssrc = ssrc, .payload = payload,
                    .payload_len = payload_len };
  uint8_t buf[2048];
  size_t n = tm_rtp_serialize(&p, buf, sizeof buf, NULL);
  g_assert_cmpuint(n, >, 0);
  g_assert_cmpint(tm_srtp_protect_rtp(e->srtp, buf, &n, sizeof buf), ==, TM_SRTP_OK);
  ep_transmit(e, buf, n);
  run(e->sim);
}

static void
send_rtcp(Endpoint *e, const TmRtcpPacket *pkt)
{
  uint8_t buf[2048];
  size_t n = tm_rtcp_serialize(pkt, buf, sizeof buf, NULL);
  g_assert_cmpuint(n, >, 0);
  g_assert_cmpint(tm_srtp_protect_rtcp(e->srtp, buf, &n, sizeof buf), ==, TM_SRTP_OK);
  ep_transmit(e, buf, n);
  run(e->sim);
}

static const uint8_t vp8_key[] = { 0x10, 0x00, 0x9d, 0x01, 0x2a, 0xAA, 0xBB }; /* S=1, P=0 */
static const uint8_t vp8_delta[] = { 0x10, 0x01, 0x02, 0x03 };                 /* S=1, P=1 */
static const uint8_t opus[] = { 0xfc, 0xff, 0xfe };

static int
count_kind(Endpoint *e, TmRtcpKind kind)
{
  int n = 0;
  for (guint i = 0; i < e->rtcp_in->len; i++) {
    gsize len;
    const uint8_t *p = g_bytes_get_data(g_ptr_array_index(e->rtcp_in, i), &len);
    TmRtcpIter it;
    tm_rtcp_iter_init(&it, p, len);
    TmRtcpPacket pkt;
    bool done = false;
    while (tm_rtcp_iter_next(&it, &pkt, &done) == TM_RTCP_OK && !done)
      n += pkt.kind == kind;
  }
  return n;
}

static void
test_forwarding(void)
{
  Sim *sim = sim_new();
  TmHearingError he;
  TmParticipant *judge = tm_hearing_join(sim->hearing, "Judge", TM_ROLE_JUDGE, sim->now, &he);
  TmParticipant *witness = tm_hearing_join(sim->hearing, "Witness", TM_ROLE_WITNESS, sim->now, &he);
  g_autofree TmSdp *pub_answer = g_new0(TmSdp, 1);
  g_autofree TmSdp *sub_answer = g_new0(TmSdp, 1);
  Endpoint *pub = connect_endpoint(sim, judge, NULL, 111, 96, FALSE, pub_answer);
  g_assert_true(pub->connected);
  g_assert_cmpint(sim->published, ==, 1);
  g_assert_true(judge->publishing);
  Endpoint *sub = connect_endpoint(sim, witness, judge, 109, 120, FALSE, sub_answer);
  g_assert_true(sub->connected);
  g_assert_cmpuint(sub_answer->media[1].n_ssrcs, ==, 1);
  uint32_t out_video_ssrc = sub_answer->media[1].ssrcs[0];
  uint32_t out_audio_ssrc = sub_answer->media[0].ssrcs[0];

  /* Audio flows at once, with the receiver's payload type and the relay's SSRC. */
  send_rtp(pub, 111, 1000, 48000, 0xAAAA, opus, sizeof opus);
  g_assert_cmpint(sim->tapped, ==, 1); /* the recording tap sees it as received */
  uint8_t pt = 0;
  uint32_t clock = 0;
  g_assert_true(tm_hearing_track_info(judge, TM_TRACK_VIDEO, &pt, &clock));
  g_assert_cmpint(pt, ==, 96);
  g_assert_cmpuint(clock, ==, 90000);
  g_assert_cmpuint(sub->rtp_in->len, ==, 1);
  TmRtpPacket got;
  gsize len;
  const uint8_t *p = g_bytes_get_data(g_ptr_array_index(sub->rtp_in, 0), &len);
  g_assert_cmpint(tm_rtp_parse(p, len, &got), ==, TM_RTP_OK);
  g_assert_cmpint(got.pt, ==, 109);
  g_assert_cmpuint(got.ssrc, ==, out_audio_ssrc);
  g_assert_cmpmem(got.payload, got.payload_len, opus, sizeof opus);

  /* Video waits for a key frame; the relay asks the publisher for one. */
  send_rtp(pub, 96, 500, 9000, 0xBBBB, vp8_delta, sizeof vp8_delta);
  g_assert_cmpuint(sub->rtp_in->len, ==, 1);
  g_assert_cmpint(count_kind(pub, TM_RTCP_KIND_PLI), ==, 1);
  send_rtp(pub, 96, 501, 12000, 0xBBBB, vp8_key, sizeof vp8_key);
  send_rtp(pub, 96, 502, 15000, 0xBBBB, vp8_delta, sizeof vp8_delta);
  g_assert_cmpuint(sub->rtp_in->len, ==, 3);
  TmRtpPacket k, d;
  p = g_bytes_get_data(g_ptr_array_index(sub->rtp_in, 1), &len);
  g_assert_cmpint(tm_rtp_parse(p, len, &k), ==, TM_RTP_OK);
  p = g_bytes_get_data(g_ptr_array_index(sub->rtp_in, 2), &len);
  g_assert_cmpint(tm_rtp_parse(p, len, &d), ==, TM_RTP_OK);
  g_assert_cmpint(k.pt, ==, 120);
  g_assert_cmpuint(k.ssrc, ==, out_video_ssrc);
  g_assert_cmpmem(k.payload, k.payload_len, vp8_key, sizeof vp8_key);
  g_assert_cmpint((uint16_t) (d.seq - k.seq), ==, 1);
  g_assert_cmpuint(d.ts - k.ts, ==, 3000);

  /* A packet lost on the way to the receiver is resent, identical, when it NACKs it. */
  sub->drop_rtp = 1;
  static const uint8_t vp8_lost[] = { 0x10, 0x01, 0x0d, 0x0e };
  send_rtp(pub, 96, 503, 18000, 0xBBBB, vp8_lost, sizeof vp8_lost);
  g_assert_cmpuint(sub->rtp_in->len, ==, 3);
  TmRtcpPacket nack = { .kind = TM_RTCP_KIND_NACK, .sender_ssrc = 1, .media_ssrc = out_video_ssrc,
                        .n_nacks = 1 };
  nack.nacks[0].pid = (uint16_t) (d.seq + 1);
  send_rtcp(sub, &nack);
  g_assert_cmpuint(sub->rtp_in->len, ==, 4);
  TmRtpPacket r;
  p = g_bytes_get_data(g_ptr_array_index(sub->rtp_in, 3), &len);
  g_assert_cmpint(tm_rtp_parse(p, len, &r), ==, TM_RTP_OK);
  g_assert_cmpint(r.seq, ==, (uint16_t) (d.seq + 1));
  g_assert_cmpmem(r.payload, r.payload_len, vp8_lost, sizeof vp8_lost);
  /* A NACK for a packet the relay never had is ignored. */
  nack.nacks[0].pid = (uint16_t) (d.seq + 100);
  send_rtcp(sub, &nack);
  g_assert_cmpuint(sub->rtp_in->len, ==, 4);

  /* A PLI from the receiver reaches the publisher, rate-limited. */
  int plis = count_kind(pub, TM_RTCP_KIND_PLI);
  sim->now += 2000000;
  TmRtcpPacket pli = { .kind = TM_RTCP_KIND_PLI, .sender_ssrc = 1, .media_ssrc = out_video_ssrc };
  send_rtcp(sub, &pli);
  send_rtcp(sub, &pli);
  send_rtcp(sub, &pli);
  g_assert_cmpint(count_kind(pub, TM_RTCP_KIND_PLI), ==, plis + 1);

  /* A gap in the publisher's video makes the relay NACK it upstream. */
  send_rtp(pub, 96, 505, 24000, 0xBBBB, vp8_delta, sizeof vp8_delta);
  g_assert_cmpint(count_kind(pub, TM_RTCP_KIND_NACK), ==, 1);

  /* Reports: receivers get sender reports, publishers receiver reports. */
  sim->now += 1500000;
  tm_hearing_handle_timeout(sim->hearing, sim->now);
  run(sim);
  g_assert_cmpint(count_kind(sub, TM_RTCP_KIND_SR), >=, 2);
  g_assert_cmpint(count_kind(pub, TM_RTCP_KIND_RR), >=, 1);
  g_assert_cmpint(tm_hearing_next_deadline(sim->hearing), >, sim->now);

  /* The witness leaves: its connection is closed and nothing more is sent to it. */
  guint received = sub->rtp_in->len;
  tm_hearing_leave(sim->hearing, witness);
  g_assert_cmpint(sim->closed, ==, 1);
  g_assert_cmpuint(judge->subscribers->len, ==, 0);
  send_rtp(pub, 96, 506, 27000, 0xBBBB, vp8_delta, sizeof vp8_delta);
  g_assert_cmpuint(sub->rtp_in->len, ==, received);
  g_assert_cmpuint(tm_hearing_n_participants(sim->hearing), ==, 1);

  endpoint_free(sub);
  endpoint_free(pub);
  sim_free(sim);
}

static void
test_fingerprint_mismatch(void)
{
  Sim *sim = sim_new();
  TmHearingError he;
  TmParticipant *judge = tm_hearing_join(sim->hearing, "Judge", TM_ROLE_JUDGE, sim->now, &he);
  g_autofree TmSdp *answer = g_new0(TmSdp, 1);
  Endpoint *pub = connect_endpoint(sim, judge, NULL, 111, 96, TRUE, answer);
  g_assert_false(pub->connected);
  g_assert_cmpint(sim->failed, ==, 1);
  g_assert_false(judge->publishing);
  endpoint_free(pub);
  sim_free(sim);
}

static void
test_refusals(void)
{
  Sim *sim = sim_new();
  TmHearingError he;
  TmSdpError se;
  TmParticipant *a = tm_hearing_join(sim->hearing, "A", TM_ROLE_JUDGE, sim->now, &he);
  TmParticipant *b = tm_hearing_join(sim->hearing, "B", TM_ROLE_CLERK, sim->now, &he);
  g_autofree TmSdp *offer = g_new0(TmSdp, 1);
  g_autofree TmSdp *answer = g_new0(TmSdp, 1);
  g_autofree char *text = make_offer(tm_dtls_identity_fingerprint(sim->relay_identity),
                                     "recvonly", 111, 96);
  g_assert_cmpint(tm_sdp_parse(text, strlen(text), offer), ==, TM_SDP_OK);
  TmIceParams ice = { "rlay", "relaypasswordrelaypassword", NULL, 0 };
  g_assert_null(tm_hearing_open_peer(sim->hearing, a, a, offer, &ice, answer, 0, &he, &se));
  g_assert_cmpint(he, ==, TM_HEARING_ERR_SELF);
  g_assert_null(tm_hearing_open_peer(sim->hearing, a, b, offer, &ice, answer, 0, &he, &se));
  g_assert_cmpint(he, ==, TM_HEARING_ERR_NO_FEED);
  for (int i = 2; i < TM_HEARING_MAX_PARTICIPANTS; i++)
    g_assert_nonnull(tm_hearing_join(sim->hearing, "X", TM_ROLE_OBSERVER, sim->now, &he));
  g_assert_null(tm_hearing_join(sim->hearing, "Y", TM_ROLE_OBSERVER, sim->now, &he));
  g_assert_cmpint(he, ==, TM_HEARING_ERR_FULL);
  g_assert_nonnull(tm_hearing_find(sim->hearing, "p2"));
  sim_free(sim);
}

static TmRtpPacket
nth_rtp(Endpoint *e, guint i)
{
  TmRtpPacket r;
  gsize len;
  const uint8_t *p = g_bytes_get_data(g_ptr_array_index(e->rtp_in, i), &len);
  g_assert_cmpint(tm_rtp_parse(p, len, &r), ==, TM_RTP_OK);
  return r;
}

static void
test_waiting_room(void)
{
  Sim *sim = sim_new_with(true, 0);
  TmHearingError he;
  TmParticipant *judge = tm_hearing_join(sim->hearing, "Judge", TM_ROLE_JUDGE, sim->now, &he);
  TmParticipant *clerk = tm_hearing_join(sim->hearing, "Clerk", TM_ROLE_CLERK, sim->now, &he);
  g_assert_cmpint(judge->state, ==, TM_STATE_ADMITTED);
  g_assert_cmpint(clerk->state, ==, TM_STATE_WAITING);
  g_autofree TmSdp *a1 = g_new0(TmSdp, 1);
  g_autofree TmSdp *a2 = g_new0(TmSdp, 1);
  Endpoint *pub = connect_endpoint(sim, judge, NULL, 111, 96, FALSE, a1);
  Endpoint *sub = connect_endpoint(sim, clerk, judge, 111, 96, FALSE, a2);
  uint16_t seq = 100;
  uint32_t ts = 0;
  /* Waiting: nothing reaches the clerk. */
  for (int i = 0; i < 3; i++, seq++, ts += 3000)
    send_rtp(pub, 96, seq, ts, 0xB, vp8_key, sizeof vp8_key);
  send_rtp(pub, 111, 7, 960, 0xA, opus, sizeof opus);
  g_assert_cmpuint(sub->rtp_in->len, ==, 0);
  g_assert_cmpuint(tm_hearing_packets_sent(sim->hearing, judge, clerk, TM_TRACK_VIDEO), ==, 0);
  /* Admitted: a key frame is asked for, and media flows. */
  sim->now += 1000000;
  int plis = count_kind(pub, TM_RTCP_KIND_PLI);
  tm_hearing_set_state(sim->hearing, clerk, TM_STATE_ADMITTED, sim->now);
  run(sim);
  g_assert_cmpint(count_kind(pub, TM_RTCP_KIND_PLI), ==, plis + 1);
  for (int i = 0; i < 2; i++, seq++, ts += 3000)
    send_rtp(pub, 96, seq, ts, 0xB, vp8_key, sizeof vp8_key);
  g_assert_cmpuint(sub->rtp_in->len, ==, 2);
  TmRtpPacket last = nth_rtp(sub, 1);
  /* Back to the waiting room: it stops; the publisher's sequence runs on meanwhile. */
  tm_hearing_set_state(sim->hearing, clerk, TM_STATE_WAITING, sim->now);
  for (int i = 0; i < 50; i++, seq++, ts += 3000)
    send_rtp(pub, 96, seq, ts, 0xB, vp8_delta, sizeof vp8_delta);
  g_assert_cmpuint(sub->rtp_in->len, ==, 2);
  /* Admitted again: the receiver's stream resumes with the next sequence number, after a key
   * frame, and its timestamp has advanced with the time that passed. */
  sim->now += 2000000;
  tm_hearing_set_state(sim->hearing, clerk, TM_STATE_ADMITTED, sim->now);
  send_rtp(pub, 96, seq++, ts, 0xB, vp8_delta, sizeof vp8_delta);
  ts += 3000;
  g_assert_cmpuint(sub->rtp_in->len, ==, 2);
  send_rtp(pub, 96, seq++, ts, 0xB, vp8_key, sizeof vp8_key);
  g_assert_cmpuint(sub->rtp_in->len, ==, 3);
  TmRtpPacket next = nth_rtp(sub, 2);
  g_assert_cmpint(next.seq, ==, (uint16_t) (last.seq + 1));
  g_assert_cmpuint(next.ts - last.ts, >=, 2 * 90000 - 1);
  g_assert_cmpuint(next.ts - last.ts, <=, 2 * 90000 + 1);
  /* Muted at the relay: the judge's audio stops for everyone. */
  guint n = sub->rtp_in->len;
  tm_hearing_set_muted(sim->hearing, judge, TM_TRACK_AUDIO, true, sim->now);
  send_rtp(pub, 111, 8, 1920, 0xA, opus, sizeof opus);
  g_assert_cmpuint(sub->rtp_in->len, ==, n);
  tm_hearing_set_muted(sim->hearing, judge, TM_TRACK_AUDIO, false, sim->now);
  send_rtp(pub, 111, 9, 2880, 0xA, opus, sizeof opus);
  g_assert_cmpuint(sub->rtp_in->len, ==, n + 1);
  endpoint_free(sub);
  endpoint_free(pub);
  sim_free(sim);
}

/* A receiver sent to the waiting room cannot have video resent by asking for it: the relay sends
 * nothing of a track it has disabled, retransmissions included. Found by fuzz-peer. */
static void
test_no_resend_while_waiting(void)
{
  Sim *sim = sim_new();
  TmHearingError he;
  TmParticipant *judge = tm_hearing_join(sim->hearing, "Judge", TM_ROLE_JUDGE, sim->now, &he);
  TmParticipant *clerk = tm_hearing_join(sim->hearing, "Clerk", TM_ROLE_CLERK, sim->now, &he);
  g_autofree TmSdp *a1 = g_new0(TmSdp, 1);
  g_autofree TmSdp *a2 = g_new0(TmSdp, 1);
  Endpoint *pub = connect_endpoint(sim, judge, NULL, 111, 96, FALSE, a1);
  Endpoint *sub = connect_endpoint(sim, clerk, judge, 111, 96, FALSE, a2);
  send_rtp(pub, 96, 100, 3000, 0xB, vp8_key, sizeof vp8_key);
  sub->drop_rtp = 1;
  send_rtp(pub, 96, 101, 6000, 0xB, vp8_delta, sizeof vp8_delta);
  send_rtp(pub, 96, 102, 9000, 0xB, vp8_delta, sizeof vp8_delta);
  g_assert_cmpuint(sub->rtp_in->len, ==, 2);
  uint16_t lost = (uint16_t) (nth_rtp(sub, 0).seq + 1);
  TmRtcpPacket nack = { .kind = TM_RTCP_KIND_NACK, .sender_ssrc = 1,
                        .media_ssrc = a2->media[1].ssrcs[0], .n_nacks = 1 };
  nack.nacks[0].pid = lost;

  tm_hearing_set_state(sim->hearing, clerk, TM_STATE_WAITING, sim->now);
  send_rtcp(sub, &nack);
  g_assert_cmpuint(sub->rtp_in->len, ==, 2);
  /* Admitted again, what was sent before may be resent. */
  tm_hearing_set_state(sim->hearing, clerk, TM_STATE_ADMITTED, sim->now);
  run(sim);
  send_rtcp(sub, &nack);
  g_assert_cmpuint(sub->rtp_in->len, ==, 3);
  g_assert_cmpint(nth_rtp(sub, 2).seq, ==, lost);
  endpoint_free(sub);
  endpoint_free(pub);
  sim_free(sim);
}

static void
test_policy(void)
{
  const guint s = TM_MEASURE_SCREEN_WITNESS;
  /* Without measures everyone receives everyone (observers never publish). */
  for (int from = 0; from < TM_ROLE_COUNT; from++)
    for (int to = 0; to < TM_ROLE_COUNT; to++)
      for (int t = 0; t < TM_TRACK_COUNT; t++)
        g_assert_true(tm_hearing_policy_allows(0, from, to, t) == (from != TM_ROLE_OBSERVER));
  /* Screening the witness: its video only to judge, clerk, counsel and interpreter. */
  const TmRole viewers[] = { TM_ROLE_JUDGE, TM_ROLE_CLERK, TM_ROLE_PROSECUTOR, TM_ROLE_DEFENCE,
                             TM_ROLE_INTERPRETER };
  for (int to = 0; to < TM_ROLE_COUNT; to++) {
    bool viewer = false;
    for (gsize i = 0; i < G_N_ELEMENTS(viewers); i++)
      viewer |= viewers[i] == (TmRole) to;
    g_assert_true(tm_hearing_policy_allows(s, TM_ROLE_WITNESS, to, TM_TRACK_VIDEO) == viewer);
    g_assert_true(tm_hearing_policy_allows(s, TM_ROLE_WITNESS, to, TM_TRACK_AUDIO));
  }
  g_assert_false(tm_hearing_policy_allows(s, TM_ROLE_WITNESS, TM_ROLE_DEFENDANT, TM_TRACK_VIDEO));
  g_assert_false(tm_hearing_policy_allows(s, TM_ROLE_WITNESS, TM_ROLE_OBSERVER, TM_TRACK_VIDEO));
  /* ... and the witness sees only judges and the interpreter. */
  for (int from = 0; from < TM_ROLE_COUNT; from++) {
    bool seen = from == TM_ROLE_JUDGE || from == TM_ROLE_INTERPRETER;
    g_assert_true(tm_hearing_policy_allows(s, from, TM_ROLE_WITNESS, TM_TRACK_VIDEO) == seen);
    g_assert_true(tm_hearing_policy_allows(s, from, TM_ROLE_WITNESS, TM_TRACK_AUDIO) ==
                  (from != TM_ROLE_OBSERVER));
  }
  /* Out-of-range roles are refused. */
  g_assert_false(tm_hearing_policy_allows(0, TM_ROLE_COUNT, TM_ROLE_JUDGE, TM_TRACK_AUDIO));
}

static void
test_screening_live(void)
{
  Sim *sim = sim_new_with(false, TM_MEASURE_SCREEN_WITNESS);
  TmHearingError he;
  TmParticipant *witness = tm_hearing_join(sim->hearing, "W", TM_ROLE_WITNESS, sim->now, &he);
  TmParticipant *defendant = tm_hearing_join(sim->hearing, "D", TM_ROLE_DEFENDANT, sim->now, &he);
  g_autofree TmSdp *a1 = g_new0(TmSdp, 1);
  g_autofree TmSdp *a2 = g_new0(TmSdp, 1);
  Endpoint *pub = connect_endpoint(sim, witness, NULL, 111, 96, FALSE, a1);
  Endpoint *sub = connect_endpoint(sim, defendant, witness, 111, 96, FALSE, a2);
  send_rtp(pub, 96, 1, 0, 0xB, vp8_key, sizeof vp8_key);
  send_rtp(pub, 111, 1, 0, 0xA, opus, sizeof opus);
  g_assert_cmpuint(tm_hearing_packets_sent(sim->hearing, witness, defendant, TM_TRACK_VIDEO), ==, 0);
  g_assert_cmpuint(tm_hearing_packets_sent(sim->hearing, witness, defendant, TM_TRACK_AUDIO), ==, 1);
  tm_hearing_set_measure(sim->hearing, TM_MEASURE_SCREEN_WITNESS, false, sim->now);
  send_rtp(pub, 96, 2, 3000, 0xB, vp8_key, sizeof vp8_key);
  g_assert_cmpuint(tm_hearing_packets_sent(sim->hearing, witness, defendant, TM_TRACK_VIDEO), ==, 1);
  g_assert_cmpuint(sub->rtp_in->len, ==, 2);
  /* Observers may not publish at all. */
  TmParticipant *obs = tm_hearing_join(sim->hearing, "O", TM_ROLE_OBSERVER, sim->now, &he);
  g_autofree TmSdp *offer = g_new0(TmSdp, 1);
  g_autofree char *text = make_offer(tm_dtls_identity_fingerprint(sim->relay_identity),
                                     "sendonly", 111, 96);
  g_assert_cmpint(tm_sdp_parse(text, strlen(text), offer), ==, TM_SDP_OK);
  TmIceParams ice = { "rlay", "relaypasswordrelaypassword", NULL, 0 };
  TmSdpError se;
  g_assert_null(tm_hearing_open_peer(sim->hearing, obs, NULL, offer, &ice, a1, 0, &he, &se));
  g_assert_cmpint(he, ==, TM_HEARING_ERR_FORBIDDEN);
  endpoint_free(sub);
  endpoint_free(pub);
  sim_free(sim);
}

/* The publisher answers the relay's NACKs from what it sent (SENT: seq -> plaintext packet). */
static void
answer_nacks(Endpoint *pub, GHashTable *sent, guint *seen)
{
  for (; *seen < pub->rtcp_in->len; (*seen)++) {
    gsize len;
    const uint8_t *p = g_bytes_get_data(g_ptr_array_index(pub->rtcp_in, *seen), &len);
    TmRtcpIter it;
    tm_rtcp_iter_init(&it, p, len);
    TmRtcpPacket pkt;
    bool done = false;
    while (tm_rtcp_iter_next(&it, &pkt, &done) == TM_RTCP_OK && !done) {
      for (unsigned i = 0; pkt.kind == TM_RTCP_KIND_NACK && i < pkt.n_nacks; i++) {
        uint16_t seqs[17];
        unsigned n = tm_rtcp_nack_expand(&pkt.nacks[i], seqs);
        for (unsigned j = 0; j < n; j++) {
          GBytes *b = g_hash_table_lookup(sent, GUINT_TO_POINTER(seqs[j]));
          if (b == NULL)
            continue;
          uint8_t buf[2048];
          size_t blen = g_bytes_get_size(b);
          memcpy(buf, g_bytes_get_data(b, NULL), blen);
          g_assert_cmpint(tm_srtp_protect_rtp(pub->srtp, buf, &blen, sizeof buf), ==, TM_SRTP_OK);
          ep_transmit(pub, buf, blen);
        }
      }
    }
  }
  run(pub->sim);
}

/* The receiver NACKs every gap between the first and the newest packet it has. */
static void
nack_gaps(Endpoint *sub, uint32_t media_ssrc)
{
  GHashTable *have = g_hash_table_new(NULL, NULL);
  int first = -1, newest = -1;
  for (guint i = 0; i < sub->rtp_in->len; i++) {
    TmRtpPacket r = nth_rtp(sub, i);
    int ext = r.seq; /* the test stays far from the 16-bit wrap */
    g_hash_table_add(have, GINT_TO_POINTER(ext));
    first = first < 0 ? ext : MIN(first, ext);
    newest = MAX(newest, ext);
  }
  TmRtcpPacket nack = { .kind = TM_RTCP_KIND_NACK, .sender_ssrc = 7, .media_ssrc = media_ssrc };
  for (int s = first + 1; s < newest && nack.n_nacks < TM_RTCP_MAX_NACK; s++)
    if (!g_hash_table_contains(have, GINT_TO_POINTER(s)))
      nack.nacks[nack.n_nacks++] = (TmRtcpNackItem){ (uint16_t) s, 0 };
  if (nack.n_nacks > 0)
    send_rtcp(sub, &nack);
  g_hash_table_unref(have);
}

static void
test_nack_recovery_under_loss(void)
{
  Sim *sim = sim_new();
  TmHearingError he;
  TmParticipant *judge = tm_hearing_join(sim->hearing, "Judge", TM_ROLE_JUDGE, sim->now, &he);
  TmParticipant *witness = tm_hearing_join(sim->hearing, "Witness", TM_ROLE_WITNESS, sim->now, &he);
  g_autofree TmSdp *a1 = g_new0(TmSdp, 1);
  g_autofree TmSdp *a2 = g_new0(TmSdp, 1);
  Endpoint *pub = connect_endpoint(sim, judge, NULL, 111, 96, FALSE, a1);
  Endpoint *sub = connect_endpoint(sim, witness, judge, 111, 96, FALSE, a2);
  uint32_t out_ssrc = a2->media[1].ssrcs[0];
  GHashTable *sent = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify) g_bytes_unref);
  guint seen = 0;
  const int n = 300;
  sim->loss = 0.10; /* 10 % of RTP lost on each leg: publisher -> relay and relay -> receiver */
  for (int i = 0; i < n; i++) {
    sim->now += 33333;
    uint16_t seq = (uint16_t) (1000 + i);
    TmRtpPacket p = { .pt = 96, .seq = seq, .ts = (uint32_t) i * 3000, .ssrc = 0xB,
                      .payload = vp8_key, .payload_len = sizeof vp8_key };
    uint8_t buf[2048];
    size_t len = tm_rtp_serialize(&p, buf, sizeof buf, NULL);
    g_hash_table_insert(sent, GUINT_TO_POINTER(seq), g_bytes_new(buf, len));
    send_rtp(pub, 96, seq, p.ts, 0xB, vp8_key, sizeof vp8_key);
    tm_hearing_handle_timeout(sim->hearing, sim->now); /* the relay's NACK retries */
    run(sim);
    answer_nacks(pub, sent, &seen);
    if (i % 5 == 4)
      nack_gaps(sub, out_ssrc);
  }
  for (int round = 0; round < 8; round++) { /* a few more round trips for the last losses */
    sim->now += 100000;
    tm_hearing_handle_timeout(sim->hearing, sim->now);
    run(sim);
    answer_nacks(pub, sent, &seen);
    nack_gaps(sub, out_ssrc);
  }
  GHashTable *have = g_hash_table_new(NULL, NULL);
  int first = 65536, newest = -1;
  for (guint i = 0; i < sub->rtp_in->len; i++) {
    TmRtpPacket r = nth_rtp(sub, i);
    g_hash_table_add(have, GINT_TO_POINTER((int) r.seq));
    first = MIN(first, (int) r.seq);
    newest = MAX(newest, (int) r.seq);
  }
  g_test_message("lost %d datagrams; receiver has %u distinct packets from %d to %d",
                 sim->lost, g_hash_table_size(have), first, newest);
  g_assert_cmpint(sim->lost, >, 40);                       /* the link really lost packets */
  g_assert_cmpint(newest - first + 1, >=, n - 5);         /* nearly all of the stream ... */
  g_assert_cmpuint(g_hash_table_size(have), ==, (guint) (newest - first + 1)); /* ... no holes */
  const TmPeerStats *up = tm_peer_stats(judge->publish);
  g_assert_cmpuint(up->nacks_out, >, 0);                  /* the relay asked the publisher */
  g_assert_cmpuint(tm_peer_stats(g_ptr_array_index(witness->subscriptions, 0))->retransmits, >, 0);
  g_hash_table_unref(have);
  g_hash_table_unref(sent);
  endpoint_free(sub);
  endpoint_free(pub);
  sim_free(sim);
}

/* The relay's random choices come from its caller: the same seed gives the same answers. */
static void
answers_for_seed(TmSdp *pub, TmSdp *sub)
{
  Sim *sim = sim_new();
  TmHearingError he;
  TmParticipant *judge = tm_hearing_join(sim->hearing, "Judge", TM_ROLE_JUDGE, sim->now, &he);
  TmParticipant *witness = tm_hearing_join(sim->hearing, "Witness", TM_ROLE_WITNESS, sim->now, &he);
  Endpoint *e1 = connect_endpoint(sim, witness, NULL, 111, 96, FALSE, pub);
  Endpoint *e2 = connect_endpoint(sim, judge, witness, 111, 96, FALSE, sub);
  sim_free(sim);
  endpoint_free(e2);
  endpoint_free(e1);
}

static void
test_seeded(void)
{
  g_autofree TmSdp *pub1 = g_new0(TmSdp, 1), *sub1 = g_new0(TmSdp, 1);
  g_autofree TmSdp *pub2 = g_new0(TmSdp, 1), *sub2 = g_new0(TmSdp, 1);
  answers_for_seed(pub1, sub1);
  answers_for_seed(pub2, sub2);
  g_assert_cmpuint(sub1->session_id, ==, sub2->session_id);
  g_assert_cmpuint(pub1->session_id, ==, pub2->session_id);
  g_assert_cmpuint(sub1->session_id, !=, pub1->session_id);
  for (guint i = 0; i < 2; i++) {
    g_assert_cmpuint(sub1->media[i].n_ssrcs, >, 0);
    g_assert_cmpuint(sub1->media[i].ssrcs[0], ==, sub2->media[i].ssrcs[0]);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/hearing/forwarding", test_forwarding);
  g_test_add_func("/hearing/seeded", test_seeded);
  g_test_add_func("/hearing/fingerprint-mismatch", test_fingerprint_mismatch);
  g_test_add_func("/hearing/refusals", test_refusals);
  g_test_add_func("/hearing/waiting-room", test_waiting_room);
  g_test_add_func("/hearing/no-resend-while-waiting", test_no_resend_while_waiting);
  g_test_add_func("/hearing/policy", test_policy);
  g_test_add_func("/hearing/screening-live", test_screening_live);
  g_test_add_func("/hearing/nack-recovery-under-loss", test_nack_recovery_under_loss);
  return g_test_run();
}
