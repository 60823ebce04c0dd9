/* recording-reader.h — what testimony-verify and testimony-export share: opening a recording
 * directory, its signed manifest, and checking signature, header, chain and chunk count. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "record.h"

typedef struct {
  char *dir;
  char *data_path;
  GMappedFile *data; /* recording.tmr */
  const uint8_t *bytes;
  gsize len;
  char *manifest_text; /* NULL when the recording was never finished */
  gsize manifest_len;
  JsonParser *parser;
  JsonObject *manifest;     /* NULL when none */
  uint8_t signer[32];       /* the evidence key that signed the manifest */
  gboolean signer_trusted;  /* it was checked against --key */
  TmRecordVerifyResult res; /* of the chunks the manifest lists */
  int64_t start_us, end_us;
} TmRecording;

/* PATH: the recording directory, or a file in it. */
TmRecording *tm_recording_open(const char *path, GError **error);
void tm_recording_free(TmRecording *rec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TmRecording, tm_recording_free)

/* Checks everything: manifest signature (with the Ed25519 public key in KEY_PATH when given,
 * else the key named in the manifest), the file header and every chunk against the chain, the
 * chunk count, final hash and length the manifest signs. On failure the error names the first
 * bad chunk and its time in the hearing. */
gboolean tm_recording_check(TmRecording *rec, const char *key_path, GError **error);

/* "HH:MM:SS" (or "HH:MM:SS.mmm" with MILLIS) since the start of the recording. g_free. */
char *tm_recording_hearing_time(const TmRecording *rec, int64_t us, gboolean millis);

/* Manifest accessors (defaults when missing). */
const char *tm_recording_str(JsonObject *o, const char *member);
int64_t tm_recording_int(JsonObject *o, const char *member);
JsonArray *tm_recording_array(JsonObject *o, const char *member);   /* never NULL */
JsonObject *tm_recording_object(JsonObject *o, const char *member); /* NULL when none */
