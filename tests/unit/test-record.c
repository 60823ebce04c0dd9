/* test-record.c — the recording container: record round trips and caps, writer → verifier
 * round trip, every tamper (flipped byte in a middle chunk, flipped length field, truncation,
 * deleted chunk, swapped chunks, edited header, appended garbage) named at the right chunk, and
 * encryption at rest (round trip, verify without the key, wrong key, forged ciphertext). */
#include <glib.h>
#include <openssl/evp.h>
#include <string.h>

#include "record.h"

#define T0 1700000000000000LL /* a UTC time in µs */

static TmRecordEntry
packet_entry(uint16_t participant, uint8_t track, int64_t t, const uint8_t *rtp, size_t len)
{
  TmRecordEntry e = { .type = TM_RECORD_PACKET,
                      .participant = participant,
                      .track = track,
                      .time_us = t,
                      .rtp = rtp,
                      .rtp_len = len };
  return e;
}

static void
fake_rtp(uint8_t *buf, size_t len, uint16_t seq)
{
  memset(buf, 0, len);
  buf[0] = 0x80;
  buf[1] = 96;
  buf[2] = (uint8_t) (seq >> 8);
  buf[3] = (uint8_t) seq;
  for (size_t i = 12; i < len; i++)
    buf[i] = (uint8_t) (seq + i);
}

static gboolean
str_eq(TmRecordStr s, const char *c)
{
  return s.len == strlen(c) && memcmp(s.data, c, s.len) == 0;
}

/* A recording of N_CHUNKS chunks, one per second, each with a few packets of two participants;
 * chunk 0 also carries the joins and tracks, the last a marker. */
static GByteArray *
make_recording(guint n_chunks, const uint8_t *recipient)
{
  TmRecordError err;
  TmRecordWriter *w = tm_record_writer_new("H-1", "CASE 42", T0, recipient, &err);
  g_assert_nonnull(w);
  g_assert_cmpint(err, ==, TM_RECORD_OK);
  GByteArray *out = g_byte_array_new();
  size_t hlen;
  const uint8_t *h = tm_record_writer_header(w, &hlen);
  g_byte_array_append(out, h, (guint) hlen);
  for (guint c = 0; c < n_chunks; c++) {
    int64_t t = T0 + (int64_t) c * G_USEC_PER_SEC;
    if (c == 0) {
      for (uint16_t p = 0; p < 2; p++) {
        TmRecordEntry j = { .type = TM_RECORD_JOIN,
                            .participant = p,
                            .track = TM_RECORD_NO_TRACK,
                            .time_us = t,
                            .id = tm_record_str(p ? "p2" : "p1"),
                            .name = tm_record_str(p ? "Witness" : "Judge Dredd"),
                            .role = tm_record_str(p ? "witness" : "judge") };
        g_assert_false(tm_record_writer_add(w, &j, &err));
        g_assert_cmpint(err, ==, TM_RECORD_OK);
        TmRecordEntry tr = { .type = TM_RECORD_TRACK,
                             .participant = p,
                             .track = 1,
                             .time_us = t,
                             .codec = tm_record_str("VP8"),
                             .clock_rate = 90000,
                             .pt = 96 };
        tm_record_writer_add(w, &tr, &err);
        g_assert_cmpint(err, ==, TM_RECORD_OK);
      }
    }
    for (guint i = 0; i < 10; i++) {
      uint8_t rtp[300];
      fake_rtp(rtp, sizeof rtp, (uint16_t) (c * 10 + i));
      TmRecordEntry e = packet_entry((uint16_t) (i % 2), 1, t + i * 50000, rtp, 100 + i * 20);
      tm_record_writer_add(w, &e, &err);
      g_assert_cmpint(err, ==, TM_RECORD_OK);
    }
    if (c + 1 == n_chunks) {
      TmRecordEntry m = { .type = TM_RECORD_MARKER,
                          .participant = TM_RECORD_NO_PARTICIPANT,
                          .track = TM_RECORD_NO_TRACK,
                          .time_us = t + 600000,
                          .role = tm_record_str("clerk"),
                          .text = tm_record_str("exhibit 3") };
      tm_record_writer_add(w, &m, &err);
      g_assert_cmpint(err, ==, TM_RECORD_OK);
    }
    g_assert_true(tm_record_writer_close_chunk(w, out, &err));
    g_assert_false(tm_record_writer_close_chunk(w, out, &err)); /* nothing pending */
  }
  g_assert_cmpuint(tm_record_writer_chunk_count(w), ==, n_chunks);
  tm_record_writer_free(w);
  return out;
}

/* Offsets of every chunk in a recording that verifies. */
static GArray *
chunk_offsets(const GByteArray *rec)
{
  GArray *offs = g_array_new(FALSE, FALSE, sizeof(size_t));
  TmRecordHeader h;
  g_assert_cmpint(tm_record_header_parse(rec->data, rec->len, &h), ==, TM_RECORD_OK);
  size_t pos = h.size;
  while (pos < rec->len) {
    TmRecordChunk c;
    g_assert_cmpint(tm_record_chunk_parse(rec->data + pos, rec->len - pos, &c), ==, TM_RECORD_OK);
    g_array_append_val(offs, pos);
    pos += c.size;
  }
  return offs;
}

static void
test_entry_round_trip(void)
{
  uint8_t rtp[40];
  fake_rtp(rtp, sizeof rtp, 7);
  TmRecordEntry in[] = {
    packet_entry(3, 0, T0 + 5, rtp, sizeof rtp),
    { .type = TM_RECORD_JOIN,
      .participant = 1,
      .track = TM_RECORD_NO_TRACK,
      .time_us = T0,
      .id = tm_record_str("abc"),
      .name = tm_record_str("Zoë"),
      .role = tm_record_str("clerk") },
    { .type = TM_RECORD_LEAVE, .participant = 1, .track = TM_RECORD_NO_TRACK, .time_us = T0 + 1 },
    { .type = TM_RECORD_TRACK,
      .participant = 1,
      .track = 0,
      .time_us = T0 + 2,
      .codec = tm_record_str("opus"),
      .clock_rate = 48000,
      .pt = 111 },
    { .type = TM_RECORD_PAUSE,
      .participant = TM_RECORD_NO_PARTICIPANT,
      .track = TM_RECORD_NO_TRACK,
      .time_us = T0 + 3 },
    { .type = TM_RECORD_RESUME,
      .participant = TM_RECORD_NO_PARTICIPANT,
      .track = TM_RECORD_NO_TRACK,
      .time_us = T0 + 4 },
    { .type = TM_RECORD_MARKER,
      .participant = TM_RECORD_NO_PARTICIPANT,
      .track = TM_RECORD_NO_TRACK,
      .time_us = T0 + 6,
      .role = tm_record_str("judge"),
      .text = tm_record_str("witness sworn in") },
    { .type = TM_RECORD_GAP,
      .participant = 2,
      .track = TM_RECORD_NO_TRACK,
      .time_us = T0 - 7,
      .end_us = T0 + 9 },
  };
  uint8_t buf[1024];
  for (gsize i = 0; i < G_N_ELEMENTS(in); i++) {
    TmWriter w;
    size_t size = tm_record_entry_serialized_size(&in[i]);
    tm_writer_init(&w, buf, size);
    g_assert_cmpint(tm_record_entry_serialize(&in[i], &w), ==, TM_RECORD_OK);
    g_assert_cmpuint(w.pos, ==, size);
    /* one byte short: refused, writer unchanged */
    TmWriter small;
    uint8_t tmp[1024];
    tm_writer_init(&small, tmp, size - 1);
    g_assert_cmpint(tm_record_entry_serialize(&in[i], &small), ==, TM_RECORD_ERR_LENGTH);
    g_assert_cmpuint(small.pos, ==, 0);

    TmReader r;
    tm_reader_init(&r, buf, size);
    TmRecordEntry e;
    g_assert_cmpint(tm_record_entry_parse(&r, &e), ==, TM_RECORD_OK);
    g_assert_cmpuint(tm_reader_remaining(&r), ==, 0);
    g_assert_cmpint(e.type, ==, in[i].type);
    g_assert_cmpint(e.participant, ==, in[i].participant);
    g_assert_cmpint(e.track, ==, in[i].track);
    g_assert_cmpint(e.time_us, ==, in[i].time_us);
    g_assert_cmpint(e.end_us, ==, in[i].end_us);
    g_assert_cmpuint(e.clock_rate, ==, in[i].clock_rate);
    g_assert_cmpuint(e.pt, ==, in[i].pt);
    g_assert_cmpmem(e.rtp, e.rtp_len, in[i].rtp, in[i].rtp_len);
    g_assert_cmpmem(e.name.data, e.name.len, in[i].name.data, in[i].name.len);
    g_assert_cmpmem(e.text.data, e.text.len, in[i].text.data, in[i].text.len);
    g_assert_cmpmem(e.codec.data, e.codec.len, in[i].codec.data, in[i].codec.len);
    /* serialize again: identical bytes */
    uint8_t again[1024];
    tm_writer_init(&w, again, sizeof again);
    g_assert_cmpint(tm_record_entry_serialize(&e, &w), ==, TM_RECORD_OK);
    g_assert_cmpmem(again, w.pos, buf, size);
    /* every truncation fails cleanly */
    for (size_t cut = 0; cut < size; cut++) {
      tm_reader_init(&r, buf, cut);
      g_assert_cmpint(tm_record_entry_parse(&r, &e), !=, TM_RECORD_OK);
    }
  }
}

static void
test_entry_caps(void)
{
  /* body length beyond the cap */
  uint8_t buf[16] = { TM_RECORD_PACKET, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01, 0x00, 0x01 };
  TmReader r;
  TmRecordEntry e;
  tm_reader_init(&r, buf, sizeof buf);
  g_assert_cmpint(tm_record_entry_parse(&r, &e), ==, TM_RECORD_ERR_LENGTH);
  /* unknown type */
  buf[0] = 99;
  tm_reader_init(&r, buf, sizeof buf);
  g_assert_cmpint(tm_record_entry_parse(&r, &e), ==, TM_RECORD_ERR_TYPE);
  /* a packet without a participant, a track 7 */
  uint8_t rtp[12] = { 0x80 };
  TmRecordEntry bad = packet_entry(TM_RECORD_NO_PARTICIPANT, 0, T0, rtp, sizeof rtp);
  TmRecordError err;
  TmRecordWriter *w = tm_record_writer_new("h", "", T0, NULL, &err);
  tm_record_writer_add(w, &bad, &err);
  g_assert_cmpint(err, ==, TM_RECORD_ERR_VALUE);
  bad = packet_entry(0, 7, T0, rtp, sizeof rtp);
  tm_record_writer_add(w, &bad, &err);
  g_assert_cmpint(err, ==, TM_RECORD_ERR_VALUE);
  /* an oversized string */
  char *big = g_strnfill(TM_RECORD_MAX_STRING + 1, 'x');
  TmRecordEntry m = { .type = TM_RECORD_MARKER,
                      .participant = TM_RECORD_NO_PARTICIPANT,
                      .track = TM_RECORD_NO_TRACK,
                      .time_us = T0,
                      .text = tm_record_str(big) };
  tm_record_writer_add(w, &m, &err);
  g_assert_cmpint(err, ==, TM_RECORD_ERR_LENGTH);
  g_assert_cmpuint(tm_record_writer_pending(w), ==, 0);
  GByteArray *out = g_byte_array_new();
  g_assert_false(tm_record_writer_close_chunk(w, out, &err));
  g_assert_cmpuint(out->len, ==, 0);
  tm_record_writer_free(w);
  g_assert_null(tm_record_writer_new(big, "", T0, NULL, &err));
  g_assert_cmpint(err, ==, TM_RECORD_ERR_LENGTH);
  g_free(big);
  g_byte_array_unref(out);
}

static void
test_round_trip(void)
{
  GByteArray *rec = make_recording(5, NULL);
  TmRecordVerifyResult res;
  tm_record_verify(rec->data, rec->len, UINT32_MAX, &res);
  g_assert_cmpint(res.status, ==, TM_RECORD_VERIFY_OK);
  g_assert_cmpuint(res.chunks, ==, 5);
  g_assert_cmpuint(res.tail_bytes, ==, 0);
  g_assert_cmpuint(res.good_bytes, ==, rec->len);
  g_assert_cmpuint(res.records, ==, 4 + 50 + 1);
  g_assert_cmpint(res.first_us, ==, T0);
  g_assert_cmpint(res.last_us, ==, T0 + 4 * G_USEC_PER_SEC + 600000);
  g_assert_true(str_eq(res.header.hearing_id, "H-1"));
  g_assert_true(str_eq(res.header.case_number, "CASE 42"));
  g_assert_false(res.header.encrypted);

  /* walk every record back */
  TmRecordKey key;
  g_assert_cmpint(tm_record_key_init(&key, &res.header, NULL), ==, TM_RECORD_OK);
  GArray *offs = chunk_offsets(rec);
  GByteArray *scratch = g_byte_array_new();
  guint packets = 0, joins = 0, markers = 0;
  for (guint i = 0; i < offs->len; i++) {
    size_t off = g_array_index(offs, size_t, i);
    TmRecordChunk c;
    g_assert_cmpint(tm_record_chunk_parse(rec->data + off, rec->len - off, &c), ==, TM_RECORD_OK);
    g_assert_cmpuint(c.index, ==, i);
    const uint8_t *plain;
    size_t plain_len;
    g_assert_cmpint(tm_record_chunk_open(&key, &c, scratch, &plain, &plain_len), ==, TM_RECORD_OK);
    TmReader r;
    tm_reader_init(&r, plain, plain_len);
    guint n = 0;
    while (tm_reader_remaining(&r) > 0) {
      TmRecordEntry e;
      g_assert_cmpint(tm_record_entry_parse(&r, &e), ==, TM_RECORD_OK);
      n++;
      if (e.type == TM_RECORD_PACKET) {
        uint8_t want[300];
        fake_rtp(want, sizeof want, (uint16_t) packets);
        g_assert_cmpmem(e.rtp, e.rtp_len, want, 100 + (packets % 10) * 20);
        packets++;
      }
      if (e.type == TM_RECORD_JOIN) {
        joins++;
        g_assert_true(str_eq(e.role, e.participant ? "witness" : "judge"));
      }
      if (e.type == TM_RECORD_MARKER) {
        markers++;
        g_assert_true(str_eq(e.text, "exhibit 3"));
      }
    }
    g_assert_cmpuint(n, ==, c.record_count);
  }
  g_assert_cmpuint(packets, ==, 50);
  g_assert_cmpuint(joins, ==, 2);
  g_assert_cmpuint(markers, ==, 1);
  g_array_unref(offs);
  g_byte_array_unref(scratch);
  g_byte_array_unref(rec);
}

static void
expect_bad(const GByteArray *rec, uint32_t n_chunks, uint32_t index, TmRecordError err)
{
  TmRecordVerifyResult res;
  tm_record_verify(rec->data, rec->len, UINT32_MAX, &res);
  g_assert_cmpint(res.status, ==, TM_RECORD_VERIFY_BAD_CHUNK);
  g_assert_cmpuint(res.bad_index, ==, index);
  g_assert_cmpuint(res.chunks, ==, index);
  g_assert_cmpint(res.error, ==, err);
  /* the damage is placed at the end of the last good chunk */
  int64_t want = index == 0 ? T0 : T0 + (int64_t) (index - 1) * G_USEC_PER_SEC + 450000;
  if (index == n_chunks)
    want += 150000; /* the last chunk ends with its marker */
  g_assert_cmpint(res.bad_time_us, ==, want);
}

static void
test_tamper_flip(void)
{
  GByteArray *rec = make_recording(6, NULL);
  GArray *offs = chunk_offsets(rec);
  /* every byte of chunk 3: a flip anywhere is named as chunk 3 */
  size_t start = g_array_index(offs, size_t, 3), end = g_array_index(offs, size_t, 4);
  for (size_t i = start; i < end; i++) {
    rec->data[i] ^= 0x20;
    TmRecordVerifyResult res;
    tm_record_verify(rec->data, rec->len, UINT32_MAX, &res);
    g_assert_cmpint(res.status, ==, TM_RECORD_VERIFY_BAD_CHUNK);
    g_assert_cmpuint(res.bad_index, ==, 3);
    rec->data[i] ^= 0x20;
  }
  /* a payload byte: hash */
  rec->data[start + 100] ^= 1;
  expect_bad(rec, 6, 3, TM_RECORD_ERR_HASH);
  rec->data[start + 100] ^= 1;
  /* the length field, made larger: not mistaken for truncation */
  rec->data[start + 29] ^= 0x10;
  expect_bad(rec, 6, 3, TM_RECORD_ERR_LENGTH);
  rec->data[start + 29] ^= 0x10;
  /* the header: chunk 0 no longer follows it */
  TmRecordHeader h;
  tm_record_header_parse(rec->data, rec->len, &h);
  rec->data[h.size - 3] ^= 1; /* inside the case number */
  expect_bad(rec, 6, 0, TM_RECORD_ERR_CHAIN);
  rec->data[h.size - 3] ^= 1;
  rec->data[0] ^= 1;
  TmRecordVerifyResult res;
  tm_record_verify(rec->data, rec->len, UINT32_MAX, &res);
  g_assert_cmpint(res.status, ==, TM_RECORD_VERIFY_BAD_HEADER);
  g_assert_cmpint(res.error, ==, TM_RECORD_ERR_MAGIC);
  rec->data[0] ^= 1;
  tm_record_verify(rec->data, rec->len, UINT32_MAX, &res);
  g_assert_cmpint(res.status, ==, TM_RECORD_VERIFY_OK);
  g_array_unref(offs);
  g_byte_array_unref(rec);
}

static void
test_tamper_truncate(void)
{
  GByteArray *rec = make_recording(4, NULL);
  GArray *offs = chunk_offsets(rec);
  size_t last = g_array_index(offs, size_t, 3);
  guint full = rec->len;
  /* every cut inside the last chunk: the first 3 verify, the tail is incomplete */
  for (size_t cut = last + 1; cut < full; cut += 7) {
    TmRecordVerifyResult res;
    tm_record_verify(rec->data, cut, UINT32_MAX, &res);
    g_assert_cmpint(res.status, ==, TM_RECORD_VERIFY_TRUNCATED);
    g_assert_cmpuint(res.chunks, ==, 3);
    g_assert_cmpuint(res.bad_index, ==, 3);
    g_assert_cmpuint(res.good_bytes, ==, last);
    g_assert_cmpuint(res.tail_bytes, ==, cut - last);
  }
  /* a cut exactly at a chunk boundary verifies as complete: only the signed manifest (chunk
   * count) can tell; a limit gives the rest as tail */
  TmRecordVerifyResult res;
  tm_record_verify(rec->data, last, UINT32_MAX, &res);
  g_assert_cmpint(res.status, ==, TM_RECORD_VERIFY_OK);
  g_assert_cmpuint(res.chunks, ==, 3);
  tm_record_verify(rec->data, rec->len, 2, &res);
  g_assert_cmpint(res.status, ==, TM_RECORD_VERIFY_OK);
  g_assert_cmpuint(res.chunks, ==, 2);
  g_assert_cmpuint(res.tail_bytes, ==, rec->len - g_array_index(offs, size_t, 2));
  /* cut inside the header */
  tm_record_verify(rec->data, 10, UINT32_MAX, &res);
  g_assert_cmpint(res.status, ==, TM_RECORD_VERIFY_BAD_HEADER);
  g_assert_cmpint(res.error, ==, TM_RECORD_ERR_SHORT);
  /* garbage appended after the last chunk */
  g_byte_array_append(rec, (const uint8_t *) "garbage!", 8);
  expect_bad(rec, 4, 4, TM_RECORD_ERR_MAGIC);
  g_array_unref(offs);
  g_byte_array_unref(rec);
}

static void
test_tamper_delete_swap(void)
{
  GByteArray *rec = make_recording(6, NULL);
  GArray *offs = chunk_offsets(rec);
  size_t s2 = g_array_index(offs, size_t, 2), s3 = g_array_index(offs, size_t, 3),
         s4 = g_array_index(offs, size_t, 4);
  /* delete chunk 2 */
  GByteArray *del = g_byte_array_new();
  g_byte_array_append(del, rec->data, (guint) s2);
  g_byte_array_append(del, rec->data + s3, rec->len - (guint) s3);
  expect_bad(del, 6, 2, TM_RECORD_ERR_INDEX);
  TmRecordVerifyResult res;
  tm_record_verify(del->data, del->len, UINT32_MAX, &res);
  g_assert_cmpuint(res.found_index, ==, 3);
  /* swap chunks 2 and 3 */
  GByteArray *swp = g_byte_array_new();
  g_byte_array_append(swp, rec->data, (guint) s2);
  g_byte_array_append(swp, rec->data + s3, (guint) (s4 - s3));
  g_byte_array_append(swp, rec->data + s2, (guint) (s3 - s2));
  g_byte_array_append(swp, rec->data + s4, rec->len - (guint) s4);
  expect_bad(swp, 6, 2, TM_RECORD_ERR_INDEX);
  /* renumber the moved chunk consistently (fixing its own hash): the chain still breaks */
  TmRecordChunk c;
  g_assert_cmpint(tm_record_chunk_parse(swp->data + s2, swp->len - s2, &c), ==, TM_RECORD_OK);
  uint8_t *head = swp->data + s2;
  head[7] = 2;
  unsigned int n;
  EVP_Digest(head, TM_RECORD_CHUNK_HEAD_LEN + c.payload_len, (uint8_t *) c.hash, &n, EVP_sha256(),
             NULL);
  expect_bad(swp, 6, 2, TM_RECORD_ERR_CHAIN);
  g_byte_array_unref(del);
  g_byte_array_unref(swp);
  g_array_unref(offs);
  g_byte_array_unref(rec);
}

static void
x25519_pair(uint8_t priv[32], uint8_t pub[32])
{
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, NULL);
  EVP_PKEY *k = NULL;
  g_assert_true(EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &k) == 1);
  size_t l = 32;
  g_assert_true(EVP_PKEY_get_raw_private_key(k, priv, &l) == 1 && l == 32);
  g_assert_true(EVP_PKEY_get_raw_public_key(k, pub, &l) == 1 && l == 32);
  EVP_PKEY_free(k);
  EVP_PKEY_CTX_free(ctx);
}

static void
test_encryption(void)
{
  uint8_t priv[32], pub[32], other_priv[32], other_pub[32];
  x25519_pair(priv, pub);
  x25519_pair(other_priv, other_pub);
  GByteArray *rec = make_recording(3, pub);
  GByteArray *plain_rec = make_recording(3, NULL);
  /* verifies without the key */
  TmRecordVerifyResult res;
  tm_record_verify(rec->data, rec->len, UINT32_MAX, &res);
  g_assert_cmpint(res.status, ==, TM_RECORD_VERIFY_OK);
  g_assert_cmpuint(res.chunks, ==, 3);
  g_assert_true(res.header.encrypted);
  /* ciphertext: no RTP bytes in the clear */
  uint8_t probe[300];
  fake_rtp(probe, sizeof probe, 1);
  g_assert_null(memmem(rec->data, rec->len, probe + 12, 60));
  g_assert_nonnull(memmem(plain_rec->data, plain_rec->len, probe + 12, 60));

  TmRecordKey key;
  g_assert_cmpint(tm_record_key_init(&key, &res.header, NULL), ==, TM_RECORD_ERR_KEY);
  g_assert_cmpint(tm_record_key_init(&key, &res.header, other_priv), ==, TM_RECORD_ERR_KEY);
  g_assert_cmpint(tm_record_key_init(&key, &res.header, priv), ==, TM_RECORD_OK);
  GArray *offs = chunk_offsets(rec), *poffs = chunk_offsets(plain_rec);
  GByteArray *scratch = g_byte_array_new();
  TmRecordKey none;
  TmRecordHeader ph;
  tm_record_header_parse(plain_rec->data, plain_rec->len, &ph);
  tm_record_key_init(&none, &ph, NULL);
  for (guint i = 0; i < offs->len; i++) {
    size_t off = g_array_index(offs, size_t, i), poff = g_array_index(poffs, size_t, i);
    TmRecordChunk c, pc;
    tm_record_chunk_parse(rec->data + off, rec->len - off, &c);
    tm_record_chunk_parse(plain_rec->data + poff, plain_rec->len - poff, &pc);
    g_assert_cmpuint(c.payload_len, ==, pc.payload_len + TM_RECORD_TAG_LEN);
    const uint8_t *p, *pp;
    size_t plen, pplen;
    g_assert_cmpint(tm_record_chunk_open(&key, &c, scratch, &p, &plen), ==, TM_RECORD_OK);
    g_assert_cmpint(tm_record_chunk_open(&none, &pc, NULL, &pp, &pplen), ==, TM_RECORD_OK);
    g_assert_cmpmem(p, plen, pp, pplen);
  }
  /* forge: change a ciphertext byte and recompute the chunk's hash — the hash passes (the
   * chain catches it at the next chunk) and decryption refuses it */
  size_t off = g_array_index(offs, size_t, 1);
  TmRecordChunk c;
  tm_record_chunk_parse(rec->data + off, rec->len - off, &c);
  rec->data[off + TM_RECORD_CHUNK_HEAD_LEN + 5] ^= 1;
  unsigned int n;
  EVP_Digest(c.head, TM_RECORD_CHUNK_HEAD_LEN + c.payload_len, (uint8_t *) c.hash, &n, EVP_sha256(),
             NULL);
  g_assert_true(tm_record_chunk_hash_ok(&c));
  const uint8_t *p;
  size_t plen;
  g_assert_cmpint(tm_record_chunk_open(&key, &c, scratch, &p, &plen), ==, TM_RECORD_ERR_CRYPTO);
  expect_bad(rec, 3, 2, TM_RECORD_ERR_CHAIN);
  tm_record_key_clear(&key);
  g_byte_array_unref(scratch);
  g_array_unref(offs);
  g_array_unref(poffs);
  g_byte_array_unref(rec);
  g_byte_array_unref(plain_rec);
}

static void
test_chunk_target(void)
{
  TmRecordError err;
  TmRecordWriter *w = tm_record_writer_new("h", "", T0, NULL, &err);
  uint8_t rtp[1200];
  fake_rtp(rtp, sizeof rtp, 1);
  guint n = 0;
  TmRecordEntry e = packet_entry(0, 1, T0, rtp, sizeof rtp);
  while (!tm_record_writer_add(w, &e, &err))
    n++;
  g_assert_cmpuint(n, ==, TM_RECORD_CHUNK_TARGET / (sizeof rtp + TM_RECORD_ENTRY_HEAD_LEN));
  GByteArray *out = g_byte_array_new();
  g_assert_true(tm_record_writer_close_chunk(w, out, &err));
  g_assert_cmpuint(tm_record_writer_pending(w), ==, 0);
  g_byte_array_unref(out);
  tm_record_writer_free(w);
  g_assert_cmpstr(tm_record_strerror(TM_RECORD_ERR_HASH), ==, "its contents do not match its hash");
  g_assert_cmpstr(tm_record_strerror(TM_RECORD_ERR_COUNT), ==, "unknown recording error");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/record/entry/round-trip", test_entry_round_trip);
  g_test_add_func("/record/entry/caps", test_entry_caps);
  g_test_add_func("/record/round-trip", test_round_trip);
  g_test_add_func("/record/tamper/flip", test_tamper_flip);
  g_test_add_func("/record/tamper/truncate", test_tamper_truncate);
  g_test_add_func("/record/tamper/delete-swap", test_tamper_delete_swap);
  g_test_add_func("/record/encryption", test_encryption);
  g_test_add_func("/record/chunk-target", test_chunk_target);
  return g_test_run();
}
