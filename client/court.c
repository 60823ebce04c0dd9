/* court.c — what the judge and the clerk see, and the console (see court.h). */
#include "court.h"

#include <stdio.h>

#define LOG_DOMAIN "testimony-hearing"
#define LINKS_INTERVAL_US (10 * G_USEC_PER_SEC)
#define MAX_HELD_LINES 64 /* console lines typed before the join was accepted */

struct _TmCourt {
  TmApp *app;
  const TmRoster *roster; /* borrowed: the attendance's */
  TmCourtListener listener;
  gpointer user_data;
  gboolean joined;         /* the relay accepted the join */
  GQueue held_lines;       /* console lines (g_free) typed before the join */
  guint status_requests;   /* console "status" requests not yet answered */
  gint64 links_printed_us; /* when the last link-quality summary was printed, 0: never */
};

TmCourt *
tm_court_new(TmApp *app, const TmRoster *roster, const TmCourtListener *listener,
             gpointer user_data)
{
  TmCourt *court = g_new0(TmCourt, 1);

  court->app = app;
  court->roster = roster;
  court->listener = *listener;
  court->user_data = user_data;
  g_queue_init(&court->held_lines);
  return court;
}

void
tm_court_free(TmCourt *court)
{
  if (court == NULL)
    return;
  g_queue_clear_full(&court->held_lines, g_free);
  g_free(court);
}

gboolean
tm_court_is_staff(TmCourt *court)
{
  const gchar *role = court->roster->self_role;

  return g_strcmp0(role, "judge") == 0 || g_strcmp0(role, "clerk") == 0;
}

/* The display name of participant ID ("you" for ourselves), or the id if unknown. */
static const gchar *
display_name(TmCourt *court, const gchar *id)
{
  TmRemote *remote = tm_roster_lookup(court->roster, id);

  if (id != NULL && g_strcmp0(id, court->roster->self_id) == 0)
    return "you";
  if (remote != NULL && remote->name[0] != '\0')
    return remote->name;
  return id != NULL ? id : "?";
}

/* "rtt 12 ms, loss 0.5 %, 812 kbit/s" from a link-quality entry (or a waiting entry's link). */
static gchar *
link_text(JsonObject *link)
{
  return g_strdup_printf("rtt %.0f ms, loss %.1f %%, %.0f kbit/s",
                         tm_json_number(link, "rtt_ms", 0), 100 * tm_json_number(link, "loss", 0),
                         tm_json_number(link, "bitrate_kbps", 0));
}

/* ---- relay -> judge, clerk ---- */

static void
show_waiting_count(TmCourt *court, guint n)
{
  g_autofree gchar *text = n > 0 ? g_strdup_printf("%u waiting", n) : NULL;

  court->listener.show_waiting(court->user_data, text);
}

void
tm_court_handle_waiting(TmCourt *court, JsonObject *m)
{
  JsonArray *people = tm_json_array(m, "participants");
  guint n = people != NULL ? json_array_get_length(people) : 0;

  if (!tm_court_is_staff(court))
    return;
  show_waiting_count(court, n);
  if (n == 0) {
    tm_app_notice("nobody is waiting to be admitted");
    return;
  }
  tm_app_notice("%u waiting to be admitted:", n);
  for (guint i = 0; i < n; i++) {
    JsonObject *p = tm_json_object_at(people, i);
    JsonNode *link = p != NULL ? json_object_get_member(p, "link") : NULL;
    g_autoptr(GDateTime) since =
      g_date_time_new_from_unix_local((gint64) tm_json_number(p, "since", 0));
    g_autofree gchar *when = since != NULL ? g_date_time_format(since, "%H:%M:%S") : NULL;
    g_autofree gchar *quality =
      link != NULL && JSON_NODE_HOLDS_OBJECT(link) ? link_text(json_node_get_object(link)) : NULL;

    if (p == NULL)
      continue;
    tm_app_print("  %-5s %s (%s), waiting since %s, %s",
                 tm_json_string(p, "id") != NULL ? tm_json_string(p, "id") : "?",
                 tm_json_string(p, "name") != NULL ? tm_json_string(p, "name") : "?",
                 tm_json_string(p, "role") != NULL ? tm_json_string(p, "role") : "?",
                 when != NULL ? when : "?", quality != NULL ? quality : "link unknown");
  }
}

void
tm_court_handle_link_quality(TmCourt *court, JsonObject *m)
{
  JsonArray *people = tm_json_array(m, "participants");
  gint64 now = g_get_monotonic_time();
  g_autoptr(GString) line = NULL;

  if (!tm_court_is_staff(court) || people == NULL ||
      (court->links_printed_us != 0 && now - court->links_printed_us < LINKS_INTERVAL_US))
    return;
  court->links_printed_us = now;
  line = g_string_new("links:");
  for (guint i = 0; i < json_array_get_length(people); i++) {
    JsonObject *p = tm_json_object_at(people, i);
    g_autofree gchar *quality = p != NULL ? link_text(p) : NULL;

    if (p != NULL)
      g_string_append_printf(line, "%s %s %s", i > 0 ? ";" : "",
                             display_name(court, tm_json_string(p, "id")), quality);
  }
  tm_app_notice("%s", line->str);
}

/* ---- replies to the console ---- */

void
tm_court_handle_done(TmCourt *court, JsonObject *m)
{
  const gchar *action = tm_json_string(m, "action");
  const gchar *path = tm_json_string(m, "path");

  if (path != NULL)
    tm_app_print("done: %s (%s)", action != NULL ? action : "?", path);
  else
    tm_app_print("done: %s", action != NULL ? action : "?");
}

gboolean
tm_court_handle_error(TmCourt *court, const gchar *ref, const gchar *text)
{
  if (!tm_console_is_action(ref) && g_strcmp0(ref, "control") != 0 &&
      (g_strcmp0(ref, "status") != 0 || court->status_requests == 0))
    return FALSE;
  if (g_strcmp0(ref, "status") == 0)
    court->status_requests--;
  tm_app_print("refused: %s", text);
  return TRUE;
}

void
tm_court_handle_status(TmCourt *court, JsonObject *m, const gchar *recording)
{
  JsonArray *people = tm_json_array(m, "participants");
  guint n = people != NULL ? json_array_get_length(people) : 0;
  const gchar *hearing = tm_json_string(m, "hearing"), *case_number = tm_json_string(m, "case");
  g_autofree gchar *of_case = case_number != NULL && case_number[0] != '\0'
    ? g_strdup_printf(", case %s", case_number)
    : NULL;

  if (court->status_requests == 0)
    return; /* only the console asks */
  court->status_requests--;
  tm_app_notice("hearing %s%s%s, recording %s: %u participant%s", hearing != NULL ? hearing : "?",
                of_case != NULL ? of_case : "",
                json_object_get_boolean_member_with_default(m, "locked", FALSE) ? " (locked)" : "",
                recording, n, n == 1 ? "" : "s");
  for (guint i = 0; i < n; i++) {
    JsonObject *p = tm_json_object_at(people, i);
    const gchar *id = tm_json_string(p, "id");

    if (p == NULL)
      continue;
    tm_app_print("  %-5s %s (%s)%s, %s, audio %s, video %s", id != NULL ? id : "?",
                 tm_json_string(p, "name") != NULL ? tm_json_string(p, "name") : "?",
                 tm_json_string(p, "role") != NULL ? tm_json_string(p, "role") : "?",
                 g_strcmp0(id, court->roster->self_id) == 0 ? " (you)" : "",
                 tm_json_string(p, "state") != NULL ? tm_json_string(p, "state") : "?",
                 tm_json_string(p, "audio") != NULL ? tm_json_string(p, "audio") : "?",
                 tm_json_string(p, "video") != NULL ? tm_json_string(p, "video") : "?");
  }
}

/* ---- the console ---- */

static void
run_line(TmCourt *court, const gchar *line)
{
  const TmRoster *roster = court->roster;
  guint n_remotes = tm_roster_n_remotes(roster), n = 0;
  g_autofree TmConsolePerson *people = g_new0(TmConsolePerson, n_remotes + 1);
  TmConsoleCommand command;
  g_autoptr(GError) error = NULL;

  people[n++] = (TmConsolePerson){ roster->self_id, roster->self_name };
  for (guint i = 0; i < n_remotes; i++) {
    TmRemote *remote = tm_roster_remote_at(roster, i);
    people[n++] = (TmConsolePerson){ remote->id, remote->name };
  }
  if (!tm_console_parse(line, people, n, &command, &error)) {
    if (!g_error_matches(error, TM_CONSOLE_ERROR, TM_CONSOLE_ERROR_EMPTY))
      tm_app_print("not sent: %s", error->message);
    return;
  }
  if (command.action == TM_CONSOLE_HELP) {
    g_print("%s", tm_console_help());
    fflush(stdout);
  } else if (!court->listener.send(court->user_data, command.message)) {
    tm_app_print("not sent: the connection to the relay is closed");
  } else if (g_str_equal(command.command, "status")) {
    court->status_requests++;
  }
  tm_console_command_clear(&command);
}

static void
on_line(gpointer user_data, const gchar *line, gboolean too_long)
{
  TmCourt *court = user_data;

  if (court->app->finishing)
    return;
  if (too_long) {
    tm_app_print("not sent: a line may hold at most %d characters", TM_CONSOLE_MAX_LINE);
    return;
  }
  if (!court->joined) {
    if (g_queue_get_length(&court->held_lines) >= MAX_HELD_LINES)
      tm_app_print("not sent: not in the hearing yet");
    else
      g_queue_push_tail(&court->held_lines, g_strdup(line));
    return;
  }
  run_line(court, line);
}

static void
on_console_closed(gpointer user_data)
{
  g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "end of standard input: no more commands");
}

const TmConsoleListener tm_court_console_listener = {
  .line = on_line,
  .closed = on_console_closed,
};

void
tm_court_joined(TmCourt *court)
{
  gchar *line;

  court->joined = TRUE;
  if (tm_court_is_staff(court)) {
    g_autoptr(JsonObject) m = json_object_new();
    json_object_set_string_member(m, "type", "control");
    json_object_set_string_member(m, "action", "waiting");
    court->listener.send(court->user_data, m);
  }
  while (!court->app->finishing && (line = g_queue_pop_head(&court->held_lines)) != NULL) {
    run_line(court, line);
    g_free(line);
  }
}
