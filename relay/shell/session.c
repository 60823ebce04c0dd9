/* session.c — one signalling WebSocket: rate limits, join, offers, candidates, dispatch. */
#define G_LOG_DOMAIN "testimony-relay"

#include "session.h"

#include <string.h>
#include <openssl/crypto.h>

#include "audit.h"
#include "control.h"
#include "log.h"
#include "message.h"
#include "sdp.h"
#include "wire.h"

#define SESSION_MSG_RATE 50.0 /* signalling messages per second, sustained */
#define SESSION_MSG_BURST 200.0
#define JOIN_RATE 2.0 /* failed join attempts per second per remote address */
#define JOIN_BURST 20.0
#define JOIN_LIMITS_MAX 4096    /* remote addresses remembered */
#define JOIN_DEADLINE_S 10      /* a session that has not joined by then is closed */
#define UNJOINED_PER_ADDRESS 16 /* sessions not yet joined, per remote address */

static void stop_waiting_for_join(TmSession *s);

/* ---- sending ---- */

void
tm_session_send(TmSession *s, JsonBuilder *b)
{
  if (s->closed || soup_websocket_connection_get_state(s->ws) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  g_autofree char *text = tm_wire_text(b);
  soup_websocket_connection_send_text(s->ws, text);
}

void
tm_session_error(TmSession *s, TmWireError err, const char *message, const char *ref)
{
  g_autoptr(JsonBuilder) b = tm_wire_error(err, message, ref);
  tm_session_send(s, b);
  g_info("session error %s: %s", tm_wire_error_code(err),
         message != NULL ? message : tm_wire_error_strerror(err));
}

void
tm_session_close(TmSession *s, gushort code)
{
  if (soup_websocket_connection_get_state(s->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close(s->ws, code, NULL);
}

char *
tm_session_label(const TmSession *s)
{
  if (s->participant != NULL)
    return tm_room_label(s->participant);
  return g_strdup_printf("console %s (%s)", s->name, tm_role_to_string(s->role));
}

static void
actor_init(TmSession *s, TmControlActor *a, char *label)
{
  *a = (TmControlActor){
    .session = s,
    .role = s->role,
    .participant = s->participant,
    .label = label,
    .bucket = &s->audit_bucket,
    .refusals = &s->refusals,
  };
}

/* ---- leaving ---- */

/* S no longer speaks for anyone in its room (leaving, or its participant's link dropped). */
static void
detach(TmSession *s)
{
  g_autofree char *label = tm_session_label(s);
  TmControlActor actor;
  actor_init(s, &actor, label);
  tm_control_flush_refusals(s->room, &actor);
  if (s->jti[0] != '\0' && g_hash_table_lookup(s->relay->live_tokens, s->jti) == s)
    g_hash_table_remove(s->relay->live_tokens, s->jti);
  s->room = NULL;
}

void
tm_session_leave(TmSession *s, const char *reason)
{
  if (s->room == NULL)
    return;
  TmRoom *room = tm_room_enter(s->room);
  detach(s);
  if (s->participant == NULL) {
    g_ptr_array_remove(room->controls, s);
    tm_room_close_if_empty(room);
  } else {
    TmParticipant *p = s->participant;
    s->participant = NULL;
    tm_room_remove(room, p, reason);
  }
  tm_room_exit(room);
}

void
tm_session_shutdown(TmSession *s)
{
  g_autoptr(JsonBuilder) b = tm_wire_begin("shutdown");
  tm_wire_string(b, "message",
                 "the relay is stopping; the hearing continues when it is back: join again");
  json_builder_end_object(b);
  tm_session_send(s, b);
  stop_waiting_for_join(s);
  tm_session_leave(s, "relay-shutdown");
  tm_session_close(s, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
}

static void
dismiss(TmSession *s, TmWireError err, const char *message, gboolean revoke)
{
  if (revoke) {
    g_autoptr(GError) error = NULL;
    if (!tm_keyring_revoke(s->relay->keyring, s->jti, &error))
      g_critical("cannot revoke a token: %s", error->message);
  }
  tm_session_error(s, err, message, NULL);
  tm_session_leave(s, tm_wire_error_code(err));
  tm_session_close(s, SOUP_WEBSOCKET_CLOSE_NORMAL);
}

static void
sink_send(gpointer s, JsonBuilder *b)
{
  tm_session_send(s, b);
}

static void
sink_leave(gpointer s, const char *reason)
{
  tm_session_leave(s, reason);
}

static void
sink_close(gpointer s)
{
  tm_session_close(s, SOUP_WEBSOCKET_CLOSE_NORMAL);
}

static void
sink_dismiss(gpointer s, TmWireError err, const char *message, gboolean revoke)
{
  dismiss(s, err, message, revoke);
}

const TmSessionSink tm_session_sink = { sink_send, sink_leave, sink_close, sink_dismiss };

/* ---- join ---- */

static gboolean
join_allowed(TmSession *s)
{
  TmRelay *relay = s->relay;
  TmTokenBucket *b = g_hash_table_lookup(relay->join_limits, s->remote);
  int64_t now = g_get_monotonic_time();
  if (b == NULL) {
    if (g_hash_table_size(relay->join_limits) >= JOIN_LIMITS_MAX)
      g_hash_table_remove_all(relay->join_limits); /* forget old addresses, keep a cap */
    b = g_new0(TmTokenBucket, 1);
    tm_token_bucket_init(b, JOIN_RATE, JOIN_BURST, now);
    g_hash_table_insert(relay->join_limits, g_strdup(s->remote), b);
  }
  return tm_token_bucket_take(b, now);
}

/* Refuses a join with ERR and closes the session. */
static void
refuse(TmSession *s, TmWireError err, const char *message)
{
  if (err >= 0 && err < TM_WIRE_ERR_COUNT)
    s->relay->counters.join_failures[err]++;
  tm_session_error(s, err, message, "join");
  tm_session_close(s, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
}

/* The place a join continues: its token's seat, when nobody holds it now, or when the join
 * brings the seat's secret (its old connection is still open on our side). */
static TmSeat *
resumable_seat(TmRoom *room, const TmMessage *m, const char *jti)
{
  TmSeat *seat = m->control ? NULL : tm_room_find_seat(room, jti);
  if (seat == NULL)
    return NULL;
  if (seat->participant->data == NULL)
    return seat;
  /* constant time: the secret's length is fixed (32 hex digits) and not itself a secret */
  return m->resume != NULL && strlen(m->resume) == strlen(seat->secret) &&
      CRYPTO_memcmp(m->resume, seat->secret, strlen(seat->secret)) == 0
    ? seat
    : NULL;
}

/* Checks the token; on success returns the room of the hearing it names (open) and its claims
 * in *CLAIMS. */
static TmRoom *
join_token(TmSession *s, const TmMessage *m, TmTokenClaims *claims)
{
  TmRelay *relay = s->relay;
  gboolean revoked = FALSE;
  TmTokenError te =
    tm_keyring_verify(relay->keyring, m->token, g_get_real_time() / 1000000, claims, &revoked);
  /* Only failures count against the address: someone behind the same NAT sending garbage
   * never keeps a valid token out. */
  if ((te != TM_TOKEN_OK || revoked) && !join_allowed(s)) {
    refuse(s, TM_WIRE_ERR_RATE_LIMITED,
           "too many failed join attempts from this address; wait a moment");
    return NULL;
  }
  if (te != TM_TOKEN_OK) {
    refuse(s, tm_wire_error_for_token(te), tm_token_strerror(te));
    return NULL;
  }
  if (revoked) {
    refuse(s, TM_WIRE_ERR_TOKEN_REVOKED, NULL);
    return NULL;
  }
  g_autoptr(GError) error = NULL;
  TmRoom *room = tm_room_open(relay, claims->hearing, &error);
  if (room == NULL)
    refuse(s, TM_WIRE_ERR_WRONG_HEARING, NULL);
  return room;
}

/* Whether CLAIMS let S into ROOM (entered); then fills S's identity, and in *SEAT the place it
 * continues, if any. */
static gboolean
join_check(TmSession *s, TmRoom *room, const TmMessage *m, const TmTokenClaims *claims,
           TmSeat **seat)
{
  if (room->record->ended) {
    refuse(s, TM_WIRE_ERR_HEARING_ENDED, NULL);
    tm_room_close_if_empty(room);
    return FALSE;
  }
  *seat = resumable_seat(room, m, claims->jti);
  if (*seat == NULL && g_hash_table_contains(s->relay->live_tokens, claims->jti)) {
    refuse(s, TM_WIRE_ERR_TOKEN_IN_USE, NULL);
    return FALSE;
  }
  if (*seat == NULL && room->locked && claims->role != TM_ROLE_JUDGE) {
    refuse(s, TM_WIRE_ERR_HEARING_LOCKED, NULL);
    return FALSE;
  }
  if (*seat == NULL && m->control && claims->role != TM_ROLE_JUDGE &&
      claims->role != TM_ROLE_CLERK) {
    refuse(s, TM_WIRE_ERR_FORBIDDEN,
           "only a judge's or a clerk's token may open a control session");
    return FALSE;
  }
  s->role = claims->role;
  g_strlcpy(s->name, claims->name, sizeof s->name);
  g_strlcpy(s->jti, claims->jti, sizeof s->jti);
  return TRUE;
}

/* The session joined, or is gone: it no longer counts as un-joined. */
static void
stop_waiting_for_join(TmSession *s)
{
  if (s->join_deadline != 0)
    g_source_remove(s->join_deadline);
  s->join_deadline = 0;
  GQueue *q = s->unjoined_counted ? g_hash_table_lookup(s->relay->unjoined, s->remote) : NULL;
  if (q != NULL) {
    g_queue_remove(q, s);
    if (g_queue_is_empty(q))
      g_hash_table_remove(s->relay->unjoined, s->remote);
  }
  s->unjoined_counted = FALSE;
}

static gboolean
on_join_deadline(gpointer data)
{
  TmSession *s = data;
  s->join_deadline = 0;
  if (s->room == NULL && !s->closed) {
    s->relay->counters.join_failures[TM_WIRE_ERR_JOIN_TIMEOUT]++;
    tm_session_error(s, TM_WIRE_ERR_JOIN_TIMEOUT, NULL, NULL);
    tm_session_close(s, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
  }
  return G_SOURCE_REMOVE;
}

/* S continues SEAT's participant: same id, admission and place, without being admitted again. */
static void
resume(TmSession *s, TmRoom *room, TmSeat *seat)
{
  TmParticipant *p = seat->participant;
  TmSession *old = p->data;
  if (old != NULL) { /* its old connection is still open on our side */
    tm_session_error(old, TM_WIRE_ERR_REPLACED, NULL, NULL);
    detach(old);
    old->participant = NULL;
    tm_session_close(old, SOUP_WEBSOCKET_CLOSE_NORMAL);
  }
  p->data = s;
  s->participant = p;
  s->room = room;
  g_hash_table_insert(s->relay->live_tokens, g_strdup(s->jti), s);
  stop_waiting_for_join(s);
  tm_log_hearing(G_LOG_LEVEL_MESSAGE, tm_hearing_id(room->hearing), p, "%s continues in hearing %s",
                 p->id, tm_hearing_id(room->hearing));
  g_autofree char *label = tm_session_label(s);
  tm_room_audit(room, label, "resume", p,
                old != NULL ? "replacing a connection still open" : "on a new connection");
  g_autoptr(JsonBuilder) joined = tm_room_joined(room, p, s->name, s->role, TRUE);
  tm_session_send(s, joined);
  if (p->state == TM_STATE_ADMITTED)
    tm_room_send_recording(room, p);
  tm_room_send_visibility(room);
  tm_room_check_back(room, p);
}

/* S joins ROOM (entered): continuing SEAT's place, or as a new participant or control session. */
static void
join(TmSession *s, const TmMessage *m, TmRoom *room, TmSeat *seat)
{
  if (seat != NULL) {
    resume(s, room, seat);
    return;
  }
  if (m->control) {
    s->control = TRUE;
    s->room = room;
    g_ptr_array_add(room->controls, s);
  } else {
    TmHearingError he;
    TmParticipant *p =
      tm_hearing_join(room->hearing, s->name, s->role, g_get_monotonic_time(), &he);
    if (p == NULL) {
      refuse(s, tm_wire_error_for_hearing(he), tm_hearing_strerror(he));
      tm_room_close_if_empty(room);
      return;
    }
    p->data = s;
    s->participant = p;
    s->room = room;
    tm_room_seat_new(room, p, s->jti);
    tm_room_record_presence(room, p, TRUE);
  }
  g_hash_table_insert(s->relay->live_tokens, g_strdup(s->jti), s);
  stop_waiting_for_join(s);
  TmParticipant *p = s->participant;
  tm_log_hearing(G_LOG_LEVEL_MESSAGE, tm_hearing_id(room->hearing), p,
                 "%s joined hearing %s as %s%s", p != NULL ? p->id : "a control session",
                 tm_hearing_id(room->hearing), tm_role_to_string(s->role),
                 p != NULL && p->state == TM_STATE_WAITING ? " (waiting room)" : "");
  g_autofree char *label = tm_session_label(s);
  tm_room_audit(room, label, s->control ? "control-session" : "join", p,
                p == NULL                        ? ""
                  : p->state == TM_STATE_WAITING ? "waiting room"
                                                 : "admitted");
  g_autoptr(JsonBuilder) joined = tm_room_joined(room, p, s->name, s->role, FALSE);
  tm_session_send(s, joined);
  if (p == NULL) {
    g_autoptr(JsonBuilder) waiting = tm_room_waiting_list(room);
    tm_session_send(s, waiting);
    g_autoptr(JsonBuilder) visibility = tm_wire_visibility(room->hearing, NULL);
    tm_session_send(s, visibility);
    return;
  }
  g_autoptr(JsonBuilder) j = tm_wire_participant_event("participant-joined", room->hearing, p);
  tm_room_broadcast(room, p, j);
  if (p->state == TM_STATE_WAITING)
    tm_room_send_waiting(room);
  else
    tm_room_send_visibility(room);
}

static void
handle_join(TmSession *s, const TmMessage *m)
{
  if (s->room != NULL) {
    tm_session_error(s, TM_WIRE_ERR_ALREADY_JOINED, NULL, "join");
    return;
  }
  TmTokenClaims claims;
  TmRoom *room = join_token(s, m, &claims);
  if (room == NULL)
    return;
  tm_room_enter(room);
  TmSeat *seat = NULL;
  if (join_check(s, room, m, &claims, &seat))
    join(s, m, room, seat);
  tm_room_exit(room);
}

/* ---- media connections ---- */

static void
candidate_result(TmSession *s, TmIceCandidateResult r)
{
  if (r == TM_ICE_CANDIDATE_MALFORMED)
    tm_session_error(s, TM_WIRE_ERR_BAD_CANDIDATE, NULL, "candidate");
  else if (r == TM_ICE_CANDIDATE_REFUSED)
    tm_session_error(s, TM_WIRE_ERR_CANDIDATE_REFUSED, NULL, "candidate");
}

/* T takes the candidates OFFER carried, and the client gets the relay's answer SDP for TARGET. */
static void
answer_offer(TmSession *s, TmTransport *t, const TmSdp *offer, const char *target, const char *sdp)
{
  for (guint i = 0; i < offer->n_candidates; i++)
    candidate_result(s, tm_ice_add_remote_candidate(t->ice, offer->candidates[i].value));
  g_autoptr(JsonBuilder) b = tm_wire_begin("answer");
  tm_wire_string(b, "target", target);
  tm_wire_string(b, "sdp", sdp);
  json_builder_end_object(b);
  tm_session_send(s, b);
}

static void
handle_offer(TmSession *s, const TmMessage *m)
{
  TmRoom *room = s->room;
  const char *ref = m->type == TM_MSG_PUBLISH ? "publish" : "subscribe";
  TmParticipant *feed = NULL;
  if (m->type == TM_MSG_SUBSCRIBE) {
    feed = tm_hearing_find(room->hearing, m->feed);
    if (feed == NULL) {
      tm_session_error(s, TM_WIRE_ERR_UNKNOWN_FEED, NULL, ref);
      return;
    }
  }
  g_autofree TmSdp *offer = g_new0(TmSdp, 1);
  g_autofree TmSdp *answer = g_new0(TmSdp, 1);
  TmSdpError se = tm_sdp_parse(m->sdp, strlen(m->sdp), offer);
  if (se != TM_SDP_OK) {
    tm_session_error(s, TM_WIRE_ERR_BAD_SDP, tm_sdp_strerror(se), ref);
    return;
  }
  const char *target = feed != NULL ? feed->id : "publish";
  /* An offer with new ICE credentials for a connection that exists, and otherwise the same,
   * restarts its ICE and keeps its DTLS and SRTP (a browser's restartIce()). */
  TmTransport *existing = tm_room_find_transport(room, s->participant, target);
  if (existing != NULL) {
    g_autoptr(GError) error = NULL;
    g_autofree char *restarted = tm_room_restart_ice(room, existing, offer, &error);
    if (error != NULL) {
      g_warning("ICE: %s", error->message);
      tm_session_error(s, TM_WIRE_ERR_INTERNAL, "the relay could not open a media port", ref);
      return;
    }
    if (restarted != NULL) {
      s->participant->ice_restarts++;
      tm_log_hearing(G_LOG_LEVEL_MESSAGE, tm_hearing_id(room->hearing), s->participant,
                     "%s restarts ICE on its %s connection", s->participant->id, target);
      answer_offer(s, existing, offer, target, restarted);
      return;
    }
  }
  /* Any other new offer for a connection that exists replaces it: the client connects again
   * after its link dropped. The receivers of its media keep receiving (tm_hearing_close_publish). */
  if (feed == NULL)
    tm_hearing_close_publish(room->hearing, s->participant);
  else
    tm_hearing_close_subscription(room->hearing, s->participant, feed);
  g_autoptr(GError) error = NULL;
  TmHearingError he = TM_HEARING_OK;
  TmTransport *t =
    tm_room_open_transport(room, s->participant, feed, offer, answer, &he, &se, &error);
  if (t == NULL) {
    if (error != NULL) {
      g_warning("ICE: %s", error->message);
      tm_session_error(s, TM_WIRE_ERR_INTERNAL, "the relay could not open a media port", ref);
    } else {
      tm_session_error(s, tm_wire_error_for_hearing(he),
                       he == TM_HEARING_ERR_SDP ? tm_sdp_strerror(se) : tm_hearing_strerror(he),
                       ref);
    }
    return;
  }
  answer_offer(s, t, offer, target, t->answer); /* serialized as the transport kept it */
  tm_room_schedule(room);
}

static void
handle_media_message(TmSession *s, const TmMessage *m)
{
  if (s->participant == NULL) {
    tm_session_error(s, TM_WIRE_ERR_FORBIDDEN, "a control session has no media",
                     tm_message_type_name(m->type));
    return;
  }
  switch (m->type) {
  case TM_MSG_PUBLISH:
  case TM_MSG_SUBSCRIBE: handle_offer(s, m); break;
  case TM_MSG_UNSUBSCRIBE: {
    TmParticipant *feed = tm_hearing_find(s->room->hearing, m->feed);
    if (feed == NULL)
      tm_session_error(s, TM_WIRE_ERR_UNKNOWN_FEED, NULL, "unsubscribe");
    else
      tm_hearing_close_subscription(s->room->hearing, s->participant, feed);
    break;
  }
  case TM_MSG_DISPLAY: {
    TmParticipant *feed = tm_hearing_find(s->room->hearing, m->feed);
    if (feed == NULL || feed == s->participant)
      tm_session_error(s, TM_WIRE_ERR_UNKNOWN_FEED, NULL, "display");
    else
      tm_hearing_set_shown(s->room->hearing, s->participant, feed, m->video != 0,
                           g_get_monotonic_time());
    tm_room_schedule(s->room);
    break;
  }
  case TM_MSG_CANDIDATE: {
    TmTransport *t = tm_room_find_transport(s->room, s->participant, m->target);
    if (t == NULL)
      tm_session_error(s, TM_WIRE_ERR_UNKNOWN_FEED, "no connection with that target", "candidate");
    else
      candidate_result(s, tm_ice_add_remote_candidate(t->ice, m->candidate));
    break;
  }
  default: break;
  }
}

/* ---- dispatch ---- */

static void
handle_control(TmSession *s, const TmMessage *m)
{
  g_autofree char *label = tm_session_label(s);
  TmControlActor actor;
  actor_init(s, &actor, label);
  TmControlResult r;
  tm_control_handle(s->room, &actor, m, &r);
  tm_session_send(s, r.reply);
  g_object_unref(r.reply);
  if (r.ended) {
    tm_session_leave(s, "hearing-ended"); /* the last one: the room closes */
    tm_session_close(s, SOUP_WEBSOCKET_CLOSE_NORMAL);
  }
}

static void
handle_joined_message(TmSession *s, const TmMessage *m)
{
  switch (m->type) {
  case TM_MSG_STATUS: {
    g_autoptr(JsonBuilder) b = tm_room_status(s->room);
    tm_session_send(s, b);
    break;
  }
  case TM_MSG_LEAVE:
    tm_session_leave(s, "left");
    tm_session_close(s, SOUP_WEBSOCKET_CLOSE_NORMAL);
    break;
  case TM_MSG_CONTROL: handle_control(s, m); break;
  default: handle_media_message(s, m); break;
  }
}

static void
on_message(SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer data)
{
  TmSession *s = data;
  if (s->relay->stopping)
    return; /* told to go (tm_session_shutdown): nothing more is carried out */
  gsize len = 0;
  const char *text = g_bytes_get_data(message, &len);
  if (!tm_token_bucket_take(&s->bucket, g_get_monotonic_time())) {
    tm_session_error(s, TM_WIRE_ERR_RATE_LIMITED, NULL, NULL);
    return;
  }
  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    tm_session_error(s, TM_WIRE_ERR_BAD_JSON, "messages must be JSON text frames", NULL);
    return;
  }
  TmMessage m;
  const char *detail = NULL;
  TmMessageError e = tm_message_parse(text, len, &m, &detail);
  if (e != TM_MESSAGE_OK) {
    tm_session_error(s, tm_wire_error_for_message(e), detail, NULL);
    if (e == TM_MESSAGE_ERR_TOO_LARGE)
      tm_session_close(s, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
    return;
  }
  if (m.type == TM_MSG_PING) {
    g_autoptr(JsonBuilder) b = tm_wire_begin("pong");
    json_builder_end_object(b);
    tm_session_send(s, b);
  } else if (m.type == TM_MSG_JOIN) {
    handle_join(s, &m);
  } else if (s->room == NULL) {
    tm_session_error(s, TM_WIRE_ERR_NOT_JOINED, NULL, tm_message_type_name(m.type));
  } else {
    TmRoom *room = tm_room_enter(s->room);
    handle_joined_message(s, &m);
    tm_room_exit(room);
  }
  tm_message_clear(&m);
}

/* ---- lifetime ---- */

static gboolean
forget(gpointer data)
{
  TmSession *s = data;
  g_hash_table_remove(s->relay->sessions, s);
  return G_SOURCE_REMOVE;
}

static void
on_closed(SoupWebsocketConnection *ws, gpointer data)
{
  TmSession *s = data;
  /* A client that closes normally (1000) has left; a connection that drops — no close frame,
   * 1001 going away (a page reloading), an error — keeps its participant's place for the grace
   * period, to be continued by a join with the same token. */
  TmRoom *room = s->room != NULL ? tm_room_enter(s->room) : NULL;
  TmParticipant *p = s->participant;
  if (p != NULL && soup_websocket_connection_get_close_code(ws) != SOUP_WEBSOCKET_CLOSE_NORMAL) {
    detach(s);
    s->participant = NULL;
    p->data = NULL;
    tm_room_set_away(room, p, "signalling connection lost");
  }
  tm_session_leave(s, "left");
  if (room != NULL)
    tm_room_exit(room);
  s->closed = TRUE;
  /* Not from inside the connection's own signal: free it once the emission is over. */
  GSource *src = g_idle_source_new();
  g_source_set_callback(src, forget, s, NULL);
  g_source_attach(src, s->relay->context);
  g_source_unref(src);
}

void
tm_session_free(TmSession *s)
{
  stop_waiting_for_join(s);
  g_signal_handlers_disconnect_by_data(s->ws, s);
  g_object_unref(s->ws);
  g_free(s->remote);
  if (s->refusals != NULL)
    g_hash_table_unref(s->refusals);
  g_free(s);
}

/* Over the cap, the oldest un-joined session from the address makes way: idle sessions cannot
 * keep out someone behind the same address who joins at once. */
static void
count_unjoined(TmSession *s)
{
  GQueue *q = g_hash_table_lookup(s->relay->unjoined, s->remote);
  if (q != NULL && g_queue_get_length(q) >= UNJOINED_PER_ADDRESS) {
    TmSession *oldest = g_queue_peek_head(q);
    stop_waiting_for_join(oldest);
    s->relay->counters.join_failures[TM_WIRE_ERR_TOO_MANY_SESSIONS]++;
    tm_session_error(oldest, TM_WIRE_ERR_TOO_MANY_SESSIONS, NULL, NULL);
    tm_session_close(oldest, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
    q = g_hash_table_lookup(s->relay->unjoined, s->remote);
  }
  if (q == NULL) {
    q = g_queue_new();
    g_hash_table_insert(s->relay->unjoined, g_strdup(s->remote), q);
  }
  g_queue_push_tail(q, s);
  s->unjoined_counted = TRUE;
  s->join_deadline = g_timeout_add_seconds(JOIN_DEADLINE_S, on_join_deadline, s);
}

TmSession *
tm_session_new(TmRelay *relay, SoupWebsocketConnection *ws, const char *remote)
{
  TmSession *s = g_new0(TmSession, 1);
  s->relay = relay;
  s->ws = g_object_ref(ws);
  s->remote = g_strdup(remote != NULL ? remote : "?");
  tm_token_bucket_init(&s->bucket, SESSION_MSG_RATE, SESSION_MSG_BURST, g_get_monotonic_time());
  tm_token_bucket_init(&s->audit_bucket, TM_AUDIT_ACTION_RATE, TM_AUDIT_ACTION_BURST,
                       g_get_monotonic_time());
  /* libsoup refuses frames over this size itself; ours is checked with a clear error below it. */
  soup_websocket_connection_set_max_incoming_payload_size(ws, 4 * TM_MESSAGE_MAX_SIZE);
  soup_websocket_connection_set_keepalive_interval(ws, 15);
  g_signal_connect(ws, "message", G_CALLBACK(on_message), s);
  g_signal_connect(ws, "closed", G_CALLBACK(on_closed), s);
  g_hash_table_add(relay->sessions, s);
  count_unjoined(s);
  return s;
}
