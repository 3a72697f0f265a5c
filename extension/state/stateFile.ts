import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { systemClock, type Clock } from '../common/clock';
import { Disposable, MutableDisposable } from '../common/disposable';
import { Emitter, type Event } from '../common/event';
import type { ApprovalWaitingView, CircuitState, ConfigStateView, DownstreamState, DownstreamView, SessionBlockView } from '../protocol/model';
import type { StateStore } from './store';
import { probePid, type PidLiveness } from './probePid';
import { replaceFile } from '../platform/replaceFile';
import type { TelemetryStats } from '../telemetry/telemetryTypes';

/** The live-state file, beside the registry (rea's name, so `rea status` reads it). */
export const STATE_FILE_NAME = 'serve.state.json';
/** The pid file rea's `status` uses to decide whether a gateway runs. */
export type { PidLiveness } from './probePid';

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

/** rea's fields of a downstream entry: always present after {@link parseStateFile}. */
type ReaDownstreamField =
  | 'name'
  | 'connected'
  | 'healthy'
  | 'circuit_state'
  | 'retry_at'
  | 'last_error'
  | 'tools_count'
  | 'open_transitions'
  | 'session_blocker_emitted';

/** A downstream entry as read back: rea's fields coerced, Gatehouse's present only when well-typed. */
export type StateFileDownstream = Pick<DownstreamView, ReaDownstreamField> &
  Partial<Omit<DownstreamView, ReaDownstreamField>>;

/** What {@link parseStateFile} returns: every field validated, invalid ones null. */
export interface StateFileContents {
  session_id: string | null;
  started_at: string | null;
  metrics_port: number | null;
  /** null for a legacy (pre-0.9) file without the array. */
  downstreams: StateFileDownstream[] | null;
  /** Ignored by rea's status; Gatehouse uses it to flag a stale snapshot (SPEC §13.1 item 11). */
  updated_at: string | null;
  owner_pid: number | null;
  /** Gatehouse's own block; null in a file written by rea. */
  gatehouse: {
    revision: number | null;
    session_blocks: SessionBlockView[];
    config?: ConfigStateView;
    telemetry?: TelemetryStats | null;
    /** Calls waiting for a person (policy `approval:`); absent in files written before approvals. */
    approvals_waiting?: ApprovalWaitingView[];
  } | null;
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

// ---------------------------------------------------------------------------------------------
// Ownership and lock rules (SPEC §5.4), pure so both the async and the sync path share them.

interface Identity {
  sessionId: string;
  pid: number;
  probePid: (pid: number) => PidLiveness;
  liveSessions: ReadonlySet<string>;
}

type OwnershipDecision =
  | { kind: 'own' }
  | { kind: 'reclaim'; sessionId: string; ownerPid: number | null }
  | { kind: 'yield'; sessionId: string; ownerPid: number };

function decideOwnership(text: string | null, me: Identity): OwnershipDecision {
  if (text === null) return { kind: 'own' };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { kind: 'own' };
  }
  if (!isRecord(data) || typeof data.session_id !== 'string') return { kind: 'own' };
  const sessionId = data.session_id;
  if (sessionId === me.sessionId) return { kind: 'own' };
  const ownerPid = data.owner_pid;
  if (!isPositiveInt(ownerPid)) return { kind: 'reclaim', sessionId, ownerPid: null };
  if (ownerPid === me.pid) {
    // Our pid but another session: a sibling writer in this process (yield), or an earlier
    // process that had our pid (dead by definition: reclaim).
    return me.liveSessions.has(sessionId) ? { kind: 'yield', sessionId, ownerPid } : { kind: 'reclaim', sessionId, ownerPid };
  }
  return me.probePid(ownerPid) === 'dead' ? { kind: 'reclaim', sessionId, ownerPid } : { kind: 'yield', sessionId, ownerPid };
}

/** True when the lock `"<pid> <session>"` is left over by a process (or session) that is gone. */
function lockIsStale(text: string | null, me: Identity): boolean {
  const match = /^\s*(\d+)(?:\s+(\S+))?/.exec(text ?? '');
  if (!match) return false;
  const holder = Number(match[1]);
  if (!isPositiveInt(holder)) return false;
  if (holder === me.pid) {
    const session = match[2];
    // Our own session's lock while we do not hold it is a leftover of a failed release.
    return session === undefined || session === me.sessionId || !me.liveSessions.has(session);
  }
  return me.probePid(holder) === 'dead';
}

// ---------------------------------------------------------------------------------------------
// File helpers.

async function readText(file: string): Promise<string | null> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return null;
    throw err;
  }
}

function readTextSync(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return null;
    throw err;
  }
}

async function createExclusive(file: string, content: string): Promise<void> {
  const handle = await fsp.open(file, 'wx', 0o600);
  try {
    await handle.writeFile(content);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlinkQuiet(file);
    throw err;
  }
  await handle.close();
}

function createExclusiveSync(file: string, content: string): void {
  const fd = fs.openSync(file, 'wx', 0o600);
  try {
    fs.writeFileSync(fd, content);
  } catch (err) {
    fs.closeSync(fd);
    unlinkQuietSync(file);
    throw err;
  }
  fs.closeSync(fd);
}

/**
 * Writes `<dir>/.<name>.<uuid>.tmp` (0600) and renames it over `target`. `commit` is asked
 * right before the rename; false discards the temp file and returns false.
 */
async function writeAtomic(target: string, text: string, commit?: () => boolean): Promise<boolean> {
  const tmp = tempPath(target);
  try {
    await createExclusive(tmp, text);
    if (commit && !commit()) {
      await unlinkQuiet(tmp);
      return false;
    }
    await replaceFile(tmp, target); // retries Windows sharing violations
    return true;
  } catch (err) {
    await unlinkQuiet(tmp);
    throw err;
  }
}

function writeAtomicSync(target: string, text: string): void {
  const tmp = tempPath(target);
  try {
    createExclusiveSync(tmp, text);
    fs.renameSync(tmp, target);
  } catch (err) {
    unlinkQuietSync(tmp);
    throw err;
  }
}

function tempPath(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${randomUUID()}.tmp`);
}

async function unlinkQuiet(file: string): Promise<void> {
  await fsp.unlink(file).catch(() => undefined);
}

function unlinkQuietSync(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    // best effort: a dangling file is cleaned by the stale rules next time
  }
}

function errorCode(err: unknown): string | undefined {
  return isRecord(err) && typeof err.code === 'string' ? err.code : undefined;
}

// ---------------------------------------------------------------------------------------------
// Forgiving reader (SPEC §6.1 step 4), for `gatehouse status`.

const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'open', 'half-open'];
const DOWNSTREAM_STATES: readonly DownstreamState[] = [
  'disabled',
  'blocked',
  'starting',
  'ready',
  'degraded',
  'crashed',
  'backoff',
  'gave_up',
  'needs_auth',
  'stopped',
];

/**
 * Parses a state file written by Gatehouse or by rea, forgiving as rea's `status`: returns
 * null for missing/invalid JSON (or a non-object), otherwise every field validated — wrong
 * types become null, invalid downstream entries are dropped, rea's entry fields are coerced
 * to their defaults, and Gatehouse's extra fields are kept only when well-typed.
 */
export function parseStateFile(text: string): StateFileContents | null {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isRecord(data)) return null;
  return {
    session_id: stringOrNull(data.session_id),
    started_at: stringOrNull(data.started_at),
    metrics_port: Number.isInteger(data.metrics_port) ? (data.metrics_port as number) : null,
    downstreams: Array.isArray(data.downstreams) ? data.downstreams.flatMap(parseDownstream) : null,
    updated_at: stringOrNull(data.updated_at),
    owner_pid: isPositiveInt(data.owner_pid) ? data.owner_pid : null,
    gatehouse: parseGatehouseBlock(data.gatehouse),
  };
}

function parseDownstream(raw: unknown): StateFileDownstream[] {
  if (!isRecord(raw) || typeof raw.name !== 'string' || raw.name === '') return [];
  const entry: StateFileDownstream = {
    name: raw.name,
    connected: raw.connected === true,
    healthy: raw.healthy === true,
    circuit_state: CIRCUIT_STATES.includes(raw.circuit_state as CircuitState)
      ? (raw.circuit_state as CircuitState)
      : 'closed',
    retry_at: stringOrNull(raw.retry_at),
    last_error: stringOrNull(raw.last_error),
    tools_count: Number.isInteger(raw.tools_count) ? (raw.tools_count as number) : null,
    open_transitions: Number.isInteger(raw.open_transitions) ? (raw.open_transitions as number) : 0,
    session_blocker_emitted: raw.session_blocker_emitted === true,
  };
  if (DOWNSTREAM_STATES.includes(raw.state as DownstreamState)) entry.state = raw.state as DownstreamState;
  if (raw.transport === 'stdio' || raw.transport === 'http') entry.transport = raw.transport;
  if (isNullable(raw.reason, isString)) entry.reason = raw.reason;
  if (isNullable(raw.pid, isPositiveInt)) entry.pid = raw.pid;
  if (isNullable(raw.started_at, isString)) entry.started_at = raw.started_at;
  if (isNullable(raw.next_retry_at, isString)) entry.next_retry_at = raw.next_retry_at;
  if (isCount(raw.restarts)) entry.restarts = raw.restarts;
  if (isCount(raw.calls)) entry.calls = raw.calls;
  if (isCount(raw.errors)) entry.errors = raw.errors;
  if (isCount(raw.in_flight)) entry.in_flight = raw.in_flight;
  if (isNullable(raw.prompts_count, isCount)) entry.prompts_count = raw.prompts_count;
  if (isNullable(raw.resources_count, isCount)) entry.resources_count = raw.resources_count;
  if (raw.last_exit === null) entry.last_exit = null;
  else if (
    isRecord(raw.last_exit) &&
    isNullable(raw.last_exit.code, isInt) &&
    isNullable(raw.last_exit.signal, isString) &&
    typeof raw.last_exit.at === 'string'
  ) {
    entry.last_exit = { code: raw.last_exit.code, signal: raw.last_exit.signal, at: raw.last_exit.at };
  }
  if (
    isRecord(raw.latency_ms) &&
    isNullable(raw.latency_ms.p50, isFiniteNumber) &&
    isNullable(raw.latency_ms.p95, isFiniteNumber)
  ) {
    entry.latency_ms = { p50: raw.latency_ms.p50, p95: raw.latency_ms.p95 };
  }
  return [entry];
}

function parseGatehouseBlock(raw: unknown): StateFileContents['gatehouse'] {
  if (!isRecord(raw)) return null;
  const blocks = Array.isArray(raw.session_blocks) ? raw.session_blocks : [];
  const config = parseConfigState(raw.config);
  return {
    ...(config ? { config } : {}),
    revision: isCount(raw.revision) ? raw.revision : null,
    ...(isRecord(raw.telemetry) && { telemetry: raw.telemetry as unknown as TelemetryStats }),
    ...(Array.isArray(raw.approvals_waiting) && { approvals_waiting: raw.approvals_waiting.flatMap(parseApprovalWaiting) }),
    session_blocks: blocks.flatMap((b: unknown): SessionBlockView[] =>
      isRecord(b) &&
      typeof b.server === 'string' &&
      b.server !== '' &&
      isCount(b.open_transitions) &&
      isCount(b.threshold) &&
      typeof b.emitted_at === 'string' &&
      typeof b.message === 'string'
        ? [
            {
              server: b.server,
              open_transitions: b.open_transitions,
              threshold: b.threshold,
              emitted_at: b.emitted_at,
              message: b.message,
            },
          ]
        : [],
    ),
  };
}

const TIERS: readonly ApprovalWaitingView['tier'][] = ['read', 'write', 'destructive'];

function parseApprovalWaiting(raw: unknown): ApprovalWaitingView[] {
  if (!isRecord(raw)) return [];
  const { id, client, server, tool, tier, arguments: args, asked, since, expires_at } = raw;
  if (![id, client, server, tool, args, since, expires_at].every(isString)) return [];
  if (!TIERS.includes(tier as ApprovalWaitingView['tier']) || (asked !== 'editor' && asked !== 'client_elicitation')) return [];
  return [
    {
      id: id as string,
      client: client as string,
      server: server as string,
      tool: tool as string,
      tier: tier as ApprovalWaitingView['tier'],
      arguments: args as string,
      asked,
      since: since as string,
      expires_at: expires_at as string,
    },
  ];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isInt(value: unknown): value is number {
  return Number.isInteger(value);
}

function isPositiveInt(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) > 0;
}

function isCount(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0;
}

function isNullable<T>(value: unknown, guard: (v: unknown) => v is T): value is T | null {
  return value === null || guard(value);
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function parseConfigState(raw: unknown): ConfigStateView | undefined {
  if (!isRecord(raw) || typeof raw.policy !== 'string' || !['file', 'defaults', 'last_good'].includes(raw.policy_source as string)) return undefined;
  return {
    policy_source: raw.policy_source as ConfigStateView['policy_source'],
    policy: raw.policy,
    errors: isCount(raw.errors) ? raw.errors : 0,
    warnings: isCount(raw.warnings) ? raw.warnings : 0,
    first_error: typeof raw.first_error === 'string' ? raw.first_error : null,
  };
}
