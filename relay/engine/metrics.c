/* metrics.c — running totals and their Prometheus text form. */
#include "metrics.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>

static const char *const drop_names[TM_DROP_COUNT] = {
  [TM_DROP_SRTP] = "srtp",
  [TM_DROP_MALFORMED] = "malformed",
  [TM_DROP_UNKNOWN_PT] = "unknown-payload-type",
  [TM_DROP_NOT_READY] = "not-ready",
  [TM_DROP_RATE_LIMITED] = "rate-limited",
  [TM_DROP_WAITING_KEYFRAME] = "waiting-keyframe",
  [TM_DROP_POLICY] = "policy",
  [TM_DROP_NOT_SHOWN] = "not-shown",
  [TM_DROP_CONGESTED] = "congested",
};

static const char *const https_names[TM_HTTPS_COUNT] = {
  [TM_HTTPS_ACCEPTED] = "accepted",
  [TM_HTTPS_REFUSED_ADDRESS] = "refused-address-cap",
  [TM_HTTPS_REFUSED_TOTAL] = "refused-total-cap",
  [TM_HTTPS_HANDSHAKE_FAILED] = "handshake-failed",
  [TM_HTTPS_HELLO_TIMEOUT] = "hello-timeout",
  [TM_HTTPS_HANDSHAKE_TIMEOUT] = "handshake-timeout",
  [TM_HTTPS_HANDSHAKE_STALLED] = "handshake-stalled",
};

static const char *const presence_names[TM_PRESENCE_COUNT] = {
  [TM_PRESENCE_WAITING] = "waiting",
  [TM_PRESENCE_ADMITTED] = "admitted",
  [TM_PRESENCE_AWAY] = "away",
};

const char *
tm_metrics_drop_reason(TmDropReason r)
{
  return r >= 0 && r < TM_DROP_COUNT ? drop_names[r] : "unknown";
}

const char *
tm_metrics_presence(TmPresence p)
{
  return p >= 0 && p < TM_PRESENCE_COUNT ? presence_names[p] : "unknown";
}

void
tm_counters_add_peer(TmCounters *c, const TmPeerStats *s)
{
  c->packets_received += s->rtp_in;
  c->bytes_received += s->bytes_in;
  c->packets_forwarded += s->rtp_out;
  c->bytes_forwarded += s->bytes_out;
  c->dropped[TM_DROP_SRTP] += s->drop_srtp;
  c->dropped[TM_DROP_MALFORMED] += s->drop_malformed;
  c->dropped[TM_DROP_UNKNOWN_PT] += s->drop_unknown_pt;
  c->dropped[TM_DROP_NOT_READY] += s->drop_not_ready;
  c->dropped[TM_DROP_RATE_LIMITED] += s->drop_rate_limited;
  c->dropped[TM_DROP_WAITING_KEYFRAME] += s->drop_waiting_keyframe;
  c->dropped[TM_DROP_POLICY] += s->drop_policy;
  c->dropped[TM_DROP_NOT_SHOWN] += s->drop_not_shown;
  c->dropped[TM_DROP_CONGESTED] += s->drop_congested;
  c->nacks_received += s->nacks_in;
  c->nacks_sent += s->nacks_out;
  c->retransmissions += s->retransmits;
  c->keyframe_requests_sent += s->keyframe_requests_out;
  c->packets_lost += s->packets_lost;
  c->sound_restored += s->red_recovered;
}

static void
sample(double *values, guint *n, double v)
{
  if (*n < TM_METRICS_SAMPLES_MAX && isfinite(v))
    values[(*n)++] = v;
}

void
tm_metrics_add_peer_sample(TmMetrics *m, TmPeerKind kind, const TmPeerStats *s)
{
  m->connections++;
  if (s->rtt_ms > 0)
    sample(m->rtt_ms, &m->n_rtt, s->rtt_ms);
  if (kind == TM_PEER_PUBLISH)
    sample(m->loss_up, &m->n_loss_up, s->fraction_lost);
  else if (s->reports_in > 0)
    sample(m->loss_down, &m->n_loss_down, s->fraction_lost);
}

/* Every member of TmCounters is a uint64_t count (metrics.h). */
G_STATIC_ASSERT(sizeof(TmCounters) % sizeof(uint64_t) == 0);

void
tm_counters_add(TmCounters *into, const TmCounters *from)
{
  uint64_t *dst = (uint64_t *) into;
  const uint64_t *src = (const uint64_t *) from;
  for (size_t i = 0; i < sizeof(TmCounters) / sizeof(uint64_t); i++)
    dst[i] += src[i];
}

static int
compare_double(const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

double
tm_metrics_quantile(double *values, guint n, double q)
{
  if (n == 0)
    return 0;
  qsort(values, n, sizeof *values, compare_double);
  double pos = CLAMP(q, 0.0, 1.0) * (n - 1);
  guint i = (guint) pos;
  return i + 1 < n ? values[i] + (values[i + 1] - values[i]) * (pos - i) : values[n - 1];
}

static void
header(GString *out, const char *name, const char *type, const char *help)
{
  g_string_append_printf(out, "# HELP testimony_%s %s\n# TYPE testimony_%s %s\n", name, help, name,
                         type);
}

static void
one(GString *out, const char *name, const char *type, const char *help, uint64_t value)
{
  header(out, name, type, help);
  g_string_append_printf(out, "testimony_%s %" G_GUINT64_FORMAT "\n", name, value);
}

/* A summary over the connections open now: quantiles 0.5, 0.9, 0.99 and 1 (the worst), _sum
 * and _count, the values scaled by SCALE. LABEL: "" or one label, such as path="up". */
static void
summary(GString *out, const char *name, const char *label, double *values, guint n, double scale)
{
  static const double qs[] = { 0.5, 0.9, 0.99, 1.0 };
  const char *sep = label[0] != '\0' ? "," : "";
  double sum = 0;
  for (guint i = 0; i < n; i++)
    sum += values[i];
  for (guint i = 0; i < G_N_ELEMENTS(qs); i++) {
    char q[G_ASCII_DTOSTR_BUF_SIZE], v[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd(q, sizeof q, "%g", qs[i]);
    g_ascii_formatd(v, sizeof v, "%.6g", tm_metrics_quantile(values, n, qs[i]) * scale);
    g_string_append_printf(out, "testimony_%s{%s%squantile=\"%s\"} %s\n", name, label, sep, q, v);
  }
  char s[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd(s, sizeof s, "%.6g", sum * scale);
  const char *open = label[0] != '\0' ? "{" : "", *close = label[0] != '\0' ? "}" : "";
  g_string_append_printf(out, "testimony_%s_sum%s%s%s %s\ntestimony_%s_count%s%s%s %u\n", name,
                         open, label, close, s, name, open, label, close, n);
}

/* One sample of NAME with one or two labels (LABELS: `role="judge",state="waiting"`). */
static void
labelled(GString *out, const char *name, const char *labels, uint64_t value)
{
  g_string_append_printf(out, "testimony_%s{%s} %" G_GUINT64_FORMAT "\n", name, labels, value);
}

/* The counters without labels, in the order they are written. */
static const struct {
  const char *name, *help;
  size_t offset; /* in TmCounters */
} plain_counters[] = {
  { "hearings_opened_total", "Hearings opened since the relay started.",
    offsetof(TmCounters, hearings_opened) },
  { "packets_received_total", "RTP packets received from publishers.",
    offsetof(TmCounters, packets_received) },
  { "bytes_received_total", "Bytes of RTP received from publishers.",
    offsetof(TmCounters, bytes_received) },
  { "packets_forwarded_total", "RTP packets forwarded to receivers.",
    offsetof(TmCounters, packets_forwarded) },
  { "bytes_forwarded_total", "Bytes of RTP forwarded to receivers.",
    offsetof(TmCounters, bytes_forwarded) },
  { "retransmissions_total", "Packets retransmitted to receivers.",
    offsetof(TmCounters, retransmissions) },
  { "keyframe_requests_total", "Key-frame requests sent to publishers.",
    offsetof(TmCounters, keyframe_requests_sent) },
  { "packets_lost_total", "Packets publishers sent that the relay never got.",
    offsetof(TmCounters, packets_lost) },
  { "sound_restored_total",
    "Of those, sound packets restored from a later packet's redundancy (RED, RFC 2198).",
    offsetof(TmCounters, sound_restored) },
  { "recorded_bytes_total", "Bytes of RTP handed to evidence recordings.",
    offsetof(TmCounters, recorded_bytes) },
};

char *
tm_metrics_render(TmMetrics *m)
{
  const TmCounters *c = &m->counters;
  GString *out = g_string_sized_new(8192);
  one(out, "up", "gauge", "1 while the relay serves.", 1);
  one(out, "hearings", "gauge", "Hearings open now (someone is in them).", m->hearings);
  one(out, "connections", "gauge", "Media connections (peer connections) open now.",
      m->connections);
  one(out, "recordings", "gauge", "Evidence recordings running now (paused included).",
      m->recordings);
  header(out, "participants", "gauge", "Participants in open hearings, by role and state.");
  for (int r = 0; r < TM_ROLE_COUNT; r++) {
    for (int p = 0; p < TM_PRESENCE_COUNT; p++) {
      g_autofree char *labels =
        g_strdup_printf("role=\"%s\",state=\"%s\"", tm_role_to_string(r), presence_names[p]);
      labelled(out, "participants", labels, m->participants[r][p]);
    }
  }
  for (size_t i = 0; i < G_N_ELEMENTS(plain_counters); i++)
    one(out, plain_counters[i].name, "counter", plain_counters[i].help,
        *(const uint64_t *) ((const char *) c + plain_counters[i].offset));
  header(out, "packets_dropped_total", "counter", "Packets not forwarded, by reason.");
  for (int i = 0; i < TM_DROP_COUNT; i++) {
    g_autofree char *labels = g_strdup_printf("reason=\"%s\"", drop_names[i]);
    labelled(out, "packets_dropped_total", labels, c->dropped[i]);
  }
  header(out, "nacks_total", "counter",
         "NACKs: received from receivers (direction=\"in\"), sent to publishers (\"out\").");
  labelled(out, "nacks_total", "direction=\"in\"", c->nacks_received);
  labelled(out, "nacks_total", "direction=\"out\"", c->nacks_sent);
  header(out, "join_failures_total", "counter", "Joins refused, by error code.");
  for (int i = 0; i < TM_WIRE_ERR_COUNT; i++) {
    g_autofree char *labels = g_strdup_printf("code=\"%s\"", tm_wire_error_code(i));
    if (c->join_failures[i] > 0)
      labelled(out, "join_failures_total", labels, c->join_failures[i]);
  }
  header(out, "https_connections_total", "counter",
         "TCP connections to the HTTPS listener: accepted, and the ones closed before HTTP, by "
         "why.");
  for (int i = 0; i < TM_HTTPS_COUNT; i++) {
    g_autofree char *labels = g_strdup_printf("outcome=\"%s\"", https_names[i]);
    labelled(out, "https_connections_total", labels, m->https[i]);
  }
  one(out, "media_datagrams_sent_total", "counter",
      "Datagrams the relay handed to its media sockets (DTLS, SRTP, SRTCP).", m->datagrams_sent);
  one(out, "media_send_calls_total", "counter",
      "System calls (or libnice calls) that sent them: a receiver's datagrams queued together "
      "go out in one.",
      m->send_calls);
  one(out, "media_send_dropped_total", "counter",
      "Datagrams not sent: the socket's buffer was full, or the connection had no path yet.",
      m->send_dropped);
  header(out, "rtt_seconds", "summary", "Round-trip time of the media connections open now.");
  summary(out, "rtt_seconds", "", m->rtt_ms, m->n_rtt, 0.001);
  header(out, "loss_ratio", "summary",
         "Fraction of packets lost on the connections open now: path=\"up\" publishers to the "
         "relay, \"down\" the relay to receivers (as they report).");
  summary(out, "loss_ratio", "path=\"up\"", m->loss_up, m->n_loss_up, 1.0);
  summary(out, "loss_ratio", "path=\"down\"", m->loss_down, m->n_loss_down, 1.0);
  return g_string_free(out, FALSE);
}
