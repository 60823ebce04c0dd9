/* rtxstore.h — the last video packets of one published stream, kept once for all its receivers.
 *
 * A receiver's retransmission (its NACK answered) is the publisher's packet with that receiver's
 * header rewrite applied again: each receive connection keeps only, per packet it sent, the index
 * of the original here and its rewrite offsets. Reference-counted: a receiver keeps the store of
 * the stream it forwards while the publisher reconnects (a new stream, a new store). Not thread
 * safe: a store belongs to one hearing. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define TM_RTX_STORE_SLOTS 512 /* about 4 s of 1 Mbit/s video */

typedef struct _TmRtxStore TmRtxStore;

TmRtxStore *tm_rtx_store_new(void);
TmRtxStore *tm_rtx_store_ref(TmRtxStore *store);
void tm_rtx_store_unref(TmRtxStore *store);

/* Keeps a copy of BUF (a plaintext RTP packet of at most TM_RTP_MAX_PACKET bytes) in place of
 * the oldest; returns its index, which names it for as long as it is kept (never 0). Returns 0
 * and keeps nothing when LEN is too large. */
uint32_t tm_rtx_store_put(TmRtxStore *store, const uint8_t *buf, size_t len);
/* The packet kept as INDEX, or NULL once a newer one took its place (or INDEX is 0). */
const uint8_t *tm_rtx_store_get(const TmRtxStore *store, uint32_t index, size_t *len);
/* Bytes the store holds (memory accounting). */
size_t tm_rtx_store_bytes(const TmRtxStore *store);
