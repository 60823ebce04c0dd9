/* util.c — byte reader/writer, sequence arithmetic, token bucket. */
#include "util.h"

#include <stdio.h>
#include <string.h>

void
tm_reader_init(TmReader *r, const uint8_t *data, size_t len)
{
  r->data = data;
  r->len = data != NULL ? len : 0;
  r->pos = 0;
  r->err = false;
}

static const uint8_t *
reader_take(TmReader *r, size_t n)
{
  if (r->err || n > r->len - r->pos) {
    r->err = true;
    return NULL;
  }
  const uint8_t *p = r->data + r->pos;
  r->pos += n;
  return p;
}

uint8_t
tm_reader_u8(TmReader *r)
{
  const uint8_t *p = reader_take(r, 1);
  return p != NULL ? p[0] : 0;
}

uint16_t
tm_reader_u16(TmReader *r)
{
  const uint8_t *p = reader_take(r, 2);
  return p != NULL ? (uint16_t) (p[0] << 8 | p[1]) : 0;
}

uint32_t
tm_reader_u24(TmReader *r)
{
  const uint8_t *p = reader_take(r, 3);
  return p != NULL ? (uint32_t) p[0] << 16 | (uint32_t) p[1] << 8 | p[2] : 0;
}

uint32_t
tm_reader_u32(TmReader *r)
{
  const uint8_t *p = reader_take(r, 4);
  return p != NULL ? (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3]
                   : 0;
}

const uint8_t *
tm_reader_bytes(TmReader *r, size_t n)
{
  return reader_take(r, n);
}

void
tm_reader_skip(TmReader *r, size_t n)
{
  (void) reader_take(r, n);
}

size_t
tm_reader_remaining(const TmReader *r)
{
  return r->err ? 0 : r->len - r->pos;
}

void
tm_writer_init(TmWriter *w, uint8_t *data, size_t cap)
{
  w->data = data;
  w->cap = data != NULL ? cap : 0;
  w->pos = 0;
  w->err = false;
}

static uint8_t *
writer_take(TmWriter *w, size_t n)
{
  if (w->err || n > w->cap - w->pos) {
    w->err = true;
    return NULL;
  }
  uint8_t *p = w->data + w->pos;
  w->pos += n;
  return p;
}

void
tm_writer_u8(TmWriter *w, uint8_t v)
{
  uint8_t *p = writer_take(w, 1);
  if (p != NULL)
    p[0] = v;
}

void
tm_writer_u16(TmWriter *w, uint16_t v)
{
  uint8_t *p = writer_take(w, 2);
  if (p != NULL) {
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
  }
}

void
tm_writer_u24(TmWriter *w, uint32_t v)
{
  uint8_t *p = writer_take(w, 3);
  if (p != NULL) {
    p[0] = (uint8_t) (v >> 16);
    p[1] = (uint8_t) (v >> 8);
    p[2] = (uint8_t) v;
  }
}

void
tm_writer_u32(TmWriter *w, uint32_t v)
{
  uint8_t *p = writer_take(w, 4);
  if (p != NULL) {
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
  }
}

void
tm_writer_bytes(TmWriter *w, const void *src, size_t n)
{
  uint8_t *p = writer_take(w, n);
  if (p != NULL && n > 0)
    memcpy(p, src, n);
}

void
tm_writer_zeros(TmWriter *w, size_t n)
{
  uint8_t *p = writer_take(w, n);
  if (p != NULL && n > 0)
    memset(p, 0, n);
}

uint64_t
tm_seq_extend(uint64_t highest_ext, uint16_t seq)
{
  if (highest_ext == 0)
    return (uint64_t) seq + 65536; /* start one cycle up so early reordering cannot underflow */
  uint16_t high = (uint16_t) highest_ext;
  int64_t ext = (int64_t) highest_ext + tm_seq_diff(high, seq);
  return ext > 0 ? (uint64_t) ext : 0;
}

void
tm_token_bucket_init(TmTokenBucket *b, double rate_per_sec, double burst, int64_t now_us)
{
  b->tokens = burst;
  b->burst = burst;
  b->rate_per_sec = rate_per_sec;
  b->last_us = now_us;
}

bool
tm_token_bucket_take_n(TmTokenBucket *b, double n, int64_t now_us)
{
  if (now_us > b->last_us) {
    b->tokens += (double) (now_us - b->last_us) * b->rate_per_sec / 1e6;
    b->last_us = now_us;
  }
  if (b->tokens > b->burst)
    b->tokens = b->burst;
  if (b->tokens < n)
    return false;
  b->tokens -= n;
  return true;
}

bool
tm_token_bucket_take(TmTokenBucket *b, int64_t now_us)
{
  return tm_token_bucket_take_n(b, 1.0, now_us);
}

void
tm_hex_colon(const uint8_t *bytes, size_t len, char *out)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    if (i > 0)
      out[o++] = ':';
    out[o++] = hex[bytes[i] >> 4];
    out[o++] = hex[bytes[i] & 15];
  }
  out[o] = '\0';
}
