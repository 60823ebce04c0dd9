/* test-ice.c — the relay's ICE transport (relay/shell/ice.c) against a real libnice agent on
 * 127.0.0.1, inside the private network namespace netns-run.sh gives it: datagrams queued and
 * flushed arrive whole and in order, a full queue and an oversized datagram keep that order, the
 * totals count one call per batch on UDP, and over ICE-TCP (where the relay sends through
 * libnice) the same datagrams arrive. */
#include "ice.h"

#include <agent.h>
#include <string.h>

#define TIMEOUT_US (20 * G_USEC_PER_SEC)

typedef struct {
  GMainContext *context;
  TmIce *relay;
  NiceAgent *peer;
  guint stream;
  GPtrArray *to_peer;  /* GBytes the peer received */
  GPtrArray *to_relay; /* GBytes the relay received */
  gboolean peer_ready;
} Link;

static void
relay_receive(void *user_data, const uint8_t *buf, size_t len)
{
  Link *l = user_data;
  g_ptr_array_add(l->to_relay, g_bytes_new(buf, len));
}

static void
relay_failed(void *user_data)
{
  g_error("the relay's ICE failed");
}

static const TmIceListener relay_listener = { relay_receive, relay_failed };

static void
peer_receive(NiceAgent *agent, guint stream, guint component, guint len, gchar *buf, gpointer data)
{
  Link *l = data;
  g_ptr_array_add(l->to_peer, g_bytes_new(buf, len));
}

static void
peer_state(NiceAgent *agent, guint stream, guint component, guint state, gpointer data)
{
  Link *l = data;
  if (state == NICE_COMPONENT_STATE_READY)
    l->peer_ready = TRUE;
  g_assert_cmpuint(state, !=, NICE_COMPONENT_STATE_FAILED);
}

static void
run_until(Link *l, gboolean (*done)(Link *, gpointer), gpointer arg)
{
  gint64 end = g_get_monotonic_time() + TIMEOUT_US;
  while (!done(l, arg)) {
    g_assert_cmpint(g_get_monotonic_time(), <, end);
    g_main_context_iteration(l->context, TRUE);
  }
}

static gboolean
peer_has(Link *l, gpointer n)
{
  return l->to_peer->len >= GPOINTER_TO_UINT(n);
}

static gboolean
relay_has(Link *l, gpointer n)
{
  return l->to_relay->len >= GPOINTER_TO_UINT(n);
}

/* A relay transport on 127.0.0.1 and a controlling peer agent on 127.0.0.2, connected; with TCP, over
 * ICE-TCP only (the peer gathers no UDP candidates). */
static void
link_open(Link *l, gboolean tcp)
{
  memset(l, 0, sizeof *l);
  l->context = g_main_context_new();
  g_main_context_push_thread_default(l->context);
  l->to_peer = g_ptr_array_new_with_free_func((GDestroyNotify) g_bytes_unref);
  l->to_relay = g_ptr_array_new_with_free_func((GDestroyNotify) g_bytes_unref);
  char *addresses[] = { "127.0.0.1", NULL };
  TmIceOptions options = { .addresses = addresses, .tcp = tcp };
  GError *error = NULL;
  l->relay = tm_ice_new(l->context, &options, &relay_listener, l, &error);
  g_assert_no_error(error);

  l->peer = nice_agent_new_full(l->context, NICE_COMPATIBILITY_RFC5245, NICE_AGENT_OPTION_NONE);
  g_object_set(l->peer, "upnp", FALSE, "controlling-mode", TRUE, "ice-udp", !tcp, "ice-tcp", tcp,
               NULL);
  NiceAddress local;
  nice_address_init(&local);
  g_assert_true(nice_address_set_from_string(&local, "127.0.0.2")); /* not the relay's */
  nice_agent_add_local_address(l->peer, &local);
  l->stream = nice_agent_add_stream(l->peer, 1);
  g_signal_connect(l->peer, "component-state-changed", G_CALLBACK(peer_state), l);
  nice_agent_attach_recv(l->peer, l->stream, 1, l->context, peer_receive, l);
  g_assert_true(nice_agent_gather_candidates(l->peer, l->stream));

  /* the relay learns the peer's credentials and candidates, the peer the relay's */
  gchar *ufrag = NULL, *pwd = NULL;
  nice_agent_get_local_credentials(l->peer, l->stream, &ufrag, &pwd);
  g_assert_true(tm_ice_set_remote_credentials(l->relay, ufrag, pwd));
  g_free(ufrag);
  g_free(pwd);
  GSList *cands = nice_agent_get_local_candidates(l->peer, l->stream, 1);
  for (GSList *c = cands; c != NULL; c = c->next) {
    g_autofree char *line = nice_agent_generate_local_candidate_sdp(l->peer, c->data);
    g_assert_cmpint(tm_ice_add_remote_candidate(l->relay, line), ==, TM_ICE_CANDIDATE_OK);
  }
  g_slist_free_full(cands, (GDestroyNotify) nice_candidate_free);
  tm_ice_add_remote_candidate(l->relay, "");
  nice_agent_set_remote_credentials(l->peer, l->stream, tm_ice_ufrag(l->relay),
                                    tm_ice_pwd(l->relay));
  GStrv relay_cands = tm_ice_local_candidates(l->relay);
  GSList *remote = NULL;
  for (char **c = relay_cands; *c != NULL; c++) {
    g_autofree char *line = g_strconcat("a=", *c, NULL);
    NiceCandidate *nc = nice_agent_parse_remote_candidate_sdp(l->peer, l->stream, line);
    if (nc != NULL)
      remote = g_slist_prepend(remote, nc);
  }
  g_strfreev(relay_cands);
  g_assert_cmpint(nice_agent_set_remote_candidates(l->peer, l->stream, 1, remote), >, 0);
  g_slist_free_full(remote, (GDestroyNotify) nice_candidate_free);

  /* connected once the peer's datagram has reached the relay (it has a pair then) */
  gint64 end = g_get_monotonic_time() + TIMEOUT_US;
  while (!l->peer_ready || l->to_relay->len == 0) {
    g_assert_cmpint(g_get_monotonic_time(), <, end);
    if (l->peer_ready)
      nice_agent_send(l->peer, l->stream, 1, 5, "hello");
    g_main_context_iteration(l->context, FALSE);
    g_usleep(1000);
  }
  g_assert_cmpmem(g_bytes_get_data(l->to_relay->pdata[0], NULL),
                  g_bytes_get_size(l->to_relay->pdata[0]), "hello", 5);
}

static void
link_close(Link *l)
{
  tm_ice_free(l->relay);
  nice_agent_remove_stream(l->peer, l->stream);
  g_object_unref(l->peer);
  while (g_main_context_iteration(l->context, FALSE))
    ;
  g_main_context_pop_thread_default(l->context);
  g_main_context_unref(l->context);
  g_ptr_array_unref(l->to_peer);
  g_ptr_array_unref(l->to_relay);
}

/* Datagram I of a test: LEN bytes, the first two its index, the rest a pattern of it. */
static void
fill(uint8_t *buf, size_t len, guint i)
{
  for (size_t k = 0; k < len; k++)
    buf[k] = (uint8_t) (i * 31 + k);
  buf[0] = (uint8_t) (i >> 8);
  buf[1] = (uint8_t) i;
}

static size_t
length_of(guint i)
{
  return i == 7 ? 1600 : 100 + (i * 97) % 1100; /* datagram 7 does not fit a slot */
}

/* Queues N datagrams (flushing after every FLUSH_EVERY, 0: only at the end) and checks that the
 * peer gets each whole and in order. */
static void
send_and_check(Link *l, guint n, guint flush_every)
{
  guint before = l->to_peer->len;
  uint8_t buf[2048];
  for (guint i = 0; i < n; i++) {
    fill(buf, length_of(i), i);
    tm_ice_queue(l->relay, buf, length_of(i));
    if (flush_every > 0 && (i + 1) % flush_every == 0)
      tm_ice_flush(l->relay);
  }
  tm_ice_flush(l->relay);
  run_until(l, peer_has, GUINT_TO_POINTER(before + n));
  for (guint i = 0; i < n; i++) {
    GBytes *got = l->to_peer->pdata[before + i];
    fill(buf, length_of(i), i);
    g_assert_cmpmem(g_bytes_get_data(got, NULL), g_bytes_get_size(got), buf, length_of(i));
  }
}

static void
test_udp(void)
{
  Link l;
  link_open(&l, FALSE);
  TmIceTotals t0, t1;

  /* five datagrams queued together: one call */
  tm_ice_totals(&t0);
  send_and_check(&l, 5, 0);
  tm_ice_totals(&t1);
  g_assert_cmpuint(t1.datagrams - t0.datagrams, ==, 5);
  g_assert_cmpuint(t1.calls - t0.calls, ==, 1);
  g_assert_cmpuint(t1.dropped - t0.dropped, ==, 0);

  /* forty: the queue (16) sends itself when full; datagram 7 (1,600 bytes) goes alone, after
   * those queued before it and before those after it */
  tm_ice_totals(&t0);
  send_and_check(&l, 40, 0);
  tm_ice_totals(&t1);
  g_assert_cmpuint(t1.datagrams - t0.datagrams, ==, 40);
  g_assert_cmpuint(t1.calls - t0.calls, ==, 4); /* 0-6, 7, 8-23, 24-39 */
  g_assert_cmpuint(t1.dropped - t0.dropped, ==, 0);

  /* one at a time, as a lone packet goes */
  send_and_check(&l, 3, 1);

  /* the relay still receives */
  nice_agent_send(l.peer, l.stream, 1, 3, "bye");
  run_until(&l, relay_has, GUINT_TO_POINTER(l.to_relay->len + 1));
  link_close(&l);
}

static void
test_tcp(void)
{
  Link l;
  link_open(&l, TRUE);
  NiceCandidate *local = NULL, *remote = NULL;
  g_assert_true(nice_agent_get_selected_pair(l.peer, l.stream, 1, &local, &remote));
  g_assert_cmpint(local->transport, !=, NICE_CANDIDATE_TRANSPORT_UDP); /* RFC 4571 framing */
  TmIceTotals t0, t1;
  tm_ice_totals(&t0);
  send_and_check(&l, 40, 0);
  tm_ice_totals(&t1);
  g_assert_cmpuint(t1.datagrams - t0.datagrams, ==, 40);
  g_assert_cmpuint(t1.dropped - t0.dropped, ==, 0);
  link_close(&l);
}

static void
test_not_connected(void)
{
  GMainContext *context = g_main_context_new();
  char *addresses[] = { "127.0.0.1", NULL };
  TmIceOptions options = { .addresses = addresses };
  Link unused = { 0 };
  GError *error = NULL;
  TmIce *ice = tm_ice_new(context, &options, &relay_listener, &unused, &error);
  g_assert_no_error(error);
  TmIceTotals t0, t1;
  tm_ice_totals(&t0);
  tm_ice_queue(ice, (const uint8_t *) "early", 5);
  tm_ice_queue(ice, (const uint8_t *) "early", 5);
  tm_ice_flush(ice);
  tm_ice_totals(&t1);
  g_assert_cmpuint(t1.datagrams - t0.datagrams, ==, 0);
  g_assert_cmpuint(t1.dropped - t0.dropped, ==, 2); /* no path yet: counted, not sent */
  tm_ice_free(ice);
  while (g_main_context_iteration(context, FALSE))
    ;
  g_main_context_unref(context);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/ice/udp-batches", test_udp);
  g_test_add_func("/ice/tcp", test_tcp);
  g_test_add_func("/ice/not-connected", test_not_connected);
  return g_test_run();
}
