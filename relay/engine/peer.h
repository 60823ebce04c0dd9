/* peer.h — one WebRTC connection of the relay: DTLS-SRTP, RTP/RTCP per hop.
 *
 * A publish peer receives a participant's audio and video and hands each decrypted RTP packet up
 * through the listener; it sends receiver reports, NACKs for what it lost, and key-frame requests
 * (rate-limited). A subscribe peer sends one participant's audio and video to one receiver,
 * rewriting SSRC, sequence number, timestamp and payload type to what that connection
 * negotiated; it sends sender reports, answers NACKs from the publisher's store of recent video
 * (rtxstore.h) with its own rewrite applied again, and passes the receiver's key-frame requests
 * up. Pure: no sockets, clock or threads. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "dtls.h"
#include "rtp.h"
#include "rtxstore.h"
#include "sdp.h"

typedef enum { TM_PEER_PUBLISH, TM_PEER_SUBSCRIBE } TmPeerKind;
typedef enum { TM_TRACK_AUDIO, TM_TRACK_VIDEO, TM_TRACK_COUNT } TmTrack;

/* Video packets sent that a receiver's NACK can name (their originals are in the publisher's
 * store, which keeps as many). */
#define TM_PEER_RTX_SLOTS TM_RTX_STORE_SLOTS
#define TM_PEER_REPORT_INTERVAL_US 1000000
#define TM_PEER_REPAIR_BUCKETS 5 /* stats.repaired_within */
#define TM_PEER_REPAIR_BUCKET_US 250000
#define TM_PEER_REPAIR_WINDOW_US (15 * 1000000) /* tm_peer_recent_repair_us */

typedef struct _TmPeer TmPeer;

typedef struct {
  /* A datagram to put on this peer's ICE transport. */
  void (*transmit)(void *user_data, TmPeer *peer, const uint8_t *buf, size_t len);
  /* DTLS is up and SRTP keyed. */
  void (*connected)(void *user_data, TmPeer *peer);
  /* DTLS failed or the peer closed it; the owner should remove the peer. */
  void (*failed)(void *user_data, TmPeer *peer, const char *reason);
  /* Publish peers: one decrypted RTP packet (BUF/LEN, parsed in PKT) of TRACK. */
  void (*media)(void *user_data, TmPeer *peer, TmTrack track, const TmRtpPacket *pkt,
                const uint8_t *buf, size_t len, int64_t now_us);
  /* Subscribe peers: the receiver asked for a key frame (PLI or FIR); MISSED: it cannot have the
   * last one (its video was held back: tm_peer_request_missed_keyframe). */
  void (*keyframe_request)(void *user_data, TmPeer *peer, bool missed, int64_t now_us);
} TmPeerListener;

typedef struct {
  uint64_t rtp_in, rtp_out, bytes_in, bytes_out;
  uint64_t rtcp_in, rtcp_out;
  uint64_t reports_in; /* subscribe: receiver reports and REMBs about our streams */
  uint64_t nacks_in, retransmits, nacks_out;
  uint64_t rtx_out;        /* subscribe: retransmissions sent as RTX (RFC 4588) */
  uint64_t rtx_repeats;    /* subscribe: NACKed again within a round trip of being resent */
  uint64_t rtx_echoes;     /* subscribe: of RETRANSMITS, copies of a packet asked for again */
  uint64_t rtx_reported;   /* subscribe: of RETRANSMITS, sent on a transport-cc loss report */
  uint64_t rtx_arrived;    /* subscribe: asked for, not sent: its feedback said it arrived */
  uint64_t rtx_in;         /* publish: RTX packets received ... */
  uint64_t rtx_discarded;  /* ... not forwarded: padding probes, duplicates, too late */
  uint64_t nack_recovered; /* publish: packets NACKed that then arrived */
  /* publish: of those, how long after the gap was seen, in 250 ms steps (the last: 1 s or more):
   * what a receiver's jitter buffer must wait for them */
  uint64_t repaired_within[TM_PEER_REPAIR_BUCKETS];
  uint64_t nack_given_up; /* publish: packets NACKed that never came */
  uint64_t red_in;        /* publish: sound packets with redundancy (RFC 2198) received ... */
  uint64_t red_recovered; /* ... packets that did not come, restored from a later one's */
  uint64_t red_discarded; /* ... packets not forwarded: restored already from a later one */
  uint64_t red_out;       /* subscribe: sound packets sent with redundancy */
  uint64_t keyframe_requests_in, keyframe_requests_out;
  uint64_t keyframe_requests_held; /* publish: asked for within the hold-off, not sent on */
  uint64_t drop_srtp, drop_malformed, drop_unknown_pt, drop_not_ready, drop_rate_limited;
  uint64_t drop_waiting_keyframe;
  uint64_t drop_policy;      /* not forwarded: the receiver may not have that track now */
  uint64_t drop_not_shown;   /* not forwarded: video the receiver does not show */
  uint64_t drop_congested;   /* not forwarded: video held back while the receiver's link is full */
  uint64_t congestion_holds; /* subscribe: times its video was held back so */
  uint64_t rtp_out_track[TM_TRACK_COUNT];
  uint64_t packets_lost;     /* publish: gaps seen upstream */
  double handshake_rtt_ms;   /* the DTLS handshake's round trip (tm_dtls_rtt_ms); 0: none */
  double rtt_ms;             /* subscribe: the DTLS handshake's, then from the receiver's
                              * reports; publish: smoothed from the handshake's and
                              * tm_peer_set_rtt_hint() */
  double fraction_lost;      /* subscribe: as the receiver reports; publish: ours */
  uint64_t bitrate_bps;      /* over the last report interval */
  uint64_t estimate_bps;     /* publish: what REMB tells the sender it may send (0: not
                                     * yet); subscribe: what the receiver can take (0: unknown) */
  uint64_t remb_out;         /* publish: REMBs sent */
  uint64_t remb_in;          /* subscribe: REMBs the receiver sent */
  uint64_t twcc_in;          /* publish: packets that carried a transport-wide sequence number */
  uint64_t twcc_out;         /* publish: transport-cc feedback packets sent */
  uint64_t twcc_feedback_in; /* subscribe: transport-cc feedback packets from the receiver */
  uint64_t overuse_events;   /* subscribe: times its delay trend showed a growing queue */
  double queue_ms;           /* publish: the standing queue the delay shows (tm_bwe_queue_ms; < 0
                            while not known), as of the last report */
  double first_lost;         /* publish: share of the video that did not come at first, repaired
                            or not, over the last report interval */
} TmPeerStats;

typedef struct {
  TmPeerKind kind;
  TmDtlsIdentity *identity;
  /* The peer's DTLS certificate digest (sha-256) from its offer. */
  const uint8_t *remote_fingerprint;
  size_t remote_fingerprint_len;
  /* The answer the relay gave: payload types, and for subscribe peers the SSRCs it sends. */
  const TmSdp *answer;
  /* Wall clock minus monotonic clock, microseconds: for NTP times in sender reports. */
  int64_t wall_offset_us;
  uint32_t cname_hash; /* seeds our RTCP sender SSRC */
  GRand *rand;         /* SSRCs and RTP offsets; NULL: GLib's global generator */
} TmPeerConfig;

TmPeer *tm_peer_new(const TmPeerConfig *config, const TmPeerListener *listener, void *user_data,
                    int64_t now_us);
void tm_peer_free(TmPeer *peer);

void tm_peer_handle_datagram(TmPeer *peer, const uint8_t *buf, size_t len, int64_t now_us);
void tm_peer_handle_timeout(TmPeer *peer, int64_t now_us);
int64_t tm_peer_next_deadline(const TmPeer *peer);

/* Where the original of a forwarded video packet is kept for retransmission. */
typedef struct {
  TmRtxStore *store;
  uint32_t index; /* tm_rtx_store_put's */
} TmRtxKept;

/* Subscribe peers: forward one plaintext RTP packet of TRACK (not modified; copied). KEPT (video;
 * NULL: never retransmitted) says where BUF is kept. Returns true when it was sent. */
bool tm_peer_send_media(TmPeer *peer, TmTrack track, const TmRtpPacket *pkt, const uint8_t *buf,
                        size_t len, const TmRtxKept *kept, int64_t now_us);
/* Subscribe peers: whether TRACK may currently be sent (visibility policy, waiting room, mutes).
 * While disabled nothing of it is sent; when enabled again the stream continues with the next
 * sequence number and a timestamp advanced by the time that passed, and video waits for a key
 * frame. Returns true when the track was just re-enabled (the caller asks for a key frame). */
bool tm_peer_set_track_enabled(TmPeer *peer, TmTrack track, bool enabled);
/* Subscribe peers: whether the receiver shows the video (a display message; shown by default).
 * Video it does not show is not sent (counted as drop_not_shown), which also leaves its link
 * free for what it does show; shown again, it continues as after a re-enable. Returns true when
 * the video just started flowing again (the caller asks for a key frame). */
bool tm_peer_set_video_shown(TmPeer *peer, bool shown);
/* Whether TRACK is being sent: enabled by the policy and, for video, shown. */
bool tm_peer_track_enabled(const TmPeer *peer, TmTrack track);
/* Subscribe peers: the source's stream starts again (the publisher reconnected, with new SSRCs,
 * sequence numbers and timestamps): the receiver's stream continues with the next sequence
 * number and the time that passed, and video waits for a key frame. */
void tm_peer_restart_source(TmPeer *peer);

/* Publish peers: the round-trip time to this participant as measured on its other connections
 * (its subscribe peers' receiver reports). Smoothed with the peer's own samples (first NACK to
 * RTX retransmission); NACK retries wait 1.5 round trips + 10 ms (20 ms .. 500 ms; 100 ms
 * while there is no sample). Values outside 0..10 s are ignored. */
void tm_peer_set_rtt_hint(TmPeer *peer, double rtt_ms);
/* Publish peers: the current wait before asking again for a missing packet. */
int64_t tm_peer_nack_retry_us(const TmPeer *peer);
/* Publish peers: the longest a missing packet took to arrive after its gap was seen, over the
 * last 15-30 s (two windows of TM_PEER_REPAIR_WINDOW_US); 0 when none arrived in that time.
 * What a receiver's jitter buffer must wait for this publisher's repairs: at 10 % bursty loss
 * about one repair in a hundred needs a fourth request. */
int64_t tm_peer_recent_repair_us(const TmPeer *peer, int64_t now_us);

/* Publish peers: the least the receivers of this participant's video can take now (bit/s; 0 =
 * no limit). The estimate sent by REMB (to every publisher of video) is the minimum of the
 * relay's own estimate of the incoming link (loss and delay, bwe.h) and this; a fall of more
 * than 3 % is sent at once, else once a second. */
void tm_peer_set_downstream_limit(TmPeer *peer, uint64_t bps, int64_t now_us);
/* Subscribe peers: what the receiver can take (bit/s): the minimum of a loss-based estimate from
 * its receiver reports and its own REMB, each while less than 5 s old; 0 when unknown. */
uint64_t tm_peer_receiver_estimate(const TmPeer *peer, int64_t now_us);

/* Publish peers: ask the sender for a video key frame; rate-limited (at most ~3 a second). */
void tm_peer_request_keyframe(TmPeer *peer, int64_t now_us);
/* The same for a receiver that cannot have the last key frame: not held back while that one
 * could still be crossing the slowest link (still at most ~3 a second). */
void tm_peer_request_missed_keyframe(TmPeer *peer, int64_t now_us);
/* Sends DTLS close_notify. */
void tm_peer_close(TmPeer *peer);

/* The negotiated payload type and clock rate of TRACK; FALSE when not negotiated. */
bool tm_peer_track_info(const TmPeer *peer, TmTrack track, uint8_t *pt, uint32_t *clock);
TmPeerKind tm_peer_kind(const TmPeer *peer);
bool tm_peer_is_connected(const TmPeer *peer);
TmSrtpProfile tm_peer_srtp_profile(const TmPeer *peer);
const TmPeerStats *tm_peer_stats(const TmPeer *peer);
void tm_peer_set_data(TmPeer *peer, void *data);
void *tm_peer_get_data(const TmPeer *peer);
