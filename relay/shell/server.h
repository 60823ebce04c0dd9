/* server.h — the relay's shell: HTTPS + WebSocket signalling (libsoup), ICE transports
 * (libnice), the clock, and the hearings' engines. Everything runs on one GMainContext. */
#pragma once

#include <glib.h>

#include "config.h"

typedef struct _TmServer TmServer;

/* Loads keys and certificate from the state directory and starts listening. Prints the address,
 * the certificate path and its fingerprint on stdout. */
TmServer *tm_server_new(const TmConfig *config, GError **error);
void tm_server_free(TmServer *server);
