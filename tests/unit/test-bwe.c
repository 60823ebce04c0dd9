/* test-bwe.c — the estimator with virtual time: the loss rule (down at 15 %, held at 5 %, back
 * up at 0 %), its bounds, no growth past what the sender uses, the delay trend (quiet under
 * jitter, overuse within a second of a rate step into a queue, and before a slowly filling queue
 * overflows), the same trend from the sending
 * side (transport-cc arrivals: the estimate follows a link that steps down to what arrives,
 * reordered groups are no sample), and repaired loss (not counted without a standing queue,
 * counted with one). */
#include <glib.h>
#include <math.h>

#include "bwe.h"

#define SEC 1000000

/* One second of a sender at RATE bit/s in 1000-byte packets (audio-like: no delay samples),
 * then a loss report. */
static void
second_at(TmBwe *b, int64_t *now, double rate, double loss)
{
  int packets = MAX(1, (int) (rate / 8000));
  for (int i = 0; i < packets; i++)
    tm_bwe_on_packet(b, 1000, 0, 0, *now + (int64_t) i * SEC / packets);
  *now += SEC;
  tm_bwe_on_loss(b, loss, *now);
}

static void
test_loss_rule(void)
{
  TmBwe b;
  tm_bwe_init(&b);
  int64_t now = 10 * SEC;
  g_assert_cmpuint(tm_bwe_estimate(&b), ==, 0);
  tm_bwe_on_loss(&b, 0, now); /* nothing received: no start */
  g_assert_cmpuint(tm_bwe_estimate(&b), ==, 0);
  second_at(&b, &now, 1000000, 0);
  uint64_t start = tm_bwe_estimate(&b);
  g_assert_cmpuint(start, >=, 900000); /* from the measured rate */
  g_assert_cmpuint(start, <=, 1100000);
  /* 15 % loss: down by 7.5 % a report; the sender follows the estimate */
  uint64_t prev = start;
  for (int i = 0; i < 10; i++) {
    second_at(&b, &now, (double) tm_bwe_estimate(&b), 0.15);
    g_assert_cmpuint(tm_bwe_estimate(&b), <, prev);
    prev = tm_bwe_estimate(&b);
  }
  g_test_message("15 %% loss for 10 s: %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT " bit/s", start,
                 prev);
  g_assert_cmpuint(prev, <, start * 0.5);
  /* 5 %: held */
  for (int i = 0; i < 5; i++) {
    second_at(&b, &now, (double) tm_bwe_estimate(&b), 0.05);
    g_assert_cmpuint(tm_bwe_estimate(&b), ==, prev);
  }
  /* 0 %: back up, about 8 % a second */
  for (int i = 0; i < 10; i++) {
    second_at(&b, &now, (double) tm_bwe_estimate(&b), 0);
    g_assert_cmpuint(tm_bwe_estimate(&b), >, prev);
    prev = tm_bwe_estimate(&b);
  }
  g_test_message("then 0 %% for 10 s: %" G_GUINT64_FORMAT " bit/s", prev);
  g_assert_cmpuint(prev, >, start * 0.9);
  /* bounded: never above the cap ... */
  for (int i = 0; i < 60; i++)
    second_at(&b, &now, (double) tm_bwe_estimate(&b), 0);
  g_assert_cmpuint(tm_bwe_estimate(&b), ==, TM_BWE_MAX_BPS);
  /* ... nor below the floor */
  for (int i = 0; i < 60; i++)
    second_at(&b, &now, (double) tm_bwe_estimate(&b), 0.5);
  g_assert_cmpuint(tm_bwe_estimate(&b), ==, TM_BWE_MIN_BPS);
  /* a report claiming everything was lost, or nonsense, stays in bounds */
  tm_bwe_on_loss(&b, 1.0, now + SEC);
  tm_bwe_on_loss(&b, 7.0, now + 2 * SEC);
  g_assert_cmpuint(tm_bwe_estimate(&b), ==, TM_BWE_MIN_BPS);
}

/* A sender that uses 100 kbit/s starts at the start rate and earns no more; one that uses
 * 300 kbit/s no more than 1.5 times that (+ 10 kbit/s). */
static void
test_no_growth_past_use(void)
{
  TmBwe b;
  tm_bwe_init(&b);
  int64_t now = SEC;
  second_at(&b, &now, 100000, 0);
  g_assert_cmpuint(tm_bwe_estimate(&b), ==, TM_BWE_START_BPS);
  for (int i = 0; i < 60; i++)
    second_at(&b, &now, 100000, 0);
  g_assert_cmpuint(tm_bwe_estimate(&b), ==, TM_BWE_START_BPS);
  for (int i = 0; i < 60; i++)
    second_at(&b, &now, 300000, 0);
  g_assert_cmpuint(tm_bwe_estimate(&b), <=, 1.5 * 300000 + 10000 + 1);
  g_assert_cmpuint(tm_bwe_estimate(&b), >, 400000); /* grew past the start rate */
}

/* 30 frames a second of RATE bit/s, 4 packets a frame, through a queue served at LINK bit/s
 * (0: no queue), with up to JITTER_US of random extra delay per packet. */
typedef struct {
  TmBwe bwe;
  GRand *rand;
  int64_t now;        /* the sender's clock */
  int64_t queue_free; /* when the link's queue is empty again */
  uint32_t ts;
  int64_t queue_cap_us; /* a packet that would wait longer is dropped (0: never) */
  double random_loss;   /* share of packets lost on the way, queue or not */
  bool repaired;        /* every lost packet is repaired: reports say so (on_loss_repaired) */
  unsigned sent, lost;  /* this second's */
} Link;

static void
send_frames(Link *l, int frames, double rate, double link, int64_t jitter_us)
{
  size_t bytes = (size_t) (rate / 8 / 30 / 4);
  for (int f = 0; f < frames; f++) {
    for (int p = 0; p < 4; p++) {
      int64_t at = l->now + p * 2000; /* paced 2 ms apart */
      l->sent++;
      if (link > 0) {
        if (l->queue_cap_us > 0 && l->queue_free - at > l->queue_cap_us) {
          l->lost++; /* the drop-tail queue is full */
          continue;
        }
        l->queue_free = MAX(l->queue_free, at) + (int64_t) (bytes * 8 * 1e6 / link);
        at = l->queue_free;
      }
      if (l->random_loss > 0 && g_rand_double(l->rand) < l->random_loss) {
        l->lost++;
        continue;
      }
      at += 20000 + (jitter_us > 0 ? g_rand_int_range(l->rand, 0, (gint32) jitter_us) : 0);
      tm_bwe_on_packet(&l->bwe, bytes, l->ts, 90000, at);
    }
    l->now += SEC / 30;
    l->ts += 3000;
    if (l->now % SEC < SEC / 30) {
      double lost = l->sent > 0 ? (double) l->lost / l->sent : 0;
      if (l->repaired)
        tm_bwe_on_loss_repaired(&l->bwe, lost, 0, l->now);
      else
        tm_bwe_on_loss(&l->bwe, lost, l->now);
      l->sent = l->lost = 0;
    }
  }
}

/* Key frames ten times the size of a delta frame every 3 s, on a link 1.5 times the mean rate:
 * each makes a bump of ~200 ms in the delay, which is not a growing queue. */
static void
test_key_frames_are_not_overuse(void)
{
  Link l = { .rand = g_rand_new_with_seed(3), .now = SEC, .ts = 1 };
  tm_bwe_init(&l.bwe);
  for (int s = 0; s < 60; s += 3) {
    send_frames(&l, 1, 10 * 1000000, 1500000, 20000);
    send_frames(&l, 89, 1000000, 1500000, 20000);
  }
  g_assert_cmpuint(l.bwe.overuse_events, ==, 0);
  g_assert_cmpuint(tm_bwe_estimate(&l.bwe), >=, 1500000);
  g_rand_free(l.rand);
}

static void
test_delay_trend(void)
{
  Link l = { .rand = g_rand_new_with_seed(11), .now = SEC, .ts = 1234 };
  tm_bwe_init(&l.bwe);
  send_frames(&l, 30 * 20, 1000000, 0, 20000); /* 20 s, 1 Mbit/s, 0..20 ms jitter */
  g_assert_false(tm_bwe_overusing(&l.bwe));
  g_assert_cmpuint(l.bwe.overuse_events, ==, 0);
  uint64_t before = tm_bwe_estimate(&l.bwe);
  g_assert_cmpuint(before, >=, 1000000);
  /* the link drops to 300 kbit/s: the queue grows by 2.3 s a second */
  int frames = 0;
  while (!tm_bwe_overusing(&l.bwe) && frames < 90) {
    send_frames(&l, 1, 1000000, 300000, 20000);
    frames++;
  }
  g_test_message("overuse after %d frames; slope %.2f; estimate %" G_GUINT64_FORMAT
                 " -> %" G_GUINT64_FORMAT,
                 frames, l.bwe.slope, before, tm_bwe_estimate(&l.bwe));
  g_assert_true(tm_bwe_overusing(&l.bwe));
  g_assert_cmpint(frames, <=, 30); /* within a second */
  g_assert_cmpuint(tm_bwe_estimate(&l.bwe), <=, 400000);
  g_assert_cmpuint(tm_bwe_estimate(&l.bwe), >=, TM_BWE_MIN_BPS);
  /* no increase while overusing, even without loss */
  uint64_t low = tm_bwe_estimate(&l.bwe);
  send_frames(&l, 30, 1000000, 300000, 20000);
  g_assert_cmpuint(tm_bwe_estimate(&l.bwe), <=, low);
  /* a pause longer than a second (after the queue drained) restarts the trend */
  l.now += 10 * SEC;
  l.queue_free = 0;
  send_frames(&l, 2, 250000, 0, 0);
  g_assert_false(tm_bwe_overusing(&l.bwe));
  g_rand_free(l.rand);
}

/* A sender 5 % over its 300 kbit/s link behind a 100 ms drop-tail queue (the loss rule's growth
 * past the link): the queue grows by 50 ms a second, too slowly for the trend's slope, and
 * stands; overuse is seen before the queue overflows, and the estimate comes under the link. */
static void
test_slow_overfill(void)
{
  Link l = { .rand = g_rand_new_with_seed(5), .now = SEC, .ts = 1, .queue_cap_us = 100000 };
  tm_bwe_init(&l.bwe);
  send_frames(&l, 30 * 20, 250000, 300000, 5000);
  g_assert_cmpuint(l.bwe.overuse_events, ==, 0);
  unsigned lost = 0, frames = 0;
  while (!tm_bwe_overusing(&l.bwe) && frames < 30 * 10) {
    unsigned before = l.lost;
    send_frames(&l, 1, 315000, 300000, 5000);
    lost += l.lost >= before ? l.lost - before : l.lost;
    frames++;
  }
  g_test_message("overuse after %u frames, queue %.0f ms, %u lost, estimate %" G_GUINT64_FORMAT,
                 frames, tm_bwe_queue_ms(&l.bwe), lost, tm_bwe_estimate(&l.bwe));
  g_assert_true(tm_bwe_overusing(&l.bwe));
  g_assert_cmpuint(lost, ==, 0);
  g_assert_cmpuint(tm_bwe_estimate(&l.bwe), <, 300000);
  g_rand_free(l.rand);
}

/* 10 % of the packets lost on a path without a queue (0..20 ms jitter), every one repaired: the
 * loss rule leaves the estimate to grow with what the sender uses. */
static void
test_repaired_loss_without_queue(void)
{
  Link l = {
    .rand = g_rand_new_with_seed(5), .now = SEC, .ts = 1, .random_loss = 0.10, .repaired = true
  };
  tm_bwe_init(&l.bwe);
  send_frames(&l, 30 * 30, 1000000, 0, 20000);
  g_test_message("queue %.1f ms, estimate %" G_GUINT64_FORMAT, tm_bwe_queue_ms(&l.bwe),
                 tm_bwe_estimate(&l.bwe));
  g_assert_cmpfloat(tm_bwe_queue_ms(&l.bwe), >=, 0);
  g_assert_cmpfloat(tm_bwe_queue_ms(&l.bwe), <, TM_BWE_QUEUE_MS);
  g_assert_cmpuint(tm_bwe_estimate(&l.bwe), >=, 1000000);
  /* the same loss not repaired (or told as one share) lowers it */
  Link m = { .rand = g_rand_new_with_seed(5), .now = SEC, .ts = 1, .random_loss = 0.12 };
  tm_bwe_init(&m.bwe);
  send_frames(&m, 30 * 30, 1000000, 0, 20000);
  g_assert_cmpuint(tm_bwe_estimate(&m.bwe), <, TM_BWE_START_BPS);
  g_rand_free(l.rand);
  g_rand_free(m.rand);
}

/* A link that drops to 300 kbit/s behind a 100 ms drop-tail queue, every loss repaired: the
 * queue stands, the loss is congestion and lowers the estimate all the same, to what the link
 * carries. */
static void
test_repaired_loss_with_queue(void)
{
  Link l = {
    .rand = g_rand_new_with_seed(7), .now = SEC, .ts = 1, .queue_cap_us = 100000, .repaired = true
  };
  tm_bwe_init(&l.bwe);
  send_frames(&l, 30 * 10, 800000, 1000000, 0);
  uint64_t before = tm_bwe_estimate(&l.bwe);
  g_assert_cmpfloat(tm_bwe_queue_ms(&l.bwe), <, TM_BWE_QUEUE_MS);
  send_frames(&l, 30 * 3, 800000, 300000, 0); /* the sender does not slow down */
  g_test_message("queue %.1f ms, estimate %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT,
                 tm_bwe_queue_ms(&l.bwe), before, tm_bwe_estimate(&l.bwe));
  g_assert_cmpfloat(tm_bwe_queue_ms(&l.bwe), >=, TM_BWE_QUEUE_MS);
  g_assert_cmpuint(tm_bwe_estimate(&l.bwe), <, before / 2);
  /* ... but not below what the link carried (0.85 × 300 kbit/s, what arrived), where the loss
   * rule alone (the receiver-report path, whose measured rate is what was sent) cuts on */
  g_assert_cmpuint(tm_bwe_estimate(&l.bwe), >=, 300000 * 8 / 10);
  Link m = { .rand = g_rand_new_with_seed(7), .now = SEC, .ts = 1, .queue_cap_us = 100000 };
  tm_bwe_init(&m.bwe);
  send_frames(&m, 30 * 10, 800000, 1000000, 0);
  send_frames(&m, 30 * 3, 800000, 300000, 0);
  g_test_message("the loss rule alone: %" G_GUINT64_FORMAT, tm_bwe_estimate(&m.bwe));
  g_assert_cmpuint(tm_bwe_estimate(&m.bwe), <, 300000 * 8 / 10);
  g_rand_free(l.rand);
  g_rand_free(m.rand);
}

/* The relay sending to a receiver over a link of LINK bit/s behind a 200 ms drop-tail queue:
 * SECONDS of a 30 fps stream at RATE bit/s (four packets a frame, sent together), arrivals
 * reported every 100 ms (tm_bwe_on_arrival, the bytes that arrived counted then), loss once a
 * second. */
typedef struct {
  TmBwe bwe;
  int64_t now, queue_free;
  int64_t queue_cap_us; /* 200 ms when 0 */
  int key_every;        /* every this many frames a key frame ten times the size (0: none) */
  int frame;
  GArray *pending; /* int64 send, arrival, bytes: not yet reported */
  unsigned sent, lost;
} SendLink;

static void
send_link_run(SendLink *l, double seconds, double rate, double link)
{
  int64_t cap = l->queue_cap_us > 0 ? l->queue_cap_us : 200000;
  for (int f = 0; f < (int) (seconds * 30); f++, l->frame++) {
    bool key = l->key_every > 0 && l->frame % l->key_every == 0;
    size_t bytes = (size_t) (rate / 8 / 30 / 4) * (key ? 10 : 1);
    for (int p = 0; p < 4; p++) {
      int64_t at = l->now + p * 100; /* a frame's packets leave together */
      l->sent++;
      if (l->queue_free - at > cap) {
        l->lost++;
        continue;
      }
      l->queue_free = MAX(l->queue_free, at) + (int64_t) (bytes * 8 * 1e6 / link);
      int64_t rec[3] = { at, l->queue_free + 40000 + 7 * SEC, (int64_t) bytes };
      g_array_append_vals(l->pending, rec, 3);
    }
    int64_t next = l->now + SEC / 30;
    if (next / 100000 != l->now / 100000) { /* feedback: what arrived by now */
      guint k = 0;
      for (; k < l->pending->len; k += 3) {
        int64_t *rec = &g_array_index(l->pending, int64_t, k);
        if (rec[1] - 7 * SEC > next)
          break;
        tm_bwe_on_arrival(&l->bwe, rec[0], rec[1], next);
        tm_bwe_on_packet(&l->bwe, (size_t) rec[2], 0, 0, next);
      }
      g_array_remove_range(l->pending, 0, k);
    }
    if (next / SEC != l->now / SEC) {
      tm_bwe_on_loss(&l->bwe, l->sent > 0 ? (double) l->lost / l->sent : 0, next);
      l->sent = l->lost = 0;
    }
    l->now = next;
  }
}

static void
test_send_side_trend(void)
{
  SendLink l = { .now = SEC, .pending = g_array_new(FALSE, FALSE, sizeof(int64_t)) };
  tm_bwe_init(&l.bwe);
  send_link_run(&l, 20, 800000, 2000000);
  g_assert_cmpuint(l.bwe.overuse_events, ==, 0);
  uint64_t before = tm_bwe_estimate(&l.bwe);
  g_assert_cmpuint(before, >=, 800000);
  /* the link steps down to 300 kbit/s while the sender keeps to its 800 kbit/s */
  int frames = 0;
  while (!tm_bwe_overusing(&l.bwe) && frames < 90) {
    send_link_run(&l, 1.0 / 30, 800000, 300000);
    frames++;
  }
  g_test_message("overuse after %d frames; estimate %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT,
                 frames, before, tm_bwe_estimate(&l.bwe));
  g_assert_true(tm_bwe_overusing(&l.bwe));
  /* within 1.5 s: arrivals are known only once they arrived and were reported */
  g_assert_cmpint(frames, <=, 45);
  /* the decrease goes to what arrived, not to what was sent */
  g_assert_cmpuint(tm_bwe_estimate(&l.bwe), <=, 300000);
  g_assert_cmpuint(tm_bwe_estimate(&l.bwe), >=, TM_BWE_MIN_BPS);
  g_array_unref(l.pending);
}

/* A sender 30 % over its link behind a 100 ms drop-tail queue: the queue fills within a
 * second and then stands (its trend flat again): that is overuse too, and the estimate goes to
 * what arrives. */
static void
test_send_side_standing_queue(void)
{
  SendLink l = { .now = SEC,
                 .queue_cap_us = 100000,
                 .pending = g_array_new(FALSE, FALSE, sizeof(int64_t)) };
  tm_bwe_init(&l.bwe);
  send_link_run(&l, 20, 600000, 1000000);
  g_assert_cmpuint(l.bwe.overuse_events, ==, 0);
  g_assert_cmpuint(tm_bwe_estimate(&l.bwe), >=, 600000);
  send_link_run(&l, 3, 600000, 460000);
  g_test_message("queue %.0f ms, estimate %" G_GUINT64_FORMAT, tm_bwe_queue_ms(&l.bwe),
                 tm_bwe_estimate(&l.bwe));
  g_assert_cmpuint(l.bwe.overuse_events, >=, 1);
  g_assert_cmpuint(tm_bwe_estimate(&l.bwe), <=, 460000);
  g_array_unref(l.pending);
}

/* Repaired loss soon after overuse is still the link's congestion: once the sender has slowed
 * and the queue drained, a second of 20 % loss, all of it repaired, lowers the estimate within
 * TM_BWE_AFTER_OVERUSE_US of the overuse, and leaves it alone after that. */
static void
test_repaired_loss_after_overuse(void)
{
  SendLink l = { .now = SEC, .pending = g_array_new(FALSE, FALSE, sizeof(int64_t)) };
  tm_bwe_init(&l.bwe);
  send_link_run(&l, 10, 800000, 2000000);
  send_link_run(&l, 2, 800000, 300000);
  g_assert_cmpuint(l.bwe.overuse_events, >=, 1);
  send_link_run(&l, 3, 100000, 300000); /* the sender slows: the queue drains */
  g_assert_false(tm_bwe_overusing(&l.bwe));
  uint64_t before = tm_bwe_estimate(&l.bwe);
  tm_bwe_on_loss_repaired(&l.bwe, 0.20, 0.0, l.now);
  g_assert_cmpuint(tm_bwe_estimate(&l.bwe), <, before);
  send_link_run(&l, 11, 100000, 300000);
  g_assert_false(tm_bwe_overusing(&l.bwe));
  before = tm_bwe_estimate(&l.bwe);
  tm_bwe_on_loss_repaired(&l.bwe, 0.20, 0.0, l.now);
  g_assert_cmpuint(tm_bwe_estimate(&l.bwe), >=, before);
  g_array_unref(l.pending);
}

/* Key frames ten times a delta frame every 3 s, on a link 1.5 times the mean rate: each fills
 * the queue for a moment and it drains; neither a growing nor a standing queue. */
static void
test_send_side_key_frames(void)
{
  SendLink l = { .now = SEC,
                 .key_every = 90,
                 .queue_cap_us = 400000,
                 .pending = g_array_new(FALSE, FALSE, sizeof(int64_t)) };
  tm_bwe_init(&l.bwe);
  send_link_run(&l, 60, 700000, 1500000);
  g_test_message("%" G_GUINT64_FORMAT " overuse, estimate %" G_GUINT64_FORMAT ", %u lost",
                 l.bwe.overuse_events, tm_bwe_estimate(&l.bwe), l.lost);
  g_assert_cmpuint(l.bwe.overuse_events, ==, 0);
  g_assert_cmpuint(tm_bwe_estimate(&l.bwe), >=, 1000000);
  g_array_unref(l.pending);
}

/* Groups sent 10 ms apart that arrive swapped are no sample: the trend goes on. */
static void
test_send_side_reordered(void)
{
  TmBwe b;
  tm_bwe_init(&b);
  int64_t send = SEC, now = SEC;
  for (int i = 0; i < 200; i++, send += 10000) {
    int64_t arrival = send + 30000 + ((i % 10 == 5) ? 12000 : 0); /* every tenth 12 ms late */
    tm_bwe_on_arrival(&b, send, arrival, now);
    if (i % 10 == 9)
      now += 100000;
  }
  g_assert_cmpuint(b.trend_n, ==, TM_BWE_TREND_WINDOW);
  g_assert_false(tm_bwe_overusing(&b));
  g_assert_cmpfloat(fabs(b.slope), <, 0.05);
}

/* TmRate: the last second's rate, in 100 ms buckets; a second without bytes empties it. */
static void
test_rate(void)
{
  TmRate r = { 0 };
  int64_t t = 10 * 1000000;
  g_assert_cmpuint(tm_rate_bps(&r, t), ==, 0);
  for (int i = 0; i < 200; i++, t += 10000) /* 1000 bytes every 10 ms: 800 kbit/s */
    tm_rate_add(&r, 1000, t);
  uint64_t bps = tm_rate_bps(&r, t);
  g_assert_cmpuint(bps, >=, 760000);
  g_assert_cmpuint(bps, <=, 840000);
  tm_rate_add(&r, 1000, t - 500000); /* a late caller counts in the newest bucket */
  g_assert_cmpuint(tm_rate_bps(&r, t), >, bps);
  g_assert_cmpuint(tm_rate_bps(&r, t + 1100000), ==, 0);
}

/* abs-send-time's 24 bits (6.18 fixed-point seconds, wrapping every 64 s) on one clock: across
 * the wrap, and a reordered older value placed before the newest without moving it. */
static void
test_abs_send_clock(void)
{
  TmAbsSendClock c = { 0 };
  uint32_t near_wrap = 0xffffffu - (1u << 18) / 4; /* 250 ms before the wrap */
  int64_t t0 = tm_abs_send_clock_unwrap(&c, near_wrap);
  int64_t t1 = tm_abs_send_clock_unwrap(&c, (1u << 18) / 4); /* 500 ms later, past the wrap */
  g_assert_cmpint(t1 - t0, >=, 499990);
  g_assert_cmpint(t1 - t0, <=, 500010);
  int64_t older = tm_abs_send_clock_unwrap(&c, 0); /* sent 250 ms before t1, arrived after it */
  g_assert_cmpint(t1 - older, >=, 249990);
  g_assert_cmpint(t1 - older, <=, 250010);
  int64_t t2 = tm_abs_send_clock_unwrap(&c, (1u << 18) / 2); /* on from t1, not from OLDER */
  g_assert_cmpint(t2 - t1, >=, 249990);
  g_assert_cmpint(t2 - t1, <=, 250010);
  /* an hour of 15.625 ms steps: the clock keeps counting past every wrap */
  int64_t start = t2;
  uint32_t raw = (1u << 18) / 2;
  for (int i = 0; i < 3600 * 64; i++) {
    raw = (raw + (1u << 18) / 64) & 0xffffffu;
    t2 = tm_abs_send_clock_unwrap(&c, raw);
  }
  g_assert_cmpint(t2 - start, >=, 3600 * G_GINT64_CONSTANT(1000000) - 10);
  g_assert_cmpint(t2 - start, <=, 3600 * G_GINT64_CONSTANT(1000000) + 10);
  /* a sender that jumps as far ahead as it can, packet after packet (the values are its own):
   * the clock goes on ahead, with no overflow (UBSan would say) */
  int64_t prev = t2;
  for (int i = 0; i < 2000000; i++) {
    raw = (raw + (1u << 23) - 1) & 0xffffffu;
    t2 = tm_abs_send_clock_unwrap(&c, raw);
    g_assert_cmpint(t2 - prev, >, 31999000);
    prev = t2;
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/bwe/rate", test_rate);
  g_test_add_func("/bwe/abs-send-clock", test_abs_send_clock);
  g_test_add_func("/bwe/repaired-loss-without-queue", test_repaired_loss_without_queue);
  g_test_add_func("/bwe/repaired-loss-with-queue", test_repaired_loss_with_queue);
  g_test_add_func("/bwe/loss-rule", test_loss_rule);
  g_test_add_func("/bwe/no-growth-past-use", test_no_growth_past_use);
  g_test_add_func("/bwe/delay-trend", test_delay_trend);
  g_test_add_func("/bwe/key-frames-are-not-overuse", test_key_frames_are_not_overuse);
  g_test_add_func("/bwe/slow-overfill", test_slow_overfill);
  g_test_add_func("/bwe/send-side-trend", test_send_side_trend);
  g_test_add_func("/bwe/send-side-reordered", test_send_side_reordered);
  g_test_add_func("/bwe/send-side-standing-queue", test_send_side_standing_queue);
  g_test_add_func("/bwe/send-side-key-frames", test_send_side_key_frames);
  g_test_add_func("/bwe/repaired-loss-after-overuse", test_repaired_loss_after_overuse);
  return g_test_run();
}
