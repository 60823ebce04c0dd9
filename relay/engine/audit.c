/* audit.c — hash-chained audit log lines, signed checkpoints, and their verification. */
#include "audit.h"

#include <json-glib/json-glib.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <string.h>

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
  g_autofree char *cut = g_utf8_make_valid(value, MIN(strlen(value), TM_AUDIT_FIELD_MAX));
  json_builder_add_string_value(b, cut);
}

static JsonBuilder *
entry_begin(const TmAuditChain *chain, const char *time_utc, const char *actor, const char *action,
            const char *subject, const char *detail)
{
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "seq");
  json_builder_add_int_value(b, (gint64) chain->seq + 1);
  add_member(b, "time", time_utc);
  add_member(b, "actor", actor);
  add_member(b, "action", action);
  add_member(b, "subject", subject);
  add_member(b, "detail", detail);
  return b;
}

/* Adds "prev", hashes the entry, advances the chain and returns the line. */
static gchar *
entry_finish(TmAuditChain *chain, JsonBuilder *b)
{
  add_member(b, "prev", chain->last);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_object_unref(b);
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
tm_audit_chain_open(TmAuditChain *chain, const char *time_utc, const char *hearing_id,
                    const char *case_number, const uint8_t key[TM_AUDIT_KEY_LEN])
{
  g_return_val_if_fail(chain->seq == 0, NULL);
  JsonBuilder *b = entry_begin(chain, time_utc, "relay", "log-open", "", "");
  g_autofree char *key_b64 = g_base64_encode(key, TM_AUDIT_KEY_LEN);
  add_member(b, "hearing", hearing_id);
  add_member(b, "case", case_number);
  add_member(b, "key", key_b64);
  return entry_finish(chain, b);
}

gchar *
tm_audit_chain_append(TmAuditChain *chain, const char *time_utc, const char *actor,
                      const char *action, const char *subject, const char *detail)
{
  return entry_finish(chain, entry_begin(chain, time_utc, actor, action, subject, detail));
}

gchar *
tm_audit_signed_text(const TmAuditChain *chain, const char *hearing_id, bool end)
{
  return g_strdup_printf("testimony-audit-v2:%s:%s:%" G_GUINT64_FORMAT ":%s",
                         end ? "end" : "checkpoint", hearing_id, chain->seq, chain->last);
}

gchar *
tm_audit_signature_line(const TmAuditChain *chain, const uint8_t *sig, size_t sig_len, bool end)
{
  g_autofree char *b64 = g_base64_encode(sig, sig_len);
  return g_strdup_printf("{\"%s\":\"%s\"%s,\"entries\":%" G_GUINT64_FORMAT ",\"last\":\"%s\"}",
                         end ? "signature" : "checkpoint", b64, end ? ",\"alg\":\"Ed25519\"" : "",
                         chain->seq, chain->last);
}

/* ---- verification ---- */

typedef struct {
  TmAuditReport *report;
  const uint8_t *pinned;
  const char *expected_hearing;
  EVP_PKEY *key;              /* from the pinned key or the first entry */
  guint first_unchecked_line; /* line of the first entry after the last checkpoint */
  bool signed_line;           /* the line just checked was a signature that verified */
  bool after_end;             /* a closing signature came before: retention entries only */
} Verifier;

static JsonObject *
parse_object(JsonParser *parser, const char *line, size_t len)
{
  if (!json_parser_load_from_data(parser, line, (gssize) len, NULL))
    return NULL;
  JsonNode *root = json_parser_get_root(parser);
  return root != NULL && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
}

static const char *
string_member(JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member(o, name);
  return n != NULL && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
    ? json_node_get_string(n)
    : NULL;
}

static gint64
int_member(JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member(o, name);
  return n != NULL && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64
    ? json_node_get_int(n)
    : -1;
}

/* The first entry: the hearing, case and key it names, checked against what the caller expects. */
static TmAuditError
check_open(Verifier *v, JsonObject *o)
{
  TmAuditReport *r = v->report;
  const char *action = string_member(o, "action");
  const char *hearing = string_member(o, "hearing");
  const char *case_number = string_member(o, "case");
  const char *key_b64 = string_member(o, "key");
  if (action == NULL || strcmp(action, "log-open") != 0 || hearing == NULL || *hearing == '\0' ||
      strlen(hearing) > TM_AUDIT_MAX_HEARING || case_number == NULL ||
      strlen(case_number) > TM_AUDIT_FIELD_MAX || key_b64 == NULL)
    return TM_AUDIT_ERR_NO_OPEN;
  gsize key_len = 0;
  g_autofree guchar *key = g_base64_decode(key_b64, &key_len);
  if (key_len != TM_AUDIT_KEY_LEN)
    return TM_AUDIT_ERR_NO_OPEN;
  g_strlcpy(r->hearing, hearing, sizeof r->hearing);
  g_strlcpy(r->case_number, case_number, sizeof r->case_number);
  memcpy(r->key, key, TM_AUDIT_KEY_LEN);
  if (v->expected_hearing != NULL && strcmp(v->expected_hearing, hearing) != 0)
    return TM_AUDIT_ERR_WRONG_HEARING;
  if (v->pinned != NULL && memcmp(v->pinned, key, TM_AUDIT_KEY_LEN) != 0)
    return TM_AUDIT_ERR_WRONG_KEY;
  v->key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
                                       v->pinned != NULL ? v->pinned : r->key, TM_AUDIT_KEY_LEN);
  return v->key != NULL ? TM_AUDIT_OK : TM_AUDIT_ERR_NO_OPEN;
}

/* A checkpoint or the closing signature: it must name the chain as it stands and verify. */
static TmAuditError
check_signature(Verifier *v, JsonObject *o, const char *member, bool end)
{
  TmAuditReport *r = v->report;
  TmAuditError bad = end ? TM_AUDIT_ERR_SIGNATURE : TM_AUDIT_ERR_CHECKPOINT;
  if (v->key == NULL)
    return TM_AUDIT_ERR_NO_OPEN;
  const char *b64 = string_member(o, member);
  const char *last = string_member(o, "last");
  if (b64 == NULL || last == NULL || strcmp(last, r->chain.last) != 0 ||
      int_member(o, "entries") != (gint64) r->chain.seq)
    return bad;
  gsize sig_len = 0;
  g_autofree guchar *sig = g_base64_decode(b64, &sig_len);
  g_autofree char *text = tm_audit_signed_text(&r->chain, r->hearing, end);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  bool ok = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, v->key) == 1 &&
    EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *) text, strlen(text)) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok)
    return bad;
  r->checkpointed = r->chain.seq;
  v->signed_line = true;
  return TM_AUDIT_OK;
}

/* One entry line: its hash, its link to the chain, and for the first, what it names. */
static TmAuditError
check_entry(Verifier *v, const char *line, size_t len, guint line_no)
{
  TmAuditChain *chain = &v->report->chain;
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
  const char *prev = string_member(o, "prev");
  if (int_member(o, "seq") != (gint64) chain->seq + 1 || prev == NULL ||
      strcmp(prev, chain->last) != 0)
    return TM_AUDIT_ERR_CHAIN;
  if (chain->seq == 0) {
    TmAuditError e = check_open(v, o);
    if (e != TM_AUDIT_OK)
      return e;
  }
  chain->seq++;
  memcpy(chain->last, hash, sizeof hash);
  if (chain->seq == v->report->checkpointed + 1)
    v->first_unchecked_line = line_no;
  return TM_AUDIT_OK;
}

/* 1 for a checkpoint line, 2 for the closing signature, 0 for anything else. */
static int
signature_kind(const char *line, size_t n)
{
  static const char *const starts[] = { "{\"checkpoint\"", "{\"signature\"" };
  for (gsize i = 0; i < G_N_ELEMENTS(starts); i++)
    if (n >= strlen(starts[i]) && memcmp(line, starts[i], strlen(starts[i])) == 0)
      return (int) i + 1;
  return 0;
}

/* After a closing signature: only a retention entry may follow (its own checks come next). */
static bool
after_end_allowed(const char *line, size_t n)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject *o = signature_kind(line, n) == 0 ? parse_object(parser, line, n) : NULL;
  const char *action = o != NULL ? string_member(o, "action") : NULL;
  return action != NULL && strcmp(action, TM_AUDIT_AFTER_END_ACTION) == 0;
}

static TmAuditError
check_line(Verifier *v, const char *line, size_t n, guint line_no)
{
  if (n > TM_AUDIT_MAX_LINE)
    return v->report->signed_log ? TM_AUDIT_ERR_TRAILING : TM_AUDIT_ERR_MALFORMED;
  if (v->report->signed_log) {
    if (!after_end_allowed(line, n))
      return TM_AUDIT_ERR_TRAILING;
    v->report->signed_log = false; /* the new entries need a closing signature of their own */
    v->after_end = true;
  }
  int kind = signature_kind(line, n);
  if (kind == 0) {
    if (v->after_end && !after_end_allowed(line, n))
      return TM_AUDIT_ERR_TRAILING;
    return check_entry(v, line, n, line_no);
  }
  bool checkpoint = kind == 1;
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject *o = parse_object(parser, line, n);
  if (o == NULL)
    return TM_AUDIT_ERR_MALFORMED;
  TmAuditError e = check_signature(v, o, checkpoint ? "checkpoint" : "signature", !checkpoint);
  if (e == TM_AUDIT_OK && !checkpoint) {
    v->report->signed_log = true;
    if (v->report->ended.seq == 0)
      v->report->ended = v->report->chain;
  }
  return e;
}

TmAuditError
tm_audit_verify(const char *text, size_t len, const uint8_t *pinned_key,
                const char *expected_hearing, TmAuditReport *report)
{
  memset(report, 0, sizeof *report);
  tm_audit_chain_init(&report->chain);
  report->key_pinned = pinned_key != NULL;
  Verifier v = { .report = report, .pinned = pinned_key, .expected_hearing = expected_hearing };
  size_t pos = 0;
  guint line_no = 0;
  TmAuditError e = TM_AUDIT_OK;
  while (pos < len && e == TM_AUDIT_OK) {
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t n = nl != NULL ? (size_t) (nl - (text + pos)) : len - pos;
    const char *line = text + pos;
    pos += n + (nl != NULL);
    line_no++;
    if (n > 0)
      e = check_line(&v, line, n, line_no);
    if (e == TM_AUDIT_OK && v.signed_line)
      report->signed_bytes = pos;
    v.signed_line = false;
  }
  if (e == TM_AUDIT_OK && report->chain.seq == 0) {
    e = TM_AUDIT_ERR_NO_OPEN; /* empty */
    line_no = 1;
  } else if (e == TM_AUDIT_OK && !report->signed_log) {
    e = report->checkpointed < report->chain.seq ? TM_AUDIT_ERR_UNCHECKPOINTED
                                                 : TM_AUDIT_ERR_UNSIGNED;
    line_no = e == TM_AUDIT_ERR_UNCHECKPOINTED ? v.first_unchecked_line : 0;
  }
  EVP_PKEY_free(v.key);
  report->entries = report->chain.seq;
  report->line = e != TM_AUDIT_OK ? line_no : 0;
  return report->error = e;
}

bool
tm_audit_problem_in_tail(const char *text, size_t len, const TmAuditReport *report)
{
  if (report->error == TM_AUDIT_OK || report->error == TM_AUDIT_ERR_UNSIGNED ||
      report->signed_log || report->signed_bytes > len || report->checkpointed == 0)
    return false;
  for (size_t pos = report->signed_bytes; pos < len;) {
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t n = nl != NULL ? (size_t) (nl - (text + pos)) : len - pos;
    if (nl != NULL && signature_kind(text + pos, n) != 0)
      return false; /* a whole signature line (a torn last line does not count) */
    pos += n + 1;
  }
  return true;
}

/* One message a line: clang warns of split literals in an initializer. */
/* clang-format off */
static const char *const audit_errors[TM_AUDIT_ERR_COUNT] = {
  [TM_AUDIT_OK] = "the audit log verifies",
  [TM_AUDIT_ERR_MALFORMED] = "the line is not an audit log entry",
  [TM_AUDIT_ERR_HASH] = "the entry was altered: its hash does not match its contents",
  [TM_AUDIT_ERR_CHAIN] = "the entry does not follow the one before it: one was deleted, inserted or moved",
  [TM_AUDIT_ERR_NO_OPEN] = "the log does not begin with an entry naming its hearing and key",
  [TM_AUDIT_ERR_WRONG_HEARING] = "the log belongs to another hearing",
  [TM_AUDIT_ERR_WRONG_KEY] = "the log names another evidence key than the one given",
  [TM_AUDIT_ERR_CHECKPOINT] = "the checkpoint's signature does not verify: the entries before it were altered, or it was not made by the evidence key",
  [TM_AUDIT_ERR_SIGNATURE] = "the closing signature does not verify against the entries and the key",
  [TM_AUDIT_ERR_UNCHECKPOINTED] = "the entry is not covered by a signed checkpoint: it was added after the relay wrote the log",
  [TM_AUDIT_ERR_UNSIGNED] = "every entry is signed, but the log is not closed (the hearing has not ended)",
  [TM_AUDIT_ERR_TRAILING] = "there are lines after the closing signature other than retention entries",
};
/* clang-format on */

const char *
tm_audit_strerror(TmAuditError err)
{
  return (unsigned) err < TM_AUDIT_ERR_COUNT ? audit_errors[err] : "unknown audit error";
}

/* ---- bounds ---- */

void
tm_audit_refusal_init(TmAuditRefusal *r)
{
  r->next_us = INT64_MIN;
  r->held = 0;
}

guint
tm_audit_refusal_note(TmAuditRefusal *r, int64_t now_us)
{
  if (now_us < r->next_us) {
    r->held++;
    return 0;
  }
  guint n = r->held + 1;
  r->held = 0;
  r->next_us = now_us + TM_AUDIT_REFUSAL_INTERVAL_US;
  return n;
}

guint
tm_audit_refusal_take(TmAuditRefusal *r)
{
  guint n = r->held;
  r->held = 0;
  return n;
}
