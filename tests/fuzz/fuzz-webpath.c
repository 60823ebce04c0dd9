/* fuzz-webpath.c — tm_web_path_resolve() on arbitrary request paths. Whenever a path is served:
 *
 *   - the file's path is NUL-terminated, shorter than TM_WEB_PATH_MAX, and relative (it does not
 *     start with '/');
 *   - it has no "..", no "//", no backslash and no control character (below 0x20, or 0x7f);
 *   - it ends in one of the known suffixes, after at least one other character, and the type
 *     returned is the one for that suffix;
 *   - it is the request path without its leading '/' ("/" and "/join" are the join page);
 *   - asking for "/" + that path serves the same file with the same type;
 *   - an output buffer of exactly the size needed gives the same answer (and never more is
 *     written: AddressSanitizer watches the end of it).
 *
 * Any broken property aborts. */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "webpath.h"

static void
check(gboolean ok)
{
  if (!ok)
    abort();
}

static const struct {
  const char *suffix, *type_prefix;
} expected_types[] = {
  { ".html", "text/html" },        { ".js", "text/javascript" }, { ".css", "text/css" },
  { ".json", "application/json" }, { ".svg", "image/svg+xml" },  { ".png", "image/png" },
  { ".ico", "image/x-icon" },      { ".woff2", "font/woff2" },
};

static void
check_served(const char *file, const char *type)
{
  size_t n = strlen(file);
  check(n > 0 && n < TM_WEB_PATH_MAX && file[0] != '/');
  check(strstr(file, "..") == NULL && strstr(file, "//") == NULL && strchr(file, '\\') == NULL);
  for (size_t i = 0; i < n; i++)
    check((unsigned char) file[i] >= 0x20 && file[i] != 0x7f);
  gboolean known = FALSE;
  for (size_t i = 0; i < G_N_ELEMENTS(expected_types) && !known; i++) {
    size_t s = strlen(expected_types[i].suffix);
    if (n > s && strcmp(file + n - s, expected_types[i].suffix) == 0) {
      known = TRUE;
      check(g_str_has_prefix(type, expected_types[i].type_prefix));
    }
  }
  check(known);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *path = (const char *) data;
  char out[TM_WEB_PATH_MAX];
  memset(out, 0x55, sizeof out);
  const char *type = tm_web_path_resolve(path, size, out, sizeof out);

  /* The same with an output buffer of exactly SIZE bytes on the heap. */
  if (size > 0) {
    char *tight = g_malloc(size);
    const char *t2 = tm_web_path_resolve(path, size, tight, size);
    if (t2 != NULL)
      check(type != NULL && strcmp(type, t2) == 0 && memcmp(tight, out, size) == 0);
    g_free(tight);
  }
  if (type == NULL)
    return 0;

  check(memchr(out, '\0', sizeof out) != NULL);
  check_served(out, type);
  gboolean join_page =
    (size == 1 && path[0] == '/') || (size == 5 && memcmp(path, "/join", 5) == 0);
  if (join_page)
    check(strcmp(out, "index.html") == 0);
  else
    check(size >= 2 && path[0] == '/' && strlen(out) == size - 1 &&
          memcmp(out, path + 1, size - 1) == 0);

  /* Served again as itself. */
  g_autofree char *again_path = g_strconcat("/", out, NULL);
  char again[TM_WEB_PATH_MAX];
  const char *again_type = tm_web_path_resolve(again_path, strlen(again_path), again, sizeof again);
  check(again_type != NULL && strcmp(again_type, type) == 0 && strcmp(again, out) == 0);
  return 0;
}
