/* room-recording.c — a hearing's evidence recording: what goes into the recorder (recorder.c)
 * and when, what the audit log keeps of it, and who is told. */
#define G_LOG_DOMAIN "testimony-relay"

#include <string.h>

#include "room.h"
#include "wire.h"

static const char *const track_codec[TM_TRACK_COUNT] = { "opus", "VP8" };

const char *
tm_room_recording_state(const TmRoom *room)
{
  return room->recorder == NULL ? "stopped" : room->recording_paused ? "paused" : "recording";
}

static JsonBuilder *
state_message(TmRoom *room, const char *path)
{
  JsonBuilder *b = tm_wire_begin("recording");
  tm_wire_string(b, "state", tm_room_recording_state(room));
  tm_wire_int(b, "since", room->recording_since);
  if (path != NULL)
    tm_wire_string(b, "path", path);
  json_builder_end_object(b);
  return b;
}

void
tm_room_send_recording(TmRoom *room, TmParticipant *to)
{
  if (room->recorder == NULL)
    return;
  g_autoptr(JsonBuilder) b = state_message(room, NULL);
  tm_room_send(room, to, b);
}

/* Everyone learns the recording's state; only judges and clerks where it is kept. */
static void
broadcast_state(TmRoom *room, const char *path)
{
  g_autoptr(JsonBuilder) staff = state_message(room, path);
  g_autoptr(JsonBuilder) others = path != NULL ? state_message(room, NULL) : NULL;
  tm_room_broadcast_roles(room, staff, others != NULL ? others : staff);
}

void
tm_room_record_packet(void *ud, TmParticipant *from, TmTrack track, const uint8_t *buf, size_t len,
                      int64_t now_us)
{
  TmRoom *room = ud;
  if (room->recorder != NULL && !room->recording_paused) {
    tm_recorder_packet(room->recorder, from->id, track, buf, len, g_get_real_time());
    room->recorded_bytes += len;
  }
}

static void
record_tracks(TmRoom *room, TmParticipant *p)
{
  for (int t = 0; t < TM_TRACK_COUNT; t++) {
    uint8_t pt;
    uint32_t clock;
    if (tm_hearing_track_info(p, t, &pt, &clock))
      tm_recorder_track(room->recorder, p->id, t, track_codec[t], clock, pt);
  }
}

void
tm_room_record_presence(TmRoom *room, TmParticipant *p, gboolean present)
{
  if (room->recorder == NULL)
    return;
  if (present && p->state != TM_STATE_ADMITTED)
    return;
  tm_recorder_participant(room->recorder, p->id, p->name, tm_role_to_string(p->role), present,
                          g_get_real_time());
  if (present)
    record_tracks(room, p);
}

gboolean
tm_room_recording_start(TmRoom *room, const char *actor, GError **error)
{
  TmRecorderConfig cfg = {
    .state_dir = room->relay->config.state_dir,
    .hearing_id = room->record->id,
    .case_number = room->record->case_number,
    .encrypt_to = room->record->encrypt_to,
    .key = room->relay->evidence,
  };
  room->recorder = tm_recorder_start(&cfg, g_get_real_time(), error);
  if (room->recorder == NULL) {
    g_critical("cannot start recording hearing %s: %s", room->record->id, (*error)->message);
    return FALSE;
  }
  room->recording_paused = FALSE;
  room->recording_since = g_get_real_time() / 1000000;
  for (guint i = 0; i < tm_hearing_n_participants(room->hearing); i++)
    tm_room_record_presence(room, tm_hearing_participant(room->hearing, i), TRUE);
  tm_hearing_request_keyframes(room->hearing, g_get_monotonic_time());
  g_autofree char *name = g_path_get_basename(tm_recorder_path(room->recorder));
  tm_room_audit(room, actor, "record-start", NULL, name);
  broadcast_state(room, NULL);
  return TRUE;
}

/* What the audit log keeps of a finished recording: its name and the SHA-256 of its signed
 * manifest, so the signed log also vouches for how the recording ended. */
static char *
manifest_summary(const char *dir)
{
  g_autofree char *name = g_path_get_basename(dir);
  g_autofree char *manifest = g_build_filename(dir, "manifest.json", NULL);
  g_autofree char *text = NULL;
  gsize len = 0;
  if (!g_file_get_contents(manifest, &text, &len, NULL))
    return g_strdup_printf("%s (manifest unreadable)", name);
  g_autofree char *sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *) text, len);
  return g_strdup_printf("%s manifest sha256 %s", name, sum);
}

char *
tm_room_recording_stop(TmRoom *room, const char *actor)
{
  if (room->recorder == NULL)
    return NULL;
  g_autoptr(GError) error = NULL;
  char *path = tm_recorder_stop(room->recorder, g_get_real_time(), &error);
  room->recorder = NULL;
  room->recording_paused = FALSE;
  if (path == NULL)
    g_critical("the recording of hearing %s could not be finished: %s", room->record->id,
               error != NULL ? error->message : "?");
  else
    g_message("recording of hearing %s finished and signed: %s", room->record->id, path);
  g_autofree char *detail = path != NULL ? manifest_summary(path) : g_strdup("failed");
  tm_room_audit(room, actor, "record-stop", NULL, detail);
  /* The path goes to whoever stopped it (in their `done`); when the relay stops it, to staff. */
  broadcast_state(room, actor == NULL ? path : NULL);
  return path;
}

gboolean
tm_room_recording_pause(TmRoom *room, const char *actor, gboolean pause)
{
  if (room->recorder == NULL)
    return FALSE;
  if (pause == room->recording_paused)
    return TRUE;
  room->recording_paused = pause;
  if (pause) {
    tm_recorder_pause(room->recorder, g_get_real_time());
  } else {
    tm_recorder_resume(room->recorder, g_get_real_time());
    tm_hearing_request_keyframes(room->hearing, g_get_monotonic_time());
  }
  tm_room_audit(room, actor, pause ? "record-pause" : "record-resume", NULL, "");
  broadcast_state(room, NULL);
  return TRUE;
}

void
tm_room_recording_mark(TmRoom *room, const char *actor, TmRole by, const char *text)
{
  tm_recorder_mark(room->recorder, text, tm_role_to_string(by), g_get_real_time());
  tm_room_audit(room, actor, "mark", NULL, text);
}
