/* listener.c — accepting HTTPS connections with caps and deadlines, then handing them to soup. */
#define G_LOG_DOMAIN "testimony-relay"

#include "listener.h"

#include <errno.h>
#include <linux/tcp.h> /* struct tcp_info with tcpi_data_segs_out (Linux 4.6) */
#include <netinet/in.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#define TCP_STATE_ESTABLISHED 1 /* tcpi_state (netinet/tcp.h's TCP_ESTABLISHED) */

/* A TLS record header: content type 22 (handshake), version 3.x, 16-bit length. */
#define TLS_HEADER_LEN 5
#define TLS_MAX_RECORD 16384

struct _TmListener {
  SoupServer *soup;
  GSocketService *service;
  GTlsCertificate *cert;
  GHashTable *per_address; /* address -> GUINT count of open connections */
  GHashTable *handshaking; /* address -> GUINT count of handshakes in GIO's threads */
  GHashTable *open;        /* Conn* set */
  GPtrArray *trusted;      /* reverse proxies: no per-address cap */
  guint stall_check;       /* the timer that cuts stalled handshakes short, while any run */
  guint handshakes;        /* handshakes started, for their order */
  guint total;
  TmListenerStats stats;
};

/* One accepted connection, from accept until its socket is gone. */
typedef struct {
  TmListener *listener; /* NULL once the listener is freed */
  char *address;
  GIOStream *conn; /* until the handshake starts */
  GIOStream *tls;  /* during the handshake (counted in handshaking) */
  GCancellable *cancel;
  guint deadline;       /* the end of the handshake */
  guint hello_deadline; /* the whole first TLS record (the ClientHello) */
  GSource *first_bytes; /* waits for that record before the handshake */
  int fd;               /* the socket's, for on_stall_check */
} Conn;

/* Adds DELTA to ADDRESS's count in TABLE (per_address or handshaking); returns the old count. */
static guint
count_address(GHashTable *table, const char *address, int delta)
{
  guint old = GPOINTER_TO_UINT(g_hash_table_lookup(table, address));
  guint n = (guint) ((int) old + delta);
  if (n == 0)
    g_hash_table_remove(table, address);
  else
    g_hash_table_replace(table, g_strdup(address), GUINT_TO_POINTER(n));
  return old;
}

/* The connection's socket was finalized: soup (or we) are done with it. */
static void
conn_gone(gpointer data, GObject *where_the_object_was)
{
  Conn *c = data;
  if (c->listener != NULL) {
    count_address(c->listener->per_address, c->address, -1);
    c->listener->total--;
    g_hash_table_remove(c->listener->open, c);
  }
  g_free(c->address);
  g_free(c);
}

static void
hello_end(Conn *c)
{
  if (c->hello_deadline != 0)
    g_source_remove(c->hello_deadline);
  c->hello_deadline = 0;
  if (c->first_bytes != NULL) {
    g_source_destroy(c->first_bytes);
    g_source_unref(c->first_bytes);
    c->first_bytes = NULL;
  }
}

static void
handshake_end(Conn *c)
{
  if (c->deadline != 0)
    g_source_remove(c->deadline);
  c->deadline = 0;
  hello_end(c);
  if (c->tls != NULL && c->listener != NULL)
    count_address(c->listener->handshaking, c->address, -1);
  g_clear_object(&c->cancel);
  g_clear_object(&c->tls);
  g_clear_object(&c->conn);
}

/* Both deadlines, and the end of a STALLED handshake, close the connection; it is counted once:
 * as stalled, as a ClientHello timeout while the listener still waits for that record (with
 * TM_LISTENER_HELLO_S equal to TM_LISTENER_HANDSHAKE_S both timers fire in the same second), or
 * as a handshake timeout. */
static void
deadline_passed(Conn *c, gboolean stalled)
{
  TmListener *l = c->listener;
  if (l != NULL && !g_cancellable_is_cancelled(c->cancel)) {
    if (stalled)
      l->stats.handshake_stalled++;
    else if (c->first_bytes != NULL)
      l->stats.hello_timeout++;
    else
      l->stats.handshake_timeout++;
  }
  g_cancellable_cancel(c->cancel);
}

/* Whether C's client has stalled: a thread has read what it sent (nothing waits unread), the
 * relay sent its first flight TM_LISTENER_STALLED_S ago or more and the client acknowledged all
 * of it, and the handshake has not ended. A client that answers in its own time finishes within
 * a round trip or two; one that trickles a byte now and then to look alive (after its
 * ClientHello the relay reads in a thread, which the trickle would hold) is stalled just the
 * same. A relay slow to compute its flight, or a lossy link still retransmitting it, is never
 * taken for a stalled client: the time counts from what it sent, once delivered. *WAITING: the
 * handshake still waits for a thread (its ClientHello is unread). */
static gboolean
client_stalled(const Conn *c, gboolean *waiting)
{
  struct tcp_info info;
  socklen_t len = sizeof info;
  int unread = 0;
  *waiting = FALSE;
  if (getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
      ioctl(c->fd, FIONREAD, &unread) != 0)
    return FALSE;
  *waiting = unread > 0;
  gboolean flight_sent =
    len >= offsetof(struct tcp_info, tcpi_data_segs_out) + sizeof info.tcpi_data_segs_out &&
    info.tcpi_data_segs_out > 0;
  /* Segments of the flight not yet acknowledged: the link is slow or lossy (TCP is still
   * retransmitting them), not the client; the handshake's deadline bounds that. */
  return unread == 0 && flight_sent && info.tcpi_unacked == 0 &&
    info.tcpi_last_data_sent >= TM_LISTENER_STALLED_S * 1000;
}

/* Every TM_LISTENER_STALL_CHECK_MS while handshakes run: while some wait for the relay's first
 * flight (for a thread), the end of those whose client has not finished in TM_LISTENER_STALLED_S
 * since it, so a client that stops (or trickles) after its ClientHello holds a thread that long,
 * not the whole deadline. */
static gboolean
on_stall_check(gpointer data)
{
  TmListener *l = data;
  guint waiting = 0;
  g_autoptr(GPtrArray) stalled = g_ptr_array_new();
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, l->open);
  while (g_hash_table_iter_next(&it, &key, NULL)) {
    Conn *c = key;
    gboolean queued;
    if (c->tls == NULL || g_cancellable_is_cancelled(c->cancel))
      continue;
    if (client_stalled(c, &queued))
      g_ptr_array_add(stalled, c);
    waiting += queued;
  }
  for (guint i = 0; i < stalled->len && waiting > 0; i++) {
    Conn *c = stalled->pdata[i];
    g_source_remove(c->deadline);
    c->deadline = 0;
    deadline_passed(c, TRUE);
  }
  if (g_hash_table_size(l->handshaking) > 0)
    return G_SOURCE_CONTINUE;
  l->stall_check = 0;
  return G_SOURCE_REMOVE;
}

static gboolean
on_deadline(gpointer data)
{
  Conn *c = data;
  c->deadline = 0;
  deadline_passed(c, FALSE);
  return G_SOURCE_REMOVE;
}

static gboolean
on_hello_deadline(gpointer data)
{
  Conn *c = data;
  c->hello_deadline = 0;
  deadline_passed(c, FALSE);
  return G_SOURCE_REMOVE;
}

static void
on_handshake(GObject *source, GAsyncResult *res, gpointer data)
{
  Conn *c = data;
  g_autoptr(GIOStream) tls = g_object_ref(c->tls);
  g_autoptr(GError) error = NULL;
  gboolean ok = g_tls_connection_handshake_finish(G_TLS_CONNECTION(source), res, &error);
  gboolean timed_out = c->deadline == 0;
  handshake_end(c);
  TmListener *l = c->listener;
  if (ok && l != NULL) {
    GSocketConnection *base = NULL;
    g_object_get(tls, "base-io-stream", &base, NULL);
    g_autoptr(GSocketAddress) local = g_socket_connection_get_local_address(base, NULL);
    g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address(base, NULL);
    g_object_unref(base);
    if (soup_server_accept_iostream(l->soup, tls, local, remote, &error))
      return;
  }
  if (l != NULL && !timed_out && !ok)
    l->stats.handshake_failed++;
  g_debug("connection closed before HTTP: %s", error != NULL ? error->message : "?");
  g_io_stream_close(tls, NULL, NULL);
}

typedef enum { HELLO_WAIT, HELLO_COMPLETE, HELLO_NOT_TLS, HELLO_GONE } HelloState;

/* Looks at what the client sent so far without taking it from the socket. Until the whole first
 * record is there, SO_RCVLOWAT keeps poll from waking us for every byte. */
static HelloState
peek_hello(GSocket *sock)
{
  int fd = g_socket_get_fd(sock);
  guint8 buf[TLS_HEADER_LEN + TLS_MAX_RECORD];
  ssize_t n = recv(fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0)
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? HELLO_WAIT : HELLO_GONE;
  if (n == 0)
    return HELLO_GONE;
  if (buf[0] != 22 || (n > 1 && buf[1] != 3))
    return HELLO_NOT_TLS;
  int need = TLS_HEADER_LEN;
  if (n >= TLS_HEADER_LEN) {
    size_t len = (size_t) buf[3] << 8 | buf[4];
    if (len == 0 || len > TLS_MAX_RECORD)
      return HELLO_NOT_TLS;
    need = TLS_HEADER_LEN + (int) len;
  }
  if (n >= need)
    return HELLO_COMPLETE;
  /* Woken with too little: either the client closed its side (it can never finish) or the
   * mark must move from the header to the whole record. */
  struct tcp_info info;
  socklen_t info_len = sizeof info;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &info_len) == 0 &&
      info.tcpi_state != TCP_STATE_ESTABLISHED)
    return HELLO_GONE;
  setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &need, sizeof need);
  return HELLO_WAIT;
}

/* The client sent bytes (or a deadline passed). The handshake runs in one of GIO's worker
 * threads, which blocks for as long as the client keeps it waiting, so a connection only gets
 * one once its whole ClientHello record is here: one byte and silence costs a socket and two
 * timers, not a thread (slowloris). */
static gboolean
on_first_bytes(GSocket *sock, GIOCondition cond, gpointer data)
{
  Conn *c = data;
  HelloState state = HELLO_GONE;
  if (!g_cancellable_is_cancelled(c->cancel) && c->listener != NULL)
    state = peek_hello(sock);
  if (state == HELLO_WAIT)
    return G_SOURCE_CONTINUE;
  hello_end(c);
  if (state == HELLO_NOT_TLS && c->listener != NULL)
    c->listener->stats.handshake_failed++;
  g_autoptr(GError) error = NULL;
  if (state == HELLO_COMPLETE) {
    int one = 1; /* GIO's TLS reads records of any size from here on */
    setsockopt(g_socket_get_fd(sock), SOL_SOCKET, SO_RCVLOWAT, &one, sizeof one);
    /* No certificate database: the relay asks no client for a certificate, and GIO's GnuTLS
     * backend (glib-networking 2.74) would otherwise load the system's CA list into every
     * connection (about 4 MiB, and 40 ms of this thread). */
    c->tls = g_initable_new(g_tls_backend_get_server_connection_type(g_tls_backend_get_default()),
                            NULL, &error, "base-io-stream", c->conn, "certificate",
                            c->listener->cert, "database", NULL, NULL);
  }
  if (c->tls == NULL) {
    if (error != NULL)
      g_warning("cannot start TLS: %s", error->message);
    g_autoptr(GIOStream) conn = g_object_ref(c->conn);
    handshake_end(c);
    g_io_stream_close(conn, NULL, NULL);
    return G_SOURCE_REMOVE;
  }
  g_clear_object(&c->conn); /* the TLS connection holds it now */
  /* GIO's threads take the waiting task of the lowest priority value first. Handshakes come
   * after GIO's other work (closing TLS connections, among others, is done in its threads), an
   * address's behind those of addresses with fewer in progress, so a client that stops after its
   * ClientHello (holding a thread) delays mostly its own address; among addresses alike, the
   * latest goes first, so clients that stalled from many addresses at once do not hold back the
   * next person to connect (their handshakes still waiting end at the deadline). */
  guint busy = count_address(c->listener->handshaking, c->address, +1);
  c->fd = g_socket_get_fd(sock);
  if (c->listener->stall_check == 0)
    c->listener->stall_check =
      g_timeout_add(TM_LISTENER_STALL_CHECK_MS, on_stall_check, c->listener);
  int priority = G_PRIORITY_DEFAULT + 1 + (int) MIN(busy, TM_LISTENER_PER_ADDRESS) * 0x10000 +
    (int) (0xffff - (c->listener->handshakes++ & 0xffff));
  g_tls_connection_handshake_async(G_TLS_CONNECTION(c->tls), priority, c->cancel, on_handshake, c);
  return G_SOURCE_REMOVE;
}

static gboolean
on_incoming(GSocketService *service, GSocketConnection *conn, GObject *source, gpointer data)
{
  TmListener *l = data;
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address(conn, NULL);
  g_autofree char *address = remote != NULL && G_IS_INET_SOCKET_ADDRESS(remote)
    ? g_inet_address_to_string(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(remote)))
    : g_strdup("?");
  if (l->total >= TM_LISTENER_TOTAL ||
      (GPOINTER_TO_UINT(g_hash_table_lookup(l->per_address, address)) >= TM_LISTENER_PER_ADDRESS &&
       !tm_proxy_trusted(l->trusted, address))) {
    if (l->total >= TM_LISTENER_TOTAL)
      l->stats.refused_total++;
    else
      l->stats.refused_per_address++;
    g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
    return TRUE;
  }
  Conn *c = g_new0(Conn, 1);
  c->listener = l;
  c->address = g_steal_pointer(&address);
  c->conn = G_IO_STREAM(g_object_ref(conn));
  c->cancel = g_cancellable_new();
  l->stats.accepted++;
  l->total++;
  count_address(l->per_address, c->address, +1);
  g_hash_table_add(l->open, c);
  g_object_weak_ref(G_OBJECT(conn), conn_gone, c);
  GSocket *sock = g_socket_connection_get_socket(conn);
  /* No bytes either way for this long closes it (the WebSocket keep-alive is 15 s). */
  g_socket_set_timeout(sock, TM_LISTENER_IDLE_S);
  /* Small signalling messages go out at once (soup's own listener does the same). */
  g_socket_set_option(sock, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  c->deadline = g_timeout_add_seconds(TM_LISTENER_HANDSHAKE_S, on_deadline, c);
  c->hello_deadline = g_timeout_add_seconds(TM_LISTENER_HELLO_S, on_hello_deadline, c);
  int header = TLS_HEADER_LEN;
  setsockopt(g_socket_get_fd(sock), SOL_SOCKET, SO_RCVLOWAT, &header, sizeof header);
  c->first_bytes = g_socket_create_source(sock, G_IO_IN | G_IO_HUP | G_IO_ERR, c->cancel);
  g_source_set_callback(c->first_bytes, G_SOURCE_FUNC(on_first_bytes), c, NULL);
  g_source_attach(c->first_bytes, NULL);
  return TRUE;
}

TmListener *
tm_listener_new(SoupServer *soup, GSocketAddress *address, GTlsCertificate *cert, GError **error)
{
  TmListener *l = g_new0(TmListener, 1);
  l->soup = g_object_ref(soup);
  l->cert = g_object_ref(cert);
  l->per_address = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  l->handshaking = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  l->open = g_hash_table_new(NULL, NULL);
  l->service = g_socket_service_new();
  g_socket_listener_set_backlog(G_SOCKET_LISTENER(l->service), 1024); /* bursts of joins */
  if (!g_socket_listener_add_address(G_SOCKET_LISTENER(l->service), address, G_SOCKET_TYPE_STREAM,
                                     G_SOCKET_PROTOCOL_TCP, NULL, NULL, error)) {
    tm_listener_free(l);
    return NULL;
  }
  g_signal_connect(l->service, "incoming", G_CALLBACK(on_incoming), l);
  g_socket_service_start(l->service);
  return l;
}

void
tm_listener_free(TmListener *l)
{
  if (l == NULL)
    return;
  g_socket_service_stop(l->service);
  g_socket_listener_close(G_SOCKET_LISTENER(l->service));
  g_signal_handlers_disconnect_by_data(l->service, l);
  g_object_unref(l->service);
  if (l->stall_check != 0)
    g_source_remove(l->stall_check);
  GHashTableIter it;
  gpointer c;
  g_hash_table_iter_init(&it, l->open);
  while (g_hash_table_iter_next(&it, &c, NULL))
    ((Conn *) c)->listener = NULL;
  g_hash_table_unref(l->open);
  g_hash_table_unref(l->per_address);
  g_hash_table_unref(l->handshaking);
  g_object_unref(l->cert);
  g_object_unref(l->soup);
  if (l->trusted != NULL)
    g_ptr_array_unref(l->trusted);
  g_free(l);
}

void
tm_listener_set_trusted(TmListener *l, GPtrArray *ranges)
{
  if (l->trusted != NULL)
    g_ptr_array_unref(l->trusted);
  l->trusted = ranges != NULL ? g_ptr_array_ref(ranges) : NULL;
}

void
tm_listener_set_certificate(TmListener *l, GTlsCertificate *cert)
{
  g_set_object(&l->cert, cert);
}

guint
tm_listener_connections(const TmListener *l, const char *address)
{
  return GPOINTER_TO_UINT(g_hash_table_lookup(l->per_address, address));
}

const TmListenerStats *
tm_listener_stats(const TmListener *l)
{
  return &l->stats;
}
