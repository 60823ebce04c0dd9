/* timeline.c — freezes and gaps in presentation time (see timeline.h). */
#include "timeline.h"

void
tm_timeline_init(TmTimeline *t, gint64 tolerance_ns, gint64 gap_limit_ns)
{
  *t = (TmTimeline){ .tolerance_ns = tolerance_ns, .gap_limit_ns = gap_limit_ns };
}

gboolean
tm_timeline_add(TmTimeline *t, gint64 present_ns, gint64 duration_ns, gint64 arrival_ns)
{
  gint64 end_ns = present_ns + MAX(duration_ns, 0);

  if (arrival_ns > present_ns + t->tolerance_ns) {
    t->late++;
    return FALSE;
  }
  if (t->have_last && end_ns <= t->last_end_ns) {
    t->shown++; /* overlaps what was shown (a timestamp going back): no hole */
    return TRUE;
  }
  if (t->have_last && present_ns - t->last_end_ns > 0) {
    gint64 hole = present_ns - t->last_end_ns;
    if (hole > t->longest_gap_ns)
      t->longest_gap_ns = hole;
    if (hole > t->gap_limit_ns)
      t->gaps++;
  }
  t->have_last = TRUE;
  t->last_end_ns = end_ns;
  t->shown++;
  return TRUE;
}
