import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { AuditFileHandle, AuditFileSystem } from './auditFileSystem';
import { AUDIT_FILE_NAME, isHashString, MAX_RECORD_BYTES, ROTATION_TOOL_NAME } from './auditRecord';
import { checkAuditLine } from './checkAuditLine';
import { readFirstLine, readTail } from './readTail';
import { compareRotatedNames, isRotatedSegment } from './rotationName';

/**
 * The tail anchor's file, next to `audit.jsonl`. rea reads only `audit.jsonl` and
 * `audit-*.jsonl` (SPEC §8.2, Appendix D), so an extra file in a shared `.rea/` is invisible to it.
 */
export const ANCHOR_FILE_NAME = 'audit.anchor';

/** Fixed size of the anchor file: each update overwrites it in place with one positional write. */
const ANCHOR_BYTES = 512;

/**
 * What the writer last knew about `audit.jsonl`: after a group write it was `size` bytes and
 * `lines` lines long (null: not counted, e.g. a huge log found at first start) and its last
 * record's hash was `hash`. A log that no longer holds that record at that offset lost its tail.
 */
export interface TailAnchor {
  file: string;
  size: number;
  lines: number | null;
  hash: string;
  updated_at: string;
}

/**
 * Reads `audit.anchor`: undefined when there is none; an Error (never thrown) when it is not an
 * anchor, which the caller reports and then overwrites.
 */
export async function readAnchor(dir: string): Promise<TailAnchor | undefined | Error> {
  let text: string;
  try {
    text = await fsp.readFile(path.join(dir, ANCHOR_FILE_NAME), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return err instanceof Error ? err : new Error(String(err));
  }
  try {
    const a = JSON.parse(text) as Partial<TailAnchor>;
    const lines = a.lines === null || (Number.isSafeInteger(a.lines) && (a.lines as number) >= 0) ? a.lines : undefined;
    if (a.file === AUDIT_FILE_NAME && Number.isSafeInteger(a.size) && (a.size as number) > 0 && lines !== undefined && isHashString(a.hash)) {
      return { file: a.file, size: a.size as number, lines, hash: a.hash, updated_at: String(a.updated_at ?? '') };
    }
  } catch {
    // Reported below.
  }
  return new Error(`${ANCHOR_FILE_NAME} is not a tail anchor (torn by a crash, or edited)`);
}

/**
 * Keeps `audit.anchor` (0600) up to date: one open handle, one positional write of a fixed-size
 * buffer per update, no fsync (an anchor older than the log proves less, never something false:
 * the log is fsynced before its anchor is written).
 */
export class AnchorWriter {
  private handle: fsp.FileHandle | undefined;

  constructor(private readonly dir: string) {}

  async write(anchor: TailAnchor): Promise<void> {
    const text = JSON.stringify(anchor);
    // A record hash and a few numbers: far below the size; padding keeps every update one write.
    const buffer = Buffer.alloc(ANCHOR_BYTES, 0x20);
    buffer.write(text, 0, 'utf8');
    buffer[ANCHOR_BYTES - 1] = 0x0a;
    this.handle ??= await fsp.open(path.join(this.dir, ANCHOR_FILE_NAME), fsp.constants.O_RDWR | fsp.constants.O_CREAT, 0o600);
    await this.handle.write(buffer, 0, ANCHOR_BYTES, 0);
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }
}

/**
 * True when the file behind `handle` (now `size` bytes) still holds the anchored record as the
 * line ending at `anchor.size`: the log was only appended to since.
 */
export async function holdsAnchored(handle: AuditFileHandle, size: number, anchor: Pick<TailAnchor, 'size' | 'hash'>, maxBytes: number): Promise<boolean> {
  if (size < anchor.size) return false;
  const tail = await readTail(handle, anchor.size, maxBytes);
  if (tail.lastLine === undefined || tail.partial) return false;
  try {
    return (JSON.parse(tail.lastLine) as { hash?: unknown }).hash === anchor.hash;
  } catch {
    return false;
  }
}

/** Newlines in `[from, to)` of the file: the lines other writers appended, or a whole file's lines. */
export async function countLines(handle: AuditFileHandle, from: number, to: number): Promise<number> {
  const chunk = Buffer.alloc(Math.min(1024 * 1024, Math.max(1, to - from)));
  let count = 0;
  for (let pos = from; pos < to; ) {
    const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, to - pos), pos);
    if (bytesRead === 0) break;
    for (let i = chunk.indexOf(0x0a); i >= 0 && i < bytesRead; i = chunk.indexOf(0x0a, i + 1)) count++;
    pos += bytesRead;
  }
  return count;
}

/**
 * True when the anchored record went into a rotated segment (another writer, rea, rotated the
 * log since the anchor was written): the segment the new file's rotation marker names, or,
 * for an empty file (a crash between the rename and the marker), one of the newest segments.
 */
export async function anchoredInRotatedSegment(
  fs: AuditFileSystem,
  dir: string,
  handle: AuditFileHandle,
  size: number,
  anchor: Pick<TailAnchor, 'size' | 'hash'>,
  maxBytes: number,
): Promise<boolean> {
  const first = size === 0 ? undefined : await readFirstLine(handle, size, MAX_RECORD_BYTES + 1);
  const check = first === undefined ? undefined : checkAuditLine(first);
  const from = check?.ok && check.record.tool_name === ROTATION_TOOL_NAME ? (check.record.metadata as { rotated_from?: unknown } | undefined)?.rotated_from : undefined;
  let candidates: string[];
  if (typeof from === 'string' && isRotatedSegment(from) && path.basename(from) === from) candidates = [from];
  else if (size === 0) {
    const names = await fsp.readdir(dir).catch(() => [] as string[]);
    candidates = names.filter(isRotatedSegment).sort(compareRotatedNames).reverse().slice(0, 3);
  } else return false;
  for (const name of candidates) {
    const rotated = await fs.open(path.join(dir, name), 'r').catch(() => undefined);
    if (!rotated) continue;
    try {
      if (await holdsAnchored(rotated, (await rotated.stat()).size, anchor, maxBytes)) return true;
    } catch {
      // Unreadable: not where the anchored record went.
    } finally {
      await rotated.close().catch(() => undefined);
    }
  }
  return false;
}

/** What {@link compareWithAnchor} found: the file's line count, and a cut tail if there is one. */
export interface AnchorVerdict {
  lines: number | null;
  cut?: { missing: number | null; error: string; metadata: Record<string, unknown> };
}

/**
 * Compares a log (open at `handle`, `size` bytes) with what the anchor says it held: intact when
 * the anchored record is still the line ending at its offset (others may have appended since)
 * or went into a rotated segment; otherwise records were removed from the end, and the verdict
 * says how many when both line counts are known.
 */
export async function compareWithAnchor(
  fs: AuditFileSystem,
  dir: string,
  handle: AuditFileHandle,
  size: number,
  expected: Omit<TailAnchor, 'file' | 'updated_at'>,
  limits: { maxTailBytes: number; maxCountBytes: number },
): Promise<AnchorVerdict> {
  if (await holdsAnchored(handle, size, expected, limits.maxTailBytes)) {
    const appended = size - expected.size;
    return { lines: expected.lines === null || appended > limits.maxCountBytes ? null : expected.lines + (await countLines(handle, expected.size, size)) };
  }
  const found = size <= limits.maxCountBytes ? await countLines(handle, 0, size) : null;
  if (await anchoredInRotatedSegment(fs, dir, handle, size, expected, limits.maxTailBytes)) return { lines: found };
  const missing = expected.lines !== null && found !== null && found < expected.lines ? expected.lines - found : null;
  const error =
    missing !== null
      ? `${missing} record(s) missing at the end of ${AUDIT_FILE_NAME}: it held ${expected.lines} lines (${expected.size} bytes) ending in record ${expected.hash.slice(0, 16)}…, now ${found} (${size} bytes)`
      : `records missing or replaced at the end of ${AUDIT_FILE_NAME}: record ${expected.hash.slice(0, 16)}… that ended it at byte ${expected.size} is gone (now ${size} bytes)`;
  return {
    lines: found,
    cut: {
      missing,
      error,
      metadata: { reason: 'tail_cut', missing_records: missing, expected: { hash: expected.hash, size: expected.size, lines: expected.lines }, found: { size, lines: found } },
    },
  };
}
