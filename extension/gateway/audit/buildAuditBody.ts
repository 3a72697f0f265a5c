import { MAX_RECORD_BYTES, type AuditInput } from './auditRecord';
import { AuditRecordError } from './auditRecordError';
import { canonicalMemberRuns } from './canonicalJson';
import { jsonEqual } from './jsonEqual';

// The check every record passes before it is queued. Apart from auditLog.ts because it is a
// pure function of the input, the time and the default session: the writer only supplies them.
// Field order here is the record's field order on disk (canonical JSON sorts keys anyway).

/** A record without prev_hash and hash, as queued. */
export type AuditBody = Record<string, unknown>;

const TIERS: ReadonlySet<string> = new Set(['read', 'write', 'destructive']);
const STATUSES: ReadonlySet<string> = new Set(['allowed', 'denied', 'error']);
const SOURCES: ReadonlySet<string> = new Set(['gateway', 'proxy']);

/**
 * A body's canonical JSON members in three runs, split where the hash chain adds its two
 * (`hash`, `prev_hash`) in key order: the members before `hash`, those between, those after
 * `prev_hash`, each comma-separated. The first and last are never empty (autonomy_level and
 * server_name are always there); the middle one may be.
 */
export interface BodyText {
  beforeHash: string;
  betweenHashes: string;
  afterPrevHash: string;
}

/**
 * Every key a body built here can have, sorted (as canonical JSON orders them) and cut where
 * `hash` and `prev_hash` go, so it is serialised without reading or sorting its key list. A key
 * added to the body below and not here would be missing from the text, and the round-trip check
 * would then refuse every record: loudly, never a line written without it.
 */
const BODY_KEY_RUNS: ReadonlyArray<readonly string[]> = [
  ['autonomy_level', 'duration_ms', 'emission_source', 'error'],
  ['metadata'],
  ['redacted_fields', 'server_name', 'session_id', 'status', 'tier', 'timestamp', 'tool_name'],
];

/**
 * Where each body built here keeps its canonical text for the hash chain (see {@link bodyTextOf}):
 * a non-enumerable symbol property, which Object.keys, JSON, spread copies and jsonEqual do not
 * see. (A WeakMap entry per record cost more in GC than the property.)
 */
const BODY_TEXT = Symbol('auditBodyText');

/**
 * The canonical JSON this check wrote of a body it returned, so that chaining it
 * (chainRecord.ts) does not serialise it again; undefined for any other object. The chain's
 * own check of the written line still parses it back and compares it with the record.
 */
export function bodyTextOf(body: AuditBody): BodyText | undefined {
  return (body as { [BODY_TEXT]?: BodyText })[BODY_TEXT];
}

/**
 * Validates an input and returns the record body (no prev_hash/hash) as a fresh plain
 * object, detached from the caller's (possibly mutable) metadata.
 */
export function buildAuditBody(input: AuditInput, timestamp: string, sessionId: string): AuditBody {
  const body: AuditBody = {
    timestamp,
    session_id: input.session_id ?? sessionId,
    tool_name: input.tool_name,
    server_name: input.server_name,
    tier: input.tier ?? 'read',
    status: input.status ?? 'allowed',
    autonomy_level: input.autonomy_level ?? 'unknown',
    duration_ms: input.duration_ms ?? 0,
    emission_source: input.emission_source ?? 'proxy',
  };
  if (input.error !== undefined) body.error = input.error;
  if (input.redacted_fields && input.redacted_fields.length > 0) body.redacted_fields = input.redacted_fields;
  if (input.metadata && Object.keys(input.metadata).length > 0) body.metadata = input.metadata;

  for (const key of ['session_id', 'tool_name', 'server_name', 'autonomy_level'] as const) {
    if (typeof body[key] !== 'string') throw new AuditRecordError(`audit record refused: ${key} must be a string`);
  }
  if (!TIERS.has(body.tier as string)) throw new AuditRecordError(`audit record refused: tier '${String(body.tier)}' is not read, write or destructive`);
  if (!STATUSES.has(body.status as string)) throw new AuditRecordError(`audit record refused: status '${String(body.status)}' is not allowed, denied or error`);
  if (!SOURCES.has(body.emission_source as string)) throw new AuditRecordError(`audit record refused: emission_source '${String(body.emission_source)}' is not gateway or proxy`);
  if (typeof body.duration_ms !== 'number' || !(body.duration_ms >= 0)) throw new AuditRecordError('audit record refused: duration_ms must be a number >= 0');
  if (body.error !== undefined && typeof body.error !== 'string') throw new AuditRecordError('audit record refused: error must be a string');

  // The keys are the literal's above, all in BODY_KEY_RUNS: canonicalMembers' output, in runs.
  // Throws CanonicalJsonError for BigInt, Date, toJSON, lone surrogates, cycles…
  const [beforeHash, betweenHashes, afterPrevHash] = canonicalMemberRuns(body, BODY_KEY_RUNS) as [string, string, string];
  const text = betweenHashes ? `{${beforeHash},${betweenHashes},${afterPrevHash}}` : `{${beforeHash},${afterPrevHash}}`;
  // A UTF-16 unit is at most 3 UTF-8 bytes: a text this short cannot be over the limit.
  if (text.length * 3 > MAX_RECORD_BYTES && Buffer.byteLength(text, 'utf8') > MAX_RECORD_BYTES) {
    throw new AuditRecordError(`audit record refused: ${Buffer.byteLength(text, 'utf8')} bytes is over the ${MAX_RECORD_BYTES}-byte limit`);
  }
  const parsed = JSON.parse(text) as AuditBody;
  if (!jsonEqual(parsed, body)) throw new AuditRecordError('audit record refused: it does not survive a JSON round trip (getters or proxies returning changing values?)');
  // The text describes `parsed` as well: it is its parse.
  Object.defineProperty(parsed, BODY_TEXT, { value: { beforeHash, betweenHashes, afterPrevHash } });
  return parsed;
}
