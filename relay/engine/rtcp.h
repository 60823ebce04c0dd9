/* rtcp.h — RTCP packets (RFC 3550, RFC 4585, RFC 5104, REMB draft): parse one packet at a time
 * from a compound datagram, serialize one packet at a time. No allocation. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TM_RTCP_MAX_BLOCKS 31
#define TM_RTCP_MAX_NACK 64 /* NACK FCI entries per packet kept; more are an error */
#define TM_RTCP_MAX_FIR 16
#define TM_RTCP_MAX_REMB_SSRC 16
#define TM_RTCP_CNAME_LEN 256

typedef enum {
  TM_RTCP_SR = 200,
  TM_RTCP_RR = 201,
  TM_RTCP_SDES = 202,
  TM_RTCP_BYE = 203,
  TM_RTCP_RTPFB = 205,
  TM_RTCP_PSFB = 206,
} TmRtcpPt;

typedef enum {
  TM_RTCP_KIND_SR,
  TM_RTCP_KIND_RR,
  TM_RTCP_KIND_SDES, /* first chunk's CNAME only */
  TM_RTCP_KIND_BYE,
  TM_RTCP_KIND_NACK,  /* RTPFB fmt 1 */
  TM_RTCP_KIND_PLI,   /* PSFB fmt 1 */
  TM_RTCP_KIND_FIR,   /* PSFB fmt 4 */
  TM_RTCP_KIND_REMB,  /* PSFB fmt 15 "REMB" */
  TM_RTCP_KIND_OTHER, /* valid header, type we do not read (e.g. transport-cc, APP, XR) */
} TmRtcpKind;

typedef enum {
  TM_RTCP_OK = 0,
  TM_RTCP_ERR_SHORT, /* header or declared length runs past the datagram */
  TM_RTCP_ERR_VERSION,
  TM_RTCP_ERR_TOO_MANY,  /* more entries than we keep */
  TM_RTCP_ERR_MALFORMED, /* length inconsistent with the type */
  TM_RTCP_ERR_BUFFER,    /* serialize: output too small */
  TM_RTCP_ERR_COUNT
} TmRtcpError;

typedef struct {
  uint32_t ssrc;
  uint8_t fraction_lost;
  int32_t cumulative_lost; /* 24-bit signed */
  uint32_t highest_seq;
  uint32_t jitter;
  uint32_t lsr;
  uint32_t dlsr;
} TmRtcpReportBlock;

typedef struct {
  uint16_t pid;
  uint16_t blp;
} TmRtcpNackItem;

typedef struct {
  uint32_t ssrc;
  uint8_t seq;
} TmRtcpFirItem;

typedef struct {
  TmRtcpKind kind;
  uint8_t pt;
  uint8_t count; /* RC / SC / FMT field */
  uint32_t sender_ssrc;
  uint32_t media_ssrc; /* feedback messages */
  /* SR */
  uint64_t ntp;
  uint32_t rtp_ts;
  uint32_t packet_count;
  uint32_t octet_count;
  /* SR, RR */
  TmRtcpReportBlock blocks[TM_RTCP_MAX_BLOCKS];
  unsigned n_blocks;
  /* SDES */
  char cname[TM_RTCP_CNAME_LEN];
  /* NACK */
  TmRtcpNackItem nacks[TM_RTCP_MAX_NACK];
  unsigned n_nacks;
  /* FIR */
  TmRtcpFirItem firs[TM_RTCP_MAX_FIR];
  unsigned n_firs;
  /* REMB */
  uint64_t remb_bitrate;
  uint32_t remb_ssrcs[TM_RTCP_MAX_REMB_SSRC];
  unsigned n_remb_ssrcs;
} TmRtcpPacket;

typedef struct {
  const uint8_t *data;
  size_t len;
  size_t pos;
} TmRtcpIter;

void tm_rtcp_iter_init(TmRtcpIter *it, const uint8_t *data, size_t len);
/* Parses the next packet of a compound datagram into OUT. Returns TM_RTCP_OK, or an error (the
 * rest of the datagram is then skipped). *DONE is set when no packet is left. */
TmRtcpError tm_rtcp_iter_next(TmRtcpIter *it, TmRtcpPacket *out, bool *done);

size_t tm_rtcp_serialized_size(const TmRtcpPacket *p);
/* Writes one packet; returns bytes written or 0 with *ERR set. */
size_t tm_rtcp_serialize(const TmRtcpPacket *p, uint8_t *buf, size_t cap, TmRtcpError *err);
const char *tm_rtcp_strerror(TmRtcpError err);

/* Sequence numbers a NACK item asks for: writes up to 17 into OUT, returns how many. */
unsigned tm_rtcp_nack_expand(const TmRtcpNackItem *item, uint16_t out[17]);
