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
/* SIGHUP: re-reads the TLS certificate and key (new connections get it; hearings and media go
 * on) and applies the settings of FRESH that can change while the relay runs; the others are
 * reported as waiting for a restart (docs/operations.md, "Reloading"). */
void tm_server_reload(TmServer *server, const TmConfig *fresh);
/* SIGTERM: tells every participant the relay is stopping, takes them out of their hearings
 * (each recording finishes and is signed, each audit log notes it) and closes their
 * connections; /healthz answers 503 from now on. */
void tm_server_stop(TmServer *server);
/* Signalling connections not yet gone (tm_server_stop waits for them to close). */
guint tm_server_connections(const TmServer *server);
