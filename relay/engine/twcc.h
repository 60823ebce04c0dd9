/* twcc.h — transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-
 * extensions-01): the receiving side (TmTwcc) and the sending side (TmTwccSender).
 *
 * A sender that negotiated it numbers every packet of its transport (audio, video, RTX, padding
 * probes) in an RTP header extension. The relay notes when each number arrived and reports the
 * arrivals to the sender in RTCP feedback (RTPFB, FMT 15) about every 100 ms; the sender's
 * congestion controller (Chromium's send-side estimator) judges its link from how the gaps
 * between arrivals grow, well before packets are lost. Pure: no clock, no I/O. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TM_TWCC_URI "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
#define TM_TWCC_WINDOW 1024        /* arrivals noted and not yet reported */
#define TM_TWCC_INTERVAL_US 100000 /* feedback this long after the first unreported arrival */
#define TM_TWCC_MAX_FEEDBACK 1100  /* bytes of one feedback packet, at most */
#define TM_TWCC_MAX_PARSED 2048    /* packets a parsed feedback may describe */

typedef struct {
  bool started;
  uint64_t base;    /* extended sequence number of the first packet not yet reported */
  uint64_t highest; /* highest extended sequence number noted */
  int64_t arrival_us[TM_TWCC_WINDOW];
  bool have[TM_TWCC_WINDOW];
  uint8_t fb_count;
  int64_t due_us; /* when feedback is due; 0: nothing to report */
  uint64_t late;  /* arrivals of packets already reported (as lost), or twice */
} TmTwcc;

void tm_twcc_init(TmTwcc *t);
/* Packet SEQ (the extension's transport-wide sequence number) arrived at NOW_US. */
void tm_twcc_on_packet(TmTwcc *t, uint16_t seq, int64_t now_us);
/* When feedback is due, or INT64_MAX. */
int64_t tm_twcc_next_deadline(const TmTwcc *t);
/* Writes one feedback packet (a complete RTCP packet, padded to 32 bits) about the arrivals
 * not yet reported, into OUT (CAP bytes, at least TM_TWCC_MAX_FEEDBACK); returns its length, or
 * 0 when there is nothing to report. What does not fit stays due at once. */
size_t tm_twcc_build(TmTwcc *t, uint32_t sender_ssrc, uint32_t media_ssrc, int64_t now_us,
                     uint8_t *out, size_t cap);

/* A parsed feedback packet (tests, fuzzing): per packet from BASE on, whether it arrived and,
 * if so, its arrival time in µs from the reference time. */
typedef struct {
  uint32_t sender_ssrc, media_ssrc;
  uint16_t base;
  uint16_t count;
  int32_t reference; /* 24-bit signed, × 64 ms */
  uint8_t fb_count;
  bool received[TM_TWCC_MAX_PARSED];
  int64_t arrival_us[TM_TWCC_MAX_PARSED]; /* from reference × 64 ms */
} TmTwccFeedback;

/* Parses one RTCP packet (BUF, LEN: header included) that is transport-cc feedback. FALSE when
 * it is not, or is malformed. */
bool tm_twcc_parse(const uint8_t *buf, size_t len, TmTwccFeedback *out);

/* ---- the sending side ----
 *
 * A subscribe connection whose receiver negotiated transport-cc numbers every packet it sends
 * (tm_rtp_with_twcc) and remembers when it sent it; the receiver's feedback then gives, packet
 * by packet, when each arrived on the receiver's clock: the delay trend of the relay's link to
 * that receiver (tm_bwe_on_arrival). */

#define TM_TWCC_SENT_SLOTS 2048 /* packets remembered: about 4 s of 1.5 Mbit/s */

/* What a numbered packet carried: the receiver's losses of each count differently (a lost
 * video packet is repaired when its retransmission arrives; sound is not resent). */
typedef enum { TM_TWCC_VIDEO, TM_TWCC_AUDIO, TM_TWCC_REPAIR, TM_TWCC_KINDS } TmTwccKind;

typedef struct {
  int64_t send_us; /* 0: free */
  uint32_t bytes;
  uint16_t seq;
  uint16_t media_seq; /* video and repairs: the video packet's sequence number as sent */
  uint8_t kind;       /* TmTwccKind */
} TmTwccSent;

typedef struct {
  uint16_t next_seq;
  bool have_reference;
  int64_t reference; /* the last feedback's reference time, unwrapped (× 64 ms) */
  TmTwccSent sent[TM_TWCC_SENT_SLOTS];
  uint64_t feedback_in; /* feedback packets taken */
  uint64_t acked, lost; /* packets reported arrived, reported lost */
  /* the same by what they carried, for the packets still remembered when reported */
  uint64_t acked_kind[TM_TWCC_KINDS], lost_kind[TM_TWCC_KINDS];
} TmTwccSender;

void tm_twcc_sender_init(TmTwccSender *s, uint16_t first_seq);
/* The number for the next packet: write it with tm_rtp_with_twcc, then tm_twcc_sender_sent. */
uint16_t tm_twcc_sender_next(TmTwccSender *s);
/* The packet numbered SEQ, carrying KIND (for video and repairs, the video packet MEDIA_SEQ),
 * went out at NOW_US, BYTES long (on the wire). */
void tm_twcc_sender_sent(TmTwccSender *s, uint16_t seq, size_t bytes, TmTwccKind kind,
                         uint16_t media_seq, int64_t now_us);

/* A packet reported lost that was sent this much before one reported arrived in the same
 * feedback is taken to be lost, not late: a receiver reports a packet overtaken at the time of
 * its feedback as lost and never reports it again. Links seldom reorder packets sent further
 * apart than this; the emulated links of the benchmarks (a delay drawn per packet) do, and the
 * copy sent in vain is counted (docs/poor-networks.md). */
#define TM_TWCC_REORDER_US 10000

/* What one feedback says of the packets we still remember. */
typedef struct {
  /* Each packet that arrived, in sequence (= sending) order: ARRIVAL_US on the receiver's
   * clock. */
  void (*arrived)(void *user, const TmTwccSent *sent, int64_t arrival_us);
  /* Each packet that did not, and was sent TM_TWCC_REORDER_US or more before one that did
   * (NULL: not wanted). */
  void (*lost)(void *user, const TmTwccSent *sent);
} TmTwccFeedbackFns;

/* Feedback FB about what we sent, passed to FNS (with USER). Packets reported lost, or not
 * remembered, are counted. */
void tm_twcc_sender_on_feedback(TmTwccSender *s, const TmTwccFeedback *fb,
                                const TmTwccFeedbackFns *fns, void *user);
