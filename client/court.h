/* court.h — what the judge and the clerk see, and the console (--console).
 *
 * Judges and clerks get the waiting list from the relay on every change (printed, and the
 * number waiting in the window's top left corner) and link quality every 2 s (a one-line
 * summary printed every 10 s or so). With --console, lines typed on standard input in
 * testimony-ctl's words become control messages on our own signalling session; the relay's
 * done/error answers are printed one line each. The relay decides who may do what: the court
 * sends whatever is typed and prints the answer.
 *
 * The attendance hands the court the relay's messages that concern it; the court reads the
 * attendance's roster, and sends and shows through its listener. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "app.h"
#include "console.h"
#include "roster.h"

typedef struct _TmCourt TmCourt;

typedef struct {
  /* Sends MESSAGE (not consumed) on our signalling session; FALSE if it is closed. */
  gboolean (*send)(gpointer user_data, JsonObject *message);
  /* The number waiting to be admitted, for the window's corner ("2 waiting"); NULL hides it. */
  void (*show_waiting)(gpointer user_data, const gchar *text);
} TmCourtListener;

/* ROSTER (borrowed, read only) must outlive the court. */
TmCourt *tm_court_new(TmApp *app, const TmRoster *roster, const TmCourtListener *listener,
                      gpointer user_data);
void tm_court_free(TmCourt *court);
/* The console's lines, for tm_console_new() with the court as user data. */
extern const TmConsoleListener tm_court_console_listener;
/* Whether we joined as judge or clerk. */
gboolean tm_court_is_staff(TmCourt *court);
/* The join was accepted: asks for the waiting list (judge, clerk), runs the console lines
 * typed before. */
void tm_court_joined(TmCourt *court);
void tm_court_handle_done(TmCourt *court, JsonObject *message);
/* RECORDING: the hearing's recording as last announced ("recording", "paused", "stopped"). */
void tm_court_handle_status(TmCourt *court, JsonObject *message, const gchar *recording);
void tm_court_handle_waiting(TmCourt *court, JsonObject *message);
void tm_court_handle_link_quality(TmCourt *court, JsonObject *message);
/* An error answering one of our controls: prints "refused: TEXT" and returns TRUE; FALSE if
 * REF names no control. */
gboolean tm_court_handle_error(TmCourt *court, const gchar *ref, const gchar *text);
