/* test-srtp.c — SRTP and SRTCP through libsrtp with fixed keys, for both profiles: two sessions
 * with mirrored keys protect and unprotect to the same bytes; tampering, replay, retransmission,
 * a wrong key, and buffers without room for the trailer. */
#include <glib.h>
#include <string.h>

#include "rtp.h"
#include "srtp.h"

#define CAP (TM_RTP_MAX_PACKET + TM_SRTP_MAX_TRAILER)

typedef struct {
  TmSrtp *a; /* sends with key 1, receives with key 2 */
  TmSrtp *b; /* the mirror */
  TmSrtpProfile profile;
  size_t rtp_tag;
  size_t rtcp_trailer;
  size_t rtcp_index_at; /* where E and the SRTCP index are, after the RTCP bytes */
} Fixture;

static void
keys_fill(TmSrtpKeys *k, TmSrtpProfile profile, uint8_t local_seed, uint8_t remote_seed)
{
  memset(k, 0, sizeof *k);
  k->profile = profile;
  k->key_len = 16;
  k->salt_len = profile == TM_SRTP_PROFILE_AEAD_AES_128_GCM ? 12 : 14;
  for (size_t i = 0; i < k->key_len + k->salt_len; i++) {
    k->local[i] = (uint8_t) (local_seed + i * 11);
    k->remote[i] = (uint8_t) (remote_seed + i * 13);
  }
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
  f->profile = (TmSrtpProfile) GPOINTER_TO_INT(data);
  TmSrtpKeys ka, kb;
  keys_fill(&ka, f->profile, 1, 2);
  kb = ka;
  memcpy(kb.local, ka.remote, sizeof kb.local);
  memcpy(kb.remote, ka.local, sizeof kb.remote);
  TmSrtpError err = TM_SRTP_ERR_COUNT;
  f->a = tm_srtp_new(&ka, &err);
  g_assert_cmpint(err, ==, TM_SRTP_OK);
  g_assert_nonnull(f->a);
  f->b = tm_srtp_new(&kb, &err);
  g_assert_cmpint(err, ==, TM_SRTP_OK);
  g_assert_nonnull(f->b);
  /* GCM: a 16-byte tag; AES-CM/HMAC-SHA1-80: 10 bytes. SRTCP adds the E bit and index. */
  f->rtp_tag = f->profile == TM_SRTP_PROFILE_AEAD_AES_128_GCM ? 16 : 10;
  f->rtcp_trailer = f->rtp_tag + 4;
  /* RFC 3711: index then tag; RFC 7714 (AEAD): tag then index */
  f->rtcp_index_at = f->profile == TM_SRTP_PROFILE_AEAD_AES_128_GCM ? 16 : 0;
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
  tm_srtp_free(f->a);
  tm_srtp_free(f->b);
}

/* An RTP packet with SEQ, a payload of LEN bytes, and sometimes CSRCs and an extension. */
static size_t
make_rtp(uint8_t *buf, uint32_t ssrc, uint16_t seq, size_t len, bool extras)
{
  static const uint8_t ext[] = { 0x10, 0xaa, 0x00, 0x00 };
  uint8_t payload[TM_RTP_MAX_PACKET];
  for (size_t i = 0; i < len; i++)
    payload[i] = (uint8_t) (seq + i * 3);
  TmRtpPacket p = {
    .pt = 111, .seq = seq, .ts = seq * 960u, .ssrc = ssrc, .payload = payload, .payload_len = len
  };
  if (extras) {
    p.marker = true;
    p.csrc_count = 2;
    p.csrc[0] = 0x01010101;
    p.csrc[1] = 0x02020202;
    p.extension = true;
    p.ext_profile = 0xbede;
    p.ext = ext;
    p.ext_len = sizeof ext;
  }
  TmRtpError err;
  size_t n = tm_rtp_serialize(&p, buf, CAP, &err);
  g_assert_cmpint(err, ==, TM_RTP_OK);
  return n;
}

/* A receiver report (and nothing else): the smallest compound RTCP. */
static size_t
make_rtcp(uint8_t *buf, uint32_t ssrc, uint8_t fill)
{
  static const uint8_t rr[] = { 0x81, 0xc9, 0x00, 0x07 };
  memcpy(buf, rr, 4);
  buf[4] = (uint8_t) (ssrc >> 24);
  buf[5] = (uint8_t) (ssrc >> 16);
  buf[6] = (uint8_t) (ssrc >> 8);
  buf[7] = (uint8_t) ssrc;
  memset(buf + 8, fill, 24);
  return 32;
}

static void
test_rtp_round_trip(Fixture *f, gconstpointer data)
{
  _Alignas(8) uint8_t plain[CAP], wire[CAP];
  static const size_t sizes[] = { 0, 1, 15, 16, 17, 160, 1000, 1200 };
  for (unsigned i = 0; i < 200; i++) {
    uint16_t seq = (uint16_t) (65436 + i); /* across the wrap: the rollover counter moves */
    size_t n = make_rtp(plain, 0x11111111, seq, sizes[i % G_N_ELEMENTS(sizes)], i % 3 == 0);
    memcpy(wire, plain, n);
    size_t len = n;
    g_assert_cmpint(tm_srtp_protect_rtp(f->a, wire, &len, sizeof wire), ==, TM_SRTP_OK);
    g_assert_cmpuint(len, ==, n + f->rtp_tag);
    /* the header stays readable, the payload does not */
    TmRtpPacket hdr;
    g_assert_cmpint(tm_rtp_parse(plain, n, &hdr), ==, TM_RTP_OK);
    g_assert_cmpmem(wire, hdr.header_len, plain, hdr.header_len);
    if (hdr.payload_len >= 8)
      g_assert_true(memcmp(wire + hdr.header_len, plain + hdr.header_len, hdr.payload_len) != 0);

    g_assert_cmpint(tm_srtp_unprotect_rtp(f->b, wire, &len), ==, TM_SRTP_OK);
    g_assert_cmpmem(wire, len, plain, n);
  }

  /* the other way, with another SSRC */
  for (uint16_t seq = 1; seq < 20; seq++) {
    size_t n = make_rtp(plain, 0x22222222, seq, 100, false);
    memcpy(wire, plain, n);
    size_t len = n;
    g_assert_cmpint(tm_srtp_protect_rtp(f->b, wire, &len, sizeof wire), ==, TM_SRTP_OK);
    g_assert_cmpint(tm_srtp_unprotect_rtp(f->a, wire, &len), ==, TM_SRTP_OK);
    g_assert_cmpmem(wire, len, plain, n);
  }

  /* a session cannot read what it sent itself: that is the other key */
  size_t n = make_rtp(plain, 0x33333333, 1, 100, false);
  size_t len = n;
  memcpy(wire, plain, n);
  g_assert_cmpint(tm_srtp_protect_rtp(f->a, wire, &len, sizeof wire), ==, TM_SRTP_OK);
  g_assert_cmpint(tm_srtp_unprotect_rtp(f->a, wire, &len), ==, TM_SRTP_ERR_AUTH);
}

static void
test_rtcp_round_trip(Fixture *f, gconstpointer data)
{
  _Alignas(8) uint8_t plain[CAP], wire[CAP];
  for (unsigned i = 0; i < 50; i++) {
    size_t n = make_rtcp(plain, 0x44444444, (uint8_t) i);
    memcpy(wire, plain, n);
    size_t len = n;
    g_assert_cmpint(tm_srtp_protect_rtcp(f->a, wire, &len, sizeof wire), ==, TM_SRTP_OK);
    g_assert_cmpuint(len, ==, n + f->rtcp_trailer);
    g_assert_cmpmem(wire, 8, plain, 8); /* header and sender SSRC in the clear */
    g_assert_true(memcmp(wire + 8, plain + 8, 24) != 0);
    g_assert_cmpuint(wire[n + f->rtcp_index_at] & 0x80, ==, 0x80); /* E: encrypted */
    g_assert_cmpuint(wire[n + f->rtcp_index_at + 3], ==, i + 1);   /* index, from 1 */
    g_assert_cmpint(tm_srtp_unprotect_rtcp(f->b, wire, &len), ==, TM_SRTP_OK);
    g_assert_cmpmem(wire, len, plain, n);
  }
  /* the other way */
  size_t n = make_rtcp(plain, 0x55555555, 0x77);
  memcpy(wire, plain, n);
  size_t len = n;
  g_assert_cmpint(tm_srtp_protect_rtcp(f->b, wire, &len, sizeof wire), ==, TM_SRTP_OK);
  g_assert_cmpint(tm_srtp_unprotect_rtcp(f->a, wire, &len), ==, TM_SRTP_OK);
  g_assert_cmpmem(wire, len, plain, n);
}

static void
test_tamper(Fixture *f, gconstpointer data)
{
  _Alignas(8) uint8_t plain[CAP], wire[CAP], bad[CAP];
  size_t n = make_rtp(plain, 0x66666666, 1000, 200, true);
  memcpy(wire, plain, n);
  size_t len = n;
  g_assert_cmpint(tm_srtp_protect_rtp(f->a, wire, &len, sizeof wire), ==, TM_SRTP_OK);

  /* flip a payload byte, a tag byte, a header byte: each fails authentication */
  size_t positions[] = { n - 1, 40, len - 1, n, 1, 5 };
  for (unsigned i = 0; i < G_N_ELEMENTS(positions); i++) {
    memcpy(bad, wire, len);
    bad[positions[i]] ^= 0x01;
    size_t bad_len = len;
    g_assert_cmpint(tm_srtp_unprotect_rtp(f->b, bad, &bad_len), ==, TM_SRTP_ERR_AUTH);
  }
  /* cut short: the tag no longer matches */
  memcpy(bad, wire, len);
  size_t bad_len = len - 1;
  g_assert_cmpint(tm_srtp_unprotect_rtp(f->b, bad, &bad_len), ==, TM_SRTP_ERR_AUTH);
  /* too short for an RTP header at all */
  bad_len = 11;
  g_assert_cmpint(tm_srtp_unprotect_rtp(f->b, bad, &bad_len), ==, TM_SRTP_ERR_AUTH);

  /* the failed attempts did not mark the index as seen: the real packet still passes */
  g_assert_cmpint(tm_srtp_unprotect_rtp(f->b, wire, &len), ==, TM_SRTP_OK);
  g_assert_cmpmem(wire, len, plain, n);

  /* RTCP: a flipped body byte, a flipped tag byte, a flipped index */
  n = make_rtcp(plain, 0x66666666, 0x12);
  memcpy(wire, plain, n);
  len = n;
  g_assert_cmpint(tm_srtp_protect_rtcp(f->a, wire, &len, sizeof wire), ==, TM_SRTP_OK);
  size_t rtcp_positions[] = { 10, len - 1, n + f->rtcp_index_at + 3, n + 5 };
  for (unsigned i = 0; i < G_N_ELEMENTS(rtcp_positions); i++) {
    memcpy(bad, wire, len);
    bad[rtcp_positions[i]] ^= 0x40;
    bad_len = len;
    g_assert_cmpint(tm_srtp_unprotect_rtcp(f->b, bad, &bad_len), ==, TM_SRTP_ERR_AUTH);
  }
  bad_len = 7;
  g_assert_cmpint(tm_srtp_unprotect_rtcp(f->b, bad, &bad_len), ==, TM_SRTP_ERR_AUTH);
  g_assert_cmpint(tm_srtp_unprotect_rtcp(f->b, wire, &len), ==, TM_SRTP_OK);
  g_assert_cmpmem(wire, len, plain, n);
}

/* Protects PLAIN (N bytes) with F->a into OUT; returns the protected length. */
static size_t
protect(Fixture *f, const uint8_t *plain, size_t n, uint8_t *out)
{
  memcpy(out, plain, n);
  size_t len = n;
  g_assert_cmpint(tm_srtp_protect_rtp(f->a, out, &len, CAP), ==, TM_SRTP_OK);
  return len;
}

static TmSrtpError
unprotect_copy(Fixture *f, const uint8_t *wire, size_t len)
{
  _Alignas(8) uint8_t tmp[CAP];
  memcpy(tmp, wire, len);
  return tm_srtp_unprotect_rtp(f->b, tmp, &len);
}

static void
test_replay(Fixture *f, gconstpointer data)
{
  _Alignas(8) uint8_t plain[CAP], w[4][CAP];
  size_t lens[4];
  static const uint16_t seqs[4] = { 10, 11, 12, 3000 };
  for (int i = 0; i < 4; i++) {
    size_t n = make_rtp(plain, 0x77777777, seqs[i], 50, false);
    lens[i] = protect(f, plain, n, w[i]);
  }
  g_assert_cmpint(unprotect_copy(f, w[1], lens[1]), ==, TM_SRTP_OK);
  /* the same packet again */
  g_assert_cmpint(unprotect_copy(f, w[1], lens[1]), ==, TM_SRTP_ERR_REPLAY);
  /* an older one not seen yet, inside the window: fine, once */
  g_assert_cmpint(unprotect_copy(f, w[0], lens[0]), ==, TM_SRTP_OK);
  g_assert_cmpint(unprotect_copy(f, w[0], lens[0]), ==, TM_SRTP_ERR_REPLAY);
  /* far ahead, then one from behind the 1024-packet window: too old */
  g_assert_cmpint(unprotect_copy(f, w[3], lens[3]), ==, TM_SRTP_OK);
  g_assert_cmpint(unprotect_copy(f, w[2], lens[2]), ==, TM_SRTP_ERR_REPLAY);

  /* RTCP replay */
  _Alignas(8) uint8_t wire[CAP];
  size_t n = make_rtcp(plain, 0x77777777, 0);
  memcpy(wire, plain, n);
  size_t len = n;
  g_assert_cmpint(tm_srtp_protect_rtcp(f->a, wire, &len, sizeof wire), ==, TM_SRTP_OK);
  _Alignas(8) uint8_t copy[CAP];
  memcpy(copy, wire, len);
  size_t copy_len = len;
  g_assert_cmpint(tm_srtp_unprotect_rtcp(f->b, wire, &len), ==, TM_SRTP_OK);
  g_assert_cmpint(tm_srtp_unprotect_rtcp(f->b, copy, &copy_len), ==, TM_SRTP_ERR_REPLAY);
}

static void
test_late_in_window(Fixture *f, gconstpointer data)
{
  /* video retransmissions can arrive ~1000 packets late; the window is 1024 */
  _Alignas(8) uint8_t plain[CAP], old[CAP], wire[CAP];
  size_t n = make_rtp(plain, 0x88888888, 100, 20, false);
  size_t old_len = protect(f, plain, n, old);
  for (uint16_t seq = 101; seq <= 1100; seq++) {
    size_t m = make_rtp(plain, 0x88888888, seq, 20, false);
    size_t len = protect(f, plain, m, wire);
    g_assert_cmpint(tm_srtp_unprotect_rtp(f->b, wire, &len), ==, TM_SRTP_OK);
  }
  g_assert_cmpint(unprotect_copy(f, old, old_len), ==, TM_SRTP_OK);
}

static void
test_retransmission(Fixture *f, gconstpointer data)
{
  /* answering a NACK protects the same packet (same index) a second time: allowed, and the
   * receiver that lost the first copy accepts the second */
  _Alignas(8) uint8_t plain[CAP], plain_next[CAP], first[CAP], second[CAP], next[CAP];
  size_t n = make_rtp(plain, 0x99999999, 500, 300, true);
  size_t first_len = protect(f, plain, n, first); /* lost on the way */
  size_t m = make_rtp(plain_next, 0x99999999, 501, 300, false);
  size_t next_len = protect(f, plain_next, m, next);
  g_assert_cmpint(unprotect_copy(f, next, next_len), ==, TM_SRTP_OK);
  size_t second_len = protect(f, plain, n, second);
  g_assert_cmpmem(second, second_len, first, first_len); /* same key, same index, same bytes */
  g_assert_cmpint(unprotect_copy(f, second, second_len), ==, TM_SRTP_OK);
  /* and a third copy is a replay to that receiver */
  g_assert_cmpint(unprotect_copy(f, second, second_len), ==, TM_SRTP_ERR_REPLAY);
}

static void
test_buffer(Fixture *f, gconstpointer data)
{
  _Alignas(8) uint8_t buf[CAP], before[CAP];
  size_t n = make_rtp(buf, 0xaaaaaaaa, 1, 100, false);
  memcpy(before, buf, n);
  size_t len = n;
  /* one byte short of room for the largest trailer */
  g_assert_cmpint(tm_srtp_protect_rtp(f->a, buf, &len, n + TM_SRTP_MAX_TRAILER - 1), ==,
                  TM_SRTP_ERR_BUFFER);
  g_assert_cmpuint(len, ==, n);
  g_assert_cmpmem(buf, n, before, n); /* untouched */
  g_assert_cmpint(tm_srtp_protect_rtp(f->a, buf, &len, n), ==, TM_SRTP_ERR_BUFFER);
  g_assert_cmpint(tm_srtp_protect_rtp(f->a, buf, &len, 0), ==, TM_SRTP_ERR_BUFFER);
  /* shorter than an RTP header */
  len = 11;
  g_assert_cmpint(tm_srtp_protect_rtp(f->a, buf, &len, sizeof buf), ==, TM_SRTP_ERR_BUFFER);
  g_assert_cmpuint(len, ==, 11);
  /* exactly enough */
  len = n;
  g_assert_cmpint(tm_srtp_protect_rtp(f->a, buf, &len, n + TM_SRTP_MAX_TRAILER), ==, TM_SRTP_OK);
  g_assert_cmpint(tm_srtp_unprotect_rtp(f->b, buf, &len), ==, TM_SRTP_OK);
  g_assert_cmpmem(buf, len, before, n);

  n = make_rtcp(buf, 0xaaaaaaaa, 1);
  len = n;
  g_assert_cmpint(tm_srtp_protect_rtcp(f->a, buf, &len, n + TM_SRTP_MAX_TRAILER - 1), ==,
                  TM_SRTP_ERR_BUFFER);
  g_assert_cmpuint(len, ==, n);
  len = 7;
  g_assert_cmpint(tm_srtp_protect_rtcp(f->a, buf, &len, sizeof buf), ==, TM_SRTP_ERR_BUFFER);
  len = n;
  g_assert_cmpint(tm_srtp_protect_rtcp(f->a, buf, &len, n + TM_SRTP_MAX_TRAILER), ==, TM_SRTP_OK);
}

/* RECEIVER cannot authenticate what SENDER protects. */
static void
assert_cannot_read(TmSrtp *sender, TmSrtp *receiver, uint16_t seq)
{
  _Alignas(8) uint8_t buf[CAP];
  size_t len = make_rtp(buf, 5, seq, 64, false);
  g_assert_cmpint(tm_srtp_protect_rtp(sender, buf, &len, sizeof buf), ==, TM_SRTP_OK);
  g_assert_cmpint(tm_srtp_unprotect_rtp(receiver, buf, &len), ==, TM_SRTP_ERR_AUTH);
}

/* A receiver whose key (or salt) is one bit off the sender's. */
static void
test_wrong_key(gconstpointer data)
{
  TmSrtpProfile profile = (TmSrtpProfile) GPOINTER_TO_INT(data);
  TmSrtpKeys ka;
  keys_fill(&ka, profile, 1, 2);
  TmSrtpError err;
  TmSrtp *a = tm_srtp_new(&ka, &err);
  size_t flips[] = { 0, ka.key_len - 1, ka.key_len, ka.key_len + ka.salt_len - 1 };
  for (unsigned i = 0; i < G_N_ELEMENTS(flips); i++) {
    TmSrtpKeys kc = ka;
    memcpy(kc.remote, ka.local, sizeof kc.remote);
    kc.remote[flips[i]] ^= 0x04;
    TmSrtp *c = tm_srtp_new(&kc, &err);
    g_assert_nonnull(c);
    assert_cannot_read(a, c, (uint16_t) (i + 1));
    tm_srtp_free(c);
  }
  tm_srtp_free(a);
}

static void
test_profiles_differ(void)
{
  /* the same key bytes under the two profiles do not interoperate */
  TmSrtpKeys gcm, cm;
  keys_fill(&gcm, TM_SRTP_PROFILE_AEAD_AES_128_GCM, 1, 1);
  keys_fill(&cm, TM_SRTP_PROFILE_AES128_CM_SHA1_80, 1, 1);
  TmSrtpError err;
  TmSrtp *a = tm_srtp_new(&gcm, &err);
  TmSrtp *b = tm_srtp_new(&cm, &err);
  assert_cannot_read(a, b, 5);
  assert_cannot_read(b, a, 6);
  tm_srtp_free(a);
  tm_srtp_free(b);
}

static void
test_init_and_names(void)
{
  TmSrtpKeys k;
  keys_fill(&k, TM_SRTP_PROFILE_NONE, 1, 2);
  TmSrtpError err = TM_SRTP_OK;
  g_assert_null(tm_srtp_new(&k, &err));
  g_assert_cmpint(err, ==, TM_SRTP_ERR_INIT);
  tm_srtp_free(NULL);

  g_assert_cmpstr(tm_srtp_profile_name(TM_SRTP_PROFILE_AEAD_AES_128_GCM), ==, "AEAD_AES_128_GCM");
  g_assert_cmpstr(tm_srtp_profile_name(TM_SRTP_PROFILE_AES128_CM_SHA1_80), ==,
                  "AES_CM_128_HMAC_SHA1_80");
  g_assert_cmpstr(tm_srtp_profile_name(TM_SRTP_PROFILE_NONE), ==, "none");
  for (int e = 0; e < TM_SRTP_ERR_COUNT; e++)
    g_assert_nonnull(tm_srtp_strerror((TmSrtpError) e));
  g_assert_cmpstr(tm_srtp_strerror(TM_SRTP_ERR_AUTH), !=, tm_srtp_strerror(TM_SRTP_ERR_REPLAY));
  g_assert_nonnull(tm_srtp_strerror((TmSrtpError) 77));
}

static void
add(const char *name, TmSrtpProfile profile, void (*fn)(Fixture *, gconstpointer))
{
  g_autofree char *path = g_strdup_printf(
    "/srtp/%s/%s", profile == TM_SRTP_PROFILE_AEAD_AES_128_GCM ? "gcm" : "cm-sha1-80", name);
  g_test_add(path, Fixture, GINT_TO_POINTER(profile), fixture_setup, fn, fixture_teardown);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  static const TmSrtpProfile profiles[] = { TM_SRTP_PROFILE_AEAD_AES_128_GCM,
                                            TM_SRTP_PROFILE_AES128_CM_SHA1_80 };
  for (unsigned i = 0; i < G_N_ELEMENTS(profiles); i++) {
    add("rtp-round-trip", profiles[i], test_rtp_round_trip);
    add("rtcp-round-trip", profiles[i], test_rtcp_round_trip);
    add("tamper", profiles[i], test_tamper);
    add("replay", profiles[i], test_replay);
    add("late-in-window", profiles[i], test_late_in_window);
    add("retransmission", profiles[i], test_retransmission);
    add("buffer", profiles[i], test_buffer);
    g_autofree char *path = g_strdup_printf("/srtp/%s/wrong-key", i == 0 ? "gcm" : "cm-sha1-80");
    g_test_add_data_func(path, GINT_TO_POINTER(profiles[i]), test_wrong_key);
  }
  g_test_add_func("/srtp/profiles-differ", test_profiles_differ);
  g_test_add_func("/srtp/init-and-names", test_init_and_names);
  return g_test_run();
}
