import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/logger';
import type { AuditFileSystem } from './auditFileSystem';
import type { AuditLock } from './auditLock';
import type { AuditRecord } from './auditRecord';
import type { AuditRotationPolicy } from './auditRotation';

// The shapes AuditLog is configured with and reports through (options, failures, breaks,
// counters). Apart from auditLog.ts so that file holds only the log's front; auditLog.ts
// re-exports them, so importers keep their import path.

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
   * The cross-process lock taken around each group write (one per write, not per record; rounds
   * due at once, under a backlog, share one).
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
