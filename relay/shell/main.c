/* main.c — testimony-relay: serve, `hearing create`, `token`, `key rotate`, `retention`. */
#define G_LOG_DOMAIN "testimony-relay"

#include <glib-unix.h>
#include <glib.h>
#include <locale.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "config.h"
#include "retention.h"
#include "server.h"
#include "state.h"
#include "token.h"

#define DEFAULT_TTL (4 * 3600)
#define STOP_WAIT_S 5 /* for participants' connections to close after SIGTERM */

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

/* The command line of `serve`: what it overrides in the configuration file. */
typedef struct {
  char *config_file, *listen, *ports, *state_dir, *web_dir, *metrics_listen, *media_workers;
  char **media;
  gboolean ice_tcp;
  gboolean transport_cc;
} ServeOptions;

static void
serve_options_clear(ServeOptions *o)
{
  g_free(o->config_file);
  g_free(o->listen);
  g_free(o->ports);
  g_free(o->state_dir);
  g_free(o->web_dir);
  g_free(o->metrics_listen);
  g_free(o->media_workers);
  g_strfreev(o->media);
}

static void
override(char **dst, const char *flag)
{
  if (flag != NULL) {
    g_free(*dst);
    *dst = g_strdup(flag);
  }
}

/* Defaults, then the configuration file, then the flags: at start and on every SIGHUP. */
static gboolean
serve_config(const ServeOptions *o, TmConfig *config, GError **error)
{
  tm_config_init(config);
  if (o->config_file != NULL && !tm_config_load(config, o->config_file, error)) {
    g_prefix_error(error, "cannot read the configuration: ");
    return FALSE;
  }
  if (o->ports != NULL && !tm_config_set_ports(config, o->ports, error)) {
    g_prefix_error(error, "bad --ports: ");
    return FALSE;
  }
  if (o->media_workers != NULL && !tm_config_set_media_workers(config, o->media_workers, error)) {
    g_prefix_error(error, "bad --media-workers: ");
    return FALSE;
  }
  override(&config->listen, o->listen);
  override(&config->state_dir, o->state_dir);
  override(&config->web_dir, o->web_dir);
  override(&config->metrics_listen, o->metrics_listen);
  if (o->ice_tcp)
    config->ice_tcp = TRUE;
  if (o->transport_cc)
    config->transport_cc = TRUE;
  if (o->media != NULL) {
    g_strfreev(config->media_addresses);
    config->media_addresses = g_strdupv(o->media);
  }
  return TRUE;
}

typedef struct {
  GMainLoop *loop;
  TmServer *server;
  const ServeOptions *options;
  gint64 stop_deadline; /* monotonic µs: connections get until then to close */
  guint wait;
} Serve;

static gboolean
on_reload(gpointer data)
{
  Serve *serve = data;
  g_message("SIGHUP: reloading the certificate and the configuration");
  TmConfig fresh;
  g_autoptr(GError) error = NULL;
  if (serve_config(serve->options, &fresh, &error))
    tm_server_reload(serve->server, &fresh);
  else
    g_warning("reload: nothing changed: %s", error->message);
  tm_config_clear(&fresh);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_stop_wait(gpointer data)
{
  Serve *serve = data;
  if (tm_server_connections(serve->server) > 0 && g_get_monotonic_time() < serve->stop_deadline)
    return G_SOURCE_CONTINUE;
  serve->wait = 0;
  g_main_loop_quit(serve->loop);
  return G_SOURCE_REMOVE;
}

/* The first SIGTERM or SIGINT stops the relay in order; a second one quits at once. */
static gboolean
on_signal(gpointer data)
{
  Serve *serve = data;
  if (serve->wait != 0) {
    g_message("second signal: quitting now");
    g_main_loop_quit(serve->loop);
    return G_SOURCE_CONTINUE;
  }
  tm_server_stop(serve->server);
  serve->stop_deadline = g_get_monotonic_time() + STOP_WAIT_S * G_USEC_PER_SEC;
  serve->wait = g_timeout_add(50, on_stop_wait, serve);
  return G_SOURCE_CONTINUE;
}

static int
cmd_serve(int argc, char **argv)
{
  ServeOptions o = { 0 };
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &o.config_file, "Configuration file", "FILE" },
    { "listen", 0, 0, G_OPTION_ARG_STRING, &o.listen, "HTTPS address (127.0.0.1:8443)",
      "ADDR:PORT" },
    { "media-address", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.media,
      "Address ICE may use (repeatable; default 127.0.0.1)", "ADDR" },
    { "ports", 0, 0, G_OPTION_ARG_STRING, &o.ports,
      "Port range for media, UDP and ICE-TCP (20000-29999)", "MIN-MAX" },
    { "ice-tcp", 0, 0, G_OPTION_ARG_NONE, &o.ice_tcp,
      "Also take media over TCP (ICE-TCP, RFC 6544) on the same port range", NULL },
    { "transport-cc", 0, 0, G_OPTION_ARG_NONE, &o.transport_cc,
      "Answer transport-cc to publishers that offer it (browsers): see docs/poor-networks.md",
      NULL },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &o.state_dir,
      "State directory (/var/lib/testimony)", "DIR" },
    { "web-dir", 0, 0, G_OPTION_ARG_FILENAME, &o.web_dir,
      "Directory of the court's web pages (installed with the relay)", "DIR" },
    { "metrics-listen", 0, 0, G_OPTION_ARG_STRING, &o.metrics_listen,
      "Plain-HTTP address for /metrics and /healthz (default: off)", "ADDR:PORT" },
    { "media-workers", 0, 0, G_OPTION_ARG_STRING, &o.media_workers,
      "Media worker threads: auto (one per CPU, the default) or 0-64 (0: media on the main "
      "thread)",
      "N" },
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("- secure video relay for remote testimony");
  g_option_context_set_summary(ctx,
                               "Commands:\n"
                               "  testimony-relay [OPTIONS]            run the relay\n"
                               "  testimony-relay hearing create ...   create a hearing\n"
                               "  testimony-relay token ...            issue a join token\n"
                               "  testimony-relay token revoke ...     revoke a join token\n"
                               "  testimony-relay key rotate ...       rotate the token key\n"
                               "  testimony-relay retention ...        delete or archive old "
                               "recordings\n"
                               "Signals: SIGHUP reloads the certificate and the configuration; "
                               "SIGTERM stops in order.");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    serve_options_clear(&o);
    return fail("bad command line", error);
  }
  if (argc > 1) {
    g_printerr("testimony-relay: unknown command \"%s\" (see --help)\n", argv[1]);
    serve_options_clear(&o);
    return 2;
  }
  TmConfig config;
  int rc = 0;
  if (!serve_config(&o, &config, &error)) {
    rc = fail("cannot start", error);
  } else {
    raise_descriptor_limit();
    TmServer *server = tm_server_new(&config, &error);
    if (server == NULL) {
      rc = fail("cannot start", error);
    } else {
      g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
      Serve serve = { loop, server, &o, 0, 0 };
      guint sources[] = {
        g_unix_signal_add(SIGINT, on_signal, &serve),
        g_unix_signal_add(SIGTERM, on_signal, &serve),
        g_unix_signal_add(SIGHUP, on_reload, &serve),
      };
      fflush(stdout);
      g_main_loop_run(loop);
      for (size_t i = 0; i < G_N_ELEMENTS(sources); i++)
        g_source_remove(sources[i]);
      if (serve.wait != 0)
        g_source_remove(serve.wait);
      tm_server_stop(server); /* no-op when already stopped */
      tm_server_free(server);
      g_message("testimony-relay stopped");
    }
  }
  tm_config_clear(&config);
  serve_options_clear(&o);
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

static int
cmd_retention(int argc, char **argv)
{
  g_autofree char *state_dir = NULL, *older = NULL, *archive = NULL, *as_of = NULL;
  gboolean dry_run = FALSE;
  GOptionEntry entries[] = {
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir, "State directory (/var/lib/testimony)",
      "DIR" },
    { "older-than", 0, 0, G_OPTION_ARG_STRING, &older,
      "Recordings that ended longer ago than this go (90d, 12h, 30m, 45s)", "AGE" },
    { "archive", 0, 0, G_OPTION_ARG_FILENAME, &archive,
      "Move them into this directory instead of deleting them", "DIR" },
    { "dry-run", 0, 0, G_OPTION_ARG_NONE, &dry_run, "Say what would go; change nothing", NULL },
    { "as-of", 0, 0, G_OPTION_ARG_STRING, &as_of,
      "Count the age from this time instead of now (ISO 8601, e.g. 2027-03-01T00:00:00Z)", "TIME" },
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr(GOptionContext) ctx =
    g_option_context_new("- delete or archive finished recordings of ended hearings");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error))
    return fail("bad command line", error);
  if (older == NULL || argc != 1) {
    g_printerr("usage: testimony-relay retention --state-dir DIR --older-than AGE "
               "[--archive DIR] [--dry-run] [--as-of TIME]\n");
    return 2;
  }
  int64_t age_us = 0;
  if (!tm_retention_parse_age(older, &age_us, &error))
    return fail("bad --older-than", error) + 1;
  int64_t now_us = g_get_real_time();
  if (as_of != NULL) {
    g_autoptr(GDateTime) t = g_date_time_new_from_iso8601(as_of, NULL);
    if (t == NULL) {
      g_printerr("testimony-relay: --as-of \"%s\" is not an ISO 8601 time with a zone "
                 "(2027-03-01T00:00:00Z)\n",
                 as_of);
      return 2;
    }
    now_us = g_date_time_to_unix(t) * G_USEC_PER_SEC + g_date_time_get_microsecond(t);
  }
  TmRetentionOptions opt = {
    .state_dir = state_dir != NULL ? state_dir : "/var/lib/testimony",
    .archive_dir = archive,
    .age_text = older,
    .cutoff_us = now_us - age_us,
    .dry_run = dry_run,
  };
  return tm_retention_run(&opt);
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
  if (argc > 1 && strcmp(argv[1], "retention") == 0)
    return cmd_retention(argc - 1, argv + 1);
  return cmd_serve(argc, argv);
}
