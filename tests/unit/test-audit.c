/* test-audit.c — the audit log's hash chain and signature: a log verifies; altering, deleting
 * or reordering any entry, or signing with another key, names the first line that fails. */
#include <glib.h>
#include <openssl/evp.h>
#include <string.h>

#include "audit.h"

static EVP_PKEY *
ed25519_new(void)
{
  EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
  g_assert_nonnull(k);
  return k;
}

static char *
sign_text(EVP_PKEY *key, const char *text, size_t *len)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  size_t n = 0;
  g_assert_cmpint(EVP_DigestSignInit(ctx, NULL, NULL, NULL, key), ==, 1);
  g_assert_cmpint(EVP_DigestSign(ctx, NULL, &n, (const unsigned char *) text, strlen(text)), ==, 1);
  char *sig = g_malloc(n);
  g_assert_cmpint(EVP_DigestSign(ctx, (unsigned char *) sig, &n, (const unsigned char *) text,
                                 strlen(text)), ==, 1);
  EVP_MD_CTX_free(ctx);
  *len = n;
  return sig;
}

/* Five entries and a signature, as lines (NULL-terminated). */
static GStrv
make_log(EVP_PKEY *key, gboolean with_signature)
{
  static const char *const actions[] = { "join", "admit", "mute", "protect", "leave" };
  TmAuditChain chain;
  tm_audit_chain_init(&chain);
  GPtrArray *lines = g_ptr_array_new();
  for (gsize i = 0; i < G_N_ELEMENTS(actions); i++) {
    g_autofree char *t = g_strdup_printf("2026-11-30T15:00:0%zu.000000Z", i);
    g_ptr_array_add(lines, tm_audit_chain_append(&chain, t, "p1 Judge \"S\" (judge)", actions[i],
                                                 "p2 Witness (witness)", "ทดสอบ detail"));
  }
  if (with_signature) {
    g_autofree char *text = tm_audit_signed_text(&chain);
    size_t n;
    g_autofree char *sig = sign_text(key, text, &n);
    g_ptr_array_add(lines, tm_audit_signature_line(&chain, (const uint8_t *) sig, n));
  }
  g_ptr_array_add(lines, NULL);
  return (GStrv) g_ptr_array_free(lines, FALSE);
}

static TmAuditReport
verify_lines(char **lines, EVP_PKEY *key)
{
  g_autofree char *joined = g_strjoinv("\n", lines);
  g_autofree char *text = g_strconcat(joined, "\n", NULL);
  TmAuditReport r;
  tm_audit_verify(text, strlen(text), key, &r);
  return r;
}

static void
test_good(void)
{
  EVP_PKEY *key = ed25519_new();
  g_auto(GStrv) lines = make_log(key, TRUE);
  TmAuditReport r = verify_lines(lines, key);
  g_assert_cmpint(r.error, ==, TM_AUDIT_OK);
  g_assert_cmpuint(r.entries, ==, 5);
  g_assert_true(r.signed_log);
  g_assert_nonnull(strstr(lines[0], "\"prev\":\"0000000000"));
  g_auto(GStrv) unsigned_lines = make_log(key, FALSE);
  r = verify_lines(unsigned_lines, key);
  g_assert_cmpint(r.error, ==, TM_AUDIT_ERR_UNSIGNED);
  g_assert_cmpuint(r.entries, ==, 5);
  EVP_PKEY_free(key);
}

static void
test_altered(void)
{
  EVP_PKEY *key = ed25519_new();
  for (int victim = 0; victim < 5; victim++) {
    g_auto(GStrv) lines = make_log(key, TRUE);
    char *p = strstr(lines[victim], "\"action\":\"");
    g_assert_nonnull(p);
    p[10] = p[10] == 'x' ? 'y' : 'x';
    TmAuditReport r = verify_lines(lines, key);
    g_assert_cmpint(r.error, ==, TM_AUDIT_ERR_HASH);
    g_assert_cmpuint(r.line, ==, victim + 1);
  }
  EVP_PKEY_free(key);
}

static void
test_deleted_and_reordered(void)
{
  EVP_PKEY *key = ed25519_new();
  for (int victim = 0; victim < 5; victim++) {
    g_auto(GStrv) lines = make_log(key, TRUE);
    g_free(lines[victim]);
    memmove(&lines[victim], &lines[victim + 1], (6 - victim) * sizeof(char *));
    TmAuditReport r = verify_lines(lines, key);
    /* the entry after the deleted one (or the signature, when the last one went) fails */
    g_assert_cmpint(r.error, ==, victim < 4 ? TM_AUDIT_ERR_CHAIN : TM_AUDIT_ERR_SIGNATURE);
    g_assert_cmpuint(r.line, ==, victim + 1);
  }
  for (int first = 0; first < 4; first++) {
    g_auto(GStrv) lines = make_log(key, TRUE);
    char *t = lines[first];
    lines[first] = lines[first + 1];
    lines[first + 1] = t;
    TmAuditReport r = verify_lines(lines, key);
    g_assert_cmpint(r.error, ==, TM_AUDIT_ERR_CHAIN);
    g_assert_cmpuint(r.line, ==, first + 1);
  }
  EVP_PKEY_free(key);
}

static void
test_signature(void)
{
  EVP_PKEY *key = ed25519_new(), *other = ed25519_new();
  g_auto(GStrv) lines = make_log(key, TRUE);
  TmAuditReport r = verify_lines(lines, other);
  g_assert_cmpint(r.error, ==, TM_AUDIT_ERR_SIGNATURE);
  g_assert_cmpuint(r.line, ==, 6);
  /* Whoever rewrites the chain cannot re-sign it. */
  g_auto(GStrv) forged = make_log(other, TRUE);
  r = verify_lines(forged, key);
  g_assert_cmpint(r.error, ==, TM_AUDIT_ERR_SIGNATURE);
  /* Nothing may follow the signature. */
  g_autofree char *extra = g_strconcat(lines[5], "\n{\"seq\":6}", NULL);
  g_free(lines[5]);
  lines[5] = g_steal_pointer(&extra);
  r = verify_lines(lines, key);
  g_assert_cmpint(r.error, ==, TM_AUDIT_ERR_TRAILING);
  g_assert_cmpuint(r.line, ==, 7);
  EVP_PKEY_free(key);
  EVP_PKEY_free(other);
}

static void
test_garbage(void)
{
  static const char *const inputs[] = {
    "", "\n\n", "not json\n", "{\"seq\":1}\n", "{\"signature\":5}\n",
    "{\"seq\":1,\"hash\":\"zz\"}\n",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(inputs); i++) {
    TmAuditReport r;
    TmAuditError e = tm_audit_verify(inputs[i], strlen(inputs[i]), NULL, &r);
    g_assert_cmpint(e, !=, TM_AUDIT_OK);
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
  g_test_add_func("/audit/deleted-and-reordered", test_deleted_and_reordered);
  g_test_add_func("/audit/signature", test_signature);
  g_test_add_func("/audit/garbage", test_garbage);
  return g_test_run();
}
