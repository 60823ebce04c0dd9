/* bwe.c — loss- and delay-based receive-side bandwidth estimation. */
#include "bwe.h"

#include <glib.h>
#include <math.h>
#include <string.h>

#define BUCKET_US 100000
#define LOSS_LOW 0.02  /* below: increase */
#define LOSS_HIGH 0.10 /* above: decrease */
#define INCREASE_PER_SEC 1.08
#define INCREASE_HEADROOM_BPS 10000.0
#define INCREASE_MAX_OVER_MEASURED 1.5
#define DELAY_SMOOTHING 0.9
#define OVERUSE_SLOPE 0.1      /* ms of queue per ms */
#define OVERUSE_HOLD_US 500000 /* a key frame's burst makes a shorter bump */
#define FILLING_QUEUE_MS 25.0  /* a queue standing this high ... */
#define FILLING_SLOPE 0.01     /* ... and growing by 10 ms a second or more is overuse */
#define DELAY_DECREASE_FACTOR 0.85
#define DELAY_DECREASE_EVERY_US 1000000
/* With send times the decrease goes to what arrived over the last 500 ms (GCC's window), not
 * the last second: the first overuse after a link steps down comes about a second after the
 * step, and a second's arrivals still held the rate from before it. */
#define DECREASE_RECENT_BUCKETS 5
/* ... and a standing queue that drains this fast (ms a ms) is no overuse: the sender is already
 * under its link, and cutting to what arrives would follow it down. */
#define DRAINING_SLOPE (-0.05)
#define FRAME_GAP_RESET_US 1000000 /* a pause (mute, policy) restarts the trend */

void
tm_bwe_init(TmBwe *b)
{
  memset(b, 0, sizeof *b);
}

static void
advance_buckets(TmRate *r, int64_t now_us)
{
  int64_t slot = now_us / BUCKET_US;
  if (slot <= r->bucket_slot)
    return; /* time never goes back; a late caller adds to the newest bucket */
  int64_t steps = MIN(slot - r->bucket_slot, (int64_t) TM_BWE_RATE_BUCKETS);
  for (int64_t i = 1; i <= steps; i++)
    r->bucket_bytes[(uint64_t) (r->bucket_slot + i) % TM_BWE_RATE_BUCKETS] = 0;
  r->bucket_slot = slot;
}

void
tm_rate_add(TmRate *r, size_t bytes, int64_t now_us)
{
  advance_buckets(r, now_us);
  r->bucket_bytes[(uint64_t) r->bucket_slot % TM_BWE_RATE_BUCKETS] += bytes;
}

/* The rate over the newest N buckets (1..TM_BWE_RATE_BUCKETS): the full ones and the part of the
 * newest that has passed. */
static uint64_t
rate_over(TmRate *r, int64_t now_us, unsigned n)
{
  advance_buckets(r, now_us);
  uint64_t bytes = 0;
  for (unsigned i = 0; i < n; i++)
    bytes += r->bucket_bytes[(uint64_t) (r->bucket_slot - i) % TM_BWE_RATE_BUCKETS];
  uint64_t window_us =
    (n - 1) * (uint64_t) BUCKET_US + (uint64_t) MAX(now_us - r->bucket_slot * BUCKET_US, 0) + 1;
  return bytes * 8 * 1000000 / window_us;
}

uint64_t
tm_rate_bps(TmRate *r, int64_t now_us)
{
  return rate_over(r, now_us, TM_BWE_RATE_BUCKETS);
}

uint64_t
tm_bwe_measured_bps(TmBwe *b, int64_t now_us)
{
  return tm_rate_bps(&b->measured, now_us);
}

static double
clamp_rate(double bps)
{
  return CLAMP(bps, (double) TM_BWE_MIN_BPS, (double) TM_BWE_MAX_BPS);
}

int64_t
tm_abs_send_clock_unwrap(TmAbsSendClock *c, uint32_t raw)
{
  raw &= 0xffffffu;
  if (!c->have) { /* one wrap ahead: an older value than the first is still positive */
    c->have = true;
    c->last = raw;
    c->ticks = (int64_t) raw + (1 << 24);
  }
  int64_t d = (int64_t) ((raw - c->last) & 0xffffffu);
  if (d >= 1 << 23)
    d -= 1 << 24; /* older than the newest */
  int64_t ticks = c->ticks + d;
  if (d > 0) {
    c->ticks = ticks;
    c->last = raw;
  }
  /* seconds and the fraction apart: a sender that jumps ahead 32 s a packet (it chooses the
   * values) overflows no product in the lifetime of a connection */
  return (ticks >> 18) * 1000000 + (((ticks & 0x3ffff) * 1000000) >> 18);
}

/* ---- delay trend ---- */

static void
trend_reset(TmBwe *b)
{
  b->have_floor = false;
  b->trend_n = b->trend_head = 0;
  b->acc_delay_ms = b->smoothed_delay_ms = b->slope = 0;
  b->first_arrival_us = b->frame_arrival_us;
  b->overuse_since_us = 0;
  b->overusing = false;
}

/* Least-squares slope of the delay samples against arrival time. */
static double
trend_slope(const TmBwe *b)
{
  double mx = 0, my = 0;
  for (unsigned i = 0; i < b->trend_n; i++) {
    mx += b->trend_x[i];
    my += b->trend_y[i];
  }
  mx /= b->trend_n;
  my /= b->trend_n;
  double num = 0, den = 0;
  for (unsigned i = 0; i < b->trend_n; i++) {
    num += (b->trend_x[i] - mx) * (b->trend_y[i] - my);
    den += (b->trend_x[i] - mx) * (b->trend_x[i] - mx);
  }
  return den > 0 ? num / den : 0;
}

/* Overuse: the queue grows fast (the trend), or — with true send times (tm_bwe_on_arrival) — it
 * stands: a drop-tail queue fills within a few frames and then only loses, and its trend is
 * flat again long before OVERUSE_HOLD_US. Capture times jitter too much for the second alone
 * (and a large key frame on a link with little room to spare stands a while as it drains), so
 * from capture times a queue must also still grow, if slowly: a sender a little over its link
 * (the loss rule's 8 % a second past it) fills a queue more slowly than the trend's threshold,
 * and it overflowed before any overuse was seen (test-bwe `slow-overfill`). */
static bool
queue_growing_or_standing(const TmBwe *b)
{
  double queue = tm_bwe_queue_ms(b);
  if (b->slope > OVERUSE_SLOPE)
    return true;
  return b->send_side ? queue >= TM_BWE_OVERUSE_QUEUE_MS && b->slope > DRAINING_SLOPE
                      : queue >= FILLING_QUEUE_MS && b->slope > FILLING_SLOPE;
}

static void
detect_overuse(TmBwe *b, int64_t now_us)
{
  if (!queue_growing_or_standing(b)) {
    b->overuse_since_us = 0;
    b->overusing = false;
    return;
  }
  if (b->overuse_since_us == 0)
    b->overuse_since_us = now_us;
  if (!b->overusing && now_us - b->overuse_since_us >= OVERUSE_HOLD_US) {
    b->overusing = true;
    b->overuse_events++;
  }
  if (b->overusing)
    b->last_overuse_us = now_us;
  if (b->overusing && b->rate_bps > 0 &&
      (b->last_delay_decrease_us == 0 ||
       now_us - b->last_delay_decrease_us >= DELAY_DECREASE_EVERY_US)) {
    uint64_t arrived = b->send_side ? rate_over(&b->measured, now_us, DECREASE_RECENT_BUCKETS)
                                    : tm_bwe_measured_bps(b, now_us);
    double target = DELAY_DECREASE_FACTOR * (double) arrived;
    if (target < b->rate_bps)
      b->rate_bps = clamp_rate(target);
    b->last_delay_decrease_us = now_us;
  }
}

/* Keeps the least smoothed delay of each second (the floor a standing queue sits above). */
static void
note_floor(TmBwe *b, int64_t now_us)
{
  int64_t slot = now_us / 1000000;
  if (!b->have_floor || slot > b->floor_slot) {
    int64_t steps =
      b->have_floor ? MIN(slot - b->floor_slot, (int64_t) TM_BWE_QUEUE_SLOTS) : TM_BWE_QUEUE_SLOTS;
    for (int64_t i = 0; i < steps; i++) /* seconds without frames have no floor */
      b->floor_ms[(uint64_t) (slot - i) % TM_BWE_QUEUE_SLOTS] = INFINITY;
    b->floor_slot = slot;
    b->have_floor = true;
  }
  double *f = &b->floor_ms[(uint64_t) slot % TM_BWE_QUEUE_SLOTS];
  *f = MIN(*f, b->smoothed_delay_ms);
}

double
tm_bwe_queue_ms(const TmBwe *b)
{
  if (b->trend_n < TM_BWE_TREND_WINDOW || !b->have_floor)
    return -1;
  double floor = INFINITY;
  for (unsigned i = 0; i < TM_BWE_QUEUE_SLOTS; i++)
    floor = MIN(floor, b->floor_ms[i]);
  return b->smoothed_delay_ms - floor;
}

/* The frame or group is complete (its last packet came at FRAME_ARRIVAL_US). */
static void
frame_done(TmBwe *b, int64_t now_us)
{
  int64_t d_arrival = b->frame_arrival_us - b->prev_arrival_us;
  int64_t d_send = b->frame_send_us - b->prev_send_us;
  if (!b->have_prev) {
    trend_reset(b);
  } else if (d_arrival < 0 || d_arrival > FRAME_GAP_RESET_US || d_send > FRAME_GAP_RESET_US) {
    trend_reset(b);
  } else {
    b->acc_delay_ms += (double) (d_arrival - d_send) / 1000.0;
    b->smoothed_delay_ms =
      DELAY_SMOOTHING * b->smoothed_delay_ms + (1 - DELAY_SMOOTHING) * b->acc_delay_ms;
    b->trend_x[b->trend_head] = (double) (b->frame_arrival_us - b->first_arrival_us) / 1000.0;
    b->trend_y[b->trend_head] = b->smoothed_delay_ms;
    note_floor(b, now_us);
    b->trend_head = (b->trend_head + 1) % TM_BWE_TREND_WINDOW;
    if (b->trend_n < TM_BWE_TREND_WINDOW)
      b->trend_n++;
    if (b->trend_n == TM_BWE_TREND_WINDOW) {
      b->slope = trend_slope(b);
      detect_overuse(b, now_us);
    }
  }
  b->prev_send_us = b->frame_send_us;
  b->prev_arrival_us = b->frame_arrival_us;
  b->have_prev = true;
}

void
tm_bwe_on_packet(TmBwe *b, size_t bytes, uint32_t ts, uint32_t clock_rate, int64_t now_us)
{
  tm_rate_add(&b->measured, bytes, now_us);
  if (clock_rate == 0)
    return;
  if (b->in_frame) {
    int32_t d = (int32_t) (ts - b->frame_ts);
    if (d < 0)
      return; /* a packet of an older frame, late: not a delay sample */
    if (d > 0) {
      frame_done(b, now_us);
      /* the capture clock stands for the send clock */
      b->frame_send_us += (int64_t) ((double) d * 1e6 / clock_rate);
    }
  }
  b->in_frame = true;
  b->frame_ts = ts;
  b->frame_arrival_us = now_us;
}

void
tm_bwe_on_arrival(TmBwe *b, int64_t send_us, int64_t arrival_us, int64_t now_us)
{
  b->send_side = true;
  int64_t group = send_us / TM_BWE_GROUP_US;
  if (b->in_frame && group < b->frame_group)
    return; /* reported again, or sent before the group we are in */
  if (b->in_frame && group == b->frame_group) {
    b->frame_send_us = send_us;
    b->frame_arrival_us = MAX(arrival_us, b->frame_arrival_us);
    return;
  }
  /* A group overtaken by the next one (reordered on the way) is no sample, and no reset. */
  if (b->in_frame && (!b->have_prev || b->frame_arrival_us >= b->prev_arrival_us))
    frame_done(b, now_us);
  b->in_frame = true;
  b->frame_group = group;
  b->frame_send_us = send_us;
  b->frame_arrival_us = arrival_us;
}

/* ---- loss controller ---- */

/* The loss rule. With CARRIED_FLOOR the measured rate is what arrived (a publisher's packets,
 * a receiver's transport-cc feedback), and loss does not take the estimate below 0.85 × it: a
 * sender over its link loses the excess, and cutting by the share of the excess in what it sent
 * again and again while it comes down (a step to a third of the link lost 75-95 % of a second)
 * took the estimate to a tenth of what the link carried. */
static void
apply_loss(TmBwe *b, double fraction_lost, bool carried_floor, int64_t now_us)
{
  double measured = (double) tm_bwe_measured_bps(b, now_us);
  if (b->rate_bps <= 0) {
    if (measured <= 0)
      return; /* nothing received yet: nothing to start from */
    b->rate_bps = clamp_rate(MAX(measured, (double) TM_BWE_START_BPS));
    b->last_loss_us = now_us;
  }
  double dt = CLAMP((double) (now_us - b->last_loss_us) / 1e6, 0.0, 2.0);
  b->last_loss_us = now_us;
  if (fraction_lost < LOSS_LOW) {
    if (!b->overusing) {
      double up = b->rate_bps * pow(INCREASE_PER_SEC, dt);
      double limit = INCREASE_MAX_OVER_MEASURED * measured + INCREASE_HEADROOM_BPS;
      b->rate_bps = up > limit ? MAX(b->rate_bps, limit) : up;
    }
  } else if (fraction_lost > LOSS_HIGH) {
    double cut = b->rate_bps * (1 - 0.5 * MIN(fraction_lost, 1.0));
    b->rate_bps =
      carried_floor ? MAX(cut, MIN(b->rate_bps, DELAY_DECREASE_FACTOR * measured)) : cut;
  }
  b->rate_bps = clamp_rate(b->rate_bps);
}

void
tm_bwe_on_loss(TmBwe *b, double fraction_lost, int64_t now_us)
{
  apply_loss(b, fraction_lost, false, now_us);
}

bool
tm_bwe_congested(const TmBwe *b, int64_t now_us)
{
  double queue = tm_bwe_queue_ms(b);
  return queue < 0 || queue >= TM_BWE_QUEUE_MS ||
    (b->last_overuse_us != 0 && now_us - b->last_overuse_us < TM_BWE_AFTER_OVERUSE_US);
}

void
tm_bwe_on_loss_repaired(TmBwe *b, double lost, double unrepaired, int64_t now_us)
{
  apply_loss(b, tm_bwe_congested(b, now_us) ? lost : unrepaired, true, now_us);
}

uint64_t
tm_bwe_estimate(const TmBwe *b)
{
  return (uint64_t) b->rate_bps;
}

bool
tm_bwe_overusing(const TmBwe *b)
{
  return b->overusing;
}
