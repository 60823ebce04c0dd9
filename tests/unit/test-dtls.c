/* test-dtls.c — two TmDtls, a server and a client, back to back in memory: their `transmit`
 * callbacks queue datagrams and the test delivers them to the other side, with a fake clock that
 * only the test moves. Handshake and keys, fingerprint checks, lost flights and retransmission,
 * the retransmission limit, datagram sizes, garbage, and close_notify. */
#include <glib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "dtls.h"
#include "srtp.h"

/* ---- the clock ----
 *
 * OpenSSL 3.0 times DTLS retransmissions with gettimeofday(), not with the engine's now_us. This
 * test binary defines gettimeofday() so that OpenSSL's clock is the test's clock: a wall-clock
 * base plus the fake time the test passes as now_us. Time moves only when the test moves it. */

static int64_t fake_now_us = 1000 * G_USEC_PER_SEC; /* what the test passes as now_us */
static int64_t wall_base_us = -1;                   /* wall clock at fake_now_us == 0 */
static int64_t openssl_lag_us = 0;                  /* OpenSSL's clock this far behind now_us */

int
gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
  (void) tz;
  if (wall_base_us < 0) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    wall_base_us = (int64_t) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
  }
  int64_t t = wall_base_us + fake_now_us - openssl_lag_us;
  tv->tv_sec = (time_t) (t / G_USEC_PER_SEC);
  tv->tv_usec = (suseconds_t) (t % G_USEC_PER_SEC);
  return 0;
}

/* ---- one side: what its listener saw ---- */

typedef struct {
  GQueue out; /* GBytes, transmitted and not yet delivered */
  unsigned n_sent;
  size_t max_datagram;
  unsigned n_connected;
  TmSrtpKeys keys;
  unsigned n_failed;
  TmDtlsError err;
} Side;

static void
on_transmit(void *user_data, const uint8_t *buf, size_t len)
{
  Side *s = user_data;
  g_assert_cmpuint(len, >, 0);
  g_assert_cmpuint(len, <=, TM_DTLS_MTU);
  /* whole DTLS records only: a record never straddles two datagrams */
  size_t pos = 0;
  while (pos < len) {
    g_assert_cmpuint(pos + 13, <=, len);
    g_assert_cmpuint(buf[pos], >=, 20);
    g_assert_cmpuint(buf[pos], <=, 63);
    pos += 13 + ((size_t) buf[pos + 11] << 8 | buf[pos + 12]);
  }
  g_assert_cmpuint(pos, ==, len);
  g_queue_push_tail(&s->out, g_bytes_new(buf, len));
  s->n_sent++;
  s->max_datagram = MAX(s->max_datagram, len);
}

static void
on_connected(void *user_data, const TmSrtpKeys *keys)
{
  Side *s = user_data;
  s->n_connected++;
  s->keys = *keys;
}

static void
on_failed(void *user_data, TmDtlsError err)
{
  Side *s = user_data;
  s->n_failed++;
  s->err = err;
}

static const TmDtlsListener listener = { on_transmit, on_connected, on_failed };

typedef struct {
  TmDtlsIdentity *server_id, *client_id;
  TmDtls *server, *client;
  Side s, c;
  unsigned drop_from_server; /* drop this many of the server's next datagrams */
  unsigned drop_from_client;
  int64_t one_way_us; /* each datagram takes this long on the way (pump moves the clock) */
} Pair;

static void
pair_init_fp(Pair *p, const uint8_t *server_expects, size_t server_expects_len,
             const uint8_t *client_expects, size_t client_expects_len)
{
  memset(p, 0, sizeof *p);
  g_queue_init(&p->s.out);
  g_queue_init(&p->c.out);
  p->server_id = tm_dtls_identity_new(fake_now_us / G_USEC_PER_SEC);
  p->client_id = tm_dtls_identity_new(fake_now_us / G_USEC_PER_SEC);
  if (server_expects == NULL) {
    server_expects = tm_dtls_identity_fingerprint(p->client_id);
    server_expects_len = TM_DTLS_FINGERPRINT_LEN;
  }
  if (client_expects == NULL) {
    client_expects = tm_dtls_identity_fingerprint(p->server_id);
    client_expects_len = TM_DTLS_FINGERPRINT_LEN;
  }
  p->server = tm_dtls_new(p->server_id, TM_DTLS_ROLE_SERVER, server_expects, server_expects_len,
                          &listener, &p->s);
  p->client = tm_dtls_new(p->client_id, TM_DTLS_ROLE_CLIENT, client_expects, client_expects_len,
                          &listener, &p->c);
}

static void
pair_init(Pair *p)
{
  pair_init_fp(p, NULL, 0, NULL, 0);
}

static void
pair_clear(Pair *p)
{
  tm_dtls_free(p->server);
  tm_dtls_free(p->client);
  tm_dtls_identity_unref(p->server_id);
  tm_dtls_identity_unref(p->client_id);
  g_queue_clear_full(&p->s.out, (GDestroyNotify) g_bytes_unref);
  g_queue_clear_full(&p->c.out, (GDestroyNotify) g_bytes_unref);
}

static void
start(Pair *p)
{
  tm_dtls_start(p->server, fake_now_us);
  tm_dtls_start(p->client, fake_now_us);
}

/* Delivers queued datagrams both ways, dropping as told, until nothing is left in flight. */
static void
pump(Pair *p)
{
  for (unsigned rounds = 0; rounds < 100; rounds++) {
    if (g_queue_is_empty(&p->s.out) && g_queue_is_empty(&p->c.out))
      return;
    GBytes *b;
    if (!g_queue_is_empty(&p->c.out))
      fake_now_us += p->one_way_us;
    while ((b = g_queue_pop_head(&p->c.out)) != NULL) {
      if (p->drop_from_client > 0)
        p->drop_from_client--;
      else
        tm_dtls_handle_datagram(p->server, g_bytes_get_data(b, NULL), g_bytes_get_size(b),
                                fake_now_us);
      g_bytes_unref(b);
    }
    if (!g_queue_is_empty(&p->s.out))
      fake_now_us += p->one_way_us;
    while ((b = g_queue_pop_head(&p->s.out)) != NULL) {
      if (p->drop_from_server > 0)
        p->drop_from_server--;
      else
        tm_dtls_handle_datagram(p->client, g_bytes_get_data(b, NULL), g_bytes_get_size(b),
                                fake_now_us);
      g_bytes_unref(b);
    }
  }
  g_assert_not_reached();
}

/* Moves the fake clock to the earlier deadline of the two and runs that side's timeout. */
static void
advance_to_deadline(Pair *p)
{
  int64_t ds = tm_dtls_next_deadline(p->server), dc = tm_dtls_next_deadline(p->client);
  int64_t d = MIN(ds, dc);
  g_assert_cmpint(d, <, INT64_MAX);
  g_assert_cmpint(d, >=, fake_now_us);
  fake_now_us = d;
  tm_dtls_handle_timeout(p->server, fake_now_us);
  tm_dtls_handle_timeout(p->client, fake_now_us);
}

static void
assert_connected(Pair *p)
{
  g_assert_cmpuint(p->s.n_failed, ==, 0);
  g_assert_cmpuint(p->c.n_failed, ==, 0);
  g_assert_cmpuint(p->s.n_connected, ==, 1);
  g_assert_cmpuint(p->c.n_connected, ==, 1);
  g_assert_true(tm_dtls_is_connected(p->server));
  g_assert_true(tm_dtls_is_connected(p->client));
  g_assert_cmpint(tm_dtls_next_deadline(p->server), ==, INT64_MAX);
  g_assert_cmpint(tm_dtls_next_deadline(p->client), ==, INT64_MAX);
  g_assert_cmpuint(p->s.max_datagram, <=, TM_DTLS_MTU);
  g_assert_cmpuint(p->c.max_datagram, <=, TM_DTLS_MTU);

  const TmSrtpKeys *s = &p->s.keys, *c = &p->c.keys;
  g_assert_cmpint(s->profile, ==, TM_SRTP_PROFILE_AEAD_AES_128_GCM);
  g_assert_cmpint(c->profile, ==, TM_SRTP_PROFILE_AEAD_AES_128_GCM);
  g_assert_cmpuint(s->key_len, ==, 16);
  g_assert_cmpuint(s->salt_len, ==, 12);
  g_assert_cmpuint(c->key_len, ==, 16);
  g_assert_cmpuint(c->salt_len, ==, 12);
  size_t n = s->key_len + s->salt_len;
  /* mirrored: what one sends with, the other receives with */
  g_assert_cmpmem(s->local, n, c->remote, n);
  g_assert_cmpmem(s->remote, n, c->local, n);
  g_assert_true(memcmp(s->local, s->remote, n) != 0);
  static const uint8_t zero[TM_SRTP_MAX_KEY];
  g_assert_true(memcmp(s->local, zero, n) != 0);
  g_assert_true(memcmp(s->remote, zero, n) != 0);
}

/* ---- tests ---- */

static void
test_identity(void)
{
  TmDtlsIdentity *a = tm_dtls_identity_new(1700000000);
  TmDtlsIdentity *b = tm_dtls_identity_new(1700000000);
  g_assert_true(memcmp(tm_dtls_identity_fingerprint(a), tm_dtls_identity_fingerprint(b),
                       TM_DTLS_FINGERPRINT_LEN) != 0);
  g_assert_true(tm_dtls_identity_ref(a) == a);
  tm_dtls_identity_unref(a);
  /* still alive: one reference left */
  g_assert_nonnull(tm_dtls_identity_fingerprint(a));
  tm_dtls_identity_unref(a);
  tm_dtls_identity_unref(b);
  tm_dtls_identity_unref(NULL);
}

static void
test_handshake(void)
{
  Pair p;
  pair_init(&p);
  /* nothing happens before start, and a server waits after it */
  g_assert_cmpint(tm_dtls_next_deadline(p.client), ==, INT64_MAX);
  g_assert_false(tm_dtls_is_connected(p.client));
  tm_dtls_start(p.server, fake_now_us);
  g_assert_cmpuint(p.s.n_sent, ==, 0);
  g_assert_cmpint(tm_dtls_next_deadline(p.server), ==, INT64_MAX);
  tm_dtls_start(p.client, fake_now_us);
  g_assert_cmpuint(p.c.n_sent, ==, 1); /* ClientHello */
  g_assert_cmpint(tm_dtls_next_deadline(p.client), >, fake_now_us);
  g_assert_cmpint(tm_dtls_next_deadline(p.client), <, INT64_MAX);
  /* a second start does nothing */
  tm_dtls_start(p.client, fake_now_us);
  g_assert_cmpuint(p.c.n_sent, ==, 1);

  pump(&p);
  assert_connected(&p);
  g_assert_cmpuint(p.c.n_sent, >=, 2);
  g_assert_cmpuint(p.s.n_sent, >=, 2);

  /* the exported keys work: SRTP from the client is read by the server, and back */
  TmSrtpError err;
  TmSrtp *ss = tm_srtp_new(&p.s.keys, &err);
  TmSrtp *cs = tm_srtp_new(&p.c.keys, &err);
  g_assert_nonnull(ss);
  g_assert_nonnull(cs);
  _Alignas(8) uint8_t pkt[64 + TM_SRTP_MAX_TRAILER] = { 0x80, 111, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3 };
  memset(pkt + 12, 0x5a, 52);
  size_t len = 64;
  g_assert_cmpint(tm_srtp_protect_rtp(cs, pkt, &len, sizeof pkt), ==, TM_SRTP_OK);
  g_assert_cmpint(tm_srtp_unprotect_rtp(ss, pkt, &len), ==, TM_SRTP_OK);
  g_assert_cmpuint(len, ==, 64);
  g_assert_cmpuint(pkt[63], ==, 0x5a);
  g_assert_cmpint(tm_srtp_protect_rtp(ss, pkt, &len, sizeof pkt), ==, TM_SRTP_OK);
  g_assert_cmpint(tm_srtp_unprotect_rtp(cs, pkt, &len), ==, TM_SRTP_OK);
  g_assert_cmpuint(pkt[12], ==, 0x5a);
  tm_srtp_free(ss);
  tm_srtp_free(cs);
  pair_clear(&p);
}

static void
test_wrong_fingerprint(gconstpointer data)
{
  gboolean wrong_on_server = GPOINTER_TO_INT(data);
  uint8_t bad[TM_DTLS_FINGERPRINT_LEN];
  memset(bad, 0x42, sizeof bad);
  Pair p;
  if (wrong_on_server)
    pair_init_fp(&p, bad, sizeof bad, NULL, 0);
  else
    pair_init_fp(&p, NULL, 0, bad, sizeof bad);
  start(&p);
  pump(&p);
  Side *checker = wrong_on_server ? &p.s : &p.c;
  Side *other = wrong_on_server ? &p.c : &p.s;
  g_assert_cmpuint(checker->n_failed, ==, 1);
  g_assert_cmpint(checker->err, ==, TM_DTLS_ERR_FINGERPRINT);
  g_assert_cmpuint(p.s.n_connected, ==, 0);
  g_assert_cmpuint(p.c.n_connected, ==, 0);
  g_assert_false(tm_dtls_is_connected(p.server));
  g_assert_false(tm_dtls_is_connected(p.client));
  /* the other side learns from the alert, and not as a fingerprint problem of its own */
  g_assert_cmpuint(other->n_failed, ==, 1);
  g_assert_cmpint(other->err, ==, TM_DTLS_ERR_HANDSHAKE);
  /* a failed side has no deadline and ignores what comes later */
  TmDtls *failed = wrong_on_server ? p.server : p.client;
  g_assert_cmpint(tm_dtls_next_deadline(failed), ==, INT64_MAX);
  unsigned sent = checker->n_sent;
  tm_dtls_handle_datagram(failed, (const uint8_t *) "\x16\xfe\xfd", 3, fake_now_us);
  tm_dtls_handle_timeout(failed, INT64_MAX - 1);
  g_assert_cmpuint(checker->n_sent, ==, sent);
  g_assert_cmpuint(checker->n_failed, ==, 1);
  pair_clear(&p);
}

static void
test_fingerprint_wrong_length(void)
{
  Pair p;
  pair_init(&p);
  tm_dtls_free(p.client);
  /* the right digest, but given as 20 bytes (as if sha-1) */
  p.client = tm_dtls_new(p.client_id, TM_DTLS_ROLE_CLIENT,
                         tm_dtls_identity_fingerprint(p.server_id), 20, &listener, &p.c);
  start(&p);
  pump(&p);
  g_assert_cmpuint(p.c.n_failed, ==, 1);
  g_assert_cmpint(p.c.err, ==, TM_DTLS_ERR_FINGERPRINT);
  g_assert_cmpuint(p.c.n_connected + p.s.n_connected, ==, 0);
  pair_clear(&p);
}

static void
test_lost_client_hello(void)
{
  Pair p;
  pair_init(&p);
  p.drop_from_client = 1;
  int64_t t0 = fake_now_us;
  start(&p);
  pump(&p);
  g_assert_cmpuint(p.c.n_sent, ==, 1);
  g_assert_cmpuint(p.s.n_sent, ==, 0);
  int64_t deadline = tm_dtls_next_deadline(p.client);
  g_assert_cmpint(deadline, >, fake_now_us);
  g_assert_cmpint(deadline, <=, fake_now_us + 2 * G_USEC_PER_SEC);

  /* early: nothing */
  fake_now_us = deadline - 20000;
  tm_dtls_handle_timeout(p.client, fake_now_us);
  g_assert_cmpuint(p.c.n_sent, ==, 1);
  g_assert_cmpint(tm_dtls_next_deadline(p.client), ==, deadline);

  /* at the deadline: the ClientHello again, and a later deadline (back-off) */
  fake_now_us = deadline;
  tm_dtls_handle_timeout(p.client, fake_now_us);
  g_assert_cmpuint(p.c.n_sent, ==, 2);
  int64_t next = tm_dtls_next_deadline(p.client);
  g_assert_cmpint(next - fake_now_us, ==, 2 * (deadline - t0));

  pump(&p);
  assert_connected(&p);
  pair_clear(&p);
}

static void
test_lost_server_flights(void)
{
  /* the server's whole first flight is lost: the client times out and sends its hello again,
   * the server answers it with its flight again */
  Pair p;
  pair_init(&p);
  start(&p);
  tm_dtls_handle_datagram(p.server, g_bytes_get_data(g_queue_peek_head(&p.c.out), NULL),
                          g_bytes_get_size(g_queue_peek_head(&p.c.out)), fake_now_us);
  g_bytes_unref(g_queue_pop_head(&p.c.out));
  unsigned first_flight = p.s.n_sent;
  g_assert_cmpuint(first_flight, >=, 1);
  p.drop_from_server = first_flight;
  pump(&p);
  g_assert_cmpuint(p.c.n_connected + p.s.n_connected, ==, 0);
  /* both wait now; the earlier deadline goes off, and so on until connected */
  for (int i = 0; i < 4 && !(p.s.n_connected && p.c.n_connected); i++) {
    advance_to_deadline(&p);
    pump(&p);
  }
  assert_connected(&p);
  pair_clear(&p);
}

static void
test_lost_final_flight(void)
{
  /* the server's last flight (ChangeCipherSpec, Finished) is lost: the server is connected,
   * the client is not; the client's retransmission makes the server send it again */
  Pair p;
  pair_init(&p);
  start(&p);
  for (int round = 0; round < 10 && p.s.n_connected == 0; round++) {
    GBytes *b;
    while ((b = g_queue_pop_head(&p.c.out)) != NULL) {
      tm_dtls_handle_datagram(p.server, g_bytes_get_data(b, NULL), g_bytes_get_size(b),
                              fake_now_us);
      g_bytes_unref(b);
    }
    if (p.s.n_connected > 0)
      break;
    while ((b = g_queue_pop_head(&p.s.out)) != NULL) {
      tm_dtls_handle_datagram(p.client, g_bytes_get_data(b, NULL), g_bytes_get_size(b),
                              fake_now_us);
      g_bytes_unref(b);
    }
  }
  g_assert_cmpuint(p.s.n_connected, ==, 1);
  g_assert_cmpuint(p.c.n_connected, ==, 0);
  g_assert_false(g_queue_is_empty(&p.s.out));
  g_queue_clear_full(&p.s.out, (GDestroyNotify) g_bytes_unref); /* lost */
  g_assert_cmpint(tm_dtls_next_deadline(p.server), ==, INT64_MAX);
  g_assert_cmpint(tm_dtls_next_deadline(p.client), <, INT64_MAX);
  advance_to_deadline(&p);
  g_assert_false(g_queue_is_empty(&p.c.out));
  pump(&p);
  assert_connected(&p);
  pair_clear(&p);
}

/* The handshake's round trip, 80 ms here: both sides measure it from their flights and the
 * answers; none before. When the server's first flight is lost, the client sends its hello
 * again after its timer and the server its flight on seeing it: each side counts from its
 * flight's last sending, so neither takes the lost second for its round trip. */
static void
test_rtt(gconstpointer data)
{
  gboolean lose_flight = GPOINTER_TO_INT(data);
  Pair p;
  pair_init(&p);
  p.one_way_us = 40 * 1000;
  g_assert_cmpfloat(tm_dtls_rtt_ms(p.client), ==, 0);
  start(&p);
  if (lose_flight) {
    fake_now_us += p.one_way_us;
    tm_dtls_handle_datagram(p.server, g_bytes_get_data(g_queue_peek_head(&p.c.out), NULL),
                            g_bytes_get_size(g_queue_peek_head(&p.c.out)), fake_now_us);
    g_bytes_unref(g_queue_pop_head(&p.c.out));
    g_queue_clear_full(&p.s.out, (GDestroyNotify) g_bytes_unref); /* lost */
    g_assert_cmpfloat(tm_dtls_rtt_ms(p.server), ==, 0);
    advance_to_deadline(&p); /* the client sends its hello again */
    g_assert_false(g_queue_is_empty(&p.c.out));
  }
  pump(&p);
  assert_connected(&p);
  g_assert_cmpfloat_with_epsilon(tm_dtls_rtt_ms(p.client), 80.0, 0.001);
  g_assert_cmpfloat_with_epsilon(tm_dtls_rtt_ms(p.server), 80.0, 0.001);
  pair_clear(&p);
}

static void
test_retransmit_limit(void)
{
  Pair p;
  pair_init(&p);
  start(&p);
  g_queue_clear_full(&p.c.out, (GDestroyNotify) g_bytes_unref); /* every datagram is lost */
  int64_t started = fake_now_us, last_gap = 0;
  unsigned timeouts = 0;
  while (p.c.n_failed == 0) {
    int64_t d = tm_dtls_next_deadline(p.client);
    g_assert_cmpint(d, <, INT64_MAX);
    g_assert_cmpint(d - fake_now_us, >=, last_gap); /* the gaps never shrink */
    last_gap = d - fake_now_us;
    fake_now_us = d;
    unsigned before = p.c.n_sent;
    tm_dtls_handle_timeout(p.client, fake_now_us);
    g_queue_clear_full(&p.c.out, (GDestroyNotify) g_bytes_unref);
    if (p.c.n_failed == 0)
      g_assert_cmpuint(p.c.n_sent, ==, before + 1); /* each timeout: the ClientHello again */
    g_assert_cmpuint(++timeouts, <, 50);
  }
  g_assert_cmpint(p.c.err, ==, TM_DTLS_ERR_TIMEOUT);
  g_assert_cmpuint(p.c.n_sent, ==, 1 + 8); /* the first send and 8 retransmissions */
  g_assert_cmpint(tm_dtls_next_deadline(p.client), ==, INT64_MAX);
  g_assert_cmpint(fake_now_us - started, >, 30 * G_USEC_PER_SEC);
  g_assert_cmpuint(p.c.n_connected, ==, 0);
  pair_clear(&p);
}

static void
test_clock_behind(void)
{
  /* the caller's clock runs ahead of OpenSSL's: a timeout that OpenSSL does not see yet
   * retransmits nothing, and must not count against the retransmission limit */
  Pair p;
  pair_init(&p);
  start(&p);
  g_queue_clear_full(&p.c.out, (GDestroyNotify) g_bytes_unref);
  int64_t t0 = fake_now_us;
  for (int i = 0; i < 20; i++) {
    int64_t d = tm_dtls_next_deadline(p.client);
    g_assert_cmpint(d, <, INT64_MAX);
    openssl_lag_us += d - fake_now_us; /* OpenSSL's clock stands still */
    fake_now_us = d;
    tm_dtls_handle_timeout(p.client, fake_now_us);
    g_assert_cmpint(tm_dtls_next_deadline(p.client), >, fake_now_us);
  }
  g_assert_cmpuint(p.c.n_sent, ==, 1);
  g_assert_cmpuint(p.c.n_failed, ==, 0);
  g_assert_cmpint(fake_now_us, >, t0);
  /* once both clocks agree again, the lost hello is sent again and the handshake completes */
  openssl_lag_us = 0;
  advance_to_deadline(&p);
  g_assert_cmpuint(p.c.n_sent, ==, 2);
  pump(&p);
  assert_connected(&p);
  pair_clear(&p);
}

static void
inject_garbage(TmDtls *d, GRand *rand)
{
  uint8_t buf[2048];
  for (int i = 0; i < 200; i++) {
    size_t len = (size_t) g_rand_int_range(rand, 1, sizeof buf);
    for (size_t k = 0; k < len; k++)
      buf[k] = (uint8_t) g_rand_int(rand);
    switch (i % 4) {
    case 0: /* noise */ break;
    case 1: /* a record header of each content type, epochs 0 and 1, with noise behind */
      buf[0] = (uint8_t) (20 + i % 4);
      buf[1] = 0xfe;
      buf[2] = 0xfd;
      buf[3] = 0;
      buf[4] = (uint8_t) (i & 1);
      break;
    case 2: /* a record header whose length runs past the datagram */
      buf[0] = 22;
      buf[1] = 0xfe;
      buf[2] = 0xff;
      buf[11] = 0xff;
      buf[12] = 0xff;
      len = MIN(len, 40);
      break;
    default: /* tiny */ len = (size_t) g_rand_int_range(rand, 1, 14); break;
    }
    tm_dtls_handle_datagram(d, buf, len, fake_now_us);
  }
  tm_dtls_handle_datagram(d, buf, 0, fake_now_us);
  tm_dtls_handle_datagram(d, buf, 20000, fake_now_us); /* larger than any record: ignored */
}

static void
test_garbage(void)
{
  GRand *rand = g_rand_new_with_seed(1234);

  /* on a fresh server and a waiting client: no crash, and each either waits or fails cleanly */
  Pair p;
  pair_init(&p);
  start(&p);
  inject_garbage(p.server, rand);
  inject_garbage(p.client, rand);
  g_assert_cmpuint(p.s.n_connected + p.c.n_connected, ==, 0);
  g_assert_cmpuint(p.s.n_failed, <=, 1);
  g_assert_cmpuint(p.c.n_failed, <=, 1);
  pair_clear(&p);

  /* noise that is not a DTLS record at all, in the middle of a handshake, changes nothing */
  pair_init(&p);
  start(&p);
  uint8_t noise[300];
  for (size_t k = 0; k < sizeof noise; k++)
    noise[k] = (uint8_t) g_rand_int(rand);
  noise[0] = 0x80; /* an RTP-looking first byte, and no DTLS version */
  noise[1] = 0x01;
  noise[2] = 0x02;
  tm_dtls_handle_datagram(p.server, noise, sizeof noise, fake_now_us);
  pump(&p);
  tm_dtls_handle_datagram(p.client, noise, sizeof noise, fake_now_us);
  assert_connected(&p);

  /* once connected, forged records are dropped and the connection stays up */
  inject_garbage(p.server, rand);
  inject_garbage(p.client, rand);
  g_assert_cmpuint(p.s.n_failed, ==, 0);
  g_assert_cmpuint(p.c.n_failed, ==, 0);
  g_assert_true(tm_dtls_is_connected(p.server));
  g_assert_true(tm_dtls_is_connected(p.client));
  g_assert_cmpuint(p.s.n_connected, ==, 1);
  pair_clear(&p);
  g_rand_free(rand);
}

static void
test_close(void)
{
  Pair p;
  pair_init(&p);
  /* closing before connected does nothing */
  tm_dtls_close(p.client);
  g_assert_cmpuint(p.c.n_sent, ==, 0);
  start(&p);
  pump(&p);
  assert_connected(&p);
  tm_dtls_close(p.client);
  g_assert_cmpuint(g_queue_get_length(&p.c.out), ==, 1);
  pump(&p);
  g_assert_cmpuint(p.s.n_failed, ==, 1);
  g_assert_cmpint(p.s.err, ==, TM_DTLS_ERR_CLOSED);
  g_assert_false(tm_dtls_is_connected(p.server));
  pair_clear(&p);
}

static void
test_strerror(void)
{
  for (int e = 0; e < TM_DTLS_ERR_COUNT; e++)
    g_assert_nonnull(tm_dtls_strerror((TmDtlsError) e));
  g_assert_cmpstr(tm_dtls_strerror(TM_DTLS_ERR_FINGERPRINT), !=,
                  tm_dtls_strerror(TM_DTLS_ERR_HANDSHAKE));
  g_assert_nonnull(tm_dtls_strerror((TmDtlsError) -1));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/dtls/identity", test_identity);
  g_test_add_func("/dtls/handshake", test_handshake);
  g_test_add_data_func("/dtls/wrong-fingerprint/client", GINT_TO_POINTER(FALSE),
                       test_wrong_fingerprint);
  g_test_add_data_func("/dtls/wrong-fingerprint/server", GINT_TO_POINTER(TRUE),
                       test_wrong_fingerprint);
  g_test_add_func("/dtls/wrong-fingerprint/length", test_fingerprint_wrong_length);
  g_test_add_func("/dtls/lost/client-hello", test_lost_client_hello);
  g_test_add_func("/dtls/lost/server-flight", test_lost_server_flights);
  g_test_add_func("/dtls/lost/final-flight", test_lost_final_flight);
  g_test_add_func("/dtls/retransmit-limit", test_retransmit_limit);
  g_test_add_data_func("/dtls/rtt/clean", GINT_TO_POINTER(FALSE), test_rtt);
  g_test_add_data_func("/dtls/rtt/lost-flight", GINT_TO_POINTER(TRUE), test_rtt);
  g_test_add_func("/dtls/clock-behind", test_clock_behind);
  g_test_add_func("/dtls/garbage", test_garbage);
  g_test_add_func("/dtls/close", test_close);
  g_test_add_func("/dtls/strerror", test_strerror);
  return g_test_run();
}
