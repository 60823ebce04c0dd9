/* relay.h — what the relay's objects share: configuration, keys, the ICE options and the
 * registries of hearings and sessions. Data only: server.c fills and frees it; http, session,
 * control and room read it. All of it belongs to the control thread (CONTEXT): the media
 * workers (workers.h) never touch it, apart from posting work to CONTEXT. */
#pragma once

#include <json-glib/json-glib.h>

#include "config.h"
#include "dtls.h"
#include "evidence.h"
#include "ice.h"
#include "keys.h"
#include "listener.h"
#include "metrics.h"
#include "wire-error.h"
#include "workers.h"

/* How a room reaches the sessions of its participants (TmParticipant.data) and control sessions
 * without knowing what a session is: server.c points these at session.c. */
typedef struct {
  void (*send)(gpointer session, JsonBuilder *message);
  /* Takes the session out of its hearing (REASON: "left", "connection-failed", ...). */
  void (*leave)(gpointer session, const char *reason);
  void (*close)(gpointer session);
  /* Tells the session why with ERR (MESSAGE, or ERR's own when NULL), revokes its token when
   * REVOKE, takes it out of the hearing (ERR's code is the reason) and closes it (refuse,
   * remove). */
  void (*dismiss)(gpointer session, TmWireError err, const char *message, gboolean revoke);
} TmSessionSink;

typedef struct {
  TmConfig config;
  GMainContext *context; /* the control thread's */
  TmWorkers *workers;    /* the media worker threads */
  TmKeyring *keyring;
  TmEvidenceKey *evidence; /* signs audit logs and recordings */
  TmDtlsIdentity *identity;
  TmIceOptions ice;
  TmSessionSink sink;
  GHashTable *rooms;            /* hearing id -> TmRoom* */
  GHashTable *sessions;         /* TmSession* set */
  GHashTable *live_tokens;      /* jti -> TmSession* */
  GHashTable *join_limits;      /* remote address -> TmTokenBucket*: failed joins */
  GHashTable *unjoined;         /* remote address -> GQueue of TmSession* not yet joined */
  GHashTable *audit_heads;      /* hearing id -> "SEQ:HASH" last written to its audit log */
  GPtrArray *trusted_proxies;   /* GInetAddressMask*: whose X-Forwarded-For is believed; NULL */
  TmCounters counters;          /* what no open hearing holds: hearings closed, join failures */
  const TmListenerStats *https; /* the HTTPS listener's counters (http.c sets it) */
  gboolean stopping;            /* SIGTERM: participants have been told, nobody new joins */
} TmRelay;
