import { MAX_RECORD_BYTES, type AuditInput } from './auditRecord';
import { AuditRecordError } from './auditRecordError';
import { canonicalMembers } from './canonicalJson';
import { jsonEqual } from './jsonEqual';

// The check every record passes before it is queued. Apart from auditLog.ts because it is a
// pure function of the input, the time and the default session: the writer only supplies them.
// Field order here is the record's field order on disk (canonical JSON sorts keys anyway).

/** A record without prev_hash and hash, as queued. */
export type AuditBody = Record<string, unknown>;

const TIERS: ReadonlySet<string> = new Set(['read', 'write', 'destructive']);
const STATUSES: ReadonlySet<string> = new Set(['allowed', 'denied', 'error']);
const SOURCES: ReadonlySet<string> = new Set(['gateway', 'proxy']);

/** The canonical members of each body built here, kept for the hash chain (see {@link membersOf}). */
const bodyMembers = new WeakMap<AuditBody, ReadonlyMap<string, string>>();

/**
 * The canonical JSON members (`"key":value`) this check wrote of a body it returned, so that
 * chaining it (chainRecord.ts) does not serialise it again; undefined for any other object.
 * The chain's own check of the written line still parses and re-serialises everything.
 */
export function membersOf(body: AuditBody): ReadonlyMap<string, string> | undefined {
  return bodyMembers.get(body);
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

  const members = canonicalMembers(body); // throws CanonicalJsonError for BigInt, Date, toJSON, lone surrogates, cycles…
  // In key order already (canonicalMembers): joined as they come, not sorted again.
  const text = `{${[...members.values()].join(',')}}`;
  if (Buffer.byteLength(text, 'utf8') > MAX_RECORD_BYTES) {
    throw new AuditRecordError(`audit record refused: ${Buffer.byteLength(text, 'utf8')} bytes is over the ${MAX_RECORD_BYTES}-byte limit`);
  }
  const parsed = JSON.parse(text) as AuditBody;
  if (!jsonEqual(parsed, body)) throw new AuditRecordError('audit record refused: it does not survive a JSON round trip (getters or proxies returning changing values?)');
  // The members describe `parsed` as well: it is the parse of their text.
  bodyMembers.set(parsed, members);
  return parsed;
}
