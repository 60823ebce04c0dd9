/* fuzz-rtcp.c — RTCP parsing. The input is one (compound) datagram, iterated to the end:
 *
 *   - the iterator always moves forward and ends; after an error it is done;
 *   - every packet of a kind we write serializes into exactly tm_rtcp_serialized_size bytes
 *     (one byte less is a buffer error), and those bytes parse as one packet with the same
 *     fields, which serializes to the same bytes again;
 *   - a NACK item expands to 1..17 sequence numbers starting at its PID.
 *
 * Any broken property aborts. */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtcp.h"

static void
check(gboolean ok)
{
  if (!ok)
    abort();
}

/* Every field we read. The count is the header's RC/SC/FMT field, which for SDES and BYE we
 * write as 1 whatever was read (we keep one chunk, one SSRC). */
static gboolean
packets_equal(const TmRtcpPacket *a, const TmRtcpPacket *b)
{
  gboolean count_kept = a->kind != TM_RTCP_KIND_SDES && a->kind != TM_RTCP_KIND_BYE;
  if (a->kind != b->kind || a->pt != b->pt || (count_kept && a->count != b->count) ||
      a->sender_ssrc != b->sender_ssrc || a->media_ssrc != b->media_ssrc || a->ntp != b->ntp ||
      a->rtp_ts != b->rtp_ts || a->packet_count != b->packet_count ||
      a->octet_count != b->octet_count || a->n_blocks != b->n_blocks || a->n_nacks != b->n_nacks ||
      a->n_firs != b->n_firs || a->remb_bitrate != b->remb_bitrate ||
      a->n_remb_ssrcs != b->n_remb_ssrcs || strcmp(a->cname, b->cname) != 0)
    return FALSE;
  for (unsigned i = 0; i < a->n_blocks; i++) {
    const TmRtcpReportBlock *x = &a->blocks[i], *y = &b->blocks[i];
    if (x->ssrc != y->ssrc || x->fraction_lost != y->fraction_lost ||
        x->cumulative_lost != y->cumulative_lost || x->highest_seq != y->highest_seq ||
        x->jitter != y->jitter || x->lsr != y->lsr || x->dlsr != y->dlsr)
      return FALSE;
  }
  for (unsigned i = 0; i < a->n_nacks; i++)
    if (a->nacks[i].pid != b->nacks[i].pid || a->nacks[i].blp != b->nacks[i].blp)
      return FALSE;
  for (unsigned i = 0; i < a->n_firs; i++)
    if (a->firs[i].ssrc != b->firs[i].ssrc || a->firs[i].seq != b->firs[i].seq)
      return FALSE;
  for (unsigned i = 0; i < a->n_remb_ssrcs; i++)
    if (a->remb_ssrcs[i] != b->remb_ssrcs[i])
      return FALSE;
  return TRUE;
}

/* Invariants of any packet the iterator gives back as OK. */
static void
check_packet(const TmRtcpPacket *p)
{
  check(p->n_blocks <= TM_RTCP_MAX_BLOCKS && p->n_nacks <= TM_RTCP_MAX_NACK &&
        p->n_firs <= TM_RTCP_MAX_FIR && p->n_remb_ssrcs <= TM_RTCP_MAX_REMB_SSRC);
  check(memchr(p->cname, '\0', sizeof p->cname) != NULL);
  check(p->pt != TM_RTCP_SR && p->pt != TM_RTCP_RR ? p->n_blocks == 0 : p->n_blocks == p->count);
  for (unsigned i = 0; i < p->n_blocks; i++)
    check(p->blocks[i].cumulative_lost >= -8388608 && p->blocks[i].cumulative_lost <= 8388607);
  for (unsigned i = 0; i < p->n_nacks; i++) {
    uint16_t seqs[17];
    unsigned n = tm_rtcp_nack_expand(&p->nacks[i], seqs);
    check(n >= 1 && n <= 17 && seqs[0] == p->nacks[i].pid);
    for (unsigned k = 1; k < n; k++)
      check((uint16_t) (seqs[k] - seqs[0]) >= 1 && (uint16_t) (seqs[k] - seqs[0]) <= 16 &&
            (uint16_t) (seqs[k] - seqs[k - 1]) >= 1);
  }
}

/* P serializes, parses back to itself, and serializes to the same bytes. */
static void
check_round_trip(const TmRtcpPacket *p)
{
  size_t size = tm_rtcp_serialized_size(p);
  check(size >= 8 && size % 4 == 0);
  g_autofree uint8_t *out = g_malloc(size);
  TmRtcpError err = TM_RTCP_OK;
  check(tm_rtcp_serialize(p, out, size - 1, &err) == 0 && err == TM_RTCP_ERR_BUFFER);
  check(tm_rtcp_serialize(p, out, size, &err) == size && err == TM_RTCP_OK);
  check(((size_t) out[2] << 8 | out[3]) * 4 + 4 == size);

  TmRtcpIter it;
  TmRtcpPacket q;
  bool done = true;
  tm_rtcp_iter_init(&it, out, size);
  check(tm_rtcp_iter_next(&it, &q, &done) == TM_RTCP_OK && !done);
  check(packets_equal(p, &q));
  TmRtcpPacket rest;
  check(tm_rtcp_iter_next(&it, &rest, &done) == TM_RTCP_OK && done);

  g_autofree uint8_t *again = g_malloc(size);
  check(tm_rtcp_serialize(&q, again, size, &err) == size && err == TM_RTCP_OK);
  check(memcmp(out, again, size) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  TmRtcpIter it;
  tm_rtcp_iter_init(&it, data, size);
  TmRtcpPacket packet, *p = &packet;
  for (size_t steps = 0;; steps++) {
    check(steps <= size / 4 + 1);
    size_t before = it.pos;
    bool done = false;
    TmRtcpError err = tm_rtcp_iter_next(&it, p, &done);
    check((unsigned) err < TM_RTCP_ERR_COUNT && tm_rtcp_strerror(err) != NULL);
    if (done) {
      check(err == TM_RTCP_OK && before >= size);
      break;
    }
    check(it.pos > before && it.pos <= size);
    if (err != TM_RTCP_OK) {
      check(it.pos == size); /* the rest of the datagram is dropped */
      continue;
    }
    check((it.pos - before) % 4 == 0);
    check_packet(p);
    if (p->kind != TM_RTCP_KIND_OTHER)
      check_round_trip(p);
  }
  return 0;
}
