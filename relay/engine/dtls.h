/* dtls.h — DTLS 1.2 for DTLS-SRTP (RFC 5764) with OpenSSL on two memory BIOs.
 *
 * Crypto never sends: datagrams to transmit come out through the listener's `transmit`, and the
 * shell puts them on the wire. The peer's certificate must match the SDP fingerprint (RFC 8122);
 * anything else fails the handshake. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "srtp.h"

#define TM_DTLS_MTU 1200
#define TM_DTLS_FINGERPRINT_LEN 32 /* sha-256 */

typedef enum {
  TM_DTLS_OK = 0,
  TM_DTLS_ERR_HANDSHAKE,   /* OpenSSL refused the handshake */
  TM_DTLS_ERR_FINGERPRINT, /* peer certificate does not match the SDP fingerprint */
  TM_DTLS_ERR_NO_SRTP,     /* no SRTP profile in common */
  TM_DTLS_ERR_EXPORT,      /* keying material could not be exported */
  TM_DTLS_ERR_TIMEOUT,     /* handshake retransmissions exhausted */
  TM_DTLS_ERR_CLOSED,      /* the peer sent close_notify */
  TM_DTLS_ERR_COUNT
} TmDtlsError;

typedef enum { TM_DTLS_ROLE_SERVER, TM_DTLS_ROLE_CLIENT } TmDtlsRole;

/* A certificate and key (ECDSA P-256), shared by every connection of a relay. */
typedef struct _TmDtlsIdentity TmDtlsIdentity;

TmDtlsIdentity *tm_dtls_identity_new(int64_t now_unix);
TmDtlsIdentity *tm_dtls_identity_ref(TmDtlsIdentity *id);
void tm_dtls_identity_unref(TmDtlsIdentity *id);
/* SHA-256 of the certificate (TM_DTLS_FINGERPRINT_LEN bytes). */
const uint8_t *tm_dtls_identity_fingerprint(const TmDtlsIdentity *id);

typedef struct {
  void (*transmit)(void *user_data, const uint8_t *buf, size_t len);
  void (*connected)(void *user_data, const TmSrtpKeys *keys);
  void (*failed)(void *user_data, TmDtlsError err);
  /* Application data is not used by WebRTC media; ignored. */
} TmDtlsListener;

typedef struct _TmDtls TmDtls;

/* PEER_FINGERPRINT is the sha-256 digest from the peer's SDP. */
TmDtls *tm_dtls_new(TmDtlsIdentity *id, TmDtlsRole role, const uint8_t *peer_fingerprint,
                    size_t peer_fingerprint_len, const TmDtlsListener *listener, void *user_data);
void tm_dtls_free(TmDtls *d);

/* A client sends its ClientHello; a server waits. */
void tm_dtls_start(TmDtls *d, int64_t now_us);
void tm_dtls_handle_datagram(TmDtls *d, const uint8_t *buf, size_t len, int64_t now_us);
void tm_dtls_handle_timeout(TmDtls *d, int64_t now_us);
int64_t tm_dtls_next_deadline(const TmDtls *d);
/* The handshake's round trip in ms: the shortest time from one of our flights (its last
 * sending) to the answer that moved the handshake on; 0 while there is none. Known before the
 * first media packet, so a receiver can be told how long its repairs will take before its
 * first picture. */
double tm_dtls_rtt_ms(const TmDtls *d);
/* Sends close_notify (once connected). */
void tm_dtls_close(TmDtls *d);
bool tm_dtls_is_connected(const TmDtls *d);

const char *tm_dtls_strerror(TmDtlsError err);

#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
/* Fuzz builds only: every later connection of ROLE is connected with KEYS (NULL: none, real
 * handshakes again) as soon as it starts (a client) or gets its first datagram (a server),
 * without a handshake, which costs a fuzz input more than all else it does. */
void tm_dtls_fuzz_preset_keys(TmDtlsRole role, const TmSrtpKeys *keys);
#endif
