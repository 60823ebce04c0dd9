/* report.h — the --report file: one JSON object per line, one line per second.
 *
 *   {"time":UNIX_SECONDS,"id":MY_ID,"name":...,"role":...,"state":"waiting"|"admitted",
 *    "recording":"recording"|"paused"|"stopped","remotes":[{"id":...,"name":...,
 *    "role":...,"first_frame_ms":MS,"subscribe_frame_ms":MS,"latency_ms":MS,
 *    "video":{"frames":N,"width":W,"height":H,"r":R,"g":G,"b":B},
 *    "audio":{"buffers":N,"rms_db":X,"freq_hz":F}},...]}
 *
 * Each line is flushed as soon as it is written, so a reader can follow the file. */
#pragma once

#include <glib.h>

#include "analysis.h"

typedef struct _TmReport TmReport;

/* This client, as the relay named it, and what it was told. */
typedef struct {
  const gchar *id;
  const gchar *name;
  const gchar *role;
  const gchar *state;     /* "waiting" or "admitted" */
  const gchar *recording; /* "recording", "paused" or "stopped" */
} TmReportSelf;

typedef struct {
  const gchar *id;
  const gchar *name;
  const gchar *role;
  TmAnalysisSnapshot snapshot;
} TmReportRemote;

/* Creates (truncates) PATH. */
TmReport *tm_report_open(const gchar *path, GError **error);
/* Writes one line. TIME is UNIX time in seconds. */
gboolean tm_report_write(TmReport *report, gdouble time, const TmReportSelf *self,
                         const TmReportRemote *remotes, guint n_remotes, GError **error);
/* The line tm_report_write() would write, without the newline (for tests). */
gchar *tm_report_format(gdouble time, const TmReportSelf *self, const TmReportRemote *remotes,
                        guint n_remotes);
void tm_report_close(TmReport *report);
