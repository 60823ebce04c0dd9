/* datadir.h — where a program of the product finds its data files (the court's web pages,
 * pipeline descriptions).
 *
 * Run from the build tree (development), a program uses the source tree's copy. Installed, it uses
 * the installed copy only: DATADIR/testimony/SUB found from where the program itself lies
 * (BINDIR/../share/testimony/SUB for the usual layout), so a package staged in a scratch
 * directory (meson install --destdir) or moved elsewhere finds its own files, never a source
 * checkout's. */
#pragma once

#include <glib.h>

/* The directory of the data SUB ("web", "pipelines"), which may not exist. g_free. */
char *tm_datadir_find(const char *sub);
