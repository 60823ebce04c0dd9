/* red.c — redundant audio (RFC 2198); see red.h. */
#include "red.h"

#include <string.h>

size_t
tm_red_parse(const uint8_t *payload, size_t len, TmRedBlock *blocks, size_t max)
{
  size_t at = 0, n = 0, data_len = 0;

  /* The headers: 4 bytes each while F is set (F, PT, 14-bit offset, 10-bit length), then one
   * byte (F clear, PT) for the primary. */
  for (;;) {
    if (at >= len || n >= max)
      return 0;
    TmRedBlock *b = &blocks[n++];
    b->pt = payload[at] & 0x7f;
    if (!(payload[at] & 0x80)) {
      b->ts_offset = 0;
      at++;
      break;
    }
    if (len - at < 4)
      return 0;
    b->ts_offset = (uint32_t) payload[at + 1] << 6 | payload[at + 2] >> 2;
    b->len = (size_t) (payload[at + 2] & 0x03) << 8 | payload[at + 3];
    data_len += b->len;
    at += 4;
  }
  if (data_len > len - at)
    return 0;
  for (size_t i = 0; i + 1 < n; i++) {
    blocks[i].data = payload + at;
    at += blocks[i].len;
  }
  blocks[n - 1].data = payload + at;
  blocks[n - 1].len = len - at;
  return n;
}

size_t
tm_red_build(const TmRedBlock *redundant, size_t n, const TmRedBlock *primary, uint8_t *out,
             size_t cap)
{
  size_t need = 4 * n + 1 + primary->len;

  for (size_t i = 0; i < n; i++) {
    if (redundant[i].ts_offset > TM_RED_MAX_TS_OFFSET || redundant[i].len > TM_RED_MAX_BLOCK_LEN)
      return 0;
    need += redundant[i].len;
  }
  if (need > cap)
    return 0;
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    const TmRedBlock *b = &redundant[i];
    out[at++] = (uint8_t) (0x80 | (b->pt & 0x7f));
    out[at++] = (uint8_t) (b->ts_offset >> 6);
    out[at++] = (uint8_t) ((b->ts_offset & 0x3f) << 2 | b->len >> 8);
    out[at++] = (uint8_t) (b->len & 0xff);
  }
  out[at++] = primary->pt & 0x7f;
  for (size_t i = 0; i < n; i++) {
    if (redundant[i].len > 0)
      memcpy(out + at, redundant[i].data, redundant[i].len);
    at += redundant[i].len;
  }
  if (primary->len > 0)
    memcpy(out + at, primary->data, primary->len);
  return at + primary->len;
}
