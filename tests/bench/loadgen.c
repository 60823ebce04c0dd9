/* loadgen.c — testimony-loadgen: the load of a benchmark against an SFU (the relay or Janus).
 *
 *   testimony-loadgen --sfu testimony|janus --url WS-URL [--ca PEM] [--tokens FILE]
 *                     --hearings H --receivers N [--duration S] [--warmup S]
 *
 * In each of H hearings one publisher sends VP8 (about 1 Mbit/s at 30 frames a second, a key
 * frame every 2 s and whenever the SFU asks for one) and Opus (50 packets a second) to N
 * receivers through the SFU. Every participant has its own signalling session and its own
 * WebRTC connection (ICE by libnice, DTLS and SRTP by the relay's engine); receivers decrypt but
 * do not decode. Each payload ends in a trailer with the publisher's send time and a packet
 * index, which both SFUs forward unchanged: receivers measure added latency, loss and the time
 * from their request for the feed to the first packet of a key frame.
 *
 * Phases: publishers connect; receivers start one after another (--stagger-ms); once all have
 * a picture (or --join-timeout passed) a warm-up, then the measurement window, announced on
 * stdout as "window-start" and "window-end" lines so the driver can read the SFU's CPU time at
 * those moments; a final "result {JSON}" line holds the figures. Every phase is bounded in time.
 * --tokens (the relay): one line per hearing, the publisher's token then the receivers'.
 * LOADGEN_DEBUG=1 in the environment prints ICE states and the SFU's answers. */
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "loadgen.h"
#include "rtcp.h"
#include "rtp.h"
#include "srtp.h"
#include "util.h"

#define VIDEO_PT 96
#define AUDIO_PT 111
#define FRAME_US 33333
#define AUDIO_US 20000
#define KEY_EVERY 60 /* frames: a key frame every 2 s */
#define KEY_BYTES 24000
#define DELTA_BYTES 3800  /* mean; about 1 Mbit/s with the key frames */
#define MAX_VP8_DATA 1096 /* per packet, after the 4-byte payload descriptor */
#define TRAILER_LEN 20
#define TRAILER_MAGIC 0x544d4231u /* "TMB1" */
#define MIN_KEY_GAP_US 300000     /* forced key frames at most this often */
#define LATENCY_BUCKET_US 10
#define LATENCY_BUCKETS 200000 /* 2 s */
#define TICK_US 50000
#define MAX_RECEIVERS 64
#define MAX_HEARINGS 32

typedef enum { PHASE_PUBLISH, PHASE_JOIN, PHASE_WARMUP, PHASE_WINDOW, PHASE_DRAIN } Phase;

typedef struct {
  Loadgen lg;
  Phase phase;
  int64_t phase_us; /* when the phase began */
  int64_t start_us;
  int64_t duration_us, warmup_us, join_timeout_us, stagger_us;
  GSource *media;    /* sends the publishers' packets on time */
  uint32_t *latency; /* histogram of window latencies */
  uint64_t latency_n, latency_sum_us, latency_max_us;
  uint64_t window_received, window_bytes;
  uint64_t late_sends;
  struct rusage ru_start, ru_end;
  int64_t window_start_us, window_end_us;
  const char *address; /* local address for ICE */
  uint8_t filler[1500];
} Bench;

static Bench bench;

/* ---- the publisher's stream ---- */

static void
put_trailer(uint8_t *end, MediaKind kind, int hearing, uint32_t index)
{
  int64_t now = g_get_monotonic_time();
  TmWriter w;
  tm_writer_init(&w, end - TRAILER_LEN, TRAILER_LEN);
  tm_writer_u32(&w, TRAILER_MAGIC);
  tm_writer_u8(&w, (uint8_t) kind);
  tm_writer_u8(&w, (uint8_t) hearing);
  tm_writer_u16(&w, 0);
  tm_writer_u32(&w, index);
  tm_writer_u32(&w, (uint32_t) ((uint64_t) now >> 32));
  tm_writer_u32(&w, (uint32_t) now);
}

/* Sends one RTP packet of KIND whose payload (LEN bytes, trailer space included) is in
 * PAYLOAD. */
static void
send_packet(Hearing *h, MediaKind kind, bool marker, uint32_t ts, const uint8_t *payload,
            size_t len)
{
  uint8_t buf[TM_RTP_MAX_PACKET + TM_SRTP_MAX_TRAILER];
  TmRtpPacket pkt = { .marker = marker,
                      .pt = kind == KIND_VIDEO ? VIDEO_PT : AUDIO_PT,
                      .seq = h->seq[kind]++,
                      .ts = ts,
                      .ssrc = h->ssrc[kind],
                      .payload = payload,
                      .payload_len = len };
  TmRtpError err;
  size_t n = tm_rtp_serialize(&pkt, buf, sizeof buf, &err);
  if (n == 0)
    return;
  put_trailer(buf + n, kind, h->index, h->next_index[kind]++);
  bench_conn_send_rtp(h->publisher->conn, buf, n, sizeof buf);
}

static void
send_audio(Hearing *h)
{
  size_t len = 70 + g_rand_int_range(bench.lg.rand, 0, 61);
  send_packet(h, KIND_AUDIO, false, h->ts0[KIND_AUDIO] + 960 * h->audio_frames++, bench.filler,
              len);
}

static void
send_frame(Hearing *h, int64_t now)
{
  bool key = h->frames % KEY_EVERY == 0;
  if (h->force_key && now - h->last_forced_us >= MIN_KEY_GAP_US) {
    key = true;
    h->forced_keys++;
    h->last_forced_us = now;
  }
  if (key)
    h->force_key = false;
  size_t size = key
    ? KEY_BYTES
    : (size_t) g_rand_int_range(bench.lg.rand, DELTA_BYTES * 7 / 10, DELTA_BYTES * 13 / 10 + 1);
  size_t n = (size + MAX_VP8_DATA - 1) / MAX_VP8_DATA;
  uint32_t ts = h->ts0[KIND_VIDEO] + 3000 * h->frames++;
  uint16_t pid = h->picture_id++ & 0x7fff;
  for (size_t i = 0; i < n; i++) {
    uint8_t payload[4 + MAX_VP8_DATA];
    size_t data = size / n + (i < size % n ? 1 : 0);
    memcpy(payload + 4, bench.filler, data);
    /* RFC 7741 descriptor: X, S on the first packet, partition 0; I with a 15-bit picture id. */
    payload[0] = i == 0 ? 0x90 : 0x80;
    payload[1] = 0x80;
    payload[2] = 0x80 | (uint8_t) (pid >> 8);
    payload[3] = (uint8_t) pid;
    if (i == 0) {
      /* VP8 frame tag (RFC 6386 §9.1): P = !key, version 0, shown, first partition size; a key
       * frame's start code and 640x480. */
      uint32_t tag = (key ? 0u : 1u) | 0x10u | ((uint32_t) (data / 2) << 5);
      static const uint8_t key_header[] = { 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01 };
      payload[4] = (uint8_t) tag;
      payload[5] = (uint8_t) (tag >> 8);
      payload[6] = (uint8_t) (tag >> 16);
      if (key)
        memcpy(payload + 7, key_header, sizeof key_header);
    }
    send_packet(h, KIND_VIDEO, i + 1 == n, ts, payload, 4 + data);
  }
}

static void
publish_due(Hearing *h, int64_t now)
{
  if (h->publisher->conn == NULL || !bench_conn_is_connected(h->publisher->conn))
    return;
  if (now - h->next_audio_us > 200000 || now - h->next_frame_us > 200000) {
    bench.late_sends++; /* the machine stalled us: skip ahead rather than burst */
    h->next_audio_us = MAX(h->next_audio_us, now);
    h->next_frame_us = MAX(h->next_frame_us, now);
  }
  for (int i = 0; i < 10 && h->next_audio_us <= now; i++, h->next_audio_us += AUDIO_US)
    send_audio(h);
  for (int i = 0; i < 10 && h->next_frame_us <= now; i++, h->next_frame_us += FRAME_US)
    send_frame(h, now);
}

static gboolean
media_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
  int64_t now = g_get_monotonic_time();
  int64_t next = now + TICK_US;
  for (int i = 0; i < bench.lg.n_hearings; i++) {
    Hearing *h = &bench.lg.hearings[i];
    publish_due(h, now);
    next = MIN(next, MIN(h->next_audio_us, h->next_frame_us));
  }
  g_source_set_ready_time(source, MAX(next, now + 100));
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs media_funcs = { NULL, NULL, media_dispatch, NULL, NULL, NULL };

/* ---- receiving ---- */

static void
count_window(Participant *p, MediaKind kind, uint32_t index, size_t len, int64_t arrival,
             int64_t sent)
{
  if (bench.phase != PHASE_WINDOW)
    return;
  Hearing *h = p->h;
  if (index < h->window_index[0][kind])
    return;
  bench.window_received++;
  bench.window_bytes += len;
  uint64_t lat = (uint64_t) MAX(arrival - sent, 0);
  bench.latency[MIN(lat / LATENCY_BUCKET_US, LATENCY_BUCKETS - 1)]++;
  bench.latency_n++;
  bench.latency_sum_us += lat;
  bench.latency_max_us = MAX(bench.latency_max_us, lat);
}

static void
on_rtp(void *ud, BenchConn *c, uint8_t *buf, size_t len, int64_t arrival)
{
  Participant *p = ud;
  TmRtpPacket pkt;
  if (p->publisher || tm_rtp_parse(buf, len, &pkt) != TM_RTP_OK || pkt.payload_len < TRAILER_LEN)
    return;
  TmReader r;
  tm_reader_init(&r, pkt.payload + pkt.payload_len - TRAILER_LEN, TRAILER_LEN);
  uint32_t magic = tm_reader_u32(&r);
  uint8_t kind = tm_reader_u8(&r);
  uint8_t hearing = tm_reader_u8(&r);
  tm_reader_skip(&r, 2);
  uint32_t index = tm_reader_u32(&r);
  uint64_t hi = tm_reader_u32(&r);
  int64_t sent = (int64_t) (hi << 32 | tm_reader_u32(&r));
  if (magic != TRAILER_MAGIC || kind >= KIND_COUNT || hearing != p->h->index || index >= SEEN_CAP)
    return;
  if (kind == KIND_VIDEO && p->first_frame_us == 0 &&
      tm_vp8_is_keyframe(pkt.payload, pkt.payload_len))
    p->first_frame_us = arrival;
  uint8_t bit = (uint8_t) (1u << (index & 7));
  if (p->seen[kind][index >> 3] & bit) {
    p->duplicates++;
    return;
  }
  p->seen[kind][index >> 3] |= bit;
  count_window(p, kind, index, len, arrival, sent);
}

static void
on_rtcp(void *ud, BenchConn *c, const uint8_t *buf, size_t len)
{
  Participant *p = ud;
  if (!p->publisher)
    return;
  TmRtcpIter it;
  tm_rtcp_iter_init(&it, buf, len);
  TmRtcpPacket pkt;
  bool done = false;
  for (int i = 0; i < 16 && tm_rtcp_iter_next(&it, &pkt, &done) == TM_RTCP_OK && !done; i++) {
    if (pkt.kind == TM_RTCP_KIND_PLI || pkt.kind == TM_RTCP_KIND_FIR) {
      p->h->key_requests++;
      p->h->force_key = true;
    }
  }
}

static void
on_connected(void *ud, BenchConn *c)
{
  Participant *p = ud;
  if (p->publisher) {
    int64_t now = g_get_monotonic_time();
    Hearing *h = p->h;
    /* Spread the hearings' frames over the frame interval. */
    h->next_frame_us = now + FRAME_US * h->index / bench.lg.n_hearings;
    h->next_audio_us = h->next_frame_us;
  }
}

void
loadgen_participant_failed(Participant *p, const char *why)
{
  if (p->failed)
    return;
  p->failed = true;
  g_printerr("loadgen: hearing %d participant %d failed: %s\n", p->h->index, p->index, why);
}

static void
on_failed(void *ud, BenchConn *c, const char *why)
{
  loadgen_participant_failed(ud, why);
}

static const BenchConnListener conn_listener = { on_rtp, on_rtcp, on_connected, on_failed };

/* ---- offers and answers ---- */

static void
append_section(GString *s, Participant *p, const char *transport, bool video)
{
  const char *dir = p->publisher ? "sendonly" : "recvonly";
  if (video)
    g_string_append_printf(s, "m=video 9 UDP/TLS/RTP/SAVPF %d\r\n", VIDEO_PT);
  else
    g_string_append_printf(s, "m=audio 9 UDP/TLS/RTP/SAVPF %d\r\n", AUDIO_PT);
  g_string_append_printf(s, "c=IN IP4 0.0.0.0\r\n%sa=mid:%d\r\na=%s\r\na=rtcp-mux\r\n", transport,
                         video, dir);
  if (video)
    g_string_append_printf(s,
                           "a=rtpmap:%d VP8/90000\r\na=rtcp-fb:%d nack\r\n"
                           "a=rtcp-fb:%d nack pli\r\na=rtcp-fb:%d ccm fir\r\n",
                           VIDEO_PT, VIDEO_PT, VIDEO_PT, VIDEO_PT);
  else
    g_string_append_printf(s,
                           "a=rtpmap:%d opus/48000/2\r\na=fmtp:%d minptime=10;useinbandfec=1\r\n",
                           AUDIO_PT, AUDIO_PT);
  if (p->publisher)
    g_string_append_printf(s, "a=ssrc:%u cname:bench%d\r\na=msid:bench%d %s%d\r\n",
                           p->h->ssrc[video], p->h->index, p->h->index, video ? "v" : "a",
                           p->h->index);
}

char *
loadgen_offer(Participant *p)
{
  p->conn = bench_conn_new(bench.lg.identity, bench.address, true, &conn_listener, p);
  g_autofree char *transport = bench_conn_transport_lines(p->conn, "actpass");
  GString *s = g_string_new(NULL);
  g_string_append_printf(s,
                         "v=0\r\no=- %u 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                         "a=group:BUNDLE 0 1\r\na=msid-semantic: WMS\r\n",
                         g_rand_int(bench.lg.rand));
  append_section(s, p, transport, false);
  append_section(s, p, transport, true);
  return g_string_free(s, FALSE);
}

bool
loadgen_remote_answer(Participant *p, const char *sdp)
{
  g_autofree TmSdp *answer = g_new0(TmSdp, 1);
  if (g_getenv("LOADGEN_DEBUG") != NULL)
    g_printerr("loadgen: answer\n%s\n", sdp);
  if (sdp == NULL || p->conn == NULL || tm_sdp_parse(sdp, strlen(sdp), answer) != TM_SDP_OK)
    return false;
  /* The answerer's a=setup decides who opens DTLS: "passive" there means we are the client. */
  return bench_conn_set_remote(p->conn, answer, answer->setup != TM_SETUP_ACTIVE);
}

char *
loadgen_answer_offer(Participant *p, const char *sdp)
{
  g_autofree TmSdp *offer = g_new0(TmSdp, 1);
  g_autofree TmSdp *answer = g_new0(TmSdp, 1);
  if (sdp == NULL || p->conn != NULL || tm_sdp_parse(sdp, strlen(sdp), offer) != TM_SDP_OK)
    return NULL;
  p->conn = bench_conn_new(bench.lg.identity, bench.address, false, &conn_listener, p);
  /* Our candidates and credentials, through the engine's own answer builder. */
  g_autofree char *transport = bench_conn_transport_lines(p->conn, "active");
  g_auto(GStrv) lines = g_strsplit(transport, "\r\n", -1);
  GPtrArray *cands = g_ptr_array_new();
  const char *ufrag = "", *pwd = "";
  for (char **l = lines; *l != NULL; l++) {
    if (g_str_has_prefix(*l, "a=candidate:"))
      g_ptr_array_add(cands, *l + 2);
    else if (g_str_has_prefix(*l, "a=ice-ufrag:"))
      ufrag = *l + 12;
    else if (g_str_has_prefix(*l, "a=ice-pwd:"))
      pwd = *l + 10;
  }
  TmSdpAnswerParams params = {
    .ice_ufrag = ufrag,
    .ice_pwd = pwd,
    .fingerprint_alg = "sha-256",
    .fingerprint = tm_dtls_identity_fingerprint(bench.lg.identity),
    .fingerprint_len = TM_DTLS_FINGERPRINT_LEN,
    .setup = TM_SETUP_ACTIVE,
    .direction = TM_DIR_RECVONLY,
    .session_id = g_rand_int(bench.lg.rand),
    .candidates = (const char *const *) cands->pdata,
    .n_candidates = cands->len,
  };
  TmSdpError err = tm_sdp_answer(offer, &params, answer);
  g_ptr_array_free(cands, TRUE);
  if (err != TM_SDP_OK) {
    g_printerr("loadgen: cannot answer the SFU's offer: %s\n", tm_sdp_strerror(err));
    return NULL;
  }
  if (!bench_conn_set_remote(p->conn, offer, true))
    return NULL;
  return tm_sdp_serialize(answer);
}

void
loadgen_subscribed(Participant *p)
{
  p->subscribe_us = g_get_monotonic_time();
}

/* ---- phases ---- */

static int64_t
elapsed_in_phase(int64_t now)
{
  return now - bench.phase_us;
}

static void
set_phase(Phase phase, int64_t now)
{
  bench.phase = phase;
  bench.phase_us = now;
}

static bool
all_publishers_connected(void)
{
  for (int i = 0; i < bench.lg.n_hearings; i++) {
    Participant *p = bench.lg.hearings[i].publisher;
    if (p->conn == NULL || !bench_conn_is_connected(p->conn))
      return false;
  }
  return true;
}

/* Starts the receivers whose turn has come; true when all have a picture (or failed). */
static bool
receivers_progress(int64_t now)
{
  bool all = true;
  int k = 0;
  for (int j = 1; j <= bench.lg.n_receivers; j++) {
    for (int i = 0; i < bench.lg.n_hearings; i++, k++) {
      Participant *p = bench.lg.hearings[i].receivers[j];
      if (!p->started && elapsed_in_phase(now) >= k * bench.stagger_us) {
        p->started = true;
        p->opened_us = now;
        bench_signal_open(p);
      }
      all = all && (p->failed || p->first_frame_us != 0);
    }
  }
  return all;
}

static void
mark_window(int edge)
{
  for (int i = 0; i < bench.lg.n_hearings; i++)
    for (int k = 0; k < KIND_COUNT; k++)
      bench.lg.hearings[i].window_index[edge][k] = bench.lg.hearings[i].next_index[k];
}

static void
tick_conns(int64_t now)
{
  for (int i = 0; i < bench.lg.n_hearings; i++) {
    Hearing *h = &bench.lg.hearings[i];
    for (int j = 0; j <= bench.lg.n_receivers; j++) {
      Participant *p = j == 0 ? h->publisher : h->receivers[j];
      if (p->conn != NULL)
        bench_conn_tick(p->conn, now);
    }
  }
}

static gboolean
on_tick(gpointer data)
{
  int64_t now = g_get_monotonic_time();
  tick_conns(now);
  switch (bench.phase) {
  case PHASE_PUBLISH:
    if (all_publishers_connected() && elapsed_in_phase(now) > 0) {
      set_phase(PHASE_JOIN, now + 1000000); /* a second of media before anyone joins */
    } else if (elapsed_in_phase(now) > bench.join_timeout_us) {
      g_printerr("loadgen: the publishers did not connect\n");
      bench.lg.exit_code = 3;
      g_main_loop_quit(bench.lg.loop);
    }
    break;
  case PHASE_JOIN:
    if (now >= bench.phase_us &&
        (receivers_progress(now) || elapsed_in_phase(now) > bench.join_timeout_us))
      set_phase(PHASE_WARMUP, now);
    break;
  case PHASE_WARMUP:
    if (elapsed_in_phase(now) >= bench.warmup_us) {
      set_phase(PHASE_WINDOW, now);
      mark_window(0);
      getrusage(RUSAGE_SELF, &bench.ru_start);
      bench.window_start_us = now;
      printf("window-start\n");
      fflush(stdout);
    }
    break;
  case PHASE_WINDOW:
    if (elapsed_in_phase(now) >= bench.duration_us) {
      printf("window-end\n");
      fflush(stdout);
      mark_window(1);
      getrusage(RUSAGE_SELF, &bench.ru_end);
      bench.window_end_us = now;
      set_phase(PHASE_DRAIN, now);
    }
    break;
  case PHASE_DRAIN:
    if (elapsed_in_phase(now) >= 1000000) /* what was in flight at the end has arrived */
      g_main_loop_quit(bench.lg.loop);
    break;
  }
  return G_SOURCE_CONTINUE;
}

/* ---- figures ---- */

static uint64_t
latency_percentile(double q)
{
  uint64_t want = (uint64_t) (q * (double) bench.latency_n), seen = 0;
  for (guint i = 0; i < LATENCY_BUCKETS; i++) {
    seen += bench.latency[i];
    if (seen > want)
      return (uint64_t) i * LATENCY_BUCKET_US + LATENCY_BUCKET_US / 2;
  }
  return bench.latency_max_us;
}

static double
cpu_seconds(const struct rusage *a, const struct rusage *b)
{
  return (double) (b->ru_utime.tv_sec - a->ru_utime.tv_sec) +
    (double) (b->ru_utime.tv_usec - a->ru_utime.tv_usec) / 1e6 +
    (double) (b->ru_stime.tv_sec - a->ru_stime.tv_sec) +
    (double) (b->ru_stime.tv_usec - a->ru_stime.tv_usec) / 1e6;
}

static int
compare_int64(const void *a, const void *b)
{
  int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
  return (x > y) - (x < y);
}

/* Loss over the window's packets, the receivers' join times and who failed, into B. */
static void
add_receiver_figures(JsonBuilder *b)
{
  uint64_t expected = 0, missing = 0, duplicates = 0, keys = 0, key_requests = 0;
  int failed = 0, n_joins = 0;
  int64_t *joins = g_new0(int64_t, (gsize) bench.lg.n_hearings * bench.lg.n_receivers + 1);
  const char *profile = "none";
  for (int i = 0; i < bench.lg.n_hearings; i++) {
    Hearing *h = &bench.lg.hearings[i];
    keys += h->forced_keys;
    key_requests += h->key_requests;
    for (int j = 1; j <= bench.lg.n_receivers; j++) {
      Participant *p = h->receivers[j];
      failed += p->failed || p->first_frame_us == 0;
      duplicates += p->duplicates;
      if (p->first_frame_us != 0 && p->subscribe_us != 0)
        joins[n_joins++] = p->first_frame_us - p->subscribe_us;
      if (p->conn != NULL && bench_conn_is_connected(p->conn))
        profile = tm_srtp_profile_name(bench_conn_srtp_profile(p->conn));
      for (int k = 0; k < KIND_COUNT; k++) {
        for (uint32_t x = h->window_index[0][k]; x < h->window_index[1][k] && x < SEEN_CAP; x++) {
          expected++;
          missing += (p->seen[k][x >> 3] & (1u << (x & 7))) == 0;
        }
      }
    }
  }
  qsort(joins, (size_t) n_joins, sizeof *joins, compare_int64);
  bench_json_int(b, "expected", (gint64) expected);
  bench_json_int(b, "lost", (gint64) missing);
  bench_json_int(b, "duplicates", (gint64) duplicates);
  bench_json_int(b, "receivers_failed", failed);
  bench_json_int(b, "key_requests", (gint64) key_requests);
  bench_json_int(b, "forced_key_frames", (gint64) keys);
  bench_json_string(b, "srtp_profile", profile);
  json_builder_set_member_name(b, "join_ms");
  json_builder_begin_array(b);
  for (int i = 0; i < n_joins; i++)
    json_builder_add_double_value(b, (double) joins[i] / 1000.0);
  json_builder_end_array(b);
  g_free(joins);
}

static void
print_result(void)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  bench_json_string(b, "sfu", bench.lg.sfu == SFU_JANUS ? "janus" : "testimony");
  bench_json_int(b, "hearings", bench.lg.n_hearings);
  bench_json_int(b, "receivers", bench.lg.n_receivers);
  bench_json_double(b, "window_s", (double) (bench.window_end_us - bench.window_start_us) / 1e6);
  bench_json_int(b, "received", (gint64) bench.window_received);
  bench_json_int(b, "received_bytes", (gint64) bench.window_bytes);
  uint64_t sent = 0;
  for (int i = 0; i < bench.lg.n_hearings; i++)
    for (int k = 0; k < KIND_COUNT; k++)
      sent += bench.lg.hearings[i].window_index[1][k] - bench.lg.hearings[i].window_index[0][k];
  bench_json_int(b, "sent", (gint64) sent);
  add_receiver_figures(b);
  json_builder_set_member_name(b, "latency_us");
  json_builder_begin_object(b);
  bench_json_int(b, "p50", (gint64) latency_percentile(0.50));
  bench_json_int(b, "p99", (gint64) latency_percentile(0.99));
  bench_json_int(b, "mean",
                 bench.latency_n ? (gint64) (bench.latency_sum_us / bench.latency_n) : 0);
  bench_json_int(b, "max", (gint64) bench.latency_max_us);
  json_builder_end_object(b);
  bench_json_int(b, "late_sends", (gint64) bench.late_sends);
  bench_json_double(b, "loadgen_cpu_s", cpu_seconds(&bench.ru_start, &bench.ru_end));
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autofree char *text = json_to_string(root, FALSE);
  printf("result %s\n", text);
  fflush(stdout);
}

/* ---- setup ---- */

static char **
read_token_lines(const char *path, GError **error)
{
  g_autofree char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, error))
    return NULL;
  return g_strsplit(g_strstrip(text), "\n", MAX_HEARINGS + 1);
}

static Participant *
participant_new(Hearing *h, int index, char *token)
{
  Participant *p = g_new0(Participant, 1);
  p->lg = &bench.lg;
  p->h = h;
  p->index = index;
  p->publisher = index == 0;
  p->token = token;
  for (int k = 0; k < KIND_COUNT; k++)
    p->seen[k] = g_malloc0(SEEN_CAP / 8);
  return p;
}

static void
participant_free(Participant *p)
{
  bench_signal_close(p);
  bench_conn_free(p->conn);
  for (int k = 0; k < KIND_COUNT; k++)
    g_free(p->seen[k]);
  g_free(p->token);
  g_free(p);
}

static bool
setup_hearings(char **token_lines)
{
  Loadgen *lg = &bench.lg;
  lg->hearings = g_new0(Hearing, lg->n_hearings);
  for (int i = 0; i < lg->n_hearings; i++) {
    Hearing *h = &lg->hearings[i];
    h->index = i;
    g_auto(GStrv) tokens = NULL;
    if (lg->sfu == SFU_TESTIMONY) {
      tokens = token_lines != NULL && i < (int) g_strv_length(token_lines)
        ? g_strsplit(g_strstrip(token_lines[i]), " ", MAX_RECEIVERS + 2)
        : NULL;
      if (tokens == NULL || (int) g_strv_length(tokens) < lg->n_receivers + 1) {
        g_printerr("loadgen: --tokens has no line of %d tokens for hearing %d\n",
                   lg->n_receivers + 1, i);
        return false;
      }
    }
    h->receivers = g_new0(Participant *, lg->n_receivers + 1);
    for (int j = 0; j <= lg->n_receivers; j++) {
      Participant *p = participant_new(h, j, tokens != NULL ? g_strdup(tokens[j]) : NULL);
      if (j == 0)
        h->publisher = p;
      else
        h->receivers[j] = p;
    }
    for (int k = 0; k < KIND_COUNT; k++) {
      h->ssrc[k] = g_rand_int(lg->rand) | 1;
      h->seq[k] = (uint16_t) g_rand_int(lg->rand);
      h->ts0[k] = g_rand_int(lg->rand);
    }
    h->picture_id = (uint16_t) g_rand_int(lg->rand);
    h->next_frame_us = h->next_audio_us = INT64_MAX;
  }
  return true;
}

int
main(int argc, char **argv)
{
  g_autofree char *sfu = NULL, *ca = NULL, *tokens = NULL, *address = NULL;
  double duration = 20, warmup = 2, join_timeout = 20;
  int stagger_ms = 150, seed = 1;
  Loadgen *lg = &bench.lg;
  lg->n_hearings = 1;
  lg->n_receivers = 1;
  GOptionEntry entries[] = {
    { "sfu", 0, 0, G_OPTION_ARG_STRING, &sfu, "testimony or janus", "KIND" },
    { "url", 0, 0, G_OPTION_ARG_STRING, &lg->url, "WebSocket URL of the SFU", "URL" },
    { "ca", 0, 0, G_OPTION_ARG_FILENAME, &ca, "The relay's TLS certificate", "PEM" },
    { "tokens", 0, 0, G_OPTION_ARG_FILENAME, &tokens, "Join tokens, a line per hearing", "FILE" },
    { "address", 0, 0, G_OPTION_ARG_STRING, &address, "Local address for ICE (127.0.0.1)", "ADDR" },
    { "hearings", 0, 0, G_OPTION_ARG_INT, &lg->n_hearings, "Hearings at once (1)", "H" },
    { "receivers", 0, 0, G_OPTION_ARG_INT, &lg->n_receivers, "Receivers per hearing (1)", "N" },
    { "duration", 0, 0, G_OPTION_ARG_DOUBLE, &duration, "Measurement window (20 s)", "S" },
    { "warmup", 0, 0, G_OPTION_ARG_DOUBLE, &warmup, "Before the window (2 s)", "S" },
    { "join-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &join_timeout, "Longest join phase (20 s)", "S" },
    { "stagger-ms", 0, 0, G_OPTION_ARG_INT, &stagger_ms, "Between receivers' starts (150)", "MS" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "Frame sizes' seed (1)", "N" },
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("- load for an SFU benchmark");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error) || sfu == NULL || lg->url == NULL ||
      (!g_str_equal(sfu, "testimony") && !g_str_equal(sfu, "janus")) || lg->n_hearings < 1 ||
      lg->n_hearings > MAX_HEARINGS || lg->n_receivers < 1 || lg->n_receivers > MAX_RECEIVERS ||
      duration <= 0 || duration > 600 || warmup < 0 || warmup > 60 || join_timeout <= 0 ||
      join_timeout > 120 || stagger_ms < 0 || stagger_ms > 5000) {
    g_printerr("usage: testimony-loadgen --sfu testimony|janus --url URL [--ca PEM] "
               "[--tokens FILE] [--hearings 1-%d] [--receivers 1-%d] (see --help)\n",
               MAX_HEARINGS, MAX_RECEIVERS);
    return 2;
  }
  lg->sfu = g_str_equal(sfu, "janus") ? SFU_JANUS : SFU_TESTIMONY;
  bench.address = address != NULL ? address : "127.0.0.1";
  bench.duration_us = (int64_t) (duration * 1e6);
  bench.warmup_us = (int64_t) (warmup * 1e6);
  bench.join_timeout_us = (int64_t) (join_timeout * 1e6);
  bench.stagger_us = stagger_ms * 1000;
  lg->rand = g_rand_new_with_seed((guint32) seed);
  for (size_t i = 0; i < sizeof bench.filler; i++)
    bench.filler[i] = (uint8_t) g_rand_int(lg->rand);
  g_auto(GStrv) token_lines = NULL;
  if (tokens != NULL && (token_lines = read_token_lines(tokens, &error)) == NULL) {
    g_printerr("loadgen: %s\n", error->message);
    return 2;
  }
  g_autoptr(GTlsDatabase) db = ca != NULL ? g_tls_file_database_new(ca, &error) : NULL;
  if (ca != NULL && db == NULL) {
    g_printerr("loadgen: %s\n", error->message);
    return 2;
  }
  lg->session =
    db != NULL ? soup_session_new_with_options("tls-database", db, NULL) : soup_session_new();
  lg->identity = tm_dtls_identity_new(g_get_real_time() / G_USEC_PER_SEC);
  bench.latency = g_new0(uint32_t, LATENCY_BUCKETS);
  lg->loop = g_main_loop_new(NULL, FALSE);
  if (!setup_hearings(token_lines)) {
    lg->exit_code = 2;
  } else {
    int64_t now = g_get_monotonic_time();
    bench.start_us = now;
    set_phase(PHASE_PUBLISH, now);
    for (int i = 0; i < lg->n_hearings; i++)
      bench_signal_open(lg->hearings[i].publisher);
    bench.media = g_source_new(&media_funcs, sizeof(GSource));
    g_source_set_priority(bench.media, G_PRIORITY_HIGH);
    g_source_set_ready_time(bench.media, now);
    g_source_attach(bench.media, NULL);
    guint tick = g_timeout_add(TICK_US / 1000, on_tick, NULL);
    g_main_loop_run(lg->loop);
    g_source_remove(tick);
    g_source_destroy(bench.media);
    g_source_unref(bench.media);
    if (lg->exit_code == 0)
      print_result();
  }
  for (int i = 0; lg->hearings != NULL && i < lg->n_hearings; i++) {
    for (int j = 0; j <= lg->n_receivers; j++) {
      Participant *p = j == 0 ? lg->hearings[i].publisher : lg->hearings[i].receivers[j];
      if (p != NULL)
        participant_free(p);
    }
    g_free(lg->hearings[i].receivers);
    g_free(lg->hearings[i].publisher_id);
  }
  g_free(lg->hearings);
  g_free(bench.latency);
  g_main_loop_unref(lg->loop);
  g_object_unref(lg->session);
  tm_dtls_identity_unref(lg->identity);
  g_rand_free(lg->rand);
  g_free(lg->url);
  return lg->exit_code;
}
