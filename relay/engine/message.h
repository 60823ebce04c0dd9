/* message.h — signalling messages from clients (docs/protocol.md), parsed and validated.
 *
 * tm_message_parse() turns one WebSocket text frame into a TmMessage: type known, every member
 * present with the right JSON type and within its size cap. Strings point into MSG->storage
 * (owned by the message). */
#pragma once

#include <glib.h>
#include <stddef.h>

#define TM_MESSAGE_MAX_SIZE 65536

typedef enum {
  TM_MSG_JOIN,
  TM_MSG_PUBLISH,
  TM_MSG_SUBSCRIBE,
  TM_MSG_UNSUBSCRIBE,
  TM_MSG_CANDIDATE,
  TM_MSG_STATUS,
  TM_MSG_LEAVE,
  TM_MSG_PING,
  TM_MSG_CONTROL,
  TM_MSG_DISPLAY,
  TM_MSG_COUNT
} TmMessageType;

typedef enum {
  TM_MESSAGE_OK = 0,
  TM_MESSAGE_ERR_TOO_LARGE,    /* code "too-large" */
  TM_MESSAGE_ERR_BAD_JSON,     /* not JSON, not an object, missing/mistyped member: "bad-json" */
  TM_MESSAGE_ERR_UNKNOWN_TYPE, /* "unknown-type" */
  TM_MESSAGE_ERR_COUNT
} TmMessageError;

typedef struct {
  TmMessageType type;
  const char *token;      /* join */
  const char *sdp;        /* publish, subscribe (<= TM_SDP_MAX_SIZE bytes) */
  const char *feed;       /* subscribe, unsubscribe, display (1..64 bytes) */
  int video;              /* display: 1 when the client shows the feed's picture, else 0 */
  const char *target;     /* candidate: "publish" or a feed id (1..64 bytes) */
  const char *candidate;  /* candidate ("" = end of candidates, <= 256 bytes) */
  int mline;              /* candidate: sdpMLineIndex (0..15), 0 when absent */
  int control;            /* join: 1 for a control session, 0 when absent/false */
  const char *resume;     /* join: the secret of the place to continue (1..64 bytes) */
  const char *action;     /* control (1..32 bytes) */
  const char *ctl_target; /* control: participant id, NULL when absent */
  const char *measure;    /* control protect: measure name, NULL when absent */
  int on;                 /* control protect: 1/0, -1 when absent */
  const char *op;         /* control record: start|pause|resume|stop, NULL when absent */
  const char *text;       /* control mark: 1..200 bytes on one line, NULL when absent */
  GStrv storage;          /* owns the strings above */
} TmMessage;

/* Parses DATA (LEN bytes). On error fills *DETAIL (may be NULL) with a static readable reason
 * ("member \"sdp\" must be a string") and leaves MSG cleared. */
TmMessageError tm_message_parse(const char *data, size_t len, TmMessage *msg, const char **detail);
void tm_message_clear(TmMessage *msg);

/* Wire name of a type ("join", ...), and the protocol's error code for an error ("bad-json"). */
/* The strict JSON gate of tm_message_parse() on its own: NULL when DATA (LEN bytes) has no NUL
 * byte, is UTF-8 and uses no spelling json-glib would accept or misread (comments, single
 * quotes, escapes JSON does not have, half a surrogate pair, \u0000, text after the value);
 * otherwise why not. For other JSON read from a peer before it is authenticated. */
const char *tm_message_check_json(const char *data, size_t len);

const char *tm_message_type_name(TmMessageType type);
const char *tm_message_error_code(TmMessageError err);
const char *tm_message_strerror(TmMessageError err);
