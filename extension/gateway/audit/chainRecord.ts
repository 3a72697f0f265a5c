import { sha256Hex, type AuditRecord } from './auditRecord';
import { AuditRecordError } from './auditRecordError';
import { membersOf, type AuditBody } from './buildAuditBody';
import { canonicalJson, canonicalMembers, joinMembers } from './canonicalJson';
import { jsonEqual } from './jsonEqual';

// The hash chain's one step (SPEC §8): spec-sensitive, so it lives alone where it is easy to
// read against the spec; auditLog.ts decides only the order records are chained in.

/**
 * Adds prev_hash and hash; the line is checked to parse back to exactly the record.
 *
 * The body is serialised once, member by member (at append, by buildAuditBody): the hashed text (body + prev_hash) and the
 * line (+ hash) are the same members joined, which is what canonicalJson of those objects
 * writes. The line's self-check re-serialises what it parses back, so a difference would refuse
 * the record, never write it.
 */
export function chainRecord(body: AuditBody, prevHash: string): { record: AuditRecord; line: string } {
  const unhashed = { ...body, prev_hash: prevHash };
  // A body from buildAuditBody was serialised there, member by member: copied, not walked again.
  const known = membersOf(body);
  const members = known ? new Map(known) : canonicalMembers(body);
  members.set('prev_hash', `"prev_hash":${canonicalJson(prevHash)}`);
  const hash = sha256Hex(joinMembers(members));
  const record = { ...unhashed, hash } as unknown as AuditRecord;
  members.set('hash', `"hash":${canonicalJson(hash)}`);
  const line = joinMembers(members);
  // The round-trip self-check (SPEC §13.3 "Defect T"), on the exact text about to be written.
  const back: unknown = JSON.parse(line);
  if (line.includes('\n') || canonicalJson(back) !== line || !jsonEqual(back, record)) {
    throw new AuditRecordError('serialised line does not parse back to the record');
  }
  return { record, line };
}
