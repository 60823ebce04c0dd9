/* browser.h — a participant's browser, simulated with the engine's own pieces: a DTLS client
 * (tm_dtls) and, once it is keyed, an SRTP session (tm_srtp).
 *
 * It keeps what it received (decrypted RTP and RTCP, in order of arrival) and what it sent (the
 * plaintext of each RTP packet, to answer NACKs as a browser does). It does not send by itself:
 * its datagrams go to its owner's `send` function (the fake link of sim.h), which delivers them
 * to the relay's side later; what comes back enters through tm_sim_browser_receive(). */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "dtls.h"
#include "peer.h"
#include "rtcp.h"
#include "rtp.h"
#include "sdp.h"
#include "srtp.h"

/* Payloads a test sends: a VP8 key frame and delta frame (RFC 7741 descriptor S=1), Opus. */
extern const uint8_t tm_sim_vp8_key[7];
extern const uint8_t tm_sim_vp8_delta[4];
extern const uint8_t tm_sim_opus[3];

typedef struct _TmSimBrowser TmSimBrowser;

/* Puts one datagram the browser sends on its way to the relay. */
typedef void (*TmSimSendFunc)(void *user_data, TmSimBrowser *b, const uint8_t *buf, size_t len);

struct _TmSimBrowser {
  TmDtlsIdentity *identity;
  TmDtls *dtls;
  TmSrtp *srtp;  /* NULL until DTLS is up */
  TmPeer *peer;  /* the relay's side of this connection; NULL once closed */
  TmSdp *answer; /* the relay's answer to this browser's offer */
  bool connected;
  bool failed;
  int drop_rtp;          /* lose this many incoming RTP datagrams on the way */
  GPtrArray *rtp_in;     /* GBytes: decrypted RTP received */
  GPtrArray *rtcp_in;    /* GBytes: decrypted RTCP received */
  uint64_t rejected_rtp; /* SRTP that did not authenticate (a replay, a forgery) */
  uint64_t rejected_rtcp;
  GHashTable *sent;     /* (SSRC, seq) -> GBytes: plaintext RTP sent, for NACK answers */
  guint nacks_seen;     /* rtcp_in entries already answered */
  uint16_t rtx_seq;     /* the next sequence number of its RTX stream (RFC 4588) */
  uint8_t twcc_id;      /* transport-cc answered: every RTP packet carries a transport-wide ... */
  uint16_t twcc_seq;    /* ... sequence number, this one next (as Chromium does) */
  uint8_t abs_send_id;  /* abs-send-time answered: every RTP packet carries its send time ... */
  const int64_t *clock; /* ... from this clock (the simulation's), µs */
  TmSimSendFunc send;
  void *send_data;
};

/* A browser that expects the relay's certificate RELAY_FP (sha-256). */
TmSimBrowser *tm_sim_browser_new(const uint8_t *relay_fp, TmSimSendFunc send, void *send_data);
void tm_sim_browser_free(TmSimBrowser *b);
/* Sends the ClientHello. */
void tm_sim_browser_start(TmSimBrowser *b, int64_t now_us);

/* An offer as a browser would make it: audio and video, BUNDLE, rtcp-mux, NACK and PLI for
 * video. DIR is "sendonly" (publish) or "recvonly" (subscribe). g_free. */
char *tm_sim_browser_offer(const uint8_t *fp, const char *dir, int opus_pt, int vp8_pt);
/* The same with rtx/90000 for the VP8 at RTX_PT (0: none) and goog-remb when REMB, as Chromium
 * offers them. */
char *tm_sim_browser_offer_full(const uint8_t *fp, const char *dir, int opus_pt, int vp8_pt,
                                int rtx_pt, bool remb);
/* OFFER with transport-cc offered in both sections (extension ID 3), as Chromium does. g_free. */
char *tm_sim_browser_offer_twcc(const char *offer, int opus_pt, int vp8_pt);
/* OFFER with abs-send-time offered in both sections (extension ID 2), as Chromium does. g_free. */
char *tm_sim_browser_offer_abs_send_time(const char *offer);
/* OFFER with red/48000/2 at RED_PT for its Opus ("OPUS_PT/OPUS_PT"), as Chromium offers it.
 * g_free. */
char *tm_sim_browser_offer_red(const char *offer, int opus_pt, int red_pt);

void tm_sim_browser_receive(TmSimBrowser *b, const uint8_t *buf, size_t len, int64_t now_us);

/* Protects one RTP packet into BUF (CAP bytes) and returns its length; remembers the plaintext.
 * The test may send the bytes (tm_sim_browser_transmit) once, twice, or never. */
size_t tm_sim_browser_protect_rtp(TmSimBrowser *b, uint8_t pt, uint16_t seq, uint32_t ts,
                                  uint32_t ssrc, const uint8_t *payload, size_t payload_len,
                                  uint8_t *buf, size_t cap);
size_t tm_sim_browser_protect_rtcp(TmSimBrowser *b, const TmRtcpPacket *pkt, uint8_t *buf,
                                   size_t cap);
/* Hands BUF to the link as it is. */
void tm_sim_browser_transmit(TmSimBrowser *b, const uint8_t *buf, size_t len);
/* Protect and transmit. */
void tm_sim_browser_send_rtp(TmSimBrowser *b, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
                             const uint8_t *payload, size_t payload_len);
void tm_sim_browser_send_rtcp(TmSimBrowser *b, const TmRtcpPacket *pkt);

/* Answers every NACK received since the last call by sending the packets again (the same
 * plaintext, protected again) — as RTX on SSRC + 1 with its own sequence numbers when the
 * relay's answer has rtx for the video. */
void tm_sim_browser_answer_nacks(TmSimBrowser *b);
/* NACKs every gap between the first and the newest RTP packet received (sequence numbers far
 * from the 16-bit wrap), as one NACK for MEDIA_SSRC. Returns how many it asked for. */
unsigned tm_sim_browser_nack_gaps(TmSimBrowser *b, uint32_t media_ssrc);

/* The I-th RTP packet received (a view into rtp_in). */
TmRtpPacket tm_sim_browser_nth_rtp(const TmSimBrowser *b, guint i);
/* The sequence number of the media packet the I-th RTP packet carries: an RTX packet's (the
 * video's rtx payload type in the relay's answer) original one, else its own. */
int tm_sim_browser_media_seq(const TmSimBrowser *b, guint i);
/* RTCP packets of KIND in everything received. */
int tm_sim_browser_count_rtcp(const TmSimBrowser *b, TmRtcpKind kind);
/* Every RTCP packet of KIND received, in order (g_array_unref). */
GArray *tm_sim_browser_rtcp_of_kind(const TmSimBrowser *b, TmRtcpKind kind);
/* The last RTCP packet of KIND received; false when none. */
bool tm_sim_browser_last_rtcp(const TmSimBrowser *b, TmRtcpKind kind, TmRtcpPacket *out);
/* Distinct media sequence numbers received (RTX counted as what it carries), and the lowest
 * and highest of them. */
guint tm_sim_browser_distinct_rtp(const TmSimBrowser *b, int *first, int *newest);
