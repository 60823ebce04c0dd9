/* test-rtcp.c — RTCP round trips (fields → serialize → iterate → fields → serialize → memcmp) for
 * every kind we write, compound datagrams, every parse error, REMB's mantissa and exponent, and
 * the sign of the 24-bit cumulative loss. */
#include <glib.h>
#include <string.h>

#include "rtcp.h"

static void
assert_packet_equal(const TmRtcpPacket *a, const TmRtcpPacket *b)
{
  g_assert_cmpint(a->kind, ==, b->kind);
  g_assert_cmpuint(a->sender_ssrc, ==, b->sender_ssrc);
  g_assert_cmpuint(a->media_ssrc, ==, b->media_ssrc);
  g_assert_cmpuint(a->ntp, ==, b->ntp);
  g_assert_cmpuint(a->rtp_ts, ==, b->rtp_ts);
  g_assert_cmpuint(a->packet_count, ==, b->packet_count);
  g_assert_cmpuint(a->octet_count, ==, b->octet_count);
  g_assert_cmpuint(a->n_blocks, ==, b->n_blocks);
  for (unsigned i = 0; i < a->n_blocks; i++) {
    const TmRtcpReportBlock *x = &a->blocks[i], *y = &b->blocks[i];
    g_assert_cmpuint(x->ssrc, ==, y->ssrc);
    g_assert_cmpuint(x->fraction_lost, ==, y->fraction_lost);
    g_assert_cmpint(x->cumulative_lost, ==, y->cumulative_lost);
    g_assert_cmpuint(x->highest_seq, ==, y->highest_seq);
    g_assert_cmpuint(x->jitter, ==, y->jitter);
    g_assert_cmpuint(x->lsr, ==, y->lsr);
    g_assert_cmpuint(x->dlsr, ==, y->dlsr);
  }
  g_assert_cmpstr(a->cname, ==, b->cname);
  g_assert_cmpuint(a->n_nacks, ==, b->n_nacks);
  for (unsigned i = 0; i < a->n_nacks; i++) {
    g_assert_cmpuint(a->nacks[i].pid, ==, b->nacks[i].pid);
    g_assert_cmpuint(a->nacks[i].blp, ==, b->nacks[i].blp);
  }
  g_assert_cmpuint(a->n_firs, ==, b->n_firs);
  for (unsigned i = 0; i < a->n_firs; i++) {
    g_assert_cmpuint(a->firs[i].ssrc, ==, b->firs[i].ssrc);
    g_assert_cmpuint(a->firs[i].seq, ==, b->firs[i].seq);
  }
  g_assert_cmpuint(a->remb_bitrate, ==, b->remb_bitrate);
  g_assert_cmpuint(a->n_remb_ssrcs, ==, b->n_remb_ssrcs);
  for (unsigned i = 0; i < a->n_remb_ssrcs; i++)
    g_assert_cmpuint(a->remb_ssrcs[i], ==, b->remb_ssrcs[i]);
}

/* Serializes P into OUT; checks the size and the header's own length field. */
static size_t
serialize_ok(const TmRtcpPacket *p, uint8_t *out, size_t cap)
{
  TmRtcpError err = TM_RTCP_ERR_COUNT;
  size_t n = tm_rtcp_serialize(p, out, cap, &err);
  g_assert_cmpint(err, ==, TM_RTCP_OK);
  g_assert_cmpuint(n, ==, tm_rtcp_serialized_size(p));
  g_assert_cmpuint(n % 4, ==, 0);
  g_assert_cmpuint(((size_t) out[2] << 8 | out[3]) * 4 + 4, ==, n);
  g_assert_cmpuint(out[0] >> 6, ==, 2);
  g_assert_cmpuint(out[0] & 0x20, ==, 0); /* no padding */
  return n;
}

/* The only packet of BUF, parsed. */
static void
parse_one(const uint8_t *buf, size_t len, TmRtcpPacket *out)
{
  TmRtcpIter it;
  bool done = true;
  tm_rtcp_iter_init(&it, buf, len);
  g_assert_cmpint(tm_rtcp_iter_next(&it, out, &done), ==, TM_RTCP_OK);
  g_assert_false(done);
  TmRtcpPacket rest;
  g_assert_cmpint(tm_rtcp_iter_next(&it, &rest, &done), ==, TM_RTCP_OK);
  g_assert_true(done);
}

/* fields → bytes → fields → bytes; returns the first serialization's length, bytes in OUT. */
static size_t
round_trip(const TmRtcpPacket *p, uint8_t *out, size_t cap, TmRtcpPacket *parsed)
{
  size_t n = serialize_ok(p, out, cap);
  parse_one(out, n, parsed);
  assert_packet_equal(p, parsed);
  uint8_t again[2048];
  size_t m = serialize_ok(parsed, again, sizeof again);
  g_assert_cmpmem(again, m, out, n);
  return n;
}

static TmRtcpReportBlock
block(unsigned i)
{
  return (TmRtcpReportBlock){
    .ssrc = 0x10000000u + i,
    .fraction_lost = (uint8_t) (i * 37),
    .cumulative_lost = (int32_t) (i * 1000) - 5000,
    .highest_seq = 0x00010000u + i * 3,
    .jitter = 100 + i,
    .lsr = 0xabcd0000u | i,
    .dlsr = 65536 * i,
  };
}

static void
test_sr(void)
{
  TmRtcpPacket p = { .kind = TM_RTCP_KIND_SR,
                     .sender_ssrc = 0x11223344,
                     .ntp = 0xe5a1b2c3d4e5f607ull,
                     .rtp_ts = 0x89abcdef,
                     .packet_count = 12345,
                     .octet_count = 0xfffffff0,
                     .n_blocks = 2 };
  p.blocks[0] = block(1);
  p.blocks[1] = block(2);
  uint8_t buf[2048];
  TmRtcpPacket q;
  size_t n = round_trip(&p, buf, sizeof buf, &q);
  g_assert_cmpuint(n, ==, 28 + 2 * 24);
  g_assert_cmpuint(buf[0], ==, 0x82);
  g_assert_cmpuint(buf[1], ==, 200);
  g_assert_cmpuint(q.pt, ==, TM_RTCP_SR);
  g_assert_cmpuint(q.count, ==, 2);
  /* NTP seconds then fraction, big-endian */
  g_assert_cmpmem(buf + 8, 8, "\xe5\xa1\xb2\xc3\xd4\xe5\xf6\x07", 8);

  /* no blocks, and all 31 */
  p.n_blocks = 0;
  g_assert_cmpuint(round_trip(&p, buf, sizeof buf, &q), ==, 28);
  p.n_blocks = TM_RTCP_MAX_BLOCKS;
  for (unsigned i = 0; i < TM_RTCP_MAX_BLOCKS; i++)
    p.blocks[i] = block(i);
  g_assert_cmpuint(round_trip(&p, buf, sizeof buf, &q), ==, 28 + 31 * 24);
  g_assert_cmpuint(buf[0], ==, 0x80 | 31);
}

static void
test_rr(void)
{
  TmRtcpPacket p = { .kind = TM_RTCP_KIND_RR, .sender_ssrc = 1, .n_blocks = 1 };
  p.blocks[0] = block(7);
  uint8_t buf[256];
  TmRtcpPacket q;
  size_t n = round_trip(&p, buf, sizeof buf, &q);
  g_assert_cmpuint(n, ==, 32);
  g_assert_cmpuint(buf[1], ==, 201);
  g_assert_cmpuint(q.count, ==, 1);

  /* an empty RR, as a receiver with nothing to report sends */
  p.n_blocks = 0;
  n = round_trip(&p, buf, sizeof buf, &q);
  g_assert_cmpmem(buf, n, "\x80\xc9\x00\x01\x00\x00\x00\x01", 8);
}

static void
test_cumulative_loss_sign(void)
{
  /* a report block from a peer that received duplicates: cumulative loss -1 (0xffffff) */
  static const uint8_t rr[] = {
    0x81, 0xc9, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01, /* RR, 1 block, sender 1 */
    0x00, 0x00, 0x00, 0x02, 0x00, 0xff, 0xff, 0xff, /* ssrc 2, fraction 0, lost -1 */
    0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x05, /* highest 4096, jitter 5 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  };
  TmRtcpPacket q;
  parse_one(rr, sizeof rr, &q);
  g_assert_cmpint(q.kind, ==, TM_RTCP_KIND_RR);
  g_assert_cmpuint(q.blocks[0].ssrc, ==, 2);
  g_assert_cmpint(q.blocks[0].cumulative_lost, ==, -1);
  g_assert_cmpuint(q.blocks[0].highest_seq, ==, 4096);
  g_assert_cmpuint(q.blocks[0].jitter, ==, 5);
  uint8_t out[64];
  size_t n = serialize_ok(&q, out, sizeof out);
  g_assert_cmpmem(out, n, rr, sizeof rr);

  /* the extremes of 24-bit signed, and the values next to the sign bit */
  static const int32_t values[] = { -8388608, -8388607, -2, -1, 0, 1, 0x7ffffe, 8388607 };
  for (unsigned i = 0; i < G_N_ELEMENTS(values); i++) {
    TmRtcpPacket p = { .kind = TM_RTCP_KIND_RR, .n_blocks = 1 };
    p.blocks[0].cumulative_lost = values[i];
    uint8_t buf[64];
    round_trip(&p, buf, sizeof buf, &q);
    g_assert_cmpint(q.blocks[0].cumulative_lost, ==, values[i]);
    uint32_t wire = (uint32_t) buf[13] << 16 | (uint32_t) buf[14] << 8 | buf[15];
    g_assert_cmpuint(wire, ==, (uint32_t) values[i] & 0xffffff);
  }
}

static void
test_sdes(void)
{
  TmRtcpPacket p = { .kind = TM_RTCP_KIND_SDES, .sender_ssrc = 0xa1b2c3d4 };
  g_strlcpy(p.cname, "x9YdN3lT4vq0Jc2B", sizeof p.cname);
  uint8_t buf[512];
  TmRtcpPacket q;
  size_t n = round_trip(&p, buf, sizeof buf, &q);
  /* ssrc, type 1, length 16, 16 bytes, then at least one null byte, padded to a word */
  g_assert_cmpuint(n, ==, 4 + 4 + 2 + 16 + 2);
  g_assert_cmpuint(buf[0], ==, 0x81);
  g_assert_cmpuint(buf[1], ==, 202);
  g_assert_cmpuint(buf[8], ==, 1);
  g_assert_cmpuint(buf[9], ==, 16);
  g_assert_cmpuint(buf[26], ==, 0);
  g_assert_cmpuint(buf[27], ==, 0);

  /* every CNAME length from 0 to 255, so every padding case: the null item is always there */
  for (unsigned len = 0; len <= 255; len++) {
    memset(p.cname, 0, sizeof p.cname);
    for (unsigned i = 0; i < len; i++)
      p.cname[i] = (char) ('a' + i % 26);
    n = round_trip(&p, buf, sizeof buf, &q);
    g_assert_cmpuint(n, ==, 4 + ((4 + 2 + len + 1 + 3) & ~3u));
    g_assert_cmpuint(buf[n - 1], ==, 0);
  }

  /* a chunk with NOTE before CNAME, and a second chunk, from a browser */
  static const uint8_t sdes[] = {
    0x82, 0xca, 0x00, 0x06, 0x00, 0x00, 0x00, 0x07, 0x05, 0x02, 'h',  'i',  0x01, 0x03,
    'a',  'b',  'c',  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x01, 0x01, 'z',  0x00,
  };
  parse_one(sdes, sizeof sdes, &q);
  g_assert_cmpint(q.kind, ==, TM_RTCP_KIND_SDES);
  g_assert_cmpuint(q.sender_ssrc, ==, 7);
  g_assert_cmpstr(q.cname, ==, "abc");
}

static void
test_bye(void)
{
  TmRtcpPacket p = { .kind = TM_RTCP_KIND_BYE, .sender_ssrc = 0x01020304 };
  uint8_t buf[64];
  TmRtcpPacket q;
  size_t n = round_trip(&p, buf, sizeof buf, &q);
  g_assert_cmpmem(buf, n, "\x81\xcb\x00\x01\x01\x02\x03\x04", 8);
}

static void
test_nack(void)
{
  TmRtcpPacket p = {
    .kind = TM_RTCP_KIND_NACK, .sender_ssrc = 1, .media_ssrc = 0xdeadbeef, .n_nacks = 3
  };
  p.nacks[0] = (TmRtcpNackItem){ 100, 0x0000 };
  p.nacks[1] = (TmRtcpNackItem){ 65530, 0x8001 };
  p.nacks[2] = (TmRtcpNackItem){ 7, 0xffff };
  uint8_t buf[512];
  TmRtcpPacket q;
  size_t n = round_trip(&p, buf, sizeof buf, &q);
  g_assert_cmpuint(n, ==, 12 + 3 * 4);
  g_assert_cmpuint(buf[0], ==, 0x81);
  g_assert_cmpuint(buf[1], ==, 205);
  g_assert_cmpmem(buf + 16, 4, "\xff\xfa\x80\x01", 4);

  /* the most we keep */
  p.n_nacks = TM_RTCP_MAX_NACK;
  for (unsigned i = 0; i < TM_RTCP_MAX_NACK; i++)
    p.nacks[i] = (TmRtcpNackItem){ (uint16_t) (i * 17), (uint16_t) (i * 257) };
  round_trip(&p, buf, sizeof buf, &q);

  /* expanding the items into sequence numbers */
  uint16_t seqs[17];
  TmRtcpNackItem only = { 100, 0 };
  g_assert_cmpuint(tm_rtcp_nack_expand(&only, seqs), ==, 1);
  g_assert_cmpuint(seqs[0], ==, 100);
  TmRtcpNackItem wrap = { 65530, 0x8001 };
  g_assert_cmpuint(tm_rtcp_nack_expand(&wrap, seqs), ==, 3);
  g_assert_cmpuint(seqs[0], ==, 65530);
  g_assert_cmpuint(seqs[1], ==, 65531);
  g_assert_cmpuint(seqs[2], ==, 10); /* 65530 + 16 wraps */
  TmRtcpNackItem all = { 7, 0xffff };
  g_assert_cmpuint(tm_rtcp_nack_expand(&all, seqs), ==, 17);
  for (unsigned i = 0; i < 17; i++)
    g_assert_cmpuint(seqs[i], ==, 7 + i);
  TmRtcpNackItem some = { 1000, 0x0102 }; /* bits 1 and 8: +2 and +9 */
  g_assert_cmpuint(tm_rtcp_nack_expand(&some, seqs), ==, 3);
  g_assert_cmpuint(seqs[1], ==, 1002);
  g_assert_cmpuint(seqs[2], ==, 1009);
}

static void
test_pli(void)
{
  TmRtcpPacket p = { .kind = TM_RTCP_KIND_PLI, .sender_ssrc = 0x0a0b0c0d, .media_ssrc = 42 };
  uint8_t buf[64];
  TmRtcpPacket q;
  size_t n = round_trip(&p, buf, sizeof buf, &q);
  g_assert_cmpmem(buf, n, "\x81\xce\x00\x02\x0a\x0b\x0c\x0d\x00\x00\x00\x2a", 12);
  g_assert_cmpuint(q.count, ==, 1);
  g_assert_cmpuint(q.pt, ==, TM_RTCP_PSFB);
}

static void
test_fir(void)
{
  TmRtcpPacket p = { .kind = TM_RTCP_KIND_FIR, .sender_ssrc = 5, .n_firs = 2 };
  p.firs[0] = (TmRtcpFirItem){ 0x11111111, 0 };
  p.firs[1] = (TmRtcpFirItem){ 0x22222222, 255 };
  uint8_t buf[256];
  TmRtcpPacket q;
  size_t n = round_trip(&p, buf, sizeof buf, &q);
  g_assert_cmpuint(n, ==, 12 + 16);
  g_assert_cmpuint(buf[0], ==, 0x84);
  g_assert_cmpuint(buf[1], ==, 206);
  g_assert_cmpmem(buf + 20, 8, "\x22\x22\x22\x22\xff\x00\x00\x00", 8);
  p.n_firs = TM_RTCP_MAX_FIR;
  round_trip(&p, buf, sizeof buf, &q);
}

static void
test_remb(void)
{
  TmRtcpPacket p = { .kind = TM_RTCP_KIND_REMB,
                     .sender_ssrc = 9,
                     .remb_bitrate = 1500000,
                     .n_remb_ssrcs = 2,
                     .remb_ssrcs = { 0xaaaa0001, 0xbbbb0002 } };
  uint8_t buf[256];
  TmRtcpPacket q;
  size_t n = round_trip(&p, buf, sizeof buf, &q);
  g_assert_cmpuint(n, ==, 20 + 8);
  g_assert_cmpuint(buf[0], ==, 0x8f);
  g_assert_cmpuint(buf[1], ==, 206);
  g_assert_cmpmem(buf + 12, 4, "REMB", 4);
  g_assert_cmpuint(buf[16], ==, 2);
  /* 1 500 000 = 187 500 << 3: exponent 3, mantissa 0x2dc6c */
  g_assert_cmpmem(buf + 17, 3, "\x0e\xdc\x6c", 3);

  /* exactly representable rates survive: small, 18-bit, and large */
  static const uint64_t exact[] = {
    0, 1, 0x3ffff, 0x40000, 30000, 10000ull << 18, 0x3ffffull << 46, 1ull << 63
  };
  for (unsigned i = 0; i < G_N_ELEMENTS(exact); i++) {
    p.remb_bitrate = exact[i];
    round_trip(&p, buf, sizeof buf, &q);
  }

  /* a rate with more than 18 significant bits is rounded down, within one part in 2^17 */
  p.remb_bitrate = 1234567891;
  n = serialize_ok(&p, buf, sizeof buf);
  parse_one(buf, n, &q);
  g_assert_cmpuint(q.remb_bitrate, <=, p.remb_bitrate);
  g_assert_cmpuint(q.remb_bitrate, >, p.remb_bitrate - (p.remb_bitrate >> 17));

  /* no SSRCs */
  p.remb_bitrate = 64000;
  p.n_remb_ssrcs = 0;
  g_assert_cmpuint(round_trip(&p, buf, sizeof buf, &q), ==, 20);
}

/* A REMB datagram with the given exponent and mantissa, parsed. */
static uint64_t
remb_parse(unsigned exp, uint32_t mantissa)
{
  uint8_t buf[24] = { 0x8f, 0xce, 0x00, 0x05, 0, 0, 0, 1, 0, 0, 0, 0, 'R', 'E', 'M', 'B', 1 };
  uint32_t v = exp << 18 | mantissa;
  buf[17] = (uint8_t) (v >> 16);
  buf[18] = (uint8_t) (v >> 8);
  buf[19] = (uint8_t) v;
  buf[23] = 7;
  TmRtcpPacket q;
  parse_one(buf, sizeof buf, &q);
  g_assert_cmpint(q.kind, ==, TM_RTCP_KIND_REMB);
  g_assert_cmpuint(q.n_remb_ssrcs, ==, 1);
  g_assert_cmpuint(q.remb_ssrcs[0], ==, 7);
  /* whatever was read serializes back to the same value */
  uint8_t out[64];
  TmRtcpPacket again;
  parse_one(out, serialize_ok(&q, out, sizeof out), &again);
  g_assert_cmpuint(again.remb_bitrate, ==, q.remb_bitrate);
  return q.remb_bitrate;
}

static void
test_remb_exponent(void)
{
  g_assert_cmpuint(remb_parse(0, 0), ==, 0);
  g_assert_cmpuint(remb_parse(0, 0x3ffff), ==, 0x3ffff);
  g_assert_cmpuint(remb_parse(10, 1000), ==, 1024000);
  g_assert_cmpuint(remb_parse(46, 0x3ffff), ==, 0x3ffffull << 46);
  /* zero is zero whatever the exponent: not "unlimited" */
  g_assert_cmpuint(remb_parse(63, 0), ==, 0);
  g_assert_cmpuint(remb_parse(47, 0), ==, 0);
  /* large exponents with a small mantissa still fit in 64 bits */
  g_assert_cmpuint(remb_parse(50, 1), ==, 1ull << 50);
  g_assert_cmpuint(remb_parse(63, 1), ==, 1ull << 63);
  /* too large for 64 bits: saturates at the largest rate a REMB can carry in 64 bits */
  uint64_t big = remb_parse(63, 0x3ffff);
  g_assert_cmpuint(big, >=, 0x3ffffull << 46);
  g_assert_cmpuint(remb_parse(47, 0x3ffff), ==, big);
}

static void
test_compound(void)
{
  TmRtcpPacket rr = { .kind = TM_RTCP_KIND_RR, .sender_ssrc = 1, .n_blocks = 1 };
  rr.blocks[0] = block(3);
  TmRtcpPacket sdes = { .kind = TM_RTCP_KIND_SDES, .sender_ssrc = 1 };
  g_strlcpy(sdes.cname, "relay", sizeof sdes.cname);
  TmRtcpPacket pli = { .kind = TM_RTCP_KIND_PLI, .sender_ssrc = 1, .media_ssrc = 2 };
  const TmRtcpPacket *parts[] = { &rr, &sdes, &pli };

  uint8_t buf[512];
  size_t offsets[4] = { 0 };
  for (unsigned i = 0; i < 3; i++)
    offsets[i + 1] = offsets[i] + serialize_ok(parts[i], buf + offsets[i], sizeof buf - offsets[i]);
  g_assert_cmpuint(offsets[3], ==, 32 + 16 + 12);

  TmRtcpIter it;
  tm_rtcp_iter_init(&it, buf, offsets[3]);
  for (unsigned i = 0; i < 3; i++) {
    TmRtcpPacket q;
    bool done = true;
    g_assert_cmpint(tm_rtcp_iter_next(&it, &q, &done), ==, TM_RTCP_OK);
    g_assert_false(done);
    assert_packet_equal(parts[i], &q);
    uint8_t again[256];
    size_t m = serialize_ok(&q, again, sizeof again);
    g_assert_cmpmem(again, m, buf + offsets[i], offsets[i + 1] - offsets[i]);
  }
  TmRtcpPacket q;
  bool done = false;
  g_assert_cmpint(tm_rtcp_iter_next(&it, &q, &done), ==, TM_RTCP_OK);
  g_assert_true(done);
  /* and it stays done */
  g_assert_cmpint(tm_rtcp_iter_next(&it, &q, &done), ==, TM_RTCP_OK);
  g_assert_true(done);
}

static void
test_other_kinds(void)
{
  /* transport-cc (RTPFB fmt 15), an APP packet, and a REMB-sized PSFB fmt 15 that is not REMB */
  static const uint8_t twcc[] = {
    0x8f, 0xcd, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
    0x00, 0x10, 0x00, 0x02, 0x00, 0x00, 0x01, 0x00, 0x20, 0x02, 0x04, 0x08,
  };
  static const uint8_t app[] = { 0x80, 0xcc, 0x00, 0x02, 0, 0, 0, 1, 'T', 'E', 'S', 'T' };
  static const uint8_t afb[] = { 0x8f, 0xce, 0x00, 0x04, 0,   0,   0, 1, 0, 0,
                                 0,    0,    'A',  'B',  'C', 'D', 1, 2, 3, 4 };
  const uint8_t *all[] = { twcc, app, afb };
  size_t lens[] = { sizeof twcc, sizeof app, sizeof afb };
  for (unsigned i = 0; i < 3; i++) {
    TmRtcpPacket q;
    parse_one(all[i], lens[i], &q);
    g_assert_cmpint(q.kind, ==, TM_RTCP_KIND_OTHER);
    g_assert_cmpuint(q.pt, ==, all[i][1]);
    g_assert_cmpuint(q.count, ==, all[i][0] & 0x1f);
    /* we do not write what we do not read */
    uint8_t out[64];
    TmRtcpError err = TM_RTCP_OK;
    g_assert_cmpuint(tm_rtcp_serialize(&q, out, sizeof out, &err), ==, 0);
    g_assert_cmpint(err, ==, TM_RTCP_ERR_MALFORMED);
  }
  TmRtcpPacket q;
  parse_one(twcc, sizeof twcc, &q);
  g_assert_cmpuint(q.sender_ssrc, ==, 1);
  g_assert_cmpuint(q.media_ssrc, ==, 2);
}

/* The first packet of BUF: its error; the iterator must be done afterwards. */
static TmRtcpError
first_error(const uint8_t *buf, size_t len)
{
  TmRtcpIter it;
  TmRtcpPacket q;
  bool done = true;
  tm_rtcp_iter_init(&it, buf, len);
  TmRtcpError e = tm_rtcp_iter_next(&it, &q, &done);
  g_assert_false(done);
  if (e != TM_RTCP_OK) {
    g_assert_cmpint(tm_rtcp_iter_next(&it, &q, &done), ==, TM_RTCP_OK);
    g_assert_true(done);
  }
  return e;
}

static void
test_errors(void)
{
  uint8_t buf[512];
  TmRtcpPacket rr = { .kind = TM_RTCP_KIND_RR, .sender_ssrc = 1, .n_blocks = 1 };
  size_t n = serialize_ok(&rr, buf, sizeof buf);
  g_assert_cmpint(first_error(buf, n), ==, TM_RTCP_OK);

  /* truncated: less than a header, and a length beyond the datagram */
  for (size_t len = 1; len < n; len++)
    g_assert_cmpint(first_error(buf, len), ==, TM_RTCP_ERR_SHORT);
  buf[3] = 8;
  g_assert_cmpint(first_error(buf, n), ==, TM_RTCP_ERR_SHORT);
  buf[3] = 7;

  /* version */
  buf[0] = 0x41;
  g_assert_cmpint(first_error(buf, n), ==, TM_RTCP_ERR_VERSION);
  buf[0] = 0xc1;
  g_assert_cmpint(first_error(buf, n), ==, TM_RTCP_ERR_VERSION);
  buf[0] = 0x81;

  /* more report blocks than the length holds */
  buf[0] = 0x82;
  g_assert_cmpint(first_error(buf, n), ==, TM_RTCP_ERR_MALFORMED);
  buf[0] = 0x81;
  /* an RR without even its SSRC */
  g_assert_cmpint(first_error((const uint8_t *) "\x80\xc9\x00\x00", 4), ==, TM_RTCP_ERR_MALFORMED);

  /* padding: count 0, count beyond the body, and valid padding */
  uint8_t pad[64];
  memcpy(pad, buf, n);
  memset(pad + n, 0, 8);
  pad[0] = 0xa1;
  pad[3] = 9; /* 8 more bytes */
  pad[n + 7] = 0;
  g_assert_cmpint(first_error(pad, n + 8), ==, TM_RTCP_ERR_MALFORMED);
  pad[n + 7] = 37; /* the body is 36 bytes */
  g_assert_cmpint(first_error(pad, n + 8), ==, TM_RTCP_ERR_MALFORMED);
  pad[n + 7] = 8;
  TmRtcpPacket q;
  parse_one(pad, n + 8, &q);
  g_assert_cmpint(q.kind, ==, TM_RTCP_KIND_RR);
  g_assert_cmpuint(q.n_blocks, ==, 1);
  pad[n + 7] = 12; /* padding eats into the report block */
  g_assert_cmpint(first_error(pad, n + 8), ==, TM_RTCP_ERR_MALFORMED);

  /* NACK: 65 items is more than we keep, none is malformed, a half item too */
  TmRtcpPacket nack = { .kind = TM_RTCP_KIND_NACK, .n_nacks = TM_RTCP_MAX_NACK };
  n = serialize_ok(&nack, buf, sizeof buf);
  g_assert_cmpint(first_error(buf, n), ==, TM_RTCP_OK);
  memset(buf + n, 0, 4);
  buf[3]++;
  g_assert_cmpint(first_error(buf, n + 4), ==, TM_RTCP_ERR_TOO_MANY);
  g_assert_cmpint(first_error((const uint8_t *) "\x81\xcd\x00\x02\0\0\0\1\0\0\0\2", 12), ==,
                  TM_RTCP_ERR_MALFORMED);

  /* FIR: FCI not a multiple of 8, empty, and more than we keep */
  TmRtcpPacket fir = { .kind = TM_RTCP_KIND_FIR, .n_firs = 1 };
  n = serialize_ok(&fir, buf, sizeof buf);
  memset(buf + n, 0, 4);
  buf[3]++;
  g_assert_cmpint(first_error(buf, n + 4), ==, TM_RTCP_ERR_MALFORMED);
  buf[3] -= 3; /* no FCI */
  g_assert_cmpint(first_error(buf, n - 8), ==, TM_RTCP_ERR_MALFORMED);
  fir.n_firs = TM_RTCP_MAX_FIR;
  n = serialize_ok(&fir, buf, sizeof buf);
  memset(buf + n, 0, 8);
  buf[3] += 2;
  g_assert_cmpint(first_error(buf, n + 8), ==, TM_RTCP_ERR_TOO_MANY);
  /* a feedback message without its media SSRC */
  g_assert_cmpint(first_error((const uint8_t *) "\x81\xce\x00\x01\0\0\0\1", 8), ==,
                  TM_RTCP_ERR_MALFORMED);

  /* REMB: more SSRCs than we keep, and more than the packet holds */
  TmRtcpPacket remb = { .kind = TM_RTCP_KIND_REMB, .n_remb_ssrcs = 1, .remb_bitrate = 1 };
  n = serialize_ok(&remb, buf, sizeof buf);
  buf[16] = 2;
  g_assert_cmpint(first_error(buf, n), ==, TM_RTCP_ERR_MALFORMED);
  buf[16] = TM_RTCP_MAX_REMB_SSRC + 1;
  g_assert_cmpint(first_error(buf, n), ==, TM_RTCP_ERR_TOO_MANY);

  /* SDES: an item running past the packet, a NUL inside the CNAME, no SSRC */
  static const uint8_t sdes_long[] = { 0x81, 0xca, 0x00, 0x02, 0, 0, 0, 1, 0x01, 0x09, 'a', 'b' };
  g_assert_cmpint(first_error(sdes_long, sizeof sdes_long), ==, TM_RTCP_ERR_MALFORMED);
  static const uint8_t sdes_nul[] = { 0x81, 0xca, 0x00, 0x02, 0, 0, 0, 1, 0x01, 0x02, 'a', 0 };
  g_assert_cmpint(first_error(sdes_nul, sizeof sdes_nul), ==, TM_RTCP_ERR_MALFORMED);
  g_assert_cmpint(first_error((const uint8_t *) "\x81\xca\x00\x00", 4), ==, TM_RTCP_ERR_MALFORMED);

  /* a good packet, then a bad one: the first is read, the error ends the datagram */
  TmRtcpPacket pli = { .kind = TM_RTCP_KIND_PLI, .sender_ssrc = 1, .media_ssrc = 2 };
  n = serialize_ok(&pli, buf, sizeof buf);
  memcpy(buf + n, "\x40\xc9\x00\x01\0\0\0\1", 8);
  memcpy(buf + n + 8, buf, n);
  TmRtcpIter it;
  bool done = true;
  tm_rtcp_iter_init(&it, buf, 2 * n + 8);
  g_assert_cmpint(tm_rtcp_iter_next(&it, &q, &done), ==, TM_RTCP_OK);
  g_assert_cmpint(q.kind, ==, TM_RTCP_KIND_PLI);
  g_assert_cmpint(tm_rtcp_iter_next(&it, &q, &done), ==, TM_RTCP_ERR_VERSION);
  g_assert_false(done);
  g_assert_cmpint(tm_rtcp_iter_next(&it, &q, &done), ==, TM_RTCP_OK);
  g_assert_true(done);

  /* an empty datagram is simply done */
  tm_rtcp_iter_init(&it, NULL, 0);
  g_assert_cmpint(tm_rtcp_iter_next(&it, &q, &done), ==, TM_RTCP_OK);
  g_assert_true(done);

  for (int e = 0; e < TM_RTCP_ERR_COUNT; e++)
    g_assert_nonnull(tm_rtcp_strerror((TmRtcpError) e));
  g_assert_nonnull(tm_rtcp_strerror((TmRtcpError) 1000));
}

static void
test_serialize_errors(void)
{
  uint8_t buf[2048];
  TmRtcpError err;
  /* too small a buffer, for every kind, at every size short of the packet */
  TmRtcpPacket kinds[] = {
    { .kind = TM_RTCP_KIND_SR, .n_blocks = 2 },
    { .kind = TM_RTCP_KIND_RR, .n_blocks = 1 },
    { .kind = TM_RTCP_KIND_SDES, .cname = "abcdef" },
    { .kind = TM_RTCP_KIND_BYE },
    { .kind = TM_RTCP_KIND_NACK, .n_nacks = 2 },
    { .kind = TM_RTCP_KIND_PLI },
    { .kind = TM_RTCP_KIND_FIR, .n_firs = 2 },
    { .kind = TM_RTCP_KIND_REMB, .n_remb_ssrcs = 2 },
  };
  for (unsigned k = 0; k < G_N_ELEMENTS(kinds); k++) {
    size_t need = tm_rtcp_serialized_size(&kinds[k]);
    for (size_t cap = 0; cap < need; cap++) {
      err = TM_RTCP_OK;
      g_assert_cmpuint(tm_rtcp_serialize(&kinds[k], buf, cap, &err), ==, 0);
      g_assert_cmpint(err, ==, TM_RTCP_ERR_BUFFER);
    }
    g_assert_cmpuint(tm_rtcp_serialize(&kinds[k], buf, need, NULL), ==, need);
  }

  /* more entries than the packet can say or we would read back */
  TmRtcpPacket p = { .kind = TM_RTCP_KIND_RR, .n_blocks = TM_RTCP_MAX_BLOCKS + 1 };
  err = TM_RTCP_OK;
  g_assert_cmpuint(tm_rtcp_serialize(&p, buf, sizeof buf, &err), ==, 0);
  g_assert_cmpint(err, ==, TM_RTCP_ERR_MALFORMED);
  p.n_blocks = 256; /* would wrap to an RC of 0 */
  g_assert_cmpuint(tm_rtcp_serialize(&p, buf, sizeof buf, &err), ==, 0);
  g_assert_cmpint(err, ==, TM_RTCP_ERR_MALFORMED);
  p = (TmRtcpPacket){ .kind = TM_RTCP_KIND_NACK, .n_nacks = TM_RTCP_MAX_NACK + 1 };
  g_assert_cmpuint(tm_rtcp_serialize(&p, buf, sizeof buf, &err), ==, 0);
  g_assert_cmpint(err, ==, TM_RTCP_ERR_MALFORMED);
  p = (TmRtcpPacket){ .kind = TM_RTCP_KIND_FIR, .n_firs = TM_RTCP_MAX_FIR + 1 };
  g_assert_cmpuint(tm_rtcp_serialize(&p, buf, sizeof buf, &err), ==, 0);
  g_assert_cmpint(err, ==, TM_RTCP_ERR_MALFORMED);
  p = (TmRtcpPacket){ .kind = TM_RTCP_KIND_REMB, .n_remb_ssrcs = TM_RTCP_MAX_REMB_SSRC + 1 };
  g_assert_cmpuint(tm_rtcp_serialize(&p, buf, sizeof buf, &err), ==, 0);
  g_assert_cmpint(err, ==, TM_RTCP_ERR_MALFORMED);
  /* a CNAME without its terminating NUL */
  p = (TmRtcpPacket){ .kind = TM_RTCP_KIND_SDES };
  memset(p.cname, 'x', sizeof p.cname);
  g_assert_cmpuint(tm_rtcp_serialize(&p, buf, sizeof buf, &err), ==, 0);
  g_assert_cmpint(err, ==, TM_RTCP_ERR_MALFORMED);
  /* a kind we do not write */
  p = (TmRtcpPacket){ .kind = TM_RTCP_KIND_OTHER };
  g_assert_cmpuint(tm_rtcp_serialize(&p, buf, sizeof buf, &err), ==, 0);
  g_assert_cmpint(err, ==, TM_RTCP_ERR_MALFORMED);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/rtcp/round-trip/sr", test_sr);
  g_test_add_func("/rtcp/round-trip/rr", test_rr);
  g_test_add_func("/rtcp/round-trip/sdes", test_sdes);
  g_test_add_func("/rtcp/round-trip/bye", test_bye);
  g_test_add_func("/rtcp/round-trip/nack", test_nack);
  g_test_add_func("/rtcp/round-trip/pli", test_pli);
  g_test_add_func("/rtcp/round-trip/fir", test_fir);
  g_test_add_func("/rtcp/round-trip/remb", test_remb);
  g_test_add_func("/rtcp/remb-exponent", test_remb_exponent);
  g_test_add_func("/rtcp/cumulative-loss-sign", test_cumulative_loss_sign);
  g_test_add_func("/rtcp/compound", test_compound);
  g_test_add_func("/rtcp/other-kinds", test_other_kinds);
  g_test_add_func("/rtcp/errors", test_errors);
  g_test_add_func("/rtcp/serialize-errors", test_serialize_errors);
  return g_test_run();
}
