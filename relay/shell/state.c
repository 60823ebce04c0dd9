/* state.c — files of the state directory. */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "files.h"
#include "util.h"

void
tm_hearing_record_free(TmHearingRecord *r)
{
  if (r == NULL)
    return;
  g_free(r->id);
  g_free(r->case_number);
  g_free(r->title);
  g_free(r->created);
  g_strfreev(r->protect);
  g_free(r->encrypt_to);
  g_free(r);
}

gboolean
tm_state_ensure(const char *dir, GError **error)
{
  static const char *const subdirs[] = { "", "tls", "keys", "hearings" };
  for (gsize i = 0; i < G_N_ELEMENTS(subdirs); i++) {
    g_autofree char *path = g_build_filename(dir, subdirs[i], NULL);
    if (g_mkdir_with_parents(path, 0700) != 0) {
      int e = errno;
      g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                  "cannot create the state directory %s: %s", path, g_strerror(e));
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
write_fresh_key(const char *path, GError **error)
{
  uint8_t fresh[TM_TOKEN_KEY_LEN];
  if (RAND_bytes(fresh, sizeof fresh) != 1) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "no randomness for a token key");
    return FALSE;
  }
  GString *hex = g_string_new(NULL);
  for (gsize i = 0; i < sizeof fresh; i++)
    g_string_append_printf(hex, "%02x", fresh[i]);
  g_string_append_c(hex, '\n');
  gboolean ok = tm_file_write(path, hex->str, hex->len, TM_WRITE_REPLACE, 0600, error);
  g_string_free(hex, TRUE);
  return ok;
}

static gboolean
read_key(const char *path, uint8_t key[TM_TOKEN_KEY_LEN], GError **error)
{
  g_autofree char *text = NULL;
  if (!tm_file_check_private(path, 077, error) || !g_file_get_contents(path, &text, NULL, error))
    return FALSE;
  g_strstrip(text);
  if (strlen(text) != 2 * TM_TOKEN_KEY_LEN) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "%s is not a token key (expected %d hex digits)", path, 2 * TM_TOKEN_KEY_LEN);
    return FALSE;
  }
  for (gsize i = 0; i < TM_TOKEN_KEY_LEN; i++) {
    int hi = g_ascii_xdigit_value(text[2 * i]), lo = g_ascii_xdigit_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is not a token key", path);
      return FALSE;
    }
    key[i] = (uint8_t) (hi << 4 | lo);
  }
  return TRUE;
}

gboolean
tm_state_token_key(const char *dir, uint8_t key[TM_TOKEN_KEY_LEN], GError **error)
{
  if (!tm_state_ensure(dir, error))
    return FALSE;
  g_autofree char *path = g_build_filename(dir, "keys", "token.key", NULL);
  if (!g_file_test(path, G_FILE_TEST_EXISTS) && !write_fresh_key(path, error))
    return FALSE;
  return read_key(path, key, error);
}

gboolean
tm_state_token_key_previous(const char *dir, uint8_t key[TM_TOKEN_KEY_LEN], GError **error)
{
  g_autofree char *path = g_build_filename(dir, "keys", "token.key.previous", NULL);
  return g_file_test(path, G_FILE_TEST_EXISTS) && read_key(path, key, error);
}

gboolean
tm_state_token_key_rotate(const char *dir, GError **error)
{
  uint8_t key[TM_TOKEN_KEY_LEN];
  if (!tm_state_token_key(dir, key, error))
    return FALSE;
  g_autofree char *path = g_build_filename(dir, "keys", "token.key", NULL);
  g_autofree char *prev = g_build_filename(dir, "keys", "token.key.previous", NULL);
  g_autofree char *next = g_build_filename(dir, "keys", "token.key.new", NULL);
  if (!write_fresh_key(next, error))
    return FALSE;
  if (rename(path, prev) != 0 || rename(next, path) != 0) {
    int e = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot rotate %s: %s", path,
                g_strerror(e));
    return FALSE;
  }
  return TRUE;
}

gboolean
tm_state_revoke(const char *dir, const char *jti, GError **error)
{
  if (!tm_state_ensure(dir, error))
    return FALSE;
  g_autofree char *path = g_build_filename(dir, "keys", "revoked", NULL);
  g_autofree char *line = g_strconcat(jti, "\n", NULL);
  return tm_file_write(path, line, strlen(line), TM_WRITE_APPEND, 0600, error);
}

GHashTable *
tm_state_revoked(const char *dir)
{
  GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *path = g_build_filename(dir, "keys", "revoked", NULL);
  g_autofree char *text = NULL;
  if (g_file_get_contents(path, &text, NULL, NULL)) {
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l != NULL; l++)
      if (**l != '\0')
        g_hash_table_add(set, g_strdup(g_strstrip(*l)));
  }
  return set;
}

char *
tm_state_audit_path(const char *dir, const char *id)
{
  g_autofree char *file = g_strconcat(id, ".audit.jsonl", NULL);
  return g_build_filename(dir, "hearings", file, NULL);
}

static gboolean
make_self_signed(const char *cert_path, const char *key_path, GError **error)
{
  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509 *cert = X509_new();
  gboolean ok = FALSE;
  X509_set_version(cert, 2);
  uint64_t serial = 0;
  RAND_bytes((unsigned char *) &serial, sizeof serial);
  ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert), serial >> 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3650L * 24 * 3600);
  X509_NAME *name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *) "testimony-relay",
                             -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_set_pubkey(cert, key);
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
  X509_EXTENSION *san =
    X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1");
  X509_EXTENSION *bc = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
  X509_add_ext(cert, san, -1);
  X509_add_ext(cert, bc, -1);
  X509_EXTENSION_free(san);
  X509_EXTENSION_free(bc);
  X509_sign(cert, key, EVP_sha256());
  BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
  if (PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) &&
      PEM_write_bio_X509(cb, cert)) {
    char *kd, *cd;
    long kl = BIO_get_mem_data(kb, &kd), cl = BIO_get_mem_data(cb, &cd);
    ok = tm_file_write(key_path, kd, (gsize) kl, TM_WRITE_REPLACE, 0600, error) &&
      g_file_set_contents(cert_path, cd, cl, error);
  } else {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot encode the TLS certificate");
  }
  BIO_free(kb);
  BIO_free(cb);
  X509_free(cert);
  EVP_PKEY_free(key);
  return ok;
}

static char *
cert_fingerprint(const char *cert_path)
{
  g_autofree char *pem = NULL;
  gsize len = 0;
  if (!g_file_get_contents(cert_path, &pem, &len, NULL))
    return g_strdup("?");
  BIO *b = BIO_new_mem_buf(pem, (int) len);
  X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
  BIO_free(b);
  if (x == NULL)
    return g_strdup("?");
  uint8_t d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  X509_digest(x, EVP_sha256(), d, &n);
  X509_free(x);
  char *out = g_malloc(3 * n + 1);
  tm_hex_colon(d, n, out);
  return out;
}

GTlsCertificate *
tm_state_tls_certificate(const char *dir, const char *cert_file, const char *key_file,
                         char **cert_path, char **fingerprint, gboolean *created, GError **error)
{
  *created = FALSE;
  g_autofree char *cp = NULL, *kp = NULL;
  if (cert_file != NULL && *cert_file != '\0') {
    cp = g_strdup(cert_file);
    kp = g_strdup(key_file != NULL && *key_file != '\0' ? key_file : cert_file);
  } else {
    if (!tm_state_ensure(dir, error))
      return NULL;
    cp = g_build_filename(dir, "tls", "cert.pem", NULL);
    kp = g_build_filename(dir, "tls", "key.pem", NULL);
    if (!g_file_test(cp, G_FILE_TEST_EXISTS)) {
      if (!make_self_signed(cp, kp, error))
        return NULL;
      *created = TRUE;
    }
  }
  if (!tm_file_check_private(kp, 007, error))
    return NULL;
  GTlsCertificate *c = g_tls_certificate_new_from_files(cp, kp, error);
  if (c == NULL)
    return NULL;
  *fingerprint = cert_fingerprint(cp);
  *cert_path = g_steal_pointer(&cp);
  return c;
}

gboolean
tm_state_hearing_id_valid(const char *id)
{
  size_t n = id != NULL ? strlen(id) : 0;
  if (n == 0 || n > 64 || id[0] == '.')
    return FALSE;
  for (size_t i = 0; i < n; i++)
    if (!g_ascii_isalnum(id[i]) && id[i] != '.' && id[i] != '_' && id[i] != '-')
      return FALSE;
  return TRUE;
}

static char *
record_path(const char *dir, const char *id)
{
  g_autofree char *file = g_strconcat(id, ".json", NULL);
  return g_build_filename(dir, "hearings", file, NULL);
}

gboolean
tm_state_hearing_save(const char *dir, const TmHearingRecord *rec, GError **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "id");
  json_builder_add_string_value(b, rec->id);
  json_builder_set_member_name(b, "case");
  json_builder_add_string_value(b, rec->case_number != NULL ? rec->case_number : "");
  json_builder_set_member_name(b, "title");
  json_builder_add_string_value(b, rec->title != NULL ? rec->title : "");
  json_builder_set_member_name(b, "created");
  json_builder_add_string_value(b, rec->created != NULL ? rec->created : "");
  json_builder_set_member_name(b, "waiting_room");
  json_builder_add_boolean_value(b, rec->waiting_room);
  json_builder_set_member_name(b, "protect");
  json_builder_begin_array(b);
  for (char **m = rec->protect; m != NULL && *m != NULL; m++)
    json_builder_add_string_value(b, *m);
  json_builder_end_array(b);
  if (rec->encrypt_to != NULL) {
    json_builder_set_member_name(b, "encrypt_to");
    json_builder_add_string_value(b, rec->encrypt_to);
  }
  json_builder_set_member_name(b, "ended");
  json_builder_add_boolean_value(b, rec->ended);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autofree char *text = json_to_string(root, TRUE);
  g_autofree char *path = record_path(dir, rec->id);
  return g_file_set_contents(path, text, -1, error);
}

gboolean
tm_state_hearing_create(const char *dir, const TmHearingRecord *rec, GError **error)
{
  if (!tm_state_hearing_id_valid(rec->id)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "hearing id \"%s\" is not valid: use 1 to 64 letters, digits, '.', '_' or '-'",
                rec->id != NULL ? rec->id : "");
    return FALSE;
  }
  if (!tm_state_ensure(dir, error))
    return FALSE;
  g_autofree char *path = record_path(dir, rec->id);
  if (g_file_test(path, G_FILE_TEST_EXISTS)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS, "hearing %s already exists (%s)", rec->id,
                path);
    return FALSE;
  }
  return tm_state_hearing_save(dir, rec, error);
}

TmHearingRecord *
tm_state_hearing_load(const char *dir, const char *id, GError **error)
{
  if (!tm_state_hearing_id_valid(id)) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "no hearing \"%s\"", id);
    return NULL;
  }
  g_autofree char *path = record_path(dir, id);
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!json_parser_load_from_file(parser, path, error))
    return NULL;
  JsonNode *root = json_parser_get_root(parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is not a hearing record", path);
    return NULL;
  }
  JsonObject *o = json_node_get_object(root);
  TmHearingRecord *r = g_new0(TmHearingRecord, 1);
  r->id = g_strdup(id);
  r->case_number = g_strdup(json_object_get_string_member_with_default(o, "case", ""));
  r->title = g_strdup(json_object_get_string_member_with_default(o, "title", ""));
  r->created = g_strdup(json_object_get_string_member_with_default(o, "created", ""));
  r->waiting_room = json_object_get_boolean_member_with_default(o, "waiting_room", TRUE);
  r->ended = json_object_get_boolean_member_with_default(o, "ended", FALSE);
  const char *enc = json_object_get_string_member_with_default(o, "encrypt_to", NULL);
  r->encrypt_to = enc != NULL && *enc != '\0' ? g_strdup(enc) : NULL;
  GPtrArray *protect = g_ptr_array_new();
  JsonNode *pn = json_object_get_member(o, "protect");
  if (pn != NULL && JSON_NODE_HOLDS_ARRAY(pn)) {
    JsonArray *a = json_node_get_array(pn);
    for (guint i = 0; i < json_array_get_length(a); i++) {
      JsonNode *e = json_array_get_element(a, i);
      if (JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_STRING)
        g_ptr_array_add(protect, g_strdup(json_node_get_string(e)));
    }
  }
  g_ptr_array_add(protect, NULL);
  r->protect = (char **) g_ptr_array_free(protect, FALSE);
  return r;
}
