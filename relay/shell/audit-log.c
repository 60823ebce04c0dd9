/* audit-log.c — a hearing's audit log on disk: signed writes, and the check before continuing. */
#define G_LOG_DOMAIN "testimony-audit"

#include "audit-log.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "files.h"

struct _TmAuditLog {
  char *path;
  char *hearing_id;
  TmEvidenceKey *key;
  GHashTable *heads;
  TmAuditChain chain;
  gboolean closed;
};

static char *
now_utc(void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  return g_date_time_format(now, "%Y-%m-%dT%H:%M:%S.%fZ");
}

static char *
head_text(const TmAuditChain *chain)
{
  return g_strdup_printf("%" G_GUINT64_FORMAT ":%s", chain->seq, chain->last);
}

/* Appends LINES (whole lines) and the signature of the chain as it now stands — a checkpoint,
 * or the closing signature when END — in one synced write. */
static gboolean
commit_or_fail(TmAuditLog *log, GString *lines, gboolean end, GError **error)
{
  g_autofree char *text = tm_audit_signed_text(&log->chain, log->hearing_id, end);
  g_autoptr(GBytes) sig = tm_evidence_sign(log->key, text, strlen(text));
  gsize n = 0;
  const uint8_t *p = g_bytes_get_data(sig, &n);
  g_autofree char *line = tm_audit_signature_line(&log->chain, p, n, end);
  g_string_append_printf(lines, "%s\n", line);
  if (!tm_file_write(log->path, lines->str, lines->len, TM_WRITE_APPEND, 0600, error))
    return FALSE;
  if (log->heads != NULL)
    g_hash_table_replace(log->heads, g_strdup(log->hearing_id), head_text(&log->chain));
  return TRUE;
}

static void
commit(TmAuditLog *log, GString *lines, gboolean end)
{
  g_autoptr(GError) error = NULL;
  if (!commit_or_fail(log, lines, end, &error))
    g_critical("the audit log of hearing %s cannot be written: %s", log->hearing_id,
               error->message);
}

static void
add_entry(TmAuditLog *log, GString *lines, const char *actor, const char *action,
          const char *subject, const char *detail)
{
  g_autofree char *time = now_utc();
  g_autofree char *line = tm_audit_chain_append(&log->chain, time, actor, action, subject, detail);
  g_string_append_printf(lines, "%s\n", line);
}

static char *
stamped_path(const char *path, const char *what)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  g_autofree char *stamp = g_date_time_format(now, "%Y%m%dT%H%M%SZ");
  for (int n = 1;; n++) {
    char *p = n == 1 ? g_strdup_printf("%s.%s-%s", path, what, stamp)
                     : g_strdup_printf("%s.%s-%s-%d", path, what, stamp, n);
    if (!g_file_test(p, G_FILE_TEST_EXISTS))
      return p;
    g_free(p);
  }
}

/* Moves the bytes of PATH after OFFSET to a side file and cuts PATH there. Returns what to
 * record, or NULL (with a critical message) when it could not. */
static char *
set_aside_tail(const char *path, const char *text, size_t len, size_t offset, uint64_t entries)
{
  g_autofree char *side = stamped_path(path, "unsigned");
  g_autoptr(GError) error = NULL;
  if (!tm_file_write(side, text + offset, len - offset, TM_WRITE_NEW, 0600, &error) ||
      truncate(path, (off_t) offset) != 0) {
    g_critical("the audit log %s ends with %zu unsigned bytes that cannot be set aside: %s", path,
               len - offset, error != NULL ? error->message : g_strerror(errno));
    return NULL;
  }
  g_autofree char *sum =
    g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *) text + offset, len - offset);
  g_autofree char *base = g_path_get_basename(side);
  g_warning("the audit log %s ended with %zu bytes the relay had not signed; moved to %s", path,
            len - offset, side);
  return g_strdup_printf("%zu bytes after entry %" G_GUINT64_FORMAT " (the last signed checkpoint) "
                         "were not signed: a write the relay did not finish, or lines added "
                         "since; moved to %s (sha256 %s)",
                         len - offset, entries, base, sum);
}

/* Checks the existing log and leaves LOG's chain where it may continue. Returns an entry to
 * record about what was found (*ACTION, detail), or NULL when all is well. */
static char *
check_existing(TmAuditLog *log, const char **action)
{
  const char *remembered = g_hash_table_lookup(log->heads, log->hearing_id);
  g_autoptr(GMappedFile) mf = g_mapped_file_new(log->path, FALSE, NULL);
  if (mf == NULL) {
    *action = "audit-log-damaged";
    return remembered == NULL ? NULL
                              : g_strdup("the audit log this relay was writing is gone: deleted");
  }
  const char *text = g_mapped_file_get_contents(mf);
  size_t len = g_mapped_file_get_length(mf);
  if (len == 0)
    return NULL;
  TmAuditReport r;
  TmAuditError e =
    tm_audit_verify(text, len, tm_evidence_key_public(log->key), log->hearing_id, &r);
  g_autofree char *tail_note = NULL;
  if (e != TM_AUDIT_OK && e != TM_AUDIT_ERR_UNSIGNED && tm_audit_problem_in_tail(text, len, &r)) {
    tail_note = set_aside_tail(log->path, text, len, r.signed_bytes, r.checkpointed);
    if (tail_note != NULL)
      e = tm_audit_verify(text, r.signed_bytes, tm_evidence_key_public(log->key), log->hearing_id,
                          &r);
  }
  g_autofree char *head = head_text(&r.chain);
  /* Retention may have added its entries after the end this relay wrote. */
  g_autofree char *ended = r.signed_log && r.ended.seq > 0 ? head_text(&r.ended) : NULL;
  char *problem = NULL;
  if (e != TM_AUDIT_OK && e != TM_AUDIT_ERR_UNSIGNED)
    problem = g_strdup_printf("line %u: %s", r.line, tm_audit_strerror(e));
  else if (remembered != NULL && strcmp(remembered, head) != 0 &&
           (ended == NULL || strcmp(remembered, ended) != 0))
    problem = g_strdup_printf("it was cut short: this relay wrote up to entry %s, the file now "
                              "ends at entry %" G_GUINT64_FORMAT,
                              remembered, r.entries);
  if (problem == NULL) {
    log->chain = r.chain;
    log->closed = r.signed_log;
    *action = "audit-log-unsigned-tail";
    return g_steal_pointer(&tail_note);
  }
  g_autofree char *aside = stamped_path(log->path, "damaged");
  g_autofree char *base = g_path_get_basename(aside);
  if (g_rename(log->path, aside) != 0)
    g_critical("cannot move the damaged audit log %s aside: %s", log->path, g_strerror(errno));
  g_critical("the audit log %s does not verify (%s); it is kept as %s and a new log begins",
             log->path, problem, aside);
  *action = "audit-log-damaged";
  char *detail =
    g_strdup_printf("the previous log, kept as %s, does not verify: %s", base, problem);
  g_free(problem);
  return detail;
}

TmAuditLog *
tm_audit_log_open(const TmAuditLogConfig *config)
{
  TmAuditLog *log = g_new0(TmAuditLog, 1);
  log->path = g_strdup(config->path);
  log->hearing_id = g_strdup(config->hearing_id);
  log->key = config->key;
  log->heads = config->heads;
  tm_audit_chain_init(&log->chain);
  const char *action = NULL;
  g_autofree char *finding = check_existing(log, &action);
  if (log->closed)
    return log; /* the hearing ended: nothing more is written */
  gboolean continuing = log->chain.seq > 0;
  g_autoptr(GString) lines = g_string_new(NULL);
  if (log->chain.seq == 0) {
    g_autofree char *time = now_utc();
    g_autofree char *open =
      tm_audit_chain_open(&log->chain, time, config->hearing_id, config->case_number,
                          tm_evidence_key_public(config->key));
    g_string_append_printf(lines, "%s\n", open);
  }
  if (finding != NULL)
    add_entry(log, lines, "relay", action, "", finding);
  add_entry(log, lines, "relay", "relay-opened-hearing", "",
            continuing ? "continuing the existing audit log" : "");
  commit(log, lines, FALSE);
  return log;
}

void
tm_audit_log_free(TmAuditLog *log)
{
  if (log == NULL)
    return;
  g_free(log->path);
  g_free(log->hearing_id);
  g_free(log);
}

void
tm_audit_log_write(TmAuditLog *log, const char *actor, const char *action, const char *subject,
                   const char *detail)
{
  if (log->closed) {
    g_warning("hearing %s has ended; not auditing \"%s\"", log->hearing_id, action);
    return;
  }
  g_autoptr(GString) lines = g_string_new(NULL);
  add_entry(log, lines, actor, action, subject, detail);
  commit(log, lines, FALSE);
}

void
tm_audit_log_close(TmAuditLog *log)
{
  if (log->closed)
    return;
  g_autoptr(GString) lines = g_string_new(NULL);
  commit(log, lines, TRUE);
  log->closed = TRUE;
}

gboolean
tm_audit_log_closed(const TmAuditLog *log)
{
  return log->closed;
}

/* The chain of the closed log at PATH, checked with KEY. */
static gboolean
check_ended(const char *path, const char *hearing_id, TmEvidenceKey *key, TmAuditChain *chain,
            GError **error)
{
  g_autoptr(GMappedFile) mf = g_mapped_file_new(path, FALSE, error);
  if (mf == NULL)
    return FALSE;
  TmAuditReport r;
  TmAuditError e = tm_audit_verify(g_mapped_file_get_contents(mf), g_mapped_file_get_length(mf),
                                   tm_evidence_key_public(key), hearing_id, &r);
  if (e == TM_AUDIT_ERR_UNSIGNED) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
                "hearing %s has not ended (its audit log is not closed)", hearing_id);
    return FALSE;
  }
  if (e != TM_AUDIT_OK) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "the audit log %s does not verify: line %u: %s", path, r.line,
                tm_audit_strerror(e));
    return FALSE;
  }
  *chain = r.chain;
  return TRUE;
}

gboolean
tm_audit_log_check_ended(const char *path, const char *hearing_id, TmEvidenceKey *key,
                         GError **error)
{
  TmAuditChain chain;
  return check_ended(path, hearing_id, key, &chain, error);
}

gboolean
tm_audit_log_append_ended(const char *path, const char *hearing_id, TmEvidenceKey *key,
                          const char *actor, const char *subject, const char *detail,
                          GError **error)
{
  TmAuditLog log = {
    .path = (char *) path,
    .hearing_id = (char *) hearing_id,
    .key = key,
  };
  if (!check_ended(path, hearing_id, key, &log.chain, error))
    return FALSE;
  g_autoptr(GString) lines = g_string_new(NULL);
  add_entry(&log, lines, actor, TM_AUDIT_AFTER_END_ACTION, subject, detail);
  return commit_or_fail(&log, lines, TRUE, error);
}
