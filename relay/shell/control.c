/* control.c — the hearing as a court runs it: the judge's and clerk's controls, the waiting
 * room, live link quality, and the hearing's audit log. */
#define G_LOG_DOMAIN "testimony-relay"

#include <string.h>

#include "server-private.h"

#define ROLE_BIT(r) (1u << (r))
#define STAFF (ROLE_BIT(TM_ROLE_JUDGE) | ROLE_BIT(TM_ROLE_CLERK))
#define JUDGE ROLE_BIT(TM_ROLE_JUDGE)

typedef enum { TARGET_NONE, TARGET_WAITING, TARGET_ADMITTED, TARGET_ANY } TargetNeed;

typedef struct {
  const char *action;
  guint roles;          /* who may; 0 = the participant itself (no target) */
  TargetNeed target;
  void (*run)(Session *s, const TmMessage *m, TmParticipant *target);
  const char *what;     /* for refusals: "a witness may not WHAT" */
} ControlSpec;

/* ---- audit ---- */

char *
tm_participant_label(const TmParticipant *p)
{
  return g_strdup_printf("%s %s (%s)", p->id, p->name, tm_role_to_string(p->role));
}

static char *
session_label(const Session *s)
{
  if (s->participant != NULL)
    return tm_participant_label(s->participant);
  return g_strdup_printf("console %s (%s)", s->name, tm_role_to_string(s->role));
}

void
tm_room_audit(Room *room, const Session *actor, const char *action,
              const TmParticipant *subject, const char *detail)
{
  g_autofree char *who = actor != NULL ? session_label(actor) : g_strdup("relay");
  g_autofree char *what = subject != NULL ? tm_participant_label(subject) : g_strdup("");
  tm_audit_log_write(room->audit, who, action, what, detail != NULL ? detail : "");
}

static void
audit_refusal(Session *s, const char *action, guint count, gboolean held)
{
  g_autofree char *detail =
    held ? g_strdup_printf("%s (%u more refused, not written one by one)", action, count)
    : count > 1 ? g_strdup_printf("%s (and %u refused before it, not written one by one)", action,
                                  count - 1)
                : g_strdup(action);
  tm_room_audit(s->room, s, "refused-control", NULL, detail);
}

/* At most one entry per participant and action per interval (docs/audit-log.md). */
static void
note_refusal(Session *s, const char *action)
{
  if (s->refusals == NULL)
    s->refusals = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  TmAuditRefusal *r = g_hash_table_lookup(s->refusals, action);
  if (r == NULL) {
    r = g_new(TmAuditRefusal, 1);
    tm_audit_refusal_init(r);
    g_hash_table_insert(s->refusals, g_strdup(action), r);
  }
  guint n = tm_audit_refusal_note(r, g_get_monotonic_time());
  if (n > 0)
    audit_refusal(s, action, n, FALSE);
}

void
tm_session_audit_refusals(Session *s)
{
  if (s->refusals == NULL || s->room == NULL)
    return;
  GHashTableIter it;
  gpointer action, r;
  g_hash_table_iter_init(&it, s->refusals);
  while (g_hash_table_iter_next(&it, &action, &r)) {
    guint n = tm_audit_refusal_take(r);
    if (n > 0)
      audit_refusal(s, action, n, TRUE);
  }
}

/* ---- replies ---- */

static void
send_state(TmParticipant *p, Room *room)
{
  if (p->data == NULL)
    return;
  g_autoptr(JsonBuilder) b = tm_msg_begin("state");
  tm_msg_add_string(b, "state", p->state == TM_STATE_ADMITTED ? "admitted" : "waiting");
  tm_msg_add_string(b, "title", room->record->title);
  json_builder_end_object(b);
  tm_session_send(p->data, b);
}

static void
send_muted(TmParticipant *p, TmTrack track, gboolean muted, TmRole by)
{
  if (p->data == NULL)
    return;
  g_autoptr(JsonBuilder) b = tm_msg_begin("muted");
  tm_msg_add_string(b, "track", track == TM_TRACK_AUDIO ? "audio" : "video");
  json_builder_set_member_name(b, "muted");
  json_builder_add_boolean_value(b, muted);
  tm_msg_add_string(b, "by", tm_role_to_string(by));
  json_builder_end_object(b);
  tm_session_send(p->data, b);
}

static void
add_link(JsonBuilder *b, const TmParticipant *p)
{
  double rtt = 0;
  int n = 0;
  uint64_t down = 0;
  for (guint i = 0; i < p->subscriptions->len; i++) {
    const TmPeerStats *st = tm_peer_stats(g_ptr_array_index(p->subscriptions, i));
    if (st->rtt_ms > 0) {
      rtt += st->rtt_ms;
      n++;
    }
    down += st->bitrate_bps;
  }
  const TmPeerStats *up = p->publish != NULL ? tm_peer_stats(p->publish) : NULL;
  json_builder_set_member_name(b, "rtt_ms");
  json_builder_add_double_value(b, n > 0 ? rtt / n : 0);
  json_builder_set_member_name(b, "loss");
  json_builder_add_double_value(b, up != NULL ? up->fraction_lost : 0);
  json_builder_set_member_name(b, "bitrate_kbps");
  json_builder_add_int_value(b, up != NULL ? (gint64) (up->bitrate_bps / 1000) : 0);
  json_builder_set_member_name(b, "down_kbps");
  json_builder_add_int_value(b, (gint64) (down / 1000));
}

void
tm_room_send_waiting(Room *room, Session *only)
{
  g_autoptr(JsonBuilder) b = tm_msg_begin("waiting");
  json_builder_set_member_name(b, "participants");
  json_builder_begin_array(b);
  for (guint i = 0; i < tm_hearing_n_participants(room->hearing); i++) {
    TmParticipant *p = tm_hearing_participant(room->hearing, i);
    if (p->state != TM_STATE_WAITING)
      continue;
    json_builder_begin_object(b);
    tm_msg_add_string(b, "id", p->id);
    tm_msg_add_string(b, "name", p->name);
    tm_msg_add_string(b, "role", tm_role_to_string(p->role));
    json_builder_set_member_name(b, "since");
    json_builder_add_int_value(b, (g_get_real_time() - g_get_monotonic_time() + p->joined_us) /
                                    1000000);
    json_builder_set_member_name(b, "link");
    json_builder_begin_object(b);
    add_link(b, p);
    json_builder_end_object(b);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  if (only != NULL)
    tm_session_send(only, b);
  else
    tm_room_broadcast_staff(room, b);
}

gboolean
tm_room_quality_tick(gpointer data)
{
  Room *room = data;
  if (tm_hearing_n_participants(room->hearing) == 0)
    return G_SOURCE_CONTINUE;
  g_autoptr(JsonBuilder) b = tm_msg_begin("link-quality");
  json_builder_set_member_name(b, "participants");
  json_builder_begin_array(b);
  for (guint i = 0; i < tm_hearing_n_participants(room->hearing); i++) {
    TmParticipant *p = tm_hearing_participant(room->hearing, i);
    json_builder_begin_object(b);
    tm_msg_add_string(b, "id", p->id);
    add_link(b, p);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  tm_room_broadcast_staff(room, b);
  return G_SOURCE_CONTINUE;
}

/* ---- actions ---- */

static int64_t
now_us(void)
{
  return g_get_monotonic_time();
}

/* Refused or removed: the token cannot be used again. */
static void
revoke_token(Session *s, TmParticipant *t)
{
  Session *ts = t->data;
  g_autoptr(GError) error = NULL;
  if (!tm_keyring_revoke(s->server->keyring, ts->jti, &error))
    g_critical("cannot revoke the token of %s: %s", t->id, error->message);
}

static void
run_waiting(Session *s, const TmMessage *m, TmParticipant *t)
{
  tm_room_send_waiting(s->room, s);
}

static void
run_admit(Session *s, const TmMessage *m, TmParticipant *t)
{
  Room *room = s->room;
  tm_hearing_set_state(room->hearing, t, TM_STATE_ADMITTED, now_us());
  tm_room_record_presence(room, t, TRUE);
  tm_room_audit(room, s, "admit", t, "");
  send_state(t, room);
  tm_room_send_roster(room, t);
  tm_room_participant_changed(room, t);
  tm_room_send_waiting(room, NULL);
  tm_room_schedule(room);
  tm_session_done(s, m->action, NULL);
}

static void
run_refuse(Session *s, const TmMessage *m, TmParticipant *t)
{
  Room *room = s->room;
  Session *ts = t->data;
  revoke_token(s, t);
  tm_room_audit(room, s, "refuse", t, "token revoked");
  tm_session_done(s, m->action, NULL);
  tm_session_dismiss(ts, "refused", "the court did not admit you to this hearing");
}

static void
run_to_waiting(Session *s, const TmMessage *m, TmParticipant *t)
{
  Room *room = s->room;
  if (t == s->participant) {
    tm_session_error(s, "bad-request", "you cannot send yourself to the waiting room", m->action);
    return;
  }
  tm_room_record_presence(room, t, FALSE);
  tm_hearing_set_state(room->hearing, t, TM_STATE_WAITING, now_us());
  tm_room_audit(room, s, "to-waiting", t, "");
  send_state(t, room);
  tm_room_participant_changed(room, t);
  tm_room_send_waiting(room, NULL);
  tm_session_done(s, m->action, NULL);
}

static void
set_muted(Session *s, const TmMessage *m, TmParticipant *t, TmTrack track, gboolean muted)
{
  Room *room = s->room;
  tm_hearing_set_muted(room->hearing, t, track, muted, now_us());
  tm_room_audit(room, s, m->action, t, "");
  send_muted(t, track, muted, s->role);
  tm_room_participant_changed(room, t);
  tm_room_schedule(room);
  tm_session_done(s, m->action, NULL);
}

static void
run_mute(Session *s, const TmMessage *m, TmParticipant *t)
{
  set_muted(s, m, t, TM_TRACK_AUDIO, TRUE);
}

static void
run_video_off(Session *s, const TmMessage *m, TmParticipant *t)
{
  set_muted(s, m, t, TM_TRACK_VIDEO, TRUE);
}

static void
run_unmute(Session *s, const TmMessage *m, TmParticipant *t)
{
  set_muted(s, m, s->participant, TM_TRACK_AUDIO, FALSE);
}

static void
run_video_on(Session *s, const TmMessage *m, TmParticipant *t)
{
  set_muted(s, m, s->participant, TM_TRACK_VIDEO, FALSE);
}

static void
run_unmute_request(Session *s, const TmMessage *m, TmParticipant *t)
{
  g_autoptr(JsonBuilder) b = tm_msg_begin("unmute-request");
  tm_msg_add_string(b, "by", tm_role_to_string(s->role));
  json_builder_end_object(b);
  if (t->data != NULL)
    tm_session_send(t->data, b);
  tm_room_audit(s->room, s, "unmute-request", t, "");
  tm_session_done(s, m->action, NULL);
}

static void
run_remove(Session *s, const TmMessage *m, TmParticipant *t)
{
  Room *room = s->room;
  Session *ts = t->data;
  if (t == s->participant) {
    tm_session_error(s, "bad-request", "you cannot remove yourself; leave instead", m->action);
    return;
  }
  revoke_token(s, t);
  tm_room_audit(room, s, "remove", t, "token revoked");
  tm_session_done(s, m->action, NULL);
  tm_session_dismiss(ts, "removed", "the court removed you from this hearing");
}

static void
run_protect(Session *s, const TmMessage *m, TmParticipant *t)
{
  Room *room = s->room;
  if (g_strcmp0(m->measure, "screen-witness") != 0 || m->on < 0) {
    tm_session_error(s, "bad-request",
                     "protect needs \"measure\":\"screen-witness\" and \"on\":true or false",
                     m->action);
    return;
  }
  tm_hearing_set_measure(room->hearing, TM_MEASURE_SCREEN_WITNESS, m->on == 1, now_us());
  tm_room_audit(room, s, "protect", NULL, m->on == 1 ? "screen-witness on" : "screen-witness off");
  g_autoptr(JsonBuilder) b = tm_msg_begin("protection");
  json_builder_set_member_name(b, "measures");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "screen-witness");
  json_builder_add_boolean_value(b, m->on == 1);
  json_builder_end_object(b);
  json_builder_end_object(b);
  tm_room_broadcast(room, NULL, b);
  tm_room_schedule(room);
  tm_session_done(s, m->action, NULL);
}

static void
run_lock(Session *s, const TmMessage *m, TmParticipant *t)
{
  s->room->locked = strcmp(m->action, "lock") == 0;
  tm_room_audit(s->room, s, m->action, NULL, "");
  tm_session_done(s, m->action, NULL);
}

static void
run_end(Session *s, const TmMessage *m, TmParticipant *t)
{
  Room *room = s->room;
  g_autoptr(GError) error = NULL;
  room->record->ended = TRUE;
  if (!tm_state_hearing_save(s->server->config.state_dir, room->record, &error))
    g_critical("cannot record that hearing %s ended: %s", room->record->id, error->message);
  tm_room_recording_stop(room, s);
  tm_room_audit(room, s, "end", NULL, "");
  tm_session_done(s, m->action, NULL);
  g_autoptr(JsonBuilder) b = tm_msg_begin("hearing-ended");
  json_builder_end_object(b);
  tm_room_broadcast(room, NULL, b);
  /* Everyone leaves (written to the log), then the log is signed and the sessions close. The
   * room goes with the last one, so it is kept alive until the signature is written. */
  GPtrArray *all = g_ptr_array_new();
  for (guint i = 0; i < tm_hearing_n_participants(room->hearing); i++)
    g_ptr_array_add(all, tm_hearing_participant(room->hearing, i)->data);
  for (guint i = 0; i < room->controls->len; i++)
    if (g_ptr_array_index(room->controls, i) != s)
      g_ptr_array_add(all, g_ptr_array_index(room->controls, i));
  for (guint i = 0; i < all->len; i++) {
    Session *o = g_ptr_array_index(all, i);
    if (o != NULL && o != s)
      tm_session_leave(o, "hearing-ended");
  }
  tm_audit_log_close(room->audit);
  for (guint i = 0; i < all->len; i++) {
    Session *o = g_ptr_array_index(all, i);
    if (o != NULL && o != s)
      tm_session_close(o, SOUP_WEBSOCKET_CLOSE_NORMAL);
  }
  g_ptr_array_unref(all);
  tm_session_leave(s, "hearing-ended"); /* the last one: the room closes */
  tm_session_close(s, SOUP_WEBSOCKET_CLOSE_NORMAL);
}

static const ControlSpec controls[] = {
  { "waiting", STAFF, TARGET_NONE, run_waiting, "see the waiting room" },
  { "admit", STAFF, TARGET_WAITING, run_admit, "admit anyone" },
  { "refuse", STAFF, TARGET_WAITING, run_refuse, "refuse anyone" },
  { "to-waiting", JUDGE, TARGET_ADMITTED, run_to_waiting, "send anyone to the waiting room" },
  { "mute", JUDGE, TARGET_ANY, run_mute, "mute anyone" },
  { "unmute-request", JUDGE, TARGET_ANY, run_unmute_request, "ask anyone to unmute" },
  { "video-off", JUDGE, TARGET_ANY, run_video_off, "stop anyone's video" },
  { "remove", JUDGE, TARGET_ANY, run_remove, "remove anyone" },
  { "protect", JUDGE, TARGET_NONE, run_protect, "change protective measures" },
  { "lock", JUDGE, TARGET_NONE, run_lock, "lock the hearing" },
  { "unlock", JUDGE, TARGET_NONE, run_lock, "unlock the hearing" },
  { "end", JUDGE, TARGET_NONE, run_end, "end the hearing" },
  { "record", STAFF, TARGET_NONE, tm_control_record, "control the recording" },
  { "mark", STAFF, TARGET_NONE, tm_control_mark, "mark the recording" },
  { "unmute", 0, TARGET_NONE, run_unmute, "unmute: a control session has no microphone" },
  { "video-on", 0, TARGET_NONE, run_video_on, "start video: a control session has no camera" },
};

void
tm_control_handle(Session *s, const TmMessage *m)
{
  const ControlSpec *spec = NULL;
  for (gsize i = 0; i < G_N_ELEMENTS(controls); i++)
    if (strcmp(controls[i].action, m->action) == 0)
      spec = &controls[i];
  if (spec == NULL) {
    tm_session_error(s, "bad-request", "unknown control action", m->action);
    return;
  }
  if (spec->roles == 0 ? s->participant == NULL : !(spec->roles & ROLE_BIT(s->role))) {
    g_autofree char *msg = g_strdup_printf("a %s may not %s%s", tm_role_to_string(s->role),
                                           spec->what,
                                           spec->roles == JUDGE ? "; only a judge may"
                                           : spec->roles == STAFF ? "; only a judge or clerk may"
                                                                  : "");
    tm_session_error(s, "forbidden", msg, m->action);
    note_refusal(s, spec->action);
    return;
  }
  TmParticipant *t = NULL;
  if (spec->target != TARGET_NONE) {
    t = m->ctl_target != NULL ? tm_hearing_find(s->room->hearing, m->ctl_target) : NULL;
    if (t == NULL) {
      tm_session_error(s, "unknown-target", "no participant with that id is in the hearing",
                       m->action);
      return;
    }
    if ((spec->target == TARGET_WAITING && t->state != TM_STATE_WAITING) ||
        (spec->target == TARGET_ADMITTED && t->state != TM_STATE_ADMITTED)) {
      tm_session_error(s, "bad-request",
                       spec->target == TARGET_WAITING ? "that participant is not waiting"
                                                      : "that participant is not admitted",
                       m->action);
      return;
    }
  }
  /* Every control carried out is audited: past its bound, it is refused instead. */
  if (spec->run != run_waiting &&
      !tm_token_bucket_take(&s->audit_bucket, g_get_monotonic_time())) {
    tm_session_error(s, "rate-limited", "too many controls in a short time; wait a moment",
                     m->action);
    return;
  }
  spec->run(s, m, t);
}
