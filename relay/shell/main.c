/* main.c — testimony-relay: serve, `hearing create`, `token`. */
#define G_LOG_DOMAIN "testimony-relay"

#include <glib-unix.h>
#include <glib.h>
#include <locale.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "config.h"
#include "server.h"
#include "state.h"
#include "token.h"

#define DEFAULT_TTL (4 * 3600)

/* Every connection and ICE socket is a descriptor: take all the system allows. */
static void
raise_descriptor_limit(void)
{
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur == r.rlim_max)
    return;
  rlim_t was = r.rlim_cur;
  r.rlim_cur = r.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &r) == 0)
    g_message("open file limit raised from %llu to %llu", (unsigned long long) was,
              (unsigned long long) r.rlim_max);
}

static int
fail(const char *what, GError *error)
{
  g_printerr("testimony-relay: %s%s%s\n", what, error != NULL ? ": " : "",
             error != NULL ? error->message : "");
  return 1;
}

static gboolean
on_signal(gpointer loop)
{
  g_main_loop_quit(loop);
  return G_SOURCE_REMOVE;
}

static int
cmd_serve(int argc, char **argv)
{
  g_autofree char *config_file = NULL, *listen = NULL, *ports = NULL, *state_dir = NULL;
  g_autofree char *web_dir = NULL;
  g_auto(GStrv) media = NULL;
  gboolean ice_tcp = FALSE;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_file, "Configuration file", "FILE" },
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen, "HTTPS address (127.0.0.1:8443)", "ADDR:PORT" },
    { "media-address", 0, 0, G_OPTION_ARG_STRING_ARRAY, &media,
      "Address ICE may use (repeatable; default 127.0.0.1)", "ADDR" },
    { "ports", 0, 0, G_OPTION_ARG_STRING, &ports,
      "Port range for media, UDP and ICE-TCP (20000-29999)", "MIN-MAX" },
    { "ice-tcp", 0, 0, G_OPTION_ARG_NONE, &ice_tcp,
      "Also take media over TCP (ICE-TCP, RFC 6544) on the same port range", NULL },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir, "State directory (/var/lib/testimony)",
      "DIR" },
    { "web-dir", 0, 0, G_OPTION_ARG_FILENAME, &web_dir,
      "Directory of the court's web pages (installed with the relay)", "DIR" },
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("- secure video relay for remote testimony");
  g_option_context_set_summary(ctx,
                               "Commands:\n"
                               "  testimony-relay [OPTIONS]            run the relay\n"
                               "  testimony-relay hearing create ...   create a hearing\n"
                               "  testimony-relay token ...            issue a join token\n"
                               "  testimony-relay token revoke ...     revoke a join token\n"
                               "  testimony-relay key rotate ...       rotate the token key");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error))
    return fail("bad command line", error);
  if (argc > 1) {
    g_printerr("testimony-relay: unknown command \"%s\" (see --help)\n", argv[1]);
    return 2;
  }
  TmConfig config;
  tm_config_init(&config);
  int rc = 0;
  if (config_file != NULL && !tm_config_load(&config, config_file, &error))
    rc = fail("cannot read the configuration", error);
  if (rc == 0 && ports != NULL && !tm_config_set_ports(&config, ports, &error))
    rc = fail("bad --ports", error);
  if (rc == 0) {
    if (listen != NULL) {
      g_free(config.listen);
      config.listen = g_steal_pointer(&listen);
    }
    if (media != NULL) {
      g_strfreev(config.media_addresses);
      config.media_addresses = g_steal_pointer(&media);
    }
    if (state_dir != NULL) {
      g_free(config.state_dir);
      config.state_dir = g_steal_pointer(&state_dir);
    }
    if (web_dir != NULL) {
      g_free(config.web_dir);
      config.web_dir = g_steal_pointer(&web_dir);
    }
    if (ice_tcp)
      config.ice_tcp = TRUE;
    raise_descriptor_limit();
    TmServer *server = tm_server_new(&config, &error);
    if (server == NULL) {
      rc = fail("cannot start", error);
    } else {
      g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
      g_unix_signal_add(SIGINT, on_signal, loop);
      g_unix_signal_add(SIGTERM, on_signal, loop);
      fflush(stdout);
      g_main_loop_run(loop);
      g_print("testimony-relay stopping\n");
      tm_server_free(server);
    }
  }
  tm_config_clear(&config);
  return rc;
}

static const char *const known_measures[] = { "screen-witness", NULL };

static int
cmd_hearing(int argc, char **argv)
{
  g_autofree char *state_dir = NULL, *id = NULL, *case_number = NULL, *title = NULL;
  g_autofree char *waiting = NULL, *encrypt_to = NULL;
  g_auto(GStrv) protect = NULL;
  GOptionEntry entries[] = {
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir, "State directory", "DIR" },
    { "id", 0, 0, G_OPTION_ARG_STRING, &id, "Hearing id ([A-Za-z0-9._-], 1-64)", "ID" },
    { "case", 0, 0, G_OPTION_ARG_STRING, &case_number, "Case number", "NUMBER" },
    { "title", 0, 0, G_OPTION_ARG_STRING, &title, "Name shown on the waiting slate", "TEXT" },
    { "waiting-room", 0, 0, G_OPTION_ARG_STRING, &waiting,
      "on (default): everyone but judges waits to be admitted; off: for drills and tests",
      "on|off" },
    { "protect", 0, 0, G_OPTION_ARG_STRING_ARRAY, &protect,
      "A protective measure on from the start (repeatable): screen-witness", "MEASURE" },
    { "encrypt-to", 0, 0, G_OPTION_ARG_FILENAME, &encrypt_to,
      "Encrypt recordings for this court X25519 public key (PEM)", "FILE" },
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("create - create a hearing");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error))
    return fail("bad command line", error);
  if (argc != 2 || strcmp(argv[1], "create") != 0 || id == NULL) {
    g_printerr("usage: testimony-relay hearing create --state-dir DIR --id ID [--case NUMBER] "
               "[--title TEXT] [--waiting-room on|off] [--protect screen-witness] "
               "[--encrypt-to COURT_PUBLIC_KEY.pem]\n");
    return 2;
  }
  if (waiting != NULL && strcmp(waiting, "on") != 0 && strcmp(waiting, "off") != 0) {
    g_printerr("testimony-relay: --waiting-room must be on or off\n");
    return 2;
  }
  for (char **m = protect; m != NULL && *m != NULL; m++) {
    if (!g_strv_contains(known_measures, *m)) {
      g_printerr("testimony-relay: unknown protective measure \"%s\" (known: screen-witness)\n",
                 *m);
      return 2;
    }
  }
  if (encrypt_to != NULL && !g_file_test(encrypt_to, G_FILE_TEST_IS_REGULAR)) {
    g_printerr("testimony-relay: --encrypt-to: no such file %s\n", encrypt_to);
    return 2;
  }
  const char *dir = state_dir != NULL ? state_dir : "/var/lib/testimony";
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  g_autofree char *created = g_date_time_format_iso8601(now);
  g_autofree char *abs_encrypt =
    encrypt_to != NULL ? g_canonicalize_filename(encrypt_to, NULL) : NULL;
  TmHearingRecord rec = {
    .id = id,
    .case_number = case_number,
    .title = title,
    .created = created,
    .waiting_room = waiting == NULL || strcmp(waiting, "on") == 0,
    .protect = protect,
    .encrypt_to = abs_encrypt,
  };
  uint8_t key[TM_TOKEN_KEY_LEN];
  if (!tm_state_hearing_create(dir, &rec, &error) || !tm_state_token_key(dir, key, &error))
    return fail("cannot create the hearing", error);
  g_print("created hearing %s%s%s in %s (waiting room %s%s%s)\n", id,
          case_number != NULL ? " for case " : "", case_number != NULL ? case_number : "", dir,
          rec.waiting_room ? "on" : "off", protect != NULL ? ", protect " : "",
          protect != NULL ? protect[0] : "");
  return 0;
}

static int
cmd_key(int argc, char **argv)
{
  g_autofree char *state_dir = NULL;
  GOptionEntry entries[] = {
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir, "State directory", "DIR" },
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("rotate - rotate the token signing key");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error))
    return fail("bad command line", error);
  if (argc != 2 || strcmp(argv[1], "rotate") != 0) {
    g_printerr("usage: testimony-relay key rotate --state-dir DIR\n");
    return 2;
  }
  const char *dir = state_dir != NULL ? state_dir : "/var/lib/testimony";
  if (!tm_state_token_key_rotate(dir, &error))
    return fail("cannot rotate the token key", error);
  g_print("new token key in %s/keys/token.key; tokens signed with the previous key stay valid "
          "until the next rotation\n",
          dir);
  return 0;
}

static int
cmd_revoke(int argc, char **argv)
{
  g_autofree char *state_dir = NULL, *jti = NULL, *token = NULL;
  GOptionEntry entries[] = {
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir, "State directory", "DIR" },
    { "token", 0, 0, G_OPTION_ARG_STRING, &token, "The token to revoke", "TOKEN" },
    { "jti", 0, 0, G_OPTION_ARG_STRING, &jti, "The id of the token to revoke", "ID" },
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("revoke - revoke a join token");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error))
    return fail("bad command line", error);
  const char *dir = state_dir != NULL ? state_dir : "/var/lib/testimony";
  if (token != NULL) {
    uint8_t key[TM_TOKEN_KEY_LEN];
    TmTokenClaims claims;
    if (!tm_state_token_key(dir, key, &error))
      return fail("cannot read the token key", error);
    /* Any authentic token may be revoked, whatever its validity times. */
    TmTokenError te = tm_token_verify(token, strlen(token), key, sizeof key,
                                      g_get_real_time() / 1000000, NULL, &claims);
    if (claims.jti[0] == '\0') {
      g_printerr("testimony-relay: cannot revoke: %s\n", tm_token_strerror(te));
      return 2;
    }
    g_free(jti);
    jti = g_strdup(claims.jti);
  }
  if (jti == NULL || argc != 1) {
    g_printerr("usage: testimony-relay token revoke --state-dir DIR (--token TOKEN | --jti ID)\n");
    return 2;
  }
  if (!tm_state_revoke(dir, jti, &error))
    return fail("cannot revoke", error);
  g_print("revoked token %s\n", jti);
  return 0;
}

static int
cmd_token(int argc, char **argv)
{
  if (argc > 1 && strcmp(argv[1], "revoke") == 0)
    return cmd_revoke(argc - 1, argv + 1);
  g_autofree char *state_dir = NULL, *hearing = NULL, *role = NULL, *name = NULL;
  gint64 ttl = DEFAULT_TTL;
  GOptionEntry entries[] = {
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir, "State directory", "DIR" },
    { "hearing", 0, 0, G_OPTION_ARG_STRING, &hearing, "Hearing id", "ID" },
    { "role", 0, 0, G_OPTION_ARG_STRING, &role,
      "judge, clerk, witness, support, interpreter, prosecutor, defence, defendant, observer",
      "ROLE" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "Display name", "NAME" },
    { "ttl", 0, 0, G_OPTION_ARG_INT64, &ttl, "Validity in seconds (14400)", "SECONDS" },
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("- issue a join token");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error))
    return fail("bad command line", error);
  TmTokenClaims claims = { 0 };
  if (hearing == NULL || role == NULL || name == NULL || argc != 1) {
    g_printerr("usage: testimony-relay token --state-dir DIR --hearing ID --role ROLE --name NAME "
               "[--ttl SECONDS]\n");
    return 2;
  }
  if (!tm_role_from_string(role, &claims.role)) {
    g_printerr("testimony-relay: unknown role \"%s\"\n", role);
    return 2;
  }
  if (ttl <= 0 || ttl > 366 * 24 * 3600) {
    g_printerr("testimony-relay: --ttl must be between 1 second and one year\n");
    return 2;
  }
  const char *dir = state_dir != NULL ? state_dir : "/var/lib/testimony";
  g_autoptr(TmHearingRecord) rec = tm_state_hearing_load(dir, hearing, &error);
  if (rec == NULL)
    return fail("no such hearing (create it with `testimony-relay hearing create`)", error);
  uint8_t key[TM_TOKEN_KEY_LEN];
  if (!tm_state_token_key(dir, key, &error))
    return fail("cannot read the token key", error);
  uint8_t jti[12];
  RAND_bytes(jti, sizeof jti);
  for (gsize i = 0; i < sizeof jti; i++)
    g_snprintf(claims.jti + 2 * i, 3, "%02x", jti[i]);
  if (rec->ended) {
    g_printerr("testimony-relay: hearing %s has ended; no new tokens\n", hearing);
    return 2;
  }
  g_strlcpy(claims.hearing, hearing, sizeof claims.hearing);
  g_strlcpy(claims.name, name, sizeof claims.name);
  claims.iat = g_get_real_time() / 1000000;
  claims.nbf = claims.iat;
  claims.exp = claims.iat + ttl;
  g_autofree char *token = tm_token_sign(&claims, key, sizeof key);
  if (token == NULL) {
    g_printerr("testimony-relay: cannot sign a token with that name (1-128 bytes of UTF-8 text)\n");
    return 2;
  }
  g_print("%s\n", token);
  return 0;
}

int
main(int argc, char **argv)
{
  setlocale(LC_ALL, "");
  if (argc > 1 && strcmp(argv[1], "hearing") == 0)
    return cmd_hearing(argc - 1, argv + 1);
  if (argc > 1 && strcmp(argv[1], "token") == 0)
    return cmd_token(argc - 1, argv + 1);
  if (argc > 1 && strcmp(argv[1], "key") == 0)
    return cmd_key(argc - 1, argv + 1);
  return cmd_serve(argc, argv);
}
