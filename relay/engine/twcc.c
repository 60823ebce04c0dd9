/* twcc.c — transport-wide congestion control feedback: the receiving and the sending side. */
#include "twcc.h"

#include <glib.h>
#include <string.h>

#include "util.h"

#define DELTA_TICK_US 250       /* receive deltas count quarter milliseconds */
#define REFERENCE_TICK_US 64000 /* the reference time counts 64 ms */
#define STATUS_NONE 0           /* not received */
#define STATUS_SMALL 1          /* received, delta 0 .. 63.75 ms (one byte) */
#define STATUS_LARGE 2          /* received, delta negative or larger (two bytes, signed) */
#define SYMBOLS_PER_CHUNK 7     /* two-bit status vector chunk */
#define HEADER_LEN 20           /* RTCP header, two SSRCs, base, count, reference, fb count */

void
tm_twcc_init(TmTwcc *t)
{
  memset(t, 0, sizeof *t);
}

void
tm_twcc_on_packet(TmTwcc *t, uint16_t seq, int64_t now_us)
{
  if (!t->started) {
    t->started = true;
    t->base = t->highest = (1u << 16) + seq; /* room to go back */
  }
  uint64_t ext = tm_seq_extend(t->highest, seq);
  if (ext < t->base) {
    t->late++;
    return;
  }
  if (ext - t->base >= TM_TWCC_WINDOW) {
    /* Far ahead of what is unreported (feedback could not keep up): the oldest are given up. */
    uint64_t new_base = ext - TM_TWCC_WINDOW + 1;
    for (uint64_t s = t->base; s < new_base && s <= t->highest; s++)
      t->have[s % TM_TWCC_WINDOW] = false;
    t->base = new_base;
  }
  if (ext <= t->highest && t->have[ext % TM_TWCC_WINDOW]) {
    t->late++; /* a duplicate: the first arrival stands */
    return;
  }
  if (ext > t->highest)
    t->highest = ext;
  t->arrival_us[ext % TM_TWCC_WINDOW] = now_us;
  t->have[ext % TM_TWCC_WINDOW] = true;
  if (t->due_us == 0)
    t->due_us = now_us + TM_TWCC_INTERVAL_US;
}

int64_t
tm_twcc_next_deadline(const TmTwcc *t)
{
  return t->due_us != 0 ? t->due_us : INT64_MAX;
}

static int64_t
floor_div(int64_t a, int64_t b)
{
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

size_t
tm_twcc_build(TmTwcc *t, uint32_t sender_ssrc, uint32_t media_ssrc, int64_t now_us, uint8_t *out,
              size_t cap)
{
  if (t->due_us == 0 || !t->started || t->base > t->highest || cap < TM_TWCC_MAX_FEEDBACK) {
    t->due_us = 0;
    return 0;
  }
  /* The reference time: the first arrival reported, in 64 ms steps. */
  uint64_t first = t->base;
  while (!t->have[first % TM_TWCC_WINDOW])
    first++; /* highest was received, so this ends */
  int64_t reference = floor_div(t->arrival_us[first % TM_TWCC_WINDOW], REFERENCE_TICK_US);
  int64_t prev_us = reference * REFERENCE_TICK_US;

  uint8_t status[TM_TWCC_WINDOW];
  int16_t delta[TM_TWCC_WINDOW];
  size_t n = 0, delta_bytes = 0;
  for (uint64_t s = t->base; s <= t->highest; s++) {
    size_t chunks = (n + 1 + SYMBOLS_PER_CHUNK - 1) / SYMBOLS_PER_CHUNK;
    if (HEADER_LEN + 2 * chunks + delta_bytes + 2 + 3 > TM_TWCC_MAX_FEEDBACK)
      break;
    if (!t->have[s % TM_TWCC_WINDOW]) {
      status[n++] = STATUS_NONE;
      continue;
    }
    int64_t ticks = floor_div(t->arrival_us[s % TM_TWCC_WINDOW] - prev_us, DELTA_TICK_US);
    if (ticks < INT16_MIN || ticks > INT16_MAX)
      break; /* a gap of more than 8 s: the next feedback starts from there */
    status[n] = ticks >= 0 && ticks <= 255 ? STATUS_SMALL : STATUS_LARGE;
    delta[n] = (int16_t) ticks;
    delta_bytes += status[n] == STATUS_SMALL ? 1 : 2;
    prev_us += ticks * DELTA_TICK_US;
    n++;
  }
  size_t chunks = (n + SYMBOLS_PER_CHUNK - 1) / SYMBOLS_PER_CHUNK;
  size_t body = HEADER_LEN + 2 * chunks + delta_bytes;
  size_t padding = (4 - body % 4) % 4;
  size_t total = body + padding;

  TmWriter w;
  tm_writer_init(&w, out, cap);
  tm_writer_u8(&w, (uint8_t) (0x80 | (padding > 0 ? 0x20 : 0) | 15)); /* V=2, P, FMT=15 */
  tm_writer_u8(&w, 205);                                              /* RTPFB */
  tm_writer_u16(&w, (uint16_t) (total / 4 - 1));
  tm_writer_u32(&w, sender_ssrc);
  tm_writer_u32(&w, media_ssrc);
  tm_writer_u16(&w, (uint16_t) t->base);
  tm_writer_u16(&w, (uint16_t) n);
  tm_writer_u24(&w, (uint32_t) reference & 0xFFFFFF);
  tm_writer_u8(&w, t->fb_count++);
  for (size_t c = 0; c < chunks; c++) {
    uint16_t chunk = 0xC000; /* status vector, two-bit symbols */
    for (size_t k = 0; k < SYMBOLS_PER_CHUNK; k++) {
      size_t i = c * SYMBOLS_PER_CHUNK + k;
      chunk |= (uint16_t) ((i < n ? status[i] : STATUS_NONE) << (2 * (SYMBOLS_PER_CHUNK - 1 - k)));
    }
    tm_writer_u16(&w, chunk);
  }
  for (size_t i = 0; i < n; i++) {
    if (status[i] == STATUS_SMALL)
      tm_writer_u8(&w, (uint8_t) delta[i]);
    else if (status[i] == STATUS_LARGE)
      tm_writer_u16(&w, (uint16_t) delta[i]);
  }
  if (padding > 0) {
    tm_writer_zeros(&w, padding - 1);
    tm_writer_u8(&w, (uint8_t) padding);
  }
  if (w.err) {
    t->due_us = 0;
    return 0;
  }
  for (uint64_t s = t->base; s < t->base + n; s++)
    t->have[s % TM_TWCC_WINDOW] = false;
  t->base += n;
  t->due_us = t->base <= t->highest ? now_us : 0; /* the rest at once */
  return w.pos;
}

bool
tm_twcc_parse(const uint8_t *buf, size_t len, TmTwccFeedback *out)
{
  TmReader r;
  tm_reader_init(&r, buf, len);
  uint8_t b0 = tm_reader_u8(&r);
  uint8_t pt = tm_reader_u8(&r);
  size_t words = tm_reader_u16(&r);
  if (r.err || b0 >> 6 != 2 || (b0 & 0x1F) != 15 || pt != 205 || (words + 1) * 4 > len)
    return false;
  size_t end = (words + 1) * 4;
  if (end < HEADER_LEN)
    return false;
  if (b0 & 0x20) { /* padding: its last byte counts it */
    uint8_t pad = buf[end - 1];
    if (pad == 0 || pad > end - HEADER_LEN)
      return false;
    end -= pad;
  }
  tm_reader_init(&r, buf, end);
  tm_reader_skip(&r, 4);
  memset(out, 0, sizeof *out);
  out->sender_ssrc = tm_reader_u32(&r);
  out->media_ssrc = tm_reader_u32(&r);
  out->base = tm_reader_u16(&r);
  out->count = tm_reader_u16(&r);
  uint32_t ref = tm_reader_u24(&r);
  out->reference = (int32_t) (ref & 0x800000 ? ref | 0xFF000000u : ref);
  out->fb_count = tm_reader_u8(&r);
  if (r.err || out->count > TM_TWCC_MAX_PARSED)
    return false;
  uint8_t status[TM_TWCC_MAX_PARSED];
  size_t n = 0;
  while (n < out->count) {
    uint16_t chunk = tm_reader_u16(&r);
    if (r.err)
      return false;
    if (!(chunk & 0x8000)) { /* run length: a status, a count */
      uint8_t s = (chunk >> 13) & 3;
      size_t run = chunk & 0x1FFF;
      if (s == 3)
        return false;
      for (size_t k = 0; k < run && n < out->count; k++)
        status[n++] = s;
    } else if (!(chunk & 0x4000)) { /* status vector, one-bit symbols */
      for (int k = 13; k >= 0 && n < out->count; k--)
        status[n++] = (chunk >> k) & 1;
    } else { /* status vector, two-bit symbols */
      for (int k = 6; k >= 0 && n < out->count; k--) {
        uint8_t s = (chunk >> (2 * k)) & 3;
        if (s == 3)
          return false;
        status[n++] = s;
      }
    }
  }
  int64_t at = (int64_t) out->reference * REFERENCE_TICK_US;
  for (size_t i = 0; i < n; i++) {
    if (status[i] == STATUS_NONE)
      continue;
    int64_t d = status[i] == STATUS_SMALL ? tm_reader_u8(&r) : (int16_t) tm_reader_u16(&r);
    if (r.err)
      return false;
    at += d * DELTA_TICK_US;
    out->received[i] = true;
    out->arrival_us[i] = at - (int64_t) out->reference * REFERENCE_TICK_US;
  }
  return true;
}

/* ---- the sending side ---- */

void
tm_twcc_sender_init(TmTwccSender *s, uint16_t first_seq)
{
  memset(s, 0, sizeof *s);
  s->next_seq = first_seq;
}

uint16_t
tm_twcc_sender_next(TmTwccSender *s)
{
  return s->next_seq++;
}

void
tm_twcc_sender_sent(TmTwccSender *s, uint16_t seq, size_t bytes, TmTwccKind kind,
                    uint16_t media_seq, int64_t now_us)
{
  TmTwccSent *e = &s->sent[seq % TM_TWCC_SENT_SLOTS];
  e->send_us = MAX(now_us, 1);
  e->bytes = (uint32_t) MIN(bytes, (size_t) UINT32_MAX);
  e->seq = seq;
  e->media_seq = media_seq;
  e->kind = (uint8_t) (kind < TM_TWCC_KINDS ? kind : TM_TWCC_VIDEO);
}

/* The 24-bit reference time REF unwrapped against the previous one (it wraps after 12 days). */
static int64_t
unwrap_reference(TmTwccSender *s, int32_t ref)
{
  if (!s->have_reference) {
    s->have_reference = true;
    s->reference = ref;
    return ref;
  }
  uint32_t diff = (uint32_t) ref - (uint32_t) s->reference;
  int32_t d = (int32_t) (diff << 8) >> 8; /* the difference as 24-bit signed */
  s->reference += d;
  return s->reference;
}

/* What we remember of the packet numbered SEQ; NULL when it was sent too long ago, or never. */
static const TmTwccSent *
remembered(const TmTwccSender *s, uint16_t seq)
{
  const TmTwccSent *e = &s->sent[seq % TM_TWCC_SENT_SLOTS];
  return e->send_us != 0 && e->seq == seq ? e : NULL;
}

void
tm_twcc_sender_on_feedback(TmTwccSender *s, const TmTwccFeedback *fb, const TmTwccFeedbackFns *fns,
                           void *user)
{
  s->feedback_in++;
  int64_t base_us = unwrap_reference(s, fb->reference) * REFERENCE_TICK_US;
  int64_t newest_arrived_us = 0; /* the last sent of the packets that arrived */
  for (unsigned i = 0; i < fb->count; i++) {
    const TmTwccSent *e = remembered(s, (uint16_t) (fb->base + i));
    if (!fb->received[i]) {
      s->lost++;
      if (e != NULL)
        s->lost_kind[e->kind]++;
      continue;
    }
    s->acked++;
    if (e == NULL)
      continue;
    s->acked_kind[e->kind]++;
    newest_arrived_us = MAX(newest_arrived_us, e->send_us);
    fns->arrived(user, e, base_us + fb->arrival_us[i]);
  }
  if (fns->lost == NULL)
    return;
  for (unsigned i = 0; i < fb->count; i++) {
    const TmTwccSent *e = fb->received[i] ? NULL : remembered(s, (uint16_t) (fb->base + i));
    if (e != NULL && e->send_us + TM_TWCC_REORDER_US <= newest_arrived_us)
      fns->lost(user, e);
  }
}
