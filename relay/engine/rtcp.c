/* rtcp.c — RTCP parse/serialize. */
#include "rtcp.h"

#include <string.h>

#include "util.h"

void
tm_rtcp_iter_init(TmRtcpIter *it, const uint8_t *data, size_t len)
{
  it->data = data;
  it->len = data != NULL ? len : 0;
  it->pos = 0;
}

static void
read_block(TmReader *r, TmRtcpReportBlock *b)
{
  b->ssrc = tm_reader_u32(r);
  b->fraction_lost = tm_reader_u8(r);
  uint32_t lost = tm_reader_u24(r);
  b->cumulative_lost = (lost & 0x800000) ? (int32_t) (lost | 0xff000000u) : (int32_t) lost;
  b->highest_seq = tm_reader_u32(r);
  b->jitter = tm_reader_u32(r);
  b->lsr = tm_reader_u32(r);
  b->dlsr = tm_reader_u32(r);
}

static TmRtcpError
read_blocks(TmReader *r, TmRtcpPacket *out)
{
  if (tm_reader_remaining(r) < (size_t) out->count * 24)
    return TM_RTCP_ERR_MALFORMED;
  out->n_blocks = out->count;
  for (unsigned i = 0; i < out->n_blocks; i++)
    read_block(r, &out->blocks[i]);
  return TM_RTCP_OK;
}

static TmRtcpError
parse_sdes(TmReader *r, TmRtcpPacket *out)
{
  if (out->count == 0)
    return TM_RTCP_OK;
  out->sender_ssrc = tm_reader_u32(r);
  while (!r->err && tm_reader_remaining(r) > 0) {
    uint8_t type = tm_reader_u8(r);
    if (type == 0)
      break;
    uint8_t n = tm_reader_u8(r);
    const uint8_t *v = tm_reader_bytes(r, n);
    if (v != NULL && type == 1 && out->cname[0] == '\0') {
      memcpy(out->cname, v, n); /* n < TM_RTCP_CNAME_LEN */
      out->cname[n] = '\0';
      if (strlen(out->cname) != n)
        return TM_RTCP_ERR_MALFORMED;
    }
  }
  return r->err ? TM_RTCP_ERR_MALFORMED : TM_RTCP_OK;
}

static TmRtcpError
parse_feedback(TmReader *r, TmRtcpPacket *out)
{
  out->sender_ssrc = tm_reader_u32(r);
  out->media_ssrc = tm_reader_u32(r);
  if (r->err)
    return TM_RTCP_ERR_MALFORMED;
  size_t fci = tm_reader_remaining(r);
  if (out->pt == TM_RTCP_RTPFB && out->count == 1) {
    out->kind = TM_RTCP_KIND_NACK;
    if (fci == 0 || fci % 4 != 0)
      return TM_RTCP_ERR_MALFORMED;
    if (fci / 4 > TM_RTCP_MAX_NACK)
      return TM_RTCP_ERR_TOO_MANY;
    out->n_nacks = (unsigned) (fci / 4);
    for (unsigned i = 0; i < out->n_nacks; i++) {
      out->nacks[i].pid = tm_reader_u16(r);
      out->nacks[i].blp = tm_reader_u16(r);
    }
  } else if (out->pt == TM_RTCP_PSFB && out->count == 1) {
    out->kind = TM_RTCP_KIND_PLI;
  } else if (out->pt == TM_RTCP_PSFB && out->count == 4) {
    out->kind = TM_RTCP_KIND_FIR;
    if (fci == 0 || fci % 8 != 0)
      return TM_RTCP_ERR_MALFORMED;
    if (fci / 8 > TM_RTCP_MAX_FIR)
      return TM_RTCP_ERR_TOO_MANY;
    out->n_firs = (unsigned) (fci / 8);
    for (unsigned i = 0; i < out->n_firs; i++) {
      out->firs[i].ssrc = tm_reader_u32(r);
      out->firs[i].seq = tm_reader_u8(r);
      tm_reader_skip(r, 3);
    }
  } else if (out->pt == TM_RTCP_PSFB && out->count == 15 && fci >= 8 &&
             memcmp(r->data + r->pos, "REMB", 4) == 0) {
    out->kind = TM_RTCP_KIND_REMB;
    tm_reader_skip(r, 4);
    uint8_t num = tm_reader_u8(r);
    uint32_t v = tm_reader_u24(r);
    uint8_t exp = (uint8_t) (v >> 18);
    uint64_t mantissa = v & 0x3ffff;
    /* 18-bit mantissa, 6-bit exponent: saturate only where the value does not fit in 64 bits,
     * at the largest rate that does (and that serializes back to itself) */
    if (exp <= 46 || mantissa >> (64 - exp) == 0)
      out->remb_bitrate = mantissa << exp;
    else
      out->remb_bitrate = (uint64_t) 0x3ffff << 46;
    if (num > TM_RTCP_MAX_REMB_SSRC)
      return TM_RTCP_ERR_TOO_MANY;
    if (tm_reader_remaining(r) < (size_t) num * 4)
      return TM_RTCP_ERR_MALFORMED;
    out->n_remb_ssrcs = num;
    for (unsigned i = 0; i < num; i++)
      out->remb_ssrcs[i] = tm_reader_u32(r);
  }
  return r->err ? TM_RTCP_ERR_MALFORMED : TM_RTCP_OK;
}

static TmRtcpError
parse_body(TmReader *r, TmRtcpPacket *out)
{
  switch (out->pt) {
  case TM_RTCP_SR:
    out->kind = TM_RTCP_KIND_SR;
    out->sender_ssrc = tm_reader_u32(r);
    out->ntp = (uint64_t) tm_reader_u32(r) << 32;
    out->ntp |= tm_reader_u32(r);
    out->rtp_ts = tm_reader_u32(r);
    out->packet_count = tm_reader_u32(r);
    out->octet_count = tm_reader_u32(r);
    return r->err ? TM_RTCP_ERR_MALFORMED : read_blocks(r, out);
  case TM_RTCP_RR:
    out->kind = TM_RTCP_KIND_RR;
    out->sender_ssrc = tm_reader_u32(r);
    return r->err ? TM_RTCP_ERR_MALFORMED : read_blocks(r, out);
  case TM_RTCP_SDES: out->kind = TM_RTCP_KIND_SDES; return parse_sdes(r, out);
  case TM_RTCP_BYE:
    out->kind = TM_RTCP_KIND_BYE;
    if (out->count > 0)
      out->sender_ssrc = tm_reader_u32(r);
    return r->err ? TM_RTCP_ERR_MALFORMED : TM_RTCP_OK;
  case TM_RTCP_RTPFB:
  case TM_RTCP_PSFB: out->kind = TM_RTCP_KIND_OTHER; return parse_feedback(r, out);
  default: out->kind = TM_RTCP_KIND_OTHER; return TM_RTCP_OK;
  }
}

TmRtcpError
tm_rtcp_iter_next(TmRtcpIter *it, TmRtcpPacket *out, bool *done)
{
  memset(out, 0, sizeof *out);
  *done = it->pos >= it->len;
  if (*done)
    return TM_RTCP_OK;
  TmReader h;
  tm_reader_init(&h, it->data + it->pos, it->len - it->pos);
  uint8_t b0 = tm_reader_u8(&h);
  out->pt = tm_reader_u8(&h);
  size_t words = tm_reader_u16(&h);
  size_t total = (words + 1) * 4;
  if (h.err || total > it->len - it->pos) {
    it->pos = it->len;
    return TM_RTCP_ERR_SHORT;
  }
  if (b0 >> 6 != 2) {
    it->pos = it->len;
    return TM_RTCP_ERR_VERSION;
  }
  out->count = b0 & 0x1f;
  size_t body_len = total - 4;
  if ((b0 & 0x20) != 0) { /* padding: the last byte counts the padding bytes */
    uint8_t pad = it->data[it->pos + total - 1];
    if (pad == 0 || pad > body_len) {
      it->pos = it->len;
      return TM_RTCP_ERR_MALFORMED;
    }
    body_len -= pad;
  }
  TmReader body;
  tm_reader_init(&body, it->data + it->pos + 4, body_len);
  it->pos += total;
  TmRtcpError e = parse_body(&body, out);
  if (e != TM_RTCP_OK)
    it->pos = it->len;
  return e;
}

static size_t
body_size(const TmRtcpPacket *p)
{
  switch (p->kind) {
  case TM_RTCP_KIND_SR: return 24 + 24 * (size_t) p->n_blocks;
  case TM_RTCP_KIND_RR: return 4 + 24 * (size_t) p->n_blocks;
  case TM_RTCP_KIND_SDES: {
    size_t n = 4 + 2 + strlen(p->cname) + 1; /* ssrc, item, terminating null item */
    return (n + 3) & ~(size_t) 3;
  }
  case TM_RTCP_KIND_BYE: return 4;
  case TM_RTCP_KIND_NACK: return 8 + 4 * (size_t) p->n_nacks;
  case TM_RTCP_KIND_PLI: return 8;
  case TM_RTCP_KIND_FIR: return 8 + 8 * (size_t) p->n_firs;
  case TM_RTCP_KIND_REMB: return 16 + 4 * (size_t) p->n_remb_ssrcs;
  default: return 0;
  }
}

size_t
tm_rtcp_serialized_size(const TmRtcpPacket *p)
{
  return 4 + body_size(p);
}

static void
write_blocks(TmWriter *w, const TmRtcpPacket *p)
{
  for (unsigned i = 0; i < p->n_blocks && i < TM_RTCP_MAX_BLOCKS; i++) {
    const TmRtcpReportBlock *b = &p->blocks[i];
    tm_writer_u32(w, b->ssrc);
    tm_writer_u8(w, b->fraction_lost);
    tm_writer_u24(w, (uint32_t) b->cumulative_lost & 0xffffff);
    tm_writer_u32(w, b->highest_seq);
    tm_writer_u32(w, b->jitter);
    tm_writer_u32(w, b->lsr);
    tm_writer_u32(w, b->dlsr);
  }
}

static void
write_remb(TmWriter *w, const TmRtcpPacket *p)
{
  uint64_t mantissa = p->remb_bitrate;
  uint8_t exp = 0;
  while (mantissa > 0x3ffff) {
    mantissa >>= 1;
    exp++;
  }
  tm_writer_bytes(w, "REMB", 4);
  tm_writer_u8(w, (uint8_t) p->n_remb_ssrcs);
  tm_writer_u24(w, (uint32_t) exp << 18 | (uint32_t) mantissa);
  for (unsigned i = 0; i < p->n_remb_ssrcs && i < TM_RTCP_MAX_REMB_SSRC; i++)
    tm_writer_u32(w, p->remb_ssrcs[i]);
}

static uint8_t
header_count(const TmRtcpPacket *p, uint8_t *pt)
{
  switch (p->kind) {
  case TM_RTCP_KIND_SR: *pt = TM_RTCP_SR; return (uint8_t) p->n_blocks;
  case TM_RTCP_KIND_RR: *pt = TM_RTCP_RR; return (uint8_t) p->n_blocks;
  case TM_RTCP_KIND_SDES: *pt = TM_RTCP_SDES; return 1;
  case TM_RTCP_KIND_BYE: *pt = TM_RTCP_BYE; return 1;
  case TM_RTCP_KIND_NACK: *pt = TM_RTCP_RTPFB; return 1;
  case TM_RTCP_KIND_PLI: *pt = TM_RTCP_PSFB; return 1;
  case TM_RTCP_KIND_FIR: *pt = TM_RTCP_PSFB; return 4;
  case TM_RTCP_KIND_REMB: *pt = TM_RTCP_PSFB; return 15;
  default: *pt = 0; return 0;
  }
}

size_t
tm_rtcp_serialize(const TmRtcpPacket *p, uint8_t *buf, size_t cap, TmRtcpError *err)
{
  uint8_t pt;
  uint8_t count = header_count(p, &pt);
  size_t size = tm_rtcp_serialized_size(p);
  TmWriter w;
  tm_writer_init(&w, buf, cap);
  if (pt == 0 || p->n_blocks > TM_RTCP_MAX_BLOCKS || p->n_nacks > TM_RTCP_MAX_NACK ||
      p->n_firs > TM_RTCP_MAX_FIR || p->n_remb_ssrcs > TM_RTCP_MAX_REMB_SSRC ||
      strnlen(p->cname, TM_RTCP_CNAME_LEN) > 255) {
    if (err != NULL)
      *err = TM_RTCP_ERR_MALFORMED;
    return 0;
  }
  tm_writer_u8(&w, (uint8_t) (0x80 | count));
  tm_writer_u8(&w, pt);
  tm_writer_u16(&w, (uint16_t) (size / 4 - 1));
  tm_writer_u32(&w, p->sender_ssrc);
  switch (p->kind) {
  case TM_RTCP_KIND_SR:
    tm_writer_u32(&w, (uint32_t) (p->ntp >> 32));
    tm_writer_u32(&w, (uint32_t) p->ntp);
    tm_writer_u32(&w, p->rtp_ts);
    tm_writer_u32(&w, p->packet_count);
    tm_writer_u32(&w, p->octet_count);
    write_blocks(&w, p);
    break;
  case TM_RTCP_KIND_RR: write_blocks(&w, p); break;
  case TM_RTCP_KIND_SDES: {
    size_t n = strlen(p->cname);
    tm_writer_u8(&w, 1);
    tm_writer_u8(&w, (uint8_t) n);
    tm_writer_bytes(&w, p->cname, n);
    tm_writer_zeros(&w, size - w.pos); /* null item and padding to a word */
    break;
  }
  case TM_RTCP_KIND_NACK:
    tm_writer_u32(&w, p->media_ssrc);
    for (unsigned i = 0; i < p->n_nacks; i++) {
      tm_writer_u16(&w, p->nacks[i].pid);
      tm_writer_u16(&w, p->nacks[i].blp);
    }
    break;
  case TM_RTCP_KIND_PLI: tm_writer_u32(&w, p->media_ssrc); break;
  case TM_RTCP_KIND_FIR:
    tm_writer_u32(&w, p->media_ssrc);
    for (unsigned i = 0; i < p->n_firs; i++) {
      tm_writer_u32(&w, p->firs[i].ssrc);
      tm_writer_u8(&w, p->firs[i].seq);
      tm_writer_zeros(&w, 3);
    }
    break;
  case TM_RTCP_KIND_REMB:
    tm_writer_u32(&w, p->media_ssrc);
    write_remb(&w, p);
    break;
  default: break;
  }
  if (w.err) {
    if (err != NULL)
      *err = TM_RTCP_ERR_BUFFER;
    return 0;
  }
  if (err != NULL)
    *err = TM_RTCP_OK;
  return w.pos;
}

unsigned
tm_rtcp_nack_expand(const TmRtcpNackItem *item, uint16_t out[17])
{
  unsigned n = 0;
  out[n++] = item->pid;
  for (unsigned bit = 0; bit < 16; bit++)
    if (item->blp & (1u << bit))
      out[n++] = (uint16_t) (item->pid + bit + 1);
  return n;
}

static const char *const rtcp_errors[TM_RTCP_ERR_COUNT] = {
  [TM_RTCP_OK] = "no error",
  [TM_RTCP_ERR_SHORT] = "RTCP packet runs past the end of the datagram",
  [TM_RTCP_ERR_VERSION] = "RTCP version is not 2",
  [TM_RTCP_ERR_TOO_MANY] = "RTCP packet has more entries than the relay accepts",
  [TM_RTCP_ERR_MALFORMED] = "RTCP packet length does not fit its type",
  [TM_RTCP_ERR_BUFFER] = "output buffer too small for the RTCP packet",
};

const char *
tm_rtcp_strerror(TmRtcpError err)
{
  return (unsigned) err < TM_RTCP_ERR_COUNT ? rtcp_errors[err] : "unknown RTCP error";
}
