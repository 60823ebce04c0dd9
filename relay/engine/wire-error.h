/* wire-error.h — the error codes the relay sends clients in {"type":"error","code":CODE,
 * "message":MESSAGE} (docs/protocol.md, "Error codes"): one table, each code with the message a
 * person reads when the relay has nothing more particular to say. The shell names errors only by
 * this enum; the mappings below turn the engine's module errors into wire codes. */
#pragma once

#include "hearing.h"
#include "message.h"
#include "token.h"

typedef enum {
  TM_WIRE_ERR_BAD_JSON,
  TM_WIRE_ERR_TOO_LARGE,
  TM_WIRE_ERR_UNKNOWN_TYPE,
  TM_WIRE_ERR_NOT_JOINED,
  TM_WIRE_ERR_ALREADY_JOINED,
  TM_WIRE_ERR_JOIN_TIMEOUT,
  TM_WIRE_ERR_TOO_MANY_SESSIONS,
  TM_WIRE_ERR_BAD_TOKEN,
  TM_WIRE_ERR_TOKEN_EXPIRED,
  TM_WIRE_ERR_TOKEN_NOT_YET_VALID,
  TM_WIRE_ERR_TOKEN_REVOKED,
  TM_WIRE_ERR_TOKEN_IN_USE,
  TM_WIRE_ERR_WRONG_HEARING,
  TM_WIRE_ERR_HEARING_FULL,
  TM_WIRE_ERR_HEARING_LOCKED,
  TM_WIRE_ERR_HEARING_ENDED,
  TM_WIRE_ERR_BAD_SDP,
  TM_WIRE_ERR_BAD_CANDIDATE,
  TM_WIRE_ERR_CANDIDATE_REFUSED,
  TM_WIRE_ERR_UNKNOWN_FEED,
  TM_WIRE_ERR_UNKNOWN_TARGET,
  TM_WIRE_ERR_BAD_REQUEST,
  TM_WIRE_ERR_FORBIDDEN,
  TM_WIRE_ERR_RATE_LIMITED,
  TM_WIRE_ERR_REFUSED,
  TM_WIRE_ERR_REMOVED,
  TM_WIRE_ERR_NOT_RECORDING,
  TM_WIRE_ERR_CONNECTION_FAILED,
  TM_WIRE_ERR_CONNECTION_LOST,
  TM_WIRE_ERR_REPLACED,
  TM_WIRE_ERR_INTERNAL,
  TM_WIRE_ERR_COUNT
} TmWireError;

/* The code on the wire ("bad-json"); "unknown" out of range. */
const char *tm_wire_error_code(TmWireError err);
/* The message for a person; "unknown error" out of range. */
const char *tm_wire_error_strerror(TmWireError err);
/* The error whose code is CODE; TM_WIRE_ERR_COUNT when none is. */
TmWireError tm_wire_error_from_code(const char *code);

/* What a failed token check (not TM_TOKEN_OK) is called on the wire. */
TmWireError tm_wire_error_for_token(TmTokenError err);
/* ... a refused message (not TM_MESSAGE_OK); TM_WIRE_ERR_COUNT out of range. */
TmWireError tm_wire_error_for_message(TmMessageError err);
/* ... a refusal of the hearing (not TM_HEARING_OK). */
TmWireError tm_wire_error_for_hearing(TmHearingError err);
