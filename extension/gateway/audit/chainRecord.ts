import { sha256Hex, type AuditRecord } from './auditRecord';
import { AuditRecordError } from './auditRecordError';
import type { AuditBody } from './buildAuditBody';
import { canonicalJson } from './canonicalJson';
import { jsonEqual } from './jsonEqual';

// The hash chain's one step (SPEC §8): spec-sensitive, so it lives alone where it is easy to
// read against the spec; auditLog.ts decides only the order records are chained in.

/** Adds prev_hash and hash; the line is checked to parse back to exactly the record. */
export function chainRecord(body: AuditBody, prevHash: string): { record: AuditRecord; line: string } {
  const unhashed = { ...body, prev_hash: prevHash };
  const hash = sha256Hex(canonicalJson(unhashed));
  const record = { ...unhashed, hash } as unknown as AuditRecord;
  const line = canonicalJson(record);
  // The round-trip self-check (SPEC §13.3 "Defect T"), on the exact text about to be written.
  const back: unknown = JSON.parse(line);
  if (line.includes('\n') || canonicalJson(back) !== line || !jsonEqual(back, record)) {
    throw new AuditRecordError('serialised line does not parse back to the record');
  }
  return { record, line };
}
