/**
 * The scanner's jobs as pure synchronous functions over packed strings: the worker thread runs
 * them for large payloads and policy patterns, and the Scanner runs them inline for small
 * payloads when every pattern is proven linear-time (see {@link linearTimeProblems}). One
 * implementation for both, so a call is redacted and scanned the same wherever it runs.
 */
import { redactString, scanInjectionString, type CompiledPatterns } from './engine';
import { PHASE_INJECT, PHASE_REDACT, SPARE_MIN_BYTES, packedCount, packStrings, transferables, unpackString, type FromWorker, type InjectHits, type ToWorker } from './protocol';

/** Called before each step so a watchdog can tell where a stuck job is (the worker's progress cell). */
export type Mark = (id: number, phase: number, pattern: number) => void;

export type JobMessage = Exclude<ToWorker, { type: 'patterns' }>;
export type JobReply = Extract<FromWorker, { type: 'redacted' | 'injected' | 'redactedInjected' }>;

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

function redact(message: Extract<ToWorker, { type: 'redact' }>, patterns: CompiledPatterns, mark: Mark): { reply: JobReply; transfer: ArrayBuffer[] } {
  const { id } = message;
  const count = packedCount(message.packed);
  const indices: number[] = [];
  const values: string[] = [];
  const names: string[][] = [];
  const onPattern = (p: number): void => mark(id, PHASE_REDACT, p);
  for (let i = 0; i < count; i++) {
    const hit = redactString(unpackString(message.packed, i), patterns, onPattern);
    if (!hit) continue;
    indices.push(i);
    values.push(hit.value);
    names.push(hit.names);
  }
  const packed = packStrings(values);
  const idx = Uint32Array.from(indices);
  return { reply: { type: 'redacted', id, indices: idx, packed, names }, transfer: [...transferables(packed), idx.buffer] };
}

function inject(message: Extract<ToWorker, { type: 'inject' }>, mark: Mark): { reply: JobReply; transfer: ArrayBuffer[] } {
  const { id } = message;
  const sets = Array.from({ length: message.itemCount }, () => ({ literal: new Set<string>(), base64: new Set<string>() }));
  const count = packedCount(message.packed);
  for (let i = 0; i < count; i++) {
    const item = sets[message.items[i]!];
    if (!item) continue;
    mark(id, PHASE_INJECT, i);
    scanInjectionString(unpackString(message.packed, i), item.literal, item.base64);
  }
  const items: InjectHits[] = sets.map((s) => ({ literal: [...s.literal].sort(), base64: [...s.base64].sort() }));
  return { reply: { type: 'injected', id, items }, transfer: [] };
}

/**
 * Redacts every string, then scans the redacted strings for injection (the same order as the
 * redaction layer then the injection layer, so the verdict is that of the text the client gets).
 * Each string is decoded once for both halves.
 */
function redactInject(message: Extract<ToWorker, { type: 'redactInject' }>, patterns: CompiledPatterns, mark: Mark): { reply: JobReply; transfer: ArrayBuffer[] } {
  const { id } = message;
  const count = packedCount(message.packed);
  const texts: string[] = new Array<string>(count);
  const indices: number[] = [];
  const values: string[] = [];
  const names: string[][] = [];
  const onPattern = (p: number): void => mark(id, PHASE_REDACT, p);
  for (let i = 0; i < count; i++) {
    const text = unpackString(message.packed, i);
    const hit = redactString(text, patterns, onPattern);
    texts[i] = hit ? hit.value : text;
    if (!hit) continue;
    indices.push(i);
    values.push(hit.value);
    names.push(hit.names);
  }
  const literal = new Set<string>();
  const base64 = new Set<string>();
  for (let i = 0; i < count; i++) {
    mark(id, PHASE_INJECT, i);
    scanInjectionString(texts[i]!, literal, base64);
  }
  const packed = packStrings(values);
  const idx = Uint32Array.from(indices);
  const hits: InjectHits = { literal: [...literal].sort(), base64: [...base64].sort() };
  return { reply: { type: 'redactedInjected', id, indices: idx, packed, names, hits }, transfer: [...transferables(packed), idx.buffer] };
}
