/* console.h — the judge's and clerk's controls typed on standard input (--console).
 *
 * Two parts that do not know each other:
 *   - TmConsole reads a file descriptor (standard input) in the main loop, without threads, and
 *     hands each complete line to a listener; end of input stops reading and is reported once.
 *   - tm_console_parse() turns one line in testimony-ctl's words ("admit Witness A",
 *     "record start", "mark TEXT", ...) into the message for the relay; names are resolved
 *     against the participants the caller knows. No I/O: the caller sends what it returns. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#define TM_CONSOLE_ERROR (tm_console_error_quark())

typedef enum {
  TM_CONSOLE_ERROR_EMPTY,     /* a blank line: nothing to do, say nothing */
  TM_CONSOLE_ERROR_UNKNOWN,   /* not a command */
  TM_CONSOLE_ERROR_USAGE,     /* wrong or missing arguments */
  TM_CONSOLE_ERROR_NOBODY,    /* NAME matches no participant */
  TM_CONSOLE_ERROR_AMBIGUOUS, /* NAME matches more than one participant */
} TmConsoleError;

GQuark tm_console_error_quark(void);

/* Longest line read; a longer one is dropped whole and reported as too long. */
#define TM_CONSOLE_MAX_LINE 1024

typedef struct _TmConsole TmConsole;

typedef struct {
  /* One line without its end ("\n" or "\r\n"); TOO_LONG: it was over TM_CONSOLE_MAX_LINE and
   * LINE is empty. */
  void (*line)(gpointer user_data, const gchar *line, gboolean too_long);
  /* End of input (or a read error): nothing more will be read. */
  void (*closed)(gpointer user_data);
} TmConsoleListener;

/* Reads FD (not closed by the console) on the thread-default main context. */
TmConsole *tm_console_new(gint fd, const TmConsoleListener *listener, gpointer user_data);
void tm_console_free(TmConsole *console);

/* A participant a NAME may designate. */
typedef struct {
  const gchar *id;
  const gchar *name;
} TmConsolePerson;

/* What a line asks for. */
typedef enum {
  TM_CONSOLE_SEND, /* send MESSAGE to the relay */
  TM_CONSOLE_HELP, /* print tm_console_help() */
} TmConsoleAction;

typedef struct {
  TmConsoleAction action;
  const gchar *command; /* the command word (static) */
  JsonObject *message;  /* owned: {"type":"control",...} or {"type":"status"}; or NULL */
} TmConsoleCommand;

/* Parses LINE into COMMAND (cleared with tm_console_command_clear()); FALSE with ERROR (one
 * sentence for the person at the console) when it is not a command that can be sent. NAME is
 * matched exactly, then ignoring case, then as an id, among PEOPLE. */
gboolean tm_console_parse(const gchar *line, const TmConsolePerson *people, guint n_people,
                          TmConsoleCommand *command, GError **error);
void tm_console_command_clear(TmConsoleCommand *command);
/* Whether ACTION is a control action the console sends (for matching the relay's replies). */
gboolean tm_console_is_action(const gchar *action);
/* The commands, one per line, each line ending in "\n". */
const gchar *tm_console_help(void);
