/* wire-error.c — the table of the relay's error codes and their messages. */
#include "wire-error.h"

#include <string.h>

typedef struct {
  const char *code;
  const char *message;
} WireError;

static const WireError wire_errors[TM_WIRE_ERR_COUNT] = {
  [TM_WIRE_ERR_BAD_JSON] = { "bad-json",
                             "the message is not a JSON object with the members its type "
                             "requires" },
  [TM_WIRE_ERR_TOO_LARGE] = { "too-large", "the message is larger than 64 KiB" },
  [TM_WIRE_ERR_UNKNOWN_TYPE] = { "unknown-type", "the message type is not one the relay knows" },
  [TM_WIRE_ERR_NOT_JOINED] = { "not-joined", "send a join message with your token first" },
  [TM_WIRE_ERR_ALREADY_JOINED] = { "already-joined",
                                   "this session has already joined the hearing" },
  [TM_WIRE_ERR_JOIN_TIMEOUT] = { "join-timeout",
                                 "no join within 10 seconds; connect again to join" },
  [TM_WIRE_ERR_TOO_MANY_SESSIONS] = { "too-many-sessions",
                                      "too many connections from this address have not joined" },
  [TM_WIRE_ERR_BAD_TOKEN] = { "bad-token",
                              "the token is malformed or its signature does not verify" },
  [TM_WIRE_ERR_TOKEN_EXPIRED] = { "token-expired", "the token has expired" },
  [TM_WIRE_ERR_TOKEN_NOT_YET_VALID] = { "token-not-yet-valid", "the token is not valid yet" },
  [TM_WIRE_ERR_TOKEN_REVOKED] = { "token-revoked",
                                  "this token has been revoked; ask the court for a new one" },
  [TM_WIRE_ERR_TOKEN_IN_USE] = { "token-in-use",
                                 "this token is already in use by another session" },
  [TM_WIRE_ERR_WRONG_HEARING] = { "wrong-hearing",
                                  "the token is for a hearing this relay does not hold" },
  [TM_WIRE_ERR_HEARING_FULL] = { "hearing-full", "the hearing has its maximum of participants" },
  [TM_WIRE_ERR_HEARING_LOCKED] = { "hearing-locked", "the hearing is locked; nobody new may join" },
  [TM_WIRE_ERR_HEARING_ENDED] = { "hearing-ended", "this hearing has ended" },
  [TM_WIRE_ERR_BAD_SDP] = { "bad-sdp", "the SDP offer cannot be parsed or answered" },
  [TM_WIRE_ERR_BAD_CANDIDATE] = { "bad-candidate", "the ICE candidate cannot be parsed" },
  [TM_WIRE_ERR_CANDIDATE_REFUSED] = { "candidate-refused",
                                      "the relay does not connect to that address (multicast, "
                                      "link-local, its own, or outside "
                                      "remote-candidates)" },
  [TM_WIRE_ERR_UNKNOWN_FEED] = { "unknown-feed", "no participant with that id is in the hearing" },
  [TM_WIRE_ERR_UNKNOWN_TARGET] = { "unknown-target",
                                   "no participant with that id is in the hearing" },
  [TM_WIRE_ERR_BAD_REQUEST] = { "bad-request", "a member is missing or invalid for that request" },
  [TM_WIRE_ERR_FORBIDDEN] = { "forbidden", "your role may not do that" },
  [TM_WIRE_ERR_RATE_LIMITED] = { "rate-limited", "too many messages; slow down" },
  [TM_WIRE_ERR_REFUSED] = { "refused", "the court did not admit you to this hearing" },
  [TM_WIRE_ERR_REMOVED] = { "removed", "the court removed you from this hearing" },
  [TM_WIRE_ERR_NOT_RECORDING] = { "not-recording", "the hearing is not being recorded" },
  [TM_WIRE_ERR_CONNECTION_FAILED] = { "connection-failed", "a media connection failed" },
  [TM_WIRE_ERR_CONNECTION_LOST] = { "connection-lost",
                                    "the connection did not come back in time; join again" },
  [TM_WIRE_ERR_REPLACED] = { "replaced", "this place continues on a new connection" },
  [TM_WIRE_ERR_INTERNAL] = { "internal", "the relay could not carry that out" },
};

const char *
tm_wire_error_code(TmWireError err)
{
  if ((unsigned) err >= TM_WIRE_ERR_COUNT)
    return "unknown";
  return wire_errors[err].code;
}

const char *
tm_wire_error_strerror(TmWireError err)
{
  if ((unsigned) err >= TM_WIRE_ERR_COUNT)
    return "unknown error";
  return wire_errors[err].message;
}

TmWireError
tm_wire_error_from_code(const char *code)
{
  for (int i = 0; code != NULL && i < TM_WIRE_ERR_COUNT; i++)
    if (strcmp(wire_errors[i].code, code) == 0)
      return (TmWireError) i;
  return TM_WIRE_ERR_COUNT;
}

TmWireError
tm_wire_error_for_token(TmTokenError err)
{
  switch (err) {
  case TM_TOKEN_ERR_EXPIRED: return TM_WIRE_ERR_TOKEN_EXPIRED;
  case TM_TOKEN_ERR_NOT_YET_VALID: return TM_WIRE_ERR_TOKEN_NOT_YET_VALID;
  case TM_TOKEN_ERR_WRONG_HEARING: return TM_WIRE_ERR_WRONG_HEARING;
  default: return TM_WIRE_ERR_BAD_TOKEN;
  }
}

TmWireError
tm_wire_error_for_message(TmMessageError err)
{
  switch (err) {
  case TM_MESSAGE_ERR_TOO_LARGE: return TM_WIRE_ERR_TOO_LARGE;
  case TM_MESSAGE_ERR_BAD_JSON: return TM_WIRE_ERR_BAD_JSON;
  case TM_MESSAGE_ERR_UNKNOWN_TYPE: return TM_WIRE_ERR_UNKNOWN_TYPE;
  default: return TM_WIRE_ERR_COUNT;
  }
}

TmWireError
tm_wire_error_for_hearing(TmHearingError err)
{
  switch (err) {
  case TM_HEARING_ERR_FULL: return TM_WIRE_ERR_HEARING_FULL;
  case TM_HEARING_ERR_NO_FEED: return TM_WIRE_ERR_UNKNOWN_FEED;
  case TM_HEARING_ERR_SDP: return TM_WIRE_ERR_BAD_SDP;
  case TM_HEARING_ERR_FORBIDDEN: return TM_WIRE_ERR_FORBIDDEN;
  default: return TM_WIRE_ERR_BAD_REQUEST; /* subscribing to oneself, twice */
  }
}
