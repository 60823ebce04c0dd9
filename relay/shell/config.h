/* config.h — the relay's settings: defaults, then the configuration file, then flags. */
#pragma once

#include <glib.h>

typedef struct {
  char *listen;           /* HTTPS address, "127.0.0.1:8443" */
  char **media_addresses; /* addresses ICE may use; default { "127.0.0.1" } */
  guint port_min;         /* UDP port range for ICE; 0-0 = any */
  guint port_max;
  char *state_dir;   /* default "/var/lib/testimony" */
  char *certificate; /* PEM; NULL = DIR/tls/cert.pem, self-signed on first start */
  char *private_key;
  char *web_dir;            /* the court's web pages; default: installed, else the source tree */
  char **remote_candidates; /* CIDR ranges remote ICE candidates may be in; NULL = any unicast */
  char *metrics_listen;     /* plain-HTTP address of /metrics and /healthz; NULL = none */
  char **trusted_proxies;   /* addresses or CIDR ranges whose X-Forwarded-For is believed */
  gboolean ice_tcp;         /* also passive ICE-TCP candidates (RFC 6544), on the same ports */
  gboolean transport_cc;    /* answer transport-cc to publishers that offer it (poor-networks.md) */
  char **turn_servers;      /* "turn:HOST:PORT?transport=udp", "turns:..."; NULL = none */
  char *turn_secret;        /* coturn's static-auth-secret; required with turn_servers */
  guint turn_lifetime;      /* seconds the credentials a participant gets stay valid */
  int media_workers;        /* media worker threads; 0 = none (the control thread); -1 = one per
                               CPU the relay may run on */
} TmConfig;

#define TM_CONFIG_MEDIA_WORKERS_MAX 64

#define TM_CONFIG_TURN_LIFETIME_DEFAULT 43200
#define TM_CONFIG_TURN_LIFETIME_MIN 300
#define TM_CONFIG_TURN_LIFETIME_MAX 604800

void tm_config_init(TmConfig *c);
void tm_config_clear(TmConfig *c);
/* Reads the [relay] group of a key file into C. Unknown keys are an error. */
gboolean tm_config_load(TmConfig *c, const char *path, GError **error);
/* The same from LEN bytes of DATA; NAME names them in errors. */
gboolean tm_config_load_data(TmConfig *c, const char *data, gsize len, const char *name,
                             GError **error);
/* Checks what can only be judged together (TURN servers and secret), after the file and the
 * flags. */
gboolean tm_config_check(const TmConfig *c, GError **error);
/* Parses the media-workers setting ("auto" or 0 to TM_CONFIG_MEDIA_WORKERS_MAX) into C. */
gboolean tm_config_set_media_workers(TmConfig *c, const char *text, GError **error);
/* Parses "MIN-MAX" into C. */
gboolean tm_config_set_ports(TmConfig *c, const char *range, GError **error);
/* Copies SRC into DST (initialized or cleared). */
void tm_config_copy(TmConfig *dst, const TmConfig *src);
/* Splits "HOST:PORT" / "[V6]:PORT". */
gboolean tm_config_split_listen(const char *listen, char **host, guint *port, GError **error);
