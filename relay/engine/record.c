/* record.c — the evidence recording container (see record.h, docs/recording-format.md). */
#include "record.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <string.h>

static const char *const record_errors[TM_RECORD_ERR_COUNT] = {
  [TM_RECORD_OK] = "ok",
  [TM_RECORD_ERR_SHORT] = "the data ends too early",
  [TM_RECORD_ERR_MAGIC] = "not where a recording or chunk starts (bad magic)",
  [TM_RECORD_ERR_LENGTH] = "a length is out of range",
  [TM_RECORD_ERR_HASH] = "its contents do not match its hash",
  [TM_RECORD_ERR_CHAIN] = "it does not carry the hash of the chunk before it",
  [TM_RECORD_ERR_INDEX] = "a chunk is missing or out of order here",
  [TM_RECORD_ERR_TYPE] = "unknown record type",
  [TM_RECORD_ERR_VALUE] = "a field has an invalid value",
  [TM_RECORD_ERR_CRYPTO] = "encryption or decryption failed",
  [TM_RECORD_ERR_KEY] = "the key is not the one this recording was encrypted for",
};

const char *
tm_record_strerror(TmRecordError err)
{
  return (unsigned) err < TM_RECORD_ERR_COUNT ? record_errors[err] : "unknown recording error";
}

static const char hkdf_info[] = "testimony recording v1 chunk key";

/* ---- small helpers ---- */

static void
put_i64(TmWriter *w, int64_t v)
{
  uint64_t u = (uint64_t) v;
  tm_writer_u32(w, (uint32_t) (u >> 32));
  tm_writer_u32(w, (uint32_t) u);
}

static int64_t
get_i64(TmReader *r)
{
  uint64_t hi = tm_reader_u32(r);
  uint64_t lo = tm_reader_u32(r);
  return (int64_t) ((hi << 32) | lo);
}

static void
put_str(TmWriter *w, TmRecordStr s)
{
  tm_writer_u16(w, (uint16_t) s.len);
  tm_writer_bytes(w, s.data, s.len);
}

static TmRecordStr
get_str(TmReader *r)
{
  TmRecordStr s = { "", 0 };
  size_t len = tm_reader_u16(r);
  if (len > TM_RECORD_MAX_STRING) {
    r->err = true;
    return s;
  }
  const uint8_t *p = tm_reader_bytes(r, len);
  if (p != NULL) {
    s.data = (const char *) p;
    s.len = len;
  }
  return s;
}

static void
sha256(const void *data, size_t len, uint8_t out[TM_RECORD_HASH_LEN])
{
  unsigned int n = 0;
  if (!EVP_Digest(data, len, out, &n, EVP_sha256(), NULL))
    memset(out, 0, TM_RECORD_HASH_LEN); /* cannot happen with the default provider */
}

TmRecordStr
tm_record_str(const char *s)
{
  TmRecordStr v = { s != NULL ? s : "", s != NULL ? strlen(s) : 0 };
  return v;
}

char *
tm_record_str_dup(TmRecordStr s)
{
  return g_strndup(s.data != NULL ? s.data : "", s.len);
}

void
tm_record_hex(const uint8_t *bytes, size_t len, char *out)
{
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 15];
  }
  out[2 * len] = '\0';
}

/* ---- records ---- */

static size_t
entry_body_size(const TmRecordEntry *e)
{
  switch (e->type) {
  case TM_RECORD_PACKET: return e->rtp_len;
  case TM_RECORD_JOIN: return 6 + e->id.len + e->name.len + e->role.len;
  case TM_RECORD_TRACK: return 7 + e->codec.len;
  case TM_RECORD_MARKER: return 4 + e->role.len + e->text.len;
  case TM_RECORD_GAP: return 8;
  default: return 0;
  }
}

size_t
tm_record_entry_serialized_size(const TmRecordEntry *e)
{
  return TM_RECORD_ENTRY_HEAD_LEN + entry_body_size(e);
}

static bool
entry_fits_caps(const TmRecordEntry *e)
{
  if (e->type < TM_RECORD_PACKET || e->type > TM_RECORD_TYPE_MAX)
    return false;
  if (e->id.len > TM_RECORD_MAX_STRING || e->name.len > TM_RECORD_MAX_STRING ||
      e->role.len > TM_RECORD_MAX_STRING || e->codec.len > TM_RECORD_MAX_STRING ||
      e->text.len > TM_RECORD_MAX_STRING)
    return false;
  return entry_body_size(e) <= TM_RECORD_MAX_ENTRY_BODY;
}

TmRecordError
tm_record_entry_serialize(const TmRecordEntry *e, TmWriter *w)
{
  if (!entry_fits_caps(e))
    return TM_RECORD_ERR_LENGTH;
  size_t start = w->pos;
  tm_writer_u8(w, (uint8_t) e->type);
  tm_writer_u16(w, e->participant);
  tm_writer_u8(w, e->track);
  put_i64(w, e->time_us);
  tm_writer_u32(w, (uint32_t) entry_body_size(e));
  switch (e->type) {
  case TM_RECORD_PACKET: tm_writer_bytes(w, e->rtp, e->rtp_len); break;
  case TM_RECORD_JOIN:
    put_str(w, e->id);
    put_str(w, e->name);
    put_str(w, e->role);
    break;
  case TM_RECORD_TRACK:
    tm_writer_u32(w, e->clock_rate);
    tm_writer_u8(w, e->pt);
    put_str(w, e->codec);
    break;
  case TM_RECORD_MARKER:
    put_str(w, e->role);
    put_str(w, e->text);
    break;
  case TM_RECORD_GAP: put_i64(w, e->end_us); break;
  default: break;
  }
  if (w->err) {
    w->pos = start;
    return TM_RECORD_ERR_LENGTH;
  }
  return TM_RECORD_OK;
}

static TmRecordError
entry_check(const TmRecordEntry *e)
{
  bool has_participant = e->participant != TM_RECORD_NO_PARTICIPANT;
  bool media_track = e->track == TM_RECORD_TRACK_AUDIO || e->track == TM_RECORD_TRACK_VIDEO;
  switch (e->type) {
  case TM_RECORD_PACKET:
  case TM_RECORD_TRACK: return has_participant && media_track ? TM_RECORD_OK : TM_RECORD_ERR_VALUE;
  case TM_RECORD_JOIN:
  case TM_RECORD_LEAVE:
    return has_participant && e->track == TM_RECORD_NO_TRACK ? TM_RECORD_OK : TM_RECORD_ERR_VALUE;
  case TM_RECORD_GAP:
    return has_participant && (media_track || e->track == TM_RECORD_NO_TRACK) &&
        e->end_us >= e->time_us
      ? TM_RECORD_OK
      : TM_RECORD_ERR_VALUE;
  default: /* PAUSE, RESUME, MARKER */
    return !has_participant && e->track == TM_RECORD_NO_TRACK ? TM_RECORD_OK : TM_RECORD_ERR_VALUE;
  }
}

TmRecordError
tm_record_entry_parse(TmReader *r, TmRecordEntry *e)
{
  memset(e, 0, sizeof *e);
  if (tm_reader_remaining(r) < TM_RECORD_ENTRY_HEAD_LEN)
    return TM_RECORD_ERR_SHORT;
  uint8_t type = tm_reader_u8(r);
  e->participant = tm_reader_u16(r);
  e->track = tm_reader_u8(r);
  e->time_us = get_i64(r);
  size_t body_len = tm_reader_u32(r);
  if (type < TM_RECORD_PACKET || type > TM_RECORD_TYPE_MAX)
    return TM_RECORD_ERR_TYPE;
  e->type = (TmRecordType) type;
  if (body_len > TM_RECORD_MAX_ENTRY_BODY)
    return TM_RECORD_ERR_LENGTH;
  const uint8_t *body = tm_reader_bytes(r, body_len);
  if (body == NULL)
    return TM_RECORD_ERR_SHORT;
  TmReader b;
  tm_reader_init(&b, body, body_len);
  switch (e->type) {
  case TM_RECORD_PACKET:
    if (body_len == 0)
      return TM_RECORD_ERR_LENGTH;
    e->rtp = body;
    e->rtp_len = body_len;
    tm_reader_skip(&b, body_len);
    break;
  case TM_RECORD_JOIN:
    e->id = get_str(&b);
    e->name = get_str(&b);
    e->role = get_str(&b);
    break;
  case TM_RECORD_TRACK:
    e->clock_rate = tm_reader_u32(&b);
    e->pt = tm_reader_u8(&b);
    e->codec = get_str(&b);
    break;
  case TM_RECORD_MARKER:
    e->role = get_str(&b);
    e->text = get_str(&b);
    break;
  case TM_RECORD_GAP: e->end_us = get_i64(&b); break;
  default: break;
  }
  if (b.err || tm_reader_remaining(&b) != 0)
    return TM_RECORD_ERR_LENGTH;
  return entry_check(e);
}

/* ---- header ---- */

TmRecordError
tm_record_header_parse(const uint8_t *data, size_t len, TmRecordHeader *out)
{
  memset(out, 0, sizeof *out);
  TmReader r;
  tm_reader_init(&r, data, len);
  const uint8_t *magic = tm_reader_bytes(&r, TM_RECORD_MAGIC_LEN);
  if (magic == NULL)
    return TM_RECORD_ERR_SHORT;
  if (memcmp(magic, TM_RECORD_MAGIC, TM_RECORD_MAGIC_LEN) != 0)
    return TM_RECORD_ERR_MAGIC;
  size_t body_len = tm_reader_u32(&r);
  if (r.err)
    return TM_RECORD_ERR_SHORT;
  if (body_len > TM_RECORD_MAX_HEADER_BODY)
    return TM_RECORD_ERR_LENGTH;
  const uint8_t *body = tm_reader_bytes(&r, body_len);
  if (body == NULL)
    return TM_RECORD_ERR_SHORT;
  TmReader b;
  tm_reader_init(&b, body, body_len);
  out->start_us = get_i64(&b);
  uint8_t flags = tm_reader_u8(&b);
  out->hearing_id = get_str(&b);
  out->case_number = get_str(&b);
  if (flags & ~1u)
    return TM_RECORD_ERR_VALUE;
  out->encrypted = (flags & 1) != 0;
  if (out->encrypted) {
    const uint8_t *eph = tm_reader_bytes(&b, TM_RECORD_KEY_LEN);
    const uint8_t *rcp = tm_reader_bytes(&b, TM_RECORD_HASH_LEN);
    if (eph != NULL && rcp != NULL) {
      memcpy(out->ephemeral_public, eph, TM_RECORD_KEY_LEN);
      memcpy(out->recipient_sha256, rcp, TM_RECORD_HASH_LEN);
    }
  }
  if (b.err || tm_reader_remaining(&b) != 0)
    return TM_RECORD_ERR_LENGTH;
  out->size = r.pos;
  sha256(data, out->size, out->hash);
  return TM_RECORD_OK;
}

/* ---- chunks ---- */

TmRecordError
tm_record_chunk_parse(const uint8_t *data, size_t len, TmRecordChunk *out)
{
  memset(out, 0, sizeof *out);
  if (len < 4)
    return TM_RECORD_ERR_SHORT;
  if (memcmp(data, TM_RECORD_CHUNK_MAGIC, 4) != 0)
    return TM_RECORD_ERR_MAGIC;
  if (len < TM_RECORD_CHUNK_HEAD_LEN)
    return TM_RECORD_ERR_SHORT;
  TmReader r;
  tm_reader_init(&r, data, len);
  tm_reader_skip(&r, 4);
  out->index = tm_reader_u32(&r);
  out->first_us = get_i64(&r);
  out->last_us = get_i64(&r);
  out->record_count = tm_reader_u32(&r);
  size_t payload_len = tm_reader_u32(&r);
  out->prev_hash = tm_reader_bytes(&r, TM_RECORD_HASH_LEN);
  if (payload_len > TM_RECORD_MAX_PAYLOAD + TM_RECORD_TAG_LEN)
    return TM_RECORD_ERR_LENGTH;
  if (out->first_us > out->last_us || out->record_count == 0 ||
      out->record_count > payload_len / TM_RECORD_ENTRY_HEAD_LEN)
    return TM_RECORD_ERR_VALUE;
  if (len - TM_RECORD_CHUNK_HEAD_LEN < payload_len + TM_RECORD_HASH_LEN)
    return TM_RECORD_ERR_SHORT;
  out->head = data;
  out->payload = data + TM_RECORD_CHUNK_HEAD_LEN;
  out->payload_len = payload_len;
  out->hash = out->payload + payload_len;
  out->size = TM_RECORD_CHUNK_OVERHEAD + payload_len;
  return TM_RECORD_OK;
}

bool
tm_record_chunk_hash_ok(const TmRecordChunk *c)
{
  uint8_t h[TM_RECORD_HASH_LEN];
  sha256(c->head, TM_RECORD_CHUNK_HEAD_LEN + c->payload_len, h);
  return CRYPTO_memcmp(h, c->hash, TM_RECORD_HASH_LEN) == 0;
}

/* ---- crypto: X25519 + HKDF-SHA256 -> AES-256-GCM ---- */

static bool
hkdf_key(const uint8_t *shared, size_t shared_len, const uint8_t eph[TM_RECORD_KEY_LEN],
         const uint8_t recipient[TM_RECORD_KEY_LEN], uint8_t key[32])
{
  uint8_t salt[2 * TM_RECORD_KEY_LEN];
  memcpy(salt, eph, TM_RECORD_KEY_LEN);
  memcpy(salt + TM_RECORD_KEY_LEN, recipient, TM_RECORD_KEY_LEN);
  EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
  EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
  OSSL_PARAM params[] = {
    OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *) "SHA256", 0),
    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *) shared, shared_len),
    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt, sizeof salt),
    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *) hkdf_info,
                                      sizeof hkdf_info - 1),
    OSSL_PARAM_construct_end(),
  };
  bool ok = ctx != NULL && EVP_KDF_derive(ctx, key, 32, params) == 1;
  EVP_KDF_CTX_free(ctx);
  EVP_KDF_free(kdf);
  return ok;
}

/* Raw X25519 between OURS (a private EVP_PKEY) and the raw public key PEER. */
static bool
x25519_derive(EVP_PKEY *ours, const uint8_t peer_raw[TM_RECORD_KEY_LEN], uint8_t out[32])
{
  EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer_raw, TM_RECORD_KEY_LEN);
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(ours, NULL);
  size_t len = 32;
  bool ok = peer != NULL && ctx != NULL && EVP_PKEY_derive_init(ctx) == 1 &&
    EVP_PKEY_derive_set_peer(ctx, peer) == 1 && EVP_PKEY_derive(ctx, out, &len) == 1 && len == 32;
  EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(peer);
  return ok;
}

static void
gcm_nonce(uint32_t index, uint8_t nonce[12])
{
  memset(nonce, 0, 12);
  nonce[8] = (uint8_t) (index >> 24);
  nonce[9] = (uint8_t) (index >> 16);
  nonce[10] = (uint8_t) (index >> 8);
  nonce[11] = (uint8_t) index;
}

/* AES-256-GCM of IN (LEN bytes) into OUT (LEN + tag), AAD = the chunk head. */
static bool
gcm_seal(const uint8_t key[32], uint32_t index, const uint8_t *aad, const uint8_t *in, size_t len,
         uint8_t *out)
{
  uint8_t nonce[12];
  gcm_nonce(index, nonce);
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int n = 0, m = 0;
  bool ok = ctx != NULL && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
    EVP_EncryptUpdate(ctx, NULL, &n, aad, TM_RECORD_CHUNK_HEAD_LEN) == 1 &&
    EVP_EncryptUpdate(ctx, out, &n, in, (int) len) == 1 &&
    EVP_EncryptFinal_ex(ctx, out + n, &m) == 1 &&
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TM_RECORD_TAG_LEN, out + len) == 1;
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

static bool
gcm_open(const uint8_t key[32], uint32_t index, const uint8_t *aad, const uint8_t *in, size_t len,
         uint8_t *out)
{
  if (len < TM_RECORD_TAG_LEN)
    return false;
  size_t clen = len - TM_RECORD_TAG_LEN;
  uint8_t nonce[12];
  gcm_nonce(index, nonce);
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int n = 0, m = 0;
  bool ok = ctx != NULL && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
    EVP_DecryptUpdate(ctx, NULL, &n, aad, TM_RECORD_CHUNK_HEAD_LEN) == 1 &&
    EVP_DecryptUpdate(ctx, out, &n, in, (int) clen) == 1 &&
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TM_RECORD_TAG_LEN, (void *) (in + clen)) == 1 &&
    EVP_DecryptFinal_ex(ctx, out + n, &m) == 1;
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

/* ---- writer ---- */

struct _TmRecordWriter {
  GByteArray *header;
  GByteArray *pending; /* serialized records of the open chunk */
  uint32_t pending_count;
  int64_t first_us, last_us;
  uint32_t index; /* of the next chunk */
  uint8_t last_hash[TM_RECORD_HASH_LEN];
  bool encrypted;
  uint8_t key[32];
};

static bool
writer_key_agreement(TmRecordWriter *w, const uint8_t *recipient, uint8_t eph_pub[32])
{
  EVP_PKEY *eph = NULL;
  EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, NULL);
  size_t len = 32;
  uint8_t shared[32];
  bool ok = kctx != NULL && EVP_PKEY_keygen_init(kctx) == 1 && EVP_PKEY_keygen(kctx, &eph) == 1 &&
    EVP_PKEY_get_raw_public_key(eph, eph_pub, &len) == 1 && len == 32 &&
    x25519_derive(eph, recipient, shared) &&
    hkdf_key(shared, sizeof shared, eph_pub, recipient, w->key);
  OPENSSL_cleanse(shared, sizeof shared);
  EVP_PKEY_free(eph);
  EVP_PKEY_CTX_free(kctx);
  return ok;
}

TmRecordWriter *
tm_record_writer_new(const char *hearing_id, const char *case_number, int64_t start_us,
                     const uint8_t *recipient_public, TmRecordError *err)
{
  TmRecordStr id = tm_record_str(hearing_id), cn = tm_record_str(case_number);
  *err = TM_RECORD_OK;
  if (id.len > TM_RECORD_MAX_STRING || cn.len > TM_RECORD_MAX_STRING) {
    *err = TM_RECORD_ERR_LENGTH;
    return NULL;
  }
  TmRecordWriter *w = g_new0(TmRecordWriter, 1);
  uint8_t eph_pub[32], rcp_hash[32];
  if (recipient_public != NULL) {
    w->encrypted = true;
    if (!writer_key_agreement(w, recipient_public, eph_pub)) {
      g_free(w);
      *err = TM_RECORD_ERR_CRYPTO;
      return NULL;
    }
    sha256(recipient_public, TM_RECORD_KEY_LEN, rcp_hash);
  }
  uint8_t buf[12 + TM_RECORD_MAX_HEADER_BODY];
  TmWriter hw;
  tm_writer_init(&hw, buf, sizeof buf);
  tm_writer_bytes(&hw, TM_RECORD_MAGIC, TM_RECORD_MAGIC_LEN);
  tm_writer_u32(&hw, 0); /* body length, filled in below */
  put_i64(&hw, start_us);
  tm_writer_u8(&hw, w->encrypted ? 1 : 0);
  put_str(&hw, id);
  put_str(&hw, cn);
  if (w->encrypted) {
    tm_writer_bytes(&hw, eph_pub, sizeof eph_pub);
    tm_writer_bytes(&hw, rcp_hash, sizeof rcp_hash);
  }
  size_t body = hw.pos - 12;
  buf[8] = (uint8_t) (body >> 24);
  buf[9] = (uint8_t) (body >> 16);
  buf[10] = (uint8_t) (body >> 8);
  buf[11] = (uint8_t) body;
  w->header = g_byte_array_new();
  g_byte_array_append(w->header, buf, (guint) hw.pos);
  sha256(buf, hw.pos, w->last_hash);
  w->pending = g_byte_array_new();
  return w;
}

void
tm_record_writer_free(TmRecordWriter *w)
{
  if (w == NULL)
    return;
  g_byte_array_unref(w->header);
  g_byte_array_unref(w->pending);
  OPENSSL_cleanse(w->key, sizeof w->key);
  g_free(w);
}

const uint8_t *
tm_record_writer_header(const TmRecordWriter *w, size_t *len)
{
  *len = w->header->len;
  return w->header->data;
}

bool
tm_record_writer_add(TmRecordWriter *w, const TmRecordEntry *e, TmRecordError *err)
{
  *err = TM_RECORD_OK;
  if (!entry_fits_caps(e) || entry_check(e) != TM_RECORD_OK) {
    *err = entry_fits_caps(e) ? TM_RECORD_ERR_VALUE : TM_RECORD_ERR_LENGTH;
    return w->pending->len >= TM_RECORD_CHUNK_TARGET;
  }
  size_t size = tm_record_entry_serialized_size(e);
  guint at = w->pending->len;
  g_byte_array_set_size(w->pending, at + (guint) size);
  TmWriter wr;
  tm_writer_init(&wr, w->pending->data + at, size);
  *err = tm_record_entry_serialize(e, &wr);
  if (*err != TM_RECORD_OK) {
    g_byte_array_set_size(w->pending, at);
    return false;
  }
  if (w->pending_count == 0 || e->time_us < w->first_us)
    w->first_us = e->time_us;
  if (w->pending_count == 0 || e->time_us > w->last_us)
    w->last_us = e->time_us;
  w->pending_count++;
  return w->pending->len >= TM_RECORD_CHUNK_TARGET;
}

size_t
tm_record_writer_pending(const TmRecordWriter *w)
{
  return w->pending->len;
}

bool
tm_record_writer_close_chunk(TmRecordWriter *w, GByteArray *out, TmRecordError *err)
{
  *err = TM_RECORD_OK;
  if (w->pending_count == 0)
    return false;
  size_t payload_len = w->pending->len + (w->encrypted ? TM_RECORD_TAG_LEN : 0);
  guint at = out->len;
  g_byte_array_set_size(out, at + (guint) (TM_RECORD_CHUNK_OVERHEAD + payload_len));
  uint8_t *chunk = out->data + at;
  TmWriter hw;
  tm_writer_init(&hw, chunk, TM_RECORD_CHUNK_HEAD_LEN);
  tm_writer_bytes(&hw, TM_RECORD_CHUNK_MAGIC, 4);
  tm_writer_u32(&hw, w->index);
  put_i64(&hw, w->first_us);
  put_i64(&hw, w->last_us);
  tm_writer_u32(&hw, w->pending_count);
  tm_writer_u32(&hw, (uint32_t) payload_len);
  tm_writer_bytes(&hw, w->last_hash, TM_RECORD_HASH_LEN);
  uint8_t *payload = chunk + TM_RECORD_CHUNK_HEAD_LEN;
  if (w->encrypted) {
    if (!gcm_seal(w->key, w->index, chunk, w->pending->data, w->pending->len, payload)) {
      g_byte_array_set_size(out, at);
      *err = TM_RECORD_ERR_CRYPTO;
      return false;
    }
  } else {
    memcpy(payload, w->pending->data, w->pending->len);
  }
  sha256(chunk, TM_RECORD_CHUNK_HEAD_LEN + payload_len, payload + payload_len);
  memcpy(w->last_hash, payload + payload_len, TM_RECORD_HASH_LEN);
  w->index++;
  w->pending_count = 0;
  g_byte_array_set_size(w->pending, 0);
  return true;
}

uint32_t
tm_record_writer_chunk_count(const TmRecordWriter *w)
{
  return w->index;
}

const uint8_t *
tm_record_writer_last_hash(const TmRecordWriter *w)
{
  return w->last_hash;
}

/* ---- verifier ---- */

/* After an apparently truncated chunk: is there a chunk with index NEXT later on? Then the
 * chunk was damaged (its length field), not cut off. */
static bool
later_chunk_exists(const uint8_t *data, size_t len, uint32_t next)
{
  uint8_t pattern[8] = { 'T',
                         'M',
                         'C',
                         'K',
                         (uint8_t) (next >> 24),
                         (uint8_t) (next >> 16),
                         (uint8_t) (next >> 8),
                         (uint8_t) next };
  for (size_t i = 0; i + sizeof pattern <= len; i++) {
    if (data[i] == 'T' && memcmp(data + i, pattern, sizeof pattern) == 0) {
      TmRecordChunk c;
      if (tm_record_chunk_parse(data + i, len - i, &c) == TM_RECORD_OK &&
          tm_record_chunk_hash_ok(&c))
        return true;
    }
  }
  return false;
}

static void
verify_bad(TmRecordVerifyResult *res, TmRecordVerifyStatus status, TmRecordError err)
{
  res->status = status;
  res->error = err;
  res->bad_index = res->chunks;
}

void
tm_record_verify(const uint8_t *data, size_t len, uint32_t limit, TmRecordVerifyResult *res)
{
  memset(res, 0, sizeof *res);
  res->first_us = INT64_MAX;
  res->last_us = INT64_MIN;
  TmRecordError err = tm_record_header_parse(data, len, &res->header);
  if (err != TM_RECORD_OK) {
    verify_bad(res, TM_RECORD_VERIFY_BAD_HEADER, err);
    res->tail_bytes = len;
    return;
  }
  res->bad_time_us = res->header.start_us;
  memcpy(res->last_hash, res->header.hash, TM_RECORD_HASH_LEN);
  size_t pos = res->header.size;
  res->status = TM_RECORD_VERIFY_OK;
  while (pos < len && res->chunks < limit) {
    TmRecordChunk c;
    err = tm_record_chunk_parse(data + pos, len - pos, &c);
    if (err == TM_RECORD_ERR_SHORT) {
      if (later_chunk_exists(data + pos + 1, len - pos - 1, res->chunks + 1))
        verify_bad(res, TM_RECORD_VERIFY_BAD_CHUNK, TM_RECORD_ERR_LENGTH);
      else
        verify_bad(res, TM_RECORD_VERIFY_TRUNCATED, err);
      break;
    }
    if (err == TM_RECORD_OK && !tm_record_chunk_hash_ok(&c))
      err = TM_RECORD_ERR_HASH;
    if (err == TM_RECORD_OK && c.index != res->chunks) {
      err = TM_RECORD_ERR_INDEX;
      res->found_index = c.index;
    }
    if (err == TM_RECORD_OK && memcmp(c.prev_hash, res->last_hash, TM_RECORD_HASH_LEN) != 0)
      err = TM_RECORD_ERR_CHAIN;
    if (err != TM_RECORD_OK) {
      verify_bad(res, TM_RECORD_VERIFY_BAD_CHUNK, err);
      break;
    }
    memcpy(res->last_hash, c.hash, TM_RECORD_HASH_LEN);
    res->first_us = MIN(res->first_us, c.first_us);
    res->last_us = MAX(res->last_us, c.last_us);
    res->bad_time_us = c.last_us;
    res->records += c.record_count;
    res->chunks++;
    pos += c.size;
  }
  res->good_bytes = pos;
  res->tail_bytes = len - pos;
  if (res->status == TM_RECORD_VERIFY_OK)
    res->bad_index = res->chunks;
}

/* ---- decryption ---- */

TmRecordError
tm_record_key_init(TmRecordKey *k, const TmRecordHeader *h, const uint8_t *recipient_private)
{
  memset(k, 0, sizeof *k);
  if (!h->encrypted)
    return TM_RECORD_OK;
  k->encrypted = true;
  if (recipient_private == NULL)
    return TM_RECORD_ERR_KEY;
  EVP_PKEY *priv =
    EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, recipient_private, TM_RECORD_KEY_LEN);
  uint8_t pub[32], pub_hash[32], shared[32];
  size_t len = sizeof pub;
  TmRecordError err = TM_RECORD_OK;
  if (priv == NULL || EVP_PKEY_get_raw_public_key(priv, pub, &len) != 1 || len != 32) {
    err = TM_RECORD_ERR_CRYPTO;
  } else {
    sha256(pub, sizeof pub, pub_hash);
    if (CRYPTO_memcmp(pub_hash, h->recipient_sha256, sizeof pub_hash) != 0)
      err = TM_RECORD_ERR_KEY;
    else if (!x25519_derive(priv, h->ephemeral_public, shared) ||
             !hkdf_key(shared, sizeof shared, h->ephemeral_public, pub, k->key))
      err = TM_RECORD_ERR_CRYPTO;
  }
  OPENSSL_cleanse(shared, sizeof shared);
  EVP_PKEY_free(priv);
  return err;
}

void
tm_record_key_clear(TmRecordKey *k)
{
  OPENSSL_cleanse(k, sizeof *k);
}

TmRecordError
tm_record_chunk_open(const TmRecordKey *k, const TmRecordChunk *c, GByteArray *out,
                     const uint8_t **plain, size_t *plain_len)
{
  if (!k->encrypted) {
    *plain = c->payload;
    *plain_len = c->payload_len;
    return TM_RECORD_OK;
  }
  *plain = NULL;
  *plain_len = 0;
  if (c->payload_len < TM_RECORD_TAG_LEN)
    return TM_RECORD_ERR_LENGTH;
  size_t n = c->payload_len - TM_RECORD_TAG_LEN;
  g_byte_array_set_size(out, (guint) n);
  if (!gcm_open(k->key, c->index, c->head, c->payload, c->payload_len, out->data))
    return TM_RECORD_ERR_CRYPTO;
  *plain = out->data;
  *plain_len = n;
  return TM_RECORD_OK;
}
