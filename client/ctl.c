/* ctl.c — testimony-ctl: the judge's and clerk's controls from the command line, for scripts and
 * unattended courtrooms. It opens a control session (docs/protocol.md, "Control sessions") with
 * a judge's or clerk's token, carries out one command and prints the outcome.
 *
 *   testimony-ctl --relay URL --token TOKEN [--ca CERT] COMMAND [ARGS]
 *
 * Exit status: 0 done; 2 usage; 3 cannot reach the relay or TLS failed; 4 the token was refused;
 * 5 the relay refused the command (not allowed, no such participant, ...); 6 no answer in time. */
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <stdio.h>
#include <string.h>

enum { EXIT_USAGE = 2, EXIT_CONNECT = 3, EXIT_TOKEN = 4, EXIT_REFUSED = 5, EXIT_TIMEOUT = 6 };

typedef struct {
  const char *name;   /* command word */
  const char *action; /* control action; NULL for status */
  int args;           /* 0, 1 (NAME/TEXT/op) or 2 (protect MEASURE on|off) */
  gboolean target;    /* the argument names a participant */
} Command;

static const Command commands[] = {
  { "status", NULL, 0, FALSE },
  { "waiting", "waiting", 0, FALSE },
  { "admit", "admit", 1, TRUE },
  { "refuse", "refuse", 1, TRUE },
  { "to-waiting", "to-waiting", 1, TRUE },
  { "mute", "mute", 1, TRUE },
  { "unmute-request", "unmute-request", 1, TRUE },
  { "video-off", "video-off", 1, TRUE },
  { "remove", "remove", 1, TRUE },
  { "protect", "protect", 2, FALSE },
  { "lock", "lock", 0, FALSE },
  { "unlock", "unlock", 0, FALSE },
  { "end", "end", 0, FALSE },
  { "record", "record", 1, FALSE },
  { "mark", "mark", 1, FALSE },
};

typedef struct {
  GMainLoop *loop;
  SoupWebsocketConnection *ws;
  const Command *cmd;
  char **args;
  char *relay;
  gboolean json;
  int status;
  gboolean sent;
} Ctl;

static void finish(Ctl *c, int status, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void
finish(Ctl *c, int status, const char *fmt, ...)
{
  if (fmt != NULL) {
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (status == 0)
      printf("%s\n", msg);
    else
      fprintf(stderr, "testimony-ctl: %s\n", msg);
  }
  c->status = status;
  g_main_loop_quit(c->loop);
}

static void
send_object(Ctl *c, JsonBuilder *b)
{
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autofree char *text = json_to_string(root, FALSE);
  soup_websocket_connection_send_text(c->ws, text);
}

/* Finds the participant called NAME (exactly, then ignoring case, then by id). */
static const char *
resolve(Ctl *c, JsonArray *people, const char *name, char **why)
{
  const char *found = NULL;
  int matches = 0;
  for (int pass = 0; pass < 3 && matches == 0; pass++) {
    for (guint i = 0; i < json_array_get_length(people); i++) {
      JsonObject *p = json_array_get_object_element(people, i);
      const char *n = json_object_get_string_member_with_default(p, "name", "");
      const char *id = json_object_get_string_member_with_default(p, "id", "");
      gboolean hit = pass == 0 ? strcmp(n, name) == 0
        : pass == 1            ? g_ascii_strcasecmp(n, name) == 0
                               : strcmp(id, name) == 0;
      if (hit) {
        found = id;
        matches++;
      }
    }
  }
  if (matches == 1)
    return found;
  *why = g_strdup_printf(matches == 0 ? "nobody called \"%s\" is in the hearing"
                                      : "more than one participant is called \"%s\"; use their id",
                         name);
  return NULL;
}

static void
send_command(Ctl *c, JsonObject *joined)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "type");
  if (c->cmd->action == NULL) {
    json_builder_add_string_value(b, "status");
  } else {
    json_builder_add_string_value(b, "control");
    json_builder_set_member_name(b, "action");
    json_builder_add_string_value(b, c->cmd->action);
    if (c->cmd->target) {
      g_autofree char *why = NULL;
      const char *id =
        resolve(c, json_object_get_array_member(joined, "participants"), c->args[0], &why);
      if (id == NULL) {
        finish(c, EXIT_REFUSED, "%s", why);
        return;
      }
      json_builder_set_member_name(b, "target");
      json_builder_add_string_value(b, id);
    } else if (strcmp(c->cmd->name, "protect") == 0) {
      json_builder_set_member_name(b, "measure");
      json_builder_add_string_value(b, c->args[0]);
      json_builder_set_member_name(b, "on");
      json_builder_add_boolean_value(b, strcmp(c->args[1], "on") == 0);
    } else if (strcmp(c->cmd->name, "record") == 0) {
      json_builder_set_member_name(b, "op");
      json_builder_add_string_value(b, c->args[0]);
    } else if (strcmp(c->cmd->name, "mark") == 0) {
      json_builder_set_member_name(b, "text");
      json_builder_add_string_value(b, c->args[0]);
    }
  }
  json_builder_end_object(b);
  send_object(c, b);
  c->sent = TRUE;
}

static void
print_people(JsonArray *people, gboolean waiting)
{
  for (guint i = 0; i < json_array_get_length(people); i++) {
    JsonObject *p = json_array_get_object_element(people, i);
    printf("%-5s %-28s %-12s", json_object_get_string_member_with_default(p, "id", ""),
           json_object_get_string_member_with_default(p, "name", ""),
           json_object_get_string_member_with_default(p, "role", ""));
    if (waiting) {
      gint64 since = json_object_get_int_member_with_default(p, "since", 0);
      g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(since);
      g_autofree char *when = t != NULL ? g_date_time_format(t, "%H:%M:%S UTC") : g_strdup("?");
      JsonObject *link = json_object_get_object_member(p, "link");
      printf(" waiting since %s", when);
      if (link != NULL)
        printf(", rtt %.0f ms, loss %.1f%%, %" G_GINT64_FORMAT " kbit/s",
               json_object_get_double_member_with_default(link, "rtt_ms", 0),
               100 * json_object_get_double_member_with_default(link, "loss", 0),
               json_object_get_int_member_with_default(link, "bitrate_kbps", 0));
    } else {
      printf(" %-8s audio %-5s video %-3s",
             json_object_get_string_member_with_default(p, "state", ""),
             json_object_get_string_member_with_default(p, "audio", ""),
             json_object_get_string_member_with_default(p, "video", ""));
    }
    printf("\n");
  }
  if (json_array_get_length(people) == 0)
    printf(waiting ? "nobody is waiting\n" : "nobody is in the hearing\n");
}

static int
error_status(const char *code)
{
  static const char *const token_codes[] = {
    "bad-token",     "token-expired", "token-not-yet-valid", "wrong-hearing", "token-in-use",
    "token-revoked", "hearing-ended", "hearing-locked",      "rate-limited",  NULL,
  };
  return g_strv_contains(token_codes, code) ? EXIT_TOKEN : EXIT_REFUSED;
}

static void
on_message(SoupWebsocketConnection *ws, gint type, GBytes *msg, gpointer data)
{
  Ctl *c = data;
  gsize len;
  const char *text = g_bytes_get_data(msg, &len);
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!json_parser_load_from_data(parser, text, (gssize) len, NULL) ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
    return;
  JsonObject *o = json_node_get_object(json_parser_get_root(parser));
  const char *t = json_object_get_string_member_with_default(o, "type", "");
  gboolean answer = strcmp(t, "error") == 0 || strcmp(t, "done") == 0 ||
    (c->cmd->action == NULL && strcmp(t, "status") == 0) ||
    (c->sent && c->cmd->action != NULL && strcmp(c->cmd->action, "waiting") == 0 &&
     strcmp(t, "waiting") == 0);
  if (c->json && (answer || strcmp(t, "joined") == 0))
    printf("%.*s\n", (int) len, text);
  if (strcmp(t, "joined") == 0 && !c->sent) {
    send_command(c, o);
  } else if (strcmp(t, "error") == 0) {
    const char *code = json_object_get_string_member_with_default(o, "code", "error");
    finish(c, error_status(code), "the relay refused: %s (%s)",
           json_object_get_string_member_with_default(o, "message", ""), code);
  } else if (!c->sent || !answer) {
    return;
  } else if (c->json) {
    finish(c, 0, NULL);
  } else if (strcmp(t, "status") == 0) {
    printf("hearing %s  case %s%s\n", json_object_get_string_member_with_default(o, "hearing", ""),
           json_object_get_string_member_with_default(o, "case", ""),
           json_object_get_boolean_member_with_default(o, "locked", FALSE) ? "  (locked)" : "");
    print_people(json_object_get_array_member(o, "participants"), FALSE);
    finish(c, 0, NULL);
  } else if (strcmp(t, "waiting") == 0) {
    print_people(json_object_get_array_member(o, "participants"), TRUE);
    finish(c, 0, NULL);
  } else {
    const char *path = json_object_get_string_member_with_default(o, "path", NULL);
    if (path != NULL)
      finish(c, 0, "%s", path);
    else
      finish(c, 0, "done: %s", c->cmd->name);
  }
}

static void
on_closed(SoupWebsocketConnection *ws, gpointer data)
{
  Ctl *c = data;
  if (c->status < 0)
    finish(c, EXIT_REFUSED, "the relay closed the session before answering");
}

static void
on_connected(GObject *src, GAsyncResult *res, gpointer data)
{
  Ctl *c = data;
  g_autoptr(GError) error = NULL;
  c->ws = soup_session_websocket_connect_finish(SOUP_SESSION(src), res, &error);
  if (c->ws == NULL) {
    if (g_error_matches(error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE) ||
        (error->domain == G_TLS_ERROR))
      finish(c, EXIT_CONNECT, "the relay's TLS certificate is not trusted; pass it with --ca");
    else
      finish(c, EXIT_CONNECT, "cannot reach the relay at %s (%s)", c->relay, error->message);
    return;
  }
  g_signal_connect(c->ws, "message", G_CALLBACK(on_message), c);
  g_signal_connect(c->ws, "closed", G_CALLBACK(on_closed), c);
}

static gboolean
on_timeout(gpointer data)
{
  finish(data, EXIT_TIMEOUT, "no answer from the relay in time");
  return G_SOURCE_REMOVE;
}

static const Command *
parse_command(char **argv, int argc, char **err)
{
  if (argc < 2) {
    *err = g_strdup("no command given");
    return NULL;
  }
  for (gsize i = 0; i < G_N_ELEMENTS(commands); i++) {
    const Command *cmd = &commands[i];
    if (strcmp(cmd->name, argv[1]) != 0)
      continue;
    if (argc - 2 != cmd->args) {
      *err = g_strdup_printf("%s takes %d argument(s)", cmd->name, cmd->args);
      return NULL;
    }
    if (strcmp(cmd->name, "protect") == 0 &&
        (strcmp(argv[2], "screen-witness") != 0 ||
         (strcmp(argv[3], "on") != 0 && strcmp(argv[3], "off") != 0))) {
      *err = g_strdup("usage: protect screen-witness on|off");
      return NULL;
    }
    static const char *const ops[] = { "start", "pause", "resume", "stop", NULL };
    if (strcmp(cmd->name, "record") == 0 && !g_strv_contains(ops, argv[2])) {
      *err = g_strdup("usage: record start|pause|resume|stop");
      return NULL;
    }
    return cmd;
  }
  *err = g_strdup_printf("unknown command \"%s\"", argv[1]);
  return NULL;
}

int
main(int argc, char **argv)
{
  g_autofree char *relay = NULL, *token = NULL, *ca = NULL;
  int timeout = 15;
  Ctl c = { .status = -1 };
  GOptionEntry entries[] = {
    { "relay", 0, 0, G_OPTION_ARG_STRING, &relay, "Relay address, https://HOST:PORT", "URL" },
    { "token", 0, 0, G_OPTION_ARG_STRING, &token, "A judge's or clerk's join token", "TOKEN" },
    { "ca", 0, 0, G_OPTION_ARG_FILENAME, &ca, "Trust this certificate (PEM) for the relay",
      "CERT" },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout, "Seconds to wait for the answer (15)", "S" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &c.json, "Print the relay's answers as JSON", NULL },
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("COMMAND [ARGS] - control a hearing");
  g_option_context_set_summary(
    ctx,
    "Commands: status, waiting, admit NAME, refuse NAME, to-waiting NAME, mute NAME,\n"
    "unmute-request NAME, video-off NAME, remove NAME, protect screen-witness on|off, lock,\n"
    "unlock, end, record start|pause|resume|stop, mark TEXT");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    fprintf(stderr, "testimony-ctl: %s\n", error->message);
    return EXIT_USAGE;
  }
  g_autofree char *why = NULL;
  c.cmd = parse_command(argv, argc, &why);
  if (relay == NULL || token == NULL || c.cmd == NULL) {
    fprintf(stderr,
            "testimony-ctl: %s\nusage: testimony-ctl --relay URL --token TOKEN [--ca CERT] "
            "COMMAND [ARGS]  (see --help)\n",
            why != NULL ? why : "--relay and --token are required");
    return EXIT_USAGE;
  }
  c.args = argv + 2;
  c.relay = relay;
  g_autoptr(SoupSession) session = soup_session_new();
  if (ca != NULL) {
    g_autoptr(GTlsDatabase) db = g_tls_file_database_new(ca, &error);
    if (db == NULL) {
      fprintf(stderr, "testimony-ctl: cannot read the certificate %s: %s\n", ca, error->message);
      return EXIT_USAGE;
    }
    soup_session_set_tls_database(session, db);
  }
  g_autofree char *url = g_strconcat(relay, "/ws", NULL);
  g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
  if (msg == NULL) {
    fprintf(stderr, "testimony-ctl: \"%s\" is not an https:// address\n", relay);
    return EXIT_USAGE;
  }
  c.loop = g_main_loop_new(NULL, FALSE);
  soup_session_websocket_connect_async(session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                       on_connected, &c);
  /* the join goes out as soon as the connection is up */
  g_timeout_add_seconds(timeout, on_timeout, &c);
  g_autofree char *join = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "type");
  json_builder_add_string_value(b, "join");
  json_builder_set_member_name(b, "token");
  json_builder_add_string_value(b, token);
  json_builder_set_member_name(b, "control");
  json_builder_add_boolean_value(b, TRUE);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  join = json_to_string(root, FALSE);
  while (c.ws == NULL && c.status < 0)
    g_main_context_iteration(NULL, TRUE);
  if (c.ws != NULL) {
    soup_websocket_connection_send_text(c.ws, join);
    g_main_loop_run(c.loop);
    if (soup_websocket_connection_get_state(c.ws) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close(c.ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    g_object_unref(c.ws);
  }
  g_main_loop_unref(c.loop);
  return c.status < 0 ? EXIT_TIMEOUT : c.status;
}
