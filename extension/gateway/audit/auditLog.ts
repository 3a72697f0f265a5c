import * as path from 'node:path';
import { systemClock, type Clock } from '../../common/clock';
import { Disposable } from '../../common/disposable';
import { Emitter, type Event } from '../../common/event';
import { nullLogger, type Logger } from '../../common/logger';
import { nodeAuditFileSystem, type AuditFileHandle, type AuditFileSystem } from './auditFileSystem';
import { directoryLock, type AuditLock, type ReleaseLock } from './auditLock';
import type { AuditChainBreak, AuditFailure, AuditLogOptions, AuditLogStats } from './auditLogOptions';
import {
  AUDIT_FILE_NAME,
  CHAIN_BREAK_TOOL_NAME,
  GENESIS_HASH,
  MAX_RECORD_BYTES,
  ROTATION_TOOL_NAME,
  TAIL_CUT_TOOL_NAME,
  type AuditInput,
  type AuditRecord,
} from './auditRecord';
import { AuditRecordError } from './auditRecordError';
import { buildAuditBody, type AuditBody as Body } from './buildAuditBody';
import { tailEvidence, type ChainHead } from './chainHead';
import { chainRecord } from './chainRecord';
import { gatewayMarker } from './gatewayMarker';
import { checkAuditLine } from './checkAuditLine';
import { readTail } from './readTail';
import { freeRotatedPath, rotationSettings, segmentStartOf } from './auditRotation';
import { TailAnchorTracker } from './tailAnchorTracker';
import { writeAll } from './writeAll';

// The writer's state machine (queue, group commit rounds, attach, rotation) lives here. The
// pieces that are pure or plain bookkeeping live beside it, each in its own file:
// auditLogOptions.ts (its option and event shapes), buildAuditBody.ts (the append-time check),
// chainRecord.ts (the hash chain's step), gatewayMarker.ts (its own records), chainHead.ts
// (where a write continues, break evidence), tailAnchorTracker.ts (audit.anchor) and
// writeAll.ts. What moved is re-exported here, so importers keep this path.
export { DEFAULT_ROTATION_MAX_AGE_DAYS, DEFAULT_ROTATION_MAX_BYTES, type AuditRotationPolicy } from './auditRotation';
export type { AuditChainBreak, AuditFailure, AuditLogOptions, AuditLogStats } from './auditLogOptions';
export { AuditRecordError } from './auditRecordError';

/** The tail reader gives up (and records a chain break) past this many bytes. */
const MAX_TAIL_BYTES = 4 * MAX_RECORD_BYTES;
/** Records per group write at most; the rest go in the next round. */
const MAX_BATCH_RECORDS = 1024;

/**
 * Unwritten records past which calls wait for their own record (see {@link AuditLog.backlog}):
 * two full rounds. Measured (bench section 7, 200 calls in flight on 2 cores): without it the
 * log fell ~16,000 records behind in 20 s and the gateway's RSS peaked near 400 MB.
 */
export const AUDIT_BACKLOG_LIMIT = 2 * MAX_BATCH_RECORDS;
/**
 * Hashing and the round-trip check cost tens of µs per record, all synchronous: a round stops
 * taking records after this long (the rest wait for the next write), which keeps the writer
 * well inside the extension host's 20 ms event-loop budget (DESIGN §1) under any backlog.
 */
const ROUND_BUDGET_MS = 8;
/**
 * While a backlog keeps the next round due at once, the lock is kept for it (no unlock and
 * relock, no re-check of a file nobody else could write meanwhile), for at most this long...
 */
const LOCK_HOLD_MS = 100;
/**
 * ...after which it is let go and not retaken for this long, so a writer waiting on it (rea's
 * hooks retry every 15–300 ms) gets in. Under a backlog the lock used to be retaken within
 * microseconds of its release, round after round.
 */
const LOCK_YIELD_MS = 25;
/** Wait after a failed rotation before trying again. */
const ROTATION_RETRY_MS = 60_000;
/**
 * Lines are counted (for "N records missing") only in files or appended stretches up to this
 * size: a log found without an anchor is counted once at open if it is small; a bigger one is
 * counted from its next rotation on.
 */
const MAX_COUNT_BYTES = 8 * 1024 * 1024;
/** The cross-process lock while the writer holds it. */
interface HeldLock {
  release: ReleaseLock;
  /** performance.now() when it was taken. */
  since: number;
  /** False when it could not be taken and the round went ahead unlocked. */
  locked: boolean;
  /**
   * True once a round wrote under this hold without failing: nobody who takes the lock can have
   * written since, so the next round need not stat the path to find out.
   */
  wroteUnderIt: boolean;
}

interface Pending {
  /** Undefined for a barrier (open/flush): it only waits for the write round it lands in. */
  body?: Body;
  resolve(record: AuditRecord | undefined): void;
  reject(err: Error): void;
}

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
 *   Rounds due at once (a backlog) share one hold of it, for at most {@link LOCK_HOLD_MS}.
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

  private readonly fs: AuditFileSystem;
  private readonly lock: AuditLock;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly sessionId: string;
  private readonly queue: Pending[] = [];
  /** Records queued by {@link appendLater}, not built yet. */
  private deferred: { build: () => AuditInput; at: number; resolve: (record: AuditRecord) => void; reject: (err: unknown) => void }[] = [];
  private pumping: Promise<void> = Promise.resolve();
  private running = false;
  /** performance.now() when the last group write (one with records) started (see `groupCommitMs`). */
  private lastRoundAt = Number.NEGATIVE_INFINITY;
  /** The lock, while kept across rounds (see {@link LOCK_HOLD_MS}). */
  private held: HeldLock | undefined;
  /** performance.now() before which the lock is not retaken (see {@link LOCK_YIELD_MS}). */
  private lockYieldUntil = Number.NEGATIVE_INFINITY;
  /**
   * What `audit.anchor` is to say once the lock is let go: the file after the last fsynced write.
   * Written at release, not after every round of a hold: nobody else writes the log meanwhile.
   */
  private anchorDue: { size: number; hash: string; lines: number | null } | undefined;
  private closed = false;

  private handle: AuditFileHandle | undefined;
  private ino = -1;
  /** Size of the file as we last left it. */
  private size = 0;
  /** Set after a failed write: the tail may hold a partial line, re-read it before writing. */
  private needsResync = false;
  private head: ChainHead | undefined;
  /** Hash of the last record known to be written by us or found valid at the tail. */
  private last: string | undefined;
  /** Set between renaming the old file and writing the marker into the new one. */
  private pendingRotation: { rotatedFrom: string; rotatedAt: string; prevHash: string } | undefined;
  /** Epoch ms of the current segment's first record; null = unknown, undefined = not looked up yet. */
  private segmentStart: number | null | undefined;
  /** After a failed rotation, no new attempt before this time. */
  private rotationRetryAt = 0;
  /** `audit.anchor`, and the line count it carries. */
  private readonly anchor: TailAnchorTracker;

  private readonly counters: AuditLogStats = { writes: 0, records: 0, bytesWritten: 0, rotations: 0, tailBytesRead: 0, chainBreaks: 0, tailCuts: 0 };

  constructor(private readonly options: AuditLogOptions) {
    super();
    this.file = path.join(options.dir, AUDIT_FILE_NAME);
    this.fs = options.fs ?? nodeAuditFileSystem;
    this.lock = options.lock ?? directoryLock(options.dir, options.logger ?? nullLogger);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? nullLogger;
    this.sessionId = options.sessionId ?? 'external';
    this.anchor = new TailAnchorTracker(options.dir, this.fs, this.clock, this.logger, { maxTailBytes: MAX_TAIL_BYTES, maxCountBytes: MAX_COUNT_BYTES });
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
    return this.last;
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
      this.queueRecord(input, at, resolve as Pending['resolve'], reject);
    }
  }

  private appendAt(input: AuditInput, at: number): Promise<AuditRecord> {
    return new Promise<AuditRecord>((resolve, reject) => this.queueRecord(input, at, resolve as Pending['resolve'], reject));
  }

  /** Checks a record and queues its body for the writer; settles through `resolve`/`reject`. */
  private queueRecord(input: AuditInput, at: number, resolve: Pending['resolve'], reject: Pending['reject']): void {
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
    this.push({ body, resolve, reject });
  }

  /**
   * Records appended (or deferred) and not written yet. The audit layer makes calls wait for
   * their record while this is over {@link AUDIT_BACKLOG_LIMIT}: a gateway answering faster than
   * its log can write must not hold the difference in memory without bound.
   */
  get backlog(): number {
    return this.queue.length + this.deferred.length;
  }

  /** Resolves when everything queued so far has been written (or has failed). Never rejects. */
  async flush(): Promise<void> {
    if (this.deferred.length > 0) this.buildDeferred();
    while (this.running) await this.pumping;
  }

  /** Writes what is queued, then closes the file. Later appends reject. */
  async close(): Promise<void> {
    if (this.deferred.length > 0) this.buildDeferred();
    this.closed = true;
    await this.flush();
    const handle = this.handle;
    this.handle = undefined;
    if (handle) await handle.close().catch((err: unknown) => this.logger.warn(`audit: closing ${this.file} failed: ${errorText(err)}`));
    await this.anchor.close().catch(() => undefined);
  }

  override dispose(): void {
    void this.close().finally(() => super.dispose());
  }

  // ---- queueing -------------------------------------------------------------------------

  private enqueue(body: Body | undefined): Promise<AuditRecord | undefined> {
    return new Promise<AuditRecord | undefined>((resolve, reject) => this.push({ body, resolve, reject }));
  }

  private push(pending: Pending): void {
    this.queue.push(pending);
    // `running` is cleared synchronously when the pump's loop sees an empty queue, so an
    // append that lands after that check always starts a new pump (never strands a record).
    if (!this.running) {
      this.running = true;
      this.pumping = this.pump();
    }
  }

  private refuse(phase: AuditFailure['phase'], error: Error): Promise<AuditRecord> {
    return Promise.reject(this.refused(phase, error));
  }

  /** Reports a record that will not be written; returns the error to reject it with. */
  private refused(phase: AuditFailure['phase'], error: Error): Error {
    this.emitFail.fire({ phase, error, records: 1 });
    return error;
  }

  /** The single writer: drains the queue in rounds, one group write per round. Never rejects. */
  private async pump(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        await this.groupCommitWindow();
        if (!this.held) {
          try {
            // The lock's parent must exist: the config dir is made before it is locked.
            if (!this.handle) await this.fs.mkdir(this.options.dir);
          } catch (err) {
            this.failRound(this.queue.splice(0), 'open', err);
            continue;
          }
          // Awaiting here is what groups records: whatever is appended meanwhile joins this round.
          this.held = await this.takeLock();
        }
        const held = this.held;
        let head: ChainHead;
        try {
          // Under the lock: a tail another writer moved is re-read before anything is chained.
          head = await this.prepare(held);
        } catch (err) {
          this.failRound(this.queue.splice(0), 'open', err);
          await this.letGo();
          continue;
        }
        await this.writeRound(head, held);
        // Kept only for a round that is due at once (a backlog: records left over, the window
        // over), and not for long; then let go, and not retaken for a while, so other writers get
        // their turn. Records that come in during a round's write wait out the window with the
        // lock free, as before.
        if (this.queue.length === 0 || !held.locked || !this.nextRoundDue()) {
          await this.letGo();
        } else if (performance.now() - held.since >= LOCK_HOLD_MS) {
          await this.letGo();
          this.lockYieldUntil = performance.now() + LOCK_YIELD_MS;
        }
      }
    } catch (err) {
      // writeRound settles every promise itself; this is a last guard against a writer bug.
      this.failRound(this.queue.splice(0), 'write', err);
    } finally {
      // Never left held (a writer bug above): released without waiting, as `running` must be
      // cleared in the same turn the loop saw an empty queue.
      if (this.held) void this.letGo();
      this.running = false;
    }
  }

  /** True when the group commit window since the last round is over (see {@link groupCommitWindow}). */
  private nextRoundDue(): boolean {
    return this.lastRoundAt + (this.options.groupCommitMs ?? 0) <= performance.now();
  }

  /** rea's lock; when it cannot be taken, the round goes ahead without it, and says so. */
  private async takeLock(): Promise<HeldLock> {
    const since = performance.now();
    try {
      return { release: await this.lock.acquire(), since, locked: true, wroteUnderIt: false };
    } catch (err) {
      // Busy past rea's retries (a live writer stuck holding it) or not creatable (a read-only
      // parent): losing the records would be worse than the fork the lock prevents, which
      // verify would report. Written unlocked, and said so.
      this.emitFail.fire({ phase: 'lock', error: err instanceof Error ? err : new Error(String(err)), records: 0 });
      this.logger.error(`audit: cannot take the lock beside ${this.options.dir} (${errorText(err)}); writing without it`);
      return { release: async () => undefined, since, locked: false, wroteUnderIt: false };
    }
  }

  /** Updates the anchor (still under the lock: it describes the file as we leave it), then releases. */
  private async letGo(): Promise<void> {
    const held = this.held;
    this.held = undefined;
    await this.writeAnchor();
    await held?.release();
  }

  private async writeAnchor(): Promise<void> {
    const due = this.anchorDue;
    this.anchorDue = undefined;
    if (due) await this.anchor.record(due.size, due.hash, due.lines);
  }

  /**
   * Waits out the rest of the group commit window (a real timer, not the injectable clock: this
   * is batching, not logic; and not unref'd, so a queued record is never left behind by exit).
   */
  private async groupCommitWindow(): Promise<void> {
    const windowMs = this.options.groupCommitMs ?? 0;
    if (windowMs <= 0 && this.lockYieldUntil <= performance.now()) return;
    const wait = Math.max(this.lastRoundAt + windowMs, this.lockYieldUntil) - performance.now();
    if (wait > 0) await new Promise<void>((resolve) => setTimeout(resolve, wait));
  }

  private failRound(batch: Pending[], phase: 'open' | 'write', err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    const records = batch.filter((p) => p.body).length;
    this.needsResync = true;
    this.logger.error(`audit: ${phase === 'open' ? 'cannot open' : 'write failed for'} ${this.file}: ${error.message} (${records} record(s) lost)`);
    if (records > 0 || phase === 'open') this.emitFail.fire({ phase, error, records });
    for (const p of batch) p.reject(error);
  }

  /** Takes what fits in one round from the queue, chains it and writes it in one go. */
  private async writeRound(head: ChainHead, held: HeldLock): Promise<void> {
    const handle = this.handle;
    if (!handle) {
      this.failRound(this.queue.splice(0), 'write', new Error('audit file is not open'));
      return;
    }
    const batch: Pending[] = [];
    const lines: string[] = [];
    const written: AuditRecord[] = [];
    const owners: Array<Pending | undefined> = [];
    let prev = head.prevHash;
    const chain = (body: Body, owner: Pending | undefined): void => {
      const record = chainRecord(body, prev);
      lines.push(record.line);
      written.push(record.record);
      owners.push(owner);
      prev = record.record.hash;
    };
    for (const marker of head.markers) chain(marker, undefined);
    const deadline = performance.now() + ROUND_BUDGET_MS;
    let taken = 0;
    while (taken < this.queue.length && taken < MAX_BATCH_RECORDS && (taken === 0 || performance.now() < deadline)) {
      const p = this.queue[taken++]!;
      batch.push(p);
      if (!p.body) continue;
      try {
        chain(p.body, p);
      } catch (err) {
        // Validated when queued, so this is a writer bug; refuse just this record.
        const error = new AuditRecordError(`audit record refused at write time: ${errorText(err)}`, { cause: err });
        this.emitFail.fire({ phase: 'refused', error, records: 1 });
        p.reject(error);
        p.body = undefined;
      }
    }
    this.queue.splice(0, taken);
    if (lines.length > 0) {
      this.lastRoundAt = performance.now();
      const buffer = Buffer.from(`${head.leading}${lines.join('\n')}\n`, 'utf8');
      try {
        await writeAll(handle, buffer);
        this.counters.writes++;
      } catch (err) {
        this.failRound(batch, 'write', err);
        return;
      }
      let durable = true;
      if (this.options.fsync !== false) {
        // Best effort, as rea: the bytes are in the page cache; a failed fsync is worth a warning,
        // not a lost record.
        await handle.sync().catch((err: unknown) => {
          durable = false;
          this.logger.warn(`audit: fsync of ${this.file} failed: ${errorText(err)}`);
        });
      }
      if (this.size === 0) this.segmentStart = Date.parse(written[0]!.timestamp);
      this.size += buffer.length;
      this.counters.bytesWritten += buffer.length;
      this.counters.records += written.length;
      this.last = prev;
      if (this.anchor.lines !== null) this.anchor.lines += written.length + (head.leading ? 1 : 0);
      // Written when the lock is let go (letGo): the file exactly as the last fsynced write left it.
      if (durable) this.anchorDue = { size: this.size, hash: prev, lines: this.anchor.lines };
      held.wroteUnderIt = held.locked;
      if (head.markers.length > 0) this.afterMarkers(head, written);
      // The head now continues from what we wrote.
      this.head = { leading: '', markers: [], prevHash: prev };
    }
    written.forEach((record, i) => owners[i]?.resolve(record));
    for (const p of batch) if (!p.body) p.resolve(undefined);
    if (written.length > 0) this.emitAppend.fire(written);
  }

  private afterMarkers(head: ChainHead, written: AuditRecord[]): void {
    for (let i = 0; i < head.markers.length; i++) {
      const record = written[i]!;
      if (record.tool_name === ROTATION_TOOL_NAME) {
        this.pendingRotation = undefined;
        this.counters.rotations++;
      } else if (record.tool_name === TAIL_CUT_TOOL_NAME) {
        this.counters.tailCuts++;
        this.logger.error(`audit: ${this.file}: ${record.error ?? 'records missing at the end'}`);
        this.emitBreak.fire({ reason: 'tail_cut', record });
      } else if (record.tool_name === CHAIN_BREAK_TOOL_NAME) {
        this.counters.chainBreaks++;
        const reason = String((record.metadata as { reason?: unknown } | undefined)?.reason ?? 'unknown');
        this.logger.error(`audit: ${this.file}: chain break recorded (${reason}); a new chain segment starts at genesis`);
        this.emitBreak.fire({ reason, record });
      }
    }
  }

  // ---- the file ---------------------------------------------------------------------------

  /**
   * Makes sure the file is open and the chain head known; rotates when due. The path is not
   * checked again in a round that follows our own write under the same hold of the lock.
   */
  private async prepare(held: HeldLock): Promise<ChainHead> {
    if (!this.handle || this.needsResync || !this.head || !(held.wroteUnderIt || (await this.stillOurs()))) {
      this.head = await this.attach();
      this.needsResync = false;
    }
    if (this.head.markers.length === 0 && !this.head.leading && this.clock.now() >= this.rotationRetryAt && (await this.rotationDue())) {
      try {
        await this.rotate(this.head.prevHash);
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        this.logger.error(`audit: rotation of ${this.file} failed: ${error.message}; still appending to it`);
        this.emitFail.fire({ phase: 'rotate', error, records: 0 });
        // Records keep going to the current file; retry later rather than on every round.
        this.rotationRetryAt = this.clock.now() + ROTATION_RETRY_MS;
      }
      if (!this.handle || this.needsResync) {
        this.head = await this.attach();
        this.needsResync = false;
      }
    }
    return this.head;
  }

  /**
   * True when the path still names our handle's file and nobody else wrote to it. One stat of
   * the path per round: when it names our inode (`this.ino`, read from the handle at attach) its
   * size is our file's size, so an fstat of the handle would only repeat it (and cost another
   * thread-pool round trip on every group write).
   */
  private async stillOurs(): Promise<boolean> {
    const onDisk = await this.fs.stat(this.file).catch(() => undefined);
    return onDisk !== undefined && onDisk.ino === this.ino && onDisk.size === this.size;
  }

  /** (Re)opens the file and decides where the chain continues (SPEC §8.2, improved). */
  private async attach(): Promise<ChainHead> {
    // An anchor still due describes the file we are leaving; it goes first.
    await this.writeAnchor();
    const old = this.handle;
    this.handle = undefined;
    if (old) await old.close().catch(() => undefined);
    await this.fs.mkdir(this.options.dir);
    const handle = await this.fs.open(this.file, 'a+', 0o600);
    let size: number;
    try {
      // The mode only applies when the file is created; a rea-written file may be 0644.
      await handle.chmod(0o600).catch((err: unknown) => this.logger.warn(`audit: chmod 600 ${this.file} failed: ${errorText(err)}`));
      const st = await handle.stat();
      size = st.size;
      this.ino = st.ino;
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
    this.handle = handle;
    this.size = size;
    this.segmentStart = undefined;
    const wroteBefore = this.last !== undefined;
    const head = await this.headFromTail(handle, size);
    const cut = await this.anchor.check(handle, size, head, wroteBefore);
    if (cut) head.markers.push(this.marker(TAIL_CUT_TOOL_NAME, cut.metadata, 'error', cut.error));
    return head;
  }

  /** Where the chain continues, from the file's tail alone. */
  private async headFromTail(handle: AuditFileHandle, size: number): Promise<ChainHead> {
    const known = this.last;

    if (size === 0) {
      const rotation = this.pendingRotation;
      if (rotation) {
        return { leading: '', markers: [this.marker(ROTATION_TOOL_NAME, { rotated_from: rotation.rotatedFrom, rotated_at: rotation.rotatedAt })], prevHash: rotation.prevHash };
      }
      if (known !== undefined && known !== GENESIS_HASH) {
        // We had written records and the file is now empty or gone: someone removed it.
        return this.breakHead('', 'file_replaced', { last_good_hash: null, expected_hash: known, broken_bytes: 0, excerpt: '' });
      }
      this.last = GENESIS_HASH;
      return { leading: '', markers: [], prevHash: GENESIS_HASH };
    }
    this.pendingRotation = undefined;

    const tail = await readTail(handle, size, MAX_TAIL_BYTES);
    this.counters.tailBytesRead += tail.bytesRead;
    const lastCheck = tail.lastLine === undefined ? undefined : checkAuditLine(tail.lastLine);
    const lastGood = lastCheck?.ok ? lastCheck.hash : null;

    if (tail.tooLong) {
      return this.breakHead(tail.partial ? '\n' : '', 'tail_line_too_long', tailEvidence(lastGood, known, tail.partial));
    }
    if (tail.partial) {
      // A record complete but for its newline (the write was cut right at the end) keeps the chain.
      const partialCheck = checkAuditLine(tail.partial.toString('utf8'));
      if (partialCheck.ok && (lastGood === null || partialCheck.prevHash === lastGood)) {
        this.last = partialCheck.hash;
        return { leading: '\n', markers: [], prevHash: partialCheck.hash };
      }
      return this.breakHead('\n', 'truncated_tail', tailEvidence(lastGood, known, tail.partial));
    }
    if (!lastCheck || !lastCheck.ok) {
      const reason = lastCheck ? `corrupt_tail:${lastCheck.reason}` : 'corrupt_tail';
      return this.breakHead('', reason, tailEvidence(null, known, tail.lastLine === undefined ? undefined : Buffer.from(tail.lastLine, 'utf8')));
    }
    this.last = lastCheck.hash;
    return { leading: '', markers: [], prevHash: lastCheck.hash };
  }

  private breakHead(leading: string, reason: string, previousTail: Record<string, unknown>): ChainHead {
    return {
      leading,
      markers: [this.marker(CHAIN_BREAK_TOOL_NAME, { reason, previous_tail: previousTail }, 'error', `audit chain broken at the file tail (${reason}); new segment starts at genesis`)],
      prevHash: GENESIS_HASH,
    };
  }

  private marker(toolName: string, metadata: Record<string, unknown>, status: 'allowed' | 'error' = 'allowed', error?: string): Body {
    return gatewayMarker(toolName, metadata, this.now(), this.sessionId, status, error);
  }

  /** The timestamp a record built now gets. */
  private now(): string {
    return new Date(this.clock.now()).toISOString();
  }

  private async rotationDue(): Promise<boolean> {
    if (this.size === 0 || !this.handle) return false; // empty files never rotate (rea)
    const { maxBytes, maxAgeMs } = rotationSettings(this.options.rotation, this.logger);
    if (this.size >= maxBytes) return true;
    if (maxAgeMs === undefined) return false;
    // Once per attach: the first line's timestamp is the segment's age.
    if (this.segmentStart === undefined) this.segmentStart = await segmentStartOf(this.handle, this.size);
    return this.segmentStart !== null && this.clock.now() - this.segmentStart >= maxAgeMs;
  }

  private async rotate(prevHash: string): Promise<void> {
    const now = new Date(this.clock.now());
    const rotatedAt = now.toISOString();
    await this.writeAnchor();
    const target = await freeRotatedPath(this.fs, this.options.dir, now);
    const handle = this.handle;
    this.handle = undefined;
    this.needsResync = true;
    await handle?.close().catch(() => undefined);
    await this.fs.rename(this.file, target);
    // The anchored record is in the rotated file now; the marker's write anchors the new one.
    this.anchor.forget();
    this.pendingRotation = { rotatedFrom: path.basename(target), rotatedAt, prevHash };
    this.logger.info(`audit: rotated ${this.file} to ${path.basename(target)}`);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
