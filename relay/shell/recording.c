/* recording.c — the evidence recording of a hearing: the clerk's or judge's start, pause,
 * resume, stop and markers, and what goes into the recorder (recorder.c) and when. */
#define G_LOG_DOMAIN "testimony-relay"

#include <string.h>

#include "server-private.h"

static const char *const track_codec[TM_TRACK_COUNT] = { "opus", "VP8" };

void
tm_add_recording(JsonBuilder *b, Room *room)
{
  tm_msg_add_string(b, "recording", room->recorder == NULL ? "stopped"
                                    : room->recording_paused ? "paused" : "recording");
  json_builder_set_member_name(b, "recording_since");
  json_builder_add_int_value(b, room->recorder != NULL ? room->recording_since : 0);
}

static JsonBuilder *
state_message(Room *room, const char *path)
{
  JsonBuilder *b = tm_msg_begin("recording");
  tm_msg_add_string(b, "state", room->recorder == NULL ? "stopped"
                                : room->recording_paused ? "paused" : "recording");
  json_builder_set_member_name(b, "since");
  json_builder_add_int_value(b, room->recording_since);
  if (path != NULL)
    tm_msg_add_string(b, "path", path);
  json_builder_end_object(b);
  return b;
}

void
tm_room_send_recording(Room *room, Session *to)
{
  if (room->recorder == NULL)
    return;
  g_autoptr(JsonBuilder) b = state_message(room, NULL);
  tm_session_send(to, b);
}

/* Everyone learns the recording's state; only judges and clerks where it is kept. */
static void
broadcast_state(Room *room, const char *path)
{
  g_autoptr(JsonBuilder) staff = state_message(room, path);
  g_autoptr(JsonBuilder) others = path != NULL ? state_message(room, NULL) : NULL;
  tm_room_broadcast_roles(room, staff, others != NULL ? others : staff);
}

void
tm_room_record_packet(void *ud, TmParticipant *from, TmTrack track, const uint8_t *buf,
                      size_t len, int64_t now_us)
{
  Room *room = ud;
  if (room->recorder != NULL && !room->recording_paused)
    tm_recorder_packet(room->recorder, from->id, track, buf, len, g_get_real_time());
}

static void
record_tracks(Room *room, TmParticipant *p)
{
  for (int t = 0; t < TM_TRACK_COUNT; t++) {
    uint8_t pt;
    uint32_t clock;
    if (tm_hearing_track_info(p, t, &pt, &clock))
      tm_recorder_track(room->recorder, p->id, t, track_codec[t], clock, pt);
  }
}

void
tm_room_record_presence(Room *room, TmParticipant *p, gboolean present)
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

static gboolean
start(Session *s, Room *room)
{
  TmServer *server = s->server;
  TmRecorderConfig cfg = {
    .state_dir = server->config.state_dir,
    .hearing_id = room->record->id,
    .case_number = room->record->case_number,
    .encrypt_to = room->record->encrypt_to,
    .key = server->evidence,
  };
  g_autoptr(GError) error = NULL;
  room->recorder = tm_recorder_start(&cfg, g_get_real_time(), &error);
  if (room->recorder == NULL) {
    g_critical("cannot start recording hearing %s: %s", room->record->id, error->message);
    g_autofree char *msg = g_strdup_printf("the recording could not start: %s", error->message);
    tm_session_error(s, "internal", msg, "record");
    return FALSE;
  }
  room->recording_paused = FALSE;
  room->recording_since = g_get_real_time() / 1000000;
  for (guint i = 0; i < tm_hearing_n_participants(room->hearing); i++)
    tm_room_record_presence(room, tm_hearing_participant(room->hearing, i), TRUE);
  tm_hearing_request_keyframes(room->hearing, g_get_monotonic_time());
  g_autofree char *name = g_path_get_basename(tm_recorder_path(room->recorder));
  tm_room_audit(room, s, "record-start", NULL, name);
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

/* Returns the finished recording's path (g_free), or NULL. */
static char *
stop(Room *room, const Session *by)
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
  g_autofree char *detail = path != NULL ? manifest_summary(path) : g_strdup("failed");
  tm_room_audit(room, by, "record-stop", NULL, detail);
  /* The path goes to whoever stopped it (in their `done`); when the relay stops it, to staff. */
  broadcast_state(room, by == NULL ? path : NULL);
  return path;
}

void
tm_room_recording_stop(Room *room, const Session *by)
{
  g_free(stop(room, by));
}

void
tm_control_record(Session *s, const TmMessage *m, TmParticipant *target)
{
  Room *room = s->room;
  const char *op = m->op != NULL ? m->op : "";
  if (strcmp(op, "start") == 0) {
    if (room->recorder != NULL) {
      tm_session_error(s, "bad-request", "the hearing is already being recorded", "record");
      return;
    }
    if (start(s, room))
      tm_session_done(s, "record", tm_recorder_path(room->recorder));
    return;
  }
  if (strcmp(op, "pause") != 0 && strcmp(op, "resume") != 0 && strcmp(op, "stop") != 0) {
    tm_session_error(s, "bad-request", "record needs \"op\": start, pause, resume or stop",
                     "record");
    return;
  }
  if (room->recorder == NULL) {
    tm_session_error(s, "not-recording", "the hearing is not being recorded", "record");
    return;
  }
  if (strcmp(op, "stop") == 0) {
    g_autofree char *path = stop(room, s);
    tm_session_done(s, "record", path);
    return;
  }
  gboolean pause = strcmp(op, "pause") == 0;
  if (pause != room->recording_paused) {
    room->recording_paused = pause;
    if (pause)
      tm_recorder_pause(room->recorder, g_get_real_time());
    else
      tm_recorder_resume(room->recorder, g_get_real_time());
    if (!pause)
      tm_hearing_request_keyframes(room->hearing, g_get_monotonic_time());
    tm_room_audit(room, s, pause ? "record-pause" : "record-resume", NULL, "");
    broadcast_state(room, NULL);
  }
  tm_session_done(s, "record", NULL);
}

void
tm_control_mark(Session *s, const TmMessage *m, TmParticipant *target)
{
  Room *room = s->room;
  if (m->text == NULL) {
    tm_session_error(s, "bad-request", "mark needs \"text\" (1 to 200 characters)", "mark");
    return;
  }
  if (room->recorder == NULL) {
    tm_session_error(s, "not-recording", "the hearing is not being recorded", "mark");
    return;
  }
  tm_recorder_mark(room->recorder, m->text, tm_role_to_string(s->role), g_get_real_time());
  tm_room_audit(room, s, "mark", NULL, m->text);
  tm_session_done(s, "mark", NULL);
}
