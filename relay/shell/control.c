/* control.c — the hearing's controls: admission, muting, protection, locking, ending, the
 * recording; refusals bounded in the audit log. Who may do what is relay/engine/court.c. */
#define G_LOG_DOMAIN "testimony-relay"

#include "control.h"

#include <string.h>

#include "audit.h"
#include "court.h"
#include "wire.h"

typedef struct {
  TmRoom *room;
  const TmControlActor *actor;
  const TmMessage *m;
  TmParticipant *target;
  TmControlResult *r;
} Act;

static int64_t
now_us(void)
{
  return g_get_monotonic_time();
}

static void
done(Act *a, const char *path)
{
  a->r->reply = tm_wire_done(a->m->action, path);
}

static void
fail(Act *a, TmWireError err, const char *message)
{
  a->r->reply = tm_wire_error(err, message, a->m->action);
}

static void
audit(Act *a, const char *action, const TmParticipant *subject, const char *detail)
{
  tm_room_audit(a->room, a->actor->label, action, subject, detail);
}

static void
send_state(TmRoom *room, TmParticipant *p)
{
  g_autoptr(JsonBuilder) b = tm_wire_begin("state");
  tm_wire_string(b, "state", p->state == TM_STATE_ADMITTED ? "admitted" : "waiting");
  tm_wire_string(b, "title", room->record->title);
  json_builder_end_object(b);
  tm_room_send(room, p, b);
}

static void
send_muted(TmRoom *room, TmParticipant *p, TmTrack track, gboolean muted, TmRole by)
{
  g_autoptr(JsonBuilder) b = tm_wire_begin("muted");
  tm_wire_string(b, "track", track == TM_TRACK_AUDIO ? "audio" : "video");
  tm_wire_bool(b, "muted", muted);
  tm_wire_string(b, "by", tm_role_to_string(by));
  json_builder_end_object(b);
  tm_room_send(room, p, b);
}

/* ---- actions ---- */

static void
run_waiting(Act *a)
{
  a->r->reply = tm_room_waiting_list(a->room);
}

static void
run_admit(Act *a)
{
  TmRoom *room = a->room;
  tm_hearing_set_state(room->hearing, a->target, TM_STATE_ADMITTED, now_us());
  tm_room_record_presence(room, a->target, TRUE);
  audit(a, "admit", a->target, "");
  send_state(room, a->target);
  tm_room_send_roster(room, a->target);
  tm_room_participant_changed(room, a->target);
  tm_room_send_waiting(room);
  tm_room_schedule(room);
  done(a, NULL);
}

/* Refused or removed: told why, the token revoked, out of the hearing. */
static void
dismiss(Act *a, const char *action, TmWireError err)
{
  audit(a, action, a->target, "token revoked");
  done(a, NULL);
  if (a->target->data != NULL)
    a->room->relay->sink.dismiss(a->target->data, err, NULL, TRUE);
}

static void
run_refuse(Act *a)
{
  dismiss(a, "refuse", TM_WIRE_ERR_REFUSED);
}

static void
run_remove(Act *a)
{
  if (a->target == a->actor->participant) {
    fail(a, TM_WIRE_ERR_BAD_REQUEST, "you cannot remove yourself; leave instead");
    return;
  }
  dismiss(a, "remove", TM_WIRE_ERR_REMOVED);
}

static void
run_to_waiting(Act *a)
{
  TmRoom *room = a->room;
  if (a->target == a->actor->participant) {
    fail(a, TM_WIRE_ERR_BAD_REQUEST, "you cannot send yourself to the waiting room");
    return;
  }
  tm_room_record_presence(room, a->target, FALSE);
  tm_hearing_set_state(room->hearing, a->target, TM_STATE_WAITING, now_us());
  audit(a, "to-waiting", a->target, "");
  send_state(room, a->target);
  tm_room_participant_changed(room, a->target);
  tm_room_send_waiting(room);
  done(a, NULL);
}

static void
set_muted(Act *a, TmParticipant *t, TmTrack track, gboolean muted)
{
  TmRoom *room = a->room;
  tm_hearing_set_muted(room->hearing, t, track, muted, now_us());
  audit(a, a->m->action, t, "");
  send_muted(room, t, track, muted, a->actor->role);
  tm_room_participant_changed(room, t);
  tm_room_schedule(room);
  done(a, NULL);
}

static void
run_mute(Act *a)
{
  set_muted(a, a->target, TM_TRACK_AUDIO, TRUE);
}

static void
run_video_off(Act *a)
{
  set_muted(a, a->target, TM_TRACK_VIDEO, TRUE);
}

static void
run_unmute(Act *a)
{
  set_muted(a, a->actor->participant, TM_TRACK_AUDIO, FALSE);
}

static void
run_video_on(Act *a)
{
  set_muted(a, a->actor->participant, TM_TRACK_VIDEO, FALSE);
}

static void
run_unmute_request(Act *a)
{
  g_autoptr(JsonBuilder) b = tm_wire_begin("unmute-request");
  tm_wire_string(b, "by", tm_role_to_string(a->actor->role));
  json_builder_end_object(b);
  tm_room_send(a->room, a->target, b);
  audit(a, "unmute-request", a->target, "");
  done(a, NULL);
}

static void
run_protect(Act *a)
{
  TmRoom *room = a->room;
  const TmMessage *m = a->m;
  if (g_strcmp0(m->measure, "screen-witness") != 0 || m->on < 0) {
    fail(a, TM_WIRE_ERR_BAD_REQUEST,
         "protect needs \"measure\":\"screen-witness\" and \"on\":true or false");
    return;
  }
  tm_hearing_set_measure(room->hearing, TM_MEASURE_SCREEN_WITNESS, m->on == 1, now_us());
  audit(a, "protect", NULL, m->on == 1 ? "screen-witness on" : "screen-witness off");
  g_autoptr(JsonBuilder) b = tm_wire_begin("protection");
  json_builder_set_member_name(b, "measures");
  json_builder_begin_object(b);
  tm_wire_bool(b, "screen-witness", m->on == 1);
  json_builder_end_object(b);
  json_builder_end_object(b);
  tm_room_broadcast(room, NULL, b);
  tm_room_send_visibility(room);
  tm_room_schedule(room);
  done(a, NULL);
}

static void
run_lock(Act *a)
{
  a->room->locked = strcmp(a->m->action, "lock") == 0;
  audit(a, a->m->action, NULL, "");
  done(a, NULL);
}

static void
run_end(Act *a)
{
  TmRoom *room = a->room;
  g_autoptr(GError) error = NULL;
  room->record->ended = TRUE;
  if (!tm_state_hearing_save(room->relay->config.state_dir, room->record, &error))
    g_critical("cannot record that hearing %s ended: %s", room->record->id, error->message);
  g_free(tm_room_recording_stop(room, a->actor->label));
  audit(a, "end", NULL, "");
  done(a, NULL);
  a->r->ended = TRUE;
  g_autoptr(JsonBuilder) b = tm_wire_begin("hearing-ended");
  json_builder_end_object(b);
  tm_room_broadcast(room, NULL, b);
  /* Everyone else leaves (written to the log), then the log is signed and their sessions close.
   * The actor leaves last (the caller sees r->ended): the room goes with it, so it stays alive
   * until the signature is written. */
  const TmSessionSink *sink = &room->relay->sink;
  GPtrArray *all = g_ptr_array_new();
  for (guint i = 0; i < tm_hearing_n_participants(room->hearing); i++) {
    gpointer session = tm_hearing_participant(room->hearing, i)->data;
    if (session != NULL && session != a->actor->session)
      g_ptr_array_add(all, session);
  }
  for (guint i = 0; i < room->controls->len; i++)
    if (g_ptr_array_index(room->controls, i) != a->actor->session)
      g_ptr_array_add(all, g_ptr_array_index(room->controls, i));
  for (guint i = 0; i < all->len; i++)
    sink->leave(g_ptr_array_index(all, i), "hearing-ended");
  tm_audit_log_close(room->audit);
  for (guint i = 0; i < all->len; i++)
    sink->close(g_ptr_array_index(all, i));
  g_ptr_array_unref(all);
}

static void
run_record(Act *a)
{
  TmRoom *room = a->room;
  const char *op = a->m->op != NULL ? a->m->op : "";
  if (strcmp(op, "start") == 0) {
    g_autoptr(GError) error = NULL;
    if (room->recorder != NULL) {
      fail(a, TM_WIRE_ERR_BAD_REQUEST, "the hearing is already being recorded");
    } else if (!tm_room_recording_start(room, a->actor->label, &error)) {
      g_autofree char *msg = g_strdup_printf("the recording could not start: %s", error->message);
      fail(a, TM_WIRE_ERR_INTERNAL, msg);
    } else {
      done(a, tm_recorder_path(room->recorder));
    }
    return;
  }
  if (strcmp(op, "pause") != 0 && strcmp(op, "resume") != 0 && strcmp(op, "stop") != 0) {
    fail(a, TM_WIRE_ERR_BAD_REQUEST, "record needs \"op\": start, pause, resume or stop");
    return;
  }
  if (room->recorder == NULL) {
    fail(a, TM_WIRE_ERR_NOT_RECORDING, NULL);
    return;
  }
  if (strcmp(op, "stop") == 0) {
    g_autofree char *path = tm_room_recording_stop(room, a->actor->label);
    done(a, path);
    return;
  }
  tm_room_recording_pause(room, a->actor->label, strcmp(op, "pause") == 0);
  done(a, NULL);
}

static void
run_mark(Act *a)
{
  if (a->m->text == NULL) {
    fail(a, TM_WIRE_ERR_BAD_REQUEST, "mark needs \"text\" (1 to 200 characters)");
    return;
  }
  if (a->room->recorder == NULL) {
    fail(a, TM_WIRE_ERR_NOT_RECORDING, NULL);
    return;
  }
  tm_room_recording_mark(a->room, a->actor->label, a->actor->role, a->m->text);
  done(a, NULL);
}

static const struct {
  const char *action;
  void (*run)(Act *a);
} runs[] = {
  { "waiting", run_waiting },     { "admit", run_admit },
  { "refuse", run_refuse },       { "to-waiting", run_to_waiting },
  { "mute", run_mute },           { "unmute-request", run_unmute_request },
  { "video-off", run_video_off }, { "remove", run_remove },
  { "protect", run_protect },     { "lock", run_lock },
  { "unlock", run_lock },         { "end", run_end },
  { "record", run_record },       { "mark", run_mark },
  { "unmute", run_unmute },       { "video-on", run_video_on },
};

/* ---- refusals: at most one entry per participant and action per interval ---- */

static void
audit_refusal(TmRoom *room, const TmControlActor *actor, const char *action, guint count,
              gboolean held)
{
  g_autofree char *detail = held
    ? g_strdup_printf("%s (%u more refused, not written one by one)", action, count)
    : count > 1
    ? g_strdup_printf("%s (and %u refused before it, not written one by one)", action, count - 1)
    : g_strdup(action);
  tm_room_audit(room, actor->label, "refused-control", NULL, detail);
}

static void
note_refusal(TmRoom *room, const TmControlActor *actor, const char *action)
{
  if (*actor->refusals == NULL)
    *actor->refusals = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  TmAuditRefusal *r = g_hash_table_lookup(*actor->refusals, action);
  if (r == NULL) {
    r = g_new(TmAuditRefusal, 1);
    tm_audit_refusal_init(r);
    g_hash_table_insert(*actor->refusals, g_strdup(action), r);
  }
  guint n = tm_audit_refusal_note(r, g_get_monotonic_time());
  if (n > 0)
    audit_refusal(room, actor, action, n, FALSE);
}

void
tm_control_flush_refusals(TmRoom *room, const TmControlActor *actor)
{
  if (*actor->refusals == NULL)
    return;
  GHashTableIter it;
  gpointer action, r;
  g_hash_table_iter_init(&it, *actor->refusals);
  while (g_hash_table_iter_next(&it, &action, &r)) {
    guint n = tm_audit_refusal_take(r);
    if (n > 0)
      audit_refusal(room, actor, action, n, TRUE);
  }
}

void
tm_control_handle(TmRoom *room, const TmControlActor *actor, const TmMessage *m, TmControlResult *r)
{
  memset(r, 0, sizeof *r);
  Act a = { room, actor, m, NULL, r };
  const TmControlRule *rule = tm_court_rule(m->action);
  if (rule == NULL) {
    r->reply = tm_wire_error(TM_WIRE_ERR_BAD_REQUEST, "unknown control action", m->action);
    return;
  }
  g_autofree char *why = NULL;
  if (!tm_court_allows(rule, actor->role, actor->participant != NULL, &why)) {
    fail(&a, TM_WIRE_ERR_FORBIDDEN, why);
    note_refusal(room, actor, rule->action);
    return;
  }
  if (rule->target != TM_TARGET_NONE) {
    a.target = m->ctl_target != NULL ? tm_hearing_find(room->hearing, m->ctl_target) : NULL;
    if (a.target == NULL) {
      fail(&a, TM_WIRE_ERR_UNKNOWN_TARGET, NULL);
      return;
    }
    const char *problem = tm_court_target_problem(rule, a.target->state);
    if (problem != NULL) {
      fail(&a, TM_WIRE_ERR_BAD_REQUEST, problem);
      return;
    }
  }
  /* Every control carried out is audited: past its bound, it is refused instead. */
  if (rule->audited && !tm_token_bucket_take(actor->bucket, g_get_monotonic_time())) {
    fail(&a, TM_WIRE_ERR_RATE_LIMITED, "too many controls in a short time; wait a moment");
    return;
  }
  for (gsize i = 0; i < G_N_ELEMENTS(runs); i++)
    if (strcmp(runs[i].action, rule->action) == 0)
      runs[i].run(&a);
}
