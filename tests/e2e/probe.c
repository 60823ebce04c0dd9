/* probe.c — a scripted signalling client for end-to-end tests.
 *
 *   testimony-probe --relay https://HOST:PORT --ca CERT.pem [--wait MS] [--raw] MESSAGE...
 *
 * Opens one WebSocket session, sends each MESSAGE (a JSON text, sent verbatim; "@SIZE" sends an
 * object padded to SIZE bytes), waits WAIT ms after the last one (default 500) and prints every
 * message the relay sent, one per line, then "closed CODE" if the relay closed the session. */
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
} Probe;

static gboolean
finish(gpointer data)
{
  Probe *p = data;
  g_main_loop_quit(p->loop);
  return G_SOURCE_REMOVE;
}

static void
on_message(SoupWebsocketConnection *ws, gint type, GBytes *msg, gpointer data)
{
  gsize len;
  const char *text = g_bytes_get_data(msg, &len);
  printf("%.*s\n", (int) len, text);
  fflush(stdout);
}

static void
on_closed(SoupWebsocketConnection *ws, gpointer data)
{
  Probe *p = data;
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
  g_timeout_add(p->wait_ms, finish, p);
}

int
main(int argc, char **argv)
{
  g_autofree char *relay = NULL, *ca = NULL;
  Probe p = { .wait_ms = 500 };
  GOptionEntry entries[] = {
    { "relay", 0, 0, G_OPTION_ARG_STRING, &relay, "Relay URL", "URL" },
    { "ca", 0, 0, G_OPTION_ARG_FILENAME, &ca, "Relay certificate", "PEM" },
    { "wait", 0, 0, G_OPTION_ARG_INT, &p.wait_ms, "Wait after sending (ms)", "MS" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &p.messages, NULL, "MESSAGE..." },
    { NULL },
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
  g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
  p.loop = g_main_loop_new(NULL, FALSE);
  soup_session_websocket_connect_async(session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                       on_connected, &p);
  g_main_loop_run(p.loop);
  if (p.ws != NULL) {
    if (soup_websocket_connection_get_state(p.ws) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close(p.ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    g_object_unref(p.ws);
  }
  g_main_loop_unref(p.loop);
  g_strfreev(p.messages);
  return p.status;
}
