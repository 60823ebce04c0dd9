/* test-rtx.c — RTX packets (RFC 4588 §4): wrap → unwrap → memcmp round trips with CSRCs, header
 * extensions, padding and the marker bit; the wire layout of the OSN; short and padding-only
 * packets; the output cap. */
#include <glib.h>
#include <string.h>

#include "rtp.h"

static const uint8_t payload[] = { 0x10, 0x00, 0x9d, 0x01, 0x2a, 0xAA, 0xBB, 0xCC };
static const uint8_t ext[] = { 0x10, 0xAB, 0x00, 0x00 }; /* one-byte header: id 1, len 1 */

static size_t
build(const TmRtpPacket *p, uint8_t *buf, size_t cap)
{
  size_t n = tm_rtp_serialize(p, buf, cap, NULL);
  g_assert_cmpuint(n, >, 0);
  return n;
}

static void
test_round_trip(void)
{
  TmRtpPacket shapes[4] = {
    { .pt = 96,
      .seq = 65535,
      .ts = 0xDEADBEEF,
      .ssrc = 0x11111111,
      .marker = true,
      .payload = payload,
      .payload_len = sizeof payload },
    { .pt = 96,
      .seq = 7,
      .ts = 3000,
      .ssrc = 0x11111111,
      .csrc_count = 2,
      .csrc = { 0xC1, 0xC2 },
      .payload = payload,
      .payload_len = sizeof payload },
    { .pt = 96,
      .seq = 8,
      .ts = 3000,
      .ssrc = 0x11111111,
      .extension = true,
      .ext_profile = 0xBEDE,
      .ext = ext,
      .ext_len = sizeof ext,
      .payload = payload,
      .payload_len = sizeof payload },
    { .pt = 96,
      .seq = 9,
      .ts = 3000,
      .ssrc = 0x11111111,
      .padding = true,
      .padding_len = 5,
      .payload = payload,
      .payload_len = 2 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS(shapes); i++) {
    uint8_t orig[256], rtx[256], back[256];
    size_t n = build(&shapes[i], orig, sizeof orig);
    TmRtpPacket p;
    g_assert_cmpint(tm_rtp_parse(orig, n, &p), ==, TM_RTP_OK);
    size_t m = tm_rtx_wrap(orig, n, &p, 97, 4242, 0x22222222, rtx, sizeof rtx);
    g_assert_cmpuint(m, ==, n + 2);
    TmRtpPacket r;
    g_assert_cmpint(tm_rtp_parse(rtx, m, &r), ==, TM_RTP_OK);
    g_assert_cmpuint(r.pt, ==, 97);
    g_assert_cmpuint(r.seq, ==, 4242);
    g_assert_cmpuint(r.ssrc, ==, 0x22222222);
    g_assert_cmpuint(r.ts, ==, p.ts);
    g_assert_cmpint(r.marker, ==, p.marker);
    g_assert_cmpuint(r.csrc_count, ==, p.csrc_count);
    g_assert_cmpuint(r.ext_len, ==, p.ext_len);
    g_assert_cmpuint(r.padding_len, ==, p.padding_len);
    g_assert_cmpuint(r.payload_len, ==, p.payload_len + 2);
    g_assert_cmpuint(r.payload[0] << 8 | r.payload[1], ==, p.seq); /* the OSN, network order */
    g_assert_true(memcmp(r.payload + 2, p.payload, p.payload_len) == 0);
    memcpy(back, rtx, m);
    size_t len = m;
    g_assert_true(tm_rtx_unwrap(back, &len, &r, 96, 0x11111111));
    g_assert_cmpuint(len, ==, n);
    g_assert_true(memcmp(back, orig, n) == 0);
    g_assert_cmpuint(r.seq, ==, p.seq);
    g_assert_cmpuint(r.payload_len, ==, p.payload_len);
    g_assert_true(r.payload == back + p.header_len);
  }
}

static void
test_edges(void)
{
  uint8_t buf[64], out[64];
  /* padding-only RTX (a sender's bandwidth probe) and a one-byte payload: no OSN, unchanged */
  TmRtpPacket probe = { .pt = 97, .seq = 1, .ssrc = 2, .padding = true, .padding_len = 4 };
  for (size_t plen = 0; plen < 2; plen++) {
    probe.payload = payload;
    probe.payload_len = plen;
    size_t n = build(&probe, buf, sizeof buf);
    TmRtpPacket p;
    g_assert_cmpint(tm_rtp_parse(buf, n, &p), ==, TM_RTP_OK);
    memcpy(out, buf, n);
    size_t len = n;
    g_assert_false(tm_rtx_unwrap(out, &len, &p, 96, 1));
    g_assert_cmpuint(len, ==, n);
    g_assert_true(memcmp(out, buf, n) == 0);
  }
  /* exactly an OSN: the original had an empty payload */
  TmRtpPacket p = { .pt = 96, .seq = 0x1234, .ssrc = 1 };
  size_t n = build(&p, buf, sizeof buf);
  g_assert_cmpint(tm_rtp_parse(buf, n, &p), ==, TM_RTP_OK);
  g_assert_cmpuint(tm_rtx_wrap(buf, n, &p, 97, 1, 2, out, n + 1), ==, 0); /* no room */
  size_t m = tm_rtx_wrap(buf, n, &p, 97, 1, 2, out, n + 2);
  g_assert_cmpuint(m, ==, 14);
  g_assert_cmpuint(out[12], ==, 0x12);
  g_assert_cmpuint(out[13], ==, 0x34);
  TmRtpPacket r;
  g_assert_cmpint(tm_rtp_parse(out, m, &r), ==, TM_RTP_OK);
  g_assert_true(tm_rtx_unwrap(out, &m, &r, 96, 1));
  g_assert_cmpuint(m, ==, n);
  g_assert_true(memcmp(out, buf, n) == 0);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/rtx/round-trip", test_round_trip);
  g_test_add_func("/rtx/edges", test_edges);
  return g_test_run();
}
