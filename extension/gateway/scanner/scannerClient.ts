/**
 * `Scanner`: the main-thread face of the scanner worker (DESIGN §1: no regex over untrusted text
 * on the extension host's thread — with one proven exception, below).
 *
 * - **Small jobs run inline** ({@link INLINE_MAX_BYTES}, 8 KiB): when no policy pattern is set
 *   and every built-in pattern is linear-time by shape (linearTime.ts, checked at load and by
 *   secretPatterns.test.ts), a job that small costs less than the worker round trip (about
 *   0.4 ms). It runs the very code the worker runs (jobs.ts). Policy patterns, which may
 *   backtrack, and larger payloads always go to the worker with its budget.
 *
 * - ONE long-lived worker thread holds the compiled patterns: rea's built-in secret patterns plus
 *   policy `redact.patterns` (replaced with {@link Scanner.setPatterns} on policy reload), and the
 *   injection phrase set.
 * - One call = one job = one message each way: all strings of a value travel packed in one
 *   transferred buffer. Jobs run one at a time, in order. A tool result's redaction and its
 *   injection scan are one job ({@link Scanner.redactAndScanInjection}): each worker round trip
 *   is a thread wake-up on both sides, which on a busy 2-core machine costs more than the
 *   matching of a small result.
 * - **Budget per call, not per regex.** A job may run for
 *   `match_timeout_ms × (CALL_BUDGET_STEPS + input bytes / 256 KiB)` — 1 s for a small argument
 *   object, 1.4 s for a 1 MiB result with the default 100 ms — measured from the moment the job
 *   is handed to an idle, started worker (queueing and worker start-up are not charged). Honest
 *   work is far inside it (a 1 MiB result takes about 15 ms to redact and 40 ms to scan on a
 *   2-core CI machine); the budget only has to stop a catastrophically backtracking pattern, which
 *   overruns any budget. It is deliberately not tight: a budget of one `match_timeout_ms` per call
 *   failed honest calls closed in CI whenever the machine was busy (the worker thread was simply
 *   not scheduled for 100 ms). A budget per regex (rea) would let one call run for
 *   patterns × strings × 100 ms.
 * - **Overrun:** the call resolves at once with `timedOut: true` and a fail-closed outcome
 *   (redaction: every string of the value becomes `[REDACTION TIMED OUT]`; injection: verdict
 *   `likely`), naming the pattern that was running (read from a shared progress cell the worker
 *   writes — the main thread never waits on it). The worker is terminated and a fresh one started
 *   for the next job; `onDidTimeout` fires. Nothing ever blocks the main thread (no Atomics.wait,
 *   no synchronous fallback).
 * - A worker that crashes fails its current job closed (`failed`) and is replaced; after three
 *   start-up failures in a row, calls fail closed immediately for 10 s before the next attempt.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { systemClock, type Clock } from '../../common/clock';
import type { IDisposable } from '../../common/disposable';
import { Emitter, type Event } from '../../common/event';
import { nullLogger, type Logger } from '../../common/logger';
import { classifyInjection, compilePatterns, type CompiledPatterns, type InjectionVerdict } from './engine';
import { runJob, type JobMessage } from './jobs';
import { allLinearTime } from './linearTime';
import { BASE64_TOKEN, REDACTION_TIMED_OUT, SECRET_PATTERNS, vetUserPatterns, type PatternSource, type PatternSpec, type UserPatternInput } from './patterns';
import {
  PHASE_INJECT,
  PHASE_REDACT,
  packStrings,
  transferables,
  unpackString,
  type FromWorker,
  type InjectHits,
  type PackedStrings,
  type ToWorker,
  type WorkerInit,
} from './protocol';
import { collectStrings, pathOf, replaceStrings, type Collected, type WalkOptions } from './walk';

export type { InjectionVerdict } from './engine';

/** Default of policy `redact.match_timeout_ms`. */
export const DEFAULT_MATCH_TIMEOUT_MS = 100;
/** Each this many input bytes add one `match_timeout_ms` to a call's budget. */
export const BUDGET_BYTES_PER_STEP = 256 * 1024;

/** Every call gets at least this many `match_timeout_ms` (see the file comment for why). */
export const CALL_BUDGET_STEPS = 10;

/**
 * Default of {@link ScannerOptions.inlineMaxBytes}. A worker round trip costs about 0.4 ms on a
 * busy 2-core machine (two thread wake-ups and a message each way); the linear-time built-in
 * patterns and the phrase scan get through 8 KiB in about that, so smaller jobs are cheaper here.
 */
export const INLINE_MAX_BYTES = 8 * 1024;

/**
 * Whether the built-in patterns may run on the calling thread at all: only when each one is
 * linear-time by shape (linearTime.ts). Checked once, at load: a built-in pattern edited into a
 * backtracking shape sends every job back to the worker (and fails secretPatterns.test.ts).
 */
const BUILT_INS_LINEAR = allLinearTime([...SECRET_PATTERNS.map((p) => p.regex), BASE64_TOKEN.regex]);

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

/** Options of {@link Scanner.redactAndScanInjection}: a tool result is always walked as MCP content. */
export interface RedactAndScanOptions extends ScanInjectionOptions {
  /** Path prefix of the reported redacted fields, e.g. `result`. */
  root?: string;
}

/** What {@link Scanner.redactAndScanInjection} found. */
export interface RedactAndScanResult<T = unknown> {
  redaction: RedactResult<T>;
  /**
   * The injection verdict of `redaction.value`. Undefined when the redaction did not complete
   * (timed out or failed): the value is then the fail-closed rewrite, which was not scanned —
   * scan it on its own if a verdict is needed.
   */
  injection?: InjectionResult;
}

export interface ScannerOptions {
  /** The worker script: dist/scannerWorker.js when bundled, worker.ts (through tsx) from source. */
  workerFile?: string | URL;
  /** execArgv for the worker, e.g. ['--require', 'tsx/cjs'] to run worker.ts from source. */
  execArgv?: string[];
  /** Policy `redact.patterns`. */
  patterns?: readonly UserPatternInput[];
  /** Policy `redact.match_timeout_ms` (default 100). */
  matchTimeoutMs?: number;
  /** Times the per-call budget; it measures real work, so this must be a real clock (default system). */
  clock?: Clock;
  logger?: Logger;
  /** Time allowed for a worker to start (default 15 s). */
  startupTimeoutMs?: number;
  /** Calls waiting beyond this many fail closed at once (default 1024). */
  maxQueue?: number;
  /** Inputs larger than this (UTF-8 bytes) are not scanned: they fail closed (default 16 MiB). */
  maxInputBytes?: number;
  /**
   * Jobs over at most this many UTF-8 bytes run inline on the calling thread, when no policy
   * pattern is set (policy patterns may backtrack: they run only in the worker, under its
   * budget) and the built-in patterns are proven linear-time. 0 sends every job to the worker.
   * Default {@link INLINE_MAX_BYTES}; 0 when `workerFile` is given (a test's worker stands in
   * for the real one and must see every job).
   */
  inlineMaxBytes?: number;
}

type Outcome<R> = { kind: 'ok'; reply: R } | { kind: 'timeout'; timeout: ScanTimeout } | { kind: 'failed'; message: string };

type RedactReply = Extract<FromWorker, { type: 'redacted' }>;
type InjectReply = Extract<FromWorker, { type: 'injected' }>;
type RedactInjectReply = Extract<FromWorker, { type: 'redactedInjected' }>;
type Reply = RedactReply | InjectReply | RedactInjectReply;

interface Job {
  id: number;
  kind: 'redact' | 'injection' | 'redactInject';
  message: ToWorker;
  transfer: ArrayBuffer[];
  bytes: number;
  /**
   * `redactInject` only: the injection half's budget, granted when the redaction half's budget
   * runs out while the worker is no longer redacting (see {@link Scanner.onTimeout}).
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

export class Scanner implements IDisposable {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly workerFile: string | URL;
  private readonly execArgv: string[] | undefined;
  private readonly startupTimeoutMs: number;
  private readonly maxQueue: number;
  private readonly maxInputBytes: number;
  private readonly inlineMaxBytes: number;
  /** The built-in patterns compiled for inline jobs (on first use). */
  private inlinePatterns: CompiledPatterns | undefined;
  private matchTimeoutMs: number;
  private userSpecs: PatternSpec[] = [];
  private readonly queue: Job[] = [];
  private current: { job: Job; timer: IDisposable; slot: Slot } | undefined;
  private slot: Slot | undefined;
  private nextId = 1;
  private startupFailures = 0;
  private pausedUntil = 0;
  private disposed = false;
  private restarts = 0;
  private readonly timeoutEmitter = new Emitter<ScanTimeout>();

  /** Scan jobs run so far: inline on the calling thread, or in the worker (the bench reports the split). */
  readonly split = { inline: 0, worker: 0 };

  /** Fires for every call that ran out of time (after the call has resolved). */
  readonly onDidTimeout: Event<ScanTimeout> = this.timeoutEmitter.event;

  constructor(options: ScannerOptions = {}) {
    const fallback = defaultWorker();
    this.workerFile = options.workerFile ?? fallback.file;
    this.execArgv = options.execArgv ?? (options.workerFile ? undefined : fallback.execArgv);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? nullLogger;
    this.startupTimeoutMs = options.startupTimeoutMs ?? 15_000;
    this.maxQueue = options.maxQueue ?? 1024;
    this.maxInputBytes = options.maxInputBytes ?? 16 * 1024 * 1024;
    this.inlineMaxBytes = BUILT_INS_LINEAR ? (options.inlineMaxBytes ?? (options.workerFile ? 0 : INLINE_MAX_BYTES)) : 0;
    this.matchTimeoutMs = positive(options.matchTimeoutMs) ?? DEFAULT_MATCH_TIMEOUT_MS;
    if (options.patterns) this.setPatterns(options.patterns);
    this.ensureWorker();
  }

  /** How many times the worker was replaced (timeouts and crashes). */
  get workerRestarts(): number {
    return this.restarts;
  }

  /** The budget of one call over `bytes` of input. */
  budgetFor(bytes: number): number {
    return Math.ceil(this.matchTimeoutMs * (CALL_BUDGET_STEPS + bytes / BUDGET_BYTES_PER_STEP));
  }

  /**
   * Replaces the policy patterns (and, when given, `match_timeout_ms`). Patterns that do not
   * compile are left out and returned, and logged: the caller should surface them.
   */
  setPatterns(patterns: readonly UserPatternInput[] | undefined, matchTimeoutMs?: number): Array<{ name: string; reason: string }> {
    const vetted = vetUserPatterns(patterns);
    for (const r of vetted.rejected) this.logger.warn(`redact pattern '${r.name}' is not used: ${r.reason}`);
    this.userSpecs = vetted.specs;
    if (matchTimeoutMs !== undefined) this.matchTimeoutMs = positive(matchTimeoutMs) ?? DEFAULT_MATCH_TIMEOUT_MS;
    this.slot?.worker.postMessage({ type: 'patterns', patterns: this.userSpecs } satisfies ToWorker);
    return vetted.rejected;
  }

  /**
   * Redacts every string inside `value`, object keys included (objects and arrays are walked;
   * the input is never mutated). `root` prefixes the reported paths; `mcpContent` skips binary
   * payloads and structural fields of MCP content.
   */
  async redact<T>(value: T, options: WalkOptions = {}): Promise<RedactResult<T>> {
    const collected = collectStrings(value, options);
    if (collected.strings.length === 0) return { value, redactedFields: [], patterns: [], timedOut: false };
    const packed = packStrings(collected.strings);
    const outcome = await this.run<RedactReply>('redact', packed, (id) => ({ type: 'redact', id, packed }), []);
    if (outcome.kind !== 'ok') return failedRedaction(value, collected, outcome, options);
    return applyRedaction(value, collected, outcome.reply, options);
  }

  /**
   * Redacts a tool result and scans the redacted text for injection in ONE worker job — the
   * same work, in the same order, as {@link redact} then {@link scanInjection} on its value,
   * but one round trip and one encode instead of two. The walk is always `mcpContent`.
   *
   * Budgets are those of the two separate calls: the redaction half gets `budgetFor(bytes)`;
   * the injection half gets another `budgetFor(bytes)` on top. A job stuck in its redaction
   * half fails the redaction closed (and leaves `injection` undefined, as a failed redaction
   * would have been followed by a scan of the fail-closed text). A job stuck in its injection
   * half fails the verdict closed; the redaction it had finished died with the worker, so it is
   * run again on its own (it completed once, so it completes again).
   */
  async redactAndScanInjection<T>(value: T, options: RedactAndScanOptions = {}): Promise<RedactAndScanResult<T>> {
    const walk: WalkOptions = { mcpContent: true, ...(options.root !== undefined ? { root: options.root } : {}) };
    const collected = collectStrings(value, walk);
    const { strings, shared } = collected;
    if (shared) {
      // The redacted copy would not walk like the input (see Collected.shared): do it the long way.
      const redaction = await this.redact(value, walk);
      if (redaction.timedOut || redaction.failed) return { redaction };
      return { redaction, injection: await this.scanInjection(redaction.value, options) };
    }
    if (strings.length === 0) return { redaction: { value, redactedFields: [], patterns: [], timedOut: false }, injection: clean() };
    const packed = packStrings(strings);
    const outcome = await this.run<RedactInjectReply>('redactInject', packed, (id) => ({ type: 'redactInject', id, packed }), []);
    if (outcome.kind === 'timeout' && outcome.timeout.kind === 'injection') {
      const redaction = await this.redact(value, walk);
      if (redaction.timedOut || redaction.failed) return { redaction };
      return { redaction, injection: failedInjection(outcome) };
    }
    if (outcome.kind !== 'ok') return { redaction: failedRedaction(value, collected, outcome, walk) };
    return { redaction: applyRedaction(value, collected, outcome.reply, walk), injection: verdictOf(outcome.reply.hits, options.tier) };
  }

  /** Redacts one string; on timeout or failure the whole text is `[REDACTION TIMED OUT]`. */
  redactText(text: string): Promise<RedactResult<string>> {
    return this.redact(text);
  }

  /** Scans a text or a tool result (every string; binary payloads skipped) for injection. */
  async scanInjection(value: unknown, options: ScanInjectionOptions = {}): Promise<InjectionResult> {
    const [result] = await this.scanInjectionMany([value], options);
    return result!;
  }

  /**
   * Scans several values in one job, one verdict each (tool descriptions at list time). A
   * timeout or failure fails every item closed.
   */
  async scanInjectionMany(values: readonly unknown[], options: ScanInjectionOptions = {}): Promise<InjectionResult[]> {
    const strings: string[] = [];
    const owners: number[] = [];
    values.forEach((value, item) => {
      for (const s of collectStrings(value, { mcpContent: true }).strings) {
        strings.push(s);
        owners.push(item);
      }
    });
    if (strings.length === 0) return values.map(clean);
    const packed = packStrings(strings);
    const items = Uint32Array.from(owners);
    const outcome = await this.run<InjectReply>(
      'injection',
      packed,
      (id) => ({ type: 'inject', id, packed, items, itemCount: values.length }),
      [items.buffer as ArrayBuffer],
    );
    if (outcome.kind !== 'ok') return values.map(() => failedInjection(outcome));
    return values.map((_, i) => verdictOf(outcome.reply.items[i] ?? { literal: [], base64: [] }, options.tier));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const pending = [...(this.current ? [this.current.job] : []), ...this.queue.splice(0)];
    this.current?.timer.dispose();
    this.current = undefined;
    this.killSlot();
    for (const job of pending) job.settle({ kind: 'failed', message: 'scanner disposed' });
    this.timeoutEmitter.dispose();
  }

  // --- jobs ---------------------------------------------------------------------------------

  private run<R extends Reply>(
    kind: Job['kind'],
    packed: PackedStrings,
    build: (id: number) => ToWorker,
    extraTransfer: ArrayBuffer[],
  ): Promise<Outcome<R>> {
    const bytes = packed.bytes.byteLength;
    if (this.disposed) return Promise.resolve({ kind: 'failed', message: 'scanner disposed' });
    if (bytes > this.maxInputBytes) {
      return Promise.resolve({ kind: 'failed', message: `input of ${bytes} bytes exceeds the scanner limit of ${this.maxInputBytes} bytes` });
    }
    // Small jobs never wait for the worker (nor its queue, nor its restart pause).
    if (bytes <= this.inlineMaxBytes && this.userSpecs.length === 0) return Promise.resolve(this.runInline<R>(build(0) as JobMessage));
    if (this.queue.length >= this.maxQueue) return Promise.resolve({ kind: 'failed', message: 'scanner overloaded: too many calls waiting' });
    if (this.clock.now() < this.pausedUntil) {
      return Promise.resolve({ kind: 'failed', message: 'scanner worker cannot start (see the log); retrying shortly' });
    }
    this.split.worker++;
    return new Promise<Outcome<R>>((resolve) => {
      const id = this.nextId++;
      let settled = false;
      this.queue.push({
        id,
        kind,
        message: build(id),
        transfer: [...transferables(packed), ...extraTransfer],
        bytes,
        ...(kind === 'redactInject' ? { injectBudgetMs: this.budgetFor(bytes) } : {}),
        settle: (outcome) => {
          if (settled) return;
          settled = true;
          resolve(outcome as Outcome<R>);
        },
      });
      this.pump();
    });
  }

  /**
   * A small job with the built-in patterns only, run here: the same code the worker runs
   * (jobs.ts), without the round trip. Linear-time patterns on a bounded input need no budget.
   */
  private runInline<R extends Reply>(message: JobMessage): Outcome<R> {
    this.split.inline++;
    try {
      this.inlinePatterns ??= compilePatterns(SECRET_PATTERNS);
      return { kind: 'ok', reply: runJob(message, this.inlinePatterns, noMark).reply as R };
    } catch (err) {
      return { kind: 'failed', message: `scanner error: ${errorText(err)}` };
    }
  }

  /** Sends the next job when the worker is started and idle. */
  private pump(): void {
    this.updateRef();
    if (this.disposed || this.current || this.queue.length === 0) return;
    const slot = this.ensureWorker();
    if (!slot?.ready) return;
    const job = this.queue.shift()!;
    const budgetMs = this.budgetFor(job.bytes);
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
      const spec = [...SECRET_PATTERNS, ...this.userSpecs][index];
      if (spec) return { ...base, pattern: spec.name, source: spec.source };
    }
    return { ...base, pattern: 'unknown', source: 'unknown' };
  }

  // --- worker lifecycle -----------------------------------------------------------------------

  private ensureWorker(): Slot | undefined {
    if (this.disposed) return undefined;
    if (this.slot) return this.slot;
    if (this.clock.now() < this.pausedUntil) return undefined;
    const progress = new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT);
    const init: WorkerInit = { patterns: this.userSpecs, progress };
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
      this.onStartupFailure(`scanner worker did not start within ${this.startupTimeoutMs} ms`);
    }, this.startupTimeoutMs);
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

/**
 * Builds the redacted copy from a worker reply (shared by {@link Scanner.redact} and the combined
 * job). Field paths are spelled with redacted keys, so a secret used as a key stays out of them.
 */
function applyRedaction<T>(value: T, collected: Collected, reply: Pick<RedactReply, 'indices' | 'packed' | 'names'>, options: WalkOptions): RedactResult<T> {
  if (reply.indices.length === 0) return { value, redactedFields: [], patterns: [], timedOut: false };
  const replaced = new Map<number, string>();
  const names = new Set<string>();
  for (let k = 0; k < reply.indices.length; k++) {
    replaced.set(reply.indices[k]!, unpackString(reply.packed, k));
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
function failedRedaction<T>(value: T, collected: Collected, outcome: Exclude<Outcome<unknown>, { kind: 'ok' }>, options: WalkOptions): RedactResult<T> {
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
function failedInjection(outcome: Exclude<Outcome<unknown>, { kind: 'ok' }>): InjectionResult {
  return {
    verdict: 'likely',
    matches: [],
    base64: false,
    timedOut: outcome.kind === 'timeout',
    ...(outcome.kind === 'timeout' ? { timeout: outcome.timeout } : { failed: outcome.message }),
  };
}

function clean(): InjectionResult {
  return { verdict: 'clean', matches: [], base64: false, timedOut: false };
}

function verdictOf(hits: InjectHits, tier: ScanInjectionOptions['tier']): InjectionResult {
  const matches = [...new Set([...hits.literal, ...hits.base64])].sort();
  return {
    verdict: classifyInjection(hits.literal.length, hits.base64.length, tier),
    matches,
    base64: hits.base64.length > 0,
    timedOut: false,
  };
}

/** Inline jobs have no watchdog to report progress to. */
function noMark(): void {}

function positive(n: number | undefined): number | undefined {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
