/* bitrate.h — the publish connection's video bitrate, following what the relay can take.
 *
 * The relay estimates, per publisher, the rate its link carries (loss- and delay-based) and
 * sends it as REMB (docs/poor-networks.md). The controller turns those estimates into the
 * encoder's target: 90 % of the estimate (headroom for audio, RTP and retransmissions), never
 * above the profile's own target nor below a floor; a lower estimate applies at once, a higher
 * one at most 15 % a second, so a short good spell does not flood a poor link again. Pure: the
 * time comes in as a parameter. */
#pragma once

#include <glib.h>

#define TM_BITRATE_FLOOR_BPS 100000
#define TM_BITRATE_HEADROOM 0.9
#define TM_BITRATE_RISE_PER_S 0.15

typedef struct {
  guint max_bps;    /* the profile's target: never more */
  guint target_bps; /* what the encoder should use now */
  gint64 last_change_us;
} TmBitrate;

void tm_bitrate_init(TmBitrate *b, guint max_bps, gint64 now_us);
/* An estimate from the relay (REMB, bits per second). Returns TRUE when the target changed
 * by more than 5 % (the caller sets the encoder). */
gboolean tm_bitrate_estimate(TmBitrate *b, guint64 estimate_bps, gint64 now_us);
/* The REMB bitrate in a payload-specific feedback FCI ("REMB", count, exponent/mantissa,
 * SSRCs); FALSE when FCI is not a well-formed REMB. */
gboolean tm_bitrate_parse_remb(const guint8 *fci, gsize len, guint64 *bps);
