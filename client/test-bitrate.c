/* test-bitrate.c — the client's video bitrate controller (client/bitrate.c). */
#include <glib.h>

#include "bitrate.h"

#define S 1000000

static void
test_follows_estimate(void)
{
  TmBitrate b;
  tm_bitrate_init(&b, 800000, 0);
  /* a connection starts at a browser's rate, not the profile's */
  g_assert_cmpuint(b.target_bps, ==, TM_BITRATE_START_BPS);
  g_assert_cmpuint(b.max_bps, ==, 800000);
  /* a poor link: down at once, with headroom */
  g_assert_true(tm_bitrate_estimate(&b, 300000, 1 * S));
  g_assert_cmpuint(b.target_bps, ==, 270000);
  /* the same again: no change to apply */
  g_assert_false(tm_bitrate_estimate(&b, 300000, 2 * S));
  /* a worse one: the floor, never below */
  g_assert_true(tm_bitrate_estimate(&b, 20000, 3 * S));
  g_assert_cmpuint(b.target_bps, ==, TM_BITRATE_FLOOR_BPS);
}

/* The estimate covers the sound too: 40 kbit/s of Opus in 50 packets a second (24 kbit/s of
 * headers) come off it before the video's 90 %. */
static void
test_sound_reserved(void)
{
  TmBitrate b;
  tm_bitrate_init(&b, 800000, 0);
  tm_bitrate_reserve(&b, 40000, 50);
  g_assert_cmpuint(b.reserved_bps, ==, 64000);
  g_assert_true(tm_bitrate_estimate(&b, 300000, 1 * S));
  g_assert_cmpuint(b.target_bps, ==, (guint) ((300000 - 64000) * TM_BITRATE_HEADROOM));
  /* less than the sound takes: the floor */
  g_assert_true(tm_bitrate_estimate(&b, 50000, 2 * S));
  g_assert_cmpuint(b.target_bps, ==, TM_BITRATE_FLOOR_BPS);
}

static void
test_rises_slowly(void)
{
  TmBitrate b;
  tm_bitrate_init(&b, 800000, 0);
  tm_bitrate_estimate(&b, 200000, 0);
  g_assert_cmpuint(b.target_bps, ==, 180000);
  /* the link clears: up by at most 15 % a second, never above the profile's target */
  guint prev = b.target_bps;
  for (gint64 t = 1; t <= 30; t++) {
    tm_bitrate_estimate(&b, 5000000, t * S);
    g_assert_cmpuint(b.target_bps, <=, (guint) (prev * 1.16));
    g_assert_cmpuint(b.target_bps, <=, 800000);
    prev = b.target_bps;
  }
  g_assert_cmpuint(b.target_bps, ==, 800000);
}

/* A profile below the start rate starts at its own; a good link's estimates bring the start
 * rate up to the profile's in the time a 15 % rise a second takes (300 → 800 kbit/s: 7 s). */
static void
test_starts_low(void)
{
  TmBitrate b;
  tm_bitrate_init(&b, 200000, 0);
  g_assert_cmpuint(b.target_bps, ==, 200000);
  tm_bitrate_init(&b, 800000, 0);
  gint64 t = 1;
  for (; t <= 30 && b.target_bps < 800000; t++)
    tm_bitrate_estimate(&b, 2000000, t * S);
  g_assert_cmpuint(b.target_bps, ==, 800000);
  g_assert_cmpint(t, >=, 7);
  g_assert_cmpint(t, <=, 9);
}

static void
test_parse_remb(void)
{
  /* 1 SSRC, exponent 3, mantissa 100000: 800000 bit/s */
  guint8 fci[12] = {
    'R',           'E', 'M', 'B', 1, (3 << 2) | (100000 >> 16), (100000 >> 8) & 0xff,
    100000 & 0xff, 0,   0,   0,   1
  };
  guint64 bps = 0;
  g_assert_true(tm_bitrate_parse_remb(fci, sizeof fci, &bps));
  g_assert_cmpuint(bps, ==, 800000);
  g_assert_false(tm_bitrate_parse_remb(fci, 11, &bps)); /* its SSRC cut off */
  g_assert_false(tm_bitrate_parse_remb(fci, 4, &bps));
  fci[0] = 'X';
  g_assert_false(tm_bitrate_parse_remb(fci, sizeof fci, &bps));
  guint8 huge[8] = { 'R', 'E', 'M', 'B', 0, 63 << 2, 0xff, 0xff };
  g_assert_false(tm_bitrate_parse_remb(huge, sizeof huge, &bps));
}

static void
test_picture_size(void)
{
  TmBitrate b;
  tm_bitrate_init(&b, 800000, 0);
  g_assert_false(tm_bitrate_scale(&b, TM_BITRATE_START_BPS, 0));
  g_assert_cmpuint(b.quarters, ==, 4);
  /* 300 kbit/s (a 90 % target of 270) and a plain picture the encoder codes in 150: its size
   * stays */
  tm_bitrate_estimate(&b, 300000, 1 * S);
  g_assert_false(tm_bitrate_scale(&b, 150000, 1 * S));
  g_assert_cmpuint(b.quarters, ==, 4);
  /* a detailed one it cannot code in 270 (it sends 600): 480x360, at once */
  g_assert_true(tm_bitrate_scale(&b, 600000, 1 * S));
  g_assert_cmpuint(b.quarters, ==, 3);
  g_assert_cmpint(tm_bitrate_scaled(640, b.quarters), ==, 480);
  g_assert_cmpint(tm_bitrate_scaled(480, b.quarters), ==, 360);
  /* 110 kbit/s (99 of video): 320x240 */
  tm_bitrate_estimate(&b, 110000, 2 * S);
  g_assert_true(tm_bitrate_scale(&b, 400000, 2 * S));
  g_assert_cmpuint(b.quarters, ==, 2);
  g_assert_cmpint(tm_bitrate_scaled(640, b.quarters), ==, 320);
  /* the floor (50 kbit/s): 160x120, whose key frames a slow link's short queue takes */
  tm_bitrate_estimate(&b, 30000, 2 * S);
  g_assert_cmpuint(b.target_bps, ==, TM_BITRATE_FLOOR_BPS);
  g_assert_true(tm_bitrate_scale(&b, 200000, 2 * S));
  g_assert_cmpuint(b.quarters, ==, 1);
  g_assert_cmpint(tm_bitrate_scaled(640, b.quarters), ==, 160);
  /* the link clears: the bitrate rises first, the picture grows only after 10 s of room */
  gint64 t = 3;
  for (; t < 60 && b.quarters <= 2; t++) {
    tm_bitrate_estimate(&b, 2000000, t * S);
    tm_bitrate_scale(&b, b.target_bps, t * S);
  }
  g_assert_cmpuint(b.quarters, >=, 3);
  g_assert_cmpuint(b.target_bps, >=, 203000);
  /* by then the rate allowed it for 10 s: never sooner */
  g_assert_cmpint(t, >=, 3 + TM_BITRATE_SCALE_UP_US / S);
  for (; t < 80 && b.quarters < 4; t++) {
    tm_bitrate_estimate(&b, 2000000, t * S);
    tm_bitrate_scale(&b, b.target_bps, t * S);
  }
  g_assert_cmpuint(b.quarters, ==, 4);
  /* odd sizes are made even, never zero */
  g_assert_cmpint(tm_bitrate_scaled(250, 3), ==, 186);
  g_assert_cmpint(tm_bitrate_scaled(2, 1), ==, 2);
}

/* An encoder that cannot keep to its target at a size the target allows (a zone plate at 320x240
 * in 100 kbit/s): one size smaller, and that size not again until the target is 1.5 times the
 * one it failed at. */
static void
test_overshoot_at_allowed_size(void)
{
  TmBitrate b;
  tm_bitrate_init(&b, 800000, 0);
  tm_bitrate_estimate(&b, 110000, 0);
  g_assert_cmpuint(b.target_bps, ==, 99000);
  g_assert_true(tm_bitrate_scale(&b, 400000, 0));
  g_assert_cmpuint(b.quarters, ==, 2); /* 320x240: what 99 kbit/s allows */
  /* it sends 99 kbit/s: the size stays */
  g_assert_false(tm_bitrate_scale(&b, 99000, 1 * S));
  g_assert_cmpuint(b.quarters, ==, 2);
  /* it sends 180 kbit/s against 99: 160x120 */
  g_assert_true(tm_bitrate_scale(&b, 180000, 2 * S));
  g_assert_cmpuint(b.quarters, ==, 1);
  g_assert_cmpuint(b.overshot_bps[2], ==, 99000);
  /* the target rises a little (to 130 kbit/s): still too little for 320x240 after 10 s */
  gint64 t = 3;
  for (; t < 20; t++) {
    tm_bitrate_estimate(&b, 160000, t * S);
    g_assert_false(tm_bitrate_scale(&b, b.target_bps, t * S));
  }
  g_assert_cmpuint(b.quarters, ==, 1);
  /* 1.5 times the target it failed at, for 10 s: larger again (here 480x360, which 216 kbit/s
   * allows) */
  for (; t < 60 && b.quarters == 1; t++) {
    tm_bitrate_estimate(&b, 240000, t * S);
    tm_bitrate_scale(&b, b.target_bps, t * S);
  }
  g_assert_cmpuint(b.quarters, >=, 2);
  g_assert_cmpuint(b.target_bps, >=, 148500);
  /* at 160x120 there is nothing smaller: an encoder over its target there keeps its size */
  tm_bitrate_estimate(&b, 20000, t * S);
  g_assert_true(tm_bitrate_scale(&b, 200000, t * S));
  g_assert_cmpuint(b.quarters, ==, 1);
  g_assert_false(tm_bitrate_scale(&b, 200000, (t + 1) * S));
  g_assert_cmpuint(b.quarters, ==, 1);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/bitrate/follows-estimate", test_follows_estimate);
  g_test_add_func("/bitrate/sound-reserved", test_sound_reserved);
  g_test_add_func("/bitrate/starts-low", test_starts_low);
  g_test_add_func("/bitrate/overshoot-at-allowed-size", test_overshoot_at_allowed_size);
  g_test_add_func("/bitrate/rises-slowly", test_rises_slowly);
  g_test_add_func("/bitrate/parse-remb", test_parse_remb);
  g_test_add_func("/bitrate/picture-size", test_picture_size);
  return g_test_run();
}
