/* make-recording.c — builds a synthetic recording through the real TmRecorder API from real
 * VP8/Opus RTP made by GStreamer (the client's encoder settings): participant N sends a solid
 * colour (red, green, blue, yellow...) and a sine tone (440, 660, 880, 1100... Hz).
 *
 *   make-recording STATE_DIR [--seconds S] [--participants N] [--pause A:B] [--mark T:TEXT]...
 *                  [--drop P:A:B] [--rejoin P:A:B] [--encrypt-to PUB.pem] [--pattern NAME]
 *                  [--realtime]
 *   make-recording STATE_DIR --recover
 *
 * Times are seconds from the start. --drop: participant P's link drops (nothing arrives);
 * --rejoin: P leaves and comes back under a new id. --realtime paces the packets on the clock
 * (for crash tests: kill -9 it, then --recover). Prints the recording's path. */
#include <gst/app/app.h>
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "evidence.h"
#include "recorder.h"

typedef struct {
  int64_t t_us; /* since the start */
  int participant;
  int track;
  GBytes *rtp;
} Pkt;

static int opt_seconds = 20, opt_participants = 3;
static char *opt_pause, *opt_drop, *opt_rejoin, *opt_encrypt, *opt_pattern;
static char **opt_marks;
static gboolean opt_realtime, opt_recover;
static char **opt_args;

static const GOptionEntry options[] = {
  { "seconds", 's', 0, G_OPTION_ARG_INT, &opt_seconds, "Length", "S" },
  { "participants", 'n', 0, G_OPTION_ARG_INT, &opt_participants, "How many", "N" },
  { "pause", 0, 0, G_OPTION_ARG_STRING, &opt_pause, "Pause from A to B", "A:B" },
  { "mark", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_marks, "A marker", "T:TEXT" },
  { "drop", 0, 0, G_OPTION_ARG_STRING, &opt_drop, "P's link drops from A to B", "P:A:B" },
  { "rejoin", 0, 0, G_OPTION_ARG_STRING, &opt_rejoin, "P leaves at A, rejoins at B", "P:A:B" },
  { "encrypt-to", 0, 0, G_OPTION_ARG_FILENAME, &opt_encrypt, "Court X25519 public key", "PEM" },
  { "pattern", 0, 0, G_OPTION_ARG_STRING, &opt_pattern, "videotestsrc pattern (default solid)",
    "NAME" },
  { "realtime", 0, 0, G_OPTION_ARG_NONE, &opt_realtime, "Pace packets on the clock", NULL },
  { "recover", 0, 0, G_OPTION_ARG_NONE, &opt_recover, "Finish interrupted recordings", NULL },
  { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_args, NULL, "STATE_DIR" },
  { NULL, 0, 0, 0, NULL, NULL, NULL },
};

static const guint32 colours[] = { 0xffff0000, 0xff00ff00, 0xff0000ff, 0xffffff00, 0xffff00ff };
static const char *const names[] = { "Judge Amy", "Clerk Bob", "Witness Cy", "Counsel Di", "Eve" };
static const char *const roles[] = { "judge", "clerk", "witness", "counsel", "observer" };

static gint
pkt_cmp(gconstpointer a, gconstpointer b)
{
  const Pkt *x = a, *y = b;
  return x->t_us < y->t_us ? -1 : x->t_us > y->t_us;
}

/* Encodes participant P's media and appends its RTP packets with their times to ALL. */
static void
encode(int p, GArray *all)
{
  int fps = 30;
  g_autofree char *pattern = opt_pattern != NULL
    ? g_strdup_printf("pattern=%s", opt_pattern)
    : g_strdup_printf("pattern=solid-color foreground-color=%u",
                      colours[p % G_N_ELEMENTS(colours)]);
  g_autofree char *desc = g_strdup_printf(
    "videotestsrc %s num-buffers=%d ! video/x-raw,format=I420,width=640,height=480,"
    "framerate=%d/1 ! vp8enc deadline=1 cpu-used=8 end-usage=cbr target-bitrate=800000 "
    "keyframe-max-dist=60 error-resilient=default+partitions lag-in-frames=0 threads=1 "
    "! rtpvp8pay pt=96 mtu=1200 picture-id-mode=15-bit ! appsink name=v sync=false "
    "audiotestsrc wave=sine freq=%d volume=0.5 samplesperbuffer=960 num-buffers=%d "
    "! audio/x-raw,rate=48000,channels=1 ! opusenc bitrate=40000 frame-size=20 "
    "! rtpopuspay pt=111 mtu=1200 ! appsink name=a sync=false",
    pattern, opt_seconds * fps, fps, 440 + 220 * p, opt_seconds * 50);
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch(desc, &err);
  g_assert_no_error(err);
  GstElement *sinks[2] = { gst_bin_get_by_name(GST_BIN(pipe), "a"),
                           gst_bin_get_by_name(GST_BIN(pipe), "v") };
  gst_element_set_state(pipe, GST_STATE_PLAYING);
  for (int track = 0; track < 2; track++) {
    GstSample *s;
    while ((s = gst_app_sink_pull_sample(GST_APP_SINK(sinks[track]))) != NULL) {
      GstBuffer *b = gst_sample_get_buffer(s);
      gsize size = gst_buffer_get_size(b);
      guint8 *data = g_malloc(size);
      gst_buffer_extract(b, 0, data, size);
      /* arrival: the media time plus a little network jitter */
      int64_t jitter = (int64_t) g_random_int_range(0, 8000);
      Pkt pk = { (int64_t) (GST_BUFFER_PTS(b) / 1000) + 200000 + jitter, p, track,
                 g_bytes_new_take(data, size) };
      g_array_append_val(all, pk);
      gst_sample_unref(s);
    }
  }
  gst_element_set_state(pipe, GST_STATE_NULL);
  gst_object_unref(sinks[0]);
  gst_object_unref(sinks[1]);
  gst_object_unref(pipe);
}

static gboolean
parse_span(const char *s, int *p, double *a, double *b)
{
  if (s == NULL)
    return FALSE;
  if (p != NULL)
    return sscanf(s, "%d:%lf:%lf", p, a, b) == 3;
  return sscanf(s, "%lf:%lf", a, b) == 2;
}

static void
wait_until(int64_t mono0, int64_t t_us)
{
  if (!opt_realtime)
    return;
  int64_t d = mono0 + t_us - g_get_monotonic_time();
  if (d > 0)
    g_usleep((gulong) d);
}

static char *
pid(int p, gboolean rejoined)
{
  return g_strdup_printf("peer-%d%s", p, rejoined ? "-again" : "");
}

typedef struct {
  int64_t t_us;
  int kind; /* 0 pause, 1 resume, 2 mark, 3 leave, 4 rejoin */
  const char *text;
} Event;

static gint
event_cmp(gconstpointer a, gconstpointer b)
{
  const Event *x = a, *y = b;
  return x->t_us < y->t_us ? -1 : x->t_us > y->t_us;
}

static GArray *
events(int *rejoin_p)
{
  GArray *ev = g_array_new(FALSE, FALSE, sizeof(Event));
  double a, b;
  int p;
  if (parse_span(opt_pause, NULL, &a, &b)) {
    g_array_append_val(ev, ((Event){ (int64_t) (a * 1e6), 0, NULL }));
    g_array_append_val(ev, ((Event){ (int64_t) (b * 1e6), 1, NULL }));
  }
  for (char **m = opt_marks; m != NULL && *m != NULL; m++) {
    const char *colon = strchr(*m, ':');
    if (colon != NULL)
      g_array_append_val(ev, ((Event){ (int64_t) (g_ascii_strtod(*m, NULL) * 1e6), 2, colon + 1 }));
  }
  *rejoin_p = -1;
  if (parse_span(opt_rejoin, &p, &a, &b)) {
    *rejoin_p = p;
    g_array_append_val(ev, ((Event){ (int64_t) (a * 1e6), 3, NULL }));
    g_array_append_val(ev, ((Event){ (int64_t) (b * 1e6), 4, NULL }));
  }
  g_array_sort(ev, event_cmp);
  return ev;
}

static void
apply_event(TmRecorder *r, const Event *e, int64_t t0, int rejoin_p)
{
  int64_t t = t0 + e->t_us;
  switch (e->kind) {
  case 0: tm_recorder_pause(r, t); break;
  case 1: tm_recorder_resume(r, t); break;
  case 2: tm_recorder_mark(r, e->text, "clerk", t); break;
  case 3: {
    g_autofree char *id = pid(rejoin_p, FALSE);
    tm_recorder_participant(r, id, names[rejoin_p], roles[rejoin_p], FALSE, t);
    break;
  }
  case 4: {
    g_autofree char *id = pid(rejoin_p, TRUE);
    tm_recorder_participant(r, id, names[rejoin_p], roles[rejoin_p], TRUE, t);
    tm_recorder_track(r, id, 0, "opus", 48000, 111);
    tm_recorder_track(r, id, 1, "VP8", 90000, 96);
    break;
  }
  }
}

static int
record(const char *state_dir, TmEvidenceKey *key)
{
  GArray *all = g_array_new(FALSE, FALSE, sizeof(Pkt));
  for (int p = 0; p < opt_participants; p++)
    encode(p, all);
  g_array_sort(all, pkt_cmp);
  int rejoin_p, drop_p = -1;
  double da = 0, db = 0;
  parse_span(opt_drop, &drop_p, &da, &db);
  g_autoptr(GArray) ev = events(&rejoin_p);
  int64_t t0 = g_get_real_time(), mono0 = g_get_monotonic_time();
  struct rusage ru0, ru1;
  getrusage(RUSAGE_SELF, &ru0);
  TmRecorderConfig cfg = { state_dir, "hearing-7", "CASE 2024/0042", opt_encrypt, key };
  GError *error = NULL;
  TmRecorder *r = tm_recorder_start(&cfg, t0, &error);
  if (r == NULL) {
    fprintf(stderr, "make-recording: %s\n", error->message);
    return 1;
  }
  printf("%s\n", tm_recorder_path(r));
  fflush(stdout);
  for (int p = 0; p < opt_participants; p++) {
    g_autofree char *id = pid(p, FALSE);
    tm_recorder_participant(r, id, names[p], roles[p], TRUE, t0 + 1000 * p);
    tm_recorder_track(r, id, 0, "opus", 48000, 111);
    tm_recorder_track(r, id, 1, "VP8", 90000, 96);
  }
  guint next_ev = 0;
  for (guint i = 0; i < all->len; i++) {
    Pkt *pk = &g_array_index(all, Pkt, i);
    while (next_ev < ev->len && g_array_index(ev, Event, next_ev).t_us <= pk->t_us)
      apply_event(r, &g_array_index(ev, Event, next_ev++), t0, rejoin_p);
    wait_until(mono0, pk->t_us);
    double s = pk->t_us / 1e6;
    gboolean rejoined = FALSE;
    if (pk->participant == rejoin_p) {
      double a, b;
      int p;
      parse_span(opt_rejoin, &p, &a, &b);
      if (s >= a && s < b)
        continue;
      rejoined = s >= b;
    }
    if (pk->participant == drop_p && s >= da && s < db)
      continue;
    g_autofree char *id = pid(pk->participant, rejoined);
    gsize len;
    const guint8 *data = g_bytes_get_data(pk->rtp, &len);
    tm_recorder_packet(r, id, pk->track, data, len, t0 + pk->t_us);
  }
  while (next_ev < ev->len)
    apply_event(r, &g_array_index(ev, Event, next_ev++), t0, rejoin_p);
  int64_t end = all->len > 0 ? g_array_index(all, Pkt, all->len - 1).t_us + 20000 : 0;
  g_autofree char *path = tm_recorder_stop(r, t0 + end, &error);
  getrusage(RUSAGE_SELF, &ru1);
  double cpu = (double) (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec -
                         ru0.ru_stime.tv_sec) +
    (double) (ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru1.ru_stime.tv_usec -
              ru0.ru_stime.tv_usec) /
      1e6;
  fprintf(stderr, "recorded %u packets in %.2f s wall, %.2f s CPU (recorder and feeding)\n",
          all->len, (double) (g_get_monotonic_time() - mono0) / 1e6, cpu);
  for (guint i = 0; i < all->len; i++)
    g_bytes_unref(g_array_index(all, Pkt, i).rtp);
  g_array_unref(all);
  if (path == NULL) {
    fprintf(stderr, "make-recording: %s\n", error->message);
    return 1;
  }
  return 0;
}

int
main(int argc, char **argv)
{
  g_autoptr(GOptionContext) ctx = g_option_context_new("STATE_DIR");
  g_option_context_add_main_entries(ctx, options, NULL);
  GError *error = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error) || opt_args == NULL) {
    fprintf(stderr, "make-recording: %s\n", error != NULL ? error->message : "STATE_DIR?");
    return 2;
  }
  gst_init(NULL, NULL);
  g_autoptr(TmEvidenceKey) key = tm_evidence_key_load(opt_args[0], &error);
  if (key == NULL) {
    fprintf(stderr, "make-recording: %s\n", error->message);
    return 1;
  }
  if (opt_recover) {
    guint n = tm_recorder_recover(opt_args[0], key, &error);
    printf("recovered %u\n", n);
    return error == NULL ? 0 : 1;
  }
  return record(opt_args[0], key);
}
