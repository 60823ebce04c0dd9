/* util.h — small building blocks of the engine: a bounds-checked byte reader and writer with a
 * sticky error flag, RTP sequence-number arithmetic, and a token-bucket rate limiter whose time
 * comes in as a parameter. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- byte reader: every read past the end sets `err` and returns 0; later reads do too ---- */
typedef struct {
  const uint8_t *data;
  size_t len;
  size_t pos;
  bool err;
} TmReader;

void tm_reader_init(TmReader *r, const uint8_t *data, size_t len);
uint8_t tm_reader_u8(TmReader *r);
uint16_t tm_reader_u16(TmReader *r);
uint32_t tm_reader_u24(TmReader *r);
uint32_t tm_reader_u32(TmReader *r);
/* Returns a pointer to the next N bytes and advances, or NULL (and err) if fewer remain. */
const uint8_t *tm_reader_bytes(TmReader *r, size_t n);
void tm_reader_skip(TmReader *r, size_t n);
size_t tm_reader_remaining(const TmReader *r);

/* ---- byte writer: every write past `cap` sets `err` and writes nothing ---- */
typedef struct {
  uint8_t *data;
  size_t cap;
  size_t pos;
  bool err;
} TmWriter;

void tm_writer_init(TmWriter *w, uint8_t *data, size_t cap);
void tm_writer_u8(TmWriter *w, uint8_t v);
void tm_writer_u16(TmWriter *w, uint16_t v);
void tm_writer_u24(TmWriter *w, uint32_t v);
void tm_writer_u32(TmWriter *w, uint32_t v);
void tm_writer_bytes(TmWriter *w, const void *src, size_t n);
void tm_writer_zeros(TmWriter *w, size_t n);

/* ---- sequence numbers (RFC 3550 §A.1 style, 16-bit wrap) ---- */
/* Signed distance from A to B: positive when B is newer. */
static inline int16_t
tm_seq_diff(uint16_t a, uint16_t b)
{
  return (int16_t) (uint16_t) (b - a);
}

static inline bool
tm_seq_newer(uint16_t a, uint16_t b)
{
  return tm_seq_diff(b, a) > 0; /* a is newer than b */
}

/* Extends a 16-bit sequence number to 64 bits given the highest extended one seen so far. */
uint64_t tm_seq_extend(uint64_t highest_ext, uint16_t seq);

/* ---- token bucket ---- */
typedef struct {
  double tokens;
  double burst;        /* bucket size */
  double rate_per_sec; /* refill rate */
  int64_t last_us;
} TmTokenBucket;

void tm_token_bucket_init(TmTokenBucket *b, double rate_per_sec, double burst, int64_t now_us);
/* Takes one token if available: returns true (allowed) or false (rate-limited). */
bool tm_token_bucket_take(TmTokenBucket *b, int64_t now_us);
/* Takes N tokens if that many are available (a bucket of bytes, say). */
bool tm_token_bucket_take_n(TmTokenBucket *b, double n, int64_t now_us);

/* Upper-case hex with ':' between bytes into OUT (needs 3*len bytes). */
void tm_hex_colon(const uint8_t *bytes, size_t len, char *out);
