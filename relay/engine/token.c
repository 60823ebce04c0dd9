/* token.c — join tokens: JWT compact form signed with HS256 (RFC 7515, RFC 7519).
 *
 * Verification order: length cap, three base64url parts (strict: no padding, no characters
 * outside the URL-safe alphabet, no stray bits in the last character, so every token has
 * exactly one spelling), header (alg must be "HS256"), HMAC-SHA256 compared in constant time,
 * and only then the claims are parsed. The claims JSON is therefore always the court issuer's
 * own bytes; json-glib 1.6 is lenient (it wraps out-of-range integers and cuts strings at
 * "\u0000"), which is acceptable for authenticated input, and every claim is still checked
 * by token_claims_valid(), the same check tm_token_sign() applies before signing.
 *
 * Claim rules beyond token.h: jti is printable ASCII without spaces (it is logged and used as a
 * key); the name must be valid UTF-8 without control characters, line or paragraph separators,
 * or bidirectional embeddings, overrides and isolates (which could make a display name read as
 * another); times lie between 1970 and 9999, and nbf (when given) is not after exp. */
#include "token.h"

#include "message.h"

#include <json-glib/json-glib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#define TOKEN_LEEWAY_S 30
#define TOKEN_MAX_TIME INT64_C(253402300799) /* 9999-12-31T23:59:59Z */
#define TOKEN_SIG_LEN 32                     /* HMAC-SHA256 */

static const char token_header_json[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

static const char *const token_errors[TM_TOKEN_ERR_COUNT] = {
  [TM_TOKEN_OK] = "the token is valid",
  [TM_TOKEN_ERR_TOO_LONG] = "the token is longer than 4096 bytes",
  [TM_TOKEN_ERR_MALFORMED] = "the token is not a well-formed HS256 JSON Web Token",
  [TM_TOKEN_ERR_BAD_SIGNATURE] = "the token's signature does not verify",
  [TM_TOKEN_ERR_BAD_CLAIMS] = "the token's claims are missing or invalid",
  [TM_TOKEN_ERR_EXPIRED] = "the token has expired",
  [TM_TOKEN_ERR_NOT_YET_VALID] = "the token is not valid yet",
  [TM_TOKEN_ERR_WRONG_HEARING] = "the token is for another hearing",
};

const char *
tm_token_strerror(TmTokenError err)
{
  if ((unsigned) err >= TM_TOKEN_ERR_COUNT)
    return "unknown token error";
  return token_errors[err];
}

/* ---- base64url (RFC 4648 §5) without padding ---- */

static int
b64url_value(char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return -1;
}

static gchar *
b64url_encode(const void *data, size_t len)
{
  gchar *s = g_base64_encode(data, len);
  size_t n = strlen(s);
  while (n > 0 && s[n - 1] == '=')
    s[--n] = '\0';
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '+')
      s[i] = '-';
    else if (s[i] == '/')
      s[i] = '_';
  }
  return s;
}

/* Decodes LEN characters of S; NULL if S is empty, padded, has a character outside the
 * alphabet, has an impossible length, or sets bits that the last character does not carry. */
static guint8 *
b64url_decode(const char *s, size_t len, gsize *out_len)
{
  if (len == 0 || len % 4 == 1)
    return NULL;
  for (size_t i = 0; i < len; i++) {
    if (b64url_value(s[i]) < 0)
      return NULL;
  }
  int last = b64url_value(s[len - 1]);
  if ((len % 4 == 2 && (last & 0x0f) != 0) || (len % 4 == 3 && (last & 0x03) != 0))
    return NULL;
  g_autofree gchar *std = g_malloc(len + 3);
  for (size_t i = 0; i < len; i++)
    std[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
  size_t n = len;
  while (n % 4 != 0)
    std[n++] = '=';
  std[n] = '\0';
  return g_base64_decode(std, out_len);
}

/* ---- claims ---- */

static gboolean
token_hearing_char(char c)
{
  return g_ascii_isalnum(c) || c == '.' || c == '_' || c == '-';
}

static gboolean
token_jti_char(char c)
{
  return c > ' ' && c < 0x7f;
}

/* 1..CAP-1 characters, all accepted by CHAR_OK, NUL-terminated within CAP. */
static gboolean
token_id_valid(const char *s, size_t cap, gboolean (*char_ok)(char))
{
  size_t n = strnlen(s, cap);
  if (n == 0 || n == cap)
    return FALSE;
  for (size_t i = 0; i < n; i++) {
    if (!char_ok(s[i]))
      return FALSE;
  }
  return TRUE;
}

static gboolean
token_name_char_ok(gunichar c)
{
  if (g_unichar_iscntrl(c))
    return FALSE;
  GUnicodeType type = g_unichar_type(c);
  if (type == G_UNICODE_LINE_SEPARATOR || type == G_UNICODE_PARAGRAPH_SEPARATOR)
    return FALSE;
  /* LRE, RLE, PDF, LRO, RLO and LRI, RLI, FSI, PDI */
  return !(c >= 0x202a && c <= 0x202e) && !(c >= 0x2066 && c <= 0x2069);
}

static gboolean
token_name_valid(const char *name)
{
  size_t n = strnlen(name, TM_TOKEN_NAME_LEN);
  if (n == 0 || n == TM_TOKEN_NAME_LEN || !g_utf8_validate(name, (gssize) n, NULL))
    return FALSE;
  for (const char *p = name; *p != '\0'; p = g_utf8_next_char(p)) {
    if (!token_name_char_ok(g_utf8_get_char(p)))
      return FALSE;
  }
  return TRUE;
}

static gboolean
token_time_valid(int64_t t, int64_t min)
{
  return t >= min && t <= TOKEN_MAX_TIME;
}

static gboolean
token_claims_valid(const TmTokenClaims *c)
{
  return token_id_valid(c->hearing, sizeof c->hearing, token_hearing_char) &&
    (unsigned) c->role < TM_ROLE_COUNT && token_name_valid(c->name) &&
    token_id_valid(c->jti, sizeof c->jti, token_jti_char) && token_time_valid(c->iat, 0) &&
    token_time_valid(c->nbf, 0) && token_time_valid(c->exp, 1) && c->nbf <= c->exp;
}

/* The string member NAME, or NULL when it is absent or not a string. */
static const char *
token_json_string(JsonObject *obj, const char *name)
{
  JsonNode *node = json_object_get_member(obj, name);
  if (node == NULL || json_node_get_value_type(node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string(node);
}

/* Copies string member NAME into BUF (CAP bytes); FALSE if absent, mistyped or too long. */
static gboolean
token_json_copy(JsonObject *obj, const char *name, char *buf, size_t cap)
{
  const char *s = token_json_string(obj, name);
  return s != NULL && g_strlcpy(buf, s, cap) < cap;
}

/* Integer member NAME into *OUT; absent leaves *OUT at 0; FALSE if it is not an integer. */
static gboolean
token_json_int(JsonObject *obj, const char *name, int64_t *out)
{
  JsonNode *node = json_object_get_member(obj, name);
  if (node == NULL)
    return TRUE;
  if (json_node_get_value_type(node) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int(node);
  return TRUE;
}

/* Parses LEN bytes of JSON into a root object; NULL if it is not JSON or not an object. */
static JsonParser *
token_json_parse(const guint8 *json, gsize len, JsonObject **obj)
{
  JsonParser *parser = json_parser_new();
  JsonNode *root = NULL;
  if (json_parser_load_from_data(parser, (const char *) json, (gssize) len, NULL))
    root = json_parser_get_root(parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
    g_object_unref(parser);
    return NULL;
  }
  *obj = json_node_get_object(root);
  return parser;
}

static TmTokenError
token_claims_from_json(const guint8 *json, gsize len, TmTokenClaims *c)
{
  JsonObject *obj = NULL;
  g_autoptr(JsonParser) parser = token_json_parse(json, len, &obj);
  if (parser == NULL)
    return TM_TOKEN_ERR_MALFORMED;
  memset(c, 0, sizeof *c);
  if (!token_json_copy(obj, "hrg", c->hearing, sizeof c->hearing) ||
      !tm_role_from_string(token_json_string(obj, "role"), &c->role) ||
      !token_json_copy(obj, "name", c->name, sizeof c->name) ||
      !token_json_copy(obj, "jti", c->jti, sizeof c->jti) || !token_json_int(obj, "iat", &c->iat) ||
      !token_json_int(obj, "nbf", &c->nbf) || !token_json_int(obj, "exp", &c->exp) ||
      !token_claims_valid(c))
    return TM_TOKEN_ERR_BAD_CLAIMS;
  return TM_TOKEN_OK;
}

static gchar *
token_claims_to_json(const TmTokenClaims *c)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "hrg");
  json_builder_add_string_value(b, c->hearing);
  json_builder_set_member_name(b, "role");
  json_builder_add_string_value(b, tm_role_to_string(c->role));
  json_builder_set_member_name(b, "name");
  json_builder_add_string_value(b, c->name);
  json_builder_set_member_name(b, "jti");
  json_builder_add_string_value(b, c->jti);
  json_builder_set_member_name(b, "iat");
  json_builder_add_int_value(b, c->iat);
  if (c->nbf != 0) {
    json_builder_set_member_name(b, "nbf");
    json_builder_add_int_value(b, c->nbf);
  }
  json_builder_set_member_name(b, "exp");
  json_builder_add_int_value(b, c->exp);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, root);
  return json_generator_to_data(gen, NULL);
}

/* ---- header and signature ---- */

/* alg must be "HS256"; typ, when present, "JWT"; crit (extensions we would have to
 * understand, RFC 7515 §4.1.11) must be absent. Other members are ignored. */
static gboolean
token_header_valid(const guint8 *json, gsize len)
{
  /* read before the signature is checked: json-glib's leniency ("H\S256" as "HS256") is
   * refused by the signalling messages' JSON gate */
  if (tm_message_check_json((const char *) json, len) != NULL)
    return FALSE;
  JsonObject *obj = NULL;
  g_autoptr(JsonParser) parser = token_json_parse(json, len, &obj);
  if (parser == NULL)
    return FALSE;
  const char *alg = token_json_string(obj, "alg");
  if (alg == NULL || strcmp(alg, "HS256") != 0 || json_object_has_member(obj, "crit"))
    return FALSE;
  if (!json_object_has_member(obj, "typ"))
    return TRUE;
  const char *typ = token_json_string(obj, "typ");
  return typ != NULL && g_ascii_strcasecmp(typ, "JWT") == 0;
}

static gboolean
token_hmac(const uint8_t *key, size_t key_len, const char *data, size_t len,
           guint8 mac[TOKEN_SIG_LEN])
{
  size_t mac_len = 0;
  return EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len, (const unsigned char *) data,
                   len, mac, TOKEN_SIG_LEN, &mac_len) != NULL &&
    mac_len == TOKEN_SIG_LEN;
}

gchar *
tm_token_sign(const TmTokenClaims *claims, const uint8_t *key, size_t key_len)
{
  g_return_val_if_fail(claims != NULL, NULL);
  g_return_val_if_fail(key != NULL && key_len > 0, NULL);
  if (!token_claims_valid(claims))
    return NULL;
  g_autofree gchar *payload = token_claims_to_json(claims);
  g_autofree gchar *header64 = b64url_encode(token_header_json, strlen(token_header_json));
  g_autofree gchar *payload64 = b64url_encode(payload, strlen(payload));
  g_autoptr(GString) out = g_string_new(header64);
  g_string_append_c(out, '.');
  g_string_append(out, payload64);
  guint8 mac[TOKEN_SIG_LEN];
  if (!token_hmac(key, key_len, out->str, out->len, mac))
    return NULL;
  g_autofree gchar *sig64 = b64url_encode(mac, sizeof mac);
  g_string_append_c(out, '.');
  g_string_append(out, sig64);
  if (out->len > TM_TOKEN_MAX_LEN)
    return NULL;
  return g_string_free(g_steal_pointer(&out), FALSE);
}

/* ---- verification ---- */

typedef struct {
  guint8 *header;
  gsize header_len;
  guint8 *payload;
  gsize payload_len;
  guint8 *sig;
  gsize sig_len;
  size_t signed_len; /* bytes of "header.payload", the HMAC input */
} TokenParts;

static void
token_parts_clear(TokenParts *p)
{
  g_free(p->header);
  g_free(p->payload);
  g_free(p->sig);
}

/* Exactly three non-empty base64url parts separated by dots. */
static gboolean
token_split(const char *token, size_t len, TokenParts *p)
{
  const char *dot1 = memchr(token, '.', len);
  if (dot1 == NULL)
    return FALSE;
  const char *rest = dot1 + 1;
  const char *end = token + len;
  const char *dot2 = memchr(rest, '.', (size_t) (end - rest));
  if (dot2 == NULL)
    return FALSE;
  p->signed_len = (size_t) (dot2 - token);
  p->header = b64url_decode(token, (size_t) (dot1 - token), &p->header_len);
  p->payload = b64url_decode(rest, (size_t) (dot2 - rest), &p->payload_len);
  p->sig = b64url_decode(dot2 + 1, (size_t) (end - dot2 - 1), &p->sig_len);
  return p->header != NULL && p->payload != NULL && p->sig != NULL;
}

static TmTokenError
token_check_times(const TmTokenClaims *c, int64_t now_unix)
{
  /* Claims are bounded by TOKEN_MAX_TIME, so these sums cannot overflow. */
  if (c->exp + TOKEN_LEEWAY_S <= now_unix)
    return TM_TOKEN_ERR_EXPIRED;
  if (c->nbf != 0 && c->nbf - TOKEN_LEEWAY_S > now_unix)
    return TM_TOKEN_ERR_NOT_YET_VALID;
  return TM_TOKEN_OK;
}

static TmTokenError
token_verify_parts(const char *token, const TokenParts *p, const uint8_t *key, size_t key_len,
                   TmTokenClaims *c)
{
  if (!token_header_valid(p->header, p->header_len))
    return TM_TOKEN_ERR_MALFORMED;
  guint8 mac[TOKEN_SIG_LEN];
  if (!token_hmac(key, key_len, token, p->signed_len, mac) || p->sig_len != TOKEN_SIG_LEN ||
      CRYPTO_memcmp(mac, p->sig, TOKEN_SIG_LEN) != 0)
    return TM_TOKEN_ERR_BAD_SIGNATURE;
  return token_claims_from_json(p->payload, p->payload_len, c);
}

TmTokenError
tm_token_verify(const char *token, size_t len, const uint8_t *key, size_t key_len, int64_t now_unix,
                const char *expected_hearing, TmTokenClaims *out)
{
  if (out != NULL)
    memset(out, 0, sizeof *out);
  g_return_val_if_fail(key != NULL && key_len > 0, TM_TOKEN_ERR_BAD_SIGNATURE);
  if (len > TM_TOKEN_MAX_LEN)
    return TM_TOKEN_ERR_TOO_LONG;
  if (token == NULL)
    return TM_TOKEN_ERR_MALFORMED;
  TokenParts parts = { 0 };
  TmTokenClaims claims;
  TmTokenError err = TM_TOKEN_ERR_MALFORMED;
  if (token_split(token, len, &parts))
    err = token_verify_parts(token, &parts, key, key_len, &claims);
  token_parts_clear(&parts);
  if (err == TM_TOKEN_OK)
    err = token_check_times(&claims, now_unix);
  if (err == TM_TOKEN_OK && expected_hearing != NULL &&
      strcmp(claims.hearing, expected_hearing) != 0)
    err = TM_TOKEN_ERR_WRONG_HEARING;
  if (out != NULL &&
      (err == TM_TOKEN_OK || err == TM_TOKEN_ERR_EXPIRED || err == TM_TOKEN_ERR_NOT_YET_VALID ||
       err == TM_TOKEN_ERR_WRONG_HEARING))
    *out = claims; /* authentic claims: the caller may name or revoke the token */
  return err;
}
