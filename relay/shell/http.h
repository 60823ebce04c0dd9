/* http.h — the relay's HTTPS side: the listener (listener.c), the signalling WebSocket at /ws
 * (a TmSession each), the status endpoint /api/status, /healthz (monitor.h) and the court's web
 * pages. */
#pragma once

#include <gio/gio.h>

#include "relay.h"

/* Every HTTPS answer carries it: browsers come back over HTTPS only, for a year. */
#define TM_HTTP_HSTS "max-age=31536000"

typedef struct _TmHttp TmHttp;

/* Listens on relay->config.listen with CERT. */
TmHttp *tm_http_new(TmRelay *relay, GTlsCertificate *cert, GError **error);
void tm_http_free(TmHttp *http);
/* New TLS connections get CERT from now on; open ones keep theirs. */
void tm_http_set_certificate(TmHttp *http, GTlsCertificate *cert);
/* The reverse proxies (proxy.h) the listener trusts: relay->trusted_proxies, after a change. */
void tm_http_update_trusted(TmHttp *http);
