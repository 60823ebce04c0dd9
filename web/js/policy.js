// policy.js — what each participant currently sees, for the judge's table. This only DESCRIBES
// the relay's visibility policy (docs/hearings.md); the relay enforces it on every packet, and
// nothing here decides what anyone receives.

const SCREENED_FROM_WITNESS = new Set(['support', 'defendant', 'observer']);
const WITNESS_SEES = new Set(['judge', 'interpreter']);

/* Whether VIEWER receives SOURCE's video under MEASURES. Both are participant objects. */
export function seesVideo(viewer, source, measures) {
  if (viewer.id === source.id)
    return false;
  if (viewer.state === 'waiting' || source.state === 'waiting')
    return false;
  if (source.role === 'observer' || source.publishing === false || source.video === 'off')
    return false;
  if (measures && measures['screen-witness']) {
    if (source.role === 'witness' && SCREENED_FROM_WITNESS.has(viewer.role))
      return false;
    if (viewer.role === 'witness' && !WITNESS_SEES.has(source.role))
      return false;
  }
  return true;
}

/* [{participant, sees: [participants]}] for everyone in EVERYONE (which includes ourselves). */
export function whoSeesWhom(everyone, measures) {
  return everyone.map((viewer) => ({
    participant: viewer,
    sees: everyone.filter((source) => seesVideo(viewer, source, measures)),
  }));
}

/* Which remote tiles a witness's page shows: the witness sees the judge and interpreter large;
   when not screened, the others too (the relay decides what actually arrives). */
export function isStaff(role) {
  return role === 'judge' || role === 'clerk';
}
