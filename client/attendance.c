/* attendance.c — one participant's attendance at a hearing (see attendance.h): the signalling
 * conversation (docs/protocol.md): join, the participant list, publish and subscribe offers and
 * answers, trickle ICE, leave; plus the timers (join timeout, report, keep-alive, --duration). */
#include "attendance.h"

#include <stdarg.h>

#include "call.h"
#include "kiosk.h"
#include "signalling.h"

#define LOG_DOMAIN "testimony-hearing"
#define JOIN_TIMEOUT_S 20
#define PING_INTERVAL_S 5
#define SILENT_S 15 /* nothing from the relay for this long: connect again */
#define LEAVE_GRACE_MS 2000
#define RECONNECT_FIRST_MS 500 /* then doubling, up to RECONNECT_MAX_MS */
#define RECONNECT_MAX_MS 4000
#define RECONNECT_SLACK_S 10 /* tried for the relay's grace period and this much more */
#define FIRST_CONNECT_S 120  /* the first connection tried this long when it times out */
#define MEDIA_RESTARTS_MAX 6 /* publish connections made again per minute, at most */
#define REPAIR_MAX_MS 10000  /* a `repair` figure beyond this is not believed */

/* A warning for a person (through main.c's log handler). */
#define warn(...) g_log(LOG_DOMAIN, G_LOG_LEVEL_WARNING, __VA_ARGS__)

struct _TmAttendance {
  TmApp *app;
  TmSignalling *signalling;
  TmCall *call;     /* NULL until tm_attendance_start_media() */
  TmReport *report; /* NULL: no --report, or it could no longer be written */
  TmCourt *court;
  TmRoster roster;

  gboolean joined;
  gboolean receive_only;  /* observer, or the relay refused our publish as forbidden */
  gchar *title;           /* the hearing's title from joined/state, or NULL */
  gboolean waiting;       /* our own state: in the waiting room (else admitted) */
  const gchar *recording; /* static: "recording", "paused" or "stopped" */
  TmKioskState kiosk;     /* what the kiosk's caption tells (--kiosk) */
  GQueue pending;         /* JsonObject* for the relay, held until joined */
  GQueue awaiting;        /* feed ids (g_free) of subscribe offers not yet answered, in
                                order: a refused subscribe names no feed, the oldest is it */

  gchar *resume;          /* the secret of our place (joined), to continue it */
  gint grace_s;           /* how long the relay keeps our place when the link drops */
  gboolean reconnecting;  /* the session dropped: connecting again */
  gint64 lost_us;         /* when it dropped */
  gint64 first_failed_us; /* the first connection timed out (not yet joined): when */
  gint64 heard_us;        /* when the relay last sent anything */
  guint reconnect_attempt;
  guint reconnect_id;
  gint64 restarts_since_us; /* publish connections made again: count per minute */
  guint restarts;

  guint join_timeout_id;
  guint duration_id;
  guint report_id;
  guint ping_id;
};

/* Sends leave (if the session is open) and quits when the relay closes, or after a grace. */
static void
finish(TmAttendance *a)
{
  a->app->finishing = TRUE;
  if (a->signalling != NULL && tm_signalling_is_open(a->signalling)) {
    if (a->joined)
      tm_signalling_send_type(a->signalling, "leave");
    else
      tm_signalling_close(a->signalling);
    tm_app_quit_later(a->app, LEAVE_GRACE_MS);
    return;
  }
  tm_app_quit(a->app);
}

/* A fatal condition: its one line on stderr, then leave (the first one only). */
static void fail(TmAttendance *a, TmExitStatus status, const gchar *format, ...)
  G_GNUC_PRINTF(3, 4);

static void
fail(TmAttendance *a, TmExitStatus status, const gchar *format, ...)
{
  va_list args;
  g_autofree gchar *text = NULL;

  va_start(args, format);
  text = g_strdup_vprintf(format, args);
  va_end(args);
  if (tm_app_fail(a->app, status, "%s", text))
    finish(a);
}

void
tm_attendance_leave(TmAttendance *a)
{
  if (a->app->finishing)
    return;
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "leaving the hearing");
  finish(a);
}

/* ---- remotes ---- */

static void send_when_joined(TmAttendance *a, JsonObject *m);

static void
subscribe_remote(TmAttendance *a, TmRemote *remote)
{
  if (remote->subscribed || a->call == NULL)
    return;
  remote->subscribed = TRUE;
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "subscribing to %s", remote->id);
  tm_analysis_mark_subscribed(remote->analysis, g_get_monotonic_time());
  tm_call_subscribe(a->call, remote->id, remote->name, remote->role, remote->analysis);
  /* A picture the kiosk does not show is not sent: the witness's link keeps its room for the
   * judge's (docs/protocol.md, display). */
  if (a->app->options.kiosk && !tm_kiosk_shows(a->roster.self_role, remote->role)) {
    g_autoptr(JsonObject) m = json_object_new();
    json_object_set_string_member(m, "type", "display");
    json_object_set_string_member(m, "feed", remote->id);
    json_object_set_boolean_member(m, "video", FALSE);
    send_when_joined(a, m);
  }
}

/* The kiosk's caption: our microphone and camera, and what the court did to them. */
static void
show_own_media(TmAttendance *a)
{
  g_autofree gchar *markup = NULL;

  if (!a->app->options.kiosk || a->call == NULL)
    return;
  a->kiosk.publishing = !a->receive_only;
  markup = tm_kiosk_status_markup(&a->kiosk);
  tm_call_set_indicator(a->call, TM_DISPLAY_INDICATOR_STATUS, markup);
}

/* A participant object (id, name, role, publishing) from joined or participant-joined. */
static void
add_participant(TmAttendance *a, JsonNode *node)
{
  JsonObject *p = node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
  const gchar *id = tm_json_string(p, "id");
  TmRemote *remote;

  if (id == NULL || id[0] == '\0') {
    warn("the relay announced a participant without an id; ignored");
    return;
  }
  remote = tm_roster_add(&a->roster, id, a->app->start_us);
  if (remote == NULL) { /* ourselves: what the court did to our microphone and camera */
    a->kiosk.audio_muted = g_strcmp0(tm_json_string(p, "audio"), "muted") == 0;
    a->kiosk.video_muted = g_strcmp0(tm_json_string(p, "video"), "off") == 0;
    show_own_media(a);
    return;
  }
  if (tm_json_string(p, "name") != NULL) {
    g_free(remote->name);
    remote->name = g_strdup(tm_json_string(p, "name"));
  }
  if (tm_json_string(p, "role") != NULL) {
    g_free(remote->role);
    remote->role = g_strdup(tm_json_string(p, "role"));
  }
  remote->publishing = tm_json_bool(p, "publishing");
  if (remote->publishing)
    subscribe_remote(a, remote);
}

static void
drop_remote(TmAttendance *a, const gchar *id)
{
  TmRemote *remote = tm_roster_lookup(&a->roster, id);

  if (remote == NULL)
    return;
  if (a->call != NULL)
    tm_call_unsubscribe(a->call, remote->id);
  tm_roster_remove(&a->roster, remote->id);
}

/* ---- report and timers ---- */

static void
write_report(TmAttendance *a)
{
  guint n = tm_roster_n_remotes(&a->roster);
  g_autofree TmReportRemote *rows = g_new0(TmReportRemote, n + 1);
  TmReportSelf self = {
    .id = a->roster.self_id,
    .name = a->roster.self_name,
    .role = a->roster.self_role,
    .state = a->waiting ? "waiting" : "admitted",
    .recording = a->recording,
  };
  g_autoptr(GError) error = NULL;

  if (a->report == NULL)
    return;
  for (guint i = 0; i < n; i++) {
    TmRemote *remote = tm_roster_remote_at(&a->roster, i);
    rows[i].id = remote->id;
    rows[i].name = remote->name;
    rows[i].role = remote->role;
    tm_analysis_snapshot(remote->analysis, &rows[i].snapshot);
  }
  if (!tm_report_write(a->report, (gdouble) g_get_real_time() / G_USEC_PER_SEC, &self, rows, n,
                       &error)) {
    warn("%s; no more report lines", error->message);
    tm_report_close(a->report);
    a->report = NULL;
  }
}

static gboolean
on_report_tick(gpointer user_data)
{
  TmAttendance *a = user_data;

  write_report(a);
  if (a->report == NULL) {
    a->report_id = 0;
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

static void start_reconnecting(TmAttendance *a, const gchar *why);

static gboolean
on_ping_tick(gpointer user_data)
{
  TmAttendance *a = user_data;

  /* TCP may take long to notice a link that died and came back: a session that answers no
   * ping is given up, and a new one continues our place. */
  if (a->joined && a->resume != NULL &&
      g_get_monotonic_time() - a->heard_us > SILENT_S * G_USEC_PER_SEC) {
    a->ping_id = 0;
    tm_signalling_abandon(a->signalling);
    start_reconnecting(a, "no answer for 15 s");
    return G_SOURCE_REMOVE;
  }
  tm_signalling_send_type(a->signalling, "ping");
  return G_SOURCE_CONTINUE;
}

static gboolean
on_join_timeout(gpointer user_data)
{
  TmAttendance *a = user_data;

  a->join_timeout_id = 0;
  fail(a, TM_EXIT_CONNECTION, "the relay at %s did not answer the join within %d s",
       a->app->options.relay, JOIN_TIMEOUT_S);
  return G_SOURCE_REMOVE;
}

/* ---- relay -> client messages ---- */

static void
set_title(TmAttendance *a, const gchar *title)
{
  g_free(a->title);
  a->title = title != NULL && title[0] != '\0' ? g_strdup(title) : NULL;
}

/* The waiting room: a notice, and a calm slate on the window until the court admits us. */
static void
show_waiting(TmAttendance *a, gboolean waiting)
{
  g_autofree gchar *slate = NULL;

  a->waiting = waiting;
  if (!waiting) {
    tm_app_notice("admitted to the hearing");
    tm_call_set_slate(a->call, NULL);
    return;
  }
  tm_app_notice("waiting to be admitted to %s", a->title != NULL ? a->title : "the hearing");
  if (a->app->options.kiosk)
    slate = tm_kiosk_waiting_text(a->title);
  else
    slate = g_strdup_printf("%s\n\nPlease wait. The court will admit you shortly.",
                            a->title != NULL ? a->title : "Hearing");
  tm_call_set_slate(a->call, slate);
}

/* The recording state as one of the three static strings, or NULL if STATE is none of them. */
static const gchar *
recording_state(const gchar *state)
{
  static const gchar *const states[] = { "recording", "paused", "stopped" };

  for (guint i = 0; i < G_N_ELEMENTS(states); i++)
    if (g_strcmp0(state, states[i]) == 0)
      return states[i];
  return NULL;
}

/* The recording indicator in the window's top right corner, and a notice when it changes (at
 * the join, only if the hearing is being recorded or paused). PATH: the finished recording. */
static void
set_recording(TmAttendance *a, const gchar *state, const gchar *path, gboolean joining)
{
  const gchar *recording = recording_state(state);

  if (recording == NULL) {
    g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "recording state \"%s\" ignored",
          state != NULL ? state : "(none)");
    return;
  }
  if (g_strcmp0(recording, a->recording) == 0 && !joining)
    return;
  a->recording = recording;
  if (g_str_equal(recording, "recording")) {
    tm_app_notice("this hearing is being recorded");
    tm_call_set_indicator(a->call, TM_DISPLAY_INDICATOR_RECORDING,
                          "<span foreground=\"#ff4d4d\">\u25CF</span> REC");
  } else if (g_str_equal(recording, "paused")) {
    tm_app_notice("the recording is paused");
    tm_call_set_indicator(a->call, TM_DISPLAY_INDICATOR_RECORDING,
                          "<span foreground=\"#a0a0a0\">\u25CF</span> REC paused");
  } else {
    if (!joining && path != NULL && tm_court_is_staff(a->court))
      tm_app_notice("the recording has stopped; it is saved as %s", path);
    else if (!joining)
      tm_app_notice("the recording has stopped");
    tm_call_set_indicator(a->call, TM_DISPLAY_INDICATOR_RECORDING, NULL);
  }
}

/* Sends M now if joined, else once joined: the media starts while we connect (the offer is
 * ready sooner), but nothing about it may reach the relay before the join is accepted. */
static void
send_when_joined(TmAttendance *a, JsonObject *m)
{
  if (a->joined)
    tm_signalling_send(a->signalling, m);
  else
    g_queue_push_tail(&a->pending, json_object_ref(m));
}

/* Whether M belongs to the publish connection (its offer or one of its candidates). */
static gboolean
is_publish_message(JsonObject *m)
{
  return g_strcmp0(tm_json_string(m, "type"), "publish") == 0 ||
    g_strcmp0(tm_json_string(m, "target"), "publish") == 0;
}

static void
flush_pending(TmAttendance *a)
{
  JsonObject *m;

  while ((m = g_queue_pop_head(&a->pending)) != NULL) {
    if (!a->receive_only || !is_publish_message(m))
      tm_signalling_send(a->signalling, m);
    json_object_unref(m);
  }
}

/* Observers receive but never publish (and the relay refuses a publish from a role it does not
 * let publish): stop the capture and carry on receiving. */
static void
stop_publishing(TmAttendance *a, const gchar *why)
{
  if (a->receive_only)
    return;
  a->receive_only = TRUE;
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "receiving only: %s", why);
  tm_call_stop_publishing(a->call);
  show_own_media(a);
}

static void
answered(TmAttendance *a, const gchar *feed)
{
  GList *link = g_queue_find_custom(&a->awaiting, feed, (GCompareFunc) g_strcmp0);

  if (link != NULL) {
    g_free(link->data);
    g_queue_delete_link(&a->awaiting, link);
  }
}

/* The relay refused our oldest unanswered subscribe: drop that connection; a later
 * participant-published subscribes again. */
static void
subscribe_refused(TmAttendance *a, const gchar *text)
{
  g_autofree gchar *feed = g_queue_pop_head(&a->awaiting);
  TmRemote *remote;

  if (feed == NULL)
    return;
  warn("the relay refused to send us %s: %s", feed, text);
  tm_call_unsubscribe(a->call, feed);
  remote = tm_roster_lookup(&a->roster, feed);
  if (remote != NULL)
    remote->subscribed = FALSE;
}

/* ---- links that drop ---- */

/* The publish connection again (the relay or webrtcbin saw it fail), a few times a minute at
 * most: a connection that fails at once every time is not a link that dropped. */
static void
restart_publish(TmAttendance *a, const gchar *why)
{
  gint64 now = g_get_monotonic_time();
  g_autoptr(GError) error = NULL;

  if (a->receive_only || a->call == NULL)
    return;
  if (now - a->restarts_since_us > 60 * G_USEC_PER_SEC) {
    a->restarts_since_us = now;
    a->restarts = 0;
  }
  if (++a->restarts > MEDIA_RESTARTS_MAX) {
    fail(a, TM_EXIT_MEDIA, "%s, and connecting again failed %d times in a minute", why,
         MEDIA_RESTARTS_MAX);
    return;
  }
  warn("%s; connecting the media again", why);
  if (!tm_call_restart_publish(a->call, &error))
    fail(a, TM_EXIT_MEDIA, "%s", error->message);
}

/* Receives FEED on a new connection (the old one failed). */
static void
resubscribe(TmAttendance *a, const gchar *feed)
{
  TmRemote *remote = tm_roster_lookup(&a->roster, feed);

  tm_call_unsubscribe(a->call, feed);
  if (remote == NULL)
    return;
  remote->subscribed = FALSE;
  if (remote->publishing)
    subscribe_remote(a, remote);
}

static gboolean
on_reconnect_tick(gpointer user_data)
{
  TmAttendance *a = user_data;

  a->reconnect_id = 0;
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "connecting to the relay again (attempt %u)",
        a->reconnect_attempt);
  tm_signalling_connect(a->signalling);
  return G_SOURCE_REMOVE;
}

/* How long before the next attempt: 0.5 s, doubling, at most 4 s. */
static guint
reconnect_delay_ms(const TmAttendance *a)
{
  return MIN(RECONNECT_FIRST_MS << MIN(a->reconnect_attempt, 8u), RECONNECT_MAX_MS);
}

static void
connect_again_in(TmAttendance *a, guint delay_ms)
{
  a->reconnect_attempt++;
  g_clear_handle_id(&a->reconnect_id, g_source_remove);
  a->reconnect_id = g_timeout_add(delay_ms, on_reconnect_tick, a);
}

/* The next attempt, sooner at first; gives up once the relay can no longer hold our place. */
static void
schedule_reconnect(TmAttendance *a)
{
  guint delay = reconnect_delay_ms(a);
  gint limit = a->grace_s + RECONNECT_SLACK_S;

  if (g_get_monotonic_time() + delay * 1000 > a->lost_us + limit * G_USEC_PER_SEC) {
    fail(a, TM_EXIT_CONNECTION,
         "lost the connection to the relay and could not connect "
         "again within %d s",
         limit);
    return;
  }
  connect_again_in(a, delay);
}

/* The session dropped after the join: the relay keeps our place for its grace period, so
 * connect again and continue it; the media connections are made again once it is continued. */
static void
start_reconnecting(TmAttendance *a, const gchar *why)
{
  warn("lost the connection to the relay (%s); connecting again (the relay keeps our place "
       "for %d s)",
       why, a->grace_s);
  a->joined = FALSE;
  a->reconnecting = TRUE;
  a->lost_us = g_get_monotonic_time();
  a->reconnect_attempt = 0;
  g_clear_handle_id(&a->ping_id, g_source_remove);
  g_queue_clear_full(&a->pending, (GDestroyNotify) json_object_unref);
  g_queue_clear_full(&a->awaiting, g_free);
  schedule_reconnect(a);
}

/* Continued after a reconnection: every media connection anew; the remotes as the relay lists
 * them now (LIST), those gone meanwhile dropped. */
static void
continue_place(TmAttendance *a, JsonArray *list)
{
  g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(g_free);

  a->reconnecting = FALSE;
  g_clear_handle_id(&a->reconnect_id, g_source_remove);
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "continuing our place after %.1f s",
        (g_get_monotonic_time() - a->lost_us) / 1e6);
  for (guint i = 0; i < tm_roster_n_remotes(&a->roster); i++) {
    TmRemote *remote = tm_roster_remote_at(&a->roster, i);
    gboolean listed = FALSE;
    for (guint j = 0; list != NULL && j < json_array_get_length(list); j++) {
      JsonNode *node = json_array_get_element(list, j);
      listed |= JSON_NODE_HOLDS_OBJECT(node) &&
        g_strcmp0(tm_json_string(json_node_get_object(node), "id"), remote->id) == 0;
    }
    tm_call_unsubscribe(a->call, remote->id);
    remote->subscribed = FALSE;
    if (!listed)
      g_ptr_array_add(gone, g_strdup(remote->id));
  }
  for (guint i = 0; i < gone->len; i++)
    drop_remote(a, g_ptr_array_index(gone, i));
  restart_publish(a, "the connection to the relay dropped");
}

/* The relay's TURN servers and this participant's credentials (joined.iceServers, WebRTC's
 * RTCIceServer form); a publish connection made before them is made again with them, before
 * its offer (held until joined) leaves. */
static void
use_ice_servers(TmAttendance *a, JsonObject *m)
{
  JsonNode *node = json_object_get_member(m, "iceServers");
  JsonArray *servers =
    node != NULL && JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
  JsonNode *first = servers != NULL && json_array_get_length(servers) > 0
    ? json_array_get_element(servers, 0)
    : NULL;
  JsonObject *server =
    first != NULL && JSON_NODE_HOLDS_OBJECT(first) ? json_node_get_object(first) : NULL;
  JsonNode *urls = server != NULL ? json_object_get_member(server, "urls") : NULL;
  g_autoptr(GPtrArray) list = g_ptr_array_new();

  if (a->call == NULL || urls == NULL || !JSON_NODE_HOLDS_ARRAY(urls))
    return;
  for (guint i = 0; i < json_array_get_length(json_node_get_array(urls)); i++) {
    JsonNode *u = json_array_get_element(json_node_get_array(urls), i);
    if (JSON_NODE_HOLDS_VALUE(u) && json_node_get_value_type(u) == G_TYPE_STRING)
      g_ptr_array_add(list, (gpointer) json_node_get_string(u));
  }
  g_ptr_array_add(list, NULL);
  if (!tm_call_set_ice_servers(a->call, (const gchar *const *) list->pdata,
                               tm_json_string(server, "username"),
                               tm_json_string(server, "credential")))
    return;
  for (GList *l = a->pending.head; l != NULL;) { /* the old publish connection's offer */
    GList *next = l->next;
    if (is_publish_message(l->data)) {
      json_object_unref(l->data);
      g_queue_delete_link(&a->pending, l);
    }
    l = next;
  }
  g_autoptr(GError) error = NULL;
  if (!a->receive_only && !tm_call_restart_publish(a->call, &error))
    fail(a, TM_EXIT_MEDIA, "%s", error->message);
}

static void
on_joined(TmAttendance *a, JsonObject *m)
{
  JsonNode *list = json_object_get_member(m, "participants");

  if (a->joined) {
    warn("the relay sent \"joined\" twice; ignored");
    return;
  }
  if (tm_json_string(m, "id") == NULL) {
    fail(a, TM_EXIT_REFUSED, "the relay accepted the join but sent no participant id");
    return;
  }
  a->joined = TRUE;
  a->heard_us = g_get_monotonic_time();
  g_clear_handle_id(&a->join_timeout_id, g_source_remove);
  g_free(a->resume);
  a->resume = g_strdup(tm_json_string(m, "resume"));
  a->grace_s = (gint) CLAMP(tm_json_int(m, "grace", 0), 0, 3600);
  if (a->reconnecting)
    continue_place(a,
                   list != NULL && JSON_NODE_HOLDS_ARRAY(list) ? json_node_get_array(list) : NULL);
  tm_roster_set_self(&a->roster, tm_json_string(m, "id"), tm_json_string(m, "name"),
                     tm_json_string(m, "role"));
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "joined as %s (%s)", a->roster.self_id,
        a->roster.self_role != NULL ? a->roster.self_role : "?");
  tm_call_set_own_role(a->call, a->roster.self_role);
  if (!tm_json_bool(m, "resumed")) /* a new place starts unmuted; a continued one keeps its own */
    a->kiosk.audio_muted = a->kiosk.video_muted = FALSE;
  show_own_media(a);
  if (g_strcmp0(a->roster.self_role, "observer") == 0)
    stop_publishing(a, "observers never publish");
  use_ice_servers(a, m);
  flush_pending(a);
  set_title(a, tm_json_string(m, "title"));
  if (g_strcmp0(tm_json_string(m, "state"), "waiting") == 0)
    show_waiting(a, TRUE);
  if (tm_json_string(m, "recording") != NULL)
    set_recording(a, tm_json_string(m, "recording"), NULL, TRUE);
  if (list != NULL && JSON_NODE_HOLDS_ARRAY(list)) {
    JsonArray *array = json_node_get_array(list);
    for (guint i = 0; i < json_array_get_length(array); i++)
      add_participant(a, json_array_get_element(array, i));
  }
  g_clear_handle_id(&a->ping_id, g_source_remove);
  g_clear_handle_id(&a->report_id, g_source_remove);
  a->ping_id = g_timeout_add_seconds(PING_INTERVAL_S, on_ping_tick, a);
  if (a->report != NULL)
    a->report_id = g_timeout_add(1000, on_report_tick, a);
  tm_court_joined(a->court);
}

static void
on_participant_joined(TmAttendance *a, JsonObject *m)
{
  add_participant(a, json_object_get_member(m, "participant"));
}

static void
on_participant_published(TmAttendance *a, JsonObject *m)
{
  const gchar *id = tm_json_string(m, "id");
  TmRemote *remote = id != NULL ? tm_roster_add(&a->roster, id, a->app->start_us) : NULL;

  if (remote == NULL)
    return;
  remote->publishing = TRUE;
  subscribe_remote(a, remote);
}

static void
on_participant_left(TmAttendance *a, JsonObject *m)
{
  const gchar *id = tm_json_string(m, "id");

  if (id == NULL)
    return;
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "participant %s left (%s)", id,
        tm_json_string(m, "reason") != NULL ? tm_json_string(m, "reason") : "?");
  drop_remote(a, id);
}

static void
on_answer(TmAttendance *a, JsonObject *m)
{
  const gchar *target = tm_json_string(m, "target");
  const gchar *sdp = tm_json_string(m, "sdp");
  g_autoptr(GError) error = NULL;

  if (target == NULL || sdp == NULL) {
    warn("the relay sent an answer without target or sdp; ignored");
    return;
  }
  if (g_getenv("TESTIMONY_CLIENT_PRINT_OFFER") != NULL)
    g_printerr("--- answer for %s ---\n%s", target, sdp);
  answered(a, target);
  if (tm_call_apply_answer(a->call, target, sdp, &error))
    return;
  if (g_strcmp0(target, "publish") == 0) {
    fail(a, TM_EXIT_MEDIA, "%s", error->message);
    return;
  }
  if (g_error_matches(error, TM_CALL_ERROR, TM_CALL_ERROR_UNKNOWN_TARGET)) {
    g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "%s (feed already gone)", error->message);
    return;
  }
  warn("%s; not receiving %s", error->message, target);
  tm_call_unsubscribe(a->call, target);
}

static void
on_candidate(TmAttendance *a, JsonObject *m)
{
  const gchar *target = tm_json_string(m, "target");
  const gchar *candidate = tm_json_string(m, "candidate");
  gint64 mline = tm_json_int(m, "sdpMLineIndex", 0);
  g_autoptr(GError) error = NULL;

  if (target == NULL || candidate == NULL || mline < 0 || mline > 63) {
    warn("the relay sent a malformed candidate; ignored");
    return;
  }
  if (!tm_call_add_candidate(a->call, target, (guint) mline, candidate, &error))
    g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "%s; ignored", error->message);
}

static gboolean
is_token_error(const gchar *code)
{
  static const gchar *const codes[] = { "bad-token",
                                        "token-expired",
                                        "token-not-yet-valid",
                                        "wrong-hearing",
                                        "token-in-use",
                                        "token-revoked",
                                        NULL };

  return code != NULL && g_strv_contains(codes, code);
}

/* Errors after which the relay closes the session. */
static gboolean
is_closing_error(const gchar *code)
{
  static const gchar *const codes[] = { "too-large",     "refused",         "removed",
                                        "hearing-ended", "hearing-locked",  "hearing-full",
                                        "replaced",      "connection-lost", NULL };

  return code != NULL && g_strv_contains(codes, code);
}

static void
on_error(TmAttendance *a, JsonObject *m)
{
  const gchar *code = tm_json_string(m, "code");
  const gchar *message = tm_json_string(m, "message");
  const gchar *ref = tm_json_string(m, "ref");
  const gchar *text = message != NULL && message[0] != '\0' ? message
    : code != NULL                                          ? code
                                                            : "no reason given";

  if (is_token_error(code)) {
    fail(a, TM_EXIT_REFUSED, "the relay refused the join token: %s", text);
  } else if (!a->joined || g_strcmp0(ref, "join") == 0) {
    fail(a, TM_EXIT_REFUSED, "the relay refused the join: %s", text);
  } else if (g_strcmp0(code, "connection-failed") == 0 && g_strcmp0(ref, "publish") == 0) {
    restart_publish(a, text);
  } else if (g_strcmp0(code, "connection-failed") == 0 && ref != NULL) {
    warn("%s; receiving it again", text);
    resubscribe(a, ref);
  } else if (g_strcmp0(ref, "publish") == 0 && g_strcmp0(code, "forbidden") == 0) {
    warn("the relay does not let this participant publish (%s); receiving only", text);
    stop_publishing(a, text);
  } else if (g_strcmp0(ref, "publish") == 0) {
    fail(a, TM_EXIT_MEDIA, "the relay refused our media offer: %s", text);
  } else if (g_strcmp0(ref, "subscribe") == 0) {
    subscribe_refused(a, text);
  } else if (g_strcmp0(code, "refused") == 0 || g_strcmp0(code, "removed") == 0) {
    fail(a, TM_EXIT_REFUSED, "%s", text);
  } else if (is_closing_error(code)) {
    fail(a, TM_EXIT_CONNECTION, "the relay closed the session: %s", text);
  } else if (tm_court_handle_error(a->court, ref, text)) {
    return;
  } else {
    warn("the relay refused a %s message: %s (%s)", ref != NULL ? ref : "", text,
         code != NULL ? code : "?");
  }
}

static void
on_state(TmAttendance *a, JsonObject *m)
{
  const gchar *state = tm_json_string(m, "state");

  if (tm_json_string(m, "title") != NULL)
    set_title(a, tm_json_string(m, "title"));
  if (g_strcmp0(state, "waiting") == 0)
    show_waiting(a, TRUE);
  else if (g_strcmp0(state, "admitted") == 0)
    show_waiting(a, FALSE);
}

static void
on_muted(TmAttendance *a, JsonObject *m)
{
  const gchar *track = tm_json_string(m, "track");
  JsonNode *muted = json_object_get_member(m, "muted");
  gboolean on = muted != NULL && json_node_get_value_type(muted) == G_TYPE_BOOLEAN &&
    json_node_get_boolean(muted);

  if (g_strcmp0(track, "audio") == 0) {
    tm_app_notice(on ? "the court muted your microphone" : "your microphone is heard again");
    a->kiosk.audio_muted = on;
  } else if (g_strcmp0(track, "video") == 0) {
    tm_app_notice(on ? "the court stopped your picture" : "your picture is shown again");
    a->kiosk.video_muted = on;
  }
  show_own_media(a);
}

static void
on_unmute_request(TmAttendance *a, JsonObject *m)
{
  tm_app_notice("the judge asks you to unmute your microphone");
}

static void
on_recording(TmAttendance *a, JsonObject *m)
{
  set_recording(a, tm_json_string(m, "state"), tm_json_string(m, "path"), FALSE);
}

static void
on_hearing_ended(TmAttendance *a, JsonObject *m)
{
  tm_app_notice("the judge ended the hearing");
  tm_attendance_leave(a);
}

/* The relay is stopping (its operator's SIGTERM): the hearing has not ended; the connection
 * closes (1001) and the client joins again as after any dropped link. */
static void
on_shutdown(TmAttendance *a, JsonObject *m)
{
  tm_app_notice("the court's relay is stopping; the hearing has not ended: joining again when it "
                "is back");
}

/* The court's messages: the relay's answers to our controls, and what judge and clerk see. */
static void
on_done(TmAttendance *a, JsonObject *m)
{
  tm_court_handle_done(a->court, m);
}

static void
on_status(TmAttendance *a, JsonObject *m)
{
  tm_court_handle_status(a->court, m, a->recording);
}

static void
on_waiting(TmAttendance *a, JsonObject *m)
{
  tm_court_handle_waiting(a->court, m);
}

static void
on_link_quality(TmAttendance *a, JsonObject *m)
{
  tm_court_handle_link_quality(a->court, m);
}

/* Our round trip to the relay, and how long it takes to get a lost packet of each feed back
 * from its publisher: the feeds' jitter buffers wait for that (playout.h). A feed the message
 * does not list gets our round trip alone. */
static gboolean
repair_figure(JsonObject *o, const gchar *name, guint *out)
{
  gdouble v = o != NULL ? tm_json_number(o, name, -1) : -1;

  if (!(v >= 0 && v <= REPAIR_MAX_MS))
    return FALSE;
  *out = (guint) v;
  return TRUE;
}

static void
on_repair(TmAttendance *a, JsonObject *m)
{
  JsonArray *feeds = tm_json_array(m, "feeds");
  guint own = 0;

  if (a->call == NULL || !repair_figure(m, "rtt_ms", &own)) {
    g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "a \"repair\" message not understood; ignored");
    return;
  }
  for (guint i = 0; i < tm_roster_n_remotes(&a->roster); i++) {
    TmRemote *remote = tm_roster_remote_at(&a->roster, i);
    TmRepair repair = { .own_rtt_ms = own };

    for (guint j = 0; feeds != NULL && j < json_array_get_length(feeds); j++) {
      JsonObject *f = tm_json_object_at(feeds, j);
      if (g_strcmp0(f != NULL ? tm_json_string(f, "id") : NULL, remote->id) != 0)
        continue;
      if (!(repair_figure(f, "rtt_ms", &repair.rtt_ms) &&
            repair_figure(f, "retry_ms", &repair.retry_ms)))
        repair.rtt_ms = repair.retry_ms = 0;
      /* optional (relays before it did not send it) */
      if (!repair_figure(f, "repair_ms", &repair.repair_ms))
        repair.repair_ms = 0;
    }
    tm_call_set_repair(a->call, remote->id, &repair);
  }
}

typedef struct {
  const gchar *type;
  void (*handle)(TmAttendance *a, JsonObject *message);
} Handler;

static const Handler handlers[] = {
  { "joined", on_joined },
  { "participant-joined", on_participant_joined },
  { "participant-state", on_participant_joined },
  { "participant-published", on_participant_published },
  { "participant-left", on_participant_left },
  { "answer", on_answer },
  { "candidate", on_candidate },
  { "error", on_error },
  { "state", on_state },
  { "muted", on_muted },
  { "unmute-request", on_unmute_request },
  { "hearing-ended", on_hearing_ended },
  { "shutdown", on_shutdown },
  { "recording", on_recording },
  { "done", on_done },
  { "status", on_status },
  { "waiting", on_waiting },
  { "link-quality", on_link_quality },
  { "repair", on_repair },
};

static void
on_message(gpointer user_data, const gchar *type, JsonObject *message)
{
  TmAttendance *a = user_data;

  a->heard_us = g_get_monotonic_time();
  if (a->app->finishing)
    return;
  for (guint i = 0; i < G_N_ELEMENTS(handlers); i++) {
    if (g_strcmp0(type, handlers[i].type) != 0)
      continue;
    if (!a->joined && g_strcmp0(type, "joined") != 0 && g_strcmp0(type, "error") != 0) {
      g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "\"%s\" before \"joined\"; ignored", type);
      return;
    }
    handlers[i].handle(a, message);
    return;
  }
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "message \"%s\" ignored", type);
}

/* ---- signalling listener ---- */

static void
on_connected(gpointer user_data)
{
  TmAttendance *a = user_data;
  g_autoptr(JsonObject) join = json_object_new();

  if (a->app->finishing) {
    tm_signalling_close(a->signalling);
    return;
  }
  json_object_set_string_member(join, "type", "join");
  json_object_set_string_member(join, "token", a->app->options.token);
  if (a->reconnecting && a->resume != NULL)
    json_object_set_string_member(join, "resume", a->resume);
  tm_signalling_send(a->signalling, join);
  a->join_timeout_id = g_timeout_add_seconds(JOIN_TIMEOUT_S, on_join_timeout, a);
}

/* The first connection timed out: a slow or lossy link (TCP's retransmissions back off, and a
 * handshake whose packets are lost repeatedly runs into the 15 s timeout), not a wrong address
 * (refused, no route) or a wrong certificate, which fail at once. Tried again, 0.5 to 4 s
 * apart, for FIRST_CONNECT_S; TRUE while it is. */
static gboolean
try_first_connection_again(TmAttendance *a, const GError *error)
{
  gint64 now = g_get_monotonic_time();
  guint delay = reconnect_delay_ms(a);

  if (a->joined || a->resume != NULL ||
      !g_error_matches(error, TM_SIGNALLING_ERROR, TM_SIGNALLING_ERROR_TIMED_OUT))
    return FALSE;
  if (a->first_failed_us == 0) {
    a->first_failed_us = now;
    warn("%s; trying again for up to %d s", error->message, FIRST_CONNECT_S);
  }
  if (now + delay * 1000 > a->first_failed_us + FIRST_CONNECT_S * G_USEC_PER_SEC)
    return FALSE;
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "not yet: %s", error->message);
  connect_again_in(a, delay);
  return TRUE;
}

static void
on_connect_failed(gpointer user_data, const GError *error)
{
  TmAttendance *a = user_data;

  if (a->app->finishing) {
    tm_app_quit(a->app);
    return;
  }
  if (a->reconnecting) {
    g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "not yet: %s", error->message);
    schedule_reconnect(a);
    return;
  }
  if (try_first_connection_again(a, error))
    return;
  if (a->first_failed_us != 0)
    fail(a, TM_EXIT_CONNECTION, "%s, for %d s", error->message, FIRST_CONNECT_S);
  else
    fail(a, TM_EXIT_CONNECTION, "%s", error->message);
}

static void
on_closed(gpointer user_data, gushort code, const gchar *reason)
{
  TmAttendance *a = user_data;

  if (a->app->finishing) {
    tm_app_quit(a->app);
    return;
  }
  g_clear_handle_id(&a->join_timeout_id, g_source_remove);
  if (a->reconnecting) {
    schedule_reconnect(a);
    return;
  }
  if (a->joined && a->resume != NULL && a->grace_s > 0) {
    start_reconnecting(a, reason != NULL && reason[0] != '\0' ? reason : "closed");
    return;
  }
  if (!a->joined)
    fail(a, TM_EXIT_REFUSED,
         "the relay closed the connection without accepting the "
         "join%s%s",
         reason != NULL && reason[0] != '\0' ? ": " : "", reason != NULL ? reason : "");
  else
    fail(a, TM_EXIT_CONNECTION, "the relay closed the connection%s%s",
         reason != NULL && reason[0] != '\0' ? ": " : "", reason != NULL ? reason : "");
}

/* ---- call listener ---- */

static void
on_offer(gpointer user_data, const gchar *target, const gchar *sdp)
{
  TmAttendance *a = user_data;
  g_autoptr(JsonObject) m = json_object_new();

  if (g_strcmp0(target, "publish") == 0) {
    json_object_set_string_member(m, "type", "publish");
  } else {
    json_object_set_string_member(m, "type", "subscribe");
    json_object_set_string_member(m, "feed", target);
    g_queue_push_tail(&a->awaiting, g_strdup(target));
  }
  json_object_set_string_member(m, "sdp", sdp);
  if (g_getenv("TESTIMONY_CLIENT_PRINT_OFFER") != NULL)
    g_printerr("--- offer for %s ---\n%s", target, sdp);
  send_when_joined(a, m);
}

static void
on_local_candidate(gpointer user_data, const gchar *target, guint mline, const gchar *candidate)
{
  TmAttendance *a = user_data;
  g_autoptr(JsonObject) m = json_object_new();

  json_object_set_string_member(m, "type", "candidate");
  json_object_set_string_member(m, "target", target);
  json_object_set_string_member(m, "candidate", candidate);
  json_object_set_int_member(m, "sdpMLineIndex", mline);
  send_when_joined(a, m);
}

static void
on_media_failed(gpointer user_data, const gchar *message)
{
  fail(user_data, TM_EXIT_MEDIA, "%s", message);
}

static void
on_publish_failed(gpointer user_data, const gchar *message)
{
  TmAttendance *a = user_data;

  if (a->joined)
    restart_publish(a, message);
  /* else: made again once the session is continued */
}

static void
on_feed_failed(gpointer user_data, const gchar *feed, const gchar *message)
{
  TmAttendance *a = user_data;
  TmRemote *remote = tm_roster_lookup(&a->roster, feed);
  g_autoptr(JsonObject) m = json_object_new();

  warn("%s", message);
  if (remote != NULL)
    remote->subscribed = FALSE;
  json_object_set_string_member(m, "type", "unsubscribe");
  json_object_set_string_member(m, "feed", feed);
  tm_signalling_send(a->signalling, m);
}

static const TmCallListener call_listener = {
  .offer = on_offer,
  .candidate = on_local_candidate,
  .failed = on_media_failed,
  .publish_failed = on_publish_failed,
  .feed_failed = on_feed_failed,
};

static const TmSignallingListener signalling_listener = {
  .connected = on_connected,
  .connect_failed = on_connect_failed,
  .message = on_message,
  .closed = on_closed,
};

static gboolean
on_duration(gpointer user_data)
{
  TmAttendance *a = user_data;

  a->duration_id = 0;
  if (!a->joined)
    fail(a, TM_EXIT_CONNECTION,
         "the relay at %s did not accept the join within "
         "--duration %d s",
         a->app->options.relay, a->app->options.duration);
  else
    tm_attendance_leave(a);
  return G_SOURCE_REMOVE;
}

/* ---- court listener ---- */

static gboolean
court_send(gpointer user_data, JsonObject *message)
{
  TmAttendance *a = user_data;

  return tm_signalling_send(a->signalling, message);
}

static void
court_show_waiting(gpointer user_data, const gchar *text)
{
  TmAttendance *a = user_data;

  tm_call_set_indicator(a->call, TM_DISPLAY_INDICATOR_WAITING, text);
}

static const TmCourtListener court_listener = {
  .send = court_send,
  .show_waiting = court_show_waiting,
};

/* ---- life cycle ---- */

TmAttendance *
tm_attendance_new(TmApp *app, TmReport *report, GError **error)
{
  TmAttendance *a = g_new0(TmAttendance, 1);

  a->app = app;
  a->report = report;
  a->recording = "stopped";
  tm_roster_init(&a->roster);
  a->court = tm_court_new(app, &a->roster, &court_listener, a);
  a->signalling =
    tm_signalling_new(app->options.relay, app->options.ca_file, &signalling_listener, a, error);
  if (a->signalling == NULL) {
    tm_attendance_free(a);
    return NULL;
  }
  return a;
}

gboolean
tm_attendance_start_media(TmAttendance *a, const gchar *publish_description,
                          const gchar *const *media_addresses, GError **error)
{
  TmCallDisplay shown = a->app->options.headless ? TM_CALL_HEADLESS
    : a->app->options.kiosk                      ? TM_CALL_KIOSK
                                                 : TM_CALL_WINDOW;

  a->call = tm_call_new(publish_description, shown, media_addresses, &call_listener, a, error);
  return a->call != NULL && tm_call_start(a->call, error);
}

TmCourt *
tm_attendance_get_court(TmAttendance *a)
{
  return a->court;
}

void
tm_attendance_connect(TmAttendance *a)
{
  if (a->app->options.duration > 0)
    a->duration_id = g_timeout_add_seconds((guint) a->app->options.duration, on_duration, a);
  tm_signalling_connect(a->signalling);
}

void
tm_attendance_free(TmAttendance *a)
{
  if (a == NULL)
    return;
  g_clear_handle_id(&a->join_timeout_id, g_source_remove);
  g_clear_handle_id(&a->duration_id, g_source_remove);
  g_clear_handle_id(&a->report_id, g_source_remove);
  g_clear_handle_id(&a->ping_id, g_source_remove);
  g_clear_handle_id(&a->reconnect_id, g_source_remove);
  g_queue_clear_full(&a->pending, (GDestroyNotify) json_object_unref);
  g_queue_clear_full(&a->awaiting, g_free);
  g_free(a->resume);
  if (a->joined)
    write_report(a); /* the last line */
  tm_call_free(a->call);
  tm_signalling_free(a->signalling);
  tm_report_close(a->report);
  tm_court_free(a->court);
  tm_roster_clear(&a->roster);
  g_free(a->title);
  g_free(a);
}
