/* export.c — testimony-export: a recording to Matroska.
 *
 *   testimony-export RECORDING -o FILE.mkv [--composite] [--key COURT_PRIVATE.pem]
 *                    [--pipelines DIR]
 *
 * Checks the recording first (as testimony-verify) and refuses one that does not verify.
 * Each participant's stored RTP goes through an appsrc, timestamped from its arrival time, into
 * the pipeline described by pipelines/export-tracks.pipeline (separate tracks, packets
 * unchanged) or export-composite.pipeline (tiled, labelled, timecode, mixed audio). */
#include <gst/app/app.h>
#include <gst/gst.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datadir.h"
#include "evidence.h"
#include "recording-reader.h"

#define TILE_WIDTH 480
#define TILE_HEIGHT 360
#define REANCHOR_US 200000 /* RTP time further than this from arrival time: re-anchor */

typedef struct {
  int64_t pts_ns;
  const uint8_t *data;
  size_t len;
  guint track;
  guint order; /* position in its track: keeps equal times in arrival order */
} Packet;

typedef struct {
  guint participant;
  int kind; /* 0 audio, 1 video */
  char *codec;
  uint32_t clock_rate;
  uint8_t pt;
  char *name;      /* element name prefix */
  GArray *packets; /* of Packet, in arrival order */
  /* timestamp smoothing */
  gboolean anchored;
  uint64_t ext_ts, anchor_ts;
  int64_t anchor_ns, last_ns;
} Track;

typedef struct {
  char *name, *role;
} Person;

typedef struct {
  TmRecording *rec;
  TmRecordKey key;
  GPtrArray *plain;  /* decrypted chunk payloads, kept while packets point into them */
  GPtrArray *tracks; /* of Track* */
  GPtrArray *people; /* of Person*, by participant index */
  GArray *pauses;    /* of int64_t pairs: start, end (UTC µs) */
  gboolean paused;
  guint skipped;
  GstElement *pipeline;
  GMainLoop *loop;
  GError *error;
} Export;

static char *opt_output, *opt_key, *opt_pipelines;
static gboolean opt_composite;
static char **opt_args;

static const GOptionEntry options[] = {
  { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_output, "Matroska file to write", "FILE.mkv" },
  { "composite", 'c', 0, G_OPTION_ARG_NONE, &opt_composite,
    "One tiled picture with names and timecode, and the audio mixed", NULL },
  { "key", 'k', 0, G_OPTION_ARG_FILENAME, &opt_key,
    "The court's X25519 private key (PEM), for an encrypted recording", "FILE" },
  { "pipelines", 0, 0, G_OPTION_ARG_FILENAME, &opt_pipelines,
    "Where export-*.pipeline are (default: $TESTIMONY_PIPELINES, the installed ones)", "DIR" },
  { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_args, NULL, "RECORDING" },
  { NULL, 0, 0, 0, NULL, NULL, NULL },
};

static void
track_free(Track *t)
{
  g_free(t->codec);
  g_free(t->name);
  g_array_unref(t->packets);
  g_free(t);
}

static void
person_free(Person *p)
{
  g_free(p->name);
  g_free(p->role);
  g_free(p);
}

static Person *
person(Export *ex, guint index)
{
  while (ex->people->len <= index) {
    Person *p = g_new0(Person, 1);
    p->name = g_strdup_printf("participant %u", ex->people->len + 1);
    p->role = g_strdup("");
    g_ptr_array_add(ex->people, p);
  }
  return g_ptr_array_index(ex->people, index);
}

static Track *
track_get(Export *ex, guint participant, int kind)
{
  for (guint i = 0; i < ex->tracks->len; i++) {
    Track *t = g_ptr_array_index(ex->tracks, i);
    if (t->participant == participant && t->kind == kind)
      return t;
  }
  return NULL;
}

/* Microseconds of the export timeline: since the start, pauses cut out. */
static int64_t
timeline_us(const Export *ex, int64_t t)
{
  int64_t paused = 0;
  for (guint i = 0; i + 1 < ex->pauses->len; i += 2) {
    int64_t a = g_array_index(ex->pauses, int64_t, i);
    int64_t b = g_array_index(ex->pauses, int64_t, i + 1);
    if (t >= b)
      paused += b - a;
    else if (t > a)
      paused += t - a;
  }
  return t - ex->rec->start_us - paused;
}

/* The inverse: UTC µs of a point of the export timeline. */
static int64_t
timeline_to_utc(const Export *ex, int64_t us)
{
  int64_t t = ex->rec->start_us + us;
  for (guint i = 0; i + 1 < ex->pauses->len; i += 2) {
    int64_t a = g_array_index(ex->pauses, int64_t, i);
    int64_t b = g_array_index(ex->pauses, int64_t, i + 1);
    if (t >= a)
      t += b - a;
  }
  return t;
}

static void
handle_entry(Export *ex, const TmRecordEntry *e)
{
  switch (e->type) {
  case TM_RECORD_JOIN: {
    Person *p = person(ex, e->participant);
    g_free(p->name);
    g_free(p->role);
    p->name = tm_record_str_dup(e->name);
    p->role = tm_record_str_dup(e->role);
    break;
  }
  case TM_RECORD_TRACK: {
    Track *t = track_get(ex, e->participant, e->track);
    if (t == NULL) {
      t = g_new0(Track, 1);
      t->participant = e->participant;
      t->kind = e->track;
      t->name = g_strdup_printf("p%u%c", e->participant, e->track ? 'v' : 'a');
      t->packets = g_array_new(FALSE, FALSE, sizeof(Packet));
      g_ptr_array_add(ex->tracks, t);
    }
    g_free(t->codec);
    t->codec = tm_record_str_dup(e->codec);
    t->clock_rate = e->clock_rate;
    t->pt = e->pt;
    break;
  }
  case TM_RECORD_PAUSE:
    if (!ex->paused)
      g_array_append_val(ex->pauses, e->time_us);
    ex->paused = TRUE;
    break;
  case TM_RECORD_RESUME:
    if (ex->paused)
      g_array_append_val(ex->pauses, e->time_us);
    ex->paused = FALSE;
    break;
  case TM_RECORD_PACKET: {
    Track *t = track_get(ex, e->participant, e->track);
    if (t == NULL || t->clock_rate == 0 || e->rtp_len < 12) {
      ex->skipped++;
      break;
    }
    Packet p = { .pts_ns = e->time_us, .data = e->rtp, .len = e->rtp_len };
    g_array_append_val(t->packets, p);
    break;
  }
  default: break;
  }
}

static gboolean
collect(Export *ex, GError **error)
{
  const TmRecording *rec = ex->rec;
  size_t pos = rec->res.header.size;
  for (uint32_t i = 0; i < rec->res.chunks; i++) {
    TmRecordChunk c;
    tm_record_chunk_parse(rec->bytes + pos, rec->len - pos, &c); /* verified before */
    GByteArray *buf = g_byte_array_new();
    g_ptr_array_add(ex->plain, buf);
    const uint8_t *plain;
    size_t plain_len;
    TmRecordError err = tm_record_chunk_open(&ex->key, &c, buf, &plain, &plain_len);
    TmReader r;
    tm_reader_init(&r, plain, plain_len);
    TmRecordEntry e;
    while (err == TM_RECORD_OK && tm_reader_remaining(&r) > 0 &&
           (err = tm_record_entry_parse(&r, &e)) == TM_RECORD_OK)
      handle_entry(ex, &e);
    if (err != TM_RECORD_OK) {
      g_autofree char *at = tm_recording_hearing_time(rec, c.first_us, FALSE);
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                  "cannot read chunk %u (at %s in the hearing): %s", i, at,
                  tm_record_strerror(err));
      return FALSE;
    }
    pos += c.size;
  }
  if (ex->paused)
    g_array_append_val(ex->pauses, rec->end_us);
  return TRUE;
}

static uint16_t
rtp_seq(const Packet *p)
{
  return (uint16_t) (p->data[2] << 8 | p->data[3]);
}

static uint32_t
rtp_ssrc(const Packet *p)
{
  return (uint32_t) p->data[8] << 24 | (uint32_t) p->data[9] << 16 | (uint32_t) p->data[10] << 8 |
    p->data[11];
}

static gint
order_cmp(gconstpointer a, gconstpointer b)
{
  const Packet *x = a, *y = b;
  if (x->order != y->order) /* here: the extended sequence number within a run */
    return x->order < y->order ? -1 : 1;
  return x->pts_ns < y->pts_ns ? -1 : x->pts_ns > y->pts_ns;
}

/* What a jitter buffer does, on stored packets: puts each run of a sender (same SSRC, no jump
 * of the sequence number) into sequence order and drops duplicates. Runs keep arrival order. */
static void
reorder(Track *t)
{
  GArray *pk = t->packets;
  guint run = 0;
  uint32_t ext = 0;
  for (guint i = 0; i <= pk->len; i++) {
    Packet *p = i < pk->len ? &g_array_index(pk, Packet, i) : NULL;
    gboolean new_run = p == NULL || i == run;
    if (p != NULL && i > run) {
      const Packet *prev = &g_array_index(pk, Packet, i - 1);
      int16_t d = (int16_t) (uint16_t) (rtp_seq(p) - rtp_seq(prev));
      new_run = rtp_ssrc(p) != rtp_ssrc(prev) || d > 1000 || d < -1000;
    }
    if (new_run && i > run) {
      GArray *slice = g_array_new(FALSE, FALSE, sizeof(Packet));
      g_array_append_vals(slice, &g_array_index(pk, Packet, run), i - run);
      g_array_sort(slice, order_cmp);
      memcpy(&g_array_index(pk, Packet, run), slice->data, (i - run) * sizeof(Packet));
      g_array_unref(slice);
      run = i;
    }
    if (p == NULL)
      break;
    if (i == run) {
      ext = 1u << 20; /* room to go back */
    } else {
      const Packet *prev = &g_array_index(pk, Packet, i - 1);
      ext = (uint32_t) ((int64_t) prev->order + (int16_t) (uint16_t) (rtp_seq(p) - rtp_seq(prev)));
    }
    p->order = ext;
  }
  guint w = 0;
  for (guint i = 0; i < pk->len; i++) {
    Packet *p = &g_array_index(pk, Packet, i);
    if (w > 0 && rtp_seq(p) == rtp_seq(&g_array_index(pk, Packet, w - 1)) &&
        rtp_ssrc(p) == rtp_ssrc(&g_array_index(pk, Packet, w - 1)))
      continue; /* duplicate */
    g_array_index(pk, Packet, w++) = *p;
  }
  g_array_set_size(pk, w);
}

/* Packet times from arrival times: the RTP timestamp gives the spacing, the arrival time the
 * anchor; when they drift apart (a gap, a pause, a new sender) the anchor moves to arrival. */
static void
assign_timestamps(Export *ex, Track *t)
{
  for (guint i = 0; i < t->packets->len; i++) {
    Packet *p = &g_array_index(t->packets, Packet, i);
    int64_t arrival_ns = timeline_us(ex, p->pts_ns) * 1000;
    uint32_t ts = (uint32_t) p->data[4] << 24 | (uint32_t) p->data[5] << 16 |
      (uint32_t) p->data[6] << 8 | p->data[7];
    if (!t->anchored) {
      t->ext_ts = (uint64_t) ts + ((uint64_t) 1 << 32);
    } else {
      t->ext_ts += (uint64_t) (int64_t) (int32_t) (ts - (uint32_t) t->ext_ts);
    }
    int64_t rtp_ns = t->anchor_ns +
      (int64_t) gst_util_uint64_scale_int(t->ext_ts - MIN(t->ext_ts, t->anchor_ts), GST_SECOND,
                                          (gint) t->clock_rate);
    if (!t->anchored || t->ext_ts < t->anchor_ts ||
        llabs(rtp_ns - arrival_ns) > REANCHOR_US * 1000) {
      t->anchored = TRUE;
      t->anchor_ts = t->ext_ts;
      t->anchor_ns = arrival_ns;
      rtp_ns = arrival_ns;
    }
    p->pts_ns = MAX(MAX(rtp_ns, t->last_ns), 0);
    t->last_ns = p->pts_ns;
  }
}

/* ---- pipeline description ---- */

static char *
pipeline_path(const char *name, GError **error)
{
  const char *env = g_getenv("TESTIMONY_PIPELINES");
  g_autofree char *installed = tm_datadir_find("pipelines");
  const char *dirs[] = { opt_pipelines, env, installed };
  for (gsize i = 0; i < G_N_ELEMENTS(dirs); i++) {
    if (dirs[i] == NULL)
      continue;
    char *path = g_build_filename(dirs[i], name, NULL);
    if (g_file_test(path, G_FILE_TEST_IS_REGULAR) || (i == 0 && opt_pipelines != NULL))
      return path;
    g_free(path);
  }
  g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
              "cannot find %s (looked in --pipelines, $TESTIMONY_PIPELINES, %s)", name, installed);
  return NULL;
}

/* Sections of a pipeline file: "[name]" lines start them; comments dropped, lines joined. */
static GHashTable *
load_sections(const char *path, GError **error)
{
  g_autofree char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, error))
    return NULL;
  GHashTable *sections = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  GString *cur = NULL;
  char *cur_name = NULL;
  for (char **l = lines;; l++) {
    char *line = *l != NULL ? g_strstrip(*l) : NULL;
    size_t n = line != NULL ? strlen(line) : 0;
    gboolean header = n > 2 && line[0] == '[' && line[n - 1] == ']';
    if ((line == NULL || header) && cur != NULL) {
      g_hash_table_replace(sections, cur_name, g_string_free(cur, FALSE));
      cur = NULL;
    }
    if (line == NULL)
      break;
    if (header) {
      cur_name = g_strndup(line + 1, n - 2);
      cur = g_string_new(NULL);
    } else if (cur != NULL && n > 0 && line[0] != '#') {
      g_string_append_printf(cur, "%s ", line);
    }
  }
  static const char *const needed[] = { "output", "video", "audio" };
  for (gsize i = 0; i < G_N_ELEMENTS(needed); i++) {
    if (!g_hash_table_contains(sections, needed[i])) {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s has no [%s] section", path,
                  needed[i]);
      g_hash_table_unref(sections);
      return NULL;
    }
  }
  return sections;
}

typedef struct {
  const char *codec; /* as in the TRACK record, case-insensitive */
  int kind;
  const char *encoding_name; /* RTP caps */
  const char *depay, *decode;
} Codec;

static const Codec codecs[] = {
  { "VP8", 1, "VP8", "rtpvp8depay wait-for-keyframe=true", "vp8dec" },
  { "VP9", 1, "VP9", "rtpvp9depay", "vp9dec" },
  { "H264", 1, "H264", "rtph264depay ! h264parse", "avdec_h264" },
  { "opus", 0, "OPUS", "rtpopusdepay", "opusdec plc=true" },
};

static const Codec *
codec_find(const Track *t)
{
  for (gsize i = 0; i < G_N_ELEMENTS(codecs); i++)
    if (g_ascii_strcasecmp(codecs[i].codec, t->codec) == 0 && codecs[i].kind == t->kind)
      return &codecs[i];
  return NULL;
}

static char *
replace_all(const char *text, const char *const *pairs)
{
  GString *s = g_string_new(text);
  for (const char *const *p = pairs; p[0] != NULL; p += 2)
    g_string_replace(s, p[0], p[1], 0);
  return g_string_free(s, FALSE);
}

static void
tiles(guint n, guint *cols, guint *rows)
{
  *cols = 1;
  while (*cols * *cols < n)
    (*cols)++;
  *rows = n == 0 ? 1 : (n + *cols - 1) / *cols;
}

static char *
describe(Export *ex, GHashTable *sections)
{
  guint videos = 0;
  for (guint i = 0; i < ex->tracks->len; i++)
    videos += ((Track *) g_ptr_array_index(ex->tracks, i))->kind == 1;
  guint cols, rows;
  tiles(videos, &cols, &rows);
  g_autofree char *tw = g_strdup_printf("%d", TILE_WIDTH), *th = g_strdup_printf("%d", TILE_HEIGHT);
  g_autofree char *w = g_strdup_printf("%u", cols * TILE_WIDTH);
  g_autofree char *h = g_strdup_printf("%u", rows * TILE_HEIGHT);
  GString *desc = g_string_new(NULL);
  const char *const out_pairs[] = { "@WIDTH@", w, "@HEIGHT@", h, NULL };
  g_autofree char *out = replace_all(g_hash_table_lookup(sections, "output"), out_pairs);
  g_string_append(desc, out);
  for (guint i = 0; i < ex->tracks->len; i++) {
    Track *t = g_ptr_array_index(ex->tracks, i);
    const Codec *c = codec_find(t);
    const char *const pairs[] = {
      "@NAME@", t->name,         "@DEPAY@", c->depay,  "@DECODE@", c->decode,  "@TILE_WIDTH@",
      tw,       "@TILE_HEIGHT@", th,        "@WIDTH@", w,          "@HEIGHT@", h,
      NULL
    };
    g_autofree char *frag =
      replace_all(g_hash_table_lookup(sections, t->kind ? "video" : "audio"), pairs);
    g_string_append_printf(desc, " %s", frag);
  }
  return g_string_free(desc, FALSE);
}

static char *
track_title(Export *ex, const Track *t)
{
  Person *p = person(ex, t->participant);
  return g_strdup_printf("%s (%s) %s", p->name, p->role, t->kind ? "video" : "audio");
}

static GstPadProbeReturn
timecode_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Export *ex = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
  if (buf == NULL || !GST_BUFFER_PTS_IS_VALID(buf))
    return GST_PAD_PROBE_OK;
  int64_t us = (int64_t) (GST_BUFFER_PTS(buf) / 1000);
  int64_t utc = timeline_to_utc(ex, us);
  g_autoptr(GDateTime) base = g_date_time_new_from_unix_utc(utc / G_USEC_PER_SEC);
  g_autofree char *when = base != NULL ? g_date_time_format(base, "%Y-%m-%d %H:%M:%S") : NULL;
  g_autofree char *at = tm_recording_hearing_time(ex->rec, utc, FALSE);
  g_autofree char *text = g_strdup_printf("%s.%01d UTC   hearing %s", when ? when : "?",
                                          (int) (utc % G_USEC_PER_SEC / 100000), at);
  GstElement *overlay = GST_ELEMENT(gst_pad_get_parent(pad));
  g_object_set(overlay, "text", text, NULL);
  gst_object_unref(overlay);
  return GST_PAD_PROBE_OK;
}

/* Sets what the description leaves to the tool: caps, titles, labels, tile places, output. */
static gboolean
configure(Export *ex, GError **error)
{
  GstBin *bin = GST_BIN(ex->pipeline);
  g_autoptr(GstElement) out = gst_bin_get_by_name(bin, "out");
  if (out == NULL) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the pipeline has no element \"out\"");
    return FALSE;
  }
  g_object_set(out, "location", opt_output, NULL);
  guint videos = 0, cols, rows, tile = 0;
  for (guint i = 0; i < ex->tracks->len; i++)
    videos += ((Track *) g_ptr_array_index(ex->tracks, i))->kind == 1;
  tiles(videos, &cols, &rows);
  for (guint i = 0; i < ex->tracks->len; i++) {
    Track *t = g_ptr_array_index(ex->tracks, i);
    const Codec *c = codec_find(t);
    g_autoptr(GstElement) src = gst_bin_get_by_name(bin, t->name);
    if (src == NULL) {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the pipeline has no appsrc %s",
                  t->name);
      return FALSE;
    }
    g_autoptr(GstCaps) caps = gst_caps_new_simple(
      "application/x-rtp", "media", G_TYPE_STRING, t->kind ? "video" : "audio", "clock-rate",
      G_TYPE_INT, (int) t->clock_rate, "encoding-name", G_TYPE_STRING, c->encoding_name, "payload",
      G_TYPE_INT, (int) t->pt, NULL);
    if (t->kind == 0) /* Opus over RTP is always 48 kHz; the SDP defaults are mono */
      gst_caps_set_simple(caps, "sprop-maxcapturerate", G_TYPE_STRING, "48000", "sprop-stereo",
                          G_TYPE_STRING, "0", NULL);
    g_object_set(src, "caps", caps, "max-bytes", (guint64) 0, NULL);
    g_autofree char *title = track_title(ex, t);
    g_autofree char *tags_name = g_strconcat(t->name, "_tags", NULL);
    g_autoptr(GstElement) tags = gst_bin_get_by_name(bin, tags_name);
    if (tags != NULL) {
      g_autofree char *esc = g_strescape(title, NULL);
      g_autofree char *value = g_strdup_printf("title=\"%s\"", esc);
      g_object_set(tags, "tags", value, NULL);
    }
    g_autofree char *label_name = g_strconcat(t->name, "_label", NULL);
    g_autoptr(GstElement) label = gst_bin_get_by_name(bin, label_name);
    if (label != NULL) {
      Person *p = person(ex, t->participant);
      g_autofree char *text = g_strdup_printf("%s (%s)", p->name, p->role);
      g_object_set(label, "text", text, NULL);
      g_autoptr(GstPad) srcpad = gst_element_get_static_pad(label, "src");
      g_autoptr(GstPad) peer = srcpad != NULL ? gst_pad_get_peer(srcpad) : NULL;
      if (peer != NULL)
        g_object_set(peer, "xpos", (int) (tile % cols * TILE_WIDTH), "ypos",
                     (int) (tile / cols * TILE_HEIGHT), NULL);
      tile++;
    }
  }
  g_autoptr(GstElement) timecode = gst_bin_get_by_name(bin, "timecode");
  if (timecode != NULL) {
    g_autoptr(GstPad) sink = gst_element_get_static_pad(timecode, "video_sink");
    gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_BUFFER, timecode_probe, ex, NULL);
  }
  return TRUE;
}

static gint
packet_cmp(gconstpointer a, gconstpointer b)
{
  const Packet *x = a, *y = b;
  if (x->pts_ns != y->pts_ns)
    return x->pts_ns < y->pts_ns ? -1 : 1;
  if (x->track != y->track)
    return x->track < y->track ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

/* Every packet, in timeline order across tracks, wrapped without copying. */
static void
feed(Export *ex)
{
  GArray *all = g_array_new(FALSE, FALSE, sizeof(Packet));
  for (guint i = 0; i < ex->tracks->len; i++) {
    Track *t = g_ptr_array_index(ex->tracks, i);
    for (guint j = 0; j < t->packets->len; j++) {
      Packet p = g_array_index(t->packets, Packet, j);
      p.track = i;
      p.order = j;
      g_array_append_val(all, p);
    }
  }
  g_array_sort(all, packet_cmp);
  GstElement **srcs = g_new0(GstElement *, ex->tracks->len);
  for (guint i = 0; i < ex->tracks->len; i++)
    srcs[i] = gst_bin_get_by_name(GST_BIN(ex->pipeline),
                                  ((Track *) g_ptr_array_index(ex->tracks, i))->name);
  for (guint i = 0; i < all->len; i++) {
    Packet *p = &g_array_index(all, Packet, i);
    GstBuffer *buf = gst_buffer_new_wrapped_full(GST_MEMORY_FLAG_READONLY, (gpointer) p->data,
                                                 p->len, 0, p->len, NULL, NULL);
    GST_BUFFER_PTS(buf) = GST_BUFFER_DTS(buf) = (GstClockTime) p->pts_ns;
    gst_app_src_push_buffer(GST_APP_SRC(srcs[p->track]), buf);
  }
  for (guint i = 0; i < ex->tracks->len; i++) {
    gst_app_src_end_of_stream(GST_APP_SRC(srcs[i]));
    gst_object_unref(srcs[i]);
  }
  g_free(srcs);
  g_array_unref(all);
}

static gboolean
on_bus(GstBus *bus, GstMessage *msg, gpointer data)
{
  Export *ex = data;
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS) {
    g_main_loop_quit(ex->loop);
  } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError *err = NULL;
    g_autofree char *dbg = NULL;
    gst_message_parse_error(msg, &err, &dbg);
    if (ex->error == NULL)
      g_set_error(&ex->error, G_IO_ERROR, G_IO_ERROR_FAILED,
                  "the export pipeline failed in %s: "
                  "%s (%s)",
                  GST_OBJECT_NAME(msg->src), err->message, dbg ? dbg : "");
    g_error_free(err);
    g_main_loop_quit(ex->loop);
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
run_pipeline(Export *ex, GError **error)
{
  g_autofree char *path =
    pipeline_path(opt_composite ? "export-composite.pipeline" : "export-tracks.pipeline", error);
  if (path == NULL)
    return FALSE;
  g_autoptr(GHashTable) sections = load_sections(path, error);
  if (sections == NULL)
    return FALSE;
  g_autofree char *desc = describe(ex, sections);
  GError *perr = NULL;
  ex->pipeline = gst_parse_launch(desc, &perr);
  if (ex->pipeline == NULL || perr != NULL) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "bad pipeline description in %s: %s",
                path, perr != NULL ? perr->message : "?");
    g_clear_error(&perr);
    return FALSE;
  }
  if (!configure(ex, error))
    return FALSE;
  ex->loop = g_main_loop_new(NULL, FALSE);
  g_autoptr(GstBus) bus = gst_element_get_bus(ex->pipeline);
  guint watch = gst_bus_add_watch(bus, on_bus, ex);
  if (gst_element_set_state(ex->pipeline, GST_STATE_PAUSED) == GST_STATE_CHANGE_FAILURE) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                "cannot start the export pipeline "
                "(can %s be written?)",
                opt_output);
  } else {
    feed(ex);
    gst_element_set_state(ex->pipeline, GST_STATE_PLAYING);
    g_main_loop_run(ex->loop);
  }
  gst_element_set_state(ex->pipeline, GST_STATE_NULL);
  g_source_remove(watch);
  if (ex->error != NULL) {
    g_propagate_error(error, ex->error);
    ex->error = NULL;
  }
  return error == NULL || *error == NULL;
}

static gboolean
prepare(Export *ex, GError **error)
{
  const TmRecordHeader *h = &ex->rec->res.header;
  uint8_t priv[32];
  if (h->encrypted && opt_key == NULL) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                "the recording is encrypted for the court: give its private key with --key");
    return FALSE;
  }
  if (h->encrypted && !tm_evidence_x25519_private_load(opt_key, priv, error))
    return FALSE;
  TmRecordError err = tm_record_key_init(&ex->key, h, h->encrypted ? priv : NULL);
  memset(priv, 0, sizeof priv);
  if (err != TM_RECORD_OK) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "%s: %s", opt_key,
                tm_record_strerror(err));
    return FALSE;
  }
  if (!collect(ex, error))
    return FALSE;
  for (guint i = 0; i < ex->tracks->len;) {
    Track *t = g_ptr_array_index(ex->tracks, i);
    if (codec_find(t) == NULL || t->packets->len == 0) {
      if (t->packets->len > 0)
        g_printerr("testimony-export: skipping %s: codec %s is not supported\n", t->name, t->codec);
      g_ptr_array_remove_index(ex->tracks, i);
      continue;
    }
    reorder(t);
    assign_timestamps(ex, t);
    i++;
  }
  if (ex->tracks->len == 0) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the recording holds no media");
    return FALSE;
  }
  return TRUE;
}

static int
export_recording(const char *path)
{
  GError *error = NULL;
  Export ex = { 0 };
  ex.rec = tm_recording_open(path, &error);
  if (ex.rec != NULL && !tm_recording_check(ex.rec, NULL, &error)) {
    g_prefix_error(&error, "will not export a recording that does not verify: ");
  }
  ex.plain = g_ptr_array_new_with_free_func((GDestroyNotify) g_byte_array_unref);
  ex.tracks = g_ptr_array_new_with_free_func((GDestroyNotify) track_free);
  ex.people = g_ptr_array_new_with_free_func((GDestroyNotify) person_free);
  ex.pauses = g_array_new(FALSE, FALSE, sizeof(int64_t));
  gboolean ok = error == NULL && prepare(&ex, &error) && run_pipeline(&ex, &error);
  if (ok) {
    printf("wrote %s: %u tracks%s\n", opt_output, ex.tracks->len,
           opt_composite ? " composited into one picture and one mix" : "");
    for (guint i = 0; i < ex.tracks->len; i++) {
      Track *t = g_ptr_array_index(ex.tracks, i);
      g_autofree char *title = track_title(&ex, t);
      printf("  %s: %s, %u packets\n", title, t->codec, t->packets->len);
    }
  } else {
    fprintf(stderr, "testimony-export: %s\n", error->message);
    g_error_free(error);
  }
  if (ex.pipeline != NULL)
    gst_object_unref(ex.pipeline);
  if (ex.loop != NULL)
    g_main_loop_unref(ex.loop);
  tm_record_key_clear(&ex.key);
  g_ptr_array_unref(ex.tracks);
  g_ptr_array_unref(ex.plain);
  g_ptr_array_unref(ex.people);
  g_array_unref(ex.pauses);
  tm_recording_free(ex.rec);
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}

int
main(int argc, char **argv)
{
  setlocale(LC_ALL, "");
  g_autoptr(GOptionContext) ctx = g_option_context_new("RECORDING -o FILE.mkv");
  g_option_context_set_summary(ctx,
                               "Exports an evidence recording of testimony-relay to "
                               "Matroska: each participant's audio and video as separate, "
                               "time-aligned tracks, or one composite picture.");
  g_option_context_add_main_entries(ctx, options, NULL);
  g_option_context_add_group(ctx, gst_init_get_option_group());
  GError *error = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    fprintf(stderr, "testimony-export: %s\n", error->message);
    g_error_free(error);
    return 2;
  }
  if (opt_args == NULL || g_strv_length(opt_args) != 1 || opt_output == NULL) {
    fprintf(stderr,
            "usage: testimony-export RECORDING -o FILE.mkv [--composite] "
            "[--key COURT_PRIVATE.pem]\n");
    return 2;
  }
  gst_init(NULL, NULL);
  int rc = export_recording(opt_args[0]);
  g_strfreev(opt_args);
  return rc;
}
