/* ice.c — libnice transport. */
#include "ice.h"

#include <agent.h>
#include <string.h>

struct _TmIce {
  NiceAgent *agent;
  guint stream;
  GMainContext *context;
  TmIceListener listener;
  void *user_data;
  char *ufrag;
  char *pwd;
  gboolean failed;
};

static void
on_recv(NiceAgent *agent, guint stream, guint component, guint len, gchar *buf, gpointer data)
{
  TmIce *ice = data;
  ice->listener.receive(ice->user_data, (const uint8_t *) buf, len);
}

static void
on_state(NiceAgent *agent, guint stream, guint component, guint state, gpointer data)
{
  TmIce *ice = data;
  if (state == NICE_COMPONENT_STATE_FAILED && !ice->failed) {
    ice->failed = TRUE;
    ice->listener.failed(ice->user_data);
  }
}

TmIce *
tm_ice_new(GMainContext *context, const TmIceOptions *options, const TmIceListener *listener,
           void *user_data, GError **error)
{
  TmIce *ice = g_new0(TmIce, 1);
  ice->context = g_main_context_ref(context);
  ice->listener = *listener;
  ice->user_data = user_data;
  ice->agent = nice_agent_new_full(context, NICE_COMPATIBILITY_RFC5245,
                                   NICE_AGENT_OPTION_ICE_TRICKLE | NICE_AGENT_OPTION_CONSENT_FRESHNESS);
  g_object_set(ice->agent, "upnp", FALSE, "ice-tcp", FALSE, "ice-udp", TRUE,
               "controlling-mode", FALSE, NULL);
  for (char **a = options->addresses; a != NULL && *a != NULL; a++) {
    NiceAddress addr;
    nice_address_init(&addr);
    if (!nice_address_set_from_string(&addr, *a)) {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                  "media address \"%s\" is not an IP address", *a);
      tm_ice_free(ice);
      return NULL;
    }
    nice_agent_add_local_address(ice->agent, &addr);
  }
  ice->stream = nice_agent_add_stream(ice->agent, 1);
  nice_agent_set_stream_name(ice->agent, ice->stream, "audio");
  if (options->port_min > 0)
    nice_agent_set_port_range(ice->agent, ice->stream, 1, options->port_min, options->port_max);
  g_signal_connect(ice->agent, "component-state-changed", G_CALLBACK(on_state), ice);
  nice_agent_attach_recv(ice->agent, ice->stream, 1, context, on_recv, ice);
  if (!nice_agent_gather_candidates(ice->agent, ice->stream)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                "ICE could not gather candidates (no usable media address or port)");
    tm_ice_free(ice);
    return NULL;
  }
  nice_agent_get_local_credentials(ice->agent, ice->stream, &ice->ufrag, &ice->pwd);
  return ice;
}

static gboolean
release_agent(gpointer data)
{
  g_object_unref(data);
  return G_SOURCE_REMOVE;
}

void
tm_ice_free(TmIce *ice)
{
  if (ice == NULL)
    return;
  if (ice->agent != NULL) {
    g_signal_handlers_disconnect_by_data(ice->agent, ice);
    if (ice->stream > 0) {
      nice_agent_attach_recv(ice->agent, ice->stream, 1, ice->context, NULL, NULL);
      nice_agent_remove_stream(ice->agent, ice->stream);
    }
    GSource *s = g_idle_source_new();
    g_source_set_callback(s, release_agent, ice->agent, NULL);
    g_source_attach(s, ice->context);
    g_source_unref(s);
  }
  g_main_context_unref(ice->context);
  g_free(ice->ufrag);
  g_free(ice->pwd);
  g_free(ice);
}

const char *
tm_ice_ufrag(const TmIce *ice)
{
  return ice->ufrag;
}

const char *
tm_ice_pwd(const TmIce *ice)
{
  return ice->pwd;
}

GStrv
tm_ice_local_candidates(TmIce *ice)
{
  GSList *cands = nice_agent_get_local_candidates(ice->agent, ice->stream, 1);
  GPtrArray *out = g_ptr_array_new();
  for (GSList *l = cands; l != NULL; l = l->next) {
    char *sdp = nice_agent_generate_local_candidate_sdp(ice->agent, l->data);
    const char *c = g_str_has_prefix(sdp, "a=") ? sdp + 2 : sdp;
    g_ptr_array_add(out, g_strdup(c));
    g_free(sdp);
  }
  g_slist_free_full(cands, (GDestroyNotify) nice_candidate_free);
  g_ptr_array_add(out, NULL);
  return (GStrv) g_ptr_array_free(out, FALSE);
}

gboolean
tm_ice_set_remote_credentials(TmIce *ice, const char *ufrag, const char *pwd)
{
  return nice_agent_set_remote_credentials(ice->agent, ice->stream, ufrag, pwd);
}

gboolean
tm_ice_add_remote_candidate(TmIce *ice, const char *candidate)
{
  if (candidate == NULL || *candidate == '\0') {
    nice_agent_peer_candidate_gathering_done(ice->agent, ice->stream);
    return TRUE;
  }
  g_autofree char *line = g_str_has_prefix(candidate, "a=") ? g_strdup(candidate)
                                                           : g_strconcat("a=", candidate, NULL);
  NiceCandidate *c = nice_agent_parse_remote_candidate_sdp(ice->agent, ice->stream, line);
  if (c == NULL)
    return FALSE;
  if (c->component_id != 1) { /* rtcp-mux: component 2 is never used */
    nice_candidate_free(c);
    return TRUE;
  }
  GSList *list = g_slist_prepend(NULL, c);
  int n = nice_agent_set_remote_candidates(ice->agent, ice->stream, 1, list);
  g_slist_free_full(list, (GDestroyNotify) nice_candidate_free);
  return n >= 0;
}

void
tm_ice_send(TmIce *ice, const uint8_t *buf, size_t len)
{
  nice_agent_send(ice->agent, ice->stream, 1, (guint) len, (const gchar *) buf);
}
