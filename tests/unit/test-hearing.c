/* test-hearing.c — the hearing's router with real DTLS, SRTP, RTP and RTCP, no network: refusals,
 * the waiting room, the visibility policy, live screening.
 *
 * Participants' browsers are simulated by the harness of tests/sim (sim.h): a DTLS client and an
 * SRTP session each, exchanging datagrams with the relay's peers in memory. Forwarding, NACK,
 * key frames, reports, replays and leaving are tests/sim's, one program per behaviour. */
#include <glib.h>
#include <string.h>

#include "sim.h"

static void
test_fingerprint_mismatch(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmHearingError he;
  TmParticipant *judge = tm_hearing_join(sim->hearing, "Judge", TM_ROLE_JUDGE, sim->now, &he);
  TmSimBrowser *pub = tm_sim_connect(sim, judge, NULL, 111, 96, true);
  g_assert_false(pub->connected);
  g_assert_cmpint(sim->failed, ==, 1);
  g_assert_false(judge->publishing);
  tm_sim_free(sim);
}

static void
test_refusals(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmHearingError he;
  TmSdpError se;
  TmParticipant *a = tm_hearing_join(sim->hearing, "A", TM_ROLE_JUDGE, sim->now, &he);
  TmParticipant *b = tm_hearing_join(sim->hearing, "B", TM_ROLE_CLERK, sim->now, &he);
  g_autofree TmSdp *offer = g_new0(TmSdp, 1);
  g_autofree TmSdp *answer = g_new0(TmSdp, 1);
  g_autofree char *text =
    tm_sim_browser_offer(tm_dtls_identity_fingerprint(sim->relay_identity), "recvonly", 111, 96);
  g_assert_cmpint(tm_sdp_parse(text, strlen(text), offer), ==, TM_SDP_OK);
  TmIceParams ice = { "rlay", "relaypasswordrelaypassword", NULL, 0 };
  g_assert_null(tm_hearing_open_peer(sim->hearing, a, a, offer, &ice, answer, 0, &he, &se));
  g_assert_cmpint(he, ==, TM_HEARING_ERR_SELF);
  g_assert_null(tm_hearing_open_peer(sim->hearing, a, b, offer, &ice, answer, 0, &he, &se));
  g_assert_cmpint(he, ==, TM_HEARING_ERR_NO_FEED);
  for (int i = 2; i < TM_HEARING_MAX_PARTICIPANTS; i++)
    g_assert_nonnull(tm_hearing_join(sim->hearing, "X", TM_ROLE_OBSERVER, sim->now, &he));
  g_assert_null(tm_hearing_join(sim->hearing, "Y", TM_ROLE_OBSERVER, sim->now, &he));
  g_assert_cmpint(he, ==, TM_HEARING_ERR_FULL);
  g_assert_nonnull(tm_hearing_find(sim->hearing, "p2"));
  tm_sim_free(sim);
}

static void
test_waiting_room(void)
{
  TmSim *sim = tm_sim_new(true, 0);
  TmHearingError he;
  TmParticipant *judge = tm_hearing_join(sim->hearing, "Judge", TM_ROLE_JUDGE, sim->now, &he);
  TmParticipant *clerk = tm_hearing_join(sim->hearing, "Clerk", TM_ROLE_CLERK, sim->now, &he);
  g_assert_cmpint(judge->state, ==, TM_STATE_ADMITTED);
  g_assert_cmpint(clerk->state, ==, TM_STATE_WAITING);
  TmSimBrowser *pub = tm_sim_connect(sim, judge, NULL, 111, 96, false);
  TmSimBrowser *sub = tm_sim_connect(sim, clerk, judge, 111, 96, false);
  uint16_t seq = 100;
  uint32_t ts = 0;
  /* Waiting: nothing reaches the clerk. */
  for (int i = 0; i < 3; i++, seq++, ts += 3000)
    tm_sim_send_rtp(pub, 96, seq, ts, 0xB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  tm_sim_send_rtp(pub, 111, 7, 960, 0xA, tm_sim_opus, sizeof tm_sim_opus);
  g_assert_cmpuint(sub->rtp_in->len, ==, 0);
  g_assert_cmpuint(tm_hearing_packets_sent(sim->hearing, judge, clerk, TM_TRACK_VIDEO), ==, 0);
  /* Admitted: a key frame is asked for, and media flows. */
  sim->now += 1000000;
  int plis = tm_sim_browser_count_rtcp(pub, TM_RTCP_KIND_PLI);
  tm_hearing_set_state(sim->hearing, clerk, TM_STATE_ADMITTED, sim->now);
  tm_sim_run(sim);
  g_assert_cmpint(tm_sim_browser_count_rtcp(pub, TM_RTCP_KIND_PLI), ==, plis + 1);
  for (int i = 0; i < 2; i++, seq++, ts += 3000)
    tm_sim_send_rtp(pub, 96, seq, ts, 0xB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  g_assert_cmpuint(sub->rtp_in->len, ==, 2);
  TmRtpPacket last = tm_sim_browser_nth_rtp(sub, 1);
  /* Back to the waiting room: it stops; the publisher's sequence runs on meanwhile. */
  tm_hearing_set_state(sim->hearing, clerk, TM_STATE_WAITING, sim->now);
  for (int i = 0; i < 50; i++, seq++, ts += 3000)
    tm_sim_send_rtp(pub, 96, seq, ts, 0xB, tm_sim_vp8_delta, sizeof tm_sim_vp8_delta);
  g_assert_cmpuint(sub->rtp_in->len, ==, 2);
  /* Admitted again: the receiver's stream resumes with the next sequence number, after a key
   * frame, and its timestamp has advanced with the time that passed. */
  sim->now += 2000000;
  tm_hearing_set_state(sim->hearing, clerk, TM_STATE_ADMITTED, sim->now);
  tm_sim_send_rtp(pub, 96, seq++, ts, 0xB, tm_sim_vp8_delta, sizeof tm_sim_vp8_delta);
  ts += 3000;
  g_assert_cmpuint(sub->rtp_in->len, ==, 2);
  tm_sim_send_rtp(pub, 96, seq++, ts, 0xB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  g_assert_cmpuint(sub->rtp_in->len, ==, 3);
  TmRtpPacket next = tm_sim_browser_nth_rtp(sub, 2);
  g_assert_cmpint(next.seq, ==, (uint16_t) (last.seq + 1));
  g_assert_cmpuint(next.ts - last.ts, >=, 2 * 90000 - 1);
  g_assert_cmpuint(next.ts - last.ts, <=, 2 * 90000 + 1);
  /* Muted at the relay: the judge's audio stops for everyone. */
  guint n = sub->rtp_in->len;
  tm_hearing_set_muted(sim->hearing, judge, TM_TRACK_AUDIO, true, sim->now);
  tm_sim_send_rtp(pub, 111, 8, 1920, 0xA, tm_sim_opus, sizeof tm_sim_opus);
  g_assert_cmpuint(sub->rtp_in->len, ==, n);
  tm_hearing_set_muted(sim->hearing, judge, TM_TRACK_AUDIO, false, sim->now);
  tm_sim_send_rtp(pub, 111, 9, 2880, 0xA, tm_sim_opus, sizeof tm_sim_opus);
  g_assert_cmpuint(sub->rtp_in->len, ==, n + 1);
  tm_sim_free(sim);
}

/* A receiver sent to the waiting room cannot have video resent by asking for it: the relay sends
 * nothing of a track it has disabled, retransmissions included. Found by fuzz-peer. */
static void
test_no_resend_while_waiting(void)
{
  TmSim *sim = tm_sim_new(false, 0);
  TmHearingError he;
  TmParticipant *judge = tm_hearing_join(sim->hearing, "Judge", TM_ROLE_JUDGE, sim->now, &he);
  TmParticipant *clerk = tm_hearing_join(sim->hearing, "Clerk", TM_ROLE_CLERK, sim->now, &he);
  TmSimBrowser *pub = tm_sim_connect(sim, judge, NULL, 111, 96, false);
  TmSimBrowser *sub = tm_sim_connect(sim, clerk, judge, 111, 96, false);
  tm_sim_send_rtp(pub, 96, 100, 3000, 0xB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  sub->drop_rtp = 1;
  tm_sim_send_rtp(pub, 96, 101, 6000, 0xB, tm_sim_vp8_delta, sizeof tm_sim_vp8_delta);
  tm_sim_send_rtp(pub, 96, 102, 9000, 0xB, tm_sim_vp8_delta, sizeof tm_sim_vp8_delta);
  g_assert_cmpuint(sub->rtp_in->len, ==, 2);
  uint16_t lost = (uint16_t) (tm_sim_browser_nth_rtp(sub, 0).seq + 1);
  TmRtcpPacket nack = { .kind = TM_RTCP_KIND_NACK,
                        .sender_ssrc = 1,
                        .media_ssrc = sub->answer->media[1].ssrcs[0],
                        .n_nacks = 1 };
  nack.nacks[0].pid = lost;

  tm_hearing_set_state(sim->hearing, clerk, TM_STATE_WAITING, sim->now);
  tm_sim_send_rtcp(sub, &nack);
  g_assert_cmpuint(sub->rtp_in->len, ==, 2);
  /* Admitted again, what was sent before may be resent. */
  tm_hearing_set_state(sim->hearing, clerk, TM_STATE_ADMITTED, sim->now);
  tm_sim_run(sim);
  tm_sim_send_rtcp(sub, &nack);
  g_assert_cmpuint(sub->rtp_in->len, ==, 3);
  g_assert_cmpint(tm_sim_browser_nth_rtp(sub, 2).seq, ==, lost);
  tm_sim_free(sim);
}

static void
test_policy(void)
{
  const guint s = TM_MEASURE_SCREEN_WITNESS;
  /* Without measures everyone receives everyone (observers never publish). */
  for (int from = 0; from < TM_ROLE_COUNT; from++)
    for (int to = 0; to < TM_ROLE_COUNT; to++)
      for (int t = 0; t < TM_TRACK_COUNT; t++)
        g_assert_true(tm_hearing_policy_allows(0, from, to, t) == (from != TM_ROLE_OBSERVER));
  /* Screening the witness: its video only to judge, clerk, counsel and interpreter. */
  const TmRole viewers[] = { TM_ROLE_JUDGE, TM_ROLE_CLERK, TM_ROLE_PROSECUTOR, TM_ROLE_DEFENCE,
                             TM_ROLE_INTERPRETER };
  for (int to = 0; to < TM_ROLE_COUNT; to++) {
    bool viewer = false;
    for (gsize i = 0; i < G_N_ELEMENTS(viewers); i++)
      viewer |= viewers[i] == (TmRole) to;
    g_assert_true(tm_hearing_policy_allows(s, TM_ROLE_WITNESS, to, TM_TRACK_VIDEO) == viewer);
    g_assert_true(tm_hearing_policy_allows(s, TM_ROLE_WITNESS, to, TM_TRACK_AUDIO));
  }
  g_assert_false(tm_hearing_policy_allows(s, TM_ROLE_WITNESS, TM_ROLE_DEFENDANT, TM_TRACK_VIDEO));
  g_assert_false(tm_hearing_policy_allows(s, TM_ROLE_WITNESS, TM_ROLE_OBSERVER, TM_TRACK_VIDEO));
  /* ... and the witness sees only judges and the interpreter. */
  for (int from = 0; from < TM_ROLE_COUNT; from++) {
    bool seen = from == TM_ROLE_JUDGE || from == TM_ROLE_INTERPRETER;
    g_assert_true(tm_hearing_policy_allows(s, from, TM_ROLE_WITNESS, TM_TRACK_VIDEO) == seen);
    g_assert_true(tm_hearing_policy_allows(s, from, TM_ROLE_WITNESS, TM_TRACK_AUDIO) ==
                  (from != TM_ROLE_OBSERVER));
  }
  /* Out-of-range roles are refused. */
  g_assert_false(tm_hearing_policy_allows(0, TM_ROLE_COUNT, TM_ROLE_JUDGE, TM_TRACK_AUDIO));
}

static void
test_screening_live(void)
{
  TmSim *sim = tm_sim_new(false, TM_MEASURE_SCREEN_WITNESS);
  TmHearingError he;
  TmParticipant *witness = tm_hearing_join(sim->hearing, "W", TM_ROLE_WITNESS, sim->now, &he);
  TmParticipant *defendant = tm_hearing_join(sim->hearing, "D", TM_ROLE_DEFENDANT, sim->now, &he);
  g_autofree TmSdp *answer = g_new0(TmSdp, 1);
  TmSimBrowser *pub = tm_sim_connect(sim, witness, NULL, 111, 96, false);
  TmSimBrowser *sub = tm_sim_connect(sim, defendant, witness, 111, 96, false);
  tm_sim_send_rtp(pub, 96, 1, 0, 0xB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  tm_sim_send_rtp(pub, 111, 1, 0, 0xA, tm_sim_opus, sizeof tm_sim_opus);
  g_assert_cmpuint(tm_hearing_packets_sent(sim->hearing, witness, defendant, TM_TRACK_VIDEO), ==,
                   0);
  g_assert_cmpuint(tm_hearing_packets_sent(sim->hearing, witness, defendant, TM_TRACK_AUDIO), ==,
                   1);
  tm_hearing_set_measure(sim->hearing, TM_MEASURE_SCREEN_WITNESS, false, sim->now);
  tm_sim_send_rtp(pub, 96, 2, 3000, 0xB, tm_sim_vp8_key, sizeof tm_sim_vp8_key);
  g_assert_cmpuint(tm_hearing_packets_sent(sim->hearing, witness, defendant, TM_TRACK_VIDEO), ==,
                   1);
  g_assert_cmpuint(sub->rtp_in->len, ==, 2);
  /* Observers may not publish at all. */
  TmParticipant *obs = tm_hearing_join(sim->hearing, "O", TM_ROLE_OBSERVER, sim->now, &he);
  g_autofree TmSdp *offer = g_new0(TmSdp, 1);
  g_autofree char *text =
    tm_sim_browser_offer(tm_dtls_identity_fingerprint(sim->relay_identity), "sendonly", 111, 96);
  g_assert_cmpint(tm_sdp_parse(text, strlen(text), offer), ==, TM_SDP_OK);
  TmIceParams ice = { "rlay", "relaypasswordrelaypassword", NULL, 0 };
  TmSdpError se;
  g_assert_null(tm_hearing_open_peer(sim->hearing, obs, NULL, offer, &ice, answer, 0, &he, &se));
  g_assert_cmpint(he, ==, TM_HEARING_ERR_FORBIDDEN);
  tm_sim_free(sim);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/hearing/fingerprint-mismatch", test_fingerprint_mismatch);
  g_test_add_func("/hearing/refusals", test_refusals);
  g_test_add_func("/hearing/waiting-room", test_waiting_room);
  g_test_add_func("/hearing/no-resend-while-waiting", test_no_resend_while_waiting);
  g_test_add_func("/hearing/policy", test_policy);
  g_test_add_func("/hearing/screening-live", test_screening_live);
  return g_test_run();
}
