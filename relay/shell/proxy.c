/* proxy.c — trusted reverse proxies and X-Forwarded-For. */
#include "proxy.h"

#include <string.h>

gboolean
tm_proxy_parse_ranges(const char *setting, char **ranges, GPtrArray **out, GError **error)
{
  *out = NULL;
  if (ranges == NULL || ranges[0] == NULL)
    return TRUE;
  g_autoptr(GPtrArray) masks = g_ptr_array_new_with_free_func(g_object_unref);
  for (char **r = ranges; *r != NULL; r++) {
    g_autoptr(GError) local = NULL;
    g_autofree char *text = g_strstrip(g_strdup(*r));
    GInetAddressMask *m = g_inet_address_mask_new_from_string(text, &local);
    if (m == NULL) {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                  "%s: \"%s\" is not an address or an address range (e.g. 10.0.0.0/8): %s", setting,
                  *r, local->message);
      return FALSE;
    }
    g_ptr_array_add(masks, m);
  }
  *out = g_steal_pointer(&masks);
  return TRUE;
}

static gboolean
matches(const GPtrArray *ranges, GInetAddress *a)
{
  for (guint i = 0; ranges != NULL && i < ranges->len; i++)
    if (g_inet_address_mask_matches(g_ptr_array_index(ranges, i), a))
      return TRUE;
  return FALSE;
}

gboolean
tm_proxy_trusted(const GPtrArray *ranges, const char *address)
{
  if (ranges == NULL || address == NULL)
    return FALSE;
  g_autoptr(GInetAddress) a = g_inet_address_new_from_string(address);
  return a != NULL && matches(ranges, a);
}

char *
tm_proxy_client_address(const GPtrArray *ranges, const char *peer, const char *forwarded_for)
{
  if (!tm_proxy_trusted(ranges, peer) || forwarded_for == NULL ||
      strlen(forwarded_for) > TM_PROXY_HEADER_MAX)
    return g_strdup(peer);
  g_auto(GStrv) hops = g_strsplit(forwarded_for, ",", -1);
  guint n = g_strv_length(hops);
  g_autofree char *client = g_strdup(peer);
  for (guint i = 0; i < n && i < TM_PROXY_HOPS_MAX; i++) {
    g_autoptr(GInetAddress) a = g_inet_address_new_from_string(g_strstrip(hops[n - 1 - i]));
    if (a == NULL)
      break; /* not an address: believe no further than the last proxy */
    g_free(client);
    client = g_inet_address_to_string(a);
    if (!matches(ranges, a))
      break;
  }
  return g_steal_pointer(&client);
}
