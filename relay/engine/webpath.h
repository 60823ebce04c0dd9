/* webpath.h — which file of the court's web directory a request path names, if any.
 *
 * Pure: the shell joins the result to the web directory and reads the file. A path is served
 * only when it is absolute, shorter than TM_WEB_PATH_MAX, has a known suffix, and has no "..",
 * "//", backslash, NUL or control character; "/" and "/join" are the join page. */
#pragma once

#include <stddef.h>

#define TM_WEB_PATH_MAX 256

/* Writes the file's path relative to the web directory into OUT (CAP ≥ TM_WEB_PATH_MAX) and
 * returns its Content-Type, or returns NULL when PATH (LEN bytes, not NUL-terminated) is not
 * served. */
const char *tm_web_path_resolve(const char *path, size_t len, char *out, size_t cap);
