/**
 * The scanner worker and its job queue, behind `Scanner` (scannerClient.ts): ONE
 * long-lived worker thread, jobs one at a time in order, a budget per job timed from the moment
 * it is handed to an idle, started worker, and the fail-closed handling of overruns, crashes and
 * start-up failures described in scannerClient.ts's file comment. Nothing here ever blocks the
 * main thread (no Atomics.wait, no synchronous fallback).
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Clock } from '../../common/clock';
import type { IDisposable } from '../../common/disposable';
import { Emitter, type Event } from '../../common/event';
import type { Logger } from '../../common/logger';
import { SECRET_PATTERNS, type PatternSpec } from './patterns';
import { PHASE_INJECT, PHASE_REDACT, type FromWorker, type ToWorker, type WorkerInit } from './protocol';
import type { Outcome, Reply, ScanTimeout } from './scanResults';

export type JobKind = 'redact' | 'injection' | 'redactInject';

interface Job {
  id: number;
  kind: JobKind;
  message: ToWorker;
  transfer: ArrayBuffer[];
  bytes: number;
  /**
   * `redactInject` only: the injection half's budget, granted when the redaction half's budget
   * runs out while the worker is no longer redacting (see {@link WorkerRunner.onTimeout}).
   */
  injectBudgetMs?: number;
  /** Set once the injection half's budget has been granted. */
  extended?: boolean;
  settle(outcome: Outcome<Reply>): void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  progress: Int32Array;
  startupTimer?: IDisposable;
}

const STARTUP_FAILURES_BEFORE_PAUSE = 3;
const PAUSE_AFTER_STARTUP_FAILURES_MS = 10_000;

/** The worker file next to the running code: the bundle's sibling, or worker.ts from source. */
function defaultWorker(): { file: string; execArgv?: string[] } {
  // From source (tests, tsx): worker.ts through tsx's CommonJS hook. `--import tsx` does not
  // work here — Node 20 resolves a worker's entry before the ESM hooks are registered.
  // (The specifier is a variable so bundlers leave it alone: this branch never runs bundled.)
  const tsxHook = 'tsx/cjs';
  if (__filename.endsWith('.ts')) return { file: path.join(__dirname, 'worker.ts'), execArgv: ['--require', require.resolve(tsxHook)] };
  return { file: path.join(__dirname, 'scannerWorker.js') };
}

export interface WorkerRunnerOptions {
  /** The worker script; default: the bundle's scannerWorker.js, or worker.ts from source. */
  workerFile?: string | URL;
  execArgv?: string[];
  clock: Clock;
  logger: Logger;
  startupTimeoutMs: number;
  maxQueue: number;
  /** The budget of one job over `bytes` of input (it follows policy reloads). */
  budgetFor(bytes: number): number;
  /** The policy patterns in force: sent to each new worker, and named when one overruns. */
  userSpecs(): PatternSpec[];
  /**
   * A worker with no job for this long is stopped; the next job starts a fresh one. 0 keeps it
   * for the runner's life. See {@link DEFAULT_WORKER_IDLE_STOP_MS}.
   */
  idleStopMs: number;
}

/**
 * A worker thread is a V8 isolate of its own (~11 MB resident idle, more once it has scanned
 * large payloads), and since small payloads are scanned inline most gateways need it only now
 * and then. It starts with the first job that needs it, and stopping it after a quiet minute
 * gives that memory back; a large payload after the pause pays one worker start (tens of
 * milliseconds, against ~100 ms to scan 1 MiB) before its scan.
 */
export const DEFAULT_WORKER_IDLE_STOP_MS = 60_000;

/** See the file comment. `Scanner` decides what is a job; this runs it. */
export class WorkerRunner implements IDisposable {
  private readonly workerFile: string | URL;
  private readonly execArgv: string[] | undefined;
  private readonly queue: Job[] = [];
  private current: { job: Job; timer: IDisposable; slot: Slot } | undefined;
  private slot: Slot | undefined;
  private nextId = 1;
  private startupFailures = 0;
  private pausedUntil = 0;
  private disposed = false;
  private restarts = 0;
  private idleTimer: IDisposable | undefined;
  private readonly timeoutEmitter = new Emitter<ScanTimeout>();

  /** Fires for every job that ran out of time (after the job has resolved). */
  readonly onDidTimeout: Event<ScanTimeout> = this.timeoutEmitter.event;

  constructor(private readonly options: WorkerRunnerOptions) {
    const fallback = defaultWorker();
    this.workerFile = options.workerFile ?? fallback.file;
    this.execArgv = options.execArgv ?? (options.workerFile ? undefined : fallback.execArgv);
    // Started by the first job, not here: most gateways scan only small payloads, inline.
  }

  private get clock(): Clock {
    return this.options.clock;
  }

  private get logger(): Logger {
    return this.options.logger;
  }

  /** Whether a worker thread exists now (started or starting); false after an idle stop. */
  get workerRunning(): boolean {
    return this.slot !== undefined;
  }

  /** How many times the worker was replaced (timeouts and crashes). */
  get workerRestarts(): number {
    return this.restarts;
  }

  /** Jobs waiting for the worker (not counting the one it runs). */
  get queuedJobs(): number {
    return this.queue.length;
  }

  /** Why a job would be refused right now (queue full, worker start paused), or undefined. */
  refusal(): string | undefined {
    if (this.disposed) return 'scanner disposed';
    if (this.queue.length >= this.options.maxQueue) return 'scanner overloaded: too many calls waiting';
    if (this.clock.now() < this.pausedUntil) return 'scanner worker cannot start (see the log); retrying shortly';
    return undefined;
  }

  /**
   * Whether a started worker is there to take jobs now. When there is no worker, one is started
   * without a job (once ready it idles, and stops, as after one), for a caller that would rather
   * not make a job wait for a start.
   */
  readyOrStart(): boolean {
    return !this.disposed && this.ensureWorker()?.ready === true;
  }

  /** Sends the policy patterns to the running worker (a new worker gets them at start). */
  sendPatterns(patterns: PatternSpec[]): void {
    this.slot?.worker.postMessage({ type: 'patterns', patterns } satisfies ToWorker);
  }

  /** Queues a job (call {@link refusal} first); resolves with its outcome, never rejects. */
  submit<R extends Reply>(kind: JobKind, bytes: number, build: (id: number) => ToWorker, transfer: ArrayBuffer[]): Promise<Outcome<R>> {
    return new Promise<Outcome<R>>((resolve) => {
      const id = this.nextId++;
      let settled = false;
      this.queue.push({
        id,
        kind,
        message: build(id),
        transfer,
        bytes,
        ...(kind === 'redactInject' ? { injectBudgetMs: this.options.budgetFor(bytes) } : {}),
        settle: (outcome) => {
          if (settled) return;
          settled = true;
          resolve(outcome as Outcome<R>);
        },
      });
      this.pump();
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const pending = [...(this.current ? [this.current.job] : []), ...this.queue.splice(0)];
    this.current?.timer.dispose();
    this.current = undefined;
    this.idleTimer?.dispose();
    this.killSlot();
    for (const job of pending) job.settle({ kind: 'failed', message: 'scanner disposed' });
    this.timeoutEmitter.dispose();
  }

  // --- jobs ---------------------------------------------------------------------------------

  /** Sends the next job when the worker is started and idle. */
  private pump(): void {
    this.updateRef();
    this.armIdleStop();
    if (this.disposed || this.current || this.queue.length === 0) return;
    const slot = this.ensureWorker();
    if (!slot?.ready) return;
    const job = this.queue.shift()!;
    const budgetMs = this.options.budgetFor(job.bytes);
    const timer = this.clock.setTimeout(() => this.onTimeout(job, budgetMs), budgetMs);
    this.current = { job, timer, slot };
    try {
      slot.worker.postMessage(job.message, job.transfer);
    } catch (err) {
      this.finish(job, { kind: 'failed', message: `could not send to the scanner worker: ${errorText(err)}` });
    }
  }

  private finish(job: Job, outcome: Outcome<Reply>): void {
    if (this.current?.job === job) {
      this.current.timer.dispose();
      this.current = undefined;
    }
    job.settle(outcome);
    this.pump();
  }

  private onTimeout(job: Job, budgetMs: number): void {
    const current = this.current;
    if (!current || current.job !== job) return;
    if (job.kind === 'redactInject' && !job.extended && job.injectBudgetMs !== undefined) {
      // The redaction half's budget is spent. Still redacting → that half overran. Otherwise
      // (scanning, or done with the answer on its way) the injection half gets its own budget.
      const [jobId, phase] = this.progressOf(current.slot);
      if (jobId !== job.id || phase !== PHASE_REDACT) {
        job.extended = true;
        const injectBudgetMs = job.injectBudgetMs;
        current.timer.dispose();
        current.timer = this.clock.setTimeout(() => this.onTimeout(job, injectBudgetMs), injectBudgetMs);
        return;
      }
    }
    const timeout = this.attribute(job, current.slot, budgetMs);
    this.logger.warn(
      `scanner: ${timeout.kind} call over ${timeout.inputBytes} bytes exceeded its ${budgetMs} ms budget ` +
        `(pattern '${timeout.pattern}', ${timeout.source}); failing closed and restarting the scanner worker`,
    );
    this.replaceWorker();
    this.finish(job, { kind: 'timeout', timeout });
    this.timeoutEmitter.fire(timeout);
  }

  /** [job id, phase] from the shared progress cell (no waiting). */
  private progressOf(slot: Slot): [number, number] {
    return [Atomics.load(slot.progress, 0), Atomics.load(slot.progress, 1)];
  }

  /** Names the pattern the worker was running, from the shared progress cell (no waiting). */
  private attribute(job: Job, slot: Slot, budgetMs: number): ScanTimeout {
    const [jobId, phase] = this.progressOf(slot);
    const index = Atomics.load(slot.progress, 2);
    const ours = jobId === job.id;
    // A combined job is reported as the half it was stuck in; past the redaction half's
    // budget without a sign of the worker, it counts as the injection half (the one whose
    // budget just ran out).
    const kind: ScanTimeout['kind'] =
      job.kind === 'redactInject' ? (ours && phase === PHASE_REDACT ? 'redact' : job.extended ? 'injection' : 'redact') : job.kind;
    const base = { kind, budgetMs, inputBytes: job.bytes };
    if (!ours) return { ...base, pattern: 'unknown', source: 'unknown' };
    if (phase === PHASE_INJECT) return { ...base, pattern: 'injection phrases', source: 'injection' };
    if (phase === PHASE_REDACT) {
      const spec = [...SECRET_PATTERNS, ...this.options.userSpecs()][index];
      if (spec) return { ...base, pattern: spec.name, source: spec.source };
    }
    return { ...base, pattern: 'unknown', source: 'unknown' };
  }

  // --- worker lifecycle -----------------------------------------------------------------------

  /** (Re)starts the idle countdown when the worker has nothing to do; any job cancels it. */
  private armIdleStop(): void {
    this.idleTimer?.dispose();
    this.idleTimer = undefined;
    const idle = !this.current && this.queue.length === 0;
    if (!idle || !this.slot || this.disposed || this.options.idleStopMs <= 0) return;
    this.idleTimer = this.clock.setTimeout(() => {
      this.idleTimer = undefined;
      if (this.current || this.queue.length > 0) return;
      this.logger.debug(`scanner worker stopped after ${this.options.idleStopMs} ms without a job`);
      this.killSlot();
    }, this.options.idleStopMs);
  }

  private ensureWorker(): Slot | undefined {
    if (this.disposed) return undefined;
    if (this.slot) return this.slot;
    if (this.clock.now() < this.pausedUntil) return undefined;
    const progress = new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT);
    const init: WorkerInit = { patterns: this.options.userSpecs(), progress };
    let worker: Worker;
    try {
      worker = new Worker(this.workerFile, {
        workerData: init,
        ...(this.execArgv ? { execArgv: this.execArgv } : {}),
        // Never inherit stdout: in `gatehouse serve` the process's stdout is the MCP channel.
        stdout: true,
        stderr: true,
      });
    } catch (err) {
      this.onStartupFailure(`could not create the scanner worker: ${errorText(err)}`);
      return undefined;
    }
    const slot: Slot = { worker, ready: false, progress: new Int32Array(progress) };
    this.slot = slot;
    worker.stdout.on('data', (chunk: Buffer) => this.logger.debug(`scanner worker: ${chunk.toString('utf8').trimEnd()}`));
    worker.stderr.on('data', (chunk: Buffer) => this.logger.warn(`scanner worker: ${chunk.toString('utf8').trimEnd()}`));
    this.updateRef();
    slot.startupTimer = this.clock.setTimeout(() => {
      if (this.slot !== slot || slot.ready) return;
      this.killSlot();
      this.onStartupFailure(`scanner worker did not start within ${this.options.startupTimeoutMs} ms`);
    }, this.options.startupTimeoutMs);
    worker.on('message', (message: FromWorker) => this.guard(() => this.onMessage(slot, message)));
    worker.on('error', (err) => this.guard(() => this.logger.error(`scanner worker error: ${errorText(err)}`)));
    worker.on('exit', (code) => this.guard(() => this.onExit(slot, code)));
    return slot;
  }

  private onMessage(slot: Slot, message: FromWorker): void {
    if (this.slot !== slot) return;
    switch (message.type) {
      case 'ready':
        slot.ready = true;
        slot.startupTimer?.dispose();
        this.startupFailures = 0;
        this.pump();
        return;
      case 'patternError':
        this.logger.warn(`redact pattern '${message.name}' is not used: ${message.reason}`);
        return;
      case 'redacted':
      case 'injected':
      case 'redactedInjected':
      case 'failed': {
        const current = this.current;
        if (!current || current.job.id !== message.id) return;
        if (message.type === 'failed') this.finish(current.job, { kind: 'failed', message: `scanner error: ${message.message}` });
        else this.finish(current.job, { kind: 'ok', reply: message });
        return;
      }
    }
  }

  private onExit(slot: Slot, code: number): void {
    if (this.slot !== slot) return; // a worker we already replaced
    this.slot = undefined;
    slot.startupTimer?.dispose();
    if (this.disposed) return;
    this.restarts++;
    if (!slot.ready) {
      this.onStartupFailure(`scanner worker exited during start-up (code ${code})`);
      return;
    }
    this.logger.error(`scanner worker exited unexpectedly (code ${code}); starting a new one`);
    const current = this.current;
    if (current && current.slot === slot) this.finish(current.job, { kind: 'failed', message: `scanner worker exited (code ${code})` });
    else this.pump();
  }

  private onStartupFailure(reason: string): void {
    this.startupFailures++;
    this.logger.error(reason);
    if (this.startupFailures >= STARTUP_FAILURES_BEFORE_PAUSE) {
      this.pausedUntil = this.clock.now() + PAUSE_AFTER_STARTUP_FAILURES_MS;
      this.startupFailures = 0;
      // Everything waiting fails closed now rather than waiting for the pause to end.
      for (const job of this.queue.splice(0)) job.settle({ kind: 'failed', message: reason });
      return;
    }
    this.pump();
  }

  /** Terminates the current worker (asynchronously) and starts a fresh one. */
  private replaceWorker(): void {
    this.killSlot();
    this.restarts++;
    this.ensureWorker();
  }

  private killSlot(): void {
    const slot = this.slot;
    if (!slot) return;
    this.slot = undefined;
    slot.startupTimer?.dispose();
    slot.worker.terminate().catch((err: unknown) => this.logger.debug(`scanner worker terminate: ${errorText(err)}`));
  }

  /** An idle worker must not keep a CLI process alive; one with work to do must. */
  private updateRef(): void {
    const slot = this.slot;
    if (!slot) return;
    if (this.current || this.queue.length > 0) slot.worker.ref();
    else slot.worker.unref();
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger.error(`scanner: ${errorText(err)}`);
    }
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
