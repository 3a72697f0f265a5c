import * as path from 'node:path';
import { systemClock, type Clock } from '../../common/clock';
import { Disposable } from '../../common/disposable';
import { Emitter, type Event } from '../../common/event';
import { nullLogger, type Logger } from '../../common/logger';
import { nodeAuditFileSystem, type AuditFileHandle, type AuditFileSystem } from './auditFileSystem';
import { AnchorWriter, compareWithAnchor, countLines, readAnchor, type TailAnchor } from './auditAnchor';
import { directoryLock, type AuditLock, type ReleaseLock } from './auditLock';
import {
  AUDIT_FILE_NAME,
  CHAIN_BREAK_TOOL_NAME,
  GATEWAY_SERVER_NAME,
  GENESIS_HASH,
  MAX_RECORD_BYTES,
  ROTATION_TOOL_NAME,
  TAIL_CUT_TOOL_NAME,
  sha256Hex,
  type AuditInput,
  type AuditRecord,
} from './auditRecord';
import { canonicalJson, isWellFormedString } from './canonicalJson';
import { checkAuditLine } from './checkAuditLine';
import { readTail } from './readTail';
import { freeRotatedPath, rotationSettings, segmentStartOf, type AuditRotationPolicy } from './auditRotation';

export { DEFAULT_ROTATION_MAX_AGE_DAYS, DEFAULT_ROTATION_MAX_BYTES, type AuditRotationPolicy } from './auditRotation';

/** The tail reader gives up (and records a chain break) past this many bytes. */
const MAX_TAIL_BYTES = 4 * MAX_RECORD_BYTES;
/** Records per group write at most; the rest go in the next round. */
const MAX_BATCH_RECORDS = 1024;
/**
 * Hashing and the round-trip check cost tens of µs per record, all synchronous: a round stops
 * taking records after this long (the rest wait for the next write), which keeps the writer
 * well inside the extension host's 20 ms event-loop budget (DESIGN §1) under any backlog.
 */
const ROUND_BUDGET_MS = 8;
/** Wait after a failed rotation before trying again. */
const ROTATION_RETRY_MS = 60_000;
/**
 * Lines are counted (for "N records missing") only in files or appended stretches up to this
 * size: a log found without an anchor is counted once at open if it is small; a bigger one is
 * counted from its next rotation on.
 */
const MAX_COUNT_BYTES = 8 * 1024 * 1024;
/** Characters of a broken tail copied into the chain-break record, as evidence. */
const TAIL_EXCERPT_CHARS = 256;

const TIERS: ReadonlySet<string> = new Set(['read', 'write', 'destructive']);
const STATUSES: ReadonlySet<string> = new Set(['allowed', 'denied', 'error']);
const SOURCES: ReadonlySet<string> = new Set(['gateway', 'proxy']);


/** Options of {@link AuditLog}. */
export interface AuditLogOptions {
  /** The config directory; `audit.jsonl` lives in it. Created (0700) if missing. */
  dir: string;
  /** `session_id` of records whose input has none (gateway markers, helper records). */
  sessionId?: string;
  /**
   * Read before every write, so policy reloads apply. `undefined` (no `audit.rotation` block)
   * still rotates at 50 MiB: rotation is a property of the writer, not of each caller
   * (SPEC §13.3, 0.20.0). A block turns on the age rule too (default 30 days), as in rea.
   */
  rotation?: () => AuditRotationPolicy | undefined;
  /** Timestamps and the age rule. Default the system clock. */
  clock?: Clock;
  /** Injectable for tests. Default fs/promises. */
  fs?: AuditFileSystem;
  /**
   * The cross-process lock taken around each group write (one per write, not per record).
   * Default: rea's `proper-lockfile` lock on `dir` (see {@link directoryLock}).
   */
  lock?: AuditLock;
  /** fsync after each group write (default true; one fsync per batch, not per record). */
  fsync?: boolean;
  /**
   * Group commit window: a group write starts at least this long after the previous one
   * started, so records appended meanwhile join it (default 0: write as soon as the previous
   * write is done). A record arriving after a quiet spell is written at once either way. Worth
   * it where nobody awaits the append (the gateway's audit layer): each group write costs a
   * stat, a write and an fsync, which at one record per call was most of a call's cost.
   */
  groupCommitMs?: number;
  logger?: Logger;
}

/** A record that was not written, and why. */
export interface AuditFailure {
  /** `refused`: the record is invalid (never queued); `lock`: the cross-process lock could not be taken (records still written, unlocked); `open`/`write`: I/O; `rotate`: rotation failed (records still written); `closed`: appended after close. */
  phase: 'refused' | 'lock' | 'open' | 'write' | 'rotate' | 'closed';
  error: Error;
  /** Records lost by this failure (0 for `rotate`). */
  records: number;
}

/** A new chain segment the writer started because the file's tail was unusable. */
export interface AuditChainBreak {
  reason: string;
  /** The marker record written (prev_hash = genesis). */
  record: AuditRecord;
}

/** Counters, for tests and the dashboard. */
export interface AuditLogStats {
  /** Group writes issued (each is one `write` of one or more lines). */
  writes: number;
  /** Records written, markers included. */
  records: number;
  bytesWritten: number;
  rotations: number;
  /** Bytes read to recover the chain head: bounded by the last line, not the file size. */
  tailBytesRead: number;
  chainBreaks: number;
  /** Times the log was found shorter than the tail anchor says it was (records removed at the end). */
  tailCuts: number;
}

/** An append that is refused (invalid record, or the log is closed). */
export class AuditRecordError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuditRecordError';
  }
}

type Body = Record<string, unknown>;

interface Pending {
  /** Undefined for a barrier (open/flush): it only waits for the write round it lands in. */
  body?: Body;
  resolve(record: AuditRecord | undefined): void;
  reject(err: Error): void;
}

/** Where the next write continues the chain, decided by (re)attaching to the file. */
interface ChainHead {
  /** Written before the first record: `\n` when the file ends in a line cut short. */
  leading: string;
  /** Marker records (rotation, chain break) that go first. */
  markers: Body[];
  /** prev_hash of the first record written. */
  prevHash: string;
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
 * - After each fsynced write, `audit.anchor` records the last hash, size and line count. A file
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
  private pumping: Promise<void> = Promise.resolve();
  private running = false;
  /** performance.now() when the last group write (one with records) started (see `groupCommitMs`). */
  private lastRoundAt = Number.NEGATIVE_INFINITY;
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
  /** What `audit.jsonl` held after the last write we know of (from `audit.anchor` at first). */
  private expected: Omit<TailAnchor, 'file' | 'updated_at'> | undefined;
  private anchorLoaded = false;
  private anchorFailed = false;
  private readonly anchor: AnchorWriter;
  /** Lines in `audit.jsonl` (null: not counted). */
  private lines: number | null = null;

  private readonly counters: AuditLogStats = { writes: 0, records: 0, bytesWritten: 0, rotations: 0, tailBytesRead: 0, chainBreaks: 0, tailCuts: 0 };

  constructor(private readonly options: AuditLogOptions) {
    super();
    this.file = path.join(options.dir, AUDIT_FILE_NAME);
    this.fs = options.fs ?? nodeAuditFileSystem;
    this.lock = options.lock ?? directoryLock(options.dir, options.logger ?? nullLogger);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? nullLogger;
    this.sessionId = options.sessionId ?? 'external';
    this.anchor = new AnchorWriter(options.dir);
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
    await this.enqueue(undefined);
  }

  /**
   * Queues one record. The promise resolves with the record as written (with `timestamp`,
   * `prev_hash`, `hash`) or rejects: at once with {@link AuditRecordError} for a record that is
   * not plain JSON-round-trippable data, or after the write for an I/O failure. Every rejection
   * is also reported on {@link onDidFail}.
   */
  append(input: AuditInput): Promise<AuditRecord> {
    if (this.closed) return this.refuse('closed', new AuditRecordError('audit log is closed; record dropped'));
    let body: Body;
    try {
      body = this.buildBody(input);
    } catch (err) {
      const error = err instanceof AuditRecordError ? err : new AuditRecordError(`audit record refused: ${errorText(err)}`, { cause: err });
      return this.refuse('refused', error);
    }
    return this.enqueue(body) as Promise<AuditRecord>;
  }

  /** Resolves when everything queued so far has been written (or has failed). Never rejects. */
  async flush(): Promise<void> {
    while (this.running) await this.pumping;
  }

  /** Writes what is queued, then closes the file. Later appends reject. */
  async close(): Promise<void> {
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
    return new Promise<AuditRecord | undefined>((resolve, reject) => {
      this.queue.push({ body, resolve, reject });
      // `running` is cleared synchronously when the pump's loop sees an empty queue, so an
      // append that lands after that check always starts a new pump (never strands a record).
      if (!this.running) {
        this.running = true;
        this.pumping = this.pump();
      }
    });
  }

  private refuse(phase: AuditFailure['phase'], error: Error): Promise<AuditRecord> {
    this.emitFail.fire({ phase, error, records: 1 });
    return Promise.reject(error);
  }

  /** The single writer: drains the queue in rounds, one group write per round. Never rejects. */
  private async pump(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        await this.groupCommitWindow();
        let release: ReleaseLock;
        try {
          // The lock's parent must exist: the config dir is made before it is locked.
          if (!this.handle) await this.fs.mkdir(this.options.dir);
        } catch (err) {
          this.failRound(this.queue.splice(0), 'open', err);
          continue;
        }
        try {
          // Awaiting here is what groups records: whatever is appended meanwhile joins this round.
          release = await this.lock.acquire();
        } catch (err) {
          // Busy past rea's retries (a live writer stuck holding it) or not creatable (a read-only
          // parent): losing the records would be worse than the fork the lock prevents, which
          // verify would report. Written unlocked, and said so.
          this.emitFail.fire({ phase: 'lock', error: err instanceof Error ? err : new Error(String(err)), records: 0 });
          this.logger.error(`audit: cannot take the lock beside ${this.options.dir} (${errorText(err)}); writing without it`);
          release = async () => undefined;
        }
        try {
          let head: ChainHead;
          try {
            // Under the lock: a tail another writer moved is re-read before anything is chained.
            head = await this.prepare();
          } catch (err) {
            this.failRound(this.queue.splice(0), 'open', err);
            continue;
          }
          await this.writeRound(head);
        } finally {
          await release();
        }
      }
    } catch (err) {
      // writeRound settles every promise itself; this is a last guard against a writer bug.
      this.failRound(this.queue.splice(0), 'write', err);
    } finally {
      this.running = false;
    }
  }

  /**
   * Waits out the rest of the group commit window (a real timer, not the injectable clock: this
   * is batching, not logic; and not unref'd, so a queued record is never left behind by exit).
   */
  private async groupCommitWindow(): Promise<void> {
    const windowMs = this.options.groupCommitMs ?? 0;
    if (windowMs <= 0) return;
    const wait = this.lastRoundAt + windowMs - performance.now();
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
  private async writeRound(head: ChainHead): Promise<void> {
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
      if (this.lines !== null) this.lines += written.length + (head.leading ? 1 : 0);
      // Still under the lock: the anchor describes the file exactly as this write left it.
      if (durable) await this.writeAnchor(prev);
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

  /** Makes sure the file is open and the chain head known; rotates when due. */
  private async prepare(): Promise<ChainHead> {
    if (!this.handle || this.needsResync || !this.head || !(await this.stillOurs())) {
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
    const cut = await this.checkAgainstAnchor(handle, size, head, wroteBefore);
    if (cut) head.markers.push(cut);
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

  /**
   * Compares the file with what the last write left (the tail anchor): a log that no longer
   * holds that record where it was, and was not rotated away meanwhile, lost its tail. The
   * running writer must not quietly continue from a shortened chain, so it returns a
   * `audit.tail_cut` marker saying how many records are missing. Also counts the file's lines.
   */
  private async checkAgainstAnchor(handle: AuditFileHandle, size: number, head: ChainHead, wroteBefore: boolean): Promise<Body | undefined> {
    if (!this.anchorLoaded) {
      this.anchorLoaded = true;
      const found = await readAnchor(this.options.dir);
      if (found instanceof Error) this.logger.warn(`audit: ${found.message}; cut tails cannot be told until the next write`);
      else if (found) this.expected = { size: found.size, lines: found.lines, hash: found.hash };
    }
    const expected = this.expected;
    const countAll = async (): Promise<number | null> => (size <= MAX_COUNT_BYTES ? countLines(handle, 0, size) : null);
    // Empty after we wrote to it: the file_replaced break says so (headFromTail).
    if (!expected || head.markers.some((m) => m.tool_name !== CHAIN_BREAK_TOOL_NAME) || (size === 0 && wroteBefore)) {
      this.lines = await countAll();
      return undefined;
    }
    if (head.markers.length === 0 && head.prevHash === expected.hash && size <= expected.size) {
      // The tail is the anchored record (the usual reopen; or it lost just its newline in a crash).
      this.lines = expected.lines === null ? null : expected.lines - (size < expected.size ? 1 : 0);
      return undefined;
    }
    const verdict = await compareWithAnchor(this.fs, this.options.dir, handle, size, expected, { maxTailBytes: MAX_TAIL_BYTES, maxCountBytes: MAX_COUNT_BYTES });
    this.lines = verdict.lines;
    return verdict.cut && this.marker(TAIL_CUT_TOOL_NAME, verdict.cut.metadata, 'error', verdict.cut.error);
  }

  /** Records what this write left in `audit.anchor`; a failure is logged once and costs only cut-tail detection. */
  private async writeAnchor(hash: string): Promise<void> {
    this.expected = { size: this.size, lines: this.lines, hash };
    try {
      await this.anchor.write({ file: AUDIT_FILE_NAME, ...this.expected, updated_at: new Date(this.clock.now()).toISOString() });
      this.anchorFailed = false;
    } catch (err) {
      if (!this.anchorFailed) this.logger.warn(`audit: cannot update ${path.join(this.options.dir, 'audit.anchor')}: ${errorText(err)}`);
      this.anchorFailed = true;
    }
  }

  private breakHead(leading: string, reason: string, previousTail: Record<string, unknown>): ChainHead {
    return {
      leading,
      markers: [this.marker(CHAIN_BREAK_TOOL_NAME, { reason, previous_tail: previousTail }, 'error', `audit chain broken at the file tail (${reason}); new segment starts at genesis`)],
      prevHash: GENESIS_HASH,
    };
  }

  private marker(toolName: string, metadata: Record<string, unknown>, status: 'allowed' | 'error' = 'allowed', error?: string): Body {
    return this.buildBody({
      tool_name: toolName,
      server_name: GATEWAY_SERVER_NAME,
      session_id: this.sessionId,
      tier: 'read',
      status,
      autonomy_level: 'system',
      duration_ms: 0,
      emission_source: 'gateway',
      error,
      metadata,
    });
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
    const target = await freeRotatedPath(this.fs, this.options.dir, now);
    const handle = this.handle;
    this.handle = undefined;
    this.needsResync = true;
    await handle?.close().catch(() => undefined);
    await this.fs.rename(this.file, target);
    // The anchored record is in the rotated file now; the marker's write anchors the new one.
    this.expected = undefined;
    this.pendingRotation = { rotatedFrom: path.basename(target), rotatedAt, prevHash };
    this.logger.info(`audit: rotated ${this.file} to ${path.basename(target)}`);
  }

  // ---- records -----------------------------------------------------------------------------

  /**
   * Validates an input and returns the record body (no prev_hash/hash) as a fresh plain
   * object, detached from the caller's (possibly mutable) metadata.
   */
  private buildBody(input: AuditInput): Body {
    const body: Body = {
      timestamp: new Date(this.clock.now()).toISOString(),
      session_id: input.session_id ?? this.sessionId,
      tool_name: input.tool_name,
      server_name: input.server_name,
      tier: input.tier ?? 'read',
      status: input.status ?? 'allowed',
      autonomy_level: input.autonomy_level ?? 'unknown',
      duration_ms: input.duration_ms ?? 0,
      emission_source: input.emission_source ?? 'proxy',
    };
    if (input.error !== undefined) body.error = input.error;
    if (input.redacted_fields && input.redacted_fields.length > 0) body.redacted_fields = input.redacted_fields;
    if (input.metadata && Object.keys(input.metadata).length > 0) body.metadata = input.metadata;

    for (const key of ['session_id', 'tool_name', 'server_name', 'autonomy_level'] as const) {
      if (typeof body[key] !== 'string') throw new AuditRecordError(`audit record refused: ${key} must be a string`);
    }
    if (!TIERS.has(body.tier as string)) throw new AuditRecordError(`audit record refused: tier '${String(body.tier)}' is not read, write or destructive`);
    if (!STATUSES.has(body.status as string)) throw new AuditRecordError(`audit record refused: status '${String(body.status)}' is not allowed, denied or error`);
    if (!SOURCES.has(body.emission_source as string)) throw new AuditRecordError(`audit record refused: emission_source '${String(body.emission_source)}' is not gateway or proxy`);
    if (typeof body.duration_ms !== 'number' || !(body.duration_ms >= 0)) throw new AuditRecordError('audit record refused: duration_ms must be a number >= 0');
    if (body.error !== undefined && typeof body.error !== 'string') throw new AuditRecordError('audit record refused: error must be a string');

    const text = canonicalJson(body); // throws CanonicalJsonError for BigInt, Date, toJSON, lone surrogates, cycles…
    if (Buffer.byteLength(text, 'utf8') > MAX_RECORD_BYTES) {
      throw new AuditRecordError(`audit record refused: ${Buffer.byteLength(text, 'utf8')} bytes is over the ${MAX_RECORD_BYTES}-byte limit`);
    }
    const parsed = JSON.parse(text) as Body;
    if (!jsonEqual(parsed, body)) throw new AuditRecordError('audit record refused: it does not survive a JSON round trip (getters or proxies returning changing values?)');
    return parsed;
  }
}

/** Adds prev_hash and hash; the line is checked to parse back to exactly the record. */
function chainRecord(body: Body, prevHash: string): { record: AuditRecord; line: string } {
  const unhashed = { ...body, prev_hash: prevHash };
  const hash = sha256Hex(canonicalJson(unhashed));
  const record = { ...unhashed, hash } as unknown as AuditRecord;
  const line = canonicalJson(record);
  // The round-trip self-check (SPEC §13.3 "Defect T"), on the exact text about to be written.
  const back: unknown = JSON.parse(line);
  if (line.includes('\n') || canonicalJson(back) !== line || !jsonEqual(back, record)) {
    throw new AuditRecordError('serialised line does not parse back to the record');
  }
  return { record, line };
}

/**
 * Structural equality over JSON values, with `undefined` object properties counting as absent
 * (they are not serialised) and `-0 === 0` (JSON has one zero).
 */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => jsonEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => Object.prototype.hasOwnProperty.call(bo, k) && jsonEqual(ao[k], bo[k]));
}

function tailEvidence(lastGood: string | null, known: string | undefined, broken: Buffer | undefined): Record<string, unknown> {
  let excerpt = broken ? broken.subarray(0, TAIL_EXCERPT_CHARS * 4).toString('utf8').slice(0, TAIL_EXCERPT_CHARS) : '';
  // A cut can leave half a surrogate pair; the record itself must stay canonicalisable.
  if (!isWellFormedString(excerpt)) excerpt = excerpt.replace(/[\uD800-\uDFFF]/g, '\uFFFD');
  return { last_good_hash: lastGood, expected_hash: known ?? null, broken_bytes: broken?.length ?? 0, excerpt };
}

async function writeAll(handle: AuditFileHandle, buffer: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, offset, buffer.length - offset);
    if (bytesWritten <= 0) throw new Error('write made no progress');
    offset += bytesWritten;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
