/* fuzz-audit.c — tm_audit_verify() on arbitrary bytes; an accepted prefix must re-chain. */
#include <stdint.h>
#include <stdlib.h>

#include "audit.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  TmAuditReport r;
  TmAuditError e = tm_audit_verify((const char *) data, size, NULL, &r);
  if ((unsigned) e >= TM_AUDIT_ERR_COUNT || e != r.error)
    abort();
  if (e == TM_AUDIT_OK && !r.signed_log)
    abort();
  if (e != TM_AUDIT_OK && e != TM_AUDIT_ERR_UNSIGNED && e != TM_AUDIT_ERR_TOO_LARGE && r.line == 0)
    abort();
  return 0;
}
