/* fuzz-twcc.c — transport-cc feedback, both ways. The input is:
 *
 *   - byte 0 selects: odd, the rest is one RTCP packet handed to the parser (which must not
 *     read past it, and must refuse or accept without crashing);
 *   - even, the rest is a stream of arrivals, 4 bytes each (sequence number, then the time since
 *     the previous arrival in 64 µs steps), noted by the receiver's side with feedback built
 *     whenever it is due; every packet built must parse, and report the (extended) sequence
 *     numbers in strictly increasing order (so each at most once), the arrivals that were
 *     noted (not late) within a quarter millisecond, the others as lost.
 *
 * Any broken property aborts. */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "twcc.h"
#include "util.h"

static void
check(gboolean ok)
{
  if (!ok)
    abort();
}

static TmTwcc twcc;
static TmTwccFeedback fb;

/* The arrivals noted, extended sequence number -> time: an open-addressing table in static
 * storage, emptied per input by its generation (no allocation: hash tables and their resizing
 * took most of the time under ASan). At most 4096 arrivals an input, in 16384 slots. */
#define NOTED_SLOTS 16384
static struct {
  uint64_t ext;
  int64_t at;
  uint32_t gen;
} noted[NOTED_SLOTS];
static uint32_t generation;
static uint64_t last_reported; /* reports come in strictly increasing order: each at most once */

static size_t
slot_of(uint64_t ext)
{
  size_t i = (size_t) ((ext * 0x9E3779B97F4A7C15u) >> 50) % NOTED_SLOTS;
  while (noted[i].gen == generation && noted[i].ext != ext)
    i = (i + 1) % NOTED_SLOTS;
  return i;
}

static void
build_due(int64_t now)
{
  for (int i = 0; i < 64 && tm_twcc_next_deadline(&twcc) <= now; i++) {
    uint8_t buf[TM_TWCC_MAX_FEEDBACK];
    size_t len = tm_twcc_build(&twcc, 1, 2, now, buf, sizeof buf);
    if (len == 0)
      return;
    check(len <= sizeof buf && len % 4 == 0);
    check(tm_twcc_parse(buf, len, &fb));
    for (unsigned k = 0; k < fb.count; k++) {
      /* what was reported lies within the window below the highest noted, after what was
       * reported before */
      uint64_t ext = tm_seq_extend(twcc.highest, (uint16_t) (fb.base + k));
      check(ext > last_reported);
      last_reported = ext;
      if (fb.received[k]) {
        int64_t at = (int64_t) fb.reference * 64000 + fb.arrival_us[k];
        size_t s = slot_of(ext);
        check(noted[s].gen == generation);
        check(at <= noted[s].at && at > noted[s].at - 250);
      }
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size == 0)
    return 0;
  if (data[0] & 1) {
    /* a copy of exactly the input, so reading past it is caught */
    uint8_t *copy = g_memdup2(data + 1, size - 1);
    (void) tm_twcc_parse(copy, size - 1, &fb);
    g_free(copy);
    return 0;
  }
  tm_twcc_init(&twcc);
  generation++; /* every slot is empty */
  last_reported = 0;
  int64_t now = 1000000;
  uint64_t seen = 0;
  for (size_t i = 1; i + 4 <= size && seen < 4096; i += 4, seen++) {
    uint16_t seq = (uint16_t) (data[i] << 8 | data[i + 1]);
    now += (int64_t) (data[i + 2] << 8 | data[i + 3]) * 64;
    build_due(now);
    uint64_t late = twcc.late;
    uint64_t ext = twcc.started ? tm_seq_extend(twcc.highest, seq) : (1u << 16) + seq;
    tm_twcc_on_packet(&twcc, seq, now);
    if (twcc.late == late) {
      size_t s = slot_of(ext);
      check(noted[s].gen != generation); /* a second arrival counts as late */
      noted[s].ext = ext;
      noted[s].at = now;
      noted[s].gen = generation;
    }
  }
  build_due(INT64_MAX / 2);
  return 0;
}
