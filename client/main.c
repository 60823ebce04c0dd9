/* main.c — testimony-client: command line, set-up, main loop, tear-down.
 *
 *   testimony-client --relay https://HOST:PORT --token TOKEN [--ca CERT.pem]
 *       [--profile standard|low-bandwidth] [--test-source color=RRGGBB,tone=HZ,pattern=P] [--headless]
 *       [--kiosk] [--report FILE] [--duration SECONDS] [--pipelines DIR] [--console]
 *
 * See docs/client.md. */
#include "app.h"

#include <gio/gio.h>
#include <glib-unix.h>
#include <gst/gst.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "attendance.h"
#include "console.h"
#include "profile.h"

/* What main() owns: the app-wide state, the attendance (which owns everything below it), the
 * console and the signal handlers. */
typedef struct {
  TmApp app;
  TmAttendance *attendance;
  TmConsole *console; /* NULL without --console */
  guint sigint_id;
  guint sigterm_id;
} Client;

static const gchar *const log_domains[] = { "testimony-signalling",
                                            "testimony-session",
                                            "testimony-feed",
                                            "testimony-display",
                                            "testimony-hearing",
                                            "testimony-console",
                                            NULL };

/* Our warnings as one plain line each, until a failure or leave is under way (then the one
 * sentence that explains the exit status stays alone); debug messages with G_MESSAGES_DEBUG. */
static void
log_handler(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer user_data)
{
  TmApp *app = user_data;

  if (level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR)) {
    if (app->finishing) {
      g_log_default_handler(domain, G_LOG_LEVEL_DEBUG, message, NULL);
      return;
    }
    g_printerr("testimony-client: warning: %s\n", message);
    return;
  }
  g_log_default_handler(domain, level, message, user_data);
}

static gboolean
on_signal(gpointer user_data)
{
  Client *client = user_data;

  if (client->app.finishing) {
    g_main_loop_quit(client->app.loop); /* second signal: do not wait for the relay */
    return G_SOURCE_CONTINUE;
  }
  tm_attendance_leave(client->attendance);
  return G_SOURCE_CONTINUE;
}

static gboolean
parse_options(TmOptions *o, int *argc, char ***argv, GError **error)
{
  GOptionEntry entries[] = {
    { "relay", 0, 0, G_OPTION_ARG_STRING, &o->relay, "The relay, https://HOST:PORT", "URL" },
    { "token", 0, 0, G_OPTION_ARG_STRING, &o->token, "The join token for the hearing", "TOKEN" },
    { "ca", 0, 0, G_OPTION_ARG_FILENAME, &o->ca_file,
      "Trust exactly the relay certificate(s) in this PEM file", "CERT.pem" },
    { "profile", 0, 0, G_OPTION_ARG_STRING, &o->profile,
      "Capture profile: standard (default) or low-bandwidth", "NAME" },
    { "test-source", 0, 0, G_OPTION_ARG_STRING, &o->test_source,
      "Send a solid colour and a sine tone instead of camera and microphone",
      "color=RRGGBB,tone=HZ,pattern=P" },
    { "headless", 0, 0, G_OPTION_ARG_NONE, &o->headless, "No window and no sound device", NULL },
    { "kiosk", 0, 0, G_OPTION_ARG_NONE, &o->kiosk,
      "A fullscreen window for one person: the judge large, a self-view, the microphone's and "
      "camera's state in English and Thai",
      NULL },
    { "report", 0, 0, G_OPTION_ARG_FILENAME, &o->report_file,
      "Write one JSON line per second about what is received", "FILE" },
    { "duration", 0, 0, G_OPTION_ARG_INT, &o->duration, "Leave the hearing after this many seconds",
      "SECONDS" },
    { "pipelines", 0, 0, G_OPTION_ARG_FILENAME, &o->pipelines_dir,
      "Directory of the .pipeline profiles (default: $TESTIMONY_PIPELINES, else the install "
      "directory, else the source tree's pipelines/)",
      "DIR" },
    { "console", 0, 0, G_OPTION_ARG_NONE, &o->console,
      "Read controls from standard input, one a line (type help)", NULL },
    { NULL, 0, 0, 0, NULL, NULL, NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new("- join a hearing on a testimony relay");

  g_option_context_add_main_entries(context, entries, NULL);
  g_option_context_add_group(context, gst_init_get_option_group());
  if (!g_option_context_parse(context, argc, argv, error))
    return FALSE;
  if (*argc > 1) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "unexpected argument \"%s\"",
                (*argv)[1]);
    return FALSE;
  }
  if (o->relay == NULL || o->token == NULL) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                "--relay and --token are required (see --help)");
    return FALSE;
  }
  if (o->token[0] == '\0' || strlen(o->token) > 8192) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "--token is empty or too long");
    return FALSE;
  }
  if (o->duration < 0) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "--duration must be a number of seconds, at least 1");
    return FALSE;
  }
  if (o->kiosk && o->headless) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                "--kiosk shows a window; it cannot be --headless");
    return FALSE;
  }
  if (o->profile == NULL)
    o->profile = g_strdup("standard");
  return TRUE;
}

/* The local addresses ICE may use: $TESTIMONY_MEDIA_ADDRESS (comma-separated) if set; the
 * loopback address when the relay is on this machine (libnice leaves loopback out otherwise);
 * else NULL, every interface. */
static GStrv
media_addresses(const gchar *relay)
{
  const gchar *env = g_getenv("TESTIMONY_MEDIA_ADDRESS");
  g_autoptr(GUri) uri = NULL;
  const gchar *host;
  g_autoptr(GInetAddress) address = NULL;

  if (env != NULL && env[0] != '\0')
    return g_strsplit(env, ",", -1);
  uri = g_uri_parse(relay, G_URI_FLAGS_NONE, NULL);
  host = uri != NULL ? g_uri_get_host(uri) : NULL;
  if (host == NULL)
    return NULL;
  if (g_ascii_strcasecmp(host, "localhost") == 0) {
    const gchar *const loopback[] = { "127.0.0.1", NULL };
    return g_strdupv((gchar **) loopback);
  }
  address = g_inet_address_new_from_string(host);
  if (address != NULL && g_inet_address_get_is_loopback(address)) {
    const gchar *const same[] = { host, NULL };
    return g_strdupv((gchar **) same);
  }
  return NULL;
}

/* Everything that can fail before contacting the relay: report file, relay URL and --ca,
 * profile, pipeline. Returns the exit status (TM_EXIT_OK to go on). */
static TmExitStatus
prepare(Client *client)
{
  TmOptions *o = &client->app.options;
  TmReport *report = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *video = NULL, *audio = NULL, *dir = NULL, *description = NULL;
  g_auto(GStrv) addresses = NULL;

  if (o->test_source != NULL) {
    if (!tm_profile_test_sources(o->test_source, &video, &audio, &error))
      goto usage;
  } else {
    video = g_strdup(TM_PROFILE_CAMERA);
    audio = g_strdup(TM_PROFILE_MICROPHONE);
  }
  if (o->report_file != NULL && (report = tm_report_open(o->report_file, &error)) == NULL)
    goto usage;
  client->attendance = tm_attendance_new(&client->app, report, &error);
  if (client->attendance == NULL)
    goto usage;
  dir = tm_profile_resolve_dir(o->pipelines_dir);
  description = tm_profile_load(dir, o->profile, video, audio, &error);
  if (description == NULL)
    goto usage;
  g_log("testimony-hearing", G_LOG_LEVEL_DEBUG, "capture pipeline: %s", description);
  addresses = media_addresses(o->relay);
  if (!tm_attendance_start_media(client->attendance, description, (const gchar *const *) addresses,
                                 &error)) {
    g_printerr("testimony-client: %s\n", error->message);
    return TM_EXIT_MEDIA;
  }
  return TM_EXIT_OK;

usage:
  g_printerr("testimony-client: %s\n", error->message);
  return TM_EXIT_USAGE;
}

static void
teardown(Client *client)
{
  g_clear_handle_id(&client->sigint_id, g_source_remove);
  g_clear_handle_id(&client->sigterm_id, g_source_remove);
  tm_console_free(client->console);
  client->console = NULL;
  tm_attendance_free(client->attendance);
  client->attendance = NULL;
  tm_app_clear(&client->app);
}

int
main(int argc, char **argv)
{
  Client client = { 0 };
  g_autoptr(GError) error = NULL;
  TmExitStatus status;

  for (guint i = 0; log_domains[i] != NULL; i++)
    g_log_set_handler(log_domains[i], G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
                      log_handler, &client.app);
  tm_app_init(&client.app);
  if (!parse_options(&client.app.options, &argc, &argv, &error)) {
    g_printerr("testimony-client: %s\n", error->message);
    teardown(&client);
    return TM_EXIT_USAGE;
  }
  status = prepare(&client);
  if (status != TM_EXIT_OK) {
    teardown(&client);
    return status;
  }
  client.sigint_id = g_unix_signal_add(SIGINT, on_signal, &client);
  client.sigterm_id = g_unix_signal_add(SIGTERM, on_signal, &client);
  if (client.app.options.console)
    client.console = tm_console_new(STDIN_FILENO, &tm_court_console_listener,
                                    tm_attendance_get_court(client.attendance));
  tm_attendance_connect(client.attendance);
  g_main_loop_run(client.app.loop);
  status = client.app.exit_status;
  teardown(&client);
  gst_deinit();
  return status;
}
