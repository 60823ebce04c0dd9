/* http.c — HTTPS: WebSocket sessions, the status endpoint and the court's web pages. */
#define G_LOG_DOMAIN "testimony-relay"

#include "http.h"

#include <libsoup/soup.h>
#include <string.h>

#include "listener.h"
#include "monitor.h"
#include "proxy.h"
#include "session.h"
#include "webpath.h"
#include "wire.h"

struct _TmHttp {
  TmRelay *relay;
  SoupServer *soup;
  TmListener *listener;
};

static void
on_websocket(SoupServer *soup, SoupServerMessage *msg, const char *path,
             SoupWebsocketConnection *ws, gpointer data)
{
  TmHttp *http = data;
  /* Behind a trusted reverse proxy, the client it names is the one the limits apply to. */
  const char *forwarded =
    soup_message_headers_get_list(soup_server_message_get_request_headers(msg), "X-Forwarded-For");
  g_autofree char *remote = tm_proxy_client_address(
    http->relay->trusted_proxies, soup_server_message_get_remote_host(msg), forwarded);
  TmSession *s = tm_session_new(http->relay, ws, remote);
  if (http->relay->stopping)
    tm_session_shutdown(s);
}

static void
respond_json(SoupServerMessage *msg, guint status, JsonBuilder *b)
{
  g_autofree char *text = tm_wire_text(b);
  soup_server_message_set_status(msg, status, NULL);
  soup_message_headers_replace(soup_server_message_get_response_headers(msg),
                               "Strict-Transport-Security", TM_HTTP_HSTS);
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, text, strlen(text));
}

/* What a token may see: judges, clerks and admitted participants the whole status; someone
 * waiting or not in the hearing only its title and their own state. */
static void
on_status(SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
          gpointer data)
{
  TmRelay *relay = ((TmHttp *) data)->relay;
  const char *auth =
    soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Authorization");
  TmTokenClaims claims;
  gboolean revoked = FALSE;
  TmTokenError te = TM_TOKEN_ERR_MALFORMED;
  if (auth != NULL && g_str_has_prefix(auth, "Bearer "))
    te =
      tm_keyring_verify(relay->keyring, auth + 7, g_get_real_time() / 1000000, &claims, &revoked);
  if (te != TM_TOKEN_OK || revoked) {
    g_autoptr(JsonBuilder) b =
      tm_wire_error(revoked ? TM_WIRE_ERR_TOKEN_REVOKED : tm_wire_error_for_token(te),
                    revoked ? "this token has been revoked" : tm_token_strerror(te), NULL);
    respond_json(msg, 401, b);
    return;
  }
  TmRoom *room = g_hash_table_lookup(relay->rooms, claims.hearing);
  TmSession *holder = g_hash_table_lookup(relay->live_tokens, claims.jti);
  gboolean staff = claims.role == TM_ROLE_JUDGE || claims.role == TM_ROLE_CLERK;
  gboolean admitted = holder != NULL && holder->participant != NULL &&
    holder->participant->state == TM_STATE_ADMITTED;
  g_autoptr(JsonBuilder) b = NULL;
  if (room != NULL)
    tm_room_enter(room);
  if (room != NULL && (staff || admitted)) {
    b = tm_room_status(room);
  } else if (room != NULL) { /* waiting, or not in the hearing: no one else's names */
    b = tm_wire_begin("status");
    tm_wire_string(b, "hearing", claims.hearing);
    tm_wire_string(b, "title", room->record->title);
    tm_wire_string(b, "state", holder != NULL ? "waiting" : "not-joined");
    json_builder_end_object(b);
  } else {
    b = tm_wire_begin("status");
    tm_wire_string(b, "hearing", claims.hearing);
    json_builder_set_member_name(b, "participants");
    json_builder_begin_array(b);
    json_builder_end_array(b);
    json_builder_end_object(b);
  }
  if (room != NULL)
    tm_room_exit(room);
  respond_json(msg, 200, b);
}

/* The court's web pages, from the web directory: no directory listing, no path outside it. */
static void
on_web(SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer data)
{
  TmRelay *relay = ((TmHttp *) data)->relay;
  const char *method = soup_server_message_get_method(msg);
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
    soup_server_message_set_status(msg, 405, NULL);
    return;
  }
  char rel[TM_WEB_PATH_MAX];
  const char *type = tm_web_path_resolve(path, strlen(path), rel, sizeof rel);
  g_autofree char *file = NULL;
  if (type != NULL && relay->config.web_dir != NULL)
    file = g_build_filename(relay->config.web_dir, rel, NULL);
  g_autofree char *body = NULL;
  gsize len = 0;
  if (file == NULL || !g_file_test(file, G_FILE_TEST_IS_REGULAR) ||
      !g_file_get_contents(file, &body, &len, NULL)) {
    static const char missing[] = "not found\n";
    soup_server_message_set_status(msg, 404, NULL);
    soup_server_message_set_response(msg, "text/plain", SOUP_MEMORY_STATIC, missing,
                                     sizeof missing - 1);
    return;
  }
  SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
  soup_message_headers_replace(h, "Cache-Control", "no-cache");
  soup_message_headers_replace(h, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace(h, "Strict-Transport-Security", TM_HTTP_HSTS);
  soup_message_headers_replace(h, "Referrer-Policy", "no-referrer");
  soup_message_headers_replace(h, "Content-Security-Policy",
                               "default-src 'self'; connect-src 'self' wss:; img-src 'self' data:; "
                               "media-src 'self' blob:; object-src 'none'; frame-ancestors 'none'");
  soup_server_message_set_status(msg, 200, NULL);
  soup_server_message_set_response(msg, type, SOUP_MEMORY_TAKE, g_steal_pointer(&body), len);
}

TmHttp *
tm_http_new(TmRelay *relay, GTlsCertificate *cert, GError **error)
{
  g_autofree char *host = NULL;
  guint port = 0;
  if (!tm_config_split_listen(relay->config.listen, &host, &port, error))
    return NULL;
  TmHttp *http = g_new0(TmHttp, 1);
  http->relay = relay;
  /* TLS is the listener's (listener.c): it caps and times out connections before soup. */
  http->soup = soup_server_new("server-header", "testimony-relay", NULL);
  soup_server_add_websocket_handler(http->soup, "/ws", NULL, NULL, on_websocket, http, NULL);
  soup_server_add_handler(http->soup, "/api/status", on_status, http, NULL);
  tm_monitor_add_health(http->soup, relay);
  soup_server_add_handler(http->soup, NULL, on_web, http, NULL);
  g_autoptr(GInetAddress) ia = g_inet_address_new_from_string(host);
  g_autoptr(GSocketAddress) sa = ia != NULL ? g_inet_socket_address_new(ia, port) : NULL;
  http->listener = sa != NULL ? tm_listener_new(http->soup, sa, cert, error) : NULL;
  if (http->listener == NULL) {
    if (sa == NULL)
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "not an IP address");
    g_prefix_error(error, "cannot listen on %s: ", relay->config.listen);
    tm_http_free(http);
    return NULL;
  }
  tm_http_update_trusted(http);
  relay->https = tm_listener_stats(http->listener);
  return http;
}

void
tm_http_set_certificate(TmHttp *http, GTlsCertificate *cert)
{
  tm_listener_set_certificate(http->listener, cert);
}

void
tm_http_update_trusted(TmHttp *http)
{
  tm_listener_set_trusted(http->listener, http->relay->trusted_proxies);
}

void
tm_http_free(TmHttp *http)
{
  if (http == NULL)
    return;
  if (http->listener != NULL && http->relay->https == tm_listener_stats(http->listener))
    http->relay->https = NULL;
  tm_listener_free(http->listener);
  soup_server_disconnect(http->soup);
  g_object_unref(http->soup);
  g_free(http);
}
