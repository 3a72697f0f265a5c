import * as path from 'node:path';
import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/logger';
import type { AuditFileHandle, AuditFileSystem } from './auditFileSystem';
import type { AuditFailure, AuditLogOptions, AuditLogStats } from './auditLogOptions';
import { AUDIT_FILE_NAME, CHAIN_BREAK_TOOL_NAME, GENESIS_HASH, MAX_RECORD_BYTES, ROTATION_TOOL_NAME, TAIL_CUT_TOOL_NAME, type AuditRecord } from './auditRecord';
import { freeRotatedPath, rotationSettings, segmentStartOf } from './auditRotation';
import type { AuditBody as Body } from './buildAuditBody';
import { tailEvidence, type ChainHead } from './chainHead';
import { checkAuditLine } from './checkAuditLine';
import { gatewayMarker } from './gatewayMarker';
import { readTail } from './readTail';
import { TailAnchorTracker } from './tailAnchorTracker';

// The file the writer appends to: its handle, where the chain continues (read from the tail
// only), rotation and `audit.anchor`. Apart from the writer (auditWriter.ts), which decides
// when a round runs and what goes in it; this decides where it goes.

/** The tail reader gives up (and records a chain break) past this many bytes. */
const MAX_TAIL_BYTES = 4 * MAX_RECORD_BYTES;
/** Wait after a failed rotation before trying again. */
const ROTATION_RETRY_MS = 60_000;
/**
 * Lines are counted (for "N records missing") only in files or appended stretches up to this
 * size: a log found without an anchor is counted once at open if it is small; a bigger one is
 * counted from its next rotation on.
 */
const MAX_COUNT_BYTES = 8 * 1024 * 1024;

/** What {@link AuditFile} needs from the log that owns it. */
export interface AuditFileOptions {
  options: AuditLogOptions;
  fs: AuditFileSystem;
  clock: Clock;
  logger: Logger;
  sessionId: string;
  /** The log's counters (shared with the writer). */
  counters: AuditLogStats;
  /** Reports a failed rotation (records still go to the current file). */
  fail(failure: AuditFailure): void;
}

export class AuditFile {
  /** Absolute path of `audit.jsonl`. */
  readonly path: string;

  private readonly options: AuditLogOptions;
  private readonly fs: AuditFileSystem;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly sessionId: string;
  private readonly counters: AuditLogStats;
  private readonly fail: (failure: AuditFailure) => void;
  /**
   * What `audit.anchor` is to say once the lock is let go: the file after the last fsynced write.
   * Written at release, not after every round of a hold: nobody else writes the log meanwhile.
   */
  private anchorDue: { size: number; hash: string; lines: number | null } | undefined;

  private openHandle: AuditFileHandle | undefined;
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

  constructor(init: AuditFileOptions) {
    this.options = init.options;
    this.fs = init.fs;
    this.clock = init.clock;
    this.logger = init.logger;
    this.sessionId = init.sessionId;
    this.counters = init.counters;
    this.fail = init.fail;
    this.path = path.join(init.options.dir, AUDIT_FILE_NAME);
    this.anchor = new TailAnchorTracker(init.options.dir, this.fs, this.clock, this.logger, { maxTailBytes: MAX_TAIL_BYTES, maxCountBytes: MAX_COUNT_BYTES });
  }

  /** The open file, if any. */
  get handle(): AuditFileHandle | undefined {
    return this.openHandle;
  }

  /** Hash of the last record in the chain, once known. */
  get lastHash(): string | undefined {
    return this.last;
  }

  /** After a failed write: the tail is re-read before the next one. */
  lost(): void {
    this.needsResync = true;
  }

  /**
   * Takes note of a round's lines, written (`bytes` long, `written` the records, `prev` the last
   * one's hash) after `head`; `durable` when they were fsynced.
   */
  wrote(head: ChainHead, bytes: number, written: readonly AuditRecord[], prev: string, durable: boolean): void {
    if (this.size === 0) this.segmentStart = Date.parse(written[0]!.timestamp);
    this.size += bytes;
    this.last = prev;
    if (this.anchor.lines !== null) this.anchor.lines += written.length + (head.leading ? 1 : 0);
    // Written when the lock is let go (letGo): the file exactly as the last fsynced write left it.
    if (durable) this.anchorDue = { size: this.size, hash: prev, lines: this.anchor.lines };
    // The head now continues from what we wrote.
    this.head = { leading: '', markers: [], prevHash: prev };
  }

  /** The rotation marker is written: the rotation is complete. */
  rotationWritten(): void {
    this.pendingRotation = undefined;
  }

  async writeAnchor(): Promise<void> {
    const due = this.anchorDue;
    this.anchorDue = undefined;
    if (due) await this.anchor.record(due.size, due.hash, due.lines);
  }

  /** Closes the file and the anchor. */
  async close(): Promise<void> {
    const handle = this.openHandle;
    this.openHandle = undefined;
    if (handle) await handle.close().catch((err: unknown) => this.logger.warn(`audit: closing ${this.path} failed: ${errorText(err)}`));
    await this.anchor.close().catch(() => undefined);
  }

  /**
   * Makes sure the file is open and the chain head known; rotates when due. The path is not
   * checked again in a round that follows our own write under the same hold of the lock
   * (`wroteUnderLock`).
   */
  async prepare(wroteUnderLock: boolean): Promise<ChainHead> {
    if (!this.openHandle || this.needsResync || !this.head || !(wroteUnderLock || (await this.stillOurs()))) {
      this.head = await this.attach();
      this.needsResync = false;
    }
    if (this.head.markers.length === 0 && !this.head.leading && this.clock.now() >= this.rotationRetryAt && (await this.rotationDue())) {
      try {
        await this.rotate(this.head.prevHash);
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        this.logger.error(`audit: rotation of ${this.path} failed: ${error.message}; still appending to it`);
        this.fail({ phase: 'rotate', error, records: 0 });
        // Records keep going to the current file; retry later rather than on every round.
        this.rotationRetryAt = this.clock.now() + ROTATION_RETRY_MS;
      }
      if (!this.openHandle || this.needsResync) {
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
    const onDisk = await this.fs.stat(this.path).catch(() => undefined);
    return onDisk !== undefined && onDisk.ino === this.ino && onDisk.size === this.size;
  }

  /** (Re)opens the file and decides where the chain continues (SPEC §8.2, improved). */
  private async attach(): Promise<ChainHead> {
    // An anchor still due describes the file we are leaving; it goes first.
    await this.writeAnchor();
    const old = this.openHandle;
    this.openHandle = undefined;
    if (old) await old.close().catch(() => undefined);
    await this.fs.mkdir(this.options.dir);
    const handle = await this.fs.open(this.path, 'a+', 0o600);
    let size: number;
    try {
      // The mode only applies when the file is created; a rea-written file may be 0644.
      await handle.chmod(0o600).catch((err: unknown) => this.logger.warn(`audit: chmod 600 ${this.path} failed: ${errorText(err)}`));
      const st = await handle.stat();
      size = st.size;
      this.ino = st.ino;
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
    this.openHandle = handle;
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
    if (this.size === 0 || !this.openHandle) return false; // empty files never rotate (rea)
    const { maxBytes, maxAgeMs } = rotationSettings(this.options.rotation, this.logger);
    if (this.size >= maxBytes) return true;
    if (maxAgeMs === undefined) return false;
    // Once per attach: the first line's timestamp is the segment's age.
    if (this.segmentStart === undefined) this.segmentStart = await segmentStartOf(this.openHandle, this.size);
    return this.segmentStart !== null && this.clock.now() - this.segmentStart >= maxAgeMs;
  }

  private async rotate(prevHash: string): Promise<void> {
    const now = new Date(this.clock.now());
    const rotatedAt = now.toISOString();
    await this.writeAnchor();
    const target = await freeRotatedPath(this.fs, this.options.dir, now);
    const handle = this.openHandle;
    this.openHandle = undefined;
    this.needsResync = true;
    await handle?.close().catch(() => undefined);
    await this.fs.rename(this.path, target);
    // The anchored record is in the rotated file now; the marker's write anchors the new one.
    this.anchor.forget();
    this.pendingRotation = { rotatedFrom: path.basename(target), rotatedAt, prevHash };
    this.logger.info(`audit: rotated ${this.path} to ${path.basename(target)}`);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
