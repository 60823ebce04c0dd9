/* fuzz-token.c — join tokens. The first byte chooses a mode; the rest is its input:
 *
 *   0  verify the bytes as a token (any result; an accepted token must re-sign to the same claims)
 *   1  build claims from the bytes, sign, and check verify gives them back, refuses them at the
 *      leeway boundaries, with another key, and after any one character is changed
 *   2  the bytes are the claims JSON, signed with the right key: the claims parser on input
 *      that passes the signature check
 *   3  the bytes are the header JSON, signed with the right key: only an HS256 header passes,
 *      in strict JSON
 *
 * Any broken property aborts. */
#include <glib.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"

#define FUZZ_NOW INT64_C(1700000000)

static const uint8_t fuzz_key[TM_TOKEN_KEY_LEN] = "testimony fuzz key, 32 bytes...";
static const uint8_t fuzz_other_key[TM_TOKEN_KEY_LEN] = "another key entirely, 32 bytes.";

typedef struct {
  const uint8_t *p;
  size_t n;
} Input;

static void
check(gboolean ok)
{
  if (!ok)
    abort();
}

static uint64_t
take(Input *in, int bytes)
{
  uint64_t v = 0;
  for (int i = 0; i < bytes && in->n > 0; i++, in->p++, in->n--)
    v = v << 8 | *in->p;
  return v;
}

/* A length byte, then that many bytes; a length of CAP or more fills BUF without a NUL. */
static void
take_string(Input *in, char *buf, size_t cap)
{
  size_t want = (size_t) take(in, 1);
  size_t n = MIN(MIN(want, cap), in->n);
  memset(buf, 0, cap);
  memcpy(buf, in->p, n);
  in->p += n;
  in->n -= n;
  if (want >= cap && n == cap)
    return;
  buf[MIN(n, cap - 1)] = '\0';
}

static gboolean
claims_equal(const TmTokenClaims *a, const TmTokenClaims *b)
{
  return strcmp(a->hearing, b->hearing) == 0 && a->role == b->role &&
    strcmp(a->name, b->name) == 0 && strcmp(a->jti, b->jti) == 0 && a->iat == b->iat &&
    a->nbf == b->nbf && a->exp == b->exp;
}

static TmTokenError
verify(const char *token, const uint8_t *key, int64_t now, const char *hearing, TmTokenClaims *out)
{
  return tm_token_verify(token, strlen(token), key, TM_TOKEN_KEY_LEN, now, hearing, out);
}

/* Accepted claims must sign again and verify to themselves. */
static void
check_resign(const TmTokenClaims *c)
{
  g_autofree gchar *token = tm_token_sign(c, fuzz_key, sizeof fuzz_key);
  check(token != NULL);
  TmTokenClaims again;
  check(verify(token, fuzz_key, c->exp, NULL, &again) == TM_TOKEN_OK);
  check(claims_equal(c, &again));
}

static void
mode_verify(const uint8_t *data, size_t size)
{
  TmTokenClaims out;
  int64_t now = size > 0 ? FUZZ_NOW + (int64_t) data[0] * 86400 : FUZZ_NOW;
  TmTokenError err =
    tm_token_verify((const char *) data, size, fuzz_key, sizeof fuzz_key, now, "h1", &out);
  check((unsigned) err < TM_TOKEN_ERR_COUNT && tm_token_strerror(err) != NULL);
  if (err == TM_TOKEN_OK)
    check_resign(&out);
  err = tm_token_verify((const char *) data, size, fuzz_key, sizeof fuzz_key, now, NULL, &out);
  if (err == TM_TOKEN_OK || err == TM_TOKEN_ERR_EXPIRED || err == TM_TOKEN_ERR_NOT_YET_VALID)
    check_resign(&out); /* authentic claims come out even when the time check fails */
  else
    check(out.hearing[0] == '\0' && out.exp == 0);
}

static TmTokenClaims
claims_from_input(Input *in)
{
  TmTokenClaims c;
  uint8_t flags = (uint8_t) take(in, 1);
  take_string(in, c.hearing, sizeof c.hearing);
  c.role = (TmRole) (flags & 0x10 ? (int8_t) take(in, 1) : (int) take(in, 1) % TM_ROLE_COUNT);
  take_string(in, c.name, sizeof c.name);
  take_string(in, c.jti, sizeof c.jti);
  if (flags & 0x01) { /* raw 64-bit times: mostly invalid */
    c.iat = (int64_t) take(in, 8);
    c.nbf = (int64_t) take(in, 8);
    c.exp = (int64_t) take(in, 8);
  } else {
    c.iat = (int64_t) take(in, 5);
    c.exp = c.iat + 1 + (int64_t) take(in, 3);
    c.nbf = flags & 0x02 ? c.iat + (int64_t) take(in, 2) % (c.exp - c.iat + 1) : 0;
  }
  return c;
}

/* One character of TOKEN, chosen by POS, replaced by another of the token alphabet. */
static void
check_tamper(const char *token, uint64_t pos)
{
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "abcdefghijklmnopqrstuvwxyz0123456789-_.";
  g_autofree gchar *bad = g_strdup(token);
  size_t len = strlen(bad);
  size_t i = (size_t) (pos % len);
  const char *at = strchr(alphabet, bad[i]);
  check(at != NULL);
  size_t shift = 1 + (size_t) (pos / len) % (sizeof alphabet - 2);
  bad[i] = alphabet[((size_t) (at - alphabet) + shift) % (sizeof alphabet - 1)];
  check(bad[i] != token[i]);
  check(verify(bad, fuzz_key, FUZZ_NOW, NULL, NULL) != TM_TOKEN_OK);
}

static void
mode_sign(const uint8_t *data, size_t size)
{
  Input in = { data, size };
  TmTokenClaims c = claims_from_input(&in);
  g_autofree gchar *token = tm_token_sign(&c, fuzz_key, sizeof fuzz_key);
  if (token == NULL) {
    /* unterminated strings must have been refused */
    return;
  }
  check(strnlen(c.hearing, sizeof c.hearing) < sizeof c.hearing);
  check(strnlen(c.name, sizeof c.name) < sizeof c.name);
  check(strnlen(c.jti, sizeof c.jti) < sizeof c.jti);
  check(strlen(token) <= TM_TOKEN_MAX_LEN);
  TmTokenClaims out;
  check(verify(token, fuzz_key, c.exp, c.hearing, &out) == TM_TOKEN_OK);
  check(claims_equal(&c, &out));
  check(verify(token, fuzz_key, c.exp + 29, NULL, NULL) == TM_TOKEN_OK);
  check(verify(token, fuzz_key, c.exp + 30, NULL, NULL) == TM_TOKEN_ERR_EXPIRED);
  if (c.nbf != 0) {
    check(verify(token, fuzz_key, c.nbf - 30, NULL, NULL) == TM_TOKEN_OK);
    check(verify(token, fuzz_key, c.nbf - 31, NULL, NULL) == TM_TOKEN_ERR_NOT_YET_VALID);
  }
  check(verify(token, fuzz_other_key, c.exp, NULL, NULL) == TM_TOKEN_ERR_BAD_SIGNATURE);
  check(verify(token, fuzz_key, c.exp, "h1-other-hearing", NULL) ==
        (strcmp(c.hearing, "h1-other-hearing") == 0 ? TM_TOKEN_OK : TM_TOKEN_ERR_WRONG_HEARING));
  check_tamper(token, take(&in, 4));
}

static gchar *
b64url(const void *data, size_t len)
{
  gchar *s = g_base64_encode(data, len);
  g_strdelimit(s, "+", '-');
  g_strdelimit(s, "/", '_');
  g_strdelimit(s, "=", '\0');
  return s;
}

/* HEADER.PAYLOAD signed with the fuzz key. */
static gchar *
make_token(const void *header, size_t header_len, const void *payload, size_t payload_len)
{
  g_autofree gchar *h = b64url(header, header_len);
  g_autofree gchar *p = b64url(payload, payload_len);
  g_autofree gchar *input = g_strjoin(".", h, p, NULL);
  uint8_t mac[32];
  size_t mac_len = 0;
  check(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, fuzz_key, sizeof fuzz_key,
                  (const unsigned char *) input, strlen(input), mac, sizeof mac, &mac_len) != NULL);
  g_autofree gchar *s = b64url(mac, mac_len);
  return g_strjoin(".", input, s, NULL);
}

static const char fuzz_header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
static const char fuzz_payload[] =
  "{\"hrg\":\"h1\",\"role\":\"witness\",\"name\":\"W\",\"jti\":\"j1\",\"exp\":1700003600}";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size == 0)
    return 0;
  const uint8_t *rest = data + 1;
  size_t n = size - 1;
  switch (data[0] % 4) {
  case 0: mode_verify(rest, n); break;
  case 1: mode_sign(rest, n); break;
  case 2: {
    g_autofree gchar *token = make_token(fuzz_header, strlen(fuzz_header), rest, n);
    TmTokenClaims out;
    if (verify(token, fuzz_key, FUZZ_NOW, NULL, &out) == TM_TOKEN_OK)
      check_resign(&out);
    break;
  }
  default: {
    g_autofree gchar *token = make_token(rest, n, fuzz_payload, strlen(fuzz_payload));
    TmTokenError err = verify(token, fuzz_key, FUZZ_NOW, NULL, NULL);
    /* HS256 as written, or spelt with a JSON \u escape */
    check(err != TM_TOKEN_OK || g_strstr_len((const char *) rest, (gssize) n, "HS256") != NULL ||
          g_strstr_len((const char *) rest, (gssize) n, "\\u") != NULL);
    break;
  }
  }
  return 0;
}
