/* control.h — carrying out a judge's, clerk's or participant's control (docs/protocol.md,
 * "Running the hearing") on its room, by the rules of relay/engine/court.h.
 *
 * The caller (session.c) says who acts; the control changes the hearing, tells the others
 * through the room, and returns the reply for the one who acted: it never sends it itself. */
#pragma once

#include <json-glib/json-glib.h>

#include "message.h"
#include "room.h"
#include "util.h"

/* Who acts. */
typedef struct {
  gpointer session; /* the actor's own session (opaque; the caller's to close) */
  TmRole role;
  TmParticipant *participant; /* NULL for a control session */
  const char *label;          /* how the audit log names them */
  TmTokenBucket *bucket;      /* the controls they may still carry out */
  GHashTable **refusals;      /* action -> TmAuditRefusal*: refusals held back */
} TmControlActor;

typedef struct {
  JsonBuilder *reply; /* done, an error, or the waiting list: for the actor */
  gboolean ended;     /* the hearing ended: the actor leaves and its session closes */
} TmControlResult;

/* Carries out M (a control message) in ROOM. R->reply is always set. */
void tm_control_handle(TmRoom *room, const TmControlActor *actor, const TmMessage *m,
                       TmControlResult *r);
/* Writes the refusals held back for ACTOR (when it leaves). */
void tm_control_flush_refusals(TmRoom *room, const TmControlActor *actor);
