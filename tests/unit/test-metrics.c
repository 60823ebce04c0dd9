/* test-metrics.c — the relay's monitoring totals: connections' counters add up, quantiles, and
 * the Prometheus text names every family once, with a HELP and a TYPE, and nothing else. */
#include <glib.h>
#include <string.h>

#include "metrics.h"

static void
test_counters(void)
{
  TmPeerStats a = { .rtp_out = 10,
                    .bytes_out = 1000,
                    .drop_policy = 3,
                    .nacks_in = 2,
                    .retransmits = 2,
                    .drop_srtp = 1 };
  TmPeerStats b = { .rtp_in = 7,
                    .bytes_in = 700,
                    .nacks_out = 4,
                    .packets_lost = 5,
                    .red_recovered = 3,
                    .drop_srtp = 2 };
  TmCounters c = { 0 }, total = { 0 };
  tm_counters_add_peer(&c, &a);
  tm_counters_add_peer(&c, &b);
  c.join_failures[TM_WIRE_ERR_BAD_TOKEN] = 1;
  g_assert_cmpuint(c.packets_forwarded, ==, 10);
  g_assert_cmpuint(c.bytes_forwarded, ==, 1000);
  g_assert_cmpuint(c.packets_received, ==, 7);
  g_assert_cmpuint(c.dropped[TM_DROP_SRTP], ==, 3);
  g_assert_cmpuint(c.dropped[TM_DROP_POLICY], ==, 3);
  g_assert_cmpuint(c.nacks_received, ==, 2);
  g_assert_cmpuint(c.nacks_sent, ==, 4);
  g_assert_cmpuint(c.sound_restored, ==, 3);
  tm_counters_add(&total, &c);
  tm_counters_add(&total, &c);
  g_assert_cmpuint(total.packets_forwarded, ==, 20);
  g_assert_cmpuint(total.join_failures[TM_WIRE_ERR_BAD_TOKEN], ==, 2);
  g_assert_cmpuint(total.packets_lost, ==, 10);
}

static void
test_quantile(void)
{
  double v[] = { 5, 1, 4, 2, 3 };
  g_assert_cmpfloat(tm_metrics_quantile(v, 5, 0.5), ==, 3);
  g_assert_cmpfloat(tm_metrics_quantile(v, 5, 1.0), ==, 5);
  g_assert_cmpfloat(tm_metrics_quantile(v, 5, 0.0), ==, 1);
  g_assert_cmpfloat_with_epsilon(tm_metrics_quantile(v, 5, 0.9), 4.6, 1e-9);
  g_assert_cmpfloat(tm_metrics_quantile(v, 0, 0.5), ==, 0);
  double one[] = { 7 };
  g_assert_cmpfloat(tm_metrics_quantile(one, 1, 0.99), ==, 7);
}

static void
test_samples_capped(void)
{
  g_autofree TmMetrics *m = g_new0(TmMetrics, 1);
  TmPeerStats s = { .rtt_ms = 40, .fraction_lost = 0.01, .reports_in = 1 };
  for (int i = 0; i < TM_METRICS_SAMPLES_MAX + 10; i++)
    tm_metrics_add_peer_sample(m, i % 2 ? TM_PEER_PUBLISH : TM_PEER_SUBSCRIBE, &s);
  g_assert_cmpuint(m->connections, ==, TM_METRICS_SAMPLES_MAX + 10);
  g_assert_cmpuint(m->n_rtt, ==, TM_METRICS_SAMPLES_MAX);
  TmPeerStats unmeasured = { 0 };
  tm_metrics_add_peer_sample(m, TM_PEER_SUBSCRIBE, &unmeasured);
  g_assert_cmpuint(m->n_rtt, ==, TM_METRICS_SAMPLES_MAX);
}

static void
test_render(void)
{
  g_autofree TmMetrics *m = g_new0(TmMetrics, 1);
  m->hearings = 1;
  m->participants[TM_ROLE_WITNESS][TM_PRESENCE_ADMITTED] = 1;
  m->participants[TM_ROLE_JUDGE][TM_PRESENCE_AWAY] = 2;
  m->counters.packets_forwarded = 1234;
  m->counters.join_failures[TM_WIRE_ERR_RATE_LIMITED] = 9;
  m->https[TM_HTTPS_ACCEPTED] = 12;
  m->https[TM_HTTPS_HANDSHAKE_STALLED] = 3;
  TmPeerStats s = { .rtt_ms = 250, .fraction_lost = 0.5 };
  tm_metrics_add_peer_sample(m, TM_PEER_PUBLISH, &s);
  g_autofree char *text = tm_metrics_render(m);
  g_assert_nonnull(strstr(text, "\ntestimony_packets_forwarded_total 1234\n"));
  g_assert_nonnull(strstr(text, "testimony_participants{role=\"witness\",state=\"admitted\"} 1\n"));
  g_assert_nonnull(strstr(text, "testimony_participants{role=\"judge\",state=\"away\"} 2\n"));
  g_assert_nonnull(strstr(text, "testimony_join_failures_total{code=\"rate-limited\"} 9\n"));
  g_assert_nonnull(strstr(text, "testimony_https_connections_total{outcome=\"accepted\"} 12\n"));
  g_assert_nonnull(
    strstr(text, "testimony_https_connections_total{outcome=\"handshake-stalled\"} 3\n"));
  g_assert_nonnull(
    strstr(text, "testimony_https_connections_total{outcome=\"hello-timeout\"} 0\n"));
  g_assert_null(strstr(text, "code=\"bad-token\""));
  g_assert_nonnull(strstr(text, "testimony_rtt_seconds{quantile=\"0.5\"} 0.25\n"));
  g_assert_nonnull(strstr(text, "testimony_rtt_seconds_count 1\n"));
  g_assert_nonnull(strstr(text, "testimony_loss_ratio{path=\"up\",quantile=\"1\"} 0.5\n"));
  g_assert_nonnull(strstr(text, "testimony_loss_ratio_count{path=\"down\"} 0\n"));
  g_assert_nonnull(strstr(text, "testimony_packets_dropped_total{reason=\"policy\"} 0\n"));
  /* Every sample line belongs to a family declared once with HELP and TYPE before it. */
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  g_autoptr(GHashTable) typed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (char **l = lines; *l != NULL; l++) {
    if (**l == '\0')
      continue;
    if (g_str_has_prefix(*l, "# TYPE ")) {
      g_auto(GStrv) f = g_strsplit(*l, " ", 4);
      g_assert_false(g_hash_table_contains(typed, f[2]));
      g_hash_table_add(typed, g_strdup(f[2]));
      g_assert_true(g_str_has_prefix(l[-1], "# HELP "));
      continue;
    }
    if (g_str_has_prefix(*l, "# HELP "))
      continue;
    g_autofree char *name = g_strndup(*l, strcspn(*l, "{ "));
    gboolean known = g_hash_table_contains(typed, name);
    for (const char *suffix = "_sum"; !known && suffix != NULL;
         suffix = strcmp(suffix, "_sum") == 0 ? "_count" : NULL) {
      if (g_str_has_suffix(name, suffix)) {
        g_autofree char *base = g_strndup(name, strlen(name) - strlen(suffix));
        known = g_hash_table_contains(typed, base);
      }
    }
    g_assert_true(known);
    g_assert_true(g_str_has_prefix(*l, "testimony_"));
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/metrics/counters", test_counters);
  g_test_add_func("/metrics/quantile", test_quantile);
  g_test_add_func("/metrics/samples-capped", test_samples_capped);
  g_test_add_func("/metrics/render", test_render);
  return g_test_run();
}
