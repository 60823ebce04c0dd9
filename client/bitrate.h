/* bitrate.h — the publish connection's video bitrate, following what the relay can take.
 *
 * The relay estimates, per publisher, the rate its link carries (loss- and delay-based) and
 * sends it as REMB (docs/poor-networks.md). REMB covers everything the publisher sends (its
 * sound too, as its SSRCs say), so the controller turns an estimate into the encoder's target
 * as 90 % of what is left of it once the sound and its packets' headers are taken out
 * (tm_bitrate_reserve; the 10 % is headroom for RTP headers and retransmissions), never
 * above the profile's own target nor below a floor; a lower estimate applies at once, a higher
 * one at most 15 % a second, so a short good spell does not flood a poor link again. Pure: the
 * time comes in as a parameter. */
#pragma once

#include <glib.h>

#define TM_BITRATE_FLOOR_BPS 50000
/* Where the target starts, until the relay's estimates raise it (a browser starts at the same):
 * the profile's full rate from the first packet filled a 1 Mbit/s link's queue as the
 * connection started (loss that held the relay's estimate down for a minute). */
#define TM_BITRATE_START_BPS 300000
#define TM_BITRATE_HEADROOM 0.9
#define TM_BITRATE_RISE_PER_S 0.15
#define TM_BITRATE_PACKET_HEADERS 60 /* bytes: RTP 12, extension 8, SRTP tag 10, UDP/IP 28 */

/* The picture's size follows the target too: a detailed 640x480 picture cannot be coded in
 * 100 kbit/s (the encoder's quantizer tops out and it overshoots several times over), a smaller
 * one can. Each dimension is the profile's times quarters/4, the largest of 4, 3, 2, 1 for which
 * the target is at least that share of the profile's rate times TM_BITRATE_SCALE_SHARE (the
 * pixels a second scale with the square): at the standard profile's 800 kbit/s, 640x480 from
 * 360 kbit/s, 480x360 from 203 kbit/s, 320x240 from 90 kbit/s. Smaller only when the encoder
 * cannot keep to the target at the present size (it sends more than TM_BITRATE_OVERSHOOT times
 * it): a plain picture keeps its size at any rate, and the relay's estimate, which never goes
 * far above what a sender uses, does not shrink it. An encoder that cannot keep to the target
 * at a size the target allows (a detailed, moving picture) makes the picture one size smaller
 * too, and that size is not used again until the target is TM_BITRATE_OVERSHOT_MARGIN times the
 * one it failed at: such an encoder sent 210-250 kbit/s for a minute on a link the relay
 * estimated at 170-190, and lost 11-16 % of it. Larger once the target has allowed it for
 * TM_BITRATE_SCALE_UP_US. */
#define TM_BITRATE_SCALE_SHARE 0.45
#define TM_BITRATE_SCALE_UP_US (10 * G_USEC_PER_SEC)
#define TM_BITRATE_OVERSHOOT 1.25
#define TM_BITRATE_OVERSHOT_MARGIN 1.5

typedef struct {
  guint max_bps;    /* the profile's target: never more */
  guint target_bps; /* what the encoder should use now */
  gint64 last_change_us;
  guint quarters;         /* the picture's size: the profile's times quarters / 4 each way */
  gint64 larger_since_us; /* since when the target allows a larger picture, 0: it does not */
  guint reserved_bps;     /* what of an estimate is not for the video (sound, on the wire) */
  guint overshot_bps[5];  /* per size (quarters): the target the encoder could not keep to */
} TmBitrate;

/* A connection's start: the target is the profile's MAX_BPS or TM_BITRATE_START_BPS, the lower. */
void tm_bitrate_init(TmBitrate *b, guint max_bps, gint64 now_us);
/* What of every estimate goes to the rest of what the publisher sends (its sound at
 * AUDIO_BPS in PACKETS_PER_S packets, each with ~60 bytes of RTP, SRTP, UDP and IP). */
void tm_bitrate_reserve(TmBitrate *b, guint audio_bps, guint packets_per_s);
/* An estimate from the relay (REMB, bits per second). Returns TRUE when the target changed
 * by more than 5 % (the caller sets the encoder). */
gboolean tm_bitrate_estimate(TmBitrate *b, guint64 estimate_bps, gint64 now_us);
/* After each estimate: the picture's size for the target (quarters), given the video bitrate
 * the encoder produced lately (SENT_BPS). Returns TRUE when it changed (the caller sets the
 * capture size). */
gboolean tm_bitrate_scale(TmBitrate *b, guint64 sent_bps, gint64 now_us);
/* The profile's dimension FULL at QUARTERS/4, rounded down to an even number (at least 2). */
gint tm_bitrate_scaled(gint full, guint quarters);

/* The REMB bitrate in a payload-specific feedback FCI ("REMB", count, exponent/mantissa,
 * SSRCs); FALSE when FCI is not a well-formed REMB. */
gboolean tm_bitrate_parse_remb(const guint8 *fci, gsize len, guint64 *bps);
