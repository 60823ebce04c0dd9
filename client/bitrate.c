/* bitrate.c — following the relay's bandwidth estimate (see bitrate.h). */
#include "bitrate.h"

#include <string.h>

void
tm_bitrate_init(TmBitrate *b, guint max_bps, gint64 now_us)
{
  b->max_bps = MAX(max_bps, TM_BITRATE_FLOOR_BPS);
  b->target_bps = MIN(b->max_bps, TM_BITRATE_START_BPS);
  b->last_change_us = now_us;
  b->quarters = 4;
  b->larger_since_us = 0;
  b->reserved_bps = 0;
  memset(b->overshot_bps, 0, sizeof b->overshot_bps);
}

void
tm_bitrate_reserve(TmBitrate *b, guint audio_bps, guint packets_per_s)
{
  b->reserved_bps = audio_bps + packets_per_s * TM_BITRATE_PACKET_HEADERS * 8;
}

static guint
quarters_for(const TmBitrate *b)
{
  gdouble share = (gdouble) b->target_bps / b->max_bps;

  for (guint q = 4; q > 1; q--) {
    if (share >= TM_BITRATE_SCALE_SHARE * q * q / 16.0 &&
        b->target_bps >= TM_BITRATE_OVERSHOT_MARGIN * b->overshot_bps[q])
      return q;
  }
  return 1;
}

gboolean
tm_bitrate_scale(TmBitrate *b, guint64 sent_bps, gint64 now_us)
{
  guint want = quarters_for(b);
  gboolean over = (gdouble) sent_bps > TM_BITRATE_OVERSHOOT * b->target_bps;

  if (want <= b->quarters)
    b->larger_since_us = 0;
  if (want == b->quarters && over && b->quarters > 1) {
    /* the target allows this size, yet the encoder cannot keep to it */
    b->overshot_bps[b->quarters] = b->target_bps;
    want = quarters_for(b);
  }
  if (want < b->quarters) {
    if (!over)
      return FALSE; /* the encoder keeps to the target at this size */
    b->quarters = want;
    return TRUE;
  }
  if (want == b->quarters)
    return FALSE;
  if (b->larger_since_us == 0) {
    b->larger_since_us = now_us;
    return FALSE;
  }
  if (now_us - b->larger_since_us < TM_BITRATE_SCALE_UP_US)
    return FALSE;
  b->quarters = want;
  b->larger_since_us = 0;
  return TRUE;
}

gint
tm_bitrate_scaled(gint full, guint quarters)
{
  return MAX(2, (full * (gint) quarters / 4) & ~1);
}

gboolean
tm_bitrate_estimate(TmBitrate *b, guint64 estimate_bps, gint64 now_us)
{
  gdouble left = estimate_bps > b->reserved_bps ? (gdouble) (estimate_bps - b->reserved_bps) : 0;
  gdouble want = left * TM_BITRATE_HEADROOM;
  gdouble elapsed_s = MAX(0, now_us - b->last_change_us) / 1e6;
  gdouble ceiling = b->target_bps * (1.0 + TM_BITRATE_RISE_PER_S * MIN(elapsed_s, 4.0));
  guint next;

  want = CLAMP(want, TM_BITRATE_FLOOR_BPS, b->max_bps);
  if (want > b->target_bps)
    want = MIN(want, ceiling);
  next = (guint) want;
  if (next > b->target_bps * 1.05 || next < b->target_bps * 0.95 ||
      (next != b->target_bps && (next == b->max_bps || next == TM_BITRATE_FLOOR_BPS))) {
    b->target_bps = next;
    b->last_change_us = now_us;
    return TRUE;
  }
  return FALSE;
}

gboolean
tm_bitrate_parse_remb(const guint8 *fci, gsize len, guint64 *bps)
{
  guint exponent;
  guint64 mantissa;

  /* "REMB", number of SSRCs, 6-bit exponent and 18-bit mantissa, then the SSRCs */
  if (len < 8 || memcmp(fci, "REMB", 4) != 0 || len < 8 + 4 * (gsize) fci[4])
    return FALSE;
  exponent = fci[5] >> 2;
  mantissa = ((guint64) (fci[5] & 0x03) << 16) | ((guint64) fci[6] << 8) | fci[7];
  if (exponent > 46)
    return FALSE; /* more than 2^64 bits a second: nonsense */
  *bps = mantissa << exponent;
  return TRUE;
}
