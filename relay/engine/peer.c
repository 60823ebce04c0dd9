/* peer.c — one WebRTC connection: DTLS-SRTP, RTP in and out, RTCP per hop. */
#include "peer.h"

#include <math.h>
#include <string.h>

#include "bwe.h"
#include "red.h"
#include "rtcp.h"
#include "srtp.h"
#include "twcc.h"
#include "util.h"

#define BUF_CAP (TM_RTP_MAX_PACKET + TM_SRTP_MAX_TRAILER + 64)
#define MAX_NACK_BATCH 32    /* a larger gap is better healed by a key frame */
#define MAX_PENDING_NACKS 64 /* losses upstream we keep asking for */
/* Asking again: after 1.5 round trips and 10 ms (the retransmission's own way back and the
 * sender's reaction), within these bounds; without a round-trip time yet, after the default. */
#define NACK_RETRY_DEFAULT_US 100000
#define NACK_RETRY_MIN_US 20000
#define NACK_RETRY_MAX_US 500000
#define NACK_TRIES 8            /* then give up on that packet ... */
#define NACK_MAX_AGE_US 1500000 /* ... or once it is missing this long: a key frame heals better */
#define RTT_HINT_MAX_MS 10000.0
/* REMB: with every receiver report (once a second), and at once when the estimate falls by more
 * than 3 % below the last one sent, at most 4 a second. */
#define REMB_PROMPT_DROP 0.97
#define REMB_PROMPT_RATE 4.0
/* A sender's overshoot of the REMB it is told (REMB caps its encoders; headers, retransmissions
 * and RED come on top), learnt while it sends all it is told, and allowed for in what it is
 * told. */
#define OVERSHOOT_MAX 1.3
#define OVERSHOOT_USES 0.95   /* it sends all it is told when this much of it arrives */
#define OVERSHOOT_STEADY 0.10 /* ... and what it is told moved less than this since the last look */
#define OVERSHOOT_GAIN 0.2
/* A receiver's report or REMB older than this no longer limits what its sender is told. */
#define RECEIVER_ESTIMATE_STALE_US 5000000
/* A receiver whose reports stopped for this long while its link is up (the shell marks a
 * participant whose link is down away within 5 s: tm_hearing update_downstream_limit) is not getting its
 * feedback through (a congested uplink): what it can take is halved, and halved again each
 * second more, down to TM_BWE_MIN_BPS. Clients report about once a second. */
#define LOSS_WINDOW_US 500000 /* receivers' reported loss, taken together over at least this */
/* transport-cc feedback comes ten times a second: its loss goes to the rule once a second, as
 * the receiver reports the loss rule was made for (GCC §6) */
#define TWCC_LOSS_WINDOW_US 1000000
#define KEYFRAME_HOLDOFF_MAX_US 2000000 /* even a key frame too large for its link: 2 s */
#define RECEIVER_SILENT_US 5000000
#define RECEIVER_SILENT_HALVING_US 1000000
/* Retransmissions to a receiver: a packet is sent again at most once a round trip of that
 * receiver (a jitter buffer that asks again sooner, before the first copy could arrive, gets
 * nothing more), and all of them take at most half of what the receiver's link is estimated
 * to take, at least 64 kbit/s (4 Mbit/s while nothing is known), in bursts of a second's worth,
 * so that on a congested link retransmissions do not crowd out the stream they repair
 * (docs/poor-networks.md). A quarter in bursts of a quarter second held back 357-586 of the
 * packets the witness asked for a minute at 10 % bursty loss, where the loss-based estimate
 * sits near 300-500 kbit/s, and its picture of the judge froze 10-12 times a minute. */
#define RTX_REPEAT_DEFAULT_US 100000
#define RTX_REPEAT_MIN_US 20000
#define COPY_MIN_US 20000 /* copy_after_us */
#define RTX_REPEAT_MAX_US 500000
#define RTX_SHARE 0.5
#define RTX_FLOOR_BPS 64000.0
#define RTX_UNKNOWN_BPS 4000000.0
#define RTX_BURST_S 1.0
/* A receiver's transport-cc feedback that reports a video packet lost (its latest copy) has it
 * sent again at once, without waiting for the receiver's NACK: at 10 % loss each way a NACK is
 * lost one time in ten, a try that costs the receiver a round trip and its retry wait; the
 * feedback is a second way for the same news. At most this many times a packet, not for a
 * packet first sent longer ago than any receiver waits (1 s: client/playout.h, web/js/peers.js),
 * and not while the link's losses look like congestion (tm_bwe_congested): at the 1 Mbit/s ->
 * 300 kbit/s step the copies took the retransmission budget from what the receiver asked for
 * (3-100 times more requests refused over it). */
#define RTX_REPORTED_MAX 3
#define RTX_REPORTED_MAX_AGE_US 1000000
/* Redundant sound to a receiver that negotiated RED (red.h): each packet carries the one before
 * it, and the two before it while the receiver reports RED_DEEPER_LOSS or more of our packets
 * lost (a burst of two then costs nothing; the sound's rate is tripled, a few dozen kbit/s). */
#define RED_DEPTH_MAX 2
#define RED_DEEPER_LOSS 0.02
/* Video held back from a receiver whose link is full (congestion_update): when its own
 * transport-cc feedback shows a standing or growing queue and the feed comes at more than
 * CONGESTION_OVER times what it can take. Until the feed has come down to what it can take
 * (the publisher follows the REMB, which this receiver's estimate limits) or at most
 * CONGESTION_PAUSE_MAX_US, only its sound goes; then the next key frame. Not again within
 * CONGESTION_REST_US of the last, so a publisher that cannot come down costs the receiver at
 * most that share of its picture. On a 300 kbit/s link, key frames, retransmissions and the
 * receivers' requests for more key frames kept a witness's picture of the judge frozen 4-12 s
 * after the link stepped down, the judge's encoder at its new rate within 2 s
 * (docs/poor-networks.md). */
#define CONGESTION_CHECK_US 100000
#define CONGESTION_OVER 1.5
#define CONGESTION_PAUSE_MAX_US 2000000
#define CONGESTION_REST_US 10000000

typedef struct {
  uint64_t ext;     /* extended sequence number missing */
  int64_t first_us; /* when the gap was seen */
  int64_t next_us;  /* when to ask (again), or to send ECHO */
  int64_t retry_us; /* while ECHO: when to ask again after it */
  uint8_t tries;
  bool echo; /* a copy of the last request is due at NEXT_US (copy_after_us) */
} PendingNack;

typedef struct {
  bool active;
  uint32_t ssrc;
  uint32_t clock_rate;
  uint64_t base_ext_seq;
  uint64_t max_ext_seq;
  uint64_t received;
  uint64_t repaired; /* of those, packets NACK brought back */
  uint64_t expected_prior;
  uint64_t received_prior;
  uint64_t repaired_prior;
  double jitter; /* RFC 3550 §6.4.1, in timestamp units */
  int64_t last_transit;
  bool have_transit;
  uint32_t last_sr_mid; /* middle 32 bits of the last SR's NTP time */
  int64_t last_sr_recv_us;
  uint8_t fraction_lost;
  uint32_t lost_cumulative;
  PendingNack pending[MAX_PENDING_NACKS]; /* video: what we asked the sender to resend */
  unsigned n_pending;
  uint64_t seen; /* bit i: packet max_ext_seq - i has arrived (or was restored from RED) */
} InStream;

/* A video packet sent to this receiver: where its original is kept (the publisher's store)
 * and how its header was rewritten, so that it can be sent again as it was. */
typedef struct {
  uint32_t index;       /* in the store; 0: none */
  uint16_t seq;         /* as sent */
  uint32_t ts_offset;   /* as sent: timestamp minus the original's */
  int64_t sent_us;      /* when it was first sent */
  int64_t resent_us;    /* when it was last sent again for a NACK or a loss report, 0: never */
  int64_t last_copy_us; /* when its last copy went, whatever the reason */
  bool arrived;         /* transport-cc feedback said a copy arrived */
  uint8_t reported;     /* times sent again on a loss report (RTX_REPORTED_MAX) */
} SentSlot;

/* An earlier sound packet's payload, to send again inside a later one (RED_DEPTH_MAX). */
typedef struct {
  bool have;
  uint16_t seq; /* the source's numbering */
  uint32_t ts;
  uint16_t len;
  uint8_t data[TM_RED_MAX_BLOCK_LEN];
} RedPrev;

/* A copy of a retransmission still to be sent (copy_after_us). */
typedef struct {
  uint16_t seq;
  int64_t due_us;
} RtxEcho;
#define MAX_RTX_ECHOES 32

typedef struct {
  uint32_t ssrc;
  uint8_t pt;
  uint32_t clock_rate;
  bool negotiated;
  bool started;
  bool disabled;  /* by policy */
  bool hidden;    /* video the receiver does not show */
  bool congested; /* video held back while the receiver's link is full (congestion_update) */
  int64_t congested_since_us;
  int64_t congestion_rest_us; /* no new hold before this */
  bool resync;                /* continue seq/ts after a pause */
  bool need_keyframe;
  uint16_t last_seq;
  uint16_t seq_offset;
  uint32_t ts_offset;
  uint32_t last_ts;
  int64_t last_send_us;
  uint32_t packets;
  uint32_t octets;
  SentSlot *sent;                 /* TM_PEER_RTX_SLOTS, video only */
  RtxEcho echoes[MAX_RTX_ECHOES]; /* due in this order */
  unsigned n_echoes;
  TmRtxStore *store; /* where the originals of SENT are kept */
  bool rtx_stream;   /* retransmissions go as RTX (RFC 4588) on RTX_SSRC, else as sent */
  uint32_t rtx_ssrc;
  uint16_t rtx_seq;  /* the RTX stream's own sequence numbers */
  RedPrev *red_prev; /* sound with RED: the last RED_DEPTH_MAX payloads sent */
} OutStream;

struct _TmPeer {
  TmPeerKind kind;
  GRand *rand;
  TmPeerListener listener;
  void *user_data;
  void *data;
  TmDtls *dtls;
  TmSrtp *srtp;
  TmSrtpProfile profile;
  bool connected;
  bool failed;
  int64_t wall_offset_us;
  uint32_t rtcp_ssrc;
  uint8_t pt_for[TM_TRACK_COUNT]; /* negotiated payload types; 255 = none */
  uint32_t clock_for[TM_TRACK_COUNT];
  uint8_t rtx_pt;                /* video RTX payload type negotiated; 255 = none */
  uint8_t red_pt;                /* audio RED payload type negotiated (red.h); 255 = none */
  uint8_t twcc_id;               /* transport-wide sequence number's extension ID; 0: none */
  uint8_t abs_send_id;           /* abs-send-time's (a publisher's); 0: none */
  TmAbsSendClock abs_send_clock; /* its values unwrapped */
  TmTwcc *twcc;                  /* publish: arrivals to report (transport-cc); NULL: none */
  TmTwccSender *twcc_send;       /* subscribe: what we sent, for its feedback; NULL: none */
  bool twcc_heard;               /* subscribe: its feedback came: the rate is what arrived */
  TmRate offered;                /* subscribe: what the feed brings, sent on or not */
  int64_t congestion_check_us;   /* subscribe: the next congestion_update */
  double srtt_ms;                /* publish: smoothed round-trip time from the hint; 0 = none */
  double rttvar_ms;              /* publish: and its mean deviation (RFC 6298) */
  TmBwe bwe;                     /* publish: what arrives; subscribe: what we send */
  uint64_t downstream_limit_bps; /* publish: the least the receivers can take; 0 = none */
  uint64_t remb_sent_bps;        /* publish: the last estimate sent */
  uint64_t remb_told_bps;        /* publish: what that REMB said (the estimate / overshoot) */
  uint64_t overshoot_told_bps;   /* publish: what it said at the last look at the overshoot */
  double overshoot;              /* publish: what arrives / what it is told, >= 1 */
  TmTokenBucket remb_bucket;     /* publish: prompt REMBs */
  uint64_t receiver_remb_bps;    /* subscribe: the receiver's own REMB ... */
  int64_t receiver_remb_us;      /* ... and when it came */
  int64_t receiver_report_us;    /* subscribe: the receiver's last report on our video */
  struct {                       /* subscribe: transport-cc's count since START_US */
    int64_t start_us;            /* 0: no feedback yet */
    uint64_t acked, lost;        /* the sender's counts then */
    uint64_t acked_kind[TM_TWCC_KINDS], lost_kind[TM_TWCC_KINDS];
  } twcc_window;
  struct {            /* subscribe: loss reported since START_US */
    int64_t start_us; /* 0: no report yet */
    int32_t lost;     /* the cumulative count then ... */
    uint32_t highest; /* ... and the highest sequence number */
  } loss_window;
  InStream in[TM_TRACK_COUNT];
  OutStream out[TM_TRACK_COUNT];
  int64_t next_report_us;
  uint64_t bytes_at_last_report;
  int64_t last_report_us;
  TmTokenBucket keyframe_bucket; /* our requests upstream */
  int64_t keyframe_hold_us;      /* publish: no request before this (keyframe_holdoff_us) */
  bool in_keyframe;              /* publish: the key frame at KEYFRAME_TS is arriving ... */
  uint32_t keyframe_ts;
  size_t keyframe_bytes;      /* ... this much of it so far */
  size_t last_keyframe_bytes; /* publish: the last whole key frame's size; 0: none yet */
  bool asked_keyframe;        /* subscribe: asked for the first key frame once ICE was up */
  TmTokenBucket rtx_bucket;   /* NACK answers, packets */
  TmTokenBucket rtx_bytes;    /* NACK answers, bytes: a share of what the receiver takes */
  TmTokenBucket nack_bucket;  /* our NACKs upstream */
  /* publish: the longest a repaired packet took (from its gap) in the window that began at
   * REPAIR_WINDOW_US and in the one before it (tm_peer_recent_repair_us) */
  int64_t repair_window_us;
  int64_t repair_longest_us[2];
  uint8_t fir_seq;
  TmPeerStats stats;
};

/* ---- DTLS listener ---- */

static void
dtls_transmit(void *ud, const uint8_t *buf, size_t len)
{
  TmPeer *p = ud;
  p->listener.transmit(p->user_data, p, buf, len);
}

static void rtt_sample(TmPeer *p, double rtt_ms);

static void
dtls_connected(void *ud, const TmSrtpKeys *keys)
{
  TmPeer *p = ud;
  TmSrtpError err;
  p->srtp = tm_srtp_new(keys, &err);
  if (p->srtp == NULL) {
    p->failed = true;
    p->listener.failed(p->user_data, p, tm_srtp_strerror(err));
    return;
  }
  p->profile = keys->profile;
  p->connected = true;
  /* The handshake's round trip is the first one known, before any media: a receiver can be
   * told how long its repairs take before its first picture, and a publisher's first lost
   * packets are asked for again in its time. Later figures (reports, NACKs) take over. */
  double rtt_ms = tm_dtls_rtt_ms(p->dtls);
  p->stats.handshake_rtt_ms = rtt_ms;
  if (p->kind == TM_PEER_PUBLISH)
    rtt_sample(p, rtt_ms);
  else if (!(p->stats.rtt_ms > 0) && rtt_ms > 0)
    p->stats.rtt_ms = rtt_ms;
  p->listener.connected(p->user_data, p);
}

static void
dtls_failed(void *ud, TmDtlsError err)
{
  TmPeer *p = ud;
  if (p->failed)
    return;
  p->failed = true;
  p->connected = false;
  p->listener.failed(p->user_data, p, tm_dtls_strerror(err));
}

static const TmDtlsListener dtls_listener = { dtls_transmit, dtls_connected, dtls_failed };

/* ---- construction ---- */

/* SSRCs and offsets come from the caller's generator when it gives one (a seeded simulation
 * replays exactly). */
static uint32_t
draw(TmPeer *p)
{
  return p->rand != NULL ? g_rand_int(p->rand) : g_random_int();
}

/* The media codec of an answered section: the first that is not RED or RTX (a publisher's
 * answer lists RED first, tm_sdp_answer). */
static const TmSdpCodec *
media_codec(const TmSdpMedia *m)
{
  for (guint i = 0; i < MIN(m->n_codecs, TM_SDP_MAX_CODECS); i++)
    if (g_ascii_strcasecmp(m->codecs[i].name, "red") != 0 &&
        g_ascii_strcasecmp(m->codecs[i].name, "rtx") != 0)
      return &m->codecs[i];
  return NULL;
}

static void
read_answer(TmPeer *p, const TmSdp *answer)
{
  p->pt_for[TM_TRACK_AUDIO] = p->pt_for[TM_TRACK_VIDEO] = 255;
  p->rtx_pt = p->red_pt = 255;
  for (guint i = 0; i < answer->n_media; i++) {
    const TmSdpMedia *m = &answer->media[i];
    if (m->port == 0 || m->n_codecs == 0)
      continue;
    TmTrack t;
    if (m->kind == TM_MEDIA_AUDIO)
      t = TM_TRACK_AUDIO;
    else if (m->kind == TM_MEDIA_VIDEO)
      t = TM_TRACK_VIDEO;
    else
      continue;
    if (p->pt_for[t] != 255)
      continue; /* one stream per kind */
    const TmSdpCodec *codec = media_codec(m);
    if (codec == NULL)
      continue;
    p->pt_for[t] = codec->pt;
    p->clock_for[t] = codec->clock_rate;
    if (p->kind == TM_PEER_PUBLISH && m->twcc_id != 0 && p->twcc_id == 0) {
      p->twcc_id = m->twcc_id;
      p->twcc = g_new(TmTwcc, 1);
      tm_twcc_init(p->twcc);
    }
    if (p->kind == TM_PEER_PUBLISH && m->abs_send_time_id != 0 && p->abs_send_id == 0)
      p->abs_send_id = m->abs_send_time_id;
    if (p->kind == TM_PEER_SUBSCRIBE && m->twcc_id != 0 && p->twcc_id == 0) {
      p->twcc_id = m->twcc_id;
      p->twcc_send = g_new(TmTwccSender, 1);
      tm_twcc_sender_init(p->twcc_send, (uint16_t) draw(p));
    }
    OutStream *o = &p->out[t];
    o->pt = codec->pt;
    o->clock_rate = codec->clock_rate;
    o->ssrc = m->n_ssrcs > 0 ? m->ssrcs[0] : draw(p);
    o->negotiated = true;
    o->need_keyframe = t == TM_TRACK_VIDEO;
    if (t != TM_TRACK_VIDEO) {
      const TmSdpCodec *red = tm_sdp_media_find_red(m, codec);
      if (red != NULL) {
        p->red_pt = red->pt;
        if (p->kind == TM_PEER_SUBSCRIBE)
          o->red_prev = g_new0(RedPrev, RED_DEPTH_MAX);
      }
      continue;
    }
    const TmSdpCodec *rtx = tm_sdp_media_find_rtx(m, codec);
    if (rtx != NULL)
      p->rtx_pt = rtx->pt;
    if (p->kind != TM_PEER_SUBSCRIBE)
      continue;
    o->sent = g_new0(SentSlot, TM_PEER_RTX_SLOTS);
    if (rtx != NULL && m->has_fid && m->fid_ssrcs[0] == o->ssrc) {
      o->rtx_stream = true;
      o->rtx_ssrc = m->fid_ssrcs[1];
      o->rtx_seq = (uint16_t) draw(p);
    }
  }
}

TmPeer *
tm_peer_new(const TmPeerConfig *config, const TmPeerListener *listener, void *user_data,
            int64_t now_us)
{
  TmPeer *p = g_new0(TmPeer, 1);
  p->stats.queue_ms = -1; /* not known until the delay shows it */
  p->kind = config->kind;
  p->listener = *listener;
  p->user_data = user_data;
  p->wall_offset_us = config->wall_offset_us;
  p->rand = config->rand;
  p->rtcp_ssrc = config->cname_hash ^ draw(p);
  read_answer(p, config->answer);
  p->next_report_us = now_us + TM_PEER_REPORT_INTERVAL_US;
  p->last_report_us = now_us;
  tm_token_bucket_init(&p->keyframe_bucket, 3.0, 1.0, now_us);
  tm_token_bucket_init(&p->rtx_bucket, 500.0, 200.0, now_us);
  tm_token_bucket_init(&p->rtx_bytes, RTX_UNKNOWN_BPS / 8.0, RTX_UNKNOWN_BPS / 8.0 * RTX_BURST_S,
                       now_us);
  tm_token_bucket_init(&p->nack_bucket, 50.0, 20.0, now_us);
  p->repair_window_us = now_us;
  tm_token_bucket_init(&p->remb_bucket, REMB_PROMPT_RATE, 2.0, now_us);
  p->overshoot = 1.0;
  tm_bwe_init(&p->bwe);
  p->dtls = tm_dtls_new(config->identity, TM_DTLS_ROLE_SERVER, config->remote_fingerprint,
                        config->remote_fingerprint_len, &dtls_listener, p);
  tm_dtls_start(p->dtls, now_us);
  return p;
}

void
tm_peer_free(TmPeer *p)
{
  if (p == NULL)
    return;
  for (int t = 0; t < TM_TRACK_COUNT; t++) {
    g_free(p->out[t].sent);
    g_free(p->out[t].red_prev);
    tm_rtx_store_unref(p->out[t].store);
  }
  tm_dtls_free(p->dtls);
  tm_srtp_free(p->srtp);
  g_free(p->twcc);
  g_free(p->twcc_send);
  g_free(p);
}

/* ---- sending ---- */

static void
send_rtcp(TmPeer *p, uint8_t *buf, size_t len)
{
  if (!p->connected)
    return;
  if (tm_srtp_protect_rtcp(p->srtp, buf, &len, BUF_CAP) != TM_SRTP_OK)
    return;
  p->stats.rtcp_out++;
  p->listener.transmit(p->user_data, p, buf, len);
}

/* Appends one RTCP packet to the compound in W. */
static void
append_rtcp(TmWriter *w, const TmRtcpPacket *pkt)
{
  size_t n = tm_rtcp_serialize(pkt, w->data + w->pos, w->cap - w->pos, NULL);
  if (n == 0)
    w->err = true;
  w->pos += n;
}

/* Starts a feedback compound in W (over BUF): an empty receiver report first, as RFC 3550's
 * compounds begin (RFC 5506's reduced size is not assumed). */
static void
begin_feedback(TmPeer *p, TmWriter *w, uint8_t *buf)
{
  tm_writer_init(w, buf, TM_RTP_MAX_PACKET);
  TmRtcpPacket rr;
  memset(&rr, 0, sizeof rr);
  rr.kind = TM_RTCP_KIND_RR;
  rr.sender_ssrc = p->rtcp_ssrc;
  append_rtcp(w, &rr);
}

/* Sends one feedback message (NACK, PLI) in a compound packet that an empty receiver report
 * opens (RFC 4585 §3.1). */
static void
send_feedback(TmPeer *p, const TmRtcpPacket *fb)
{
  uint8_t buf[BUF_CAP];
  TmWriter w;
  begin_feedback(p, &w, buf);
  append_rtcp(&w, fb);
  if (!w.err)
    send_rtcp(p, buf, w.pos);
}

/* Transport-cc feedback about what arrived (twcc.h), each in a compound of its own; as many as
 * it takes, normally one. */
static void
send_twcc(TmPeer *p, int64_t now_us)
{
  const uint32_t media_ssrc =
    p->in[TM_TRACK_VIDEO].active ? p->in[TM_TRACK_VIDEO].ssrc : p->in[TM_TRACK_AUDIO].ssrc;
  for (int i = 0; i < 4 && tm_twcc_next_deadline(p->twcc) <= now_us; i++) {
    uint8_t buf[BUF_CAP];
    TmWriter w;
    begin_feedback(p, &w, buf);
    size_t n = tm_twcc_build(p->twcc, p->rtcp_ssrc, media_ssrc, now_us, buf + w.pos,
                             TM_RTP_MAX_PACKET - w.pos);
    if (n == 0 || w.err || !p->connected)
      return;
    p->stats.twcc_out++;
    send_rtcp(p, buf, w.pos + n);
  }
}

static uint64_t
ntp_from_us(int64_t wall_us)
{
  /* NTP era 0 starts 70 years (2208988800 s) before the UNIX epoch. */
  uint64_t secs = (uint64_t) (wall_us / 1000000) + 2208988800ull;
  uint64_t frac = (uint64_t) (wall_us % 1000000) * 4294967296ull / 1000000;
  return secs << 32 | frac;
}

/* A receiver that negotiated transport-cc gets every packet numbered (BUF, *LEN, a packet we
 * wrote, CAP its buffer's size): returns the number in *TSEQ, or FALSE when it has none. The
 * packet's bytes go to the estimate when its feedback says it arrived (on_twcc_arrival); until
 * the first feedback, as they are sent. */
static bool
number_packet(TmPeer *p, uint8_t *buf, size_t *len, size_t cap, uint16_t *tseq)
{
  if (p->twcc_send == NULL)
    return false;
  TmRtpPacket pkt;
  if (tm_rtp_parse(buf, *len, &pkt) != TM_RTP_OK)
    return false;
  *tseq = tm_twcc_sender_next(p->twcc_send);
  size_t n = tm_rtp_with_twcc(buf, *len, &pkt, p->twcc_id, *tseq, buf, cap);
  if (n == 0)
    return false;
  *len = n;
  return true;
}

/* BYTES of a packet numbered by number_packet (when NUMBERED) left at NOW_US; MEDIA_SEQ: the
 * video packet it carries (video and repairs). */
static void
count_sent(TmPeer *p, bool numbered, uint16_t tseq, size_t bytes, TmTwccKind kind,
           uint16_t media_seq, int64_t now_us)
{
  p->stats.bytes_out += bytes;
  if (numbered)
    tm_twcc_sender_sent(p->twcc_send, tseq, bytes, kind, media_seq, now_us);
  if (!p->twcc_heard)
    tm_bwe_on_packet(&p->bwe, bytes, 0, 0, now_us);
}

/* After a change to what holds TRACK back: when it flows again (it did not before), it continues
 * with the next sequence number and the time passed, and video waits for a key frame. */
static bool
restart_if_flowing(TmPeer *p, TmTrack track, bool was_flowing)
{
  OutStream *o = &p->out[track];
  if (was_flowing || !tm_peer_track_enabled(p, track))
    return false;
  o->resync = o->started;
  if (track == TM_TRACK_VIDEO)
    o->need_keyframe = true;
  return true;
}

/* Holds the video back while the receiver's link is full and the feed far above what it can
 * take; lets it go again (from the next key frame, asked for now) once the feed has come down,
 * or after CONGESTION_PAUSE_MAX_US. Only with the receiver's transport-cc feedback: a queue it
 * measured, not loss alone, which a lossy link has without being full. */
static void
congestion_update(TmPeer *p, int64_t now_us)
{
  OutStream *o = &p->out[TM_TRACK_VIDEO];
  if (now_us < p->congestion_check_us || !p->twcc_heard || !o->negotiated)
    return;
  p->congestion_check_us = now_us + CONGESTION_CHECK_US;
  uint64_t can_take = tm_peer_receiver_estimate(p, now_us);
  uint64_t offered = tm_rate_bps(&p->offered, now_us);
  if (!o->congested) {
    if (tm_bwe_overusing(&p->bwe) && can_take > 0 &&
        (double) offered > CONGESTION_OVER * (double) can_take && now_us >= o->congestion_rest_us) {
      o->congested = true;
      o->congested_since_us = now_us;
      p->stats.congestion_holds++;
    }
    return;
  }
  if (offered > can_take && now_us - o->congested_since_us < CONGESTION_PAUSE_MAX_US)
    return;
  o->congested = false;
  o->congestion_rest_us = now_us + CONGESTION_REST_US;
  if (restart_if_flowing(p, TM_TRACK_VIDEO, false))
    p->listener.keyframe_request(p->user_data, p, true, now_us);
}

/* Sound to a receiver that negotiated RED: into OUT, BUF's header (PKT; its padding dropped) and
 * a RED payload of the packet's own payload after the ones sent just before it (the source's
 * sequence numbers one back, and two while the receiver reports loss, RED_DEPTH_MAX), within
 * RED's 14-bit timestamp offset and the packet size; remembers the payload for the next ones.
 * Returns the length, 0 when not even the payload alone fits (then sent as it came). */
static size_t
red_packet(TmPeer *p, OutStream *o, const TmRtpPacket *pkt, const uint8_t *buf, uint8_t *out)
{
  unsigned depth = p->stats.fraction_lost >= RED_DEEPER_LOSS ? RED_DEPTH_MAX : 1;
  TmRedBlock blocks[RED_DEPTH_MAX];
  size_t nb = 0, n = 0;
  for (unsigned d = depth; d >= 1; d--) { /* oldest first */
    uint16_t seq = (uint16_t) (pkt->seq - d);
    const RedPrev *r = &o->red_prev[seq % RED_DEPTH_MAX];
    uint32_t offset = pkt->ts - r->ts;
    if (r->have && r->seq == seq && offset > 0 && offset <= TM_RED_MAX_TS_OFFSET)
      blocks[nb++] = (TmRedBlock){ o->pt, offset, r->data, r->len };
  }
  TmRedBlock primary = { o->pt, 0, pkt->payload, pkt->payload_len };
  memcpy(out, buf, pkt->header_len);
  out[0] &= (uint8_t) ~0x20;                          /* no padding */
  for (size_t skip = 0; skip <= nb && n == 0; skip++) /* too large: fewer earlier ones */
    n = tm_red_build(blocks + skip, nb - skip, &primary, out + pkt->header_len,
                     TM_RTP_MAX_PACKET - pkt->header_len);
  RedPrev *mine = &o->red_prev[pkt->seq % RED_DEPTH_MAX];
  mine->have = pkt->payload_len <= TM_RED_MAX_BLOCK_LEN;
  if (mine->have) {
    mine->seq = pkt->seq;
    mine->ts = pkt->ts;
    mine->len = (uint16_t) pkt->payload_len;
    memcpy(mine->data, pkt->payload, pkt->payload_len);
  }
  if (n == 0)
    return 0;
  p->stats.red_out++;
  return pkt->header_len + n;
}

bool
tm_peer_send_media(TmPeer *p, TmTrack track, const TmRtpPacket *pkt, const uint8_t *buf, size_t len,
                   const TmRtxKept *kept, int64_t now_us)
{
  OutStream *o = &p->out[track];
  if (p->kind != TM_PEER_SUBSCRIBE || !o->negotiated || len > TM_RTP_MAX_PACKET)
    return false;
  if (!p->connected) {
    p->stats.drop_not_ready++;
    return false;
  }
  if (o->disabled) {
    p->stats.drop_policy++;
    return false;
  }
  if (o->hidden) {
    p->stats.drop_not_shown++;
    return false;
  }
  tm_rate_add(&p->offered, len, now_us);
  congestion_update(p, now_us);
  if (o->congested) {
    p->stats.drop_congested++;
    return false;
  }
  if (o->need_keyframe) {
    if (!tm_vp8_is_keyframe(pkt->payload, pkt->payload_len)) {
      p->stats.drop_waiting_keyframe++;
      if (p->stats.drop_waiting_keyframe % 30 == 1)
        p->listener.keyframe_request(p->user_data, p, false, now_us);
      return false;
    }
    o->need_keyframe = false;
  }
  if (!o->started) {
    o->started = true;
    o->seq_offset = (uint16_t) (draw(p) - pkt->seq);
    o->ts_offset = draw(p) - pkt->ts;
  } else if (o->resync) {
    /* After a pause: the next sequence number, and the time that passed in RTP units. What
     * was sent before it is not sent again inside RED: its times have moved. */
    if (o->red_prev != NULL)
      memset(o->red_prev, 0, RED_DEPTH_MAX * sizeof *o->red_prev);
    uint32_t elapsed = (uint32_t) ((now_us - o->last_send_us) * (int64_t) o->clock_rate / 1000000);
    o->seq_offset = (uint16_t) (o->last_seq + 1 - pkt->seq);
    o->ts_offset = o->last_ts + MAX(elapsed, 1u) - pkt->ts;
  }
  o->resync = false;
  uint8_t out[BUF_CAP];
  size_t n = o->red_prev != NULL ? red_packet(p, o, pkt, buf, out) : 0;
  bool red = n > 0;
  uint32_t payload_len = (uint32_t) (red ? n - pkt->header_len : pkt->payload_len);
  if (!red) {
    memcpy(out, buf, len);
    n = len;
  }
  uint16_t seq = (uint16_t) (pkt->seq + o->seq_offset);
  uint32_t ts = pkt->ts + o->ts_offset;
  tm_rtp_rewrite(out, red ? p->red_pt : o->pt, seq, ts, o->ssrc);
  uint16_t tseq = 0;
  bool numbered = number_packet(p, out, &n, TM_RTP_MAX_PACKET + 8, &tseq);
  if (o->sent != NULL && kept != NULL) {
    if (o->store != kept->store) { /* a new stream: what was sent of the old one is gone */
      tm_rtx_store_unref(o->store);
      o->store = tm_rtx_store_ref(kept->store);
      memset(o->sent, 0, TM_PEER_RTX_SLOTS * sizeof *o->sent);
    }
    o->sent[seq % TM_PEER_RTX_SLOTS] = (SentSlot){ .index = kept->index,
                                                   .seq = seq,
                                                   .ts_offset = o->ts_offset,
                                                   .sent_us = now_us,
                                                   .last_copy_us = now_us };
  }
  o->last_ts = ts;
  o->last_seq = seq;
  o->last_send_us = now_us;
  o->packets++;
  o->octets += payload_len;
  if (tm_srtp_protect_rtp(p->srtp, out, &n, sizeof out) != TM_SRTP_OK) {
    p->stats.drop_srtp++;
    return false;
  }
  p->stats.rtp_out++;
  p->stats.rtp_out_track[track]++;
  count_sent(p, numbered, tseq, n, track == TM_TRACK_AUDIO ? TM_TWCC_AUDIO : TM_TWCC_VIDEO, seq,
             now_us);
  p->listener.transmit(p->user_data, p, out, n);
  return true;
}

bool
tm_peer_set_track_enabled(TmPeer *p, TmTrack track, bool enabled)
{
  OutStream *o = &p->out[track];
  if (p->kind != TM_PEER_SUBSCRIBE || !o->negotiated || o->disabled == !enabled)
    return false;
  bool was = tm_peer_track_enabled(p, track);
  o->disabled = !enabled;
  return restart_if_flowing(p, track, was);
}

bool
tm_peer_set_video_shown(TmPeer *p, bool shown)
{
  OutStream *o = &p->out[TM_TRACK_VIDEO];
  if (p->kind != TM_PEER_SUBSCRIBE || !o->negotiated || o->hidden == !shown)
    return false;
  bool was = tm_peer_track_enabled(p, TM_TRACK_VIDEO);
  o->hidden = !shown;
  return restart_if_flowing(p, TM_TRACK_VIDEO, was);
}

void
tm_peer_restart_source(TmPeer *p)
{
  if (p->kind != TM_PEER_SUBSCRIBE)
    return;
  for (int t = 0; t < TM_TRACK_COUNT; t++)
    p->out[t].resync = p->out[t].started;
  p->out[TM_TRACK_VIDEO].need_keyframe = p->out[TM_TRACK_VIDEO].negotiated;
}

bool
tm_peer_track_enabled(const TmPeer *p, TmTrack track)
{
  return !p->out[track].disabled && !p->out[track].hidden;
}

/* The least time between two retransmissions of one packet to this receiver: its round trip. */
static int64_t
rtx_repeat_us(const TmPeer *p)
{
  if (!(p->stats.rtt_ms > 0))
    return RTX_REPEAT_DEFAULT_US;
  return CLAMP((int64_t) (p->stats.rtt_ms * 1000.0), RTX_REPEAT_MIN_US, RTX_REPEAT_MAX_US);
}

/* The retransmission budget follows what the receiver can take (its reports, its REMB). */
static void
rtx_budget_update(TmPeer *p, int64_t now_us)
{
  uint64_t e = tm_peer_receiver_estimate(p, now_us);
  double bps = e > 0 ? MAX(RTX_SHARE * (double) e, RTX_FLOOR_BPS) : RTX_UNKNOWN_BPS;
  p->rtx_bytes.rate_per_sec = bps / 8.0;
  p->rtx_bytes.burst = MAX(bps / 8.0 * RTX_BURST_S, (double) TM_RTP_MAX_PACKET + 2);
}

/* How long after a repeated request for a packet (ours to a publisher, or a receiver's that we
 * answer) to send it once more, WAIT_US being the time between tries. A packet asked for again
 * has already lost a try (the request or the retransmission lost), and a lost request or answer
 * costs a whole try: over 10 % loss each way a try fails one time in five, and in benchmark runs
 * every repair that took a second or more (five of 620 in a minute) was a freeze of the witness
 * at the judge. A copy a quarter of the wait later (at least 20 ms: out of most loss bursts)
 * fails with its original only about one time in a hundred. The first request and the first
 * answer go alone: most get through, and a sender that does not hold back copies of a
 * retransmission (GStreamer's rtprtxsend) would send most lost packets twice. */
static int64_t
copy_after_us(int64_t wait_us)
{
  return MAX(wait_us / 4, COPY_MIN_US);
}

static void
schedule_rtx_echo(OutStream *o, uint16_t seq, int64_t due_us)
{
  if (o->n_echoes < MAX_RTX_ECHOES)
    o->echoes[o->n_echoes++] = (RtxEcho){ seq, due_us };
}

/* Why a video packet is sent again. */
typedef enum {
  RTX_ASKED,    /* the receiver's NACK */
  RTX_ECHO,     /* the copy of an answer to a repeated NACK (copy_after_us) */
  RTX_REPORTED, /* its transport-cc feedback reported the last copy lost (on_twcc_lost) */
} RtxWhy;

/* Sends the packet SEQ again, for WHY. */
static void
retransmit(TmPeer *p, uint16_t seq, RtxWhy why, int64_t now_us)
{
  OutStream *o = &p->out[TM_TRACK_VIDEO];
  if (o->sent == NULL)
    return;
  if (o->disabled || o->hidden || o->congested) { /* nothing held back is sent, not even again */
    if (o->disabled)
      p->stats.drop_policy++;
    else if (o->hidden)
      p->stats.drop_not_shown++;
    else
      p->stats.drop_congested++;
    return;
  }
  SentSlot *s = &o->sent[seq % TM_PEER_RTX_SLOTS];
  size_t orig_len = 0;
  const uint8_t *orig_buf =
    s->index != 0 && s->seq == seq ? tm_rtx_store_get(o->store, s->index, &orig_len) : NULL;
  if (orig_buf == NULL)
    return;
  if (s->arrived) { /* asked for before a copy arrived */
    p->stats.rtx_arrived++;
    return;
  }
  if (why == RTX_ASKED && s->resent_us != 0 && now_us - s->resent_us < rtx_repeat_us(p)) {
    p->stats.rtx_repeats++;
    return;
  }
  rtx_budget_update(p, now_us);
  if (!tm_token_bucket_take(&p->rtx_bucket, now_us) ||
      !tm_token_bucket_take_n(&p->rtx_bytes, (double) orig_len + 2, now_us)) {
    p->stats.drop_rate_limited++;
    return;
  }
  if (why == RTX_ASKED && s->resent_us != 0) /* asked for again: a try failed */
    schedule_rtx_echo(o, seq, now_us + copy_after_us(rtx_repeat_us(p)));
  if (why != RTX_ECHO)
    s->resent_us = now_us;
  s->reported += why == RTX_REPORTED;
  s->last_copy_us = now_us;
  /* The packet as it was sent: the original with this receiver's header. */
  uint8_t sent[TM_RTP_MAX_PACKET];
  TmRtpPacket orig;
  if (tm_rtp_parse(orig_buf, orig_len, &orig) != TM_RTP_OK)
    return;
  memcpy(sent, orig_buf, orig_len);
  tm_rtp_rewrite(sent, o->pt, seq, orig.ts + s->ts_offset, o->ssrc);
  uint8_t out[BUF_CAP];
  size_t n = orig_len;
  if (!o->rtx_stream)
    memcpy(out, sent, orig_len);
  else if (tm_rtp_parse(sent, orig_len, &orig) != TM_RTP_OK ||
           (n = tm_rtx_wrap(sent, orig_len, &orig, p->rtx_pt, o->rtx_seq, o->rtx_ssrc, out,
                            TM_RTP_MAX_PACKET + 2)) == 0)
    return;
  else
    o->rtx_seq++;
  uint16_t tseq = 0;
  bool numbered = number_packet(p, out, &n, TM_RTP_MAX_PACKET + 10, &tseq);
  if (tm_srtp_protect_rtp(p->srtp, out, &n, sizeof out) != TM_SRTP_OK)
    return;
  p->stats.retransmits++;
  p->stats.rtx_out += o->rtx_stream;
  p->stats.rtx_echoes += why == RTX_ECHO;
  p->stats.rtx_reported += why == RTX_REPORTED;
  count_sent(p, numbered, tseq, n, TM_TWCC_REPAIR, seq, now_us);
  p->listener.transmit(p->user_data, p, out, n);
}

/* Sends the copies of retransmissions that are due. */
static void
send_rtx_echoes(TmPeer *p, int64_t now_us)
{
  OutStream *o = &p->out[TM_TRACK_VIDEO];
  unsigned kept = 0;
  for (unsigned i = 0; i < o->n_echoes; i++) {
    RtxEcho e = o->echoes[i];
    if (e.due_us <= now_us)
      retransmit(p, e.seq, RTX_ECHO, now_us);
    else
      o->echoes[kept++] = e;
  }
  o->n_echoes = kept;
}

/* ---- congestion feedback (publish peers) ---- */

/* What REMB tells the sender: our estimate of its link, never above what its receivers take. */
static uint64_t
publish_estimate(const TmPeer *p)
{
  uint64_t e = tm_bwe_estimate(&p->bwe);
  if (e > 0 && p->downstream_limit_bps > 0)
    e = MIN(e, MAX(p->downstream_limit_bps, (uint64_t) TM_BWE_MIN_BPS));
  return e;
}

/* Fills a REMB about the streams we receive; FALSE when there is nothing to say. Sent whether or
 * not goog-remb was negotiated: browsers offer it (and get it answered), GStreamer 1.22's
 * webrtcbin cannot (it writes its own rtcp-fb lines) yet the testimony-client follows REMB from
 * its RTP session, and receivers ignore RTCP feedback they do not use. */
static bool
fill_remb(TmPeer *p, TmRtcpPacket *pkt)
{
  uint64_t e = publish_estimate(p);
  p->stats.estimate_bps = e;
  if (p->kind != TM_PEER_PUBLISH || e == 0 || !p->in[TM_TRACK_VIDEO].active)
    return false;
  memset(pkt, 0, sizeof *pkt);
  pkt->kind = TM_RTCP_KIND_REMB;
  pkt->sender_ssrc = p->rtcp_ssrc;
  pkt->remb_bitrate = MAX((uint64_t) ((double) e / p->overshoot), (uint64_t) TM_BWE_MIN_BPS);
  p->remb_told_bps = pkt->remb_bitrate;
  pkt->remb_ssrcs[pkt->n_remb_ssrcs++] = p->in[TM_TRACK_VIDEO].ssrc;
  if (p->in[TM_TRACK_AUDIO].active)
    pkt->remb_ssrcs[pkt->n_remb_ssrcs++] = p->in[TM_TRACK_AUDIO].ssrc;
  p->remb_sent_bps = e;
  p->stats.remb_out++;
  return true;
}

/* Once a second: how far above what it is told the sender goes, while it sends all of it and what
 * it is told holds steady (a sender still coming down from a higher REMB is not overshooting). */
static void
learn_overshoot(TmPeer *p, int64_t now_us)
{
  double told = (double) p->remb_told_bps, before = (double) p->overshoot_told_bps;
  p->overshoot_told_bps = p->remb_told_bps;
  if (told <= 0 || before <= 0 || fabs(told - before) > OVERSHOOT_STEADY * before)
    return;
  double arrived = (double) tm_bwe_measured_bps(&p->bwe, now_us);
  if (arrived < OVERSHOOT_USES * told)
    return;
  double sample = CLAMP(arrived / told, 1.0, OVERSHOOT_MAX);
  p->overshoot += OVERSHOOT_GAIN * (sample - p->overshoot);
}

/* Sends a REMB now if the estimate fell well below the last one sent (rate-limited). */
static void
remb_if_decreased(TmPeer *p, int64_t now_us)
{
  uint64_t e = publish_estimate(p);
  p->stats.estimate_bps = e;
  if (!p->connected || p->remb_sent_bps == 0 ||
      (double) e >= REMB_PROMPT_DROP * (double) p->remb_sent_bps)
    return;
  if (!tm_token_bucket_take(&p->remb_bucket, now_us))
    return;
  TmRtcpPacket pkt;
  if (fill_remb(p, &pkt))
    send_feedback(p, &pkt);
}

void
tm_peer_set_downstream_limit(TmPeer *p, uint64_t bps, int64_t now_us)
{
  if (p->kind != TM_PEER_PUBLISH || bps == p->downstream_limit_bps)
    return;
  p->downstream_limit_bps = bps;
  remb_if_decreased(p, now_us);
}

uint64_t
tm_peer_receiver_estimate(const TmPeer *p, int64_t now_us)
{
  if (p->kind != TM_PEER_SUBSCRIBE)
    return 0;
  uint64_t e = 0;
  if (p->receiver_report_us > 0) {
    int64_t silent = now_us - p->receiver_report_us;
    e = tm_bwe_estimate(&p->bwe);
    if (silent > RECEIVER_SILENT_US) {
      int64_t halvings = 1 + (silent - RECEIVER_SILENT_US) / RECEIVER_SILENT_HALVING_US;
      e = MAX(e >> MIN(halvings, 16), (uint64_t) TM_BWE_MIN_BPS);
    }
  }
  if (p->receiver_remb_us > 0 && now_us - p->receiver_remb_us <= RECEIVER_ESTIMATE_STALE_US &&
      p->receiver_remb_bps > 0)
    e = e > 0 ? MIN(e, p->receiver_remb_bps) : p->receiver_remb_bps;
  return e;
}

/* How long after asking for a key frame not to ask again: the time the last key frame took
 * to cross the slowest link it goes to (the least that the publisher's shown receivers can
 * take). A request sooner only brings another large frame into a link the first one still
 * fills; on a slow link that is the next loss, the next request, the next key frame. */
static int64_t
keyframe_holdoff_us(const TmPeer *p)
{
  uint64_t link = publish_estimate(p);
  if (link == 0 || p->last_keyframe_bytes == 0)
    return 0;
  return MIN((int64_t) ((double) p->last_keyframe_bytes * 8e6 / (double) link),
             KEYFRAME_HOLDOFF_MAX_US);
}

static void
request_keyframe(TmPeer *p, bool missed, int64_t now_us)
{
  InStream *in = &p->in[TM_TRACK_VIDEO];
  if (p->kind != TM_PEER_PUBLISH || !p->connected || !in->active)
    return;
  if (!missed && now_us < p->keyframe_hold_us) {
    p->stats.keyframe_requests_held++;
    return;
  }
  if (!tm_token_bucket_take(&p->keyframe_bucket, now_us))
    return;
  p->keyframe_hold_us = now_us + keyframe_holdoff_us(p);
  TmRtcpPacket pkt;
  memset(&pkt, 0, sizeof pkt);
  pkt.kind = TM_RTCP_KIND_PLI;
  pkt.sender_ssrc = p->rtcp_ssrc;
  pkt.media_ssrc = in->ssrc;
  p->stats.keyframe_requests_out++;
  send_feedback(p, &pkt);
}

void
tm_peer_request_keyframe(TmPeer *p, int64_t now_us)
{
  request_keyframe(p, false, now_us);
}

void
tm_peer_request_missed_keyframe(TmPeer *p, int64_t now_us)
{
  request_keyframe(p, true, now_us);
}

/* ---- receiving RTP (publish peers) ---- */

/* The size of the publisher's key frames: the bytes of the packets with a key frame's RTP
 * timestamp, from its first packet on. */
static void
note_keyframe(TmPeer *p, const TmRtpPacket *pkt, size_t len)
{
  if (tm_vp8_is_keyframe(pkt->payload, pkt->payload_len)) {
    p->in_keyframe = true;
    p->keyframe_ts = pkt->ts;
    p->keyframe_bytes = len;
  } else if (p->in_keyframe && pkt->ts == p->keyframe_ts) {
    p->keyframe_bytes += len;
  } else if (p->in_keyframe) {
    p->in_keyframe = false;
    p->last_keyframe_bytes = p->keyframe_bytes;
  }
}

/* How long to wait for a retransmission before asking again: the round trip and four times its
 * deviation (RFC 6298's timeout, at least 20 ms more), at most 1.5 round trips + 10 ms (what a
 * first sample, whose deviation is half of it, gives). On a steady path the retries come
 * sooner than 1.5 round trips: at 200 ms with 20 ms of jitter, a packet lost twice is asked for
 * a third time about 70 ms earlier, inside the judge's 1 s jitter buffer. */
static int64_t
nack_retry_us(const TmPeer *p)
{
  if (p->srtt_ms <= 0)
    return NACK_RETRY_DEFAULT_US;
  double ms = MIN(p->srtt_ms + MAX(4.0 * p->rttvar_ms, 20.0), p->srtt_ms * 1.5 + 10.0);
  return CLAMP((int64_t) (ms * 1000.0), NACK_RETRY_MIN_US, NACK_RETRY_MAX_US);
}

/* One round-trip sample, smoothed as TCP does (RFC 6298): it moves the estimate an eighth and
 * its deviation a quarter of the way. */
static void
rtt_sample(TmPeer *p, double rtt_ms)
{
  if (!(rtt_ms > 0) || rtt_ms > RTT_HINT_MAX_MS)
    return;
  if (p->srtt_ms > 0) {
    p->rttvar_ms += (fabs(p->srtt_ms - rtt_ms) - p->rttvar_ms) / 4.0;
    p->srtt_ms += (rtt_ms - p->srtt_ms) / 8.0;
  } else {
    p->srtt_ms = rtt_ms;
    p->rttvar_ms = rtt_ms / 2.0;
  }
  p->stats.rtt_ms = p->srtt_ms;
}

void
tm_peer_set_rtt_hint(TmPeer *p, double rtt_ms)
{
  if (p->kind == TM_PEER_PUBLISH)
    rtt_sample(p, rtt_ms);
}

int64_t
tm_peer_nack_retry_us(const TmPeer *p)
{
  return nack_retry_us(p);
}

/* Asks the sender again for every missing packet that is due (with a copy of each repeated
 * request, copy_after_us); forgets those asked for NACK_TRIES times or missing for longer than
 * NACK_MAX_AGE_US. */
static void
flush_nacks(TmPeer *p, InStream *in, int64_t now_us)
{
  TmRtcpPacket pkt;
  memset(&pkt, 0, sizeof pkt);
  pkt.kind = TM_RTCP_KIND_NACK;
  pkt.sender_ssrc = p->rtcp_ssrc;
  pkt.media_ssrc = in->ssrc;
  unsigned kept = 0;
  bool due = false;
  for (unsigned i = 0; i < in->n_pending; i++) {
    PendingNack n = in->pending[i];
    if (n.next_us <= now_us) {
      if (n.echo) {
        n.echo = false;
        n.next_us = n.retry_us;
      } else if (n.tries >= NACK_TRIES || now_us - n.first_us >= NACK_MAX_AGE_US) {
        p->stats.nack_given_up++;
        continue;
      } else {
        int64_t retry = nack_retry_us(p), copy = copy_after_us(retry);
        n.tries++;
        n.retry_us = now_us + retry;
        n.echo = n.tries > 1 && copy < retry;
        n.next_us = n.echo ? now_us + copy : n.retry_us;
      }
      due = true;
      TmRtcpNackItem *last = pkt.n_nacks > 0 ? &pkt.nacks[pkt.n_nacks - 1] : NULL;
      uint16_t seq = (uint16_t) n.ext;
      int16_t d = last != NULL ? tm_seq_diff(last->pid, seq) : 0;
      if (last != NULL && d >= 1 && d <= 16)
        last->blp |= (uint16_t) (1u << (d - 1));
      else if (pkt.n_nacks < TM_RTCP_MAX_NACK)
        pkt.nacks[pkt.n_nacks++] = (TmRtcpNackItem){ seq, 0 };
    }
    in->pending[kept++] = n;
  }
  in->n_pending = kept;
  if (!due || !tm_token_bucket_take(&p->nack_bucket, now_us))
    return;
  p->stats.nacks_out++;
  send_feedback(p, &pkt);
}

/* Remembers the packets FROM_EXT..TO_EXT-1 as missing, to be asked for at once. */
static void
add_missing(TmPeer *p, InStream *in, uint64_t from_ext, uint64_t to_ext, int64_t now_us)
{
  if (to_ext - from_ext > MAX_NACK_BATCH)
    return;
  for (uint64_t s = from_ext; s < to_ext; s++) {
    if (in->n_pending == MAX_PENDING_NACKS) { /* forget the oldest */
      memmove(in->pending, in->pending + 1, (MAX_PENDING_NACKS - 1) * sizeof in->pending[0]);
      in->n_pending--;
      p->stats.nack_given_up++;
    }
    in->pending[in->n_pending++] = (PendingNack){ .ext = s, .first_us = now_us, .next_us = now_us };
  }
}

/* The longest repairs of the current window and the one before, as of NOW_US. */
static void
repair_windows(const TmPeer *p, int64_t now_us, int64_t *current, int64_t *previous)
{
  int64_t elapsed = now_us - p->repair_window_us;
  *current = elapsed < TM_PEER_REPAIR_WINDOW_US ? p->repair_longest_us[0] : 0;
  *previous = elapsed < TM_PEER_REPAIR_WINDOW_US ? p->repair_longest_us[1]
    : elapsed < 2 * TM_PEER_REPAIR_WINDOW_US     ? p->repair_longest_us[0]
                                                 : 0;
}

static void
note_repair(TmPeer *p, int64_t took_us, int64_t now_us)
{
  int64_t current, previous;
  repair_windows(p, now_us, &current, &previous);
  if (now_us - p->repair_window_us >= TM_PEER_REPAIR_WINDOW_US)
    p->repair_window_us = now_us;
  p->repair_longest_us[0] = MAX(current, took_us);
  p->repair_longest_us[1] = previous;
}

int64_t
tm_peer_recent_repair_us(const TmPeer *p, int64_t now_us)
{
  int64_t current, previous;
  if (p->kind != TM_PEER_PUBLISH)
    return 0;
  repair_windows(p, now_us, &current, &previous);
  return MAX(current, previous);
}

/* A missing packet arrived (retransmitted, or late): TRUE when we were asking for it, and then
 * *WAS is what we remembered of it (when we first asked, how often). */
static bool
arrived(TmPeer *p, InStream *in, uint64_t ext, int64_t now_us, PendingNack *was)
{
  for (unsigned i = 0; i < in->n_pending; i++) {
    if (in->pending[i].ext == ext) {
      *was = in->pending[i];
      memmove(in->pending + i, in->pending + i + 1,
              (in->n_pending - i - 1) * sizeof in->pending[0]);
      in->n_pending--;
      p->stats.nack_recovered++;
      int64_t took = MAX(now_us - was->first_us, 0);
      p->stats.repaired_within[MIN(took / TM_PEER_REPAIR_BUCKET_US, TM_PEER_REPAIR_BUCKETS - 1)]++;
      note_repair(p, took, now_us);
      return true;
    }
  }
  return false;
}

/* Notes in IN.seen that packet EXT is here; a newer one than any before moves the window. */
static void
mark_seen(InStream *in, uint64_t ext)
{
  if (ext > in->max_ext_seq) {
    uint64_t shift = ext - in->max_ext_seq;
    in->seen = (shift >= 64 ? 0 : in->seen << shift) | 1;
  } else if (in->max_ext_seq - ext < 64) {
    in->seen |= (uint64_t) 1 << (in->max_ext_seq - ext);
  }
}

/* Whether packet EXT of IN is neither here nor too old to tell (64 packets back). */
static bool
not_seen(const InStream *in, uint64_t ext)
{
  return ext > in->max_ext_seq ||
    (in->max_ext_seq - ext < 64 && !(in->seen >> (in->max_ext_seq - ext) & 1));
}

static void
update_in_stream(TmPeer *p, TmTrack track, const TmRtpPacket *pkt, int64_t now_us)
{
  InStream *in = &p->in[track];
  if (!in->active || in->ssrc != pkt->ssrc) {
    memset(in, 0, sizeof *in);
    in->active = true;
    in->ssrc = pkt->ssrc;
    in->clock_rate = p->clock_for[track] > 0 ? p->clock_for[track] : 90000;
    in->max_ext_seq = tm_seq_extend(0, pkt->seq);
    in->base_ext_seq = in->max_ext_seq;
    in->seen = 1;
  } else {
    uint64_t ext = tm_seq_extend(in->max_ext_seq, pkt->seq);
    mark_seen(in, ext);
    if (ext > in->max_ext_seq) {
      if (ext > in->max_ext_seq + 1) {
        p->stats.packets_lost += ext - in->max_ext_seq - 1;
        if (track == TM_TRACK_VIDEO) {
          add_missing(p, in, in->max_ext_seq + 1, ext, now_us);
          flush_nacks(p, in, now_us);
        }
      }
      in->max_ext_seq = ext;
    } else if (in->n_pending > 0) {
      PendingNack was;
      in->repaired += arrived(p, in, ext, now_us, &was); /* a retransmission or a late packet */
    }
  }
  in->received++;
  int64_t arrival = now_us * (int64_t) in->clock_rate / 1000000;
  int64_t transit = arrival - (int64_t) pkt->ts;
  if (in->have_transit) {
    double d = fabs((double) (transit - in->last_transit));
    in->jitter += (d - in->jitter) / 16.0;
  }
  in->last_transit = transit;
  in->have_transit = true;
}

/* An RTX packet (RFC 4588) of the video: restored in place to the original packet. TRUE when it
 * fills a hole the relay asked for; padding-only probes, copies of packets we have and ones we
 * gave up on are counted and dropped (receivers must not get duplicates on a poor link).
 * The time from the NACK to the retransmission of a packet asked for once is a round-trip
 * sample that needs no report from the participant: retries follow the path as soon as the
 * first hole is filled. A packet asked for more than once gives none (Karn's rule): whether the
 * copy answers the first NACK or a later one cannot be told, and taking the first NACK's time
 * made every lost NACK or copy lengthen the round trip, hence the next wait, hence the next
 * sample (at 10 % loss a 200 ms path settled near 300 ms); only the very first sample may be
 * one, an upper bound, while no round trip is known. Late packets of the media stream give
 * none, being reordered rather than resent. */
static bool
handle_rtx(TmPeer *p, uint8_t *buf, size_t *len, TmRtpPacket *pkt, int64_t now_us)
{
  InStream *in = &p->in[TM_TRACK_VIDEO];
  p->stats.rtx_in++;
  if (!in->active || !tm_rtx_unwrap(buf, len, pkt, p->pt_for[TM_TRACK_VIDEO], in->ssrc)) {
    p->stats.rtx_discarded++;
    return false;
  }
  uint64_t ext = tm_seq_extend(in->max_ext_seq, pkt->seq);
  PendingNack was;
  if (ext > in->max_ext_seq || !arrived(p, in, ext, now_us, &was)) {
    p->stats.rtx_discarded++;
    return false;
  }
  if (was.tries == 1 || p->srtt_ms <= 0) /* until a first sample, an upper bound will do */
    rtt_sample(p, (double) (now_us - was.first_us) / 1000.0);
  return true;
}

/* Packet EXT of the sound, restored from the RED block B of the packet BUF (PKT): its header
 * (the marker cleared, no padding) with EXT's sequence number and B's timestamp, and B's data.
 * It goes up as it would have come; the reports to the sender still count it lost (its encoder
 * should know what its link loses). */
static void
restore_from_red(TmPeer *p, const uint8_t *buf, const TmRtpPacket *pkt, uint64_t ext,
                 const TmRedBlock *b, int64_t now_us)
{
  InStream *in = &p->in[TM_TRACK_AUDIO];
  uint8_t out[BUF_CAP];
  TmRtpPacket r;

  memcpy(out, buf, pkt->header_len);
  memcpy(out + pkt->header_len, b->data, b->len);
  out[0] &= (uint8_t) ~0x20;
  out[1] &= 0x7f;
  tm_rtp_rewrite(out, p->pt_for[TM_TRACK_AUDIO], (uint16_t) ext, pkt->ts - b->ts_offset, pkt->ssrc);
  if (tm_rtp_parse(out, pkt->header_len + b->len, &r) != TM_RTP_OK)
    return;
  mark_seen(in, ext);
  if (ext > in->max_ext_seq) {
    p->stats.packets_lost += ext - in->max_ext_seq;
    in->max_ext_seq = ext;
  }
  p->stats.red_recovered++;
  p->listener.media(p->user_data, p, TM_TRACK_AUDIO, &r, out, pkt->header_len + b->len, now_us);
}

/* A RED packet of the sound (red.h): what it carries again of packets that did not come goes up
 * first (restore_from_red), then BUF (*LEN bytes, parsed in PKT) is rewritten in place to its
 * primary, a plain Opus packet. FALSE when it is malformed (its primary not the Opus
 * negotiated) or its primary is here already (restored from a later packet, then late). */
static bool
unwrap_red(TmPeer *p, uint8_t *buf, size_t *len, TmRtpPacket *pkt, int64_t now_us)
{
  TmRedBlock blocks[TM_RED_MAX_BLOCKS];
  size_t n = tm_red_parse(pkt->payload, pkt->payload_len, blocks, TM_RED_MAX_BLOCKS);
  uint8_t opus = p->pt_for[TM_TRACK_AUDIO];
  InStream *in = &p->in[TM_TRACK_AUDIO];

  if (n == 0 || blocks[n - 1].pt != opus) {
    p->stats.drop_malformed++;
    return false;
  }
  p->stats.red_in++;
  if (in->active && in->ssrc == pkt->ssrc) {
    uint64_t ext = tm_seq_extend(in->max_ext_seq, pkt->seq);
    if (!not_seen(in, ext)) {
      p->stats.red_discarded++;
      return false;
    }
    /* the blocks are the packets just before this one, the oldest first; none restored from
     * further back than RED_DEPTH_MAX (browsers send one): more would let a publisher make the
     * relay forward many packets for each it sends */
    for (size_t i = 0; i + 1 < n; i++) {
      uint64_t back = n - 1 - i;
      if (blocks[i].pt == opus && blocks[i].ts_offset > 0 && back <= RED_DEPTH_MAX && back < ext &&
          not_seen(in, ext - back))
        restore_from_red(p, buf, pkt, ext - back, &blocks[i], now_us);
    }
  }
  const TmRedBlock *primary = &blocks[n - 1];
  memmove(buf + pkt->header_len, primary->data, primary->len);
  buf[0] &= (uint8_t) ~0x20;
  buf[1] = (uint8_t) ((buf[1] & 0x80) | opus);
  *len = pkt->header_len + primary->len;
  return tm_rtp_parse(buf, *len, pkt) == TM_RTP_OK;
}

static void
handle_rtp(TmPeer *p, uint8_t *buf, size_t len, int64_t now_us)
{
  if (p->kind != TM_PEER_PUBLISH) {
    p->stats.drop_unknown_pt++;
    return;
  }
  TmSrtpError e = tm_srtp_unprotect_rtp(p->srtp, buf, &len);
  if (e != TM_SRTP_OK) {
    p->stats.drop_srtp++;
    return;
  }
  TmRtpPacket pkt;
  if (tm_rtp_parse(buf, len, &pkt) != TM_RTP_OK) {
    p->stats.drop_malformed++;
    return;
  }
  /* Every packet of the transport counts for congestion control, probes and RTX included. */
  const uint8_t *ext;
  size_t ext_len;
  if (p->twcc != NULL && tm_rtp_find_extension(&pkt, p->twcc_id, &ext, &ext_len) && ext_len == 2) {
    p->stats.twcc_in++;
    tm_twcc_on_packet(p->twcc, (uint16_t) (ext[0] << 8 | ext[1]), now_us);
  }
  /* With abs-send-time the delay trend takes every packet's send time, the sender's pacer queue
   * left out; once one came, the video's capture times only count bytes (docs/poor-networks.md).
   * A sender that negotiated it and never sends it keeps the trend on capture times. */
  if (p->abs_send_id != 0 && tm_rtp_find_extension(&pkt, p->abs_send_id, &ext, &ext_len) &&
      ext_len == 3) {
    uint32_t raw = (uint32_t) ext[0] << 16 | (uint32_t) ext[1] << 8 | ext[2];
    tm_bwe_on_arrival(&p->bwe, tm_abs_send_clock_unwrap(&p->abs_send_clock, raw), now_us, now_us);
  }
  TmTrack track;
  size_t wire_len = len;
  if (pkt.pt == p->pt_for[TM_TRACK_AUDIO])
    track = TM_TRACK_AUDIO;
  else if (pkt.pt == p->red_pt) {
    if (!unwrap_red(p, buf, &len, &pkt, now_us))
      return;
    track = TM_TRACK_AUDIO;
  } else if (pkt.pt == p->pt_for[TM_TRACK_VIDEO])
    track = TM_TRACK_VIDEO;
  else if (pkt.pt == p->rtx_pt) {
    p->stats.bytes_in += len;
    tm_bwe_on_packet(&p->bwe, len, 0, 0, now_us);
    if (!handle_rtx(p, buf, &len, &pkt, now_us))
      return;
    /* A packet repaired counts as received in the reports to its sender, as a browser counts
     * one (and as a plain retransmission is counted); the loss rule tells repaired loss from
     * the rest (tm_bwe_on_loss_repaired, docs/poor-networks.md). */
    p->in[TM_TRACK_VIDEO].received++;
    p->in[TM_TRACK_VIDEO].repaired++;
    p->stats.rtp_in++;
    p->listener.media(p->user_data, p, TM_TRACK_VIDEO, &pkt, buf, len, now_us);
    return;
  } else {
    p->stats.drop_unknown_pt++;
    return;
  }
  p->stats.rtp_in++;
  p->stats.bytes_in += wire_len;
  update_in_stream(p, track, &pkt, now_us);
  if (track == TM_TRACK_VIDEO)
    note_keyframe(p, &pkt, len);
  bool capture_trend = track == TM_TRACK_VIDEO && !p->bwe.send_side;
  tm_bwe_on_packet(&p->bwe, wire_len, pkt.ts, capture_trend ? p->in[track].clock_rate : 0, now_us);
  remb_if_decreased(p, now_us);
  p->listener.media(p->user_data, p, track, &pkt, buf, len, now_us);
}

/* ---- receiving RTCP ---- */

/* A receiver's report on our video: the loss it counted since the window began, once the
 * window spans LOSS_WINDOW_US, goes to the estimate. One report's fraction lost would do for
 * reports a second apart, but a receiver that reports more often (RFC 4585 lets it) would have
 * each report of a few packets, 0 % or 25 %, move the estimate alone. */
static void
receiver_loss(TmPeer *p, const TmRtcpReportBlock *b, int64_t now_us)
{
  int64_t span = now_us - p->loss_window.start_us;
  int32_t expected = (int32_t) (b->highest_seq - p->loss_window.highest);
  if (p->loss_window.start_us == 0 || expected < 0) { /* the first, or the receiver restarted */
    tm_bwe_on_loss(&p->bwe, b->fraction_lost / 256.0, now_us);
  } else if (span >= LOSS_WINDOW_US) {
    int64_t lost = (int64_t) b->cumulative_lost - p->loss_window.lost;
    tm_bwe_on_loss(&p->bwe, expected > 0 ? CLAMP((double) lost / expected, 0.0, 1.0) : 0.0, now_us);
  } else {
    return;
  }
  p->loss_window.start_us = now_us;
  p->loss_window.lost = b->cumulative_lost;
  p->loss_window.highest = b->highest_seq;
}

static void
handle_report_blocks(TmPeer *p, const TmRtcpPacket *pkt, int64_t now_us)
{
  bool any = false;
  for (unsigned i = 0; i < pkt->n_blocks; i++) {
    const TmRtcpReportBlock *b = &pkt->blocks[i];
    if (b->ssrc != p->out[TM_TRACK_VIDEO].ssrc && b->ssrc != p->out[TM_TRACK_AUDIO].ssrc)
      continue;
    any = true;
    p->stats.fraction_lost = b->fraction_lost / 256.0;
    if (p->kind == TM_PEER_SUBSCRIBE && b->ssrc == p->out[TM_TRACK_VIDEO].ssrc) {
      if (!p->twcc_heard) /* else its transport-cc feedback tells the loss */
        receiver_loss(p, b, now_us);
      p->receiver_report_us = now_us;
      p->stats.estimate_bps = tm_peer_receiver_estimate(p, now_us);
    }
    if (b->lsr != 0) {
      uint32_t now_mid = (uint32_t) (ntp_from_us(now_us + p->wall_offset_us) >> 16);
      uint32_t rtt = now_mid - b->lsr - b->dlsr; /* 1/65536 s */
      if (rtt < 65536u * 10)
        p->stats.rtt_ms = rtt * 1000.0 / 65536.0;
    }
  }
  p->stats.reports_in += any && p->kind == TM_PEER_SUBSCRIBE;
}

static void
handle_feedback(TmPeer *p, const TmRtcpPacket *pkt, int64_t now_us)
{
  switch (pkt->kind) {
  case TM_RTCP_KIND_SR:
    for (int t = 0; t < TM_TRACK_COUNT; t++) {
      if (p->in[t].active && p->in[t].ssrc == pkt->sender_ssrc) {
        p->in[t].last_sr_mid = (uint32_t) (pkt->ntp >> 16);
        p->in[t].last_sr_recv_us = now_us;
      }
    }
    handle_report_blocks(p, pkt, now_us);
    break;
  case TM_RTCP_KIND_RR: handle_report_blocks(p, pkt, now_us); break;
  case TM_RTCP_KIND_NACK:
    if (p->kind != TM_PEER_SUBSCRIBE || pkt->media_ssrc != p->out[TM_TRACK_VIDEO].ssrc)
      break;
    p->stats.nacks_in++;
    for (unsigned i = 0; i < pkt->n_nacks; i++) {
      uint16_t seqs[17];
      unsigned n = tm_rtcp_nack_expand(&pkt->nacks[i], seqs);
      for (unsigned j = 0; j < n; j++)
        retransmit(p, seqs[j], RTX_ASKED, now_us);
    }
    break;
  case TM_RTCP_KIND_REMB:
    if (p->kind != TM_PEER_SUBSCRIBE)
      break;
    p->stats.remb_in++;
    p->stats.reports_in++;
    p->receiver_remb_bps = pkt->remb_bitrate;
    p->receiver_remb_us = now_us;
    p->stats.estimate_bps = tm_peer_receiver_estimate(p, now_us);
    break;
  case TM_RTCP_KIND_PLI:
  case TM_RTCP_KIND_FIR:
    if (p->kind != TM_PEER_SUBSCRIBE)
      break;
    p->stats.keyframe_requests_in++;
    if (!p->out[TM_TRACK_VIDEO].congested) /* held back: a key frame comes when it flows again */
      p->listener.keyframe_request(p->user_data, p, false, now_us);
    break;
  default: break;
  }
}

typedef struct {
  TmPeer *peer;
  int64_t now_us;
} ArrivalCtx;

/* The slot of the video packet a numbered packet SENT carried, while it is still that packet's
 * (sent no later than SENT); NULL when none. */
static SentSlot *
slot_of(TmPeer *p, const TmTwccSent *sent)
{
  OutStream *o = &p->out[TM_TRACK_VIDEO];
  if ((sent->kind != TM_TWCC_VIDEO && sent->kind != TM_TWCC_REPAIR) || o->sent == NULL)
    return NULL;
  SentSlot *s = &o->sent[sent->media_seq % TM_PEER_RTX_SLOTS];
  if (s->index == 0 || s->seq != sent->media_seq || s->sent_us > sent->send_us)
    return NULL;
  return s;
}

static void
on_twcc_arrival(void *user, const TmTwccSent *sent, int64_t arrival_us)
{
  ArrivalCtx *a = user;
  tm_bwe_on_arrival(&a->peer->bwe, sent->send_us, arrival_us, a->now_us);
  tm_bwe_on_packet(&a->peer->bwe, sent->bytes, 0, 0, a->now_us);
  SentSlot *s = slot_of(a->peer, sent);
  if (s != NULL)
    s->arrived = true;
}

/* The feedback reports SENT lost: when it was the last copy of a video packet that none arrived
 * of, the packet goes again now (RTX_REPORTED_MAX). */
static void
on_twcc_lost(void *user, const TmTwccSent *sent)
{
  ArrivalCtx *a = user;
  SentSlot *s = slot_of(a->peer, sent);
  if (s == NULL || s->arrived || sent->send_us < s->last_copy_us ||
      s->reported >= RTX_REPORTED_MAX || a->now_us - s->sent_us > RTX_REPORTED_MAX_AGE_US ||
      tm_bwe_congested(&a->peer->bwe, a->now_us))
    return;
  retransmit(a->peer, sent->media_seq, RTX_REPORTED, a->now_us);
}

/* Of what the receiver lost since its window began, the packets it did not get back: every
 * sound packet lost (sound is not resent), and the lost video in the share that its
 * retransmissions were lost too (all of it while none was sent). A lossy link without a queue is
 * judged by these (tm_bwe_on_loss_repaired), as a publisher's is: 10 % bursty loss counted in
 * full took the judge's picture at a far witness to the encoder's floor, most of it repaired. */
static double
twcc_unrepaired(const TmPeer *p, const TmTwccSender *s)
{
  uint64_t d_lost[TM_TWCC_KINDS], d_acked[TM_TWCC_KINDS];
  for (int k = 0; k < TM_TWCC_KINDS; k++) {
    d_lost[k] = s->lost_kind[k] - p->twcc_window.lost_kind[k];
    d_acked[k] = s->acked_kind[k] - p->twcc_window.acked_kind[k];
  }
  uint64_t repairs = d_lost[TM_TWCC_REPAIR] + d_acked[TM_TWCC_REPAIR];
  double repair_lost = repairs > 0 ? (double) d_lost[TM_TWCC_REPAIR] / (double) repairs : 1.0;
  return (double) d_lost[TM_TWCC_AUDIO] + (double) d_lost[TM_TWCC_VIDEO] * repair_lost;
}

/* Transport-cc feedback from a receiver (RAW, LEN: one RTCP packet, RTPFB FMT 15): the delay
 * trend of our link to it, and the rate that arrived. */
static void
handle_twcc_feedback(TmPeer *p, const uint8_t *raw, size_t len, int64_t now_us)
{
  TmTwccFeedback fb;
  if (!tm_twcc_parse(raw, len, &fb)) {
    p->stats.drop_malformed++;
    return;
  }
  ArrivalCtx a = { p, now_us };
  p->twcc_heard = true;
  TmTwccSender *s = p->twcc_send;
  static const TmTwccFeedbackFns fns = { on_twcc_arrival, on_twcc_lost };
  tm_twcc_sender_on_feedback(s, &fb, &fns, &a);
  p->stats.twcc_feedback_in++;
  p->stats.overuse_events = p->bwe.overuse_events;
  /* The feedback is the receiver's report: the loss it shows over a second goes to the loss
   * rule (its receiver reports then do not), and a receiver heard is not silent. */
  int64_t span = now_us - p->twcc_window.start_us;
  if (p->twcc_window.start_us == 0 || span >= TWCC_LOSS_WINDOW_US) {
    uint64_t acked = s->acked - p->twcc_window.acked, lost = s->lost - p->twcc_window.lost;
    if (p->twcc_window.start_us != 0 && acked + lost > 0) {
      p->stats.fraction_lost = (double) lost / (double) (acked + lost);
      tm_bwe_on_loss_repaired(&p->bwe, p->stats.fraction_lost,
                              twcc_unrepaired(p, s) / (double) (acked + lost), now_us);
    }
    p->twcc_window.start_us = now_us;
    p->twcc_window.acked = s->acked;
    p->twcc_window.lost = s->lost;
    memcpy(p->twcc_window.acked_kind, s->acked_kind, sizeof s->acked_kind);
    memcpy(p->twcc_window.lost_kind, s->lost_kind, sizeof s->lost_kind);
  }
  p->receiver_report_us = now_us;
  p->stats.estimate_bps = tm_peer_receiver_estimate(p, now_us);
}

static void
handle_rtcp(TmPeer *p, uint8_t *buf, size_t len, int64_t now_us)
{
  if (tm_srtp_unprotect_rtcp(p->srtp, buf, &len) != TM_SRTP_OK) {
    p->stats.drop_srtp++;
    return;
  }
  p->stats.rtcp_in++;
  TmRtcpIter it;
  tm_rtcp_iter_init(&it, buf, len);
  TmRtcpPacket pkt;
  for (;;) {
    bool done = false;
    size_t start = it.pos;
    if (tm_rtcp_iter_next(&it, &pkt, &done) != TM_RTCP_OK) {
      p->stats.drop_malformed++;
      break;
    }
    if (done)
      break;
    if (pkt.kind == TM_RTCP_KIND_OTHER && pkt.pt == TM_RTCP_RTPFB && pkt.count == 15 &&
        p->twcc_send != NULL)
      handle_twcc_feedback(p, buf + start, it.pos - start, now_us);
    else
      handle_feedback(p, &pkt, now_us);
  }
}

void
tm_peer_handle_datagram(TmPeer *p, const uint8_t *data, size_t len, int64_t now_us)
{
  if (p->failed || len > TM_RTP_MAX_PACKET + TM_SRTP_MAX_TRAILER) {
    p->stats.drop_malformed++;
    return;
  }
  switch (tm_packet_classify(data, len)) {
  case TM_PACKET_DTLS:
    /* The receiver's first DTLS flight means ICE is up: the handshake needs one more round
     * trip, about what the sender needs to make a key frame, so it is asked for now. */
    if (p->kind == TM_PEER_SUBSCRIBE && !p->asked_keyframe && p->out[TM_TRACK_VIDEO].negotiated) {
      p->asked_keyframe = true;
      p->listener.keyframe_request(p->user_data, p, false, now_us);
    }
    tm_dtls_handle_datagram(p->dtls, data, len, now_us);
    return;
  case TM_PACKET_RTP:
  case TM_PACKET_RTCP: {
    if (!p->connected) {
      p->stats.drop_not_ready++;
      return;
    }
    uint8_t buf[BUF_CAP];
    memcpy(buf, data, len);
    if (tm_packet_classify(data, len) == TM_PACKET_RTP)
      handle_rtp(p, buf, len, now_us);
    else
      handle_rtcp(p, buf, len, now_us);
    return;
  }
  default:
    p->stats.drop_malformed++; /* STUN is handled by ICE below us */
    return;
  }
}

/* ---- periodic reports ---- */

/* Fills B about IN since the last report; *FIRST_LOST: the share of packets that did not come
 * at first, repaired ones included (B's fraction counts those as received). */
static void
fill_report_block(InStream *in, TmRtcpReportBlock *b, double *first_lost, int64_t now_us)
{
  uint64_t expected = in->max_ext_seq - in->base_ext_seq + 1;
  uint64_t expected_interval = expected - in->expected_prior;
  uint64_t received_interval = in->received - in->received_prior;
  uint64_t repaired_interval = in->repaired - in->repaired_prior;
  in->expected_prior = expected;
  in->received_prior = in->received;
  in->repaired_prior = in->repaired;
  int64_t lost_interval = (int64_t) expected_interval - (int64_t) received_interval;
  int64_t first_lost_interval = lost_interval + (int64_t) repaired_interval;
  *first_lost = expected_interval == 0 || first_lost_interval <= 0
    ? 0
    : MIN((double) first_lost_interval / (double) expected_interval, 1.0);
  b->fraction_lost = expected_interval == 0 || lost_interval <= 0
    ? 0
    : (uint8_t) ((lost_interval << 8) / (int64_t) expected_interval);
  int64_t lost = (int64_t) expected - (int64_t) in->received;
  b->cumulative_lost = (int32_t) CLAMP(lost, -8388608, 8388607);
  in->fraction_lost = b->fraction_lost;
  b->ssrc = in->ssrc;
  b->highest_seq = (uint32_t) (in->max_ext_seq - 65536); /* undo tm_seq_extend's first cycle */
  b->jitter = (uint32_t) in->jitter;
  b->lsr = in->last_sr_mid;
  b->dlsr =
    in->last_sr_recv_us > 0 ? (uint32_t) ((now_us - in->last_sr_recv_us) * 65536 / 1000000) : 0;
}

static void
send_reports(TmPeer *p, int64_t now_us)
{
  uint8_t buf[BUF_CAP];
  TmWriter w;
  tm_writer_init(&w, buf, TM_RTP_MAX_PACKET);
  TmRtcpPacket pkt;
  uint64_t ntp = ntp_from_us(now_us + p->wall_offset_us);
  bool any = false;
  if (p->kind == TM_PEER_PUBLISH) {
    memset(&pkt, 0, sizeof pkt);
    pkt.kind = TM_RTCP_KIND_RR;
    pkt.sender_ssrc = p->rtcp_ssrc;
    double first_lost = 0;
    for (int t = 0; t < TM_TRACK_COUNT; t++)
      if (p->in[t].active)
        fill_report_block(&p->in[t], &pkt.blocks[pkt.n_blocks++], &first_lost, now_us);
    if (pkt.n_blocks > 0) { /* the video's when it is sent */
      p->stats.fraction_lost = pkt.blocks[pkt.n_blocks - 1].fraction_lost / 256.0;
      tm_bwe_on_loss_repaired(&p->bwe, first_lost, p->stats.fraction_lost, now_us);
      learn_overshoot(p, now_us);
      p->stats.queue_ms = tm_bwe_queue_ms(&p->bwe);
      p->stats.first_lost = first_lost;
    }
    append_rtcp(&w, &pkt);
    any = pkt.n_blocks > 0;
    TmRtcpPacket remb;
    if (any && fill_remb(p, &remb))
      append_rtcp(&w, &remb);
  } else {
    for (int t = 0; t < TM_TRACK_COUNT; t++) {
      OutStream *o = &p->out[t];
      if (!o->started)
        continue;
      memset(&pkt, 0, sizeof pkt);
      pkt.kind = TM_RTCP_KIND_SR;
      pkt.sender_ssrc = o->ssrc;
      pkt.ntp = ntp;
      pkt.rtp_ts =
        o->last_ts + (uint32_t) ((now_us - o->last_send_us) * (int64_t) o->clock_rate / 1000000);
      pkt.packet_count = o->packets;
      pkt.octet_count = o->octets;
      append_rtcp(&w, &pkt);
      any = true;
    }
  }
  if (!any)
    return;
  memset(&pkt, 0, sizeof pkt);
  pkt.kind = TM_RTCP_KIND_SDES;
  pkt.sender_ssrc = p->kind == TM_PEER_PUBLISH ? p->rtcp_ssrc : p->out[TM_TRACK_VIDEO].ssrc;
  g_strlcpy(pkt.cname, "testimony-relay", sizeof pkt.cname);
  append_rtcp(&w, &pkt);
  if (!w.err)
    send_rtcp(p, buf, w.pos);
}

void
tm_peer_handle_timeout(TmPeer *p, int64_t now_us)
{
  tm_dtls_handle_timeout(p->dtls, now_us);
  if (p->twcc != NULL && tm_twcc_next_deadline(p->twcc) <= now_us)
    send_twcc(p, now_us);
  if (p->connected && p->in[TM_TRACK_VIDEO].n_pending > 0)
    flush_nacks(p, &p->in[TM_TRACK_VIDEO], now_us);
  if (p->connected && p->out[TM_TRACK_VIDEO].n_echoes > 0)
    send_rtx_echoes(p, now_us);
  if (now_us < p->next_report_us)
    return;
  int64_t span = now_us - p->last_report_us;
  uint64_t bytes = p->kind == TM_PEER_PUBLISH ? p->stats.bytes_in : p->stats.bytes_out;
  if (span > 0)
    p->stats.bitrate_bps = (bytes - p->bytes_at_last_report) * 8 * 1000000 / (uint64_t) span;
  p->bytes_at_last_report = bytes;
  p->last_report_us = now_us;
  p->next_report_us = now_us + TM_PEER_REPORT_INTERVAL_US;
  if (p->connected)
    send_reports(p, now_us);
}

int64_t
tm_peer_next_deadline(const TmPeer *p)
{
  int64_t d = MIN(tm_dtls_next_deadline(p->dtls), p->next_report_us);
  if (p->twcc != NULL)
    d = MIN(d, tm_twcc_next_deadline(p->twcc));
  const InStream *in = &p->in[TM_TRACK_VIDEO];
  for (unsigned i = 0; i < in->n_pending; i++)
    d = MIN(d, in->pending[i].next_us);
  const OutStream *o = &p->out[TM_TRACK_VIDEO];
  for (unsigned i = 0; i < o->n_echoes; i++)
    d = MIN(d, o->echoes[i].due_us);
  return d;
}

void
tm_peer_close(TmPeer *p)
{
  tm_dtls_close(p->dtls);
}

bool
tm_peer_track_info(const TmPeer *p, TmTrack track, uint8_t *pt, uint32_t *clock)
{
  if (p->pt_for[track] == 255)
    return false;
  *pt = p->pt_for[track];
  *clock = p->clock_for[track];
  return true;
}

TmPeerKind
tm_peer_kind(const TmPeer *p)
{
  return p->kind;
}

bool
tm_peer_is_connected(const TmPeer *p)
{
  return p->connected;
}

TmSrtpProfile
tm_peer_srtp_profile(const TmPeer *p)
{
  return p->profile;
}

const TmPeerStats *
tm_peer_stats(const TmPeer *p)
{
  return &p->stats;
}

void
tm_peer_set_data(TmPeer *p, void *data)
{
  p->data = data;
}

void *
tm_peer_get_data(const TmPeer *p)
{
  return p->data;
}
