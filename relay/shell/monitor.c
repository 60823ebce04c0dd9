/* monitor.c — /healthz and /metrics. */
#define G_LOG_DOMAIN "testimony-relay"

#include "monitor.h"

#include <string.h>

#include "http.h"
#include "room.h"

struct _TmMonitor {
  TmRelay *relay;
  SoupServer *soup;
};

static gboolean
method_is_get(SoupServerMessage *msg)
{
  const char *method = soup_server_message_get_method(msg);
  if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
    return TRUE;
  soup_server_message_set_status(msg, 405, NULL);
  return FALSE;
}

static void
respond(SoupServerMessage *msg, guint status, const char *type, char *body)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
  soup_message_headers_replace(h, "Cache-Control", "no-store");
  soup_message_headers_replace(h, "X-Content-Type-Options", "nosniff");
  soup_server_message_set_status(msg, status, NULL);
  soup_server_message_set_response(msg, type, SOUP_MEMORY_TAKE, body, strlen(body));
}

static void
health(SoupServerMessage *msg, const TmRelay *relay)
{
  if (relay->stopping)
    respond(msg, 503, "application/json", g_strdup("{\"status\":\"stopping\"}\n"));
  else
    respond(msg, 200, "application/json", g_strdup("{\"status\":\"ok\"}\n"));
}

/* /healthz on the HTTPS listener, whose every answer carries HSTS (http.c). */
static void
on_health(SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
          gpointer data)
{
  if (!method_is_get(msg))
    return;
  health(msg, data);
  soup_message_headers_replace(soup_server_message_get_response_headers(msg),
                               "Strict-Transport-Security", TM_HTTP_HSTS);
}

void
tm_monitor_add_health(SoupServer *soup, TmRelay *relay)
{
  soup_server_add_handler(soup, "/healthz", on_health, relay, NULL);
}

TmMetrics *
tm_monitor_collect(TmRelay *relay)
{
  TmMetrics *m = g_new0(TmMetrics, 1);
  m->counters = relay->counters;
  if (relay->https != NULL) {
    const TmListenerStats *s = relay->https;
    m->https[TM_HTTPS_ACCEPTED] = s->accepted;
    m->https[TM_HTTPS_REFUSED_ADDRESS] = s->refused_per_address;
    m->https[TM_HTTPS_REFUSED_TOTAL] = s->refused_total;
    m->https[TM_HTTPS_HANDSHAKE_FAILED] = s->handshake_failed;
    m->https[TM_HTTPS_HELLO_TIMEOUT] = s->hello_timeout;
    m->https[TM_HTTPS_HANDSHAKE_TIMEOUT] = s->handshake_timeout;
    m->https[TM_HTTPS_HANDSHAKE_STALLED] = s->handshake_stalled;
  }
  TmIceTotals sent;
  tm_ice_totals(&sent);
  m->datagrams_sent = sent.datagrams;
  m->send_calls = sent.calls;
  m->send_dropped = sent.dropped;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, relay->rooms);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    TmRoom *room = tm_room_enter(value); /* its worker writes the counters */
    tm_hearing_add_metrics(room->hearing, m);
    m->counters.recorded_bytes += room->recorded_bytes;
    if (room->recorder != NULL)
      m->recordings++;
    tm_room_exit(room);
  }
  return m;
}

/* Everything on the metrics listener: /metrics, /healthz, and 404. */
static void
on_monitor(SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
           gpointer data)
{
  TmMonitor *mon = data;
  if (!method_is_get(msg))
    return;
  if (strcmp(path, "/healthz") == 0) {
    health(msg, mon->relay);
  } else if (strcmp(path, "/metrics") == 0) {
    g_autofree TmMetrics *m = tm_monitor_collect(mon->relay);
    respond(msg, 200, "text/plain; version=0.0.4; charset=utf-8", tm_metrics_render(m));
  } else {
    respond(msg, 404, "text/plain", g_strdup("not found: /metrics and /healthz are served here\n"));
  }
}

TmMonitor *
tm_monitor_new(TmRelay *relay, const char *listen, GError **error)
{
  g_autofree char *host = NULL;
  guint port = 0;
  if (!tm_config_split_listen(listen, &host, &port, error)) {
    g_prefix_error(error, "metrics-listen: ");
    return NULL;
  }
  g_autoptr(GInetAddress) ia = g_inet_address_new_from_string(host);
  g_autoptr(GSocketAddress) sa = g_inet_socket_address_new(ia, port);
  TmMonitor *m = g_new0(TmMonitor, 1);
  m->relay = relay;
  m->soup = soup_server_new("server-header", "testimony-relay", NULL);
  soup_server_add_handler(m->soup, NULL, on_monitor, m, NULL);
  if (!soup_server_listen(m->soup, sa, 0, error)) {
    g_prefix_error(error, "cannot listen for metrics on %s: ", listen);
    tm_monitor_free(m);
    return NULL;
  }
  return m;
}

void
tm_monitor_free(TmMonitor *m)
{
  if (m == NULL)
    return;
  soup_server_disconnect(m->soup);
  g_object_unref(m->soup);
  g_free(m);
}
