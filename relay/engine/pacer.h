/* pacer.h — what the relay sends one receiver, spread out at a pace its link can take.
 *
 * A publisher's client sends a key frame (ten to twenty packets) in one burst across its own
 * fast link; the relay forwarding that burst at once into a receiver's slow link overflows the
 * link's queue (100 ms of 300 kbit/s holds under 4 KB), the key frame arrives broken, the
 * receiver asks for another, and its picture stays frozen. The pacer lets a packet go while the
 * receiver's budget is above zero (the budget fills at the pacing rate, up to a small burst;
 * a packet may take it below zero), and keeps the rest in order until it refills. Sound is
 * never held: it is small, and late sound is worse than late picture (tm_pacer_charge).
 *
 * Pure: time comes in as now_us; queued packets are copies, freed as they leave. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The queue holds at most this long at the pacing rate, and this many packets: more means the
 * receiver's link cannot take what its sender sends (the REMB has not reached it yet); the
 * newest packet is then dropped, as the link's own full queue would. */
#define TM_PACER_MAX_QUEUE_US 1000000
#define TM_PACER_MAX_PACKETS 512
#define TM_PACER_BURST_US 10000   /* the budget fills at most to this much of the rate ... */
#define TM_PACER_BURST_MIN 2500.0 /* ... or these many bytes (two packets), the larger */

typedef struct {
  double rate_bps; /* 0: not pacing, everything goes at once */
  double budget;   /* bytes; below zero after a packet larger than what was left */
  int64_t budget_us;
  GQueue queue; /* PacedPacket, oldest first */
  size_t queued_bytes;
  uint64_t delayed; /* packets that waited in the queue */
  uint64_t dropped; /* packets the queue had no room for */
} TmPacer;

void tm_pacer_init(TmPacer *p, int64_t now_us);
/* Frees what is still queued. */
void tm_pacer_clear(TmPacer *p);
/* The pacing rate from now on; 0 sends everything at once (what is queued then goes at the
 * next tm_pacer_pop). */
void tm_pacer_set_rate(TmPacer *p, double bps, int64_t now_us);
/* A packet of LEN bytes may go now (nothing queued ahead of it, budget left): charges it and
 * returns true; otherwise false, and the caller queues it with tm_pacer_push. */
bool tm_pacer_may_send(TmPacer *p, size_t len, int64_t now_us);
/* Charges LEN bytes sent past the queue (sound). */
void tm_pacer_charge(TmPacer *p, size_t len, int64_t now_us);
/* Queues a copy of BUF (LEN bytes) with TAG (the caller's: which stream). False, and counted
 * as dropped, when the queue is full. */
bool tm_pacer_push(TmPacer *p, const uint8_t *buf, size_t len, int tag);
/* The oldest queued packet when it may go at NOW_US: copies it into OUT (CAP bytes), sets *LEN
 * and *TAG, charges it, and returns true. False when none is due. */
bool tm_pacer_pop(TmPacer *p, int64_t now_us, uint8_t *out, size_t cap, size_t *len, int *tag);
/* When the oldest queued packet may go, or INT64_MAX when nothing is queued. */
int64_t tm_pacer_next_deadline(const TmPacer *p);
