/* app.h — the testimony-client application: options, exit codes, the one app struct.
 *
 * There are no globals: main() owns one TmApp and passes it to every module that needs it.
 * Modules below the app (signalling, session, feed, display, analysis, report, profile) do not
 * know about TmApp; they report upward through listener structs. */
#pragma once

#include <glib.h>

#include "analysis.h"
#include "console.h"
#include "report.h"
#include "call.h"
#include "signalling.h"

/* Exit statuses (documented in docs/client.md). */
typedef enum {
  TM_EXIT_OK = 0,
  TM_EXIT_FAILURE = 1,       /* internal error */
  TM_EXIT_USAGE = 2,         /* bad command line, unreadable --ca, unknown profile */
  TM_EXIT_CONNECTION = 3,    /* relay unreachable, TLS failure, connection lost */
  TM_EXIT_REFUSED = 4,       /* the relay refused the join (token, hearing full, ...) */
  TM_EXIT_MEDIA = 5,         /* pipeline or WebRTC failure */
} TmExitStatus;

typedef struct {
  gchar *relay;              /* https://HOST:PORT */
  gchar *token;
  gchar *ca_file;            /* NULL: system trust store */
  gchar *profile;            /* "standard" */
  gchar *test_source;        /* NULL: camera and microphone */
  gboolean headless;
  gchar *report_file;        /* NULL: no report */
  gint duration;             /* seconds, 0: until SIGINT/SIGTERM */
  gchar *pipelines_dir;      /* NULL: $TESTIMONY_PIPELINES or PIPELINES_DIR */
  gboolean console;          /* read controls from standard input */
} TmOptions;

/* A remote participant as the hearing announced it. */
typedef struct {
  gchar *id;
  gchar *name;
  gchar *role;
  gboolean publishing;
  gboolean subscribed;
  TmAnalysis *analysis;      /* owned (one ref) */
} TmRemote;

typedef struct {
  TmOptions options;
  GMainLoop *loop;
  gint64 start_us;           /* g_get_monotonic_time() at start */
  TmExitStatus exit_status;
  gboolean finishing;        /* leave sent or failure reported: ignore further events */

  TmSignalling *signalling;
  TmCall *call;
  TmReport *report;
  TmConsole *console;        /* NULL without --console */

  gboolean joined;
  gboolean receive_only;     /* observer, or the relay refused our publish as forbidden */
  gchar *my_id;
  gchar *my_name;
  gchar *my_role;
  gchar *title;              /* the hearing's title from joined/state, or NULL */
  gboolean waiting;          /* our own state: in the waiting room (else admitted) */
  const gchar *recording;    /* static: "recording", "paused" or "stopped" */
  GQueue console_lines;      /* console lines (g_free) typed before the join was accepted */
  guint status_requests;     /* console "status" requests not yet answered */
  gint64 links_printed_us;   /* when the last link-quality summary was printed, 0: never */
  GQueue pending;            /* JsonObject* for the relay, held until joined */
  GQueue awaiting;           /* feed ids (g_free) of subscribe offers not yet answered, in
                                order: a refused subscribe names no feed, the oldest is it */
  GHashTable *remotes;       /* id -> TmRemote*, owned */
  GPtrArray *remote_order;   /* ids (borrowed from TmRemote) in join order, for the report */

  guint join_timeout_id;
  guint duration_id;
  guint report_id;
  guint ping_id;
  guint sigint_id;
  guint sigterm_id;
  guint quit_id;
} TmApp;

/* app.c: what every module may call on the application. */
/* A fatal condition: prints "testimony-client: MESSAGE" on stderr and sets the exit status,
 * unless a failure or a leave is already under way. TRUE if it did: the caller then winds the
 * client down (leaves the hearing and quits). */
gboolean tm_app_fail(TmApp *app, TmExitStatus status, const gchar *format, ...)
    G_GNUC_PRINTF(3, 4);
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

/* attendance.c: the signalling conversation (join, participants, answers, candidates). */
extern const TmCallListener tm_attendance_call_listener;
extern const TmSignallingListener tm_attendance_signalling_listener;
/* Starts the --duration timer and connects to the relay. */
void tm_attendance_connect(TmApp *app);
/* Sends leave, waits for the relay to close the session (at most 2 s), quits the loop. */
void tm_attendance_leave(TmApp *app);
/* Writes one last report line (if joined and reporting). */
void tm_attendance_final_report(TmApp *app);
void tm_attendance_clear_timers(TmApp *app);
void tm_attendance_clear_pending(TmApp *app);
void tm_remote_free(TmRemote *remote);

/* court.c: the judge's and clerk's view (waiting list, link quality, the number waiting on the
 * window) and the console's controls (--console). */
extern const TmConsoleListener tm_court_console_listener;
gboolean tm_court_is_staff(TmApp *app);
/* The join was accepted: asks for the waiting list (judge, clerk), runs held console lines. */
void tm_court_joined(TmApp *app);
void tm_court_on_done(TmApp *app, JsonObject *message);
void tm_court_on_status(TmApp *app, JsonObject *message);
void tm_court_on_waiting(TmApp *app, JsonObject *message);
void tm_court_on_link_quality(TmApp *app, JsonObject *message);
/* An error answering one of our controls: prints "refused: TEXT" and returns TRUE; FALSE if
 * REF names no control. */
gboolean tm_court_on_error(TmApp *app, const gchar *ref, const gchar *text);
void tm_court_clear(TmApp *app);
