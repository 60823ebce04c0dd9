/* rtp.c — RTP parse/serialize and datagram classification. */
#include "rtp.h"

#include <string.h>

#include "util.h"

TmPacketClass
tm_packet_classify(const uint8_t *buf, size_t len)
{
  if (len < 1)
    return TM_PACKET_UNKNOWN;
  uint8_t b = buf[0];
  if (b <= 3)
    return TM_PACKET_STUN;
  if (b >= 20 && b <= 63)
    return TM_PACKET_DTLS;
  if (b >= 128 && b <= 191) {
    if (len < 2)
      return TM_PACKET_UNKNOWN;
    return buf[1] >= 192 && buf[1] <= 223 ? TM_PACKET_RTCP : TM_PACKET_RTP;
  }
  return TM_PACKET_UNKNOWN;
}

TmRtpError
tm_rtp_parse(const uint8_t *buf, size_t len, TmRtpPacket *out)
{
  memset(out, 0, sizeof *out);
  TmReader r;
  tm_reader_init(&r, buf, len);
  uint8_t b0 = tm_reader_u8(&r);
  uint8_t b1 = tm_reader_u8(&r);
  out->seq = tm_reader_u16(&r);
  out->ts = tm_reader_u32(&r);
  out->ssrc = tm_reader_u32(&r);
  if (r.err)
    return TM_RTP_ERR_SHORT;
  if (b0 >> 6 != 2)
    return TM_RTP_ERR_VERSION;
  out->padding = (b0 & 0x20) != 0;
  out->extension = (b0 & 0x10) != 0;
  out->csrc_count = b0 & 0x0f;
  out->marker = (b1 & 0x80) != 0;
  out->pt = b1 & 0x7f;
  for (unsigned i = 0; i < out->csrc_count; i++)
    out->csrc[i] = tm_reader_u32(&r);
  if (out->extension) {
    out->ext_profile = tm_reader_u16(&r);
    out->ext_len = (size_t) tm_reader_u16(&r) * 4;
    out->ext = tm_reader_bytes(&r, out->ext_len);
  }
  if (r.err)
    return TM_RTP_ERR_SHORT;
  out->header_len = r.pos;
  size_t rest = tm_reader_remaining(&r);
  if (out->padding) {
    if (rest == 0)
      return TM_RTP_ERR_PADDING;
    uint8_t pad = buf[len - 1];
    if (pad == 0 || pad > rest)
      return TM_RTP_ERR_PADDING;
    out->padding_len = pad;
    rest -= pad;
  }
  out->payload = buf + out->header_len;
  out->payload_len = rest;
  return TM_RTP_OK;
}

size_t
tm_rtp_serialized_size(const TmRtpPacket *p)
{
  return 12 + 4u * p->csrc_count + (p->extension ? 4 + p->ext_len : 0) + p->payload_len +
    (p->padding ? p->padding_len : 0);
}

size_t
tm_rtp_serialize(const TmRtpPacket *p, uint8_t *buf, size_t cap, TmRtpError *err)
{
  TmWriter w;
  tm_writer_init(&w, buf, cap);
  uint8_t cc = p->csrc_count > TM_RTP_MAX_CSRC ? TM_RTP_MAX_CSRC : p->csrc_count;
  tm_writer_u8(&w, (uint8_t) (0x80 | (p->padding ? 0x20 : 0) | (p->extension ? 0x10 : 0) | cc));
  tm_writer_u8(&w, (uint8_t) ((p->marker ? 0x80 : 0) | (p->pt & 0x7f)));
  tm_writer_u16(&w, p->seq);
  tm_writer_u32(&w, p->ts);
  tm_writer_u32(&w, p->ssrc);
  for (unsigned i = 0; i < cc; i++)
    tm_writer_u32(&w, p->csrc[i]);
  if (p->extension) {
    tm_writer_u16(&w, p->ext_profile);
    tm_writer_u16(&w, (uint16_t) (p->ext_len / 4));
    tm_writer_bytes(&w, p->ext, p->ext_len & ~(size_t) 3);
  }
  tm_writer_bytes(&w, p->payload, p->payload_len);
  if (p->padding && p->padding_len > 0) {
    tm_writer_zeros(&w, p->padding_len - 1u);
    tm_writer_u8(&w, p->padding_len);
  }
  if (w.err) {
    if (err != NULL)
      *err = TM_RTP_ERR_BUFFER;
    return 0;
  }
  if (err != NULL)
    *err = TM_RTP_OK;
  return w.pos;
}

void
tm_rtp_rewrite(uint8_t *buf, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc)
{
  buf[1] = (uint8_t) ((buf[1] & 0x80) | (pt & 0x7f));
  buf[2] = (uint8_t) (seq >> 8);
  buf[3] = (uint8_t) seq;
  buf[4] = (uint8_t) (ts >> 24);
  buf[5] = (uint8_t) (ts >> 16);
  buf[6] = (uint8_t) (ts >> 8);
  buf[7] = (uint8_t) ts;
  buf[8] = (uint8_t) (ssrc >> 24);
  buf[9] = (uint8_t) (ssrc >> 16);
  buf[10] = (uint8_t) (ssrc >> 8);
  buf[11] = (uint8_t) ssrc;
}

size_t
tm_rtp_with_twcc(const uint8_t *buf, size_t len, const TmRtpPacket *pkt, uint8_t id, uint16_t seq,
                 uint8_t *out, size_t cap)
{
  size_t fixed = 12 + 4 * (size_t) pkt->csrc_count;
  if (id == 0 || id >= 15 || len < pkt->header_len || fixed > pkt->header_len)
    return 0;
  size_t rest = len - pkt->header_len;
  if (fixed + 8 + rest > cap)
    return 0;
  /* the payload first, then the header before it: OUT may be BUF */
  memmove(out + fixed + 8, buf + pkt->header_len, rest);
  memmove(out, buf, fixed);
  out[0] |= 0x10;                                             /* X */
  static const uint8_t block[4] = { 0xBE, 0xDE, 0x00, 0x01 }; /* one-byte form, one word */
  memcpy(out + fixed, block, sizeof block);
  out[fixed + 4] = (uint8_t) (id << 4 | 1); /* two bytes of data */
  out[fixed + 5] = (uint8_t) (seq >> 8);
  out[fixed + 6] = (uint8_t) seq;
  out[fixed + 7] = 0; /* padding */
  return fixed + 8 + rest;
}

size_t
tm_rtx_wrap(const uint8_t *orig, size_t len, const TmRtpPacket *pkt, uint8_t pt, uint16_t seq,
            uint32_t ssrc, uint8_t *out, size_t cap)
{
  size_t h = pkt->header_len;
  if (len < h || len + 2 > cap)
    return 0;
  memcpy(out, orig, h);
  out[h] = (uint8_t) (pkt->seq >> 8);
  out[h + 1] = (uint8_t) pkt->seq;
  memcpy(out + h + 2, orig + h, len - h);
  tm_rtp_rewrite(out, pt, seq, pkt->ts, ssrc);
  return len + 2;
}

bool
tm_rtx_unwrap(uint8_t *buf, size_t *len, TmRtpPacket *pkt, uint8_t pt, uint32_t ssrc)
{
  size_t h = pkt->header_len;
  if (pkt->payload_len < 2 || *len < h + 2)
    return false;
  uint16_t osn = (uint16_t) (buf[h] << 8 | buf[h + 1]);
  memmove(buf + h, buf + h + 2, *len - h - 2);
  *len -= 2;
  tm_rtp_rewrite(buf, pt, osn, pkt->ts, ssrc);
  return tm_rtp_parse(buf, *len, pkt) == TM_RTP_OK;
}

bool
tm_vp8_is_keyframe(const uint8_t *payload, size_t len)
{
  /* RFC 7741 §4.2 payload descriptor, then the VP8 frame header (P bit 0 = key frame). */
  TmReader r;
  tm_reader_init(&r, payload, len);
  uint8_t d = tm_reader_u8(&r);
  bool start = (d & 0x10) != 0 && (d & 0x07) == 0;
  if (d & 0x80) {
    uint8_t x = tm_reader_u8(&r);
    if (x & 0x80) {
      uint8_t pid = tm_reader_u8(&r);
      if (pid & 0x80)
        tm_reader_skip(&r, 1);
    }
    if (x & 0x40)
      tm_reader_skip(&r, 1);
    if (x & 0x30)
      tm_reader_skip(&r, 1);
  }
  uint8_t h = tm_reader_u8(&r);
  return !r.err && start && (h & 0x01) == 0;
}

static const char *const rtp_errors[TM_RTP_ERR_COUNT] = {
  [TM_RTP_OK] = "no error",
  [TM_RTP_ERR_SHORT] = "RTP packet shorter than its header",
  [TM_RTP_ERR_VERSION] = "RTP version is not 2",
  [TM_RTP_ERR_PADDING] = "RTP padding length is invalid",
  [TM_RTP_ERR_BUFFER] = "output buffer too small for the RTP packet",
};

const char *
tm_rtp_strerror(TmRtpError err)
{
  return (unsigned) err < TM_RTP_ERR_COUNT ? rtp_errors[err] : "unknown RTP error";
}

bool
tm_rtp_find_extension(const TmRtpPacket *p, uint8_t id, const uint8_t **data, size_t *len)
{
  if (!p->extension || id == 0)
    return false;
  bool one_byte = p->ext_profile == 0xBEDE;
  if (!one_byte && (p->ext_profile & 0xFFF0) != 0x1000)
    return false;
  if (one_byte && id >= 15)
    return false;
  size_t i = 0;
  while (i < p->ext_len) {
    uint8_t b = p->ext[i];
    if (b == 0) { /* padding */
      i++;
      continue;
    }
    uint8_t elem_id;
    size_t elem_len;
    if (one_byte) {
      elem_id = b >> 4;
      elem_len = (size_t) (b & 0x0F) + 1;
      if (elem_id == 15)
        return false; /* the rest is not to be read */
      i += 1;
    } else {
      if (i + 1 >= p->ext_len)
        return false;
      elem_id = b;
      elem_len = p->ext[i + 1];
      i += 2;
    }
    if (elem_len > p->ext_len - i)
      return false;
    if (elem_id == id) {
      *data = p->ext + i;
      *len = elem_len;
      return true;
    }
    i += elem_len;
  }
  return false;
}
