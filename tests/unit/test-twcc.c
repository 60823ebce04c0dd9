/* test-twcc.c — transport-cc feedback: the sending side's numbers come back as send and arrival
 * times; what is built parses back to the arrivals noted (in
 * order, out of order, with losses, across the 16-bit wrap); a gap of more than 8 s or more
 * than fits in one packet continues in the next; a window overrun gives the oldest up; late
 * packets are counted, not reported twice; the parser reads the draft's run-length and one-bit
 * chunks too and refuses malformed packets. */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "twcc.h"

static TmTwccFeedback fb; /* large: not on the stack */

/* Builds every feedback due at NOW and checks each parses; returns how many. */
static guint
build_all(TmTwcc *t, int64_t now, GArray *got_seq, GArray *got_at)
{
  guint n = 0;
  while (tm_twcc_next_deadline(t) <= now) {
    uint8_t buf[TM_TWCC_MAX_FEEDBACK];
    size_t len = tm_twcc_build(t, 0x11, 0x22, now, buf, sizeof buf);
    if (len == 0)
      break;
    g_assert_cmpuint(len % 4, ==, 0);
    g_assert_true(tm_twcc_parse(buf, len, &fb));
    g_assert_cmpuint(fb.sender_ssrc, ==, 0x11);
    g_assert_cmpuint(fb.media_ssrc, ==, 0x22);
    for (guint k = 0; k < fb.count; k++) {
      guint16 seq = (guint16) (fb.base + k);
      gint64 at = fb.received[k] ? (gint64) fb.reference * 64000 + fb.arrival_us[k] : -1;
      g_array_append_val(got_seq, seq);
      g_array_append_val(got_at, at);
    }
    n++;
  }
  return n;
}

static void
test_round_trip(void)
{
  static TmTwcc t;
  tm_twcc_init(&t);
  g_assert_cmpint(tm_twcc_next_deadline(&t), ==, INT64_MAX);
  /* 65530 .. 65545 (wrapping), one missing, two swapped, one 300 ms late */
  int64_t base = 5000000;
  uint16_t order[] = { 65530, 65531, 65533, 65532, 65534, 65535, 0, 1, 3, 4, 5, 6, 7, 8, 9 };
  int64_t at[G_N_ELEMENTS(order)];
  for (guint i = 0; i < G_N_ELEMENTS(order); i++) {
    at[i] = base + i * 5000 + (order[i] == 9 ? 300000 : 0) + 17;
    tm_twcc_on_packet(&t, order[i], at[i]);
  }
  g_assert_cmpint(tm_twcc_next_deadline(&t), ==, base + 17 + TM_TWCC_INTERVAL_US);
  g_autoptr(GArray) seqs = g_array_new(FALSE, FALSE, sizeof(guint16));
  g_autoptr(GArray) ats = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_assert_cmpuint(build_all(&t, base + 400000, seqs, ats), ==, 1);
  g_assert_cmpint(tm_twcc_next_deadline(&t), ==, INT64_MAX);
  g_assert_cmpuint(seqs->len, ==, 16); /* 65530 .. 9 */
  for (guint k = 0; k < seqs->len; k++) {
    guint16 seq = g_array_index(seqs, guint16, k);
    g_assert_cmpuint(seq, ==, (guint16) (65530 + k));
    gint64 got = g_array_index(ats, gint64, k);
    if (seq == 2) {
      g_assert_cmpint(got, ==, -1);
      continue;
    }
    guint i = 0;
    while (order[i] != seq)
      i++;
    /* quarter-millisecond steps, never drifting */
    g_assert_cmpint(got, <=, at[i]);
    g_assert_cmpint(got, >, at[i] - 250);
  }
  /* A packet already reported comes late: counted, not reported again. */
  tm_twcc_on_packet(&t, 2, base + 500000);
  g_assert_cmpuint(t.late, ==, 1);
  g_assert_cmpint(tm_twcc_next_deadline(&t), ==, INT64_MAX);
  /* The next one continues the numbering, with the feedback count. */
  tm_twcc_on_packet(&t, 10, base + 600000);
  g_array_set_size(seqs, 0);
  g_array_set_size(ats, 0);
  g_assert_cmpuint(build_all(&t, base + 700000, seqs, ats), ==, 1);
  g_assert_cmpuint(fb.fb_count, ==, 1);
  g_assert_cmpuint(seqs->len, ==, 1);
  g_assert_cmpuint(g_array_index(seqs, guint16, 0), ==, 10);
}

static void
test_split(void)
{
  static TmTwcc t;
  tm_twcc_init(&t);
  g_autoptr(GArray) seqs = g_array_new(FALSE, FALSE, sizeof(guint16));
  g_autoptr(GArray) ats = g_array_new(FALSE, FALSE, sizeof(gint64));
  /* 1000 packets with 100 ms between each (two-byte deltas) do not fit in one packet. */
  for (guint i = 0; i < 1000; i++)
    tm_twcc_on_packet(&t, (uint16_t) i, 1000000 + (int64_t) i * 100000);
  guint n = build_all(&t, 1000000 + 1000 * 100000, seqs, ats);
  g_assert_cmpuint(n, >=, 2);
  g_assert_cmpuint(seqs->len, ==, 1000);
  for (guint k = 0; k < 1000; k++)
    g_assert_cmpint(g_array_index(ats, gint64, k), ==, 1000000 + (int64_t) k * 100000);
  /* A silence of 10 s (more than a two-byte delta) starts a new packet. */
  tm_twcc_on_packet(&t, 1000, 200000000);
  tm_twcc_on_packet(&t, 1001, 210000000);
  g_array_set_size(seqs, 0);
  g_array_set_size(ats, 0);
  g_assert_cmpuint(build_all(&t, 210200000, seqs, ats), ==, 2);
  g_assert_cmpuint(seqs->len, ==, 2);
  g_assert_cmpint(g_array_index(ats, gint64, 1), ==, 210000000);
}

static void
test_overrun(void)
{
  static TmTwcc t;
  tm_twcc_init(&t);
  for (guint i = 0; i < TM_TWCC_WINDOW + 10; i++)
    tm_twcc_on_packet(&t, (uint16_t) i, 1000 + i);
  g_autoptr(GArray) seqs = g_array_new(FALSE, FALSE, sizeof(guint16));
  g_autoptr(GArray) ats = g_array_new(FALSE, FALSE, sizeof(gint64));
  build_all(&t, 10000000, seqs, ats);
  g_assert_cmpuint(seqs->len, ==, TM_TWCC_WINDOW); /* the 10 oldest were given up */
  g_assert_cmpuint(g_array_index(seqs, guint16, 0), ==, 10);
}

static void
test_parse_chunks(void)
{
  /* base 100, 20 packets: a run of 10 received (small deltas), a one-bit vector of 14 (the
   * first 10 of them used: received, lost, received, ...), deltas 1 ms each. */
  uint8_t p[64];
  size_t n = 0;
  const uint8_t head[] = {
    0x8F, 205, 0, 0, 0, 0, 0, 0x11, 0, 0, 0, 0x22, 0, 100, 0, 20, 0, 0, 2, 7
  };
  memcpy(p, head, sizeof head);
  n = sizeof head;
  p[n++] = 0x20; /* run length, status 1 */
  p[n++] = 10;
  p[n++] = 0xAA; /* one-bit vector: 1 0 1 0 1 0 1 0 1 0 1 0 1 0 */
  p[n++] = 0xAA;
  for (int i = 0; i < 15; i++)
    p[n++] = 4; /* 1 ms */
  while (n % 4 != 0)
    p[n++] = 0;
  p[3] = (uint8_t) (n / 4 - 1);
  g_assert_true(tm_twcc_parse(p, n, &fb));
  g_assert_cmpuint(fb.base, ==, 100);
  g_assert_cmpuint(fb.count, ==, 20);
  g_assert_cmpint(fb.reference, ==, 2);
  g_assert_cmpuint(fb.fb_count, ==, 7);
  for (guint k = 0; k < 20; k++)
    g_assert_cmpint(fb.received[k], ==, (k < 10 || (k - 10) % 2 == 0) ? 1 : 0);
}

static void
test_malformed(void)
{
  static TmTwcc t;
  tm_twcc_init(&t);
  tm_twcc_on_packet(&t, 1, 1000);
  tm_twcc_on_packet(&t, 3, 2000);
  uint8_t buf[TM_TWCC_MAX_FEEDBACK];
  size_t len = tm_twcc_build(&t, 1, 2, 200000, buf, sizeof buf);
  g_assert_cmpuint(len, >, 0);
  g_assert_true(tm_twcc_parse(buf, len, &fb));
  for (size_t cut = 0; cut < len; cut++)
    g_assert_false(tm_twcc_parse(buf, cut, &fb)); /* shorter than its length */
  uint8_t bad[TM_TWCC_MAX_FEEDBACK];
  memcpy(bad, buf, len);
  bad[1] = 206; /* not RTPFB */
  g_assert_false(tm_twcc_parse(bad, len, &fb));
  memcpy(bad, buf, len);
  bad[0] = 0x81; /* FMT 1: a NACK */
  g_assert_false(tm_twcc_parse(bad, len, &fb));
  memcpy(bad, buf, len);
  bad[15] = 200; /* more packets than its chunks and deltas describe */
  g_assert_false(tm_twcc_parse(bad, len, &fb));
  /* A header whose length is shorter than the fixed part, with padding: refused. */
  static const uint8_t short_padded[] = { 0xAF, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 200 };
  g_assert_false(tm_twcc_parse(short_padded, sizeof short_padded, &fb));
  /* A too-small buffer: nothing built, nothing left due. */
  tm_twcc_on_packet(&t, 4, 300000);
  g_assert_cmpuint(tm_twcc_build(&t, 1, 2, 500000, buf, 100), ==, 0);
  g_assert_cmpint(tm_twcc_next_deadline(&t), ==, INT64_MAX);
}

typedef struct {
  GArray *send, *arrival;
} Arrivals;

static void
note_arrival(void *user, const TmTwccSent *sent, int64_t arrival_us)
{
  Arrivals *a = user;
  g_assert_cmpuint(sent->bytes, ==, 1000);
  g_array_append_val(a->send, sent->send_us);
  g_array_append_val(a->arrival, arrival_us);
}

static const TmTwccFeedbackFns note_fns = { note_arrival, NULL };

/* The sending side: packets numbered across the 16-bit wrap, some lost on the way, reported by
 * the receiving side's own feedback: each arrival goes back to its send time, in order, within
 * the feedback's 250 µs resolution; the lost are counted; packets reported again across two
 * feedbacks (the second's reference time further on) keep one clock. */
static void
test_sender(void)
{
  static TmTwccSender s;
  static TmTwcc r;
  tm_twcc_sender_init(&s, 65500);
  tm_twcc_init(&r);
  Arrivals a = { g_array_new(FALSE, FALSE, sizeof(int64_t)),
                 g_array_new(FALSE, FALSE, sizeof(int64_t)) };
  int64_t now = 3 * 1000000, offset = 123456789; /* the receiver's clock is its own */
  guint lost = 0, lost_kind[TM_TWCC_KINDS] = { 0 }, sent_kind[TM_TWCC_KINDS] = { 0 };
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < 60; i++, now += 3000) {
      uint16_t seq = tm_twcc_sender_next(&s);
      TmTwccKind kind = (TmTwccKind) (i % TM_TWCC_KINDS);
      tm_twcc_sender_sent(&s, seq, 1000, kind, seq, now);
      sent_kind[kind]++;
      if (i % 17 == 3 || i % 17 == 4) {
        lost++;
        lost_kind[kind]++;
        continue;
      }
      tm_twcc_on_packet(&r, seq, now + offset + 20000 + (i % 4) * 1000);
    }
    now += 500000; /* the second round's reference time is later */
    uint8_t buf[TM_TWCC_MAX_FEEDBACK];
    size_t len = tm_twcc_build(&r, 1, 2, now + offset, buf, sizeof buf);
    g_assert_true(tm_twcc_parse(buf, len, &fb));
    tm_twcc_sender_on_feedback(&s, &fb, &note_fns, &a);
  }
  g_assert_cmpuint(s.feedback_in, ==, 2);
  g_assert_cmpuint(s.acked, ==, 120 - lost);
  g_assert_cmpuint(a.send->len, ==, 120 - lost);
  g_assert_cmpuint(s.lost, ==, lost);
  /* and by what they carried: sound, video, retransmissions */
  for (int k = 0; k < TM_TWCC_KINDS; k++) {
    g_assert_cmpuint(lost_kind[k], >, 0);
    g_assert_cmpuint(s.lost_kind[k], ==, lost_kind[k]);
    g_assert_cmpuint(s.acked_kind[k], ==, sent_kind[k] - lost_kind[k]);
  }
  int64_t first = g_array_index(a.arrival, int64_t, 0) - g_array_index(a.send, int64_t, 0);
  for (guint k = 0; k < a.send->len; k++) {
    int64_t send = g_array_index(a.send, int64_t, k);
    int64_t d = g_array_index(a.arrival, int64_t, k) - send;
    if (k > 0)
      g_assert_cmpint(send, >, g_array_index(a.send, int64_t, k - 1));
    g_assert_cmpint(llabs(d - first), <=, 3000 + 250); /* the 0..3 ms we added, rounded */
  }
  g_array_unref(a.send);
  g_array_unref(a.arrival);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/twcc/round-trip", test_round_trip);
  g_test_add_func("/twcc/split", test_split);
  g_test_add_func("/twcc/overrun", test_overrun);
  g_test_add_func("/twcc/parse-chunks", test_parse_chunks);
  g_test_add_func("/twcc/malformed", test_malformed);
  g_test_add_func("/twcc/sender", test_sender);
  return g_test_run();
}
