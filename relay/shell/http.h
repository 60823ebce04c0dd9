/* http.h — the relay's HTTPS side: the listener (listener.c), the signalling WebSocket at /ws
 * (a TmSession each), the status endpoint /api/status and the court's web pages. */
#pragma once

#include <gio/gio.h>

#include "relay.h"

typedef struct _TmHttp TmHttp;

/* Listens on relay->config.listen with CERT. */
TmHttp *tm_http_new(TmRelay *relay, GTlsCertificate *cert, GError **error);
void tm_http_free(TmHttp *http);
