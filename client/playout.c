/* playout.c — the subscription's jitter-buffer wait (see playout.h). */
#include "playout.h"

void
tm_playout_init(TmPlayout *p, gint64 now_us)
{
  *p = (TmPlayout){ .latency_ms = TM_PLAYOUT_MIN_MS,
                    .last_late_us = now_us,
                    .last_change_us = now_us };
}

gboolean
tm_playout_update(TmPlayout *p, guint64 late_total, gint64 now_us)
{
  gboolean more_late = late_total > p->late;
  guint before = p->latency_ms;

  p->late = late_total;
  if (more_late) {
    p->last_late_us = now_us;
    p->latency_ms = MIN(p->latency_ms + TM_PLAYOUT_RAISE_MS, TM_PLAYOUT_MAX_MS);
  } else if (now_us - p->last_late_us >= TM_PLAYOUT_QUIET_US &&
             now_us - p->last_change_us >= TM_PLAYOUT_LOWER_EVERY_US) {
    p->latency_ms = MAX(p->latency_ms - TM_PLAYOUT_LOWER_MS, TM_PLAYOUT_MIN_MS);
  }
  if (p->latency_ms == before)
    return FALSE;
  p->last_change_us = now_us;
  return TRUE;
}
