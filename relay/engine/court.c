/* court.c — the table of the hearing's controls and who may use them. */
#include "court.h"

#include <string.h>

static const TmControlRule rules[] = {
  { "waiting", TM_COURT_STAFF, TM_TARGET_NONE, "see the waiting room", false },
  { "admit", TM_COURT_STAFF, TM_TARGET_WAITING, "admit anyone", true },
  { "refuse", TM_COURT_STAFF, TM_TARGET_WAITING, "refuse anyone", true },
  { "to-waiting", TM_COURT_JUDGE, TM_TARGET_ADMITTED, "send anyone to the waiting room", true },
  { "mute", TM_COURT_JUDGE, TM_TARGET_ANY, "mute anyone", true },
  { "unmute-request", TM_COURT_JUDGE, TM_TARGET_ANY, "ask anyone to unmute", true },
  { "video-off", TM_COURT_JUDGE, TM_TARGET_ANY, "stop anyone's video", true },
  { "remove", TM_COURT_JUDGE, TM_TARGET_ANY, "remove anyone", true },
  { "protect", TM_COURT_JUDGE, TM_TARGET_NONE, "change protective measures", true },
  { "lock", TM_COURT_JUDGE, TM_TARGET_NONE, "lock the hearing", true },
  { "unlock", TM_COURT_JUDGE, TM_TARGET_NONE, "unlock the hearing", true },
  { "end", TM_COURT_JUDGE, TM_TARGET_NONE, "end the hearing", true },
  { "record", TM_COURT_STAFF, TM_TARGET_NONE, "control the recording", true },
  { "mark", TM_COURT_STAFF, TM_TARGET_NONE, "mark the recording", true },
  { "unmute", 0, TM_TARGET_NONE, "unmute: a control session has no microphone", true },
  { "video-on", 0, TM_TARGET_NONE, "start video: a control session has no camera", true },
};

const TmControlRule *
tm_court_rule(const char *action)
{
  for (gsize i = 0; action != NULL && i < G_N_ELEMENTS(rules); i++)
    if (strcmp(rules[i].action, action) == 0)
      return &rules[i];
  return NULL;
}

const TmControlRule *
tm_court_rules(gsize *n)
{
  *n = G_N_ELEMENTS(rules);
  return rules;
}

bool
tm_court_allows(const TmControlRule *rule, TmRole role, bool participant, char **why)
{
  bool ok = rule->roles == 0 ? participant : (rule->roles & TM_COURT_ROLE(role)) != 0;
  if (!ok && why != NULL)
    *why = g_strdup_printf("a %s may not %s%s", tm_role_to_string(role), rule->what,
                           rule->roles == TM_COURT_JUDGE     ? "; only a judge may"
                             : rule->roles == TM_COURT_STAFF ? "; only a judge or clerk may"
                                                             : "");
  return ok;
}

const char *
tm_court_target_problem(const TmControlRule *rule, TmAdmission state)
{
  if (rule->target == TM_TARGET_WAITING && state != TM_STATE_WAITING)
    return "that participant is not waiting";
  if (rule->target == TM_TARGET_ADMITTED && state != TM_STATE_ADMITTED)
    return "that participant is not admitted";
  return NULL;
}
