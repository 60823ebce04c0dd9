/* recorder.h — evidence recording of a hearing (docs/recording-format.md).
 *
 * A recording is a directory DIR/recordings/HEARING-YYYYMMDDTHHMMSSZ/ (mode 0700) holding
 *   recording.tmr   the chunked, hash-chained container (relay/engine/record.h)
 *   events.bin      a journal of the non-packet records, to rebuild the manifest after a crash
 *   manifest.json   written when the recording finishes (stop, hearing end, or recovery)
 *   manifest.sig    base64 Ed25519 signature of manifest.json by the relay's evidence key
 *
 * The media-thread calls (participant, track, packet, pause, resume, mark) copy their input and
 * queue it to the recorder's writer thread; they never block on the disk. The writer closes a
 * chunk at least every second (and at 1 MiB) and writes it with fdatasync, so a crash loses at
 * most the last second. While paused, packets are not recorded; events still are.
 *
 * The caller announces every participant already present (tm_recorder_participant, present
 * TRUE) and its tracks right after tm_recorder_start; packets of a participant not announced
 * (or gone) are dropped and counted. A participant that leaves and comes back — under the same
 * id, or a new id with the same name and role — keeps its index and tracks; a track silent for
 * more than a second that later resumes gives a gap (from its last packet to the next).
 *
 * Not thread-safe against itself: its calls must never overlap, and tm_recorder_stop comes after
 * the last of them returned. The relay makes them under the hearing's lock, from the hearing's
 * media worker (packets, a publisher's tracks) and from the control thread (the rest), so they
 * reach the queue one at a time and in order. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "evidence.h"

typedef struct _TmRecorder TmRecorder;

typedef struct {
  const char *state_dir; /* recordings go under DIR/recordings/ */
  const char *hearing_id;
  const char *case_number; /* may be "" */
  const char *encrypt_to;  /* path of the court's X25519 public key (PEM), or NULL */
  TmEvidenceKey *key;      /* signs the manifest */
} TmRecorderConfig;

/* Creates the recording directory and writes the container header (synced). WALL_US: UTC µs. */
TmRecorder *tm_recorder_start(const TmRecorderConfig *config, int64_t wall_us, GError **error);
/* Called on the relay's media thread; never block (copy + queue to the writer thread). */
void tm_recorder_participant(TmRecorder *r, const char *id, const char *name, const char *role,
                             gboolean present, int64_t wall_us);
void tm_recorder_track(TmRecorder *r, const char *participant_id, int track /* 0 audio, 1 video */,
                       const char *codec /* "opus", "VP8" */, uint32_t clock_rate, uint8_t pt);
void tm_recorder_packet(TmRecorder *r, const char *participant_id, int track, const uint8_t *rtp,
                        size_t len, int64_t wall_us);
void tm_recorder_pause(TmRecorder *r, int64_t wall_us);
void tm_recorder_resume(TmRecorder *r, int64_t wall_us);
void tm_recorder_mark(TmRecorder *r, const char *text, const char *by_role, int64_t wall_us);
/* Finishes: writes and signs the manifest, frees R; returns the recording's directory (g_free).
 * NULL with an error only when the manifest cannot be written. */
char *tm_recorder_stop(TmRecorder *r, int64_t wall_us, GError **error);
/* At relay start: finishes every recording left unfinished by a crash (manifest says
 * interrupted). Returns how many. */
guint tm_recorder_recover(const char *state_dir, TmEvidenceKey *key, GError **error);

/* The recording directory of R (owned by R). */
const char *tm_recorder_path(const TmRecorder *r);
