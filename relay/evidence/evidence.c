/* evidence.c — the relay's Ed25519 evidence key and the court's X25519 key files. */
#include "evidence.h"

#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_FILE_CAP (64 * 1024) /* a PEM key is a few hundred bytes */

struct _TmEvidenceKey {
  EVP_PKEY *pkey;
  uint8_t pub[TM_EVIDENCE_PUB_LEN];
  char *pub_pem;
  GMutex lock;
};

static gboolean
fail_openssl(GError **error, const char *what, const char *path)
{
  g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s %s", what, path);
  return FALSE;
}

/* Reads a small file, refusing anything larger than KEY_FILE_CAP. */
static char *
read_capped(const char *path, gsize *len, GError **error)
{
  GStatBuf st;
  if (g_stat(path, &st) != 0) {
    int e = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot read %s: %s", path,
                g_strerror(e));
    return NULL;
  }
  if (st.st_size > KEY_FILE_CAP) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "%s is too large to be a key file (%lld bytes)", path, (long long) st.st_size);
    return NULL;
  }
  char *text = NULL;
  if (!g_file_get_contents(path, &text, len, error))
    return NULL;
  return text;
}

static char *
bio_text(BIO *bio)
{
  char *p = NULL;
  long n = BIO_get_mem_data(bio, &p);
  return n > 0 ? g_strndup(p, (gsize) n) : g_strdup("");
}

static gboolean
create_key(const char *path, GError **error)
{
  EVP_PKEY *pkey = NULL;
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
  BIO *bio = BIO_new(BIO_s_mem());
  gboolean ok = ctx != NULL && bio != NULL && EVP_PKEY_keygen_init(ctx) == 1 &&
    EVP_PKEY_keygen(ctx, &pkey) == 1 &&
    PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) == 1;
  if (!ok) {
    fail_openssl(error, "cannot generate an Ed25519 evidence key for", path);
  } else {
    g_autofree char *pem = bio_text(bio);
    ok = tm_file_write(path, pem, strlen(pem), TM_WRITE_NEW, 0600, error);
    OPENSSL_cleanse(pem, strlen(pem));
  }
  BIO_free(bio);
  EVP_PKEY_free(pkey);
  EVP_PKEY_CTX_free(ctx);
  return ok;
}

/* Reads a key of TYPE from a PEM file: a private key, or when PUBLIC_OK a public key (a private
 * key file of the same type is accepted for a public key too). */
static EVP_PKEY *
read_pem(const char *path, int type, const char *what, gboolean public_ok, GError **error)
{
  gsize len = 0;
  g_autofree char *text = read_capped(path, &len, error);
  if (text == NULL)
    return NULL;
  EVP_PKEY *pkey = NULL;
  if (public_ok) {
    BIO *bio = BIO_new_mem_buf(text, (int) len);
    pkey = bio != NULL ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
  }
  if (pkey == NULL) {
    BIO *bio = BIO_new_mem_buf(text, (int) len);
    pkey = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
  }
  OPENSSL_cleanse(text, len);
  if (pkey == NULL || EVP_PKEY_get_base_id(pkey) != type) {
    EVP_PKEY_free(pkey);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is not %s (PEM)", path, what);
    return NULL;
  }
  return pkey;
}

static gboolean
export_public(TmEvidenceKey *key, const char *pub_path, GError **error)
{
  BIO *bio = BIO_new(BIO_s_mem());
  size_t len = TM_EVIDENCE_PUB_LEN;
  if (bio == NULL || PEM_write_bio_PUBKEY(bio, key->pkey) != 1 ||
      EVP_PKEY_get_raw_public_key(key->pkey, key->pub, &len) != 1 || len != TM_EVIDENCE_PUB_LEN) {
    BIO_free(bio);
    return fail_openssl(error, "cannot export the public evidence key to", pub_path);
  }
  key->pub_pem = bio_text(bio);
  BIO_free(bio);
  g_autofree char *existing = NULL;
  if (g_file_get_contents(pub_path, &existing, NULL, NULL) && strcmp(existing, key->pub_pem) == 0)
    return TRUE;
  g_autofree char *tmp = g_strconcat(pub_path, ".tmp", NULL);
  if (!tm_file_write(tmp, key->pub_pem, strlen(key->pub_pem), TM_WRITE_REPLACE, 0644, error))
    return FALSE;
  if (g_rename(tmp, pub_path) != 0) {
    int e = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot write %s: %s", pub_path,
                g_strerror(e));
    return FALSE;
  }
  return TRUE;
}

TmEvidenceKey *
tm_evidence_key_load(const char *state_dir, GError **error)
{
  g_autofree char *dir = g_build_filename(state_dir, "keys", NULL);
  g_autofree char *path = g_build_filename(dir, "evidence.key", NULL);
  g_autofree char *pub_path = g_build_filename(dir, "evidence.pub", NULL);
  if (g_mkdir_with_parents(dir, 0700) != 0) {
    int e = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot create %s: %s", dir,
                g_strerror(e));
    return NULL;
  }
  if (!g_file_test(path, G_FILE_TEST_EXISTS) && !create_key(path, error))
    return NULL;
  if (!tm_file_check_private(path, 077, error))
    return NULL;
  EVP_PKEY *pkey = read_pem(path, EVP_PKEY_ED25519, "an Ed25519 evidence key", FALSE, error);
  if (pkey == NULL)
    return NULL;
  TmEvidenceKey *key = g_new0(TmEvidenceKey, 1);
  key->pkey = pkey;
  g_mutex_init(&key->lock);
  if (!export_public(key, pub_path, error)) {
    tm_evidence_key_free(key);
    return NULL;
  }
  return key;
}

void
tm_evidence_key_free(TmEvidenceKey *key)
{
  if (key == NULL)
    return;
  EVP_PKEY_free(key->pkey);
  g_free(key->pub_pem);
  g_mutex_clear(&key->lock);
  g_free(key);
}

GBytes *
tm_evidence_sign(TmEvidenceKey *key, const void *data, size_t len)
{
  uint8_t sig[TM_EVIDENCE_SIG_LEN];
  size_t sig_len = sizeof sig;
  g_mutex_lock(&key->lock);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  gboolean ok = ctx != NULL && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key->pkey) == 1 &&
    EVP_DigestSign(ctx, sig, &sig_len, data, len) == 1 && sig_len == TM_EVIDENCE_SIG_LEN;
  EVP_MD_CTX_free(ctx);
  g_mutex_unlock(&key->lock);
  /* Ed25519 signing of an in-memory key cannot fail short of memory exhaustion. */
  g_assert(ok);
  return g_bytes_new(sig, sizeof sig);
}

const uint8_t *
tm_evidence_key_public(const TmEvidenceKey *key)
{
  return key->pub;
}

const char *
tm_evidence_key_public_pem(const TmEvidenceKey *key)
{
  return key->pub_pem;
}

gboolean
tm_evidence_verify(const uint8_t public_key[TM_EVIDENCE_PUB_LEN], const void *data, size_t len,
                   const void *sig, size_t sig_len, GError **error)
{
  if (sig_len != TM_EVIDENCE_SIG_LEN) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "the signature has %zu bytes, an Ed25519 signature has %d", sig_len,
                TM_EVIDENCE_SIG_LEN);
    return FALSE;
  }
  EVP_PKEY *pkey =
    EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, public_key, TM_EVIDENCE_PUB_LEN);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  gboolean ok = pkey != NULL && ctx != NULL &&
    EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
    EVP_DigestVerify(ctx, sig, sig_len, data, len) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pkey);
  if (!ok)
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "the signature does not match: the signed data was altered, or it was signed "
                "with another key");
  return ok;
}

static gboolean
raw_key(EVP_PKEY *pkey, gboolean private_part, uint8_t out[32], const char *path, GError **error)
{
  size_t len = 32;
  int rc = private_part ? EVP_PKEY_get_raw_private_key(pkey, out, &len)
                        : EVP_PKEY_get_raw_public_key(pkey, out, &len);
  EVP_PKEY_free(pkey);
  if (rc != 1 || len != 32)
    return fail_openssl(error, "cannot read the raw key of", path);
  return TRUE;
}

gboolean
tm_evidence_public_load(const char *pem_path, uint8_t out[TM_EVIDENCE_PUB_LEN], GError **error)
{
  EVP_PKEY *pkey = read_pem(pem_path, EVP_PKEY_ED25519, "an Ed25519 public key", TRUE, error);
  return pkey != NULL && raw_key(pkey, FALSE, out, pem_path, error);
}

gboolean
tm_evidence_x25519_public_load(const char *pem_path, uint8_t out[32], GError **error)
{
  EVP_PKEY *pkey = read_pem(pem_path, EVP_PKEY_X25519, "an X25519 public key", TRUE, error);
  return pkey != NULL && raw_key(pkey, FALSE, out, pem_path, error);
}

gboolean
tm_evidence_x25519_private_load(const char *pem_path, uint8_t out[32], GError **error)
{
  EVP_PKEY *pkey = read_pem(pem_path, EVP_PKEY_X25519, "an X25519 private key", FALSE, error);
  return pkey != NULL && raw_key(pkey, TRUE, out, pem_path, error);
}

char *
tm_evidence_fingerprint(const uint8_t public_key[TM_EVIDENCE_PUB_LEN])
{
  uint8_t h[32];
  unsigned int n = 0;
  if (EVP_Digest(public_key, TM_EVIDENCE_PUB_LEN, h, &n, EVP_sha256(), NULL) != 1)
    memset(h, 0, sizeof h);
  GString *s = g_string_sized_new(64);
  for (gsize i = 0; i < sizeof h; i++)
    g_string_append_printf(s, "%02x", h[i]);
  return g_string_free(s, FALSE);
}
