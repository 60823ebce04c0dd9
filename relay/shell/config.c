/* config.c — configuration file (GKeyFile, group [relay]); documented in docs/configuration.md. */
#include "config.h"

#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>

#include "turn.h"

void
tm_config_init(TmConfig *c)
{
  memset(c, 0, sizeof *c);
  c->listen = g_strdup("127.0.0.1:8443");
  c->media_addresses = g_new0(char *, 2);
  c->media_addresses[0] = g_strdup("127.0.0.1");
  c->port_min = 20000;
  c->port_max = 29999;
  c->state_dir = g_strdup("/var/lib/testimony");
  c->turn_lifetime = TM_CONFIG_TURN_LIFETIME_DEFAULT;
  c->media_workers = -1;
}

void
tm_config_clear(TmConfig *c)
{
  g_free(c->listen);
  g_strfreev(c->media_addresses);
  g_strfreev(c->remote_candidates);
  g_free(c->state_dir);
  g_free(c->certificate);
  g_free(c->private_key);
  g_free(c->web_dir);
  g_free(c->metrics_listen);
  g_strfreev(c->trusted_proxies);
  g_strfreev(c->turn_servers);
  if (c->turn_secret != NULL)
    memset(c->turn_secret, 0, strlen(c->turn_secret));
  g_free(c->turn_secret);
  memset(c, 0, sizeof *c);
}

void
tm_config_copy(TmConfig *dst, const TmConfig *src)
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
  dst->metrics_listen = g_strdup(src->metrics_listen);
  dst->trusted_proxies = g_strdupv(src->trusted_proxies);
  dst->ice_tcp = src->ice_tcp;
  dst->transport_cc = src->transport_cc;
  dst->turn_servers = g_strdupv(src->turn_servers);
  dst->turn_secret = g_strdup(src->turn_secret);
  dst->turn_lifetime = src->turn_lifetime;
  dst->media_workers = src->media_workers;
}

gboolean
tm_config_set_ports(TmConfig *c, const char *range, GError **error)
{
  guint64 lo = 0, hi = 0;
  g_auto(GStrv) parts = g_strsplit(range, "-", 2);
  if (g_strv_length(parts) != 2 || !g_ascii_string_to_unsigned(parts[0], 10, 0, 65535, &lo, NULL) ||
      !g_ascii_string_to_unsigned(parts[1], 10, 0, 65535, &hi, NULL) || lo > hi ||
      (lo == 0) != (hi == 0)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "port range \"%s\" is not MIN-MAX with 1 <= MIN <= MAX <= 65535 (or 0-0 for any)",
                range);
    return FALSE;
  }
  c->port_min = (guint) lo;
  c->port_max = (guint) hi;
  return TRUE;
}

gboolean
tm_config_set_media_workers(TmConfig *c, const char *text, GError **error)
{
  guint64 n = 0;
  if (g_ascii_strcasecmp(text, "auto") == 0) {
    c->media_workers = -1;
    return TRUE;
  }
  if (!g_ascii_string_to_unsigned(text, 10, 0, TM_CONFIG_MEDIA_WORKERS_MAX, &n, NULL)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "media-workers \"%s\" is not auto or a number from 0 to %d", text,
                TM_CONFIG_MEDIA_WORKERS_MAX);
    return FALSE;
  }
  c->media_workers = (int) n;
  return TRUE;
}

gboolean
tm_config_split_listen(const char *listen, char **host, guint *port, GError **error)
{
  const char *colon = strrchr(listen, ':');
  guint64 p = 0;
  if (colon == NULL || colon == listen ||
      !g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &p, NULL)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "listen address \"%s\" is not HOST:PORT", listen);
    return FALSE;
  }
  g_autofree char *h = g_strndup(listen, (gsize) (colon - listen));
  if (h[0] == '[' && h[strlen(h) - 1] == ']') {
    char *inner = g_strndup(h + 1, strlen(h) - 2);
    g_free(h);
    h = inner;
  } else if (strchr(h, ':') != NULL) { /* "::2:3" is not host ::2, port 3 */
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "listen address \"%s\": write an IPv6 address in brackets, [ADDRESS]:PORT", listen);
    return FALSE;
  }
  g_autoptr(GInetAddress) a = g_inet_address_new_from_string(h);
  if (a == NULL) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "listen address \"%s\" does not start with an IP address", listen);
    return FALSE;
  }
  *host = g_steal_pointer(&h);
  *port = (guint) p;
  return TRUE;
}

static const char *const known_keys[] = {
  "listen",
  "media-address",
  "ports",
  "state-dir",
  "certificate",
  "private-key",
  "web-dir",
  "remote-candidates",
  "metrics-listen",
  "trusted-proxies",
  "ice-tcp",
  "transport-cc",
  "turn-server",
  "turn-secret",
  "turn-lifetime",
  "media-workers",
  NULL,
};

/* A key that is present replaces *DST; one present but unreadable (not UTF-8, a bad escape) is
 * an error naming the file and the key, never a silent default. */
static gboolean
unreadable(GError **error, const char *path, const char *key, GError *why)
{
  g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
              "%s: the value of \"%s\" cannot be read: %s", path, key, why->message);
  return FALSE;
}

static gboolean
take_string(GKeyFile *kf, const char *path, const char *key, char **dst, GError **error)
{
  if (!g_key_file_has_key(kf, "relay", key, NULL))
    return TRUE;
  g_autoptr(GError) why = NULL;
  char *v = g_key_file_get_string(kf, "relay", key, &why);
  if (v == NULL)
    return unreadable(error, path, key, why);
  g_free(*dst);
  *dst = v;
  return TRUE;
}

static gboolean
take_list(GKeyFile *kf, const char *path, const char *key, char ***dst, GError **error)
{
  if (!g_key_file_has_key(kf, "relay", key, NULL))
    return TRUE;
  g_autoptr(GError) why = NULL;
  char **v = g_key_file_get_string_list(kf, "relay", key, NULL, &why);
  if (v == NULL)
    return unreadable(error, path, key, why);
  g_strfreev(*dst);
  *dst = v;
  return TRUE;
}

static gboolean
take_bool(GKeyFile *kf, const char *path, const char *key, gboolean *dst, GError **error)
{
  if (!g_key_file_has_key(kf, "relay", key, NULL))
    return TRUE;
  g_autoptr(GError) why = NULL;
  gboolean v = g_key_file_get_boolean(kf, "relay", key, &why);
  if (why != NULL)
    return unreadable(error, path, key, why);
  *dst = v;
  return TRUE;
}

static gboolean
take_lifetime(GKeyFile *kf, const char *path, guint *dst, GError **error)
{
  g_autofree char *text = NULL;
  if (!take_string(kf, path, "turn-lifetime", &text, error))
    return FALSE;
  guint64 v = 0;
  if (text != NULL &&
      !g_ascii_string_to_unsigned(text, 10, TM_CONFIG_TURN_LIFETIME_MIN,
                                  TM_CONFIG_TURN_LIFETIME_MAX, &v, NULL)) {
    g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                "%s: turn-lifetime \"%s\" is not a number of seconds from %d to %d", path, text,
                TM_CONFIG_TURN_LIFETIME_MIN, TM_CONFIG_TURN_LIFETIME_MAX);
    return FALSE;
  }
  if (text != NULL)
    *dst = (guint) v;
  return TRUE;
}

gboolean
tm_config_check(const TmConfig *c, GError **error)
{
  gboolean servers = c->turn_servers != NULL && c->turn_servers[0] != NULL;
  gboolean secret = c->turn_secret != NULL && c->turn_secret[0] != '\0';
  if (servers != secret) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                servers ? "turn-server is set but turn-secret is not (the TURN server's "
                          "static-auth-secret)"
                        : "turn-secret is set but no turn-server");
    return FALSE;
  }
  for (char **u = c->turn_servers; u != NULL && *u != NULL; u++) {
    const char *why = NULL;
    if (!tm_turn_url_valid(*u, &why)) {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                  "turn-server \"%s\" %s (e.g. turns:turn.court.example:443?transport=tcp)", *u,
                  why);
      return FALSE;
    }
  }
  if (secret && strlen(c->turn_secret) < 16) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "turn-secret is shorter than 16 characters (use e.g. openssl rand -hex 32)");
    return FALSE;
  }
  return TRUE;
}

static gboolean config_from_keyfile(TmConfig *c, GKeyFile *kf, const char *path, GError **error);

gboolean
tm_config_load(TmConfig *c, const char *path, GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new();
  if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, error))
    return FALSE;
  return config_from_keyfile(c, kf, path, error);
}

gboolean
tm_config_load_data(TmConfig *c, const char *data, gsize len, const char *name, GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new();
  if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, error))
    return FALSE;
  return config_from_keyfile(c, kf, name, error);
}

static gboolean
config_from_keyfile(TmConfig *c, GKeyFile *kf, const char *path, GError **error)
{
  g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
  for (char **g = groups; *g != NULL; g++) {
    if (strcmp(*g, "relay") != 0) {
      g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND,
                  "%s: unknown group [%s] (only [relay] is read)", path, *g);
      return FALSE;
    }
  }
  g_auto(GStrv) keys = g_key_file_get_keys(kf, "relay", NULL, NULL);
  for (char **k = keys; k != NULL && *k != NULL; k++) {
    if (!g_strv_contains(known_keys, *k)) {
      g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                  "%s: unknown key \"%s\" in [relay]", path, *k);
      return FALSE;
    }
  }
  g_autofree char *ports = NULL, *workers = NULL;
  return take_string(kf, path, "listen", &c->listen, error) &&
    take_list(kf, path, "media-address", &c->media_addresses, error) &&
    take_string(kf, path, "ports", &ports, error) &&
    (ports == NULL || tm_config_set_ports(c, ports, error)) &&
    take_string(kf, path, "state-dir", &c->state_dir, error) &&
    take_string(kf, path, "certificate", &c->certificate, error) &&
    take_string(kf, path, "private-key", &c->private_key, error) &&
    take_list(kf, path, "remote-candidates", &c->remote_candidates, error) &&
    take_string(kf, path, "web-dir", &c->web_dir, error) &&
    take_string(kf, path, "metrics-listen", &c->metrics_listen, error) &&
    take_list(kf, path, "trusted-proxies", &c->trusted_proxies, error) &&
    take_bool(kf, path, "ice-tcp", &c->ice_tcp, error) &&
    take_bool(kf, path, "transport-cc", &c->transport_cc, error) &&
    take_list(kf, path, "turn-server", &c->turn_servers, error) &&
    take_string(kf, path, "turn-secret", &c->turn_secret, error) &&
    take_lifetime(kf, path, &c->turn_lifetime, error) &&
    take_string(kf, path, "media-workers", &workers, error) &&
    (workers == NULL || tm_config_set_media_workers(c, workers, error));
}
