import { canonicalJson } from './canonicalJson';
import { isHashString, sha256Hex } from './auditRecord';

/** Why one line of an audit file is not a valid record on its own. */
export type LineProblem =
  | 'empty_line'
  | 'unparseable'
  | 'not_an_object'
  | 'missing_hash'
  | 'missing_prev_hash'
  | 'hash_mismatch';

/** A line that is a self-consistent record (its hash recomputes). */
export interface ValidLine {
  ok: true;
  record: Record<string, unknown>;
  hash: string;
  prevHash: string;
  /**
   * `canonical`: hashed over sorted-key JSON (Gatehouse). `legacy`: hashed over the line's own
   * key order, as rea writes it (SPEC §8.2) — accepted so a `.rea/` log written by rea before
   * Gatehouse took over verifies and its chain is continued, not broken.
   */
  scheme: 'canonical' | 'legacy';
}

/** A line that is not a valid record. `expected`/`found` are set for a hash mismatch. */
export interface InvalidLine {
  ok: false;
  reason: LineProblem;
  message: string;
  /** The record, when the line parsed to an object. */
  record?: Record<string, unknown>;
  /** The `hash` the line claims, when it has a well-formed one. */
  hash?: string;
  /** The `prev_hash` the line claims, when it has a well-formed one. */
  prevHash?: string;
  expected?: string;
  found?: string;
}

/** The verdict on one line. */
export type LineCheck = ValidLine | InvalidLine;

/**
 * Checks one line (without its `\n`) on its own: it parses to an object, carries a well-formed
 * `hash` and `prev_hash`, and the hash recomputes. The link to the previous line is the
 * caller's business (tail recovery and `verify` both use this).
 */
export function checkAuditLine(text: string): LineCheck {
  if (text.length === 0) return { ok: false, reason: 'empty_line', message: 'empty line' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: 'unparseable', message: `not JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, reason: 'not_an_object', message: 'line is JSON but not an object' };
  }
  const record = parsed as Record<string, unknown>;
  const { hash, ...body } = record;
  const prevHash = isHashString(record.prev_hash) ? record.prev_hash : undefined;
  if (!isHashString(hash)) {
    return { ok: false, reason: 'missing_hash', message: 'no 64-hex-digit "hash" field', record, prevHash };
  }
  if (prevHash === undefined) {
    return { ok: false, reason: 'missing_prev_hash', message: 'no 64-hex-digit "prev_hash" field', record, hash };
  }
  let canonical: string | undefined;
  try {
    canonical = sha256Hex(canonicalJson(body));
  } catch {
    // Not canonicalisable (e.g. an escaped lone surrogate): only the legacy form can match.
  }
  if (canonical === hash) return { ok: true, record, hash, prevHash, scheme: 'canonical' };
  // JSON.parse keeps the line's key order (apart from integer-like keys), so this reproduces
  // rea's `JSON.stringify(recordWithoutHash)`.
  if (sha256Hex(JSON.stringify(body)) === hash) return { ok: true, record, hash, prevHash, scheme: 'legacy' };
  return {
    ok: false,
    reason: 'hash_mismatch',
    message: `hash does not match the record's content (recomputed ${canonical ?? '(not canonicalisable)'}, stored ${hash})`,
    record,
    hash,
    prevHash,
    expected: canonical ?? '(not canonicalisable)',
    found: hash,
  };
}
