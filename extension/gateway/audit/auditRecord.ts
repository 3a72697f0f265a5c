import * as crypto from 'node:crypto';
import type { AutonomyLevel } from '../../config/policySchema';
import type { CallStatus, Tier } from '../chain/callContext';
import { canonicalJson } from './canonicalJson';

/** The audit file's name in the config directory (rea's name, SPEC §8.1). */
export const AUDIT_FILE_NAME = 'audit.jsonl';

/** `prev_hash` of the first record of a chain (rea's genesis, SPEC §8.2). */
export const GENESIS_HASH = '0'.repeat(64);

/** Largest serialised record accepted; keeps every line readable by the bounded tail reader. */
export const MAX_RECORD_BYTES = 1024 * 1024;

/** `server_name` of records the gateway writes about itself (rotation, chain breaks, freeze). */
export const GATEWAY_SERVER_NAME = 'gatehouse';

/** `tool_name` of the first record of a segment started after a rotation. */
export const ROTATION_TOOL_NAME = 'audit.rotation';

/**
 * `tool_name` of the record the writer adds when `audit.jsonl` is shorter than its tail anchor
 * says (records removed at the end); chained to what is left, with how many are missing.
 */
export const TAIL_CUT_TOOL_NAME = 'audit.tail_cut';

/** `tool_name` of the record that starts a new chain after a corrupt or truncated tail. */
export const CHAIN_BREAK_TOOL_NAME = 'audit_chain_break';

/**
 * Who wrote a record (SPEC §13.3 "Defect P"). `gateway`: the gateway itself (health,
 * SESSION_BLOCKER, fingerprint decisions, freeze/unfreeze, rotation and chain-break markers).
 * `proxy`: a tool call a client sent through the gateway, including calls refused before the
 * chain. The field is hashed, so editing it breaks the chain.
 */
export type EmissionSource = 'gateway' | 'proxy';

/**
 * The autonomy level a record carries: a policy level, `unknown` when none was known, or
 * `system` for the writer's own markers (rea's value for its rotation marker).
 */
export type AuditAutonomyLevel = AutonomyLevel | 'unknown' | 'system';

/**
 * One line of `audit.jsonl` (SPEC §8.1 plus `emission_source`). On disk the keys are in
 * canonical (sorted) order; `hash` = sha256 hex of the canonical JSON of every other field.
 */
export interface AuditRecord {
  /** ISO time the record was queued (calls: when the call finished). */
  timestamp: string;
  session_id: string;
  tool_name: string;
  server_name: string;
  tier: Tier;
  status: CallStatus;
  autonomy_level: AuditAutonomyLevel;
  duration_ms: number;
  emission_source: EmissionSource;
  /** `hash` of the previous record, or {@link GENESIS_HASH}. */
  prev_hash: string;
  hash: string;
  /** Already redacted, capped text (the writer stores what it is given). */
  error?: string;
  /**
   * What the redaction layers report in `metadata.redacted_fields`: the paths of the values
   * they replaced (`arguments.token`, `result.content[0].text`), never the values. (rea put
   * pattern names here; Gatehouse keeps those in `metadata.redacted_patterns`.)
   */
  redacted_fields?: string[];
  metadata?: Record<string, unknown>;
}

/**
 * What a caller hands to `AuditLog.append`. The writer adds `timestamp`, `prev_hash` and
 * `hash`; optional fields take rea's helper defaults (SPEC §8.1): tier `read`, status
 * `allowed`, autonomy `unknown`, duration 0, the log's session id. `emission_source` defaults
 * to `proxy`, the less trusted value: a record claims to come from the gateway only when its
 * writer says so.
 */
export interface AuditInput {
  tool_name: string;
  server_name: string;
  session_id?: string;
  tier?: Tier;
  status?: CallStatus;
  autonomy_level?: AuditAutonomyLevel;
  duration_ms?: number;
  emission_source?: EmissionSource;
  error?: string;
  redacted_fields?: readonly string[];
  metadata?: Readonly<Record<string, unknown>>;
}

/** sha256 hex of the canonical JSON of `body` (a record without `hash`). */
export function hashRecordBody(body: Readonly<Record<string, unknown>>): string {
  return sha256Hex(canonicalJson(body));
}

// One-shot hashing (Node >= 20.12) skips the Hash object a createHash chain builds per record;
// older runtimes keep the chain.
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

/** sha256 hex of a UTF-8 string. */
export function sha256Hex(text: string): string {
  return oneShotHash ? oneShotHash('sha256', text, 'hex') : crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}

/** True for a 64-character lower-case hex string. */
export function isHashString(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
}
