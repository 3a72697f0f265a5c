import { AUTONOMY_LEVELS } from '../../config/policySchema';
import { AUDIT_BACKLOG_LIMIT, AuditRecordError, type AuditLog } from '../audit/auditLog';
import type { AuditAutonomyLevel, AuditInput, AuditRecord } from '../audit/auditRecord';
import type { CallContext } from './callContext';
import type { Middleware } from './chain';

/** Longest `error` kept in a record (rea's cap, SPEC §8.1). */
export const AUDIT_ERROR_MAX_CHARS = 4096;
const TRUNCATED_SUFFIX = '…[truncated]';

/** Metadata keys the record carries as fields of their own, not inside `metadata`. */
const LIFTED_KEYS: ReadonlySet<string> = new Set(['autonomy_level', 'redacted_fields']);

/** Where the audit layer hands its records: an {@link AuditLog}, or part of one. */
export type AuditSink = Pick<AuditLog, 'append'> & Partial<Pick<AuditLog, 'appendLater' | 'backlog'>>;

/** Whether the sink can build a record after the answer went out. */
function defers(audit: AuditSink): audit is AuditSink & Pick<AuditLog, 'appendLater'> {
  return audit.appendLater !== undefined;
}

/** Options of {@link auditLayer} and {@link auditRefusal}. */
export interface AuditLayerOptions {
  /**
   * The policy's level, read per record: used when the policy layer did not get to set
   * `ctx.metadata.autonomy_level` (a call denied earlier, e.g. by HALT). Anything that is not
   * L0–L3 is recorded as `unknown`.
   */
  autonomyLevel: () => string | undefined;
  /**
   * Redacts the error text of every record: the message of an exception thrown by an inner
   * layer, and the denial texts of layers outside the redaction layers (HALT, policy, blocked
   * paths, rate limit, breaker), which echo tool names and argument keys. Identity by default.
   */
  redactError?: (text: string) => string | Promise<string>;
  /**
   * Redacts short text synchronously (the built-in patterns, DESIGN §1): the tool and server
   * names and every string and key of the metadata, which a client or a layer may have filled
   * with a secret (`echo__ghp_…`, a blocked argument named by a token). Identity by default.
   */
  redactInline?: (text: string) => string;
  /** Millisecond clock comparable with `ctx.start_time`; default `performance.now`. */
  now?: () => number;
  /**
   * Wait until the record is written before the call returns. Default false; see
   * {@link auditLayer} for why.
   */
  awaitWrite?: boolean;
}

/**
 * The outermost layer (SPEC §7.2 #1): runs the rest of the chain, then appends exactly one
 * record for the call from the context as it stands when `next()` returns — status, reason
 * code, (redacted) error, tier (`write` when no layer set it), duration, autonomy level,
 * redacted field paths and layer metadata (`halt_decision`, `circuit_breaker`,
 * `redacted_patterns`, …).
 * Arguments and results are never recorded, only how many arguments there were: argument
 * values — and keys — can carry secrets.
 *
 * An exception from an inner layer is recorded (and turned into `status: error` here, with
 * the same text `compose` would use) instead of escaping unaudited.
 *
 * Not awaited by default: the append is queued synchronously, so records keep the order in
 * which calls finish, but the call does not wait for the write (nor, with a log that offers
 * `appendLater`, for the record to be built: that runs after the answer went out). rea made every response wait
 * for an fsync (SPEC §8.1); with group commit a call landing behind a busy batch would wait
 * for that whole batch's write plus its own. The audit is best-effort for availability anyway
 * (SPEC §8.3, DESIGN §5): a failed write rejects inside the log, which reports it on
 * `AuditLog.onDidFail` for the UI; this layer never fails a call because of the audit.
 * A record refused as not serialisable is retried once without its metadata, so the call is
 * still on the record.
 */
export function auditLayer(audit: AuditSink, options: AuditLayerOptions): Middleware {
  const inline = inlineRedactor(options.redactInline);
  const now = options.now ?? performance.now.bind(performance);
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      // What compose would do, but here, so the record matches what the client gets.
      ctx.status = 'error';
      ctx.reason_code ??= 'internal_error';
      ctx.error = `Gatehouse could not complete the call: ${err instanceof Error ? err.message : String(err)}`;
    }
    // Every error text, whichever layer wrote it: denials of outer layers never met the redaction layers.
    if (typeof ctx.error === 'string') ctx.error = await redact(ctx.error, options);
    // Back-pressure: while the log is far behind, the call waits for its own record.
    const wait = options.awaitWrite === true || (audit.backlog ?? 0) > AUDIT_BACKLOG_LIMIT;
    if (wait || !defers(audit)) {
      const written = appendRecord(audit, auditInputFromContext(ctx, options));
      if (wait) await written;
      return;
    }
    // The answer does not wait for the record to be built either (metadata copied and redacted,
    // body serialised): the log builds it after this turn, in call order, from the context as
    // it stands now — nothing writes to a context once its chain has returned.
    // The clock and the policy's level as they are when the call ends, not when it is built.
    const end = now();
    let level: string | undefined;
    try {
      level = options.autonomyLevel();
    } catch {
      level = undefined;
    }
    appendDeferred(audit, ctx, inline, end, level);
  };
}

/**
 * Queues the record of `ctx` to be built after the answer went out. Its own scope, and the
 * context let go once built: a closure that shares the middleware's scope would keep every
 * call's whole context (arguments, result) alive until its group write settled — with 200
 * calls in flight that held ~200 MB more (bench section 7).
 */
function appendDeferred(audit: Pick<AuditLog, 'append' | 'appendLater'>, ctx: CallContext, inline: (text: string) => string, end: number, level: string | undefined): void {
  let source: CallContext | undefined = ctx;
  let input: AuditInput | undefined;
  const build = (): AuditInput => {
    input = inputOf(source!, inline, levelOf(source!.metadata.autonomy_level, level), end);
    source = undefined;
    return input;
  };
  void retryWithoutMetadata(audit, () => input, audit.appendLater(build));
}

/**
 * Audits a call refused before the chain (unknown server, missing prefix, reserved
 * namespace: SPEC §13.1 item 12–13), which rea never recorded. Resolves with the record, or
 * undefined when it could not be written (the log reports that); never rejects.
 */
export async function auditRefusal(
  audit: Pick<AuditLog, 'append'>,
  ctx: CallContext,
  options: Omit<AuditLayerOptions, 'awaitWrite'>,
): Promise<AuditRecord | undefined> {
  const input = auditInputFromContext(ctx, options);
  if (typeof ctx.error === 'string') input.error = capError(await redact(ctx.error, options));
  return appendRecord(audit, input);
}

/** The audit input for a call, from its context (exported for the gateway's own paths). */
export function auditInputFromContext(ctx: CallContext, options: Pick<AuditLayerOptions, 'autonomyLevel' | 'now' | 'redactInline'>): AuditInput {
  const now = options.now ?? (() => performance.now());
  return inputOf(ctx, inlineRedactor(options.redactInline), autonomyOf(ctx, options.autonomyLevel), now());
}

/** The audit input for a call, its level and end time decided. */
function inputOf(ctx: CallContext, inline: (text: string) => string, autonomy: AuditAutonomyLevel, end: number): AuditInput {
  const metadata: Record<string, unknown> = {};
  const dropped: string[] = [];
  for (const [key, value] of Object.entries(ctx.metadata)) {
    if (LIFTED_KEYS.has(key) || value === undefined) continue;
    const safe = toJsonData(value, inline);
    if (safe.ok) setOwn(metadata, inline(wellFormed(key)), safe.value);
    else dropped.push(inline(wellFormed(key)));
  }
  if (dropped.length > 0) metadata.audit_dropped_keys = dropped;
  if (ctx.reason_code !== undefined) metadata.reason_code = wellFormed(ctx.reason_code);
  metadata.argument_count = ctx.arguments && typeof ctx.arguments === 'object' ? Object.keys(ctx.arguments).length : 0;

  const input: AuditInput = {
    session_id: wellFormed(ctx.session_id),
    tool_name: inline(wellFormed(ctx.tool_name)),
    server_name: inline(wellFormed(ctx.server_name)),
    tier: ctx.tier ?? 'write',
    status: ctx.status,
    autonomy_level: autonomy,
    duration_ms: Math.max(0, Math.round(end - ctx.start_time)),
    emission_source: 'proxy',
    metadata,
  };
  if (typeof ctx.error === 'string') input.error = capError(ctx.error);
  const redacted = redactedFields(ctx).map(inline);
  if (redacted.length > 0) input.redacted_fields = redacted;
  return input;
}

const identity = (text: string): string => text;

/** The inline redactor, failing closed: text it cannot make safe is withheld. */
function inlineRedactor(redactInline: AuditLayerOptions['redactInline']): (text: string) => string {
  if (!redactInline) return identity;
  return (text) => {
    try {
      return redactInline(text);
    } catch {
      return '[withheld: redaction failed]';
    }
  };
}

function appendRecord(audit: Pick<AuditLog, 'append'>, input: AuditInput): Promise<AuditRecord | undefined> {
  let attempt: Promise<AuditRecord>;
  try {
    attempt = audit.append(input);
  } catch (err) {
    attempt = Promise.reject(err);
  }
  return retryWithoutMetadata(audit, () => input, attempt);
}

/** A record refused as a record (not an I/O failure) is appended once more without its metadata. */
function retryWithoutMetadata(
  audit: Pick<AuditLog, 'append'>,
  inputOf: () => AuditInput | undefined,
  attempt: Promise<AuditRecord>,
): Promise<AuditRecord | undefined> {
  return attempt.catch((err: unknown) => {
    const input = inputOf();
    if (!(err instanceof AuditRecordError) || !input || input.metadata?.audit_metadata_dropped !== undefined) return undefined;
    // Refused as a record (not an I/O failure): keep the call on the record without metadata.
    const fallback: AuditInput = { ...input, metadata: { audit_metadata_dropped: wellFormed(err.message).slice(0, 512) } };
    return audit.append(fallback).catch(() => undefined);
  });
}

function autonomyOf(ctx: CallContext, fallback: () => string | undefined): AuditAutonomyLevel {
  const fromPolicyLayer = ctx.metadata.autonomy_level;
  if (isLevel(fromPolicyLayer)) return fromPolicyLayer;
  try {
    const level = fallback();
    return isLevel(level) ? level : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** {@link autonomyOf} with the policy's level already read (undefined when reading it threw). */
function levelOf(fromPolicyLayer: unknown, policyLevel: string | undefined): AuditAutonomyLevel {
  if (isLevel(fromPolicyLayer)) return fromPolicyLayer;
  return isLevel(policyLevel) ? policyLevel : 'unknown';
}

function isLevel(value: unknown): value is (typeof AUTONOMY_LEVELS)[number] {
  return typeof value === 'string' && (AUTONOMY_LEVELS as readonly string[]).includes(value);
}

/**
 * `ctx.metadata.redacted_fields` as the redaction layers leave it (changed field paths, see
 * scanner/metadata.ts), deduplicated; lifted to the record's own `redacted_fields`.
 */
function redactedFields(ctx: CallContext): string[] {
  const own = (ctx as CallContext & { redacted_fields?: unknown }).redacted_fields;
  const raw = Array.isArray(own) ? own : ctx.metadata.redacted_fields;
  if (!Array.isArray(raw)) return [];
  return [...new Set(raw.filter((v): v is string => typeof v === 'string').map(wellFormed))];
}

async function redact(text: string, options: Pick<AuditLayerOptions, 'redactError'>): Promise<string> {
  if (!options.redactError) return text;
  try {
    return await options.redactError(text);
  } catch {
    // Never record text we could not make safe.
    return '[error text withheld: redaction failed]';
  }
}

/** rea's 4096-character cap, without splitting a surrogate pair; lone surrogates replaced. */
function capError(text: string): string {
  let out = text;
  if (out.length > AUDIT_ERROR_MAX_CHARS) {
    let cut = AUDIT_ERROR_MAX_CHARS;
    const code = out.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff) cut--;
    out = out.slice(0, cut) + TRUNCATED_SUFFIX;
  }
  return wellFormed(out);
}

const SURROGATE = /[\uD800-\uDFFF]/;

/** Replaces lone surrogates (text cut by a downstream, say) so the record stays canonical. */
function wellFormed(text: string): string {
  // Most text has no surrogate at all: one test instead of a replace with look-behind.
  if (!SURROGATE.test(text)) return text;
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/**
 * Plain JSON data for one metadata value, the way a layer meant it: JSON.stringify applies
 * `toJSON` (a Date becomes its ISO string) and drops undefined; strings are made well-formed.
 * Values JSON cannot hold (BigInt, cycles, a throwing toJSON) are reported as not ok.
 */
function toJsonData(value: unknown, inline: (text: string) => string): { ok: true; value: unknown } | { ok: false } {
  // Most metadata values are primitives (`halt_decision`, `tier_source`, …): what the JSON round
  // trip would make of them, without it. Objects, and anything JSON cannot hold, take the long way.
  switch (typeof value) {
    case 'string':
      return { ok: true, value: inline(wellFormed(value)) };
    case 'boolean':
      return { ok: true, value };
    case 'number':
      // JSON writes NaN and ±Infinity as null, and -0 as 0.
      return { ok: true, value: Number.isFinite(value) ? value + 0 : null };
    case 'object':
      if (value === null) return { ok: true, value: null };
  }
  try {
    const text = JSON.stringify(value);
    if (text === undefined) return { ok: false };
    return { ok: true, value: deepWellFormed(JSON.parse(text), inline) };
  } catch {
    return { ok: false };
  }
}

/** Strings and keys made well-formed and passed through the inline redactor. */
function deepWellFormed(value: unknown, inline: (text: string) => string): unknown {
  if (typeof value === 'string') return inline(wellFormed(value));
  if (Array.isArray(value)) return value.map((v) => deepWellFormed(v, inline));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, inline(wellFormed(k)), deepWellFormed(v, inline));
    return out;
  }
  return value;
}

/**
 * Defines an own data property: plain assignment of a `__proto__` key would set the prototype.
 * Every other key is assigned (the targets are fresh plain objects: no setter on the way).
 */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
