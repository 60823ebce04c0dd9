/* pacer.c — pacing what is sent to one receiver (pacer.h). */
#include "pacer.h"

#include <math.h>
#include <string.h>

typedef struct {
  size_t len;
  int tag;
  uint8_t data[];
} PacedPacket;

void
tm_pacer_init(TmPacer *p, int64_t now_us)
{
  memset(p, 0, sizeof *p);
  g_queue_init(&p->queue);
  p->budget_us = now_us;
}

void
tm_pacer_clear(TmPacer *p)
{
  g_queue_clear_full(&p->queue, g_free);
  p->queued_bytes = 0;
}

static double
burst(const TmPacer *p)
{
  return MAX(p->rate_bps / 8.0 * TM_PACER_BURST_US / 1e6, TM_PACER_BURST_MIN);
}

/* Fills the budget for the time since it was last filled. */
static void
refill(TmPacer *p, int64_t now_us)
{
  if (now_us <= p->budget_us)
    return;
  if (p->rate_bps > 0)
    p->budget =
      MIN(p->budget + p->rate_bps / 8.0 * (double) (now_us - p->budget_us) / 1e6, burst(p));
  p->budget_us = now_us;
}

void
tm_pacer_set_rate(TmPacer *p, double bps, int64_t now_us)
{
  refill(p, now_us);
  p->rate_bps = MAX(bps, 0.0);
  if (p->rate_bps == 0)
    p->budget = 0;
}

bool
tm_pacer_may_send(TmPacer *p, size_t len, int64_t now_us)
{
  if (p->rate_bps == 0 && p->queue.length == 0)
    return true;
  if (p->queue.length > 0)
    return false;
  refill(p, now_us);
  if (p->budget <= 0)
    return false;
  p->budget -= (double) len;
  return true;
}

void
tm_pacer_charge(TmPacer *p, size_t len, int64_t now_us)
{
  if (p->rate_bps == 0)
    return;
  refill(p, now_us);
  p->budget -= (double) len;
}

bool
tm_pacer_push(TmPacer *p, const uint8_t *buf, size_t len, int tag)
{
  double limit = p->rate_bps / 8.0 * TM_PACER_MAX_QUEUE_US / 1e6;
  if (p->queue.length >= TM_PACER_MAX_PACKETS ||
      (p->queue.length > 0 && (double) (p->queued_bytes + len) > limit)) {
    p->dropped++;
    return false;
  }
  PacedPacket *q = g_malloc(sizeof *q + len);
  q->len = len;
  q->tag = tag;
  memcpy(q->data, buf, len);
  g_queue_push_tail(&p->queue, q);
  p->queued_bytes += len;
  p->delayed++;
  return true;
}

bool
tm_pacer_pop(TmPacer *p, int64_t now_us, uint8_t *out, size_t cap, size_t *len, int *tag)
{
  PacedPacket *q = g_queue_peek_head(&p->queue);
  if (q == NULL)
    return false;
  refill(p, now_us);
  if (p->rate_bps > 0 && p->budget <= 0)
    return false;
  g_queue_pop_head(&p->queue);
  p->queued_bytes -= q->len;
  bool fits = q->len <= cap;
  if (fits) {
    memcpy(out, q->data, q->len);
    *len = q->len;
    *tag = q->tag;
    if (p->rate_bps > 0)
      p->budget -= (double) q->len;
  }
  g_free(q);
  return fits || tm_pacer_pop(p, now_us, out, cap, len, tag);
}

int64_t
tm_pacer_next_deadline(const TmPacer *p)
{
  if (p->queue.length == 0)
    return INT64_MAX;
  if (p->rate_bps == 0 || p->budget > 0)
    return p->budget_us;
  /* the time the budget takes to climb above zero, rounded up, and a microsecond more */
  return p->budget_us + (int64_t) ceil(-p->budget * 8.0 * 1e6 / p->rate_bps) + 1;
}
