/* role.h — the roles of a hearing. */
#pragma once

#include <glib.h>

typedef enum {
  TM_ROLE_JUDGE,
  TM_ROLE_CLERK,
  TM_ROLE_WITNESS,
  TM_ROLE_SUPPORT,
  TM_ROLE_INTERPRETER,
  TM_ROLE_PROSECUTOR,
  TM_ROLE_DEFENCE,
  TM_ROLE_DEFENDANT,
  TM_ROLE_OBSERVER,
  TM_ROLE_COUNT
} TmRole;

/* "judge", "clerk", ... ; "unknown" for an out-of-range value. */
const char *tm_role_to_string(TmRole role);
/* Exact lower-case match; returns FALSE for anything else. */
gboolean tm_role_from_string(const char *s, TmRole *out);
