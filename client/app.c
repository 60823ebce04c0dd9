/* app.c — the app-wide state and what every module of the client may call on it (see app.h):
 * the lines for the person at the client, the exit status, quitting the main loop, and reading
 * members of the relay's JSON messages. */
#include "app.h"

#include <stdarg.h>
#include <stdio.h>

void
tm_app_init(TmApp *app)
{
  *app = (TmApp){ 0 };
  app->start_us = g_get_monotonic_time();
  app->loop = g_main_loop_new(NULL, FALSE);
}

void
tm_app_clear(TmApp *app)
{
  TmOptions *o = &app->options;

  g_clear_handle_id(&app->quit_id, g_source_remove);
  g_clear_pointer(&app->loop, g_main_loop_unref);
  g_free(o->relay);
  g_free(o->token);
  g_free(o->ca_file);
  g_free(o->profile);
  g_free(o->test_source);
  g_free(o->report_file);
  g_free(o->pipelines_dir);
  *o = (TmOptions){ 0 };
}

/* ---- lines for the person at the client ---- */

/* One line on stdout, flushed at once (a reader may follow it through a pipe). */
static void
print_line(const gchar *prefix, const gchar *format, va_list args)
{
  g_autofree gchar *text = g_strdup_vprintf(format, args);

  g_print("%s%s\n", prefix, text);
  fflush(stdout);
}

void
tm_app_notice(const gchar *format, ...)
{
  va_list args;

  va_start(args, format);
  print_line("testimony-client: ", format, args);
  va_end(args);
}

void
tm_app_print(const gchar *format, ...)
{
  va_list args;

  va_start(args, format);
  print_line("", format, args);
  va_end(args);
}

/* ---- failure and quitting ---- */

gboolean
tm_app_fail(TmApp *app, TmExitStatus status, const gchar *format, ...)
{
  va_list args;
  g_autofree gchar *text = NULL;

  if (app->finishing)
    return FALSE;
  va_start(args, format);
  text = g_strdup_vprintf(format, args);
  va_end(args);
  g_printerr("testimony-client: %s\n", text);
  app->exit_status = status;
  return TRUE;
}

static gboolean
quit_now(gpointer user_data)
{
  TmApp *app = user_data;

  app->quit_id = 0;
  g_main_loop_quit(app->loop);
  return G_SOURCE_REMOVE;
}

void
tm_app_quit(TmApp *app)
{
  if (app->quit_id != 0)
    g_source_remove(app->quit_id);
  app->quit_id = g_idle_add(quit_now, app);
}

void
tm_app_quit_later(TmApp *app, guint ms)
{
  if (app->quit_id != 0)
    g_source_remove(app->quit_id);
  app->quit_id = g_timeout_add(ms, quit_now, app);
}

/* ---- members of the relay's messages ---- */

const gchar *
tm_json_string(JsonObject *object, const gchar *name)
{
  JsonNode *node = object != NULL ? json_object_get_member(object, name) : NULL;

  if (node == NULL || json_node_get_value_type(node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string(node);
}

gboolean
tm_json_bool(JsonObject *object, const gchar *name)
{
  JsonNode *node = object != NULL ? json_object_get_member(object, name) : NULL;

  return node != NULL && json_node_get_value_type(node) == G_TYPE_BOOLEAN &&
    json_node_get_boolean(node);
}

gint64
tm_json_int(JsonObject *object, const gchar *name, gint64 fallback)
{
  JsonNode *node = object != NULL ? json_object_get_member(object, name) : NULL;

  if (node == NULL || json_node_get_value_type(node) != G_TYPE_INT64)
    return fallback;
  return json_node_get_int(node);
}

gdouble
tm_json_number(JsonObject *object, const gchar *name, gdouble fallback)
{
  JsonNode *node = object != NULL ? json_object_get_member(object, name) : NULL;
  GType type = node != NULL ? json_node_get_value_type(node) : G_TYPE_INVALID;

  if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE)
    return fallback;
  return json_node_get_double(node); /* converts an integer */
}

JsonArray *
tm_json_array(JsonObject *object, const gchar *name)
{
  JsonNode *node = object != NULL ? json_object_get_member(object, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
}

JsonObject *
tm_json_object_at(JsonArray *array, guint i)
{
  JsonNode *node =
    array != NULL && i < json_array_get_length(array) ? json_array_get_element(array, i) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}
