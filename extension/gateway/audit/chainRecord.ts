import { GENESIS_HASH, isHashString, sha256Hex, type AuditRecord } from './auditRecord';
import { AuditRecordError } from './auditRecordError';
import { bodyTextOf, type AuditBody } from './buildAuditBody';
import { canonicalJson, canonicalMembers, joinMembers } from './canonicalJson';
import { jsonEqual } from './jsonEqual';

// The hash chain's one step (SPEC §8): spec-sensitive, so it lives alone where it is easy to
// read against the spec; auditWriter.ts decides only the order records are chained in.

/** The last hash made here (sha256 hex; genesis at first), so a prev_hash equal to it needs no check of its form. */
let lastHash = GENESIS_HASH;

/**
 * Adds prev_hash and hash; the line is checked to parse back to exactly the record.
 *
 * The body is serialised once, member by member (at append, by buildAuditBody, which cuts its
 * members where these two go): the hashed text (body + prev_hash) and the line (+ hash) are
 * those members with one or two more spliced in at their sorted places, which is what
 * canonicalJson of those objects writes. Other bodies (the writer's markers) are serialised
 * here and spliced the same way. The line's
 * self-check parses it back and compares it with the record, so a difference would refuse the
 * record, never write it. It does not re-serialise the parse: the members are canonicalJson's
 * own output and the two spliced in are hex strings, so the text is canonical by construction
 * (chainRecord.test.ts checks it against canonicalJson); that walk was a third of a record's cost.
 */
export function chainRecord(body: AuditBody, prevHash: string): { record: AuditRecord; line: string } {
  // The writer chains each record onto the hash made for the one before: known to be hex.
  if (!(prevHash === lastHash || isHashString(prevHash))) return chainRecordSlowly(body, prevHash);
  const prevMember = `"prev_hash":"${prevHash}"`;
  let hash: string;
  let line: string;
  // A body from buildAuditBody was serialised there, already cut where the two members go: reused, not walked again.
  const text = bodyTextOf(body);
  if (text) {
    const between = text.betweenHashes ? `${text.betweenHashes},` : '';
    hash = sha256Hex(`{${text.beforeHash},${between}${prevMember},${text.afterPrevHash}}`);
    line = `{${text.beforeHash},"hash":"${hash}",${between}${prevMember},${text.afterPrevHash}}`;
  } else {
    const members = canonicalMembers(body);
    if (members.has('prev_hash') || members.has('hash')) return chainRecordSlowly(body, prevHash);
    hash = sha256Hex(spliced(members, prevMember, undefined));
    line = spliced(members, prevMember, `"hash":"${hash}"`);
  }
  lastHash = hash;
  const record = { ...body, prev_hash: prevHash, hash } as unknown as AuditRecord;
  // The round-trip self-check (SPEC §13.3 "Defect T"), on the exact text about to be written.
  if (line.includes('\n') || !jsonEqual(JSON.parse(line), record)) {
    throw new AuditRecordError('serialised line does not parse back to the record');
  }
  return { record, line };
}

/**
 * The canonical object of `members` (in key order, as canonicalMembers makes them) with the
 * `prev_hash` member and, when given, the `hash` member added at their places in key order.
 */
function spliced(members: ReadonlyMap<string, string>, prevMember: string, hashMember: string | undefined): string {
  let out = '{';
  let pendingHash = hashMember;
  let pendingPrev: string | undefined = prevMember;
  for (const [key, text] of members) {
    if (pendingHash !== undefined && key > 'hash') {
      out += (out.length > 1 ? ',' : '') + pendingHash;
      pendingHash = undefined;
    }
    if (pendingPrev !== undefined && key > 'prev_hash') {
      out += (out.length > 1 ? ',' : '') + pendingPrev;
      pendingPrev = undefined;
    }
    out += (out.length > 1 ? ',' : '') + text;
  }
  if (pendingHash !== undefined) out += (out.length > 1 ? ',' : '') + pendingHash;
  if (pendingPrev !== undefined) out += (out.length > 1 ? ',' : '') + pendingPrev;
  return out + '}';
}

/** The general step, for a body that already carries prev_hash or hash (none the writer builds). */
function chainRecordSlowly(body: AuditBody, prevHash: string): { record: AuditRecord; line: string } {
  const members = canonicalMembers(body);
  members.set('prev_hash', `"prev_hash":${canonicalJson(prevHash)}`);
  const hash = sha256Hex(joinMembers(members));
  const record = { ...body, prev_hash: prevHash, hash } as unknown as AuditRecord;
  members.set('hash', `"hash":${canonicalJson(hash)}`);
  const line = joinMembers(members);
  const back: unknown = JSON.parse(line);
  if (line.includes('\n') || canonicalJson(back) !== line || !jsonEqual(back, record)) {
    throw new AuditRecordError('serialised line does not parse back to the record');
  }
  return { record, line };
}
