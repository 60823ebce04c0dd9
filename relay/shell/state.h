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
  char *case_number; /* "" when none */
  char *title;       /* shown on the waiting slate; "" when none */
  char *created;     /* ISO 8601 UTC */
  gboolean waiting_room;
  char **protect;   /* measures on from the start, e.g. "screen-witness" */
  char *encrypt_to; /* court's X25519 public key (PEM path) for recordings, or NULL */
  gboolean ended;   /* the judge ended it: no further joins */
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
/* Writes a new hearing record (REC->id names it); fails if it exists. */
gboolean tm_state_hearing_create(const char *dir, const TmHearingRecord *rec, GError **error);
/* Rewrites an existing record (e.g. when the hearing ends). */
gboolean tm_state_hearing_save(const char *dir, const TmHearingRecord *rec, GError **error);
/* Path of the hearing's audit log. */
char *tm_state_audit_path(const char *dir, const char *id);

/* Token keys: DIR/keys/token.key signs; DIR/keys/token.key.previous still verifies after a
 * rotation. DIR/keys/revoked lists revoked token ids, one a line. */
gboolean tm_state_token_key_rotate(const char *dir, GError **error);
/* Reads the previous key; FALSE (no error) when there is none. */
gboolean tm_state_token_key_previous(const char *dir, uint8_t key[TM_TOKEN_KEY_LEN],
                                     GError **error);
gboolean tm_state_revoke(const char *dir, const char *jti, GError **error);
/* The revoked ids (a set of strings). */
GHashTable *tm_state_revoked(const char *dir);
/* NULL with error G_FILE_ERROR_NOENT when no such hearing. */
TmHearingRecord *tm_state_hearing_load(const char *dir, const char *id, GError **error);
