/* record.h — the evidence recording container (docs/recording-format.md): a file header, then
 * append-only chunks, each carrying its index, time range, the SHA-256 of the previous chunk
 * (or of the header) and its own SHA-256. Chunk payloads are records (RTP packets as received,
 * participant, track, pause, marker and gap events), optionally encrypted at rest for an X25519
 * public key (ephemeral-static ECDH, HKDF-SHA256, AES-256-GCM per chunk); the hash chain covers
 * the encrypted bytes, so integrity verifies without the private key.
 *
 * Pure: bytes in, bytes out. No files, clock or threads; times are UTC microseconds passed in.
 * Every length read from input is capped before use. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define TM_RECORD_MAGIC "TMREC\0\1\n" /* 8 bytes: file magic, format version 1 */
#define TM_RECORD_MAGIC_LEN 8
#define TM_RECORD_CHUNK_MAGIC "TMCK" /* 4 bytes */
#define TM_RECORD_HASH_LEN 32        /* SHA-256 */
#define TM_RECORD_KEY_LEN 32         /* X25519 public / private key, raw */
#define TM_RECORD_TAG_LEN 16         /* AES-GCM tag */
#define TM_RECORD_CHUNK_HEAD_LEN 64
#define TM_RECORD_CHUNK_OVERHEAD (TM_RECORD_CHUNK_HEAD_LEN + TM_RECORD_HASH_LEN)
#define TM_RECORD_ENTRY_HEAD_LEN 16
#define TM_RECORD_MAX_HEADER_BODY 4096 /* caps on every length read */
#define TM_RECORD_MAX_PAYLOAD (16u * 1024 * 1024)
#define TM_RECORD_MAX_ENTRY_BODY 65536
#define TM_RECORD_MAX_STRING 1024
#define TM_RECORD_CHUNK_TARGET (1024u * 1024) /* the writer asks to close a chunk at this size */
#define TM_RECORD_NO_PARTICIPANT 0xffff
#define TM_RECORD_NO_TRACK 0xff
#define TM_RECORD_TRACK_AUDIO 0
#define TM_RECORD_TRACK_VIDEO 1

typedef enum {
  TM_RECORD_OK = 0,
  TM_RECORD_ERR_SHORT,  /* input ends inside a structure */
  TM_RECORD_ERR_MAGIC,  /* not a recording / not a chunk */
  TM_RECORD_ERR_LENGTH, /* a length beyond its cap, or inconsistent */
  TM_RECORD_ERR_HASH,   /* a chunk's contents do not match its own hash */
  TM_RECORD_ERR_CHAIN,  /* a chunk's previous-hash is not the hash before it */
  TM_RECORD_ERR_INDEX,  /* a chunk is missing or out of order */
  TM_RECORD_ERR_TYPE,   /* unknown record type */
  TM_RECORD_ERR_VALUE,  /* a field out of range (track, time order, count...) */
  TM_RECORD_ERR_CRYPTO, /* key agreement, encryption or decryption failed */
  TM_RECORD_ERR_KEY,    /* wrong private key for this recording */
  TM_RECORD_ERR_COUNT
} TmRecordError;

const char *tm_record_strerror(TmRecordError err);

typedef enum {
  TM_RECORD_PACKET = 1, /* participant, track, time; body: the RTP packet as received */
  TM_RECORD_JOIN = 2,   /* participant, time; body: id, name, role */
  TM_RECORD_LEAVE = 3,  /* participant, time */
  TM_RECORD_TRACK = 4,  /* participant, track, time; body: clock rate, pt, codec */
  TM_RECORD_PAUSE = 5,  /* time */
  TM_RECORD_RESUME = 6, /* time */
  TM_RECORD_MARKER = 7, /* time; body: by (role), text */
  TM_RECORD_GAP = 8,    /* participant, track (or none: all), time = start; body: end */
  TM_RECORD_TYPE_MAX = 8
} TmRecordType;

/* A string view: not NUL-terminated when it points into parsed input. */
typedef struct {
  const char *data;
  size_t len;
} TmRecordStr;

/* One record. Which members matter depends on the type (see TmRecordType). */
typedef struct {
  TmRecordType type;
  uint16_t participant; /* TM_RECORD_NO_PARTICIPANT when none */
  uint8_t track;        /* TM_RECORD_TRACK_*, or TM_RECORD_NO_TRACK */
  int64_t time_us;      /* UTC microseconds */
  const uint8_t *rtp;   /* PACKET */
  size_t rtp_len;
  TmRecordStr id, name, role; /* JOIN; role is also MARKER's "by" */
  TmRecordStr codec;          /* TRACK */
  uint32_t clock_rate;        /* TRACK */
  uint8_t pt;                 /* TRACK */
  TmRecordStr text;           /* MARKER */
  int64_t end_us;             /* GAP */
} TmRecordEntry;

TmRecordStr tm_record_str(const char *s); /* view of a C string (NULL gives "") */
char *tm_record_str_dup(TmRecordStr s);   /* g_strndup */
size_t tm_record_entry_serialized_size(const TmRecordEntry *e);
/* Appends E to W; returns TM_RECORD_ERR_LENGTH if a member exceeds its cap (W unchanged). */
TmRecordError tm_record_entry_serialize(const TmRecordEntry *e, TmWriter *w);
/* Parses the next record from R into a view pointing into R's data. */
TmRecordError tm_record_entry_parse(TmReader *r, TmRecordEntry *e);

/* ---- file header ---- */
typedef struct {
  int64_t start_us;
  TmRecordStr hearing_id; /* views into the parsed bytes */
  TmRecordStr case_number;
  bool encrypted;
  uint8_t ephemeral_public[TM_RECORD_KEY_LEN];
  uint8_t recipient_sha256[TM_RECORD_HASH_LEN]; /* SHA-256 of the recipient's raw public key */
  size_t size;                                  /* bytes of the header in the file */
  uint8_t hash[TM_RECORD_HASH_LEN];             /* SHA-256 of those bytes: chunk 0's previous */
} TmRecordHeader;

TmRecordError tm_record_header_parse(const uint8_t *data, size_t len, TmRecordHeader *out);

/* ---- chunks ---- */
typedef struct {
  uint32_t index;
  int64_t first_us, last_us; /* time range of its records */
  uint32_t record_count;
  const uint8_t *prev_hash; /* views into the parsed bytes */
  const uint8_t *head;      /* TM_RECORD_CHUNK_HEAD_LEN bytes: the AAD when encrypted */
  const uint8_t *payload;
  size_t payload_len;
  const uint8_t *hash; /* as stored */
  size_t size;         /* TM_RECORD_CHUNK_OVERHEAD + payload_len */
} TmRecordChunk;

/* Structure only (magic, lengths within caps and within LEN); no hashing. */
TmRecordError tm_record_chunk_parse(const uint8_t *data, size_t len, TmRecordChunk *out);
/* SHA-256 of head + payload compared with the stored hash. */
bool tm_record_chunk_hash_ok(const TmRecordChunk *c);

/* ---- writer ---- */
typedef struct _TmRecordWriter TmRecordWriter;

/* RECIPIENT_PUBLIC: the court's raw X25519 public key, or NULL for no encryption. Returns NULL
 * with *ERR set when the key agreement fails or a string exceeds its cap. */
TmRecordWriter *tm_record_writer_new(const char *hearing_id, const char *case_number,
                                     int64_t start_us, const uint8_t *recipient_public,
                                     TmRecordError *err);
void tm_record_writer_free(TmRecordWriter *w);
/* The file header: write it first. */
const uint8_t *tm_record_writer_header(const TmRecordWriter *w, size_t *len);
/* Adds a record to the open chunk. Returns TRUE when the chunk has reached its target size and
 * should be closed now; *ERR gets TM_RECORD_ERR_LENGTH for an oversized record (dropped). */
bool tm_record_writer_add(TmRecordWriter *w, const TmRecordEntry *e, TmRecordError *err);
size_t tm_record_writer_pending(const TmRecordWriter *w); /* records waiting, in bytes */
/* Closes the open chunk (if it has records) and appends its bytes to OUT. Returns FALSE when
 * there was nothing to close, or with *ERR set when encryption failed. */
bool tm_record_writer_close_chunk(TmRecordWriter *w, GByteArray *out, TmRecordError *err);
uint32_t tm_record_writer_chunk_count(const TmRecordWriter *w);
const uint8_t *tm_record_writer_last_hash(const TmRecordWriter *w);

/* ---- verifier: walks a whole recording ---- */
typedef enum {
  TM_RECORD_VERIFY_OK,         /* header and every chunk verify; no bytes after the last */
  TM_RECORD_VERIFY_TRUNCATED,  /* all complete chunks verify; an incomplete chunk follows */
  TM_RECORD_VERIFY_BAD_HEADER, /* the file header does not parse */
  TM_RECORD_VERIFY_BAD_CHUNK,  /* chunk bad_index is damaged, missing or out of place */
} TmRecordVerifyStatus;

typedef struct {
  TmRecordVerifyStatus status;
  TmRecordError error;       /* why, for BAD_HEADER / BAD_CHUNK */
  TmRecordHeader header;     /* valid unless BAD_HEADER */
  uint32_t chunks;           /* complete chunks that verify, from 0 */
  uint32_t bad_index;        /* the first chunk that does not (the missing one, if missing) */
  uint32_t found_index;      /* for ERR_INDEX: the index found in its place */
  int64_t bad_time_us;       /* UTC: where the damage starts (end of the last good chunk) */
  int64_t first_us, last_us; /* time range of the good chunks (INT64_MAX/MIN when none) */
  uint64_t records;          /* records in the good chunks */
  size_t good_bytes;         /* header + good chunks */
  size_t tail_bytes;         /* bytes after the good chunks */
  uint8_t last_hash[TM_RECORD_HASH_LEN]; /* of the last good chunk (the header's if none) */
} TmRecordVerifyResult;

/* LIMIT: stop after that many chunks (the rest counts as tail) — UINT32_MAX for all. */
void tm_record_verify(const uint8_t *data, size_t len, uint32_t limit, TmRecordVerifyResult *res);

/* ---- decryption and payload walking ---- */
typedef struct {
  bool encrypted;
  uint8_t key[32];
} TmRecordKey;

/* Derives the chunk key from the recipient's raw X25519 private key (NULL for an unencrypted
 * recording). TM_RECORD_ERR_KEY if the key is not the recipient's. */
TmRecordError tm_record_key_init(TmRecordKey *k, const TmRecordHeader *h,
                                 const uint8_t *recipient_private);
void tm_record_key_clear(TmRecordKey *k);
/* The chunk's plaintext records: a view of the payload (unencrypted), or decrypted into OUT
 * (which then holds them). *PLAIN and *PLAIN_LEN point at the records. */
TmRecordError tm_record_chunk_open(const TmRecordKey *k, const TmRecordChunk *c, GByteArray *out,
                                   const uint8_t **plain, size_t *plain_len);

/* Lower-case hex of LEN bytes into OUT (2*LEN+1 bytes). */
void tm_record_hex(const uint8_t *bytes, size_t len, char *out);
