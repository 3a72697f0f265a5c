/**
 * The scanner's jobs as pure synchronous functions: the worker thread runs them over packed
 * strings for large payloads and policy patterns, and the Scanner runs the same functions inline,
 * over the collected strings themselves, for small payloads when every pattern is proven
 * linear-time (see {@link linearTimeProblems}). One implementation for both, so a call is
 * redacted and scanned the same wherever it runs.
 */
import { redactString, scanInjectionString, type CompiledPatterns } from './engine';
import { PHASE_INJECT, PHASE_REDACT, SPARE_MIN_BYTES, packedCount, packStrings, transferables, unpackString, type FromWorker, type InjectHits, type ToWorker } from './protocol';

/** Called before each step so a watchdog can tell where a stuck job is (the worker's progress cell). */
export type Mark = (id: number, phase: number, pattern: number) => void;

export type JobMessage = Exclude<ToWorker, { type: 'patterns' }>;
export type JobReply = Extract<FromWorker, { type: 'redacted' | 'injected' | 'redactedInjected' }>;

/** Progress callbacks of a combined job: before pattern `p` runs on a string, before string `i` is scanned. */
export interface PhaseMarks {
  onPattern: (p: number) => void;
  onString: (i: number) => void;
}

/** The strings of a job: `count` of them, string `i` read by `at(i)` (from a pack, or as collected). */
export interface JobStrings {
  count: number;
  at: (i: number) => string;
}

/** What a redaction changed: string `indices[k]` became `values[k]`, by the patterns `names[k]`. */
export interface Redacted {
  indices: number[];
  values: string[];
  names: string[][];
}

/** Runs one job; returns the reply and the buffers to transfer with it. */
export function runJob(message: JobMessage, patterns: CompiledPatterns, mark: Mark): { reply: JobReply; transfer: ArrayBuffer[] } {
  const done = message.type === 'redact' ? redact(message, patterns, mark) : message.type === 'inject' ? inject(message, mark) : redactInject(message, patterns, mark);
  // Every string has been read: a large input buffer goes back for the next pack (SparePacks).
  const input = message.packed.bytes.buffer as ArrayBuffer;
  if (input.byteLength >= SPARE_MIN_BYTES) {
    done.reply.input = input;
    done.transfer.push(input);
  }
  return done;
}

/** The strings of a pack. */
function unpacked(packed: Extract<ToWorker, { type: 'redact' }>['packed']): JobStrings {
  return { count: packedCount(packed), at: (i) => unpackString(packed, i) };
}

/**
 * Strings as a pack would carry them: UTF-8 turns a lone surrogate into U+FFFD, so an inline job
 * sees (and keeps, in what it redacts) exactly the text the worker would.
 */
export function asCollected(strings: readonly string[]): JobStrings {
  return { count: strings.length, at: (i) => encodable(strings[i]!) };
}

const SURROGATE = /[\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function encodable(text: string): string {
  return SURROGATE.test(text) ? text.replace(LONE_SURROGATE, '\uFFFD') : text;
}

/** Redacts every string; `onPattern(p)` before pattern `p` runs on a string. */
export function redactStrings(strings: JobStrings, patterns: CompiledPatterns, onPattern?: (p: number) => void): Redacted {
  const out: Redacted = { indices: [], values: [], names: [] };
  for (let i = 0; i < strings.count; i++) {
    const hit = redactString(strings.at(i), patterns, onPattern);
    if (!hit) continue;
    out.indices.push(i);
    out.values.push(hit.value);
    out.names.push(hit.names);
  }
  return out;
}

/** The phrases of every string, by item: string `i` belongs to item `items[i]`; `onString(i)` before each. */
export function findPhrasesByItem(strings: JobStrings, items: ArrayLike<number>, itemCount: number, onString?: (i: number) => void): InjectHits[] {
  const sets = Array.from({ length: itemCount }, () => ({ literal: new Set<string>(), base64: new Set<string>() }));
  for (let i = 0; i < strings.count; i++) {
    const item = sets[items[i]!];
    if (!item) continue;
    onString?.(i);
    scanInjectionString(strings.at(i), item.literal, item.base64);
  }
  return sets.map((s) => ({ literal: [...s.literal].sort(), base64: [...s.base64].sort() }));
}

/**
 * Redacts every string, then scans the redacted strings for injection (the same order as the
 * redaction layer then the injection layer, so the verdict is that of the text the client gets).
 * Each string is read once for both halves. With `onlyIfRedacted`, a redaction that changed no
 * string ends the job without the scan (`hits` undefined): the caller has the scan of the
 * unchanged strings from elsewhere.
 */
export function redactThenFindPhrases(strings: JobStrings, patterns: CompiledPatterns, mark?: PhaseMarks): Redacted & { hits: InjectHits };
export function redactThenFindPhrases(strings: JobStrings, patterns: CompiledPatterns, mark: PhaseMarks | undefined, onlyIfRedacted: boolean): Redacted & { hits?: InjectHits };
export function redactThenFindPhrases(strings: JobStrings, patterns: CompiledPatterns, mark?: PhaseMarks, onlyIfRedacted = false): Redacted & { hits?: InjectHits } {
  const texts: string[] = new Array<string>(strings.count);
  const out: Redacted = { indices: [], values: [], names: [] };
  for (let i = 0; i < strings.count; i++) {
    const text = strings.at(i);
    const hit = redactString(text, patterns, mark?.onPattern);
    texts[i] = hit ? hit.value : text;
    if (!hit) continue;
    out.indices.push(i);
    out.values.push(hit.value);
    out.names.push(hit.names);
  }
  if (onlyIfRedacted && out.indices.length === 0) return out;
  const literal = new Set<string>();
  const base64 = new Set<string>();
  for (let i = 0; i < strings.count; i++) {
    mark?.onString(i);
    scanInjectionString(texts[i]!, literal, base64);
  }
  return { ...out, hits: { literal: [...literal].sort(), base64: [...base64].sort() } };
}

function redact(message: Extract<ToWorker, { type: 'redact' }>, patterns: CompiledPatterns, mark: Mark): { reply: JobReply; transfer: ArrayBuffer[] } {
  const { id } = message;
  const r = redactStrings(unpacked(message.packed), patterns, (p) => mark(id, PHASE_REDACT, p));
  const packed = packStrings(r.values);
  const idx = Uint32Array.from(r.indices);
  return { reply: { type: 'redacted', id, indices: idx, packed, names: r.names }, transfer: [...transferables(packed), idx.buffer] };
}

function inject(message: Extract<ToWorker, { type: 'inject' }>, mark: Mark): { reply: JobReply; transfer: ArrayBuffer[] } {
  const { id } = message;
  const items = findPhrasesByItem(unpacked(message.packed), message.items, message.itemCount, (i) => mark(id, PHASE_INJECT, i));
  return { reply: { type: 'injected', id, items }, transfer: [] };
}

function redactInject(message: Extract<ToWorker, { type: 'redactInject' }>, patterns: CompiledPatterns, mark: Mark): { reply: JobReply; transfer: ArrayBuffer[] } {
  const { id } = message;
  const marks: PhaseMarks = { onPattern: (p) => mark(id, PHASE_REDACT, p), onString: (i) => mark(id, PHASE_INJECT, i) };
  const r = redactThenFindPhrases(unpacked(message.packed), patterns, marks, message.rawScanned === true);
  const packed = packStrings(r.values);
  const idx = Uint32Array.from(r.indices);
  const reply: JobReply = { type: 'redactedInjected', id, indices: idx, packed, names: r.names, ...(r.hits ? { hits: r.hits } : {}) };
  return { reply, transfer: [...transferables(packed), idx.buffer] };
}
