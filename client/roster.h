/* roster.h — the participants of the hearing as the relay announced them to this client:
 * ourselves (from joined) and every other participant, in the order they were announced.
 * Plain data with a few helpers: the attendance writes it, the court reads it. */
#pragma once

#include <glib.h>

#include "analysis.h"

/* A remote participant as the hearing announced it. */
typedef struct {
  gchar *id;
  gchar *name;
  gchar *role;
  gboolean publishing;
  gboolean subscribed;
  TmAnalysis *analysis; /* owned (one ref) */
} TmRemote;

typedef struct {
  gchar *self_id; /* ourselves, as joined named us; NULL until then */
  gchar *self_name;
  gchar *self_role;
  GHashTable *remotes; /* id -> TmRemote*, owned */
  GPtrArray *order;    /* ids (borrowed from TmRemote) in the order announced */
} TmRoster;

void tm_roster_init(TmRoster *roster);
void tm_roster_clear(TmRoster *roster);
void tm_roster_set_self(TmRoster *roster, const gchar *id, const gchar *name, const gchar *role);
/* The remote participant ID, or NULL. */
TmRemote *tm_roster_lookup(const TmRoster *roster, const gchar *id);
/* The remote participant ID, added if new (empty name and role, a new analysis whose times count
 * from START_US); NULL when ID is ourselves. */
TmRemote *tm_roster_add(TmRoster *roster, const gchar *id, gint64 start_us);
void tm_roster_remove(TmRoster *roster, const gchar *id);
guint tm_roster_n_remotes(const TmRoster *roster);
/* The I-th remote participant in the order announced. */
TmRemote *tm_roster_remote_at(const TmRoster *roster, guint i);
