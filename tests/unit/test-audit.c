/* test-audit.c — the audit log as an attacker who can write the state directory meets it: every
 * write is signed as the relay makes it, so altering, rewriting, inserting, deleting, re-signing
 * with another key or moving a log to another hearing names the first line that fails; what a
 * participant can make the log grow by in an hour stays under its bound. */
#include <glib.h>
#include <openssl/evp.h>
#include <string.h>

#include "audit.h"
#include "util.h"

typedef struct {
  EVP_PKEY *key;
  uint8_t pub[TM_AUDIT_KEY_LEN];
  const char *hearing;
  TmAuditChain chain;
  GPtrArray *lines;
  guint64 bytes;
} Log;

static EVP_PKEY *
ed25519_new(uint8_t pub[TM_AUDIT_KEY_LEN])
{
  EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
  g_assert_nonnull(k);
  size_t n = TM_AUDIT_KEY_LEN;
  g_assert_cmpint(EVP_PKEY_get_raw_public_key(k, pub, &n), ==, 1);
  return k;
}

static void
log_add(Log *log, char *line)
{
  log->bytes += strlen(line) + 1;
  g_ptr_array_add(log->lines, line);
}

/* The relay's checkpoint (or closing signature) after a write. */
static void
log_sign(Log *log, gboolean end)
{
  g_autofree char *text = tm_audit_signed_text(&log->chain, log->hearing, end);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  uint8_t sig[64];
  size_t n = sizeof sig;
  g_assert_cmpint(EVP_DigestSignInit(ctx, NULL, NULL, NULL, log->key), ==, 1);
  g_assert_cmpint(EVP_DigestSign(ctx, sig, &n, (const unsigned char *) text, strlen(text)), ==, 1);
  EVP_MD_CTX_free(ctx);
  log_add(log, tm_audit_signature_line(&log->chain, sig, n, end));
}

static void
log_init(Log *log, EVP_PKEY *key, const uint8_t *pub, const char *hearing)
{
  memset(log, 0, sizeof *log);
  log->key = key;
  memcpy(log->pub, pub, TM_AUDIT_KEY_LEN);
  log->hearing = hearing;
  log->lines = g_ptr_array_new_with_free_func(g_free);
  tm_audit_chain_init(&log->chain);
  log_add(
    log,
    tm_audit_chain_open(&log->chain, "2026-11-30T15:00:00.000000Z", hearing, "BK-2026-117", pub));
  log_sign(log, FALSE);
}

static void
log_entry(Log *log, const char *action, const char *detail)
{
  log_add(log,
          tm_audit_chain_append(&log->chain, "2026-11-30T15:00:01.000000Z",
                                "p1 Judge \"S\" (judge)", action, "p2 Witness (witness)", detail));
  log_sign(log, FALSE);
}

static char *
log_text(Log *log)
{
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < log->lines->len; i++)
    g_string_append_printf(s, "%s\n", (char *) g_ptr_array_index(log->lines, i));
  return g_string_free(s, FALSE);
}

static char *
line(Log *log, guint no)
{
  return g_ptr_array_index(log->lines, no - 1);
}

static void
set_line(Log *log, guint no, char *text)
{
  g_free(g_ptr_array_index(log->lines, no - 1));
  g_ptr_array_index(log->lines, no - 1) = text;
}

static TmAuditError
verify(Log *log, const uint8_t *pinned, const char *hearing, TmAuditReport *r)
{
  g_autofree char *text = log_text(log);
  return tm_audit_verify(text, strlen(text), pinned, hearing, r);
}

/* Open (seq 1) and four entries, each followed by its checkpoint: entry k is line 2k - 1. */
static void
make_log(Log *log, EVP_PKEY *key, const uint8_t *pub, gboolean closed)
{
  static const char *const actions[] = { "join", "admit", "mute", "protect" };
  log_init(log, key, pub, "h1");
  for (gsize i = 0; i < G_N_ELEMENTS(actions); i++)
    log_entry(log, actions[i], "ทดสอบ detail");
  if (closed)
    log_sign(log, TRUE);
}

static void
log_clear(Log *log)
{
  g_ptr_array_unref(log->lines);
}

static void
test_good(void)
{
  uint8_t pub[TM_AUDIT_KEY_LEN];
  EVP_PKEY *key = ed25519_new(pub);
  Log log;
  make_log(&log, key, pub, TRUE);
  TmAuditReport r;
  g_assert_cmpint(verify(&log, pub, "h1", &r), ==, TM_AUDIT_OK);
  g_assert_cmpuint(r.entries, ==, 5);
  g_assert_cmpuint(r.checkpointed, ==, 5);
  g_assert_true(r.signed_log && r.key_pinned);
  g_assert_cmpstr(r.hearing, ==, "h1");
  g_assert_cmpstr(r.case_number, ==, "BK-2026-117");
  g_assert_nonnull(strstr(line(&log, 1), "\"action\":\"log-open\""));
  g_assert_nonnull(strstr(line(&log, 1), "\"prev\":\"0000000000"));
  /* Without a pinned key the log is checked against the key it names: integrity only. */
  g_assert_cmpint(verify(&log, NULL, NULL, &r), ==, TM_AUDIT_OK);
  g_assert_false(r.key_pinned);
  g_assert_cmpmem(r.key, TM_AUDIT_KEY_LEN, pub, TM_AUDIT_KEY_LEN);
  /* Open: every entry signed, not closed. */
  Log open;
  make_log(&open, key, pub, FALSE);
  g_assert_cmpint(verify(&open, pub, "h1", &r), ==, TM_AUDIT_ERR_UNSIGNED);
  g_assert_cmpuint(r.checkpointed, ==, 5);
  log_clear(&open);
  log_clear(&log);
  EVP_PKEY_free(key);
}

static void
test_altered(void)
{
  uint8_t pub[TM_AUDIT_KEY_LEN];
  EVP_PKEY *key = ed25519_new(pub);
  for (guint victim = 1; victim <= 5; victim++) {
    Log log;
    make_log(&log, key, pub, TRUE);
    char *p = strstr(line(&log, 2 * victim - 1), "\"actor\":\"");
    g_assert_nonnull(p);
    p[10] = p[10] == 'x' ? 'y' : 'x';
    TmAuditReport r;
    g_assert_cmpint(verify(&log, pub, "h1", &r), ==, TM_AUDIT_ERR_HASH);
    g_assert_cmpuint(r.line, ==, 2 * victim - 1);
    log_clear(&log);
  }
  EVP_PKEY_free(key);
}

/* Issue: the relay continued and signed a log rewritten while its hearing was empty. Whoever
 * rewrites an entry and rebuilds the chain after it cannot rebuild the checkpoints. */
static void
test_rewritten_chain(void)
{
  uint8_t pub[TM_AUDIT_KEY_LEN];
  EVP_PKEY *key = ed25519_new(pub);
  Log log;
  make_log(&log, key, pub, FALSE);
  /* The attacker's chain: same entries, entry 3 ("admit") now says "refuse". */
  TmAuditChain forged;
  tm_audit_chain_init(&forged);
  set_line(&log, 1,
           tm_audit_chain_open(&forged, "2026-11-30T15:00:00.000000Z", "h1", "BK-2026-117", pub));
  static const char *const actions[] = { "join", "refuse", "mute", "protect" };
  for (guint i = 0; i < G_N_ELEMENTS(actions); i++)
    set_line(&log, 3 + 2 * i,
             tm_audit_chain_append(&forged, "2026-11-30T15:00:01.000000Z", "p1 Judge \"S\" (judge)",
                                   actions[i], "p2 Witness (witness)", "ทดสอบ detail"));
  TmAuditReport r;
  g_assert_cmpint(verify(&log, pub, "h1", &r), ==, TM_AUDIT_ERR_CHECKPOINT);
  g_assert_cmpuint(r.line, ==, 6); /* the checkpoint after the rewritten entry */
  g_assert_cmpuint(r.checkpointed, ==, 2);
  g_autofree char *text = log_text(&log);
  g_assert_false(tm_audit_problem_in_tail(text, strlen(text), &r));
  /* Taking the checkpoints out as well leaves entries that nothing signed. */
  for (guint no = 10; no >= 6; no -= 2)
    g_ptr_array_remove_index(log.lines, no - 1);
  g_assert_cmpint(verify(&log, pub, "h1", &r), ==, TM_AUDIT_ERR_UNCHECKPOINTED);
  g_assert_cmpuint(r.line, ==, 5);
  g_assert_cmpuint(r.checkpointed, ==, 2);
  g_free(text);
  text = log_text(&log);
  g_assert_true(tm_audit_problem_in_tail(text, strlen(text), &r));
  /* What the relay keeps when it continues such a log: the signed part. */
  g_assert_cmpint(tm_audit_verify(text, r.signed_bytes, pub, "h1", &r), ==, TM_AUDIT_ERR_UNSIGNED);
  g_assert_cmpuint(r.entries, ==, 2);
  log_clear(&log);
  EVP_PKEY_free(key);
}

static void
test_deleted_inserted_moved(void)
{
  uint8_t pub[TM_AUDIT_KEY_LEN];
  EVP_PKEY *key = ed25519_new(pub);
  TmAuditReport r;
  for (guint victim = 2; victim <= 5; victim++) {
    Log log;
    make_log(&log, key, pub, TRUE);
    g_ptr_array_remove_range(log.lines, 2 * victim - 2, 2); /* the entry and its checkpoint */
    TmAuditError e = verify(&log, pub, "h1", &r);
    /* the entry after the deleted one, or the closing signature when the last one went */
    g_assert_cmpint(e, ==, victim < 5 ? TM_AUDIT_ERR_CHAIN : TM_AUDIT_ERR_SIGNATURE);
    g_assert_cmpuint(r.line, ==, 2 * victim - 1);
    log_clear(&log);
  }
  Log log;
  make_log(&log, key, pub, TRUE);
  char *t = line(&log, 5);
  g_ptr_array_index(log.lines, 4) = line(&log, 7);
  g_ptr_array_index(log.lines, 6) = t;
  g_assert_cmpint(verify(&log, pub, "h1", &r), ==, TM_AUDIT_ERR_CHAIN);
  g_assert_cmpuint(r.line, ==, 5);
  log_clear(&log);
  /* Nothing may follow the closing signature... */
  make_log(&log, key, pub, TRUE);
  log_add(&log, g_strdup("{\"seq\":6}"));
  g_assert_cmpint(verify(&log, pub, "h1", &r), ==, TM_AUDIT_ERR_TRAILING);
  g_assert_cmpuint(r.line, ==, 12);
  log_clear(&log);
  /* ...but a retention entry, signed again as the end; no other entry, even signed. */
  make_log(&log, key, pub, TRUE);
  log_add(&log,
          tm_audit_chain_append(&log.chain, "2027-03-01T00:00:00.000000Z", "retention",
                                TM_AUDIT_AFTER_END_ACTION, "", "recording x deleted"));
  g_assert_cmpint(verify(&log, pub, "h1", &r), ==, TM_AUDIT_ERR_UNCHECKPOINTED);
  g_assert_cmpuint(r.line, ==, 12);
  char *text = log_text(&log);
  g_assert_true(tm_audit_problem_in_tail(text, strlen(text), &r)); /* a torn retention write */
  g_free(text);
  log_sign(&log, TRUE);
  g_assert_cmpint(verify(&log, pub, "h1", &r), ==, TM_AUDIT_OK);
  g_assert_cmpuint(r.entries, ==, 6);
  g_assert_cmpuint(r.ended.seq, ==, 5);
  log_entry(&log, "admit", "");
  g_assert_cmpint(verify(&log, pub, "h1", &r), ==, TM_AUDIT_ERR_TRAILING);
  g_assert_cmpuint(r.line, ==, 14);
  log_clear(&log);
  EVP_PKEY_free(key);
}

/* Issue: the verifier said OK for a log signed by a stranger's key, and one hearing's log
 * verified as another's. */
static void
test_foreign_key_and_hearing(void)
{
  uint8_t pub[TM_AUDIT_KEY_LEN], other_pub[TM_AUDIT_KEY_LEN];
  EVP_PKEY *key = ed25519_new(pub), *other = ed25519_new(other_pub);
  Log forged;
  make_log(&forged, other, other_pub, TRUE);
  TmAuditReport r;
  g_assert_cmpint(verify(&forged, pub, "h1", &r), ==, TM_AUDIT_ERR_WRONG_KEY);
  g_assert_cmpuint(r.line, ==, 1);
  g_assert_cmpint(verify(&forged, NULL, "h1", &r), ==, TM_AUDIT_OK);
  g_assert_false(r.key_pinned);
  g_assert_cmpmem(r.key, TM_AUDIT_KEY_LEN, other_pub, TM_AUDIT_KEY_LEN);
  /* A stranger's signatures under the court's key's name fail at the first checkpoint. */
  Log posing;
  log_init(&posing, other, pub, "h1");
  g_assert_cmpint(verify(&posing, pub, "h1", &r), ==, TM_AUDIT_ERR_CHECKPOINT);
  g_assert_cmpuint(r.line, ==, 2);
  g_assert_cmpint(verify(&posing, NULL, NULL, &r), ==, TM_AUDIT_ERR_CHECKPOINT);
  log_clear(&posing);
  Log log;
  make_log(&log, key, pub, TRUE);
  g_assert_cmpint(verify(&log, pub, "h2", &r), ==, TM_AUDIT_ERR_WRONG_HEARING);
  g_assert_cmpstr(r.hearing, ==, "h1");
  /* Renaming the hearing inside the log breaks its hash. */
  char *p = strstr(line(&log, 1), "\"hearing\":\"h1\"");
  p[12] = '2';
  g_assert_cmpint(verify(&log, pub, "h2", &r), ==, TM_AUDIT_ERR_HASH);
  log_clear(&log);
  log_clear(&forged);
  EVP_PKEY_free(key);
  EVP_PKEY_free(other);
}

/* A crash in the middle of a write leaves a torn last line: only the tail is unsigned. */
static void
test_torn_write(void)
{
  uint8_t pub[TM_AUDIT_KEY_LEN];
  EVP_PKEY *key = ed25519_new(pub);
  Log log;
  make_log(&log, key, pub, FALSE);
  g_autofree char *text = log_text(&log);
  size_t cut = strlen(text) - 40; /* inside the last checkpoint */
  TmAuditReport r;
  g_assert_cmpint(tm_audit_verify(text, cut, pub, "h1", &r), ==, TM_AUDIT_ERR_MALFORMED);
  g_assert_cmpuint(r.line, ==, 10);
  g_assert_true(tm_audit_problem_in_tail(text, cut, &r));
  g_assert_cmpint(tm_audit_verify(text, r.signed_bytes, pub, "h1", &r), ==, TM_AUDIT_ERR_UNSIGNED);
  g_assert_cmpuint(r.entries, ==, 4);
  log_clear(&log);
  EVP_PKEY_free(key);
}

/* Issue: every refused control wrote an entry, ~17 KB/s at the message rate limit. One hour of a
 * participant at the relay's message rate (50/s), every control refused, cycling through every
 * action, and of a judge at the same rate with every control accepted while the bound lasts. */
static void
test_flood_hour(void)
{
  static const char *const actions[] = {
    "waiting", "admit", "refuse", "to-waiting", "mute",   "unmute-request", "video-off", "remove",
    "protect", "lock",  "unlock", "end",        "record", "mark",           "unmute",    "video-on",
  };
  uint8_t pub[TM_AUDIT_KEY_LEN];
  EVP_PKEY *key = ed25519_new(pub);
  Log refused, accepted;
  log_init(&refused, key, pub, "h1");
  log_init(&accepted, key, pub, "h1");
  TmAuditRefusal per_action[G_N_ELEMENTS(actions)];
  for (gsize i = 0; i < G_N_ELEMENTS(actions); i++)
    tm_audit_refusal_init(&per_action[i]);
  TmTokenBucket bucket;
  tm_token_bucket_init(&bucket, TM_AUDIT_ACTION_RATE, TM_AUDIT_ACTION_BURST, 0);
  const int64_t hour = (int64_t) 3600 * G_USEC_PER_SEC, step = G_USEC_PER_SEC / 50;
  guint64 messages = 0, refusals_written = 0;
  for (int64_t now = 0; now < hour; now += step, messages++) {
    gsize a = messages % G_N_ELEMENTS(actions);
    guint n = tm_audit_refusal_note(&per_action[a], now);
    if (n > 0) {
      g_autofree char *detail = g_strdup_printf("%s (and %u refused before it)", actions[a], n - 1);
      log_entry(&refused, "refused-control", detail);
      refusals_written += n;
    }
    if (tm_token_bucket_take(&bucket, now))
      log_entry(&accepted, "mark", "exhibit 3 shown to the witness by the prosecutor");
  }
  for (gsize i = 0; i < G_N_ELEMENTS(actions); i++) {
    guint n = tm_audit_refusal_take(&per_action[i]);
    if (n > 0)
      log_entry(&refused, "refused-control", actions[i]);
    refusals_written += n;
  }
  g_assert_cmpuint(messages, ==, 180000);
  g_assert_cmpuint(refusals_written, ==, messages); /* every refusal is counted */
  guint64 bound_refused = G_N_ELEMENTS(actions) * (hour / TM_AUDIT_REFUSAL_INTERVAL_US + 1) + 1;
  guint64 bound_accepted = (guint64) (TM_AUDIT_ACTION_BURST + TM_AUDIT_ACTION_RATE * 3600) + 1;
  g_assert_cmpuint(refused.chain.seq, <=, bound_refused + 1);
  g_assert_cmpuint(accepted.chain.seq, <=, bound_accepted + 1);
  g_test_message("one hour at the message rate: refused %" G_GUINT64_FORMAT
                 " entries, %" G_GUINT64_FORMAT " bytes; accepted %" G_GUINT64_FORMAT
                 " entries, %" G_GUINT64_FORMAT " bytes",
                 refused.chain.seq, refused.bytes, accepted.chain.seq, accepted.bytes);
  g_assert_cmpuint(refused.bytes, <, 512 * 1024);
  g_assert_cmpuint(accepted.bytes, <, 2 * 1024 * 1024);
  /* And the verifier reads it all. */
  TmAuditReport r;
  g_assert_cmpint(verify(&accepted, pub, "h1", &r), ==, TM_AUDIT_ERR_UNSIGNED);
  g_assert_cmpuint(r.entries, ==, accepted.chain.seq);
  log_clear(&refused);
  log_clear(&accepted);
  EVP_PKEY_free(key);
}

static void
test_garbage(void)
{
  static const char *const inputs[] = {
    "",
    "\n\n",
    "not json\n",
    "{\"seq\":1}\n",
    "{\"signature\":5}\n",
    "{\"checkpoint\"",
    "{\"seq\":1,\"hash\":\"zz\"}\n",
    "{\"chec",
    "{",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(inputs); i++) {
    TmAuditReport r;
    TmAuditError e = tm_audit_verify(inputs[i], strlen(inputs[i]), NULL, NULL, &r);
    g_assert_cmpint(e, !=, TM_AUDIT_OK);
    g_assert_cmpuint(r.line, >, 0);
  }
  for (int e = 0; e < TM_AUDIT_ERR_COUNT; e++)
    g_assert_cmpuint(strlen(tm_audit_strerror(e)), >, 10);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/audit/good", test_good);
  g_test_add_func("/audit/altered", test_altered);
  g_test_add_func("/audit/rewritten-chain", test_rewritten_chain);
  g_test_add_func("/audit/deleted-inserted-moved", test_deleted_inserted_moved);
  g_test_add_func("/audit/foreign-key-and-hearing", test_foreign_key_and_hearing);
  g_test_add_func("/audit/torn-write", test_torn_write);
  g_test_add_func("/audit/flood-hour", test_flood_hour);
  g_test_add_func("/audit/garbage", test_garbage);
  return g_test_run();
}
