/* attendance.c — the signalling conversation of one participant (docs/protocol.md): join, the
 * participant list, publish and subscribe offers and answers, trickle ICE, leave; plus the
 * timers (join timeout, report, keep-alive, --duration). */
#include "app.h"

#include <stdarg.h>

#define LOG_DOMAIN "testimony-hearing"
#define JOIN_TIMEOUT_S 20
#define PING_INTERVAL_S 20
#define LEAVE_GRACE_MS 2000

/* A warning for a person (through main.c's log handler). */
#define warn(...) g_log(LOG_DOMAIN, G_LOG_LEVEL_WARNING, __VA_ARGS__)

/* Sends leave (if the session is open) and quits when the relay closes, or after a grace. */
static void
finish(TmApp *app)
{
  app->finishing = TRUE;
  if (app->signalling != NULL && tm_signalling_is_open(app->signalling)) {
    if (app->joined)
      tm_signalling_send_type(app->signalling, "leave");
    else
      tm_signalling_close(app->signalling);
    tm_app_quit_later(app, LEAVE_GRACE_MS);
    return;
  }
  tm_app_quit(app);
}

/* A fatal condition: its one line on stderr, then leave (the first one only). */
static void
fail(TmApp *app, TmExitStatus status, const gchar *format, ...) G_GNUC_PRINTF(3, 4);

static void
fail(TmApp *app, TmExitStatus status, const gchar *format, ...)
{
  va_list args;
  g_autofree gchar *text = NULL;

  va_start(args, format);
  text = g_strdup_vprintf(format, args);
  va_end(args);
  if (tm_app_fail(app, status, "%s", text))
    finish(app);
}

void
tm_attendance_leave(TmApp *app)
{
  if (app->finishing)
    return;
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "leaving the hearing");
  finish(app);
}

/* ---- remotes ---- */

void
tm_remote_free(TmRemote *remote)
{
  g_free(remote->id);
  g_free(remote->name);
  g_free(remote->role);
  tm_analysis_unref(remote->analysis);
  g_free(remote);
}

static void
subscribe_remote(TmApp *app, TmRemote *remote)
{
  if (remote->subscribed || app->call == NULL)
    return;
  remote->subscribed = TRUE;
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "subscribing to %s", remote->id);
  tm_call_subscribe(app->call, remote->id, remote->name, remote->role, remote->analysis);
}

static TmRemote *
find_or_add_remote(TmApp *app, const gchar *id)
{
  TmRemote *remote = g_hash_table_lookup(app->remotes, id);

  if (remote != NULL || g_strcmp0(id, app->my_id) == 0)
    return remote;
  remote = g_new0(TmRemote, 1);
  remote->id = g_strdup(id);
  remote->name = g_strdup("");
  remote->role = g_strdup("");
  remote->analysis = tm_analysis_new(app->start_us);
  g_hash_table_insert(app->remotes, remote->id, remote);
  g_ptr_array_add(app->remote_order, remote->id);
  return remote;
}

/* A participant object (id, name, role, publishing) from joined or participant-joined. */
static void
add_participant(TmApp *app, JsonNode *node)
{
  JsonObject *p = node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node)
                                                                : NULL;
  const gchar *id = tm_json_string(p, "id");
  TmRemote *remote;

  if (id == NULL || id[0] == '\0') {
    warn("the relay announced a participant without an id; ignored");
    return;
  }
  remote = find_or_add_remote(app, id);
  if (remote == NULL)
    return;                                  /* ourselves */
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
    subscribe_remote(app, remote);
}

static void
drop_remote(TmApp *app, const gchar *id)
{
  TmRemote *remote = g_hash_table_lookup(app->remotes, id);

  if (remote == NULL)
    return;
  if (app->call != NULL)
    tm_call_unsubscribe(app->call, remote->id);
  g_ptr_array_remove(app->remote_order, remote->id);
  g_hash_table_remove(app->remotes, remote->id);
}

/* ---- report and timers ---- */

static void
write_report(TmApp *app)
{
  g_autofree TmReportRemote *rows = g_new0(TmReportRemote, app->remote_order->len + 1);
  TmReportSelf self = {
    .id = app->my_id, .name = app->my_name, .role = app->my_role,
    .state = app->waiting ? "waiting" : "admitted", .recording = app->recording,
  };
  g_autoptr(GError) error = NULL;

  if (app->report == NULL)
    return;
  for (guint i = 0; i < app->remote_order->len; i++) {
    TmRemote *remote = g_hash_table_lookup(app->remotes, g_ptr_array_index(app->remote_order, i));
    rows[i].id = remote->id;
    rows[i].name = remote->name;
    rows[i].role = remote->role;
    tm_analysis_snapshot(remote->analysis, &rows[i].snapshot);
  }
  if (!tm_report_write(app->report, (gdouble) g_get_real_time() / G_USEC_PER_SEC, &self, rows,
                       app->remote_order->len, &error)) {
    warn("%s; no more report lines", error->message);
    tm_report_close(app->report);
    app->report = NULL;
  }
}

void
tm_attendance_final_report(TmApp *app)
{
  if (app->joined)
    write_report(app);
}

static gboolean
on_report_tick(gpointer user_data)
{
  TmApp *app = user_data;

  write_report(app);
  if (app->report == NULL) {
    app->report_id = 0;
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_ping_tick(gpointer user_data)
{
  TmApp *app = user_data;

  tm_signalling_send_type(app->signalling, "ping");
  return G_SOURCE_CONTINUE;
}

static gboolean
on_join_timeout(gpointer user_data)
{
  TmApp *app = user_data;

  app->join_timeout_id = 0;
  fail(app, TM_EXIT_CONNECTION, "the relay at %s did not answer the join within %d s",
              app->options.relay, JOIN_TIMEOUT_S);
  return G_SOURCE_REMOVE;
}

/* ---- relay -> client messages ---- */

static void
set_title(TmApp *app, const gchar *title)
{
  g_free(app->title);
  app->title = title != NULL && title[0] != '\0' ? g_strdup(title) : NULL;
}

/* The waiting room: a notice, and a calm slate on the window until the court admits us. */
static void
show_waiting(TmApp *app, gboolean waiting)
{
  g_autofree gchar *slate = NULL;

  app->waiting = waiting;
  if (!waiting) {
    tm_app_notice("admitted to the hearing");
    tm_call_set_slate(app->call, NULL);
    return;
  }
  tm_app_notice("waiting to be admitted to %s", app->title != NULL ? app->title : "the hearing");
  slate = g_strdup_printf("%s\n\nPlease wait. The court will admit you shortly.",
                          app->title != NULL ? app->title : "Hearing");
  tm_call_set_slate(app->call, slate);
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
set_recording(TmApp *app, const gchar *state, const gchar *path, gboolean joining)
{
  const gchar *recording = recording_state(state);

  if (recording == NULL) {
    g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "recording state \"%s\" ignored",
          state != NULL ? state : "(none)");
    return;
  }
  if (g_strcmp0(recording, app->recording) == 0 && !joining)
    return;
  app->recording = recording;
  if (g_str_equal(recording, "recording")) {
    tm_app_notice("this hearing is being recorded");
    tm_call_set_indicator(app->call, TM_DISPLAY_INDICATOR_RECORDING,
                          "<span foreground=\"#ff4d4d\">\u25CF</span> REC");
  } else if (g_str_equal(recording, "paused")) {
    tm_app_notice("the recording is paused");
    tm_call_set_indicator(app->call, TM_DISPLAY_INDICATOR_RECORDING,
                          "<span foreground=\"#a0a0a0\">\u25CF</span> REC paused");
  } else {
    if (!joining && path != NULL && tm_court_is_staff(app))
      tm_app_notice("the recording has stopped; it is saved as %s", path);
    else if (!joining)
      tm_app_notice("the recording has stopped");
    tm_call_set_indicator(app->call, TM_DISPLAY_INDICATOR_RECORDING, NULL);
  }
}

/* Sends M now if joined, else once joined: the media starts while we connect (the offer is
 * ready sooner), but nothing about it may reach the relay before the join is accepted. */
static void
send_when_joined(TmApp *app, JsonObject *m)
{
  if (app->joined)
    tm_signalling_send(app->signalling, m);
  else
    g_queue_push_tail(&app->pending, json_object_ref(m));
}

/* Whether M belongs to the publish connection (its offer or one of its candidates). */
static gboolean
is_publish_message(JsonObject *m)
{
  return g_strcmp0(tm_json_string(m, "type"), "publish") == 0 ||
         g_strcmp0(tm_json_string(m, "target"), "publish") == 0;
}

static void
flush_pending(TmApp *app)
{
  JsonObject *m;

  while ((m = g_queue_pop_head(&app->pending)) != NULL) {
    if (!app->receive_only || !is_publish_message(m))
      tm_signalling_send(app->signalling, m);
    json_object_unref(m);
  }
}

/* Observers receive but never publish (and the relay refuses a publish from a role it does not
 * let publish): stop the capture and carry on receiving. */
static void
stop_publishing(TmApp *app, const gchar *why)
{
  if (app->receive_only)
    return;
  app->receive_only = TRUE;
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "receiving only: %s", why);
  tm_call_stop_publishing(app->call);
}

void
tm_attendance_clear_pending(TmApp *app)
{
  g_queue_clear_full(&app->pending, (GDestroyNotify) json_object_unref);
  g_queue_clear_full(&app->awaiting, g_free);
}

static void
answered(TmApp *app, const gchar *feed)
{
  GList *link = g_queue_find_custom(&app->awaiting, feed, (GCompareFunc) g_strcmp0);

  if (link != NULL) {
    g_free(link->data);
    g_queue_delete_link(&app->awaiting, link);
  }
}

/* The relay refused our oldest unanswered subscribe: drop that connection; a later
 * participant-published subscribes again. */
static void
subscribe_refused(TmApp *app, const gchar *text)
{
  g_autofree gchar *feed = g_queue_pop_head(&app->awaiting);
  TmRemote *remote;

  if (feed == NULL)
    return;
  warn("the relay refused to send us %s: %s", feed, text);
  tm_call_unsubscribe(app->call, feed);
  remote = g_hash_table_lookup(app->remotes, feed);
  if (remote != NULL)
    remote->subscribed = FALSE;
}

static void
on_joined(TmApp *app, JsonObject *m)
{
  JsonNode *list = json_object_get_member(m, "participants");

  if (app->joined) {
    warn("the relay sent \"joined\" twice; ignored");
    return;
  }
  if (tm_json_string(m, "id") == NULL) {
    fail(app, TM_EXIT_REFUSED, "the relay accepted the join but sent no participant id");
    return;
  }
  app->joined = TRUE;
  g_clear_handle_id(&app->join_timeout_id, g_source_remove);
  app->my_id = g_strdup(tm_json_string(m, "id"));
  app->my_name = g_strdup(tm_json_string(m, "name"));
  app->my_role = g_strdup(tm_json_string(m, "role"));
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "joined as %s (%s)", app->my_id,
        app->my_role != NULL ? app->my_role : "?");
  if (g_strcmp0(app->my_role, "observer") == 0)
    stop_publishing(app, "observers never publish");
  flush_pending(app);
  set_title(app, tm_json_string(m, "title"));
  if (g_strcmp0(tm_json_string(m, "state"), "waiting") == 0)
    show_waiting(app, TRUE);
  if (tm_json_string(m, "recording") != NULL)
    set_recording(app, tm_json_string(m, "recording"), NULL, TRUE);
  if (list != NULL && JSON_NODE_HOLDS_ARRAY(list)) {
    JsonArray *array = json_node_get_array(list);
    for (guint i = 0; i < json_array_get_length(array); i++)
      add_participant(app, json_array_get_element(array, i));
  }
  app->ping_id = g_timeout_add_seconds(PING_INTERVAL_S, on_ping_tick, app);
  if (app->report != NULL)
    app->report_id = g_timeout_add(1000, on_report_tick, app);
  tm_court_joined(app);
}

static void
on_participant_joined(TmApp *app, JsonObject *m)
{
  add_participant(app, json_object_get_member(m, "participant"));
}

static void
on_participant_published(TmApp *app, JsonObject *m)
{
  const gchar *id = tm_json_string(m, "id");
  TmRemote *remote = id != NULL ? find_or_add_remote(app, id) : NULL;

  if (remote == NULL)
    return;
  remote->publishing = TRUE;
  subscribe_remote(app, remote);
}

static void
on_participant_left(TmApp *app, JsonObject *m)
{
  const gchar *id = tm_json_string(m, "id");

  if (id == NULL)
    return;
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "participant %s left (%s)", id,
        tm_json_string(m, "reason") != NULL ? tm_json_string(m, "reason") : "?");
  drop_remote(app, id);
}

static void
on_answer(TmApp *app, JsonObject *m)
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
  answered(app, target);
  if (tm_call_apply_answer(app->call, target, sdp, &error))
    return;
  if (g_strcmp0(target, "publish") == 0) {
    fail(app, TM_EXIT_MEDIA, "%s", error->message);
    return;
  }
  if (g_error_matches(error, TM_CALL_ERROR, TM_CALL_ERROR_UNKNOWN_TARGET)) {
    g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "%s (feed already gone)", error->message);
    return;
  }
  warn("%s; not receiving %s", error->message, target);
  tm_call_unsubscribe(app->call, target);
}

static void
on_candidate(TmApp *app, JsonObject *m)
{
  const gchar *target = tm_json_string(m, "target");
  const gchar *candidate = tm_json_string(m, "candidate");
  gint64 mline = tm_json_int(m, "sdpMLineIndex", 0);
  g_autoptr(GError) error = NULL;

  if (target == NULL || candidate == NULL || mline < 0 || mline > 63) {
    warn("the relay sent a malformed candidate; ignored");
    return;
  }
  if (!tm_call_add_candidate(app->call, target, (guint) mline, candidate, &error))
    g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "%s; ignored", error->message);
}

static gboolean
is_token_error(const gchar *code)
{
  static const gchar *const codes[] = { "bad-token", "token-expired", "token-not-yet-valid",
                                        "wrong-hearing", "token-in-use", "token-revoked", NULL };

  return code != NULL && g_strv_contains(codes, code);
}

/* Errors after which the relay closes the session. */
static gboolean
is_closing_error(const gchar *code)
{
  static const gchar *const codes[] = { "too-large", "refused", "removed", "hearing-ended",
                                        "hearing-locked", "hearing-full", NULL };

  return code != NULL && g_strv_contains(codes, code);
}

static void
on_error(TmApp *app, JsonObject *m)
{
  const gchar *code = tm_json_string(m, "code");
  const gchar *message = tm_json_string(m, "message");
  const gchar *ref = tm_json_string(m, "ref");
  const gchar *text = message != NULL && message[0] != '\0' ? message
                      : code != NULL ? code : "no reason given";

  if (is_token_error(code)) {
    fail(app, TM_EXIT_REFUSED, "the relay refused the join token: %s", text);
  } else if (!app->joined || g_strcmp0(ref, "join") == 0) {
    fail(app, TM_EXIT_REFUSED, "the relay refused the join: %s", text);
  } else if (g_strcmp0(ref, "publish") == 0 && g_strcmp0(code, "forbidden") == 0) {
    warn("the relay does not let this participant publish (%s); receiving only", text);
    stop_publishing(app, text);
  } else if (g_strcmp0(ref, "publish") == 0) {
    fail(app, TM_EXIT_MEDIA, "the relay refused our media offer: %s", text);
  } else if (g_strcmp0(ref, "subscribe") == 0) {
    subscribe_refused(app, text);
  } else if (g_strcmp0(code, "refused") == 0 || g_strcmp0(code, "removed") == 0) {
    fail(app, TM_EXIT_REFUSED, "%s", text);
  } else if (is_closing_error(code)) {
    fail(app, TM_EXIT_CONNECTION, "the relay closed the session: %s", text);
  } else if (tm_court_on_error(app, ref, text)) {
    return;
  } else {
    warn("the relay refused a %s message: %s (%s)", ref != NULL ? ref : "",
         text, code != NULL ? code : "?");
  }
}

static void
on_state(TmApp *app, JsonObject *m)
{
  const gchar *state = tm_json_string(m, "state");

  if (tm_json_string(m, "title") != NULL)
    set_title(app, tm_json_string(m, "title"));
  if (g_strcmp0(state, "waiting") == 0)
    show_waiting(app, TRUE);
  else if (g_strcmp0(state, "admitted") == 0)
    show_waiting(app, FALSE);
}

static void
on_muted(TmApp *app, JsonObject *m)
{
  const gchar *track = tm_json_string(m, "track");
  JsonNode *muted = json_object_get_member(m, "muted");
  gboolean on = muted != NULL && json_node_get_value_type(muted) == G_TYPE_BOOLEAN &&
                json_node_get_boolean(muted);

  if (g_strcmp0(track, "audio") == 0)
    tm_app_notice(on ? "the court muted your microphone" : "your microphone is heard again");
  else if (g_strcmp0(track, "video") == 0)
    tm_app_notice(on ? "the court stopped your picture" : "your picture is shown again");
}

static void
on_unmute_request(TmApp *app, JsonObject *m)
{
  tm_app_notice("the judge asks you to unmute your microphone");
}

static void
on_recording(TmApp *app, JsonObject *m)
{
  set_recording(app, tm_json_string(m, "state"), tm_json_string(m, "path"), FALSE);
}

static void
on_hearing_ended(TmApp *app, JsonObject *m)
{
  tm_app_notice("the judge ended the hearing");
  tm_attendance_leave(app);
}

typedef struct {
  const gchar *type;
  void (*handle)(TmApp *app, JsonObject *message);
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
  { "recording", on_recording },
  { "done", tm_court_on_done },
  { "status", tm_court_on_status },
  { "waiting", tm_court_on_waiting },
  { "link-quality", tm_court_on_link_quality },
};

static void
on_message(gpointer user_data, const gchar *type, JsonObject *message)
{
  TmApp *app = user_data;

  if (app->finishing)
    return;
  for (guint i = 0; i < G_N_ELEMENTS(handlers); i++) {
    if (g_strcmp0(type, handlers[i].type) != 0)
      continue;
    if (!app->joined && g_strcmp0(type, "joined") != 0 && g_strcmp0(type, "error") != 0) {
      g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "\"%s\" before \"joined\"; ignored",
            type);
      return;
    }
    handlers[i].handle(app, message);
    return;
  }
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "message \"%s\" ignored", type);
}

/* ---- signalling listener ---- */

static void
on_connected(gpointer user_data)
{
  TmApp *app = user_data;
  g_autoptr(JsonObject) join = json_object_new();

  if (app->finishing) {
    tm_signalling_close(app->signalling);
    return;
  }
  json_object_set_string_member(join, "type", "join");
  json_object_set_string_member(join, "token", app->options.token);
  tm_signalling_send(app->signalling, join);
  app->join_timeout_id = g_timeout_add_seconds(JOIN_TIMEOUT_S,
                                               on_join_timeout, app);
}

static void
on_connect_failed(gpointer user_data, const GError *error)
{
  TmApp *app = user_data;

  if (app->finishing) {
    tm_app_quit(app);
    return;
  }
  fail(app, TM_EXIT_CONNECTION, "%s", error->message);
}

static void
on_closed(gpointer user_data, gushort code, const gchar *reason)
{
  TmApp *app = user_data;

  if (app->finishing) {
    tm_app_quit(app);
    return;
  }
  if (!app->joined)
    fail(app, TM_EXIT_REFUSED, "the relay closed the connection without accepting the "
                "join%s%s", reason != NULL && reason[0] != '\0' ? ": " : "",
                reason != NULL ? reason : "");
  else
    fail(app, TM_EXIT_CONNECTION, "the relay closed the connection%s%s",
                reason != NULL && reason[0] != '\0' ? ": " : "", reason != NULL ? reason : "");
}

/* ---- call listener ---- */

static void
on_offer(gpointer user_data, const gchar *target, const gchar *sdp)
{
  TmApp *app = user_data;
  g_autoptr(JsonObject) m = json_object_new();

  if (g_strcmp0(target, "publish") == 0) {
    json_object_set_string_member(m, "type", "publish");
  } else {
    json_object_set_string_member(m, "type", "subscribe");
    json_object_set_string_member(m, "feed", target);
    g_queue_push_tail(&app->awaiting, g_strdup(target));
  }
  json_object_set_string_member(m, "sdp", sdp);
  if (g_getenv("TESTIMONY_CLIENT_PRINT_OFFER") != NULL)
    g_printerr("--- offer for %s ---\n%s", target, sdp);
  send_when_joined(app, m);
}

static void
on_local_candidate(gpointer user_data, const gchar *target, guint mline,
                   const gchar *candidate)
{
  TmApp *app = user_data;
  g_autoptr(JsonObject) m = json_object_new();

  json_object_set_string_member(m, "type", "candidate");
  json_object_set_string_member(m, "target", target);
  json_object_set_string_member(m, "candidate", candidate);
  json_object_set_int_member(m, "sdpMLineIndex", mline);
  send_when_joined(app, m);
}

static void
on_media_failed(gpointer user_data, const gchar *message)
{
  fail(user_data, TM_EXIT_MEDIA, "%s", message);
}

static void
on_feed_failed(gpointer user_data, const gchar *feed, const gchar *message)
{
  TmApp *app = user_data;
  TmRemote *remote = g_hash_table_lookup(app->remotes, feed);
  g_autoptr(JsonObject) m = json_object_new();

  warn("%s", message);
  if (remote != NULL)
    remote->subscribed = FALSE;
  json_object_set_string_member(m, "type", "unsubscribe");
  json_object_set_string_member(m, "feed", feed);
  tm_signalling_send(app->signalling, m);
}

const TmCallListener tm_attendance_call_listener = {
  .offer = on_offer,
  .candidate = on_local_candidate,
  .failed = on_media_failed,
  .feed_failed = on_feed_failed,
};

const TmSignallingListener tm_attendance_signalling_listener = {
  .connected = on_connected,
  .connect_failed = on_connect_failed,
  .message = on_message,
  .closed = on_closed,
};

static gboolean
on_duration(gpointer user_data)
{
  TmApp *app = user_data;

  app->duration_id = 0;
  if (!app->joined)
    fail(app, TM_EXIT_CONNECTION, "the relay at %s did not accept the join within "
                "--duration %d s", app->options.relay, app->options.duration);
  else
    tm_attendance_leave(app);
  return G_SOURCE_REMOVE;
}

void
tm_attendance_connect(TmApp *app)
{
  if (app->options.duration > 0)
    app->duration_id = g_timeout_add_seconds((guint) app->options.duration,
                                             on_duration, app);
  tm_signalling_connect(app->signalling);
}

void
tm_attendance_clear_timers(TmApp *app)
{
  g_clear_handle_id(&app->join_timeout_id, g_source_remove);
  g_clear_handle_id(&app->duration_id, g_source_remove);
  g_clear_handle_id(&app->report_id, g_source_remove);
  g_clear_handle_id(&app->ping_id, g_source_remove);
  g_clear_handle_id(&app->quit_id, g_source_remove);
}
