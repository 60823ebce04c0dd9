/* server.c — signalling sessions, hearings and their transports. */
#define G_LOG_DOMAIN "testimony-relay"

#include "server.h"

#include <string.h>

#include "sdp.h"
#include "server-private.h"
#include "webpath.h"
#include "token.h"

#define SESSION_MSG_RATE 50.0    /* signalling messages per second, sustained */
#define SESSION_MSG_BURST 200.0
#define JOIN_RATE 2.0            /* join attempts per second per remote address, sustained */
#define JOIN_BURST 20.0
#define JOIN_LIMITS_MAX 4096     /* remote addresses remembered */
#define HSTS "max-age=31536000"  /* browsers come back over HTTPS only, for a year */
#define JOIN_DEADLINE_S 10       /* a session that has not joined by then is closed */
#define UNJOINED_PER_ADDRESS 16  /* sessions not yet joined, per remote address */
#define QUALITY_INTERVAL_S 2

static void room_free(Room *room);

/* ---- JSON out ---- */

void
tm_session_send(Session *s, JsonBuilder *b)
{
  if (s->closed || soup_websocket_connection_get_state(s->ws) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autofree char *text = json_to_string(root, FALSE);
  soup_websocket_connection_send_text(s->ws, text);
}

JsonBuilder *
tm_msg_begin(const char *type)
{
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "type");
  json_builder_add_string_value(b, type);
  return b;
}

void
tm_msg_add_string(JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name(b, name);
  json_builder_add_string_value(b, value);
}

void
tm_session_error(Session *s, const char *code, const char *message, const char *ref)
{
  g_autoptr(JsonBuilder) b = tm_msg_begin("error");
  tm_msg_add_string(b, "code", code);
  tm_msg_add_string(b, "message", message);
  if (ref != NULL)
    tm_msg_add_string(b, "ref", ref);
  json_builder_end_object(b);
  tm_session_send(s, b);
  g_info("session error %s: %s", code, message);
}

static const char *
track_state(const TmParticipant *p, TmTrack t)
{
  if (!p->muted[t])
    return "on";
  return t == TM_TRACK_AUDIO ? "muted" : "off";
}

static void add_received(JsonBuilder *b, Room *room, const TmParticipant *to);

void
tm_add_participant(JsonBuilder *b, Room *room, const TmParticipant *p, gboolean with_counters)
{
  json_builder_begin_object(b);
  tm_msg_add_string(b, "id", p->id);
  tm_msg_add_string(b, "name", p->name);
  tm_msg_add_string(b, "role", tm_role_to_string(p->role));
  json_builder_set_member_name(b, "publishing");
  json_builder_add_boolean_value(b, p->publishing);
  tm_msg_add_string(b, "state", p->state == TM_STATE_ADMITTED ? "admitted" : "waiting");
  tm_msg_add_string(b, "audio", track_state(p, TM_TRACK_AUDIO));
  tm_msg_add_string(b, "video", track_state(p, TM_TRACK_VIDEO));
  json_builder_set_member_name(b, "since");
  json_builder_add_int_value(b, (g_get_real_time() - g_get_monotonic_time() + p->joined_us) /
                                  1000000);
  if (with_counters) {
    uint64_t rx = 0, tx = 0;
    const char *profile = "none";
    if (p->publish != NULL) {
      rx = tm_peer_stats(p->publish)->rtp_in;
      profile = tm_srtp_profile_name(tm_peer_srtp_profile(p->publish));
    }
    for (guint i = 0; i < p->subscriptions->len; i++)
      tx += tm_peer_stats(g_ptr_array_index(p->subscriptions, i))->rtp_out;
    json_builder_set_member_name(b, "rx_packets");
    json_builder_add_int_value(b, (gint64) rx);
    json_builder_set_member_name(b, "tx_packets");
    json_builder_add_int_value(b, (gint64) tx);
    json_builder_set_member_name(b, "subscriptions");
    json_builder_add_int_value(b, p->subscriptions->len);
    tm_msg_add_string(b, "srtp_profile", profile);
    add_received(b, room, p);
  }
  json_builder_end_object(b);
}

void
tm_room_broadcast(Room *room, TmParticipant *except, JsonBuilder *b)
{
  for (guint i = 0; i < tm_hearing_n_participants(room->hearing); i++) {
    TmParticipant *p = tm_hearing_participant(room->hearing, i);
    /* someone waiting learns only the title and their own state (send_joined, send_state) */
    if (p != except && p->data != NULL && p->state != TM_STATE_WAITING)
      tm_session_send(p->data, b);
  }
  for (guint i = 0; i < room->controls->len; i++)
    tm_session_send(g_ptr_array_index(room->controls, i), b);
}

void
tm_room_broadcast_roles(Room *room, JsonBuilder *staff, JsonBuilder *others)
{
  for (guint i = 0; i < tm_hearing_n_participants(room->hearing); i++) {
    TmParticipant *p = tm_hearing_participant(room->hearing, i);
    JsonBuilder *b =
      p->role == TM_ROLE_JUDGE || p->role == TM_ROLE_CLERK ? staff : others;
    if (p->data != NULL && b != NULL && p->state != TM_STATE_WAITING)
      tm_session_send(p->data, b);
  }
  for (guint i = 0; i < room->controls->len; i++)
    tm_session_send(g_ptr_array_index(room->controls, i), staff);
}

void
tm_room_broadcast_staff(Room *room, JsonBuilder *b)
{
  tm_room_broadcast_roles(room, b, NULL);
}

void
tm_room_send_roster(Room *room, TmParticipant *to)
{
  for (guint i = 0; i < tm_hearing_n_participants(room->hearing); i++) {
    TmParticipant *o = tm_hearing_participant(room->hearing, i);
    if (o == to || to->data == NULL)
      continue;
    g_autoptr(JsonBuilder) b = tm_msg_begin("participant-joined");
    json_builder_set_member_name(b, "participant");
    tm_add_participant(b, room, o, FALSE);
    json_builder_end_object(b);
    tm_session_send(to->data, b);
  }
  if (to->data != NULL)
    tm_room_send_recording(room, to->data);
}

void
tm_room_participant_changed(Room *room, TmParticipant *p)
{
  g_autoptr(JsonBuilder) b = tm_msg_begin("participant-state");
  json_builder_set_member_name(b, "participant");
  tm_add_participant(b, room, p, FALSE);
  json_builder_end_object(b);
  tm_room_broadcast(room, NULL, b);
}

/* What each receiver got from each sender, per track: the relay's own counters. */
static void
add_received(JsonBuilder *b, Room *room, const TmParticipant *to)
{
  json_builder_set_member_name(b, "received");
  json_builder_begin_object(b);
  for (guint i = 0; i < tm_hearing_n_participants(room->hearing); i++) {
    TmParticipant *from = tm_hearing_participant(room->hearing, i);
    if (from == to)
      continue;
    json_builder_set_member_name(b, from->id);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "audio");
    json_builder_add_int_value(b, (gint64) tm_hearing_packets_sent(room->hearing, from, to,
                                                                   TM_TRACK_AUDIO));
    json_builder_set_member_name(b, "video");
    json_builder_add_int_value(b, (gint64) tm_hearing_packets_sent(room->hearing, from, to,
                                                                   TM_TRACK_VIDEO));
    json_builder_end_object(b);
  }
  json_builder_end_object(b);
}

void
tm_add_protection(JsonBuilder *b, Room *room)
{
  json_builder_set_member_name(b, "protection");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "screen-witness");
  json_builder_add_boolean_value(b, (tm_hearing_measures(room->hearing) &
                                     TM_MEASURE_SCREEN_WITNESS) != 0);
  json_builder_end_object(b);
}

static JsonBuilder *
status_message(Room *room)
{
  JsonBuilder *b = tm_msg_begin("status");
  tm_msg_add_string(b, "hearing", tm_hearing_id(room->hearing));
  tm_msg_add_string(b, "case", tm_hearing_case(room->hearing));
  tm_msg_add_string(b, "title", room->record->title);
  json_builder_set_member_name(b, "locked");
  json_builder_add_boolean_value(b, room->locked);
  tm_add_protection(b, room);
  tm_add_recording(b, room);
  json_builder_set_member_name(b, "participants");
  json_builder_begin_array(b);
  for (guint i = 0; i < tm_hearing_n_participants(room->hearing); i++)
    tm_add_participant(b, room, tm_hearing_participant(room->hearing, i), TRUE);
  json_builder_end_array(b);
  json_builder_end_object(b);
  return b;
}

/* ---- timers ---- */

void
tm_room_schedule(Room *room)
{
  int64_t d = tm_hearing_next_deadline(room->hearing);
  g_source_set_ready_time(room->timer, d == INT64_MAX ? -1 : d);
}

static gboolean
room_timer_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
  Room *room = data;
  tm_hearing_handle_timeout(room->hearing, g_get_monotonic_time());
  tm_room_schedule(room);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs room_timer_funcs = { NULL, NULL, room_timer_dispatch, NULL, NULL, NULL };

/* ---- transports ---- */

static void
transport_receive(void *ud, const uint8_t *buf, size_t len)
{
  Transport *t = ud;
  Room *room = t->room;
  tm_hearing_handle_datagram(room->hearing, t->peer, buf, len, g_get_monotonic_time());
  /* A datagram can bring this connection's next deadline forward (a DTLS retransmission, a
   * NACK to repeat): move the hearing's timer if so. */
  int64_t ready = g_source_get_ready_time(room->timer);
  int64_t d = tm_peer_next_deadline(t->peer);
  if (d != INT64_MAX && (ready < 0 || d < ready))
    g_source_set_ready_time(room->timer, d);
}

typedef struct {
  TmServer *server;
  char *hearing;
  TmPeer *peer;
  char *reason;
} Failure;

static void
failure_free(gpointer data)
{
  Failure *f = data;
  g_free(f->hearing);
  g_free(f->reason);
  g_free(f);
}

/* Runs outside the engine's call stack: the failed peer may be freed here. */
static gboolean
failure_handle(gpointer data)
{
  Failure *f = data;
  Room *room = g_hash_table_lookup(f->server->rooms, f->hearing);
  if (room == NULL || !g_hash_table_contains(room->transports, f->peer))
    return G_SOURCE_REMOVE;
  TmParticipant *owner = tm_hearing_peer_owner(room->hearing, f->peer);
  TmParticipant *feed = tm_hearing_peer_feed(room->hearing, f->peer);
  if (owner == NULL)
    return G_SOURCE_REMOVE;
  Session *s = owner->data;
  g_message("connection of %s (%s) failed: %s", owner->id, feed != NULL ? feed->id : "publish",
            f->reason);
  if (feed != NULL) {
    tm_hearing_close_subscription(room->hearing, owner, feed);
    g_autofree char *msg = g_strdup_printf("the connection receiving %s failed: %s", feed->id,
                                           f->reason);
    tm_session_error(s, "connection-failed", msg, feed->id);
  } else {
    g_autofree char *msg = g_strdup_printf("your media connection failed: %s", f->reason);
    tm_session_error(s, "connection-failed", msg, "publish");
    tm_room_audit(room, s, "connection-failed", owner, f->reason);
    tm_session_leave(s, "connection-failed");
  }
  return G_SOURCE_REMOVE;
}

static void
schedule_failure(Room *room, TmPeer *peer, const char *reason)
{
  Failure *f = g_new0(Failure, 1);
  f->server = room->server;
  f->hearing = g_strdup(tm_hearing_id(room->hearing));
  f->peer = peer;
  f->reason = g_strdup(reason);
  GSource *src = g_idle_source_new();
  g_source_set_callback(src, failure_handle, f, failure_free);
  g_source_attach(src, room->server->context);
  g_source_unref(src);
}

static void
transport_failed(void *ud)
{
  Transport *t = ud;
  schedule_failure(t->room, t->peer, "ICE connectivity lost");
}

static const TmIceListener transport_listener = { transport_receive, transport_failed };

/* ---- hearing listener ---- */

static void
room_transmit(void *ud, TmPeer *peer, const uint8_t *buf, size_t len)
{
  Room *room = ud;
  Transport *t = g_hash_table_lookup(room->transports, peer);
  if (t != NULL && t->ice != NULL)
    tm_ice_send(t->ice, buf, len);
}

static void
room_published(void *ud, TmParticipant *p)
{
  Room *room = ud;
  g_message("%s publishes (SRTP %s)", p->id,
            tm_srtp_profile_name(tm_peer_srtp_profile(p->publish)));
  tm_room_record_presence(room, p, TRUE); /* its tracks are known now */
  g_autoptr(JsonBuilder) b = tm_msg_begin("participant-published");
  tm_msg_add_string(b, "id", p->id);
  json_builder_end_object(b);
  tm_room_broadcast(room, p, b);
}

static void
room_peer_failed(void *ud, TmPeer *peer, const char *reason)
{
  schedule_failure(ud, peer, reason);
}

static void
room_peer_closed(void *ud, TmPeer *peer)
{
  Room *room = ud;
  g_hash_table_remove(room->transports, peer);
}

static const TmHearingListener room_listener = {
  room_transmit, room_published, room_peer_failed, room_peer_closed, tm_room_record_packet,
};

static void
transport_free(gpointer data)
{
  Transport *t = data;
  tm_ice_free(t->ice);
  g_free(t);
}


static guint
record_measures(const TmHearingRecord *rec)
{
  guint m = 0;
  for (char **p = rec->protect; p != NULL && *p != NULL; p++)
    if (strcmp(*p, "screen-witness") == 0)
      m |= TM_MEASURE_SCREEN_WITNESS;
  return m;
}

static Room *
room_get(TmServer *server, const char *hearing_id, GError **error)
{
  Room *room = g_hash_table_lookup(server->rooms, hearing_id);
  if (room != NULL)
    return room;
  TmHearingRecord *rec = tm_state_hearing_load(server->config.state_dir, hearing_id, error);
  if (rec == NULL)
    return NULL;
  room = g_new0(Room, 1);
  room->server = server;
  room->record = rec;
  room->transports = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, transport_free);
  room->controls = g_ptr_array_new();
  TmHearingConfig hc = {
    .id = rec->id,
    .case_number = rec->case_number,
    .identity = server->identity,
    .wall_offset_us = g_get_real_time() - g_get_monotonic_time(),
    .waiting_room = rec->waiting_room,
    .measures = record_measures(rec),
  };
  room->hearing = tm_hearing_new(&hc, &room_listener, room);
  room->timer = g_source_new(&room_timer_funcs, sizeof(GSource));
  g_source_set_callback(room->timer, NULL, room, NULL);
  g_source_attach(room->timer, server->context);
  room->quality_timer = g_timeout_source_new_seconds(QUALITY_INTERVAL_S);
  g_source_set_callback(room->quality_timer, tm_room_quality_tick, room, NULL);
  g_source_attach(room->quality_timer, server->context);
  g_autofree char *audit_path = tm_state_audit_path(server->config.state_dir, rec->id);
  TmAuditLogConfig ac = {
    .path = audit_path,
    .hearing_id = rec->id,
    .case_number = rec->case_number,
    .key = server->evidence,
    .heads = server->audit_heads,
  };
  room->audit = tm_audit_log_open(&ac);
  g_hash_table_insert(server->rooms, g_strdup(rec->id), room);
  g_message("hearing %s opened", rec->id);
  return room;
}

static void
room_free(Room *room)
{
  tm_room_recording_stop(room, NULL);
  tm_hearing_free(room->hearing);
  g_hash_table_unref(room->transports);
  g_ptr_array_unref(room->controls);
  g_source_destroy(room->timer);
  g_source_unref(room->timer);
  g_source_destroy(room->quality_timer);
  g_source_unref(room->quality_timer);
  tm_hearing_record_free(room->record);
  tm_audit_log_free(room->audit);
  g_free(room);
}

/* Frees ROOM when nobody is left in it; returns TRUE when it did. */
static gboolean
room_close_if_empty(Room *room)
{
  if (tm_hearing_n_participants(room->hearing) > 0 || room->controls->len > 0)
    return FALSE;
  g_message("hearing %s closed: nobody left", tm_hearing_id(room->hearing));
  g_hash_table_remove(room->server->rooms, tm_hearing_id(room->hearing));
  return TRUE;
}

/* ---- session: leaving ---- */

void
tm_session_leave(Session *s, const char *reason)
{
  Room *room = s->room;
  if (room == NULL)
    return;
  tm_session_audit_refusals(s);
  if (s->jti[0] != '\0' && g_hash_table_lookup(s->server->live_tokens, s->jti) == s)
    g_hash_table_remove(s->server->live_tokens, s->jti);
  s->room = NULL;
  if (s->participant == NULL) {
    g_ptr_array_remove(room->controls, s);
    room_close_if_empty(room);
    return;
  }
  TmParticipant *p = s->participant;
  gboolean was_waiting = p->state == TM_STATE_WAITING;
  g_autofree char *id = g_strdup(p->id);
  tm_room_record_presence(room, p, FALSE);
  tm_room_audit(room, NULL, "leave", p, reason);
  p->data = NULL;
  s->participant = NULL;
  tm_hearing_leave(room->hearing, p);
  g_message("%s left hearing %s (%s)", id, tm_hearing_id(room->hearing), reason);
  g_autoptr(JsonBuilder) b = tm_msg_begin("participant-left");
  tm_msg_add_string(b, "id", id);
  tm_msg_add_string(b, "reason", reason);
  json_builder_end_object(b);
  tm_room_broadcast(room, NULL, b);
  if (was_waiting)
    tm_room_send_waiting(room, NULL);
  if (!room_close_if_empty(room))
    tm_room_schedule(room);
}

void
tm_session_close(Session *s, gushort code)
{
  if (soup_websocket_connection_get_state(s->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close(s->ws, code, NULL);
}

void
tm_session_done(Session *s, const char *action, const char *path)
{
  g_autoptr(JsonBuilder) b = tm_msg_begin("done");
  tm_msg_add_string(b, "action", action);
  if (path != NULL)
    tm_msg_add_string(b, "path", path);
  json_builder_end_object(b);
  tm_session_send(s, b);
}

void
tm_session_dismiss(Session *s, const char *code, const char *message)
{
  tm_session_error(s, code, message, NULL);
  tm_session_leave(s, code);
  tm_session_close(s, SOUP_WEBSOCKET_CLOSE_NORMAL);
}

/* ---- join ---- */

static const char *
token_error_code(TmTokenError e)
{
  switch (e) {
  case TM_TOKEN_ERR_EXPIRED: return "token-expired";
  case TM_TOKEN_ERR_NOT_YET_VALID: return "token-not-yet-valid";
  case TM_TOKEN_ERR_WRONG_HEARING: return "wrong-hearing";
  default: return "bad-token";
  }
}

static gboolean
join_allowed(Session *s)
{
  TmServer *server = s->server;
  TmTokenBucket *b = g_hash_table_lookup(server->join_limits, s->remote);
  int64_t now = g_get_monotonic_time();
  if (b == NULL) {
    if (g_hash_table_size(server->join_limits) >= JOIN_LIMITS_MAX)
      g_hash_table_remove_all(server->join_limits); /* forget old addresses, keep a cap */
    b = g_new0(TmTokenBucket, 1);
    tm_token_bucket_init(b, JOIN_RATE, JOIN_BURST, now);
    g_hash_table_insert(server->join_limits, g_strdup(s->remote), b);
  }
  return tm_token_bucket_take(b, now);
}

/* Refuses a join with CODE and closes the session. */
static void
refuse(Session *s, const char *code, const char *message)
{
  tm_session_error(s, code, message, "join");
  tm_session_close(s, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
}

static void
send_joined(Session *s, Room *room)
{
  g_autoptr(JsonBuilder) b = tm_msg_begin("joined");
  TmParticipant *p = s->participant;
  tm_msg_add_string(b, "id", p != NULL ? p->id : "control");
  tm_msg_add_string(b, "hearing", tm_hearing_id(room->hearing));
  tm_msg_add_string(b, "title", room->record->title);
  tm_msg_add_string(b, "name", s->name);
  tm_msg_add_string(b, "role", tm_role_to_string(s->role));
  if (!(p != NULL && p->state == TM_STATE_WAITING))
    tm_msg_add_string(b, "case", tm_hearing_case(room->hearing));
  gboolean waiting = p != NULL && p->state == TM_STATE_WAITING;
  tm_msg_add_string(b, "state", waiting ? "waiting" : "admitted");
  if (waiting) { /* the title and their own state only: who else is there is not theirs */
    json_builder_set_member_name(b, "participants");
    json_builder_begin_array(b);
    json_builder_end_array(b);
    json_builder_end_object(b);
    tm_session_send(s, b);
    return;
  }
  json_builder_set_member_name(b, "locked");
  json_builder_add_boolean_value(b, room->locked);
  tm_add_protection(b, room);
  tm_add_recording(b, room);
  json_builder_set_member_name(b, "participants");
  json_builder_begin_array(b);
  for (guint i = 0; i < tm_hearing_n_participants(room->hearing); i++) {
    TmParticipant *o = tm_hearing_participant(room->hearing, i);
    if (o != p)
      tm_add_participant(b, room, o, FALSE);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  tm_session_send(s, b);
}

/* Checks the token and the hearing; on success fills S's identity and returns the room. */
static Room *
join_check(Session *s, const TmMessage *m)
{
  TmServer *server = s->server;
  TmTokenClaims claims;
  gboolean revoked = FALSE;
  TmTokenError te = tm_keyring_verify(server->keyring, m->token, g_get_real_time() / 1000000,
                                      &claims, &revoked);
  /* Only failures count against the address: someone behind the same NAT sending garbage
   * never keeps a valid token out. */
  if ((te != TM_TOKEN_OK || revoked) && !join_allowed(s)) {
    refuse(s, "rate-limited", "too many failed join attempts from this address; wait a moment");
    return NULL;
  }
  if (te != TM_TOKEN_OK) {
    refuse(s, token_error_code(te), tm_token_strerror(te));
    return NULL;
  }
  if (revoked) {
    refuse(s, "token-revoked", "this token has been revoked; ask the court for a new one");
    return NULL;
  }
  g_autoptr(GError) error = NULL;
  Room *room = room_get(server, claims.hearing, &error);
  if (room == NULL) {
    refuse(s, "wrong-hearing", "the token is for a hearing this relay does not hold");
    return NULL;
  }
  if (room->record->ended) {
    refuse(s, "hearing-ended", "this hearing has ended");
    room_close_if_empty(room);
    return NULL;
  }
  if (g_hash_table_contains(server->live_tokens, claims.jti)) {
    refuse(s, "token-in-use", "this token is already in use by another session");
    return NULL;
  }
  if (room->locked && claims.role != TM_ROLE_JUDGE) {
    refuse(s, "hearing-locked", "the hearing is locked; nobody new may join");
    return NULL;
  }
  if (m->control && claims.role != TM_ROLE_JUDGE && claims.role != TM_ROLE_CLERK) {
    refuse(s, "forbidden", "only a judge's or a clerk's token may open a control session");
    return NULL;
  }
  s->role = claims.role;
  g_strlcpy(s->name, claims.name, sizeof s->name);
  g_strlcpy(s->jti, claims.jti, sizeof s->jti);
  return room;
}

/* The session joined, or is gone: it no longer counts as un-joined. */
static void
session_stop_waiting_for_join(Session *s)
{
  if (s->join_deadline != 0)
    g_source_remove(s->join_deadline);
  s->join_deadline = 0;
  GQueue *q = s->unjoined_counted ? g_hash_table_lookup(s->server->unjoined, s->remote) : NULL;
  if (q != NULL) {
    g_queue_remove(q, s);
    if (g_queue_is_empty(q))
      g_hash_table_remove(s->server->unjoined, s->remote);
  }
  s->unjoined_counted = FALSE;
}

static gboolean
on_join_deadline(gpointer data)
{
  Session *s = data;
  s->join_deadline = 0;
  if (s->room == NULL && !s->closed) {
    tm_session_error(s, "join-timeout", "no join within 10 seconds; connect again to join", NULL);
    tm_session_close(s, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
  }
  return G_SOURCE_REMOVE;
}

static void
candidate_result(Session *s, TmIceCandidateResult r)
{
  if (r == TM_ICE_CANDIDATE_MALFORMED)
    tm_session_error(s, "bad-candidate", "the ICE candidate cannot be parsed", "candidate");
  else if (r == TM_ICE_CANDIDATE_REFUSED)
    tm_session_error(s, "candidate-refused",
                     "the relay does not connect to that address (multicast, link-local, its "
                     "own, or outside remote-candidates)",
                     "candidate");
}

static void
handle_join(Session *s, const TmMessage *m)
{
  if (s->room != NULL) {
    tm_session_error(s, "already-joined", "this session has already joined the hearing", "join");
    return;
  }
  Room *room = join_check(s, m);
  if (room == NULL)
    return;
  if (m->control) {
    s->control = TRUE;
    s->room = room;
    g_ptr_array_add(room->controls, s);
  } else {
    TmHearingError he;
    TmParticipant *p = tm_hearing_join(room->hearing, s->name, s->role, g_get_monotonic_time(),
                                       &he);
    if (p == NULL) {
      refuse(s, "hearing-full", tm_hearing_strerror(he));
      room_close_if_empty(room);
      return;
    }
    p->data = s;
    s->participant = p;
    s->room = room;
    tm_room_record_presence(room, p, TRUE);
  }
  g_hash_table_insert(s->server->live_tokens, g_strdup(s->jti), s);
  session_stop_waiting_for_join(s);
  TmParticipant *p = s->participant;
  g_message("%s joined hearing %s as %s%s", p != NULL ? p->id : "a control session",
            tm_hearing_id(room->hearing), tm_role_to_string(s->role),
            p != NULL && p->state == TM_STATE_WAITING ? " (waiting room)" : "");
  tm_room_audit(room, s, s->control ? "control-session" : "join", p,
                p == NULL ? "" : p->state == TM_STATE_WAITING ? "waiting room" : "admitted");
  send_joined(s, room);
  if (p == NULL) {
    tm_room_send_waiting(room, s);
    return;
  }
  g_autoptr(JsonBuilder) j = tm_msg_begin("participant-joined");
  json_builder_set_member_name(j, "participant");
  tm_add_participant(j, room, p, FALSE);
  json_builder_end_object(j);
  tm_room_broadcast(room, p, j);
  if (p->state == TM_STATE_WAITING)
    tm_room_send_waiting(room, NULL);
}

/* ---- media connections ---- */

static void
handle_offer(Session *s, const TmMessage *m)
{
  Room *room = s->room;
  const char *ref = m->type == TM_MSG_PUBLISH ? "publish" : "subscribe";
  TmParticipant *feed = NULL;
  if (m->type == TM_MSG_SUBSCRIBE) {
    feed = tm_hearing_find(room->hearing, m->feed);
    if (feed == NULL) {
      tm_session_error(s, "unknown-feed", "no participant with that id is in the hearing", ref);
      return;
    }
  }
  g_autofree TmSdp *offer = g_new0(TmSdp, 1);
  g_autofree TmSdp *answer = g_new0(TmSdp, 1);
  TmSdpError se = tm_sdp_parse(m->sdp, strlen(m->sdp), offer);
  if (se != TM_SDP_OK) {
    tm_session_error(s, "bad-sdp", tm_sdp_strerror(se), ref);
    return;
  }
  g_autoptr(GError) error = NULL;
  Transport *t = g_new0(Transport, 1);
  t->room = room;
  t->ice = tm_ice_new(s->server->context, &s->server->ice, &transport_listener, t, &error);
  if (t->ice == NULL) {
    g_warning("ICE: %s", error->message);
    tm_session_error(s, "internal", "the relay could not open a media port", ref);
    g_free(t);
    return;
  }
  g_auto(GStrv) cands = tm_ice_local_candidates(t->ice);
  TmIceParams ice = { tm_ice_ufrag(t->ice), tm_ice_pwd(t->ice), (const char *const *) cands,
                      g_strv_length(cands) };
  TmHearingError he;
  t->peer = tm_hearing_open_peer(room->hearing, s->participant, feed, offer, &ice, answer,
                                 g_get_monotonic_time(), &he, &se);
  if (t->peer == NULL) {
    transport_free(t);
    if (he == TM_HEARING_ERR_SDP)
      tm_session_error(s, "bad-sdp", tm_sdp_strerror(se), ref);
    else if (he == TM_HEARING_ERR_FORBIDDEN)
      tm_session_error(s, "forbidden", tm_hearing_strerror(he), ref);
    else
      tm_session_error(s, he == TM_HEARING_ERR_NO_FEED ? "unknown-feed" : "bad-request",
                       tm_hearing_strerror(he), ref);
    return;
  }
  g_hash_table_insert(room->transports, t->peer, t);
  tm_ice_set_remote_credentials(t->ice, offer->ice_ufrag, offer->ice_pwd);
  for (guint i = 0; i < offer->n_candidates; i++)
    candidate_result(s, tm_ice_add_remote_candidate(t->ice, offer->candidates[i].value));
  g_autofree char *text = tm_sdp_serialize(answer);
  g_autoptr(JsonBuilder) b = tm_msg_begin("answer");
  tm_msg_add_string(b, "target", feed != NULL ? feed->id : "publish");
  tm_msg_add_string(b, "sdp", text);
  json_builder_end_object(b);
  tm_session_send(s, b);
  tm_room_schedule(room);
}

static Transport *
find_transport(Session *s, const char *target)
{
  Room *room = s->room;
  TmParticipant *p = s->participant;
  TmPeer *peer = NULL;
  if (g_strcmp0(target, "publish") == 0) {
    peer = p->publish;
  } else {
    TmParticipant *feed = tm_hearing_find(room->hearing, target);
    for (guint i = 0; feed != NULL && i < p->subscriptions->len; i++) {
      TmPeer *sub = g_ptr_array_index(p->subscriptions, i);
      if (tm_hearing_peer_feed(room->hearing, sub) == feed)
        peer = sub;
    }
  }
  return peer != NULL ? g_hash_table_lookup(room->transports, peer) : NULL;
}

static void
handle_media_message(Session *s, const TmMessage *m)
{
  if (s->participant == NULL) {
    tm_session_error(s, "forbidden", "a control session has no media", tm_message_type_name(m->type));
    return;
  }
  switch (m->type) {
  case TM_MSG_PUBLISH:
  case TM_MSG_SUBSCRIBE:
    handle_offer(s, m);
    break;
  case TM_MSG_UNSUBSCRIBE: {
    TmParticipant *feed = tm_hearing_find(s->room->hearing, m->feed);
    if (feed == NULL)
      tm_session_error(s, "unknown-feed", "no participant with that id is in the hearing",
                       "unsubscribe");
    else
      tm_hearing_close_subscription(s->room->hearing, s->participant, feed);
    break;
  }
  case TM_MSG_CANDIDATE: {
    Transport *t = find_transport(s, m->target);
    if (t == NULL)
      tm_session_error(s, "unknown-feed", "no connection with that target", "candidate");
    else
      candidate_result(s, tm_ice_add_remote_candidate(t->ice, m->candidate));
    break;
  }
  default:
    break;
  }
}

static void
handle_joined_message(Session *s, const TmMessage *m)
{
  switch (m->type) {
  case TM_MSG_STATUS: {
    g_autoptr(JsonBuilder) b = status_message(s->room);
    tm_session_send(s, b);
    break;
  }
  case TM_MSG_LEAVE:
    tm_session_leave(s, "left");
    tm_session_close(s, SOUP_WEBSOCKET_CLOSE_NORMAL);
    break;
  case TM_MSG_CONTROL:
    tm_control_handle(s, m);
    break;
  default:
    handle_media_message(s, m);
    break;
  }
}

static void
on_ws_message(SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer data)
{
  Session *s = data;
  gsize len = 0;
  const char *text = g_bytes_get_data(message, &len);
  if (!tm_token_bucket_take(&s->bucket, g_get_monotonic_time())) {
    tm_session_error(s, "rate-limited", "too many messages; slow down", NULL);
    return;
  }
  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    tm_session_error(s, "bad-json", "messages must be JSON text frames", NULL);
    return;
  }
  TmMessage m;
  const char *detail = NULL;
  TmMessageError e = tm_message_parse(text, len, &m, &detail);
  if (e != TM_MESSAGE_OK) {
    tm_session_error(s, tm_message_error_code(e), detail != NULL ? detail : tm_message_strerror(e),
                     NULL);
    if (e == TM_MESSAGE_ERR_TOO_LARGE)
      tm_session_close(s, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
    return;
  }
  if (m.type == TM_MSG_PING) {
    g_autoptr(JsonBuilder) b = tm_msg_begin("pong");
    json_builder_end_object(b);
    tm_session_send(s, b);
  } else if (m.type == TM_MSG_JOIN) {
    handle_join(s, &m);
  } else if (s->room == NULL) {
    tm_session_error(s, "not-joined", "send a join message with your token first",
                     tm_message_type_name(m.type));
  } else {
    handle_joined_message(s, &m);
  }
  tm_message_clear(&m);
}

static gboolean
session_forget(gpointer data)
{
  Session *s = data;
  g_hash_table_remove(s->server->sessions, s);
  return G_SOURCE_REMOVE;
}

static void
on_ws_closed(SoupWebsocketConnection *ws, gpointer data)
{
  Session *s = data;
  tm_session_leave(s, "left");
  s->closed = TRUE;
  /* Not from inside the connection's own signal: free it once the emission is over. */
  GSource *src = g_idle_source_new();
  g_source_set_callback(src, session_forget, s, NULL);
  g_source_attach(src, s->server->context);
  g_source_unref(src);
}

static void
session_free(gpointer data)
{
  Session *s = data;
  session_stop_waiting_for_join(s);
  g_signal_handlers_disconnect_by_data(s->ws, s);
  g_object_unref(s->ws);
  g_free(s->remote);
  if (s->refusals != NULL)
    g_hash_table_unref(s->refusals);
  g_free(s);
}

static void
on_websocket(SoupServer *soup, SoupServerMessage *msg, const char *path,
             SoupWebsocketConnection *ws, gpointer data)
{
  TmServer *server = data;
  Session *s = g_new0(Session, 1);
  s->server = server;
  s->ws = g_object_ref(ws);
  s->remote = g_strdup(soup_server_message_get_remote_host(msg));
  if (s->remote == NULL)
    s->remote = g_strdup("?");
  tm_token_bucket_init(&s->bucket, SESSION_MSG_RATE, SESSION_MSG_BURST, g_get_monotonic_time());
  tm_token_bucket_init(&s->audit_bucket, TM_AUDIT_ACTION_RATE, TM_AUDIT_ACTION_BURST,
                       g_get_monotonic_time());
  /* libsoup refuses frames over this size itself; ours is checked with a clear error below it. */
  soup_websocket_connection_set_max_incoming_payload_size(ws, 4 * TM_MESSAGE_MAX_SIZE);
  soup_websocket_connection_set_keepalive_interval(ws, 15);
  g_signal_connect(ws, "message", G_CALLBACK(on_ws_message), s);
  g_signal_connect(ws, "closed", G_CALLBACK(on_ws_closed), s);
  g_hash_table_add(server->sessions, s);
  /* Over the cap, the oldest un-joined session from the address makes way: idle sessions
   * cannot keep out someone behind the same address who joins at once. */
  GQueue *q = g_hash_table_lookup(server->unjoined, s->remote);
  if (q == NULL) {
    q = g_queue_new();
    g_hash_table_insert(server->unjoined, g_strdup(s->remote), q);
  }
  if (g_queue_get_length(q) >= UNJOINED_PER_ADDRESS) {
    Session *oldest = g_queue_peek_head(q);
    session_stop_waiting_for_join(oldest);
    tm_session_error(oldest, "too-many-sessions",
                     "too many connections from this address have not joined", NULL);
    tm_session_close(oldest, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
    q = g_hash_table_lookup(server->unjoined, s->remote);
    if (q == NULL) {
      q = g_queue_new();
      g_hash_table_insert(server->unjoined, g_strdup(s->remote), q);
    }
  }
  g_queue_push_tail(q, s);
  s->unjoined_counted = TRUE;
  s->join_deadline = g_timeout_add_seconds(JOIN_DEADLINE_S, on_join_deadline, s);
}

/* ---- HTTP ---- */

static void
respond_json(SoupServerMessage *msg, guint status, JsonBuilder *b)
{
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autofree char *text = json_to_string(root, FALSE);
  soup_server_message_set_status(msg, status, NULL);
  soup_message_headers_replace(soup_server_message_get_response_headers(msg),
                               "Strict-Transport-Security", HSTS);
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, text,
                                   strlen(text));
}

static void
on_status(SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
          gpointer data)
{
  TmServer *server = data;
  const char *auth = soup_message_headers_get_one(soup_server_message_get_request_headers(msg),
                                                  "Authorization");
  TmTokenClaims claims;
  gboolean revoked = FALSE;
  TmTokenError te = TM_TOKEN_ERR_MALFORMED;
  if (auth != NULL && g_str_has_prefix(auth, "Bearer "))
    te = tm_keyring_verify(server->keyring, auth + 7, g_get_real_time() / 1000000, &claims,
                           &revoked);
  if (te != TM_TOKEN_OK || revoked) {
    g_autoptr(JsonBuilder) b = tm_msg_begin("error");
    tm_msg_add_string(b, "code", revoked ? "token-revoked" : token_error_code(te));
    tm_msg_add_string(b, "message", revoked ? "this token has been revoked" : tm_token_strerror(te));
    json_builder_end_object(b);
    respond_json(msg, 401, b);
    return;
  }
  Room *room = g_hash_table_lookup(server->rooms, claims.hearing);
  Session *holder = g_hash_table_lookup(server->live_tokens, claims.jti);
  gboolean staff = claims.role == TM_ROLE_JUDGE || claims.role == TM_ROLE_CLERK;
  gboolean admitted = holder != NULL && holder->participant != NULL &&
                      holder->participant->state == TM_STATE_ADMITTED;
  g_autoptr(JsonBuilder) b = NULL;
  if (room != NULL && (staff || admitted)) {
    b = status_message(room);
  } else if (room != NULL) { /* waiting, or not in the hearing: no one else's names */
    b = tm_msg_begin("status");
    tm_msg_add_string(b, "hearing", claims.hearing);
    tm_msg_add_string(b, "title", room->record->title);
    tm_msg_add_string(b, "state", holder != NULL ? "waiting" : "not-joined");
    json_builder_end_object(b);
  } else {
    b = tm_msg_begin("status");
    tm_msg_add_string(b, "hearing", claims.hearing);
    json_builder_set_member_name(b, "participants");
    json_builder_begin_array(b);
    json_builder_end_array(b);
    json_builder_end_object(b);
  }
  respond_json(msg, 200, b);
}

/* The court's web pages, from the web directory: no directory listing, no path outside it. */
static void
on_web(SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
       gpointer data)
{
  TmServer *server = data;
  const char *method = soup_server_message_get_method(msg);
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
    soup_server_message_set_status(msg, 405, NULL);
    return;
  }
  char rel[TM_WEB_PATH_MAX];
  const char *type = tm_web_path_resolve(path, strlen(path), rel, sizeof rel);
  g_autofree char *file = NULL;
  if (type != NULL && server->config.web_dir != NULL)
    file = g_build_filename(server->config.web_dir, rel, NULL);
  g_autofree char *body = NULL;
  gsize len = 0;
  if (file == NULL || !g_file_test(file, G_FILE_TEST_IS_REGULAR) ||
      !g_file_get_contents(file, &body, &len, NULL)) {
    static const char missing[] = "not found\n";
    soup_server_message_set_status(msg, 404, NULL);
    soup_server_message_set_response(msg, "text/plain", SOUP_MEMORY_STATIC, missing,
                                     sizeof missing - 1);
    return;
  }
  SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
  soup_message_headers_replace(h, "Cache-Control", "no-cache");
  soup_message_headers_replace(h, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace(h, "Strict-Transport-Security", HSTS);
  soup_message_headers_replace(h, "Referrer-Policy", "no-referrer");
  soup_message_headers_replace(h, "Content-Security-Policy",
                               "default-src 'self'; connect-src 'self' wss:; img-src 'self' data:; "
                               "media-src 'self' blob:; object-src 'none'; frame-ancestors 'none'");
  soup_server_message_set_status(msg, 200, NULL);
  soup_server_message_set_response(msg, type, SOUP_MEMORY_TAKE, g_steal_pointer(&body), len);
}

/* ---- lifetime ---- */

static gboolean
server_listen(TmServer *server, GTlsCertificate *cert, GError **error)
{
  g_autofree char *host = NULL;
  guint port = 0;
  if (!tm_config_split_listen(server->config.listen, &host, &port, error))
    return FALSE;
  /* TLS is the listener's (listener.c): it caps and times out connections before soup. */
  server->soup = soup_server_new("server-header", "testimony-relay", NULL);
  soup_server_add_websocket_handler(server->soup, "/ws", NULL, NULL, on_websocket, server, NULL);
  soup_server_add_handler(server->soup, "/api/status", on_status, server, NULL);
  soup_server_add_handler(server->soup, NULL, on_web, server, NULL);
  g_autoptr(GInetAddress) ia = g_inet_address_new_from_string(host);
  g_autoptr(GSocketAddress) sa = g_inet_socket_address_new(ia, port);
  server->listener = tm_listener_new(server->soup, sa, cert, error);
  if (server->listener == NULL) {
    g_prefix_error(error, "cannot listen on %s: ", server->config.listen);
    return FALSE;
  }
  return TRUE;
}

static void
config_copy(TmConfig *dst, const TmConfig *src)
{
  dst->listen = g_strdup(src->listen);
  dst->media_addresses = g_strdupv(src->media_addresses);
  dst->port_min = src->port_min;
  dst->port_max = src->port_max;
  dst->state_dir = g_strdup(src->state_dir);
  dst->certificate = g_strdup(src->certificate);
  dst->private_key = g_strdup(src->private_key);
  dst->web_dir = g_strdup(src->web_dir);
  dst->remote_candidates = g_strdupv(src->remote_candidates);
}

TmServer *
tm_server_new(const TmConfig *config, GError **error)
{
  TmServer *server = g_new0(TmServer, 1);
  config_copy(&server->config, config);
  server->context = g_main_context_ref_thread_default();
  server->rooms = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) room_free);
  server->sessions = g_hash_table_new_full(g_direct_hash, g_direct_equal, session_free, NULL);
  server->live_tokens = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  server->join_limits = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  server->audit_heads = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  server->unjoined = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) g_queue_free);
  server->ice.addresses = server->config.media_addresses;
  server->ice.port_min = server->config.port_min;
  server->ice.port_max = server->config.port_max;
  for (char **a = server->config.media_addresses; a != NULL && *a != NULL; a++)
    if (!tm_ice_check_media_address(*a, error)) {
      tm_server_free(server);
      return NULL;
    }
  if (!tm_ice_parse_remote_ranges(server->config.remote_candidates, &server->ice.remote_allowed,
                                  error)) {
    tm_server_free(server);
    return NULL;
  }
  if (server->config.web_dir == NULL)
    server->config.web_dir = g_strdup(g_file_test(WEB_DIR, G_FILE_TEST_IS_DIR) ? WEB_DIR
                                                                               : SOURCE_WEB_DIR);
  server->identity = tm_dtls_identity_new(g_get_real_time() / 1000000);
  server->keyring = tm_keyring_new(server->config.state_dir, error);
  if (server->keyring != NULL)
    server->evidence = tm_evidence_key_load(server->config.state_dir, error);
  if (server->keyring == NULL || server->evidence == NULL) {
    tm_server_free(server);
    return NULL;
  }
  g_autofree char *cert_path = NULL, *fingerprint = NULL;
  gboolean created = FALSE;
  g_autoptr(GTlsCertificate) cert =
    tm_state_tls_certificate(server->config.state_dir, server->config.certificate,
                             server->config.private_key, &cert_path, &fingerprint, &created,
                             error);
  if (cert == NULL || !server_listen(server, cert, error)) {
    tm_server_free(server);
    return NULL;
  }
  g_autoptr(GError) recover_error = NULL;
  guint recovered = tm_recorder_recover(server->config.state_dir, server->evidence,
                                        &recover_error);
  if (recover_error != NULL)
    g_critical("recordings left by a crash could not all be finished: %s",
               recover_error->message);
  if (recovered > 0)
    g_print("finished %u recording(s) interrupted by a crash or restart\n", recovered);
  if (created)
    g_print("created a self-signed TLS certificate at %s\n", cert_path);
  g_print("testimony-relay listening on https://%s\n", server->config.listen);
  g_print("TLS certificate %s\nSHA-256 fingerprint %s\n", cert_path, fingerprint);
  return server;
}

void
tm_server_free(TmServer *server)
{
  if (server == NULL)
    return;
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, server->sessions);
  while (g_hash_table_iter_next(&it, &key, NULL)) {
    Session *s = key;
    tm_session_leave(s, "left");
    s->closed = TRUE;
  }
  tm_listener_free(server->listener);
  if (server->soup != NULL) {
    soup_server_disconnect(server->soup);
    g_object_unref(server->soup);
  }
  g_hash_table_unref(server->sessions);
  g_hash_table_unref(server->rooms);
  g_hash_table_unref(server->live_tokens);
  g_hash_table_unref(server->join_limits);
  g_hash_table_unref(server->audit_heads);
  g_hash_table_unref(server->unjoined);
  if (server->ice.remote_allowed != NULL)
    g_ptr_array_unref(server->ice.remote_allowed);
  tm_keyring_free(server->keyring);
  if (server->evidence != NULL)
    tm_evidence_key_free(server->evidence);
  if (server->identity != NULL)
    tm_dtls_identity_unref(server->identity);
  g_main_context_unref(server->context);
  tm_config_clear(&server->config);
  g_free(server);
}
