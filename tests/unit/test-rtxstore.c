/* test-rtxstore.c — the store of a published stream's recent video: what is kept is returned
 * byte for byte by its index until 512 newer packets take its place; indexes are never 0;
 * an oversized packet is refused; a receiver's reference keeps the store after the publisher's. */
#include <glib.h>
#include <string.h>

#include "rtp.h"
#include "rtxstore.h"

static void
test_put_get(void)
{
  TmRtxStore *s = tm_rtx_store_new();
  uint8_t pkt[100];
  uint32_t first = 0, index = 0;
  for (int i = 0; i < TM_RTX_STORE_SLOTS + 10; i++) {
    memset(pkt, i & 0xff, sizeof pkt);
    index = tm_rtx_store_put(s, pkt, 20 + (size_t) (i % 80));
    g_assert_cmpuint(index, !=, 0);
    if (i == 0)
      first = index;
  }
  size_t len = 0;
  g_assert_null(tm_rtx_store_get(s, first, &len)); /* overwritten */
  g_assert_null(tm_rtx_store_get(s, 0, &len));
  g_assert_null(tm_rtx_store_get(s, index + 1, &len)); /* not yet */
  const uint8_t *got = tm_rtx_store_get(s, index, &len);
  g_assert_nonnull(got);
  int last = TM_RTX_STORE_SLOTS + 9;
  g_assert_cmpuint(len, ==, 20 + (size_t) (last % 80));
  for (size_t i = 0; i < len; i++)
    g_assert_cmpuint(got[i], ==, (uint8_t) last);
  /* The oldest still kept is TM_RTX_STORE_SLOTS - 1 before the newest. */
  g_assert_nonnull(tm_rtx_store_get(s, index - (TM_RTX_STORE_SLOTS - 1), &len));
  g_assert_null(tm_rtx_store_get(s, index - TM_RTX_STORE_SLOTS, &len));
  /* Memory: one packet buffer per slot, however many receivers. */
  g_assert_cmpuint(tm_rtx_store_bytes(s), <,
                   (size_t) TM_RTX_STORE_SLOTS * TM_RTP_MAX_PACKET + 16384);
  tm_rtx_store_unref(s);
}

static void
test_oversized(void)
{
  TmRtxStore *s = tm_rtx_store_new();
  static uint8_t big[TM_RTP_MAX_PACKET + 1];
  g_assert_cmpuint(tm_rtx_store_put(s, big, sizeof big), ==, 0);
  g_assert_cmpuint(tm_rtx_store_put(s, big, TM_RTP_MAX_PACKET), !=, 0);
  tm_rtx_store_unref(s);
}

static void
test_references(void)
{
  TmRtxStore *s = tm_rtx_store_new();
  static const uint8_t pkt[] = { 0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0xB, 0x10 };
  uint32_t index = tm_rtx_store_put(s, pkt, sizeof pkt);
  TmRtxStore *receiver = tm_rtx_store_ref(s);
  tm_rtx_store_unref(s); /* the publisher left */
  size_t len = 0;
  const uint8_t *got = tm_rtx_store_get(receiver, index, &len);
  g_assert_nonnull(got);
  g_assert_cmpmem(got, len, pkt, sizeof pkt);
  tm_rtx_store_unref(receiver);
  tm_rtx_store_unref(NULL);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/rtxstore/put-get", test_put_get);
  g_test_add_func("/rtxstore/oversized", test_oversized);
  g_test_add_func("/rtxstore/references", test_references);
  return g_test_run();
}
