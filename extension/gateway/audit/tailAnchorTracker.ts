import * as path from 'node:path';
import type { Clock } from '../../common/clock';
import type { Logger } from '../../common/logger';
import { AnchorWriter, compareWithAnchor, countLines, readAnchor, type AnchorVerdict, type TailAnchor } from './auditAnchor';
import type { AuditFileHandle, AuditFileSystem } from './auditFileSystem';
import { AUDIT_FILE_NAME, CHAIN_BREAK_TOOL_NAME } from './auditRecord';
import type { ChainHead } from './chainHead';

// The writer's side of `audit.anchor`: what the file held after the last write, its line
// count, and the check that tells a cut tail at (re)attach. Apart from auditFile.ts because it
// is bookkeeping the writer calls at fixed points (attach, after each fsynced write, rotation);
// the writer still decides when, and builds the tail-cut marker itself.

export class TailAnchorTracker {
  /** What `audit.jsonl` held after the last write we know of (from `audit.anchor` at first). */
  private expected: Omit<TailAnchor, 'file' | 'updated_at'> | undefined;
  private loaded = false;
  private failed = false;
  private readonly writer: AnchorWriter;
  /** Lines in `audit.jsonl` (null: not counted). */
  lines: number | null = null;

  constructor(
    private readonly dir: string,
    private readonly fs: AuditFileSystem,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly limits: { maxTailBytes: number; maxCountBytes: number },
  ) {
    this.writer = new AnchorWriter(dir);
  }

  /**
   * Compares the file with what the last write left (the tail anchor): a log that no longer
   * holds that record where it was, and was not rotated away meanwhile, lost its tail. The
   * running writer must not quietly continue from a shortened chain, so it returns the cut, for
   * an `audit.tail_cut` marker saying how many records are missing. Also counts the file's lines.
   */
  async check(handle: AuditFileHandle, size: number, head: ChainHead, wroteBefore: boolean): Promise<AnchorVerdict['cut']> {
    if (!this.loaded) {
      this.loaded = true;
      const found = await readAnchor(this.dir);
      if (found instanceof Error) this.logger.warn(`audit: ${found.message}; cut tails cannot be told until the next write`);
      else if (found) this.expected = { size: found.size, lines: found.lines, hash: found.hash };
    }
    const expected = this.expected;
    const countAll = async (): Promise<number | null> => (size <= this.limits.maxCountBytes ? countLines(handle, 0, size) : null);
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
    const verdict = await compareWithAnchor(this.fs, this.dir, handle, size, expected, this.limits);
    this.lines = verdict.lines;
    return verdict.cut;
  }

  /**
   * Records what a write left in `audit.anchor` (`lines`: the count after that write, when it is
   * recorded later); a failure is logged once and costs only cut-tail detection.
   */
  async record(size: number, hash: string, lines: number | null = this.lines): Promise<void> {
    this.expected = { size, lines, hash };
    try {
      await this.writer.write({ file: AUDIT_FILE_NAME, ...this.expected, updated_at: new Date(this.clock.now()).toISOString() });
      this.failed = false;
    } catch (err) {
      if (!this.failed) this.logger.warn(`audit: cannot update ${path.join(this.dir, 'audit.anchor')}: ${err instanceof Error ? err.message : String(err)}`);
      this.failed = true;
    }
  }

  /** The anchored record went into a rotated file; the next write anchors the new one. */
  forget(): void {
    this.expected = undefined;
  }

  close(): Promise<void> {
    return this.writer.close();
  }
}
