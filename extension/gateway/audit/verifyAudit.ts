import { createReadStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { ANCHOR_FILE_NAME, readAnchor, type TailAnchor } from './auditAnchor';
import { AUDIT_FILE_NAME, CHAIN_BREAK_TOOL_NAME, GENESIS_HASH, MAX_RECORD_BYTES, ROTATION_TOOL_NAME, TAIL_CUT_TOOL_NAME } from './auditRecord';
import { checkAuditLine, type LineProblem } from './checkAuditLine';
import { readFirstLine, readTail } from './readTail';
import { compareRotatedNames, isRotatedSegment } from './rotationName';

/** Why verification failed at a line. */
export type VerifyBreakReason = LineProblem | 'prev_hash_mismatch' | 'invalid_utf8' | 'line_too_long' | 'truncated_last_line';

/** One unexplained break: tampering, deletion, corruption. */
export interface VerifyBreak {
  file: string;
  /** 1-based line number in `file`. */
  line: number;
  reason: VerifyBreakReason;
  message: string;
  /** For `prev_hash_mismatch`: the previous record's hash; for `hash_mismatch`: the recomputed hash. */
  expected?: string;
  /** The value the line holds instead. */
  found?: string;
}

/** A chain break the writer itself recorded (an `audit_chain_break` record), with what it explains. */
export interface RecordedBreak {
  file: string;
  /** Line of the marker record. */
  line: number;
  /** The marker's `metadata.reason` (`truncated_tail`, `corrupt_tail:…`, `file_replaced`, …). */
  reason: string;
  timestamp: string | undefined;
  /** The marker's `metadata.previous_tail`, as recorded. */
  previousTail: unknown;
  /** The broken line right before the marker that it accounts for, if any. */
  explains?: VerifyBreak;
}

/**
 * Records removed from the end of `audit.jsonl`: found now through `audit.anchor` (the record
 * the last write ended with is gone), or found earlier by the writer at open (an
 * `audit.tail_cut` record in the chain). Either fails verification: the chain that is left
 * is intact, but it is not all that was written.
 */
export interface TailCut {
  file: string;
  /** How many records are missing, when the anchor's line count allows telling. */
  missing: number | null;
  message: string;
  /** `anchor`: found now; `recorded`: the writer's `audit.tail_cut` record at `line`. */
  source: 'anchor' | 'recorded';
  line?: number;
  timestamp?: string;
}

/** What `verify` found. */
export interface VerifyResult {
  /** True when there is no unexplained break and no cut tail (recorded breaks are listed, not failures). */
  ok: boolean;
  /** Files walked, in chain order. */
  files: string[];
  lines: number;
  /** Lines that are valid records (their own hash recomputes). */
  records: number;
  /** Records hashed the rea way (key order) rather than canonically; see `checkAuditLine`. */
  legacyRecords: number;
  /** The first unexplained break: line number, expected vs found. */
  firstBreak?: VerifyBreak;
  /** Unexplained breaks in order, at most `maxBreaks` of them. */
  breaks: VerifyBreak[];
  /** Total unexplained breaks, including any beyond `maxBreaks`. */
  breakCount: number;
  recordedBreaks: RecordedBreak[];
  /** Records removed from the end of the log (see {@link TailCut}). */
  tailCuts: TailCut[];
  /**
   * Set when the walk starts with a rotation marker whose predecessor was not verified
   * (older segments deleted, or a single rotated file verified alone): its prev_hash is taken
   * on trust as the anchor.
   */
  anchor?: { file: string; line: number; prevHash: string; rotatedFrom: unknown };
  /**
   * The hash the next record would have to link to: the last record's, the hash a damaged last
   * line claims, or null when the file ends in a line without one.
   */
  lastHash: string | null;
}

/** Options of the verifiers. */
export interface VerifyOptions {
  /** The hash the first record must link to; default genesis (or the anchor rule, see {@link VerifyResult.anchor}). */
  prevHash?: string;
  /** Lines longer than this are breaks and are not buffered (bounded memory). Default 4 MiB. */
  maxLineBytes?: number;
  /** Breaks kept in `breaks` (all are counted). Default 1000. */
  maxBreaks?: number;
  /**
   * `verifyAuditDir` only: start at this rotated file (a base name, as `rea audit verify
   * --since`), taking its first record's prev_hash on trust; the segments before it are skipped.
   */
  since?: string;
}

/**
 * Verifies one audit file by streaming it line by line (memory bounded by the longest line,
 * so a 200 MB file is fine): every line parses, every hash recomputes, every prev_hash links.
 * Reports the first broken link exactly (line, expected vs found); a line that was tampered
 * with fails at that line, a deleted line fails at the next one. Chain-break records written
 * by the writer are listed as `recordedBreaks`, not failures. Rejects only when the file cannot
 * be read at all (ENOENT, EACCES).
 */
export async function verifyAuditFile(file: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  const walker = new ChainWalker(options);
  await walker.walkFile(file, options.prevHash);
  return walker.result();
}

/**
 * Verifies a config directory: the rotated segments (`audit-*.jsonl`, ordered by their first
 * record's time, then name) and then `audit.jsonl`, as one chain — each segment's rotation
 * marker must link to the previous segment's last record.
 */
export async function verifyAuditDir(dir: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  const names = await fsp.readdir(dir);
  const rotated = names.filter(isRotatedSegment);
  const segments = await Promise.all(rotated.map((name) => describeSegment(path.join(dir, name))));
  let files = chainOrder(segments).map((s) => s.file);
  if (options.since !== undefined) {
    const from = files.findIndex((f) => path.basename(f) === options.since);
    if (from < 0) throw new Error(`no rotated file ${options.since} in ${dir}`);
    files = files.slice(from);
  }
  if (names.includes(AUDIT_FILE_NAME)) files.push(path.join(dir, AUDIT_FILE_NAME));
  const walker = new ChainWalker(options);
  const anchor = await readAnchor(dir);
  if (anchor && !(anchor instanceof Error)) walker.anchorHash = anchor.hash;
  for (const [i, file] of files.entries()) await walker.walkFile(file, i === 0 ? options.prevHash : walker.continuation);
  // With --since the anchored record may sit in a skipped segment: only a full walk can miss it.
  if (anchor && !(anchor instanceof Error) && !walker.anchorSeen && options.since === undefined) {
    walker.addTailCut(anchorCut(dir, anchor, walker.linesOf(path.join(dir, AUDIT_FILE_NAME))));
  }
  return walker.result();
}

/** The cut tail `audit.anchor` reveals: its record is in no file walked. */
function anchorCut(dir: string, anchor: TailAnchor, lines: number | undefined): TailCut {
  const found = lines ?? 0;
  const missing = anchor.lines !== null && found < anchor.lines ? anchor.lines - found : null;
  const was = `${ANCHOR_FILE_NAME} (${anchor.updated_at}) says ${AUDIT_FILE_NAME} ended with record ${anchor.hash.slice(0, 16)}… at line ${anchor.lines ?? '?'}, byte ${anchor.size}; no file holds it`;
  return {
    file: path.join(dir, AUDIT_FILE_NAME),
    missing,
    message: missing !== null ? `${missing} record(s) missing at the end of ${AUDIT_FILE_NAME}: ${was}` : `records missing or replaced at the end of ${AUDIT_FILE_NAME}: ${was}`,
    source: 'anchor',
  };
}

/** The verification state, carried across the segments of a directory. */
class ChainWalker {
  private readonly maxLineBytes: number;
  private readonly maxBreaks: number;
  private readonly files: string[] = [];
  private readonly breaks: VerifyBreak[] = [];
  private readonly recorded: RecordedBreak[] = [];
  private readonly tailCuts: TailCut[] = [];
  private readonly fileLines = new Map<string, number>();
  /** The hash `audit.anchor` names, looked for in every record walked. */
  anchorHash: string | undefined;
  anchorSeen = false;
  private breakCount = 0;
  private lines = 0;
  private records = 0;
  private legacy = 0;
  private anchor: VerifyResult['anchor'];
  /** What the next record's prev_hash must be; null = unknown (after an unparseable line). */
  private expectedPrev: string | null = GENESIS_HASH;
  /** Hash of the last valid record (what a chain-break marker may claim as its last good hash). */
  private lastGoodHash: string | null = null;
  /** The break on the line just before the current one, if that line was broken. */
  private previousLineBreak: VerifyBreak | undefined;

  constructor(options: VerifyOptions) {
    this.maxLineBytes = options.maxLineBytes ?? 4 * MAX_RECORD_BYTES;
    this.maxBreaks = options.maxBreaks ?? 1000;
  }

  /** The prev_hash the next segment's first record must carry (undefined: unknown). */
  get continuation(): string | undefined {
    return this.expectedPrev ?? undefined;
  }

  async walkFile(file: string, prevHash: string | undefined): Promise<void> {
    this.files.push(file);
    const first = this.files.length === 1;
    // A given prev hash must be met; with none, the first file may start at a rotation marker.
    this.expectedPrev = prevHash ?? (first ? GENESIS_HASH : null);
    const anchorAllowed = first && prevHash === undefined;
    this.previousLineBreak = undefined;
    const decoder = new TextDecoder('utf-8', { fatal: true });
    let lineNo = 0;
    let parts: Buffer[] = [];
    let partsBytes = 0;
    let tooLong = false;

    const finish = (terminated: boolean): void => {
      lineNo++;
      this.lines++;
      if (tooLong) {
        this.lineBreak(file, lineNo, 'line_too_long', `line is longer than ${this.maxLineBytes} bytes`);
      } else {
        const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts, partsBytes);
        let text: string | undefined;
        try {
          text = decoder.decode(bytes);
        } catch {
          this.lineBreak(file, lineNo, 'invalid_utf8', 'line is not valid UTF-8');
        }
        if (text !== undefined) this.line(file, lineNo, text, terminated, anchorAllowed && lineNo === 1);
      }
      parts = [];
      partsBytes = 0;
      tooLong = false;
    };

    const stream = createReadStream(file, { highWaterMark: 1024 * 1024 });
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let pos = 0;
      for (;;) {
        const nl = chunk.indexOf(0x0a, pos);
        const end = nl < 0 ? chunk.length : nl;
        if (!tooLong && end > pos) {
          if (partsBytes + (end - pos) > this.maxLineBytes) {
            tooLong = true;
            parts = [];
            partsBytes = 0;
          } else {
            parts.push(chunk.subarray(pos, end));
            partsBytes += end - pos;
          }
        }
        if (nl < 0) break;
        finish(true);
        pos = nl + 1;
      }
    }
    if (partsBytes > 0 || tooLong) finish(false);
    this.fileLines.set(file, lineNo);
  }

  /** Lines walked in `file` (undefined: not walked). */
  linesOf(file: string): number | undefined {
    return this.fileLines.get(file);
  }

  addTailCut(cut: TailCut): void {
    this.tailCuts.push(cut);
  }

  private line(file: string, lineNo: number, text: string, terminated: boolean, anchorAllowed: boolean): void {
    const check = checkAuditLine(text);
    if (!check.ok) {
      const reason = !terminated && check.reason === 'unparseable' ? 'truncated_last_line' : check.reason;
      const message = reason === 'truncated_last_line' ? `last line is cut short (no newline, not JSON): ${check.message}` : check.message;
      this.lineBreak(file, lineNo, reason, message, check.expected, check.found);
      // Link the next line to what this one claims, so one edited line is one break, not two.
      this.expectedPrev = check.hash ?? null;
      return;
    }
    this.records++;
    if (check.scheme === 'legacy') this.legacy++;
    const record = check.record;
    const metadata = isObject(record.metadata) ? record.metadata : {};
    if (check.hash === this.anchorHash) this.anchorSeen = true;
    if (record.tool_name === TAIL_CUT_TOOL_NAME && record.emission_source === 'gateway') {
      const missing = metadata.missing_records;
      this.tailCuts.push({
        file,
        missing: typeof missing === 'number' ? missing : null,
        message: typeof record.error === 'string' ? record.error : 'records missing at the end of the log',
        source: 'recorded',
        line: lineNo,
        timestamp: typeof record.timestamp === 'string' ? record.timestamp : undefined,
      });
    }

    if (record.tool_name === CHAIN_BREAK_TOOL_NAME && record.emission_source === 'gateway' && check.prevHash === GENESIS_HASH) {
      const previousTail = metadata.previous_tail;
      const claimed = isObject(previousTail) ? previousTail.last_good_hash : undefined;
      const recorded: RecordedBreak = {
        file,
        line: lineNo,
        reason: typeof metadata.reason === 'string' ? metadata.reason : 'unknown',
        timestamp: typeof record.timestamp === 'string' ? record.timestamp : undefined,
        previousTail,
      };
      // The writer only ever inspects the last line of a file, so a marker accounts for at most
      // the one broken line right before it (never a broken link between valid records), and
      // only if it names the same last good record (or says it could not see one).
      const prior = this.previousLineBreak;
      if (prior && prior.file === file && prior.line === lineNo - 1 && prior.reason !== 'prev_hash_mismatch' && (claimed === null || claimed === this.lastGoodHash)) {
        this.excuse(prior);
        recorded.explains = prior;
      }
      this.recorded.push(recorded);
    } else if (this.expectedPrev !== null && check.prevHash !== this.expectedPrev) {
      if (anchorAllowed && record.tool_name === ROTATION_TOOL_NAME) {
        this.anchor = { file, line: lineNo, prevHash: check.prevHash, rotatedFrom: metadata.rotated_from };
      } else {
        const what = this.expectedPrev === GENESIS_HASH && lineNo === 1 ? 'genesis' : 'the previous record';
        this.lineBreak(
          file,
          lineNo,
          'prev_hash_mismatch',
          `prev_hash does not link to ${what} (expected ${this.expectedPrev}, found ${check.prevHash}): a record before this line was removed, inserted or rewritten`,
          this.expectedPrev,
          check.prevHash,
        );
        this.expectedPrev = check.hash;
        this.lastGoodHash = check.hash;
        return;
      }
    }
    this.expectedPrev = check.hash;
    this.lastGoodHash = check.hash;
    this.previousLineBreak = undefined;
  }

  private lineBreak(file: string, line: number, reason: VerifyBreakReason, message: string, expected?: string, found?: string): void {
    const brk: VerifyBreak = { file, line, reason, message };
    if (expected !== undefined) brk.expected = expected;
    if (found !== undefined) brk.found = found;
    this.breakCount++;
    if (this.breaks.length < this.maxBreaks) this.breaks.push(brk);
    this.previousLineBreak = brk;
    if (reason !== 'prev_hash_mismatch') this.expectedPrev = null;
  }

  private excuse(brk: VerifyBreak): void {
    const i = this.breaks.lastIndexOf(brk);
    if (i >= 0) this.breaks.splice(i, 1);
    this.breakCount--;
  }

  result(): VerifyResult {
    const out: VerifyResult = {
      ok: this.breakCount === 0 && this.tailCuts.length === 0,
      files: [...this.files],
      lines: this.lines,
      records: this.records,
      legacyRecords: this.legacy,
      breaks: this.breaks,
      breakCount: this.breakCount,
      recordedBreaks: this.recorded,
      tailCuts: this.tailCuts,
      lastHash: this.expectedPrev,
    };
    if (this.breaks[0]) out.firstBreak = this.breaks[0];
    if (this.anchor) out.anchor = this.anchor;
    return out;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What ordering needs to know about a rotated segment, from its first and last lines only. */
interface SegmentInfo {
  file: string;
  firstAt: number | undefined;
  firstPrev: string | undefined;
  lastHash: string | undefined;
}

/**
 * Orders rotated segments by their first record's time (then name), and then follows the
 * links: after a segment comes the one whose first prev_hash is its last hash, when there is
 * one. Names alone are not enough (rea's and our name formats differ; two rotations within a
 * millisecond get suffixes that sort the wrong way round).
 */
function chainOrder(segments: SegmentInfo[]): SegmentInfo[] {
  const remaining = [...segments].sort(
    (a, b) => (a.firstAt ?? Infinity) - (b.firstAt ?? Infinity) || compareRotatedNames(path.basename(a.file), path.basename(b.file)),
  );
  const ordered: SegmentInfo[] = [];
  while (remaining.length > 0) {
    const tail = ordered.at(-1)?.lastHash;
    let i = tail === undefined ? -1 : remaining.findIndex((s) => s.firstPrev === tail);
    // No link from what we have: start from a segment nothing else remaining leads to.
    if (i < 0) i = remaining.findIndex((s) => !remaining.some((o) => o !== s && o.lastHash !== undefined && o.lastHash === s.firstPrev));
    if (i < 0) i = 0;
    ordered.push(...remaining.splice(i, 1));
  }
  return ordered;
}

async function describeSegment(file: string): Promise<SegmentInfo> {
  const info: SegmentInfo = { file, firstAt: undefined, firstPrev: undefined, lastHash: undefined };
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(file, 'r');
    const { size } = await handle.stat();
    const first = await readFirstLine(handle, size, MAX_RECORD_BYTES + 1);
    const head = first === undefined ? undefined : checkAuditLine(first);
    if (head?.ok) {
      const at = typeof head.record.timestamp === 'string' ? Date.parse(head.record.timestamp) : NaN;
      info.firstAt = Number.isFinite(at) ? at : undefined;
      info.firstPrev = head.prevHash;
    }
    const tail = await readTail(handle, size, MAX_RECORD_BYTES * 4);
    const last = tail.lastLine === undefined || tail.partial ? undefined : checkAuditLine(tail.lastLine);
    if (last?.ok) info.lastHash = last.hash;
  } catch {
    // Unreadable: ordered by name, and walking it reports the problem.
  } finally {
    await handle?.close().catch(() => undefined);
  }
  return info;
}
