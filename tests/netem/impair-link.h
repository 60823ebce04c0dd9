/* impair-link.h — the model behind testimony-impair: a link with two directions (A→B, B→A), each
 * with its own loss (independent, and bursts after Gilbert–Elliott), rate limit with a drop-tail
 * queue, delay with jitter, and a cap on the packets it holds; outages drop everything both ways.
 *
 * Pure: packets come in with the time, packets that are due come out of poll_output, and
 * next_deadline says when the next one is due. No file descriptors, clock or signals, so the same
 * seed and the same packets at the same times give the same result. */
#pragma once

#include <glib.h>
#include <stdint.h>

typedef enum { TM_IMPAIR_A2B, TM_IMPAIR_B2A, TM_IMPAIR_DIRS } TmImpairDirection;

/* Why a packet was dropped; tm_impair_drop_names[] holds the word used in counter lines. */
typedef enum {
  TM_IMPAIR_DROP_LOSS,   /* independent random loss */
  TM_IMPAIR_DROP_BURST,  /* lost in the bad state of the Gilbert–Elliott model */
  TM_IMPAIR_DROP_QUEUE,  /* the rate limit's drop-tail queue was full */
  TM_IMPAIR_DROP_OUTAGE, /* an outage was on when it came in or when it was due */
  TM_IMPAIR_DROP_LIMIT,  /* the direction already held `limit` packets */
  TM_IMPAIR_DROP_WRITE,  /* the output device refused it */
  TM_IMPAIR_DROP_FILTER, /* a firewall setting (udp=0, tcp_port=N) does not let it through */
  TM_IMPAIR_DROP_COUNT
} TmImpairDrop;

extern const char *const tm_impair_drop_names[TM_IMPAIR_DROP_COUNT];
extern const char *const tm_impair_direction_names[TM_IMPAIR_DIRS];

typedef enum { TM_IMPAIR_JITTER_UNIFORM, TM_IMPAIR_JITTER_NORMAL } TmImpairJitter;

/* One direction's settings. The words of a settings line are in impair-link.c (keys[]). */
typedef struct {
  double loss;     /* independent loss, percent */
  double p_gb;     /* Gilbert–Elliott: percent chance per packet to go good → bad; 0 = off */
  double p_bg;     /* percent chance per packet to go bad → good */
  double bad_loss; /* percent lost while bad */
  /* The chain also steps once for each whole burst_us that passes without a packet: a burst is
   * bounded in time as well as in packets, so a sparse flow (a TCP retransmission backing
   * off, ICE checks) is not held in the bad state for seconds. 0: per packet only. */
  int64_t burst_us;
  int64_t delay_us;
  int64_t jitter_us; /* uniform: delay ± jitter; normal: standard deviation */
  TmImpairJitter dist;
  gboolean reorder;    /* FALSE: packets leave in the order they came, whatever the jitter */
  int64_t rate_bps;    /* bottleneck rate in bit/s; 0 = unlimited */
  int64_t queue_bytes; /* its drop-tail queue; 0 = as many bytes as queue_us at the rate */
  int64_t queue_us;
  int64_t limit;    /* packets held in this direction at most (bounds memory) */
  gboolean udp;     /* FALSE: every UDP packet is dropped (a firewall that lets only TCP out) */
  int64_t tcp_port; /* > 0: a TCP packet passes only to or from this port (e.g. 443) */
} TmImpairSettings;

typedef struct {
  guint64 in, out, bytes_in, bytes_out;
  guint64 drop[TM_IMPAIR_DROP_COUNT];
} TmImpairCounters;

typedef struct {
  int64_t release_us;
  guint64 order;
  gsize len;
  uint8_t data[];
} TmImpairPacket;

typedef struct _TmImpairLink TmImpairLink;

#define TM_IMPAIR_MAX_PACKET 65535
#define TM_IMPAIR_MAX_OUTAGES 1024

void tm_impair_settings_init(TmImpairSettings *s);
/* Appends the settings as a line of key=value words that configure() accepts. */
void tm_impair_settings_format(const TmImpairSettings *s, GString *out);

/* Both directions start with the defaults (no impairment) and random streams seeded with SEED. */
TmImpairLink *tm_impair_link_new(guint32 seed);
void tm_impair_link_free(TmImpairLink *link);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TmImpairLink, tm_impair_link_free)

/* Applies a settings line ("loss=10 delay=100 jitter=20", see docs/testing.md) to each direction
 * whose bit (1 << TmImpairDirection) is in DIR_MASK. All or nothing: on a bad word nothing changes
 * and ERROR names it. `clear` first puts back the defaults; `seed=N` restarts the random stream. */
gboolean tm_impair_link_configure(TmImpairLink *link, guint dir_mask, const char *line,
                                  GError **error);
const TmImpairSettings *tm_impair_link_settings(const TmImpairLink *link, TmImpairDirection dir);

/* Outages: one switched on and off by hand, and scheduled ones [START, START + DURATION). */
void tm_impair_link_set_outage(TmImpairLink *link, gboolean on);
gboolean tm_impair_link_outage_switched_on(const TmImpairLink *link);
gboolean tm_impair_link_add_outage(TmImpairLink *link, int64_t start_us, int64_t duration_us);
gboolean tm_impair_link_in_outage(TmImpairLink *link, int64_t now_us);

/* A packet read from DIR's input device. Copies DATA (at most TM_IMPAIR_MAX_PACKET bytes). */
void tm_impair_link_handle_packet(TmImpairLink *link, TmImpairDirection dir, const uint8_t *data,
                                  gsize len, int64_t now_us);
/* The next packet of DIR due by NOW, or NULL; the caller writes it and frees it with g_free. */
TmImpairPacket *tm_impair_link_poll_output(TmImpairLink *link, TmImpairDirection dir,
                                           int64_t now_us);
/* The caller could not write a packet poll_output gave it: counts it as dropped, not out. */
void tm_impair_link_write_failed(TmImpairLink *link, TmImpairDirection dir, gsize len);
/* When poll_output next has something (INT64_MAX = nothing held). */
int64_t tm_impair_link_next_deadline(const TmImpairLink *link);

const TmImpairCounters *tm_impair_link_counters(const TmImpairLink *link, TmImpairDirection dir);
guint tm_impair_link_held(const TmImpairLink *link, TmImpairDirection dir);
/* Appends "counters a2b in=… out=… drop_loss=… …\n" for both directions. */
void tm_impair_link_format_counters(const TmImpairLink *link, GString *out);
