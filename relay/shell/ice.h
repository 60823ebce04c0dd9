/* ice.h — one ICE transport (libnice, full ICE, controlled side) per WebRTC connection.
 * UPnP is off; candidates are gathered only on the configured addresses and port range.
 *
 * libnice's consent freshness (RFC 7675) is not used: it gives a pair up after a few seconds
 * without answers, so a short outage or a burst of loss ended the witness's connection for
 * good. Instead the room watches how long a transport has received nothing
 * (tm_ice_last_receive) and gives up only after 30 s (docs/poor-networks.md). */
#pragma once

#include <gio/gio.h>
#include <glib.h>
#include <stdint.h>

typedef struct {
  char **addresses; /* local addresses ICE may use (NULL-terminated) */
  guint port_min;   /* 0 = any */
  guint port_max;
  GPtrArray *remote_allowed; /* GInetAddressMask*: where remote candidates may be; NULL = any */
  gboolean tcp; /* also passive ICE-TCP candidates (RFC 6544) on the same addresses and ports */
} TmIceOptions;

/* Checks a media address at start: an IP address of this machine that ICE can bind, not a
 * wildcard, multicast or link-local one. */
gboolean tm_ice_check_media_address(const char *address, GError **error);
/* Parses the remote-candidates setting (CIDR ranges, e.g. "10.0.0.0/8", "2001:db8::/32") into
 * *OUT (NULL for an empty list: any unicast address). */
gboolean tm_ice_parse_remote_ranges(char **ranges, GPtrArray **out, GError **error);

typedef enum {
  TM_ICE_CANDIDATE_OK,
  TM_ICE_CANDIDATE_MALFORMED,
  TM_ICE_CANDIDATE_REFUSED, /* an address the relay never connects to (see ice.c) */
} TmIceCandidateResult;

typedef struct {
  void (*receive)(void *user_data, const uint8_t *buf, size_t len);
  /* ICE failed (no pair works). */
  void (*failed)(void *user_data);
} TmIceListener;

typedef struct _TmIce TmIce;

/* Creates the agent on CONTEXT and gathers host candidates (immediately available). */
TmIce *tm_ice_new(GMainContext *context, const TmIceOptions *options, const TmIceListener *listener,
                  void *user_data, GError **error);
/* Stops delivery at once; the agent and ICE itself are released from an idle callback on
 * CONTEXT, so a callback in progress on that context's thread may still read ICE (and its
 * user data) until it returns. */
void tm_ice_free(TmIce *ice);

const char *tm_ice_ufrag(const TmIce *ice);
const char *tm_ice_pwd(const TmIce *ice);
/* Local candidates as "candidate:..." strings. */
GStrv tm_ice_local_candidates(TmIce *ice);

gboolean tm_ice_set_remote_credentials(TmIce *ice, const char *ufrag, const char *pwd);
/* CANDIDATE is "candidate:..." (with or without "a="); "" means end of candidates. A candidate
 * on a multicast, broadcast, wildcard or link-local address, on the relay's own media address
 * and port range, or outside remote_allowed when that is set, is refused (never checked). */
TmIceCandidateResult tm_ice_add_remote_candidate(TmIce *ice, const char *candidate);
/* Sends a datagram at once. */
void tm_ice_send(TmIce *ice, const uint8_t *buf, size_t len);
/* Outgoing datagrams in batches: tm_ice_queue copies one into ICE's queue (sending the queue
 * first when it is full); tm_ice_flush sends
 * what is queued, in order, with one system call where it can (sendmmsg on the selected pair's
 * UDP socket; otherwise libnice's nice_agent_send_messages_nonblocking). A datagram the socket
 * has no room for is dropped, as a single send drops it, and counted. */
void tm_ice_queue(TmIce *ice, const uint8_t *buf, size_t len);
void tm_ice_flush(TmIce *ice);

/* The process's totals, for /metrics: datagrams sent, the system calls (or libnice calls) that
 * sent them, and datagrams dropped because the socket's buffer was full. */
typedef struct {
  uint64_t datagrams, calls, dropped;
} TmIceTotals;
void tm_ice_totals(TmIceTotals *out);
/* When a datagram for the connection (DTLS, SRTP, SRTCP) last arrived, monotonic µs; the
 * transport's creation before the first. */
int64_t tm_ice_last_receive(const TmIce *ice);
