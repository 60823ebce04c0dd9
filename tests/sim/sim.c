/* sim.c — the relay's engine and simulated browsers over a seeded fake link, on a virtual clock. */
#include "sim.h"

#include <string.h>

#define SIM_MAX_STEPS 100000 /* deliveries or timer runs in one call: more is a livelock */

typedef struct {
  int64_t due;
  uint64_t id;      /* sending order, to keep equal due times in order */
  TmSimBrowser *to; /* to a browser, or NULL: to the relay's PEER */
  TmPeer *peer;
  GBytes *data;
} Datagram;

static void
datagram_free(Datagram *d)
{
  g_bytes_unref(d->data);
  g_free(d);
}

static gint
by_due(gconstpointer a, gconstpointer b, gpointer unused)
{
  const Datagram *x = a, *y = b;
  if (x->due != y->due)
    return x->due < y->due ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* Puts a datagram on LINK: lost, or delivered (maybe twice) after the delay. */
static void
link_put(TmSim *sim, const TmSimLink *link, TmSimLinkStats *st, TmSimBrowser *to, TmPeer *peer,
         const uint8_t *buf, size_t len)
{
  st->sent++;
  if (link->loss > 0 && tm_packet_classify(buf, len) == TM_PACKET_RTP &&
      g_rand_double(sim->link_rand) < link->loss) {
    st->lost++;
    return;
  }
  int copies = 1;
  if (link->duplicate > 0 && g_rand_double(sim->link_rand) < link->duplicate) {
    copies = 2;
    st->duplicated++;
  }
  for (int i = 0; i < copies; i++) {
    Datagram *d = g_new0(Datagram, 1);
    int64_t jitter = link->jitter_us > 0
      ? g_rand_int_range(sim->link_rand, (gint32) -link->jitter_us, (gint32) link->jitter_us + 1)
      : 0;
    d->due = MAX(sim->now, sim->now + link->delay_us + jitter);
    d->id = sim->next_id++;
    d->to = to;
    d->peer = peer;
    d->data = g_bytes_new(buf, len);
    g_queue_insert_sorted(&sim->in_flight, d, by_due, NULL);
  }
}

static void
browser_send(void *ud, TmSimBrowser *b, const uint8_t *buf, size_t len)
{
  TmSim *sim = ud;
  if (b->peer != NULL)
    link_put(sim, &sim->up, &sim->up_stats, NULL, b->peer, buf, len);
}

void
tm_sim_relay_transmit(TmSim *sim, TmPeer *peer, const uint8_t *buf, size_t len)
{
  TmSimBrowser *b = g_hash_table_lookup(sim->by_peer, peer);
  if (b != NULL)
    link_put(sim, &sim->down, &sim->down_stats, b, NULL, buf, len);
}

/* ---- the hearing's listener ---- */

static void
relay_transmit(void *ud, TmPeer *peer, const uint8_t *buf, size_t len)
{
  tm_sim_relay_transmit(ud, peer, buf, len);
}

static void
relay_published(void *ud, TmParticipant *p)
{
  ((TmSim *) ud)->published++;
}

static void
relay_failed(void *ud, TmPeer *peer, const char *reason)
{
  ((TmSim *) ud)->failed++;
}

static void
relay_closed(void *ud, TmPeer *peer)
{
  TmSim *sim = ud;
  sim->closed++;
  tm_sim_detach(sim, peer);
}

static void
relay_media(void *ud, TmParticipant *from, TmTrack track, const uint8_t *buf, size_t len,
            int64_t now_us)
{
  ((TmSim *) ud)->tapped++;
}

static const TmHearingListener relay_listener = {
  relay_transmit, relay_published, relay_failed, relay_closed, relay_media, NULL,
};

/* ---- construction ---- */

static TmSim *
sim_alloc(guint32 link_seed, guint32 relay_seed)
{
  TmSim *sim = g_new0(TmSim, 1);
  sim->now = 1000000;
  sim->relay_identity = tm_dtls_identity_new(1800000000);
  sim->by_peer = g_hash_table_new(NULL, NULL);
  sim->browsers = g_ptr_array_new_with_free_func((GDestroyNotify) tm_sim_browser_free);
  sim->link_rand = g_rand_new_with_seed(link_seed);
  sim->relay_rand = g_rand_new_with_seed(relay_seed);
  g_queue_init(&sim->in_flight);
  return sim;
}

TmSim *
tm_sim_new_seeded(bool waiting_room, guint measures, guint32 link_seed, guint32 relay_seed)
{
  TmSim *sim = sim_alloc(link_seed, relay_seed);
  /* The shell's transport-cc setting is off by default; the engine's behaviour is tested on. */
  TmHearingConfig cfg = { "h1",         "C-1",    sim->relay_identity, 0,
                          waiting_room, measures, sim->relay_rand,     true };
  sim->hearing = tm_hearing_new(&cfg, &relay_listener, sim);
  return sim;
}

TmSim *
tm_sim_new(bool waiting_room, guint measures)
{
  return tm_sim_new_seeded(waiting_room, measures, TM_SIM_LINK_SEED, TM_SIM_RELAY_SEED);
}

TmSim *
tm_sim_new_bare(void)
{
  return sim_alloc(TM_SIM_LINK_SEED, TM_SIM_RELAY_SEED);
}

void
tm_sim_free(TmSim *sim)
{
  tm_hearing_free(sim->hearing);
  g_queue_clear_full(&sim->in_flight, (GDestroyNotify) datagram_free);
  g_ptr_array_unref(sim->browsers);
  g_hash_table_unref(sim->by_peer);
  tm_dtls_identity_unref(sim->relay_identity);
  g_rand_free(sim->link_rand);
  g_rand_free(sim->relay_rand);
  g_free(sim);
}

TmSimBrowser *
tm_sim_add_browser(TmSim *sim)
{
  TmSimBrowser *b =
    tm_sim_browser_new(tm_dtls_identity_fingerprint(sim->relay_identity), browser_send, sim);
  b->clock = &sim->now;
  g_ptr_array_add(sim->browsers, b);
  return b;
}

void
tm_sim_attach(TmSim *sim, TmSimBrowser *b, TmPeer *peer)
{
  b->peer = peer;
  g_hash_table_insert(sim->by_peer, peer, b);
}

void
tm_sim_detach(TmSim *sim, TmPeer *peer)
{
  TmSimBrowser *b = g_hash_table_lookup(sim->by_peer, peer);
  if (b != NULL)
    b->peer = NULL;
  g_hash_table_remove(sim->by_peer, peer);
}

TmParticipant *
tm_sim_join(TmSim *sim, const char *name, TmRole role)
{
  TmHearingError he;
  TmParticipant *p = tm_hearing_join(sim->hearing, name, role, sim->now, &he);
  g_assert_nonnull(p);
  return p;
}

static TmSimBrowser *
connect_browser(TmSim *sim, TmParticipant *p, TmParticipant *feed, int opus_pt, int vp8_pt,
                int rtx_pt, bool remb, bool wrong_fingerprint)
{
  TmSimBrowser *b = tm_sim_add_browser(sim);
  const uint8_t *fp = tm_dtls_identity_fingerprint(b->identity);
  TmDtlsIdentity *stranger = wrong_fingerprint ? tm_dtls_identity_new(1800000000) : NULL;
  if (stranger != NULL)
    fp = tm_dtls_identity_fingerprint(stranger);
  g_autofree char *text = tm_sim_browser_offer_full(fp, feed != NULL ? "recvonly" : "sendonly",
                                                    opus_pt, vp8_pt, rtx_pt, remb);
  if (sim->offer_twcc) {
    char *twcc = tm_sim_browser_offer_twcc(text, opus_pt, vp8_pt);
    g_free(text);
    text = twcc;
  }
  if (sim->offer_abs_send_time) {
    char *abs = tm_sim_browser_offer_abs_send_time(text);
    g_free(text);
    text = abs;
  }
  if (sim->offer_red > 0) {
    char *red = tm_sim_browser_offer_red(text, opus_pt, sim->offer_red);
    g_free(text);
    text = red;
  }
  g_autofree TmSdp *offer = g_new0(TmSdp, 1);
  g_assert_cmpint(tm_sdp_parse(text, strlen(text), offer), ==, TM_SDP_OK);
  static const char *const cands[] = { "candidate:1 1 UDP 2013266431 127.0.0.1 30000 typ host" };
  TmIceParams ice = { "rlay", "relaypasswordrelaypassword", cands, 1 };
  TmHearingError he;
  TmSdpError se;
  TmPeer *peer =
    tm_hearing_open_peer(sim->hearing, p, feed, offer, &ice, b->answer, sim->now, &he, &se);
  g_assert_nonnull(peer);
  tm_sim_attach(sim, b, peer);
  b->twcc_id = b->answer->n_media > 1 ? b->answer->media[1].twcc_id : 0;
  b->abs_send_id = b->answer->n_media > 1 ? b->answer->media[1].abs_send_time_id : 0;
  tm_sim_browser_start(b, sim->now);
  tm_sim_run(sim);
  /* a link with a delay: the handshake's flights take their time (at most 2 s of it) */
  for (int i = 0; i < 200 && !b->connected && !wrong_fingerprint &&
       (sim->up.delay_us > 0 || sim->down.delay_us > 0);
       i++)
    tm_sim_advance(sim, 10000);
  if (stranger != NULL)
    tm_dtls_identity_unref(stranger);
  return b;
}

TmSimBrowser *
tm_sim_connect(TmSim *sim, TmParticipant *p, TmParticipant *feed, int opus_pt, int vp8_pt,
               bool wrong_fingerprint)
{
  return connect_browser(sim, p, feed, opus_pt, vp8_pt, 0, false, wrong_fingerprint);
}

TmSimBrowser *
tm_sim_connect_full(TmSim *sim, TmParticipant *p, TmParticipant *feed, int opus_pt, int vp8_pt,
                    int rtx_pt, bool remb)
{
  return connect_browser(sim, p, feed, opus_pt, vp8_pt, rtx_pt, remb, false);
}

void
tm_sim_scene_full(TmSim *sim, TmSimScene *s, bool rtx, bool remb)
{
  memset(s, 0, sizeof *s);
  s->judge = tm_sim_join(sim, "Judge", TM_ROLE_JUDGE);
  s->witness = tm_sim_join(sim, "Witness", TM_ROLE_WITNESS);
  s->pub = connect_browser(sim, s->judge, NULL, 111, 96, rtx ? 97 : 0, remb, false);
  s->sub = connect_browser(sim, s->witness, s->judge, 109, 120, rtx ? 121 : 0, remb, false);
  g_assert_true(s->pub->connected);
  g_assert_true(s->sub->connected);
  g_assert_cmpuint(s->sub->answer->media[0].n_ssrcs, ==, 1);
  g_assert_cmpuint(s->sub->answer->media[1].n_ssrcs, ==, rtx ? 2 : 1);
  s->audio_ssrc = s->sub->answer->media[0].ssrcs[0];
  s->video_ssrc = s->sub->answer->media[1].ssrcs[0];
  s->video_rtx_ssrc = rtx ? s->sub->answer->media[1].fid_ssrcs[1] : 0;
}

void
tm_sim_scene(TmSim *sim, TmSimScene *s)
{
  tm_sim_scene_full(sim, s, false, false);
}

void
tm_sim_scene_add_clerk(TmSim *sim, TmSimScene *s)
{
  s->clerk = tm_sim_join(sim, "Clerk", TM_ROLE_CLERK);
  s->sub2 = tm_sim_connect(sim, s->clerk, s->judge, 111, 96, false);
  g_assert_true(s->sub2->connected);
  s->video_ssrc2 = s->sub2->answer->media[1].ssrcs[0];
}

uint16_t
tm_sim_send_video(TmSim *sim, TmSimBrowser *pub, uint16_t seq, int n, bool key)
{
  for (int i = 0; i < n; i++, seq++) {
    if (key)
      tm_sim_send_rtp(pub, 96, seq, (uint32_t) seq * 3000, 0xB, tm_sim_vp8_key,
                      sizeof tm_sim_vp8_key);
    else
      tm_sim_send_rtp(pub, 96, seq, (uint32_t) seq * 3000, 0xB, tm_sim_vp8_delta,
                      sizeof tm_sim_vp8_delta);
    tm_sim_advance(sim, 33333);
  }
  return seq;
}

/* ---- inputs ---- */

void
tm_sim_send_rtp(TmSimBrowser *b, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
                const uint8_t *payload, size_t payload_len)
{
  tm_sim_browser_send_rtp(b, pt, seq, ts, ssrc, payload, payload_len);
  tm_sim_run(b->send_data);
}

void
tm_sim_send_rtcp(TmSimBrowser *b, const TmRtcpPacket *pkt)
{
  tm_sim_browser_send_rtcp(b, pkt);
  tm_sim_run(b->send_data);
}

void
tm_sim_send_nack(TmSimBrowser *b, uint32_t media_ssrc, uint16_t seq)
{
  TmRtcpPacket nack = {
    .kind = TM_RTCP_KIND_NACK, .sender_ssrc = 1, .media_ssrc = media_ssrc, .n_nacks = 1
  };
  nack.nacks[0].pid = seq;
  tm_sim_send_rtcp(b, &nack);
}

void
tm_sim_send_pli(TmSimBrowser *b, uint32_t media_ssrc)
{
  TmRtcpPacket pli = { .kind = TM_RTCP_KIND_PLI, .sender_ssrc = 1, .media_ssrc = media_ssrc };
  tm_sim_send_rtcp(b, &pli);
}

void
tm_sim_send_raw(TmSimBrowser *b, const uint8_t *buf, size_t len)
{
  tm_sim_browser_transmit(b, buf, len);
  tm_sim_run(b->send_data);
}

/* ---- running ---- */

static void
deliver(TmSim *sim, Datagram *d)
{
  gsize len;
  const uint8_t *p = g_bytes_get_data(d->data, &len);
  if (d->to != NULL) {
    sim->down_stats.delivered++;
    tm_sim_browser_receive(d->to, p, len, sim->now);
  } else if (!g_hash_table_contains(sim->by_peer, d->peer)) {
    sim->up_stats.to_closed++;
  } else {
    sim->up_stats.delivered++;
    if (sim->hearing != NULL)
      tm_hearing_handle_datagram(sim->hearing, d->peer, p, len, sim->now);
    else
      tm_peer_handle_datagram(d->peer, p, len, sim->now);
  }
}

void
tm_sim_run(TmSim *sim)
{
  for (int i = 0; i < SIM_MAX_STEPS; i++) {
    Datagram *d = g_queue_peek_head(&sim->in_flight);
    if (d == NULL || d->due > sim->now)
      return;
    g_queue_pop_head(&sim->in_flight);
    deliver(sim, d);
    datagram_free(d);
  }
  g_error("the simulation does not settle: datagrams keep coming at %" G_GINT64_FORMAT, sim->now);
}

/* The earliest time a timer of the relay or of a browser is due. */
static int64_t
timers_deadline(const TmSim *sim)
{
  int64_t d = INT64_MAX;
  if (sim->hearing != NULL) {
    d = tm_hearing_next_deadline(sim->hearing);
  } else {
    GHashTableIter it;
    gpointer peer;
    g_hash_table_iter_init(&it, sim->by_peer);
    while (g_hash_table_iter_next(&it, &peer, NULL))
      d = MIN(d, tm_peer_next_deadline(peer));
  }
  for (guint i = 0; i < sim->browsers->len; i++)
    d = MIN(d, tm_dtls_next_deadline(((TmSimBrowser *) g_ptr_array_index(sim->browsers, i))->dtls));
  return d;
}

static void
run_timers(TmSim *sim)
{
  if (sim->hearing != NULL) {
    tm_hearing_handle_timeout(sim->hearing, sim->now);
  } else {
    g_autoptr(GList) peers = g_hash_table_get_keys(sim->by_peer);
    for (GList *l = peers; l != NULL; l = l->next)
      if (tm_peer_next_deadline(l->data) <= sim->now)
        tm_peer_handle_timeout(l->data, sim->now);
  }
  for (guint i = 0; i < sim->browsers->len; i++) {
    TmSimBrowser *b = g_ptr_array_index(sim->browsers, i);
    if (tm_dtls_next_deadline(b->dtls) <= sim->now)
      tm_dtls_handle_timeout(b->dtls, sim->now);
  }
  tm_sim_run(sim);
  g_assert_cmpint(timers_deadline(sim), >, sim->now); /* a timer due for ever would spin */
}

void
tm_sim_advance(TmSim *sim, int64_t us)
{
  int64_t target = sim->now + us;
  for (int i = 0; i < SIM_MAX_STEPS; i++) {
    Datagram *d = g_queue_peek_head(&sim->in_flight);
    int64_t next = MIN(timers_deadline(sim), d != NULL ? d->due : INT64_MAX);
    if (next > target) {
      sim->now = target;
      return;
    }
    sim->now = MAX(sim->now, next);
    if (timers_deadline(sim) <= sim->now)
      run_timers(sim);
    tm_sim_run(sim);
  }
  g_error("the simulation does not settle before %" G_GINT64_FORMAT, target);
}

uint64_t
tm_sim_lost(const TmSim *sim)
{
  return sim->up_stats.lost + sim->down_stats.lost;
}
