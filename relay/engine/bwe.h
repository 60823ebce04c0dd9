/* bwe.h — receive-side bandwidth estimation (docs/poor-networks.md).
 *
 * One TmBwe per stream the relay receives (a publisher's audio and video, told to the sender by
 * REMB) or sends (a receiver's subscription, from that receiver's reports). It combines:
 *
 * - a loss controller (GCC, draft-ietf-rmcat-gcc-02 §6): once per report, loss under 2 % lets
 *   the estimate grow 8 % a second (never beyond 1.5 × the measured rate + 10 kbit/s, so an
 *   idle sender does not earn an estimate it never used), 2–10 % holds it, over 10 % multiplies
 *   it by (1 − loss / 2);
 * - a delay trend for video: per frame, the one-way delay variation (arrival time against RTP
 *   timestamp), accumulated, smoothed and fitted by least squares over the last 20 frames; a
 *   slope above 0.1 (the queue grows by 100 ms a second) held for 500 ms is overuse, and the
 *   estimate drops to 0.85 × the measured rate, at most once a second.
 *
 * The estimate starts from the measured rate at the first report, at least TM_BWE_START_BPS, and
 * stays within TM_BWE_MIN_BPS .. TM_BWE_MAX_BPS. Pure: time comes in as now_us, nothing is allocated. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TM_BWE_MIN_BPS 50000
#define TM_BWE_MAX_BPS 2500000
/* The least the estimate starts from: Chromium's own start rate. Its first second of media is
 * still ramping up, and Chromium follows REMB to the bit: starting from that measurement held a
 * fresh publisher near 50 kbit/s. */
#define TM_BWE_START_BPS 300000
#define TM_BWE_RATE_BUCKETS 10 /* the measured rate: 10 buckets of 100 ms */
#define TM_BWE_TREND_WINDOW 20 /* frames in the delay fit */

typedef struct {
  /* measured rate */
  uint64_t bucket_bytes[TM_BWE_RATE_BUCKETS];
  int64_t bucket_slot; /* now_us / 100 ms of the newest bucket */
  /* loss controller */
  double rate_bps; /* 0 until the first report */
  int64_t last_loss_us;
  /* delay trend (video) */
  bool in_frame, have_prev;
  uint32_t frame_ts, prev_ts;
  int64_t frame_arrival_us, prev_arrival_us, first_arrival_us;
  double acc_delay_ms, smoothed_delay_ms;
  double trend_x[TM_BWE_TREND_WINDOW], trend_y[TM_BWE_TREND_WINDOW];
  unsigned trend_n, trend_head;
  double slope;
  int64_t overuse_since_us; /* 0: not above the threshold */
  bool overusing;
  int64_t last_delay_decrease_us;
  uint64_t overuse_events;
} TmBwe;

void tm_bwe_init(TmBwe *b);
/* One packet of BYTES received (or sent, for a receiver's estimate) at NOW_US. CLOCK_RATE > 0
 * (video, in order) also feeds the delay trend with its RTP timestamp TS; 0 counts bytes only
 * (audio, retransmissions). */
void tm_bwe_on_packet(TmBwe *b, size_t bytes, uint32_t ts, uint32_t clock_rate, int64_t now_us);
/* The share of packets lost (0..1) since the last report: applies the loss rule. */
void tm_bwe_on_loss(TmBwe *b, double fraction_lost, int64_t now_us);
/* The rate measured over the last second, bit/s. */
uint64_t tm_bwe_measured_bps(TmBwe *b, int64_t now_us);
/* The estimate, bit/s; 0 before the first report. */
uint64_t tm_bwe_estimate(const TmBwe *b);
bool tm_bwe_overusing(const TmBwe *b);
