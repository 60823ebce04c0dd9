/* room.h — one hearing while anyone is in it: its engine (TmHearing), the timer that drives it,
 * the ICE transport of every peer connection, its audit log and its recording, and the messages
 * that go to everyone in it.
 *
 * A room reaches the sessions of its participants only through the relay's session sink
 * (relay.h); it never replies to a request: whoever acts on it (session, control) sends the
 * reply. Opened by the first join, closed when the last participant or control session leaves.
 *
 * Threads (workers.h has the whole of the rules): the room's ICE agents, datagrams and engine
 * timer run on its media worker (ROOM.context); everything else on the control thread. LOCK
 * guards the engine (hearing), the transports, the recorder and the counters: the worker takes
 * it for each datagram, ICE state change and timer run; the control thread takes it with
 * tm_room_enter at each of its entry points and gives it back with tm_room_exit (a recursive
 * lock: a call made inside may enter again). Closing (the destroy function of relay->rooms,
 * under the lock) frees the engine and marks the room and its transports closed; the worker's
 * callbacks check that after taking the lock. The room's memory is reference-counted (the
 * registry, each transport, the timer, each tm_room_enter) and goes with the last reference. */
#pragma once

#include <json-glib/json-glib.h>

#include "audit-log.h"
#include "hearing.h"
#include "ice.h"
#include "recorder.h"
#include "relay.h"
#include "sdp.h"
#include "state.h"
#include "token.h"
#include "workers.h"

typedef struct _TmRoom TmRoom;

/* A participant whose link drops keeps its place — identity, admission, seat — for this long;
 * then it is removed ("connection-lost") and the staff are told. */
#define TM_ROOM_GRACE_S 60
/* A publish connection that has received nothing for this long is given up (the participant's
 * client connects again); a publishing participant silent for TM_ROOM_AWAY_US shows as
 * reconnecting. */
#define TM_ROOM_SILENCE_US (30 * G_USEC_PER_SEC)
#define TM_ROOM_AWAY_US (3 * G_USEC_PER_SEC)

/* What lets a participant continue after its link dropped: the token it joined with, and a
 * secret only its session was told (to take its place over from a connection that is still
 * open on the relay's side). */
typedef struct {
  TmRoom *room;
  TmParticipant *participant;
  char jti[TM_TOKEN_ID_LEN];
  char secret[33];
  gboolean published; /* it has published once: it is away while it does not */
  GSource *grace;     /* running while it is away */
} TmSeat;

/* One peer connection's ICE transport, owned by its room; it holds a reference to the room and
 * is freed on the room's worker after it is closed. */
typedef struct {
  TmRoom *room;
  TmPeer *peer;
  TmIce *ice;
  gboolean failing; /* its failure is being handled */
  gboolean closed;  /* taken out of the room: its callbacks do nothing */
  gboolean queued;  /* in the room's pending list */
  /* What an ICE restart is checked against and answered from: the offer's session id (the
   * same in every offer of one peer connection, RFC 8829 §5.2.2), ICE username fragment and
   * DTLS fingerprint, and the relay's answer as sent. */
  uint64_t offer_session_id;
  char offer_ufrag[TM_SDP_ICE_LEN];
  uint8_t offer_fingerprint[TM_SDP_FINGERPRINT_MAX];
  size_t offer_fingerprint_len;
  char *answer; /* SDP text */
} TmTransport;

struct _TmRoom {
  TmRelay *relay;
  GRecMutex lock;
  gint refs;       /* atomic */
  gboolean closed; /* the engine and everything below are gone */
  guint64 serial;  /* tells a room from a later one of the same hearing */
  TmWorker *worker;
  GMainContext *context; /* its worker's: agents, datagrams, engine timer */
  TmHearing *hearing;
  TmHearingRecord *record;
  GSource *timer;
  GSource *flush;     /* sends the transports' queued datagrams (ready while PENDING has any) */
  GPtrArray *pending; /* TmTransport* with datagrams queued */
  GSource *quality_timer;
  GHashTable *transports; /* TmPeer* -> TmTransport* */
  GHashTable *seats;      /* TmParticipant* -> TmSeat* */
  GPtrArray *controls;    /* control sessions (reached through the relay's sink) */
  gboolean locked;
  TmAuditLog *audit;
  TmRecorder *recorder; /* NULL when not recording */
  gboolean recording_paused;
  gint64 recording_since; /* UNIX seconds */
  guint64 recorded_bytes; /* RTP bytes handed to its recordings (metrics) */
};

/* The room of HEARING_ID, opening it (and its audit log) if nobody is in it yet. */
TmRoom *tm_room_open(TmRelay *relay, const char *hearing_id, GError **error);
/* Frees ROOM when nobody is left in it; returns TRUE when it did. */
gboolean tm_room_close_if_empty(TmRoom *room);
/* The destroy function of relay->rooms: closes ROOM and drops the registry's reference. */
void tm_room_free(TmRoom *room);
/* The control thread's hold on ROOM: a reference and its lock; returns ROOM. Every entry point
 * that touches a room (a message, a timer, a request) enters it and exits when done; ROOM may
 * close in between (then only tm_room_exit may touch it). */
TmRoom *tm_room_enter(TmRoom *room);
void tm_room_exit(TmRoom *room);
/* Sets the timer to the hearing's next deadline. */
void tm_room_schedule(TmRoom *room);

/* Messages. Someone waiting gets none of the broadcasts. */
void tm_room_send(TmRoom *room, TmParticipant *to, JsonBuilder *b);
/* Everyone admitted but EXCEPT, and every control session. */
void tm_room_broadcast(TmRoom *room, TmParticipant *except, JsonBuilder *b);
/* STAFF to judges, clerks and control sessions, OTHERS (unless NULL) to everyone else admitted. */
void tm_room_broadcast_roles(TmRoom *room, JsonBuilder *staff, JsonBuilder *others);
void tm_room_broadcast_staff(TmRoom *room, JsonBuilder *b);
/* Tells everyone P's state changed, and who now sees whom. */
void tm_room_participant_changed(TmRoom *room, TmParticipant *p);
/* Who sees whom now: the whole table to judges, clerks and control sessions, each other admitted
 * participant their own row. After anything that changes it. */
void tm_room_send_visibility(TmRoom *room);
/* Tells TO (just admitted) who else is in the hearing and whether it is being recorded: what
 * someone waiting was not told. */
void tm_room_send_roster(TmRoom *room, TmParticipant *to);
/* The waiting list; tm_room_send_waiting sends it to the staff. */
JsonBuilder *tm_room_waiting_list(TmRoom *room);
void tm_room_send_waiting(TmRoom *room);
/* The full status snapshot (for judges, clerks and admitted participants). */
JsonBuilder *tm_room_status(TmRoom *room);
/* The joined message for someone who just joined as P (NULL: a control session), with the
 * secret of its seat, and whether it continues its place (RESUMED). */
JsonBuilder *tm_room_joined(TmRoom *room, TmParticipant *p, const char *name, TmRole role,
                            gboolean resumed);
/* Places. A participant that joined with token JTI gets a seat; returns it. */
TmSeat *tm_room_seat_new(TmRoom *room, TmParticipant *p, const char *jti);
/* The seat of the participant that joined with token JTI, or NULL. */
TmSeat *tm_room_find_seat(TmRoom *room, const char *jti);
/* P's link dropped (WHY: "signalling connection lost", "no media for 3 s", ...): it shows as
 * reconnecting, the recording and the audit log note it, and the grace period starts. No-op
 * when P is already away. */
void tm_room_set_away(TmRoom *room, TmParticipant *p, const char *why);
/* Whether P is connected again (a session, and media if it had published): then it shows as
 * back, and the recording and the audit log note it. */
void tm_room_check_back(TmRoom *room, TmParticipant *p);

/* Takes P out of the hearing: recording, audit, the others told, the room closed if empty. */
void tm_room_remove(TmRoom *room, TmParticipant *p, const char *reason);

/* "ID NAME (ROLE)": how the audit log names a participant. g_free. */
char *tm_room_label(const TmParticipant *p);
/* Appends to the hearing's audit log; ACTOR is a label (tm_room_label, or a control session's),
 * NULL for the relay. */
void tm_room_audit(TmRoom *room, const char *actor, const char *action,
                   const TmParticipant *subject, const char *detail);

/* Transports. */
TmTransport *tm_room_open_transport(TmRoom *room, TmParticipant *owner, TmParticipant *feed,
                                    const TmSdp *offer, TmSdp *answer, TmHearingError *he,
                                    TmSdpError *se, GError **error);
/* An ICE restart (RFC 8445 §9, RFC 8839 §4.4.1.1.1): OFFER is T's connection offered again (the
 * same session id) with new ICE credentials and the same DTLS fingerprint and media sections. T gets a new ICE agent
 * (new credentials, candidates and checks) and keeps its DTLS and SRTP sessions: the media
 * continue on the new path without a handshake. Returns the answer (SDP text, g_free), or NULL
 * when OFFER is not a restart of T (then it replaces T as a new connection) or the relay could
 * not open a port (ERROR set). */
char *tm_room_restart_ice(TmRoom *room, TmTransport *t, const TmSdp *offer, GError **error);
/* OWNER's connection to TARGET ("publish" or a feed's participant id), or NULL. */
TmTransport *tm_room_find_transport(TmRoom *room, TmParticipant *owner, const char *target);

/* The hearing's recording (room-recording.c): the recorder is the room's. */
const char *tm_room_recording_state(const TmRoom *room); /* stopped, paused, recording */
gboolean tm_room_recording_start(TmRoom *room, const char *actor, GError **error);
/* Finishes it; returns its directory (g_free) or NULL; ACTOR NULL: the relay stopped it (the
 * hearing ended or emptied), and the staff are told where it is. */
char *tm_room_recording_stop(TmRoom *room, const char *actor);
gboolean tm_room_recording_pause(TmRoom *room, const char *actor, gboolean pause);
void tm_room_recording_mark(TmRoom *room, const char *actor, TmRole by, const char *text);
/* A participant entered (admitted, publishing) or left the recorded hearing. */
void tm_room_record_presence(TmRoom *room, TmParticipant *p, gboolean present);
/* The hearing listener's record callback. */
void tm_room_record_packet(void *room, TmParticipant *from, TmTrack track, const uint8_t *buf,
                           size_t len, int64_t now_us);
/* Tells TO that the hearing is being recorded (or paused), if it is. */
void tm_room_send_recording(TmRoom *room, TmParticipant *to);
