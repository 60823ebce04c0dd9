/* test-message.c — signalling messages: every type with its members, caps at their boundaries,
 * each error class with its detail, and inputs json-glib alone would misread. */
#include <glib.h>
#include <string.h>

#include "message.h"

/* Parses S (its strlen) and expects WANT; returns the detail. MSG is cleared on failure. */
static const char *
parse_expect(const char *s, TmMessageError want, TmMessage *msg)
{
  const char *detail = "unset";
  TmMessageError err = tm_message_parse(s, strlen(s), msg, &detail);
  if (err != want)
    g_test_message("input %s: got %s (%s)", s, tm_message_error_code(err), detail);
  g_assert_cmpint(err, ==, want);
  if (want == TM_MESSAGE_OK) {
    g_assert_null(detail);
    g_assert_nonnull(msg->storage);
  } else {
    g_assert_nonnull(detail);
    g_assert_cmpstr(detail, !=, "");
    g_assert_null(msg->storage);
    g_assert_null(msg->token);
    g_assert_null(msg->sdp);
    g_assert_null(msg->feed);
    g_assert_null(msg->target);
    g_assert_null(msg->candidate);
    g_assert_cmpint(msg->mline, ==, 0);
  }
  return detail;
}

static void
expect_bad(const char *s, TmMessageError want, const char *want_detail)
{
  TmMessage msg;
  const char *detail = parse_expect(s, want, &msg);
  if (want_detail != NULL)
    g_assert_cmpstr(detail, ==, want_detail);
}

static void
test_types(void)
{
  /* one buffer per message, overwritten after parsing: the message must own copies */
  TmMessage m;
  g_autofree gchar *join = g_strdup("{\"type\":\"join\",\"token\":\"a.b.c\"}");
  parse_expect(join, TM_MESSAGE_OK, &m);
  memset(join, 'x', strlen(join));
  g_assert_cmpint(m.type, ==, TM_MSG_JOIN);
  g_assert_cmpstr(m.token, ==, "a.b.c");
  g_assert_null(m.sdp);
  g_assert_null(m.resume);
  tm_message_clear(&m);

  /* continuing a place after the connection dropped */
  g_autofree gchar *resume =
    g_strdup("{\"type\":\"join\",\"token\":\"a.b.c\",\"resume\":\"0123abcd\"}");
  parse_expect(resume, TM_MESSAGE_OK, &m);
  memset(resume, 'x', strlen(resume));
  g_assert_cmpstr(m.resume, ==, "0123abcd");
  tm_message_clear(&m);
  parse_expect("{\"type\":\"join\",\"token\":\"t\",\"resume\":\"\"}", TM_MESSAGE_ERR_BAD_JSON, &m);
  parse_expect("{\"type\":\"join\",\"token\":\"t\",\"resume\":7}", TM_MESSAGE_ERR_BAD_JSON, &m);

  g_autofree gchar *publish =
    g_strdup("{\"sdp\":\"v=0\\r\\no=- 1 0 IN IP4 0.0.0.0\\r\\n\",\"type\":\"publish\"}");
  parse_expect(publish, TM_MESSAGE_OK, &m);
  memset(publish, 'x', strlen(publish));
  g_assert_cmpint(m.type, ==, TM_MSG_PUBLISH);
  g_assert_cmpstr(m.sdp, ==, "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\n");
  tm_message_clear(&m);

  parse_expect("{\"type\":\"subscribe\",\"feed\":\"p1\",\"sdp\":\"v=0\\r\\n\"}", TM_MESSAGE_OK, &m);
  g_assert_cmpint(m.type, ==, TM_MSG_SUBSCRIBE);
  g_assert_cmpstr(m.feed, ==, "p1");
  g_assert_cmpstr(m.sdp, ==, "v=0\r\n");
  tm_message_clear(&m);

  parse_expect("{\"type\":\"unsubscribe\",\"feed\":\"p\\u00e9\"}", TM_MESSAGE_OK, &m);
  g_assert_cmpint(m.type, ==, TM_MSG_UNSUBSCRIBE);
  g_assert_cmpstr(m.feed, ==, "p\xc3\xa9");
  tm_message_clear(&m);

  parse_expect("{\"type\":\"display\",\"feed\":\"p3\",\"video\":false}", TM_MESSAGE_OK, &m);
  g_assert_cmpint(m.type, ==, TM_MSG_DISPLAY);
  g_assert_cmpstr(m.feed, ==, "p3");
  g_assert_cmpint(m.video, ==, 0);
  tm_message_clear(&m);
  parse_expect("{\"type\":\"display\",\"feed\":\"p3\",\"video\":true}", TM_MESSAGE_OK, &m);
  g_assert_cmpint(m.video, ==, 1);
  tm_message_clear(&m);

  parse_expect("{\"type\":\"candidate\",\"target\":\"publish\",\"candidate\":\"candidate:1 1 UDP "
               "2013266431 127.0.0.1 40402 typ host\",\"sdpMLineIndex\":1}",
               TM_MESSAGE_OK, &m);
  g_assert_cmpint(m.type, ==, TM_MSG_CANDIDATE);
  g_assert_cmpstr(m.target, ==, "publish");
  g_assert_cmpstr(m.candidate, ==, "candidate:1 1 UDP 2013266431 127.0.0.1 40402 typ host");
  g_assert_cmpint(m.mline, ==, 1);
  tm_message_clear(&m);

  /* end of candidates; sdpMLineIndex absent or null means 0 */
  parse_expect("{\"type\":\"candidate\",\"target\":\"p7\",\"candidate\":\"\"}", TM_MESSAGE_OK, &m);
  g_assert_cmpstr(m.target, ==, "p7");
  g_assert_cmpstr(m.candidate, ==, "");
  g_assert_cmpint(m.mline, ==, 0);
  tm_message_clear(&m);
  parse_expect("{\"type\":\"candidate\",\"target\":\"p7\",\"candidate\":\"\","
               "\"sdpMLineIndex\":null}",
               TM_MESSAGE_OK, &m);
  g_assert_cmpint(m.mline, ==, 0);
  tm_message_clear(&m);

  static const struct {
    const char *json;
    TmMessageType type;
  } bare[] = {
    { "{\"type\":\"status\"}", TM_MSG_STATUS },
    { "{\"type\":\"leave\"}", TM_MSG_LEAVE },
    { " \r\n\t{ \"type\" : \"ping\" } \n", TM_MSG_PING },
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bare); i++) {
    parse_expect(bare[i].json, TM_MESSAGE_OK, &m);
    g_assert_cmpint(m.type, ==, bare[i].type);
    g_assert_null(m.storage[0]);
    tm_message_clear(&m);
    g_assert_null(m.storage);
    tm_message_clear(&m); /* twice is harmless */
  }
}

static void
test_extra_members_ignored(void)
{
  TmMessage m;
  parse_expect("{\"id\":5,\"type\":\"unsubscribe\",\"feed\":\"p2\",\"sdp\":7,\"x\":{\"y\":[1,2.5,"
               "true,false,null,\"z\"]},\"n\":-12e-3}",
               TM_MESSAGE_OK, &m);
  g_assert_cmpstr(m.feed, ==, "p2");
  g_assert_null(m.sdp);
  tm_message_clear(&m);
  parse_expect("{\"type\":\"ping\",\"token\":null}", TM_MESSAGE_OK, &m);
  tm_message_clear(&m);
}

static void
test_caps(void)
{
  TmMessage m;
  g_autofree gchar *id64 = g_strnfill(64, 'f');
  g_autofree gchar *feed64 = g_strdup_printf("{\"type\":\"unsubscribe\",\"feed\":\"%s\"}", id64);
  parse_expect(feed64, TM_MESSAGE_OK, &m);
  g_assert_cmpuint(strlen(m.feed), ==, 64);
  tm_message_clear(&m);
  g_autofree gchar *feed65 = g_strdup_printf("{\"type\":\"unsubscribe\",\"feed\":\"%sf\"}", id64);
  expect_bad(feed65, TM_MESSAGE_ERR_BAD_JSON, "member \"feed\" must be 1 to 64 bytes long");
  g_autofree gchar *target65 =
    g_strdup_printf("{\"type\":\"candidate\",\"target\":\"%sf\",\"candidate\":\"\"}", id64);
  expect_bad(target65, TM_MESSAGE_ERR_BAD_JSON, "member \"target\" must be 1 to 64 bytes long");
  expect_bad("{\"type\":\"subscribe\",\"feed\":\"\",\"sdp\":\"\"}", TM_MESSAGE_ERR_BAD_JSON,
             "member \"feed\" must be 1 to 64 bytes long");

  g_autofree gchar *c256 = g_strnfill(256, 'c');
  g_autofree gchar *cand256 =
    g_strdup_printf("{\"type\":\"candidate\",\"target\":\"publish\",\"candidate\":\"%s\"}", c256);
  parse_expect(cand256, TM_MESSAGE_OK, &m);
  tm_message_clear(&m);
  g_autofree gchar *cand257 =
    g_strdup_printf("{\"type\":\"candidate\",\"target\":\"publish\",\"candidate\":\"%sc\"}", c256);
  expect_bad(cand257, TM_MESSAGE_ERR_BAD_JSON, "member \"candidate\" is longer than 256 bytes");

  parse_expect("{\"type\":\"candidate\",\"target\":\"publish\",\"candidate\":\"\","
               "\"sdpMLineIndex\":15}",
               TM_MESSAGE_OK, &m);
  g_assert_cmpint(m.mline, ==, 15);
  tm_message_clear(&m);
  static const char *const bad_mline[] = {
    "16",
    "-1",
    "999999999999999999",
    "-999999999999999999",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad_mline); i++) {
    g_autofree gchar *s = g_strdup_printf(
      "{\"type\":\"candidate\",\"target\":\"publish\",\"candidate\":\"\",\"sdpMLineIndex\":%s}",
      bad_mline[i]);
    expect_bad(s, TM_MESSAGE_ERR_BAD_JSON, "member \"sdpMLineIndex\" must be from 0 to 15");
  }
}

/* A publish message of exactly SIZE bytes. */
static gchar *
publish_of_size(size_t size)
{
  static const char head[] = "{\"type\":\"publish\",\"sdp\":\"";
  static const char tail[] = "\"}";
  size_t fill = size - (sizeof head - 1) - (sizeof tail - 1);
  g_autofree gchar *sdp = g_strnfill(fill, 'v');
  return g_strconcat(head, sdp, tail, NULL);
}

static void
test_too_large(void)
{
  TmMessage m;
  g_autofree gchar *max = publish_of_size(TM_MESSAGE_MAX_SIZE);
  g_assert_cmpuint(strlen(max), ==, TM_MESSAGE_MAX_SIZE);
  parse_expect(max, TM_MESSAGE_OK, &m);
  g_assert_cmpuint(strlen(m.sdp), ==, TM_MESSAGE_MAX_SIZE - 27);
  tm_message_clear(&m);
  g_autofree gchar *over = publish_of_size(TM_MESSAGE_MAX_SIZE + 1);
  expect_bad(over, TM_MESSAGE_ERR_TOO_LARGE, "the message is larger than 64 KiB");
  const char *detail = NULL;
  g_assert_cmpint(tm_message_parse("{}", G_MAXSIZE, &m, &detail), ==, TM_MESSAGE_ERR_TOO_LARGE);
  /* the token is capped only by the frame: tm_token_verify() refuses it as bad-token */
  g_autofree gchar *big = g_strnfill(10000, 'A');
  g_autofree gchar *join = g_strdup_printf("{\"type\":\"join\",\"token\":\"%s\"}", big);
  parse_expect(join, TM_MESSAGE_OK, &m);
  tm_message_clear(&m);
}

static void
test_not_json(void)
{
  static const struct {
    const char *json;
    const char *detail;
  } cases[] = {
    { "", "the message is not a JSON object" },
    { "   ", "the message is not a JSON object" },
    { "null", "the message is not a JSON object" },
    { "[{\"type\":\"ping\"}]", "the message is not a JSON object" },
    { "\"ping\"", "the message is not a JSON object" },
    { "42", "the message is not a JSON object" },
    { "{\"type\":\"ping\"", "the message is not valid JSON" },
    { "{\"type\":\"ping\",}", "the message is not valid JSON" },
    { "{type:\"ping\"}", "the message has a character outside a string that JSON does not allow" },
    { "{'type':'ping'}", "the message has a character outside a string that JSON does not allow" },
    { "{\"type\":\"ping\" /* hi */}",
      "the message has a character outside a string that JSON does not allow" },
    { "{\"type\":\"ping\",\"n\":0x10}",
      "the message has a character outside a string that JSON does not allow" },
    { "{\"type\":\"ping\"}{}", "the message has text after its JSON object" },
    { "{\"type\":\"ping\"} x", "the message has text after its JSON object" },
    { "}{", "the message is not valid JSON" },
    { "{\"type\":\"ping\",\"s\":\"a\nb\"}", "the message has a control character inside a string" },
    { "{\"type\":\"ping\",\"s\":\"\\x41\"}", "the message has an escape that JSON does not allow" },
    { "{\"type\":\"ping\",\"s\":\"\\'\"}", "the message has an escape that JSON does not allow" },
    { "{\"type\":\"ping\",\"s\":\"\\u12\"}",
      "the message has a \\u escape without four hex digits" },
    { "{\"type\":\"ping\",\"s\":\"\\", "the message ends inside a string" },
    { "{\"type\":\"ping\",\"s\":\"\\u00", "the message ends inside a string" },
    { "{\"type\":\"ping\",\"s\":\"abc", "the message ends inside a string" },
    { "{\"type\":\"unsubscribe\",\"feed\":\"p1\\u0000p2\"}",
      "the message has a string with a \\u0000 character" },
    { "{\"type\":\"ping\",\"n\":18446744073709551617}",
      "the message has a number too large for 64 bits" },
    { "{\"type\":\"ping\",\"n\":-18446744073709551615}",
      "the message has a number too large for 64 bits" },
    { "{\"type\":\"ping\",\"n\":NaN}",
      "the message has a character outside a string that JSON does not allow" },
    { "{\"type\":\"p\xc3\"}", "the message is not valid UTF-8" },
    { "{\"type\":\"\xc0\xafping\"}", "the message is not valid UTF-8" },
    { "{\"type\":\"\xed\xa0\x80\"}", "the message is not valid UTF-8" }, /* a surrogate */
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
    expect_bad(cases[i].json, TM_MESSAGE_ERR_BAD_JSON, cases[i].detail);

  /* NUL bytes inside LEN, at the start, middle and end */
  static const char nul[] = "{\"type\":\"ping\"}\0";
  TmMessage m;
  const char *detail = NULL;
  g_assert_cmpint(tm_message_parse(nul, sizeof nul - 1, &m, &detail), ==, TM_MESSAGE_ERR_BAD_JSON);
  g_assert_cmpstr(detail, ==, "the message contains a NUL byte");
  g_assert_cmpint(tm_message_parse(nul, sizeof nul - 2, &m, &detail), ==, TM_MESSAGE_OK);
  tm_message_clear(&m);
  static const char nul_inside[] = "{\"type\":\"ping\0\"}";
  g_assert_cmpint(tm_message_parse(nul_inside, sizeof nul_inside - 1, &m, NULL), ==,
                  TM_MESSAGE_ERR_BAD_JSON);
  g_assert_cmpint(tm_message_parse(NULL, 0, &m, &detail), ==, TM_MESSAGE_ERR_BAD_JSON);
  g_assert_cmpstr(detail, ==, "the message is empty");
}

/* A \u escape of a surrogate is refused unless a high one is followed by a low one: json-glib
 * turned a lone low surrogate into bytes that are not UTF-8 and dropped the rest of the string
 * (found by fuzz-message; tests/fuzz/corpus/message/crash-lone-surrogate). */
static void
test_surrogates(void)
{
  static const char *const bad[] = {
    "{\"type\":\"join\",\"token\":\"\\udc00x\"}", /* low alone */
    "{\"type\":\"join\",\"token\":\"\\uDFFF\"}",
    "{\"type\":\"join\",\"token\":\"\\ud800\"}",         /* high alone */
    "{\"type\":\"join\",\"token\":\"\\ud800x\\udc00\"}", /* high, then not at once low */
    "{\"type\":\"join\",\"token\":\"\\ud800\\u0041\"}",  /* high, then not low */
    "{\"type\":\"join\",\"token\":\"\\ud800\\ud800\"}",  /* high, then high */
    "{\"type\":\"join\",\"token\":\"\\udc00\\ud800\"}",  /* the pair reversed */
    "{\"type\":\"join\",\"token\":\"\\ud800\\n\"}",
    "{\"type\":\"join\",\"token\":\"\\ud800\\udc0\"}",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
    expect_bad(bad[i], TM_MESSAGE_ERR_BAD_JSON,
               "the message has a \\u escape of half a UTF-16 surrogate pair");
  expect_bad("{\"type\":\"join\",\"token\":\"\\ud800\\u", TM_MESSAGE_ERR_BAD_JSON,
             "the message has a \\u escape of half a UTF-16 surrogate pair");

  /* a pair is one character, in either case of hex digits; the rest of the string is kept */
  TmMessage msg;
  parse_expect("{\"type\":\"join\",\"token\":\"a\\ud83d\\ude00b\\uD83D\\uDE00c\"}", TM_MESSAGE_OK,
               &msg);
  g_assert_cmpstr(msg.token, ==,
                  "a\xf0\x9f\x98\x80"
                  "b\xf0\x9f\x98\x80"
                  "c");
  tm_message_clear(&msg);
  parse_expect("{\"type\":\"join\",\"token\":\"\\ud7ff\\ue000\"}", TM_MESSAGE_OK, &msg);
  g_assert_cmpstr(msg.token, ==, "\xed\x9f\xbf\xee\x80\x80");
  tm_message_clear(&msg);
}

static void
test_nesting(void)
{
  /* 32 levels (the message object plus 31 arrays) are fine, 33 are refused */
  for (int depth = 31; depth <= 32; depth++) {
    g_autoptr(GString) s = g_string_new("{\"type\":\"ping\",\"x\":");
    for (int i = 0; i < depth; i++)
      g_string_append_c(s, '[');
    for (int i = 0; i < depth; i++)
      g_string_append_c(s, ']');
    g_string_append_c(s, '}');
    if (depth == 31) {
      TmMessage m;
      parse_expect(s->str, TM_MESSAGE_OK, &m);
      tm_message_clear(&m);
    } else {
      expect_bad(s->str, TM_MESSAGE_ERR_BAD_JSON,
                 "the message nests objects or arrays more than 32 deep");
    }
  }
  /* brackets inside strings do not count */
  g_autofree gchar *brackets = g_strnfill(1000, '[');
  g_autofree gchar *s = g_strdup_printf("{\"type\":\"ping\",\"x\":\"%s\\\"]\"}", brackets);
  TmMessage m;
  parse_expect(s, TM_MESSAGE_OK, &m);
  tm_message_clear(&m);
  /* a whole frame of brackets */
  g_autofree gchar *deep = g_strnfill(TM_MESSAGE_MAX_SIZE, '[');
  expect_bad(deep, TM_MESSAGE_ERR_BAD_JSON,
             "the message nests objects or arrays more than 32 deep");
}

static void
test_type_member(void)
{
  expect_bad("{}", TM_MESSAGE_ERR_BAD_JSON, "member \"type\" is missing");
  expect_bad("{\"Type\":\"ping\"}", TM_MESSAGE_ERR_BAD_JSON, "member \"type\" is missing");
  expect_bad("{\"type\":1}", TM_MESSAGE_ERR_BAD_JSON, "member \"type\" must be a string");
  expect_bad("{\"type\":null}", TM_MESSAGE_ERR_BAD_JSON, "member \"type\" must be a string");
  expect_bad("{\"type\":[\"ping\"]}", TM_MESSAGE_ERR_BAD_JSON, "member \"type\" must be a string");
  static const char *const unknown[] = {
    "{\"type\":\"joined\"}", "{\"type\":\"pong\"}",  "{\"type\":\"PING\"}",
    "{\"type\":\"\"}",       "{\"type\":\"ping \"}", "{\"type\":\"answer\",\"sdp\":\"v=0\"}",
    "{\"type\":\"error\"}",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(unknown); i++)
    expect_bad(unknown[i], TM_MESSAGE_ERR_UNKNOWN_TYPE,
               "the message type is not one the relay knows");
}

static void
test_members(void)
{
  static const struct {
    const char *json;
    const char *detail;
  } cases[] = {
    { "{\"type\":\"join\"}", "member \"token\" is missing" },
    { "{\"type\":\"join\",\"token\":null}", "member \"token\" must be a string" },
    { "{\"type\":\"join\",\"token\":{\"t\":1}}", "member \"token\" must be a string" },
    { "{\"type\":\"publish\"}", "member \"sdp\" is missing" },
    { "{\"type\":\"publish\",\"sdp\":5}", "member \"sdp\" must be a string" },
    { "{\"type\":\"publish\",\"sdp\":true}", "member \"sdp\" must be a string" },
    { "{\"type\":\"subscribe\",\"sdp\":\"v=0\"}", "member \"feed\" is missing" },
    { "{\"type\":\"subscribe\",\"feed\":\"p1\"}", "member \"sdp\" is missing" },
    { "{\"type\":\"subscribe\",\"feed\":1,\"sdp\":\"v=0\"}", "member \"feed\" must be a string" },
    { "{\"type\":\"unsubscribe\"}", "member \"feed\" is missing" },
    { "{\"type\":\"display\",\"feed\":\"p1\"}", "member \"video\" is missing" },
    { "{\"type\":\"display\",\"feed\":\"p1\",\"video\":1}",
      "member \"video\" must be true or false" },
    { "{\"type\":\"unsubscribe\",\"feed\":[]}", "member \"feed\" must be a string" },
    { "{\"type\":\"unsubscribe\",\"feed\":\"p\\n1\"}",
      "member \"feed\" must not contain control characters" },
    { "{\"type\":\"candidate\",\"candidate\":\"\"}", "member \"target\" is missing" },
    { "{\"type\":\"candidate\",\"target\":\"publish\"}", "member \"candidate\" is missing" },
    { "{\"type\":\"candidate\",\"target\":0,\"candidate\":\"\"}",
      "member \"target\" must be a string" },
    { "{\"type\":\"candidate\",\"target\":\"p\\u001b\",\"candidate\":\"\"}",
      "member \"target\" must not contain control characters" },
    { "{\"type\":\"candidate\",\"target\":\"publish\",\"candidate\":null}",
      "member \"candidate\" must be a string" },
    { "{\"type\":\"candidate\",\"target\":\"publish\",\"candidate\":\"x\\r\\na=evil\"}",
      "member \"candidate\" must not contain control characters" },
    { "{\"type\":\"candidate\",\"target\":\"publish\",\"candidate\":\"\",\"sdpMLineIndex\":\"0\"}",
      "member \"sdpMLineIndex\" must be an integer" },
    { "{\"type\":\"candidate\",\"target\":\"publish\",\"candidate\":\"\",\"sdpMLineIndex\":0.0}",
      "member \"sdpMLineIndex\" must be an integer" },
    { "{\"type\":\"candidate\",\"target\":\"publish\",\"candidate\":\"\",\"sdpMLineIndex\":1e0}",
      "member \"sdpMLineIndex\" must be an integer" },
    { "{\"type\":\"candidate\",\"target\":\"publish\",\"candidate\":\"\",\"sdpMLineIndex\":false}",
      "member \"sdpMLineIndex\" must be an integer" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
    expect_bad(cases[i].json, TM_MESSAGE_ERR_BAD_JSON, cases[i].detail);
}

static void
test_names(void)
{
  static const char *const names[TM_MSG_COUNT] = {
    "join",   "publish", "subscribe", "unsubscribe", "candidate",
    "status", "leave",   "ping",      "control",     "display",
  };
  for (int t = 0; t < TM_MSG_COUNT; t++)
    g_assert_cmpstr(tm_message_type_name((TmMessageType) t), ==, names[t]);
  g_assert_cmpstr(tm_message_type_name(TM_MSG_COUNT), ==, "unknown");
  g_assert_cmpstr(tm_message_error_code(TM_MESSAGE_ERR_TOO_LARGE), ==, "too-large");
  g_assert_cmpstr(tm_message_error_code(TM_MESSAGE_ERR_BAD_JSON), ==, "bad-json");
  g_assert_cmpstr(tm_message_error_code(TM_MESSAGE_ERR_UNKNOWN_TYPE), ==, "unknown-type");
  g_assert_cmpstr(tm_message_error_code(TM_MESSAGE_ERR_COUNT), ==, "unknown");
  for (int e = 0; e < TM_MESSAGE_ERR_COUNT; e++)
    g_assert_true(g_str_has_prefix(tm_message_strerror((TmMessageError) e), "the message"));
  g_assert_cmpstr(tm_message_strerror((TmMessageError) 99), ==, "unknown message error");
}

static void
test_control(void)
{
  TmMessage m;
  const char *detail = NULL;
  const char *json = "{\"type\":\"control\",\"action\":\"protect\",\"measure\":\"screen-witness\","
                     "\"on\":false}";
  g_assert_cmpint(tm_message_parse(json, strlen(json), &m, &detail), ==, TM_MESSAGE_OK);
  g_assert_cmpint(m.type, ==, TM_MSG_CONTROL);
  g_assert_cmpstr(m.action, ==, "protect");
  g_assert_cmpstr(m.measure, ==, "screen-witness");
  g_assert_cmpint(m.on, ==, 0);
  g_assert_null(m.ctl_target);
  tm_message_clear(&m);
  json =
    "{\"type\":\"control\",\"action\":\"mark\",\"text\":\"witness sworn in\",\"target\":\"p3\"}";
  g_assert_cmpint(tm_message_parse(json, strlen(json), &m, &detail), ==, TM_MESSAGE_OK);
  g_assert_cmpstr(m.text, ==, "witness sworn in");
  g_assert_cmpstr(m.ctl_target, ==, "p3");
  g_assert_cmpint(m.on, ==, -1);
  tm_message_clear(&m);
  json = "{\"type\":\"join\",\"token\":\"t\",\"control\":true}";
  g_assert_cmpint(tm_message_parse(json, strlen(json), &m, &detail), ==, TM_MESSAGE_OK);
  g_assert_cmpint(m.control, ==, 1);
  tm_message_clear(&m);
  static const struct {
    const char *json, *detail;
  } bad[] = {
    { "{\"type\":\"control\"}", "member \"action\" is missing" },
    { "{\"type\":\"control\",\"action\":\"protect\",\"on\":1}",
      "member \"on\" must be true or false" },
    { "{\"type\":\"join\",\"token\":\"t\",\"control\":\"yes\"}",
      "member \"control\" must be true or false" },
    { "{\"type\":\"control\",\"action\":\"mark\",\"text\":\"\"}",
      "member \"text\" must be 1 to 200 bytes long" },
    { "{\"type\":\"control\",\"action\":\"mark\",\"text\":\"a\\nb\"}",
      "member \"text\" must not contain control characters" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
    expect_bad(bad[i].json, TM_MESSAGE_ERR_BAD_JSON, bad[i].detail);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/message/types", test_types);
  g_test_add_func("/message/extra-members-ignored", test_extra_members_ignored);
  g_test_add_func("/message/caps", test_caps);
  g_test_add_func("/message/too-large", test_too_large);
  g_test_add_func("/message/not-json", test_not_json);
  g_test_add_func("/message/surrogates", test_surrogates);
  g_test_add_func("/message/nesting", test_nesting);
  g_test_add_func("/message/type-member", test_type_member);
  g_test_add_func("/message/members", test_members);
  g_test_add_func("/message/names", test_names);
  g_test_add_func("/message/control", test_control);
  return g_test_run();
}
