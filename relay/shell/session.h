/* session.h — one signalling WebSocket (docs/protocol.md): its rate limits, its join (token,
 * hearing, admission), and what it asks of its room — offers, candidates, controls, status,
 * leaving. It is what a room's participant (TmParticipant.data) or control session points to.
 *
 * Created by http.c for every WebSocket, kept in relay->sessions (whose destroy function is
 * tm_session_free), reached from rooms only through tm_session_sink. */
#pragma once

#include <libsoup/soup.h>

#include "relay.h"
#include "room.h"
#include "token.h"
#include "util.h"

typedef struct _TmSession TmSession;

struct _TmSession {
  TmRelay *relay;
  SoupWebsocketConnection *ws;
  char *remote;               /* peer address, for rate limits (not logged) */
  TmRoom *room;               /* NULL before join and after leaving */
  TmParticipant *participant; /* NULL for control sessions and before join */
  gboolean control;           /* a control session (testimony-ctl) */
  TmRole role;                /* from the token */
  char name[TM_TOKEN_NAME_LEN];
  char jti[TM_TOKEN_ID_LEN];
  TmTokenBucket bucket;       /* messages */
  TmTokenBucket audit_bucket; /* controls it may have carried out (and audited) */
  GHashTable *refusals;       /* action -> TmAuditRefusal*: refused controls, held back */
  guint join_deadline;        /* closes the session unless it joins in time */
  gboolean unjoined_counted;  /* in relay->unjoined */
  gboolean closed;
};

/* A new WebSocket from REMOTE (an address): it must join within 10 s. */
TmSession *tm_session_new(TmRelay *relay, SoupWebsocketConnection *ws, const char *remote);
void tm_session_free(TmSession *s);

void tm_session_send(TmSession *s, JsonBuilder *b);
/* Sends error ERR (MESSAGE, or ERR's own when NULL; REF may be NULL). */
void tm_session_error(TmSession *s, TmWireError err, const char *message, const char *ref);
/* Takes S out of its hearing (REASON: "left", "hearing-ended", ...); the WebSocket stays. */
void tm_session_leave(TmSession *s, const char *reason);
void tm_session_close(TmSession *s, gushort code);
/* The relay is stopping: tells S ({"type":"shutdown"}), takes it out of its hearing
 * ("relay-shutdown") and closes it (1001, going away). */
void tm_session_shutdown(TmSession *s);
/* How the audit log names S: "ID NAME (ROLE)", or "console NAME (ROLE)". g_free. */
char *tm_session_label(const TmSession *s);

/* What rooms use to reach sessions (relay->sink). */
extern const TmSessionSink tm_session_sink;
