/* rtp.h — RTP packets (RFC 3550) and classification of datagrams on a WebRTC transport
 * (RFC 7983). Parsing gives a view into the caller's buffer; nothing is allocated. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TM_RTP_MAX_CSRC 15
#define TM_RTP_MAX_PACKET 1500

typedef enum {
  TM_PACKET_STUN, /* first byte 0..3 */
  TM_PACKET_DTLS, /* 20..63 */
  TM_PACKET_RTP,  /* 128..191, second byte's PT not 192..223 */
  TM_PACKET_RTCP, /* 128..191, PT 192..223 */
  TM_PACKET_UNKNOWN
} TmPacketClass;

TmPacketClass tm_packet_classify(const uint8_t *buf, size_t len);

typedef enum {
  TM_RTP_OK = 0,
  TM_RTP_ERR_SHORT,   /* shorter than its own header says */
  TM_RTP_ERR_VERSION, /* version is not 2 */
  TM_RTP_ERR_PADDING, /* padding length 0 or beyond the payload */
  TM_RTP_ERR_BUFFER,  /* serialize: output buffer too small */
  TM_RTP_ERR_COUNT
} TmRtpError;

typedef struct {
  bool padding;
  bool marker;
  uint8_t pt;
  uint16_t seq;
  uint32_t ts;
  uint32_t ssrc;
  uint8_t csrc_count;
  uint32_t csrc[TM_RTP_MAX_CSRC];
  bool extension;
  uint16_t ext_profile;
  const uint8_t *ext; /* extension data (after the 4-byte extension header) */
  size_t ext_len;     /* bytes, a multiple of 4 */
  size_t header_len;  /* fixed header + CSRCs + extension */
  const uint8_t *payload;
  size_t payload_len;  /* without padding */
  uint8_t padding_len; /* including the count byte itself; 0 when no padding */
} TmRtpPacket;

TmRtpError tm_rtp_parse(const uint8_t *buf, size_t len, TmRtpPacket *out);
size_t tm_rtp_serialized_size(const TmRtpPacket *p);
/* Writes P into BUF; returns the number of bytes or 0 with *ERR set. Padding bytes are zero
 * but for the count. */
size_t tm_rtp_serialize(const TmRtpPacket *p, uint8_t *buf, size_t cap, TmRtpError *err);
const char *tm_rtp_strerror(TmRtpError err);

/* The element ID (1-14 in the one-byte form, 1-255 in the two-byte form) of P's header
 * extension block (RFC 8285): its data and length. FALSE when P has no such element, or the
 * block is malformed. */
bool tm_rtp_find_extension(const TmRtpPacket *p, uint8_t id, const uint8_t **data, size_t *len);

/* Writes into OUT the packet BUF (LEN bytes, parsed in PKT) with its header extension block
 * replaced by one that holds only element ID (1-14, one-byte form) with the 16-bit transport-wide
 * sequence number SEQ (twcc.h): fixed header and CSRCs, then the new block, then the payload and
 * padding unchanged. What the sender's own extensions said is not passed on. OUT may be BUF
 * (rewritten in place). Returns the length, or 0 when CAP is too small or ID out of range. */
size_t tm_rtp_with_twcc(const uint8_t *buf, size_t len, const TmRtpPacket *pkt, uint8_t id,
                        uint16_t seq, uint8_t *out, size_t cap);

/* In-place rewrites of a parsed packet's header (BUF must be at least 12 bytes). */
void tm_rtp_rewrite(uint8_t *buf, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc);

/* RTX (RFC 4588 §4): writes into OUT the retransmission of ORIG (LEN bytes, parsed in PKT) as
 * payload type PT, sequence number SEQ and SSRC: ORIG's header (marker, timestamp, CSRCs,
 * extension kept) with the original sequence number (OSN) as the first two payload bytes, then
 * ORIG's payload and padding. Returns the length (LEN + 2), or 0 when CAP is too small. */
size_t tm_rtx_wrap(const uint8_t *orig, size_t len, const TmRtpPacket *pkt, uint8_t pt,
                   uint16_t seq, uint32_t ssrc, uint8_t *out, size_t cap);
/* Undoes tm_rtx_wrap in place: BUF (*LEN bytes, an RTX packet parsed in PKT) becomes the
 * original packet with payload type PT, the OSN as sequence number and SSRC, *LEN two bytes
 * shorter, PKT parsed again. FALSE (BUF unchanged) when the payload is shorter than an OSN, as
 * in the padding-only RTX packets senders use to probe bandwidth. */
bool tm_rtx_unwrap(uint8_t *buf, size_t *len, TmRtpPacket *pkt, uint8_t pt, uint32_t ssrc);

/* True when a VP8 payload (RFC 7741) starts a key frame. */
bool tm_vp8_is_keyframe(const uint8_t *payload, size_t len);
