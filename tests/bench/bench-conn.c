/* bench-conn.c — one WebRTC connection of the load generator (see bench-conn.h). */
#include "bench-conn.h"

#include <agent.h>
#include <string.h>

#include "rtp.h"
#include "srtp.h"
#include "util.h"

struct _BenchConn {
  NiceAgent *agent;
  guint stream;
  bool controlling;
  TmDtlsIdentity *identity;
  TmDtls *dtls;
  bool dtls_client;
  bool dtls_started;
  bool ice_connected;
  int64_t ice_connected_us;
  TmSrtp *srtp;
  TmSrtpProfile profile;
  bool failed;
  BenchConnListener listener;
  void *user_data;
};

static void
conn_fail(BenchConn *c, const char *why)
{
  if (c->failed)
    return;
  c->failed = true;
  c->listener.failed(c->user_data, c, why);
}

static void
dtls_transmit(void *ud, const uint8_t *buf, size_t len)
{
  BenchConn *c = ud;
  nice_agent_send(c->agent, c->stream, 1, (guint) len, (const gchar *) buf);
}

static void
dtls_connected(void *ud, const TmSrtpKeys *keys)
{
  BenchConn *c = ud;
  TmSrtpError err;
  c->srtp = tm_srtp_new(keys, &err);
  if (c->srtp == NULL) {
    conn_fail(c, tm_srtp_strerror(err));
    return;
  }
  c->profile = keys->profile;
  if (g_getenv("LOADGEN_DEBUG") != NULL)
    g_printerr("loadgen: DTLS up %.1f ms after ICE\n",
               (double) (g_get_monotonic_time() - c->ice_connected_us) / 1000.0);
  c->listener.connected(c->user_data, c);
}

static void
dtls_failed(void *ud, TmDtlsError err)
{
  conn_fail(ud, tm_dtls_strerror(err));
}

static const TmDtlsListener dtls_listener = { dtls_transmit, dtls_connected, dtls_failed };

static void
start_dtls(BenchConn *c)
{
  if (c->dtls != NULL && c->ice_connected && c->dtls_client && !c->dtls_started) {
    c->dtls_started = true;
    tm_dtls_start(c->dtls, g_get_monotonic_time());
  }
}

static void
on_recv(NiceAgent *agent, guint stream, guint component, guint len, gchar *data, gpointer ud)
{
  BenchConn *c = ud;
  int64_t now = g_get_monotonic_time();
  uint8_t buf[TM_RTP_MAX_PACKET + TM_SRTP_MAX_TRAILER];
  if (len > sizeof buf)
    return;
  memcpy(buf, data, len);
  size_t n = len;
  switch (tm_packet_classify(buf, n)) {
  case TM_PACKET_DTLS:
    if (c->dtls != NULL)
      tm_dtls_handle_datagram(c->dtls, buf, n, now);
    break;
  case TM_PACKET_RTP:
    if (c->srtp != NULL && tm_srtp_unprotect_rtp(c->srtp, buf, &n) == TM_SRTP_OK)
      c->listener.rtp(c->user_data, c, buf, n, now);
    break;
  case TM_PACKET_RTCP:
    if (c->srtp != NULL && tm_srtp_unprotect_rtcp(c->srtp, buf, &n) == TM_SRTP_OK)
      c->listener.rtcp(c->user_data, c, buf, n);
    break;
  default: break;
  }
}

static void
on_state(NiceAgent *agent, guint stream, guint component, guint state, gpointer ud)
{
  BenchConn *c = ud;
  if (g_getenv("LOADGEN_DEBUG") != NULL)
    g_printerr("loadgen: ICE state %s\n", nice_component_state_to_string(state));
  if (state == NICE_COMPONENT_STATE_CONNECTED || state == NICE_COMPONENT_STATE_READY) {
    if (!c->ice_connected)
      c->ice_connected_us = g_get_monotonic_time();
    c->ice_connected = true;
    start_dtls(c);
  } else if (state == NICE_COMPONENT_STATE_FAILED) {
    conn_fail(c, "ICE failed");
  }
}

BenchConn *
bench_conn_new(TmDtlsIdentity *identity, const char *address, bool controlling,
               const BenchConnListener *listener, void *user_data)
{
  BenchConn *c = g_new0(BenchConn, 1);
  c->identity = tm_dtls_identity_ref(identity);
  c->controlling = controlling;
  c->listener = *listener;
  c->user_data = user_data;
  GMainContext *ctx = g_main_context_get_thread_default();
  c->agent =
    nice_agent_new(ctx != NULL ? ctx : g_main_context_default(), NICE_COMPATIBILITY_RFC5245);
  g_object_set(c->agent, "upnp", FALSE, "ice-tcp", FALSE, "ice-udp", TRUE, "controlling-mode",
               controlling, NULL);
  NiceAddress addr;
  nice_address_init(&addr);
  nice_address_set_from_string(&addr, address);
  nice_agent_add_local_address(c->agent, &addr);
  c->stream = nice_agent_add_stream(c->agent, 1);
  g_signal_connect(c->agent, "component-state-changed", G_CALLBACK(on_state), c);
  nice_agent_attach_recv(c->agent, c->stream, 1, ctx != NULL ? ctx : g_main_context_default(),
                         on_recv, c);
  nice_agent_gather_candidates(c->agent, c->stream);
  return c;
}

void
bench_conn_free(BenchConn *c)
{
  if (c == NULL)
    return;
  g_signal_handlers_disconnect_by_data(c->agent, c);
  nice_agent_attach_recv(c->agent, c->stream, 1, g_main_context_default(), NULL, NULL);
  nice_agent_remove_stream(c->agent, c->stream);
  g_object_unref(c->agent);
  tm_dtls_free(c->dtls);
  tm_srtp_free(c->srtp);
  tm_dtls_identity_unref(c->identity);
  g_free(c);
}

char *
bench_conn_transport_lines(BenchConn *c, const char *setup)
{
  g_autofree char *ufrag = NULL, *pwd = NULL;
  nice_agent_get_local_credentials(c->agent, c->stream, &ufrag, &pwd);
  char fp[3 * TM_DTLS_FINGERPRINT_LEN];
  tm_hex_colon(tm_dtls_identity_fingerprint(c->identity), TM_DTLS_FINGERPRINT_LEN, fp);
  GString *s = g_string_new(NULL);
  g_string_append_printf(s,
                         "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:sha-256 %s\r\n"
                         "a=setup:%s\r\n",
                         ufrag, pwd, fp, setup);
  GSList *cands = nice_agent_get_local_candidates(c->agent, c->stream, 1);
  for (GSList *l = cands; l != NULL; l = l->next) {
    g_autofree char *line = nice_agent_generate_local_candidate_sdp(c->agent, l->data);
    g_string_append_printf(s, "%s\r\n", line);
  }
  g_slist_free_full(cands, (GDestroyNotify) nice_candidate_free);
  return g_string_free(s, FALSE);
}

void
bench_conn_add_candidate(BenchConn *c, const char *candidate)
{
  if (candidate == NULL || *candidate == '\0')
    return;
  g_autofree char *line =
    g_str_has_prefix(candidate, "a=") ? g_strdup(candidate) : g_strconcat("a=", candidate, NULL);
  NiceCandidate *nc = nice_agent_parse_remote_candidate_sdp(c->agent, c->stream, line);
  if (nc == NULL)
    return;
  if (nc->component_id == 1) {
    GSList *one = g_slist_prepend(NULL, nc);
    nice_agent_set_remote_candidates(c->agent, c->stream, 1, one);
    g_slist_free(one);
  }
  nice_candidate_free(nc);
}

bool
bench_conn_set_remote(BenchConn *c, const TmSdp *remote, bool dtls_client)
{
  if (remote->fingerprint_len == 0 || c->dtls != NULL)
    return false;
  nice_agent_set_remote_credentials(c->agent, c->stream, remote->ice_ufrag, remote->ice_pwd);
  c->dtls_client = dtls_client;
  c->dtls = tm_dtls_new(c->identity, dtls_client ? TM_DTLS_ROLE_CLIENT : TM_DTLS_ROLE_SERVER,
                        remote->fingerprint, remote->fingerprint_len, &dtls_listener, c);
  for (guint i = 0; i < remote->n_candidates; i++)
    bench_conn_add_candidate(c, remote->candidates[i].value);
  start_dtls(c);
  return true;
}

static bool
conn_send(BenchConn *c, uint8_t *buf, size_t len, size_t cap, bool rtcp)
{
  if (c->srtp == NULL || c->failed)
    return false;
  TmSrtpError e = rtcp ? tm_srtp_protect_rtcp(c->srtp, buf, &len, cap)
                       : tm_srtp_protect_rtp(c->srtp, buf, &len, cap);
  if (e != TM_SRTP_OK)
    return false;
  return nice_agent_send(c->agent, c->stream, 1, (guint) len, (const gchar *) buf) == (gint) len;
}

bool
bench_conn_send_rtp(BenchConn *c, uint8_t *buf, size_t len, size_t cap)
{
  return conn_send(c, buf, len, cap, false);
}

bool
bench_conn_send_rtcp(BenchConn *c, uint8_t *buf, size_t len, size_t cap)
{
  return conn_send(c, buf, len, cap, true);
}

bool
bench_conn_is_connected(const BenchConn *c)
{
  return c->srtp != NULL && !c->failed;
}

TmSrtpProfile
bench_conn_srtp_profile(const BenchConn *c)
{
  return c->profile;
}

void
bench_conn_tick(BenchConn *c, int64_t now_us)
{
  if (c->dtls != NULL && !c->failed && now_us >= tm_dtls_next_deadline(c->dtls))
    tm_dtls_handle_timeout(c->dtls, now_us);
}
