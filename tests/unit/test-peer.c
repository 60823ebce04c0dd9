/* test-peer.c — one connection of the relay (peer.c) through its public API: the handshake with
 * an in-memory DTLS client, media in (publish) and out (subscribe) with SSRC, sequence number,
 * timestamp and payload type rewritten, disabled tracks, NACKs answered and rate-limited, key
 * frame requests both ways, counted drops, deadlines and reports.
 *
 * The browser is tests/sim's (a tm_dtls client and a tm_srtp session) in a bare simulation: the
 * peer's listener is captured here, its transmit put on the simulation's link. */
#include <glib.h>
#include <string.h>

#include "sim.h"

#define SUB_AUDIO_SSRC 0x1111u
#define SUB_VIDEO_SSRC 0x2222u
#define WALL_OFFSET_US (INT64_C(1700000000) * 1000000)

typedef struct {
  TmSim *sim;
  TmSimBrowser *b;
  TmPeer *peer;
  int connected;
  int failed;
  char reason[128];
  GPtrArray *media;     /* GBytes: each RTP packet the media callback handed up */
  GArray *media_tracks; /* TmTrack of each */
  int keyframe_requests;
  TmRtxStore *store; /* the publisher's video, as the hearing keeps it */
} Fixture;

static void
on_transmit(void *ud, TmPeer *peer, const uint8_t *buf, size_t len)
{
  tm_sim_relay_transmit(((Fixture *) ud)->sim, peer, buf, len);
}

static void
on_connected(void *ud, TmPeer *peer)
{
  ((Fixture *) ud)->connected++;
}

static void
on_failed(void *ud, TmPeer *peer, const char *reason)
{
  Fixture *f = ud;
  f->failed++;
  g_strlcpy(f->reason, reason, sizeof f->reason);
}

static void
on_media(void *ud, TmPeer *peer, TmTrack track, const TmRtpPacket *pkt, const uint8_t *buf,
         size_t len, int64_t now_us)
{
  Fixture *f = ud;
  TmRtpPacket again;
  g_assert_cmpint(tm_rtp_parse(buf, len, &again), ==, TM_RTP_OK);
  g_assert_cmpint(again.seq, ==, pkt->seq);
  g_ptr_array_add(f->media, g_bytes_new(buf, len));
  g_array_append_val(f->media_tracks, track);
}

static void
on_keyframe_request(void *ud, TmPeer *peer, bool missed, int64_t now_us)
{
  ((Fixture *) ud)->keyframe_requests++;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(TmDtlsIdentity, tm_dtls_identity_unref)

static const TmPeerListener listener = {
  on_transmit, on_connected, on_failed, on_media, on_keyframe_request,
};

/* A peer of KIND, its browser connected (or refused, with WRONG_FINGERPRINT in the offer). */
static Fixture *
fixture_new(TmPeerKind kind, bool wrong_fingerprint)
{
  Fixture *f = g_new0(Fixture, 1);
  f->store = tm_rtx_store_new();
  f->sim = tm_sim_new_bare();
  f->media = g_ptr_array_new_with_free_func((GDestroyNotify) g_bytes_unref);
  f->media_tracks = g_array_new(FALSE, FALSE, sizeof(TmTrack));
  f->b = tm_sim_add_browser(f->sim);
  g_autoptr(TmDtlsIdentity) stranger = tm_dtls_identity_new(1800000000);
  const uint8_t *fp = tm_dtls_identity_fingerprint(wrong_fingerprint ? stranger : f->b->identity);
  bool publish = kind == TM_PEER_PUBLISH;
  g_autofree char *text = tm_sim_browser_offer(fp, publish ? "sendonly" : "recvonly",
                                               publish ? 111 : 109, publish ? 96 : 120);
  g_autofree TmSdp *offer = g_new0(TmSdp, 1);
  g_assert_cmpint(tm_sdp_parse(text, strlen(text), offer), ==, TM_SDP_OK);
  TmSdpAnswerParams params = {
    .ice_ufrag = "rlay",
    .ice_pwd = "relaypasswordrelaypassword",
    .fingerprint_alg = "sha-256",
    .fingerprint = tm_dtls_identity_fingerprint(f->sim->relay_identity),
    .fingerprint_len = TM_DTLS_FINGERPRINT_LEN,
    .setup = TM_SETUP_PASSIVE,
    .direction = publish ? TM_DIR_RECVONLY : TM_DIR_SENDONLY,
    .session_id = 1,
    .audio_ssrc = publish ? 0 : SUB_AUDIO_SSRC,
    .video_ssrc = publish ? 0 : SUB_VIDEO_SSRC,
  };
  g_assert_cmpint(tm_sdp_answer(offer, &params, f->b->answer), ==, TM_SDP_OK);
  TmPeerConfig config = {
    .kind = kind,
    .identity = f->sim->relay_identity,
    .remote_fingerprint = offer->fingerprint,
    .remote_fingerprint_len = offer->fingerprint_len,
    .answer = f->b->answer,
    .wall_offset_us = WALL_OFFSET_US,
    .cname_hash = 42,
    .rand = f->sim->relay_rand,
  };
  f->peer = tm_peer_new(&config, &listener, f, f->sim->now);
  tm_sim_attach(f->sim, f->b, f->peer);
  tm_sim_browser_start(f->b, f->sim->now);
  tm_sim_run(f->sim);
  return f;
}

static void
fixture_free(Fixture *f)
{
  tm_sim_detach(f->sim, f->peer);
  tm_peer_free(f->peer);
  tm_rtx_store_unref(f->store);
  tm_sim_free(f->sim);
  g_ptr_array_unref(f->media);
  g_array_unref(f->media_tracks);
  g_free(f);
}

/* Hands the subscribe peer one packet from a publisher (SSRC 0xB, PT 96 or 111), then runs. */
static bool
feed(Fixture *f, TmTrack track, uint16_t seq, uint32_t ts, const uint8_t *payload, size_t len)
{
  TmRtpPacket p = { .pt = track == TM_TRACK_VIDEO ? 96 : 111,
                    .seq = seq,
                    .ts = ts,
                    .ssrc = track == TM_TRACK_VIDEO ? 0xB : 0xA,
                    .payload = payload,
                    .payload_len = len };
  uint8_t buf[2048];
  size_t n = tm_rtp_serialize(&p, buf, sizeof buf, NULL);
  TmRtpPacket view;
  g_assert_cmpint(tm_rtp_parse(buf, n, &view), ==, TM_RTP_OK);
  TmRtxKept kept = { f->store, 0 };
  if (track == TM_TRACK_VIDEO && f->store != NULL)
    kept.index = tm_rtx_store_put(f->store, buf, n);
  bool sent =
    tm_peer_send_media(f->peer, track, &view, buf, n, kept.index != 0 ? &kept : NULL, f->sim->now);
  tm_sim_run(f->sim);
  return sent;
}

static bool
feed_key(Fixture *f, uint16_t seq)
{
  return feed(f, TM_TRACK_VIDEO, seq, (uint32_t) seq * 3000, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
}

static bool
feed_delta(Fixture *f, uint16_t seq)
{
  return feed(f, TM_TRACK_VIDEO, seq, (uint32_t) seq * 3000, tm_sim_vp8_delta,
              sizeof tm_sim_vp8_delta);
}

/* ---- handshake ---- */

static void
test_handshake(void)
{
  for (int kind = TM_PEER_PUBLISH; kind <= TM_PEER_SUBSCRIBE; kind++) {
    Fixture *f = fixture_new(kind, false);
    g_assert_cmpint(f->connected, ==, 1);
    g_assert_cmpint(f->failed, ==, 0);
    g_assert_true(f->b->connected);
    g_assert_true(tm_peer_is_connected(f->peer));
    g_assert_cmpint(tm_peer_kind(f->peer), ==, kind);
    g_assert_cmpint(tm_peer_srtp_profile(f->peer), ==, TM_SRTP_PROFILE_AEAD_AES_128_GCM);
    uint8_t pt;
    uint32_t clock;
    g_assert_true(tm_peer_track_info(f->peer, TM_TRACK_AUDIO, &pt, &clock));
    g_assert_cmpint(pt, ==, kind == TM_PEER_PUBLISH ? 111 : 109);
    g_assert_cmpuint(clock, ==, 48000);
    g_assert_true(tm_peer_track_info(f->peer, TM_TRACK_VIDEO, &pt, &clock));
    g_assert_cmpint(pt, ==, kind == TM_PEER_PUBLISH ? 96 : 120);
    g_assert_cmpuint(clock, ==, 90000);
    int data = 7;
    tm_peer_set_data(f->peer, &data);
    g_assert_true(tm_peer_get_data(f->peer) == &data);
    fixture_free(f);
  }
}

/* A browser whose certificate is not the one its offer names is refused; then every datagram
 * is a counted drop. */
static void
test_fingerprint_mismatch(void)
{
  Fixture *f = fixture_new(TM_PEER_PUBLISH, true);
  g_assert_cmpint(f->connected, ==, 0);
  g_assert_cmpint(f->failed, ==, 1);
  g_assert_cmpstr(f->reason, ==, tm_dtls_strerror(TM_DTLS_ERR_FINGERPRINT));
  g_assert_false(tm_peer_is_connected(f->peer));
  static const uint8_t rtp[12] = { 0x80, 96 };
  uint64_t before = tm_peer_stats(f->peer)->drop_malformed;
  tm_peer_handle_datagram(f->peer, rtp, sizeof rtp, f->sim->now);
  g_assert_cmpuint(tm_peer_stats(f->peer)->drop_malformed, ==, before + 1);
  fixture_free(f);
}

/* ---- media ---- */

static void
test_publish_media(void)
{
  Fixture *f = fixture_new(TM_PEER_PUBLISH, false);
  tm_sim_send_rtp(f->b, 111, 7, 960, 0xA, tm_sim_opus, sizeof tm_sim_opus);
  tm_sim_send_rtp(f->b, 96, 100, 3000, 0xB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  g_assert_cmpuint(f->media->len, ==, 2);
  g_assert_cmpint(g_array_index(f->media_tracks, TmTrack, 0), ==, TM_TRACK_AUDIO);
  g_assert_cmpint(g_array_index(f->media_tracks, TmTrack, 1), ==, TM_TRACK_VIDEO);
  /* Handed up as received: nothing rewritten on the way in. */
  TmRtpPacket p;
  gsize len;
  const uint8_t *buf = g_bytes_get_data(g_ptr_array_index(f->media, 1), &len);
  g_assert_cmpint(tm_rtp_parse(buf, len, &p), ==, TM_RTP_OK);
  g_assert_cmpint(p.pt, ==, 96);
  g_assert_cmpint(p.seq, ==, 100);
  g_assert_cmpuint(p.ts, ==, 3000);
  g_assert_cmpuint(p.ssrc, ==, 0xB);
  g_assert_cmpmem(p.payload, p.payload_len, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  const TmPeerStats *st = tm_peer_stats(f->peer);
  g_assert_cmpuint(st->rtp_in, ==, 2);
  g_assert_cmpuint(st->bytes_in, ==, 12 + sizeof tm_sim_opus + 12 + sizeof tm_sim_vp8_key);
  /* A publish peer forwards nothing itself. */
  g_assert_false(feed_key(f, 1));
  fixture_free(f);
}

static void
test_rewrite(void)
{
  Fixture *f = fixture_new(TM_PEER_SUBSCRIBE, false);
  g_assert_true(feed(f, TM_TRACK_AUDIO, 7, 960, tm_sim_opus, sizeof tm_sim_opus));
  g_assert_true(feed(f, TM_TRACK_AUDIO, 8, 1920, tm_sim_opus, sizeof tm_sim_opus));
  /* The first key frame was asked for when the receiver's first DTLS flight came (ICE up). */
  g_assert_cmpint(f->keyframe_requests, ==, 1);
  /* Video starts at a key frame: a delta frame before it is dropped, and asked to be replaced. */
  g_assert_false(feed_delta(f, 99));
  g_assert_cmpint(f->keyframe_requests, ==, 2);
  g_assert_cmpuint(tm_peer_stats(f->peer)->drop_waiting_keyframe, ==, 1);
  g_assert_true(feed_key(f, 100));
  g_assert_true(feed_delta(f, 101));
  g_assert_true(feed_delta(f, 102));
  g_assert_cmpuint(f->b->rtp_in->len, ==, 5);

  TmRtpPacket a0 = tm_sim_browser_nth_rtp(f->b, 0), a1 = tm_sim_browser_nth_rtp(f->b, 1);
  g_assert_cmpint(a0.pt, ==, 109);
  g_assert_cmpuint(a0.ssrc, ==, SUB_AUDIO_SSRC);
  g_assert_cmpint((uint16_t) (a1.seq - a0.seq), ==, 1);
  g_assert_cmpuint(a1.ts - a0.ts, ==, 960);
  g_assert_cmpmem(a0.payload, a0.payload_len, tm_sim_opus, sizeof tm_sim_opus);
  for (guint i = 2; i < 5; i++) {
    TmRtpPacket v = tm_sim_browser_nth_rtp(f->b, i);
    TmRtpPacket k = tm_sim_browser_nth_rtp(f->b, 2);
    g_assert_cmpint(v.pt, ==, 120);
    g_assert_cmpuint(v.ssrc, ==, SUB_VIDEO_SSRC);
    g_assert_cmpint((uint16_t) (v.seq - k.seq), ==, i - 2);
    g_assert_cmpuint(v.ts - k.ts, ==, (i - 2) * 3000);
  }
  TmRtpPacket k = tm_sim_browser_nth_rtp(f->b, 2);
  g_assert_cmpmem(k.payload, k.payload_len, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  const TmPeerStats *st = tm_peer_stats(f->peer);
  g_assert_cmpuint(st->rtp_out, ==, 5);
  g_assert_cmpuint(st->rtp_out_track[TM_TRACK_AUDIO], ==, 2);
  g_assert_cmpuint(st->rtp_out_track[TM_TRACK_VIDEO], ==, 3);
  fixture_free(f);
}

/* Before the handshake nothing is sent. */
static void
test_not_ready(void)
{
  Fixture *f = g_new0(Fixture, 1);
  Fixture *ready = fixture_new(TM_PEER_SUBSCRIBE, false);
  TmPeerConfig config = {
    .kind = TM_PEER_SUBSCRIBE,
    .identity = ready->sim->relay_identity,
    .remote_fingerprint = tm_dtls_identity_fingerprint(ready->b->identity),
    .remote_fingerprint_len = TM_DTLS_FINGERPRINT_LEN,
    .answer = ready->b->answer,
  };
  f->sim = ready->sim;
  f->peer = tm_peer_new(&config, &listener, f, ready->sim->now);
  g_assert_false(tm_peer_is_connected(f->peer));
  g_assert_false(feed_key(f, 1));
  g_assert_cmpuint(tm_peer_stats(f->peer)->drop_not_ready, ==, 1);
  static const uint8_t rtcp[8] = { 0x80, 201, 0, 1 };
  tm_peer_handle_datagram(f->peer, rtcp, sizeof rtcp, ready->sim->now);
  g_assert_cmpuint(tm_peer_stats(f->peer)->drop_not_ready, ==, 2);
  tm_peer_free(f->peer);
  g_free(f);
  fixture_free(ready);
}

/* A disabled track sends nothing, retransmissions included; enabled again, it continues with
 * the next sequence number and a timestamp advanced by the time that passed (video after a key
 * frame). */
static void
test_disabled_track(void)
{
  Fixture *f = fixture_new(TM_PEER_SUBSCRIBE, false);
  g_assert_true(feed_key(f, 100));
  g_assert_true(feed(f, TM_TRACK_AUDIO, 7, 960, tm_sim_opus, sizeof tm_sim_opus));
  g_assert_true(tm_peer_track_enabled(f->peer, TM_TRACK_VIDEO));
  g_assert_false(tm_peer_set_track_enabled(f->peer, TM_TRACK_VIDEO, true)); /* no change */
  g_assert_false(tm_peer_set_track_enabled(f->peer, TM_TRACK_VIDEO, false));
  g_assert_false(tm_peer_set_track_enabled(f->peer, TM_TRACK_AUDIO, false));
  g_assert_false(tm_peer_track_enabled(f->peer, TM_TRACK_VIDEO));
  for (uint16_t s = 101; s < 160; s++)
    g_assert_false(feed_key(f, s));
  g_assert_false(feed(f, TM_TRACK_AUDIO, 8, 1920, tm_sim_opus, sizeof tm_sim_opus));
  g_assert_cmpuint(tm_peer_stats(f->peer)->drop_policy, ==, 60);
  TmRtpPacket last_v = tm_sim_browser_nth_rtp(f->b, 0), last_a = tm_sim_browser_nth_rtp(f->b, 1);
  tm_sim_send_nack(f->b, SUB_VIDEO_SSRC, last_v.seq); /* not even resent */
  g_assert_cmpuint(f->b->rtp_in->len, ==, 2);
  g_assert_cmpuint(tm_peer_stats(f->peer)->drop_policy, ==, 61);

  tm_sim_advance(f->sim, 2000000);
  g_assert_true(tm_peer_set_track_enabled(f->peer, TM_TRACK_VIDEO, true));
  g_assert_true(tm_peer_set_track_enabled(f->peer, TM_TRACK_AUDIO, true));
  g_assert_false(feed_delta(f, 160)); /* video waits for a key frame again */
  g_assert_true(feed_key(f, 161));
  g_assert_true(feed(f, TM_TRACK_AUDIO, 60, 57600, tm_sim_opus, sizeof tm_sim_opus));
  g_assert_cmpuint(f->b->rtp_in->len, ==, 4);
  TmRtpPacket v = tm_sim_browser_nth_rtp(f->b, 2), a = tm_sim_browser_nth_rtp(f->b, 3);
  g_assert_cmpint(v.seq, ==, (uint16_t) (last_v.seq + 1));
  g_assert_cmpint(a.seq, ==, (uint16_t) (last_a.seq + 1));
  g_assert_cmpuint(v.ts - last_v.ts, >=, 2 * 90000 - 1);
  g_assert_cmpuint(v.ts - last_v.ts, <=, 2 * 90000 + 1);
  g_assert_cmpuint(a.ts - last_a.ts, >=, 2 * 48000 - 1);
  g_assert_cmpuint(a.ts - last_a.ts, <=, 2 * 48000 + 1);
  fixture_free(f);
}

/* ---- NACK ---- */

static void
test_nack(void)
{
  Fixture *f = fixture_new(TM_PEER_SUBSCRIBE, false);
  g_assert_true(feed_key(f, 100));
  f->b->drop_rtp = 1;
  static const uint8_t lost[] = { 0x10, 0x01, 0x0d, 0x0e };
  g_assert_true(feed(f, TM_TRACK_VIDEO, 101, 303000, lost, sizeof lost));
  g_assert_true(feed_delta(f, 102));
  g_assert_cmpuint(f->b->rtp_in->len, ==, 2);
  uint16_t first = tm_sim_browser_nth_rtp(f->b, 0).seq;
  tm_sim_send_nack(f->b, SUB_VIDEO_SSRC, (uint16_t) (first + 1));
  g_assert_cmpuint(f->b->rtp_in->len, ==, 3);
  TmRtpPacket r = tm_sim_browser_nth_rtp(f->b, 2);
  g_assert_cmpint(r.seq, ==, (uint16_t) (first + 1));
  g_assert_cmpuint(r.ssrc, ==, SUB_VIDEO_SSRC);
  g_assert_cmpint(r.pt, ==, 120);
  g_assert_cmpmem(r.payload, r.payload_len, lost, sizeof lost);
  const TmPeerStats *st = tm_peer_stats(f->peer);
  g_assert_cmpuint(st->nacks_in, ==, 1);
  g_assert_cmpuint(st->retransmits, ==, 1);
  /* Never sent, or for another stream: nothing. */
  tm_sim_send_nack(f->b, SUB_VIDEO_SSRC, (uint16_t) (first + 50));
  tm_sim_send_nack(f->b, SUB_AUDIO_SSRC, (uint16_t) (first + 1));
  g_assert_cmpuint(st->nacks_in, ==, 2);
  g_assert_cmpuint(st->retransmits, ==, 1);
  g_assert_cmpuint(f->b->rtp_in->len, ==, 3);
  fixture_free(f);
}

/* Answers are rate-limited: 200 at once, then 500 a second. */
static void
test_nack_rate_limited(void)
{
  Fixture *f = fixture_new(TM_PEER_SUBSCRIBE, false);
  for (uint16_t s = 1000; s < 1300; s++)
    g_assert_true(feed_key(f, s));
  uint16_t first = tm_sim_browser_nth_rtp(f->b, 0).seq;
  TmRtcpPacket nack = { .kind = TM_RTCP_KIND_NACK, .sender_ssrc = 1, .media_ssrc = SUB_VIDEO_SSRC };
  for (int s = 0; s < 300; s += 17) /* each item: one packet and the 16 after it */
    nack.nacks[nack.n_nacks++] = (TmRtcpNackItem){ (uint16_t) (first + s), 0xffff };
  tm_sim_send_rtcp(f->b, &nack);
  const TmPeerStats *st = tm_peer_stats(f->peer);
  g_assert_cmpuint(st->retransmits, ==, 200);
  g_assert_cmpuint(st->drop_rate_limited, ==, 100); /* 18 items of 17: 6 never sent, ignored */
  /* The browser had them all: every copy is a replay to it. */
  g_assert_cmpuint(f->b->rejected_rtp, ==, 200);
  tm_sim_advance(f->sim, 100000);
  tm_sim_send_nack(f->b, SUB_VIDEO_SSRC, first);
  g_assert_cmpuint(st->retransmits, ==, 201);
  fixture_free(f);
}

/* ---- key frames ---- */

static void
test_keyframe_requests(void)
{
  /* A subscriber's PLI or FIR is passed up (after the request of its first DTLS flight). */
  Fixture *sub = fixture_new(TM_PEER_SUBSCRIBE, false);
  g_assert_cmpint(sub->keyframe_requests, ==, 1);
  tm_sim_send_pli(sub->b, SUB_VIDEO_SSRC);
  TmRtcpPacket fir = { .kind = TM_RTCP_KIND_FIR, .sender_ssrc = 1, .n_firs = 1 };
  fir.firs[0] = (TmRtcpFirItem){ SUB_VIDEO_SSRC, 1 };
  tm_sim_send_rtcp(sub->b, &fir);
  g_assert_cmpint(sub->keyframe_requests, ==, 3);
  g_assert_cmpuint(tm_peer_stats(sub->peer)->keyframe_requests_in, ==, 2);
  tm_peer_request_keyframe(sub->peer, sub->sim->now); /* not a publish peer: nothing */
  tm_sim_run(sub->sim);
  g_assert_cmpint(tm_sim_browser_count_rtcp(sub->b, TM_RTCP_KIND_PLI), ==, 0);
  fixture_free(sub);

  /* A publisher is asked with a PLI for its video SSRC, once video came, at most 3 a second. */
  Fixture *f = fixture_new(TM_PEER_PUBLISH, false);
  tm_peer_request_keyframe(f->peer, f->sim->now);
  tm_sim_run(f->sim);
  g_assert_cmpint(tm_sim_browser_count_rtcp(f->b, TM_RTCP_KIND_PLI), ==, 0);
  tm_sim_send_rtp(f->b, 96, 100, 3000, 0xB, tm_sim_vp8_delta, sizeof tm_sim_vp8_delta);
  tm_sim_send_pli(f->b, 0xB); /* a PLI to a publish peer is not passed up */
  g_assert_cmpint(f->keyframe_requests, ==, 0);
  for (int i = 0; i < 5; i++)
    tm_peer_request_keyframe(f->peer, f->sim->now);
  tm_sim_run(f->sim);
  g_assert_cmpint(tm_sim_browser_count_rtcp(f->b, TM_RTCP_KIND_PLI), ==, 1);
  TmRtcpPacket pli;
  g_assert_true(tm_sim_browser_last_rtcp(f->b, TM_RTCP_KIND_PLI, &pli));
  g_assert_cmpuint(pli.media_ssrc, ==, 0xB);
  tm_sim_advance(f->sim, 340000);
  tm_peer_request_keyframe(f->peer, f->sim->now);
  tm_sim_run(f->sim);
  g_assert_cmpint(tm_sim_browser_count_rtcp(f->b, TM_RTCP_KIND_PLI), ==, 2);
  g_assert_cmpuint(tm_peer_stats(f->peer)->keyframe_requests_out, ==, 2);
  fixture_free(f);
}

/* ---- drops ---- */

static void
test_drops(void)
{
  Fixture *f = fixture_new(TM_PEER_PUBLISH, false);
  const TmPeerStats *st = tm_peer_stats(f->peer);
  /* An unknown payload type. */
  tm_sim_send_rtp(f->b, 100, 1, 0, 0xB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  g_assert_cmpuint(st->drop_unknown_pt, ==, 1);
  /* SRTP that does not authenticate. */
  uint8_t buf[2048];
  size_t n = tm_sim_browser_protect_rtp(f->b, 96, 2, 0, 0xB, tm_sim_vp8_key, sizeof tm_sim_vp8_key,
                                        buf, sizeof buf);
  buf[n - 1] ^= 1;
  tm_sim_send_raw(f->b, buf, n);
  g_assert_cmpuint(st->drop_srtp, ==, 1);
  /* An SRTCP packet that authenticates but whose RTCP does not parse. */
  uint8_t rtcp[256] = { 0x80, 201, 0x00, 0x40, 0, 0, 0, 1 }; /* length far beyond the datagram */
  n = 8;
  g_assert_cmpint(tm_srtp_protect_rtcp(f->b->srtp, rtcp, &n, sizeof rtcp), ==, TM_SRTP_OK);
  tm_sim_send_raw(f->b, rtcp, n);
  g_assert_cmpuint(st->drop_malformed, ==, 1);
  /* Neither DTLS, RTP nor RTCP (STUN belongs to ICE, below the peer); too large. */
  static const uint8_t stun[20] = { 0x00, 0x01 };
  static const uint8_t other[4] = { 0x70 };
  uint8_t huge[TM_RTP_MAX_PACKET + TM_SRTP_MAX_TRAILER + 1] = { 0x80, 96 };
  tm_sim_send_raw(f->b, stun, sizeof stun);
  tm_sim_send_raw(f->b, other, sizeof other);
  tm_sim_send_raw(f->b, huge, sizeof huge);
  g_assert_cmpuint(st->drop_malformed, ==, 4);
  /* RTP to a subscribe peer. */
  Fixture *sub = fixture_new(TM_PEER_SUBSCRIBE, false);
  tm_sim_send_rtp(sub->b, 120, 1, 0, 0xC, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  g_assert_cmpuint(tm_peer_stats(sub->peer)->drop_unknown_pt, ==, 1);
  /* None of it was handed up. */
  g_assert_cmpuint(f->media->len, ==, 0);
  g_assert_cmpuint(sub->media->len, ==, 0);
  g_assert_cmpuint(st->rtp_in, ==, 0);
  fixture_free(sub);
  fixture_free(f);
}

/* ---- time ---- */

static void
test_deadline(void)
{
  Fixture *f = fixture_new(TM_PEER_PUBLISH, false);
  int64_t created = f->sim->now;
  /* Connected, nothing pending: the next report. */
  g_assert_cmpint(tm_peer_next_deadline(f->peer), ==, created + TM_PEER_REPORT_INTERVAL_US);
  guint out = f->b->rtcp_in->len;
  tm_peer_handle_timeout(f->peer, created + 500000); /* early: nothing */
  tm_sim_run(f->sim);
  g_assert_cmpuint(f->b->rtcp_in->len, ==, out);
  g_assert_cmpint(tm_peer_next_deadline(f->peer), ==, created + TM_PEER_REPORT_INTERVAL_US);
  /* A gap: the NACK retry is due before the report. */
  tm_sim_send_rtp(f->b, 96, 100, 3000, 0xB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  tm_sim_send_rtp(f->b, 96, 102, 9000, 0xB, tm_sim_vp8_delta, sizeof tm_sim_vp8_delta);
  g_assert_cmpint(tm_peer_next_deadline(f->peer), ==, f->sim->now + 100000);
  /* After the second request its copy is due, 25 ms later. */
  tm_sim_advance(f->sim, 100000);
  g_assert_cmpint(tm_peer_next_deadline(f->peer), ==, f->sim->now + 25000);
  /* Once the retries are over (eight, 100 ms apart without a round-trip time, the last seven
   * each with a copy), the reports alone, every second. */
  tm_sim_advance(f->sim, 750000);
  g_assert_cmpuint(tm_peer_stats(f->peer)->nacks_out, ==, 15);
  g_assert_cmpuint(tm_peer_stats(f->peer)->nack_given_up, ==, 1);
  g_assert_cmpint(tm_peer_next_deadline(f->peer), ==, created + TM_PEER_REPORT_INTERVAL_US);
  tm_sim_advance(f->sim, created + TM_PEER_REPORT_INTERVAL_US - f->sim->now);
  g_assert_cmpint(tm_peer_next_deadline(f->peer), ==, created + 2 * TM_PEER_REPORT_INTERVAL_US);
  fixture_free(f);
}

/* Sender reports to a receiver: one per started stream, with the relay's SSRC, counts, NTP time
 * from the wall clock and an RTP time carried on from the last packet. Receiver reports to a
 * publisher: one block per stream, with the last sender report it sent. */
static void
test_reports(void)
{
  Fixture *f = fixture_new(TM_PEER_SUBSCRIBE, false);
  int64_t created = f->sim->now;
  tm_peer_handle_timeout(f->peer, created + TM_PEER_REPORT_INTERVAL_US);
  tm_sim_run(f->sim);
  g_assert_cmpint(tm_sim_browser_count_rtcp(f->b, TM_RTCP_KIND_SR), ==, 0); /* nothing sent yet */
  g_assert_true(feed_key(f, 100));
  g_assert_true(feed_delta(f, 101));
  TmRtpPacket last = tm_sim_browser_nth_rtp(f->b, 1);
  tm_sim_advance(f->sim, 2 * TM_PEER_REPORT_INTERVAL_US); /* the report after the one above */
  g_assert_cmpint(tm_sim_browser_count_rtcp(f->b, TM_RTCP_KIND_SR), ==, 1); /* video only */
  TmRtcpPacket sr, sdes;
  g_assert_true(tm_sim_browser_last_rtcp(f->b, TM_RTCP_KIND_SR, &sr));
  g_assert_true(tm_sim_browser_last_rtcp(f->b, TM_RTCP_KIND_SDES, &sdes));
  g_assert_cmpstr(sdes.cname, ==, "testimony-relay");
  g_assert_cmpuint(sr.sender_ssrc, ==, SUB_VIDEO_SSRC);
  g_assert_cmpuint(sr.packet_count, ==, 2);
  g_assert_cmpuint(sr.octet_count, ==, sizeof tm_sim_vp8_key + sizeof tm_sim_vp8_delta);
  int64_t report_at = created + 2 * TM_PEER_REPORT_INTERVAL_US;
  g_assert_cmpuint(sr.ntp >> 32, ==,
                   (uint64_t) ((report_at + WALL_OFFSET_US) / 1000000) + 2208988800u);
  /* RTP time: the last packet's, plus the time since it was sent. */
  uint32_t elapsed = (uint32_t) ((report_at - created) * 90 / 1000);
  g_assert_cmpuint(sr.rtp_ts - last.ts, ==, elapsed);
  fixture_free(f);

  Fixture *p = fixture_new(TM_PEER_PUBLISH, false);
  tm_sim_send_rtp(p->b, 96, 100, 3000, 0xB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  TmRtcpPacket bsr = { .kind = TM_RTCP_KIND_SR,
                       .sender_ssrc = 0xB,
                       .ntp = UINT64_C(0x1234567887654321) };
  tm_sim_send_rtcp(p->b, &bsr);
  tm_sim_advance(p->sim, 1000000);
  TmRtcpPacket rr;
  g_assert_true(tm_sim_browser_last_rtcp(p->b, TM_RTCP_KIND_RR, &rr));
  g_assert_cmpuint(rr.n_blocks, ==, 1);
  g_assert_cmpuint(rr.blocks[0].ssrc, ==, 0xB);
  g_assert_cmpuint(rr.blocks[0].lsr, ==, 0x56788765u);
  g_assert_cmpuint(rr.blocks[0].dlsr, ==, 65536); /* one second later */
  g_assert_cmpuint(rr.blocks[0].highest_seq & 0xffff, ==, 100);
  g_assert_cmpint(rr.blocks[0].cumulative_lost, ==, 0);
  g_assert_cmpuint(tm_peer_stats(p->peer)->bitrate_bps, >, 0);
  fixture_free(p);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/peer/handshake", test_handshake);
  g_test_add_func("/peer/fingerprint-mismatch", test_fingerprint_mismatch);
  g_test_add_func("/peer/publish-media", test_publish_media);
  g_test_add_func("/peer/rewrite", test_rewrite);
  g_test_add_func("/peer/not-ready", test_not_ready);
  g_test_add_func("/peer/disabled-track", test_disabled_track);
  g_test_add_func("/peer/nack", test_nack);
  g_test_add_func("/peer/nack-rate-limited", test_nack_rate_limited);
  g_test_add_func("/peer/keyframe-requests", test_keyframe_requests);
  g_test_add_func("/peer/drops", test_drops);
  g_test_add_func("/peer/deadline", test_deadline);
  g_test_add_func("/peer/reports", test_reports);
  return g_test_run();
}
