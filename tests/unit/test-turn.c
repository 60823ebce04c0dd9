/* test-turn.c — TURN credentials in coturn's shared-secret form, and the TURN server addresses
 * the configuration accepts. The expected password was computed apart from this code (Python's
 * hmac and base64: base64(HMAC-SHA1("court-secret", "1700003600:p2"))). */
#include <glib.h>

#include "turn.h"

static void
test_credentials(void)
{
  g_autoptr(TmTurnCredentials) c = tm_turn_credentials_new("court-secret", "p2", 1700000000, 3600);
  g_assert_nonnull(c);
  g_assert_cmpstr(c->username, ==, "1700003600:p2");
  g_assert_cmpint(c->expires, ==, 1700003600);
  g_assert_cmpstr(c->password, ==, "xzw/DHbyBwmAjBVHHhb2xBjBcAc=");
  /* another secret, id or time gives another password */
  g_autoptr(TmTurnCredentials) d = tm_turn_credentials_new("court-secreT", "p2", 1700000000, 3600);
  g_assert_cmpstr(d->password, !=, c->password);
  g_autoptr(TmTurnCredentials) e = tm_turn_credentials_new("court-secret", "p3", 1700000000, 3600);
  g_assert_cmpstr(e->password, !=, c->password);
}

static void
test_refused(void)
{
  g_assert_null(tm_turn_credentials_new("", "p2", 1700000000, 3600));
  g_assert_null(tm_turn_credentials_new(NULL, "p2", 1700000000, 3600));
  g_assert_null(tm_turn_credentials_new("s", "", 1700000000, 3600));
  g_assert_null(tm_turn_credentials_new("s", NULL, 1700000000, 3600));
  g_assert_null(tm_turn_credentials_new("s", "p2:99999999999", 1700000000, 3600));
  g_assert_null(tm_turn_credentials_new("s", "p 2", 1700000000, 3600));
  g_assert_null(tm_turn_credentials_new("s", "p2", 1700000000, 0));
  g_assert_null(tm_turn_credentials_new("s", "p2", 1700000000, -5));
  g_assert_null(tm_turn_credentials_new("s", "p2", G_MAXINT64 - 10, 3600));
  g_autofree char *long_id = g_strnfill(65, 'a');
  g_assert_null(tm_turn_credentials_new("s", long_id, 1700000000, 3600));
}

static void
test_urls(void)
{
  const char *good[] = {
    "turn:turn.court.example",          "turn:turn.court.example:3478?transport=udp",
    "turn:10.0.0.5:3478?transport=tcp", "turns:turn.court.example:443?transport=tcp",
    "turns:[2001:db8::5]:443",          "turn:[::1]",
  };
  const char *bad[] = {
    "stun:turn.court.example",
    "https://turn.court.example",
    "turn:",
    "turn::3478",
    "turn:host:0",
    "turn:host:65536",
    "turn:host:34x",
    "turn:host?transport=sctp",
    "turn:host?transport=udp&x=1",
    "turn:user:pass@host",
    "turn:ho st",
    "turn:[2001:db8::5",
    "turn:-host",
    "turn:host\n",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
    const char *why = NULL;
    if (!tm_turn_url_valid(good[i], &why))
      g_error("%s refused: %s", good[i], why);
  }
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    const char *why = NULL;
    if (tm_turn_url_valid(bad[i], &why))
      g_error("%s accepted", bad[i]);
    g_assert_nonnull(why);
  }
  g_assert_false(tm_turn_url_valid(NULL, NULL));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/turn/credentials", test_credentials);
  g_test_add_func("/turn/refused", test_refused);
  g_test_add_func("/turn/urls", test_urls);
  return g_test_run();
}
