/* test-checkpoint.c — the recording checkpoint record: round trip, and what its signature
 * covers (every field and the recording it belongs to). */
#include <glib.h>
#include <string.h>

#include "checkpoint.h"

static TmCheckpoint
sample(void)
{
  TmCheckpoint cp = {
    .chunks = 19,
    .data_bytes = 123456789012ull,
    .journal_bytes = 288,
    .time_us = -5,
  };
  for (int i = 0; i < TM_CHECKPOINT_HASH_LEN; i++) {
    cp.chain_head[i] = (uint8_t) i;
    cp.journal_sha256[i] = (uint8_t) (0xff - i);
  }
  memset(cp.signature, 0xab, sizeof cp.signature);
  return cp;
}

static void
test_round_trip(void)
{
  TmCheckpoint cp = sample(), back;
  uint8_t bytes[TM_CHECKPOINT_SIZE], again[TM_CHECKPOINT_SIZE];
  tm_checkpoint_serialize(&cp, bytes);
  g_assert_cmpmem(bytes, 4, "TMCP", 4);
  g_assert_true(tm_checkpoint_parse(bytes, sizeof bytes, &back));
  tm_checkpoint_serialize(&back, again);
  g_assert_cmpmem(bytes, sizeof bytes, again, sizeof again);
  g_assert_cmpuint(back.data_bytes, ==, cp.data_bytes);
  g_assert_cmpint(back.time_us, ==, -5);
  g_assert_false(tm_checkpoint_parse(bytes, sizeof bytes - 1, &back));
  bytes[0] = 'X';
  g_assert_false(tm_checkpoint_parse(bytes, sizeof bytes, &back));
}

static void
test_signed_bytes(void)
{
  uint8_t h0[TM_CHECKPOINT_HASH_LEN] = { 1 }, other[TM_CHECKPOINT_HASH_LEN] = { 2 };
  TmCheckpoint cp = sample();
  uint8_t a[TM_CHECKPOINT_SIGNED_LEN], b[TM_CHECKPOINT_SIGNED_LEN];
  tm_checkpoint_signed_bytes(&cp, h0, a);
  g_assert_cmpmem(a, 24, "testimony-checkpoint-v1", 24);
  tm_checkpoint_signed_bytes(&cp, other, b);
  g_assert_true(memcmp(a, b, sizeof a) != 0); /* bound to its recording */
  cp.signature[0] ^= 1;
  tm_checkpoint_signed_bytes(&cp, h0, b);
  g_assert_cmpmem(a, sizeof a, b, sizeof b); /* the signature is not signed */
  TmCheckpoint changes[4] = { sample(), sample(), sample(), sample() };
  changes[0].chunks++;
  changes[1].chain_head[31] ^= 1;
  changes[2].journal_bytes--;
  changes[3].journal_sha256[0] ^= 1;
  for (int i = 0; i < 4; i++) {
    tm_checkpoint_signed_bytes(&changes[i], h0, b);
    g_assert_true(memcmp(a, b, sizeof a) != 0);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/checkpoint/round-trip", test_round_trip);
  g_test_add_func("/checkpoint/signed-bytes", test_signed_bytes);
  return g_test_run();
}
