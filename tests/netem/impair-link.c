/* impair-link.c — the impairment model: per direction, a packet that comes in draws its random
 * numbers (always the same five, so a seed gives the same loss pattern whatever the delay or rate
 * settings), may be lost, waits its turn at the rate-limited bottleneck (or is dropped when the
 * drop-tail queue before it is full), then travels for delay ± jitter. Packets wait in a binary
 * heap ordered by release time; without `reorder` a packet is never released before the one that
 * came in before it. */
#include "impair-link.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

const char *const tm_impair_drop_names[TM_IMPAIR_DROP_COUNT] = {
  "loss", "burst", "queue", "outage", "limit", "write", "filter",
};
const char *const tm_impair_direction_names[TM_IMPAIR_DIRS] = { "a2b", "b2a" };

#define DEFAULT_QUEUE_US 100000
#define DEFAULT_LIMIT 10000
#define DEFAULT_BURST_US 50000
#define RANDOM_DRAWS 5

typedef struct {
  TmImpairSettings set;
  GRand *rand;
  gboolean bad;            /* Gilbert–Elliott state */
  int64_t last_packet_us;  /* when the last packet came in (the chain's idle steps) */
  int64_t link_free_us;    /* when the bottleneck has sent everything accepted so far */
  int64_t last_release_us; /* for FIFO order */
  guint64 order;           /* arrival number: ties in the heap go first come, first served */
  GPtrArray *heap;         /* TmImpairPacket *, min-heap on (release_us, order) */
  TmImpairCounters counters;
} ImpairDir;

typedef struct {
  int64_t start_us, end_us;
} Outage;

struct _TmImpairLink {
  ImpairDir dir[TM_IMPAIR_DIRS];
  gboolean manual_outage;
  GArray *outages; /* Outage */
};

/* ---- settings: one table gives the words of a settings line, their limits and their units ---- */

typedef enum { KEY_PERCENT, KEY_MS, KEY_KBIT, KEY_INT, KEY_FLAG, KEY_DIST } KeyKind;

typedef struct {
  const char *name;
  KeyKind kind;
  size_t offset;
  double min, max; /* in the unit written on the line */
} Key;

static const Key keys[] = {
  { "loss", KEY_PERCENT, offsetof(TmImpairSettings, loss), 0, 100 },
  { "gb", KEY_PERCENT, offsetof(TmImpairSettings, p_gb), 0, 100 },
  { "bg", KEY_PERCENT, offsetof(TmImpairSettings, p_bg), 0, 100 },
  { "bad_loss", KEY_PERCENT, offsetof(TmImpairSettings, bad_loss), 0, 100 },
  { "burst_ms", KEY_MS, offsetof(TmImpairSettings, burst_us), 0, 60000 },
  { "delay", KEY_MS, offsetof(TmImpairSettings, delay_us), 0, 60000 },
  { "jitter", KEY_MS, offsetof(TmImpairSettings, jitter_us), 0, 60000 },
  { "dist", KEY_DIST, offsetof(TmImpairSettings, dist), 0, 0 },
  { "reorder", KEY_FLAG, offsetof(TmImpairSettings, reorder), 0, 1 },
  { "rate", KEY_KBIT, offsetof(TmImpairSettings, rate_bps), 0, 1e8 },
  { "queue", KEY_INT, offsetof(TmImpairSettings, queue_bytes), 0, 64 << 20 },
  { "queue_ms", KEY_MS, offsetof(TmImpairSettings, queue_us), 0, 60000 },
  { "limit", KEY_INT, offsetof(TmImpairSettings, limit), 1, 1000000 },
  { "udp", KEY_FLAG, offsetof(TmImpairSettings, udp), 0, 1 },
  { "tcp_port", KEY_INT, offsetof(TmImpairSettings, tcp_port), 0, 65535 },
};

void
tm_impair_settings_init(TmImpairSettings *s)
{
  *s = (TmImpairSettings){
    .p_bg = 100,
    .bad_loss = 100,
    .burst_us = DEFAULT_BURST_US,
    .dist = TM_IMPAIR_JITTER_UNIFORM,
    .queue_us = DEFAULT_QUEUE_US,
    .limit = DEFAULT_LIMIT,
    .udp = TRUE,
  };
}

static gboolean
parse_number(const char *text, double min, double max, double *out)
{
  char *end = NULL;
  double v = g_ascii_strtod(text, &end);
  if (end == text || *end != '\0' || !isfinite(v) || v < min || v > max)
    return FALSE;
  *out = v;
  return TRUE;
}

static gboolean
set_key(TmImpairSettings *s, const Key *key, const char *value)
{
  char *field = (char *) s + key->offset;
  double v;
  switch (key->kind) {
  case KEY_DIST:
    if (g_strcmp0(value, "uniform") == 0)
      *(TmImpairJitter *) field = TM_IMPAIR_JITTER_UNIFORM;
    else if (g_strcmp0(value, "normal") == 0)
      *(TmImpairJitter *) field = TM_IMPAIR_JITTER_NORMAL;
    else
      return FALSE;
    return TRUE;
  case KEY_FLAG:
    if (!parse_number(value, 0, 1, &v) || (v != 0 && v != 1))
      return FALSE;
    *(gboolean *) field = v != 0;
    return TRUE;
  default: break;
  }
  if (!parse_number(value, key->min, key->max, &v))
    return FALSE;
  if (key->kind == KEY_PERCENT)
    *(double *) field = v;
  else if (key->kind == KEY_INT)
    *(int64_t *) field = (int64_t) v;
  else /* milliseconds to microseconds, kbit/s to bit/s */
    *(int64_t *) field = (int64_t) llround(v * 1000);
  return TRUE;
}

void
tm_impair_settings_format(const TmImpairSettings *s, GString *out)
{
  for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
    const char *field = (const char *) s + keys[i].offset;
    g_string_append_printf(out, "%s%s=", i ? " " : "", keys[i].name);
    switch (keys[i].kind) {
    case KEY_PERCENT: g_string_append_printf(out, "%g", *(const double *) field); break;
    case KEY_MS:
    case KEY_KBIT: g_string_append_printf(out, "%g", *(const int64_t *) field / 1000.0); break;
    case KEY_INT: g_string_append_printf(out, "%" G_GINT64_FORMAT, *(const int64_t *) field); break;
    case KEY_FLAG: g_string_append_printf(out, "%d", *(const gboolean *) field ? 1 : 0); break;
    case KEY_DIST:
      g_string_append(
        out, *(const TmImpairJitter *) field == TM_IMPAIR_JITTER_NORMAL ? "normal" : "uniform");
      break;
    }
  }
}

static void
dir_seed(ImpairDir *d, guint32 seed, TmImpairDirection which)
{
  guint32 words[2] = { seed, (guint32) which };
  if (d->rand)
    g_rand_free(d->rand);
  d->rand = g_rand_new_with_seed_array(words, G_N_ELEMENTS(words));
  d->bad = FALSE;
}

/* Parses LINE on top of *S. SEED is set when the line has seed=N. */
static gboolean
parse_line(const char *line, TmImpairSettings *s, gboolean *has_seed, guint32 *seed, GError **error)
{
  g_auto(GStrv) words = g_strsplit_set(line, " \t", -1);
  for (char **w = words; *w; w++) {
    if (**w == '\0')
      continue;
    if (strcmp(*w, "clear") == 0) {
      tm_impair_settings_init(s);
      continue;
    }
    const char *eq = strchr(*w, '=');
    gsize name_len = eq ? (gsize) (eq - *w) : strlen(*w);
    const char *value = eq ? eq + 1 : "";
    gboolean ok = FALSE, known = FALSE;
    double v;
    if (name_len == 4 && strncmp(*w, "seed", 4) == 0) {
      known = TRUE;
      ok = parse_number(value, 0, G_MAXUINT32, &v) && v == floor(v);
      *has_seed = ok;
      *seed = ok ? (guint32) v : 0;
    }
    for (gsize i = 0; !known && i < G_N_ELEMENTS(keys); i++) {
      if (strlen(keys[i].name) == name_len && strncmp(keys[i].name, *w, name_len) == 0) {
        known = TRUE;
        ok = eq && set_key(s, &keys[i], value);
      }
    }
    if (!known) {
      g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "unknown setting '%s'", *w);
      return FALSE;
    }
    if (!ok) {
      g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "bad value in '%s'", *w);
      return FALSE;
    }
  }
  return TRUE;
}

gboolean
tm_impair_link_configure(TmImpairLink *link, guint dir_mask, const char *line, GError **error)
{
  TmImpairSettings parsed[TM_IMPAIR_DIRS];
  gboolean has_seed = FALSE;
  guint32 seed = 0;
  for (int i = 0; i < TM_IMPAIR_DIRS; i++) {
    parsed[i] = link->dir[i].set;
    if ((dir_mask & (1u << i)) && !parse_line(line, &parsed[i], &has_seed, &seed, error))
      return FALSE;
  }
  for (int i = 0; i < TM_IMPAIR_DIRS; i++) {
    if (!(dir_mask & (1u << i)))
      continue;
    link->dir[i].set = parsed[i];
    if (has_seed)
      dir_seed(&link->dir[i], seed, (TmImpairDirection) i);
  }
  return TRUE;
}

const TmImpairSettings *
tm_impair_link_settings(const TmImpairLink *link, TmImpairDirection dir)
{
  return &link->dir[dir].set;
}

/* ---- the link ---- */

TmImpairLink *
tm_impair_link_new(guint32 seed)
{
  TmImpairLink *link = g_new0(TmImpairLink, 1);
  for (int i = 0; i < TM_IMPAIR_DIRS; i++) {
    ImpairDir *d = &link->dir[i];
    tm_impair_settings_init(&d->set);
    dir_seed(d, seed, (TmImpairDirection) i);
    d->heap = g_ptr_array_new_with_free_func(g_free);
    d->link_free_us = INT64_MIN;
    d->last_release_us = INT64_MIN;
  }
  link->outages = g_array_new(FALSE, FALSE, sizeof(Outage));
  return link;
}

void
tm_impair_link_free(TmImpairLink *link)
{
  if (!link)
    return;
  for (int i = 0; i < TM_IMPAIR_DIRS; i++) {
    g_rand_free(link->dir[i].rand);
    g_ptr_array_unref(link->dir[i].heap);
  }
  g_array_unref(link->outages);
  g_free(link);
}

void
tm_impair_link_set_outage(TmImpairLink *link, gboolean on)
{
  link->manual_outage = on;
}

gboolean
tm_impair_link_outage_switched_on(const TmImpairLink *link)
{
  return link->manual_outage;
}

gboolean
tm_impair_link_add_outage(TmImpairLink *link, int64_t start_us, int64_t duration_us)
{
  if (duration_us <= 0 || link->outages->len >= TM_IMPAIR_MAX_OUTAGES)
    return FALSE;
  Outage o = { start_us, start_us + duration_us };
  g_array_append_val(link->outages, o);
  return TRUE;
}

gboolean
tm_impair_link_in_outage(TmImpairLink *link, int64_t now_us)
{
  if (link->manual_outage)
    return TRUE;
  for (guint i = 0; i < link->outages->len;) {
    const Outage *o = &g_array_index(link->outages, Outage, i);
    if (o->end_us <= now_us) {
      g_array_remove_index_fast(link->outages, i); /* over: forget it */
      continue;
    }
    if (o->start_us <= now_us)
      return TRUE;
    i++;
  }
  return FALSE;
}

/* ---- the heap of packets waiting for their release time ---- */

static gboolean
before(const TmImpairPacket *a, const TmImpairPacket *b)
{
  return a->release_us < b->release_us || (a->release_us == b->release_us && a->order < b->order);
}

static void
heap_swap(GPtrArray *h, guint i, guint j)
{
  gpointer t = h->pdata[i];
  h->pdata[i] = h->pdata[j];
  h->pdata[j] = t;
}

static void
heap_push(GPtrArray *h, TmImpairPacket *p)
{
  g_ptr_array_add(h, p);
  for (guint i = h->len - 1; i > 0 && before(h->pdata[i], h->pdata[(i - 1) / 2]); i = (i - 1) / 2)
    heap_swap(h, i, (i - 1) / 2);
}

static TmImpairPacket *
heap_pop(GPtrArray *h)
{
  TmImpairPacket *top = h->pdata[0];
  h->pdata[0] = h->pdata[h->len - 1];
  g_ptr_array_steal_index(h, h->len - 1);
  for (guint i = 0;;) {
    guint l = 2 * i + 1, r = l + 1, m = i;
    if (l < h->len && before(h->pdata[l], h->pdata[m]))
      m = l;
    if (r < h->len && before(h->pdata[r], h->pdata[m]))
      m = r;
    if (m == i)
      break;
    heap_swap(h, i, m);
    i = m;
  }
  return top;
}

/* ---- packets ---- */

/* Delay ± jitter for one packet from two uniform draws in [0, 1); never below zero. */
static int64_t
sample_delay(const TmImpairSettings *s, double u1, double u2)
{
  double jitter = 0;
  if (s->dist == TM_IMPAIR_JITTER_NORMAL)
    jitter = sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * G_PI * u2) * (double) s->jitter_us;
  else
    jitter = (2.0 * u1 - 1.0) * (double) s->jitter_us;
  return MAX(0, s->delay_us + (int64_t) llround(jitter));
}

/* The bottleneck: when the packet has been sent at the rate limit, or -1 when the queue before it
 * is full. An idle bottleneck takes any packet, so a queue smaller than a packet still passes
 * one at a time. */
static int64_t
bottleneck(ImpairDir *d, gsize len, int64_t now_us)
{
  const TmImpairSettings *s = &d->set;
  if (s->rate_bps <= 0)
    return now_us;
  int64_t start = MAX(now_us, d->link_free_us);
  double backlog = (double) (start - now_us) * (double) s->rate_bps / 8e6;
  double cap = s->queue_bytes > 0 ? (double) s->queue_bytes
                                  : (double) s->queue_us * (double) s->rate_bps / 8e6;
  if (start > now_us && backlog + (double) len > cap)
    return -1;
  d->link_free_us = start + (int64_t) llround((double) len * 8e6 / (double) s->rate_bps);
  return d->link_free_us;
}

/* Whether the firewall settings drop the IP packet DATA: UDP when udp=0; with tcp_port, TCP to
 * and from other ports (IPv4 and IPv6 without extension headers; anything else passes). */
static gboolean
filtered(const TmImpairSettings *s, const uint8_t *data, gsize len)
{
  if (s->udp && s->tcp_port == 0)
    return FALSE;
  gsize header = 0;
  uint8_t proto = 0;
  if (len >= 20 && data[0] >> 4 == 4) {
    header = (gsize) (data[0] & 0x0f) * 4;
    proto = data[9];
  } else if (len >= 40 && data[0] >> 4 == 6) {
    header = 40;
    proto = data[6];
  } else {
    return FALSE;
  }
  if (proto == 17)
    return !s->udp;
  if (proto != 6 || s->tcp_port == 0)
    return FALSE;
  if (len < header + 4)
    return TRUE;
  guint src = (guint) data[header] << 8 | data[header + 1];
  guint dst = (guint) data[header + 2] << 8 | data[header + 3];
  return src != (guint) s->tcp_port && dst != (guint) s->tcp_port;
}

void
tm_impair_link_handle_packet(TmImpairLink *link, TmImpairDirection dir, const uint8_t *data,
                             gsize len, int64_t now_us)
{
  ImpairDir *d = &link->dir[dir];
  const TmImpairSettings *s = &d->set;
  len = MIN(len, TM_IMPAIR_MAX_PACKET);
  d->counters.in++;
  d->counters.bytes_in += len;

  double u[RANDOM_DRAWS];
  for (int i = 0; i < RANDOM_DRAWS; i++)
    u[i] = g_rand_double(d->rand);
  int64_t idle = s->burst_us > 0 && d->last_packet_us > 0 && now_us > d->last_packet_us
    ? (now_us - d->last_packet_us) / s->burst_us
    : 0;
  d->last_packet_us = now_us;
  if (s->p_gb <= 0) {
    d->bad = FALSE;
  } else if (idle > 0) {
    /* this packet's step and IDLE more: the chain's state after n steps, in closed form */
    double a = s->p_gb / 100, b = s->p_bg / 100, settled = a / (a + b);
    double fading = pow(1 - a - b, (double) idle + 1);
    d->bad = u[0] < (d->bad ? settled + (1 - settled) * fading : settled * (1 - fading));
  } else if (!d->bad && u[0] * 100 < s->p_gb) {
    d->bad = TRUE;
  } else if (d->bad && u[0] * 100 < s->p_bg) {
    d->bad = FALSE;
  }

  int64_t sent = -1;
  TmImpairDrop why = TM_IMPAIR_DROP_QUEUE;
  if (tm_impair_link_in_outage(link, now_us))
    why = TM_IMPAIR_DROP_OUTAGE;
  else if (filtered(s, data, len))
    why = TM_IMPAIR_DROP_FILTER;
  else if (u[1] * 100 < s->loss)
    why = TM_IMPAIR_DROP_LOSS;
  else if (d->bad && u[2] * 100 < s->bad_loss)
    why = TM_IMPAIR_DROP_BURST;
  else if ((int64_t) d->heap->len >= s->limit)
    why = TM_IMPAIR_DROP_LIMIT;
  else
    sent = bottleneck(d, len, now_us); /* -1: the queue is full */
  if (sent < 0) {
    d->counters.drop[why]++;
    return;
  }

  TmImpairPacket *p = g_malloc(sizeof *p + len);
  p->release_us = sent + sample_delay(s, u[3], u[4]);
  if (!s->reorder)
    p->release_us = MAX(p->release_us, d->last_release_us);
  d->last_release_us = MAX(d->last_release_us, p->release_us);
  p->order = d->order++;
  p->len = len;
  memcpy(p->data, data, len);
  heap_push(d->heap, p);
}

TmImpairPacket *
tm_impair_link_poll_output(TmImpairLink *link, TmImpairDirection dir, int64_t now_us)
{
  ImpairDir *d = &link->dir[dir];
  while (d->heap->len > 0 && ((TmImpairPacket *) d->heap->pdata[0])->release_us <= now_us) {
    TmImpairPacket *p = heap_pop(d->heap);
    if (tm_impair_link_in_outage(link, now_us)) {
      d->counters.drop[TM_IMPAIR_DROP_OUTAGE]++;
      g_free(p);
      continue;
    }
    d->counters.out++;
    d->counters.bytes_out += p->len;
    return p;
  }
  return NULL;
}

void
tm_impair_link_write_failed(TmImpairLink *link, TmImpairDirection dir, gsize len)
{
  TmImpairCounters *c = &link->dir[dir].counters;
  c->out--;
  c->bytes_out -= len;
  c->drop[TM_IMPAIR_DROP_WRITE]++;
}

int64_t
tm_impair_link_next_deadline(const TmImpairLink *link)
{
  int64_t next = INT64_MAX;
  for (int i = 0; i < TM_IMPAIR_DIRS; i++) {
    const GPtrArray *h = link->dir[i].heap;
    if (h->len > 0)
      next = MIN(next, ((const TmImpairPacket *) h->pdata[0])->release_us);
  }
  return next;
}

const TmImpairCounters *
tm_impair_link_counters(const TmImpairLink *link, TmImpairDirection dir)
{
  return &link->dir[dir].counters;
}

guint
tm_impair_link_held(const TmImpairLink *link, TmImpairDirection dir)
{
  return link->dir[dir].heap->len;
}

void
tm_impair_link_format_counters(const TmImpairLink *link, GString *out)
{
  for (int i = 0; i < TM_IMPAIR_DIRS; i++) {
    const TmImpairCounters *c = &link->dir[i].counters;
    g_string_append_printf(out,
                           "counters %s in=%" G_GUINT64_FORMAT " out=%" G_GUINT64_FORMAT
                           " bytes_in=%" G_GUINT64_FORMAT " bytes_out=%" G_GUINT64_FORMAT,
                           tm_impair_direction_names[i], c->in, c->out, c->bytes_in, c->bytes_out);
    for (int r = 0; r < TM_IMPAIR_DROP_COUNT; r++)
      g_string_append_printf(out, " drop_%s=%" G_GUINT64_FORMAT, tm_impair_drop_names[r],
                             c->drop[r]);
    g_string_append_printf(out, " held=%u\n", link->dir[i].heap->len);
  }
}
