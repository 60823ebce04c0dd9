/* turn.c — TURN credentials from the shared secret (turn.h). */
#include "turn.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#define TURN_ID_MAX 64

static gboolean
id_valid(const char *id)
{
  size_t n = id != NULL ? strlen(id) : 0;
  if (n == 0 || n > TURN_ID_MAX)
    return FALSE;
  for (const char *c = id; *c != '\0'; c++)
    if (!g_ascii_isalnum(*c) && *c != '-' && *c != '_' && *c != '.')
      return FALSE;
  return TRUE;
}

TmTurnCredentials *
tm_turn_credentials_new(const char *secret, const char *id, int64_t now, int64_t lifetime)
{
  if (secret == NULL || *secret == '\0' || !id_valid(id) || lifetime <= 0 ||
      now > G_MAXINT64 - lifetime)
    return NULL;
  TmTurnCredentials *c = g_new0(TmTurnCredentials, 1);
  c->expires = now + lifetime;
  c->username = g_strdup_printf("%" G_GINT64_FORMAT ":%s", c->expires, id);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha1(), secret, (int) strlen(secret), (const unsigned char *) c->username,
           strlen(c->username), mac, &len) == NULL) {
    tm_turn_credentials_free(c);
    return NULL;
  }
  c->password = g_base64_encode(mac, len);
  return c;
}

void
tm_turn_credentials_free(TmTurnCredentials *c)
{
  if (c == NULL)
    return;
  g_free(c->username);
  if (c->password != NULL)
    memset(c->password, 0, strlen(c->password));
  g_free(c->password);
  g_free(c);
}

static gboolean
host_valid(const char *host, size_t len)
{
  if (len == 0 || len > 253)
    return FALSE;
  if (host[0] == '[') {
    if (len < 3 || host[len - 1] != ']')
      return FALSE;
    for (size_t i = 1; i < len - 1; i++)
      if (!g_ascii_isxdigit(host[i]) && host[i] != ':' && host[i] != '.')
        return FALSE;
    return TRUE;
  }
  for (size_t i = 0; i < len; i++)
    if (!g_ascii_isalnum(host[i]) && host[i] != '-' && host[i] != '.')
      return FALSE;
  return host[0] != '-' && host[0] != '.';
}

gboolean
tm_turn_url_valid(const char *url, const char **why)
{
  const char *dummy;
  why = why != NULL ? why : &dummy;
  const char *rest = NULL;
  if (url != NULL && g_str_has_prefix(url, "turns:"))
    rest = url + 6;
  else if (url != NULL && g_str_has_prefix(url, "turn:"))
    rest = url + 5;
  if (rest == NULL) {
    *why = "does not start with turn: or turns:";
    return FALSE;
  }
  const char *query = strchr(rest, '?');
  size_t hostport = query != NULL ? (size_t) (query - rest) : strlen(rest);
  if (query != NULL && strcmp(query, "?transport=udp") != 0 &&
      strcmp(query, "?transport=tcp") != 0) {
    *why = "has a query other than ?transport=udp or ?transport=tcp";
    return FALSE;
  }
  const char *bracket = rest[0] == '[' ? memchr(rest, ']', hostport) : NULL;
  const char *colon = NULL;
  for (const char *c = bracket != NULL ? bracket : rest; c < rest + hostport; c++)
    if (*c == ':')
      colon = c;
  size_t hostlen = colon != NULL ? (size_t) (colon - rest) : hostport;
  if (!host_valid(rest, hostlen)) {
    *why = "does not name a host (a name, an IPv4 address or an [IPv6] address)";
    return FALSE;
  }
  if (colon != NULL) {
    g_autofree char *port = g_strndup(colon + 1, hostport - hostlen - 1);
    if (!g_ascii_string_to_unsigned(port, 10, 1, 65535, NULL, NULL)) {
      *why = "has a port that is not a number from 1 to 65535";
      return FALSE;
    }
  }
  return TRUE;
}
