/* role.c — the roles of a hearing and their wire names. */
#include "role.h"

#include <string.h>

static const char *const role_names[TM_ROLE_COUNT] = {
  [TM_ROLE_JUDGE] = "judge",
  [TM_ROLE_CLERK] = "clerk",
  [TM_ROLE_WITNESS] = "witness",
  [TM_ROLE_SUPPORT] = "support",
  [TM_ROLE_INTERPRETER] = "interpreter",
  [TM_ROLE_PROSECUTOR] = "prosecutor",
  [TM_ROLE_DEFENCE] = "defence",
  [TM_ROLE_DEFENDANT] = "defendant",
  [TM_ROLE_OBSERVER] = "observer",
};

const char *
tm_role_to_string(TmRole role)
{
  if ((unsigned) role >= TM_ROLE_COUNT)
    return "unknown";
  return role_names[role];
}

gboolean
tm_role_from_string(const char *s, TmRole *out)
{
  if (s == NULL)
    return FALSE;
  for (unsigned i = 0; i < TM_ROLE_COUNT; i++) {
    if (strcmp(s, role_names[i]) == 0) {
      if (out != NULL)
        *out = (TmRole) i;
      return TRUE;
    }
  }
  return FALSE;
}
