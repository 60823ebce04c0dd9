/* fuzz-peer.c — the relay's connections (peer.c) inside a hearing (hearing.c), after a real
 * DTLS handshake, fed datagrams, controls and time.
 *
 * Every input starts a hearing with two participants whose browsers are simulated with the
 * engine's own pieces (a tm_dtls client and a tm_srtp session each): a publisher, and a
 * receiver subscribed to it. The first input of a process runs both DTLS handshakes in memory
 * to the end; every later input's connections, the relay's and the browsers', are keyed with
 * the SRTP keys those gave (tm_dtls_fuzz_preset_keys, fuzz builds only) when the browser starts
 * and the relay hears its first datagram, without a handshake, which cost a hundred times the
 * rest of an input. Either way what the input sends is encrypted with the keys the relay holds
 * and reaches RTP and RTCP handling past SRTP decryption. GLib's random generator is seeded for
 * every input (the relay's SSRCs, sequence and timestamp offsets are the same every run);
 * OpenSSL's randomness only changes ciphertext.
 *
 * Input: one setup byte, then operations [op][length, 2 bytes big-endian][length bytes]:
 *
 *   setup  bits 0-2 the publisher's role (judge .. defendant), 3-5 the receiver's, 6 the
 *          receiver is an observer instead, 7 the hearing has a waiting room
 *   0  media     the publisher sends RTP: [flags: 1 video, 2 marker, 4 new SSRC, 8 own PT,
 *                16 sound as RED, 32 abs-send-time] [sequence step, signed] [PT if flag 8]
 *                [3 bytes of abs-send-time if flag 32] payload...
 *   1  rtp       the publisher protects the bytes as an RTP packet and sends them
 *   2  rtcp      the publisher protects the bytes as RTCP and sends them
 *   3  rtcp      the same from the receiver
 *   4  feedback  the receiver sends [kind: NACK PLI FIR RR TWCC REMB] [SSRC: video audio other]
 *                then items of 3 bytes: for a NACK [back from the highest sent to it][BLP],
 *                for an RR [SSRC][fraction lost][bit 0: LSR of the last SR; DLSR], for
 *                transport-cc [back from the newest number][¼ ms after the last][bit 0: came]
 *   5  raw       [to: publisher, receiver, last extra connection] bytes as they are
 *   6  time      [ms, 2 bytes] pass, then every timer due runs
 *   7  control   [what] admit or send to the waiting room, mute, screen the witness, ask for
 *                key frames, close the subscription, a participant leaves, a browser closes
 *                DTLS (its close_notify alert), the receiver loses the next RTP datagrams
 *   8  replay    [who] [where] [xor] the last datagram a browser sent, again, maybe altered
 *   9  offer     an extra participant offers the bytes as SDP to receive the publisher (odd
 *                length) or to publish (even length)
 *
 * After every operation all datagrams in flight are delivered, as the shell does, and the
 * failures the relay reported are handled as the shell handles them (the connection closed,
 * or the publisher removed). Properties checked, any broken one aborts:
 *
 *   - the connections connect;
 *   - everything SRTP the relay sends a browser authenticates (a retransmission may be a
 *     replay), and decrypts to RTP or RTCP that parses, in the PT and SSRC negotiated (every
 *     offer has rtx at the VP8's PT + 1: a retransmission to the receiver comes as RTX on the
 *     FID SSRC, and its original sequence number is one the receiver was sent; both offer RED
 *     for their Opus: sound to the receiver in RED is well-formed RED of its Opus);
 *   - every RTP packet to the receiver (which offered transport-cc) carries a transport-wide
 *     number newer than any before it;
 *   - the publisher's browser never gets RTP; the receiver gets no track while the relay has it
 *     disabled (policy, waiting room, mute);
 *   - datagrams stop: two endpoints never keep answering each other;
 *   - after the timers run, the next deadline is in the future (a timer due now for ever would
 *     spin the shell's loop). */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bwe.h"
#include "dtls.h"
#include "hearing.h"
#include "red.h"
#include "rtcp.h"
#include "rtp.h"
#include "sdp.h"
#include "srtp.h"
#include "twcc.h"
#include "util.h"

#define BUF_SIZE 4096
#define MAX_DELIVERIES 20000
#define PUB_AUDIO_PT 111
#define PUB_VIDEO_PT 96
#define SUB_AUDIO_PT 109
#define SUB_VIDEO_PT 120
#define RTX_PT_OFFSET 1  /* every offer has rtx for its VP8 at the next PT */
#define RED_PT_OFFSET 48 /* ... and red for its Opus 48 below (Chromium: 111 and 63) */
#define TWCC_ID 3        /* the transport-wide number's extension in a receiver's offer */
#define ABS_SEND_ID 2    /* abs-send-time in the publisher's */

enum {
  OP_MEDIA,
  OP_RTP,
  OP_RTCP_PUB,
  OP_RTCP_SUB,
  OP_FEEDBACK,
  OP_RAW,
  OP_TIME,
  OP_CONTROL,
  OP_REPLAY,
  OP_OFFER,
  OP_COUNT
};

/* A broken property aborts, saying which (some show only once inputs before them left state in
 * OpenSSL or libsrtp, so the line is all a crash report may have to go on). */
#define check(ok) check_at((ok), #ok, __LINE__)

static void
check_at(gboolean ok, const char *what, int line)
{
  if (ok)
    return;
  fprintf(stderr, "fuzz-peer.c:%d: check failed: %s\n", line, what);
  abort();
}

typedef struct _World World;

/* A participant's browser. */
typedef struct {
  World *world;
  TmDtls *dtls;
  TmSrtp *srtp;
  TmPeer *peer;       /* the relay's side; NULL once closed */
  TmParticipant *who; /* NULL once gone */
  TmSdp *answer;
  uint32_t ssrc[TM_TRACK_COUNT];
  uint16_t seq[TM_TRACK_COUNT];
  uint32_t ts[TM_TRACK_COUNT];
  uint8_t last[BUF_SIZE]; /* the last datagram sent, for replays */
  size_t last_len;
  uint16_t highest_video; /* receiver: highest video sequence number sent to it */
  bool have_tseq;         /* receiver: a transport-wide number came ... */
  uint16_t highest_tseq;  /* ... and the highest of them */
  unsigned lose_rtp;      /* receiver: RTP datagrams still to lose on the way */
  uint32_t last_sr_mid;   /* receiver: from the last sender report */
  TmDtlsError dtls_error; /* why its DTLS failed, if it did */
} Browser;

typedef struct {
  Browser *to; /* to a browser, or NULL: to the relay's PEER */
  TmPeer *peer;
  bool enabled[TM_TRACK_COUNT]; /* to a browser: the tracks PEER had enabled when it sent */
  size_t len;
  uint8_t data[];
} Datagram;

struct _World {
  TmHearing *hearing;
  Browser pub, sub;
  TmPeer *extra;     /* the last connection opened by an offer from the input */
  GQueue queue;      /* Datagram* in flight */
  GPtrArray *failed; /* TmPeer* the relay reported failed, not yet handled */
  int64_t now;
  char relay_failure[128]; /* the relay's last reason for a failed connection */
};

/* Per process: creating a key pair is slow, and the identities are only read. */
static TmDtlsIdentity *relay_identity, *browser_identity;
/* Per process, never used: libsrtp built on NSS initialises NSS for every session and shuts it
 * down (unloading its modules) with the last one; this session keeps it loaded between inputs,
 * as the relay's other connections do. Not static: a store to a static pointer that is never
 * read may be optimised away, and LeakSanitizer then reports the session as leaked. */
TmSrtp *fuzz_peer_nss_keeper;
/* Per process, reused: a description is 180 KiB, and a fresh one for every offer and answer made
 * half of each input's time page faults. Nothing keeps a pointer into them past the call. */
static TmSdp sdp_offer, sdp_answer, sdp_answers[2];
/* Per process: the keys the publisher's and the receiver's browsers got from the real
 * handshakes of the first input, which every later input's connections are keyed with. */
static TmSrtpKeys browser_keys[2];
static bool keys_known;

/* ---- the browsers ---- */

static void
queue_datagram(World *w, Browser *to, TmPeer *peer, const uint8_t *buf, size_t len)
{
  Datagram *d = g_malloc(sizeof *d + len);
  d->to = to;
  d->peer = peer;
  for (int t = 0; t < TM_TRACK_COUNT; t++)
    d->enabled[t] = to != NULL && tm_peer_track_enabled(peer, t);
  d->len = len;
  memcpy(d->data, buf, len);
  g_queue_push_tail(&w->queue, d);
}

/* Sends BUF to the relay (and remembers it for a replay). */
static void
browser_send(Browser *b, const uint8_t *buf, size_t len)
{
  if (len > sizeof b->last)
    return;
  memcpy(b->last, buf, len);
  b->last_len = len;
  if (b->peer != NULL)
    queue_datagram(b->world, NULL, b->peer, buf, len);
}

static void
browser_dtls_transmit(void *ud, const uint8_t *buf, size_t len)
{
  browser_send(ud, buf, len);
}

static void
browser_dtls_connected(void *ud, const TmSrtpKeys *keys)
{
  Browser *b = ud;
  TmSrtpError err;
  if (!keys_known)
    browser_keys[b == &b->world->sub] = *keys;
  b->srtp = tm_srtp_new(keys, &err);
  check(b->srtp != NULL);
}

static void
browser_dtls_failed(void *ud, TmDtlsError err)
{
  Browser *b = ud;
  b->dtls_error = err;
}

static const TmDtlsListener browser_dtls_listener = {
  browser_dtls_transmit,
  browser_dtls_connected,
  browser_dtls_failed,
};

/* Whether the relay answered SSRC for a track; *RTX: it is that track's RTX SSRC (FID). */
static bool
answered_ssrc(const Browser *b, uint32_t ssrc, TmTrack *track, bool *rtx)
{
  for (guint i = 0; i < b->answer->n_media; i++) {
    const TmSdpMedia *m = &b->answer->media[i];
    *track = m->kind == TM_MEDIA_VIDEO ? TM_TRACK_VIDEO : TM_TRACK_AUDIO;
    *rtx = m->has_fid && m->fid_ssrcs[1] == ssrc;
    if ((m->n_ssrcs > 0 && m->ssrcs[0] == ssrc) || *rtx)
      return true;
  }
  return false;
}

/* The transport-wide number of PKT, sent to receiver B: every packet has one (transport-cc is
 * answered to it), newer than any before (each number is used once). */
static void
note_tseq(Browser *b, const TmRtpPacket *pkt, bool lost)
{
  const uint8_t *e;
  size_t elen;
  bool has = tm_rtp_find_extension(pkt, TWCC_ID, &e, &elen) && elen == 2;
  check(has || lost);
  if (!has)
    return;
  uint16_t t = (uint16_t) (e[0] << 8 | e[1]);
  check(!b->have_tseq || tm_seq_newer(t, b->highest_tseq) || lost);
  if (!b->have_tseq || tm_seq_newer(t, b->highest_tseq))
    b->highest_tseq = t;
  b->have_tseq = true;
}

static void
browser_receive_rtp(Browser *b, const Datagram *d, const uint8_t *buf, size_t len)
{
  TmRtpPacket pkt;
  TmTrack track;
  bool rtx;
  check(b == &b->world->sub); /* publish connections only receive */
  check(tm_rtp_parse(buf, len, &pkt) == TM_RTP_OK);
  check(answered_ssrc(b, pkt.ssrc, &track, &rtx));
  if (track == TM_TRACK_AUDIO && pkt.pt == SUB_AUDIO_PT - RED_PT_OFFSET) {
    TmRedBlock blocks[TM_RED_MAX_BLOCKS];
    size_t nb = tm_red_parse(pkt.payload, pkt.payload_len, blocks, TM_RED_MAX_BLOCKS);
    check(nb >= 1);
    for (size_t i = 0; i < nb; i++)
      check(blocks[i].pt == SUB_AUDIO_PT);
  } else {
    check(pkt.pt ==
          (track == TM_TRACK_VIDEO ? SUB_VIDEO_PT : SUB_AUDIO_PT) + (rtx ? RTX_PT_OFFSET : 0));
  }
  check(d->enabled[track]);
  note_tseq(b, &pkt, false);
  if (rtx) { /* a retransmission: the original inside must be a packet the receiver was sent */
    check(pkt.payload_len >= 2);
    check(!tm_seq_newer((uint16_t) (pkt.payload[0] << 8 | pkt.payload[1]), b->highest_video));
    return;
  }
  if (track == TM_TRACK_VIDEO && tm_seq_newer(pkt.seq, b->highest_video))
    b->highest_video = pkt.seq;
}

static void
browser_receive_rtcp(Browser *b, const uint8_t *buf, size_t len)
{
  TmRtcpIter it;
  TmRtcpPacket pkt;
  bool done = false;
  tm_rtcp_iter_init(&it, buf, len);
  while (!done) {
    check(tm_rtcp_iter_next(&it, &pkt, &done) == TM_RTCP_OK);
    if (!done && pkt.kind == TM_RTCP_KIND_SR)
      b->last_sr_mid = (uint32_t) (pkt.ntp >> 16);
  }
}

/* The RTP header is not encrypted: what was lost can still be asked for by number. */
static void
note_lost(Browser *b, const Datagram *d)
{
  TmRtpPacket pkt;
  TmTrack track;
  bool rtx;
  if (tm_rtp_parse(d->data, d->len, &pkt) != TM_RTP_OK || !answered_ssrc(b, pkt.ssrc, &track, &rtx))
    return;
  note_tseq(b, &pkt, true);
  if (!rtx && track == TM_TRACK_VIDEO && tm_seq_newer(pkt.seq, b->highest_video))
    b->highest_video = pkt.seq;
}

static void
browser_receive(Browser *b, const Datagram *d)
{
  TmPacketClass c = tm_packet_classify(d->data, d->len);
  if (c == TM_PACKET_DTLS) {
    tm_dtls_handle_datagram(b->dtls, d->data, d->len, b->world->now);
    return;
  }
  check(c == TM_PACKET_RTP || c == TM_PACKET_RTCP);
  check(b->srtp != NULL);
  if (c == TM_PACKET_RTP && b->lose_rtp > 0) {
    b->lose_rtp--;
    note_lost(b, d);
    return;
  }
  uint8_t buf[BUF_SIZE];
  check(d->len <= sizeof buf);
  memcpy(buf, d->data, d->len);
  size_t len = d->len;
  TmSrtpError e = c == TM_PACKET_RTP ? tm_srtp_unprotect_rtp(b->srtp, buf, &len)
                                     : tm_srtp_unprotect_rtcp(b->srtp, buf, &len);
  check(e == TM_SRTP_OK || (e == TM_SRTP_ERR_REPLAY && c == TM_PACKET_RTP));
  if (e != TM_SRTP_OK)
    return;
  if (c == TM_PACKET_RTP)
    browser_receive_rtp(b, d, buf, len);
  else
    browser_receive_rtcp(b, buf, len);
}

/* Protects BUF (LEN bytes of BUF_SIZE) as RTP or RTCP and sends it. */
static void
browser_send_protected(Browser *b, uint8_t *buf, size_t len, bool rtcp)
{
  if (b->srtp == NULL || len > BUF_SIZE - TM_SRTP_MAX_TRAILER)
    return;
  TmSrtpError e = rtcp ? tm_srtp_protect_rtcp(b->srtp, buf, &len, BUF_SIZE)
                       : tm_srtp_protect_rtp(b->srtp, buf, &len, BUF_SIZE);
  if (e == TM_SRTP_OK)
    browser_send(b, buf, len);
}

static void
browser_send_copy(Browser *b, const uint8_t *data, size_t len, bool rtcp)
{
  uint8_t buf[BUF_SIZE];
  if (len > sizeof buf)
    return;
  memcpy(buf, data, len);
  browser_send_protected(b, buf, len, rtcp);
}

static void
browser_send_rtcp(Browser *b, const TmRtcpPacket *pkt)
{
  uint8_t buf[BUF_SIZE];
  size_t n = tm_rtcp_serialize(pkt, buf, sizeof buf - TM_SRTP_MAX_TRAILER, NULL);
  if (n > 0)
    browser_send_protected(b, buf, n, true);
}

/* ---- the relay's side, as the shell runs it ---- */

static Browser *
browser_of(World *w, TmPeer *peer)
{
  if (peer != NULL && peer == w->pub.peer)
    return &w->pub;
  if (peer != NULL && peer == w->sub.peer)
    return &w->sub;
  return NULL;
}

static void
relay_transmit(void *ud, TmPeer *peer, const uint8_t *buf, size_t len)
{
  World *w = ud;
  check(len > 0 && len <= TM_RTP_MAX_PACKET + TM_SRTP_MAX_TRAILER);
  Browser *b = browser_of(w, peer);
  if (b != NULL)
    queue_datagram(w, b, peer, buf, len);
}

static void
relay_published(void *ud, TmParticipant *p)
{}

static void
relay_peer_failed(void *ud, TmPeer *peer, const char *reason)
{
  World *w = ud;
  check(reason != NULL);
  g_strlcpy(w->relay_failure, reason, sizeof w->relay_failure);
  g_ptr_array_add(w->failed, peer);
}

static void
relay_peer_closed(void *ud, TmPeer *peer)
{
  World *w = ud;
  Browser *b = browser_of(w, peer);
  if (b != NULL)
    b->peer = NULL;
  if (peer == w->extra)
    w->extra = NULL;
  g_ptr_array_remove(w->failed, peer);
  /* Datagrams on their way to the closed connection are lost with it. */
  for (GList *l = w->queue.head; l != NULL;) {
    GList *next = l->next;
    Datagram *d = l->data;
    if (d->to == NULL && d->peer == peer) {
      g_queue_delete_link(&w->queue, l);
      g_free(d);
    }
    l = next;
  }
}

static void
relay_media(void *ud, TmParticipant *from, TmTrack track, const uint8_t *buf, size_t len,
            int64_t now_us)
{
  TmRtpPacket pkt;
  check(from->state == TM_STATE_ADMITTED && tm_rtp_parse(buf, len, &pkt) == TM_RTP_OK);
}

static const TmHearingListener relay_listener = {
  relay_transmit, relay_published, relay_peer_failed, relay_peer_closed, relay_media, NULL,
};

static void
forget_participant(World *w, TmParticipant *p)
{
  if (w->pub.who == p)
    w->pub.who = NULL;
  if (w->sub.who == p)
    w->sub.who = NULL;
}

static void
leave(World *w, TmParticipant *p)
{
  if (p == NULL)
    return;
  tm_hearing_leave(w->hearing, p);
  forget_participant(w, p);
}

/* What the shell does, outside the engine's call stack, with a connection that failed. */
static void
handle_failures(World *w)
{
  while (w->failed->len > 0) {
    TmPeer *peer = g_ptr_array_steal_index(w->failed, 0);
    TmParticipant *owner = tm_hearing_peer_owner(w->hearing, peer);
    TmParticipant *feed = tm_hearing_peer_feed(w->hearing, peer);
    if (owner == NULL)
      continue;
    if (feed != NULL)
      tm_hearing_close_subscription(w->hearing, owner, feed);
    else
      leave(w, owner);
  }
}

/* Delivers every datagram in flight, and what they cause, then handles failures. */
static void
drain(World *w)
{
  for (int n = 0;; n++) {
    Datagram *d = g_queue_pop_head(&w->queue);
    if (d == NULL) {
      if (w->failed->len == 0)
        return;
      handle_failures(w);
      continue;
    }
    check(n < MAX_DELIVERIES);
    if (d->to != NULL)
      browser_receive(d->to, d);
    else
      tm_hearing_handle_datagram(w->hearing, d->peer, d->data, d->len, w->now);
    g_free(d);
  }
}

/* Runs the timers that are due. One round serves every connection due; what it sends may
 * bring a deadline to now once more, but not for ever. */
static void
run_timers(World *w)
{
  for (int round = 0; tm_hearing_next_deadline(w->hearing) <= w->now; round++) {
    check(round < 4);
    tm_hearing_handle_timeout(w->hearing, w->now);
    drain(w);
  }
}

/* ---- setting up ---- */

/* A publisher's offer has goog-remb, a receiver's transport-cc instead (as testimony-client's):
 * the relay then numbers what it sends it (TWCC_ID). */
static char *
browser_offer(const char *direction, int audio_pt, int video_pt)
{
  char hex[3 * TM_DTLS_FINGERPRINT_LEN + 1];
  tm_hex_colon(tm_dtls_identity_fingerprint(browser_identity), TM_DTLS_FINGERPRINT_LEN, hex);
  bool receives = strcmp(direction, "recvonly") == 0;
  g_autofree char *audio_fb = receives
    ? g_strdup_printf("a=extmap:%d %s\r\na=rtcp-fb:%d transport-cc\r\n", TWCC_ID, TM_TWCC_URI,
                      audio_pt)
    : g_strdup("");
  g_autofree char *video_fb = receives
    ? g_strdup_printf("a=extmap:%d %s\r\na=rtcp-fb:%d transport-cc\r\n", TWCC_ID, TM_TWCC_URI,
                      video_pt)
    : g_strdup_printf("a=rtcp-fb:%d goog-remb\r\na=extmap:%d %s\r\n", video_pt, ABS_SEND_ID,
                      TM_ABS_SEND_TIME_URI);
  return g_strdup_printf(
    "v=0\r\no=- 7 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
    "a=ice-ufrag:Fzq2\r\na=ice-pwd:0123456789abcdefghijklmn\r\n"
    "a=fingerprint:sha-256 %s\r\na=setup:actpass\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF %d %d\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=%s\r\na=rtcp-mux\r\n"
    "a=rtpmap:%d opus/48000/2\r\na=fmtp:%d minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:%d red/48000/2\r\na=fmtp:%d %d/%d\r\n%s"
    "m=video 9 UDP/TLS/RTP/SAVPF %d %d\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=%s\r\na=rtcp-mux\r\n"
    "a=rtpmap:%d VP8/90000\r\na=rtcp-fb:%d nack\r\na=rtcp-fb:%d nack pli\r\n"
    "a=rtcp-fb:%d ccm fir\r\n%s"
    "a=rtpmap:%d rtx/90000\r\na=fmtp:%d apt=%d\r\n",
    hex, audio_pt, audio_pt - RED_PT_OFFSET, direction, audio_pt, audio_pt,
    audio_pt - RED_PT_OFFSET, audio_pt - RED_PT_OFFSET, audio_pt, audio_pt, audio_fb, video_pt,
    video_pt + RTX_PT_OFFSET, direction, video_pt, video_pt, video_pt, video_pt, video_fb,
    video_pt + RTX_PT_OFFSET, video_pt + RTX_PT_OFFSET, video_pt);
}

static const char *const relay_candidates[] = {
  "candidate:1 1 udp 2130706431 192.0.2.1 20000 typ host",
};
static const TmIceParams relay_ice = { "rl4y", "relaypasswordrelaypassword", relay_candidates, 1 };

/* Opens P's connection from OFFER (publishing when FEED is NULL); NULL when refused. */
static TmPeer *
open_peer(World *w, TmParticipant *p, TmParticipant *feed, const TmSdp *offer, TmSdp *answer)
{
  TmHearingError he;
  TmSdpError se;
  return tm_hearing_open_peer(w->hearing, p, feed, offer, &relay_ice, answer, w->now, &he, &se);
}

/* A DTLS record in the clear: the browser's close_notify alert (RFC 6347 §4.1, RFC 5246 §7.2.1)
 * and, as the first datagram of a connection keyed from the first handshake, its stand-in for
 * the handshake. */
static const uint8_t close_notify[] = { 21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0 };

/* The keys from the first input's handshakes, for the next connections of the browser W->pub or
 * W->sub (B) and of the relay (the same keys the other way round). */
static void
preset_keys(World *w, const Browser *b)
{
  const TmSrtpKeys *k = &browser_keys[b == &w->sub];
  TmSrtpKeys relay = *k;
  memcpy(relay.local, k->remote, sizeof relay.local);
  memcpy(relay.remote, k->local, sizeof relay.remote);
  tm_dtls_fuzz_preset_keys(TM_DTLS_ROLE_CLIENT, k);
  tm_dtls_fuzz_preset_keys(TM_DTLS_ROLE_SERVER, &relay);
}

/* Connects browser B of participant P (to FEED, or publishing): with a real handshake on the
 * first input, with the keys it gave on the others. Whether it connected. */
static bool
browser_connect(World *w, Browser *b, TmParticipant *p, TmParticipant *feed)
{
  b->world = w;
  b->who = p;
  b->answer = &sdp_answers[b == &w->sub];
  g_autofree char *text = feed == NULL ? browser_offer("sendonly", PUB_AUDIO_PT, PUB_VIDEO_PT)
                                       : browser_offer("recvonly", SUB_AUDIO_PT, SUB_VIDEO_PT);
  check(tm_sdp_parse(text, strlen(text), &sdp_offer) == TM_SDP_OK);
  if (keys_known)
    preset_keys(w, b);
  b->peer = open_peer(w, p, feed, &sdp_offer, b->answer);
  check(b->peer != NULL);
  b->dtls =
    tm_dtls_new(browser_identity, TM_DTLS_ROLE_CLIENT, tm_dtls_identity_fingerprint(relay_identity),
                TM_DTLS_FINGERPRINT_LEN, &browser_dtls_listener, b);
  tm_dtls_start(b->dtls, w->now);
  if (keys_known)
    browser_send(b, close_notify, sizeof close_notify);
  drain(w);
  for (int t = 0; t < TM_TRACK_COUNT; t++) {
    b->ssrc[t] = 0x5eed0000u + (uint32_t) t;
    b->seq[t] = (uint16_t) (1000 * (t + 1));
    b->ts[t] = 90000u * (uint32_t) (t + 1);
  }
  if (b->srtp != NULL && b->peer != NULL && tm_peer_is_connected(b->peer))
    return true;
  fprintf(stderr, "fuzz-peer: the %s's set-up handshake: browser %s, relay %s\n",
          feed == NULL ? "publisher" : "receiver", tm_dtls_strerror(b->dtls_error),
          w->relay_failure[0] != '\0' ? w->relay_failure : "no failure");
  return false;
}

/* Whether both browsers connected. */
static bool
world_init(World *w, uint8_t setup)
{
  memset(w, 0, sizeof *w);
  g_random_set_seed(20260915);
  w->now = 10 * G_USEC_PER_SEC;
  g_queue_init(&w->queue);
  w->failed = g_ptr_array_new();
  int64_t wall_offset = INT64_C(1750000000) * G_USEC_PER_SEC;
  /* The relay's SSRCs and offsets from one generator, re-seeded per input. */
  static GRand *relay_rand;
  if (relay_rand == NULL)
    relay_rand = g_rand_new();
  g_rand_set_seed(relay_rand, 20260915);
  TmHearingConfig cfg = { "h-fuzz", "C-0001",   relay_identity, wall_offset, (setup & 0x80) != 0,
                          0,        relay_rand, false };
  w->hearing = tm_hearing_new(&cfg, &relay_listener, w);
  TmHearingError he;
  TmRole pub_role = (TmRole) (setup & 7);
  TmRole sub_role = setup & 0x40 ? TM_ROLE_OBSERVER : (TmRole) ((setup >> 3) & 7);
  TmParticipant *pub = tm_hearing_join(w->hearing, "Publisher", pub_role, w->now, &he);
  TmParticipant *sub = tm_hearing_join(w->hearing, "Receiver", sub_role, w->now, &he);
  check(pub != NULL && sub != NULL);
  return browser_connect(w, &w->pub, pub, NULL) && browser_connect(w, &w->sub, sub, pub);
}

static void
browser_clear(Browser *b)
{
  tm_dtls_free(b->dtls);
  tm_srtp_free(b->srtp);
}

static void
world_clear(World *w)
{
  tm_hearing_free(w->hearing);
  Datagram *d;
  while ((d = g_queue_pop_head(&w->queue)) != NULL)
    g_free(d);
  g_ptr_array_unref(w->failed);
  browser_clear(&w->pub);
  browser_clear(&w->sub);
}

/* ---- operations ---- */

static void
op_media(World *w, const uint8_t *b, size_t n)
{
  Browser *pub = &w->pub;
  uint8_t flags = n > 0 ? b[0] : 0;
  int step = n > 1 ? (int8_t) b[1] : 1;
  size_t skip = MIN(n, 2);
  TmTrack t = flags & 1 ? TM_TRACK_VIDEO : TM_TRACK_AUDIO;
  uint8_t pt = t == TM_TRACK_VIDEO ? PUB_VIDEO_PT
    : flags & 16                   ? PUB_AUDIO_PT - RED_PT_OFFSET
                                   : PUB_AUDIO_PT;
  if ((flags & 8) && n > 2) {
    pt = b[2] & 0x7f;
    skip = 3;
  }
  uint8_t ext[4] = { ABS_SEND_ID << 4 | 2 }; /* one-byte form: ID, length - 1, 3 bytes */
  bool abs_send = (flags & 32) && n >= skip + 3;
  if (abs_send) {
    memcpy(ext + 1, b + skip, 3);
    skip += 3;
  }
  if (flags & 4)
    pub->ssrc[t] += 0x10001;
  pub->seq[t] = (uint16_t) (pub->seq[t] + step);
  pub->ts[t] += (uint32_t) (step * (t == TM_TRACK_VIDEO ? 3000 : 960));
  TmRtpPacket p = { .marker = (flags & 2) != 0,
                    .pt = pt,
                    .seq = pub->seq[t],
                    .ts = pub->ts[t],
                    .ssrc = pub->ssrc[t],
                    .payload = b + skip,
                    .payload_len = n - skip,
                    .extension = abs_send,
                    .ext_profile = 0xBEDE,
                    .ext = ext,
                    .ext_len = abs_send ? sizeof ext : 0 };
  uint8_t buf[BUF_SIZE];
  size_t len = tm_rtp_serialize(&p, buf, sizeof buf - TM_SRTP_MAX_TRAILER, NULL);
  if (len > 0)
    browser_send_protected(pub, buf, len, false);
}

static uint32_t
chosen_ssrc(const Browser *sub, uint8_t choice)
{
  for (guint i = 0; i < sub->answer->n_media && choice < 2; i++) {
    const TmSdpMedia *m = &sub->answer->media[i];
    if (m->n_ssrcs > 0 && m->kind == (choice == 0 ? TM_MEDIA_VIDEO : TM_MEDIA_AUDIO))
      return m->ssrcs[0];
  }
  return 0x0bad55c0;
}

static void
op_feedback(World *w, const uint8_t *b, size_t n)
{
  Browser *sub = &w->sub;
  if (n < 2)
    return;
  static TmRtcpPacket pkt; /* large: not on the stack */
  memset(&pkt, 0, sizeof pkt);
  pkt.sender_ssrc = sub->ssrc[TM_TRACK_AUDIO];
  pkt.media_ssrc = chosen_ssrc(sub, b[1] % 3);
  const uint8_t *items = b + 2;
  size_t n_items = (n - 2) / 3;
  switch (b[0] % 6) {
  case 0:
    pkt.kind = TM_RTCP_KIND_NACK;
    for (size_t i = 0; i < n_items && pkt.n_nacks < TM_RTCP_MAX_NACK; i++) {
      const uint8_t *it = items + 3 * i;
      uint16_t pid = (uint16_t) (sub->highest_video - it[0]);
      pkt.nacks[pkt.n_nacks++] = (TmRtcpNackItem){ pid, (uint16_t) (it[1] << 8 | it[2]) };
    }
    break;
  case 1: pkt.kind = TM_RTCP_KIND_PLI; break;
  case 2:
    pkt.kind = TM_RTCP_KIND_FIR;
    pkt.n_firs = 1;
    pkt.firs[0] = (TmRtcpFirItem){ pkt.media_ssrc, n > 2 ? b[2] : 0 };
    pkt.media_ssrc = 0;
    break;
  case 3:
    pkt.kind = TM_RTCP_KIND_RR;
    for (size_t i = 0; i < n_items && pkt.n_blocks < TM_RTCP_MAX_BLOCKS; i++) {
      const uint8_t *it = items + 3 * i;
      pkt.blocks[pkt.n_blocks++] = (TmRtcpReportBlock){ .ssrc = chosen_ssrc(sub, it[0] % 3),
                                                        .fraction_lost = it[1],
                                                        .highest_seq = sub->highest_video,
                                                        .lsr = it[2] & 1 ? sub->last_sr_mid : 0,
                                                        .dlsr = (uint32_t) it[2] << 10 };
    }
    break;
  case 4: { /* transport-cc: for each item [back from the newest number][¼ ms later][kept] */
    static TmTwcc twcc;
    tm_twcc_init(&twcc);
    int64_t at = w->now;
    for (size_t i = 0; i < n_items; i++) {
      const uint8_t *it = items + 3 * i;
      at += it[1] * 250;
      if (it[2] & 1)
        tm_twcc_on_packet(&twcc, (uint16_t) (sub->highest_tseq - it[0]), at);
    }
    uint8_t fb[TM_TWCC_MAX_FEEDBACK];
    size_t len = tm_twcc_build(&twcc, pkt.sender_ssrc, pkt.media_ssrc, at, fb, sizeof fb);
    if (len > 0)
      browser_send_copy(sub, fb, len, true);
    return;
  }
  default:
    pkt.kind = TM_RTCP_KIND_REMB;
    pkt.remb_bitrate = (uint64_t) b[1] << 14;
    pkt.n_remb_ssrcs = 1;
    pkt.remb_ssrcs[0] = pkt.media_ssrc;
    pkt.media_ssrc = 0;
    break;
  }
  browser_send_rtcp(sub, &pkt);
}

static void
op_raw(World *w, const uint8_t *b, size_t n)
{
  if (n == 0)
    return;
  TmPeer *to[] = { w->pub.peer, w->sub.peer, w->extra };
  TmPeer *peer = to[b[0] % 3];
  if (peer != NULL)
    tm_hearing_handle_datagram(w->hearing, peer, b + 1, n - 1, w->now);
}

static void
op_time(World *w, const uint8_t *b, size_t n)
{
  int64_t ms = n >= 2 ? (b[0] << 8 | b[1]) : n == 1 ? b[0] : 20;
  w->now += ms * 1000;
  run_timers(w);
}

static void
op_control(World *w, const uint8_t *b, size_t n)
{
  TmParticipant *pub = w->pub.who, *sub = w->sub.who;
  TmHearing *h = w->hearing;
  uint8_t what = n > 0 ? b[0] : 0;
  bool on = (what & 0x80) != 0;
  TmParticipant *p = what & 0x40 ? sub : pub;
  TmTrack track = what & 0x20 ? TM_TRACK_VIDEO : TM_TRACK_AUDIO;
  switch (what & 0x1f) {
  case 0:
    if (p != NULL)
      tm_hearing_set_state(h, p, on ? TM_STATE_WAITING : TM_STATE_ADMITTED, w->now);
    break;
  case 1:
    if (p != NULL)
      tm_hearing_set_muted(h, p, track, on, w->now);
    break;
  case 2: tm_hearing_set_measure(h, TM_MEASURE_SCREEN_WITNESS, on, w->now); break;
  case 3: tm_hearing_request_keyframes(h, w->now); break;
  case 4:
    if (pub != NULL && sub != NULL)
      tm_hearing_close_subscription(h, sub, pub);
    break;
  case 5: leave(w, p); break;
  case 6: /* the browser closes DTLS: its close_notify, as the keyed connections never shook
           * hands (OpenSSL takes it in the clear as well) */
    browser_send(what & 0x40 ? &w->sub : &w->pub, close_notify, sizeof close_notify);
    break;
  case 7: w->sub.lose_rtp = 1 + (what >> 5); break;
  default: break;
  }
}

static void
op_replay(World *w, const uint8_t *b, size_t n)
{
  Browser *from = n > 0 && (b[0] & 1) ? &w->sub : &w->pub;
  if (from->last_len == 0)
    return;
  uint8_t buf[BUF_SIZE];
  size_t len = from->last_len;
  memcpy(buf, from->last, len);
  if (n >= 3)
    buf[b[1] % len] ^= b[2];
  browser_send(from, buf, len);
}

static void
op_offer(World *w, const uint8_t *b, size_t n)
{
  if (tm_sdp_parse((const char *) b, n, &sdp_offer) != TM_SDP_OK)
    return;
  TmHearingError he;
  TmParticipant *p = tm_hearing_join(w->hearing, "Extra", TM_ROLE_CLERK, w->now, &he);
  if (p == NULL)
    return;
  TmPeer *peer = open_peer(w, p, n % 2 ? w->pub.who : NULL, &sdp_offer, &sdp_answer);
  if (peer != NULL)
    w->extra = peer;
}

typedef void (*OpFunc)(World *w, const uint8_t *b, size_t n);

static void
op_rtp(World *w, const uint8_t *b, size_t n)
{
  browser_send_copy(&w->pub, b, n, false);
}

static void
op_rtcp_pub(World *w, const uint8_t *b, size_t n)
{
  browser_send_copy(&w->pub, b, n, true);
}

static void
op_rtcp_sub(World *w, const uint8_t *b, size_t n)
{
  browser_send_copy(&w->sub, b, n, true);
}

static const OpFunc ops[OP_COUNT] = {
  [OP_MEDIA] = op_media,       [OP_RTP] = op_rtp,           [OP_RTCP_PUB] = op_rtcp_pub,
  [OP_RTCP_SUB] = op_rtcp_sub, [OP_FEEDBACK] = op_feedback, [OP_RAW] = op_raw,
  [OP_TIME] = op_time,         [OP_CONTROL] = op_control,   [OP_REPLAY] = op_replay,
  [OP_OFFER] = op_offer,
};

/* Once per process: the identities, and the two real handshakes whose keys every input uses. */
static void
set_up(void)
{
  relay_identity = tm_dtls_identity_new(1750000000);
  browser_identity = tm_dtls_identity_new(1750000000);
  TmSrtpKeys keys = { .profile = TM_SRTP_PROFILE_AEAD_AES_128_GCM, .key_len = 16, .salt_len = 12 };
  TmSrtpError err;
  fuzz_peer_nss_keeper = tm_srtp_new(&keys, &err);
  /* OpenSSL times its retransmissions by the real clock: a handshake held up for over a second
   * (a loaded machine, sanitizers) may retransmit and, rarely, fail; the next try is fresh. */
  for (int attempt = 0; !keys_known; attempt++) {
    check(attempt < 5);
    World w;
    keys_known = world_init(&w, 0);
    world_clear(&w);
  }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (!keys_known)
    set_up();
  World w;
  check(world_init(&w, size > 0 ? data[0] : 0));
  TmReader r;
  tm_reader_init(&r, data, size);
  tm_reader_skip(&r, 1);
  while (tm_reader_remaining(&r) >= 3) {
    uint8_t op = tm_reader_u8(&r);
    size_t n = tm_reader_u16(&r);
    n = MIN(n, tm_reader_remaining(&r));
    const uint8_t *b = tm_reader_bytes(&r, n);
    ops[op % OP_COUNT](&w, b, n);
    drain(&w);
  }
  world_clear(&w);
  return 0;
}
