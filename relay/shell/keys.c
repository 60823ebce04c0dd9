/* keys.c — token keys and revocations, re-read when their files change. */
#define G_LOG_DOMAIN "testimony-relay"

#include "keys.h"

#include <glib/gstdio.h>
#include <openssl/crypto.h>
#include <string.h>

#include "state.h"

struct _TmKeyring {
  char *dir;
  uint8_t current[TM_TOKEN_KEY_LEN];
  uint8_t previous[TM_TOKEN_KEY_LEN];
  gboolean have_previous;
  GHashTable *revoked;
  char *stamp; /* mtimes and sizes of the files last read */
};

static char *
files_stamp(const char *dir)
{
  static const char *const names[] = { "token.key", "token.key.previous", "revoked" };
  GString *s = g_string_new(NULL);
  for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
    g_autofree char *path = g_build_filename(dir, "keys", names[i], NULL);
    GStatBuf st;
    if (g_stat(path, &st) == 0)
      g_string_append_printf(s, "%s:%lld.%09ld:%lld;", names[i], (long long) st.st_mtim.tv_sec,
                             st.st_mtim.tv_nsec, (long long) st.st_size);
  }
  return g_string_free(s, FALSE);
}

static gboolean
keyring_load(TmKeyring *k, GError **error)
{
  g_autofree char *stamp = files_stamp(k->dir);
  if (k->stamp != NULL && strcmp(stamp, k->stamp) == 0)
    return TRUE;
  uint8_t current[TM_TOKEN_KEY_LEN], previous[TM_TOKEN_KEY_LEN];
  if (!tm_state_token_key(k->dir, current, error))
    return FALSE;
  g_autoptr(GError) prev_error = NULL;
  gboolean have_previous = tm_state_token_key_previous(k->dir, previous, &prev_error);
  if (prev_error != NULL)
    g_warning("ignoring the previous token key: %s", prev_error->message);
  memcpy(k->current, current, sizeof current);
  memcpy(k->previous, previous, sizeof previous);
  k->have_previous = have_previous;
  OPENSSL_cleanse(current, sizeof current);
  OPENSSL_cleanse(previous, sizeof previous);
  if (k->revoked != NULL)
    g_hash_table_unref(k->revoked);
  k->revoked = tm_state_revoked(k->dir);
  g_free(k->stamp);
  k->stamp = files_stamp(k->dir); /* after a key was created on first use */
  return TRUE;
}

TmKeyring *
tm_keyring_new(const char *state_dir, GError **error)
{
  TmKeyring *k = g_new0(TmKeyring, 1);
  k->dir = g_strdup(state_dir);
  if (!keyring_load(k, error)) {
    tm_keyring_free(k);
    return NULL;
  }
  return k;
}

void
tm_keyring_free(TmKeyring *k)
{
  if (k == NULL)
    return;
  OPENSSL_cleanse(k->current, sizeof k->current);
  OPENSSL_cleanse(k->previous, sizeof k->previous);
  if (k->revoked != NULL)
    g_hash_table_unref(k->revoked);
  g_free(k->stamp);
  g_free(k->dir);
  g_free(k);
}

TmTokenError
tm_keyring_verify(TmKeyring *k, const char *token, int64_t now_unix, TmTokenClaims *out,
                  gboolean *revoked)
{
  g_autoptr(GError) error = NULL;
  if (!keyring_load(k, &error))
    g_warning("keeping the token keys already loaded: %s", error->message);
  *revoked = FALSE;
  size_t len = strlen(token);
  TmTokenError e = tm_token_verify(token, len, k->current, sizeof k->current, now_unix, NULL, out);
  if (e == TM_TOKEN_ERR_BAD_SIGNATURE && k->have_previous)
    e = tm_token_verify(token, len, k->previous, sizeof k->previous, now_unix, NULL, out);
  if (e == TM_TOKEN_OK && g_hash_table_contains(k->revoked, out->jti))
    *revoked = TRUE;
  return e;
}

gboolean
tm_keyring_revoke(TmKeyring *k, const char *jti, GError **error)
{
  if (!tm_state_revoke(k->dir, jti, error))
    return FALSE;
  g_hash_table_add(k->revoked, g_strdup(jti));
  return TRUE;
}
