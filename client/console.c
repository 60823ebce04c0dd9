/* console.c — controls typed on standard input (see console.h). */
#include "console.h"

#include <string.h>

/* The quark's name is taken as written. */
/* clang-format off */
G_DEFINE_QUARK(tm-console-error-quark, tm_console_error)
/* clang-format on */

/* ---- the reader ---- */

struct _TmConsole {
  GIOChannel *channel;
  guint watch_id;
  GString *partial;    /* the line read so far */
  gboolean discarding; /* the current line is over TM_CONSOLE_MAX_LINE */
  TmConsoleListener listener;
  gpointer user_data;
};

static void
emit_line(TmConsole *console)
{
  gboolean too_long = console->discarding;

  if (console->partial->len > 0 && console->partial->str[console->partial->len - 1] == '\r')
    g_string_truncate(console->partial, console->partial->len - 1);
  console->discarding = FALSE;
  console->listener.line(console->user_data, too_long ? "" : console->partial->str, too_long);
  g_string_truncate(console->partial, 0);
}

/* Splits what one read() returned into lines. The listener may free nothing here: it is
 * called from the watch, and the console is freed only from the main loop's other sources. */
static void
take_input(TmConsole *console, const gchar *data, gsize len)
{
  for (gsize i = 0; i < len; i++) {
    if (data[i] == '\n') {
      emit_line(console);
    } else if (!console->discarding) {
      g_string_append_c(console->partial, data[i]);
      if (console->partial->len > TM_CONSOLE_MAX_LINE) {
        console->discarding = TRUE;
        g_string_truncate(console->partial, 0);
      }
    }
  }
}

/* One read per wake-up: the channel is unbuffered, so read_chars is a single read() on a
 * descriptor poll() called readable, which does not block (the descriptor's flags are left
 * alone: standard input is shared with the shell that started us). */
static gboolean
on_input(GIOChannel *channel, GIOCondition condition, gpointer user_data)
{
  TmConsole *console = user_data;
  gchar buf[4096];
  gsize n = 0;
  g_autoptr(GError) error = NULL;
  GIOStatus status = g_io_channel_read_chars(channel, buf, sizeof buf, &n, &error);

  if (status == G_IO_STATUS_NORMAL) {
    take_input(console, buf, n);
    return G_SOURCE_CONTINUE;
  }
  if (status == G_IO_STATUS_AGAIN)
    return G_SOURCE_CONTINUE;
  if (error != NULL)
    g_log("testimony-console", G_LOG_LEVEL_DEBUG, "standard input: %s", error->message);
  if (console->partial->len > 0 || console->discarding)
    emit_line(console); /* a last line without its newline */
  console->watch_id = 0;
  console->listener.closed(console->user_data);
  return G_SOURCE_REMOVE;
}

TmConsole *
tm_console_new(gint fd, const TmConsoleListener *listener, gpointer user_data)
{
  TmConsole *console = g_new0(TmConsole, 1);

  console->listener = *listener;
  console->user_data = user_data;
  console->partial = g_string_new(NULL);
  console->channel = g_io_channel_unix_new(fd);
  g_io_channel_set_close_on_unref(console->channel, FALSE);
  g_io_channel_set_encoding(console->channel, NULL, NULL);
  g_io_channel_set_buffered(console->channel, FALSE);
  console->watch_id =
    g_io_add_watch(console->channel, G_IO_IN | G_IO_HUP | G_IO_ERR, on_input, console);
  return console;
}

void
tm_console_free(TmConsole *console)
{
  if (console == NULL)
    return;
  g_clear_handle_id(&console->watch_id, g_source_remove);
  g_io_channel_unref(console->channel);
  g_string_free(console->partial, TRUE);
  g_free(console);
}

/* ---- the commands ---- */

typedef enum {
  ARG_NONE,
  ARG_NAME,    /* the rest of the line names a participant: "target" */
  ARG_TEXT,    /* the rest of the line: "text" */
  ARG_OP,      /* one of start, pause, resume, stop: "op" */
  ARG_PROTECT, /* screen-witness on|off: "measure", "on" */
} Arg;

typedef struct {
  const gchar *word; /* also the control action, except status and help */
  Arg arg;
  const gchar *usage;
  const gchar *who;
} Spec;

static const Spec specs[] = {
  { "waiting", ARG_NONE, "waiting", "judge, clerk: list who is waiting" },
  { "admit", ARG_NAME, "admit NAME", "judge, clerk" },
  { "refuse", ARG_NAME, "refuse NAME", "judge, clerk" },
  { "to-waiting", ARG_NAME, "to-waiting NAME", "judge" },
  { "mute", ARG_NAME, "mute NAME", "judge" },
  { "unmute-request", ARG_NAME, "unmute-request NAME", "judge" },
  { "video-off", ARG_NAME, "video-off NAME", "judge" },
  { "remove", ARG_NAME, "remove NAME", "judge" },
  { "protect", ARG_PROTECT, "protect screen-witness on|off", "judge" },
  { "lock", ARG_NONE, "lock", "judge" },
  { "unlock", ARG_NONE, "unlock", "judge" },
  { "end", ARG_NONE, "end", "judge: ends the hearing for everyone" },
  { "record", ARG_OP, "record start|pause|resume|stop", "judge, clerk" },
  { "mark", ARG_TEXT, "mark TEXT", "judge, clerk: a marker in the recording" },
  { "unmute", ARG_NONE, "unmute", "anyone: lift the court's mute of your microphone" },
  { "video-on", ARG_NONE, "video-on", "anyone: lift the court's stop of your video" },
  { "status", ARG_NONE, "status", "anyone: who is in the hearing" },
  { "help", ARG_NONE, "help", "anyone: this list" },
};

static const gchar *const record_ops[] = { "start", "pause", "resume", "stop", NULL };

static const Spec *
find_spec(const gchar *word)
{
  for (guint i = 0; i < G_N_ELEMENTS(specs); i++)
    if (g_strcmp0(specs[i].word, word) == 0)
      return &specs[i];
  return NULL;
}

gboolean
tm_console_is_action(const gchar *action)
{
  const Spec *spec = find_spec(action);

  return spec != NULL && !g_str_equal(spec->word, "status") && !g_str_equal(spec->word, "help");
}

const gchar *
tm_console_help(void)
{
  static gsize once = 0;
  static gchar *text;

  if (g_once_init_enter(&once)) {
    GString *out = g_string_new("commands (NAME: a participant's name, or id):\n");
    for (guint i = 0; i < G_N_ELEMENTS(specs); i++)
      g_string_append_printf(out, "  %-32s %s\n", specs[i].usage, specs[i].who);
    text = g_string_free(out, FALSE);
    g_once_init_leave(&once, 1);
  }
  return text;
}

/* The id NAME designates: exact name, else the name ignoring case, else the id. */
static const gchar *
resolve_name(const TmConsolePerson *people, guint n, const gchar *name, GError **error)
{
  const gchar *found = NULL;
  guint matches = 0;
  g_autoptr(GString) ids = g_string_new(NULL);

  for (guint pass = 0; pass < 3 && matches == 0; pass++) {
    for (guint i = 0; i < n; i++) {
      const gchar *pname = people[i].name != NULL ? people[i].name : "";
      gboolean hit = pass == 0 ? g_str_equal(pname, name)
        : pass == 1            ? g_ascii_strcasecmp(pname, name) == 0
                               : g_strcmp0(people[i].id, name) == 0;
      if (!hit)
        continue;
      found = people[i].id;
      g_string_append_printf(ids, "%s%s", matches > 0 ? ", " : "", people[i].id);
      matches++;
    }
  }
  if (matches == 1)
    return found;
  if (matches == 0)
    g_set_error(error, TM_CONSOLE_ERROR, TM_CONSOLE_ERROR_NOBODY,
                "nobody called \"%s\" is in the hearing", name);
  else
    g_set_error(error, TM_CONSOLE_ERROR, TM_CONSOLE_ERROR_AMBIGUOUS,
                "more than one participant is called \"%s\" (%s); use their id", name, ids->str);
  return NULL;
}

static gboolean
usage_error(const Spec *spec, GError **error)
{
  g_set_error(error, TM_CONSOLE_ERROR, TM_CONSOLE_ERROR_USAGE, "usage: %s", spec->usage);
  return FALSE;
}

/* The words of TEXT (separated by one space or more). */
static GStrv
split_words(const gchar *text)
{
  g_auto(GStrv) parts = g_strsplit(text, " ", -1);
  g_autoptr(GStrvBuilder) words = g_strv_builder_new();

  for (guint i = 0; parts[i] != NULL; i++)
    if (parts[i][0] != '\0')
      g_strv_builder_add(words, parts[i]);
  return g_strv_builder_end(words);
}

/* Adds SPEC's members, taken from REST, to M. */
static gboolean
add_args(const Spec *spec, const gchar *rest, const TmConsolePerson *people, guint n_people,
         JsonObject *m, GError **error)
{
  g_auto(GStrv) words = NULL;
  const gchar *id;

  if (spec->arg == ARG_NONE)
    return rest[0] == '\0' || usage_error(spec, error);
  if (rest[0] == '\0')
    return usage_error(spec, error);
  switch (spec->arg) {
  case ARG_NAME:
    id = resolve_name(people, n_people, rest, error);
    if (id == NULL)
      return FALSE;
    json_object_set_string_member(m, "target", id);
    return TRUE;
  case ARG_TEXT: json_object_set_string_member(m, "text", rest); return TRUE;
  case ARG_OP:
    if (!g_strv_contains(record_ops, rest))
      return usage_error(spec, error);
    json_object_set_string_member(m, "op", rest);
    return TRUE;
  case ARG_PROTECT:
    words = split_words(rest);
    if (g_strv_length(words) != 2 || !g_str_equal(words[0], "screen-witness") ||
        (!g_str_equal(words[1], "on") && !g_str_equal(words[1], "off")))
      return usage_error(spec, error);
    json_object_set_string_member(m, "measure", words[0]);
    json_object_set_boolean_member(m, "on", g_str_equal(words[1], "on"));
    return TRUE;
  case ARG_NONE: break;
  }
  return usage_error(spec, error);
}

gboolean
tm_console_parse(const gchar *line, const TmConsolePerson *people, guint n_people,
                 TmConsoleCommand *command, GError **error)
{
  g_autofree gchar *copy = g_strstrip(g_strdup(line != NULL ? line : ""));
  gchar *rest = copy;
  const Spec *spec;
  g_autoptr(JsonObject) m = NULL;

  memset(command, 0, sizeof *command);
  for (gchar *c = copy; *c != '\0'; c++) {
    if (*c == '\t') {
      *c = ' '; /* the relay takes no control character in a string */
    } else if ((guchar) *c < 0x20 || *c == 0x7f) {
      g_set_error_literal(error, TM_CONSOLE_ERROR, TM_CONSOLE_ERROR_USAGE,
                          "the line holds a control character");
      return FALSE;
    }
  }
  if (copy[0] == '\0') {
    g_set_error_literal(error, TM_CONSOLE_ERROR, TM_CONSOLE_ERROR_EMPTY, "empty line");
    return FALSE;
  }
  while (*rest != '\0' && *rest != ' ')
    rest++;
  if (*rest != '\0')
    *rest++ = '\0';
  while (*rest == ' ')
    rest++;
  spec = find_spec(copy);
  if (spec == NULL) {
    g_set_error(error, TM_CONSOLE_ERROR, TM_CONSOLE_ERROR_UNKNOWN,
                "unknown command \"%s\"; type help for the list", copy);
    return FALSE;
  }
  m = json_object_new();
  if (g_str_equal(spec->word, "status")) {
    json_object_set_string_member(m, "type", "status");
  } else {
    json_object_set_string_member(m, "type", "control");
    json_object_set_string_member(m, "action", spec->word);
  }
  if (!add_args(spec, rest, people, n_people, m, error))
    return FALSE;
  command->command = spec->word;
  if (g_str_equal(spec->word, "help")) {
    command->action = TM_CONSOLE_HELP;
    return TRUE;
  }
  command->action = TM_CONSOLE_SEND;
  command->message = g_steal_pointer(&m);
  return TRUE;
}

void
tm_console_command_clear(TmConsoleCommand *command)
{
  g_clear_pointer(&command->message, json_object_unref);
}
