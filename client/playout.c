/* playout.c — the subscription's jitter-buffer wait (see playout.h). */
#include "playout.h"

guint
tm_playout_retry_ms(const TmPlayoutStats *stats)
{
  guint rtt = stats->repair.own_rtt_ms;
  if (rtt == 0)
    return 0;
  return MAX(rtt + rtt / 4 + 20, TM_PLAYOUT_RETRY_MIN_MS);
}

void
tm_playout_init(TmPlayout *p, gint64 now_us)
{
  *p = (TmPlayout){ .latency_ms = TM_PLAYOUT_MIN_MS,
                    .start_us = now_us,
                    .last_late_us = now_us,
                    .last_change_us = now_us };
}

/* NEED ms in whole steps, at most the limit: round trips moving by a few ms do not move the
 * wait each time. */
static guint
whole_steps(guint need)
{
  return MIN((need + TM_PLAYOUT_LOWER_MS - 1) / TM_PLAYOUT_LOWER_MS * TM_PLAYOUT_LOWER_MS,
             TM_PLAYOUT_MAX_MS);
}

gboolean
tm_playout_update(TmPlayout *p, const TmPlayoutStats *stats, gint64 now_us)
{
  guint64 new_late = stats->late > p->late ? stats->late - p->late : 0;
  gboolean more_late = new_late > 0;
  gboolean repairing = stats->rtx_requests > p->rtx;
  guint before = p->latency_ms;
  guint floor_ms = TM_PLAYOUT_MIN_MS; /* the least while repairing ... */
  guint keep_ms = TM_PLAYOUT_MIN_MS;  /* ... and what the quiet spell does not go below (>=) */

  p->late = stats->late;
  p->rtx = stats->rtx_requests;
  if (repairing)
    p->last_rtx_us = now_us;
  const TmRepair *up = &stats->repair;
  guint rtx_rtt = stats->rtx_rtt_ms > 0 ? stats->rtx_rtt_ms : up->own_rtt_ms;
  gboolean starting = now_us - p->start_us < TM_PLAYOUT_START_US;
  gboolean repairs =
    (p->last_rtx_us > 0 && now_us - p->last_rtx_us < TM_PLAYOUT_QUIET_US) || starting;
  if (repairs && (rtx_rtt > 0 || up->rtt_ms > 0)) {
    /* three of the relay's tries, or what its repairs took lately if that was longer */
    guint upstream = up->rtt_ms > 0
      ? MAX(up->rtt_ms + (TM_PLAYOUT_RTX_TRIES - 1) * up->retry_ms, up->repair_ms)
      : 0;
    guint need = TM_PLAYOUT_RTX_TRIES * rtx_rtt + upstream + TM_PLAYOUT_RTX_MARGIN_MS;
    keep_ms = whole_steps(need + rtx_rtt);
    /* the first seconds: where the wait will stay, so that it need not rise once the picture
     * runs (a rise is a pause as long) */
    floor_ms = starting ? keep_ms : whole_steps(need);
  }
  if (more_late) {
    p->last_late_us = now_us;
    guint raise = (guint) MIN(new_late * TM_PLAYOUT_RAISE_MS, TM_PLAYOUT_RAISE_MAX_MS);
    p->latency_ms = MIN(p->latency_ms + raise, TM_PLAYOUT_MAX_MS);
  } else if (now_us - p->last_late_us >= TM_PLAYOUT_QUIET_US &&
             now_us - p->last_change_us >= TM_PLAYOUT_LOWER_EVERY_US && p->latency_ms > keep_ms) {
    p->latency_ms = MAX(p->latency_ms - TM_PLAYOUT_LOWER_MS, keep_ms);
  }
  p->latency_ms = MAX(p->latency_ms, floor_ms);
  if (p->latency_ms == before)
    return FALSE;
  p->last_change_us = now_us;
  return TRUE;
}
