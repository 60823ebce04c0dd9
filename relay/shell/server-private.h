/* server-private.h — the shell's shared structures: server, hearing rooms, sessions.
 * server.c runs signalling, sessions and media transports; control.c runs the hearing's
 * controls, waiting room, link quality and audit log. */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "audit-log.h"
#include "audit.h"
#include "config.h"
#include "evidence.h"
#include "hearing.h"
#include "ice.h"
#include "keys.h"
#include "listener.h"
#include "message.h"
#include "recorder.h"
#include "server.h"
#include "state.h"
#include "util.h"

typedef struct _Room Room;

typedef struct {
  Room *room;
  TmPeer *peer;
  TmIce *ice;
} Transport;

typedef struct {
  TmServer *server;
  SoupWebsocketConnection *ws;
  char *remote;                 /* peer address, for rate limits (not logged) */
  Room *room;
  TmParticipant *participant;   /* NULL for control sessions and before join */
  gboolean control;             /* a control session (testimony-ctl) */
  TmRole role;                  /* from the token */
  char name[TM_TOKEN_NAME_LEN];
  char jti[TM_TOKEN_ID_LEN];
  TmTokenBucket bucket;
  TmTokenBucket audit_bucket;   /* controls it may have carried out (and audited) */
  GHashTable *refusals;         /* action -> TmAuditRefusal*: refused controls, held back */
  guint join_deadline;          /* closes the session unless it joins in time */
  gboolean unjoined_counted;    /* counted in server->unjoined */
  gboolean closed;
} Session;

struct _Room {
  TmServer *server;
  TmHearing *hearing;
  TmHearingRecord *record;
  GSource *timer;
  GSource *quality_timer;
  GHashTable *transports;       /* TmPeer* -> Transport* */
  GPtrArray *controls;          /* Session* control sessions */
  gboolean locked;
  TmAuditLog *audit;
  TmRecorder *recorder;         /* NULL when not recording */
  gboolean recording_paused;
  gint64 recording_since;       /* UNIX seconds */
};

struct _TmServer {
  TmConfig config;
  SoupServer *soup;
  TmListener *listener;
  GMainContext *context;
  TmKeyring *keyring;
  TmEvidenceKey *evidence;       /* signs audit logs and recordings */
  TmDtlsIdentity *identity;
  GHashTable *rooms;            /* hearing id -> Room* */
  GHashTable *sessions;         /* Session* set */
  GHashTable *live_tokens;      /* jti -> Session* */
  GHashTable *join_limits;      /* remote address -> TmTokenBucket* */
  GHashTable *unjoined;         /* remote address -> GQueue of Session* not yet joined */
  GHashTable *audit_heads;      /* hearing id -> "SEQ:HASH" last written to its audit log */
  TmIceOptions ice;
};

/* server.c */
JsonBuilder *tm_msg_begin(const char *type);
void tm_msg_add_string(JsonBuilder *b, const char *name, const char *value);
void tm_session_send(Session *s, JsonBuilder *b);
void tm_session_error(Session *s, const char *code, const char *message, const char *ref);
void tm_session_leave(Session *s, const char *reason);
void tm_session_close(Session *s, gushort code);
/* Acknowledges a control action (`done`, with the recording's PATH when given). */
void tm_session_done(Session *s, const char *action, const char *path);
/* Tells S why with error CODE, takes it out of the hearing (REASON = CODE) and closes it. */
void tm_session_dismiss(Session *s, const char *code, const char *message);
void tm_add_participant(JsonBuilder *b, Room *room, const TmParticipant *p,
                        gboolean with_counters);
void tm_add_protection(JsonBuilder *b, Room *room);
/* Sends B to every participant (but EXCEPT) and every control session. */
void tm_room_broadcast(Room *room, TmParticipant *except, JsonBuilder *b);
/* Sends B to judges, clerks and control sessions only. */
void tm_room_broadcast_staff(Room *room, JsonBuilder *b);
/* Sends STAFF to judges, clerks and control sessions, OTHERS (unless NULL) to everyone else. */
void tm_room_broadcast_roles(Room *room, JsonBuilder *staff, JsonBuilder *others);
void tm_room_participant_changed(Room *room, TmParticipant *p);
/* Tells TO (just admitted) who else is in the hearing, as participant-joined messages, and
 * whether it is being recorded: what someone waiting was not told. */
void tm_room_send_roster(Room *room, TmParticipant *to);
void tm_room_schedule(Room *room);

/* control.c */
void tm_control_handle(Session *s, const TmMessage *m);
void tm_room_send_waiting(Room *room, Session *only);
gboolean tm_room_quality_tick(gpointer room);
void tm_room_audit(Room *room, const Session *actor, const char *action,
                   const TmParticipant *subject, const char *detail);
/* Writes the refusals held back for S (when it leaves). */
void tm_session_audit_refusals(Session *s);
char *tm_participant_label(const TmParticipant *p);

/* recording.c */
void tm_room_record_packet(void *room, TmParticipant *from, TmTrack track, const uint8_t *buf,
                           size_t len, int64_t now_us);
/* A participant entered (admitted, publishing) or left the recorded hearing. */
void tm_room_record_presence(Room *room, TmParticipant *p, gboolean present);
/* Finishes the recording, if any (hearing ended, everyone left, relay stopping). */
void tm_room_recording_stop(Room *room, const Session *by);
void tm_control_record(Session *s, const TmMessage *m, TmParticipant *target);
void tm_control_mark(Session *s, const TmMessage *m, TmParticipant *target);
void tm_add_recording(JsonBuilder *b, Room *room);
/* Tells TO that the hearing is being recorded (or paused), if it is. */
void tm_room_send_recording(Room *room, Session *to);
