/* signalling.c — WebSocket + JSON session with the relay over libsoup-3 (see signalling.h). */
#include "signalling.h"

#include <gio/gio.h>
#include <libsoup/soup.h>

#define LOG_DOMAIN "testimony-signalling"
#define MAX_INCOMING (256 * 1024)
#define CONNECT_TIMEOUT_S 15

/* The quark's name is taken as written. */
/* clang-format off */
G_DEFINE_QUARK(tm-signalling-error-quark, tm_signalling_error)
/* clang-format on */

struct _TmSignalling {
  TmSignallingListener listener;
  gpointer user_data;
  gchar *relay; /* as given, for messages */
  gchar *ws_url;
  gboolean pinned;          /* trust exactly the --ca certificates */
  GTlsCertificate *ca_cert; /* first certificate of --ca, for the identity exception */
  SoupSession *session;
  GCancellable *cancellable;
  SoupMessage *msg; /* the WebSocket upgrade request */
  SoupWebsocketConnection *connection;
};

static gchar *
ws_url_for(const gchar *relay, GError **error)
{
  g_autoptr(GUri) uri = g_uri_parse(relay, G_URI_FLAGS_NONE, NULL);
  g_autofree gchar *path = NULL;
  const gchar *base;

  if (uri == NULL || g_strcmp0(g_uri_get_scheme(uri), "https") != 0 ||
      g_uri_get_host(uri) == NULL || g_uri_get_host(uri)[0] == '\0' ||
      g_uri_get_query(uri) != NULL || g_uri_get_userinfo(uri) != NULL) {
    g_set_error(error, TM_SIGNALLING_ERROR, TM_SIGNALLING_ERROR_BAD_URL,
                "--relay must be an https://HOST:PORT address, not \"%s\"", relay);
    return NULL;
  }
  base = g_uri_get_path(uri);
  path =
    g_str_has_suffix(base, "/") ? g_strconcat(base, "ws", NULL) : g_strconcat(base, "/ws", NULL);
  return g_uri_join(G_URI_FLAGS_NONE, "wss", NULL, g_uri_get_host(uri), g_uri_get_port(uri), path,
                    NULL, NULL);
}

static gboolean
load_ca(TmSignalling *signalling, const gchar *ca_file, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GTlsDatabase) database = NULL;
  g_autofree gchar *absolute = g_canonicalize_filename(ca_file, NULL);

  signalling->ca_cert = g_tls_certificate_new_from_file(ca_file, &local_error);
  if (signalling->ca_cert == NULL) {
    g_set_error(error, TM_SIGNALLING_ERROR, TM_SIGNALLING_ERROR_BAD_CA,
                "cannot read the certificate %s: %s", ca_file, local_error->message);
    return FALSE;
  }
  database = g_tls_file_database_new(absolute, &local_error);
  if (database == NULL) {
    g_set_error(error, TM_SIGNALLING_ERROR, TM_SIGNALLING_ERROR_BAD_CA,
                "cannot use the certificate %s: %s", ca_file, local_error->message);
    return FALSE;
  }
  g_object_set(signalling->session, "tls-database", database, NULL);
  signalling->pinned = TRUE;
  return TRUE;
}

TmSignalling *
tm_signalling_new(const gchar *relay, const gchar *ca_file, const TmSignallingListener *listener,
                  gpointer user_data, GError **error)
{
  g_autofree gchar *ws_url = ws_url_for(relay, error);
  TmSignalling *signalling;

  if (ws_url == NULL)
    return NULL;
  signalling = g_new0(TmSignalling, 1);
  signalling->listener = *listener;
  signalling->user_data = user_data;
  signalling->relay = g_strdup(relay);
  signalling->ws_url = g_steal_pointer(&ws_url);
  signalling->cancellable = g_cancellable_new();
  signalling->session =
    soup_session_new_with_options("timeout", CONNECT_TIMEOUT_S, "idle-timeout", 0, "user-agent",
                                  "testimony-client/" TM_VERSION, NULL);
  if (ca_file != NULL && !load_ca(signalling, ca_file, error)) {
    tm_signalling_free(signalling);
    return NULL;
  }
  return signalling;
}

/* With --ca, the relay's certificate is pinned: when it is exactly the given certificate, a
 * host name that does not match (a self-signed certificate made for another name) is not a
 * reason to refuse it. Nothing else is excused. */
static gboolean
accept_certificate(SoupMessage *msg, GTlsCertificate *peer, GTlsCertificateFlags errors,
                   gpointer user_data)
{
  TmSignalling *signalling = user_data;

  if (!signalling->pinned || signalling->ca_cert == NULL)
    return FALSE;
  if (errors != G_TLS_CERTIFICATE_BAD_IDENTITY)
    return FALSE;
  if (!g_tls_certificate_is_same(peer, signalling->ca_cert))
    return FALSE;
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG,
        "relay certificate is the pinned --ca certificate; host name mismatch accepted");
  return TRUE;
}

static const gchar *
io_reason(const GError *error)
{
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    return "Connection refused";
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return "timed out";
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE))
    return "host unreachable";
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE))
    return "network unreachable";
  return error->message;
}

/* Turns a connect error into one sentence a person can act on. */
static GError *
classify_error(TmSignalling *signalling, SoupMessage *msg, const GError *error)
{
  if (error->domain == G_TLS_ERROR) {
    if (g_error_matches(error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE)) {
      if (signalling->pinned)
        return g_error_new(TM_SIGNALLING_ERROR, TM_SIGNALLING_ERROR_UNTRUSTED,
                           "the relay's TLS certificate is not the one given with --ca "
                           "(or is not valid)");
      return g_error_new(TM_SIGNALLING_ERROR, TM_SIGNALLING_ERROR_UNTRUSTED,
                         "the relay's TLS certificate is not trusted; pass the relay's "
                         "certificate with --ca");
    }
    if (g_error_matches(error, G_TLS_ERROR, G_TLS_ERROR_NOT_TLS))
      return g_error_new(TM_SIGNALLING_ERROR, TM_SIGNALLING_ERROR_TLS,
                         "the relay at %s does not speak TLS", signalling->relay);
    return g_error_new(TM_SIGNALLING_ERROR, TM_SIGNALLING_ERROR_TLS,
                       "the TLS handshake with the relay at %s failed (%s)", signalling->relay,
                       error->message);
  }
  if (error->domain == SOUP_WEBSOCKET_ERROR) {
    guint status = soup_message_get_status(msg);
    if (status != 0)
      return g_error_new(
        TM_SIGNALLING_ERROR, TM_SIGNALLING_ERROR_HANDSHAKE,
        "the relay at %s did not open a WebSocket at %s (HTTP %u %s)", signalling->relay,
        signalling->ws_url, status,
        soup_message_get_reason_phrase(msg) != NULL ? soup_message_get_reason_phrase(msg) : "");
    return g_error_new(TM_SIGNALLING_ERROR, TM_SIGNALLING_ERROR_HANDSHAKE,
                       "the relay at %s did not open a WebSocket (%s)", signalling->relay,
                       error->message);
  }
  return g_error_new(TM_SIGNALLING_ERROR,
                     g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)
                       ? TM_SIGNALLING_ERROR_TIMED_OUT
                       : TM_SIGNALLING_ERROR_UNREACHABLE,
                     "cannot reach the relay at %s (%s)", signalling->relay, io_reason(error));
}

static void
on_message(SoupWebsocketConnection *connection, gint data_type, GBytes *data, gpointer user_data)
{
  TmSignalling *signalling = user_data;
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = NULL;
  gsize size = 0;
  const gchar *text = g_bytes_get_data(data, &size);
  JsonNode *root;
  JsonObject *object;
  JsonNode *type;

  if (data_type != SOUP_WEBSOCKET_DATA_TEXT) {
    g_log(LOG_DOMAIN, G_LOG_LEVEL_WARNING, "relay sent a binary frame (%zu bytes); ignored", size);
    return;
  }
  if (!json_parser_load_from_data(parser, text, (gssize) size, &error)) {
    g_log(LOG_DOMAIN, G_LOG_LEVEL_WARNING, "relay sent a message that is not JSON (%s); ignored",
          error->message);
    return;
  }
  root = json_parser_get_root(parser);
  object = root != NULL && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
  type = object != NULL ? json_object_get_member(object, "type") : NULL;
  if (type == NULL || json_node_get_value_type(type) != G_TYPE_STRING) {
    g_log(LOG_DOMAIN, G_LOG_LEVEL_WARNING,
          "relay sent a message without a string \"type\"; ignored");
    return;
  }
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "<- %s (%zu bytes)", json_node_get_string(type), size);
  signalling->listener.message(signalling->user_data, json_node_get_string(type), object);
}

static void
on_closed(SoupWebsocketConnection *connection, gpointer user_data)
{
  TmSignalling *signalling = user_data;
  gushort code = soup_websocket_connection_get_close_code(connection);
  const gchar *reason = soup_websocket_connection_get_close_data(connection);

  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "WebSocket closed (code %u, \"%s\")", code,
        reason != NULL ? reason : "");
  signalling->listener.closed(signalling->user_data, code, reason);
}

static void
on_error(SoupWebsocketConnection *connection, GError *error, gpointer user_data)
{
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "WebSocket error: %s", error->message);
}

static void
on_connected(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  SoupWebsocketConnection *connection;
  TmSignalling *signalling;

  connection = soup_session_websocket_connect_finish(SOUP_SESSION(source), result, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  signalling = user_data;
  if (connection == NULL) {
    g_autoptr(GError) classified = classify_error(signalling, signalling->msg, error);
    g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "connect failed: %s (%s %d)", error->message,
          g_quark_to_string(error->domain), error->code);
    signalling->listener.connect_failed(signalling->user_data, classified);
    return;
  }
  tm_signalling_abandon(signalling);
  signalling->connection = connection;
  soup_websocket_connection_set_max_incoming_payload_size(connection, MAX_INCOMING);
  g_signal_connect(connection, "message", G_CALLBACK(on_message), signalling);
  g_signal_connect(connection, "closed", G_CALLBACK(on_closed), signalling);
  g_signal_connect(connection, "error", G_CALLBACK(on_error), signalling);
  signalling->listener.connected(signalling->user_data);
}

void
tm_signalling_connect(TmSignalling *signalling)
{
  g_clear_object(&signalling->msg);
  signalling->msg = soup_message_new(SOUP_METHOD_GET, signalling->ws_url);
  g_signal_connect(signalling->msg, "accept-certificate", G_CALLBACK(accept_certificate),
                   signalling);
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "connecting to %s", signalling->ws_url);
  soup_session_websocket_connect_async(signalling->session, signalling->msg, NULL, NULL,
                                       G_PRIORITY_DEFAULT, signalling->cancellable, on_connected,
                                       signalling);
}

gboolean
tm_signalling_is_open(TmSignalling *signalling)
{
  return signalling->connection != NULL &&
    soup_websocket_connection_get_state(signalling->connection) == SOUP_WEBSOCKET_STATE_OPEN;
}

gboolean
tm_signalling_send(TmSignalling *signalling, JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
  g_autofree gchar *text = NULL;

  if (!tm_signalling_is_open(signalling))
    return FALSE;
  json_node_set_object(node, object);
  text = json_to_string(node, FALSE);
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "-> %s (%zu bytes)",
        json_object_get_string_member_with_default(object, "type", "?"), strlen(text));
  soup_websocket_connection_send_text(signalling->connection, text);
  return TRUE;
}

gboolean
tm_signalling_send_type(TmSignalling *signalling, const gchar *type)
{
  g_autoptr(JsonObject) object = json_object_new();

  json_object_set_string_member(object, "type", type);
  return tm_signalling_send(signalling, object);
}

void
tm_signalling_abandon(TmSignalling *signalling)
{
  if (signalling->connection == NULL)
    return;
  g_signal_handlers_disconnect_by_data(signalling->connection, signalling);
  if (soup_websocket_connection_get_state(signalling->connection) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close(signalling->connection, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
  g_clear_object(&signalling->connection);
}

void
tm_signalling_close(TmSignalling *signalling)
{
  if (tm_signalling_is_open(signalling))
    soup_websocket_connection_close(signalling->connection, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
}

void
tm_signalling_free(TmSignalling *signalling)
{
  if (signalling == NULL)
    return;
  g_cancellable_cancel(signalling->cancellable);
  if (signalling->connection != NULL) {
    g_signal_handlers_disconnect_by_data(signalling->connection, signalling);
    g_object_unref(signalling->connection);
  }
  g_clear_object(&signalling->msg);
  g_clear_object(&signalling->session);
  g_clear_object(&signalling->cancellable);
  g_clear_object(&signalling->ca_cert);
  g_free(signalling->relay);
  g_free(signalling->ws_url);
  g_free(signalling);
}
