/* test-util.c — byte reader and writer (bounds, sticky errors), sequence-number arithmetic
 * across the 16-bit wrap and with reordering, the token bucket, and hex fingerprints. */
#include <glib.h>
#include <string.h>

#include "util.h"

/* ---- reader ---- */

static void
test_reader_values(void)
{
  static const uint8_t data[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                  0x08, 0x09, 0x0a, 0x0b, 0x0c, 0xfe, 0xff };
  TmReader r;
  tm_reader_init(&r, data, sizeof data);
  g_assert_cmpuint(tm_reader_remaining(&r), ==, 14);
  g_assert_cmpuint(tm_reader_u8(&r), ==, 0x01);
  g_assert_cmpuint(tm_reader_u16(&r), ==, 0x0203);
  g_assert_cmpuint(tm_reader_u24(&r), ==, 0x040506);
  g_assert_cmpuint(tm_reader_u32(&r), ==, 0x0708090a);
  tm_reader_skip(&r, 2);
  const uint8_t *p = tm_reader_bytes(&r, 2);
  g_assert_true(p == data + 12);
  g_assert_cmpuint(p[1], ==, 0xff);
  g_assert_false(r.err);
  g_assert_cmpuint(tm_reader_remaining(&r), ==, 0);
  /* a zero-length read at the end is fine */
  g_assert_nonnull(tm_reader_bytes(&r, 0));
  g_assert_false(r.err);
}

static void
test_reader_sticky_error(void)
{
  static const uint8_t data[] = { 0xaa, 0xbb, 0xcc };
  TmReader r;
  tm_reader_init(&r, data, sizeof data);
  g_assert_cmpuint(tm_reader_u8(&r), ==, 0xaa);
  /* 4 bytes wanted, 2 left: error, 0, and the position does not move */
  g_assert_cmpuint(tm_reader_u32(&r), ==, 0);
  g_assert_true(r.err);
  g_assert_cmpuint(r.pos, ==, 1);
  /* sticky: a read that would fit still fails */
  g_assert_cmpuint(tm_reader_u8(&r), ==, 0);
  g_assert_cmpuint(tm_reader_u16(&r), ==, 0);
  g_assert_null(tm_reader_bytes(&r, 1));
  g_assert_null(tm_reader_bytes(&r, 0));
  g_assert_true(r.err);
  g_assert_cmpuint(tm_reader_remaining(&r), ==, 0);
  g_assert_cmpuint(r.pos, ==, 1);

  /* a huge length must not wrap around the bounds check */
  tm_reader_init(&r, data, sizeof data);
  tm_reader_skip(&r, 1);
  g_assert_null(tm_reader_bytes(&r, SIZE_MAX));
  g_assert_true(r.err);
  tm_reader_init(&r, data, sizeof data);
  tm_reader_skip(&r, SIZE_MAX - 1);
  g_assert_true(r.err);

  /* each width fails on its own when one byte short */
  tm_reader_init(&r, data, 1);
  (void) tm_reader_u16(&r);
  g_assert_true(r.err);
  tm_reader_init(&r, data, 2);
  (void) tm_reader_u24(&r);
  g_assert_true(r.err);
  tm_reader_init(&r, data, 3);
  (void) tm_reader_u32(&r);
  g_assert_true(r.err);
  tm_reader_init(&r, data, 0);
  (void) tm_reader_u8(&r);
  g_assert_true(r.err);

  /* NULL data reads as empty */
  tm_reader_init(&r, NULL, 100);
  g_assert_cmpuint(tm_reader_remaining(&r), ==, 0);
  (void) tm_reader_u8(&r);
  g_assert_true(r.err);
}

/* ---- writer ---- */

static void
test_writer_values(void)
{
  uint8_t buf[16];
  memset(buf, 0x55, sizeof buf);
  TmWriter w;
  tm_writer_init(&w, buf, 14);
  tm_writer_u8(&w, 0x01);
  tm_writer_u16(&w, 0x0203);
  tm_writer_u24(&w, 0xff040506); /* top byte dropped */
  tm_writer_u32(&w, 0x0708090a);
  tm_writer_zeros(&w, 2);
  tm_writer_bytes(&w, "\xfe\xff", 2);
  g_assert_false(w.err);
  g_assert_cmpuint(w.pos, ==, 14);
  static const uint8_t want[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                  0x09, 0x0a, 0x00, 0x00, 0xfe, 0xff, 0x55, 0x55 };
  g_assert_cmpmem(buf, sizeof buf, want, sizeof want);

  /* what the writer wrote, the reader reads back */
  TmReader r;
  tm_reader_init(&r, buf, w.pos);
  g_assert_cmpuint(tm_reader_u8(&r), ==, 0x01);
  g_assert_cmpuint(tm_reader_u16(&r), ==, 0x0203);
  g_assert_cmpuint(tm_reader_u24(&r), ==, 0x040506);
  g_assert_cmpuint(tm_reader_u32(&r), ==, 0x0708090a);
}

static void
test_writer_overflow(void)
{
  uint8_t buf[8];
  memset(buf, 0x55, sizeof buf);
  TmWriter w;
  tm_writer_init(&w, buf, 5);
  tm_writer_u32(&w, 0x11223344);
  g_assert_false(w.err);
  /* 2 bytes into 1 left: nothing written, not even the first byte */
  tm_writer_u16(&w, 0xaabb);
  g_assert_true(w.err);
  g_assert_cmpuint(w.pos, ==, 4);
  g_assert_cmpuint(buf[4], ==, 0x55);
  /* sticky: a write that would fit writes nothing */
  tm_writer_u8(&w, 0xcc);
  tm_writer_zeros(&w, 1);
  tm_writer_bytes(&w, "x", 1);
  g_assert_true(w.err);
  g_assert_cmpuint(w.pos, ==, 4);
  g_assert_cmpuint(buf[4], ==, 0x55);

  /* each width on its own */
  tm_writer_init(&w, buf, 2);
  tm_writer_u24(&w, 1);
  g_assert_true(w.err);
  tm_writer_init(&w, buf, 3);
  tm_writer_u32(&w, 1);
  g_assert_true(w.err);
  tm_writer_init(&w, buf, 0);
  tm_writer_u8(&w, 1);
  g_assert_true(w.err);
  tm_writer_init(&w, buf, 4);
  tm_writer_zeros(&w, SIZE_MAX);
  g_assert_true(w.err);
  tm_writer_init(&w, NULL, 100);
  tm_writer_u8(&w, 1);
  g_assert_true(w.err);
  g_assert_cmpmem(buf, 4, "\x11\x22\x33\x44", 4);

  /* exactly full is fine */
  tm_writer_init(&w, buf, 8);
  tm_writer_u32(&w, 1);
  tm_writer_u32(&w, 2);
  g_assert_false(w.err);
  g_assert_cmpuint(w.pos, ==, 8);
}

/* ---- sequence numbers ---- */

static void
test_seq_diff(void)
{
  g_assert_cmpint(tm_seq_diff(10, 11), ==, 1);
  g_assert_cmpint(tm_seq_diff(11, 10), ==, -1);
  g_assert_cmpint(tm_seq_diff(5, 5), ==, 0);
  /* across the wrap */
  g_assert_cmpint(tm_seq_diff(65535, 0), ==, 1);
  g_assert_cmpint(tm_seq_diff(0, 65535), ==, -1);
  g_assert_cmpint(tm_seq_diff(65530, 4), ==, 10);
  g_assert_cmpint(tm_seq_diff(4, 65530), ==, -10);
  /* the largest distances either way */
  g_assert_cmpint(tm_seq_diff(0, 32767), ==, 32767);
  g_assert_cmpint(tm_seq_diff(0, 32768), ==, -32768);
  g_assert_cmpint(tm_seq_diff(100, 100 + 32767), ==, 32767);

  g_assert_true(tm_seq_newer(11, 10));
  g_assert_false(tm_seq_newer(10, 11));
  g_assert_false(tm_seq_newer(10, 10));
  g_assert_true(tm_seq_newer(0, 65535));
  g_assert_false(tm_seq_newer(65535, 0));
  g_assert_true(tm_seq_newer(3, 65000));
  g_assert_false(tm_seq_newer(65000, 3));
  g_assert_true(tm_seq_newer(32767, 0));
  g_assert_false(tm_seq_newer(0, 32767));
  /* for every pair closer than half the space, exactly one is newer */
  for (unsigned a = 0; a < 65536; a += 251) {
    for (int d = -300; d <= 300; d += 7) {
      uint16_t b = (uint16_t) (a + (unsigned) d);
      if (d == 0)
        continue;
      g_assert_true(tm_seq_newer(b, (uint16_t) a) == (d > 0));
      g_assert_true(tm_seq_newer((uint16_t) a, b) == (d < 0));
      g_assert_cmpint(tm_seq_diff((uint16_t) a, b), ==, d);
    }
  }
}

static void
test_seq_extend(void)
{
  /* the first sequence number starts one cycle up */
  uint64_t h = tm_seq_extend(0, 65530);
  g_assert_cmpuint(h, ==, 65536 + 65530);
  /* an older packet arriving right after the first one cannot underflow */
  g_assert_cmpuint(tm_seq_extend(tm_seq_extend(0, 2), 65534), ==, 65534);

  /* forward through the wrap, one by one */
  uint64_t ext = h;
  for (unsigned i = 1; i <= 20; i++) {
    uint16_t seq = (uint16_t) (65530 + i);
    uint64_t e = tm_seq_extend(ext, seq);
    g_assert_cmpuint(e, ==, ext + 1);
    g_assert_cmpuint((uint16_t) e, ==, seq);
    ext = e;
  }
  g_assert_cmpuint(ext, ==, 2 * 65536 + 14);

  /* reordered: an old packet from before the wrap stays in the previous cycle */
  g_assert_cmpuint(tm_seq_extend(ext, 65533), ==, 65536 + 65533);
  g_assert_cmpuint(tm_seq_extend(ext, 0), ==, 2 * 65536);
  g_assert_cmpuint(tm_seq_extend(ext, 14), ==, ext);
  /* a jump forward (loss) across the wrap */
  g_assert_cmpuint(tm_seq_extend(65536 + 65000, 1000), ==, 2 * 65536 + 1000);
  /* a late packet from the previous cycle after the highest already wrapped */
  g_assert_cmpuint(tm_seq_extend(3 * 65536 + 5, 65000), ==, 2 * 65536 + 65000);

  /* a shuffled stream across two wraps: the highest extended number always matches the truth */
  GRand *rand = g_rand_new_with_seed(7);
  uint64_t truth_max = 0, highest = 0;
  uint64_t base = 65536 + 65000;
  for (unsigned i = 0; i < 140000; i += 4) {
    uint64_t batch[4] = { base + i, base + i + 1, base + i + 2, base + i + 3 };
    for (int k = 3; k > 0; k--) { /* shuffle the batch */
      int j = g_rand_int_range(rand, 0, k + 1);
      uint64_t t = batch[k];
      batch[k] = batch[j];
      batch[j] = t;
    }
    for (int k = 0; k < 4; k++) {
      uint64_t e = tm_seq_extend(highest, (uint16_t) batch[k]);
      g_assert_cmpuint(e, ==, batch[k]);
      if (e > highest)
        highest = e;
      if (batch[k] > truth_max)
        truth_max = batch[k];
    }
  }
  g_rand_free(rand);
  g_assert_cmpuint(highest, ==, truth_max);
}

/* ---- token bucket ---- */

static void
test_token_bucket_burst_and_rate(void)
{
  TmTokenBucket b;
  int64_t t = 1000000;
  tm_token_bucket_init(&b, 10.0, 3.0, t); /* 10 per second, 3 at once */
  /* a full bucket: three at once, then refused */
  g_assert_true(tm_token_bucket_take(&b, t));
  g_assert_true(tm_token_bucket_take(&b, t));
  g_assert_true(tm_token_bucket_take(&b, t));
  g_assert_false(tm_token_bucket_take(&b, t));
  /* 99 ms: not yet a whole token */
  g_assert_false(tm_token_bucket_take(&b, t + 99000));
  /* 100 ms: one */
  g_assert_true(tm_token_bucket_take(&b, t + 100000));
  g_assert_false(tm_token_bucket_take(&b, t + 100000));
  /* a long pause fills up to the burst, no more */
  t += 60 * G_USEC_PER_SEC;
  for (int i = 0; i < 3; i++)
    g_assert_true(tm_token_bucket_take(&b, t));
  g_assert_false(tm_token_bucket_take(&b, t));

  /* over 10 seconds of constant demand every ms, the rate holds: burst + rate * time */
  tm_token_bucket_init(&b, 10.0, 3.0, 0);
  unsigned allowed = 0;
  for (int64_t now = 0; now <= 10 * G_USEC_PER_SEC; now += 1000)
    allowed += tm_token_bucket_take(&b, now);
  g_assert_cmpuint(allowed, ==, 3 + 100);
}

static void
test_token_bucket_time_backwards(void)
{
  TmTokenBucket b;
  tm_token_bucket_init(&b, 1.0, 1.0, 5 * G_USEC_PER_SEC);
  g_assert_true(tm_token_bucket_take(&b, 5 * G_USEC_PER_SEC));
  /* time going backwards gives nothing, and does not move the clock back */
  g_assert_false(tm_token_bucket_take(&b, 0));
  g_assert_false(tm_token_bucket_take(&b, -10 * G_USEC_PER_SEC));
  g_assert_cmpint(b.last_us, ==, 5 * G_USEC_PER_SEC);
  /* half a second after the last real time: still nothing */
  g_assert_false(tm_token_bucket_take(&b, 5 * G_USEC_PER_SEC + 500000));
  /* one second after: one token (had the clock moved back, this would give more) */
  g_assert_true(tm_token_bucket_take(&b, 6 * G_USEC_PER_SEC));
  g_assert_false(tm_token_bucket_take(&b, 6 * G_USEC_PER_SEC));
  g_assert_cmpfloat(b.tokens, >=, 0.0);
}

static void
test_token_bucket_zero_rate(void)
{
  TmTokenBucket b;
  tm_token_bucket_init(&b, 0.0, 2.0, 0);
  g_assert_true(tm_token_bucket_take(&b, 0));
  g_assert_true(tm_token_bucket_take(&b, 1));
  for (int64_t t = 0; t < 100; t++)
    g_assert_false(tm_token_bucket_take(&b, t * G_USEC_PER_SEC));
}

/* ---- hex ---- */

static void
test_hex_colon(void)
{
  static const uint8_t bytes[] = { 0x00, 0x0f, 0xa0, 0xff, 0x5c };
  char out[3 * sizeof bytes];
  memset(out, 'Z', sizeof out);
  tm_hex_colon(bytes, sizeof bytes, out);
  g_assert_cmpstr(out, ==, "00:0F:A0:FF:5C");
  g_assert_cmpuint(strlen(out) + 1, ==, sizeof out);

  char one[3];
  tm_hex_colon(bytes + 3, 1, one);
  g_assert_cmpstr(one, ==, "FF");

  char empty[1] = { 'Z' };
  tm_hex_colon(bytes, 0, empty);
  g_assert_cmpstr(empty, ==, "");

  /* a sha-256 fingerprint: 32 bytes, 95 characters */
  uint8_t fp[32];
  for (unsigned i = 0; i < sizeof fp; i++)
    fp[i] = (uint8_t) (i * 17);
  char s[3 * sizeof fp];
  tm_hex_colon(fp, sizeof fp, s);
  g_assert_cmpuint(strlen(s), ==, 95);
  g_assert_true(g_str_has_prefix(s, "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:10:21"));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/util/reader/values", test_reader_values);
  g_test_add_func("/util/reader/sticky-error", test_reader_sticky_error);
  g_test_add_func("/util/writer/values", test_writer_values);
  g_test_add_func("/util/writer/overflow", test_writer_overflow);
  g_test_add_func("/util/seq/diff-newer", test_seq_diff);
  g_test_add_func("/util/seq/extend", test_seq_extend);
  g_test_add_func("/util/token-bucket/burst-rate", test_token_bucket_burst_and_rate);
  g_test_add_func("/util/token-bucket/time-backwards", test_token_bucket_time_backwards);
  g_test_add_func("/util/token-bucket/zero-rate", test_token_bucket_zero_rate);
  g_test_add_func("/util/hex-colon", test_hex_colon);
  return g_test_run();
}
