/* bench-signal.c — the load generator's signalling: the relay's WebSocket protocol
 * (docs/protocol.md) and the Janus API over its WebSocket transport with the videoroom plugin.
 * One WebSocket per participant, as real clients do. */
#include <json-glib/json-glib.h>
#include <string.h>

#include "loadgen.h"

enum { JANUS_CREATE, JANUS_ATTACH, JANUS_JOIN, JANUS_MEDIA };

static void
send_builder(Participant *p, JsonBuilder *b)
{
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autofree char *text = json_to_string(root, FALSE);
  if (p->ws != NULL && soup_websocket_connection_get_state(p->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text(p->ws, text);
}

void
bench_json_string(JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name(b, name);
  json_builder_add_string_value(b, value);
}

void
bench_json_int(JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name(b, name);
  json_builder_add_int_value(b, value);
}

void
bench_json_double(JsonBuilder *b, const char *name, double value)
{
  json_builder_set_member_name(b, name);
  json_builder_add_double_value(b, value);
}

static const char *
member_string(JsonObject *o, const char *name)
{
  JsonNode *n = o != NULL ? json_object_get_member(o, name) : NULL;
  return n != NULL && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
    ? json_node_get_string(n)
    : NULL;
}

static JsonObject *
member_object(JsonObject *o, const char *name)
{
  JsonNode *n = o != NULL ? json_object_get_member(o, name) : NULL;
  return n != NULL && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

/* ---- the relay ---- */

static void
testimony_send_sdp(Participant *p, const char *type, const char *feed)
{
  g_autofree char *offer = loadgen_offer(p);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  bench_json_string(b, "type", type);
  if (feed != NULL)
    bench_json_string(b, "feed", feed);
  bench_json_string(b, "sdp", offer);
  if (feed != NULL)
    loadgen_subscribed(p);
  send_builder(p, b);
}

static void
testimony_joined(Participant *p, JsonObject *msg)
{
  if (p->publisher) {
    p->h->publisher_id = g_strdup(member_string(msg, "id"));
    testimony_send_sdp(p, "publish", NULL);
    return;
  }
  JsonNode *list = json_object_get_member(msg, "participants");
  JsonArray *a = list != NULL && JSON_NODE_HOLDS_ARRAY(list) ? json_node_get_array(list) : NULL;
  for (guint i = 0; a != NULL && i < json_array_get_length(a); i++) {
    JsonObject *o = json_array_get_object_element(a, i);
    if (g_strcmp0(member_string(o, "id"), p->h->publisher_id) == 0) {
      testimony_send_sdp(p, "subscribe", p->h->publisher_id);
      return;
    }
  }
  loadgen_participant_failed(p, "the publisher is not in the hearing");
}

static void
testimony_message(Participant *p, JsonObject *msg)
{
  const char *type = member_string(msg, "type");
  if (g_strcmp0(type, "joined") == 0) {
    testimony_joined(p, msg);
  } else if (g_strcmp0(type, "answer") == 0) {
    if (!loadgen_remote_answer(p, member_string(msg, "sdp")))
      loadgen_participant_failed(p, "the relay's answer is unusable");
  } else if (g_strcmp0(type, "candidate") == 0 && p->conn != NULL) {
    bench_conn_add_candidate(p->conn, member_string(msg, "candidate"));
  } else if (g_strcmp0(type, "error") == 0) {
    g_printerr("loadgen: hearing %d participant %d: relay error %s: %s\n", p->h->index, p->index,
               member_string(msg, "code"), member_string(msg, "message"));
    loadgen_participant_failed(p, "signalling error");
  }
}

/* ---- Janus ---- */

static JsonBuilder *
janus_begin(Participant *p, const char *verb)
{
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  bench_json_string(b, "janus", verb);
  g_autofree char *txn = g_strdup_printf("t%u", ++p->txn);
  bench_json_string(b, "transaction", txn);
  if (p->session_id != 0)
    bench_json_int(b, "session_id", p->session_id);
  if (p->handle_id != 0)
    bench_json_int(b, "handle_id", p->handle_id);
  return b;
}

/* A videoroom request; JSEP_TYPE/SDP add a jsep member when not NULL. */
static void
janus_request(Participant *p, const char *request, const char *jsep_type, const char *sdp)
{
  g_autoptr(JsonBuilder) b = janus_begin(p, "message");
  json_builder_set_member_name(b, "body");
  json_builder_begin_object(b);
  bench_json_string(b, "request", request);
  if (g_str_equal(request, "join")) {
    bench_json_int(b, "room", JANUS_ROOM_BASE + p->h->index);
    bench_json_string(b, "ptype", p->publisher ? "publisher" : "subscriber");
    if (p->publisher) {
      bench_json_int(b, "id", 1);
    } else {
      json_builder_set_member_name(b, "streams");
      json_builder_begin_array(b);
      json_builder_begin_object(b);
      bench_json_int(b, "feed", 1);
      json_builder_end_object(b);
      json_builder_end_array(b);
    }
  } else if (g_str_equal(request, "publish")) {
    json_builder_set_member_name(b, "audio");
    json_builder_add_boolean_value(b, TRUE);
    json_builder_set_member_name(b, "video");
    json_builder_add_boolean_value(b, TRUE);
  }
  json_builder_end_object(b);
  if (jsep_type != NULL) {
    json_builder_set_member_name(b, "jsep");
    json_builder_begin_object(b);
    bench_json_string(b, "type", jsep_type);
    bench_json_string(b, "sdp", sdp);
    json_builder_end_object(b);
  }
  send_builder(p, b);
}

static void
janus_trickle_done(Participant *p)
{
  g_autoptr(JsonBuilder) b = janus_begin(p, "trickle");
  json_builder_set_member_name(b, "candidate");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "completed");
  json_builder_add_boolean_value(b, TRUE);
  json_builder_end_object(b);
  send_builder(p, b);
}

static void
janus_success(Participant *p, JsonObject *msg)
{
  JsonObject *data = member_object(msg, "data");
  if (p->janus_state == JANUS_CREATE && data != NULL) {
    p->session_id = json_object_get_int_member_with_default(data, "id", 0);
    p->janus_state = JANUS_ATTACH;
    g_autoptr(JsonBuilder) b = janus_begin(p, "attach");
    bench_json_string(b, "plugin", "janus.plugin.videoroom");
    send_builder(p, b);
  } else if (p->janus_state == JANUS_ATTACH && data != NULL) {
    p->handle_id = json_object_get_int_member_with_default(data, "id", 0);
    p->janus_state = JANUS_JOIN;
    if (!p->publisher)
      loadgen_subscribed(p);
    janus_request(p, "join", NULL, NULL);
  }
}

static void
janus_event(Participant *p, JsonObject *msg)
{
  JsonObject *data = member_object(member_object(msg, "plugindata"), "data");
  JsonObject *jsep = member_object(msg, "jsep");
  const char *what = member_string(data, "videoroom");
  if (data != NULL && json_object_has_member(data, "error")) {
    g_printerr("loadgen: hearing %d participant %d: janus error: %s\n", p->h->index, p->index,
               member_string(data, "error"));
    loadgen_participant_failed(p, "videoroom error");
  } else if (p->publisher && g_strcmp0(what, "joined") == 0 && p->conn == NULL) {
    g_autofree char *offer = loadgen_offer(p);
    p->janus_state = JANUS_MEDIA;
    janus_request(p, "publish", "offer", offer);
    janus_trickle_done(p);
  } else if (jsep != NULL && g_strcmp0(member_string(jsep, "type"), "answer") == 0) {
    if (!loadgen_remote_answer(p, member_string(jsep, "sdp")))
      loadgen_participant_failed(p, "janus's answer is unusable");
  } else if (jsep != NULL && g_strcmp0(member_string(jsep, "type"), "offer") == 0) {
    g_autofree char *answer = loadgen_answer_offer(p, member_string(jsep, "sdp"));
    if (answer == NULL) {
      loadgen_participant_failed(p, "janus's offer cannot be answered");
      return;
    }
    p->janus_state = JANUS_MEDIA;
    janus_request(p, "start", "answer", answer);
    janus_trickle_done(p);
  }
}

static void
janus_message(Participant *p, JsonObject *msg)
{
  const char *verb = member_string(msg, "janus");
  if (g_strcmp0(verb, "success") == 0) {
    janus_success(p, msg);
  } else if (g_strcmp0(verb, "event") == 0) {
    janus_event(p, msg);
  } else if (g_strcmp0(verb, "trickle") == 0 && p->conn != NULL) {
    JsonObject *c = member_object(msg, "candidate");
    if (c != NULL && member_string(c, "candidate") != NULL)
      bench_conn_add_candidate(p->conn, member_string(c, "candidate"));
  } else if (g_strcmp0(verb, "error") == 0 || g_strcmp0(verb, "hangup") == 0) {
    JsonObject *e = member_object(msg, "error");
    g_printerr("loadgen: hearing %d participant %d: janus %s: %s\n", p->h->index, p->index, verb,
               e != NULL ? member_string(e, "reason") : member_string(msg, "reason"));
    loadgen_participant_failed(p, "janus refused");
  }
}

static gboolean
janus_keepalive(gpointer data)
{
  Participant *p = data;
  if (p->session_id != 0) {
    g_autoptr(JsonBuilder) b = janus_begin(p, "keepalive");
    send_builder(p, b);
  }
  return G_SOURCE_CONTINUE;
}

/* ---- both ---- */

static void
on_message(SoupWebsocketConnection *ws, gint type, GBytes *bytes, gpointer data)
{
  Participant *p = data;
  gsize len = 0;
  const char *text = g_bytes_get_data(bytes, &len);
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!json_parser_load_from_data(parser, text, (gssize) len, NULL))
    return;
  JsonNode *root = json_parser_get_root(parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
    return;
  if (p->lg->sfu == SFU_TESTIMONY)
    testimony_message(p, json_node_get_object(root));
  else
    janus_message(p, json_node_get_object(root));
}

static void
on_closed(SoupWebsocketConnection *ws, gpointer data)
{
  Participant *p = data;
  loadgen_participant_failed(p, "signalling closed");
}

static void
on_connected(GObject *src, GAsyncResult *res, gpointer data)
{
  Participant *p = data;
  g_autoptr(GError) error = NULL;
  p->ws = soup_session_websocket_connect_finish(SOUP_SESSION(src), res, &error);
  if (p->ws == NULL) {
    g_printerr("loadgen: %s\n", error->message);
    loadgen_participant_failed(p, "no signalling connection");
    return;
  }
  g_signal_connect(p->ws, "message", G_CALLBACK(on_message), p);
  g_signal_connect(p->ws, "closed", G_CALLBACK(on_closed), p);
  if (p->lg->sfu == SFU_TESTIMONY) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    bench_json_string(b, "type", "join");
    bench_json_string(b, "token", p->token);
    send_builder(p, b);
  } else {
    p->janus_state = JANUS_CREATE;
    g_autoptr(JsonBuilder) b = janus_begin(p, "create");
    send_builder(p, b);
    g_timeout_add_seconds(20, janus_keepalive, p);
  }
}

void
bench_signal_open(Participant *p)
{
  g_autoptr(SoupMessage) msg = soup_message_new("GET", p->lg->url);
  const char *janus_protocols[] = { "janus-protocol", NULL };
  soup_session_websocket_connect_async(p->lg->session, msg, NULL,
                                       p->lg->sfu == SFU_JANUS ? (char **) janus_protocols : NULL,
                                       G_PRIORITY_DEFAULT, NULL, on_connected, p);
}

void
bench_signal_close(Participant *p)
{
  g_source_remove_by_user_data(p);
  if (p->ws == NULL)
    return;
  g_signal_handlers_disconnect_by_data(p->ws, p);
  if (soup_websocket_connection_get_state(p->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close(p->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_clear_object(&p->ws);
}
