/* datadir.c — where a program finds its data files (see datadir.h). */
#include "datadir.h"

#include <string.h>

/* Set by meson (common/meson.build). */
#ifndef TM_BUILD_ROOT
#error "TM_BUILD_ROOT, TM_SOURCE_ROOT, TM_BINDIR, TM_DATADIR and TM_INSTALLED_DATADIR are needed"
#endif

static gboolean
is_under(const char *path, const char *dir)
{
  size_t n = strlen(dir);
  return strncmp(path, dir, n) == 0 && path[n] == G_DIR_SEPARATOR;
}

/* "../../" for each component of BINDIR (relative to the prefix), then DATADIR. */
static char *
relative_datadir(void)
{
  GString *rel = g_string_new(NULL);
  g_auto(GStrv) parts = g_strsplit(TM_BINDIR, "/", -1);
  for (char **p = parts; *p != NULL; p++)
    if (**p != '\0' && strcmp(*p, ".") != 0)
      g_string_append(rel, "../");
  g_string_append(rel, TM_DATADIR);
  return g_string_free(rel, FALSE);
}

char *
tm_datadir_find(const char *sub)
{
  g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
  if (exe != NULL && is_under(exe, TM_BUILD_ROOT))
    return g_build_filename(TM_SOURCE_ROOT, sub, NULL);
  if (exe != NULL && !g_path_is_absolute(TM_BINDIR) && !g_path_is_absolute(TM_DATADIR)) {
    g_autofree char *bindir = g_path_get_dirname(exe);
    g_autofree char *rel = relative_datadir();
    g_autofree char *path = g_build_filename(bindir, rel, "testimony", sub, NULL);
    return g_canonicalize_filename(path, NULL);
  }
  return g_build_filename(TM_INSTALLED_DATADIR, sub, NULL);
}
