/* checkpoint.h — signed checkpoints of a recording being written (docs/recording-format.md).
 *
 * After every chunk it writes, the recorder appends to `checkpoints.bin` a fixed-size record
 * that states how far the recording and its events journal had got, signed with the relay's
 * evidence key. After a crash the relay finishes a recording only up to the last checkpoint that
 * verifies against its own key *and* matches the data on disk, so nothing it signs then rests on
 * bytes it did not authenticate as it wrote them.
 *
 * Record (TM_CHECKPOINT_SIZE bytes, integers big-endian):
 *   0   4  magic "TMCP"
 *   4   4  u32 chunks: chunks in the recording at this point
 *   8   8  u64 data bytes: header + those chunks
 *   16 32  chain head: hash of the last of those chunks (the header's hash H0 when none)
 *   48  8  u64 journal bytes: length of events.bin at this point
 *   56 32  SHA-256 of those journal bytes
 *   88  8  i64 time (UTC µs) when it was written
 *   96 64  Ed25519 signature of "testimony-checkpoint-v1" 0x00 ‖ H0 ‖ bytes 0..96
 * Pure: signing and verifying are the caller's. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TM_CHECKPOINT_SIZE 160
#define TM_CHECKPOINT_BODY 96
#define TM_CHECKPOINT_SIG_LEN 64
#define TM_CHECKPOINT_HASH_LEN 32
/* "testimony-checkpoint-v1\0" + H0 + body */
#define TM_CHECKPOINT_SIGNED_LEN (24 + TM_CHECKPOINT_HASH_LEN + TM_CHECKPOINT_BODY)

typedef struct {
  uint32_t chunks;
  uint64_t data_bytes;
  uint8_t chain_head[TM_CHECKPOINT_HASH_LEN];
  uint64_t journal_bytes;
  uint8_t journal_sha256[TM_CHECKPOINT_HASH_LEN];
  int64_t time_us;
  uint8_t signature[TM_CHECKPOINT_SIG_LEN];
} TmCheckpoint;

void tm_checkpoint_serialize(const TmCheckpoint *cp, uint8_t out[TM_CHECKPOINT_SIZE]);
/* FALSE when LEN is short or the magic is wrong. */
bool tm_checkpoint_parse(const uint8_t *in, size_t len, TmCheckpoint *out);
/* The bytes the signature covers, for the recording whose header hash is HEADER_HASH. */
void tm_checkpoint_signed_bytes(const TmCheckpoint *cp,
                                const uint8_t header_hash[TM_CHECKPOINT_HASH_LEN],
                                uint8_t out[TM_CHECKPOINT_SIGNED_LEN]);
