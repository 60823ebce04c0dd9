/* recorder.c — the shell side of evidence recording: a writer thread fed by a queue, the
 * chunk file and its journal, gap detection, the signed manifest, crash recovery. */
#define G_LOG_DOMAIN "testimony-recorder"
#include "recorder.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "record.h"

#define QUEUE_CAP_BYTES (64 * 1024 * 1024)   /* beyond: packets are dropped and counted */
#define CHUNK_PERIOD_US (G_USEC_PER_SEC / 2) /* a chunk is closed at least this often */
#define GAP_THRESHOLD_US G_USEC_PER_SEC      /* silence longer than this, then media: a gap */
#define DATA_FILE "recording.tmr"
#define JOURNAL_FILE "events.bin"
#define MANIFEST_FILE "manifest.json"
#define SIG_FILE "manifest.sig"
#define CHECKPOINT_FILE "checkpoints.bin"

/* ---- summary: what the manifest says, rebuilt from records (live or from the journal) ---- */

typedef struct {
  int64_t join_us, leave_us; /* leave_us INT64_MIN while present */
} Span;

typedef struct {
  guint index;
  char *id, *name, *role;
  gboolean present;
  GArray *spans; /* of Span */
  gboolean has_track[2];
  char *codec[2];
  uint32_t clock_rate[2];
  uint8_t pt[2];
  int64_t last_packet_us[2]; /* writer thread: gap detection (INT64_MIN: none yet) */
} Participant;

typedef struct {
  guint participant;
  int track; /* 0, 1, or -1 for all */
  int64_t start_us, end_us;
} Gap;

typedef struct {
  int64_t time_us;
  char *by, *text;
} Marker;

typedef struct {
  int64_t start_us, end_us; /* end INT64_MIN while paused */
} Pause;

typedef struct {
  int64_t start_us, end_us;
  GPtrArray *participants; /* of Participant*, by index */
  GArray *gaps;
  GPtrArray *markers;
  GArray *pauses;
  gboolean paused;
} Summary;

static void
participant_free(Participant *p)
{
  g_free(p->id);
  g_free(p->name);
  g_free(p->role);
  g_free(p->codec[0]);
  g_free(p->codec[1]);
  g_array_unref(p->spans);
  g_free(p);
}

static void
marker_free(Marker *m)
{
  g_free(m->by);
  g_free(m->text);
  g_free(m);
}

static void
summary_init(Summary *s, int64_t start_us)
{
  memset(s, 0, sizeof *s);
  s->start_us = s->end_us = start_us;
  s->participants = g_ptr_array_new_with_free_func((GDestroyNotify) participant_free);
  s->gaps = g_array_new(FALSE, FALSE, sizeof(Gap));
  s->markers = g_ptr_array_new_with_free_func((GDestroyNotify) marker_free);
  s->pauses = g_array_new(FALSE, FALSE, sizeof(Pause));
}

static void
summary_clear(Summary *s)
{
  g_ptr_array_unref(s->participants);
  g_array_unref(s->gaps);
  g_ptr_array_unref(s->markers);
  g_array_unref(s->pauses);
}

static Participant *
summary_participant(Summary *s, guint index, gboolean create)
{
  while (create && index >= s->participants->len && index < TM_RECORD_NO_PARTICIPANT) {
    Participant *p = g_new0(Participant, 1);
    p->index = s->participants->len;
    p->id = g_strdup("");
    p->name = g_strdup("");
    p->role = g_strdup("");
    p->spans = g_array_new(FALSE, FALSE, sizeof(Span));
    p->last_packet_us[0] = p->last_packet_us[1] = INT64_MIN;
    g_ptr_array_add(s->participants, p);
  }
  return index < s->participants->len ? g_ptr_array_index(s->participants, index) : NULL;
}

static void
replace_str(char **dst, TmRecordStr s)
{
  g_free(*dst);
  *dst = tm_record_str_dup(s);
}

/* Applies one record to the summary. The same function serves the live recorder and recovery
 * from the journal, so both write the same manifest. */
static void
summary_apply(Summary *s, const TmRecordEntry *e)
{
  s->end_us = MAX(s->end_us, e->time_us);
  Participant *p = summary_participant(s, e->participant, e->type == TM_RECORD_JOIN);
  switch (e->type) {
  case TM_RECORD_JOIN:
    if (p == NULL || p->present)
      return;
    replace_str(&p->id, e->id);
    replace_str(&p->name, e->name);
    replace_str(&p->role, e->role);
    p->present = TRUE;
    g_array_append_val(p->spans, ((Span){ e->time_us, INT64_MIN }));
    break;
  case TM_RECORD_LEAVE:
    if (p == NULL || !p->present)
      return;
    p->present = FALSE;
    g_array_index(p->spans, Span, p->spans->len - 1).leave_us = e->time_us;
    break;
  case TM_RECORD_TRACK:
    if (p == NULL)
      return;
    p->has_track[e->track] = TRUE;
    replace_str(&p->codec[e->track], e->codec);
    p->clock_rate[e->track] = e->clock_rate;
    p->pt[e->track] = e->pt;
    break;
  case TM_RECORD_PAUSE:
    if (!s->paused)
      g_array_append_val(s->pauses, ((Pause){ e->time_us, INT64_MIN }));
    s->paused = TRUE;
    break;
  case TM_RECORD_RESUME:
    if (s->paused)
      g_array_index(s->pauses, Pause, s->pauses->len - 1).end_us = e->time_us;
    s->paused = FALSE;
    break;
  case TM_RECORD_MARKER: {
    Marker *m = g_new0(Marker, 1);
    m->time_us = e->time_us;
    m->by = tm_record_str_dup(e->role);
    m->text = tm_record_str_dup(e->text);
    g_ptr_array_add(s->markers, m);
    break;
  }
  case TM_RECORD_GAP:
    g_array_append_val(s->gaps,
                       ((Gap){ e->participant, e->track == TM_RECORD_NO_TRACK ? -1 : e->track,
                               e->time_us, e->end_us }));
    s->end_us = MAX(s->end_us, e->end_us);
    break;
  default: break;
  }
}

/* ---- manifest ---- */

typedef struct {
  gboolean interrupted;
  uint32_t chunk_count;
  const uint8_t *final_hash;
  const uint8_t *header_hash;
  uint64_t data_bytes, tail_bytes;
  gboolean encrypted;
  const uint8_t *recipient_sha256;
  uint64_t dropped_packets;
  const char *hearing_id, *case_number;
  const char *note;   /* NULL, or what went wrong while writing/recovering */
  gboolean recovered; /* finished at restart from a checkpoint: */
  int checkpoint;     /* its index in checkpoints.bin, -1 when none matched */
  int64_t checkpoint_us;
  uint32_t unauthenticated_chunks; /* complete chunks after it, not part of the recording */
  const char *problem;             /* the data contradicts a signed checkpoint */
} ManifestInfo;

static char *
utc_string(int64_t us)
{
  g_autoptr(GDateTime) base = g_date_time_new_from_unix_utc(us / G_USEC_PER_SEC);
  if (base == NULL)
    return g_strdup("invalid");
  g_autoptr(GDateTime) dt = g_date_time_add(base, us % G_USEC_PER_SEC);
  return g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S.%fZ");
}

static void
add_time(JsonBuilder *b, const char *name, int64_t us)
{
  g_autofree char *key = g_strconcat(name, "_us", NULL);
  g_autofree char *ukey = g_strconcat(name, "_utc", NULL);
  g_autofree char *utc = utc_string(us);
  json_builder_set_member_name(b, key);
  json_builder_add_int_value(b, us);
  json_builder_set_member_name(b, ukey);
  json_builder_add_string_value(b, utc);
}

static void
add_str(JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name(b, name);
  json_builder_add_string_value(b, value);
}

static void
add_int(JsonBuilder *b, const char *name, int64_t value)
{
  json_builder_set_member_name(b, name);
  json_builder_add_int_value(b, value);
}

static void
add_hex(JsonBuilder *b, const char *name, const uint8_t *bytes)
{
  char hex[2 * TM_RECORD_HASH_LEN + 1];
  tm_record_hex(bytes, TM_RECORD_HASH_LEN, hex);
  add_str(b, name, hex);
}

static const char *
track_name(int track)
{
  return track == 0 ? "audio" : track == 1 ? "video" : "all";
}

static void
manifest_participants(JsonBuilder *b, const Summary *s)
{
  json_builder_set_member_name(b, "participants");
  json_builder_begin_array(b);
  for (guint i = 0; i < s->participants->len; i++) {
    const Participant *p = g_ptr_array_index(s->participants, i);
    json_builder_begin_object(b);
    add_int(b, "index", p->index);
    add_str(b, "id", p->id);
    add_str(b, "name", p->name);
    add_str(b, "role", p->role);
    json_builder_set_member_name(b, "present");
    json_builder_begin_array(b);
    for (guint j = 0; j < p->spans->len; j++) {
      const Span *sp = &g_array_index(p->spans, Span, j);
      json_builder_begin_object(b);
      add_time(b, "join", sp->join_us);
      add_time(b, "leave", sp->leave_us == INT64_MIN ? s->end_us : sp->leave_us);
      json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_set_member_name(b, "tracks");
  json_builder_begin_array(b);
  for (guint i = 0; i < s->participants->len; i++) {
    const Participant *p = g_ptr_array_index(s->participants, i);
    for (int t = 0; t < 2; t++) {
      if (!p->has_track[t])
        continue;
      json_builder_begin_object(b);
      add_int(b, "participant", p->index);
      add_str(b, "kind", track_name(t));
      add_str(b, "codec", p->codec[t]);
      add_int(b, "clock_rate", p->clock_rate[t]);
      add_int(b, "pt", p->pt[t]);
      json_builder_end_object(b);
    }
  }
  json_builder_end_array(b);
}

static void
manifest_events(JsonBuilder *b, const Summary *s)
{
  json_builder_set_member_name(b, "gaps");
  json_builder_begin_array(b);
  for (guint i = 0; i < s->gaps->len; i++) {
    const Gap *g = &g_array_index(s->gaps, Gap, i);
    json_builder_begin_object(b);
    add_int(b, "participant", g->participant);
    add_str(b, "track", track_name(g->track));
    add_time(b, "start", g->start_us);
    add_time(b, "end", g->end_us);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_set_member_name(b, "markers");
  json_builder_begin_array(b);
  for (guint i = 0; i < s->markers->len; i++) {
    const Marker *m = g_ptr_array_index(s->markers, i);
    json_builder_begin_object(b);
    add_time(b, "time", m->time_us);
    add_str(b, "by", m->by);
    add_str(b, "text", m->text);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_set_member_name(b, "pauses");
  json_builder_begin_array(b);
  for (guint i = 0; i < s->pauses->len; i++) {
    const Pause *p = &g_array_index(s->pauses, Pause, i);
    json_builder_begin_object(b);
    add_time(b, "start", p->start_us);
    add_time(b, "end", p->end_us == INT64_MIN ? s->end_us : p->end_us);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}

static void
manifest_recovery(JsonBuilder *b, const ManifestInfo *mi)
{
  json_builder_set_member_name(b, "recovery");
  json_builder_begin_object(b);
  add_int(b, "checkpoint", mi->checkpoint);
  if (mi->checkpoint >= 0)
    add_time(b, "checkpoint", mi->checkpoint_us);
  add_int(b, "unauthenticated_chunks", mi->unauthenticated_chunks);
  if (mi->problem != NULL)
    add_str(b, "problem", mi->problem);
  json_builder_end_object(b);
}

static char *
manifest_json(const Summary *s, const ManifestInfo *mi, TmEvidenceKey *key)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  add_str(b, "format", "testimony-recording");
  add_int(b, "version", 1);
  add_str(b, "hearing_id", mi->hearing_id);
  add_str(b, "case_number", mi->case_number);
  add_time(b, "start", s->start_us);
  add_time(b, "end", s->end_us);
  json_builder_set_member_name(b, "interrupted");
  json_builder_add_boolean_value(b, mi->interrupted);
  add_str(b, "data_file", DATA_FILE);
  add_int(b, "data_bytes", (int64_t) mi->data_bytes);
  add_int(b, "tail_bytes", (int64_t) mi->tail_bytes);
  add_hex(b, "header_sha256", mi->header_hash);
  add_int(b, "chunk_count", mi->chunk_count);
  add_hex(b, "final_hash", mi->final_hash);
  json_builder_set_member_name(b, "encrypted");
  json_builder_add_boolean_value(b, mi->encrypted);
  if (mi->encrypted)
    add_hex(b, "recipient_sha256", mi->recipient_sha256);
  g_autofree char *pub = g_base64_encode(tm_evidence_key_public(key), TM_EVIDENCE_PUB_LEN);
  add_str(b, "evidence_key", pub);
  add_int(b, "dropped_packets", (int64_t) mi->dropped_packets);
  if (mi->note != NULL)
    add_str(b, "note", mi->note);
  if (mi->recovered)
    manifest_recovery(b, mi);
  manifest_participants(b, s);
  manifest_events(b, s);
  json_builder_end_object(b);
  g_autoptr(JsonGenerator) gen = json_generator_new();
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  json_generator_set_root(gen, root);
  json_generator_set_pretty(gen, TRUE);
  char *text = json_generator_to_data(gen, NULL);
  char *with_nl = g_strconcat(text, "\n", NULL);
  g_free(text);
  return with_nl;
}

static gboolean
write_synced(const char *path, const void *data, gsize len, GError **error)
{
  g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
  int fd = g_open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  gboolean ok = fd >= 0 && write(fd, data, len) == (ssize_t) len && fsync(fd) == 0;
  int e = errno;
  if (fd >= 0)
    close(fd);
  if (ok && g_rename(tmp, path) != 0) {
    e = errno;
    ok = FALSE;
  }
  if (!ok)
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot write %s: %s", path,
                g_strerror(e));
  return ok;
}

static void
sync_dir(const char *dir)
{
  int fd = g_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
}

/* The signature first, then the manifest: a recording counts as finished once manifest.json
 * exists, and then its signature does too. */
static gboolean
manifest_write(const char *dir, const Summary *s, const ManifestInfo *mi, TmEvidenceKey *key,
               GError **error)
{
  g_autofree char *json = manifest_json(s, mi, key);
  g_autoptr(GBytes) sig = tm_evidence_sign(key, json, strlen(json));
  gsize sig_len;
  const void *sig_data = g_bytes_get_data(sig, &sig_len);
  g_autofree char *b64 = g_base64_encode(sig_data, sig_len);
  g_autofree char *sig_text = g_strconcat(b64, "\n", NULL);
  g_autofree char *sig_path = g_build_filename(dir, SIG_FILE, NULL);
  g_autofree char *path = g_build_filename(dir, MANIFEST_FILE, NULL);
  if (!write_synced(sig_path, sig_text, strlen(sig_text), error) ||
      !write_synced(path, json, strlen(json), error))
    return FALSE;
  sync_dir(dir);
  return TRUE;
}

/* ---- the recorder ---- */

typedef enum {
  ITEM_PACKET,
  ITEM_PARTICIPANT,
  ITEM_TRACK,
  ITEM_PAUSE,
  ITEM_RESUME,
  ITEM_MARK,
  ITEM_STOP,
} ItemKind;

typedef struct {
  ItemKind kind;
  int track;
  gboolean present;
  uint32_t clock_rate;
  uint8_t pt;
  int64_t wall_us;
  char *id, *name, *role, *text;
  size_t len;
  uint8_t data[];
} Item;

struct _TmRecorder {
  char *dir;
  char *hearing_id, *case_number;
  TmEvidenceKey *key;
  int data_fd, journal_fd, checkpoint_fd;
  uint8_t header_hash[TM_RECORD_HASH_LEN];
  GChecksum *journal_sum; /* SHA-256 of the journal written so far */
  uint64_t journal_bytes;
  TmRecordWriter *writer;
  GByteArray *out, *journal;
  GAsyncQueue *queue;
  GThread *thread;
  gint queued_bytes; /* atomic */
  gint dropped;      /* atomic: queue overflow */
  guint unannounced; /* writer thread: packets of unknown or absent participants */
  Summary summary;
  GHashTable *by_id; /* id → Participant* */
  gboolean chunk_open;
  int64_t chunk_deadline; /* monotonic */
  uint64_t data_bytes;
  GError *write_error; /* the first one */
};

static void
item_free(Item *it)
{
  g_free(it->id);
  g_free(it->name);
  g_free(it->role);
  g_free(it->text);
  g_free(it);
}

static void
push(TmRecorder *r, Item *it)
{
  g_async_queue_push(r->queue, it);
}

static Item *
item_new(ItemKind kind, int64_t wall_us, size_t len)
{
  Item *it = g_malloc0(sizeof(Item) + len);
  it->kind = kind;
  it->wall_us = wall_us;
  it->len = len;
  return it;
}

static void
note_write_error(TmRecorder *r, const char *what, int e)
{
  if (r->write_error == NULL) {
    g_set_error(&r->write_error, G_FILE_ERROR, g_file_error_from_errno(e),
                "cannot write the recording %s: %s", what, g_strerror(e));
    g_warning("%s", r->write_error->message);
  }
}

static gboolean
write_all(int fd, const uint8_t *data, size_t len)
{
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return FALSE;
    data += n;
    len -= (size_t) n;
  }
  return TRUE;
}

/* Signs where the recording and its journal stand, and appends that to checkpoints.bin: after a
 * crash, the relay finishes the recording only up to a checkpoint that matches the data. */
static void
write_checkpoint(TmRecorder *r)
{
  TmCheckpoint cp = {
    .chunks = tm_record_writer_chunk_count(r->writer),
    .data_bytes = r->data_bytes,
    .journal_bytes = r->journal_bytes,
    .time_us = g_get_real_time(),
  };
  memcpy(cp.chain_head, cp.chunks > 0 ? tm_record_writer_last_hash(r->writer) : r->header_hash,
         sizeof cp.chain_head);
  g_autoptr(GChecksum) sum = g_checksum_copy(r->journal_sum);
  gsize n = sizeof cp.journal_sha256;
  g_checksum_get_digest(sum, cp.journal_sha256, &n);
  uint8_t msg[TM_CHECKPOINT_SIGNED_LEN];
  tm_checkpoint_signed_bytes(&cp, r->header_hash, msg);
  g_autoptr(GBytes) sig = tm_evidence_sign(r->key, msg, sizeof msg);
  memcpy(cp.signature, g_bytes_get_data(sig, NULL), TM_CHECKPOINT_SIG_LEN);
  uint8_t rec[TM_CHECKPOINT_SIZE];
  tm_checkpoint_serialize(&cp, rec);
  if (!write_all(r->checkpoint_fd, rec, sizeof rec) || fdatasync(r->checkpoint_fd) != 0)
    note_write_error(r, "checkpoints", errno);
}

/* Closes the open chunk and writes it, and the journal, to disk (fdatasync). */
static void
recorder_flush(TmRecorder *r)
{
  TmRecordError err;
  g_byte_array_set_size(r->out, 0);
  r->chunk_open = FALSE;
  if (!tm_record_writer_close_chunk(r->writer, r->out, &err)) {
    if (err != TM_RECORD_OK)
      g_warning("recording %s: %s", r->dir, tm_record_strerror(err));
    return;
  }
  if (r->journal->len > 0) {
    if (!write_all(r->journal_fd, r->journal->data, r->journal->len) ||
        fdatasync(r->journal_fd) != 0) {
      note_write_error(r, "journal", errno);
    } else {
      g_checksum_update(r->journal_sum, r->journal->data, r->journal->len);
      r->journal_bytes += r->journal->len;
    }
    g_byte_array_set_size(r->journal, 0);
  }
  if (!write_all(r->data_fd, r->out->data, r->out->len) || fdatasync(r->data_fd) != 0) {
    note_write_error(r, "data", errno);
    return;
  }
  r->data_bytes += r->out->len;
  write_checkpoint(r);
}

/* One record: into the open chunk, the journal (all but packets) and the summary. */
static void
emit(TmRecorder *r, const TmRecordEntry *e)
{
  TmRecordError err;
  gboolean full = tm_record_writer_add(r->writer, e, &err);
  if (err != TM_RECORD_OK) {
    g_warning("recording %s: record dropped: %s", r->dir, tm_record_strerror(err));
    return;
  }
  if (e->type != TM_RECORD_PACKET) {
    size_t size = tm_record_entry_serialized_size(e);
    guint at = r->journal->len;
    g_byte_array_set_size(r->journal, at + (guint) size);
    TmWriter w;
    tm_writer_init(&w, r->journal->data + at, size);
    tm_record_entry_serialize(e, &w);
  }
  summary_apply(&r->summary, e);
  if (!r->chunk_open) {
    r->chunk_open = TRUE;
    r->chunk_deadline = g_get_monotonic_time() + CHUNK_PERIOD_US;
  }
  if (full)
    recorder_flush(r);
}

static TmRecordEntry
entry(TmRecordType type, guint participant, int track, int64_t t)
{
  TmRecordEntry e = { .type = type,
                      .participant = (uint16_t) participant,
                      .track = track < 0 ? TM_RECORD_NO_TRACK : (uint8_t) track,
                      .time_us = t };
  return e;
}

/* The participant an id refers to; a new id with the name and role of someone who left is
 * that person coming back. */
static Participant *
participant_for_join(TmRecorder *r, const Item *it)
{
  Participant *p = g_hash_table_lookup(r->by_id, it->id);
  if (p != NULL)
    return p;
  for (guint i = 0; i < r->summary.participants->len; i++) {
    Participant *q = g_ptr_array_index(r->summary.participants, i);
    if (!q->present && g_strcmp0(q->name, it->name) == 0 && g_strcmp0(q->role, it->role) == 0) {
      g_hash_table_insert(r->by_id, g_strdup(it->id), q);
      return q;
    }
  }
  guint index = r->summary.participants->len;
  if (index >= TM_RECORD_NO_PARTICIPANT)
    return NULL;
  p = summary_participant(&r->summary, index, TRUE);
  g_hash_table_insert(r->by_id, g_strdup(it->id), p);
  return p;
}

static void
handle_participant(TmRecorder *r, const Item *it)
{
  if (it->present) {
    Participant *p = participant_for_join(r, it);
    if (p == NULL || p->present)
      return;
    TmRecordEntry e = entry(TM_RECORD_JOIN, p->index, -1, it->wall_us);
    e.id = tm_record_str(it->id);
    e.name = tm_record_str(it->name);
    e.role = tm_record_str(it->role);
    emit(r, &e);
  } else {
    Participant *p = g_hash_table_lookup(r->by_id, it->id);
    if (p == NULL || !p->present)
      return;
    TmRecordEntry e = entry(TM_RECORD_LEAVE, p->index, -1, it->wall_us);
    emit(r, &e);
  }
}

static void
handle_track(TmRecorder *r, const Item *it)
{
  Participant *p = g_hash_table_lookup(r->by_id, it->id);
  int t = it->track;
  if (p == NULL || (t != 0 && t != 1))
    return;
  if (p->has_track[t] && g_strcmp0(p->codec[t], it->text) == 0 &&
      p->clock_rate[t] == it->clock_rate && p->pt[t] == it->pt)
    return;
  TmRecordEntry e = entry(TM_RECORD_TRACK, p->index, t, it->wall_us);
  e.codec = tm_record_str(it->text);
  e.clock_rate = it->clock_rate;
  e.pt = it->pt;
  emit(r, &e);
}

static void
handle_packet(TmRecorder *r, const Item *it)
{
  Participant *p = g_hash_table_lookup(r->by_id, it->id);
  int t = it->track;
  if (p == NULL || !p->present || (t != 0 && t != 1)) {
    r->unannounced++;
    return;
  }
  if (r->summary.paused)
    return;
  int64_t last = p->last_packet_us[t];
  if (last != INT64_MIN && it->wall_us - last > GAP_THRESHOLD_US) {
    TmRecordEntry g = entry(TM_RECORD_GAP, p->index, t, last);
    g.end_us = it->wall_us;
    emit(r, &g);
  }
  p->last_packet_us[t] = MAX(last, it->wall_us);
  TmRecordEntry e = entry(TM_RECORD_PACKET, p->index, t, it->wall_us);
  e.rtp = it->data;
  e.rtp_len = it->len;
  emit(r, &e);
}

static void
handle_resume(TmRecorder *r, const Item *it)
{
  if (!r->summary.paused)
    return;
  TmRecordEntry e = entry(TM_RECORD_RESUME, TM_RECORD_NO_PARTICIPANT, -1, it->wall_us);
  emit(r, &e);
  /* silence while paused is not a gap: count from the resumption */
  for (guint i = 0; i < r->summary.participants->len; i++) {
    Participant *p = g_ptr_array_index(r->summary.participants, i);
    for (int t = 0; t < 2; t++)
      if (p->last_packet_us[t] != INT64_MIN)
        p->last_packet_us[t] = MAX(p->last_packet_us[t], it->wall_us);
  }
}

/* At the end: a present participant's track silent for more than a second is a gap until the
 * end (it never resumed within the recording). */
static void
close_open_gaps(TmRecorder *r, int64_t end_us)
{
  if (r->summary.paused)
    return;
  for (guint i = 0; i < r->summary.participants->len; i++) {
    Participant *p = g_ptr_array_index(r->summary.participants, i);
    for (int t = 0; t < 2 && p->present; t++) {
      int64_t last = p->last_packet_us[t];
      if (last != INT64_MIN && end_us - last > GAP_THRESHOLD_US) {
        TmRecordEntry g = entry(TM_RECORD_GAP, p->index, t, last);
        g.end_us = end_us;
        emit(r, &g);
      }
    }
  }
}

/* Returns FALSE on STOP. */
static gboolean
handle_item(TmRecorder *r, const Item *it)
{
  switch (it->kind) {
  case ITEM_PACKET: handle_packet(r, it); break;
  case ITEM_PARTICIPANT: handle_participant(r, it); break;
  case ITEM_TRACK: handle_track(r, it); break;
  case ITEM_PAUSE:
    if (!r->summary.paused) {
      TmRecordEntry e = entry(TM_RECORD_PAUSE, TM_RECORD_NO_PARTICIPANT, -1, it->wall_us);
      emit(r, &e);
    }
    break;
  case ITEM_RESUME: handle_resume(r, it); break;
  case ITEM_MARK: {
    TmRecordEntry e = entry(TM_RECORD_MARKER, TM_RECORD_NO_PARTICIPANT, -1, it->wall_us);
    e.role = tm_record_str(it->role);
    e.text = tm_record_str(it->text);
    emit(r, &e);
    break;
  }
  case ITEM_STOP:
    close_open_gaps(r, it->wall_us);
    r->summary.end_us = MAX(r->summary.end_us, it->wall_us);
    return FALSE;
  }
  return TRUE;
}

static gpointer
writer_thread(gpointer data)
{
  TmRecorder *r = data;
  gboolean running = TRUE;
  while (running) {
    guint64 timeout = CHUNK_PERIOD_US;
    if (r->chunk_open) {
      int64_t left = r->chunk_deadline - g_get_monotonic_time();
      timeout = left > 0 ? (guint64) left : 0;
    }
    Item *it =
      timeout > 0 ? g_async_queue_timeout_pop(r->queue, timeout) : g_async_queue_try_pop(r->queue);
    if (it != NULL) {
      if (it->kind == ITEM_PACKET)
        g_atomic_int_add(&r->queued_bytes, -(gint) it->len);
      running = handle_item(r, it);
      item_free(it);
    }
    if (r->chunk_open && g_get_monotonic_time() >= r->chunk_deadline)
      recorder_flush(r);
  }
  recorder_flush(r);
  return NULL;
}

static gboolean
make_recording_dir(const char *state_dir, const char *hearing_id, int64_t wall_us, char **out,
                   GError **error)
{
  g_autofree char *base = g_build_filename(state_dir, "recordings", NULL);
  if (g_mkdir_with_parents(base, 0700) != 0) {
    int e = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot create %s: %s", base,
                g_strerror(e));
    return FALSE;
  }
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(wall_us / G_USEC_PER_SEC);
  g_autofree char *stamp = dt != NULL ? g_date_time_format(dt, "%Y%m%dT%H%M%SZ") : g_strdup("0");
  for (int n = 1; n < 100; n++) {
    g_autofree char *name = n == 1 ? g_strdup_printf("%s-%s", hearing_id, stamp)
                                   : g_strdup_printf("%s-%s-%d", hearing_id, stamp, n);
    char *dir = g_build_filename(base, name, NULL);
    if (g_mkdir(dir, 0700) == 0) {
      *out = dir;
      return TRUE;
    }
    int e = errno;
    g_free(dir);
    if (e != EEXIST) {
      g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                  "cannot create a recording directory in %s: %s", base, g_strerror(e));
      return FALSE;
    }
  }
  g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_EXIST,
              "too many recordings of hearing %s started in the same second", hearing_id);
  return FALSE;
}

static int
open_append(const char *dir, const char *name, GError **error)
{
  g_autofree char *path = g_build_filename(dir, name, NULL);
  int fd = g_open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    int e = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot create %s: %s", path,
                g_strerror(e));
  }
  return fd;
}

static void
recorder_free(TmRecorder *r)
{
  if (r->data_fd >= 0)
    close(r->data_fd);
  if (r->journal_fd >= 0)
    close(r->journal_fd);
  if (r->checkpoint_fd >= 0)
    close(r->checkpoint_fd);
  g_checksum_free(r->journal_sum);
  tm_record_writer_free(r->writer);
  g_byte_array_unref(r->out);
  g_byte_array_unref(r->journal);
  g_async_queue_unref(r->queue);
  g_hash_table_unref(r->by_id);
  summary_clear(&r->summary);
  g_clear_error(&r->write_error);
  g_free(r->dir);
  g_free(r->hearing_id);
  g_free(r->case_number);
  g_free(r);
}

TmRecorder *
tm_recorder_start(const TmRecorderConfig *config, int64_t wall_us, GError **error)
{
  uint8_t recipient[32];
  if (config->encrypt_to != NULL &&
      !tm_evidence_x25519_public_load(config->encrypt_to, recipient, error))
    return NULL;
  TmRecordError err;
  TmRecordWriter *writer =
    tm_record_writer_new(config->hearing_id, config->case_number != NULL ? config->case_number : "",
                         wall_us, config->encrypt_to != NULL ? recipient : NULL, &err);
  if (writer == NULL) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot start a recording: %s",
                tm_record_strerror(err));
    return NULL;
  }
  TmRecorder *r = g_new0(TmRecorder, 1);
  r->writer = writer;
  r->data_fd = r->journal_fd = r->checkpoint_fd = -1;
  r->journal_sum = g_checksum_new(G_CHECKSUM_SHA256);
  r->hearing_id = g_strdup(config->hearing_id);
  r->case_number = g_strdup(config->case_number != NULL ? config->case_number : "");
  r->key = config->key;
  r->out = g_byte_array_new();
  r->journal = g_byte_array_new();
  r->queue = g_async_queue_new_full((GDestroyNotify) item_free);
  r->by_id = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  summary_init(&r->summary, wall_us);
  if (!make_recording_dir(config->state_dir, config->hearing_id, wall_us, &r->dir, error) ||
      (r->data_fd = open_append(r->dir, DATA_FILE, error)) < 0 ||
      (r->journal_fd = open_append(r->dir, JOURNAL_FILE, error)) < 0 ||
      (r->checkpoint_fd = open_append(r->dir, CHECKPOINT_FILE, error)) < 0) {
    recorder_free(r);
    return NULL;
  }
  size_t hlen;
  const uint8_t *header = tm_record_writer_header(writer, &hlen);
  if (!write_all(r->data_fd, header, hlen) || fdatasync(r->data_fd) != 0) {
    int e = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                "cannot write the recording in %s: %s", r->dir, g_strerror(e));
    recorder_free(r);
    return NULL;
  }
  r->data_bytes = hlen;
  TmRecordHeader parsed;
  tm_record_header_parse(header, hlen, &parsed);
  memcpy(r->header_hash, parsed.hash, sizeof r->header_hash);
  write_checkpoint(r);
  sync_dir(r->dir);
  r->thread = g_thread_new("recorder", writer_thread, r);
  return r;
}

const char *
tm_recorder_path(const TmRecorder *r)
{
  return r->dir;
}

void
tm_recorder_participant(TmRecorder *r, const char *id, const char *name, const char *role,
                        gboolean present, int64_t wall_us)
{
  Item *it = item_new(ITEM_PARTICIPANT, wall_us, 0);
  it->id = g_strdup(id);
  it->name = g_strdup(name != NULL ? name : "");
  it->role = g_strdup(role != NULL ? role : "");
  it->present = present;
  push(r, it);
}

void
tm_recorder_track(TmRecorder *r, const char *participant_id, int track, const char *codec,
                  uint32_t clock_rate, uint8_t pt)
{
  Item *it = item_new(ITEM_TRACK, g_get_real_time(), 0);
  it->id = g_strdup(participant_id);
  it->track = track;
  it->text = g_strdup(codec != NULL ? codec : "");
  it->clock_rate = clock_rate;
  it->pt = pt;
  push(r, it);
}

void
tm_recorder_packet(TmRecorder *r, const char *participant_id, int track, const uint8_t *rtp,
                   size_t len, int64_t wall_us)
{
  if (len == 0 || len > TM_RECORD_MAX_ENTRY_BODY)
    return;
  if (g_atomic_int_get(&r->queued_bytes) > QUEUE_CAP_BYTES) {
    g_atomic_int_inc(&r->dropped);
    return;
  }
  g_atomic_int_add(&r->queued_bytes, (gint) len);
  Item *it = item_new(ITEM_PACKET, wall_us, len);
  it->id = g_strdup(participant_id);
  it->track = track;
  memcpy(it->data, rtp, len);
  push(r, it);
}

void
tm_recorder_pause(TmRecorder *r, int64_t wall_us)
{
  push(r, item_new(ITEM_PAUSE, wall_us, 0));
}

void
tm_recorder_resume(TmRecorder *r, int64_t wall_us)
{
  push(r, item_new(ITEM_RESUME, wall_us, 0));
}

void
tm_recorder_mark(TmRecorder *r, const char *text, const char *by_role, int64_t wall_us)
{
  Item *it = item_new(ITEM_MARK, wall_us, 0);
  it->text = g_utf8_make_valid(text != NULL ? text : "", -1);
  it->role = g_strdup(by_role != NULL ? by_role : "");
  push(r, it);
}

char *
tm_recorder_stop(TmRecorder *r, int64_t wall_us, GError **error)
{
  push(r, item_new(ITEM_STOP, wall_us, 0));
  g_thread_join(r->thread);
  TmRecordHeader header;
  size_t hlen;
  const uint8_t *hbytes = tm_record_writer_header(r->writer, &hlen);
  tm_record_header_parse(hbytes, hlen, &header);
  g_autofree char *note = NULL;
  if (r->write_error != NULL)
    note = g_strdup(r->write_error->message);
  else if (r->unannounced > 0)
    note =
      g_strdup_printf("%u packets of unannounced participants were not recorded", r->unannounced);
  ManifestInfo mi = {
    .interrupted = FALSE,
    .chunk_count = tm_record_writer_chunk_count(r->writer),
    .final_hash = tm_record_writer_last_hash(r->writer),
    .header_hash = header.hash,
    .data_bytes = r->data_bytes,
    .tail_bytes = 0,
    .encrypted = header.encrypted,
    .recipient_sha256 = header.recipient_sha256,
    .dropped_packets = (uint64_t) g_atomic_int_get(&r->dropped),
    .hearing_id = r->hearing_id,
    .case_number = r->case_number,
    .note = note,
  };
  gboolean ok = manifest_write(r->dir, &r->summary, &mi, r->key, error);
  char *path = ok ? g_strdup(r->dir) : NULL;
  recorder_free(r);
  return path;
}

/* ---- recovery ---- */

/* Replays the first LEN bytes of the journal into S (stops at an incomplete record). */
static void
replay_journal(const uint8_t *journal, size_t len, Summary *s)
{
  TmReader rd;
  tm_reader_init(&rd, journal, len);
  TmRecordEntry e;
  while (tm_reader_remaining(&rd) > 0 && tm_record_entry_parse(&rd, &e) == TM_RECORD_OK)
    summary_apply(s, &e);
}

/* The bytes of DIR/NAME, mapped (empty when it cannot be read). */
static GBytes *
map_optional(const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename(dir, name, NULL);
  g_autoptr(GMappedFile) mf = g_mapped_file_new(path, FALSE, NULL);
  return mf != NULL ? g_mapped_file_get_bytes(mf) : g_bytes_new(NULL, 0);
}

/* Does checkpoint CP describe the data and journal on disk? *VR: the data verified up to it. */
static gboolean
checkpoint_matches(const TmCheckpoint *cp, const uint8_t *data, size_t len, const uint8_t *journal,
                   size_t journal_len, TmRecordVerifyResult *vr)
{
  tm_record_verify(data, len, cp->chunks, vr);
  if (vr->status == TM_RECORD_VERIFY_BAD_HEADER || vr->chunks != cp->chunks ||
      vr->good_bytes != cp->data_bytes ||
      memcmp(vr->last_hash, cp->chain_head, TM_RECORD_HASH_LEN) != 0 ||
      cp->journal_bytes > journal_len)
    return FALSE;
  uint8_t sum[32];
  gsize n = sizeof sum;
  g_autoptr(GChecksum) c = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(c, journal, (gssize) cp->journal_bytes);
  g_checksum_get_digest(c, sum, &n);
  return memcmp(sum, cp->journal_sha256, sizeof sum) == 0;
}

typedef struct {
  int index; /* in checkpoints.bin; -1: none matches */
  TmCheckpoint cp;
  TmRecordVerifyResult vr; /* the data up to it */
  guint valid;             /* checkpoints signed by this relay's key */
  char *problem;           /* the data does not match a later signed checkpoint */
} Recovery;

/* The last checkpoint signed by KEY for this recording that the data still matches. */
static void
choose_checkpoint(const char *dir, TmEvidenceKey *key, const uint8_t *data, size_t len,
                  const uint8_t header_hash[TM_RECORD_HASH_LEN], const uint8_t *journal,
                  size_t journal_len, Recovery *out)
{
  g_autoptr(GBytes) checkpoints = map_optional(dir, CHECKPOINT_FILE);
  gsize cps_len = 0;
  const uint8_t *cps = g_bytes_get_data(checkpoints, &cps_len);
  out->index = -1;
  for (size_t i = 0; i + TM_CHECKPOINT_SIZE <= cps_len; i += TM_CHECKPOINT_SIZE) {
    TmCheckpoint cp;
    uint8_t msg[TM_CHECKPOINT_SIGNED_LEN];
    if (!tm_checkpoint_parse(cps + i, TM_CHECKPOINT_SIZE, &cp))
      continue;
    tm_checkpoint_signed_bytes(&cp, header_hash, msg);
    if (!tm_evidence_verify(tm_evidence_key_public(key), msg, sizeof msg, cp.signature,
                            sizeof cp.signature, NULL))
      continue;
    int index = (int) (i / TM_CHECKPOINT_SIZE);
    out->valid++;
    if (checkpoint_matches(&cp, data, len, journal, journal_len, &out->vr)) {
      out->index = index;
      out->cp = cp;
      g_clear_pointer(&out->problem, g_free);
    } else {
      g_free(out->problem);
      out->problem = g_strdup_printf(
        "the data does not match the relay's signed checkpoint %d (%u chunks, %" G_GUINT64_FORMAT
        " journal bytes): the recording or its events were altered after they were written",
        index, cp.chunks, cp.journal_bytes);
    }
  }
  if (out->index < 0 && out->problem == NULL)
    out->problem = g_strdup("no checkpoint signed by this relay's evidence key verifies: "
                            "nothing in this recording can be vouched for");
}

static gboolean
recover_one(const char *dir, TmEvidenceKey *key, GError **error)
{
  g_autofree char *data_path = g_build_filename(dir, DATA_FILE, NULL);
  g_autoptr(GMappedFile) mf = g_mapped_file_new(data_path, FALSE, error);
  if (mf == NULL)
    return FALSE;
  const uint8_t *data = (const uint8_t *) g_mapped_file_get_contents(mf);
  gsize len = g_mapped_file_get_length(mf);
  TmRecordVerifyResult all;
  tm_record_verify(data, len, UINT32_MAX, &all);
  if (all.status == TM_RECORD_VERIFY_BAD_HEADER) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "cannot recover %s: its header is unreadable (%s)", data_path,
                tm_record_strerror(all.error));
    return FALSE;
  }
  g_autoptr(GBytes) journal_bytes = map_optional(dir, JOURNAL_FILE);
  gsize journal_len = 0;
  const uint8_t *journal = g_bytes_get_data(journal_bytes, &journal_len);
  Recovery rc = { 0 };
  choose_checkpoint(dir, key, data, len, all.header.hash, journal, journal_len, &rc);
  Summary s;
  summary_init(&s, all.header.start_us);
  if (rc.index >= 0)
    replay_journal(journal, MIN(journal_len, rc.cp.journal_bytes), &s);
  uint32_t chunks = rc.index >= 0 ? rc.cp.chunks : 0;
  if (chunks > 0)
    s.end_us = MAX(s.end_us, rc.vr.last_us);
  size_t kept = rc.index >= 0 ? rc.cp.data_bytes : all.header.size;
  uint32_t beyond = all.chunks > chunks ? all.chunks - chunks : 0;
  g_autofree char *hearing_id = tm_record_str_dup(all.header.hearing_id);
  g_autofree char *case_number = tm_record_str_dup(all.header.case_number);
  g_autofree char *note = g_strdup_printf(
    "the relay stopped while recording; finished at restart up to its signed checkpoint %d "
    "(%u chunks); the %zu bytes after it (%u complete chunks) are not part of the recording",
    rc.index, chunks, len - kept, beyond);
  ManifestInfo mi = {
    .interrupted = TRUE,
    .chunk_count = chunks,
    .final_hash = rc.index >= 0 ? rc.cp.chain_head : all.header.hash,
    .header_hash = all.header.hash,
    .data_bytes = kept,
    .tail_bytes = len - kept,
    .encrypted = all.header.encrypted,
    .recipient_sha256 = all.header.recipient_sha256,
    .hearing_id = hearing_id,
    .case_number = case_number,
    .note = note,
    .recovered = TRUE,
    .checkpoint = rc.index,
    .checkpoint_us = rc.index >= 0 ? rc.cp.time_us : 0,
    .unauthenticated_chunks = beyond,
    .problem = rc.problem,
  };
  if (rc.problem != NULL)
    g_critical("recording %s: %s", dir, rc.problem);
  gboolean ok = manifest_write(dir, &s, &mi, key, error);
  summary_clear(&s);
  g_free(rc.problem);
  return ok;
}

guint
tm_recorder_recover(const char *state_dir, TmEvidenceKey *key, GError **error)
{
  g_autofree char *base = g_build_filename(state_dir, "recordings", NULL);
  g_autoptr(GDir) d = g_dir_open(base, 0, NULL);
  guint n = 0;
  if (d == NULL)
    return 0; /* no recordings yet */
  const char *name;
  while ((name = g_dir_read_name(d)) != NULL) {
    g_autofree char *dir = g_build_filename(base, name, NULL);
    g_autofree char *data = g_build_filename(dir, DATA_FILE, NULL);
    g_autofree char *manifest = g_build_filename(dir, MANIFEST_FILE, NULL);
    if (!g_file_test(data, G_FILE_TEST_IS_REGULAR) || g_file_test(manifest, G_FILE_TEST_EXISTS))
      continue;
    GError *local = NULL;
    if (recover_one(dir, key, &local)) {
      n++;
    } else if (error != NULL && *error == NULL) {
      g_propagate_error(error, local);
      local = NULL;
    }
    if (local != NULL) {
      g_warning("%s", local->message);
      g_error_free(local);
    }
  }
  return n;
}
