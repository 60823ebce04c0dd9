/* audit.c — hash-chained, signed audit log lines. */
#include "audit.h"

#include <json-glib/json-glib.h>
#include <openssl/sha.h>
#include <string.h>

#define FIELD_MAX 512
static const char hash_sep[] = ",\"hash\":\"";

void
tm_audit_chain_init(TmAuditChain *chain)
{
  memset(chain->last, '0', TM_AUDIT_HASH_HEX);
  chain->last[TM_AUDIT_HASH_HEX] = '\0';
  chain->seq = 0;
}

static void
sha256_hex(const char *data, size_t len, char out[TM_AUDIT_HASH_HEX + 1])
{
  uint8_t d[SHA256_DIGEST_LENGTH];
  SHA256((const unsigned char *) data, len, d);
  for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
    g_snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void
add_member(JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name(b, name);
  g_autofree char *cut = g_utf8_make_valid(value, MIN(strlen(value), FIELD_MAX));
  json_builder_add_string_value(b, cut);
}

gchar *
tm_audit_chain_append(TmAuditChain *chain, const char *time_utc, const char *actor,
                      const char *action, const char *subject, const char *detail)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "seq");
  json_builder_add_int_value(b, (gint64) chain->seq + 1);
  add_member(b, "time", time_utc);
  add_member(b, "actor", actor);
  add_member(b, "action", action);
  add_member(b, "subject", subject);
  add_member(b, "detail", detail);
  add_member(b, "prev", chain->last);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autofree char *body = json_to_string(root, FALSE);
  char hash[TM_AUDIT_HASH_HEX + 1];
  sha256_hex(body, strlen(body), hash);
  size_t n = strlen(body);
  body[n - 1] = '\0'; /* drop the closing brace */
  chain->seq++;
  memcpy(chain->last, hash, sizeof hash);
  return g_strdup_printf("%s%s%s\"}", body, hash_sep, hash);
}

gchar *
tm_audit_signed_text(const TmAuditChain *chain)
{
  return g_strdup_printf("testimony-audit-v1:%" G_GUINT64_FORMAT ":%s", chain->seq, chain->last);
}

gchar *
tm_audit_signature_line(const TmAuditChain *chain, const uint8_t *sig, size_t sig_len)
{
  g_autofree char *b64 = g_base64_encode(sig, sig_len);
  return g_strdup_printf("{\"signature\":\"%s\",\"alg\":\"Ed25519\",\"entries\":%" G_GUINT64_FORMAT
                         ",\"last\":\"%s\"}",
                         b64, chain->seq, chain->last);
}

static JsonObject *
parse_object(JsonParser *parser, const char *line, size_t len)
{
  if (!json_parser_load_from_data(parser, line, (gssize) len, NULL))
    return NULL;
  JsonNode *root = json_parser_get_root(parser);
  return root != NULL && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
}

static TmAuditError
verify_signature(JsonObject *o, const TmAuditChain *chain, EVP_PKEY *key)
{
  const char *b64 = json_object_get_string_member_with_default(o, "signature", NULL);
  const char *last = json_object_get_string_member_with_default(o, "last", "");
  gint64 entries = json_object_get_int_member_with_default(o, "entries", -1);
  if (b64 == NULL || strcmp(last, chain->last) != 0 || entries != (gint64) chain->seq)
    return TM_AUDIT_ERR_SIGNATURE;
  if (key == NULL)
    return TM_AUDIT_OK;
  gsize sig_len = 0;
  g_autofree guchar *sig = g_base64_decode(b64, &sig_len);
  g_autofree char *text = tm_audit_signed_text(chain);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
            EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *) text, strlen(text)) == 1;
  EVP_MD_CTX_free(ctx);
  return ok ? TM_AUDIT_OK : TM_AUDIT_ERR_SIGNATURE;
}

/* Checks one entry line against the chain and advances it. */
static TmAuditError
verify_entry(const char *line, size_t len, TmAuditChain *chain)
{
  size_t tail = strlen(hash_sep) + TM_AUDIT_HASH_HEX + 2;
  if (len < tail + 2 || memcmp(line + len - tail, hash_sep, strlen(hash_sep)) != 0 ||
      memcmp(line + len - 2, "\"}", 2) != 0)
    return TM_AUDIT_ERR_MALFORMED;
  const char *given = line + len - TM_AUDIT_HASH_HEX - 2;
  g_autofree char *body = g_strndup(line, len - tail + 1);
  body[len - tail] = '}';
  char hash[TM_AUDIT_HASH_HEX + 1];
  sha256_hex(body, len - tail + 1, hash);
  if (memcmp(hash, given, TM_AUDIT_HASH_HEX) != 0)
    return TM_AUDIT_ERR_HASH;
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject *o = parse_object(parser, body, len - tail + 1);
  if (o == NULL)
    return TM_AUDIT_ERR_MALFORMED;
  gint64 seq = json_object_get_int_member_with_default(o, "seq", -1);
  const char *prev = json_object_get_string_member_with_default(o, "prev", "");
  if (seq != (gint64) chain->seq + 1 || strcmp(prev, chain->last) != 0)
    return TM_AUDIT_ERR_CHAIN;
  chain->seq++;
  memcpy(chain->last, hash, sizeof hash);
  return TM_AUDIT_OK;
}

TmAuditError
tm_audit_verify(const char *text, size_t len, EVP_PKEY *public_key, TmAuditReport *report)
{
  memset(report, 0, sizeof *report);
  if (len > TM_AUDIT_MAX_SIZE)
    return report->error = TM_AUDIT_ERR_TOO_LARGE;
  TmAuditChain chain;
  tm_audit_chain_init(&chain);
  size_t pos = 0;
  guint line_no = 0;
  while (pos < len) {
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t n = nl != NULL ? (size_t) (nl - (text + pos)) : len - pos;
    const char *line = text + pos;
    pos += n + (nl != NULL);
    line_no++;
    if (n == 0)
      continue;
    TmAuditError e;
    if (report->signed_log) {
      e = TM_AUDIT_ERR_TRAILING;
    } else if (n > TM_AUDIT_MAX_LINE) {
      e = TM_AUDIT_ERR_MALFORMED;
    } else if (g_str_has_prefix(line, "{\"signature\"")) {
      g_autoptr(JsonParser) parser = json_parser_new();
      JsonObject *o = parse_object(parser, line, n);
      e = o != NULL ? verify_signature(o, &chain, public_key) : TM_AUDIT_ERR_MALFORMED;
      report->signed_log = e == TM_AUDIT_OK;
    } else {
      e = verify_entry(line, n, &chain);
    }
    if (e != TM_AUDIT_OK) {
      report->line = line_no;
      report->entries = chain.seq;
      report->chain = chain;
      return report->error = e;
    }
  }
  report->entries = chain.seq;
  report->chain = chain;
  return report->error = report->signed_log ? TM_AUDIT_OK : TM_AUDIT_ERR_UNSIGNED;
}

static const char *const audit_errors[TM_AUDIT_ERR_COUNT] = {
  [TM_AUDIT_OK] = "the audit log verifies",
  [TM_AUDIT_ERR_MALFORMED] = "the line is not an audit log entry",
  [TM_AUDIT_ERR_HASH] = "the entry was altered: its hash does not match its contents",
  [TM_AUDIT_ERR_CHAIN] = "the entry does not follow the one before it: one was deleted, inserted or moved",
  [TM_AUDIT_ERR_SIGNATURE] = "the signature does not verify against the entries and the key",
  [TM_AUDIT_ERR_UNSIGNED] = "the log is not signed (the hearing has not ended)",
  [TM_AUDIT_ERR_TRAILING] = "there are lines after the signature",
  [TM_AUDIT_ERR_TOO_LARGE] = "the audit log is larger than 64 MiB",
};

const char *
tm_audit_strerror(TmAuditError err)
{
  return (unsigned) err < TM_AUDIT_ERR_COUNT ? audit_errors[err] : "unknown audit error";
}
