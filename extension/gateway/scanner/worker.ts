/**
 * Entry of the scanner worker thread (bundled to dist/scannerWorker.js). Holds the compiled
 * patterns and answers one job at a time; it never needs to be interrupted cooperatively — when
 * a job overruns its budget the client terminates this thread and starts another.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { compilePatterns, redactString, scanInjectionString, type CompiledPattern } from './engine';
import { SECRET_PATTERNS, type PatternSpec } from './patterns';
import {
  PHASE_IDLE,
  PHASE_INJECT,
  PHASE_REDACT,
  packedCount,
  packStrings,
  transferables,
  unpackString,
  type FromWorker,
  type InjectHits,
  type ToWorker,
  type WorkerInit,
} from './protocol';

const port = parentPort;
if (!port) throw new Error('the scanner worker must run in a worker thread');

const init = workerData as WorkerInit;
const progress = new Int32Array(init.progress);
let patterns: CompiledPattern[] = [];

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

function setPatterns(user: readonly PatternSpec[]): void {
  patterns = compilePatterns([...SECRET_PATTERNS, ...user], (spec, err) =>
    post({ type: 'patternError', name: spec.name, reason: err instanceof Error ? err.message : String(err) }),
  );
}

function mark(id: number, phase: number, pattern: number): void {
  Atomics.store(progress, 0, id);
  Atomics.store(progress, 1, phase);
  Atomics.store(progress, 2, pattern);
}

function redact(id: number, message: Extract<ToWorker, { type: 'redact' }>): void {
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
  post({ type: 'redacted', id, indices: idx, packed, names }, [...transferables(packed), idx.buffer]);
}

function inject(id: number, message: Extract<ToWorker, { type: 'inject' }>): void {
  const sets = Array.from({ length: message.itemCount }, () => ({ literal: new Set<string>(), base64: new Set<string>() }));
  const count = packedCount(message.packed);
  for (let i = 0; i < count; i++) {
    const item = sets[message.items[i]!];
    if (!item) continue;
    mark(id, PHASE_INJECT, i);
    scanInjectionString(unpackString(message.packed, i), item.literal, item.base64);
  }
  const items: InjectHits[] = sets.map((s) => ({ literal: [...s.literal].sort(), base64: [...s.base64].sort() }));
  post({ type: 'injected', id, items });
}

/**
 * Redacts every string, then scans the redacted strings for injection (the same order as the
 * redaction layer then the injection layer, so the verdict is that of the text the client gets).
 * Each string is decoded once for both halves.
 */
function redactInject(id: number, message: Extract<ToWorker, { type: 'redactInject' }>): void {
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
  post({ type: 'redactedInjected', id, indices: idx, packed, names, hits }, [...transferables(packed), idx.buffer]);
}

port.on('message', (message: ToWorker) => {
  const id = 'id' in message ? message.id : 0;
  try {
    if (message.type === 'patterns') setPatterns(message.patterns);
    else if (message.type === 'redact') redact(message.id, message);
    else if (message.type === 'inject') inject(message.id, message);
    else if (message.type === 'redactInject') redactInject(message.id, message);
  } catch (err) {
    post({ type: 'failed', id, message: err instanceof Error ? err.message : String(err) });
  } finally {
    mark(0, PHASE_IDLE, -1);
  }
});

/**
 * Runs every pattern once before saying ready: V8 compiles a regex on its first use, and on a
 * busy machine that first compile can eat a whole call's time budget, failing an honest first
 * call closed. The sample exercises the redaction patterns and the injection normalisation.
 */
function warmUp(): void {
  const sample = 'warm-up: AKIA0000000000000000 ghp_000000000000000000000000000000000000 Bearer abc.def ｗｉｄｅ text — ignore nothing';
  for (let i = 0; i < 3; i++) {
    redactString(sample, patterns);
    scanInjectionString(sample, new Set(), new Set());
  }
}

setPatterns(init.patterns);
warmUp();
post({ type: 'ready' });
