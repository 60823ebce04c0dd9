/* token.h — join tokens: JWT (RFC 7519) compact form, HS256 (HMAC-SHA256).
 *
 * Header {"alg":"HS256","typ":"JWT"}; claims:
 *   hrg  hearing id (string, 1..64 chars of [A-Za-z0-9._-])
 *   role one of the role names (role.h)
 *   name display name (string, 1..128 bytes UTF-8)
 *   jti  single-use id (string, 1..64 chars)
 *   iat, nbf, exp  UNIX seconds (integers; nbf optional, exp required)
 * Verification is pure: the current time comes in as a parameter. */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#include "role.h"

#define TM_TOKEN_MAX_LEN 4096 /* longer tokens are refused before any parsing */
#define TM_TOKEN_KEY_LEN 32   /* HMAC key bytes the relay generates */
#define TM_TOKEN_ID_LEN 65    /* hearing id / jti buffers, incl. NUL */
#define TM_TOKEN_NAME_LEN 129

typedef struct {
  char hearing[TM_TOKEN_ID_LEN];
  TmRole role;
  char name[TM_TOKEN_NAME_LEN];
  char jti[TM_TOKEN_ID_LEN];
  int64_t iat;
  int64_t nbf; /* 0 = not given */
  int64_t exp;
} TmTokenClaims;

typedef enum {
  TM_TOKEN_OK = 0,
  TM_TOKEN_ERR_TOO_LONG,
  TM_TOKEN_ERR_MALFORMED, /* not three base64url parts, bad JSON, wrong alg */
  TM_TOKEN_ERR_BAD_SIGNATURE,
  TM_TOKEN_ERR_BAD_CLAIMS, /* missing/invalid hrg, role, name, jti or exp */
  TM_TOKEN_ERR_EXPIRED,
  TM_TOKEN_ERR_NOT_YET_VALID,
  TM_TOKEN_ERR_WRONG_HEARING,
  TM_TOKEN_ERR_COUNT
} TmTokenError;

/* Returns a newly allocated token string (g_free), or NULL if CLAIMS are invalid. */
gchar *tm_token_sign(const TmTokenClaims *claims, const uint8_t *key, size_t key_len);

/* Checks signature (constant-time compare), then claims, then times against NOW_UNIX
 * (exp <= now: expired; nbf > now: not yet valid; a 30 s leeway for clock skew on both),
 * then EXPECTED_HEARING (NULL = any). Fills OUT whenever the signature and claims verify — also
 * when the time or hearing check then fails, so the caller can name or revoke the token — and
 * zeroes it otherwise. */
TmTokenError tm_token_verify(const char *token, size_t len, const uint8_t *key, size_t key_len,
                             int64_t now_unix, const char *expected_hearing, TmTokenClaims *out);

const char *tm_token_strerror(TmTokenError err);
