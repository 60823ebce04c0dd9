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

/* STRING as a JSON string literal (quotes and escapes by json-glib). */
static void
append_string(GString *out, const gchar *string)
{
  g_autoptr(JsonNode) node = json_node_new(JSON_NODE_VALUE);
  g_autofree gchar *text = NULL;

  json_node_set_string(node, string != NULL ? string : "");
  text = json_to_string(node, FALSE);
  g_string_append(out, text);
}

/* VALUE with FORMAT ("%.1f"), whatever the locale; JSON has no NaN or infinity. */
static void
append_double(GString *out, const gchar *format, gdouble value)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append(out, g_ascii_formatd(buf, sizeof buf, format, isfinite(value) ? value : 0.0));
}

/* Numbers are printed by hand: json-glib writes doubles with 17 significant digits. */
static void
append_remote(GString *out, const TmReportRemote *remote)
{
  const TmAnalysisSnapshot *s = &remote->snapshot;

  g_string_append(out, "{\"id\":");
  append_string(out, remote->id);
  g_string_append(out, ",\"name\":");
  append_string(out, remote->name);
  g_string_append(out, ",\"role\":");
  append_string(out, remote->role);
  g_string_append_printf(out, ",\"first_frame_ms\":%" G_GINT64_FORMAT, s->first_frame_ms);
  g_string_append_printf(out, ",\"subscribe_frame_ms\":%" G_GINT64_FORMAT, s->subscribe_frame_ms);
  g_string_append_printf(out, ",\"latency_ms\":%" G_GINT64_FORMAT, s->latency_ms);
  g_string_append_printf(out,
                         ",\"video\":{\"frames\":%" G_GUINT64_FORMAT
                         ",\"width\":%d,\"height\":%d,\"r\":%d,\"g\":%d,\"b\":%d"
                         ",\"shown\":%" G_GUINT64_FORMAT ",\"late\":%" G_GUINT64_FORMAT
                         ",\"freezes\":%" G_GUINT64_FORMAT
                         ",\"longest_freeze_ms\":%" G_GINT64_FORMAT "}",
                         s->frames, s->width, s->height, s->r, s->g, s->b, s->shown, s->late,
                         s->freezes, s->longest_freeze_ms);
  g_string_append_printf(out,
                         ",\"audio\":{\"buffers\":%" G_GUINT64_FORMAT ",\"late\":%" G_GUINT64_FORMAT
                         ",\"gaps\":%" G_GUINT64_FORMAT ",\"longest_gap_ms\":%" G_GINT64_FORMAT
                         ",\"rms_db\":",
                         s->buffers, s->audio_late, s->audio_gaps, s->longest_audio_gap_ms);
  append_double(out, "%.1f", s->rms_db);
  g_string_append(out, ",\"freq_hz\":");
  append_double(out, "%.1f", s->freq_hz);
  g_string_append(out, "}}");
}

gchar *
tm_report_format(gdouble time, const TmReportSelf *self, const TmReportRemote *remotes,
                 guint n_remotes)
{
  GString *out = g_string_new(NULL);

  g_string_append(out, "{\"time\":");
  append_double(out, "%.3f", time);
  g_string_append(out, ",\"id\":");
  append_string(out, self->id);
  g_string_append(out, ",\"name\":");
  append_string(out, self->name);
  g_string_append(out, ",\"role\":");
  append_string(out, self->role);
  g_string_append(out, ",\"state\":");
  append_string(out, self->state);
  g_string_append(out, ",\"recording\":");
  append_string(out, self->recording);
  g_string_append(out, ",\"remotes\":[");
  for (guint i = 0; i < n_remotes; i++) {
    if (i > 0)
      g_string_append_c(out, ',');
    append_remote(out, &remotes[i]);
  }
  g_string_append(out, "]}");
  return g_string_free(out, FALSE);
}

gboolean
tm_report_write(TmReport *report, gdouble time, const TmReportSelf *self,
                const TmReportRemote *remotes, guint n_remotes, GError **error)
{
  g_autofree gchar *line = tm_report_format(time, self, remotes, n_remotes);

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
