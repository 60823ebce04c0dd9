/* bench-conn.h — the load generator's WebRTC connection: ICE through libnice, DTLS and SRTP
 * through the relay's engine (dtls.h, srtp.h). It sends and receives RTP, never decodes.
 * Everything runs on the thread-default main context. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "dtls.h"
#include "sdp.h"

typedef struct _BenchConn BenchConn;

typedef struct {
  /* One decrypted RTP packet (BUF may be modified); ARRIVAL_US is when libnice handed it over. */
  void (*rtp)(void *user_data, BenchConn *c, uint8_t *buf, size_t len, int64_t arrival_us);
  /* One decrypted RTCP datagram (compound). */
  void (*rtcp)(void *user_data, BenchConn *c, const uint8_t *buf, size_t len);
  /* DTLS is up and SRTP keyed. */
  void (*connected)(void *user_data, BenchConn *c);
  /* ICE or DTLS failed. */
  void (*failed)(void *user_data, BenchConn *c, const char *why);
} BenchConnListener;

/* CONTROLLING: the side that made the offer; ADDRESS: the local address ICE uses. */
BenchConn *bench_conn_new(TmDtlsIdentity *identity, const char *address, bool controlling,
                          const BenchConnListener *listener, void *user_data);
void bench_conn_free(BenchConn *c);

/* The local half of an SDP: ICE credentials, fingerprint and candidates as "a=" lines (CRLF),
 * ready to paste into a media section. */
char *bench_conn_transport_lines(BenchConn *c, const char *setup);

/* Takes the remote description: ICE credentials, candidates, fingerprint. DTLS_CLIENT: whether
 * this side opens the DTLS handshake (a=setup:active on our side). FALSE when it lacks one. */
bool bench_conn_set_remote(BenchConn *c, const TmSdp *remote, bool dtls_client);
/* A trickled remote candidate ("candidate:..." with or without "a="). */
void bench_conn_add_candidate(BenchConn *c, const char *candidate);

/* Protects and sends one RTP or RTCP packet in BUF (LEN bytes, CAP the buffer size). */
bool bench_conn_send_rtp(BenchConn *c, uint8_t *buf, size_t len, size_t cap);
bool bench_conn_send_rtcp(BenchConn *c, uint8_t *buf, size_t len, size_t cap);

bool bench_conn_is_connected(const BenchConn *c);
TmSrtpProfile bench_conn_srtp_profile(const BenchConn *c);
/* Drives DTLS retransmissions; call now and then (every 50 ms is plenty). */
void bench_conn_tick(BenchConn *c, int64_t now_us);
