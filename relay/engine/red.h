/* red.h — redundant audio (RFC 2198), as browsers send Opus with it ("red/48000/2", fmtp "P/P").
 *
 * A RED payload carries the primary encoding of its packet and, before it, earlier encodings of
 * the same stream (redundant blocks), each with its payload type, its timestamp's distance back
 * from the packet's, and its length. The relay takes RED from a publisher apart (the primary,
 * and an earlier packet that did not arrive), and puts RED together for a receiver that
 * negotiated it (docs/poor-networks.md, "Redundant sound"). Pure: views into the caller's
 * buffers, nothing allocated. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Blocks in one RED payload that the relay reads (redundant ones and the primary); a payload
 * with more is refused. Chromium sends one redundant block and reads up to 32. */
#define TM_RED_MAX_BLOCKS 16
#define TM_RED_MAX_TS_OFFSET 0x3fff /* 14 bits */
#define TM_RED_MAX_BLOCK_LEN 0x3ff  /* 10 bits */

typedef struct {
  uint8_t pt;
  uint32_t ts_offset; /* the packet's timestamp minus this block's; 0 for the primary */
  const uint8_t *data;
  size_t len;
} TmRedBlock;

/* Reads the RED payload PAYLOAD (LEN bytes) into BLOCKS (at most MAX): the redundant blocks in
 * the order written (oldest first, as RFC 2198 says they should be), then the primary, whose
 * data is the rest of the payload. Returns the number of blocks (at least 1: the primary), or
 * 0 when the payload is malformed: cut off in a header, block lengths beyond the payload, more
 * blocks than MAX. */
size_t tm_red_parse(const uint8_t *payload, size_t len, TmRedBlock *blocks, size_t max);

/* Writes into OUT (CAP bytes) a RED payload of the N blocks REDUNDANT (oldest first; each
 * ts_offset at most TM_RED_MAX_TS_OFFSET and len at most TM_RED_MAX_BLOCK_LEN) and the primary
 * PRIMARY (its ts_offset is ignored). Returns the length, or 0 when CAP is too small or a
 * redundant block does not fit its header's fields. */
size_t tm_red_build(const TmRedBlock *redundant, size_t n, const TmRedBlock *primary, uint8_t *out,
                    size_t cap);
