// Used by both record checks (buildAuditBody.ts at append, chainRecord.ts at write time), so
// it lives on its own. It is not state/store.ts's jsonEqual: that one counts NaN equal to NaN
// (a latency), which a JSON round-trip check must not.

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Structural equality over JSON values, with `undefined` object properties counting as absent
 * (they are not serialised) and `-0 === 0` (JSON has one zero).
 *
 * Runs twice per audit record, so it is written as plain loops: no filtered key arrays and no
 * callbacks per object. It reads `b` (the caller's side, where a getter or proxy may answer
 * differently each time) exactly as the filter-and-every form did: its keys once, each value once
 * to count the defined ones, then `hasOwn` and the value again per compared key, in `a`'s key
 * order, stopping at the first difference. `a` is a JSON.parse result at both call sites (plain
 * data), so how often its values are read does not matter.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    // As `every`: holes of `a` are skipped.
    for (let i = 0; i < a.length; i++) if (i in a && !jsonEqual(a[i], bb[i])) return false;
    return true;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao);
  let defined = 0;
  for (let i = 0; i < ak.length; i++) if (ao[ak[i]!] !== undefined) defined++;
  const bk = Object.keys(bo);
  for (let i = 0; i < bk.length; i++) if (bo[bk[i]!] !== undefined) defined--;
  if (defined !== 0) return false;
  for (let i = 0; i < ak.length; i++) {
    const k = ak[i]!;
    const v = ao[k];
    if (v === undefined) continue;
    if (!hasOwn.call(bo, k) || !jsonEqual(v, bo[k])) return false;
  }
  return true;
}
