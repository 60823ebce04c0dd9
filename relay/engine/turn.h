/* turn.h — short-lived TURN credentials for a participant, in the form a TURN server with a
 * shared secret checks without asking the relay (coturn's use-auth-secret, the "TURN REST API"
 * scheme): username "EXPIRY:ID" (EXPIRY in UNIX seconds), password base64(HMAC-SHA1(secret,
 * username)). The server recomputes the password from the username and its copy of the secret
 * and refuses a username whose EXPIRY has passed. Pure: the time is a parameter. */
#pragma once

#include <glib.h>
#include <stdint.h>

typedef struct {
  char *username;
  char *password;
  int64_t expires; /* UNIX seconds */
} TmTurnCredentials;

/* Credentials for ID (a participant id: letters, digits, '-', '_', '.'; no ':') valid from NOW
 * (UNIX seconds) for LIFETIME seconds; NULL when SECRET is empty, ID is not such a name or
 * LIFETIME is not positive. */
TmTurnCredentials *tm_turn_credentials_new(const char *secret, const char *id, int64_t now,
                                           int64_t lifetime);
void tm_turn_credentials_free(TmTurnCredentials *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TmTurnCredentials, tm_turn_credentials_free)

/* Whether URL is a TURN server address a browser and webrtcbin accept: "turn:" or "turns:",
 * a host (name, IPv4 address or [IPv6]), an optional ":PORT", an optional "?transport=udp" or
 * "?transport=tcp", nothing else. On FALSE, *WHY says what is wrong. */
gboolean tm_turn_url_valid(const char *url, const char **why);
