import type { AuditFileHandle } from './auditFileSystem';

/** First window read from the end of the file. */
export const TAIL_WINDOW_BYTES = 64 * 1024;

/** What {@link readTail} found at the end of a file. */
export interface FileTail {
  /** The last complete (`\n`-terminated) line, without the `\n`; undefined when there is none. */
  lastLine?: string;
  /** Bytes after the last `\n`: a line cut short (crash mid-write), or undefined. */
  partial?: Buffer;
  /** No line boundary within `maxBytes`: the tail is one oversized (corrupt) line. */
  tooLong: boolean;
  /** Bytes read to get here (bounded by `maxBytes`, whatever the file size). */
  bytesRead: number;
}

/**
 * Reads just enough of the end of a file to get its last complete line and any partial line
 * after it: 64 KiB first, doubling while the line start is not in the window, up to
 * `maxBytes`. rea read the whole file per append (SPEC §8.2); this is O(line length).
 */
export async function readTail(handle: AuditFileHandle, size: number, maxBytes: number): Promise<FileTail> {
  let bytesRead = 0;
  let window = Math.min(size, TAIL_WINDOW_BYTES);
  let buf = Buffer.alloc(0);
  for (;;) {
    const start = size - window;
    // Only read the part in front of what we already have.
    const fresh = Buffer.alloc(window - buf.length);
    bytesRead += await readFully(handle, fresh, start);
    buf = Buffer.concat([fresh, buf]);
    const atFileStart = start === 0;

    const endsWithNewline = buf.length > 0 && buf[buf.length - 1] === 0x0a;
    const lastNl = buf.lastIndexOf(0x0a);
    let partial: Buffer | undefined;
    let lineEnd: number; // index of the '\n' that ends the last complete line, -1 if none in window
    if (endsWithNewline) {
      lineEnd = buf.length - 1;
    } else {
      lineEnd = lastNl;
      if (lineEnd >= 0 || atFileStart) partial = buf.subarray(lineEnd + 1);
    }
    if (lineEnd >= 0) {
      // lastIndexOf with a negative offset would search from the end: guard lineEnd === 0.
      const prevNl = lineEnd === 0 ? -1 : buf.lastIndexOf(0x0a, lineEnd - 1);
      if (prevNl >= 0 || atFileStart) {
        return { lastLine: buf.subarray(prevNl + 1, lineEnd).toString('utf8'), partial: nonEmpty(partial), tooLong: false, bytesRead };
      }
    } else if (atFileStart) {
      return { partial: nonEmpty(partial), tooLong: false, bytesRead };
    }
    if (window >= maxBytes || window >= size) {
      return { partial: nonEmpty(partial) ?? buf.subarray(0, Math.min(buf.length, 4096)), tooLong: true, bytesRead };
    }
    window = Math.min(size, maxBytes, window * 2);
  }
}

/**
 * The first line of a file (up to `maxBytes`), or undefined when none ends within that.
 * Used for age-based rotation: the first record's timestamp is the segment's age.
 */
export async function readFirstLine(handle: AuditFileHandle, size: number, maxBytes: number): Promise<string | undefined> {
  const buf = Buffer.alloc(Math.min(size, maxBytes));
  const n = await readFully(handle, buf, 0);
  const nl = buf.subarray(0, n).indexOf(0x0a);
  return nl < 0 ? undefined : buf.subarray(0, nl).toString('utf8');
}

async function readFully(handle: AuditFileHandle, buf: Buffer, position: number): Promise<number> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await handle.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) break; // the file shrank under us; the caller sees fewer bytes
    done += bytesRead;
  }
  return done;
}

function nonEmpty(b: Buffer | undefined): Buffer | undefined {
  return b && b.length > 0 ? b : undefined;
}
