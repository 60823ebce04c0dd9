/* files.h — durable writes for the shell: keys, records and logs reach the disk before the call
 * returns (fsync), with a message a person can read when they do not. */
#pragma once

#include <glib.h>

typedef enum {
  TM_WRITE_REPLACE, /* create or truncate */
  TM_WRITE_APPEND,  /* create or append */
  TM_WRITE_NEW,     /* create; fail if it exists */
} TmWriteMode;

/* Writes LEN bytes of DATA to PATH (created with permissions PERMS) and syncs them. */
gboolean tm_file_write(const char *path, const void *data, gsize len, TmWriteMode how, int perms,
                       GError **error);

/* Refuses a secret file that users it should not reach can read: DENIED is the mode bits that
 * must be clear (077: owner only; 007: not other users, e.g. a TLS key readable by the ssl-cert
 * group). A missing file passes (the caller creates or reports it). */
gboolean tm_file_check_private(const char *path, int denied, GError **error);
