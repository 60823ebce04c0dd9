/* test-token.c — join tokens: round trip, times and leeway, forgeries, alg, malformed input,
 * claim checks, and a token made by an independent implementation (Python's hmac/base64). */
#include <glib.h>
#include <openssl/evp.h>
#include <string.h>

#include "token.h"

#define NOW INT64_C(1700000100)

static const uint8_t key[TM_TOKEN_KEY_LEN] = {
  0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
  16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
};
static const uint8_t other_key[TM_TOKEN_KEY_LEN] = { 0xa5 };

static TmTokenClaims
claims_default(void)
{
  TmTokenClaims c = { .role = TM_ROLE_WITNESS, .iat = NOW - 100, .exp = NOW + 3600 };
  g_strlcpy(c.hearing, "h1", sizeof c.hearing);
  g_strlcpy(c.name, "Witness A", sizeof c.name);
  g_strlcpy(c.jti, "jti-0001", sizeof c.jti);
  return c;
}

static void
assert_claims_equal(const TmTokenClaims *a, const TmTokenClaims *b)
{
  g_assert_cmpstr(a->hearing, ==, b->hearing);
  g_assert_cmpint(a->role, ==, b->role);
  g_assert_cmpstr(a->name, ==, b->name);
  g_assert_cmpstr(a->jti, ==, b->jti);
  g_assert_cmpint(a->iat, ==, b->iat);
  g_assert_cmpint(a->nbf, ==, b->nbf);
  g_assert_cmpint(a->exp, ==, b->exp);
}

static TmTokenError
verify_at(const char *token, int64_t now, const char *hearing, TmTokenClaims *out)
{
  return tm_token_verify(token, strlen(token), key, sizeof key, now, hearing, out);
}

/* ---- building tokens by hand, to forge them ---- */

static gchar *
b64url(const void *data, size_t len)
{
  gchar *s = g_base64_encode(data, len);
  g_strdelimit(s, "+", '-');
  g_strdelimit(s, "/", '_');
  gchar *pad = strchr(s, '=');
  if (pad != NULL)
    *pad = '\0';
  return s;
}

/* HEADER.PAYLOAD signed with K (NULL: signature part SIG verbatim). The JSON in this file is
 * written with single quotes for legibility; they become double quotes here. */
static gchar *
forge(const char *header, const char *payload, const uint8_t *k, const char *sig)
{
  g_autofree gchar *hj = g_strdelimit(g_strdup(header), "'", '"');
  g_autofree gchar *pj = g_strdelimit(g_strdup(payload), "'", '"');
  g_autofree gchar *h = b64url(hj, strlen(hj));
  g_autofree gchar *p = b64url(pj, strlen(pj));
  g_autofree gchar *input = g_strconcat(h, ".", p, NULL);
  if (k == NULL)
    return g_strconcat(input, ".", sig, NULL);
  uint8_t mac[32];
  size_t mac_len = 0;
  g_assert_nonnull(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, k, TM_TOKEN_KEY_LEN,
                             (const unsigned char *) input, strlen(input), mac, sizeof mac,
                             &mac_len));
  g_autofree gchar *s = b64url(mac, mac_len);
  return g_strconcat(input, ".", s, NULL);
}

static const char header_hs256[] = "{'alg':'HS256','typ':'JWT'}";

/* PAYLOAD under a valid header, signed with the right key, verified at NOW. */
static TmTokenError
verify_payload(const char *payload)
{
  g_autofree gchar *token = forge(header_hs256, payload, key, NULL);
  return verify_at(token, NOW, NULL, NULL);
}

#define CLAIMS_REST "'iat':1700000000,'exp':1700003600"

/* ---- tests ---- */

static void
test_round_trip(void)
{
  TmTokenClaims in = claims_default();
  g_autofree gchar *token = tm_token_sign(&in, key, sizeof key);
  g_assert_nonnull(token);
  g_assert_cmpuint(strlen(token), <=, TM_TOKEN_MAX_LEN);
  g_assert_null(strchr(token, '='));
  TmTokenClaims out;
  g_assert_cmpint(verify_at(token, NOW, "h1", &out), ==, TM_TOKEN_OK);
  assert_claims_equal(&in, &out);

  /* nbf given, every role, a name with quotes, backslash and Thai script at the byte cap */
  for (int r = 0; r < TM_ROLE_COUNT; r++) {
    TmTokenClaims c = claims_default();
    c.role = (TmRole) r;
    c.nbf = NOW - 5;
    g_strlcpy(c.hearing, "BK-2026.117_a", sizeof c.hearing);
    GString *name = g_string_new("\"Judge\" \\ A"); /* 11 bytes */
    while (name->len + 3 <= TM_TOKEN_NAME_LEN - 1)
      g_string_append(name, "ส");
    g_assert_cmpuint(name->len, ==, TM_TOKEN_NAME_LEN - 1);
    g_strlcpy(c.name, name->str, sizeof c.name);
    g_string_free(name, TRUE);
    g_autofree gchar *t = tm_token_sign(&c, key, sizeof key);
    g_assert_nonnull(t);
    g_assert_cmpint(verify_at(t, NOW, NULL, &out), ==, TM_TOKEN_OK);
    assert_claims_equal(&c, &out);
  }
}

static void
test_interop(void)
{
  /* made with Python: hmac.new(bytes(range(32)), h + "." + p, sha256), base64url, no padding;
   * header members in another order, claims with spaces, a Thai name */
  static const char token[] =
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJleHAiOiAyMDAwMDAwMDAwLCAibmFtZSI6ICLguJ7guKLguLLgu"
    "Jkg4LiBIiwgInJvbGUiOiAid2l0bmVzcyIsICJocmciOiAiaC0xLnhfMiIsICJqdGkiOiAiOGYxNGU0NWYtY2VlYS0"
    "0NjdmIiwgImlhdCI6IDE3MDAwMDAwMDAsICJuYmYiOiAxNzAwMDAwMDAwfQ.IK_TemgJnVWGEjsUmPHsgLod_FnF2q7"
    "CIBYHtBSH0fk";
  TmTokenClaims out;
  g_assert_cmpint(verify_at(token, NOW, "h-1.x_2", &out), ==, TM_TOKEN_OK);
  g_assert_cmpstr(out.hearing, ==, "h-1.x_2");
  g_assert_cmpint(out.role, ==, TM_ROLE_WITNESS);
  g_assert_cmpstr(out.name, ==, "พยาน ก");
  g_assert_cmpstr(out.jti, ==, "8f14e45f-ceea-467f");
  g_assert_cmpint(out.iat, ==, 1700000000);
  g_assert_cmpint(out.nbf, ==, 1700000000);
  g_assert_cmpint(out.exp, ==, 2000000000);
}

static void
test_expired(void)
{
  TmTokenClaims c = claims_default();
  g_autofree gchar *token = tm_token_sign(&c, key, sizeof key);
  TmTokenClaims out;
  g_assert_cmpint(verify_at(token, c.exp - 1, NULL, &out), ==, TM_TOKEN_OK);
  g_assert_cmpint(verify_at(token, c.exp, NULL, &out), ==, TM_TOKEN_OK); /* leeway */
  g_assert_cmpint(verify_at(token, c.exp + 29, NULL, &out), ==, TM_TOKEN_OK);
  g_assert_cmpint(verify_at(token, c.exp + 30, NULL, &out), ==, TM_TOKEN_ERR_EXPIRED);
  g_assert_cmpstr(out.hearing, ==, "h1"); /* authentic claims are given, to name the token */
  g_assert_cmpstr(out.jti, ==, c.jti);
  g_assert_cmpint(verify_at(token, INT64_MAX, NULL, NULL), ==, TM_TOKEN_ERR_EXPIRED);
}

static void
test_not_yet_valid(void)
{
  TmTokenClaims c = claims_default();
  c.nbf = NOW + 600;
  g_autofree gchar *token = tm_token_sign(&c, key, sizeof key);
  g_assert_cmpint(verify_at(token, c.nbf, NULL, NULL), ==, TM_TOKEN_OK);
  g_assert_cmpint(verify_at(token, c.nbf - 30, NULL, NULL), ==, TM_TOKEN_OK); /* leeway */
  g_assert_cmpint(verify_at(token, c.nbf - 31, NULL, NULL), ==, TM_TOKEN_ERR_NOT_YET_VALID);
  g_assert_cmpint(verify_at(token, INT64_MIN, NULL, NULL), ==, TM_TOKEN_ERR_NOT_YET_VALID);
}

static void
test_forged_signature(void)
{
  TmTokenClaims c = claims_default();
  g_autofree gchar *token = tm_token_sign(&c, key, sizeof key);
  size_t len = strlen(token);
  /* every character of the signature changed in turn */
  for (const char *dot = strrchr(token, '.') + 1; *dot != '\0'; dot++) {
    g_autofree gchar *bad = g_strdup(token);
    size_t i = (size_t) (dot - token);
    bad[i] = bad[i] == 'A' ? 'Q' : 'A';
    TmTokenError err = tm_token_verify(bad, len, key, sizeof key, NOW, NULL, NULL);
    g_assert_true(err == TM_TOKEN_ERR_BAD_SIGNATURE || err == TM_TOKEN_ERR_MALFORMED);
  }
  /* a well-formed signature of the wrong length */
  g_autofree gchar *short_sig = g_strndup(token, len - 43);
  g_autofree gchar *sig31 = b64url("0123456789012345678901234567890", 31);
  g_autofree gchar *t31 = g_strconcat(short_sig, sig31, NULL);
  g_assert_cmpint(verify_at(t31, NOW, NULL, NULL), ==, TM_TOKEN_ERR_BAD_SIGNATURE);
  /* signed with another key */
  g_autofree gchar *other = tm_token_sign(&c, other_key, sizeof other_key);
  g_assert_cmpint(verify_at(other, NOW, NULL, NULL), ==, TM_TOKEN_ERR_BAD_SIGNATURE);
  g_assert_cmpint(tm_token_verify(token, len, other_key, sizeof other_key, NOW, NULL, NULL), ==,
                  TM_TOKEN_ERR_BAD_SIGNATURE);
}

static void
test_forged_payload(void)
{
  TmTokenClaims c = claims_default();
  g_autofree gchar *witness = tm_token_sign(&c, key, sizeof key);
  c.role = TM_ROLE_JUDGE;
  g_autofree gchar *judge = tm_token_sign(&c, other_key, sizeof other_key);
  /* the judge payload under the witness token's header and signature */
  gchar **w = g_strsplit(witness, ".", -1);
  gchar **j = g_strsplit(judge, ".", -1);
  g_autofree gchar *spliced = g_strjoin(".", w[0], j[1], w[2], NULL);
  g_assert_cmpint(verify_at(spliced, NOW, NULL, NULL), ==, TM_TOKEN_ERR_BAD_SIGNATURE);
  /* a payload written by hand with the old signature */
  g_autofree gchar *hand = forge(
    header_hs256, "{'hrg':'h1','role':'judge','name':'Witness A','jti':'jti-0001'," CLAIMS_REST "}",
    NULL, w[2]);
  g_assert_cmpint(verify_at(hand, NOW, NULL, NULL), ==, TM_TOKEN_ERR_BAD_SIGNATURE);
  g_strfreev(w);
  g_strfreev(j);
}

static void
test_wrong_hearing(void)
{
  TmTokenClaims c = claims_default();
  g_autofree gchar *token = tm_token_sign(&c, key, sizeof key);
  g_assert_cmpint(verify_at(token, NOW, "h2", NULL), ==, TM_TOKEN_ERR_WRONG_HEARING);
  g_assert_cmpint(verify_at(token, NOW, "h", NULL), ==, TM_TOKEN_ERR_WRONG_HEARING);
  g_assert_cmpint(verify_at(token, NOW, "h1x", NULL), ==, TM_TOKEN_ERR_WRONG_HEARING);
  g_assert_cmpint(verify_at(token, NOW, "h1", NULL), ==, TM_TOKEN_OK);
  g_assert_cmpint(verify_at(token, NOW, NULL, NULL), ==, TM_TOKEN_OK);
  /* expiry is reported before the hearing */
  g_assert_cmpint(verify_at(token, c.exp + 30, "h2", NULL), ==, TM_TOKEN_ERR_EXPIRED);
}

static void
test_alg(void)
{
  static const char payload[] = "{'hrg':'h1','role':'judge','name':'J','jti':'j'," CLAIMS_REST "}";
  static const char *const headers[] = {
    "{'alg':'none','typ':'JWT'}",
    "{'alg':'None'}",
    "{'alg':'HS512'}",
    "{'alg':'hs256'}",
    "{'alg':'RS256'}",
    "{'alg':'ES256'}",
    "{'typ':'JWT'}",
    "{'alg':256}",
    "{'alg':null}",
    "{'alg':['HS256']}",
    "{'alg':'HS256 '}",
    "{'alg':'HS256','typ':'JOSE+JSON'}",
    "{'alg':'HS256','typ':1}",
    "{'alg':'HS256','crit':['exp']}",
    "['HS256']",
    "'HS256'",
    "{}",
    /* spellings json-glib reads as HS256 but JSON does not allow (found by fuzz-token;
     * tests/fuzz/corpus/token/crash-header-escape) */
    "{'alg':'H\\S256'}",
    "{'alg':'HS\\x32\\x35\\x36'}",
    "{'alg':'HS256'} {}",
    "{'alg':'HS256' /* c */}",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(headers); i++) {
    /* alg none without a signature, and every header properly signed */
    g_autofree gchar *unsigned_token = forge(headers[i], payload, NULL, "");
    g_assert_cmpint(verify_at(unsigned_token, NOW, NULL, NULL), ==, TM_TOKEN_ERR_MALFORMED);
    g_autofree gchar *signed_token = forge(headers[i], payload, key, NULL);
    g_assert_cmpint(verify_at(signed_token, NOW, NULL, NULL), ==, TM_TOKEN_ERR_MALFORMED);
  }
  /* accepted variants: no typ, lower-case typ, extra members */
  static const char *const good[] = {
    "{'alg':'HS256'}",
    "{'typ':'jwt','alg':'HS256'}",
    "{'alg':'HS256','kid':'court-2026'}",
    "{'alg':'\\u0048S256'}",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
    g_autofree gchar *t = forge(good[i], payload, key, NULL);
    g_assert_cmpint(verify_at(t, NOW, NULL, NULL), ==, TM_TOKEN_OK);
  }
}

static void
test_malformed(void)
{
  TmTokenClaims c = claims_default();
  g_autofree gchar *token = tm_token_sign(&c, key, sizeof key);
  g_autofree gchar *two_parts = g_strndup(token, (size_t) (strrchr(token, '.') - token));
  g_autofree gchar *four_parts = g_strconcat(token, ".AAAA", NULL);
  g_autofree gchar *padded = g_strconcat(token, "=", NULL);
  g_autofree gchar *space = g_strconcat(" ", token, NULL);
  g_autofree gchar *plus = g_strdup(token);
  plus[3] = '+';
  g_autofree gchar *slash = g_strdup(token);
  slash[3] = '/';
  const char *const bad[] = {
    "",         ".",
    "..",       "abc",
    "a.b",      "a..b",
    "..abc",    two_parts,
    four_parts, padded,
    space,      plus,
    slash,      "eyJhbGciOiJIUzI1NiJ9.e30.AAAAA", /* impossible length 4n+1 */
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
    g_assert_cmpint(verify_at(bad[i], NOW, NULL, NULL), ==, TM_TOKEN_ERR_MALFORMED);
  g_assert_cmpint(tm_token_verify(NULL, 0, key, sizeof key, NOW, NULL, NULL), ==,
                  TM_TOKEN_ERR_MALFORMED);

  /* a NUL byte inside LEN: the bytes after it count */
  size_t len = strlen(token);
  g_autofree gchar *nul = g_strdup(token);
  nul[len - 1] = '\0';
  g_assert_cmpint(tm_token_verify(nul, len, key, sizeof key, NOW, NULL, NULL), ==,
                  TM_TOKEN_ERR_MALFORMED);
  /* a valid token followed by bytes the length covers */
  g_autofree gchar *longer = g_strconcat(token, "x", NULL);
  g_assert_cmpint(tm_token_verify(longer, len, key, sizeof key, NOW, NULL, NULL), ==, TM_TOKEN_OK);
  g_assert_cmpint(tm_token_verify(longer, len + 1, key, sizeof key, NOW, NULL, NULL), !=,
                  TM_TOKEN_OK);

  /* a non-canonical last character: "e31" decodes like "e30" ({}) but sets a stray bit */
  g_autofree gchar *stray = forge(header_hs256, "{}", key, NULL);
  g_assert_cmpint(verify_at(stray, NOW, NULL, NULL), ==, TM_TOKEN_ERR_BAD_CLAIMS);
  gchar *p = strstr(stray, ".e30.");
  g_assert_nonnull(p);
  p[3] = '1';
  g_assert_cmpint(verify_at(stray, NOW, NULL, NULL), ==, TM_TOKEN_ERR_MALFORMED);

  /* payloads that are not a JSON object, properly signed */
  static const char *const not_objects[] = { "", "[]", "'x'", "1", "null", "{", "{'hrg':}" };
  for (size_t i = 0; i < G_N_ELEMENTS(not_objects); i++)
    g_assert_cmpint(verify_payload(not_objects[i]), ==, TM_TOKEN_ERR_MALFORMED);
  /* invalid UTF-8 and a NUL byte inside the signed payload */
  static const char bytes_payload[] = "{'hrg':'h1','role':'judge','name':'\xff',"
                                      "'jti':'j'," CLAIMS_REST "}";
  g_assert_cmpint(verify_payload(bytes_payload), ==, TM_TOKEN_ERR_MALFORMED);
}

static void
test_too_long(void)
{
  /* a valid token padded with a long, ignored header member to just over the cap */
  g_autofree gchar *filler = g_strnfill(3000, 'x');
  g_autofree gchar *header = g_strdup_printf("{'alg':'HS256','kid':'%s'}", filler);
  g_autofree gchar *big = forge(header,
                                "{'hrg':'h1','role':'judge','name':'J',"
                                "'jti':'j'," CLAIMS_REST "}",
                                key, NULL);
  g_assert_cmpuint(strlen(big), >, TM_TOKEN_MAX_LEN);
  g_assert_cmpint(verify_at(big, NOW, NULL, NULL), ==, TM_TOKEN_ERR_TOO_LONG);
  g_autofree gchar *junk = g_strnfill(TM_TOKEN_MAX_LEN + 1, 'A');
  g_assert_cmpint(tm_token_verify(junk, TM_TOKEN_MAX_LEN + 1, key, sizeof key, NOW, NULL, NULL), ==,
                  TM_TOKEN_ERR_TOO_LONG);
  g_assert_cmpint(tm_token_verify(junk, TM_TOKEN_MAX_LEN, key, sizeof key, NOW, NULL, NULL), ==,
                  TM_TOKEN_ERR_MALFORMED);
  g_assert_cmpint(tm_token_verify(junk, G_MAXSIZE, key, sizeof key, NOW, NULL, NULL), ==,
                  TM_TOKEN_ERR_TOO_LONG);
}

#define ID64 "0123456789012345678901234567890123456789012345678901234567890123"

static void
test_claims(void)
{
  /* payloads signed with the right key, and what verification must say */
  static const struct {
    const char *payload;
    TmTokenError want;
  } cases[] = {
    { "{'hrg':'h1','role':'judge','name':'J','jti':'j'," CLAIMS_REST "}", TM_TOKEN_OK },
    { "{'hrg':'" ID64 "','role':'judge','name':'J','jti':'" ID64 "'," CLAIMS_REST "}",
      TM_TOKEN_OK },
    { "{'hrg':'" ID64 "4','role':'judge','name':'J','jti':'j'," CLAIMS_REST "}",
      TM_TOKEN_ERR_BAD_CLAIMS },
    { "{'hrg':'h1','role':'judge','name':'J','jti':'" ID64 "4'," CLAIMS_REST "}",
      TM_TOKEN_ERR_BAD_CLAIMS },
    { "{'role':'judge','name':'J','jti':'j'," CLAIMS_REST "}", TM_TOKEN_ERR_BAD_CLAIMS },
    { "{'hrg':'','role':'judge','name':'J','jti':'j'," CLAIMS_REST "}", TM_TOKEN_ERR_BAD_CLAIMS },
    { "{'hrg':'h 1','role':'judge','name':'J','jti':'j'," CLAIMS_REST "}",
      TM_TOKEN_ERR_BAD_CLAIMS },
    { "{'hrg':'h/1','role':'judge','name':'J','jti':'j'," CLAIMS_REST "}",
      TM_TOKEN_ERR_BAD_CLAIMS },
    { "{'hrg':7,'role':'judge','name':'J','jti':'j'," CLAIMS_REST "}", TM_TOKEN_ERR_BAD_CLAIMS },
    { "{'hrg':'h1','role':'Judge','name':'J','jti':'j'," CLAIMS_REST "}", TM_TOKEN_ERR_BAD_CLAIMS },
    { "{'hrg':'h1','role':'admin','name':'J','jti':'j'," CLAIMS_REST "}", TM_TOKEN_ERR_BAD_CLAIMS },
    { "{'hrg':'h1','role':['judge'],'name':'J','jti':'j'," CLAIMS_REST "}",
      TM_TOKEN_ERR_BAD_CLAIMS },
    { "{'hrg':'h1','role':'judge','name':'','jti':'j'," CLAIMS_REST "}", TM_TOKEN_ERR_BAD_CLAIMS },
    { "{'hrg':'h1','role':'judge','jti':'j'," CLAIMS_REST "}", TM_TOKEN_ERR_BAD_CLAIMS },
    { "{'hrg':'h1','role':'judge','name':'J\\nudge','jti':'j'," CLAIMS_REST "}",
      TM_TOKEN_ERR_BAD_CLAIMS },
    { "{'hrg':'h1','role':'judge','name':'J\\u007f','jti':'j'," CLAIMS_REST "}",
      TM_TOKEN_ERR_BAD_CLAIMS },
    { "{'hrg':'h1','role':'judge','name':'J\\u0085','jti':'j'," CLAIMS_REST "}",
      TM_TOKEN_ERR_BAD_CLAIMS },
    { "{'hrg':'h1','role':'judge','name':'\\u202eegduJ','jti':'j'," CLAIMS_REST "}",
      TM_TOKEN_ERR_BAD_CLAIMS },
    { "{'hrg':'h1','role':'judge','name':'J\\u2028','jti':'j'," CLAIMS_REST "}",
      TM_TOKEN_ERR_BAD_CLAIMS },
    { "{'hrg':'h1','role':'judge','name':'J','jti':'j 1'," CLAIMS_REST "}",
      TM_TOKEN_ERR_BAD_CLAIMS },
    { "{'hrg':'h1','role':'judge','name':'J'," CLAIMS_REST "}", TM_TOKEN_ERR_BAD_CLAIMS },
    { "{'hrg':'h1','role':'judge','name':'J','jti':'j','iat':1}", TM_TOKEN_ERR_BAD_CLAIMS },
    { "{'hrg':'h1','role':'judge','name':'J','jti':'j','exp':'1700003600'}",
      TM_TOKEN_ERR_BAD_CLAIMS },
    { "{'hrg':'h1','role':'judge','name':'J','jti':'j','exp':1700003600.0}",
      TM_TOKEN_ERR_BAD_CLAIMS },
    { "{'hrg':'h1','role':'judge','name':'J','jti':'j','exp':-1}", TM_TOKEN_ERR_BAD_CLAIMS },
    { "{'hrg':'h1','role':'judge','name':'J','jti':'j','exp':253402300800}",
      TM_TOKEN_ERR_BAD_CLAIMS },
    { "{'hrg':'h1','role':'judge','name':'J','jti':'j','exp':null}", TM_TOKEN_ERR_BAD_CLAIMS },
    { "{'hrg':'h1','role':'judge','name':'J','jti':'j','iat':-5,'exp':1700003600}",
      TM_TOKEN_ERR_BAD_CLAIMS },
    { "{'hrg':'h1','role':'judge','name':'J','jti':'j','nbf':true,'exp':1700003600}",
      TM_TOKEN_ERR_BAD_CLAIMS },
    { "{'hrg':'h1','role':'judge','name':'J','jti':'j','nbf':1700003601,"
      "'exp':1700003600}",
      TM_TOKEN_ERR_BAD_CLAIMS },
    /* extra claims are ignored; iat is optional */
    { "{'hrg':'h1','role':'judge','name':'J','jti':'j','exp':1700003600,'aud':[1]}", TM_TOKEN_OK },
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_test_message("case %zu: %s", i, cases[i].payload);
    g_assert_cmpint(verify_payload(cases[i].payload), ==, cases[i].want);
  }
  /* the name cap is in bytes: 43 Thai characters are 129 bytes */
  g_autoptr(GString) p = g_string_new("{'hrg':'h1','role':'judge','name':'");
  for (int i = 0; i < 43; i++)
    g_string_append(p, "ส");
  g_string_append(p, "','jti':'j'," CLAIMS_REST "}");
  g_assert_cmpint(verify_payload(p->str), ==, TM_TOKEN_ERR_BAD_CLAIMS);
}

static void
test_sign_refuses_invalid_claims(void)
{
  TmTokenClaims c = claims_default();
  c.hearing[0] = '\0';
  g_assert_null(tm_token_sign(&c, key, sizeof key));
  c = claims_default();
  memset(c.hearing, 'h', sizeof c.hearing); /* not NUL-terminated */
  g_assert_null(tm_token_sign(&c, key, sizeof key));
  c = claims_default();
  c.role = TM_ROLE_COUNT;
  g_assert_null(tm_token_sign(&c, key, sizeof key));
  c = claims_default();
  g_strlcpy(c.name, "J\tudge", sizeof c.name);
  g_assert_null(tm_token_sign(&c, key, sizeof key));
  c = claims_default();
  g_strlcpy(c.name, "J\xc3", sizeof c.name); /* truncated UTF-8 */
  g_assert_null(tm_token_sign(&c, key, sizeof key));
  c = claims_default();
  c.exp = 0;
  g_assert_null(tm_token_sign(&c, key, sizeof key));
  c = claims_default();
  c.nbf = c.exp + 1;
  g_assert_null(tm_token_sign(&c, key, sizeof key));
  c = claims_default();
  c.iat = -1;
  g_assert_null(tm_token_sign(&c, key, sizeof key));
}

static void
test_strerror(void)
{
  g_assert_cmpstr(tm_token_strerror(TM_TOKEN_ERR_EXPIRED), ==, "the token has expired");
  for (int i = 0; i < TM_TOKEN_ERR_COUNT; i++) {
    const char *s = tm_token_strerror((TmTokenError) i);
    g_assert_true(g_str_has_prefix(s, "the token"));
    for (int j = 0; j < i; j++)
      g_assert_cmpstr(s, !=, tm_token_strerror((TmTokenError) j));
  }
  g_assert_cmpstr(tm_token_strerror(TM_TOKEN_ERR_COUNT), ==, "unknown token error");
  g_assert_cmpstr(tm_token_strerror((TmTokenError) -1), ==, "unknown token error");
}

static void
test_roles(void)
{
  for (int r = 0; r < TM_ROLE_COUNT; r++) {
    TmRole back;
    g_assert_true(tm_role_from_string(tm_role_to_string((TmRole) r), &back));
    g_assert_cmpint(back, ==, r);
  }
  TmRole role = TM_ROLE_OBSERVER;
  g_assert_false(tm_role_from_string("Judge", &role));
  g_assert_false(tm_role_from_string("judge ", &role));
  g_assert_false(tm_role_from_string("", &role));
  g_assert_false(tm_role_from_string(NULL, &role));
  g_assert_cmpint(role, ==, TM_ROLE_OBSERVER);
  g_assert_cmpstr(tm_role_to_string(TM_ROLE_DEFENCE), ==, "defence");
  g_assert_cmpstr(tm_role_to_string(TM_ROLE_COUNT), ==, "unknown");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/token/round-trip", test_round_trip);
  g_test_add_func("/token/interop", test_interop);
  g_test_add_func("/token/expired", test_expired);
  g_test_add_func("/token/not-yet-valid", test_not_yet_valid);
  g_test_add_func("/token/forged/signature", test_forged_signature);
  g_test_add_func("/token/forged/payload", test_forged_payload);
  g_test_add_func("/token/wrong-hearing", test_wrong_hearing);
  g_test_add_func("/token/alg", test_alg);
  g_test_add_func("/token/malformed", test_malformed);
  g_test_add_func("/token/too-long", test_too_long);
  g_test_add_func("/token/claims", test_claims);
  g_test_add_func("/token/sign-refuses-invalid-claims", test_sign_refuses_invalid_claims);
  g_test_add_func("/token/strerror", test_strerror);
  g_test_add_func("/role/names", test_roles);
  return g_test_run();
}
