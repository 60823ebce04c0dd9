/* hearing.c — participants, connections, and the router. */
#include "hearing.h"

#include <string.h>

#include "metrics.h"

typedef struct {
  TmHearing *hearing;
  TmPeer *peer;
  TmParticipant *owner;
  TmParticipant *feed;   /* subscribe peers */
  uint64_t reports_seen; /* subscribe peers: the receiver's reports already looked at */
  TmRtxStore *store;     /* publish peers: the video kept for its receivers' retransmissions */
} PeerLink;

struct _TmHearing {
  char id[TM_HEARING_ID_LEN];
  char case_number[TM_HEARING_ID_LEN];
  TmDtlsIdentity *identity;
  int64_t wall_offset_us;
  TmHearingListener listener;
  void *user_data;
  GPtrArray *participants; /* TmParticipant*, owned */
  GHashTable *links;       /* TmPeer* -> PeerLink*, owned */
  guint next_id;
  bool waiting_room;
  guint measures;
  bool transport_cc;
  GRand *rand;
  bool own_rand;
  TmCounters closed; /* what connections now closed counted */
};

static void
link_free(gpointer data)
{
  PeerLink *link = data;
  tm_rtx_store_unref(link->store);
  g_free(link);
}

TmHearing *
tm_hearing_new(const TmHearingConfig *config, const TmHearingListener *listener, void *user_data)
{
  TmHearing *h = g_new0(TmHearing, 1);
  g_strlcpy(h->id, config->id, sizeof h->id);
  g_strlcpy(h->case_number, config->case_number != NULL ? config->case_number : "",
            sizeof h->case_number);
  h->identity = tm_dtls_identity_ref(config->identity);
  h->own_rand = config->rand == NULL;
  h->rand = h->own_rand ? g_rand_new() : config->rand;
  h->wall_offset_us = config->wall_offset_us;
  h->listener = *listener;
  h->user_data = user_data;
  h->participants = g_ptr_array_new();
  h->links = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, link_free);
  h->next_id = 1;
  h->waiting_room = config->waiting_room;
  h->measures = config->measures;
  h->transport_cc = config->transport_cc;
  return h;
}

void
tm_hearing_free(TmHearing *h)
{
  if (h == NULL)
    return;
  while (h->participants->len > 0)
    tm_hearing_leave(h, g_ptr_array_index(h->participants, h->participants->len - 1));
  g_ptr_array_unref(h->participants);
  g_hash_table_unref(h->links);
  tm_dtls_identity_unref(h->identity);
  if (h->own_rand)
    g_rand_free(h->rand);
  g_free(h);
}

const char *
tm_hearing_id(const TmHearing *h)
{
  return h->id;
}

const char *
tm_hearing_case(const TmHearing *h)
{
  return h->case_number;
}

guint
tm_hearing_n_participants(const TmHearing *h)
{
  return h->participants->len;
}

TmParticipant *
tm_hearing_participant(const TmHearing *h, guint index)
{
  return index < h->participants->len ? g_ptr_array_index(h->participants, index) : NULL;
}

TmParticipant *
tm_hearing_find(const TmHearing *h, const char *id)
{
  for (guint i = 0; i < h->participants->len; i++) {
    TmParticipant *p = g_ptr_array_index(h->participants, i);
    if (g_strcmp0(p->id, id) == 0)
      return p;
  }
  return NULL;
}

TmParticipant *
tm_hearing_join(TmHearing *h, const char *name, TmRole role, int64_t now_us, TmHearingError *err)
{
  if (h->participants->len >= TM_HEARING_MAX_PARTICIPANTS) {
    *err = TM_HEARING_ERR_FULL;
    return NULL;
  }
  TmParticipant *p = g_new0(TmParticipant, 1);
  g_snprintf(p->id, sizeof p->id, "p%u", h->next_id++);
  g_strlcpy(p->name, name, sizeof p->name);
  p->role = role;
  p->subscriptions = g_ptr_array_new();
  p->subscribers = g_ptr_array_new();
  p->not_shown = g_ptr_array_new();
  p->joined_us = now_us;
  p->state = h->waiting_room && role != TM_ROLE_JUDGE ? TM_STATE_WAITING : TM_STATE_ADMITTED;
  g_ptr_array_add(h->participants, p);
  *err = TM_HEARING_OK;
  return p;
}

static void
destroy_peer(TmHearing *h, TmPeer *peer)
{
  PeerLink *link = g_hash_table_lookup(h->links, peer);
  if (link == NULL)
    return;
  if (link->feed != NULL) {
    g_ptr_array_remove(link->owner->subscriptions, peer);
    g_ptr_array_remove(link->feed->subscribers, peer);
  } else if (link->owner->publish == peer) {
    link->owner->publish = NULL;
    link->owner->publishing = false;
  }
  tm_peer_close(peer);
  tm_counters_add_peer(&h->closed, tm_peer_stats(peer));
  h->listener.peer_closed(h->user_data, peer);
  g_hash_table_remove(h->links, peer);
  tm_peer_free(peer);
}

void
tm_hearing_leave(TmHearing *h, TmParticipant *p)
{
  while (p->subscribers->len > 0)
    destroy_peer(h, g_ptr_array_index(p->subscribers, 0));
  while (p->subscriptions->len > 0)
    destroy_peer(h, g_ptr_array_index(p->subscriptions, 0));
  if (p->publish != NULL)
    destroy_peer(h, p->publish);
  g_ptr_array_remove(h->participants, p);
  for (guint i = 0; i < h->participants->len; i++)
    g_ptr_array_remove(((TmParticipant *) g_ptr_array_index(h->participants, i))->not_shown, p);
  g_ptr_array_unref(p->subscriptions);
  g_ptr_array_unref(p->subscribers);
  g_ptr_array_unref(p->not_shown);
  g_free(p);
}

/* ---- peer listener: routes what a connection reports ---- */

static void
link_transmit(void *ud, TmPeer *peer, const uint8_t *buf, size_t len)
{
  PeerLink *link = ud;
  link->hearing->listener.transmit(link->hearing->user_data, peer, buf, len);
}

static void
link_connected(void *ud, TmPeer *peer)
{
  PeerLink *link = ud;
  TmHearing *h = link->hearing;
  if (link->feed == NULL) {
    link->owner->publishing = true;
    h->listener.published(h->user_data, link->owner);
  } else if (h->listener.receiving != NULL) {
    h->listener.receiving(h->user_data, link->owner, peer);
  }
}

static void
link_failed(void *ud, TmPeer *peer, const char *reason)
{
  PeerLink *link = ud;
  link->hearing->listener.peer_failed(link->hearing->user_data, peer, reason);
}

static void
link_media(void *ud, TmPeer *peer, TmTrack track, const TmRtpPacket *pkt, const uint8_t *buf,
           size_t len, int64_t now_us)
{
  PeerLink *link = ud;
  TmHearing *h = link->hearing;
  TmParticipant *from = link->owner;
  if (h->listener.media != NULL && from->state == TM_STATE_ADMITTED)
    h->listener.media(h->user_data, from, track, buf, len, now_us);
  /* Video is kept once, for every receiver's retransmissions; only what some receiver gets. */
  TmRtxKept kept = { link->store, 0 };
  for (guint i = 0; i < from->subscribers->len; i++) {
    TmPeer *sub = g_ptr_array_index(from->subscribers, i);
    PeerLink *sl = g_hash_table_lookup(h->links, sub);
    if (sl == NULL || !tm_hearing_allowed(h, from, sl->owner, track))
      continue;
    if (track == TM_TRACK_VIDEO && kept.index == 0 && kept.store != NULL)
      kept.index = tm_rtx_store_put(kept.store, buf, len);
    tm_peer_send_media(sub, track, pkt, buf, len, kept.index != 0 ? &kept : NULL, now_us);
  }
}

static void
link_keyframe_request(void *ud, TmPeer *peer, bool missed, int64_t now_us)
{
  PeerLink *link = ud;
  if (link->feed == NULL || link->feed->publish == NULL)
    return;
  if (missed)
    tm_peer_request_missed_keyframe(link->feed->publish, now_us);
  else
    tm_peer_request_keyframe(link->feed->publish, now_us);
}

static const TmPeerListener peer_listener = {
  link_transmit, link_connected, link_failed, link_media, link_keyframe_request,
};

static TmPeer *
find_subscription(const TmHearing *h, const TmParticipant *p, const TmParticipant *feed)
{
  for (guint i = 0; i < p->subscriptions->len; i++) {
    TmPeer *peer = g_ptr_array_index(p->subscriptions, i);
    PeerLink *link = g_hash_table_lookup(h->links, peer);
    if (link != NULL && link->feed == feed)
      return peer;
  }
  return NULL;
}

TmPeer *
tm_hearing_open_peer(TmHearing *h, TmParticipant *p, TmParticipant *feed, const TmSdp *offer,
                     const TmIceParams *ice, TmSdp *answer, int64_t now_us, TmHearingError *err,
                     TmSdpError *sdp_err)
{
  *sdp_err = TM_SDP_OK;
  if (feed == p) {
    *err = TM_HEARING_ERR_SELF;
    return NULL;
  }
  if (feed == NULL && p->role == TM_ROLE_OBSERVER) {
    *err = TM_HEARING_ERR_FORBIDDEN;
    return NULL;
  }
  if (feed != NULL && feed->publish == NULL) {
    *err = TM_HEARING_ERR_NO_FEED;
    return NULL;
  }
  if ((feed == NULL && p->publish != NULL) ||
      (feed != NULL && find_subscription(h, p, feed) != NULL)) {
    *err = TM_HEARING_ERR_DUPLICATE;
    return NULL;
  }
  g_autofree char *stream_id = g_strdup_printf("%s-%s", h->id, feed != NULL ? feed->id : "x");
  TmSdpAnswerParams params = {
    .ice_ufrag = ice->ufrag,
    .ice_pwd = ice->pwd,
    .fingerprint_alg = "sha-256",
    .fingerprint = tm_dtls_identity_fingerprint(h->identity),
    .fingerprint_len = TM_DTLS_FINGERPRINT_LEN,
    .setup = TM_SETUP_PASSIVE,
    .direction = feed == NULL ? TM_DIR_RECVONLY : TM_DIR_SENDONLY,
    .session_id = ((uint64_t) g_rand_int(h->rand) << 31) ^ g_rand_int(h->rand),
    .candidates = ice->candidates,
    .n_candidates = ice->n_candidates,
    .audio_ssrc = feed != NULL ? (g_rand_int(h->rand) | 1) : 0,
    .video_ssrc = feed != NULL ? (g_rand_int(h->rand) | 2) : 0,
    .cname = "testimony-relay",
    .stream_id = feed != NULL ? stream_id : NULL,
    /* Publishers get the relay's feedback where the configuration says so; receivers send
     * theirs unless they send REMB, their own estimate (docs/poor-networks.md). */
    .transport_cc = feed == NULL ? h->transport_cc : !tm_sdp_offers_remb(offer),
    /* A publisher's send times for the relay's own estimate (REMB), where it offers them. */
    .abs_send_time = feed == NULL,
  };
  /* The receiver's retransmissions come as RTX (RFC 4588) on their own SSRC when it offers rtx. */
  while (feed != NULL &&
         (params.video_rtx_ssrc == 0 || params.video_rtx_ssrc == params.video_ssrc ||
          params.video_rtx_ssrc == params.audio_ssrc))
    params.video_rtx_ssrc = g_rand_int(h->rand);
  *sdp_err = tm_sdp_answer(offer, &params, answer);
  if (*sdp_err != TM_SDP_OK) {
    *err = TM_HEARING_ERR_SDP;
    return NULL;
  }
  PeerLink *link = g_new0(PeerLink, 1);
  link->hearing = h;
  link->owner = p;
  link->feed = feed;
  if (feed == NULL)
    link->store = tm_rtx_store_new();
  TmPeerConfig config = {
    .kind = feed == NULL ? TM_PEER_PUBLISH : TM_PEER_SUBSCRIBE,
    .identity = h->identity,
    .remote_fingerprint = offer->fingerprint,
    .remote_fingerprint_len =
      g_strcmp0(offer->fingerprint_alg, "sha-256") == 0 ? offer->fingerprint_len : 0,
    .answer = answer,
    .wall_offset_us = h->wall_offset_us,
    .cname_hash = g_str_hash(p->id),
    .rand = h->rand,
  };
  link->peer = tm_peer_new(&config, &peer_listener, link, now_us);
  g_hash_table_insert(h->links, link->peer, link);
  if (feed == NULL) {
    p->publish = link->peer;
  } else {
    g_ptr_array_add(p->subscriptions, link->peer);
    g_ptr_array_add(feed->subscribers, link->peer);
    for (int t = 0; t < TM_TRACK_COUNT; t++)
      tm_peer_set_track_enabled(link->peer, t, tm_hearing_allowed(h, feed, p, t));
    if (g_ptr_array_find(p->not_shown, feed, NULL))
      tm_peer_set_video_shown(link->peer, false);
  }
  *err = TM_HEARING_OK;
  return link->peer;
}

bool
tm_hearing_track_info(const TmParticipant *p, TmTrack track, uint8_t *pt, uint32_t *clock)
{
  return p->publish != NULL && tm_peer_track_info(p->publish, track, pt, clock);
}

void
tm_hearing_request_keyframes(TmHearing *h, int64_t now_us)
{
  for (guint i = 0; i < h->participants->len; i++) {
    TmParticipant *p = g_ptr_array_index(h->participants, i);
    if (p->publish != NULL)
      tm_peer_request_keyframe(p->publish, now_us);
  }
}

static void update_downstream_limit(TmHearing *h, TmParticipant *feed, int64_t now_us);

void
tm_hearing_set_shown(TmHearing *h, TmParticipant *p, TmParticipant *feed, bool shown,
                     int64_t now_us)
{
  if (p == feed)
    return;
  if (!shown && !g_ptr_array_find(p->not_shown, feed, NULL))
    g_ptr_array_add(p->not_shown, feed);
  else if (shown)
    g_ptr_array_remove(p->not_shown, feed);
  TmPeer *peer = find_subscription(h, p, feed);
  if (peer == NULL)
    return;
  if (tm_peer_set_video_shown(peer, shown) && feed->publish != NULL)
    tm_peer_request_keyframe(feed->publish, now_us);
  update_downstream_limit(h, feed, now_us);
}

void
tm_hearing_close_subscription(TmHearing *h, TmParticipant *p, TmParticipant *feed)
{
  TmPeer *peer = find_subscription(h, p, feed);
  if (peer != NULL)
    destroy_peer(h, peer);
}

void
tm_hearing_close_publish(TmHearing *h, TmParticipant *p)
{
  if (p->publish == NULL)
    return;
  destroy_peer(h, p->publish);
  for (guint i = 0; i < p->subscribers->len; i++)
    tm_peer_restart_source(g_ptr_array_index(p->subscribers, i));
}

TmParticipant *
tm_hearing_peer_owner(const TmHearing *h, const TmPeer *peer)
{
  PeerLink *link = g_hash_table_lookup(h->links, peer);
  return link != NULL ? link->owner : NULL;
}

TmParticipant *
tm_hearing_peer_feed(const TmHearing *h, const TmPeer *peer)
{
  PeerLink *link = g_hash_table_lookup(h->links, peer);
  return link != NULL ? link->feed : NULL;
}

/* Who may see a screened witness, and whom a screened witness may see (docs/hearings.md). */
#define ROLE_BIT(r) (1u << (r))
static const guint screened_witness_viewers = ROLE_BIT(TM_ROLE_JUDGE) | ROLE_BIT(TM_ROLE_CLERK) |
  ROLE_BIT(TM_ROLE_PROSECUTOR) | ROLE_BIT(TM_ROLE_DEFENCE) | ROLE_BIT(TM_ROLE_INTERPRETER);
static const guint screened_witness_sees = ROLE_BIT(TM_ROLE_JUDGE) | ROLE_BIT(TM_ROLE_INTERPRETER);

bool
tm_hearing_policy_allows(guint measures, TmRole from, TmRole to, TmTrack track)
{
  if ((unsigned) from >= TM_ROLE_COUNT || (unsigned) to >= TM_ROLE_COUNT)
    return false;
  if (from == TM_ROLE_OBSERVER)
    return false; /* observers receive but never publish */
  if (track == TM_TRACK_VIDEO && (measures & TM_MEASURE_SCREEN_WITNESS)) {
    if (from == TM_ROLE_WITNESS && !(screened_witness_viewers & ROLE_BIT(to)))
      return false;
    if (to == TM_ROLE_WITNESS && !(screened_witness_sees & ROLE_BIT(from)))
      return false;
  }
  return true;
}

bool
tm_hearing_allowed(const TmHearing *h, const TmParticipant *from, const TmParticipant *to,
                   TmTrack track)
{
  return from != to && from->state == TM_STATE_ADMITTED && to->state == TM_STATE_ADMITTED &&
    !from->muted[track] && tm_hearing_policy_allows(h->measures, from->role, to->role, track);
}

/* Re-evaluates every subscribe connection after a change of state, mute or measure. */
static void
update_routes(TmHearing *h, int64_t now_us)
{
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, h->links);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    PeerLink *link = value;
    if (link->feed == NULL)
      continue;
    for (int t = 0; t < TM_TRACK_COUNT; t++) {
      bool allowed = tm_hearing_allowed(h, link->feed, link->owner, t);
      if (tm_peer_set_track_enabled(link->peer, t, allowed) && t == TM_TRACK_VIDEO &&
          link->feed->publish != NULL)
        tm_peer_request_keyframe(link->feed->publish, now_us);
    }
  }
}

void
tm_hearing_set_state(TmHearing *h, TmParticipant *p, TmAdmission state, int64_t now_us)
{
  p->state = state;
  update_routes(h, now_us);
}

void
tm_hearing_set_muted(TmHearing *h, TmParticipant *p, TmTrack track, bool muted, int64_t now_us)
{
  p->muted[track] = muted;
  update_routes(h, now_us);
}

void
tm_hearing_set_measure(TmHearing *h, TmMeasure measure, bool on, int64_t now_us)
{
  h->measures = on ? (h->measures | measure) : (h->measures & ~(guint) measure);
  update_routes(h, now_us);
}

guint
tm_hearing_measures(const TmHearing *h)
{
  return h->measures;
}

bool
tm_hearing_waiting_room(const TmHearing *h)
{
  return h->waiting_room;
}

uint64_t
tm_hearing_packets_sent(const TmHearing *h, const TmParticipant *from, const TmParticipant *to,
                        TmTrack track)
{
  TmPeer *peer = find_subscription(h, to, from);
  return peer != NULL ? tm_peer_stats(peer)->rtp_out_track[track] : 0;
}

/* What FEED's sender may be told it can send: the least any receiver now shown its video can
 * take. Receivers not shown it, never heard from, or away (their link is down: they come back
 * or leave) do not count; one whose reports stopped while its link is up does, ever less
 * (tm_peer_receiver_estimate): its feedback does not get through a congested link. */
static void
update_downstream_limit(TmHearing *h, TmParticipant *feed, int64_t now_us)
{
  if (feed->publish == NULL)
    return;
  uint64_t limit = 0;
  for (guint i = 0; i < feed->subscribers->len; i++) {
    TmPeer *sub = g_ptr_array_index(feed->subscribers, i);
    PeerLink *sl = g_hash_table_lookup(h->links, sub);
    if (!tm_peer_is_connected(sub) || !tm_peer_track_enabled(sub, TM_TRACK_VIDEO) || sl == NULL ||
        sl->owner->away_since_us != 0)
      continue;
    uint64_t e = tm_peer_receiver_estimate(sub, now_us);
    if (e > 0 && (limit == 0 || e < limit))
      limit = e;
  }
  tm_peer_set_downstream_limit(feed->publish, limit, now_us);
}

/* A receiver reported on its link from this relay (round trip, loss, REMB): the round-trip time
 * is the participant's, so its publish connection times its NACK retries by it; what it can
 * take bounds what the feed's sender is told. */
static void
receiver_reported(TmHearing *h, PeerLink *link, int64_t now_us)
{
  const TmPeerStats *st = tm_peer_stats(link->peer);
  if (link->owner->publish != NULL && st->rtt_ms > 0)
    tm_peer_set_rtt_hint(link->owner->publish, st->rtt_ms);
  update_downstream_limit(h, link->feed, now_us);
}

void
tm_hearing_handle_datagram(TmHearing *h, TmPeer *peer, const uint8_t *buf, size_t len,
                           int64_t now_us)
{
  PeerLink *link = g_hash_table_lookup(h->links, peer);
  if (link == NULL)
    return;
  tm_peer_handle_datagram(peer, buf, len, now_us);
  /* the peer may be gone: a failure callback can make the shell remove it */
  link = g_hash_table_lookup(h->links, peer);
  if (link == NULL || link->feed == NULL)
    return;
  uint64_t reports = tm_peer_stats(peer)->reports_in;
  if (reports != link->reports_seen) {
    link->reports_seen = reports;
    receiver_reported(h, link, now_us);
  }
}

void
tm_hearing_handle_timeout(TmHearing *h, int64_t now_us)
{
  /* receivers that left, stopped reporting or were disabled no longer limit their feed */
  for (guint i = 0; i < h->participants->len; i++)
    update_downstream_limit(h, g_ptr_array_index(h->participants, i), now_us);
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, h->links);
  while (g_hash_table_iter_next(&it, &key, NULL)) {
    TmPeer *peer = key;
    if (tm_peer_next_deadline(peer) <= now_us)
      tm_peer_handle_timeout(peer, now_us);
  }
}

int64_t
tm_hearing_next_deadline(const TmHearing *h)
{
  int64_t d = INT64_MAX;
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, h->links);
  while (g_hash_table_iter_next(&it, &key, NULL))
    d = MIN(d, tm_peer_next_deadline(key));
  return d;
}

static const char *const hearing_errors[TM_HEARING_ERR_COUNT] = {
  [TM_HEARING_OK] = "no error",
  [TM_HEARING_ERR_FULL] = "the hearing has its maximum number of participants",
  [TM_HEARING_ERR_SELF] = "a participant cannot subscribe to itself",
  [TM_HEARING_ERR_NO_FEED] = "that participant is not publishing",
  [TM_HEARING_ERR_DUPLICATE] = "that connection already exists",
  [TM_HEARING_ERR_SDP] = "the SDP offer cannot be answered",
  [TM_HEARING_ERR_FORBIDDEN] = "observers receive but never publish",
};

const char *
tm_hearing_strerror(TmHearingError err)
{
  return (unsigned) err < TM_HEARING_ERR_COUNT ? hearing_errors[err] : "unknown hearing error";
}

void
tm_hearing_add_counters(const TmHearing *h, TmCounters *c)
{
  tm_counters_add(c, &h->closed);
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, h->links);
  while (g_hash_table_iter_next(&it, &key, NULL))
    tm_counters_add_peer(c, tm_peer_stats(key));
}

void
tm_hearing_add_metrics(const TmHearing *h, TmMetrics *m)
{
  m->hearings++;
  tm_hearing_add_counters(h, &m->counters);
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, h->links);
  while (g_hash_table_iter_next(&it, &key, NULL))
    tm_metrics_add_peer_sample(m, tm_peer_kind(key), tm_peer_stats(key));
  for (guint i = 0; i < h->participants->len; i++) {
    const TmParticipant *p = g_ptr_array_index(h->participants, i);
    TmPresence presence = p->state == TM_STATE_WAITING ? TM_PRESENCE_WAITING
      : p->away_since_us != 0                          ? TM_PRESENCE_AWAY
                                                       : TM_PRESENCE_ADMITTED;
    if (p->role >= 0 && p->role < TM_ROLE_COUNT)
      m->participants[p->role][presence]++;
  }
}
