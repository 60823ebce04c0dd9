// policy.js — roles as the pages treat them. Who sees whom is the relay's to say (its
// `visibility` message, docs/protocol.md): the pages never compute it.

/* Judges and clerks run the hearing: they get the controls and the full who-sees-whom table. */
export function isStaff(role) {
  return role === 'judge' || role === 'clerk';
}
