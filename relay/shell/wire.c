/* wire.c — building the relay's signalling messages. */
#include "wire.h"

#include "peer.h"
#include "role.h"
#include "srtp.h"

JsonBuilder *
tm_wire_begin(const char *type)
{
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "type");
  json_builder_add_string_value(b, type);
  return b;
}

void
tm_wire_string(JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name(b, name);
  json_builder_add_string_value(b, value);
}

void
tm_wire_int(JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name(b, name);
  json_builder_add_int_value(b, value);
}

void
tm_wire_bool(JsonBuilder *b, const char *name, gboolean value)
{
  json_builder_set_member_name(b, name);
  json_builder_add_boolean_value(b, value);
}

JsonBuilder *
tm_wire_error(TmWireError err, const char *message, const char *ref)
{
  JsonBuilder *b = tm_wire_begin("error");
  tm_wire_string(b, "code", tm_wire_error_code(err));
  tm_wire_string(b, "message", message != NULL ? message : tm_wire_error_strerror(err));
  if (ref != NULL)
    tm_wire_string(b, "ref", ref);
  json_builder_end_object(b);
  return b;
}

JsonBuilder *
tm_wire_done(const char *action, const char *path)
{
  JsonBuilder *b = tm_wire_begin("done");
  tm_wire_string(b, "action", action);
  if (path != NULL)
    tm_wire_string(b, "path", path);
  json_builder_end_object(b);
  return b;
}

static const char *
track_state(const TmParticipant *p, TmTrack t)
{
  if (!p->muted[t])
    return "on";
  return t == TM_TRACK_AUDIO ? "muted" : "off";
}

/* What each receiver got from each sender, per track: the relay's own counters. */
static void
add_received(JsonBuilder *b, TmHearing *h, const TmParticipant *to)
{
  json_builder_set_member_name(b, "received");
  json_builder_begin_object(b);
  for (guint i = 0; i < tm_hearing_n_participants(h); i++) {
    TmParticipant *from = tm_hearing_participant(h, i);
    if (from == to)
      continue;
    json_builder_set_member_name(b, from->id);
    json_builder_begin_object(b);
    tm_wire_int(b, "audio", (gint64) tm_hearing_packets_sent(h, from, to, TM_TRACK_AUDIO));
    tm_wire_int(b, "video", (gint64) tm_hearing_packets_sent(h, from, to, TM_TRACK_VIDEO));
    json_builder_set_member_name(b, "shown");
    json_builder_add_boolean_value(b, !g_ptr_array_find(to->not_shown, from, NULL));
    json_builder_end_object(b);
  }
  json_builder_end_object(b);
}

/* What P sent (its publish connection) and was sent (all its subscriptions) over the last
 * second: the status and link-quality give both. */
static void
add_bitrates(JsonBuilder *b, const TmParticipant *p)
{
  uint64_t down = 0;
  for (guint i = 0; i < p->subscriptions->len; i++)
    down += tm_peer_stats(g_ptr_array_index(p->subscriptions, i))->bitrate_bps;
  tm_wire_int(b, "bitrate_kbps",
              p->publish != NULL ? (gint64) (tm_peer_stats(p->publish)->bitrate_bps / 1000) : 0);
  tm_wire_int(b, "down_kbps", (gint64) (down / 1000));
}

/* Loss recovery and congestion feedback on the participant's links (docs/poor-networks.md). */
static void
add_recovery_counters(JsonBuilder *b, const TmParticipant *p)
{
  static const TmPeerStats none;
  const TmPeerStats *up = p->publish != NULL ? tm_peer_stats(p->publish) : &none;
  uint64_t retransmits = 0, rtx_out = 0, rtx_copies = 0, rtx_reported = 0, rtx_arrived = 0,
           rtx_repeats = 0, rtx_over_budget = 0, nacks_in = 0, reports_in = 0, downlink = 0,
           twcc_feedback_in = 0, overuse = 0, congestion_holds = 0, red_out = 0;
  for (guint i = 0; i < p->subscriptions->len; i++) {
    const TmPeerStats *st = tm_peer_stats(g_ptr_array_index(p->subscriptions, i));
    retransmits += st->retransmits;
    rtx_out += st->rtx_out;
    rtx_copies += st->rtx_echoes;
    rtx_reported += st->rtx_reported;
    rtx_arrived += st->rtx_arrived;
    rtx_repeats += st->rtx_repeats;
    rtx_over_budget += st->drop_rate_limited;
    nacks_in += st->nacks_in;
    reports_in += st->reports_in;
    twcc_feedback_in += st->twcc_feedback_in;
    overuse += st->overuse_events;
    congestion_holds += st->congestion_holds;
    red_out += st->red_out;
    if (st->estimate_bps > 0 && (downlink == 0 || st->estimate_bps < downlink))
      downlink = st->estimate_bps;
  }
  tm_wire_int(b, "nack_retry_ms",
              p->publish != NULL ? tm_peer_nack_retry_us(p->publish) / 1000 : 0);
  tm_wire_int(b, "nacks_out", (gint64) up->nacks_out);
  tm_wire_int(b, "nack_recovered", (gint64) up->nack_recovered);
  tm_wire_int(b, "nack_given_up", (gint64) up->nack_given_up);
  json_builder_set_member_name(b, "repaired_within");
  json_builder_begin_array(b);
  for (guint i = 0; i < TM_PEER_REPAIR_BUCKETS; i++)
    json_builder_add_int_value(b, (gint64) up->repaired_within[i]);
  json_builder_end_array(b);
  tm_wire_int(b, "rtx_in", (gint64) up->rtx_in);
  tm_wire_int(b, "rtx_discarded", (gint64) up->rtx_discarded);
  tm_wire_int(b, "red_in", (gint64) up->red_in);
  tm_wire_int(b, "red_recovered", (gint64) up->red_recovered);
  tm_wire_int(b, "red_discarded", (gint64) up->red_discarded);
  tm_wire_int(b, "keyframe_requests", (gint64) up->keyframe_requests_out);
  tm_wire_int(b, "keyframe_requests_held", (gint64) up->keyframe_requests_held);
  tm_wire_int(b, "remb_out", (gint64) up->remb_out);
  tm_wire_int(b, "twcc_in", (gint64) up->twcc_in);
  tm_wire_int(b, "twcc_out", (gint64) up->twcc_out);
  tm_wire_int(b, "estimate_kbps", (gint64) (up->estimate_bps / 1000));
  tm_wire_int(b, "queue_ms", p->publish != NULL ? (gint64) up->queue_ms : -1);
  tm_wire_int(b, "first_lost_pct", (gint64) (up->first_lost * 100));
  tm_wire_int(b, "nacks_in", (gint64) nacks_in);
  tm_wire_int(b, "retransmits", (gint64) retransmits);
  tm_wire_int(b, "rtx_out", (gint64) rtx_out);
  tm_wire_int(b, "rtx_copies", (gint64) rtx_copies);
  tm_wire_int(b, "rtx_reported", (gint64) rtx_reported);
  tm_wire_int(b, "rtx_arrived", (gint64) rtx_arrived);
  tm_wire_int(b, "rtx_repeats", (gint64) rtx_repeats);
  tm_wire_int(b, "rtx_over_budget", (gint64) rtx_over_budget);
  tm_wire_int(b, "red_out", (gint64) red_out);
  tm_wire_int(b, "reports_in", (gint64) reports_in);
  tm_wire_int(b, "downlink_kbps", (gint64) (downlink / 1000));
  tm_wire_int(b, "twcc_feedback_in", (gint64) twcc_feedback_in);
  tm_wire_int(b, "downlink_overuse", (gint64) overuse);
  tm_wire_int(b, "congestion_holds", (gint64) congestion_holds);
}

static void
add_counters(JsonBuilder *b, TmHearing *h, const TmParticipant *p)
{
  uint64_t rx = 0, tx = 0;
  const char *profile = "none";
  if (p->publish != NULL) {
    rx = tm_peer_stats(p->publish)->rtp_in;
    profile = tm_srtp_profile_name(tm_peer_srtp_profile(p->publish));
  }
  for (guint i = 0; i < p->subscriptions->len; i++)
    tx += tm_peer_stats(g_ptr_array_index(p->subscriptions, i))->rtp_out;
  tm_wire_int(b, "rx_packets", (gint64) rx);
  tm_wire_int(b, "tx_packets", (gint64) tx);
  add_bitrates(b, p);
  add_recovery_counters(b, p);
  tm_wire_int(b, "ice_restarts", p->ice_restarts);
  tm_wire_int(b, "subscriptions", p->subscriptions->len);
  tm_wire_string(b, "srtp_profile", profile);
  add_received(b, h, p);
}

void
tm_wire_participant(JsonBuilder *b, TmHearing *h, const TmParticipant *p, gboolean with_counters)
{
  json_builder_begin_object(b);
  tm_wire_string(b, "id", p->id);
  tm_wire_string(b, "name", p->name);
  tm_wire_string(b, "role", tm_role_to_string(p->role));
  tm_wire_bool(b, "publishing", p->publishing);
  tm_wire_string(b, "state", p->state == TM_STATE_ADMITTED ? "admitted" : "waiting");
  tm_wire_string(b, "audio", track_state(p, TM_TRACK_AUDIO));
  tm_wire_string(b, "video", track_state(p, TM_TRACK_VIDEO));
  tm_wire_int(b, "since", (g_get_real_time() - g_get_monotonic_time() + p->joined_us) / 1000000);
  tm_wire_string(b, "connection", p->away_since_us != 0 ? "reconnecting" : "connected");
  if (p->away_since_us != 0)
    tm_wire_int(b, "away_since",
                (g_get_real_time() - g_get_monotonic_time() + p->away_since_us) / 1000000);
  if (with_counters)
    add_counters(b, h, p);
  json_builder_end_object(b);
}

JsonBuilder *
tm_wire_participant_event(const char *type, TmHearing *h, const TmParticipant *p)
{
  JsonBuilder *b = tm_wire_begin(type);
  json_builder_set_member_name(b, "participant");
  tm_wire_participant(b, h, p, FALSE);
  json_builder_end_object(b);
  return b;
}

void
tm_wire_protection(JsonBuilder *b, TmHearing *h)
{
  json_builder_set_member_name(b, "protection");
  json_builder_begin_object(b);
  tm_wire_bool(b, "screen-witness", (tm_hearing_measures(h) & TM_MEASURE_SCREEN_WITNESS) != 0);
  json_builder_end_object(b);
}

void
tm_wire_recording(JsonBuilder *b, const char *state, gint64 since)
{
  tm_wire_string(b, "recording", state);
  tm_wire_int(b, "recording_since", since);
}

/* The mean round trip P's receivers' reports give (0: none yet). */
static double
subscriptions_rtt_ms(const TmParticipant *p)
{
  double sum = 0;
  int n = 0;
  for (guint i = 0; i < p->subscriptions->len; i++) {
    const TmPeerStats *st = tm_peer_stats(g_ptr_array_index(p->subscriptions, i));
    if (st->rtt_ms > 0) {
      sum += st->rtt_ms;
      n++;
    }
  }
  return n > 0 ? sum / n : 0;
}

void
tm_wire_link(JsonBuilder *b, const TmParticipant *p)
{
  const TmPeerStats *up = p->publish != NULL ? tm_peer_stats(p->publish) : NULL;
  json_builder_set_member_name(b, "rtt_ms");
  json_builder_add_double_value(b, subscriptions_rtt_ms(p));
  json_builder_set_member_name(b, "loss");
  json_builder_add_double_value(b, up != NULL ? up->fraction_lost : 0);
  add_bitrates(b, p);
  tm_wire_int(b, "estimate_kbps", up != NULL ? (gint64) (up->estimate_bps / 1000) : 0);
}

static void
add_sees(JsonBuilder *b, TmHearing *h, const TmParticipant *viewer)
{
  json_builder_set_member_name(b, viewer->id);
  json_builder_begin_array(b);
  for (guint i = 0; i < tm_hearing_n_participants(h); i++) {
    TmParticipant *source = tm_hearing_participant(h, i);
    if (source->publishing && tm_hearing_allowed(h, source, viewer, TM_TRACK_VIDEO))
      json_builder_add_string_value(b, source->id);
  }
  json_builder_end_array(b);
}

JsonBuilder *
tm_wire_visibility(TmHearing *h, const TmParticipant *only)
{
  JsonBuilder *b = tm_wire_begin("visibility");
  json_builder_set_member_name(b, "sees");
  json_builder_begin_object(b);
  for (guint i = 0; i < tm_hearing_n_participants(h); i++) {
    TmParticipant *viewer = tm_hearing_participant(h, i);
    if ((only == NULL || viewer == only) && viewer->state == TM_STATE_ADMITTED)
      add_sees(b, h, viewer);
  }
  json_builder_end_object(b);
  json_builder_end_object(b);
  return b;
}

/* P's own round trip to the relay: its publish connection's (from retransmissions and its
 * subscriptions' reports), else the mean of its subscriptions' reports; 0 while not known. */
static double
own_rtt_ms(const TmParticipant *p)
{
  if (p->publish != NULL && tm_peer_stats(p->publish)->rtt_ms > 0)
    return tm_peer_stats(p->publish)->rtt_ms;
  return subscriptions_rtt_ms(p);
}

JsonBuilder *
tm_wire_repair(TmHearing *h, const TmParticipant *p)
{
  double own = own_rtt_ms(p);
  guint n = 0;
  JsonBuilder *b = tm_wire_begin("repair");
  tm_wire_int(b, "rtt_ms", (gint64) (own + 0.5));
  json_builder_set_member_name(b, "feeds");
  json_builder_begin_array(b);
  for (guint i = 0; i < p->subscriptions->len; i++) {
    const TmParticipant *feed = tm_hearing_peer_feed(h, g_ptr_array_index(p->subscriptions, i));
    if (feed == NULL || feed->publish == NULL || !feed->publishing)
      continue;
    const TmPeerStats *up = tm_peer_stats(feed->publish);
    if (up->rtt_ms <= 0)
      continue;
    json_builder_begin_object(b);
    tm_wire_string(b, "id", feed->id);
    tm_wire_int(b, "rtt_ms", (gint64) (up->rtt_ms + 0.5));
    tm_wire_int(b, "retry_ms", tm_peer_nack_retry_us(feed->publish) / 1000);
    tm_wire_int(b, "repair_ms",
                tm_peer_recent_repair_us(feed->publish, g_get_monotonic_time()) / 1000);
    json_builder_end_object(b);
    n++;
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  if (n == 0 && !(own > 0)) {
    g_object_unref(b);
    return NULL;
  }
  return b;
}

char *
tm_wire_text(JsonBuilder *b)
{
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  return json_to_string(root, FALSE);
}
