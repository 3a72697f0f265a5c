/**
 * Entry of the scanner worker thread (bundled to dist/scannerWorker.js). Holds the compiled
 * patterns and answers one job at a time; it never needs to be interrupted cooperatively — when
 * a job overruns its budget the client terminates this thread and starts another.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { compilePatterns, redactString, scanInjectionString, type CompiledPatterns } from './engine';
import { runJob } from './jobs';
import { SECRET_PATTERNS, type PatternSpec } from './patterns';
import { PHASE_IDLE, type FromWorker, type ToWorker, type WorkerInit } from './protocol';

const port = parentPort;
if (!port) throw new Error('the scanner worker must run in a worker thread');

const init = workerData as WorkerInit;
const progress = new Int32Array(init.progress);
let patterns: CompiledPatterns = [];

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

port.on('message', (message: ToWorker) => {
  const id = 'id' in message ? message.id : 0;
  try {
    if (message.type === 'patterns') setPatterns(message.patterns);
    else {
      const { reply, transfer } = runJob(message, patterns, mark);
      post(reply, transfer);
    }
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
