/* retention.h — `testimony-relay retention` (docs/operations.md): finished recordings of ended
 * hearings that ended before a cut-off are deleted, or moved to an archive, after an entry in
 * the hearing's audit log names each one and the SHA-256 of its signed manifest. Recordings not
 * finished, of hearings not ended, or whose manifest or audit log does not verify with the
 * relay's evidence key are left alone and named. */
#pragma once

#include <glib.h>
#include <stdint.h>

typedef struct {
  const char *state_dir;
  const char *archive_dir; /* NULL: delete */
  const char *age_text;    /* as given (90d), for the audit entry */
  int64_t cutoff_us;       /* UTC µs: recordings that ended before it go */
  gboolean dry_run;        /* say what would go; change nothing */
} TmRetentionOptions;

/* "90d", "12h", "30m", "45s" → microseconds. */
gboolean tm_retention_parse_age(const char *text, int64_t *us, GError **error);
/* Exit status: 0 done, 1 some recording could not be handled (named), 2 cannot start. */
int tm_retention_run(const TmRetentionOptions *opt);
