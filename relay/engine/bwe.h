/* bwe.h — receive-side bandwidth estimation (docs/poor-networks.md).
 *
 * One TmBwe per stream the relay receives (a publisher's audio and video, told to the sender by
 * REMB) or sends (a receiver's subscription, from that receiver's reports). It combines:
 *
 * - a loss controller (GCC, draft-ietf-rmcat-gcc-02 §6): once per report, loss under 2 % lets
 *   the estimate grow 8 % a second (never beyond 1.5 × the measured rate + 10 kbit/s, so an
 *   idle sender does not earn an estimate it never used), 2–10 % holds it, over 10 % multiplies
 *   it by (1 − loss / 2);
 * - a delay trend: per video frame, the one-way delay variation (arrival time against RTP
 *   timestamp) — or, better, per group of packets by their send times (a receiver's transport-cc
 *   feedback, a publisher's abs-send-time: tm_bwe_on_arrival) — accumulated, smoothed and
 *   fitted by least squares over the last 20 frames or groups; a slope above 0.1 (the queue
 *   grows by 100 ms a second) held for 500 ms is overuse, and so is a queue standing 25 ms over
 *   its floor that still grows by 10 ms a second (a sender a little over its link; with send
 *   times, 40 ms standing); the estimate drops to 0.85 × the measured rate, at most once a
 *   second;
 * - a standing queue (the delay above its floor over the last 30 s): without one, loss that NACK
 *   repaired is not counted by the loss controller (tm_bwe_on_loss_repaired).
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
#define TM_BWE_GROUP_US 5000   /* packets sent this close together are one group (as GCC) */
/* Seconds the delay's floor is kept over: longer than a sender following the estimate takes to
 * drain a queue, so a queue that stands is not taken for the floor. */
#define TM_BWE_QUEUE_SLOTS 30
/* The smoothed delay this far above its floor over the last TM_BWE_QUEUE_SLOTS seconds is a
 * standing queue: loss with one is the link's congestion (tm_bwe_on_loss_repaired). */
#define TM_BWE_QUEUE_MS 12.0
/* With send times (tm_bwe_on_arrival), a queue standing this far above the floor for
 * 500 ms is overuse as a growing one is: the link is full. */
#define TM_BWE_OVERUSE_QUEUE_MS 40.0
/* Loss this soon after overuse is congestion whatever the queue shows now (a drop-tail queue
 * drains as soon as the sender slows): tm_bwe_on_loss_repaired counts all of it. */
#define TM_BWE_AFTER_OVERUSE_US (10 * 1000000)

/* abs-send-time: an RTP header extension of three bytes, when the sender sent the packet (after
 * its pacer) in seconds, 6.18 fixed point, wrapping every 64 s. Chromium writes it where it is
 * negotiated; a publisher's delay trend judged by it leaves the sender's own queue out, which
 * capture times (tm_bwe_on_packet) count as the link's. */
#define TM_ABS_SEND_TIME_URI "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"

/* The send times of one sender, unwrapped. Zeroed is empty. */
typedef struct {
  bool have;
  uint32_t last; /* the newest value seen */
  int64_t ticks; /* LAST unwrapped, in 2^-18 s (from one wrap ahead: never negative) */
} TmAbsSendClock;

/* RAW (the extension's 24 bits) as µs on one clock that does not wrap. A value up to 32 s older
 * than the newest is an older packet (reordered), later than it a newer one. */
int64_t tm_abs_send_clock_unwrap(TmAbsSendClock *c, uint32_t raw);

/* A rate over the last second, in buckets of 100 ms. Zeroed is empty. */
typedef struct {
  uint64_t bucket_bytes[TM_BWE_RATE_BUCKETS];
  int64_t bucket_slot; /* now_us / 100 ms of the newest bucket */
} TmRate;

void tm_rate_add(TmRate *r, size_t bytes, int64_t now_us);
uint64_t tm_rate_bps(TmRate *r, int64_t now_us);

typedef struct {
  TmRate measured;
  /* loss controller */
  double rate_bps; /* 0 until the first report */
  int64_t last_loss_us;
  /* delay trend (video) */
  bool in_frame, have_prev;
  uint32_t frame_ts;                   /* RTP timestamp of the frame (tm_bwe_on_packet) */
  int64_t frame_group;                 /* send time / TM_BWE_GROUP_US (tm_bwe_on_arrival) */
  int64_t frame_send_us, prev_send_us; /* when the frame or group was sent, µs on one clock */
  int64_t frame_arrival_us, prev_arrival_us, first_arrival_us;
  double acc_delay_ms, smoothed_delay_ms;
  double trend_x[TM_BWE_TREND_WINDOW], trend_y[TM_BWE_TREND_WINDOW];
  unsigned trend_n, trend_head;
  double slope;
  int64_t overuse_since_us; /* 0: not above the threshold */
  bool overusing;
  bool send_side; /* the delay comes from send times (tm_bwe_on_arrival) */
  int64_t last_delay_decrease_us;
  uint64_t overuse_events;
  int64_t last_overuse_us; /* the last time it was overusing; 0: never */
  /* the smoothed delay's least value in each of the last seconds (floor) */
  double floor_ms[TM_BWE_QUEUE_SLOTS]; /* INFINITY: no frame that second */
  int64_t floor_slot;                  /* now_us / 1 s of the newest */
  bool have_floor;
} TmBwe;

void tm_bwe_init(TmBwe *b);
/* One packet of BYTES received (or sent, for a receiver's estimate) at NOW_US. CLOCK_RATE > 0
 * (video, in order) also feeds the delay trend with its RTP timestamp TS; 0 counts bytes only
 * (audio, retransmissions). */
void tm_bwe_on_packet(TmBwe *b, size_t bytes, uint32_t ts, uint32_t clock_rate, int64_t now_us);
/* The delay trend from the sending side (transport-cc feedback, twcc.h): a packet sent at
 * SEND_US (our clock) arrived at ARRIVAL_US (the receiver's clock; only differences count).
 * Packets come in sending order; those sent within TM_BWE_GROUP_US of each other are one group,
 * which plays the part a frame plays in tm_bwe_on_packet. A group that arrived before the one
 * sent earlier (reordered) is no sample. NOW_US times the overuse rule. Counts no bytes. */
void tm_bwe_on_arrival(TmBwe *b, int64_t send_us, int64_t arrival_us, int64_t now_us);
/* The share of packets lost (0..1) since the last report: applies the loss rule. */
void tm_bwe_on_loss(TmBwe *b, double fraction_lost, int64_t now_us);
/* The same with two shares: LOST, every packet that did not come at first, and UNREPAIRED, those
 * that NACK did not bring back either, for a stream whose measured rate is what arrived (a
 * publisher's; a receiver's from its transport-cc feedback): loss then never takes the estimate
 * below 0.85 × that rate (a sender over its link loses the excess, docs/poor-networks.md). The
 * rule takes LOST while a standing queue shows or within TM_BWE_AFTER_OVERUSE_US of overuse
 * (congestion drops packets from a full queue; repairing them does not relieve the link) or
 * while the delay is not known (audio only, a fresh trend), and UNREPAIRED on a link without a
 * queue, whose losses are its own (a far, lossy path) and cost the picture nothing once
 * repaired. */
void tm_bwe_on_loss_repaired(TmBwe *b, double lost, double unrepaired, int64_t now_us);
/* Whether the link's losses now look like congestion: a standing queue, overuse within
 * TM_BWE_AFTER_OVERUSE_US, or the delay not known (what tm_bwe_on_loss_repaired counts in
 * full). */
bool tm_bwe_congested(const TmBwe *b, int64_t now_us);
/* The standing queue now: the smoothed one-way delay above its floor over the last
 * TM_BWE_QUEUE_SLOTS seconds, ms; negative while not known (too few frames yet). The floor
 * assumes the queue drained at some time in that window. */
double tm_bwe_queue_ms(const TmBwe *b);
/* The rate measured over the last second, bit/s. */
uint64_t tm_bwe_measured_bps(TmBwe *b, int64_t now_us);
/* The estimate, bit/s; 0 before the first report. */
uint64_t tm_bwe_estimate(const TmBwe *b);
bool tm_bwe_overusing(const TmBwe *b);
