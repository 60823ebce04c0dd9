/* rtxstore.c — one published stream's recent packets, shared by its receivers. */
#include "rtxstore.h"

#include <glib.h>
#include <string.h>

#include "rtp.h"

typedef struct {
  uint32_t index; /* 0: empty */
  uint16_t len;
  uint8_t *data; /* TM_RTP_MAX_PACKET bytes, allocated on first use */
} Slot;

struct _TmRtxStore {
  grefcount ref;
  uint32_t next; /* index of the next packet kept */
  size_t bytes;
  Slot slots[TM_RTX_STORE_SLOTS];
};

TmRtxStore *
tm_rtx_store_new(void)
{
  TmRtxStore *s = g_new0(TmRtxStore, 1);
  g_ref_count_init(&s->ref);
  s->next = 1;
  return s;
}

TmRtxStore *
tm_rtx_store_ref(TmRtxStore *s)
{
  g_ref_count_inc(&s->ref);
  return s;
}

void
tm_rtx_store_unref(TmRtxStore *s)
{
  if (s == NULL || !g_ref_count_dec(&s->ref))
    return;
  for (int i = 0; i < TM_RTX_STORE_SLOTS; i++)
    g_free(s->slots[i].data);
  g_free(s);
}

uint32_t
tm_rtx_store_put(TmRtxStore *s, const uint8_t *buf, size_t len)
{
  if (len > TM_RTP_MAX_PACKET)
    return 0;
  uint32_t index = s->next++;
  if (s->next == 0) /* after 2^32 packets: 0 stays "none" */
    s->next = 1;
  Slot *slot = &s->slots[index % TM_RTX_STORE_SLOTS];
  if (slot->data == NULL) {
    slot->data = g_malloc(TM_RTP_MAX_PACKET);
    s->bytes += TM_RTP_MAX_PACKET;
  }
  memcpy(slot->data, buf, len);
  slot->len = (uint16_t) len;
  slot->index = index;
  return index;
}

const uint8_t *
tm_rtx_store_get(const TmRtxStore *s, uint32_t index, size_t *len)
{
  if (s == NULL || index == 0)
    return NULL;
  const Slot *slot = &s->slots[index % TM_RTX_STORE_SLOTS];
  if (slot->index != index)
    return NULL;
  *len = slot->len;
  return slot->data;
}

size_t
tm_rtx_store_bytes(const TmRtxStore *s)
{
  return s->bytes + sizeof *s;
}
