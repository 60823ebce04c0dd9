/* keys.h — what the relay checks a join token against: the current and previous token keys (so
 * keys rotate without a restart) and the revoked token ids. Files are re-read when they change. */
#pragma once

#include <glib.h>

#include "token.h"

typedef struct _TmKeyring TmKeyring;

TmKeyring *tm_keyring_new(const char *state_dir, GError **error);
void tm_keyring_free(TmKeyring *k);

/* Verifies TOKEN with the current key, else the previous one. A token whose id is revoked gives
 * *REVOKED = TRUE (and TM_TOKEN_OK from the signature check). OUT as tm_token_verify. */
TmTokenError tm_keyring_verify(TmKeyring *k, const char *token, int64_t now_unix,
                               TmTokenClaims *out, gboolean *revoked);
/* Revokes JTI now and for the future (written to the state directory). */
gboolean tm_keyring_revoke(TmKeyring *k, const char *jti, GError **error);
