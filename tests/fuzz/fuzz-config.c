/* fuzz-config.c — the relay's configuration file (relay/shell/config.c, compiled in) on
 * arbitrary bytes:
 *
 *   - tm_config_load_data() returns TRUE without an error or FALSE with one;
 *   - a loaded configuration has a listen address, media addresses and a state directory, and a
 *     port range 0-0 or 1 <= MIN <= MAX <= 65535;
 *   - it round-trips: written back as a key file and loaded again, every setting is the same;
 *   - tm_config_check() accepts it without an error or refuses it with one;
 *   - its listen address, when tm_config_split_listen() accepts it, is an IP address and a port
 *     that, joined again, split into the same;
 *   - every line of the input, and the value after its first '=', is also given to
 *     tm_config_set_ports(), tm_config_set_media_workers() and tm_config_split_listen(): accepted
 *     ranges print and parse back to the same, a refusal comes with an error and leaves the
 *     configuration as it was.
 *
 * Any broken property aborts. */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define MAX_LINES 64

static void
check(gboolean ok)
{
  if (!ok)
    abort();
}

static gboolean
strv_equal(char **a, char **b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return g_strv_equal((const char *const *) a, (const char *const *) b);
}

static void
check_ports(guint lo, guint hi)
{
  check(lo <= hi && hi <= 65535 && (lo == 0) == (hi == 0));
}

/* C as a key file, the way an administrator would write it. */
static char *
config_to_data(const TmConfig *c, gsize *len)
{
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_key_file_set_string(kf, "relay", "listen", c->listen);
  g_key_file_set_string_list(kf, "relay", "media-address", (const char *const *) c->media_addresses,
                             g_strv_length(c->media_addresses));
  g_autofree char *ports = g_strdup_printf("%u-%u", c->port_min, c->port_max);
  g_key_file_set_string(kf, "relay", "ports", ports);
  g_key_file_set_string(kf, "relay", "state-dir", c->state_dir);
  const struct {
    const char *key, *value;
  } optional[] = {
    { "certificate", c->certificate },
    { "private-key", c->private_key },
    { "web-dir", c->web_dir },
    { "metrics-listen", c->metrics_listen },
  };
  for (size_t i = 0; i < G_N_ELEMENTS(optional); i++)
    if (optional[i].value != NULL)
      g_key_file_set_string(kf, "relay", optional[i].key, optional[i].value);
  if (c->remote_candidates != NULL)
    g_key_file_set_string_list(kf, "relay", "remote-candidates",
                               (const char *const *) c->remote_candidates,
                               g_strv_length(c->remote_candidates));
  if (c->trusted_proxies != NULL)
    g_key_file_set_string_list(kf, "relay", "trusted-proxies",
                               (const char *const *) c->trusted_proxies,
                               g_strv_length(c->trusted_proxies));
  g_key_file_set_boolean(kf, "relay", "ice-tcp", c->ice_tcp);
  g_key_file_set_boolean(kf, "relay", "transport-cc", c->transport_cc);
  g_autofree char *workers =
    c->media_workers < 0 ? g_strdup("auto") : g_strdup_printf("%d", c->media_workers);
  g_key_file_set_string(kf, "relay", "media-workers", workers);
  if (c->turn_servers != NULL)
    g_key_file_set_string_list(kf, "relay", "turn-server", (const char *const *) c->turn_servers,
                               g_strv_length(c->turn_servers));
  if (c->turn_secret != NULL)
    g_key_file_set_string(kf, "relay", "turn-secret", c->turn_secret);
  g_autofree char *lifetime = g_strdup_printf("%u", c->turn_lifetime);
  g_key_file_set_string(kf, "relay", "turn-lifetime", lifetime);
  return g_key_file_to_data(kf, len, NULL);
}

static void
check_round_trip(const TmConfig *c)
{
  gsize len = 0;
  g_autofree char *data = config_to_data(c, &len);
  TmConfig again;
  tm_config_init(&again);
  g_autoptr(GError) error = NULL;
  check(tm_config_load_data(&again, data, len, "round trip", &error) && error == NULL);
  check(strcmp(c->listen, again.listen) == 0 && strcmp(c->state_dir, again.state_dir) == 0 &&
        g_strcmp0(c->certificate, again.certificate) == 0 &&
        g_strcmp0(c->private_key, again.private_key) == 0 &&
        g_strcmp0(c->web_dir, again.web_dir) == 0 && c->port_min == again.port_min &&
        c->port_max == again.port_max && strv_equal(c->media_addresses, again.media_addresses) &&
        strv_equal(c->remote_candidates, again.remote_candidates) &&
        g_strcmp0(c->metrics_listen, again.metrics_listen) == 0 &&
        strv_equal(c->trusted_proxies, again.trusted_proxies) && c->ice_tcp == again.ice_tcp &&
        strv_equal(c->turn_servers, again.turn_servers) &&
        g_strcmp0(c->turn_secret, again.turn_secret) == 0 &&
        c->turn_lifetime == again.turn_lifetime && c->transport_cc == again.transport_cc &&
        c->media_workers == again.media_workers);
  tm_config_clear(&again);
}

static void
check_listen(const char *listen)
{
  char *host = NULL;
  guint port = 0;
  g_autoptr(GError) error = NULL;
  if (!tm_config_split_listen(listen, &host, &port, &error)) {
    check(error != NULL && error->message != NULL && host == NULL && port == 0);
    return;
  }
  check(error == NULL && host != NULL && host[0] != '\0' && port >= 1 && port <= 65535);
  g_autofree char *joined = strchr(host, ':') != NULL ? g_strdup_printf("[%s]:%u", host, port)
                                                      : g_strdup_printf("%s:%u", host, port);
  char *host2 = NULL;
  guint port2 = 0;
  check(tm_config_split_listen(joined, &host2, &port2, NULL));
  check(strcmp(host, host2) == 0 && port == port2);
  g_free(host);
  g_free(host2);
}

static void
check_ports_text(const char *text)
{
  TmConfig c = { .port_min = 7, .port_max = 11 };
  g_autoptr(GError) error = NULL;
  if (!tm_config_set_ports(&c, text, &error)) {
    check(error != NULL && c.port_min == 7 && c.port_max == 11);
    return;
  }
  check(error == NULL);
  check_ports(c.port_min, c.port_max);
  g_autofree char *printed = g_strdup_printf("%u-%u", c.port_min, c.port_max);
  TmConfig d = { 0 };
  check(tm_config_set_ports(&d, printed, NULL) && d.port_min == c.port_min &&
        d.port_max == c.port_max);
}

/* TEXT as a media-workers value: accepted, it is auto (-1) or 0 to the maximum; refused, with an
 * error and the configuration as it was. */
static void
check_workers_text(const char *text)
{
  TmConfig c = { .media_workers = 3 };
  g_autoptr(GError) error = NULL;
  if (!tm_config_set_media_workers(&c, text, &error)) {
    check(error != NULL && error->message != NULL && c.media_workers == 3);
    return;
  }
  check(error == NULL && c.media_workers >= -1 && c.media_workers <= TM_CONFIG_MEDIA_WORKERS_MAX);
}

static void
check_text(const char *text)
{
  check_ports_text(text);
  check_workers_text(text);
  check_listen(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  TmConfig c;
  tm_config_init(&c);
  g_autoptr(GError) error = NULL;
  if (tm_config_load_data(&c, (const char *) data, size, "fuzz.conf", &error)) {
    check(error == NULL);
    check(c.listen != NULL && c.media_addresses != NULL && c.state_dir != NULL);
    check_ports(c.port_min, c.port_max);
    check(c.turn_lifetime >= TM_CONFIG_TURN_LIFETIME_MIN &&
          c.turn_lifetime <= TM_CONFIG_TURN_LIFETIME_MAX);
    check(c.media_workers >= -1 && c.media_workers <= TM_CONFIG_MEDIA_WORKERS_MAX);
    check_round_trip(&c);
    check_listen(c.listen);
    g_autoptr(GError) why = NULL;
    gboolean ok = tm_config_check(&c, &why);
    check(ok ? why == NULL : why != NULL && why->message != NULL);
  } else {
    check(error != NULL && error->message != NULL);
  }
  tm_config_clear(&c);

  /* Lines of the input, and the values in them, as --ports and --listen arguments. */
  const char *p = (const char *) data, *end = p + size;
  for (int n = 0; n < MAX_LINES && p < end; n++) {
    const char *nl = memchr(p, '\n', (size_t) (end - p));
    const char *line_end = nl != NULL ? nl : end;
    g_autofree char *line = g_strndup(p, (gsize) (line_end - p));
    check_text(line);
    char *eq = strchr(line, '=');
    if (eq != NULL)
      check_text(g_strstrip(eq + 1));
    p = nl != NULL ? nl + 1 : end;
  }
  return 0;
}
