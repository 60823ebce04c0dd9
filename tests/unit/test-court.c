/* test-court.c — who may use which control: every role against every control, the refusal a
 * person reads, and which state a target must be in. */
#include <glib.h>
#include <string.h>

#include "court.h"

/* The court's practice, written out role by role (docs/hearings.md). */
static bool
expected(const char *action, TmRole role, bool participant)
{
  static const char *const judge_only[] = {
    "to-waiting", "mute", "unmute-request", "video-off", "remove",
    "protect",    "lock", "unlock",         "end",       NULL,
  };
  static const char *const staff[] = { "waiting", "admit", "refuse", "record", "mark", NULL };
  if (strcmp(action, "unmute") == 0 || strcmp(action, "video-on") == 0)
    return participant; /* anyone, on themselves; a control session has no media */
  if (g_strv_contains(judge_only, action))
    return role == TM_ROLE_JUDGE;
  g_assert_true(g_strv_contains(staff, action));
  return role == TM_ROLE_JUDGE || role == TM_ROLE_CLERK;
}

static void
test_every_role(void)
{
  gsize n;
  const TmControlRule *rules = tm_court_rules(&n);
  g_assert_cmpuint(n, ==, 16);
  for (gsize i = 0; i < n; i++) {
    g_assert_true(tm_court_rule(rules[i].action) == &rules[i]);
    for (int role = 0; role < TM_ROLE_COUNT; role++) {
      for (int participant = 0; participant < 2; participant++) {
        char *why = NULL;
        bool ok = tm_court_allows(&rules[i], role, participant, &why);
        g_assert_cmpint(ok, ==, expected(rules[i].action, role, participant));
        g_assert_true(ok == (why == NULL));
        if (why != NULL)
          g_assert_true(g_str_has_prefix(why, "a ") && strstr(why, tm_role_to_string(role)));
        g_free(why);
      }
    }
  }
  g_assert_null(tm_court_rule("nonsense"));
  g_assert_null(tm_court_rule(NULL));
}

static void
test_messages_and_targets(void)
{
  char *why = NULL;
  g_assert_false(tm_court_allows(tm_court_rule("mute"), TM_ROLE_CLERK, true, &why));
  g_assert_cmpstr(why, ==, "a clerk may not mute anyone; only a judge may");
  g_free(why);
  g_assert_false(tm_court_allows(tm_court_rule("admit"), TM_ROLE_DEFENDANT, true, &why));
  g_assert_cmpstr(why, ==, "a defendant may not admit anyone; only a judge or clerk may");
  g_free(why);
  g_assert_false(tm_court_allows(tm_court_rule("unmute"), TM_ROLE_JUDGE, false, &why));
  g_assert_cmpstr(why, ==, "a judge may not unmute: a control session has no microphone");
  g_free(why);
  g_assert_null(tm_court_target_problem(tm_court_rule("admit"), TM_STATE_WAITING));
  g_assert_nonnull(tm_court_target_problem(tm_court_rule("admit"), TM_STATE_ADMITTED));
  g_assert_null(tm_court_target_problem(tm_court_rule("to-waiting"), TM_STATE_ADMITTED));
  g_assert_nonnull(tm_court_target_problem(tm_court_rule("to-waiting"), TM_STATE_WAITING));
  g_assert_null(tm_court_target_problem(tm_court_rule("mute"), TM_STATE_WAITING));
  g_assert_false(tm_court_rule("waiting")->audited);
  g_assert_true(tm_court_rule("mark")->audited);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/court/every-role", test_every_role);
  g_test_add_func("/court/messages-and-targets", test_messages_and_targets);
  return g_test_run();
}
