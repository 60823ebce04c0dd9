/* test-red.c — redundant audio payloads (RFC 2198, relay/engine/red.c). */
#include <glib.h>
#include <string.h>

#include "red.h"

/* One redundant block (PT 111, 960 back, 3 bytes) and the primary (PT 111, 2 bytes), written
 * out by hand from RFC 2198 §3: F=1|PT, 14-bit offset, 10-bit length; F=0|PT; the data. */
static const uint8_t chromium_like[] = {
  0x80 | 111, 960 >> 6, (960 & 0x3f) << 2 | 0, 3, 111, 0xa1, 0xa2, 0xa3, 0xb1, 0xb2,
};

static void
test_parse(void)
{
  TmRedBlock b[TM_RED_MAX_BLOCKS];
  g_assert_cmpuint(tm_red_parse(chromium_like, sizeof chromium_like, b, TM_RED_MAX_BLOCKS), ==, 2);
  g_assert_cmpuint(b[0].pt, ==, 111);
  g_assert_cmpuint(b[0].ts_offset, ==, 960);
  g_assert_cmpmem(b[0].data, b[0].len, chromium_like + 5, 3);
  g_assert_cmpuint(b[1].pt, ==, 111);
  g_assert_cmpuint(b[1].ts_offset, ==, 0);
  g_assert_cmpmem(b[1].data, b[1].len, chromium_like + 8, 2);
  /* the primary alone (a packet with nothing before it) */
  const uint8_t alone[] = { 111, 0xc1 };
  g_assert_cmpuint(tm_red_parse(alone, sizeof alone, b, TM_RED_MAX_BLOCKS), ==, 1);
  g_assert_cmpuint(b[0].len, ==, 1);
  /* an empty primary is a packet still */
  g_assert_cmpuint(tm_red_parse(alone, 1, b, TM_RED_MAX_BLOCKS), ==, 1);
  g_assert_cmpuint(b[0].len, ==, 0);
}

static void
test_malformed(void)
{
  TmRedBlock b[TM_RED_MAX_BLOCKS];
  g_assert_cmpuint(tm_red_parse(chromium_like, 0, b, TM_RED_MAX_BLOCKS), ==, 0);
  /* cut off in the redundant header, before the primary's header, in the redundant data */
  for (size_t len = 1; len < 7; len++)
    g_assert_cmpuint(tm_red_parse(chromium_like, len, b, TM_RED_MAX_BLOCKS), ==, 0);
  /* more blocks than the caller takes */
  g_assert_cmpuint(tm_red_parse(chromium_like, sizeof chromium_like, b, 1), ==, 0);
  /* a block longer than the payload */
  uint8_t longer[sizeof chromium_like];
  memcpy(longer, chromium_like, sizeof longer);
  longer[3] = 6;
  g_assert_cmpuint(tm_red_parse(longer, sizeof longer, b, TM_RED_MAX_BLOCKS), ==, 0);
  /* headers without end */
  uint8_t headers[4 * (TM_RED_MAX_BLOCKS + 1)];
  memset(headers, 0x80 | 111, sizeof headers);
  g_assert_cmpuint(tm_red_parse(headers, sizeof headers, b, TM_RED_MAX_BLOCKS), ==, 0);
}

static void
test_build(void)
{
  const uint8_t before[] = { 0xa1, 0xa2, 0xa3 }, now[] = { 0xb1, 0xb2 };
  TmRedBlock prev = { 111, 960, before, sizeof before };
  TmRedBlock primary = { 111, 0, now, sizeof now };
  uint8_t out[32];
  g_assert_cmpuint(tm_red_build(&prev, 1, &primary, out, sizeof out), ==, sizeof chromium_like);
  g_assert_cmpmem(out, sizeof chromium_like, chromium_like, sizeof chromium_like);
  /* one byte short */
  g_assert_cmpuint(tm_red_build(&prev, 1, &primary, out, sizeof chromium_like - 1), ==, 0);
  /* fields that do not fit their headers */
  prev.ts_offset = TM_RED_MAX_TS_OFFSET + 1;
  g_assert_cmpuint(tm_red_build(&prev, 1, &primary, out, sizeof out), ==, 0);
  prev.ts_offset = 960;
  prev.len = TM_RED_MAX_BLOCK_LEN + 1;
  g_assert_cmpuint(tm_red_build(&prev, 1, &primary, out, sizeof out), ==, 0);
  /* no redundancy: the primary's header byte and its data */
  g_assert_cmpuint(tm_red_build(NULL, 0, &primary, out, sizeof out), ==, 3);
  g_assert_cmpuint(out[0], ==, 111);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/red/parse", test_parse);
  g_test_add_func("/red/malformed", test_malformed);
  g_test_add_func("/red/build", test_build);
  return g_test_run();
}
