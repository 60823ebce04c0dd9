/* room.c — a hearing while anyone is in it: lifecycle, timers, transports, messages to all. */
#define G_LOG_DOMAIN "testimony-relay"

#include "room.h"

#include <openssl/rand.h>
#include <stdatomic.h>
#include <string.h>

#include "log.h"
#include "turn.h"
#include "wire.h"

#define QUALITY_INTERVAL_S 2

/* ---- messages ---- */

void
tm_room_send(TmRoom *room, TmParticipant *to, JsonBuilder *b)
{
  if (to->data != NULL)
    room->relay->sink.send(to->data, b);
}

void
tm_room_broadcast_roles(TmRoom *room, JsonBuilder *staff, JsonBuilder *others)
{
  for (guint i = 0; i < tm_hearing_n_participants(room->hearing); i++) {
    TmParticipant *p = tm_hearing_participant(room->hearing, i);
    JsonBuilder *b = p->role == TM_ROLE_JUDGE || p->role == TM_ROLE_CLERK ? staff : others;
    /* someone waiting learns only the title and their own state (tm_room_joined) */
    if (b != NULL && p->state != TM_STATE_WAITING)
      tm_room_send(room, p, b);
  }
  for (guint i = 0; i < room->controls->len; i++)
    room->relay->sink.send(g_ptr_array_index(room->controls, i), staff);
}

void
tm_room_broadcast(TmRoom *room, TmParticipant *except, JsonBuilder *b)
{
  for (guint i = 0; i < tm_hearing_n_participants(room->hearing); i++) {
    TmParticipant *p = tm_hearing_participant(room->hearing, i);
    if (p != except && p->state != TM_STATE_WAITING)
      tm_room_send(room, p, b);
  }
  for (guint i = 0; i < room->controls->len; i++)
    room->relay->sink.send(g_ptr_array_index(room->controls, i), b);
}

void
tm_room_broadcast_staff(TmRoom *room, JsonBuilder *b)
{
  tm_room_broadcast_roles(room, b, NULL);
}

void
tm_room_participant_changed(TmRoom *room, TmParticipant *p)
{
  g_autoptr(JsonBuilder) b = tm_wire_participant_event("participant-state", room->hearing, p);
  tm_room_broadcast(room, NULL, b);
  tm_room_send_visibility(room);
}

void
tm_room_send_visibility(TmRoom *room)
{
  g_autoptr(JsonBuilder) all = tm_wire_visibility(room->hearing, NULL);
  for (guint i = 0; i < room->controls->len; i++)
    room->relay->sink.send(g_ptr_array_index(room->controls, i), all);
  for (guint i = 0; i < tm_hearing_n_participants(room->hearing); i++) {
    TmParticipant *p = tm_hearing_participant(room->hearing, i);
    if (p->state != TM_STATE_ADMITTED)
      continue;
    if (p->role == TM_ROLE_JUDGE || p->role == TM_ROLE_CLERK) {
      tm_room_send(room, p, all);
    } else {
      g_autoptr(JsonBuilder) own = tm_wire_visibility(room->hearing, p);
      tm_room_send(room, p, own);
    }
  }
}

void
tm_room_send_roster(TmRoom *room, TmParticipant *to)
{
  for (guint i = 0; i < tm_hearing_n_participants(room->hearing); i++) {
    TmParticipant *o = tm_hearing_participant(room->hearing, i);
    if (o == to)
      continue;
    g_autoptr(JsonBuilder) b = tm_wire_participant_event("participant-joined", room->hearing, o);
    tm_room_send(room, to, b);
  }
  tm_room_send_recording(room, to);
}

JsonBuilder *
tm_room_waiting_list(TmRoom *room)
{
  JsonBuilder *b = tm_wire_begin("waiting");
  json_builder_set_member_name(b, "participants");
  json_builder_begin_array(b);
  for (guint i = 0; i < tm_hearing_n_participants(room->hearing); i++) {
    TmParticipant *p = tm_hearing_participant(room->hearing, i);
    if (p->state != TM_STATE_WAITING)
      continue;
    json_builder_begin_object(b);
    tm_wire_string(b, "id", p->id);
    tm_wire_string(b, "name", p->name);
    tm_wire_string(b, "role", tm_role_to_string(p->role));
    tm_wire_int(b, "since", (g_get_real_time() - g_get_monotonic_time() + p->joined_us) / 1000000);
    json_builder_set_member_name(b, "link");
    json_builder_begin_object(b);
    tm_wire_link(b, p);
    json_builder_end_object(b);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  return b;
}

void
tm_room_send_waiting(TmRoom *room)
{
  g_autoptr(JsonBuilder) b = tm_room_waiting_list(room);
  tm_room_broadcast_staff(room, b);
}

/* ---- places: links that drop and come back ---- */

static void
seat_free(gpointer data)
{
  TmSeat *seat = data;
  if (seat->grace != NULL) {
    g_source_destroy(seat->grace);
    g_source_unref(seat->grace);
  }
  g_free(seat);
}

TmSeat *
tm_room_seat_new(TmRoom *room, TmParticipant *p, const char *jti)
{
  TmSeat *seat = g_new0(TmSeat, 1);
  seat->room = room;
  seat->participant = p;
  g_strlcpy(seat->jti, jti, sizeof seat->jti);
  uint8_t raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1)
    g_error("no randomness for a resume secret");
  for (size_t i = 0; i < sizeof raw; i++)
    g_snprintf(seat->secret + 2 * i, 3, "%02x", raw[i]);
  g_hash_table_insert(room->seats, p, seat);
  return seat;
}

TmSeat *
tm_room_find_seat(TmRoom *room, const char *jti)
{
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, room->seats);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    if (strcmp(((TmSeat *) value)->jti, jti) == 0)
      return value;
  }
  return NULL;
}

static void
seat_stop_grace(TmSeat *seat)
{
  if (seat->grace == NULL)
    return;
  g_source_destroy(seat->grace);
  g_source_unref(seat->grace);
  seat->grace = NULL;
}

static gboolean
grace_over(gpointer data)
{
  TmSeat *seat = data;
  TmRoom *room = tm_room_enter(seat->room);
  TmParticipant *p = seat->participant;
  seat_stop_grace(seat);
  tm_log_hearing(G_LOG_LEVEL_MESSAGE, tm_hearing_id(room->hearing), p,
                 "%s did not come back within %d s", p->id, TM_ROOM_GRACE_S);
  if (p->data != NULL) /* signalling is there, media is not */
    room->relay->sink.dismiss(p->data, TM_WIRE_ERR_CONNECTION_LOST,
                              "your media connection did not come back in time; join again", FALSE);
  else
    tm_room_remove(room, p, "connection-lost");
  tm_room_exit(room);
  return G_SOURCE_REMOVE;
}

void
tm_room_set_away(TmRoom *room, TmParticipant *p, const char *why)
{
  TmSeat *seat = g_hash_table_lookup(room->seats, p);
  if (seat == NULL || p->away_since_us != 0)
    return;
  p->away_since_us = g_get_monotonic_time();
  tm_log_hearing(G_LOG_LEVEL_MESSAGE, tm_hearing_id(room->hearing), p,
                 "%s: link lost (%s); its place is kept for %d s", p->id, why, TM_ROOM_GRACE_S);
  tm_room_audit(room, NULL, "link-lost", p, why);
  /* The recording keeps the participant: its silent tracks make the gap, and whatever arrives
   * before the next link check is recorded, not dropped as from someone gone. */
  seat->grace = g_timeout_source_new_seconds(TM_ROOM_GRACE_S);
  g_source_set_callback(seat->grace, grace_over, seat, NULL);
  g_source_attach(seat->grace, room->relay->context);
  tm_room_participant_changed(room, p);
}

/* Whether P is connected: a session, and (once it has published) media arriving. */
static gboolean
link_up(TmRoom *room, TmParticipant *p, const TmSeat *seat, int64_t now, const char **why)
{
  if (p->data == NULL) {
    *why = "signalling connection lost";
    return FALSE;
  }
  if (!seat->published)
    return TRUE;
  if (p->publish == NULL || !p->publishing) {
    *why = "media connection lost";
    return FALSE;
  }
  TmTransport *t = g_hash_table_lookup(room->transports, p->publish);
  if (t != NULL && now - tm_ice_last_receive(t->ice) > TM_ROOM_AWAY_US) {
    *why = "no media for 3 s";
    return FALSE;
  }
  return TRUE;
}

void
tm_room_check_back(TmRoom *room, TmParticipant *p)
{
  TmSeat *seat = g_hash_table_lookup(room->seats, p);
  int64_t now = g_get_monotonic_time();
  const char *why;
  if (seat == NULL || p->away_since_us == 0 || !link_up(room, p, seat, now, &why))
    return;
  g_autofree char *detail =
    g_strdup_printf("after %" G_GINT64_FORMAT " s", (now - p->away_since_us) / G_USEC_PER_SEC);
  p->away_since_us = 0;
  seat_stop_grace(seat);
  tm_log_hearing(G_LOG_LEVEL_MESSAGE, tm_hearing_id(room->hearing), p, "%s is back %s", p->id,
                 detail);
  tm_room_audit(room, NULL, "link-restored", p, detail);
  tm_room_participant_changed(room, p);
}

static void schedule_failure(TmRoom *room, TmPeer *peer, const char *reason);

/* Every participant's link, and every connection's silence. */
static void
watch_links(TmRoom *room)
{
  int64_t now = g_get_monotonic_time();
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, room->transports);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    TmTransport *t = value;
    /* A publisher always sends (media, reports); a receiver may rightly send nothing while it
     * is sent nothing (waiting room, screening), and ICE keeps its pair alive. */
    if (!t->failing && tm_hearing_peer_feed(room->hearing, t->peer) == NULL &&
        now - tm_ice_last_receive(t->ice) > TM_ROOM_SILENCE_US) {
      t->failing = TRUE;
      schedule_failure(room, t->peer, "nothing received for 30 s");
    }
  }
  for (guint i = 0; i < tm_hearing_n_participants(room->hearing); i++) {
    TmParticipant *p = tm_hearing_participant(room->hearing, i);
    TmSeat *seat = g_hash_table_lookup(room->seats, p);
    const char *why;
    if (seat == NULL)
      continue;
    if (link_up(room, p, seat, now, &why))
      tm_room_check_back(room, p);
    else
      tm_room_set_away(room, p, why);
  }
}

static void
send_link_quality(TmRoom *room)
{
  g_autoptr(JsonBuilder) b = tm_wire_begin("link-quality");
  json_builder_set_member_name(b, "participants");
  json_builder_begin_array(b);
  for (guint i = 0; i < tm_hearing_n_participants(room->hearing); i++) {
    TmParticipant *p = tm_hearing_participant(room->hearing, i);
    json_builder_begin_object(b);
    tm_wire_string(b, "id", p->id);
    tm_wire_link(b, p);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  tm_room_broadcast_staff(room, b);
}

/* To P, how long a lost packet of each feed it receives takes to come back to the relay: its
 * jitter buffers wait that much longer (client/playout.h). Nothing while nothing is known. */
static void
send_repair_to(TmRoom *room, TmParticipant *p)
{
  g_autoptr(JsonBuilder) b = tm_wire_repair(room->hearing, p);
  if (b != NULL)
    tm_room_send(room, p, b);
}

static void
send_repair(TmRoom *room)
{
  for (guint i = 0; i < tm_hearing_n_participants(room->hearing); i++)
    send_repair_to(room, tm_hearing_participant(room->hearing, i));
}

static gboolean
quality_tick(gpointer data)
{
  TmRoom *room = tm_room_enter(data);
  if (tm_hearing_n_participants(room->hearing) > 0) {
    watch_links(room);
    send_link_quality(room);
    send_repair(room);
  }
  tm_room_exit(room);
  return G_SOURCE_CONTINUE;
}

JsonBuilder *
tm_room_status(TmRoom *room)
{
  JsonBuilder *b = tm_wire_begin("status");
  tm_wire_string(b, "hearing", tm_hearing_id(room->hearing));
  tm_wire_string(b, "case", tm_hearing_case(room->hearing));
  tm_wire_string(b, "title", room->record->title);
  tm_wire_bool(b, "locked", room->locked);
  tm_wire_protection(b, room->hearing);
  tm_wire_recording(b, tm_room_recording_state(room),
                    room->recorder != NULL ? room->recording_since : 0);
  json_builder_set_member_name(b, "participants");
  json_builder_begin_array(b);
  for (guint i = 0; i < tm_hearing_n_participants(room->hearing); i++)
    tm_wire_participant(b, room->hearing, tm_hearing_participant(room->hearing, i), TRUE);
  json_builder_end_array(b);
  json_builder_end_object(b);
  return b;
}

/* The TURN servers and this participant's own short-lived credentials for them, as WebRTC's
 * RTCIceServer (docs/protocol.md); nothing when the relay has no TURN server configured. */
static void
add_ice_servers(JsonBuilder *b, const TmConfig *config, const char *id)
{
  if (config->turn_servers == NULL || config->turn_servers[0] == NULL)
    return;
  g_autoptr(TmTurnCredentials) c = tm_turn_credentials_new(
    config->turn_secret, id, g_get_real_time() / G_USEC_PER_SEC, config->turn_lifetime);
  if (c == NULL) {
    g_warning("no TURN credentials for %s (participant id not usable as a TURN username)", id);
    return;
  }
  json_builder_set_member_name(b, "iceServers");
  json_builder_begin_array(b);
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "urls");
  json_builder_begin_array(b);
  for (char **u = config->turn_servers; *u != NULL; u++)
    json_builder_add_string_value(b, *u);
  json_builder_end_array(b);
  tm_wire_string(b, "username", c->username);
  tm_wire_string(b, "credential", c->password);
  tm_wire_int(b, "expires", c->expires);
  json_builder_end_object(b);
  json_builder_end_array(b);
}

JsonBuilder *
tm_room_joined(TmRoom *room, TmParticipant *p, const char *name, TmRole role, gboolean resumed)
{
  JsonBuilder *b = tm_wire_begin("joined");
  tm_wire_string(b, "id", p != NULL ? p->id : "control");
  tm_wire_string(b, "hearing", tm_hearing_id(room->hearing));
  tm_wire_string(b, "title", room->record->title);
  tm_wire_string(b, "name", name);
  tm_wire_string(b, "role", tm_role_to_string(role));
  gboolean waiting = p != NULL && p->state == TM_STATE_WAITING;
  tm_wire_string(b, "state", waiting ? "waiting" : "admitted");
  if (p != NULL)
    add_ice_servers(b, &room->relay->config, p->id);
  TmSeat *seat = p != NULL ? g_hash_table_lookup(room->seats, p) : NULL;
  if (seat != NULL) {
    tm_wire_string(b, "resume", seat->secret);
    tm_wire_int(b, "grace", TM_ROOM_GRACE_S);
    tm_wire_bool(b, "resumed", resumed);
  }
  json_builder_set_member_name(b, "participants");
  json_builder_begin_array(b);
  if (waiting) { /* the title and their own state only: who else is there is not theirs */
    json_builder_end_array(b);
    json_builder_end_object(b);
    return b;
  }
  for (guint i = 0; i < tm_hearing_n_participants(room->hearing); i++) {
    TmParticipant *o = tm_hearing_participant(room->hearing, i);
    if (o != p)
      tm_wire_participant(b, room->hearing, o, FALSE);
  }
  json_builder_end_array(b);
  tm_wire_string(b, "case", tm_hearing_case(room->hearing));
  tm_wire_bool(b, "locked", room->locked);
  tm_wire_protection(b, room->hearing);
  tm_wire_recording(b, tm_room_recording_state(room),
                    room->recorder != NULL ? room->recording_since : 0);
  json_builder_end_object(b);
  return b;
}

/* ---- audit ---- */

char *
tm_room_label(const TmParticipant *p)
{
  return g_strdup_printf("%s %s (%s)", p->id, p->name, tm_role_to_string(p->role));
}

void
tm_room_audit(TmRoom *room, const char *actor, const char *action, const TmParticipant *subject,
              const char *detail)
{
  g_autofree char *what = subject != NULL ? tm_room_label(subject) : g_strdup("");
  tm_audit_log_write(room->audit, actor != NULL ? actor : "relay", action, what,
                     detail != NULL ? detail : "");
}

/* ---- timers ---- */

/* The hearing's timer: its deadline (monotonic µs, INT64_MAX: none) is read by its prepare and
 * check, not kept as the source's ready time. Setting a ready time writes to the context's wake-up
 * descriptor every time (GLib 2.74), which costs a write, then a poll that returns at once and a
 * read, and the worker moves the deadline after many datagrams and timer runs. Another thread that
 * moves it wakes the worker (set_deadline). */
typedef struct {
  GSource source;
  _Atomic int64_t deadline;
} TimerSource;

static int64_t
get_deadline(TmRoom *room)
{
  return atomic_load_explicit(&((TimerSource *) room->timer)->deadline, memory_order_acquire);
}

static void
set_deadline(TmRoom *room, int64_t d)
{
  if (get_deadline(room) == d)
    return;
  atomic_store_explicit(&((TimerSource *) room->timer)->deadline, d, memory_order_release);
  if (!g_main_context_is_owner(room->context))
    g_main_context_wakeup(room->context); /* its poll may be waiting for the old deadline */
}

static gboolean
timer_prepare(GSource *source, gint *timeout)
{
  int64_t d = atomic_load_explicit(&((TimerSource *) source)->deadline, memory_order_acquire);
  int64_t now = g_source_get_time(source);
  if (d == INT64_MAX) {
    *timeout = -1;
    return FALSE;
  }
  if (d <= now) {
    *timeout = 0;
    return TRUE;
  }
  *timeout = (gint) MIN((d - now + 999) / 1000, G_MAXINT);
  return FALSE;
}

static gboolean
timer_check(GSource *source)
{
  int64_t d = atomic_load_explicit(&((TimerSource *) source)->deadline, memory_order_acquire);
  return d <= g_source_get_time(source);
}

void
tm_room_schedule(TmRoom *room)
{
  set_deadline(room, tm_hearing_next_deadline(room->hearing));
}

/* On the room's worker. */
static gboolean
timer_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
  TmRoom *room = data;
  g_rec_mutex_lock(&room->lock);
  if (!room->closed) {
    tm_hearing_handle_timeout(room->hearing, g_get_monotonic_time());
    tm_room_schedule(room);
  } else {
    set_deadline(room, INT64_MAX);
  }
  g_rec_mutex_unlock(&room->lock);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_funcs = { timer_prepare, timer_check, timer_dispatch, NULL, NULL, NULL };

/* What the engine sends is queued per transport and sent once the worker has handled what
 * arrived with it: the copies of a video frame for one receiver go out in one system call. The
 * flush runs at a higher priority than the sockets' sources, first in the worker's next
 * iteration, so a datagram waits only for the rest of the datagrams read with it. It is asked
 * for with a flag its prepare reads, not a ready time: setting one writes to the context's
 * wake-up descriptor each time, a system call per iteration for nothing when the worker itself
 * queued (only another thread needs to wake it). */
typedef struct {
  GSource source;
  gint wanted; /* atomic: a transport has datagrams queued */
} FlushSource;

static void
flush_pending(TmRoom *room)
{
  for (guint i = 0; i < room->pending->len; i++) {
    TmTransport *t = g_ptr_array_index(room->pending, i);
    t->queued = FALSE;
    tm_ice_flush(t->ice);
  }
  g_ptr_array_set_size(room->pending, 0);
}

static gboolean
flush_prepare(GSource *source, gint *timeout)
{
  *timeout = -1;
  return g_atomic_int_get(&((FlushSource *) source)->wanted);
}

/* On the room's worker. */
static gboolean
flush_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
  TmRoom *room = data;
  g_rec_mutex_lock(&room->lock);
  g_atomic_int_set(&((FlushSource *) source)->wanted, 0);
  if (!room->closed)
    flush_pending(room);
  g_rec_mutex_unlock(&room->lock);
  return G_SOURCE_CONTINUE;
}

/* Under the room's lock, on any thread. */
static void
flush_soon(TmRoom *room)
{
  g_atomic_int_set(&((FlushSource *) room->flush)->wanted, 1);
  if (!g_main_context_is_owner(room->context))
    g_main_context_wakeup(room->context);
}

static GSourceFuncs flush_funcs = { flush_prepare, NULL, flush_dispatch, NULL, NULL, NULL };

/* ---- transports ---- */

/* On the room's worker: T stays allocated until an idle there frees it, so it may be read
 * before the lock; once the lock is held, CLOSED says whether the room still has it. */
static void
transport_receive(void *ud, const uint8_t *buf, size_t len)
{
  TmTransport *t = ud;
  TmRoom *room = t->room;
  g_rec_mutex_lock(&room->lock);
  if (!t->closed) {
    tm_hearing_handle_datagram(room->hearing, t->peer, buf, len, g_get_monotonic_time());
    /* A datagram can bring this connection's next deadline forward (a DTLS retransmission, a
     * NACK to repeat): move the hearing's timer if so. */
    int64_t d = tm_peer_next_deadline(t->peer);
    if (d < get_deadline(room))
      set_deadline(room, d);
  }
  g_rec_mutex_unlock(&room->lock);
}

/* ---- what the worker hands to the control thread ---- */

/* Something the engine reported on the worker that the control thread carries out: the room
 * is looked up again by id and serial, and WHAT (a peer or a participant) in its tables. */
typedef struct {
  TmRelay *relay;
  char *hearing;
  guint64 serial;
  gpointer what;
  char *detail;
  void (*handle)(TmRoom *room, gpointer what, const char *detail);
} Deferred;

static void
deferred_free(gpointer data)
{
  Deferred *d = data;
  g_free(d->hearing);
  g_free(d->detail);
  g_free(d);
}

static gboolean
deferred_run(gpointer data)
{
  Deferred *d = data;
  TmRoom *room = g_hash_table_lookup(d->relay->rooms, d->hearing);
  if (room == NULL || room->serial != d->serial)
    return G_SOURCE_REMOVE;
  tm_room_enter(room);
  d->handle(room, d->what, d->detail);
  tm_room_exit(room);
  return G_SOURCE_REMOVE;
}

/* Under ROOM's lock, on any thread: HANDLE(room, WHAT, DETAIL) runs later on the control
 * thread, outside the engine's call stack, if the room is still open then. */
static void
defer(TmRoom *room, void (*handle)(TmRoom *, gpointer, const char *), gpointer what,
      const char *detail)
{
  Deferred *d = g_new0(Deferred, 1);
  d->relay = room->relay;
  d->hearing = g_strdup(tm_hearing_id(room->hearing));
  d->serial = room->serial;
  d->what = what;
  d->detail = g_strdup(detail);
  d->handle = handle;
  tm_workers_post(room->relay->context, deferred_run, d, deferred_free);
}

/* The failed peer may be freed here. */
static void
failure_handle(TmRoom *room, gpointer peer, const char *reason)
{
  if (!g_hash_table_contains(room->transports, peer))
    return;
  TmParticipant *owner = tm_hearing_peer_owner(room->hearing, peer);
  TmParticipant *feed = tm_hearing_peer_feed(room->hearing, peer);
  if (owner == NULL)
    return;
  TmTransport *t = g_hash_table_lookup(room->transports, peer);
  t->failing = TRUE;
  tm_log_hearing(G_LOG_LEVEL_MESSAGE, tm_hearing_id(room->hearing), owner,
                 "connection of %s (%s) failed: %s", owner->id, feed != NULL ? feed->id : "publish",
                 reason);
  if (feed != NULL) {
    tm_hearing_close_subscription(room->hearing, owner, feed);
    g_autofree char *msg =
      g_strdup_printf("the connection receiving %s failed: %s", feed->id, reason);
    g_autoptr(JsonBuilder) b = tm_wire_error(TM_WIRE_ERR_CONNECTION_FAILED, msg, feed->id);
    tm_room_send(room, owner, b);
  } else {
    /* The participant keeps its place; its client publishes again (or connects again). */
    tm_hearing_close_publish(room->hearing, owner);
    g_autofree char *msg = g_strdup_printf("your media connection failed: %s", reason);
    g_autoptr(JsonBuilder) b = tm_wire_error(TM_WIRE_ERR_CONNECTION_FAILED, msg, "publish");
    tm_room_send(room, owner, b);
    tm_room_set_away(room, owner, reason);
    tm_room_schedule(room);
  }
}

static void
schedule_failure(TmRoom *room, TmPeer *peer, const char *reason)
{
  defer(room, failure_handle, peer, reason);
}

/* Where libnice reports it: mostly the worker, sometimes the control thread inside a call. */
static void
transport_failed(void *ud)
{
  TmTransport *t = ud;
  g_rec_mutex_lock(&t->room->lock);
  if (!t->closed)
    schedule_failure(t->room, t->peer, "ICE connectivity lost");
  g_rec_mutex_unlock(&t->room->lock);
}

static const TmIceListener transport_listener = { transport_receive, transport_failed };

static void tm_room_unref(TmRoom *room);

static gboolean
transport_release(gpointer data)
{
  TmTransport *t = data;
  g_free(t->answer);
  tm_room_unref(t->room);
  g_free(t);
  return G_SOURCE_REMOVE;
}

/* The destroy function of room->transports (under the room's lock): T is closed at once and
 * freed on the room's worker, after whatever callback may be running there with it. */
static void
transport_free(gpointer data)
{
  TmTransport *t = data;
  t->closed = TRUE;
  if (t->queued) {
    g_ptr_array_remove_fast(t->room->pending, t);
    tm_ice_flush(t->ice); /* its last datagrams, such as DTLS's close_notify */
  }
  tm_ice_free(t->ice);
  tm_workers_post(t->room->context, transport_release, t, NULL);
}

TmTransport *
tm_room_open_transport(TmRoom *room, TmParticipant *owner, TmParticipant *feed, const TmSdp *offer,
                       TmSdp *answer, TmHearingError *he, TmSdpError *se, GError **error)
{
  TmTransport *t = g_new0(TmTransport, 1);
  t->room = room;
  g_atomic_int_inc(&room->refs); /* released with T */
  t->ice = tm_ice_new(room->context, &room->relay->ice, &transport_listener, t, error);
  if (t->ice == NULL) {
    transport_free(t);
    *he = TM_HEARING_OK;
    return NULL;
  }
  g_auto(GStrv) cands = tm_ice_local_candidates(t->ice);
  TmIceParams ice = { tm_ice_ufrag(t->ice), tm_ice_pwd(t->ice), (const char *const *) cands,
                      g_strv_length(cands) };
  t->peer = tm_hearing_open_peer(room->hearing, owner, feed, offer, &ice, answer,
                                 g_get_monotonic_time(), he, se);
  if (t->peer == NULL) {
    transport_free(t);
    return NULL;
  }
  g_hash_table_insert(room->transports, t->peer, t);
  tm_ice_set_remote_credentials(t->ice, offer->ice_ufrag, offer->ice_pwd);
  t->offer_session_id = offer->session_id;
  g_strlcpy(t->offer_ufrag, offer->ice_ufrag, sizeof t->offer_ufrag);
  memcpy(t->offer_fingerprint, offer->fingerprint, offer->fingerprint_len);
  t->offer_fingerprint_len = offer->fingerprint_len;
  t->answer = tm_sdp_serialize(answer);
  return t;
}

/* Whether OFFER restarts ICE on the connection whose answer was ANSWER: the same peer
 * connection (session id), new credentials, the same DTLS fingerprint, the same media sections
 * in the same order. A client that connects anew (testimony-client, a reloaded page) has a new
 * session id and a new DTLS handshake to make. */
static gboolean
is_ice_restart(const TmTransport *t, const TmSdp *offer, const TmSdp *answer)
{
  if (offer->session_id != t->offer_session_id || strcmp(offer->ice_ufrag, t->offer_ufrag) == 0 ||
      offer->fingerprint_len != t->offer_fingerprint_len ||
      memcmp(offer->fingerprint, t->offer_fingerprint, offer->fingerprint_len) != 0 ||
      offer->n_media != answer->n_media)
    return FALSE;
  for (guint i = 0; i < offer->n_media; i++)
    if (offer->media[i].kind != answer->media[i].kind ||
        strcmp(offer->media[i].mid, answer->media[i].mid) != 0)
      return FALSE;
  return TRUE;
}

char *
tm_room_restart_ice(TmRoom *room, TmTransport *t, const TmSdp *offer, GError **error)
{
  if (t->answer == NULL)
    return NULL;
  g_autofree TmSdp *answer = g_new0(TmSdp, 1);
  if (tm_sdp_parse(t->answer, strlen(t->answer), answer) != TM_SDP_OK ||
      !is_ice_restart(t, offer, answer))
    return NULL;
  TmIce *ice = tm_ice_new(room->context, &room->relay->ice, &transport_listener, t, error);
  if (ice == NULL)
    return NULL;
  tm_ice_flush(t->ice); /* what was queued goes out on the old path */
  tm_ice_free(t->ice);
  t->ice = ice;
  tm_ice_set_remote_credentials(ice, offer->ice_ufrag, offer->ice_pwd);
  g_strlcpy(t->offer_ufrag, offer->ice_ufrag, sizeof t->offer_ufrag);

  g_strlcpy(answer->ice_ufrag, tm_ice_ufrag(ice), sizeof answer->ice_ufrag);
  g_strlcpy(answer->ice_pwd, tm_ice_pwd(ice), sizeof answer->ice_pwd);
  g_auto(GStrv) cands = tm_ice_local_candidates(ice);
  guint mline = answer->n_candidates > 0 ? answer->candidates[0].mline : 0;
  answer->n_candidates = 0;
  for (guint i = 0; cands[i] != NULL && i < TM_SDP_MAX_CANDIDATES; i++) {
    answer->candidates[i].mline = mline;
    g_strlcpy(answer->candidates[i].value, cands[i], sizeof answer->candidates[i].value);
    answer->n_candidates++;
  }
  answer->end_of_candidates = answer->n_candidates > 0;
  answer->session_version++;
  g_free(t->answer);
  t->answer = tm_sdp_serialize(answer);
  return g_strdup(t->answer);
}

TmTransport *
tm_room_find_transport(TmRoom *room, TmParticipant *owner, const char *target)
{
  TmPeer *peer = NULL;
  if (g_strcmp0(target, "publish") == 0) {
    peer = owner->publish;
  } else {
    TmParticipant *feed = tm_hearing_find(room->hearing, target);
    for (guint i = 0; feed != NULL && i < owner->subscriptions->len; i++) {
      TmPeer *sub = g_ptr_array_index(owner->subscriptions, i);
      if (tm_hearing_peer_feed(room->hearing, sub) == feed)
        peer = sub;
    }
  }
  return peer != NULL ? g_hash_table_lookup(room->transports, peer) : NULL;
}

/* ---- hearing listener ---- */

static void
hearing_transmit(void *ud, TmPeer *peer, const uint8_t *buf, size_t len)
{
  TmRoom *room = ud;
  TmTransport *t = g_hash_table_lookup(room->transports, peer);
  if (t == NULL || t->ice == NULL)
    return;
  tm_ice_queue(t->ice, buf, len);
  if (t->queued)
    return;
  if (room->pending->len == 0)
    flush_soon(room);
  g_ptr_array_add(room->pending, t);
  t->queued = TRUE;
}

/* WHAT, deferred with its ID, if it is still a participant of the hearing: NULL once it left
 * (another participant at the same address is not taken for it). */
static TmParticipant *
participant_still(TmRoom *room, gpointer what, const char *id)
{
  for (guint i = 0; i < tm_hearing_n_participants(room->hearing); i++)
    if (tm_hearing_participant(room->hearing, i) == what &&
        strcmp(((TmParticipant *) what)->id, id) == 0)
      return what;
  return NULL;
}

/* On the control thread: P (if still in the hearing and publishing) is back and the others
 * are told. */
static void
published_handle(TmRoom *room, gpointer what, const char *id)
{
  TmParticipant *p = participant_still(room, what, id);
  if (p == NULL || p->publish == NULL || !p->publishing)
    return;
  TmSeat *seat = g_hash_table_lookup(room->seats, p);
  if (seat != NULL)
    seat->published = TRUE;
  tm_room_check_back(room, p);
  g_autoptr(JsonBuilder) b = tm_wire_begin("participant-published");
  tm_wire_string(b, "id", p->id);
  json_builder_end_object(b);
  tm_room_broadcast(room, p, b);
  tm_room_send_visibility(room);
}

/* A subscription of P connected (on the control thread, later): P learns how long the repairs
 * of the feeds it receives take now, not at the next quality tick, 2 s on. */
static void
receiving_handle(TmRoom *room, gpointer what, const char *id)
{
  TmParticipant *p = participant_still(room, what, id);
  if (p != NULL)
    send_repair_to(room, p);
}

static void
hearing_receiving(void *ud, TmParticipant *p, TmPeer *peer)
{
  TmRoom *room = ud;
  TmParticipant *feed = tm_hearing_peer_feed(room->hearing, peer);
  tm_log_hearing(G_LOG_LEVEL_MESSAGE, tm_hearing_id(room->hearing), p,
                 "%s receives %s (handshake round trip %.0f ms)", p->id,
                 feed != NULL ? feed->id : "?", tm_peer_stats(peer)->handshake_rtt_ms);
  defer(room, receiving_handle, p, p->id);
}

/* On the worker, in the engine's call stack: the recording learns P's tracks before its first
 * packet; the rest (sessions told, the audit log) is the control thread's. */
static void
hearing_published(void *ud, TmParticipant *p)
{
  TmRoom *room = ud;
  tm_log_hearing(G_LOG_LEVEL_MESSAGE, tm_hearing_id(room->hearing), p,
                 "%s publishes (SRTP %s, handshake round trip %.0f ms)", p->id,
                 tm_srtp_profile_name(tm_peer_srtp_profile(p->publish)),
                 tm_peer_stats(p->publish)->handshake_rtt_ms);
  tm_room_record_presence(room, p, TRUE); /* its tracks are known now */
  defer(room, published_handle, p, p->id);
}

static void
hearing_peer_failed(void *ud, TmPeer *peer, const char *reason)
{
  schedule_failure(ud, peer, reason);
}

static void
hearing_peer_closed(void *ud, TmPeer *peer)
{
  TmRoom *room = ud;
  g_hash_table_remove(room->transports, peer);
}

static const TmHearingListener hearing_listener = {
  hearing_transmit,    hearing_published,     hearing_peer_failed,
  hearing_peer_closed, tm_room_record_packet, hearing_receiving,
};

/* ---- lifecycle ---- */

static guint
record_measures(const TmHearingRecord *rec)
{
  guint m = 0;
  for (char **p = rec->protect; p != NULL && *p != NULL; p++)
    if (strcmp(*p, "screen-witness") == 0)
      m |= TM_MEASURE_SCREEN_WITNESS;
  return m;
}

static void
tm_room_unref(TmRoom *room)
{
  if (!g_atomic_int_dec_and_test(&room->refs))
    return;
  g_rec_mutex_clear(&room->lock);
  g_free(room);
}

static void
room_unref(gpointer room)
{
  tm_room_unref(room);
}

TmRoom *
tm_room_enter(TmRoom *room)
{
  g_atomic_int_inc(&room->refs);
  g_rec_mutex_lock(&room->lock);
  return room;
}

void
tm_room_exit(TmRoom *room)
{
  g_rec_mutex_unlock(&room->lock);
  tm_room_unref(room);
}

TmRoom *
tm_room_open(TmRelay *relay, const char *hearing_id, GError **error)
{
  TmRoom *room = g_hash_table_lookup(relay->rooms, hearing_id);
  if (room != NULL)
    return room;
  TmHearingRecord *rec = tm_state_hearing_load(relay->config.state_dir, hearing_id, error);
  if (rec == NULL)
    return NULL;
  room = g_new0(TmRoom, 1);
  room->relay = relay;
  g_rec_mutex_init(&room->lock);
  room->refs = 1; /* relay->rooms' */
  room->serial = ++relay->counters.hearings_opened;
  room->worker = tm_workers_assign(relay->workers);
  room->context = tm_workers_context(relay->workers, room->worker);
  room->record = rec;
  room->transports = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, transport_free);
  room->controls = g_ptr_array_new();
  room->seats = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, seat_free);
  TmHearingConfig hc = {
    .id = rec->id,
    .case_number = rec->case_number,
    .identity = relay->identity,
    .wall_offset_us = g_get_real_time() - g_get_monotonic_time(),
    .waiting_room = rec->waiting_room,
    .measures = record_measures(rec),
    .transport_cc = relay->config.transport_cc,
  };
  room->hearing = tm_hearing_new(&hc, &hearing_listener, room);
  room->timer = g_source_new(&timer_funcs, sizeof(TimerSource));
  atomic_init(&((TimerSource *) room->timer)->deadline, INT64_MAX);
  g_atomic_int_inc(&room->refs); /* the timer's, dropped once it can no longer run */
  g_source_set_callback(room->timer, NULL, room, room_unref);
  g_source_attach(room->timer, room->context);
  room->pending = g_ptr_array_new();
  room->flush = g_source_new(&flush_funcs, sizeof(FlushSource));
  g_atomic_int_inc(&room->refs); /* the flush's, as the timer's */
  g_source_set_callback(room->flush, NULL, room, room_unref);
  g_source_set_priority(room->flush, G_PRIORITY_HIGH);
  g_source_attach(room->flush, room->context);
  room->quality_timer = g_timeout_source_new_seconds(QUALITY_INTERVAL_S);
  g_source_set_callback(room->quality_timer, quality_tick, room, NULL);
  g_source_attach(room->quality_timer, relay->context);
  g_autofree char *audit_path = tm_state_audit_path(relay->config.state_dir, rec->id);
  TmAuditLogConfig ac = {
    .path = audit_path,
    .hearing_id = rec->id,
    .case_number = rec->case_number,
    .key = relay->evidence,
    .heads = relay->audit_heads,
  };
  room->audit = tm_audit_log_open(&ac);
  g_hash_table_insert(relay->rooms, g_strdup(rec->id), room);
  tm_log_hearing(G_LOG_LEVEL_MESSAGE, rec->id, NULL, "hearing %s opened", rec->id);
  tm_log_hearing(G_LOG_LEVEL_MESSAGE, rec->id, NULL, "hearing %s: its media on %s", rec->id,
                 tm_workers_name(room->worker));
  return room;
}

void
tm_room_free(TmRoom *room)
{
  tm_room_enter(room);
  g_free(tm_room_recording_stop(room, NULL));
  g_hash_table_unref(room->seats);
  tm_hearing_add_counters(room->hearing, &room->relay->counters);
  room->relay->counters.recorded_bytes += room->recorded_bytes;
  tm_hearing_free(room->hearing);
  g_hash_table_unref(room->transports); /* each closed now, freed on the worker */
  g_ptr_array_unref(room->controls);
  g_source_destroy(room->timer); /* its reference goes once a run in progress has returned */
  g_source_unref(room->timer);
  g_source_destroy(room->flush); /* the transports sent what they had queued as they closed */
  g_source_unref(room->flush);
  g_ptr_array_unref(room->pending);
  room->pending = NULL;
  g_source_destroy(room->quality_timer);
  g_source_unref(room->quality_timer);
  tm_hearing_record_free(room->record);
  tm_audit_log_free(room->audit);
  tm_workers_release(room->relay->workers, room->worker);
  room->hearing = NULL;
  room->transports = NULL;
  room->closed = TRUE;
  tm_room_exit(room);
  tm_room_unref(room); /* relay->rooms' */
}

gboolean
tm_room_close_if_empty(TmRoom *room)
{
  if (tm_hearing_n_participants(room->hearing) > 0 || room->controls->len > 0)
    return FALSE;
  tm_log_hearing(G_LOG_LEVEL_MESSAGE, tm_hearing_id(room->hearing), NULL,
                 "hearing %s closed: nobody left", tm_hearing_id(room->hearing));
  g_hash_table_remove(room->relay->rooms, tm_hearing_id(room->hearing));
  return TRUE;
}

void
tm_room_remove(TmRoom *room, TmParticipant *p, const char *reason)
{
  gboolean was_waiting = p->state == TM_STATE_WAITING;
  g_autofree char *id = g_strdup(p->id);
  tm_room_record_presence(room, p, FALSE);
  tm_room_audit(room, NULL, "leave", p, reason);
  tm_log_hearing(G_LOG_LEVEL_MESSAGE, tm_hearing_id(room->hearing), p, "%s left hearing %s (%s)",
                 id, tm_hearing_id(room->hearing), reason);
  g_hash_table_remove(room->seats, p);
  p->data = NULL;
  tm_hearing_leave(room->hearing, p);
  g_autoptr(JsonBuilder) b = tm_wire_begin("participant-left");
  tm_wire_string(b, "id", id);
  tm_wire_string(b, "reason", reason);
  json_builder_end_object(b);
  tm_room_broadcast(room, NULL, b);
  if (was_waiting)
    tm_room_send_waiting(room);
  if (!tm_room_close_if_empty(room)) {
    tm_room_send_visibility(room);
    tm_room_schedule(room);
  }
}
