/* metrics.h — the relay's running totals for monitoring (docs/operations.md, "Health and
 * metrics"): packets and bytes forwarded and dropped, NACKs, retransmissions, join failures,
 * participants by role and state, and summaries of round-trip time and loss.
 *
 * Aggregates only: nothing here names a participant, a hearing, a token or an address. A hearing
 * adds what its connections counted (those closed and those open) with tm_hearing_add_metrics();
 * the shell adds what it counts itself (join failures, recorded bytes) and renders the whole in
 * Prometheus's text format with tm_metrics_render(). Pure: no clock, no I/O. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "peer.h"
#include "role.h"
#include "wire-error.h"

/* Why a packet was not forwarded (the drop_* counters of TmPeerStats). */
typedef enum {
  TM_DROP_SRTP,             /* failed SRTP authentication or replay check */
  TM_DROP_MALFORMED,        /* not parseable RTP/RTCP */
  TM_DROP_UNKNOWN_PT,       /* a payload type the connection did not negotiate */
  TM_DROP_NOT_READY,        /* before DTLS-SRTP was keyed */
  TM_DROP_RATE_LIMITED,     /* retransmission replies over the limit */
  TM_DROP_WAITING_KEYFRAME, /* video held back until a key frame */
  TM_DROP_POLICY,           /* the receiver may not have that track now */
  TM_DROP_NOT_SHOWN,        /* video the receiver does not show (display message) */
  TM_DROP_CONGESTED,        /* video held back while the receiver's link is full */
  TM_DROP_COUNT
} TmDropReason;

/* How a participant is: waiting to be admitted, admitted and connected, or admitted with its
 * link down (keeping its place). */
typedef enum {
  TM_PRESENCE_WAITING,
  TM_PRESENCE_ADMITTED,
  TM_PRESENCE_AWAY,
  TM_PRESENCE_COUNT
} TmPresence;

/* What became of a TCP connection to the HTTPS listener (relay/shell/listener.c). */
typedef enum {
  TM_HTTPS_ACCEPTED,          /* taken (whatever became of it next) */
  TM_HTTPS_REFUSED_ADDRESS,   /* closed at once: its address holds the most it may */
  TM_HTTPS_REFUSED_TOTAL,     /* closed at once: the relay holds the most it may */
  TM_HTTPS_HANDSHAKE_FAILED,  /* not TLS, or a TLS error */
  TM_HTTPS_HELLO_TIMEOUT,     /* no whole ClientHello in time */
  TM_HTTPS_HANDSHAKE_TIMEOUT, /* no finished handshake in time */
  TM_HTTPS_HANDSHAKE_STALLED, /* not finished soon after the relay's flight while others wait */
  TM_HTTPS_COUNT
} TmHttpsOutcome;

#define TM_METRICS_SAMPLES_MAX 4096 /* RTT and loss samples kept per scrape */

/* Counters: they only ever grow while the relay runs. Every member is a uint64_t (or an array of
 * them): tm_counters_add() adds them member by member. */
typedef struct _TmCounters {
  uint64_t packets_received, bytes_received;   /* RTP from publishers */
  uint64_t packets_forwarded, bytes_forwarded; /* RTP to receivers (retransmissions apart) */
  uint64_t dropped[TM_DROP_COUNT];
  uint64_t nacks_received; /* from receivers, about the relay's streams */
  uint64_t nacks_sent;     /* to publishers, for what the relay lost */
  uint64_t retransmissions;
  uint64_t keyframe_requests_sent;
  uint64_t packets_lost;   /* gaps the relay saw in publishers' streams */
  uint64_t sound_restored; /* of those, sound restored from a later packet's redundancy (RED) */
  uint64_t join_failures[TM_WIRE_ERR_COUNT];
  uint64_t recorded_bytes; /* RTP bytes handed to evidence recordings */
  uint64_t hearings_opened;
} TmCounters;

typedef struct _TmMetrics {
  TmCounters counters;
  /* gauges: what is true now */
  uint64_t hearings;
  uint64_t participants[TM_ROLE_COUNT][TM_PRESENCE_COUNT];
  uint64_t connections;
  uint64_t recordings;
  uint64_t https[TM_HTTPS_COUNT]; /* counters of the HTTPS listener's connections */
  /* counters of what the relay handed to its media sockets: datagrams, the system calls that
   * carried them (several datagrams each where they were queued together), and datagrams
   * dropped because a socket had no room */
  uint64_t datagrams_sent, send_calls, send_dropped;
  /* samples of the connections open now (at most TM_METRICS_SAMPLES_MAX each) */
  double rtt_ms[TM_METRICS_SAMPLES_MAX];
  guint n_rtt;
  double loss_up[TM_METRICS_SAMPLES_MAX];   /* publishers to the relay */
  double loss_down[TM_METRICS_SAMPLES_MAX]; /* the relay to receivers */
  guint n_loss_up, n_loss_down;
} TmMetrics;

const char *tm_metrics_drop_reason(TmDropReason r); /* "srtp", "policy", ...; "unknown" */
const char *tm_metrics_presence(TmPresence p);      /* "waiting", "admitted", "away" */

/* Adds one connection's counters to C. */
void tm_counters_add_peer(TmCounters *c, const TmPeerStats *s);
/* Adds FROM to INTO. */
void tm_counters_add(TmCounters *into, const TmCounters *from);
/* Adds one open connection's RTT and loss to M's samples (a publisher's loss is upstream, a
 * receiver's downstream; an RTT of 0 means not measured yet). */
void tm_metrics_add_peer_sample(TmMetrics *m, TmPeerKind kind, const TmPeerStats *s);
/* The Q quantile (0..1) of N values (sorted in place); 0 when N is 0. */
double tm_metrics_quantile(double *values, guint n, double q);
/* M in the Prometheus text exposition format (version 0.0.4), sorting M's samples. g_free. */
char *tm_metrics_render(TmMetrics *m);
