/* wire.h — the signalling messages the relay sends (docs/protocol.md), built from the engine's
 * hearing state. Builders only: nothing here sends. */
#pragma once

#include <json-glib/json-glib.h>

#include "hearing.h"
#include "token.h"
#include "wire-error.h"

/* A message object {"type":TYPE, ...} left open for members; end it with
 * json_builder_end_object(). */
JsonBuilder *tm_wire_begin(const char *type);
void tm_wire_string(JsonBuilder *b, const char *name, const char *value);
void tm_wire_int(JsonBuilder *b, const char *name, gint64 value);
void tm_wire_bool(JsonBuilder *b, const char *name, gboolean value);
/* Finished messages. */
/* {"type":"error","code":...,"message":...,"ref":REF}: ERR's code; MESSAGE, or when NULL the
 * table's message for ERR (wire-error.h); REF may be NULL. */
JsonBuilder *tm_wire_error(TmWireError err, const char *message, const char *ref);
JsonBuilder *tm_wire_done(const char *action, const char *path);
/* {"type":TYPE,"participant":{...}}: participant-joined, participant-state. */
JsonBuilder *tm_wire_participant_event(const char *type, TmHearing *h, const TmParticipant *p);

/* Members and objects inside an open message. WITH_COUNTERS adds the relay's packet counters
 * (for status). */
void tm_wire_participant(JsonBuilder *b, TmHearing *h, const TmParticipant *p,
                         gboolean with_counters);
void tm_wire_protection(JsonBuilder *b, TmHearing *h);
void tm_wire_recording(JsonBuilder *b, const char *state, gint64 since);
/* The "rtt_ms", "loss", "bitrate_kbps" and "down_kbps" members of P's link. */
void tm_wire_link(JsonBuilder *b, const TmParticipant *p);

/* {"type":"visibility","sees":{VIEWER:[SOURCE...]}}: whose picture each admitted participant
 * receives now (the relay's policy, mutes and who publishes). ONLY: just that viewer's entry. */
JsonBuilder *tm_wire_visibility(TmHearing *h, const TmParticipant *only);

/* {"type":"repair","rtt_ms","feeds":[{"id","rtt_ms","retry_ms","repair_ms"}...]}: P's own
 * round trip to the relay, and for each feed P receives on, how long the relay takes to get a
 * lost packet of it back from its publisher: the round trip to the publisher, the wait between
 * the relay's requests, and the longest a repair took lately (docs/protocol.md). NULL while the
 * relay has measured none of these. */
JsonBuilder *tm_wire_repair(TmHearing *h, const TmParticipant *p);

/* The message as JSON text (g_free). */
char *tm_wire_text(JsonBuilder *b);
