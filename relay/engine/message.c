/* message.c — signalling messages from clients (docs/protocol.md), parsed and validated.
 *
 * Frames go through three gates: size and bytes (no NUL, valid UTF-8), a strict syntax gate,
 * then json-glib. The syntax gate exists because json-glib 1.6 is lenient where it matters to
 * us: it accepts comments, single-quoted strings, hex numbers, "\x" escapes, raw control
 * characters in strings and several concatenated values; it silently wraps integers beyond
 * 64 bits (-18446744073709551615 reads as 1); and it cuts a string at "\u0000". The gate does
 * not parse: it only refuses those spellings, caps nesting and the digits of a number, so that
 * what json-glib then hands us is what the peer wrote.
 *
 * Each type lists its members in message_types; each member carries its JSON kind, size cap and
 * the readable reasons returned in *detail. */
#include "message.h"

#include <json-glib/json-glib.h>
#include <stdint.h>
#include <string.h>

#include "sdp.h"
#include "wire-error.h"

#define MESSAGE_MAX_DEPTH 32  /* nesting of objects and arrays in one frame */
#define MESSAGE_MAX_DIGITS 18 /* digits in a row outside strings: always fits in int64 */
#define MESSAGE_ID_MAX 64     /* feed and target ids, bytes */
#define MESSAGE_CANDIDATE_MAX 256
#define MESSAGE_MLINE_MAX 15

static const char *const message_type_names[TM_MSG_COUNT] = {
  [TM_MSG_JOIN] = "join",           [TM_MSG_PUBLISH] = "publish",
  [TM_MSG_SUBSCRIBE] = "subscribe", [TM_MSG_UNSUBSCRIBE] = "unsubscribe",
  [TM_MSG_CANDIDATE] = "candidate", [TM_MSG_STATUS] = "status",
  [TM_MSG_LEAVE] = "leave",         [TM_MSG_PING] = "ping",
  [TM_MSG_CONTROL] = "control",     [TM_MSG_DISPLAY] = "display",
};

const char *
tm_message_type_name(TmMessageType type)
{
  if ((unsigned) type >= TM_MSG_COUNT)
    return "unknown";
  return message_type_names[type];
}

/* The codes and messages are the wire's (wire-error.c): one table for every error a client
 * reads. */
const char *
tm_message_error_code(TmMessageError err)
{
  if (err == TM_MESSAGE_OK)
    return "ok";
  return tm_wire_error_code(tm_wire_error_for_message(err));
}

const char *
tm_message_strerror(TmMessageError err)
{
  if (err == TM_MESSAGE_OK)
    return "the message is valid";
  if ((unsigned) err >= TM_MESSAGE_ERR_COUNT)
    return "unknown message error";
  return tm_wire_error_strerror(tm_wire_error_for_message(err));
}

/* ---- members ---- */

typedef enum { MEMBER_STRING, MEMBER_INT, MEMBER_BOOL } MemberKind;

typedef struct {
  const char *name;
  MemberKind kind;
  gboolean optional;    /* absent or null: left at NULL / 0 */
  gboolean single_line; /* strings: no control characters */
  int64_t min, max;     /* string: bytes; integer: value */
  size_t offset;        /* of the field in TmMessage */
  const char *missing, *mistyped, *out_of_range, *control;
} MemberSpec;

#define MEMBER_DETAILS(json, what)                                                                 \
  "member \"" json "\" is missing", "member \"" json "\" must be " what

/* The join token is only capped by the frame: tm_token_verify() applies its own cap, so an
 * oversized token is answered with bad-token, as docs/protocol.md says. */
static const MemberSpec member_token = {
  "token",
  MEMBER_STRING,
  FALSE,
  FALSE,
  0,
  TM_MESSAGE_MAX_SIZE,
  offsetof(TmMessage, token),
  MEMBER_DETAILS("token", "a string"),
  "",
  "",
};
static const MemberSpec member_sdp = {
  "sdp",
  MEMBER_STRING,
  FALSE,
  FALSE,
  0,
  TM_SDP_MAX_SIZE,
  offsetof(TmMessage, sdp),
  MEMBER_DETAILS("sdp", "a string"),
  "member \"sdp\" is longer than 65536 bytes",
  "",
};

/* feed and target: 1..64 bytes on one line. */
#define MEMBER_ID(field, json)                                                                     \
  {                                                                                                \
    json, MEMBER_STRING, FALSE, TRUE, 1, MESSAGE_ID_MAX, offsetof(TmMessage, field),               \
      MEMBER_DETAILS(json, "a string"), "member \"" json "\" must be 1 to 64 bytes long",          \
      "member \"" json "\" must not contain control characters",                                   \
  }

static const MemberSpec member_feed = MEMBER_ID(feed, "feed");
static const MemberSpec member_target = MEMBER_ID(target, "target");
static const MemberSpec member_candidate = {
  "candidate",
  MEMBER_STRING,
  FALSE,
  TRUE,
  0,
  MESSAGE_CANDIDATE_MAX,
  offsetof(TmMessage, candidate),
  MEMBER_DETAILS("candidate", "a string"),
  "member \"candidate\" is longer than 256 bytes",
  "member \"candidate\" must not contain control characters",
};
static const MemberSpec member_mline = {
  "sdpMLineIndex",
  MEMBER_INT,
  TRUE,
  FALSE,
  0,
  MESSAGE_MLINE_MAX,
  offsetof(TmMessage, mline),
  MEMBER_DETAILS("sdpMLineIndex", "an integer"),
  "member \"sdpMLineIndex\" must be from 0 to 15",
  "",
};

static const MemberSpec member_control_flag = {
  "control",
  MEMBER_BOOL,
  TRUE,
  FALSE,
  0,
  1,
  offsetof(TmMessage, control),
  MEMBER_DETAILS("control", "true or false"),
  "",
  "",
};

/* Optional single-line strings of a control message. */
#define MEMBER_OPTIONAL(field, json, lo, hi, range)                                                \
  {                                                                                                \
    json, MEMBER_STRING, TRUE, TRUE, lo, hi, offsetof(TmMessage, field),                           \
      MEMBER_DETAILS(json, "a string"), "member \"" json "\" must be " range,                      \
      "member \"" json "\" must not contain control characters",                                   \
  }

static const MemberSpec member_action = {
  "action",
  MEMBER_STRING,
  FALSE,
  TRUE,
  1,
  32,
  offsetof(TmMessage, action),
  MEMBER_DETAILS("action", "a string"),
  "member \"action\" must be 1 to 32 bytes long",
  "member \"action\" must not contain control characters",
};
static const MemberSpec member_ctl_target =
  MEMBER_OPTIONAL(ctl_target, "target", 1, MESSAGE_ID_MAX, "1 to 64 bytes long");
static const MemberSpec member_measure =
  MEMBER_OPTIONAL(measure, "measure", 1, 32, "1 to 32 bytes long");
static const MemberSpec member_op = MEMBER_OPTIONAL(op, "op", 1, 16, "1 to 16 bytes long");
static const MemberSpec member_text = MEMBER_OPTIONAL(text, "text", 1, 200, "1 to 200 bytes long");
static const MemberSpec member_on = {
  "on",
  MEMBER_BOOL,
  TRUE,
  FALSE,
  0,
  1,
  offsetof(TmMessage, on),
  MEMBER_DETAILS("on", "true or false"),
  "",
  "",
};

static const MemberSpec member_video = {
  "video",
  MEMBER_BOOL,
  FALSE,
  FALSE,
  0,
  1,
  offsetof(TmMessage, video),
  MEMBER_DETAILS("video", "true or false"),
  "",
  "",
};

static const MemberSpec member_resume =
  MEMBER_OPTIONAL(resume, "resume", 1, MESSAGE_ID_MAX, "1 to 64 bytes long");

#define MESSAGE_TYPE_MEMBERS 6 /* members of the richest type, control */

static const MemberSpec *const message_members[TM_MSG_COUNT][MESSAGE_TYPE_MEMBERS] = {
  [TM_MSG_JOIN] = { &member_token, &member_control_flag, &member_resume },
  [TM_MSG_PUBLISH] = { &member_sdp },
  [TM_MSG_SUBSCRIBE] = { &member_feed, &member_sdp },
  [TM_MSG_UNSUBSCRIBE] = { &member_feed },
  [TM_MSG_DISPLAY] = { &member_feed, &member_video },
  [TM_MSG_CANDIDATE] = { &member_target, &member_candidate, &member_mline },
  [TM_MSG_CONTROL] = { &member_action, &member_ctl_target, &member_measure, &member_on, &member_op,
                       &member_text },
};

static gboolean
message_has_control(const char *s, size_t len)
{
  for (size_t i = 0; i < len; i++) {
    if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
      return TRUE;
  }
  return FALSE;
}

static const char *
message_read_string(const MemberSpec *spec, JsonNode *node, GPtrArray *storage, TmMessage *msg)
{
  if (json_node_get_value_type(node) != G_TYPE_STRING)
    return spec->mistyped;
  const char *s = json_node_get_string(node);
  size_t len = strlen(s);
  if ((int64_t) len < spec->min || (int64_t) len > spec->max)
    return spec->out_of_range;
  if (spec->single_line && message_has_control(s, len))
    return spec->control;
  char *copy = g_strndup(s, len);
  g_ptr_array_add(storage, copy);
  *(const char **) ((char *) msg + spec->offset) = copy;
  return NULL;
}

static const char *
message_read_int(const MemberSpec *spec, JsonNode *node, TmMessage *msg)
{
  if (json_node_get_value_type(node) != G_TYPE_INT64)
    return spec->mistyped;
  int64_t v = json_node_get_int(node);
  if (v < spec->min || v > spec->max)
    return spec->out_of_range;
  *(int *) ((char *) msg + spec->offset) = (int) v;
  return NULL;
}

static const char *
message_read_bool(const MemberSpec *spec, JsonNode *node, TmMessage *msg)
{
  if (json_node_get_value_type(node) != G_TYPE_BOOLEAN)
    return spec->mistyped;
  *(int *) ((char *) msg + spec->offset) = json_node_get_boolean(node) ? 1 : 0;
  return NULL;
}

/* Reads the members of MSG->type from OBJ; a detail string on failure. */
static const char *
message_read_members(JsonObject *obj, TmMessage *msg, GPtrArray *storage)
{
  for (int i = 0; i < MESSAGE_TYPE_MEMBERS; i++) {
    const MemberSpec *spec = message_members[msg->type][i];
    if (spec == NULL)
      break;
    JsonNode *node = json_object_get_member(obj, spec->name);
    if (node == NULL || (spec->optional && JSON_NODE_HOLDS_NULL(node))) {
      if (spec->optional)
        continue;
      return spec->missing;
    }
    const char *detail;
    if (spec->kind == MEMBER_STRING)
      detail = message_read_string(spec, node, storage, msg);
    else if (spec->kind == MEMBER_INT)
      detail = message_read_int(spec, node, msg);
    else
      detail = message_read_bool(spec, node, msg);
    if (detail != NULL)
      return detail;
  }
  return NULL;
}

/* ---- syntax gate ---- */

/* The value of the four hex digits at DATA + AT (LEN bytes in all); -1 if they are not. */
static int
message_hex4(const char *data, size_t len, size_t at)
{
  if (len - at < 4)
    return -1;
  int v = 0;
  for (size_t k = at; k < at + 4; k++) {
    if (!g_ascii_isxdigit(data[k]))
      return -1;
    v = v << 4 | g_ascii_xdigit_value(data[k]);
  }
  return v;
}

/* Checks the escape at DATA[*I] == '\\' and moves *I to its last character. A \u escape of a
 * UTF-16 surrogate must be a high one followed at once by a low one: json-glib turns a lone
 * surrogate into bytes that are not UTF-8 and drops what follows it in the string. */
static const char *
message_check_escape(const char *data, size_t len, size_t *i)
{
  size_t at = *i + 1;
  if (at >= len)
    return "the message ends inside a string";
  if (strchr("\"\\/bfnrt", data[at]) != NULL) {
    *i = at;
    return NULL;
  }
  if (data[at] != 'u')
    return "the message has an escape that JSON does not allow";
  if (len - at < 5)
    return "the message ends inside a string";
  int unit = message_hex4(data, len, at + 1);
  if (unit < 0)
    return "the message has a \\u escape without four hex digits";
  if (unit == 0)
    return "the message has a string with a \\u0000 character";
  *i = at + 4;
  if (unit < 0xd800 || unit > 0xdfff)
    return NULL;
  int low = -1;
  if (unit <= 0xdbff && len - *i > 2 && data[*i + 1] == '\\' && data[*i + 2] == 'u')
    low = message_hex4(data, len, *i + 3);
  if (low < 0xdc00 || low > 0xdfff)
    return "the message has a \\u escape of half a UTF-16 surrogate pair";
  *i += 6;
  return NULL;
}

/* Refuses spellings that json-glib would accept or misread (see the top of this file).
 * DATA has no NUL byte. */
static const char *
message_check_syntax(const char *data, size_t len)
{
  size_t depth = 0, digits = 0;
  gboolean in_string = FALSE, closed = FALSE;
  for (size_t i = 0; i < len; i++) {
    char c = data[i];
    if (in_string) {
      const char *detail = NULL;
      if ((unsigned char) c < 0x20)
        detail = "the message has a control character inside a string";
      else if (c == '\\')
        detail = message_check_escape(data, len, &i);
      else if (c == '"')
        in_string = FALSE;
      if (detail != NULL)
        return detail;
      continue;
    }
    if (closed && strchr(" \t\r\n", c) == NULL)
      return "the message has text after its JSON object";
    digits = g_ascii_isdigit(c) ? digits + 1 : 0;
    if (digits > MESSAGE_MAX_DIGITS)
      return "the message has a number too large for 64 bits";
    if (c == '"') {
      in_string = TRUE;
    } else if (c == '{' || c == '[') {
      if (++depth > MESSAGE_MAX_DEPTH)
        return "the message nests objects or arrays more than 32 deep";
    } else if (c == '}' || c == ']') {
      if (depth == 0)
        return "the message is not valid JSON";
      closed = --depth == 0;
    } else if (!g_ascii_isdigit(c) && strchr(" \t\r\n,:-+.eEtrufalsn", c) == NULL) {
      return "the message has a character outside a string that JSON does not allow";
    }
  }
  return in_string ? "the message ends inside a string" : NULL;
}

const char *
tm_message_check_json(const char *data, size_t len)
{
  if (memchr(data, '\0', len) != NULL)
    return "the message contains a NUL byte";
  if (!g_utf8_validate(data, (gssize) len, NULL))
    return "the message is not valid UTF-8";
  return message_check_syntax(data, len);
}

/* ---- parse ---- */

/* Parses the frame into a JSON object and finds its type; a detail string on failure. */
static const char *
message_parse_object(JsonParser *parser, const char *data, size_t len, JsonObject **obj,
                     TmMessageError *err)
{
  *err = TM_MESSAGE_ERR_BAD_JSON;
  const char *detail = tm_message_check_json(data, len);
  if (detail != NULL)
    return detail;
  if (!json_parser_load_from_data(parser, data, (gssize) len, NULL))
    return "the message is not valid JSON";
  JsonNode *root = json_parser_get_root(parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
    return "the message is not a JSON object";
  *obj = json_node_get_object(root);
  return NULL;
}

static const char *
message_read_type(JsonObject *obj, TmMessageType *type, TmMessageError *err)
{
  *err = TM_MESSAGE_ERR_BAD_JSON;
  JsonNode *node = json_object_get_member(obj, "type");
  if (node == NULL)
    return "member \"type\" is missing";
  if (json_node_get_value_type(node) != G_TYPE_STRING)
    return "member \"type\" must be a string";
  const char *name = json_node_get_string(node);
  for (unsigned i = 0; i < TM_MSG_COUNT; i++) {
    if (strcmp(name, message_type_names[i]) == 0) {
      *type = (TmMessageType) i;
      return NULL;
    }
  }
  *err = TM_MESSAGE_ERR_UNKNOWN_TYPE;
  return "the message type is not one the relay knows";
}

TmMessageError
tm_message_parse(const char *data, size_t len, TmMessage *msg, const char **detail)
{
  g_return_val_if_fail(msg != NULL, TM_MESSAGE_ERR_BAD_JSON);
  memset(msg, 0, sizeof *msg);
  const char *why = NULL;
  TmMessageError err = TM_MESSAGE_ERR_BAD_JSON;
  if (len > TM_MESSAGE_MAX_SIZE) {
    err = TM_MESSAGE_ERR_TOO_LARGE;
    why = "the message is larger than 64 KiB";
  } else if (data == NULL) {
    why = "the message is empty";
  } else {
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GPtrArray) storage = g_ptr_array_new_with_free_func(g_free);
    JsonObject *obj = NULL;
    why = message_parse_object(parser, data, len, &obj, &err);
    if (why == NULL)
      why = message_read_type(obj, &msg->type, &err);
    if (why == NULL) {
      err = TM_MESSAGE_ERR_BAD_JSON;
      msg->on = -1;
      why = message_read_members(obj, msg, storage);
    }
    if (why == NULL) {
      g_ptr_array_add(storage, NULL);
      g_ptr_array_set_free_func(storage, NULL);
      msg->storage = (GStrv) g_ptr_array_free(g_steal_pointer(&storage), FALSE);
      err = TM_MESSAGE_OK;
    }
  }
  if (err != TM_MESSAGE_OK)
    memset(msg, 0, sizeof *msg);
  if (detail != NULL)
    *detail = why;
  return err;
}

void
tm_message_clear(TmMessage *msg)
{
  if (msg == NULL)
    return;
  g_strfreev(msg->storage);
  memset(msg, 0, sizeof *msg);
}
