/* server.c — the relay as a whole: keys, certificate, the shared registries (relay.h), the
 * HTTPS side (http.c), the metrics listener (monitor.c), recovery of recordings interrupted by a
 * crash, reloading (SIGHUP) and stopping (SIGTERM). */
#define G_LOG_DOMAIN "testimony-relay"

#include "server.h"

#include "datadir.h"
#include "http.h"
#include "monitor.h"
#include "proxy.h"
#include "recorder.h"
#include "relay.h"
#include "room.h"
#include "session.h"

struct _TmServer {
  TmRelay relay;
  TmHttp *http;
  TmMonitor *monitor;
  char *fingerprint; /* of the TLS certificate in use */
};

static void
relay_init(TmRelay *relay, const TmConfig *config)
{
  tm_config_copy(&relay->config, config);
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
    relay->config.web_dir = tm_datadir_find("web");
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
                                  error) ||
      !tm_proxy_parse_ranges("trusted-proxies", relay->config.trusted_proxies,
                             &relay->trusted_proxies, error))
    return FALSE;
  relay->identity = tm_dtls_identity_new(g_get_real_time() / 1000000);
  relay->keyring = tm_keyring_new(relay->config.state_dir, error);
  if (relay->keyring == NULL)
    return FALSE;
  relay->evidence = tm_evidence_key_load(relay->config.state_dir, error);
  if (relay->evidence == NULL)
    return FALSE;
  int n = relay->config.media_workers;
  relay->workers = tm_workers_new(n >= 0 ? (guint) n : MIN(g_get_num_processors(), TM_WORKERS_MAX),
                                  relay->context);
  return TRUE;
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
  if (cert == NULL || (server->http = tm_http_new(relay, cert, error)) == NULL ||
      (relay->config.metrics_listen != NULL &&
       (server->monitor = tm_monitor_new(relay, relay->config.metrics_listen, error)) == NULL)) {
    tm_server_free(server);
    return NULL;
  }
  server->fingerprint = g_strdup(fingerprint);
  recover_recordings(relay);
  if (created)
    g_print("created a self-signed TLS certificate at %s\n", cert_path);
  g_print("testimony-relay listening on https://%s\n", relay->config.listen);
  g_print("TLS certificate %s\nSHA-256 fingerprint %s\n", cert_path, fingerprint);
  if (g_file_test(relay->config.web_dir, G_FILE_TEST_IS_DIR))
    g_print("court's web pages from %s\n", relay->config.web_dir);
  else
    g_warning("the court's web pages are not at %s (set web-dir or --web-dir): the relay serves "
              "signalling only",
              relay->config.web_dir);
  if (server->monitor != NULL)
    g_print("metrics on http://%s/metrics\n", relay->config.metrics_listen);
  g_print("media: UDP%s on ports %u-%u; %s\n", relay->config.ice_tcp ? " and TCP (ICE-TCP)" : "",
          relay->config.port_min, relay->config.port_max,
          relay->config.turn_servers != NULL && relay->config.turn_servers[0] != NULL
            ? "TURN servers handed to participants at join"
            : "no TURN server");
  guint workers = tm_workers_count(relay->workers);
  if (workers > 0)
    g_print("media: %u worker thread(s), each hearing on one\n", workers);
  else
    g_print("media: on the control thread (media-workers 0)\n");
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
  tm_monitor_free(server->monitor);
  g_free(server->fingerprint);
  g_hash_table_unref(relay->sessions);
  g_hash_table_unref(relay->rooms);
  tm_workers_free(relay->workers); /* every room closed: they have nothing left to run */
  g_hash_table_unref(relay->live_tokens);
  g_hash_table_unref(relay->join_limits);
  g_hash_table_unref(relay->audit_heads);
  g_hash_table_unref(relay->unjoined);
  if (relay->ice.remote_allowed != NULL)
    g_ptr_array_unref(relay->ice.remote_allowed);
  if (relay->trusted_proxies != NULL)
    g_ptr_array_unref(relay->trusted_proxies);
  tm_keyring_free(relay->keyring);
  if (relay->evidence != NULL)
    tm_evidence_key_free(relay->evidence);
  if (relay->identity != NULL)
    tm_dtls_identity_unref(relay->identity);
  g_main_context_unref(relay->context);
  tm_config_clear(&relay->config);
  g_free(server);
}

/* ---- reloading (SIGHUP) ---- */

static gboolean
strv_same(char **a, char **b)
{
  if (a == NULL || b == NULL)
    return (a == NULL || a[0] == NULL) && (b == NULL || b[0] == NULL);
  return g_strv_equal((const char *const *) a, (const char *const *) b);
}

static char *
strv_text(char **v)
{
  return v != NULL && v[0] != NULL ? g_strjoinv(";", v) : g_strdup("(none)");
}

/* A setting read only at start: a change is reported and waits for the next restart. */
static void
restart_only(const char *key, gboolean same, guint *changed)
{
  if (same)
    return;
  g_warning("reload: %s changed in the configuration; it takes effect at the next restart", key);
  (*changed)++;
}

static void
reload_certificate(TmServer *server, const TmConfig *fresh, guint *changed)
{
  TmRelay *relay = &server->relay;
  g_autofree char *path = NULL, *fingerprint = NULL;
  gboolean created = FALSE;
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsCertificate) cert =
    tm_state_tls_certificate(relay->config.state_dir, fresh->certificate, fresh->private_key, &path,
                             &fingerprint, &created, &error);
  if (cert == NULL) {
    g_warning("reload: the TLS certificate was not reloaded (the one in use stays): %s",
              error->message);
    return;
  }
  tm_http_set_certificate(server->http, cert);
  g_free(relay->config.certificate);
  relay->config.certificate = g_strdup(fresh->certificate);
  g_free(relay->config.private_key);
  relay->config.private_key = g_strdup(fresh->private_key);
  gboolean same = g_strcmp0(fingerprint, server->fingerprint) == 0;
  g_message("reload: TLS certificate %s, SHA-256 fingerprint %s (%s); new connections use it, "
            "open ones keep theirs",
            path, fingerprint, same ? "unchanged" : "new");
  if (!same)
    (*changed)++;
  g_free(server->fingerprint);
  server->fingerprint = g_steal_pointer(&fingerprint);
}

/* Replaces *RANGES (and *TEXT, the setting as written) when KEY's ranges changed and parse. */
static gboolean
reload_ranges(const char *key, char ***text, char **fresh, GPtrArray **ranges, guint *changed)
{
  if (strv_same(*text, fresh))
    return FALSE;
  g_autoptr(GError) error = NULL;
  GPtrArray *parsed = NULL;
  if (!tm_proxy_parse_ranges(key, fresh, &parsed, &error)) {
    g_warning("reload: %s not changed: %s", key, error->message);
    return FALSE;
  }
  if (*ranges != NULL)
    g_ptr_array_unref(*ranges);
  *ranges = parsed;
  g_strfreev(*text);
  *text = g_strdupv(fresh);
  g_autofree char *now = strv_text(fresh);
  g_message("reload: %s is now %s", key, now);
  (*changed)++;
  return TRUE;
}

static void
reload_metrics(TmServer *server, const TmConfig *fresh, guint *changed)
{
  TmRelay *relay = &server->relay;
  if (g_strcmp0(relay->config.metrics_listen, fresh->metrics_listen) == 0)
    return;
  TmMonitor *monitor = NULL;
  g_autoptr(GError) error = NULL;
  if (fresh->metrics_listen != NULL &&
      (monitor = tm_monitor_new(relay, fresh->metrics_listen, &error)) == NULL) {
    g_warning("reload: metrics-listen not changed: %s", error->message);
    return;
  }
  tm_monitor_free(server->monitor);
  server->monitor = monitor;
  g_free(relay->config.metrics_listen);
  relay->config.metrics_listen = g_strdup(fresh->metrics_listen);
  g_message("reload: metrics-listen is now %s",
            fresh->metrics_listen != NULL ? fresh->metrics_listen : "off");
  (*changed)++;
}

void
tm_server_reload(TmServer *server, const TmConfig *fresh)
{
  TmRelay *relay = &server->relay;
  TmConfig *now = &relay->config;
  guint changed = 0;
  restart_only("listen", g_strcmp0(now->listen, fresh->listen) == 0, &changed);
  restart_only("media-address", strv_same(now->media_addresses, fresh->media_addresses), &changed);
  restart_only("ports", now->port_min == fresh->port_min && now->port_max == fresh->port_max,
               &changed);
  restart_only("state-dir", g_strcmp0(now->state_dir, fresh->state_dir) == 0, &changed);
  restart_only("ice-tcp", now->ice_tcp == fresh->ice_tcp, &changed);
  restart_only("transport-cc", now->transport_cc == fresh->transport_cc, &changed);
  restart_only("turn-server", strv_same(now->turn_servers, fresh->turn_servers), &changed);
  restart_only("turn-secret", g_strcmp0(now->turn_secret, fresh->turn_secret) == 0, &changed);
  restart_only("turn-lifetime", now->turn_lifetime == fresh->turn_lifetime, &changed);
  restart_only("media-workers", now->media_workers == fresh->media_workers, &changed);
  reload_certificate(server, fresh, &changed);
  if (reload_ranges("trusted-proxies", &now->trusted_proxies, fresh->trusted_proxies,
                    &relay->trusted_proxies, &changed))
    tm_http_update_trusted(server->http);
  /* Connections already open keep the ranges they were made with. */
  reload_ranges("remote-candidates", &now->remote_candidates, fresh->remote_candidates,
                &relay->ice.remote_allowed, &changed);
  reload_metrics(server, fresh, &changed);
  if (fresh->web_dir != NULL && g_strcmp0(now->web_dir, fresh->web_dir) != 0) {
    g_free(now->web_dir);
    now->web_dir = g_strdup(fresh->web_dir);
    g_message("reload: web-dir is now %s", now->web_dir);
    changed++;
  }
  g_message("reload: done, %u setting(s) changed; %u hearing(s) and %u connection(s) continue",
            changed, g_hash_table_size(relay->rooms), g_hash_table_size(relay->sessions));
}

/* ---- stopping (SIGTERM) ---- */

void
tm_server_stop(TmServer *server)
{
  TmRelay *relay = &server->relay;
  if (relay->stopping)
    return;
  relay->stopping = TRUE;
  guint hearings = g_hash_table_size(relay->rooms), recordings = 0;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, relay->rooms);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    TmRoom *room = tm_room_enter(value);
    recordings += room->recorder != NULL;
    tm_room_audit(room, NULL, "relay-shutdown", NULL, "the relay was told to stop");
    tm_room_exit(room);
  }
  g_message("stopping: telling %u connection(s) in %u hearing(s); %u recording(s) to finish",
            g_hash_table_size(relay->sessions), hearings, recordings);
  guint n = 0;
  g_autofree gpointer *sessions = g_hash_table_get_keys_as_array(relay->sessions, &n);
  for (guint i = 0; i < n; i++)
    tm_session_shutdown(sessions[i]);
  /* Whoever is away (no session now) leaves too; each room closes once empty, finishing and
   * signing its recording. */
  while (g_hash_table_size(relay->rooms) > 0) {
    g_hash_table_iter_init(&it, relay->rooms);
    g_hash_table_iter_next(&it, NULL, &value);
    TmRoom *room = tm_room_enter(value);
    if (tm_hearing_n_participants(room->hearing) > 0)
      tm_room_remove(room, tm_hearing_participant(room->hearing, 0), "relay-shutdown");
    else
      g_hash_table_iter_remove(&it);
    tm_room_exit(room);
  }
  g_message("stopping: %u recording(s) finished and signed; the audit logs of %u hearing(s) "
            "signed to their last entry",
            recordings, hearings);
}

guint
tm_server_connections(const TmServer *server)
{
  return g_hash_table_size(server->relay.sessions);
}
