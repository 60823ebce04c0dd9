/* checkpoint.c — the recording checkpoint record. */
#include "checkpoint.h"

#include <string.h>

#include "util.h"

static void
put_u64(TmWriter *w, uint64_t v)
{
  tm_writer_u32(w, (uint32_t) (v >> 32));
  tm_writer_u32(w, (uint32_t) v);
}

static uint64_t
get_u64(TmReader *r)
{
  uint64_t hi = tm_reader_u32(r);
  return hi << 32 | tm_reader_u32(r);
}

static void
get_bytes(TmReader *r, uint8_t *out, size_t n)
{
  const uint8_t *p = tm_reader_bytes(r, n);
  if (p != NULL)
    memcpy(out, p, n);
}

static const uint8_t magic[4] = { 'T', 'M', 'C', 'P' };
static const char domain[24] = "testimony-checkpoint-v1"; /* with its terminating zero */

void
tm_checkpoint_serialize(const TmCheckpoint *cp, uint8_t out[TM_CHECKPOINT_SIZE])
{
  TmWriter w;
  tm_writer_init(&w, out, TM_CHECKPOINT_SIZE);
  tm_writer_bytes(&w, magic, sizeof magic);
  tm_writer_u32(&w, cp->chunks);
  put_u64(&w, cp->data_bytes);
  tm_writer_bytes(&w, cp->chain_head, TM_CHECKPOINT_HASH_LEN);
  put_u64(&w, cp->journal_bytes);
  tm_writer_bytes(&w, cp->journal_sha256, TM_CHECKPOINT_HASH_LEN);
  put_u64(&w, (uint64_t) cp->time_us);
  tm_writer_bytes(&w, cp->signature, TM_CHECKPOINT_SIG_LEN);
}

bool
tm_checkpoint_parse(const uint8_t *in, size_t len, TmCheckpoint *out)
{
  if (len < TM_CHECKPOINT_SIZE || memcmp(in, magic, sizeof magic) != 0)
    return false;
  TmReader r;
  tm_reader_init(&r, in + sizeof magic, TM_CHECKPOINT_SIZE - sizeof magic);
  out->chunks = tm_reader_u32(&r);
  out->data_bytes = get_u64(&r);
  get_bytes(&r, out->chain_head, TM_CHECKPOINT_HASH_LEN);
  out->journal_bytes = get_u64(&r);
  get_bytes(&r, out->journal_sha256, TM_CHECKPOINT_HASH_LEN);
  out->time_us = (int64_t) get_u64(&r);
  get_bytes(&r, out->signature, TM_CHECKPOINT_SIG_LEN);
  return !r.err;
}

void
tm_checkpoint_signed_bytes(const TmCheckpoint *cp,
                           const uint8_t header_hash[TM_CHECKPOINT_HASH_LEN],
                           uint8_t out[TM_CHECKPOINT_SIGNED_LEN])
{
  uint8_t record[TM_CHECKPOINT_SIZE];
  tm_checkpoint_serialize(cp, record);
  memcpy(out, domain, sizeof domain);
  memcpy(out + sizeof domain, header_hash, TM_CHECKPOINT_HASH_LEN);
  memcpy(out + sizeof domain + TM_CHECKPOINT_HASH_LEN, record, TM_CHECKPOINT_BODY);
}
