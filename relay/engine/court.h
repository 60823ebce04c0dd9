/* court.h — the court's rules for the hearing's controls: who may use which one, and on whom.
 * Pure; the shell (relay/shell/control.c) carries the controls out. See docs/hearings.md. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "hearing.h"
#include "role.h"

#define TM_COURT_ROLE(r) (1u << (r))
#define TM_COURT_STAFF (TM_COURT_ROLE(TM_ROLE_JUDGE) | TM_COURT_ROLE(TM_ROLE_CLERK))
#define TM_COURT_JUDGE TM_COURT_ROLE(TM_ROLE_JUDGE)

typedef enum {
  TM_TARGET_NONE,     /* the control names no participant */
  TM_TARGET_WAITING,  /* someone in the waiting room */
  TM_TARGET_ADMITTED, /* someone in the hearing */
  TM_TARGET_ANY,
} TmControlTarget;

typedef struct {
  const char *action;
  guint roles; /* TM_COURT_ROLE bits; 0: only a participant itself, on itself */
  TmControlTarget target;
  const char *what; /* for refusals: "a witness may not WHAT" */
  bool audited;     /* carrying it out writes the audit log (and counts against the bound) */
} TmControlRule;

/* The rule for ACTION, or NULL when there is no such control. */
const TmControlRule *tm_court_rule(const char *action);
/* Every rule, in a fixed order; *N their number. */
const TmControlRule *tm_court_rules(gsize *n);

/* Whether someone with ROLE may use RULE; PARTICIPANT is false for a control session (which
 * has no microphone or camera of its own). When not, *WHY (g_free) says so for a person. */
bool tm_court_allows(const TmControlRule *rule, TmRole role, bool participant, char **why);
/* NULL when TARGET's state suits RULE, else why not. */
const char *tm_court_target_problem(const TmControlRule *rule, TmAdmission state);
