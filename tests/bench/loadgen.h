/* loadgen.h — state shared by the load generator's parts: loadgen.c (media, schedule, figures)
 * and bench-signal.c (the two signalling protocols). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <stdbool.h>
#include <stdint.h>

#include "bench-conn.h"

typedef enum { SFU_TESTIMONY, SFU_JANUS } SfuKind;
typedef enum { KIND_AUDIO, KIND_VIDEO, KIND_COUNT } MediaKind;

#define SEEN_CAP 65536       /* packets per stream a receiver keeps track of */
#define JANUS_ROOM_BASE 1000 /* hearing H is Janus room JANUS_ROOM_BASE + H */

typedef struct _Loadgen Loadgen;
typedef struct _Hearing Hearing;

typedef struct {
  Loadgen *lg;
  Hearing *h;
  int index; /* 0: the publisher; 1..N: receivers */
  bool publisher;
  SoupWebsocketConnection *ws;
  BenchConn *conn;
  char *token;                  /* testimony */
  int janus_state;              /* janus: which reply comes next */
  gint64 session_id, handle_id; /* janus */
  guint txn;
  int64_t opened_us;         /* receivers: when their start was due */
  int64_t subscribe_us;      /* when the request for the feed went out */
  int64_t first_frame_us;    /* first packet of a key frame arrived */
  uint8_t *seen[KIND_COUNT]; /* bitmaps of payload indices received */
  uint64_t duplicates;
  bool started;
  bool failed;
} Participant;

struct _Hearing {
  int index;
  Participant *publisher;
  Participant **receivers;
  char *publisher_id; /* testimony: the publisher's participant id */
  /* What the publisher sends. */
  uint32_t ssrc[KIND_COUNT];
  uint16_t seq[KIND_COUNT];
  uint32_t ts0[KIND_COUNT];
  uint32_t next_index[KIND_COUNT];
  uint32_t window_index[2][KIND_COUNT]; /* next_index at window start and end */
  int64_t next_frame_us, next_audio_us;
  uint32_t frames, audio_frames;
  uint16_t picture_id;
  bool force_key;
  int64_t last_forced_us;
  uint64_t key_requests, forced_keys;
};

struct _Loadgen {
  SfuKind sfu;
  char *url;
  SoupSession *session;
  TmDtlsIdentity *identity;
  int n_hearings, n_receivers;
  Hearing *hearings;
  GMainLoop *loop;
  int exit_code;
  GRand *rand;
};

/* bench-signal.c */
void bench_signal_open(Participant *p);
void bench_signal_close(Participant *p);
/* A member of the object being built. */
void bench_json_string(JsonBuilder *b, const char *name, const char *value);
void bench_json_int(JsonBuilder *b, const char *name, gint64 value);
void bench_json_double(JsonBuilder *b, const char *name, double value);

/* loadgen.c: what signalling reports */
/* A media connection for P: its offer (publisher: sendonly; receiver: recvonly). */
char *loadgen_offer(Participant *p);
/* The SFU's answer to our offer, or the SFU's offer to answer (returns the answer text). */
bool loadgen_remote_answer(Participant *p, const char *sdp);
char *loadgen_answer_offer(Participant *p, const char *sdp);
/* The receiver's request for the feed has gone out. */
void loadgen_subscribed(Participant *p);
void loadgen_participant_failed(Participant *p, const char *why);
