/* fuzz-forwarded.c — the client address behind a trusted reverse proxy (relay/shell/proxy.c,
 * compiled in) on arbitrary bytes. The input is three parts separated by newlines: the
 * trusted-proxies setting (';'-separated), the peer's address, and the X-Forwarded-For header
 * (which a client writes the left part of).
 *
 *   - parsing the setting returns TRUE with ranges (or NULL for none) or FALSE with an error;
 *   - from a peer that is not a trusted proxy the header is ignored: the answer is the peer;
 *   - otherwise the answer is the peer or an address written in the header (in GLib's text
 *     form), and every header entry to its right is a trusted proxy;
 *   - nothing crashes, whatever the length (a header over TM_PROXY_HEADER_MAX is ignored).
 *
 * Any broken property aborts. */
#include <gio/gio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

static void
check(gboolean ok)
{
  if (!ok)
    abort();
}

/* Whether ANSWER is the text form of entry I of HOPS, and every entry right of it is trusted. */
static gboolean
answer_is_hop(const GPtrArray *ranges, char **hops, guint n, const char *answer)
{
  for (guint i = n; i-- > 0;) {
    g_autofree char *entry = g_strstrip(g_strdup(hops[i]));
    g_autoptr(GInetAddress) a = g_inet_address_new_from_string(entry);
    if (a == NULL)
      return FALSE;
    g_autofree char *text = g_inet_address_to_string(a);
    if (strcmp(text, answer) == 0)
      return TRUE;
    if (!tm_proxy_trusted(ranges, text))
      return FALSE;
  }
  return FALSE;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup((const char *) data, size);
  g_auto(GStrv) parts = g_strsplit(text, "\n", 3);
  if (g_strv_length(parts) < 2)
    return 0;
  g_auto(GStrv) setting = g_strsplit(parts[0], ";", 64);
  GPtrArray *ranges = NULL;
  g_autoptr(GError) error = NULL;
  gboolean ok = tm_proxy_parse_ranges("trusted-proxies", setting, &ranges, &error);
  check(ok == (error == NULL) && (ok || ranges == NULL));
  if (!ok)
    return 0;
  const char *peer = parts[1];
  const char *header = parts[2];
  g_autofree char *answer = tm_proxy_client_address(ranges, peer, header);
  check(answer != NULL);
  if (!tm_proxy_trusted(ranges, peer) || header == NULL || strlen(header) > TM_PROXY_HEADER_MAX) {
    check(strcmp(answer, peer) == 0);
  } else if (strcmp(answer, peer) != 0) {
    g_auto(GStrv) hops = g_strsplit(header, ",", -1);
    check(answer_is_hop(ranges, hops, g_strv_length(hops), answer));
  }
  if (ranges != NULL)
    g_ptr_array_unref(ranges);
  return 0;
}
