/* log.h — the relay's messages about a hearing, with journal fields.
 *
 * Each carries HEARING= (the hearing id) and, when about a participant, PARTICIPANT= (its id in
 * the hearing: p1, p2…) and PARTICIPANT_ROLE= — never a name or an address, so the journal holds
 * no personal data. GLib's default log writer sends the fields to the journal when the relay's
 * stderr is the journal (systemd sets $JOURNAL_STREAM), and prints only the message elsewhere:
 *   journalctl -u testimony-relay HEARING=h1 PARTICIPANT_ROLE=witness */
#pragma once

#include <glib.h>

#include "hearing.h"

/* HEARING: the hearing id; P: the participant, or NULL. */
void tm_log_hearing(GLogLevelFlags level, const char *hearing, const TmParticipant *p,
                    const char *format, ...) G_GNUC_PRINTF(4, 5);
