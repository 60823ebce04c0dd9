/* main.c — testimony-relay: serve, `hearing create`, `token`. */
#define G_LOG_DOMAIN "testimony-relay"

#include <glib-unix.h>
#include <glib.h>
#include <locale.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "server.h"
#include "state.h"
#include "token.h"

#define DEFAULT_TTL (4 * 3600)

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
  g_auto(GStrv) media = NULL;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_file, "Configuration file", "FILE" },
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen, "HTTPS address (127.0.0.1:8443)",
      "ADDR:PORT" },
    { "media-address", 0, 0, G_OPTION_ARG_STRING_ARRAY, &media,
      "Address ICE may use (repeatable; default 127.0.0.1)", "ADDR" },
    { "ports", 0, 0, G_OPTION_ARG_STRING, &ports, "UDP port range for media (20000-29999)",
      "MIN-MAX" },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
      "State directory (/var/lib/testimony)", "DIR" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("- secure video relay for remote testimony");
  g_option_context_set_summary(ctx, "Commands:\n"
                                    "  testimony-relay [OPTIONS]            run the relay\n"
                                    "  testimony-relay hearing create ...   create a hearing\n"
                                    "  testimony-relay token ...            issue a join token");
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

static int
cmd_hearing(int argc, char **argv)
{
  g_autofree char *state_dir = NULL, *id = NULL, *case_number = NULL;
  GOptionEntry entries[] = {
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir, "State directory", "DIR" },
    { "id", 0, 0, G_OPTION_ARG_STRING, &id, "Hearing id ([A-Za-z0-9._-], 1-64)", "ID" },
    { "case", 0, 0, G_OPTION_ARG_STRING, &case_number, "Case number", "NUMBER" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("create - create a hearing");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error))
    return fail("bad command line", error);
  if (argc != 2 || strcmp(argv[1], "create") != 0 || id == NULL) {
    g_printerr("usage: testimony-relay hearing create --state-dir DIR --id ID [--case NUMBER]\n");
    return 2;
  }
  const char *dir = state_dir != NULL ? state_dir : "/var/lib/testimony";
  uint8_t key[TM_TOKEN_KEY_LEN];
  if (!tm_state_hearing_create(dir, id, case_number, &error) ||
      !tm_state_token_key(dir, key, &error))
    return fail("cannot create the hearing", error);
  g_print("created hearing %s%s%s in %s\n", id, case_number != NULL ? " for case " : "",
          case_number != NULL ? case_number : "", dir);
  return 0;
}

static int
cmd_token(int argc, char **argv)
{
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
    { NULL },
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
  return cmd_serve(argc, argv);
}
