/* test-console.c — the console's command parser, its line reader on a pipe, and the report's
 * own members (GLib g_test, TAP). Lives beside the client because tests/unit holds the
 * engine's tests and links nothing of the client. */
#include <glib-unix.h>
#include <string.h>
#include <unistd.h>

#include "console.h"
#include "report.h"

static const TmConsolePerson people[] = {
  { "p1", "Judge Somchai" }, { "p2", "Witness A" }, { "p3", "Clerk B" },
  { "p4", "Twin" },          { "p5", "Twin" },      { "p6", "witness a" },
};

/* LINE parsed against PEOPLE, as compact JSON; NULL with *CODE on error. */
static gchar *
parse(const gchar *line, gint *code)
{
  TmConsoleCommand command;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  gchar *text;

  *code = -1;
  if (!tm_console_parse(line, people, G_N_ELEMENTS(people), &command, &error)) {
    g_assert_true(error->domain == TM_CONSOLE_ERROR);
    g_assert_nonnull(error->message);
    *code = error->code;
    return NULL;
  }
  if (command.action == TM_CONSOLE_HELP)
    return g_strdup("help");
  node = json_node_new(JSON_NODE_OBJECT);
  json_node_set_object(node, command.message);
  text = json_to_string(node, FALSE);
  tm_console_command_clear(&command);
  return text;
}

static void
check(const gchar *line, const gchar *expected)
{
  gint code;
  g_autofree gchar *got = parse(line, &code);

  g_assert_cmpstr(got, ==, expected);
}

static void
check_error(const gchar *line, TmConsoleError expected)
{
  gint code;
  g_autofree gchar *got = parse(line, &code);

  g_assert_null(got);
  g_assert_cmpint(code, ==, expected);
}

static void
test_commands(void)
{
  check("waiting", "{\"type\":\"control\",\"action\":\"waiting\"}");
  check("  admit Witness A  ", "{\"type\":\"control\",\"action\":\"admit\",\"target\":\"p2\"}");
  check("refuse Clerk B", "{\"type\":\"control\",\"action\":\"refuse\",\"target\":\"p3\"}");
  check("to-waiting p2", "{\"type\":\"control\",\"action\":\"to-waiting\",\"target\":\"p2\"}");
  check("mute Judge Somchai", "{\"type\":\"control\",\"action\":\"mute\",\"target\":\"p1\"}");
  check("unmute-request Witness A",
        "{\"type\":\"control\",\"action\":\"unmute-request\",\"target\":\"p2\"}");
  check("video-off\tWitness A",
        "{\"type\":\"control\",\"action\":\"video-off\",\"target\":\"p2\"}");
  check("remove p6", "{\"type\":\"control\",\"action\":\"remove\",\"target\":\"p6\"}");
  check("protect screen-witness on",
        "{\"type\":\"control\",\"action\":\"protect\",\"measure\":\"screen-witness\",\"on\":true}");
  check(
    "protect  screen-witness \t off",
    "{\"type\":\"control\",\"action\":\"protect\",\"measure\":\"screen-witness\",\"on\":false}");
  check("lock", "{\"type\":\"control\",\"action\":\"lock\"}");
  check("unlock\r", "{\"type\":\"control\",\"action\":\"unlock\"}");
  check("end", "{\"type\":\"control\",\"action\":\"end\"}");
  for (guint i = 0; i < 4; i++) {
    const gchar *ops[] = { "start", "pause", "resume", "stop" };
    g_autofree gchar *line = g_strdup_printf("record %s", ops[i]);
    g_autofree gchar *json =
      g_strdup_printf("{\"type\":\"control\",\"action\":\"record\",\"op\":\"%s\"}", ops[i]);
    check(line, json);
  }
  check("mark The witness \"A\" identifies the document",
        "{\"type\":\"control\",\"action\":\"mark\",\"text\":\"The witness \\\"A\\\" identifies "
        "the document\"}");
  check("unmute", "{\"type\":\"control\",\"action\":\"unmute\"}");
  check("video-on", "{\"type\":\"control\",\"action\":\"video-on\"}");
  check("status", "{\"type\":\"status\"}");
  check("help", "help");
}

static void
test_names(void)
{
  /* exact before case-insensitive: "Witness A" is p2 although p6 is "witness a" */
  check("admit Witness A", "{\"type\":\"control\",\"action\":\"admit\",\"target\":\"p2\"}");
  check("admit witness a", "{\"type\":\"control\",\"action\":\"admit\",\"target\":\"p6\"}");
  /* case-insensitive when no exact match */
  check("admit clerk b", "{\"type\":\"control\",\"action\":\"admit\",\"target\":\"p3\"}");
  check_error("admit WITNESS A", TM_CONSOLE_ERROR_AMBIGUOUS);
  check_error("admit Twin", TM_CONSOLE_ERROR_AMBIGUOUS);
  check("admit p5", "{\"type\":\"control\",\"action\":\"admit\",\"target\":\"p5\"}");
  check_error("admit Nobody", TM_CONSOLE_ERROR_NOBODY);
}

static void
test_errors(void)
{
  check_error("", TM_CONSOLE_ERROR_EMPTY);
  check_error("   \t ", TM_CONSOLE_ERROR_EMPTY);
  check_error("admitt Witness A", TM_CONSOLE_ERROR_UNKNOWN);
  check_error("ADMIT Witness A", TM_CONSOLE_ERROR_UNKNOWN);
  check_error("admit", TM_CONSOLE_ERROR_USAGE);
  check_error("mark", TM_CONSOLE_ERROR_USAGE);
  check_error("lock now", TM_CONSOLE_ERROR_USAGE);
  check_error("record", TM_CONSOLE_ERROR_USAGE);
  check_error("record begin", TM_CONSOLE_ERROR_USAGE);
  check_error("protect screen-witness", TM_CONSOLE_ERROR_USAGE);
  check_error("protect screen-witness maybe", TM_CONSOLE_ERROR_USAGE);
  check_error("protect anonymity on", TM_CONSOLE_ERROR_USAGE);
  check_error("protect screen-witness on now", TM_CONSOLE_ERROR_USAGE);
  check_error("mark a\033[1mbold", TM_CONSOLE_ERROR_USAGE);
  check("mark a\tb", "{\"type\":\"control\",\"action\":\"mark\",\"text\":\"a b\"}");
  g_assert_true(tm_console_is_action("admit"));
  g_assert_true(tm_console_is_action("record"));
  g_assert_false(tm_console_is_action("status"));
  g_assert_false(tm_console_is_action("help"));
  g_assert_false(tm_console_is_action("publish"));
  g_assert_false(tm_console_is_action(NULL));
  g_assert_nonnull(strstr(tm_console_help(), "record start|pause|resume|stop"));
}

typedef struct {
  GPtrArray *lines;
  gboolean closed;
} Captured;

static void
on_line(gpointer user_data, const gchar *line, gboolean too_long)
{
  Captured *c = user_data;

  g_ptr_array_add(c->lines, too_long ? g_strdup("<too long>") : g_strdup(line));
}

static void
on_closed(gpointer user_data)
{
  ((Captured *) user_data)->closed = TRUE;
}

static const TmConsoleListener listener = { on_line, on_closed };

/* Lines split across writes, a line without its newline at the end, CRLF, an overlong line;
 * the reader never blocks the loop on a partial line. */
static void
test_reader(void)
{
  gint fds[2];
  Captured c = { g_ptr_array_new_with_free_func(g_free), FALSE };
  TmConsole *console;
  g_autofree gchar *big = g_strnfill(TM_CONSOLE_MAX_LINE + 10, 'x');

  g_assert_true(g_unix_open_pipe(fds, 0, NULL));
  console = tm_console_new(fds[0], &listener, &c);
  g_assert_cmpint(write(fds[1], "adm", 3), ==, 3);
  while (g_main_context_iteration(NULL, FALSE))
    ;
  g_assert_cmpuint(c.lines->len, ==, 0); /* a partial line: nothing yet, no blocking */
  g_assert_cmpint(write(fds[1], "it A\nlock\r\n", 11), ==, 11);
  g_assert_cmpint(write(fds[1], big, strlen(big)), ==, (gssize) strlen(big));
  g_assert_cmpint(write(fds[1], "\nend", 4), ==, 4);
  close(fds[1]);
  while (!c.closed)
    g_main_context_iteration(NULL, TRUE);
  g_assert_cmpuint(c.lines->len, ==, 4);
  g_assert_cmpstr(g_ptr_array_index(c.lines, 0), ==, "admit A");
  g_assert_cmpstr(g_ptr_array_index(c.lines, 1), ==, "lock");
  g_assert_cmpstr(g_ptr_array_index(c.lines, 2), ==, "<too long>");
  g_assert_cmpstr(g_ptr_array_index(c.lines, 3), ==, "end");
  tm_console_free(console);
  close(fds[0]);
  g_ptr_array_unref(c.lines);
}

static void
test_report_self(void)
{
  TmReportSelf self = { "p1", "Judge \"J\"", "judge", "admitted", "paused" };
  g_autofree gchar *line = tm_report_format(1796051726.3964, &self, NULL, 0);

  g_assert_cmpstr(line, ==,
                  "{\"time\":1796051726.396,\"id\":\"p1\",\"name\":\"Judge \\\"J\\\"\","
                  "\"role\":\"judge\",\"state\":\"admitted\",\"recording\":\"paused\","
                  "\"remotes\":[]}");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/console/commands", test_commands);
  g_test_add_func("/console/names", test_names);
  g_test_add_func("/console/errors", test_errors);
  g_test_add_func("/console/reader", test_reader);
  g_test_add_func("/report/self", test_report_self);
  return g_test_run();
}
