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
 * - **Large results use a second worker** (rawInjectionScan.ts): from {@link PAIR_MIN_BYTES} the
 *   injection scan of the raw strings runs there while the first worker redacts; its answer is
 *   used only when nothing was redacted (the text is then the same). Same budgets, outcomes and
 *   restarts, each worker for its own half.
 */
import { systemClock, type Clock } from '../../common/clock';
import type { IDisposable } from '../../common/disposable';
import { Emitter, type Event } from '../../common/event';
import { nullLogger, type Logger } from '../../common/logger';
import { compilePatterns, type CompiledPatterns } from './engine';
import { asCollected, findPhrasesByItem, redactStrings, redactThenFindPhrases, type JobStrings } from './jobs';
import { allLinearTime } from './linearTime';
import { BASE64_TOKEN, SECRET_PATTERNS, vetUserPatterns, type PatternSpec, type UserPatternInput } from './patterns';
import { packStrings, SparePacks, transferables, type PackedStrings, type ToWorker } from './protocol';
import {
  applyRedaction,
  clean,
  failedInjection,
  failedRedaction,
  verdictOf,
  type InjectionResult,
  type InjectReply,
  type Outcome,
  type RedactAndScanOptions,
  type RedactAndScanResult,
  type RedactInjectReply,
  type RedactReply,
  type RedactResult,
  type Reply,
  type ScanInjectionOptions,
  type ScanTimeout,
} from './scanResults';
import { collectStrings, type Collected, type WalkOptions } from './walk';
import { PAIR_MIN_BYTES, RawInjectionScan } from './rawInjectionScan';
import { DEFAULT_WORKER_IDLE_STOP_MS, WorkerRunner, type JobKind, type WorkerRunnerOptions } from './workerRunner';

export type {
  InjectionResult,
  InjectionVerdict,
  RedactAndScanOptions,
  RedactAndScanResult,
  RedactResult,
  ScanInjectionOptions,
  ScanTimeout,
} from './scanResults';

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
  /** A worker with no job for this long is stopped (default 60 s; 0 keeps it). */
  workerIdleStopMs?: number;
  /**
   * A tool result of at least this many UTF-8 bytes is redacted and scanned on two workers side
   * by side (see the file comment). Default {@link PAIR_MIN_BYTES}; 0 never pairs.
   */
  pairMinBytes?: number;
}

/** The redaction and injection scans of the gateway (see the file comment); the worker side is workerRunner.ts. */
export class Scanner implements IDisposable {
  private readonly logger: Logger;
  private readonly maxInputBytes: number;
  private readonly inlineMaxBytes: number;
  /** The built-in patterns compiled for inline jobs (on first use). */
  private inlinePatterns: CompiledPatterns | undefined;
  private matchTimeoutMs: number;
  private userSpecs: PatternSpec[] = [];
  private disposed = false;
  private readonly runner: WorkerRunner;
  /** The second worker, for the raw-text injection scan of large results (its thread starts with the first one). */
  private readonly raw: RawInjectionScan;
  private readonly pairMinBytes: number;
  private readonly timeouts = new Emitter<ScanTimeout>();
  /** A large pack's buffer, back from the worker, for the next large pack. */
  private readonly spare = new SparePacks();

  /** Scan jobs run so far: inline on the calling thread, or in the worker (the bench reports the split). */
  readonly split = { inline: 0, worker: 0 };

  /**
   * Fires for every job that ran out of time (after its call has resolved) — on either worker,
   * including a large result's raw-text scan whose answer was not needed (its worker was replaced).
   */
  readonly onDidTimeout: Event<ScanTimeout> = this.timeouts.event;

  constructor(options: ScannerOptions = {}) {
    const logger = (this.logger = options.logger ?? nullLogger);
    this.maxInputBytes = options.maxInputBytes ?? 16 * 1024 * 1024;
    this.inlineMaxBytes = BUILT_INS_LINEAR ? (options.inlineMaxBytes ?? (options.workerFile ? 0 : INLINE_MAX_BYTES)) : 0;
    this.matchTimeoutMs = positive(options.matchTimeoutMs) ?? DEFAULT_MATCH_TIMEOUT_MS;
    if (options.patterns) this.userSpecs = this.vet(vetUserPatterns(options.patterns), logger);
    const runnerOptions: WorkerRunnerOptions = {
      ...(options.workerFile !== undefined ? { workerFile: options.workerFile } : {}),
      ...(options.execArgv !== undefined ? { execArgv: options.execArgv } : {}),
      clock: options.clock ?? systemClock,
      logger,
      startupTimeoutMs: options.startupTimeoutMs ?? 15_000,
      maxQueue: options.maxQueue ?? 1024,
      budgetFor: (bytes) => this.budgetFor(bytes),
      userSpecs: () => this.userSpecs,
      idleStopMs: options.workerIdleStopMs ?? DEFAULT_WORKER_IDLE_STOP_MS,
    };
    this.runner = new WorkerRunner(runnerOptions);
    this.raw = new RawInjectionScan(runnerOptions);
    this.pairMinBytes = options.pairMinBytes ?? PAIR_MIN_BYTES;
    for (const source of [this.runner, this.raw]) source.onDidTimeout((t) => this.timeouts.fire(t));
  }

  /** Large results whose injection scan of the raw text ran on the second worker (used or not). */
  get pairedJobs(): number {
    return this.raw.jobs;
  }

  /** Whether the second worker's thread exists now (started by the first large result). */
  get pairWorkerRunning(): boolean {
    return this.raw.workerRunning;
  }

  /** Whether the second worker is started and takes jobs: the next large result pairs. */
  get pairWorkerReady(): boolean {
    return this.raw.workerReady;
  }

  /** How many times a worker was replaced (timeouts and crashes), both workers together. */
  get workerRestarts(): number {
    return this.runner.workerRestarts + this.raw.workerRestarts;
  }

  /** Whether the scanner's worker thread exists now (it stops after a quiet minute). */
  get workerRunning(): boolean {
    return this.runner.workerRunning;
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
    this.userSpecs = this.vet(vetted, this.logger);
    if (matchTimeoutMs !== undefined) this.matchTimeoutMs = positive(matchTimeoutMs) ?? DEFAULT_MATCH_TIMEOUT_MS;
    this.runner.sendPatterns(this.userSpecs);
    this.raw.sendPatterns(this.userSpecs);
    return vetted.rejected;
  }

  /** Logs the patterns that are left out; returns the ones to use. */
  private vet(vetted: ReturnType<typeof vetUserPatterns>, logger: Logger): PatternSpec[] {
    for (const r of vetted.rejected) logger.warn(`redact pattern '${r.name}' is not used: ${r.reason}`);
    return vetted.specs;
  }

  /**
   * Redacts every string inside `value`, object keys included (objects and arrays are walked;
   * the input is never mutated). `root` prefixes the reported paths; `mcpContent` skips binary
   * payloads and structural fields of MCP content.
   */
  redact<T>(value: T, options: WalkOptions = {}): Promise<RedactResult<T>> {
    return promised(() => this.redactSoon(value, options));
  }

  /**
   * {@link redact}, answered in this turn when no worker is needed (nothing to scan, or a small
   * job run inline): then the result itself, else its promise. For the per-call layers, where an
   * async round for an answer already known cost promises and ticks on every call.
   */
  redactSoon<T>(value: T, options: WalkOptions = {}): RedactResult<T> | Promise<RedactResult<T>> {
    const collected = collectStrings(value, options);
    if (collected.strings.length === 0) return { value, redactedFields: [], patterns: [], timedOut: false };
    const inline = this.runInline(collected.strings, (strings, patterns) => redactStrings(strings, patterns));
    if (inline) return inline.kind === 'ok' ? applyRedaction(value, collected, inline.reply, options) : failedRedaction(value, collected, inline, options);
    return this.redactInWorker(value, collected, options);
  }

  private async redactInWorker<T>(value: T, collected: Collected, options: WalkOptions): Promise<RedactResult<T>> {
    const packed = packStrings(collected.strings, this.spare);
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
  redactAndScanInjection<T>(value: T, options: RedactAndScanOptions = {}): Promise<RedactAndScanResult<T>> {
    return promised(() => this.redactAndScanInjectionSoon(value, options));
  }

  /**
   * {@link redactAndScanInjection}, answered in this turn when no worker is needed (nothing to
   * scan, or a small job run inline): then the answer itself, else its promise.
   */
  redactAndScanInjectionSoon<T>(value: T, options: RedactAndScanOptions = {}): RedactAndScanResult<T> | Promise<RedactAndScanResult<T>> {
    const walk: WalkOptions = { mcpContent: true, ...(options.root !== undefined ? { root: options.root } : {}) };
    const collected = collectStrings(value, walk);
    const { strings, shared } = collected;
    // The redacted copy would not walk like the input (see Collected.shared): do it the long way.
    if (shared) return this.redactThenScan(value, walk, options);
    if (strings.length === 0) return { redaction: { value, redactedFields: [], patterns: [], timedOut: false }, injection: clean() };
    const inline = this.runInline(strings, (all, patterns) => redactThenFindPhrases(all, patterns));
    if (inline?.kind === 'ok') return { redaction: applyRedaction(value, collected, inline.reply, walk), injection: verdictOf(inline.reply.hits, options.tier) };
    if (inline) return { redaction: failedRedaction(value, collected, inline, walk) };
    return this.redactAndScanInWorker(value, collected, walk, options);
  }

  private async redactThenScan<T>(value: T, walk: WalkOptions, options: RedactAndScanOptions): Promise<RedactAndScanResult<T>> {
    const redaction = await this.redact(value, walk);
    if (redaction.timedOut || redaction.failed) return { redaction };
    return { redaction, injection: await this.scanInjection(redaction.value, options) };
  }

  /**
   * The combined job in the worker; from {@link ScannerOptions.pairMinBytes}, with the raw text's
   * injection scan on the second worker meanwhile (rawInjectionScan.ts), whose answer stands in
   * for the scan of the redacted text only when the redaction changed nothing. A raw scan that
   * overran or failed then fails the verdict closed, the redaction standing (as when the
   * combined job overruns in its injection half).
   */
  private async redactAndScanInWorker<T>(value: T, collected: Collected, walk: WalkOptions, options: RedactAndScanOptions): Promise<RedactAndScanResult<T>> {
    const packed = packStrings(collected.strings, this.spare);
    const bytes = packed.bytes.byteLength;
    // Started before `packed` is transferred to the first worker; never for a job run() refuses.
    const raw = this.pairMinBytes > 0 && bytes >= this.pairMinBytes && this.refusal(bytes) === undefined ? this.raw.start(packed) : undefined;
    const rawScanned = raw !== undefined;
    const outcome = await this.run<RedactInjectReply>('redactInject', packed, (id) => ({ type: 'redactInject', id, packed, ...(rawScanned ? { rawScanned } : {}) }), []);
    if (outcome.kind === 'timeout' && outcome.timeout.kind === 'injection') {
      const redaction = await this.redact(value, walk);
      if (redaction.timedOut || redaction.failed) return { redaction };
      return { redaction, injection: failedInjection(outcome) };
    }
    if (outcome.kind !== 'ok') return { redaction: failedRedaction(value, collected, outcome, walk) };
    const redaction = applyRedaction(value, collected, outcome.reply, walk);
    const { hits } = outcome.reply;
    if (hits) return { redaction, injection: verdictOf(hits, options.tier) };
    // No hits: the worker skipped its scan, which only a rawScanned job whose redaction changed nothing may do.
    const scanned = raw && outcome.reply.indices.length === 0 ? await raw : ({ kind: 'failed', message: 'scanner error: no injection scan' } as const);
    if (scanned.kind !== 'ok') return { redaction, injection: failedInjection(scanned) };
    return { redaction, injection: verdictOf(scanned.reply.items[0] ?? { literal: [], base64: [] }, options.tier) };
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
    const inline = this.runInline(strings, (all) => findPhrasesByItem(all, owners, values.length));
    if (inline?.kind === 'ok') return values.map((_, i) => verdictOf(inline.reply[i] ?? { literal: [], base64: [] }, options.tier));
    if (inline) return values.map(() => failedInjection(inline));
    const packed = packStrings(strings, this.spare);
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
    this.runner.dispose();
    this.raw.dispose();
    this.timeouts.dispose();
  }

  // --- jobs ---------------------------------------------------------------------------------

  private run<R extends Reply>(kind: JobKind, packed: PackedStrings, build: (id: number) => ToWorker, extraTransfer: ArrayBuffer[]): Promise<Outcome<R>> {
    const bytes = packed.bytes.byteLength;
    const refused = this.refusal(bytes);
    if (refused !== undefined) return Promise.resolve({ kind: 'failed', message: refused });
    this.split.worker++;
    return this.runner.submit<R>(kind, bytes, build, [...transferables(packed), ...extraTransfer]).then((outcome) => {
      if (outcome.kind === 'ok') this.spare.give(outcome.reply.input);
      return outcome;
    });
  }

  /** Why a worker job over `bytes` would fail closed at once, or undefined. */
  private refusal(bytes: number): string | undefined {
    if (this.disposed) return 'scanner disposed';
    if (bytes > this.maxInputBytes) return `input of ${bytes} bytes exceeds the scanner limit of ${this.maxInputBytes} bytes`;
    return this.runner.refusal();
  }

  /**
   * A small job with the built-in patterns only, run here: the same code the worker runs
   * (jobs.ts), without the round trip — nor the packing into one buffer and back that the
   * round trip needs, which cost more than the matching of a small call. Linear-time patterns
   * on a bounded input need no budget. Undefined when the job is not for here: a policy pattern
   * is set, or the strings are over {@link ScannerOptions.inlineMaxBytes} UTF-8 bytes (small
   * jobs never wait for the worker, nor its queue, nor its restart pause), or the scanner is
   * disposed (the worker path answers that).
   */
  private runInline<R>(strings: readonly string[], job: (strings: JobStrings, patterns: CompiledPatterns) => R): Outcome<R> | undefined {
    if (this.disposed || this.userSpecs.length > 0) return undefined;
    let bytes = 0;
    for (const s of strings) {
      bytes += Buffer.byteLength(s, 'utf8');
      if (bytes > this.inlineMaxBytes) return undefined;
    }
    this.split.inline++;
    try {
      this.inlinePatterns ??= compilePatterns(SECRET_PATTERNS);
      return { kind: 'ok', reply: job(asCollected(strings), this.inlinePatterns) };
    } catch (err) {
      return { kind: 'failed', message: `scanner error: ${errorText(err)}` };
    }
  }
}

function positive(n: number | undefined): number | undefined {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What a `…Soon` method answers, always as a promise (a throw becomes a rejection, as from an async method). */
function promised<T>(soon: () => T | Promise<T>): Promise<T> {
  try {
    const answer = soon();
    return answer instanceof Promise ? answer : Promise.resolve(answer);
  } catch (err) {
    return Promise.reject(err);
  }
}
