/* test-sim-seeded.c — a simulation replays exactly: the relay's random choices come from its
 * caller (the same seed gives the same answers), and the fake link's from its own seed (the same
 * seed loses the same packets). */
#include <glib.h>

#include "sim.h"

/* The answers to a witness who publishes and a judge who receives the witness. */
static void
answers_for_seed(guint32 relay_seed, TmSdp *pub, TmSdp *sub)
{
  TmSim *sim = tm_sim_new_seeded(false, 0, TM_SIM_LINK_SEED, relay_seed);
  TmParticipant *judge = tm_sim_join(sim, "Judge", TM_ROLE_JUDGE);
  TmParticipant *witness = tm_sim_join(sim, "Witness", TM_ROLE_WITNESS);
  *pub = *tm_sim_connect(sim, witness, NULL, 111, 96, false)->answer;
  *sub = *tm_sim_connect(sim, judge, witness, 111, 96, false)->answer;
  tm_sim_free(sim);
}

static void
test_answers(void)
{
  g_autofree TmSdp *pub1 = g_new0(TmSdp, 1), *sub1 = g_new0(TmSdp, 1);
  g_autofree TmSdp *pub2 = g_new0(TmSdp, 1), *sub2 = g_new0(TmSdp, 1);
  g_autofree TmSdp *pub3 = g_new0(TmSdp, 1), *sub3 = g_new0(TmSdp, 1);
  answers_for_seed(TM_SIM_RELAY_SEED, pub1, sub1);
  answers_for_seed(TM_SIM_RELAY_SEED, pub2, sub2);
  g_assert_cmpuint(sub1->session_id, ==, sub2->session_id);
  g_assert_cmpuint(pub1->session_id, ==, pub2->session_id);
  g_assert_cmpuint(sub1->session_id, !=, pub1->session_id);
  for (guint i = 0; i < 2; i++) {
    g_assert_cmpuint(sub1->media[i].n_ssrcs, >, 0);
    g_assert_cmpuint(sub1->media[i].ssrcs[0], ==, sub2->media[i].ssrcs[0]);
  }
  /* Another seed, other choices. */
  answers_for_seed(TM_SIM_RELAY_SEED + 1, pub3, sub3);
  g_assert_cmpuint(sub3->session_id, !=, sub1->session_id);
  g_assert_cmpuint(sub3->media[1].ssrcs[0], !=, sub1->media[1].ssrcs[0]);
}

/* 200 video packets over a lossy, jittery link with LINK_SEED: the sequence numbers the
 * receiver got, in order of arrival, as text. */
static char *
arrivals_for_seed(guint32 link_seed, uint64_t *lost)
{
  TmSim *sim = tm_sim_new_seeded(false, 0, link_seed, TM_SIM_RELAY_SEED);
  TmSimScene s;
  tm_sim_scene(sim, &s);
  sim->up.loss = sim->down.loss = 0.1;
  sim->down.delay_us = 20000;
  sim->down.jitter_us = 40000;
  tm_sim_send_video(sim, s.pub, 100, 200, true);
  tm_sim_advance(sim, 1000000);
  GString *out = g_string_new(NULL);
  for (guint i = 0; i < s.sub->rtp_in->len; i++)
    g_string_append_printf(out, "%u ", tm_sim_browser_nth_rtp(s.sub, i).seq);
  *lost = tm_sim_lost(sim);
  tm_sim_free(sim);
  return g_string_free(out, FALSE);
}

static void
test_link(void)
{
  uint64_t lost1, lost2, lost3;
  g_autofree char *a1 = arrivals_for_seed(7, &lost1);
  g_autofree char *a2 = arrivals_for_seed(7, &lost2);
  g_autofree char *a3 = arrivals_for_seed(8, &lost3);
  g_assert_cmpuint(lost1, >, 0);
  g_assert_cmpuint(lost1, ==, lost2);
  g_assert_cmpstr(a1, ==, a2);
  g_assert_cmpstr(a1, !=, a3);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sim/seeded/answers", test_answers);
  g_test_add_func("/sim/seeded/link", test_link);
  return g_test_run();
}
