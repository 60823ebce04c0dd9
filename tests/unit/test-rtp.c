/* test-rtp.c — datagram classification (RFC 7983), RTP parse → serialize → memcmp round trips,
 * every parse error, in-place header rewrites, and VP8 key-frame detection (RFC 7741). */
#include <glib.h>
#include <string.h>

#include "rtp.h"

/* ---- classification ---- */

static void
test_classify(void)
{
  uint8_t b[2] = { 0, 0 };
  for (unsigned first = 0; first < 256; first++) {
    b[0] = (uint8_t) first;
    b[1] = 96;
    TmPacketClass want;
    if (first <= 3)
      want = TM_PACKET_STUN;
    else if (first >= 20 && first <= 63)
      want = TM_PACKET_DTLS;
    else if (first >= 128 && first <= 191)
      want = TM_PACKET_RTP;
    else
      want = TM_PACKET_UNKNOWN; /* ZRTP 16-19, TURN channels 64-79, and the rest */
    g_assert_cmpint(tm_packet_classify(b, 2), ==, want);
  }
  /* RTP vs RTCP by the second byte: RTCP packet types 192-223 (RFC 5761 §4) */
  b[0] = 0x80;
  for (unsigned second = 0; second < 256; second++) {
    b[1] = (uint8_t) second;
    TmPacketClass want = second >= 192 && second <= 223 ? TM_PACKET_RTCP : TM_PACKET_RTP;
    g_assert_cmpint(tm_packet_classify(b, 2), ==, want);
  }
  /* SR 200, RR 201, SDES 202, BYE 203, RTPFB 205, PSFB 206 */
  static const uint8_t rtcp_pts[] = { 200, 201, 202, 203, 205, 206 };
  for (unsigned i = 0; i < sizeof rtcp_pts; i++) {
    b[1] = rtcp_pts[i];
    g_assert_cmpint(tm_packet_classify(b, 2), ==, TM_PACKET_RTCP);
  }
  /* Opus PT 111 with the marker bit: 0xef is still RTP */
  b[1] = 0x80 | 111;
  g_assert_cmpint(tm_packet_classify(b, 2), ==, TM_PACKET_RTP);
  /* too short to tell */
  g_assert_cmpint(tm_packet_classify(b, 0), ==, TM_PACKET_UNKNOWN);
  g_assert_cmpint(tm_packet_classify(b, 1), ==, TM_PACKET_UNKNOWN);
  b[0] = 0x16; /* one byte of DTLS is still DTLS by its first byte */
  g_assert_cmpint(tm_packet_classify(b, 1), ==, TM_PACKET_DTLS);
  b[0] = 0x00;
  g_assert_cmpint(tm_packet_classify(b, 1), ==, TM_PACKET_STUN);
}

/* ---- round trips ---- */

/* Serializes P, parses it back, checks every field, serializes again and compares the bytes. */
static size_t
round_trip(const TmRtpPacket *p, uint8_t *out, size_t cap)
{
  TmRtpError err = TM_RTP_ERR_COUNT;
  size_t n = tm_rtp_serialize(p, out, cap, &err);
  g_assert_cmpint(err, ==, TM_RTP_OK);
  g_assert_cmpuint(n, ==, tm_rtp_serialized_size(p));

  TmRtpPacket q;
  g_assert_cmpint(tm_rtp_parse(out, n, &q), ==, TM_RTP_OK);
  g_assert_cmpint(q.padding, ==, p->padding);
  g_assert_cmpint(q.marker, ==, p->marker);
  g_assert_cmpuint(q.pt, ==, p->pt);
  g_assert_cmpuint(q.seq, ==, p->seq);
  g_assert_cmpuint(q.ts, ==, p->ts);
  g_assert_cmpuint(q.ssrc, ==, p->ssrc);
  g_assert_cmpuint(q.csrc_count, ==, p->csrc_count);
  for (unsigned i = 0; i < p->csrc_count; i++)
    g_assert_cmpuint(q.csrc[i], ==, p->csrc[i]);
  g_assert_cmpint(q.extension, ==, p->extension);
  if (p->extension) {
    g_assert_cmpuint(q.ext_profile, ==, p->ext_profile);
    g_assert_cmpmem(q.ext, q.ext_len, p->ext, p->ext_len);
  }
  g_assert_cmpuint(q.header_len, ==, 12 + 4u * p->csrc_count + (p->extension ? 4 + p->ext_len : 0));
  g_assert_true(q.payload == out + q.header_len);
  g_assert_cmpmem(q.payload, q.payload_len, p->payload, p->payload_len);
  g_assert_cmpuint(q.padding_len, ==, p->padding ? p->padding_len : 0);

  uint8_t again[TM_RTP_MAX_PACKET];
  size_t m = tm_rtp_serialize(&q, again, sizeof again, &err);
  g_assert_cmpint(err, ==, TM_RTP_OK);
  g_assert_cmpmem(again, m, out, n);
  return n;
}

static void
test_round_trip_minimal(void)
{
  static const uint8_t opus[] = { 0xfc, 0xff, 0xfe }; /* an Opus DTX frame */
  TmRtpPacket p = { .pt = 111,
                    .seq = 0xabcd,
                    .ts = 0x01020304,
                    .ssrc = 0xdeadbeef,
                    .payload = opus,
                    .payload_len = sizeof opus };
  uint8_t buf[64];
  size_t n = round_trip(&p, buf, sizeof buf);
  static const uint8_t want[] = { 0x80, 0x6f, 0xab, 0xcd, 0x01, 0x02, 0x03, 0x04,
                                  0xde, 0xad, 0xbe, 0xef, 0xfc, 0xff, 0xfe };
  g_assert_cmpmem(buf, n, want, sizeof want);

  /* a header with no payload at all */
  p.payload = NULL;
  p.payload_len = 0;
  g_assert_cmpuint(round_trip(&p, buf, sizeof buf), ==, 12);
}

static void
test_round_trip_full(void)
{
  /* one-byte header extensions (RFC 8285): abs-send-time id 3 (3 bytes), audio level id 1 */
  static const uint8_t ext[] = { 0x32, 0x12, 0x34, 0x56, 0x10, 0x85, 0x00, 0x00 };
  uint8_t payload[200];
  for (unsigned i = 0; i < sizeof payload; i++)
    payload[i] = (uint8_t) (i * 7 + 1);
  TmRtpPacket p = {
    .padding = true,
    .marker = true,
    .pt = 96,
    .seq = 65535,
    .ts = 0xffffffff,
    .ssrc = 0x11223344,
    .csrc_count = 3,
    .csrc = { 0xaaaaaaaa, 0xbbbbbbbb, 0xcccccccc },
    .extension = true,
    .ext_profile = 0xbede,
    .ext = ext,
    .ext_len = sizeof ext,
    .payload = payload,
    .payload_len = sizeof payload,
    .padding_len = 7,
  };
  uint8_t buf[TM_RTP_MAX_PACKET];
  size_t n = round_trip(&p, buf, sizeof buf);
  g_assert_cmpuint(n, ==, 12 + 12 + 4 + 8 + 200 + 7);
  g_assert_cmpuint(buf[0], ==, 0x80 | 0x20 | 0x10 | 3);
  g_assert_cmpuint(buf[1], ==, 0x80 | 96);
  g_assert_cmpmem(buf + 24, 4, "\xbe\xde\x00\x02", 4);
  g_assert_cmpuint(buf[n - 1], ==, 7);
  for (size_t i = n - 7; i < n - 1; i++)
    g_assert_cmpuint(buf[i], ==, 0);

  /* the largest CSRC list */
  p.csrc_count = TM_RTP_MAX_CSRC;
  for (unsigned i = 0; i < TM_RTP_MAX_CSRC; i++)
    p.csrc[i] = 0x01000000u * (i + 1) + i;
  p.padding_len = 1; /* padding made of the count byte only */
  n = round_trip(&p, buf, sizeof buf);
  g_assert_cmpuint(buf[0] & 0x0f, ==, 15);
  g_assert_cmpuint(buf[n - 1], ==, 1);

  /* padding of the whole 255 */
  p.padding_len = 255;
  p.csrc_count = 0;
  p.extension = false;
  round_trip(&p, buf, sizeof buf);

  /* an empty extension (length 0) and no payload, only padding */
  p.extension = true;
  p.ext_len = 0;
  p.payload_len = 0;
  p.padding_len = 4;
  n = round_trip(&p, buf, sizeof buf);
  g_assert_cmpuint(n, ==, 12 + 4 + 4);
}

static void
test_parse_real_packet(void)
{
  /* VP8 from a browser: marker, PT 96, a one-byte extension with transport-cc id 5 */
  static const uint8_t pkt[] = {
    0x90, 0xe0, 0x1f, 0x40, 0x00, 0x01, 0x5f, 0x90, 0x4a, 0x3b, 0x2c, 0x1d, /* header */
    0xbe, 0xde, 0x00, 0x01, 0x51, 0x00, 0x2a, 0x00,                         /* ext */
    0x90, 0x80, 0x12, 0x34, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a,             /* VP8 */
  };
  TmRtpPacket p;
  g_assert_cmpint(tm_rtp_parse(pkt, sizeof pkt, &p), ==, TM_RTP_OK);
  g_assert_true(p.marker);
  g_assert_false(p.padding);
  g_assert_cmpuint(p.pt, ==, 96);
  g_assert_cmpuint(p.seq, ==, 8000);
  g_assert_cmpuint(p.ts, ==, 90000);
  g_assert_cmpuint(p.ssrc, ==, 0x4a3b2c1d);
  g_assert_cmpuint(p.csrc_count, ==, 0);
  g_assert_true(p.extension);
  g_assert_cmpuint(p.ext_profile, ==, 0xbede);
  g_assert_cmpuint(p.ext_len, ==, 4);
  g_assert_true(p.ext == pkt + 16);
  g_assert_cmpuint(p.header_len, ==, 20);
  g_assert_true(p.payload == pkt + 20);
  g_assert_cmpuint(p.payload_len, ==, 10);
  g_assert_cmpuint(p.padding_len, ==, 0);
  g_assert_true(tm_vp8_is_keyframe(p.payload, p.payload_len));

  uint8_t out[64];
  TmRtpError err;
  size_t n = tm_rtp_serialize(&p, out, sizeof out, &err);
  g_assert_cmpmem(out, n, pkt, sizeof pkt);
}

/* ---- errors ---- */

static void
test_parse_errors(void)
{
  uint8_t buf[64] = { 0x80, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xaa, 0xbb, 0xcc, 0xdd };
  TmRtpPacket p;
  g_assert_cmpint(tm_rtp_parse(buf, 16, &p), ==, TM_RTP_OK);

  /* shorter than the fixed header */
  for (size_t len = 0; len < 12; len++)
    g_assert_cmpint(tm_rtp_parse(buf, len, &p), ==, TM_RTP_ERR_SHORT);
  g_assert_cmpint(tm_rtp_parse(NULL, 0, &p), ==, TM_RTP_ERR_SHORT);

  /* versions 0, 1, 3 */
  for (uint8_t v = 0; v < 4; v++) {
    if (v == 2)
      continue;
    buf[0] = (uint8_t) (v << 6);
    g_assert_cmpint(tm_rtp_parse(buf, 16, &p), ==, TM_RTP_ERR_VERSION);
  }

  /* CSRC count larger than the packet */
  buf[0] = 0x80 | 2; /* two CSRCs need 20 bytes */
  g_assert_cmpint(tm_rtp_parse(buf, 19, &p), ==, TM_RTP_ERR_SHORT);
  g_assert_cmpint(tm_rtp_parse(buf, 20, &p), ==, TM_RTP_OK);
  g_assert_cmpuint(p.csrc[0], ==, 0xaabbccdd);
  buf[0] = 0x80 | 15;
  g_assert_cmpint(tm_rtp_parse(buf, 64, &p), ==, TM_RTP_ERR_SHORT); /* needs 72 */

  /* extension header cut, and extension length past the end */
  buf[0] = 0x90;
  g_assert_cmpint(tm_rtp_parse(buf, 14, &p), ==, TM_RTP_ERR_SHORT);
  memcpy(buf + 12, "\xbe\xde\x00\x02", 4); /* 8 bytes of extension */
  g_assert_cmpint(tm_rtp_parse(buf, 23, &p), ==, TM_RTP_ERR_SHORT);
  g_assert_cmpint(tm_rtp_parse(buf, 24, &p), ==, TM_RTP_OK);
  g_assert_cmpuint(p.payload_len, ==, 0);
  memcpy(buf + 12, "\xbe\xde\xff\xff", 4);
  g_assert_cmpint(tm_rtp_parse(buf, 64, &p), ==, TM_RTP_ERR_SHORT);

  /* padding: count 0, count past the payload, no byte for the count */
  memset(buf + 12, 0, 20);
  buf[0] = 0xa0;
  g_assert_cmpint(tm_rtp_parse(buf, 12, &p), ==, TM_RTP_ERR_PADDING);
  buf[15] = 0;
  g_assert_cmpint(tm_rtp_parse(buf, 16, &p), ==, TM_RTP_ERR_PADDING);
  buf[15] = 5;
  g_assert_cmpint(tm_rtp_parse(buf, 16, &p), ==, TM_RTP_ERR_PADDING);
  buf[15] = 4; /* padding the whole payload is fine */
  g_assert_cmpint(tm_rtp_parse(buf, 16, &p), ==, TM_RTP_OK);
  g_assert_cmpuint(p.payload_len, ==, 0);
  g_assert_cmpuint(p.padding_len, ==, 4);
  buf[15] = 3;
  g_assert_cmpint(tm_rtp_parse(buf, 16, &p), ==, TM_RTP_OK);
  g_assert_cmpuint(p.payload_len, ==, 1);
  /* padding must not reach into the extension */
  buf[0] = 0xb0;
  memcpy(buf + 12, "\xbe\xde\x00\x01\x10\x20\x30\x40\x05", 9);
  g_assert_cmpint(tm_rtp_parse(buf, 21, &p), ==, TM_RTP_ERR_PADDING);
  buf[20] = 1;
  g_assert_cmpint(tm_rtp_parse(buf, 21, &p), ==, TM_RTP_OK);
  g_assert_cmpuint(p.payload_len, ==, 0);

  /* error strings: one per code, and something for an unknown one */
  for (int e = 0; e < TM_RTP_ERR_COUNT; e++)
    g_assert_nonnull(tm_rtp_strerror((TmRtpError) e));
  g_assert_cmpstr(tm_rtp_strerror(TM_RTP_ERR_PADDING), !=, tm_rtp_strerror(TM_RTP_ERR_SHORT));
  g_assert_nonnull(tm_rtp_strerror((TmRtpError) 99));
}

static void
test_serialize_buffer(void)
{
  static const uint8_t payload[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
  TmRtpPacket p = { .pt = 111,
                    .seq = 1,
                    .payload = payload,
                    .payload_len = sizeof payload,
                    .padding = true,
                    .padding_len = 2,
                    .csrc_count = 1 };
  size_t need = tm_rtp_serialized_size(&p);
  g_assert_cmpuint(need, ==, 12 + 4 + 10 + 2);
  uint8_t buf[64];
  for (size_t cap = 0; cap < need; cap++) {
    TmRtpError err = TM_RTP_OK;
    g_assert_cmpuint(tm_rtp_serialize(&p, buf, cap, &err), ==, 0);
    g_assert_cmpint(err, ==, TM_RTP_ERR_BUFFER);
  }
  g_assert_cmpuint(tm_rtp_serialize(&p, buf, need, NULL), ==, need);
}

/* ---- rewrite ---- */

static void
test_rewrite(void)
{
  static const uint8_t payload[] = { 0x11, 0x22 };
  static const uint32_t csrc = 0x01020304;
  TmRtpPacket p = { .marker = true,
                    .pt = 100,
                    .seq = 7,
                    .ts = 8,
                    .ssrc = 9,
                    .csrc_count = 1,
                    .payload = payload,
                    .payload_len = sizeof payload };
  p.csrc[0] = csrc;
  uint8_t buf[64];
  size_t n = tm_rtp_serialize(&p, buf, sizeof buf, NULL);
  uint8_t before[64];
  memcpy(before, buf, n);

  tm_rtp_rewrite(buf, 96, 0xfffe, 0x80000001, 0xcafef00d);
  TmRtpPacket q;
  g_assert_cmpint(tm_rtp_parse(buf, n, &q), ==, TM_RTP_OK);
  g_assert_cmpuint(q.pt, ==, 96);
  g_assert_true(q.marker); /* the marker survives */
  g_assert_cmpuint(q.seq, ==, 0xfffe);
  g_assert_cmpuint(q.ts, ==, 0x80000001);
  g_assert_cmpuint(q.ssrc, ==, 0xcafef00d);
  /* the first byte, CSRCs and payload are untouched */
  g_assert_cmpuint(buf[0], ==, before[0]);
  g_assert_cmpmem(buf + 12, n - 12, before + 12, n - 12);

  /* PT above 127 cannot set the marker bit */
  buf[1] = 0x00;
  tm_rtp_rewrite(buf, 0xff, 1, 2, 3);
  g_assert_cmpuint(buf[1], ==, 0x7f);
}

/* ---- VP8 ---- */

/* A VP8 payload descriptor (RFC 7741 §4.2) and then the first byte of the VP8 frame header. */
static size_t
vp8(uint8_t *out, bool x, bool s, uint8_t pid, int picture_id, bool l, bool t, bool k,
    bool keyframe)
{
  size_t n = 0;
  out[n++] = (uint8_t) ((x ? 0x80 : 0) | (s ? 0x10 : 0) | (pid & 7));
  if (x) {
    out[n++] =
      (uint8_t) ((picture_id >= 0 ? 0x80 : 0) | (l ? 0x40 : 0) | (t ? 0x20 : 0) | (k ? 0x10 : 0));
    if (picture_id >= 0 && picture_id < 128) {
      out[n++] = (uint8_t) picture_id;
    } else if (picture_id >= 128) { /* M bit: 15-bit picture id */
      out[n++] = (uint8_t) (0x80 | picture_id >> 8);
      out[n++] = (uint8_t) picture_id;
    }
    if (l)
      out[n++] = 0x7f; /* TL0PICIDX */
    if (t || k)
      out[n++] = 0xe1; /* TID 3, Y, KEYIDX 1: the P bit of a wrong byte would be 1 */
  }
  /* size0 | show_frame | version | P: 0x9d for a key frame, 0x31 for an inter frame; the
   * rest (start code 9d 01 2a for key frames) is not needed */
  out[n++] = keyframe ? 0x10 : 0x31;
  out[n++] = 0x02;
  out[n++] = 0x00;
  return n;
}

static void
test_vp8_keyframe(void)
{
  uint8_t b[16];
  size_t n;
  /* no X */
  n = vp8(b, false, true, 0, -1, false, false, false, true);
  g_assert_cmpuint(n, ==, 4);
  g_assert_true(tm_vp8_is_keyframe(b, n));
  n = vp8(b, false, true, 0, -1, false, false, false, false);
  g_assert_false(tm_vp8_is_keyframe(b, n));

  /* every combination of X extensions, key and inter frames */
  for (int mask = 0; mask < 32; mask++) {
    bool i = mask & 1, m = mask & 2, l = mask & 4, t = mask & 8, k = mask & 16;
    if (m && !i)
      continue;
    int picture_id = !i ? -1 : m ? 0x1234 : 0x55;
    n = vp8(b, true, true, 0, picture_id, l, t, k, true);
    g_assert_cmpuint(n, ==, 2 + (i ? 1 + m : 0) + l + (t || k) + 3);
    g_assert_true(tm_vp8_is_keyframe(b, n));
    n = vp8(b, true, true, 0, picture_id, l, t, k, false);
    g_assert_false(tm_vp8_is_keyframe(b, n));
    /* a continuation packet of a key frame: S = 0 */
    n = vp8(b, true, false, 0, picture_id, l, t, k, true);
    g_assert_false(tm_vp8_is_keyframe(b, n));
    /* the start of partition 1, not 0 */
    n = vp8(b, true, true, 1, picture_id, l, t, k, true);
    g_assert_false(tm_vp8_is_keyframe(b, n));
    /* cut right before the frame header */
    n = vp8(b, true, true, 0, picture_id, l, t, k, true);
    g_assert_false(tm_vp8_is_keyframe(b, n - 3));
  }

  /* a real key frame start from a browser: X, I+M picture id 0x2f3a, then 9d 01 2a */
  static const uint8_t real[] = { 0x90, 0x80, 0xaf, 0x3a, 0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a };
  g_assert_true(tm_vp8_is_keyframe(real, sizeof real));
  /* the same with the start bit of a continuation */
  static const uint8_t cont[] = { 0x80, 0x80, 0xaf, 0x3a, 0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a };
  g_assert_false(tm_vp8_is_keyframe(cont, sizeof cont));

  /* empty and truncated descriptors */
  g_assert_false(tm_vp8_is_keyframe(NULL, 0));
  g_assert_false(tm_vp8_is_keyframe(b, 0));
  static const uint8_t only_desc[] = { 0x10 };
  g_assert_false(tm_vp8_is_keyframe(only_desc, 1));
  static const uint8_t only_x[] = { 0x90, 0x80 };
  g_assert_false(tm_vp8_is_keyframe(only_x, 2));
  static const uint8_t half_pid[] = { 0x90, 0x80, 0x80 };
  g_assert_false(tm_vp8_is_keyframe(half_pid, 3));
}

/* The relay's own transport-wide number replaces whatever extensions the sender wrote: with or
 * without a block of the sender's, with CSRCs and padding, the packet parses, carries only the
 * number, and its payload and padding are the same bytes. */
static void
test_with_twcc(void)
{
  static const uint8_t payload[] = { 0x90, 0xe0, 0x80, 0x01, 0x02 };
  static const uint8_t sender_ext[] = { 0x31, 0xaa, 0xbb, 0x00, 0x52, 0x01, 0x02, 0x03 };
  for (int variant = 0; variant < 3; variant++) {
    TmRtpPacket p = {
      .pt = 96, .seq = 1, .ts = 2, .ssrc = 3, .payload = payload, .payload_len = sizeof payload
    };
    if (variant >= 1) { /* the sender's own block: IDs 3 and 5 */
      p.extension = true;
      p.ext_profile = 0xBEDE;
      p.ext = sender_ext;
      p.ext_len = sizeof sender_ext;
    }
    if (variant == 2) {
      p.csrc_count = 2;
      p.csrc[0] = 0x0a0b0c0d;
      p.csrc[1] = 0x01020304;
      p.padding = true;
      p.padding_len = 4;
    }
    uint8_t in[128], out[128];
    size_t n = tm_rtp_serialize(&p, in, sizeof in, NULL);
    g_assert_cmpuint(n, >, 0);
    TmRtpPacket parsed;
    g_assert_cmpint(tm_rtp_parse(in, n, &parsed), ==, TM_RTP_OK);
    size_t m = tm_rtp_with_twcc(in, n, &parsed, 7, 0xbeef, out, sizeof out);
    g_assert_cmpuint(m, ==, n - parsed.header_len + 12 + 4 * p.csrc_count + 8);
    TmRtpPacket q;
    g_assert_cmpint(tm_rtp_parse(out, m, &q), ==, TM_RTP_OK);
    g_assert_cmpuint(q.seq, ==, 1);
    g_assert_cmpuint(q.csrc_count, ==, p.csrc_count);
    g_assert_cmpuint(q.padding_len, ==, p.padding_len);
    g_assert_cmpmem(q.payload, q.payload_len, payload, sizeof payload);
    const uint8_t *d;
    size_t len;
    g_assert_true(tm_rtp_find_extension(&q, 7, &d, &len));
    g_assert_cmpuint(len, ==, 2);
    g_assert_cmpuint(d[0] << 8 | d[1], ==, 0xbeef);
    g_assert_false(tm_rtp_find_extension(&q, 3, &d, &len)); /* the sender's are gone */
    g_assert_false(tm_rtp_find_extension(&q, 5, &d, &len));
    uint8_t same[128]; /* in place, as the relay does it: the same bytes */
    memcpy(same, in, n);
    g_assert_cmpuint(tm_rtp_with_twcc(same, n, &parsed, 7, 0xbeef, same, sizeof same), ==, m);
    g_assert_cmpmem(same, m, out, m);
    g_assert_cmpuint(tm_rtp_with_twcc(in, n, &parsed, 7, 1, out, m - 1), ==, 0); /* no room */
    g_assert_cmpuint(tm_rtp_with_twcc(in, n, &parsed, 15, 1, out, sizeof out), ==, 0);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/rtp/classify", test_classify);
  g_test_add_func("/rtp/round-trip/minimal", test_round_trip_minimal);
  g_test_add_func("/rtp/round-trip/full", test_round_trip_full);
  g_test_add_func("/rtp/parse/real-packet", test_parse_real_packet);
  g_test_add_func("/rtp/parse/errors", test_parse_errors);
  g_test_add_func("/rtp/serialize/buffer", test_serialize_buffer);
  g_test_add_func("/rtp/rewrite", test_rewrite);
  g_test_add_func("/rtp/with-twcc", test_with_twcc);
  g_test_add_func("/rtp/vp8-keyframe", test_vp8_keyframe);
  return g_test_run();
}
