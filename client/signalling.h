/* signalling.h — the WebSocket session with the relay (docs/protocol.md).
 *
 * Connects to wss://HOST:PORT/ws for a relay given as https://HOST:PORT, trusting either the
 * system store or exactly the certificate(s) of a PEM file, sends and receives one JSON object
 * per text frame, and reports upward through a listener. Everything runs on the thread-default
 * main context of the caller. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#define TM_SIGNALLING_ERROR (tm_signalling_error_quark())

typedef enum {
  TM_SIGNALLING_ERROR_BAD_URL,     /* --relay is not an https:// URL */
  TM_SIGNALLING_ERROR_BAD_CA,      /* --ca unreadable or not a PEM certificate */
  TM_SIGNALLING_ERROR_UNREACHABLE, /* resolve/connect failed */
  TM_SIGNALLING_ERROR_TIMED_OUT,   /* connect or TLS handshake got no answer in time */
  TM_SIGNALLING_ERROR_UNTRUSTED,   /* relay certificate not trusted */
  TM_SIGNALLING_ERROR_TLS,         /* other TLS failure */
  TM_SIGNALLING_ERROR_HANDSHAKE,   /* HTTP answered, but no WebSocket */
} TmSignallingError;

GQuark tm_signalling_error_quark(void);

typedef struct _TmSignalling TmSignalling;

typedef struct {
  /* The WebSocket is open. */
  void (*connected)(gpointer user_data);
  /* Connecting failed; ERROR is in TM_SIGNALLING_ERROR with a one-sentence message. */
  void (*connect_failed)(gpointer user_data, const GError *error);
  /* One message: a JSON object with a string "type" (others are dropped with a warning). */
  void (*message)(gpointer user_data, const gchar *type, JsonObject *message);
  /* The open WebSocket closed (by either side, or lost). */
  void (*closed)(gpointer user_data, gushort code, const gchar *reason);
} TmSignallingListener;

/* RELAY: "https://HOST:PORT" (a path, if any, gets "ws" appended). CA_FILE: NULL for the system
 * trust store. Fails with BAD_URL or BAD_CA. */
TmSignalling *tm_signalling_new(const gchar *relay, const gchar *ca_file,
                                const TmSignallingListener *listener, gpointer user_data,
                                GError **error);
void tm_signalling_connect(TmSignalling *signalling);
gboolean tm_signalling_is_open(TmSignalling *signalling);
/* Sends OBJECT (not consumed). FALSE if the WebSocket is not open. */
gboolean tm_signalling_send(TmSignalling *signalling, JsonObject *object);
/* Convenience: {"type": TYPE}. */
gboolean tm_signalling_send_type(TmSignalling *signalling, const gchar *type);
/* Closes the WebSocket normally; the closed callback follows. */
/* Drops the connection without waiting for the relay (it stopped answering): no closed
 * callback; tm_signalling_connect() may follow at once. */
void tm_signalling_abandon(TmSignalling *signalling);
void tm_signalling_close(TmSignalling *signalling);
void tm_signalling_free(TmSignalling *signalling);
