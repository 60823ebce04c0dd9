/* hearing.h — a hearing: its participants, their connections, and who receives what.
 *
 * The hearing owns every TmPeer of its participants. A publish peer's media is fanned out to
 * the subscribe peers whose feed is that participant, if the visibility policy allows the
 * receiver's role to have that track. The shell tells the hearing about joins, offers,
 * datagrams and time; the hearing tells the shell, through the listener, what to transmit and
 * which connections opened, failed or closed. Pure: no sockets, clock or threads. */
#pragma once

#include <glib.h>

#include "peer.h"
#include "role.h"
#include "sdp.h"

#define TM_HEARING_MAX_PARTICIPANTS 16
#define TM_HEARING_ID_LEN 65

typedef struct _TmHearing TmHearing;

typedef enum { TM_STATE_WAITING, TM_STATE_ADMITTED } TmAdmission;

/* Protective measures (bit flags). */
typedef enum {
  TM_MEASURE_SCREEN_WITNESS = 1 << 0,
} TmMeasure;

typedef struct {
  char id[16]; /* "p1", "p2", ... unique within the hearing */
  char name[129];
  TmRole role;
  TmPeer *publish;          /* NULL until the participant publishes */
  bool publishing;          /* publish peer connected */
  GPtrArray *subscriptions; /* TmPeer* this participant receives on */
  GPtrArray *subscribers;   /* TmPeer* receiving this participant's media */
  GPtrArray *not_shown;     /* TmParticipant* whose picture this one's screen does not show */
  void *data;               /* the shell's session */
  int64_t joined_us;
  TmAdmission state;
  bool muted[TM_TRACK_COUNT]; /* stopped at the relay by the judge */
  /* Set by the shell while the participant's link is down (its signalling is gone, or its
   * media has stopped): when it went, 0 while connected. The participant keeps its place. */
  int64_t away_since_us;
  /* Counted by the shell: ICE restarts on this participant's connections (the path changed
   * without a new connection). */
  uint32_t ice_restarts;
} TmParticipant;

typedef enum {
  TM_HEARING_OK = 0,
  TM_HEARING_ERR_FULL,
  TM_HEARING_ERR_SELF,      /* subscribing to oneself */
  TM_HEARING_ERR_NO_FEED,   /* the feed has not published */
  TM_HEARING_ERR_DUPLICATE, /* already published / subscribed to that feed */
  TM_HEARING_ERR_SDP,       /* see *sdp_err */
  TM_HEARING_ERR_FORBIDDEN, /* the role may not do that (observers never publish) */
  TM_HEARING_ERR_COUNT
} TmHearingError;

typedef struct {
  void (*transmit)(void *user_data, TmPeer *peer, const uint8_t *buf, size_t len);
  /* A publish peer connected: the shell tells the others this participant publishes. */
  void (*published)(void *user_data, TmParticipant *p);
  /* A connection failed (DTLS); the shell decides (normally: the participant is gone). */
  void (*peer_failed)(void *user_data, TmPeer *peer, const char *reason);
  /* The hearing is about to free PEER: the shell drops its transport. */
  void (*peer_closed)(void *user_data, TmPeer *peer);
  /* Every RTP packet received from an admitted participant, as received (decrypted, unchanged):
   * what an evidence recording keeps. May be NULL. */
  void (*media)(void *user_data, TmParticipant *from, TmTrack track, const uint8_t *buf, size_t len,
                int64_t now_us);
  /* A connection on which P receives a feed connected; its media comes next. The shell tells P
   * at once how long that feed's repairs take (its round trips are known from the handshakes),
   * so its jitter buffers wait that long before its first picture. May be NULL. */
  void (*receiving)(void *user_data, TmParticipant *p, TmPeer *peer);
} TmHearingListener;

typedef struct {
  const char *id;
  const char *case_number; /* may be NULL */
  TmDtlsIdentity *identity;
  int64_t wall_offset_us; /* wall clock minus monotonic clock */
  bool waiting_room;      /* everyone but judges waits to be admitted */
  guint measures;         /* TmMeasure flags on at the start */
  /* Where SSRCs, RTP offsets and SDP session ids come from: the caller's (a seeded
   * g_rand_new_with_seed() replays a simulation); NULL: the hearing's own, seeded by GLib. */
  GRand *rand;
  bool transport_cc; /* answer transport-cc to publishers that offer it (twcc.h) */
} TmHearingConfig;

/* Relay-side ICE parameters for an answer. */
typedef struct {
  const char *ufrag;
  const char *pwd;
  const char *const *candidates; /* "candidate:..." */
  guint n_candidates;
} TmIceParams;

TmHearing *tm_hearing_new(const TmHearingConfig *config, const TmHearingListener *listener,
                          void *user_data);
void tm_hearing_free(TmHearing *h);

const char *tm_hearing_id(const TmHearing *h);
const char *tm_hearing_case(const TmHearing *h);
guint tm_hearing_n_participants(const TmHearing *h);
TmParticipant *tm_hearing_participant(const TmHearing *h, guint index);
TmParticipant *tm_hearing_find(const TmHearing *h, const char *id);

TmParticipant *tm_hearing_join(TmHearing *h, const char *name, TmRole role, int64_t now_us,
                               TmHearingError *err);
/* Removes P and every connection to or from it (peer_closed for each). */
void tm_hearing_leave(TmHearing *h, TmParticipant *p);

/* Answers P's publish offer (FEED NULL) or its offer to receive FEED. On success returns the
 * new peer and fills ANSWER. */
TmPeer *tm_hearing_open_peer(TmHearing *h, TmParticipant *p, TmParticipant *feed,
                             const TmSdp *offer, const TmIceParams *ice, TmSdp *answer,
                             int64_t now_us, TmHearingError *err, TmSdpError *sdp_err);
/* The payload type and clock rate P publishes TRACK with (codec: Opus for audio, VP8 for video).
 * FALSE when P does not publish that track. */
bool tm_hearing_track_info(const TmParticipant *p, TmTrack track, uint8_t *pt, uint32_t *clock);
/* Asks every publisher for a video key frame (rate-limited per publisher): a recording that
 * starts or resumes then begins with a decodable picture. */
void tm_hearing_request_keyframes(TmHearing *h, int64_t now_us);
/* Closes P's publish connection, if any, keeping its subscribers: when P publishes again (a
 * new connection after its link dropped), they receive it again without asking. */
void tm_hearing_close_publish(TmHearing *h, TmParticipant *p);
/* Whether P's screen shows FEED's picture (the display message; shown until it says not). Video
 * not shown is not sent to P, even when P subscribes to FEED again later, and P's link then
 * does not limit what FEED's sender is told it may send; shown again, it starts at a key frame
 * (asked for). Sound is never affected. */
void tm_hearing_set_shown(TmHearing *h, TmParticipant *p, TmParticipant *feed, bool shown,
                          int64_t now_us);
/* Closes P's subscription to FEED, if any. */
void tm_hearing_close_subscription(TmHearing *h, TmParticipant *p, TmParticipant *feed);
/* The participant a peer belongs to, and the feed it carries (subscribe peers). */
TmParticipant *tm_hearing_peer_owner(const TmHearing *h, const TmPeer *peer);
TmParticipant *tm_hearing_peer_feed(const TmHearing *h, const TmPeer *peer);

/* The visibility policy: whether a receiver with role TO may get TRACK from a publisher with
 * role FROM, given the measures in force (docs/hearings.md). */
bool tm_hearing_policy_allows(guint measures, TmRole from, TmRole to, TmTrack track);
/* Whether TO may receive TRACK from FROM now: policy, both admitted, FROM not muted. Checked for
 * every forwarded packet. */
bool tm_hearing_allowed(const TmHearing *h, const TmParticipant *from, const TmParticipant *to,
                        TmTrack track);

/* Changes that alter who receives what; each re-evaluates every connection at once (a receiver
 * newly allowed video gets a key frame requested for it). */
void tm_hearing_set_state(TmHearing *h, TmParticipant *p, TmAdmission state, int64_t now_us);
void tm_hearing_set_muted(TmHearing *h, TmParticipant *p, TmTrack track, bool muted,
                          int64_t now_us);
void tm_hearing_set_measure(TmHearing *h, TmMeasure measure, bool on, int64_t now_us);
guint tm_hearing_measures(const TmHearing *h);
bool tm_hearing_waiting_room(const TmHearing *h);
/* Packets of TRACK sent to TO that came from FROM (counters of the subscribe connection). */
uint64_t tm_hearing_packets_sent(const TmHearing *h, const TmParticipant *from,
                                 const TmParticipant *to, TmTrack track);

void tm_hearing_handle_datagram(TmHearing *h, TmPeer *peer, const uint8_t *buf, size_t len,
                                int64_t now_us);
void tm_hearing_handle_timeout(TmHearing *h, int64_t now_us);
int64_t tm_hearing_next_deadline(const TmHearing *h);

const char *tm_hearing_strerror(TmHearingError err);

/* Adds to M (metrics.h) the hearing: one open hearing, its participants by role and state, what
 * its connections counted (closed ones included) and the RTT and loss of those open. */
struct _TmMetrics;
void tm_hearing_add_metrics(const TmHearing *h, struct _TmMetrics *m);
/* Adds to C only what the hearing's connections counted (when the hearing closes). */
struct _TmCounters;
void tm_hearing_add_counters(const TmHearing *h, struct _TmCounters *c);
