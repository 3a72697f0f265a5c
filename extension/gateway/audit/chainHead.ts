import type { AuditBody } from './buildAuditBody';
import { isWellFormedString } from './canonicalJson';

// What (re)attaching to the file decides, and the evidence a chain-break marker carries about
// the tail it could not continue. Shared by the file (auditFile.ts), the writer (auditWriter.ts) and the anchor check
// (tailAnchorTracker.ts), so it lives apart from both.

/** Characters of a broken tail copied into the chain-break record, as evidence. */
const TAIL_EXCERPT_CHARS = 256;

/** Where the next write continues the chain, decided by (re)attaching to the file. */
export interface ChainHead {
  /** Written before the first record: `\n` when the file ends in a line cut short. */
  leading: string;
  /** Marker records (rotation, chain break) that go first. */
  markers: AuditBody[];
  /** prev_hash of the first record written. */
  prevHash: string;
}

export function tailEvidence(lastGood: string | null, known: string | undefined, broken: Buffer | undefined): Record<string, unknown> {
  let excerpt = broken ? broken.subarray(0, TAIL_EXCERPT_CHARS * 4).toString('utf8').slice(0, TAIL_EXCERPT_CHARS) : '';
  // A cut can leave half a surrogate pair; the record itself must stay canonicalisable.
  if (!isWellFormedString(excerpt)) excerpt = excerpt.replace(/[\uD800-\uDFFF]/g, '\uFFFD');
  return { last_good_hash: lastGood, expected_hash: known ?? null, broken_bytes: broken?.length ?? 0, excerpt };
}
