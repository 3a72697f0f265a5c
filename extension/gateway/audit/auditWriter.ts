import type { Emitter } from '../../common/event';
import type { Logger } from '../../common/logger';
import type { AuditFile } from './auditFile';
import type { AuditFileSystem } from './auditFileSystem';
import type { AuditLock, ReleaseLock } from './auditLock';
import type { AuditChainBreak, AuditFailure, AuditLogOptions, AuditLogStats } from './auditLogOptions';
import { CHAIN_BREAK_TOOL_NAME, ROTATION_TOOL_NAME, TAIL_CUT_TOOL_NAME, type AuditRecord } from './auditRecord';
import { AuditRecordError } from './auditRecordError';
import type { AuditBody as Body } from './buildAuditBody';
import type { ChainHead } from './chainHead';
import { chainRecord } from './chainRecord';
import { writeAll } from './writeAll';

// The single writer behind AuditLog (auditLog.ts): it drains the queue in group commit rounds,
// each chained and written in one go under rea's lock, and settles every queued promise. The
// log only checks and queues; where the lines go (open, tail, rotation) is auditFile.ts.

/** Records per group write at most; the rest go in the next round. */
export const MAX_BATCH_RECORDS = 1024;
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

/** What {@link AuditWriter} needs from the log that owns it. */
export interface AuditWriterOptions {
  options: AuditLogOptions;
  file: AuditFile;
  fs: AuditFileSystem;
  lock: AuditLock;
  logger: Logger;
  /** The log's counters (shared with the file). */
  counters: AuditLogStats;
  /** The log's events; the writer only fires them. */
  emitFail: Emitter<AuditFailure>;
  emitAppend: Emitter<readonly AuditRecord[]>;
  emitBreak: Emitter<AuditChainBreak>;
}

export class AuditWriter {
  private readonly queue: Pending[] = [];
  private pumping: Promise<void> = Promise.resolve();
  private running = false;
  /** performance.now() when the last group write (one with records) started (see `groupCommitMs`). */
  private lastRoundAt = Number.NEGATIVE_INFINITY;
  /** The lock, while kept across rounds (see {@link LOCK_HOLD_MS}). */
  private held: HeldLock | undefined;
  /** performance.now() before which the lock is not retaken (see {@link LOCK_YIELD_MS}). */
  private lockYieldUntil = Number.NEGATIVE_INFINITY;

  private readonly options: AuditLogOptions;
  private readonly file: AuditFile;
  private readonly fs: AuditFileSystem;
  private readonly lock: AuditLock;
  private readonly logger: Logger;
  private readonly counters: AuditLogStats;
  private readonly emitFail: Emitter<AuditFailure>;
  private readonly emitAppend: Emitter<readonly AuditRecord[]>;
  private readonly emitBreak: Emitter<AuditChainBreak>;

  constructor(init: AuditWriterOptions) {
    this.options = init.options;
    this.file = init.file;
    this.fs = init.fs;
    this.lock = init.lock;
    this.logger = init.logger;
    this.counters = init.counters;
    this.emitFail = init.emitFail;
    this.emitAppend = init.emitAppend;
    this.emitBreak = init.emitBreak;
  }

  /** Records (and barriers) queued and not written yet. */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * Queues a record's body (undefined: a barrier that only waits for the round it lands in);
   * `resolve`/`reject` settle once its round is written or has failed.
   */
  push(body: Body | undefined, resolve: Pending['resolve'], reject: Pending['reject']): void {
    this.queue.push({ body, resolve, reject });
    // `running` is cleared synchronously when the pump's loop sees an empty queue, so an
    // append that lands after that check always starts a new pump (never strands a record).
    if (!this.running) {
      this.running = true;
      this.pumping = this.pump();
    }
  }

  /** Resolves when everything queued so far has been written (or has failed). Never rejects. */
  async idle(): Promise<void> {
    while (this.running) await this.pumping;
  }

  /** The single writer: drains the queue in rounds, one group write per round. Never rejects. */
  private async pump(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        await this.groupCommitWindow();
        if (!this.held) {
          try {
            // The lock's parent must exist: the config dir is made before it is locked.
            if (!this.file.handle) await this.fs.mkdir(this.options.dir);
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
          head = await this.file.prepare(held.wroteUnderIt);
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
    await this.file.writeAnchor();
    await held?.release();
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
    this.file.lost();
    this.logger.error(`audit: ${phase === 'open' ? 'cannot open' : 'write failed for'} ${this.file.path}: ${error.message} (${records} record(s) lost)`);
    if (records > 0 || phase === 'open') this.emitFail.fire({ phase, error, records });
    for (const p of batch) p.reject(error);
  }

  /** Takes what fits in one round from the queue, chains it and writes it in one go. */
  private async writeRound(head: ChainHead, held: HeldLock): Promise<void> {
    const handle = this.file.handle;
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
          this.logger.warn(`audit: fsync of ${this.file.path} failed: ${errorText(err)}`);
        });
      }
      this.counters.bytesWritten += buffer.length;
      this.counters.records += written.length;
      this.file.wrote(head, buffer.length, written, prev, durable);
      held.wroteUnderIt = held.locked;
      if (head.markers.length > 0) this.afterMarkers(head, written);
    }
    written.forEach((record, i) => owners[i]?.resolve(record));
    for (const p of batch) if (!p.body) p.resolve(undefined);
    if (written.length > 0) this.emitAppend.fire(written);
  }

  private afterMarkers(head: ChainHead, written: AuditRecord[]): void {
    for (let i = 0; i < head.markers.length; i++) {
      const record = written[i]!;
      if (record.tool_name === ROTATION_TOOL_NAME) {
        this.file.rotationWritten();
        this.counters.rotations++;
      } else if (record.tool_name === TAIL_CUT_TOOL_NAME) {
        this.counters.tailCuts++;
        this.logger.error(`audit: ${this.file.path}: ${record.error ?? 'records missing at the end'}`);
        this.emitBreak.fire({ reason: 'tail_cut', record });
      } else if (record.tool_name === CHAIN_BREAK_TOOL_NAME) {
        this.counters.chainBreaks++;
        const reason = String((record.metadata as { reason?: unknown } | undefined)?.reason ?? 'unknown');
        this.logger.error(`audit: ${this.file.path}: chain break recorded (${reason}); a new chain segment starts at genesis`);
        this.emitBreak.fire({ reason, record });
      }
    }
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
