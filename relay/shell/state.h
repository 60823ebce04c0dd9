/* state.h — the relay's state directory.
 *
 *   DIR/tls/cert.pem, DIR/tls/key.pem   HTTPS certificate (self-signed on first start)
 *   DIR/keys/token.key                  HMAC-SHA256 key that signs join tokens (hex, mode 0600)
 *   DIR/hearings/ID.json                one file per hearing: {"id", "case", "created"}
 */
#pragma once

#include <gio/gio.h>
#include <glib.h>

#include "token.h"

typedef struct {
  char *id;
  char *case_number;   /* "" when none */
  char *created;       /* ISO 8601 UTC */
} TmHearingRecord;

void tm_hearing_record_free(TmHearingRecord *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TmHearingRecord, tm_hearing_record_free)

/* Creates DIR and its subdirectories (mode 0700) if missing. */
gboolean tm_state_ensure(const char *dir, GError **error);

/* Loads the token key, creating a random one if missing. */
gboolean tm_state_token_key(const char *dir, uint8_t key[TM_TOKEN_KEY_LEN], GError **error);

/* Ensures an HTTPS certificate: uses CERT_FILE/KEY_FILE when given, else DIR/tls/..., creating a
 * self-signed ECDSA P-256 certificate (SAN: localhost, 127.0.0.1, ::1) there if missing. Sets
 * *CREATED when it made one, and *FINGERPRINT to its SHA-256 (hex with colons). */
GTlsCertificate *tm_state_tls_certificate(const char *dir, const char *cert_file,
                                          const char *key_file, char **cert_path,
                                          char **fingerprint, gboolean *created, GError **error);

/* A hearing id is 1..64 characters of [A-Za-z0-9._-], not starting with '.'. */
gboolean tm_state_hearing_id_valid(const char *id);
gboolean tm_state_hearing_create(const char *dir, const char *id, const char *case_number,
                                 GError **error);
/* NULL with error G_FILE_ERROR_NOENT when no such hearing. */
TmHearingRecord *tm_state_hearing_load(const char *dir, const char *id, GError **error);
