/* fuzz-message.c — tm_message_parse() on the fuzz bytes as one frame.
 *
 * An accepted message must satisfy its type's contract (members present, within caps) and must
 * survive a round trip: written back with json-glib's generator and parsed again, it gives the
 * same message. Any broken property aborts. */
#include <json-glib/json-glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"

static void
check(gboolean ok)
{
  if (!ok)
    abort();
}

static gboolean
str_equal(const char *a, const char *b)
{
  return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static gboolean
str_within(const char *s, size_t min, size_t max)
{
  return s != NULL && strlen(s) >= min && strlen(s) <= max;
}

static void
check_contract(const TmMessage *m)
{
  check(m->storage != NULL && (unsigned) m->type < TM_MSG_COUNT);
  check(m->mline >= 0 && m->mline <= 15);
  switch (m->type) {
  case TM_MSG_JOIN: check(m->token != NULL); break;
  case TM_MSG_SUBSCRIBE: check(str_within(m->feed, 1, 64) && m->sdp != NULL); break;
  case TM_MSG_PUBLISH: check(m->sdp != NULL); break;
  case TM_MSG_UNSUBSCRIBE: check(str_within(m->feed, 1, 64)); break;
  case TM_MSG_DISPLAY: check(str_within(m->feed, 1, 64) && (m->video == 0 || m->video == 1)); break;
  case TM_MSG_CANDIDATE:
    check(str_within(m->target, 1, 64) && str_within(m->candidate, 0, 256));
    break;
  case TM_MSG_CONTROL:
    check(str_within(m->action, 1, 32) && m->on >= -1 && m->on <= 1);
    check(m->text == NULL || str_within(m->text, 1, 200));
    break;
  default: check(m->token == NULL && m->sdp == NULL && m->feed == NULL && m->target == NULL); break;
  }
}

static void
add_member(JsonBuilder *b, const char *name, const char *value)
{
  if (value == NULL)
    return;
  json_builder_set_member_name(b, name);
  json_builder_add_string_value(b, value);
}

static gchar *
message_to_json(const TmMessage *m, gsize *len)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  add_member(b, "type", tm_message_type_name(m->type));
  add_member(b, "token", m->token);
  add_member(b, "sdp", m->sdp);
  add_member(b, "feed", m->feed);
  add_member(b, "target", m->target);
  add_member(b, "candidate", m->candidate);
  if (m->type == TM_MSG_DISPLAY) {
    json_builder_set_member_name(b, "video");
    json_builder_add_boolean_value(b, m->video == 1);
  }
  if (m->type == TM_MSG_CANDIDATE) {
    json_builder_set_member_name(b, "sdpMLineIndex");
    json_builder_add_int_value(b, m->mline);
  }
  if (m->control) {
    json_builder_set_member_name(b, "control");
    json_builder_add_boolean_value(b, TRUE);
  }
  add_member(b, "action", m->action);
  if (m->type == TM_MSG_CONTROL)
    add_member(b, "target", m->ctl_target);
  add_member(b, "measure", m->measure);
  add_member(b, "op", m->op);
  add_member(b, "text", m->text);
  if (m->on >= 0) {
    json_builder_set_member_name(b, "on");
    json_builder_add_boolean_value(b, m->on == 1);
  }
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, root);
  return json_generator_to_data(gen, len);
}

static void
check_round_trip(const TmMessage *m)
{
  gsize len = 0;
  g_autofree gchar *json = message_to_json(m, &len);
  if (len > TM_MESSAGE_MAX_SIZE)
    return; /* escaping may grow a frame that was just under the cap */
  TmMessage again;
  const char *detail = NULL;
  check(tm_message_parse(json, len, &again, &detail) == TM_MESSAGE_OK);
  check(again.type == m->type && again.mline == m->mline && again.video == m->video);
  check(str_equal(again.token, m->token) && str_equal(again.sdp, m->sdp));
  check(str_equal(again.feed, m->feed) && str_equal(again.target, m->target));
  check(str_equal(again.candidate, m->candidate));
  check(again.control == m->control && again.on == m->on && str_equal(again.action, m->action));
  check(str_equal(again.ctl_target, m->ctl_target) && str_equal(again.measure, m->measure));
  check(str_equal(again.op, m->op) && str_equal(again.text, m->text));
  tm_message_clear(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  TmMessage msg;
  const char *detail = NULL;
  TmMessageError err = tm_message_parse((const char *) data, size, &msg, &detail);
  if (err == TM_MESSAGE_OK) {
    check(detail == NULL);
    check_contract(&msg);
    check_round_trip(&msg);
    tm_message_clear(&msg);
  } else {
    check((unsigned) err < TM_MESSAGE_ERR_COUNT && detail != NULL && detail[0] != '\0');
    check(msg.storage == NULL && msg.token == NULL && msg.sdp == NULL && msg.feed == NULL);
    check((err == TM_MESSAGE_ERR_TOO_LARGE) == (size > TM_MESSAGE_MAX_SIZE));
  }
  return 0;
}
