/* audit-log.h — one hearing's audit log on disk (STATE/hearings/ID.audit.jsonl, format in
 * relay/engine/audit.h and docs/audit-log.md).
 *
 * Every write appends its entries and a checkpoint signed by the evidence key in one synced
 * write, so nothing in the log rests on bytes the relay did not sign when it wrote them. When a
 * hearing's room opens again (after a break or a restart) the log is checked against the
 * evidence key before anything is added:
 *   - a log that does not verify (an entry altered, inserted or removed before a checkpoint, or a
 *     log of another hearing or key) is kept aside as ID.audit.jsonl.damaged-STAMP and a new log
 *     begins whose second entry says so;
 *   - bytes after the last signed checkpoint (a write the relay did not finish, or lines added
 *     since) are moved to ID.audit.jsonl.unsigned-STAMP and an entry names them;
 *   - a log shorter than what this relay process last wrote to it (or gone) counts as damaged.
 * The relay remembers the chain head it last wrote for every hearing while it runs (HEADS). */
#pragma once

#include <glib.h>

#include "evidence.h"

typedef struct _TmAuditLog TmAuditLog;

typedef struct {
  const char *path;
  const char *hearing_id;
  const char *case_number;
  TmEvidenceKey *key;
  GHashTable *heads; /* hearing id -> "SEQ:HASH" last written; owned by the caller */
} TmAuditLogConfig;

/* Opens the log, checking and continuing an existing one or starting a new one, and records
 * that the relay opened the hearing. Never fails: problems go into the log and the journal. */
TmAuditLog *tm_audit_log_open(const TmAuditLogConfig *config);
void tm_audit_log_free(TmAuditLog *log);

/* Appends one entry and its checkpoint. Does nothing once the log is closed. */
void tm_audit_log_write(TmAuditLog *log, const char *actor, const char *action, const char *subject,
                        const char *detail);
/* Appends the closing signature: the hearing ended; nothing may follow. */
void tm_audit_log_close(TmAuditLog *log);
gboolean tm_audit_log_closed(const TmAuditLog *log);

/* TRUE when the log at PATH verifies with KEY and is closed: the hearing has ended. Else an
 * error: G_IO_ERROR_BUSY when it has not ended, G_IO_ERROR_INVALID_DATA when it does not
 * verify, a file error when it cannot be read. */
gboolean tm_audit_log_check_ended(const char *path, const char *hearing_id, TmEvidenceKey *key,
                                  GError **error);
/* For a hearing that has ended: checks its log at PATH with KEY (it must verify and be closed),
 * then appends one TM_AUDIT_AFTER_END_ACTION entry and a new closing signature in one synced
 * write, so the chain continues and verifies (`testimony-relay retention`). Not for a log the
 * relay may be writing: the hearing must have ended. */
gboolean tm_audit_log_append_ended(const char *path, const char *hearing_id, TmEvidenceKey *key,
                                   const char *actor, const char *subject, const char *detail,
                                   GError **error);
