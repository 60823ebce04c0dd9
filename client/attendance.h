/* attendance.h — one participant's attendance at a hearing: the signalling conversation with
 * the relay (join, the participant list, offers and answers, trickle ICE, the waiting room,
 * recording notices, leave), the media call it negotiates, the report, and the timers.
 *
 * It owns the signalling session, the call, the report, the roster of participants and the
 * court (the judge's and clerk's view), and hands the court the relay's messages that concern
 * it. Everything runs on the main context of the caller. */
#pragma once

#include <glib.h>

#include "app.h"
#include "court.h"
#include "report.h"

typedef struct _TmAttendance TmAttendance;

/* Prepares the signalling session to the relay named in APP's options (nothing is sent yet) and
 * takes REPORT (NULL: no report), even on failure. NULL with ERROR when --relay or --ca cannot
 * be used. */
TmAttendance *tm_attendance_new(TmApp *app, TmReport *report, GError **error);
/* Builds and starts the media: PUBLISH_DESCRIPTION is the loaded profile (profile.h),
 * MEDIA_ADDRESSES the only local addresses ICE may use (NULL: every interface). The publish
 * offer is held back until the join is accepted. */
gboolean tm_attendance_start_media(TmAttendance *attendance, const gchar *publish_description,
                                   const gchar *const *media_addresses, GError **error);
/* The court, for the console (tm_court_console_listener). */
TmCourt *tm_attendance_get_court(TmAttendance *attendance);
/* Starts the --duration timer and connects to the relay; the join follows. */
void tm_attendance_connect(TmAttendance *attendance);
/* Sends leave, then quits the main loop when the relay closes the session (at most 2 s). */
void tm_attendance_leave(TmAttendance *attendance);
/* Writes the last report line (if joined), stops the media and frees everything. */
void tm_attendance_free(TmAttendance *attendance);
