/* listener.h — the relay's HTTPS listening socket, in front of libsoup.
 *
 * Accepts TCP connections itself so that no one can hold the relay's descriptors: at most
 * TM_LISTENER_PER_ADDRESS open connections per remote address (and TM_LISTENER_TOTAL in all),
 * the client's whole first TLS record (its ClientHello) must arrive within TM_LISTENER_HELLO_S
 * seconds (until then a connection has no TLS state and no thread), the TLS handshake (in one of
 * GIO's threads, given first to addresses with fewer handshakes in progress) must finish within
 * TM_LISTENER_HANDSHAKE_S seconds (and while other handshakes wait for a thread, the client must
 * finish within TM_LISTENER_STALLED_S of the relay's first flight), and a connection idle for
 * TM_LISTENER_IDLE_S seconds (no bytes either way; WebSocket keep-alives count) is closed.
 * Connections that pass are handed to the SoupServer (soup_server_accept_iostream). */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "proxy.h"

#define TM_LISTENER_PER_ADDRESS 256
#define TM_LISTENER_TOTAL 4096
#define TM_LISTENER_HELLO_S 30
#define TM_LISTENER_HANDSHAKE_S 30
/* A handshake in a thread blocks it until the client answers the relay's first flight (one round
 * trip). GIO has few such threads: a client that sends its ClientHello and stops, or trickles a
 * byte now and then, holds one, and a few dozen keep everyone else's handshakes waiting. While
 * any waits, a handshake not finished this long after the relay's flight is ended (the time
 * counts from the flight: a relay slow to compute it is not the client's fault). All three are
 * long enough for a witness far away: on a link losing 10 % in bursts with a 200 ms round
 * trip, TCP's backed-off retransmissions took a handshake past 10 s (the page's own scripts
 * then failed to load, ERR_EMPTY_RESPONSE, and it never joined: docs/configuration.md). */
#define TM_LISTENER_STALLED_S 10
#define TM_LISTENER_STALL_CHECK_MS 250
#define TM_LISTENER_IDLE_S 60

typedef struct _TmListener TmListener;

typedef struct {
  guint64 accepted;
  guint64 refused_per_address; /* over the per-address cap */
  guint64 refused_total;       /* over the total cap */
  guint64 handshake_failed;    /* not TLS, or a TLS error */
  guint64 hello_timeout;       /* no complete ClientHello record in time */
  guint64 handshake_timeout;   /* no finished handshake in time */
  guint64 handshake_stalled;   /* ended TM_LISTENER_STALLED_S after the relay's first flight */
} TmListenerStats;

/* Listens on ADDRESS for HTTPS with CERT and hands connections to SOUP. */
TmListener *tm_listener_new(SoupServer *soup, GSocketAddress *address, GTlsCertificate *cert,
                            GError **error);
void tm_listener_free(TmListener *l);
/* New connections use CERT from now on (certificate renewal). */
void tm_listener_set_certificate(TmListener *l, GTlsCertificate *cert);
/* Connections from addresses in RANGES (GInetAddressMask*, NULL: none; the listener takes a
 * reference) are trusted reverse proxies: the per-address cap does not apply to them (the relay
 * applies its per-address limits to the clients they name, proxy.h). */
void tm_listener_set_trusted(TmListener *l, GPtrArray *ranges);
/* Open connections from ADDRESS (as the relay names it: g_inet_address_to_string). */
guint tm_listener_connections(const TmListener *l, const char *address);
const TmListenerStats *tm_listener_stats(const TmListener *l);
