/* server.c — the relay as a whole: keys, certificate, the shared registries (relay.h), the
 * HTTPS side (http.c), recovery of recordings interrupted by a crash. */
#define G_LOG_DOMAIN "testimony-relay"

#include "server.h"

#include "http.h"
#include "recorder.h"
#include "relay.h"
#include "room.h"
#include "session.h"

struct _TmServer {
  TmRelay relay;
  TmHttp *http;
};

static void
config_copy(TmConfig *dst, const TmConfig *src)
{
  dst->listen = g_strdup(src->listen);
  dst->media_addresses = g_strdupv(src->media_addresses);
  dst->port_min = src->port_min;
  dst->port_max = src->port_max;
  dst->state_dir = g_strdup(src->state_dir);
  dst->certificate = g_strdup(src->certificate);
  dst->private_key = g_strdup(src->private_key);
  dst->web_dir = g_strdup(src->web_dir);
  dst->remote_candidates = g_strdupv(src->remote_candidates);
  dst->ice_tcp = src->ice_tcp;
  dst->turn_servers = g_strdupv(src->turn_servers);
  dst->turn_secret = g_strdup(src->turn_secret);
  dst->turn_lifetime = src->turn_lifetime;
}

static void
relay_init(TmRelay *relay, const TmConfig *config)
{
  config_copy(&relay->config, config);
  relay->context = g_main_context_ref_thread_default();
  relay->sink = tm_session_sink;
  relay->rooms =
    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) tm_room_free);
  relay->sessions =
    g_hash_table_new_full(g_direct_hash, g_direct_equal, (GDestroyNotify) tm_session_free, NULL);
  relay->live_tokens = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  relay->join_limits = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  relay->audit_heads = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  relay->unjoined =
    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_queue_free);
  relay->ice.addresses = relay->config.media_addresses;
  relay->ice.port_min = relay->config.port_min;
  relay->ice.port_max = relay->config.port_max;
  relay->ice.tcp = relay->config.ice_tcp;
  if (relay->config.web_dir == NULL)
    relay->config.web_dir =
      g_strdup(g_file_test(WEB_DIR, G_FILE_TEST_IS_DIR) ? WEB_DIR : SOURCE_WEB_DIR);
}

/* Everything that can be wrong at start, with a message for the court's IT. */
static gboolean
relay_load(TmRelay *relay, GError **error)
{
  if (!tm_config_check(&relay->config, error))
    return FALSE;
  for (char **a = relay->config.media_addresses; a != NULL && *a != NULL; a++)
    if (!tm_ice_check_media_address(*a, error))
      return FALSE;
  if (!tm_ice_parse_remote_ranges(relay->config.remote_candidates, &relay->ice.remote_allowed,
                                  error))
    return FALSE;
  relay->identity = tm_dtls_identity_new(g_get_real_time() / 1000000);
  relay->keyring = tm_keyring_new(relay->config.state_dir, error);
  if (relay->keyring == NULL)
    return FALSE;
  relay->evidence = tm_evidence_key_load(relay->config.state_dir, error);
  return relay->evidence != NULL;
}

static void
recover_recordings(TmRelay *relay)
{
  g_autoptr(GError) error = NULL;
  guint recovered = tm_recorder_recover(relay->config.state_dir, relay->evidence, &error);
  if (error != NULL)
    g_critical("recordings left by a crash could not all be finished: %s", error->message);
  if (recovered > 0)
    g_print("finished %u recording(s) interrupted by a crash or restart\n", recovered);
}

TmServer *
tm_server_new(const TmConfig *config, GError **error)
{
  TmServer *server = g_new0(TmServer, 1);
  TmRelay *relay = &server->relay;
  relay_init(relay, config);
  if (!relay_load(relay, error)) {
    tm_server_free(server);
    return NULL;
  }
  g_autofree char *cert_path = NULL, *fingerprint = NULL;
  gboolean created = FALSE;
  g_autoptr(GTlsCertificate) cert =
    tm_state_tls_certificate(relay->config.state_dir, relay->config.certificate,
                             relay->config.private_key, &cert_path, &fingerprint, &created, error);
  if (cert == NULL || (server->http = tm_http_new(relay, cert, error)) == NULL) {
    tm_server_free(server);
    return NULL;
  }
  recover_recordings(relay);
  if (created)
    g_print("created a self-signed TLS certificate at %s\n", cert_path);
  g_print("testimony-relay listening on https://%s\n", relay->config.listen);
  g_print("TLS certificate %s\nSHA-256 fingerprint %s\n", cert_path, fingerprint);
  g_print("media: UDP%s on ports %u-%u; %s\n", relay->config.ice_tcp ? " and TCP (ICE-TCP)" : "",
          relay->config.port_min, relay->config.port_max,
          relay->config.turn_servers != NULL && relay->config.turn_servers[0] != NULL
            ? "TURN servers handed to participants at join"
            : "no TURN server");
  return server;
}

void
tm_server_free(TmServer *server)
{
  if (server == NULL)
    return;
  TmRelay *relay = &server->relay;
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, relay->sessions);
  while (g_hash_table_iter_next(&it, &key, NULL)) {
    TmSession *s = key;
    tm_session_leave(s, "left");
    s->closed = TRUE;
  }
  tm_http_free(server->http);
  g_hash_table_unref(relay->sessions);
  g_hash_table_unref(relay->rooms);
  g_hash_table_unref(relay->live_tokens);
  g_hash_table_unref(relay->join_limits);
  g_hash_table_unref(relay->audit_heads);
  g_hash_table_unref(relay->unjoined);
  if (relay->ice.remote_allowed != NULL)
    g_ptr_array_unref(relay->ice.remote_allowed);
  tm_keyring_free(relay->keyring);
  if (relay->evidence != NULL)
    tm_evidence_key_free(relay->evidence);
  if (relay->identity != NULL)
    tm_dtls_identity_unref(relay->identity);
  g_main_context_unref(relay->context);
  tm_config_clear(&relay->config);
  g_free(server);
}
