/* probe.c — a scripted signalling client for end-to-end tests.
 *
 *   testimony-probe --relay https://HOST:PORT --ca CERT.pem [--wait MS] [--raw] MESSAGE...
 *
 * Opens one WebSocket session, sends each MESSAGE (a JSON text, sent verbatim; "@SIZE" sends an
 * object padded to SIZE bytes), waits WAIT ms after the last one (default 500) and prints every
 * message the relay sent, one per line, then "closed CODE" if the relay closed the session.
 * With --repeat N it opens N sessions one after another, each sending the same messages, and
 * prints one line per session with the error codes it got (a bounded load loop). */
#include <gio/gio.h>
#include <libsoup/soup.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  GMainLoop *loop;
  char **messages;
  int wait_ms;
  SoupWebsocketConnection *ws;
  int status;
  gboolean quiet; /* --repeat: print only the error codes */
  GString *codes;
  guint timer;
} Probe;

static gboolean
finish(gpointer data)
{
  Probe *p = data;
  p->timer = 0;
  g_main_loop_quit(p->loop);
  return G_SOURCE_REMOVE;
}

static void
on_message(SoupWebsocketConnection *ws, gint type, GBytes *msg, gpointer data)
{
  Probe *p = data;
  gsize len;
  const char *text = g_bytes_get_data(msg, &len);
  if (p->quiet) {
    const char *c = g_strstr_len(text, (gssize) len, "\"code\":\"");
    if (c != NULL) {
      const char *e = strchr(c + 8, '"');
      g_string_append_printf(p->codes, "%.*s ", e != NULL ? (int) (e - c - 8) : 0, c + 8);
    }
    return;
  }
  printf("%.*s\n", (int) len, text);
  fflush(stdout);
}

static void
on_closed(SoupWebsocketConnection *ws, gpointer data)
{
  Probe *p = data;
  if (!p->quiet)
    printf("closed %u\n", soup_websocket_connection_get_close_code(ws));
  g_main_loop_quit(p->loop);
}

static void
on_connected(GObject *src, GAsyncResult *res, gpointer data)
{
  Probe *p = data;
  g_autoptr(GError) error = NULL;
  p->ws = soup_session_websocket_connect_finish(SOUP_SESSION(src), res, &error);
  if (p->ws == NULL) {
    fprintf(stderr, "probe: %s\n", error->message);
    p->status = 3;
    g_main_loop_quit(p->loop);
    return;
  }
  soup_websocket_connection_set_max_incoming_payload_size(p->ws, 1 << 22);
  g_signal_connect(p->ws, "message", G_CALLBACK(on_message), p);
  g_signal_connect(p->ws, "closed", G_CALLBACK(on_closed), p);
  for (char **m = p->messages; m != NULL && *m != NULL; m++) {
    if ((*m)[0] == '@') {
      gsize size = g_ascii_strtoull(*m + 1, NULL, 10);
      GString *s = g_string_new("{\"type\":\"ping\",\"pad\":\"");
      while (s->len + 2 < size)
        g_string_append_c(s, 'x');
      g_string_append(s, "\"}");
      soup_websocket_connection_send_text(p->ws, s->str);
      g_string_free(s, TRUE);
    } else {
      soup_websocket_connection_send_text(p->ws, *m);
    }
  }
  p->timer = g_timeout_add(p->wait_ms, finish, p);
}

int
main(int argc, char **argv)
{
  g_autofree char *relay = NULL, *ca = NULL;
  Probe p = { .wait_ms = 500 };
  int repeat = 0;
  GOptionEntry entries[] = {
    { "relay", 0, 0, G_OPTION_ARG_STRING, &relay, "Relay URL", "URL" },
    { "ca", 0, 0, G_OPTION_ARG_FILENAME, &ca, "Relay certificate", "PEM" },
    { "wait", 0, 0, G_OPTION_ARG_INT, &p.wait_ms, "Wait after sending (ms)", "MS" },
    { "repeat", 0, 0, G_OPTION_ARG_INT, &repeat, "Sessions to open one after another (<= 5000)",
      "N" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &p.messages, NULL, "MESSAGE..." },
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("MESSAGE...");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error) || relay == NULL || ca == NULL) {
    fprintf(stderr, "usage: testimony-probe --relay URL --ca CERT MESSAGE...\n");
    return 2;
  }
  g_autoptr(GTlsDatabase) db = g_tls_file_database_new(ca, &error);
  if (db == NULL) {
    fprintf(stderr, "probe: %s\n", error->message);
    return 2;
  }
  g_autoptr(SoupSession) session = soup_session_new_with_options("tls-database", db, NULL);
  g_autofree char *url = g_strconcat(relay, "/ws", NULL);
  p.loop = g_main_loop_new(NULL, FALSE);
  p.quiet = repeat > 0;
  int rounds = CLAMP(repeat, 1, 5000);
  for (int i = 0; i < rounds; i++) {
    g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
    p.codes = g_string_new(NULL);
    soup_session_websocket_connect_async(session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                         on_connected, &p);
    g_main_loop_run(p.loop);
    if (p.ws != NULL) {
      g_signal_handlers_disconnect_by_data(p.ws, &p);
      if (soup_websocket_connection_get_state(p.ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close(p.ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      g_clear_object(&p.ws);
    }
    if (p.timer != 0) {
      g_source_remove(p.timer);
      p.timer = 0;
    }
    if (p.quiet)
      printf("session %d: %s\n", i + 1, p.codes->len > 0 ? p.codes->str : "(no error)");
    g_string_free(p.codes, TRUE);
  }
  g_main_loop_unref(p.loop);
  g_strfreev(p.messages);
  return p.status;
}
