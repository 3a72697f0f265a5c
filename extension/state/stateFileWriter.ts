import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { systemClock, type Clock } from '../common/clock';
import { Disposable, MutableDisposable } from '../common/disposable';
import { Emitter, type Event } from '../common/event';
import type { TelemetryStats } from '../telemetry/telemetryTypes';
import { decideOwnership, lockIsStale, type Identity, type OwnershipDecision } from './decideOwnership';
import { parseStateFile } from './parseStateFile';
import { probePid, type PidLiveness } from './probePid';
import type { StateStore } from './store';
import {
  createExclusive,
  createExclusiveSync,
  errorCode,
  readText,
  readTextSync,
  unlinkQuiet,
  unlinkQuietSync,
  writeAtomic,
  writeAtomicSync,
} from './stateFileIo';

/** The live-state file, beside the registry (rea's name, so `rea status` reads it). */
export const STATE_FILE_NAME = 'serve.state.json';
/** The pid file rea's `status` uses to decide whether a gateway runs. */
export const PID_FILE_NAME = 'serve.pid';

/** Tunables and seams of {@link StateFileWriter}. */
export interface StateFileWriterOptions {
  /** The config directory (`.gatehouse/` or `.rea/`); created if missing. */
  dir: string;
  /** OpenTelemetry export counts, read at each write (the heartbeat keeps them fresh). */
  telemetry?: () => TelemetryStats | undefined;
  /** Fixed-window debounce of store changes. Default 250 ms. */
  debounceMs?: number;
  /** Rewrite at least this often even with no change, so a stale file means a hung gateway. Default 10 000 ms. */
  heartbeatMs?: number;
  /** The metrics port actually bound, or null. */
  metricsPort?: number | null;
  /** Applied to every free-text field (`last_error`, `reason`, block messages) before the disk. */
  redact?: (s: string) => string;
  /** Drives debounce, heartbeat, yield-retry and `updated_at`. Default the system clock. */
  clock?: Clock;
  /** The pid written as `owner_pid` and into `serve.pid`. Default `process.pid`. */
  pid?: number;
  /** How a foreign pid is judged; default `kill(pid, 0)` (ESRCH dead, success/EPERM alive). */
  probePid?: (pid: number) => PidLiveness;
}

/** One completed write of the state file. */
export interface StateFileWrite {
  /** Store revision written. */
  revision: number;
  /** The `updated_at` written. */
  updatedAt: string;
}

/** A foreign, live gateway owns the file; we stopped writing until it goes away. */
export interface StateFileYield {
  sessionId: string;
  ownerPid: number;
}

/** We took the file over from an abandoned or dead owner. */
export interface StateFileReclaim {
  sessionId: string;
  ownerPid: number | null;
}

/**
 * Sessions of the writers started in this process. Lets a writer tell "a lock or state file
 * carrying my pid, left by an earlier process that had the same pid" (containers reuse small
 * pids) from "a sibling writer in this very process", which a bare `kill(pid, 0)` cannot.
 */
const liveSessions = new Set<string>();

const YIELD_RETRY_MS = 2_000;
const REDACTION_FAILED = '[redaction failed]';

/**
 * Persists the store's snapshot to `<dir>/serve.state.json` in rea's format (SPEC §5), so the
 * file is a crash-surviving breadcrumb and `rea status` / `gatehouse status` can read it.
 *
 * - Debounced as rea: the first change arms one timer; everything inside the window lands in
 *   one write. Plus a heartbeat: a rewrite at most `heartbeatMs` after the previous one, so
 *   `updated_at` tells a live gateway from a hung one.
 * - Async I/O only (this runs in the extension host); {@link flushSync} exists for process exit.
 * - Atomic (0600 temp file + rename), one write in flight, changes during a write coalesce
 *   into one more write.
 * - rea's ownership rules under the sidecar lock `serve.state.json.lock`: yield to a live
 *   foreign owner (retry every 2 s), reclaim from a dead one or one without `owner_pid`.
 * - `serve.pid` is written with the first write we own, so it always names the owner of the
 *   state file: a second window on the same folder does not hijack the first one's pid file.
 * - Never throws out of a write: failures are reported through {@link onDidFail}.
 */
export class StateFileWriter extends Disposable {
  private readonly dir: string;
  private readonly statePath: string;
  private readonly lockPath: string;
  private readonly pidPath: string;
  private readonly debounceMs: number;
  private readonly telemetry: StateFileWriterOptions['telemetry'];
  private readonly heartbeatMs: number;
  private readonly redactFn: (s: string) => string;
  private readonly clock: Clock;
  private readonly pid: number;
  private readonly probePid: (pid: number) => PidLiveness;
  private metricsPort: number | null;

  private running = false;
  private disposed = false;
  private startPromise: Promise<void> | null = null;
  private stopPromise: Promise<void> | null = null;

  private writing = false;
  private dirty = false;
  private idle: Promise<void> = Promise.resolve();
  /** Bumped by each flushSync write, so that an async write rendered before it does not land after it. */
  private generation = 0;
  private pidFileWritten = false;
  private owner: boolean | null = null;
  private yieldedTo: string | null = null;
  private lastFailure: string | null = null;
  private writeCount = 0;

  private readonly debounceTimer = this.register(new MutableDisposable());
  private readonly heartbeatTimer = this.register(new MutableDisposable());
  private readonly yieldTimer = this.register(new MutableDisposable());

  private readonly writeEmitter = this.register(new Emitter<StateFileWrite>());
  private readonly failEmitter = this.register(new Emitter<Error>());
  private readonly yieldEmitter = this.register(new Emitter<StateFileYield>());
  private readonly reclaimEmitter = this.register(new Emitter<StateFileReclaim>());

  /** A state file write landed. */
  readonly onDidWrite: Event<StateFileWrite> = this.writeEmitter.event;
  /**
   * A write (or cleanup) failed. Reported once per streak of identical failures, so a
   * read-only directory does not log every heartbeat; a success ends the streak.
   */
  readonly onDidFail: Event<Error> = this.failEmitter.event;
  /** We started yielding to a live foreign owner (rea logs `live_state.yielded`). */
  readonly onDidYield: Event<StateFileYield> = this.yieldEmitter.event;
  /** We took the file from an abandoned or dead owner (rea logs `live_state.reclaimed`). */
  readonly onDidReclaim: Event<StateFileReclaim> = this.reclaimEmitter.event;

  constructor(
    private readonly stateStore: StateStore,
    options: StateFileWriterOptions,
  ) {
    super();
    this.dir = path.resolve(options.dir);
    this.telemetry = options.telemetry;
    this.statePath = path.join(this.dir, STATE_FILE_NAME);
    this.lockPath = `${this.statePath}.lock`;
    this.pidPath = path.join(this.dir, PID_FILE_NAME);
    this.debounceMs = Math.max(0, options.debounceMs ?? 250);
    this.heartbeatMs = Math.max(1, options.heartbeatMs ?? 10_000);
    this.metricsPort = options.metricsPort ?? null;
    this.redactFn = options.redact ?? ((s) => s);
    this.clock = options.clock ?? systemClock;
    this.pid = options.pid ?? process.pid;
    this.probePid = options.probePid ?? probePid;
    this.register(stateStore.onDidChange(() => this.schedule()));
  }

  /** Absolute path of the state file. */
  get path(): string {
    return this.statePath;
  }

  /** Writes landed so far. */
  get writes(): number {
    return this.writeCount;
  }

  /** True after a write we owned, false while yielding to a live peer, null before the first attempt. */
  get isOwner(): boolean | null {
    return this.owner;
  }

  /**
   * Creates the directory and writes the first snapshot (and `serve.pid`, when the file is
   * ours) before resolving; from then on store changes are persisted. Idempotent.
   */
  start(): Promise<void> {
    this.startPromise ??= (async () => {
      if (this.disposed || this.stopPromise) return;
      liveSessions.add(this.sessionId);
      this.running = true;
      try {
        await fsp.mkdir(this.dir, { recursive: true });
      } catch (err) {
        this.fail(err);
      }
      this.requestWrite();
      await this.whenIdle();
    })();
    return this.startPromise;
  }

  /**
   * Stops persisting: cancels pending timers, lets a write in flight finish, then deletes
   * the state file and `serve.pid` if they are still ours (a peer that took over keeps its
   * files). Idempotent; never throws.
   */
  stop(): Promise<void> {
    this.stopPromise ??= (async () => {
      this.running = false;
      this.cancelTimers();
      await this.whenIdle();
      try {
        await this.removeStateIfOwned();
      } catch (err) {
        this.fail(err);
      }
      try {
        await this.removePidIfOwned();
      } catch (err) {
        this.fail(err);
      }
      liveSessions.delete(this.sessionId);
    })();
    return this.stopPromise;
  }

  /** Resolves when no write is in flight (tests await it after advancing a manual clock). */
  async whenIdle(): Promise<void> {
    while (this.writing) await this.idle;
  }

  /** Updates `metrics_port` (known only once the metrics listener is bound). */
  setMetricsPort(port: number | null): void {
    if (port === this.metricsPort) return;
    this.metricsPort = port;
    this.schedule();
  }

  /**
   * Writes the current snapshot now, synchronously, following the same lock and ownership
   * rules. Only for process exit (`process.on('exit')`), where async work never completes;
   * anywhere else it would block the extension host. Never throws.
   */
  flushSync(): void {
    if (!this.running) return;
    try {
      // While the async path is mid-write it holds (or is acquiring) the lock: we are
      // logically inside it, so write without the lock and leave the release to it.
      const ownLock = !this.writing;
      if (ownLock && !this.acquireLockSync()) return;
      try {
        const decision = decideOwnership(readTextSync(this.statePath), this.identity());
        if (!this.applyDecision(decision)) return;
        if (!this.pidFileWritten) {
          writeAtomicSync(this.pidPath, String(this.pid));
          this.pidFileWritten = true;
        }
        const { text, write } = this.render();
        writeAtomicSync(this.statePath, text);
        // An async write that rendered before this one must not land after it.
        this.generation++;
        this.succeeded(write);
      } finally {
        if (ownLock) unlinkQuietSync(this.lockPath);
      }
    } catch (err) {
      this.fail(err);
    }
  }

  override dispose(): void {
    // Detaches without I/O; call stop() first for the cleanup of our files.
    this.disposed = true;
    this.running = false;
    liveSessions.delete(this.sessionId);
    super.dispose();
  }

  private get sessionId(): string {
    return this.stateStore.snapshot.session_id;
  }

  private identity(): Identity {
    return { sessionId: this.sessionId, pid: this.pid, probePid: this.probePid, liveSessions };
  }

  private schedule(): void {
    if (!this.running || this.debounceTimer.value) return;
    this.debounceTimer.value = this.clock.setTimeout(() => {
      this.debounceTimer.value = undefined;
      this.requestWrite();
    }, this.debounceMs);
  }

  private requestWrite(): void {
    if (!this.running) return;
    if (this.writing) {
      this.dirty = true;
      return;
    }
    this.writing = true;
    this.idle = this.drain();
  }

  private async drain(): Promise<void> {
    try {
      do {
        this.dirty = false;
        await this.writeOnce();
      } while (this.dirty && this.running);
    } finally {
      this.writing = false;
    }
  }

  private async writeOnce(): Promise<void> {
    this.armHeartbeat();
    try {
      if (!(await this.acquireLock())) {
        // A peer is mid-write (or the lock is unreadable): rea skips silently; we also retry
        // soon rather than wait for the next change or heartbeat.
        this.armYieldRetry();
        return;
      }
      try {
        const decision = decideOwnership(await readText(this.statePath), this.identity());
        if (!this.applyDecision(decision)) return;
        if (!this.pidFileWritten) {
          await writeAtomic(this.pidPath, String(this.pid));
          this.pidFileWritten = true;
        }
        const generation = this.generation;
        const { text, write } = this.render();
        if (await writeAtomic(this.statePath, text, () => generation === this.generation && !this.disposed)) {
          this.succeeded(write);
        }
      } finally {
        await unlinkQuiet(this.lockPath);
      }
    } catch (err) {
      this.fail(err);
    }
  }

  /** Returns true when we may write; on yield arms the retry and reports it once. */
  private applyDecision(decision: OwnershipDecision): boolean {
    if (decision.kind === 'yield') {
      this.owner = false;
      if (this.yieldedTo !== decision.sessionId) {
        this.yieldedTo = decision.sessionId;
        this.yieldEmitter.fire({ sessionId: decision.sessionId, ownerPid: decision.ownerPid });
      }
      this.armYieldRetry();
      return false;
    }
    if (decision.kind === 'reclaim') {
      this.reclaimEmitter.fire({ sessionId: decision.sessionId, ownerPid: decision.ownerPid });
    }
    this.owner = true;
    this.yieldedTo = null;
    return true;
  }

  private async acquireLock(): Promise<boolean> {
    const content = `${this.pid} ${this.sessionId}\n`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await createExclusive(this.lockPath, content);
        return true;
      } catch (err) {
        if (errorCode(err) !== 'EEXIST') throw err;
        if (attempt > 0) return false;
        if (!lockIsStale(await readText(this.lockPath), this.identity())) return false;
        await unlinkQuiet(this.lockPath);
      }
    }
    return false;
  }

  private acquireLockSync(): boolean {
    const content = `${this.pid} ${this.sessionId}\n`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        createExclusiveSync(this.lockPath, content);
        return true;
      } catch (err) {
        if (errorCode(err) !== 'EEXIST') throw err;
        if (attempt > 0) return false;
        if (!lockIsStale(readTextSync(this.lockPath), this.identity())) return false;
        unlinkQuietSync(this.lockPath);
      }
    }
    return false;
  }

  private render(): { text: string; write: StateFileWrite } {
    const snapshot = this.stateStore.snapshot;
    const updatedAt = new Date(this.clock.now()).toISOString();
    // Key order is rea's, then our block: a diff of two files reads naturally.
    const payload = {
      session_id: snapshot.session_id,
      started_at: snapshot.started_at,
      metrics_port: this.metricsPort,
      downstreams: snapshot.downstreams.map((d) => ({
        ...d,
        last_error: this.redact(d.last_error),
        reason: this.redact(d.reason),
      })),
      updated_at: updatedAt,
      owner_pid: this.pid,
      gatehouse: {
        revision: snapshot.revision,
        session_blocks: snapshot.session_blocks.map((b) => ({ ...b, message: this.redact(b.message) ?? '' })),
        ...(snapshot.config ? { config: { ...snapshot.config, first_error: this.redact(snapshot.config.first_error) } } : {}),
        ...(this.telemetry && { telemetry: this.telemetry() ?? null }),
        // Inside our block, so rea's shape is untouched; `gatehouse status` shows them.
        ...(snapshot.approvals && {
          approvals_waiting: snapshot.approvals.waiting.map((w) => ({ ...w, arguments: this.redact(w.arguments) ?? '' })),
        }),
      },
    };
    return { text: `${JSON.stringify(payload, null, 2)}\n`, write: { revision: snapshot.revision, updatedAt } };
  }

  private redact(value: string | null): string | null {
    if (value === null) return null;
    try {
      const out = this.redactFn(value);
      return typeof out === 'string' ? out : REDACTION_FAILED;
    } catch {
      // Fail closed: a broken redactor must not let the raw text reach the disk.
      return REDACTION_FAILED;
    }
  }

  private succeeded(write: StateFileWrite): void {
    this.writeCount++;
    this.lastFailure = null;
    this.writeEmitter.fire(write);
  }

  private fail(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    if (error.message === this.lastFailure) return;
    this.lastFailure = error.message;
    this.failEmitter.fire(error);
  }

  private armHeartbeat(): void {
    if (!this.running) return;
    this.heartbeatTimer.value = this.clock.setTimeout(() => this.requestWrite(), this.heartbeatMs);
  }

  private armYieldRetry(): void {
    if (!this.running || this.yieldTimer.value) return;
    this.yieldTimer.value = this.clock.setTimeout(() => {
      this.yieldTimer.value = undefined;
      this.requestWrite();
    }, YIELD_RETRY_MS);
  }

  private cancelTimers(): void {
    this.debounceTimer.value = undefined;
    this.heartbeatTimer.value = undefined;
    this.yieldTimer.value = undefined;
  }

  private async removeStateIfOwned(): Promise<void> {
    const parsed = parseStateFile((await readText(this.statePath)) ?? '');
    if (parsed?.session_id !== this.sessionId) return;
    await unlinkQuiet(this.statePath);
  }

  private async removePidIfOwned(): Promise<void> {
    // A sibling writer in this process shares our pid: only the one that wrote it removes it.
    if (!this.pidFileWritten) return;
    const text = await readText(this.pidPath);
    if (text === null || !/^\s*\d+\s*$/.test(text) || Number(text.trim()) !== this.pid) return;
    await unlinkQuiet(this.pidPath);
  }
}
