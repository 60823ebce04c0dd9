/* ice.c — libnice transport. */
#include "ice.h"

#include "proxy.h"

#include <agent.h>
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>

/* A batch: the most datagrams queued per connection between flushes, and the room for each (an
 * RTP packet of a browser fits 1,200 bytes; a larger datagram is sent on its own). */
#define BATCH_MAX 16
#define BATCH_SLOT 1500

static _Atomic uint64_t total_datagrams, total_calls, total_dropped;

struct _TmIce {
  NiceAgent *agent;
  guint stream;
  GMainContext *context;
  TmIceListener listener;
  void *user_data;
  char *ufrag;
  char *pwd;
  gint failed;                     /* atomic */
  _Atomic int64_t last_receive_us; /* written where it receives, read by the control thread */
  char **own;                      /* the relay's media addresses */
  guint port_min, port_max;
  GPtrArray *remote_allowed; /* the options' when it was made (a reload replaces theirs) */
  uint8_t *batch;            /* BATCH_MAX slots of BATCH_SLOT bytes, allocated when first used */
  size_t batch_len[BATCH_MAX];
  guint n_batch;
};

/* Runs in the dispatch of libnice's socket source. GLib (2.74) takes a source's descriptors out
 * of the poll while it dispatches it and puts them back after, unless the source may recurse, and
 * each of the two writes to the context's wake-up descriptor: the worker's next poll returns at
 * once for a read of it, four system calls per wake-up for nothing. The worker never iterates its
 * context inside a dispatch, so marking the socket's source as one that may recurse changes only
 * that. */
static void
on_recv(NiceAgent *agent, guint stream, guint component, guint len, gchar *buf, gpointer data)
{
  TmIce *ice = data;
  GSource *source = g_main_current_source();
  if (source != NULL && !g_source_get_can_recurse(source))
    g_source_set_can_recurse(source, TRUE);
  atomic_store_explicit(&ice->last_receive_us, g_get_monotonic_time(), memory_order_relaxed);
  ice->listener.receive(ice->user_data, (const uint8_t *) buf, len);
}

static void
on_state(NiceAgent *agent, guint stream, guint component, guint state, gpointer data)
{
  TmIce *ice = data;
  /* once, whichever thread libnice reports it on */
  if (state == NICE_COMPONENT_STATE_FAILED && g_atomic_int_compare_and_exchange(&ice->failed, 0, 1))
    ice->listener.failed(ice->user_data);
}

TmIce *
tm_ice_new(GMainContext *context, const TmIceOptions *options, const TmIceListener *listener,
           void *user_data, GError **error)
{
  TmIce *ice = g_new0(TmIce, 1);
  ice->context = g_main_context_ref(context);
  ice->listener = *listener;
  ice->user_data = user_data;
  atomic_init(&ice->last_receive_us, g_get_monotonic_time());
  ice->own = g_strdupv(options->addresses);
  ice->port_min = options->port_min;
  ice->port_max = options->port_max;
  ice->remote_allowed =
    options->remote_allowed != NULL ? g_ptr_array_ref(options->remote_allowed) : NULL;
  ice->agent =
    nice_agent_new_full(context, NICE_COMPATIBILITY_RFC5245, NICE_AGENT_OPTION_ICE_TRICKLE);
  g_object_set(ice->agent, "upnp", FALSE, "ice-tcp", options->tcp, "ice-udp", TRUE,
               "controlling-mode", FALSE, NULL);
  for (char **a = options->addresses; a != NULL && *a != NULL; a++) {
    NiceAddress addr;
    nice_address_init(&addr);
    if (!nice_address_set_from_string(&addr, *a)) {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                  "media address \"%s\" is not an IP address", *a);
      tm_ice_free(ice);
      return NULL;
    }
    nice_agent_add_local_address(ice->agent, &addr);
  }
  ice->stream = nice_agent_add_stream(ice->agent, 1);
  nice_agent_set_stream_name(ice->agent, ice->stream, "audio");
  if (options->port_min > 0)
    nice_agent_set_port_range(ice->agent, ice->stream, 1, options->port_min, options->port_max);
  g_signal_connect(ice->agent, "component-state-changed", G_CALLBACK(on_state), ice);
  nice_agent_attach_recv(ice->agent, ice->stream, 1, context, on_recv, ice);
  if (!nice_agent_gather_candidates(ice->agent, ice->stream)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                "ICE could not gather candidates (no usable media address or port)");
    tm_ice_free(ice);
    return NULL;
  }
  nice_agent_get_local_credentials(ice->agent, ice->stream, &ice->ufrag, &ice->pwd);
  return ice;
}

/* On the agent's context: after any callback that was in progress there has returned. (The
 * stream goes at once, in tm_ice_free: a stream without a receive callback would leave its
 * sockets' sources ready with what arrives, and the context busy, until removed.) */
static gboolean
release(gpointer data)
{
  TmIce *ice = data;
  if (ice->agent != NULL)
    g_object_unref(ice->agent);
  g_main_context_unref(ice->context);
  g_free(ice->ufrag);
  g_free(ice->pwd);
  g_strfreev(ice->own);
  if (ice->remote_allowed != NULL)
    g_ptr_array_unref(ice->remote_allowed);
  g_free(ice->batch);
  g_free(ice);
  return G_SOURCE_REMOVE;
}

void
tm_ice_free(TmIce *ice)
{
  if (ice == NULL)
    return;
  if (ice->agent != NULL) {
    g_signal_handlers_disconnect_by_data(ice->agent, ice);
    if (ice->stream > 0) {
      nice_agent_attach_recv(ice->agent, ice->stream, 1, ice->context, NULL, NULL);
      nice_agent_remove_stream(ice->agent, ice->stream);
    }
  }
  GSource *s = g_idle_source_new();
  g_source_set_callback(s, release, ice, NULL);
  g_source_attach(s, ice->context);
  g_source_unref(s);
}

const char *
tm_ice_ufrag(const TmIce *ice)
{
  return ice->ufrag;
}

const char *
tm_ice_pwd(const TmIce *ice)
{
  return ice->pwd;
}

GStrv
tm_ice_local_candidates(TmIce *ice)
{
  GSList *cands = nice_agent_get_local_candidates(ice->agent, ice->stream, 1);
  GPtrArray *out = g_ptr_array_new();
  for (GSList *l = cands; l != NULL; l = l->next) {
    char *sdp = nice_agent_generate_local_candidate_sdp(ice->agent, l->data);
    const char *c = g_str_has_prefix(sdp, "a=") ? sdp + 2 : sdp;
    g_ptr_array_add(out, g_strdup(c));
    g_free(sdp);
  }
  g_slist_free_full(cands, (GDestroyNotify) nice_candidate_free);
  g_ptr_array_add(out, NULL);
  return (GStrv) g_ptr_array_free(out, FALSE);
}

gboolean
tm_ice_set_remote_credentials(TmIce *ice, const char *ufrag, const char *pwd)
{
  return nice_agent_set_remote_credentials(ice->agent, ice->stream, ufrag, pwd);
}

/* Whether the relay may send connectivity checks to ADDR:PORT. */
static gboolean
remote_allowed(TmIce *ice, GInetAddress *addr, guint port)
{
  if (g_inet_address_get_is_any(addr) || g_inet_address_get_is_multicast(addr) ||
      g_inet_address_get_is_link_local(addr) || port == 0)
    return FALSE;
  g_autofree char *text = g_inet_address_to_string(addr);
  if (strcmp(text, "255.255.255.255") == 0)
    return FALSE;
  gboolean own_port = ice->port_min == 0 || (port >= ice->port_min && port <= ice->port_max);
  if (own_port && ice->own != NULL && g_strv_contains((const char *const *) ice->own, text))
    return FALSE; /* the relay itself */
  if (ice->remote_allowed == NULL)
    return TRUE;
  for (guint i = 0; i < ice->remote_allowed->len; i++)
    if (g_inet_address_mask_matches(g_ptr_array_index(ice->remote_allowed, i), addr))
      return TRUE;
  return FALSE;
}

TmIceCandidateResult
tm_ice_add_remote_candidate(TmIce *ice, const char *candidate)
{
  if (candidate == NULL || *candidate == '\0') {
    nice_agent_peer_candidate_gathering_done(ice->agent, ice->stream);
    return TM_ICE_CANDIDATE_OK;
  }
  g_autofree char *line =
    g_str_has_prefix(candidate, "a=") ? g_strdup(candidate) : g_strconcat("a=", candidate, NULL);
  NiceCandidate *c = nice_agent_parse_remote_candidate_sdp(ice->agent, ice->stream, line);
  if (c == NULL)
    return TM_ICE_CANDIDATE_MALFORMED;
  if (c->component_id != 1) { /* rtcp-mux: component 2 is never used */
    nice_candidate_free(c);
    return TM_ICE_CANDIDATE_OK;
  }
  char text[NICE_ADDRESS_STRING_LEN];
  nice_address_to_string(&c->addr, text);
  g_autoptr(GInetAddress) addr = g_inet_address_new_from_string(text);
  if (addr == NULL || !remote_allowed(ice, addr, nice_address_get_port(&c->addr))) {
    nice_candidate_free(c);
    return TM_ICE_CANDIDATE_REFUSED;
  }
  GSList *list = g_slist_prepend(NULL, c);
  int n = nice_agent_set_remote_candidates(ice->agent, ice->stream, 1, list);
  g_slist_free_full(list, (GDestroyNotify) nice_candidate_free);
  return n >= 0 ? TM_ICE_CANDIDATE_OK : TM_ICE_CANDIDATE_MALFORMED;
}

gboolean
tm_ice_check_media_address(const char *address, GError **error)
{
  g_autoptr(GInetAddress) addr = g_inet_address_new_from_string(address);
  const char *why = addr == NULL             ? "is not an IP address"
    : g_inet_address_get_is_any(addr)        ? "is a wildcard address; name the "
                                               "address peers reach the relay on"
    : g_inet_address_get_is_multicast(addr)  ? "is a multicast address"
    : g_inet_address_get_is_link_local(addr) ? "is a link-local address"
                                             : NULL;
  if (why != NULL) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "media address \"%s\" %s", address,
                why);
    return FALSE;
  }
  g_autoptr(GSocket) sock = g_socket_new(g_inet_address_get_family(addr), G_SOCKET_TYPE_DATAGRAM,
                                         G_SOCKET_PROTOCOL_UDP, error);
  g_autoptr(GSocketAddress) sa = g_inet_socket_address_new(addr, 0);
  g_autoptr(GError) local = NULL;
  if (sock == NULL || !g_socket_bind(sock, sa, FALSE, &local)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "media address \"%s\" is not an address of this machine (%s)", address,
                local != NULL ? local->message : "no socket");
    return FALSE;
  }
  return TRUE;
}

gboolean
tm_ice_parse_remote_ranges(char **ranges, GPtrArray **out, GError **error)
{
  return tm_proxy_parse_ranges("remote-candidates", ranges, out, error);
}

static void
count_sent(guint queued, gint sent)
{
  guint ok = sent > 0 ? (guint) sent : 0;
  atomic_fetch_add_explicit(&total_datagrams, ok, memory_order_relaxed);
  atomic_fetch_add_explicit(&total_calls, 1, memory_order_relaxed);
  if (ok < queued)
    atomic_fetch_add_explicit(&total_dropped, queued - ok, memory_order_relaxed);
}

void
tm_ice_send(TmIce *ice, const uint8_t *buf, size_t len)
{
  tm_ice_flush(ice); /* what was queued goes first */
  gint n = nice_agent_send(ice->agent, ice->stream, 1, (guint) len, (const gchar *) buf);
  count_sent(1, n >= 0 ? 1 : 0);
}

void
tm_ice_queue(TmIce *ice, const uint8_t *buf, size_t len)
{
  if (len > BATCH_SLOT) {
    tm_ice_send(ice, buf, len);
    return;
  }
  if (ice->n_batch == BATCH_MAX)
    tm_ice_flush(ice);
  if (ice->batch == NULL)
    ice->batch = g_malloc((size_t) BATCH_MAX * BATCH_SLOT);
  memcpy(ice->batch + (size_t) ice->n_batch * BATCH_SLOT, buf, len);
  ice->batch_len[ice->n_batch++] = len;
}

/* Sends the batch with sendmmsg on the selected pair's socket when that is a UDP socket of the
 * relay's own (a host candidate; not TCP or a TURN relay, where libnice frames what it sends).
 * Returns the datagrams sent, or -1 when it cannot (nothing was sent). */
static gint
flush_udp(TmIce *ice)
{
  GSocket *sock = nice_agent_get_selected_socket(ice->agent, ice->stream, 1);
  if (sock == NULL)
    return -1;
  NiceCandidate *local = NULL, *remote = NULL;
  gint sent = -1;
  if (g_socket_get_socket_type(sock) == G_SOCKET_TYPE_DATAGRAM &&
      nice_agent_get_selected_pair(ice->agent, ice->stream, 1, &local, &remote) &&
      local->type != NICE_CANDIDATE_TYPE_RELAYED) {
    struct sockaddr_storage to;
    nice_address_copy_to_sockaddr(&remote->addr, (struct sockaddr *) &to);
    socklen_t to_len =
      to.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    struct iovec iov[BATCH_MAX];
    struct mmsghdr msgs[BATCH_MAX];
    memset(msgs, 0, sizeof msgs);
    for (guint i = 0; i < ice->n_batch; i++) {
      iov[i].iov_base = ice->batch + (size_t) i * BATCH_SLOT;
      iov[i].iov_len = ice->batch_len[i];
      msgs[i].msg_hdr.msg_name = &to;
      msgs[i].msg_hdr.msg_namelen = to_len;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int fd = g_socket_get_fd(sock);
    int n;
    do
      n = sendmmsg(fd, msgs, ice->n_batch, MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    sent = n >= 0 ? n : 0; /* EAGAIN (no room) or an error: dropped, as libnice drops them */
  }
  g_object_unref(sock);
  return sent;
}

void
tm_ice_flush(TmIce *ice)
{
  guint n = ice->n_batch;
  if (n == 0)
    return;
  gint sent = flush_udp(ice);
  if (sent < 0) {
    GOutputVector vec[BATCH_MAX];
    NiceOutputMessage msgs[BATCH_MAX];
    for (guint i = 0; i < n; i++) {
      vec[i].buffer = ice->batch + (size_t) i * BATCH_SLOT;
      vec[i].size = ice->batch_len[i];
      msgs[i].buffers = &vec[i];
      msgs[i].n_buffers = 1;
    }
    sent = nice_agent_send_messages_nonblocking(ice->agent, ice->stream, 1, msgs, n, NULL, NULL);
  }
  ice->n_batch = 0;
  count_sent(n, sent);
}

void
tm_ice_totals(TmIceTotals *out)
{
  out->datagrams = atomic_load_explicit(&total_datagrams, memory_order_relaxed);
  out->calls = atomic_load_explicit(&total_calls, memory_order_relaxed);
  out->dropped = atomic_load_explicit(&total_dropped, memory_order_relaxed);
}

int64_t
tm_ice_last_receive(const TmIce *ice)
{
  return atomic_load_explicit(&ice->last_receive_us, memory_order_relaxed);
}
