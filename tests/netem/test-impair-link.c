/* test-impair-link.c — the impairment model with a fake clock: settings lines (round trip, all or
 * nothing), loss that depends on the seed only, Gilbert–Elliott bursts, FIFO order under jitter
 * and reordering when asked, the rate limit and its drop-tail queue, the cap on held packets, and
 * outages switched by hand and scheduled. */
#include <glib.h>
#include <string.h>

#include "impair-link.h"

#define A2B TM_IMPAIR_A2B
#define MASK_A2B (1u << TM_IMPAIR_A2B)

static TmImpairLink *
link_with(guint32 seed, const char *settings)
{
  TmImpairLink *link = tm_impair_link_new(seed);
  g_autoptr(GError) error = NULL;
  g_assert_true(tm_impair_link_configure(link, MASK_A2B, settings, &error));
  g_assert_no_error(error);
  return link;
}

/* Sends one packet carrying N at NOW_US. */
static void
send_number(TmImpairLink *link, guint32 n, gsize len, int64_t now_us)
{
  uint8_t buf[2000] = { 0 };
  g_assert_cmpuint(len, <=, sizeof buf);
  memcpy(buf, &n, sizeof n);
  tm_impair_link_handle_packet(link, A2B, buf, len, now_us);
}

/* Everything due by NOW_US, as the numbers the packets carry. */
static GArray *
drain(TmImpairLink *link, int64_t now_us)
{
  GArray *got = g_array_new(FALSE, FALSE, sizeof(guint32));
  TmImpairPacket *p;
  while ((p = tm_impair_link_poll_output(link, A2B, now_us))) {
    guint32 n;
    memcpy(&n, p->data, sizeof n);
    g_array_append_val(got, n);
    g_free(p);
  }
  return got;
}

/* Which of COUNT packets, one every SPACING_US, the link let through (in the order it did). */
static GArray *
survivors_every(TmImpairLink *link, guint count, int64_t spacing_us)
{
  GArray *got = g_array_new(FALSE, FALSE, sizeof(guint32));
  for (guint i = 0; i <= count; i++) {
    int64_t now = i < count ? (int64_t) i * spacing_us : G_MAXINT64 - 1;
    if (i < count)
      send_number(link, i, 100, now);
    g_autoptr(GArray) due = drain(link, now);
    g_array_append_vals(got, due->data, due->len);
  }
  return got;
}

static GArray *
survivors(TmImpairLink *link, guint count)
{
  return survivors_every(link, count, 1000);
}

/* Lost packets per run of losses among COUNT numbered packets, of which GOT came through. */
static double
mean_burst(const GArray *got, guint count)
{
  guint bursts = 0;
  guint32 expect = 0;
  for (guint i = 0; i < got->len; expect = g_array_index(got, guint32, i) + 1, i++)
    bursts += g_array_index(got, guint32, i) != expect;
  bursts += expect < count;
  return bursts > 0 ? (double) (count - got->len) / bursts : 0;
}

static void
test_settings_round_trip(void)
{
  g_autoptr(TmImpairLink) link = link_with(1,
                                           "loss=2.5 gb=1 bg=30 bad_loss=90 delay=40 "
                                           "jitter=7.5 dist=normal reorder=1 rate=2000 "
                                           "queue=30000 queue_ms=50 limit=77 udp=0 tcp_port=443");
  g_autoptr(GString) line = g_string_new(NULL);
  tm_impair_settings_format(tm_impair_link_settings(link, A2B), line);
  g_autoptr(TmImpairLink) copy = link_with(2, line->str);
  g_assert_cmpmem(tm_impair_link_settings(link, A2B), sizeof(TmImpairSettings),
                  tm_impair_link_settings(copy, A2B), sizeof(TmImpairSettings));
  g_assert_cmpint(tm_impair_link_settings(link, A2B)->jitter_us, ==, 7500);
  g_assert_cmpint(tm_impair_link_settings(link, A2B)->rate_bps, ==, 2000000);

  /* B→A was not asked for: still the defaults */
  TmImpairSettings defaults;
  tm_impair_settings_init(&defaults);
  g_assert_cmpmem(tm_impair_link_settings(link, TM_IMPAIR_B2A), sizeof defaults, &defaults,
                  sizeof defaults);
  /* clear puts them back */
  g_assert_true(tm_impair_link_configure(link, MASK_A2B, "clear", NULL));
  g_assert_cmpmem(tm_impair_link_settings(link, A2B), sizeof defaults, &defaults, sizeof defaults);
}

static void
test_settings_refused(void)
{
  static const char *const bad[] = {
    "loss=101", "loss=-1",  "loss=",   "loss",     "delay=1e9",   "dist=pareto", "reorder=2",
    "limit=0",  "rate=abc", "seed=-3", "seed=1.5", "colour=blue", "loss=10x",
  };
  g_autoptr(TmImpairLink) link = link_with(1, "loss=5");
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_autofree char *line = g_strdup_printf("delay=30 %s", bad[i]);
    g_assert_false(tm_impair_link_configure(link, MASK_A2B, line, &error));
    g_assert_nonnull(error);
    /* all or nothing: the good word before the bad one did not take either */
    g_assert_cmpint(tm_impair_link_settings(link, A2B)->delay_us, ==, 0);
    g_assert_cmpfloat(tm_impair_link_settings(link, A2B)->loss, ==, 5);
  }
}

static void
test_loss_follows_seed(void)
{
  g_autoptr(TmImpairLink) a = link_with(42, "loss=10");
  g_autoptr(TmImpairLink) b = link_with(42, "loss=10 delay=30 jitter=10 rate=100000");
  g_autoptr(TmImpairLink) c = link_with(43, "loss=10");
  g_autoptr(GArray) got_a = survivors(a, 10000);
  g_autoptr(GArray) got_b = survivors(b, 10000);
  g_autoptr(GArray) got_c = survivors(c, 10000);
  g_assert_cmpuint(got_a->len, >, 8900);
  g_assert_cmpuint(got_a->len, <, 9100);
  g_assert_cmpuint(tm_impair_link_counters(a, A2B)->drop[TM_IMPAIR_DROP_LOSS], ==,
                   10000 - got_a->len);
  /* the same seed loses the same packets, whatever the delay and rate */
  g_assert_cmpmem(got_a->data, got_a->len * 4, got_b->data, got_b->len * 4);
  g_assert_false(got_a->len == got_c->len && memcmp(got_a->data, got_c->data, got_a->len * 4) == 0);
  /* seed=N restarts the stream */
  g_assert_true(tm_impair_link_configure(c, MASK_A2B, "seed=42", NULL));
  g_autoptr(GArray) again = survivors(c, 10000);
  g_assert_cmpmem(got_a->data, got_a->len * 4, again->data, again->len * 4);
}

static void
test_bursts(void)
{
  g_autoptr(TmImpairLink) link = link_with(7, "gb=2 bg=25 bad_loss=100");
  g_autoptr(GArray) got = survivors(link, 20000);
  guint lost = 20000 - got->len, bursts = 0;
  guint32 expect = 0;
  for (guint i = 0; i < got->len; expect = g_array_index(got, guint32, i) + 1, i++)
    bursts += g_array_index(got, guint32, i) != expect;
  double mean = (double) lost / bursts;
  g_test_message("%u lost in %u bursts (mean %.2f)", lost, bursts, mean);
  g_assert_cmpfloat(mean, >, 3.0); /* 1 / bg = 4 */
  g_assert_cmpfloat(mean, <, 5.0);
  g_assert_cmpuint(lost, >, 20000 * 2 / 27 * 8 / 10);
  g_assert_cmpuint(lost, <, 20000 * 2 / 27 * 12 / 10);
  g_assert_cmpuint(tm_impair_link_counters(link, A2B)->drop[TM_IMPAIR_DROP_BURST], ==, lost);
}

/* The bursts are bounded in time too (burst_ms, 50 ms by default): packets 500 ms apart (a TCP
 * retransmission backing off, ICE checks) lose as many as packets 1 ms apart, but seldom two in
 * a row, where a chain stepping only per packet would hold them in the bad state for seconds.
 * Packets closer than burst_ms see the per-packet chain alone: the same losses as before. */
static void
test_bursts_in_time(void)
{
  const guint n = 4000;
  g_autoptr(TmImpairLink) sparse = link_with(7, "gb=3 bg=27");
  g_autoptr(GArray) got = survivors_every(sparse, n, 500000);
  g_autoptr(TmImpairLink) per_packet = link_with(7, "gb=3 bg=27 burst_ms=0");
  g_autoptr(GArray) old = survivors_every(per_packet, n, 500000);
  double lost = 1.0 - (double) got->len / n, lost_old = 1.0 - (double) old->len / n;
  g_test_message("500 ms apart: %.1f %% lost, bursts of %.2f; per packet only: %.1f %%, %.2f",
                 100 * lost, mean_burst(got, n), 100 * lost_old, mean_burst(old, n));
  g_assert_cmpfloat(lost, >, 0.07);
  g_assert_cmpfloat(lost, <, 0.13);
  g_assert_cmpfloat(mean_burst(got, n), <, 1.6);
  g_assert_cmpfloat(mean_burst(old, n), >, 3.0);
  /* 10 ms apart: the same packets lost with and without the time bound */
  g_autoptr(TmImpairLink) dense = link_with(7, "gb=3 bg=27");
  g_autoptr(TmImpairLink) dense_old = link_with(7, "gb=3 bg=27 burst_ms=0");
  g_autoptr(GArray) a = survivors_every(dense, n, 10000);
  g_autoptr(GArray) b = survivors_every(dense_old, n, 10000);
  g_assert_cmpmem(a->data, a->len * 4, b->data, b->len * 4);
}

static gboolean
in_order(const GArray *got)
{
  for (guint i = 1; i < got->len; i++) {
    if (g_array_index(got, guint32, i) < g_array_index(got, guint32, i - 1))
      return FALSE;
  }
  return TRUE;
}

static void
test_jitter_order(void)
{
  g_autoptr(TmImpairLink) fifo = link_with(3, "delay=100 jitter=50");
  g_autoptr(TmImpairLink) reorder = link_with(3, "delay=100 jitter=50 reorder=1");
  g_autoptr(GArray) got_fifo = survivors(fifo, 1000);
  g_autoptr(GArray) got_reorder = survivors(reorder, 1000);
  g_assert_cmpuint(got_fifo->len, ==, 1000);
  g_assert_cmpuint(got_reorder->len, ==, 1000);
  g_assert_true(in_order(got_fifo));
  g_assert_false(in_order(got_reorder));

  /* nothing is due before delay - jitter; the deadline says when the first one is */
  g_autoptr(TmImpairLink) one = link_with(3, "delay=100 jitter=50");
  send_number(one, 0, 100, 0);
  int64_t due = tm_impair_link_next_deadline(one);
  g_assert_cmpint(due, >=, 50000);
  g_assert_cmpint(due, <=, 150000);
  g_autoptr(GArray) early = drain(one, due - 1);
  g_autoptr(GArray) on_time = drain(one, due);
  g_assert_cmpuint(early->len, ==, 0);
  g_assert_cmpuint(on_time->len, ==, 1);
  g_assert_cmpint(tm_impair_link_next_deadline(one), ==, INT64_MAX);
}

static void
test_rate_and_queue(void)
{
  /* 1000 kbit/s: a 1000-byte packet takes 8 ms; the queue holds 3000 bytes, counting the one
   * being sent */
  g_autoptr(TmImpairLink) link = link_with(1, "rate=1000 queue=3000");
  for (guint i = 0; i < 10; i++)
    send_number(link, i, 1000, 0);
  const TmImpairCounters *c = tm_impair_link_counters(link, A2B);
  g_assert_cmpuint(c->drop[TM_IMPAIR_DROP_QUEUE], ==, 7);
  for (guint i = 0; i < 3; i++) {
    g_assert_cmpint(tm_impair_link_next_deadline(link), ==, (i + 1) * 8000);
    g_autoptr(GArray) got = drain(link, (i + 1) * 8000);
    g_assert_cmpuint(got->len, ==, 1);
  }
  /* once the queue has drained the link takes packets again */
  send_number(link, 10, 1000, 40000);
  g_assert_cmpint(tm_impair_link_next_deadline(link), ==, 48000);
  g_assert_cmpuint(c->out, ==, 3);
  g_assert_cmpuint(c->bytes_out, ==, 3000);

  /* queue_ms sizes the queue from the rate: 24 ms at 1000 kbit/s is 3000 bytes */
  g_autoptr(TmImpairLink) by_time = link_with(1, "rate=1000 queue_ms=24");
  for (guint i = 0; i < 10; i++)
    send_number(by_time, i, 1000, 0);
  g_assert_cmpuint(tm_impair_link_counters(by_time, A2B)->drop[TM_IMPAIR_DROP_QUEUE], ==, 7);
}

static void
test_limit(void)
{
  g_autoptr(TmImpairLink) link = link_with(1, "delay=1000 limit=5");
  for (guint i = 0; i < 8; i++)
    send_number(link, i, 100, 0);
  g_assert_cmpuint(tm_impair_link_held(link, A2B), ==, 5);
  g_assert_cmpuint(tm_impair_link_counters(link, A2B)->drop[TM_IMPAIR_DROP_LIMIT], ==, 3);
}

static void
test_outages(void)
{
  g_autoptr(TmImpairLink) link = link_with(1, "delay=5");
  g_assert_true(tm_impair_link_add_outage(link, 10000, 10000));
  g_assert_false(tm_impair_link_add_outage(link, 10000, 0));
  send_number(link, 0, 100, 0); /* before: passes */
  g_autoptr(GArray) before = drain(link, 6000);
  send_number(link, 1, 100, 8000); /* in flight when it starts: dropped when due */
  g_autoptr(GArray) in_flight = drain(link, 14000);
  send_number(link, 2, 100, 15000); /* during: dropped */
  send_number(link, 3, 100, 20000); /* after: passes */
  g_autoptr(GArray) after = drain(link, 30000);
  g_assert_cmpuint(before->len, ==, 1);
  g_assert_cmpuint(in_flight->len, ==, 0);
  g_assert_cmpuint(after->len, ==, 1);
  g_assert_cmpuint(g_array_index(after, guint32, 0), ==, 3);
  g_assert_cmpuint(tm_impair_link_counters(link, A2B)->drop[TM_IMPAIR_DROP_OUTAGE], ==, 2);

  /* by hand: both ways until switched off */
  tm_impair_link_set_outage(link, TRUE);
  g_assert_true(tm_impair_link_outage_switched_on(link));
  send_number(link, 4, 100, 40000);
  tm_impair_link_handle_packet(link, TM_IMPAIR_B2A, (const uint8_t *) "x", 1, 40000);
  tm_impair_link_set_outage(link, FALSE);
  send_number(link, 5, 100, 40000);
  g_autoptr(GArray) switched_off = drain(link, 50000);
  g_assert_cmpuint(switched_off->len, ==, 1);
  g_assert_cmpuint(g_array_index(switched_off, guint32, 0), ==, 5);
  g_assert_cmpuint(tm_impair_link_counters(link, TM_IMPAIR_B2A)->drop[TM_IMPAIR_DROP_OUTAGE], ==,
                   1);
}

static void
test_counters_line(void)
{
  g_autoptr(TmImpairLink) link = link_with(1, "");
  send_number(link, 0, 100, 0);
  g_autoptr(GArray) got = drain(link, 0);
  g_assert_cmpuint(got->len, ==, 1);
  tm_impair_link_write_failed(link, A2B, 100); /* the output device refused it */
  g_autoptr(GString) out = g_string_new(NULL);
  tm_impair_link_format_counters(link, out);
  g_assert_nonnull(strstr(out->str,
                          "counters a2b in=1 out=0 bytes_in=100 bytes_out=0 "
                          "drop_loss=0 drop_burst=0 drop_queue=0 drop_outage=0 "
                          "drop_limit=0 drop_write=1 drop_filter=0 held=0\n"));
  g_assert_nonnull(strstr(out->str, "counters b2a in=0 "));
}

/* An IPv4 (or IPv6) packet of protocol PROTO from port SRC to port DST. */
static void
send_ip(TmImpairLink *link, int version, uint8_t proto, guint src, guint dst)
{
  uint8_t buf[80] = { 0 };
  gsize header = version == 4 ? 20 : 40;
  buf[0] = version == 4 ? 0x45 : 0x60;
  buf[version == 4 ? 9 : 6] = proto;
  buf[header] = (uint8_t) (src >> 8);
  buf[header + 1] = (uint8_t) src;
  buf[header + 2] = (uint8_t) (dst >> 8);
  buf[header + 3] = (uint8_t) dst;
  tm_impair_link_handle_packet(link, A2B, buf, sizeof buf, 0);
}

static void
test_firewall(void)
{
  g_autoptr(TmImpairLink) link = link_with(1, "udp=0 tcp_port=443");
  send_ip(link, 4, 17, 5000, 443);   /* UDP: dropped */
  send_ip(link, 6, 17, 5000, 3478);  /* UDP over IPv6: dropped */
  send_ip(link, 4, 6, 40000, 443);   /* TCP to 443: passes */
  send_ip(link, 4, 6, 443, 40000);   /* TCP from 443: passes */
  send_ip(link, 6, 6, 40000, 443);   /* TCP to 443 over IPv6: passes */
  send_ip(link, 4, 6, 40000, 30001); /* TCP elsewhere: dropped */
  send_ip(link, 4, 1, 0, 0);         /* ICMP: passes */
  const TmImpairCounters *c = tm_impair_link_counters(link, A2B);
  g_assert_cmpuint(c->drop[TM_IMPAIR_DROP_FILTER], ==, 3);
  g_autoptr(TmImpairLink) open = link_with(1, "");
  send_ip(open, 4, 17, 5000, 443);
  send_ip(open, 4, 6, 40000, 30001);
  g_assert_cmpuint(tm_impair_link_counters(open, A2B)->drop[TM_IMPAIR_DROP_FILTER], ==, 0);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/impair/settings-round-trip", test_settings_round_trip);
  g_test_add_func("/impair/settings-refused", test_settings_refused);
  g_test_add_func("/impair/loss-follows-seed", test_loss_follows_seed);
  g_test_add_func("/impair/bursts", test_bursts);
  g_test_add_func("/impair/bursts-in-time", test_bursts_in_time);
  g_test_add_func("/impair/jitter-order", test_jitter_order);
  g_test_add_func("/impair/rate-and-queue", test_rate_and_queue);
  g_test_add_func("/impair/limit", test_limit);
  g_test_add_func("/impair/outages", test_outages);
  g_test_add_func("/impair/counters-line", test_counters_line);
  g_test_add_func("/impair/firewall", test_firewall);
  return g_test_run();
}
