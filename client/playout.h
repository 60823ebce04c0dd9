/* playout.h — how long a subscription's jitter buffers wait for late and repaired packets.
 *
 * A packet lost on the way is asked for again (NACK) and comes back a round trip or more later:
 * on the witness's far link from the witness's own jitter buffer, or, for a lost packet of the
 * witness's stream, from the relay after it got the packet back from the witness. A jitter
 * buffer that gives up before then drops the frame, and the picture freezes until the next key
 * frame. The controller watches the feed's packets that came after their jitter buffer gave up
 * on them ("late") and lengthens the wait by a step for each it sees, at most two steps a
 * second, up to a limit (the judge's jitter buffer, waiting for what the witness's far link
 * loses, went from 200 ms to 800 ms in 15 s at one step a second, with a freeze at nearly
 * every late packet on the way; a longer wait delays the sound as much at once: with three
 * steps the witness's sound at the judge had 2-3 holes over 200 ms a minute, none before);
 * after a quiet spell it shortens it again step by step, so a link that got better does not
 * keep the delay.
 *
 * While packets are being asked for again, the wait is at least long enough for three tries:
 * three of the jitter buffer's own retransmission round trips, plus what the relay needs to get
 * a packet back from the feed's publisher over the publisher's link (its round trip and two of
 * its waits between requests, which the relay tells in its `repair` message). A wait that rose
 * above that (late packets, the first seconds) comes down after a quiet spell only as far as a
 * fourth try of its own: at 10 % bursty loss about one packet in a hundred needs one, and in
 * benchmark runs the witness's picture of the judge froze soon after its wait had come down to
 * three tries (850 ms) while the repairs went on. Without the
 * latter a jitter buffer next to the relay (the judge's, 1 ms away) knew only its own round trip
 * and rose to the 800 ms the witness's far link needs one late packet at a time, freezing at
 * each on the way: most of the freezes at 10 % bursty loss came in those first 20-40 s.
 * Pure: the time comes in as a parameter. */
#pragma once

#include <glib.h>

#define TM_PLAYOUT_MIN_MS 200 /* webrtcbin's own default */
#define TM_PLAYOUT_MAX_MS 1000
#define TM_PLAYOUT_RAISE_MS 100     /* for each late packet ... */
#define TM_PLAYOUT_RAISE_MAX_MS 200 /* ... and at most this much a second */
#define TM_PLAYOUT_LOWER_MS 50
#define TM_PLAYOUT_QUIET_US (30 * G_USEC_PER_SEC) /* no late packet for this long: lower */
#define TM_PLAYOUT_LOWER_EVERY_US (10 * G_USEC_PER_SEC)
#define TM_PLAYOUT_RTX_TRIES 3
#define TM_PLAYOUT_RTX_MARGIN_MS 50
/* A feed's first seconds count as a time of repairs, with a fourth try: the wait they need is
 * set as soon as the round trips are known, before the first picture, rather than by a pause at
 * the first repair (on a lossy link that comes in the first second; a rise from 200 ms to
 * 800 ms then was a freeze and a sound gap in most runs; with three tries, the first
 * retransmission round trips a far client's jitter buffers measured, 300-700 ms, still raised
 * the witness's wait from 750 ms to 1 s in its first seconds, a sound gap as long). A clean far
 * link brings it down after the quiet spell. */
#define TM_PLAYOUT_START_US (10 * G_USEC_PER_SEC)

typedef struct {
  guint latency_ms;
  guint64 late, rtx; /* the late packets and retransmission requests counted so far */
  gint64 start_us, last_late_us, last_rtx_us, last_change_us;
} TmPlayout;

/* What the relay's `repair` message tells for one feed (docs/protocol.md; 0: not told). */
typedef struct {
  /* this client's own round trip to the relay, which stands for the jitter buffers' own
   * retransmission round trip until they measured one */
  guint own_rtt_ms;
  /* of the feed's publisher: its round trip to the relay, the relay's wait between its requests
   * to it, and the longest one of its lost packets took lately to come back to the relay */
  guint rtt_ms, retry_ms, repair_ms;
} TmRepair;

/* What the feed's jitter buffers counted so far (their `stats`), summed; RTX_RTT_MS is the
 * largest of their retransmission round trips, 0 while none was measured. The counts may start
 * again from 0 when a jitter buffer is replaced. */
typedef struct {
  guint64 late, rtx_requests;
  guint rtx_rtt_ms;
  TmRepair repair;
} TmPlayoutStats;

/* How long the feed's video jitter buffers wait for a retransmission before asking again
 * (rtpjitterbuffer's rtx-retry-timeout), from the relay's measure of this client's round trip
 * (STATS->repair.own_rtt_ms): a quarter more and 20 ms, at least 40 ms; 0 while not known (the
 * jitter buffers' own choice). rtpjitterbuffer's own choice is its measured retransmission
 * round trip and twice the jitter, and it asks again only while that leaves the last answer
 * time within its wait: at a subscription's start, across a 200 ms round trip, it measured
 * 500-650 ms (a packet asked for every 40 ms until then, the answer taken as the first
 * request's), and for the next 5-10 s each lost packet got one try where three fit, which was
 * most of a far witness's freezes of the judge's picture in benchmark runs at 10 % bursty loss. */
#define TM_PLAYOUT_RETRY_MIN_MS 40
guint tm_playout_retry_ms(const TmPlayoutStats *stats);

void tm_playout_init(TmPlayout *p, gint64 now_us);
/* Once a second or so. Returns TRUE when latency_ms changed. */
gboolean tm_playout_update(TmPlayout *p, const TmPlayoutStats *stats, gint64 now_us);
