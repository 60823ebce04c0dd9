/* fuzz-rtp.c — RTP parsing. The input is one datagram:
 *
 *   - classification and the VP8 key-frame check never crash;
 *   - a packet that parses accounts for every byte (header + payload + padding = input), its
 *     views point inside the input, and it serializes into exactly its own size (one byte less
 *     is a buffer error) to bytes that parse to the same fields and equal the input except for
 *     the padding bytes, which are written as zeros;
 *   - rewriting the header in place changes PT, sequence number, timestamp and SSRC and nothing
 *     else;
 *   - read as an RTX packet (RFC 4588) it unwraps to a packet that parses with the OSN as its
 *     sequence number, or is refused (payload shorter than an OSN) unchanged; wrapping the
 *     unwrapped packet again gives back the input's bytes;
 *   - its payload read as RED (RFC 2198) gives blocks that lie inside it, in order, and cover
 *     it exactly; built again from those blocks it is the same bytes, and one byte less room
 *     is refused.
 *
 * Any broken property aborts. */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "red.h"
#include "rtp.h"

static void
check(gboolean ok)
{
  if (!ok)
    abort();
}

static gboolean
inside(const uint8_t *p, size_t n, const uint8_t *data, size_t size)
{
  return n == 0 || (p != NULL && p >= data && p + n <= data + size);
}

/* Everything but the pointers, which point into different buffers. */
static gboolean
fields_equal(const TmRtpPacket *a, const TmRtpPacket *b)
{
  if (a->padding != b->padding || a->marker != b->marker || a->pt != b->pt || a->seq != b->seq ||
      a->ts != b->ts || a->ssrc != b->ssrc || a->csrc_count != b->csrc_count ||
      a->extension != b->extension || a->ext_profile != b->ext_profile ||
      a->ext_len != b->ext_len || a->header_len != b->header_len ||
      a->payload_len != b->payload_len || a->padding_len != b->padding_len)
    return FALSE;
  if (memcmp(a->csrc, b->csrc, sizeof a->csrc) != 0)
    return FALSE;
  if (a->ext_len > 0 && memcmp(a->ext, b->ext, a->ext_len) != 0)
    return FALSE;
  return a->payload_len == 0 || memcmp(a->payload, b->payload, a->payload_len) == 0;
}

static void
check_rewrite(const uint8_t *data, size_t size, const TmRtpPacket *p)
{
  g_autofree uint8_t *copy = g_memdup2(data, size);
  uint8_t pt = (uint8_t) (p->pt ^ 0x55), seq_hi = (uint8_t) ~data[2];
  uint16_t seq = (uint16_t) (seq_hi << 8 | data[3]);
  tm_rtp_rewrite(copy, pt, seq, ~p->ts, p->ssrc ^ 0x01020304u);
  TmRtpPacket q;
  check(tm_rtp_parse(copy, size, &q) == TM_RTP_OK);
  check(q.pt == (pt & 0x7f) && q.seq == seq && q.ts == ~p->ts && q.ssrc == (p->ssrc ^ 0x01020304u));
  check(q.marker == p->marker && q.csrc_count == p->csrc_count && q.payload_len == p->payload_len &&
        q.header_len == p->header_len);
  check(memcmp(copy + 12, data + 12, size - 12) == 0);
}

static void
check_rtx(const uint8_t *data, size_t size, const TmRtpPacket *p)
{
  g_autofree uint8_t *copy = g_memdup2(data, size);
  g_autofree uint8_t *again = g_malloc(size + 2);
  TmRtpPacket q = *p;
  size_t len = size;
  if (!tm_rtx_unwrap(copy, &len, &q, 96, 0x11223344u)) {
    check(p->payload_len < 2 && len == size && memcmp(copy, data, size) == 0);
    return;
  }
  check(len == size - 2 && q.seq == (data[p->header_len] << 8 | data[p->header_len + 1]));
  check(q.pt == 96 && q.ssrc == 0x11223344u && q.payload_len == p->payload_len - 2);
  check(tm_rtx_wrap(copy, len, &q, p->pt, p->seq, p->ssrc, again, size - 1) == 0);
  check(tm_rtx_wrap(copy, len, &q, p->pt, p->seq, p->ssrc, again, size) == size);
  check(memcmp(again, data, size) == 0);
}

static void
check_red(const uint8_t *payload, size_t len)
{
  TmRedBlock blocks[TM_RED_MAX_BLOCKS];
  size_t n = tm_red_parse(payload, len, blocks, TM_RED_MAX_BLOCKS);
  if (n == 0)
    return;
  size_t covered = 4 * (n - 1) + 1;
  const uint8_t *next = payload + covered;
  for (size_t i = 0; i < n; i++) {
    check(blocks[i].data == next && inside(blocks[i].data, blocks[i].len, payload, len));
    check(blocks[i].pt < 128 && (i + 1 < n || blocks[i].ts_offset == 0));
    check(blocks[i].ts_offset <= TM_RED_MAX_TS_OFFSET && (i + 1 == n || blocks[i].len <= 0x3ff));
    next += blocks[i].len;
    covered += blocks[i].len;
  }
  check(covered == len);
  g_autofree uint8_t *again = g_malloc(len);
  check(tm_red_build(blocks, n - 1, &blocks[n - 1], again, len - 1) == 0);
  check(tm_red_build(blocks, n - 1, &blocks[n - 1], again, len) == len);
  check(memcmp(again, payload, len) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  check((unsigned) tm_packet_classify(data, size) <= TM_PACKET_UNKNOWN);
  (void) tm_vp8_is_keyframe(data, size);

  TmRtpPacket p;
  TmRtpError err = tm_rtp_parse(data, size, &p);
  check((unsigned) err < TM_RTP_ERR_COUNT && tm_rtp_strerror(err) != NULL);
  if (err != TM_RTP_OK)
    return 0;

  check(size >= 12 && data[0] >> 6 == 2);
  check(p.header_len + p.payload_len + p.padding_len == size);
  check(p.header_len == 12 + 4u * p.csrc_count + (p.extension ? 4 + p.ext_len : 0));
  check(p.ext_len % 4 == 0);
  check(!p.extension || inside(p.ext, p.ext_len, data, size));
  check(inside(p.payload, p.payload_len, data, size) && p.payload == data + p.header_len);
  check(p.padding ? p.padding_len >= 1 && p.padding_len == data[size - 1] : p.padding_len == 0);
  (void) tm_vp8_is_keyframe(p.payload, p.payload_len);

  check(tm_rtp_serialized_size(&p) == size);
  g_autofree uint8_t *out = g_malloc(size);
  TmRtpError e2 = TM_RTP_OK;
  check(tm_rtp_serialize(&p, out, size - 1, &e2) == 0 && e2 == TM_RTP_ERR_BUFFER);
  check(tm_rtp_serialize(&p, out, size, &e2) == size && e2 == TM_RTP_OK);
  check(memcmp(out, data, size - p.padding_len) == 0);
  check(memcmp(out + size - 1, data + size - 1, 1) == 0);
  for (size_t i = size - p.padding_len; p.padding_len > 1 && i < size - 1; i++)
    check(out[i] == 0);

  TmRtpPacket q;
  check(tm_rtp_parse(out, size, &q) == TM_RTP_OK);
  check(fields_equal(&p, &q));

  check_rewrite(data, size, &p);
  check_rtx(data, size, &p);
  check_red(p.payload, p.payload_len);
  return 0;
}
