/* webpath.c — request path to a file of the web directory. */
#include "webpath.h"

#include <stdbool.h>
#include <string.h>

static const struct {
  const char *suffix, *type;
} web_types[] = {
  { ".html", "text/html; charset=utf-8" },
  { ".js", "text/javascript; charset=utf-8" },
  { ".css", "text/css; charset=utf-8" },
  { ".json", "application/json" },
  { ".svg", "image/svg+xml" },
  { ".png", "image/png" },
  { ".ico", "image/x-icon" },
  { ".woff2", "font/woff2" },
};

static bool
equals(const char *path, size_t len, const char *s)
{
  return len == strlen(s) && memcmp(path, s, len) == 0;
}

static bool
contains(const char *path, size_t len, const char *s)
{
  size_t n = strlen(s);
  for (size_t i = 0; i + n <= len; i++)
    if (memcmp(path + i, s, n) == 0)
      return true;
  return false;
}

const char *
tm_web_path_resolve(const char *path, size_t len, char *out, size_t cap)
{
  if (equals(path, len, "/") || equals(path, len, "/join")) {
    path = "/index.html";
    len = strlen(path);
  }
  if (len < 2 || len >= TM_WEB_PATH_MAX || cap < len || path[0] != '/' ||
      contains(path, len, "..") || contains(path, len, "//"))
    return NULL;
  for (size_t i = 0; i < len; i++)
    if ((unsigned char) path[i] < 0x20 || path[i] == 0x7f || path[i] == '\\')
      return NULL;
  for (size_t i = 0; i < sizeof web_types / sizeof web_types[0]; i++) {
    size_t n = strlen(web_types[i].suffix);
    if (len > n + 1 && memcmp(path + len - n, web_types[i].suffix, n) == 0) {
      memcpy(out, path + 1, len - 1);
      out[len - 1] = '\0';
      return web_types[i].type;
    }
  }
  return NULL;
}
