/* app.h — the testimony-client application: options, exit codes, the app-wide state, and the
 * helpers every module may call on it (app.c).
 *
 * There are no globals: main() owns one TmApp and passes it to the modules that need it. Each
 * module owns its own state: the attendance (attendance.h) the conversation with the relay,
 * the court (court.h) the judge's and clerk's view and the console. Modules below them
 * (roster, signalling, call, feed, display, analysis, report, profile, console) do not know
 * about TmApp; they report upward through listener structs. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

/* Exit statuses (documented in docs/client.md). */
typedef enum {
  TM_EXIT_OK = 0,
  TM_EXIT_FAILURE = 1,    /* internal error */
  TM_EXIT_USAGE = 2,      /* bad command line, unreadable --ca, unknown profile */
  TM_EXIT_CONNECTION = 3, /* relay unreachable, TLS failure, connection lost */
  TM_EXIT_REFUSED = 4,    /* the relay refused the join (token, hearing full, ...) */
  TM_EXIT_MEDIA = 5,      /* pipeline or WebRTC failure */
} TmExitStatus;

typedef struct {
  gchar *relay; /* https://HOST:PORT */
  gchar *token;
  gchar *ca_file;     /* NULL: system trust store */
  gchar *profile;     /* "standard" */
  gchar *test_source; /* NULL: camera and microphone */
  gboolean headless;
  gboolean kiosk;       /* a fullscreen window for one person (docs/client.md, "The kiosk") */
  gchar *report_file;   /* NULL: no report */
  gint duration;        /* seconds, 0: until SIGINT/SIGTERM */
  gchar *pipelines_dir; /* NULL: $TESTIMONY_PIPELINES or PIPELINES_DIR */
  gboolean console;     /* read controls from standard input */
} TmOptions;

typedef struct {
  TmOptions options;
  GMainLoop *loop;
  gint64 start_us; /* g_get_monotonic_time() at start */
  TmExitStatus exit_status;
  gboolean finishing; /* leave sent or failure reported: ignore further events */
  guint quit_id;      /* the scheduled quit of the main loop */
} TmApp;

/* Sets the start time and makes the main loop; options empty, exit status OK. */
void tm_app_init(TmApp *app);
/* Cancels a scheduled quit, frees the loop and the options. */
void tm_app_clear(TmApp *app);
/* A fatal condition: prints "testimony-client: MESSAGE" on stderr and sets the exit status,
 * unless a failure or a leave is already under way. TRUE if it did: the caller then winds the
 * client down (leaves the hearing and quits). */
gboolean tm_app_fail(TmApp *app, TmExitStatus status, const gchar *format, ...) G_GNUC_PRINTF(3, 4);
/* Quits the main loop from an idle callback, once pending signalling output has been flushed. */
void tm_app_quit(TmApp *app);
/* Quits the main loop after MS milliseconds (replacing any quit already scheduled). */
void tm_app_quit_later(TmApp *app, guint ms);
/* Prints "testimony-client: TEXT" on stdout (something the person at the client should know). */
void tm_app_notice(const gchar *format, ...) G_GNUC_PRINTF(1, 2);
/* Prints TEXT on stdout as it is, one line (the console's replies). */
void tm_app_print(const gchar *format, ...) G_GNUC_PRINTF(1, 2);
/* JSON members of the relay's messages: NULL / FALSE / FALLBACK when missing or of another
 * type. */
const gchar *tm_json_string(JsonObject *object, const gchar *name);
gboolean tm_json_bool(JsonObject *object, const gchar *name);
gint64 tm_json_int(JsonObject *object, const gchar *name, gint64 fallback);
gdouble tm_json_number(JsonObject *object, const gchar *name, gdouble fallback);
JsonArray *tm_json_array(JsonObject *object, const gchar *name);
/* The I-th element of ARRAY if it is an object, else NULL. */
JsonObject *tm_json_object_at(JsonArray *array, guint i);
