/* srtp.h — SRTP/SRTCP (RFC 3711, RFC 7714) through libsrtp, keyed from DTLS-SRTP (RFC 5764). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TM_SRTP_MAX_KEY 32      /* master key + salt, largest profile */
#define TM_SRTP_MAX_TRAILER 148 /* libsrtp's SRTP_MAX_TRAILER_LEN */

typedef enum {
  TM_SRTP_PROFILE_NONE = 0,
  TM_SRTP_PROFILE_AEAD_AES_128_GCM,  /* preferred */
  TM_SRTP_PROFILE_AES128_CM_SHA1_80, /* fallback */
} TmSrtpProfile;

typedef struct {
  TmSrtpProfile profile;
  uint8_t local[TM_SRTP_MAX_KEY];  /* key || salt for what we send */
  uint8_t remote[TM_SRTP_MAX_KEY]; /* key || salt for what we receive */
  size_t key_len;                  /* master key bytes */
  size_t salt_len;                 /* master salt bytes */
} TmSrtpKeys;

typedef enum {
  TM_SRTP_OK = 0,
  TM_SRTP_ERR_INIT,   /* libsrtp could not create the session */
  TM_SRTP_ERR_AUTH,   /* authentication failed (tampered or wrong key) */
  TM_SRTP_ERR_REPLAY, /* replayed or too old */
  TM_SRTP_ERR_BUFFER, /* no room for the trailer */
  TM_SRTP_ERR_OTHER,
  TM_SRTP_ERR_COUNT
} TmSrtpError;

typedef struct _TmSrtp TmSrtp;

TmSrtp *tm_srtp_new(const TmSrtpKeys *keys, TmSrtpError *err);
void tm_srtp_free(TmSrtp *s);

/* Protect in place: *LEN grows by the trailer; CAP is the buffer size. */
TmSrtpError tm_srtp_protect_rtp(TmSrtp *s, uint8_t *buf, size_t *len, size_t cap);
TmSrtpError tm_srtp_protect_rtcp(TmSrtp *s, uint8_t *buf, size_t *len, size_t cap);
/* Unprotect in place: *LEN shrinks. */
TmSrtpError tm_srtp_unprotect_rtp(TmSrtp *s, uint8_t *buf, size_t *len);
TmSrtpError tm_srtp_unprotect_rtcp(TmSrtp *s, uint8_t *buf, size_t *len);

const char *tm_srtp_profile_name(TmSrtpProfile p);
const char *tm_srtp_strerror(TmSrtpError err);
