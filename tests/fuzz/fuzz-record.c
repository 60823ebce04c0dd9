/* fuzz-record.c — the recording reader. The input is a recording file (or any bytes):
 *
 *   - the verifier never crashes, and its result is consistent: good bytes + tail = input,
 *     chunks counted are those that parse, hash and chain, and verifying only the good bytes
 *     gives the same chunks and last hash with status OK;
 *   - every record of every good (unencrypted) chunk parses within its chunk or the walk stops
 *     with an error, and a record that parses serializes to exactly its own bytes;
 *   - an encrypted recording's chunks fail to open with a key derived from the wrong private key
 *     (never crash).
 *
 * Any broken property aborts. */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

static void
check(gboolean ok)
{
  if (!ok)
    abort();
}

static void
walk_records(const uint8_t *plain, size_t len)
{
  TmReader r;
  tm_reader_init(&r, plain, len);
  while (tm_reader_remaining(&r) > 0) {
    size_t start = r.pos;
    TmRecordEntry e;
    if (tm_record_entry_parse(&r, &e) != TM_RECORD_OK)
      return;
    size_t size = r.pos - start;
    check(size == tm_record_entry_serialized_size(&e));
    uint8_t *buf = g_malloc(size);
    TmWriter w;
    tm_writer_init(&w, buf, size);
    check(tm_record_entry_serialize(&e, &w) == TM_RECORD_OK && w.pos == size);
    check(memcmp(buf, plain + start, size) == 0);
    g_free(buf);
  }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  TmRecordVerifyResult res;
  tm_record_verify(data, size, UINT32_MAX, &res);
  check(res.good_bytes + res.tail_bytes == size);
  if (res.status == TM_RECORD_VERIFY_BAD_HEADER)
    return 0;
  check(res.good_bytes >= res.header.size);
  check((res.status == TM_RECORD_VERIFY_OK) == (res.tail_bytes == 0));
  TmRecordVerifyResult again;
  tm_record_verify(data, res.good_bytes, UINT32_MAX, &again);
  check(again.status == TM_RECORD_VERIFY_OK && again.chunks == res.chunks);
  check(memcmp(again.last_hash, res.last_hash, TM_RECORD_HASH_LEN) == 0);

  TmRecordKey key;
  static const uint8_t wrong[32] = { 1, 2, 3 };
  TmRecordError kerr = tm_record_key_init(&key, &res.header, res.header.encrypted ? wrong : NULL);
  GByteArray *scratch = g_byte_array_new();
  size_t pos = res.header.size;
  for (uint32_t i = 0; i < res.chunks; i++) {
    TmRecordChunk c;
    check(tm_record_chunk_parse(data + pos, size - pos, &c) == TM_RECORD_OK);
    check(c.index == i && tm_record_chunk_hash_ok(&c));
    if (kerr == TM_RECORD_OK) {
      const uint8_t *plain;
      size_t plain_len;
      if (tm_record_chunk_open(&key, &c, scratch, &plain, &plain_len) == TM_RECORD_OK)
        walk_records(plain, plain_len);
    }
    pos += c.size;
  }
  check(pos == res.good_bytes);
  g_byte_array_unref(scratch);
  return 0;
}
