/**
 * What the Scanner answers (redaction and injection results, timeouts) and how those answers are
 * built from a worker's reply or from a failure: every failure fails closed here.
 */
import { classifyInjection } from './engine';
import type { Redacted } from './jobs';
import { REDACTION_TIMED_OUT, type PatternSource } from './patterns';
import { unpackString, type FromWorker, type InjectHits } from './protocol';
import { pathOf, replaceStrings, type Collected, type WalkOptions } from './walk';
import type { InjectionVerdict } from './engine';

export type { InjectionVerdict } from './engine';

/** Which pattern was running when a call ran out of time. */
export interface ScanTimeout {
  kind: 'redact' | 'injection';
  /** Pattern name (`unknown` if the worker had not reported progress yet). */
  pattern: string;
  source: PatternSource | 'unknown';
  budgetMs: number;
  inputBytes: number;
}

export interface RedactResult<T = unknown> {
  /** The redacted copy (the input is never mutated); fail-closed text on timeout or failure. */
  value: T;
  /**
   * Paths of the strings that were changed, e.g. `arguments.token`, `content[0].text` — values
   * and object keys alike, each path spelled with the redacted keys.
   */
  redactedFields: string[];
  /** Names of the patterns that matched, distinct, in first-match order. */
  patterns: string[];
  timedOut: boolean;
  timeout?: ScanTimeout;
  /** Set when the scan could not run (worker crashed, disposed, input too large): fail closed too. */
  failed?: string;
}

export interface InjectionResult {
  /** `likely` on timeout or failure (fail closed). */
  verdict: InjectionVerdict;
  /** Distinct phrases found (literal and base64), sorted. */
  matches: string[];
  /** True when a phrase was hidden in base64. */
  base64: boolean;
  timedOut: boolean;
  timeout?: ScanTimeout;
  failed?: string;
}

export interface ScanInjectionOptions {
  /** Tier of the call whose result this is; undefined classifies as read (SPEC §7.10 rule 4). */
  tier?: 'read' | 'write' | 'destructive';
}

/** Options of `Scanner.redactAndScanInjection`: a tool result is always walked as MCP content. */
export interface RedactAndScanOptions extends ScanInjectionOptions {
  /** Path prefix of the reported redacted fields, e.g. `result`. */
  root?: string;
}

/** What `Scanner.redactAndScanInjection` found. */
export interface RedactAndScanResult<T = unknown> {
  redaction: RedactResult<T>;
  /**
   * The injection verdict of `redaction.value`. Undefined when the redaction did not complete
   * (timed out or failed): the value is then the fail-closed rewrite, which was not scanned —
   * scan it on its own if a verdict is needed.
   */
  injection?: InjectionResult;
}

/** How a job ended: the worker's reply, a budget overrun, or a failure (both fail closed). */
export type Outcome<R> = { kind: 'ok'; reply: R } | { kind: 'timeout'; timeout: ScanTimeout } | { kind: 'failed'; message: string };

export type RedactReply = Extract<FromWorker, { type: 'redacted' }>;
export type InjectReply = Extract<FromWorker, { type: 'injected' }>;
export type RedactInjectReply = Extract<FromWorker, { type: 'redactedInjected' }>;
export type Reply = RedactReply | InjectReply | RedactInjectReply;

/** What a redaction changed: from the worker (a pack), or from an inline job (the strings themselves). */
export type RedactionFound = Pick<RedactReply, 'indices' | 'packed' | 'names'> | Pick<Redacted, 'indices' | 'values' | 'names'>;

/**
 * Builds the redacted copy from a worker reply (shared by `Scanner.redact` and the combined
 * job). Field paths are spelled with redacted keys, so a secret used as a key stays out of them.
 */
export function applyRedaction<T>(value: T, collected: Collected, reply: RedactionFound, options: WalkOptions): RedactResult<T> {
  if (reply.indices.length === 0) return { value, redactedFields: [], patterns: [], timedOut: false };
  const replaced = new Map<number, string>();
  const names = new Set<string>();
  for (let k = 0; k < reply.indices.length; k++) {
    replaced.set(reply.indices[k]!, 'values' in reply ? reply.values[k]! : unpackString(reply.packed, k));
    for (const name of reply.names[k] ?? []) names.add(name);
  }
  const text = (i: number): string => replaced.get(i) ?? collected.strings[i]!;
  const fields = [...new Set([...replaced.keys()].map((i) => pathOf(collected, i, text)))];
  return {
    value: replaceStrings(value, (i) => replaced.get(i), options) as T,
    redactedFields: fields,
    patterns: [...names],
    timedOut: false,
  };
}

/** Fail closed: every string of the value, keys included, becomes the timeout marker. */
export function failedRedaction<T>(value: T, collected: Collected, outcome: Exclude<Outcome<unknown>, { kind: 'ok' }>, options: WalkOptions): RedactResult<T> {
  const fields = [...new Set(collected.strings.map((_, i) => pathOf(collected, i, () => REDACTION_TIMED_OUT)))];
  return {
    value: replaceStrings(value, () => REDACTION_TIMED_OUT, options) as T,
    redactedFields: fields,
    patterns: [],
    timedOut: outcome.kind === 'timeout',
    ...(outcome.kind === 'timeout' ? { timeout: outcome.timeout } : { failed: outcome.message }),
  };
}

/** Fail closed: an unscanned value is a likely injection. */
export function failedInjection(outcome: Exclude<Outcome<unknown>, { kind: 'ok' }>): InjectionResult {
  return {
    verdict: 'likely',
    matches: [],
    base64: false,
    timedOut: outcome.kind === 'timeout',
    ...(outcome.kind === 'timeout' ? { timeout: outcome.timeout } : { failed: outcome.message }),
  };
}

export function clean(): InjectionResult {
  return { verdict: 'clean', matches: [], base64: false, timedOut: false };
}

export function verdictOf(hits: InjectHits, tier: ScanInjectionOptions['tier']): InjectionResult {
  const matches = [...new Set([...hits.literal, ...hits.base64])].sort();
  return {
    verdict: classifyInjection(hits.literal.length, hits.base64.length, tier),
    matches,
    base64: hits.base64.length > 0,
    timedOut: false,
  };
}
