/* fuzz-twcc.c — transport-cc feedback, both ways. The input is:
 *
 *   - byte 0 selects: odd, the rest is one RTCP packet handed to the parser (which must not
 *     read past it, and must refuse or accept without crashing);
 *   - even, the rest is a stream of arrivals, 4 bytes each (sequence number, then the time since
 *     the previous arrival in 64 µs steps), noted by the receiver's side with feedback built
 *     whenever it is due; every packet built must parse, and report each (extended) sequence
 *     number at most once, the arrivals that were noted (not late) within a quarter
 *     millisecond, the others as lost.
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
/* Keys and values held in the pointers themselves (64-bit): no allocation per arrival, which
 * took most of the time under ASan. Extended numbers start at 65536 and times at 1 s: never 0. */
static GHashTable *noted;    /* extended sequence number -> arrival, µs */
static GHashTable *reported; /* extended sequence numbers reported */

#define KEY(x) ((gpointer) (guintptr) (x))
G_STATIC_ASSERT(sizeof(gpointer) >= sizeof(int64_t));

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
      /* what was reported lies within the window below the highest noted */
      uint64_t ext = tm_seq_extend(twcc.highest, (uint16_t) (fb.base + k));
      check(g_hash_table_add(reported, KEY(ext)));
      if (fb.received[k]) {
        int64_t at = (int64_t) fb.reference * 64000 + fb.arrival_us[k];
        int64_t when = (int64_t) (guintptr) g_hash_table_lookup(noted, KEY(ext));
        check(when != 0 && at <= when && at > when - 250);
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
  noted = g_hash_table_new(g_direct_hash, g_direct_equal);
  reported = g_hash_table_new(g_direct_hash, g_direct_equal);
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
      check(!g_hash_table_contains(noted, KEY(ext))); /* a second arrival counts as late */
      g_hash_table_insert(noted, KEY(ext), KEY(now));
    }
  }
  build_due(INT64_MAX / 2);
  g_hash_table_unref(noted);
  g_hash_table_unref(reported);
  return 0;
}
