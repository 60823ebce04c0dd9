/* monitor.h — what a court's IT watches (docs/operations.md, "Health and metrics"):
 *   /healthz  200 {"status":"ok"} while the relay serves, 503 {"status":"stopping"} once it has
 *             been told to stop; on the HTTPS listener and on the metrics listener;
 *   /metrics  the relay's totals (relay/engine/metrics.h) in Prometheus's text format, on a
 *             separate plain-HTTP listener (metrics-listen), off unless configured.
 * Neither needs a token, and neither names a participant, a hearing, a token or an address. */
#pragma once

#include <libsoup/soup.h>

#include "relay.h"

typedef struct _TmMonitor TmMonitor;

/* Serves /healthz on SOUP (the HTTPS listener's server). */
void tm_monitor_add_health(SoupServer *soup, TmRelay *relay);
/* Listens for plain HTTP on LISTEN (ADDR:PORT) with /metrics and /healthz. */
TmMonitor *tm_monitor_new(TmRelay *relay, const char *listen, GError **error);
void tm_monitor_free(TmMonitor *m);
/* The relay's totals now: counters of closed hearings and join failures, and every open
 * hearing's. g_free. */
TmMetrics *tm_monitor_collect(TmRelay *relay);
