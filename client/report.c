/* report.c — the --report JSON-lines file (see report.h). */
#include "report.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>

struct _TmReport {
  gchar *path;
  FILE *file;
};

TmReport *
tm_report_open(const gchar *path, GError **error)
{
  FILE *file = fopen(path, "w");
  TmReport *report;

  if (file == NULL) {
    int saved = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved),
                "cannot write the report %s: %s", path, g_strerror(saved));
    return NULL;
  }
  report = g_new0(TmReport, 1);
  report->path = g_strdup(path);
  report->file = file;
  return report;
}

static gdouble
tm_report_round(gdouble value, gdouble scale)
{
  return round(value * scale) / scale;
}

static void
tm_report_add_remote(JsonBuilder *builder, const TmReportRemote *remote)
{
  const TmAnalysisSnapshot *s = &remote->snapshot;

  json_builder_begin_object(builder);
  json_builder_set_member_name(builder, "id");
  json_builder_add_string_value(builder, remote->id);
  json_builder_set_member_name(builder, "name");
  json_builder_add_string_value(builder, remote->name != NULL ? remote->name : "");
  json_builder_set_member_name(builder, "role");
  json_builder_add_string_value(builder, remote->role != NULL ? remote->role : "");
  json_builder_set_member_name(builder, "first_frame_ms");
  json_builder_add_int_value(builder, s->first_frame_ms);

  json_builder_set_member_name(builder, "video");
  json_builder_begin_object(builder);
  json_builder_set_member_name(builder, "frames");
  json_builder_add_int_value(builder, (gint64) s->frames);
  json_builder_set_member_name(builder, "width");
  json_builder_add_int_value(builder, s->width);
  json_builder_set_member_name(builder, "height");
  json_builder_add_int_value(builder, s->height);
  json_builder_set_member_name(builder, "r");
  json_builder_add_int_value(builder, s->r);
  json_builder_set_member_name(builder, "g");
  json_builder_add_int_value(builder, s->g);
  json_builder_set_member_name(builder, "b");
  json_builder_add_int_value(builder, s->b);
  json_builder_end_object(builder);

  json_builder_set_member_name(builder, "audio");
  json_builder_begin_object(builder);
  json_builder_set_member_name(builder, "buffers");
  json_builder_add_int_value(builder, (gint64) s->buffers);
  json_builder_set_member_name(builder, "rms_db");
  json_builder_add_double_value(builder, tm_report_round(s->rms_db, 10.0));
  json_builder_set_member_name(builder, "freq_hz");
  json_builder_add_double_value(builder, tm_report_round(s->freq_hz, 10.0));
  json_builder_end_object(builder);

  json_builder_end_object(builder);
}

gchar *
tm_report_format(gdouble time, const gchar *id, const gchar *name, const gchar *role,
                 const TmReportRemote *remotes, guint n_remotes)
{
  g_autoptr(JsonBuilder) builder = json_builder_new();
  g_autoptr(JsonGenerator) generator = json_generator_new();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object(builder);
  json_builder_set_member_name(builder, "time");
  json_builder_add_double_value(builder, tm_report_round(time, 1000.0));
  json_builder_set_member_name(builder, "id");
  json_builder_add_string_value(builder, id != NULL ? id : "");
  json_builder_set_member_name(builder, "name");
  json_builder_add_string_value(builder, name != NULL ? name : "");
  json_builder_set_member_name(builder, "role");
  json_builder_add_string_value(builder, role != NULL ? role : "");
  json_builder_set_member_name(builder, "remotes");
  json_builder_begin_array(builder);
  for (guint i = 0; i < n_remotes; i++)
    tm_report_add_remote(builder, &remotes[i]);
  json_builder_end_array(builder);
  json_builder_end_object(builder);

  root = json_builder_get_root(builder);
  json_generator_set_root(generator, root);
  return json_generator_to_data(generator, NULL);
}

gboolean
tm_report_write(TmReport *report, gdouble time, const gchar *id, const gchar *name,
                const gchar *role, const TmReportRemote *remotes, guint n_remotes,
                GError **error)
{
  g_autofree gchar *line = tm_report_format(time, id, name, role, remotes, n_remotes);

  if (fprintf(report->file, "%s\n", line) < 0 || fflush(report->file) != 0) {
    int saved = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved),
                "cannot write the report %s: %s", report->path, g_strerror(saved));
    return FALSE;
  }
  return TRUE;
}

void
tm_report_close(TmReport *report)
{
  if (report == NULL)
    return;
  fclose(report->file);
  g_free(report->path);
  g_free(report);
}
