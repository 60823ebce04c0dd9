/* dtls.c — DTLS-SRTP handshake on memory BIOs. */
#include "dtls.h"

#include <glib.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string.h>

#define DTLS_MAX_RETRANSMITS 8

struct _TmDtlsIdentity {
  gint refcount;
  EVP_PKEY *key;
  X509 *cert;
  SSL_CTX *ctx; /* shared by every connection (read-only once set up): a context per connection
                 * cost OpenSSL 3 a fifth of a handshake */
  uint8_t fingerprint[TM_DTLS_FINGERPRINT_LEN];
};

typedef enum { STATE_NEW, STATE_HANDSHAKE, STATE_CONNECTED, STATE_FAILED } DtlsState;

struct _TmDtls {
  TmDtlsIdentity *id;
  SSL *ssl;
  BIO *rbio; /* datagrams from the peer, owned by ssl */
  BIO *wbio; /* records to send, owned by ssl */
  TmDtlsRole role;
  uint8_t peer_fp[TM_DTLS_FINGERPRINT_LEN];
  bool fingerprint_mismatch;
  DtlsState state;
  int64_t deadline_us;
  unsigned retransmits;
  /* The handshake's round trip: when our last flight last went out, whether it awaits an
   * answer, and the shortest answer so far (0: none). */
  int64_t flight_us;
  bool flight_awaits;
  double rtt_ms;
  TmDtlsListener listener;
  void *user_data;
};

static int dtls_ex_index = -1;
static gsize dtls_ex_once = 0;

static int verify_cb(int preverify_ok, X509_STORE_CTX *store);

/* The context every connection of ID is made from. No session cache and no tickets: a shared
 * context would otherwise keep every session (and the peer's certificate) until it expires, and
 * a resumed session skips the certificate check against the SDP fingerprint (verify_cb). Browsers
 * never resume a DTLS-SRTP session. */
static SSL_CTX *
identity_ctx_new(TmDtlsIdentity *id)
{
  SSL_CTX *ctx = SSL_CTX_new(DTLS_method());
  g_assert(ctx != NULL);
  SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION);
  SSL_CTX_use_certificate(ctx, id->cert);
  SSL_CTX_use_PrivateKey(ctx, id->key);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
  SSL_CTX_set_tlsext_use_srtp(ctx, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80");
  SSL_CTX_set_cipher_list(ctx,
                          "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                          "ECDHE-ECDSA-CHACHA20-POLY1305");
  SSL_CTX_set_read_ahead(ctx, 1);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  return ctx;
}

TmDtlsIdentity *
tm_dtls_identity_new(int64_t now_unix)
{
  TmDtlsIdentity *id = g_new0(TmDtlsIdentity, 1);
  id->refcount = 1;
  id->key = EVP_EC_gen("P-256");
  id->cert = X509_new();
  g_assert(id->key != NULL && id->cert != NULL);
  X509_set_version(id->cert, 2);
  uint64_t serial;
  RAND_bytes((unsigned char *) &serial, sizeof serial);
  ASN1_INTEGER_set_uint64(X509_get_serialNumber(id->cert), serial >> 1);
  time_t now = (time_t) now_unix;
  X509_time_adj_ex(X509_getm_notBefore(id->cert), -1, 0, &now);
  X509_time_adj_ex(X509_getm_notAfter(id->cert), 30, 0, &now);
  X509_NAME *name = X509_get_subject_name(id->cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *) "testimony-relay",
                             -1, -1, 0);
  X509_set_issuer_name(id->cert, name);
  X509_set_pubkey(id->cert, id->key);
  X509_sign(id->cert, id->key, EVP_sha256());
  unsigned int n = 0;
  X509_digest(id->cert, EVP_sha256(), id->fingerprint, &n);
  id->ctx = identity_ctx_new(id);
  return id;
}

TmDtlsIdentity *
tm_dtls_identity_ref(TmDtlsIdentity *id)
{
  g_atomic_int_inc(&id->refcount);
  return id;
}

void
tm_dtls_identity_unref(TmDtlsIdentity *id)
{
  if (id == NULL || !g_atomic_int_dec_and_test(&id->refcount))
    return;
  SSL_CTX_free(id->ctx);
  X509_free(id->cert);
  EVP_PKEY_free(id->key);
  g_free(id);
}

const uint8_t *
tm_dtls_identity_fingerprint(const TmDtlsIdentity *id)
{
  return id->fingerprint;
}

/* The peer's certificate is self-signed; what matters is that it is the one the SDP names. */
static int
verify_cb(int preverify_ok, X509_STORE_CTX *store)
{
  (void) preverify_ok;
  SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
  TmDtls *d = SSL_get_ex_data(ssl, dtls_ex_index);
  if (X509_STORE_CTX_get_error_depth(store) != 0)
    return 1;
  X509 *cert = X509_STORE_CTX_get_current_cert(store);
  uint8_t fp[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (cert == NULL || !X509_digest(cert, EVP_sha256(), fp, &n) || n != TM_DTLS_FINGERPRINT_LEN ||
      CRYPTO_memcmp(fp, d->peer_fp, n) != 0) {
    d->fingerprint_mismatch = true;
    return 0;
  }
  return 1;
}

TmDtls *
tm_dtls_new(TmDtlsIdentity *id, TmDtlsRole role, const uint8_t *peer_fingerprint,
            size_t peer_fingerprint_len, const TmDtlsListener *listener, void *user_data)
{
  if (g_once_init_enter(&dtls_ex_once)) {
    dtls_ex_index = SSL_get_ex_new_index(0, (void *) "testimony", NULL, NULL, NULL);
    g_once_init_leave(&dtls_ex_once, 1);
  }
  TmDtls *d = g_new0(TmDtls, 1);
  d->id = tm_dtls_identity_ref(id);
  d->role = role;
  d->listener = *listener;
  d->user_data = user_data;
  d->deadline_us = INT64_MAX;
  if (peer_fingerprint_len == TM_DTLS_FINGERPRINT_LEN)
    memcpy(d->peer_fp, peer_fingerprint, TM_DTLS_FINGERPRINT_LEN);
  else
    d->fingerprint_mismatch = true; /* nothing can match */
  d->ssl = SSL_new(id->ctx);
  SSL_set_ex_data(d->ssl, dtls_ex_index, d);
  d->rbio = BIO_new(BIO_s_mem());
  d->wbio = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(d->rbio, -1);
  SSL_set_bio(d->ssl, d->rbio, d->wbio);
  SSL_set_options(d->ssl, SSL_OP_NO_QUERY_MTU);
  SSL_set_mtu(d->ssl, TM_DTLS_MTU);
  DTLS_set_link_mtu(d->ssl, TM_DTLS_MTU);
  if (role == TM_DTLS_ROLE_SERVER)
    SSL_set_accept_state(d->ssl);
  else
    SSL_set_connect_state(d->ssl);
  return d;
}

void
tm_dtls_free(TmDtls *d)
{
  if (d == NULL)
    return;
  SSL_free(d->ssl);
  tm_dtls_identity_unref(d->id);
  g_free(d);
}

/* Sends what OpenSSL wrote, split at record boundaries into datagrams of at most the MTU;
 * returns whether there was anything. */
static bool
flush_output(TmDtls *d)
{
  uint8_t buf[16384];
  bool sent = false;
  for (;;) {
    int n = BIO_read(d->wbio, buf, sizeof buf);
    if (n <= 0)
      break;
    size_t start = 0, pos = 0;
    while (pos + 13 <= (size_t) n) {
      size_t rec = 13 + ((size_t) buf[pos + 11] << 8 | buf[pos + 12]);
      if (pos + rec > (size_t) n)
        break;
      if (pos > start && pos + rec - start > TM_DTLS_MTU) {
        d->listener.transmit(d->user_data, buf + start, pos - start);
        start = pos;
      }
      pos += rec;
    }
    if ((size_t) n > start)
      d->listener.transmit(d->user_data, buf + start, (size_t) n - start);
    sent = true;
  }
  return sent;
}

static void
update_deadline(TmDtls *d, int64_t now_us)
{
  struct timeval tv;
  if (d->state == STATE_HANDSHAKE && DTLSv1_get_timeout(d->ssl, &tv) > 0)
    d->deadline_us = now_us + (int64_t) tv.tv_sec * 1000000 + tv.tv_usec;
  else
    d->deadline_us = INT64_MAX;
}

static void
fail(TmDtls *d, TmDtlsError err)
{
  if (d->state == STATE_FAILED)
    return;
  d->state = STATE_FAILED;
  d->deadline_us = INT64_MAX;
  flush_output(d); /* the alert, if any */
  d->listener.failed(d->user_data, err);
}

static void
finish_handshake(TmDtls *d)
{
  SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(d->ssl);
  TmSrtpKeys keys = { 0 };
  if (p == NULL) {
    fail(d, TM_DTLS_ERR_NO_SRTP);
    return;
  }
  if (p->id == SRTP_AEAD_AES_128_GCM) {
    keys.profile = TM_SRTP_PROFILE_AEAD_AES_128_GCM;
    keys.key_len = 16;
    keys.salt_len = 12;
  } else if (p->id == SRTP_AES128_CM_SHA1_80) {
    keys.profile = TM_SRTP_PROFILE_AES128_CM_SHA1_80;
    keys.key_len = 16;
    keys.salt_len = 14;
  } else {
    fail(d, TM_DTLS_ERR_NO_SRTP);
    return;
  }
  /* RFC 5764 §4.2: client key, server key, client salt, server salt. */
  uint8_t m[2 * TM_SRTP_MAX_KEY];
  size_t k = keys.key_len, s = keys.salt_len;
  static const char label[] = "EXTRACTOR-dtls_srtp";
  if (SSL_export_keying_material(d->ssl, m, 2 * (k + s), label, sizeof label - 1, NULL, 0, 0) !=
      1) {
    fail(d, TM_DTLS_ERR_EXPORT);
    return;
  }
  uint8_t *client = d->role == TM_DTLS_ROLE_CLIENT ? keys.local : keys.remote;
  uint8_t *server = d->role == TM_DTLS_ROLE_CLIENT ? keys.remote : keys.local;
  memcpy(client, m, k);
  memcpy(server, m + k, k);
  memcpy(client + k, m + 2 * k, s);
  memcpy(server + k, m + 2 * k + s, s);
  OPENSSL_cleanse(m, sizeof m);
  d->state = STATE_CONNECTED;
  d->listener.connected(d->user_data, &keys);
  OPENSSL_cleanse(&keys, sizeof keys);
}

static void
drive(TmDtls *d, int64_t now_us)
{
  if (d->state == STATE_CONNECTED) {
    uint8_t sink[2048];
    int n = SSL_read(d->ssl, sink, sizeof sink);
    if (n <= 0 && SSL_get_error(d->ssl, n) == SSL_ERROR_ZERO_RETURN)
      fail(d, TM_DTLS_ERR_CLOSED);
    flush_output(d);
    ERR_clear_error();
    return;
  }
  OSSL_HANDSHAKE_STATE before = SSL_get_state(d->ssl);
  int r = SSL_do_handshake(d->ssl);
  /* The handshake moved on, so what came answered our last flight (a peer's repeat of its own
   * flight moves nothing): one round-trip sample, counted from the flight's last sending, then
   * the flight this step sent awaits its answer in turn. A flight sent again after the timer
   * (1 s, doubling) is nearly always what the answer answers: the first was lost, or the
   * answer to it was and the peer repeats it on seeing ours again. Only a round trip longer
   * than the timer would be taken short; leaving such flights out (Karn's rule) would leave a
   * lossy link's connections without a sample just when it matters. */
  if (SSL_get_state(d->ssl) != before && d->flight_awaits) {
    double ms = (double) (now_us - d->flight_us) / 1000.0;
    if (ms > 0 && (d->rtt_ms <= 0 || ms < d->rtt_ms))
      d->rtt_ms = ms;
    d->flight_awaits = false;
  }
  if (flush_output(d)) {
    d->flight_us = now_us;
    d->flight_awaits = true;
  }
  if (r == 1) {
    finish_handshake(d);
  } else {
    int e = SSL_get_error(d->ssl, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
      fail(d, d->fingerprint_mismatch ? TM_DTLS_ERR_FINGERPRINT : TM_DTLS_ERR_HANDSHAKE);
  }
  ERR_clear_error();
  update_deadline(d, now_us);
}

#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
/* Fuzz builds only (see dtls.h): keys from one real handshake for the next connections. */
static TmSrtpKeys fuzz_keys[2];
static bool fuzz_keyed[2];

void
tm_dtls_fuzz_preset_keys(TmDtlsRole role, const TmSrtpKeys *keys)
{
  fuzz_keyed[role] = keys != NULL;
  if (keys != NULL)
    fuzz_keys[role] = *keys;
}

static bool
fuzz_connect(TmDtls *d)
{
  if (!fuzz_keyed[d->role] || d->state == STATE_CONNECTED || d->state == STATE_FAILED)
    return false;
  d->state = STATE_CONNECTED;
  d->listener.connected(d->user_data, &fuzz_keys[d->role]);
  return true;
}
#endif

void
tm_dtls_start(TmDtls *d, int64_t now_us)
{
  if (d->state != STATE_NEW)
    return;
  d->state = STATE_HANDSHAKE;
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  if (d->role == TM_DTLS_ROLE_CLIENT && fuzz_connect(d))
    return;
#endif
  if (d->role == TM_DTLS_ROLE_CLIENT)
    drive(d, now_us);
}

void
tm_dtls_handle_datagram(TmDtls *d, const uint8_t *buf, size_t len, int64_t now_us)
{
  if (d->state == STATE_FAILED || len == 0 || len > 16384)
    return;
  if (d->state == STATE_NEW)
    d->state = STATE_HANDSHAKE;
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  if (fuzz_connect(d))
    return;
#endif
  BIO_write(d->rbio, buf, (int) len);
  drive(d, now_us);
}

void
tm_dtls_handle_timeout(TmDtls *d, int64_t now_us)
{
  if (d->state != STATE_HANDSHAKE || now_us < d->deadline_us)
    return;
  /* OpenSSL times retransmissions by its own clock (gettimeofday). If that has not reached the
   * deadline yet, nothing is retransmitted, so nothing counts against the limit: wait for it. */
  struct timeval tv;
  if (DTLSv1_get_timeout(d->ssl, &tv) > 0 && (tv.tv_sec > 0 || tv.tv_usec > 0)) {
    update_deadline(d, now_us);
    return;
  }
  if (++d->retransmits > DTLS_MAX_RETRANSMITS) {
    fail(d, TM_DTLS_ERR_TIMEOUT);
    return;
  }
  if (DTLSv1_handle_timeout(d->ssl) < 0) {
    fail(d, TM_DTLS_ERR_HANDSHAKE);
    return;
  }
  if (flush_output(d))
    d->flight_us = now_us;
  update_deadline(d, now_us);
}

double
tm_dtls_rtt_ms(const TmDtls *d)
{
  return d->rtt_ms;
}

int64_t
tm_dtls_next_deadline(const TmDtls *d)
{
  return d->deadline_us;
}

void
tm_dtls_close(TmDtls *d)
{
  if (d->state != STATE_CONNECTED)
    return;
  SSL_shutdown(d->ssl);
  flush_output(d);
  ERR_clear_error();
}

bool
tm_dtls_is_connected(const TmDtls *d)
{
  return d->state == STATE_CONNECTED;
}

static const char *const dtls_errors[TM_DTLS_ERR_COUNT] = {
  [TM_DTLS_OK] = "no error",
  [TM_DTLS_ERR_HANDSHAKE] = "DTLS handshake failed",
  [TM_DTLS_ERR_FINGERPRINT] = "peer's DTLS certificate does not match the SDP fingerprint",
  [TM_DTLS_ERR_NO_SRTP] = "no SRTP protection profile in common",
  [TM_DTLS_ERR_EXPORT] = "could not export SRTP keys",
  [TM_DTLS_ERR_TIMEOUT] = "DTLS handshake timed out",
  [TM_DTLS_ERR_CLOSED] = "peer closed the DTLS connection",
};

const char *
tm_dtls_strerror(TmDtlsError err)
{
  return (unsigned) err < TM_DTLS_ERR_COUNT ? dtls_errors[err] : "unknown DTLS error";
}
