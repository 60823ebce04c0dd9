/* files.c — durable writes. */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

gboolean
tm_file_write(const char *path, const void *data, gsize len, TmWriteMode how, int perms,
              GError **error)
{
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC;
  flags |= how == TM_WRITE_APPEND ? O_APPEND : how == TM_WRITE_NEW ? O_EXCL : O_TRUNC;
  int fd = g_open(path, flags, perms);
  if (fd < 0) {
    int e = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot create %s: %s", path,
                g_strerror(e));
    return FALSE;
  }
  gboolean ok = write(fd, data, len) == (ssize_t) len && fsync(fd) == 0;
  int e = errno;
  close(fd);
  if (!ok)
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot write %s: %s", path,
                g_strerror(e));
  return ok;
}

gboolean
tm_file_check_private(const char *path, int denied, GError **error)
{
  GStatBuf st;
  if (g_stat(path, &st) != 0 || (st.st_mode & denied) == 0)
    return TRUE;
  g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_PERM,
              "%s can be read by %s (mode %03o); make it %s (chmod %s) and check whether the "
              "key has leaked",
              path, denied == 077 ? "other users" : "any user", (unsigned) (st.st_mode & 0777),
              denied == 077 ? "0600" : "0640 or 0600", denied == 077 ? "600" : "o-rwx");
  return FALSE;
}
