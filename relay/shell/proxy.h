/* proxy.h — the relay behind a reverse proxy (docs/operations.md, "Behind a reverse proxy"):
 * whose X-Forwarded-For is believed, and which address a request then comes from, so that the
 * per-address limits (listener.c, session.c) apply to each real client rather than to the
 * proxy. Only the configured proxies' header is read; anyone else's is ignored. */
#pragma once

#include <gio/gio.h>

#define TM_PROXY_HEADER_MAX 4096 /* a longer X-Forwarded-For is ignored */
#define TM_PROXY_HOPS_MAX 16     /* addresses looked at, from the right */

/* Parses the trusted-proxies setting (addresses or CIDR ranges) into *OUT (GInetAddressMask*;
 * NULL for an empty list). SETTING names it in errors. */
gboolean tm_proxy_parse_ranges(const char *setting, char **ranges, GPtrArray **out, GError **error);
/* Whether ADDRESS (text) is inside one of RANGES (NULL: none is). */
gboolean tm_proxy_trusted(const GPtrArray *ranges, const char *address);
/* The address a request comes from (g_free): PEER itself, unless PEER is a trusted proxy and
 * FORWARDED_FOR (the X-Forwarded-For header, may be NULL) names addresses: then the rightmost
 * one that is not itself a trusted proxy (the proxies add to the right what they saw). An entry
 * that is not an IP address ends the walk at the last trusted hop. */
char *tm_proxy_client_address(const GPtrArray *ranges, const char *peer, const char *forwarded_for);
