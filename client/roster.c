/* roster.c — who is in the hearing, as far as this client knows (see roster.h). */
#include "roster.h"

static void
remote_free(gpointer data)
{
  TmRemote *remote = data;

  g_free(remote->id);
  g_free(remote->name);
  g_free(remote->role);
  tm_analysis_unref(remote->analysis);
  g_free(remote);
}

void
tm_roster_init(TmRoster *roster)
{
  *roster = (TmRoster){ 0 };
  roster->remotes = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, remote_free);
  roster->order = g_ptr_array_new();
}

void
tm_roster_clear(TmRoster *roster)
{
  g_clear_pointer(&roster->order, g_ptr_array_unref);
  g_clear_pointer(&roster->remotes, g_hash_table_unref);
  g_clear_pointer(&roster->self_id, g_free);
  g_clear_pointer(&roster->self_name, g_free);
  g_clear_pointer(&roster->self_role, g_free);
}

void
tm_roster_set_self(TmRoster *roster, const gchar *id, const gchar *name, const gchar *role)
{
  g_free(roster->self_id);
  g_free(roster->self_name);
  g_free(roster->self_role);
  roster->self_id = g_strdup(id);
  roster->self_name = g_strdup(name);
  roster->self_role = g_strdup(role);
}

TmRemote *
tm_roster_lookup(const TmRoster *roster, const gchar *id)
{
  return id != NULL ? g_hash_table_lookup(roster->remotes, id) : NULL;
}

TmRemote *
tm_roster_add(TmRoster *roster, const gchar *id, gint64 start_us)
{
  TmRemote *remote = g_hash_table_lookup(roster->remotes, id);

  if (remote != NULL || g_strcmp0(id, roster->self_id) == 0)
    return remote;
  remote = g_new0(TmRemote, 1);
  remote->id = g_strdup(id);
  remote->name = g_strdup("");
  remote->role = g_strdup("");
  remote->analysis = tm_analysis_new(start_us);
  g_hash_table_insert(roster->remotes, remote->id, remote);
  g_ptr_array_add(roster->order, remote->id);
  return remote;
}

void
tm_roster_remove(TmRoster *roster, const gchar *id)
{
  TmRemote *remote = g_hash_table_lookup(roster->remotes, id);

  if (remote == NULL)
    return;
  g_ptr_array_remove(roster->order, remote->id);
  g_hash_table_remove(roster->remotes, remote->id);
}

guint
tm_roster_n_remotes(const TmRoster *roster)
{
  return roster->order->len;
}

TmRemote *
tm_roster_remote_at(const TmRoster *roster, guint i)
{
  return g_hash_table_lookup(roster->remotes, g_ptr_array_index(roster->order, i));
}
