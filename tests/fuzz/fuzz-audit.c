/* fuzz-audit.c — tm_audit_verify() on arbitrary bytes: a verdict in range with a line for every
 * problem, and the signed part it reports verifies again on its own. */
#include <stdint.h>
#include <stdlib.h>

#include "audit.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  TmAuditReport r;
  const char *text = (const char *) data;
  TmAuditError e = tm_audit_verify(text, size, NULL, NULL, &r);
  if ((unsigned) e >= TM_AUDIT_ERR_COUNT || e != r.error)
    abort();
  if (e == TM_AUDIT_OK && !r.signed_log)
    abort();
  if (e != TM_AUDIT_OK && e != TM_AUDIT_ERR_UNSIGNED && r.line == 0)
    abort();
  if (r.signed_bytes > size || r.checkpointed > r.entries)
    abort();
  if (tm_audit_problem_in_tail(text, size, &r)) {
    TmAuditReport again;
    if (tm_audit_verify(text, r.signed_bytes, NULL, NULL, &again) != TM_AUDIT_ERR_UNSIGNED ||
        again.entries != r.checkpointed)
      abort();
  }
  return 0;
}
