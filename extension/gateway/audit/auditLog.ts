import { systemClock, type Clock } from '../../common/clock';
import { Disposable } from '../../common/disposable';
import { Emitter, type Event } from '../../common/event';
import { nullLogger, type Logger } from '../../common/logger';
import { AuditFile } from './auditFile';
import { nodeAuditFileSystem } from './auditFileSystem';
import { directoryLock } from './auditLock';
import type { AuditChainBreak, AuditFailure, AuditLogOptions, AuditLogStats } from './auditLogOptions';
import type { AuditInput, AuditRecord } from './auditRecord';
import { AuditRecordError } from './auditRecordError';
import { buildAuditBody, type AuditBody as Body } from './buildAuditBody';
import { AuditWriter, MAX_BATCH_RECORDS } from './auditWriter';

// The log's front: it checks and queues appends (and deferred ones) in call order. The writer
// that drains the queue (group commit rounds, the lock) is auditWriter.ts; the file it writes to
// (attach, tail, rotation, anchor) is auditFile.ts. The pieces that are pure or plain
// bookkeeping live beside them, each in its own file: auditLogOptions.ts (its option and event
// shapes), buildAuditBody.ts (the append-time check), chainRecord.ts (the hash chain's step),
// gatewayMarker.ts (its own records), chainHead.ts (where a write continues, break evidence),
// tailAnchorTracker.ts (audit.anchor) and writeAll.ts. What moved is re-exported here, so
// importers keep this path.
export { DEFAULT_ROTATION_MAX_AGE_DAYS, DEFAULT_ROTATION_MAX_BYTES, type AuditRotationPolicy } from './auditRotation';
export type { AuditChainBreak, AuditFailure, AuditLogOptions, AuditLogStats } from './auditLogOptions';
export { AuditRecordError } from './auditRecordError';

/**
 * Unwritten records past which calls wait for their own record (see {@link AuditLog.backlog}):
 * two full rounds. Measured (bench section 7, 200 calls in flight on 2 cores): without it the
 * log fell ~16,000 records behind in 20 s and the gateway's RSS peaked near 400 MB.
 */
export const AUDIT_BACKLOG_LIMIT = 2 * MAX_BATCH_RECORDS;

type Settle = (record: AuditRecord | undefined) => void;

/**
 * The hash-chained audit log `<dir>/audit.jsonl` (SPEC §8, DESIGN §5).
 *
 * - One async writer with group commit: appends queued while a write runs go out together in
 *   the next single `write` (+ one fsync). Chain order is queue order; each `append` promise
 *   resolves once its line is written.
 * - `hash` = sha256 hex of the canonical JSON of the record without `hash`; every line is
 *   checked to round-trip before it is written (SPEC §13.3 "Defect T").
 * - Only the tail is read to find the chain head (never the whole file). A corrupt or truncated
 *   tail is not silently re-rooted: a `audit_chain_break` record starting at genesis says so,
 *   and `verifyAuditFile` lists it as a recorded break.
 * - Rotation by size (and age when configured) to rea's names, with a marker chained to the old file.
 * - Failures reject the affected appends and fire {@link onDidFail}; the log keeps working
 *   (the next write re-reads the tail). Whether a caller waits is its business.
 * - Across processes, each group write runs under rea's lock (`proper-lockfile` on the config
 *   directory, SPEC Appendix E), and the tail is re-checked under it: records another writer
 *   (rea's hooks, a second gateway, the CLI) appended meanwhile are chained onto, never forked.
 *   Rounds due at once (a backlog) share one hold of it, for at most 100 ms (auditWriter.ts).
 * - When the lock is let go, `audit.anchor` records the last fsynced write's hash, size and line count. A file
 *   found shorter than that (at open, or changed under the writer) gets an `audit.tail_cut`
 *   record saying how many records are missing, chained to what is left.
 */
export class AuditLog extends Disposable {
  private readonly emitFail = this.register(new Emitter<AuditFailure>());
  private readonly emitAppend = this.register(new Emitter<readonly AuditRecord[]>());
  private readonly emitBreak = this.register(new Emitter<AuditChainBreak>());
  /** A record (or several) could not be written or a rotation failed. */
  readonly onDidFail: Event<AuditFailure> = this.emitFail.event;
  /** Records just written, in chain order (one event per group write). */
  readonly onDidAppend: Event<readonly AuditRecord[]> = this.emitAppend.event;
  /** The writer found an unusable tail and started a new chain segment. */
  readonly onDidRecordBreak: Event<AuditChainBreak> = this.emitBreak.event;

  /** Absolute path of `audit.jsonl`. */
  readonly file: string;

  private readonly clock: Clock;
  private readonly sessionId: string;
  /** Records queued by {@link appendLater}, not built yet. */
  private deferred: { build: () => AuditInput; at: number; resolve: (record: AuditRecord) => void; reject: (err: unknown) => void }[] = [];
  private closed = false;

  private readonly counters: AuditLogStats = { writes: 0, records: 0, bytesWritten: 0, rotations: 0, tailBytesRead: 0, chainBreaks: 0, tailCuts: 0 };
  /** The file the records go to: open, chain head, rotation, `audit.anchor`. */
  private readonly target: AuditFile;
  /** Drains the queue into {@link target}. */
  private readonly writer: AuditWriter;

  constructor(options: AuditLogOptions) {
    super();
    const fs = options.fs ?? nodeAuditFileSystem;
    const logger: Logger = options.logger ?? nullLogger;
    this.clock = options.clock ?? systemClock;
    this.sessionId = options.sessionId ?? 'external';
    const counters = this.counters;
    this.target = new AuditFile({ options, fs, clock: this.clock, logger, sessionId: this.sessionId, counters, fail: (failure) => this.emitFail.fire(failure) });
    this.file = this.target.path;
    const lock = options.lock ?? directoryLock(options.dir, logger);
    this.writer = new AuditWriter({ options, file: this.target, fs, lock, logger, counters, emitFail: this.emitFail, emitAppend: this.emitAppend, emitBreak: this.emitBreak });
  }

  /** Creates a log and opens it (recovering the chain head, recording a break if needed). */
  static async open(options: AuditLogOptions): Promise<AuditLog> {
    const log = new AuditLog(options);
    try {
      await log.open();
    } catch (err) {
      log.dispose();
      throw err;
    }
    return log;
  }

  /** Counters since construction (a copy). */
  get stats(): AuditLogStats {
    return { ...this.counters };
  }

  /** Hash of the last record in the chain, once opened. */
  get lastHash(): string | undefined {
    return this.target.lastHash;
  }

  /**
   * Opens the file and recovers the chain head from its tail; a chain-break marker, if the
   * tail needs one, is written before this resolves. Appending opens implicitly; calling this
   * first surfaces I/O errors (EACCES, read-only disk) at startup instead of on the first call.
   */
  async open(): Promise<void> {
    if (this.closed) throw new AuditRecordError('audit log is closed');
    if (this.deferred.length > 0) this.buildDeferred();
    await this.enqueue(undefined);
  }

  /**
   * Queues one record. The promise resolves with the record as written (with `timestamp`,
   * `prev_hash`, `hash`) or rejects: at once with {@link AuditRecordError} for a record that is
   * not plain JSON-round-trippable data, or after the write for an I/O failure. Every rejection
   * is also reported on {@link onDidFail}.
   */
  append(input: AuditInput): Promise<AuditRecord> {
    // Records deferred before this one go first: the chain keeps the order of the calls.
    if (this.deferred.length > 0) this.buildDeferred();
    return this.appendAt(input, this.clock.now());
  }

  /**
   * Queues one record whose input is built later, in the check phase of this event-loop turn
   * (or at the next {@link append}, {@link flush} or {@link close}, whichever comes first), so a
   * call's answer does not wait for its record to be built. Records keep the order of these
   * calls, and each gets the timestamp of its call, not of its building. `build` must read
   * only what no longer changes. Settles as {@link append} does; a `build` that throws is
   * reported as a refused record.
   */
  appendLater(build: () => AuditInput): Promise<AuditRecord> {
    if (this.closed) return this.refuse('closed', new AuditRecordError('audit log is closed; record dropped'));
    return new Promise<AuditRecord>((resolve, reject) => {
      if (this.deferred.push({ build, at: this.clock.now(), resolve, reject }) === 1) setImmediate(() => this.buildDeferred());
    });
  }

  /** Builds and queues every deferred record, in order. */
  private buildDeferred(): void {
    const deferred = this.deferred;
    this.deferred = [];
    for (const { build, at, resolve, reject } of deferred) {
      let input: AuditInput;
      try {
        input = build();
      } catch (err) {
        reject(this.refused('refused', new AuditRecordError(`audit record refused: ${errorText(err)}`, { cause: err })));
        continue;
      }
      // Settles the promise appendLater returned: no second promise per record to chain it through.
      this.queueRecord(input, at, resolve as Settle, reject);
    }
  }

  private appendAt(input: AuditInput, at: number): Promise<AuditRecord> {
    return new Promise<AuditRecord>((resolve, reject) => this.queueRecord(input, at, resolve as Settle, reject));
  }

  /** Checks a record and queues its body for the writer; settles through `resolve`/`reject`. */
  private queueRecord(input: AuditInput, at: number, resolve: Settle, reject: (err: Error) => void): void {
    if (this.closed) {
      reject(this.refused('closed', new AuditRecordError('audit log is closed; record dropped')));
      return;
    }
    let body: Body;
    try {
      body = buildAuditBody(input, new Date(at).toISOString(), this.sessionId);
    } catch (err) {
      reject(this.refused('refused', err instanceof AuditRecordError ? err : new AuditRecordError(`audit record refused: ${errorText(err)}`, { cause: err })));
      return;
    }
    this.writer.push(body, resolve, reject);
  }

  /**
   * Records appended (or deferred) and not written yet. The audit layer makes calls wait for
   * their record while this is over {@link AUDIT_BACKLOG_LIMIT}: a gateway answering faster than
   * its log can write must not hold the difference in memory without bound.
   */
  get backlog(): number {
    return this.writer.queued + this.deferred.length;
  }

  /** Resolves when everything queued so far has been written (or has failed). Never rejects. */
  async flush(): Promise<void> {
    if (this.deferred.length > 0) this.buildDeferred();
    await this.writer.idle();
  }

  /** Writes what is queued, then closes the file. Later appends reject. */
  async close(): Promise<void> {
    if (this.deferred.length > 0) this.buildDeferred();
    this.closed = true;
    await this.flush();
    await this.target.close();
  }

  override dispose(): void {
    void this.close().finally(() => super.dispose());
  }

  // ---- queueing -------------------------------------------------------------------------

  private enqueue(body: Body | undefined): Promise<AuditRecord | undefined> {
    return new Promise<AuditRecord | undefined>((resolve, reject) => this.writer.push(body, resolve, reject));
  }

  private refuse(phase: AuditFailure['phase'], error: Error): Promise<AuditRecord> {
    return Promise.reject(this.refused(phase, error));
  }

  /** Reports a record that will not be written; returns the error to reject it with. */
  private refused(phase: AuditFailure['phase'], error: Error): Error {
    this.emitFail.fire({ phase, error, records: 1 });
    return error;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
