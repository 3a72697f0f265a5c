/**
 * `rename(tmp, target)` that survives Windows. On NTFS, replacing a file fails with EPERM,
 * EACCES or EBUSY while another process holds it open without FILE_SHARE_DELETE: a virus
 * scanner or the search indexer looking at the fresh file, or a reader (`gatehouse status`,
 * the bridge) in the middle of a read. These clear in milliseconds, so the replace is retried a
 * bounded number of times (graceful-fs, which npm uses, does the same for the same codes, for
 * up to a minute). On Linux and macOS rename(2) replaces atomically and those codes are
 * permanent, so they are thrown at once.
 */
import { rename } from 'node:fs/promises';

/** The platform seam: which OS, how to rename, how to wait. */
export interface ReplaceFileSeam {
  platform?: NodeJS.Platform;
  rename?: (from: string, to: string) => Promise<void>;
  sleep?: (ms: number) => Promise<void>;
}

/** Waits between attempts on Windows: about 1.3 s in all, never more. */
export const REPLACE_RETRY_DELAYS_MS: readonly number[] = [10, 20, 40, 80, 160, 320, 640];

const TRANSIENT = new Set(['EPERM', 'EACCES', 'EBUSY']);

/** Renames `from` over `to`, retrying transient Windows sharing violations (see the module comment). */
export async function replaceFile(from: string, to: string, seam: ReplaceFileSeam = {}): Promise<void> {
  const doRename = seam.rename ?? rename;
  const retry = (seam.platform ?? process.platform) === 'win32';
  const sleep = seam.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref()));
  for (let attempt = 0; ; attempt++) {
    try {
      await doRename(from, to);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (!retry || !TRANSIENT.has(code) || attempt >= REPLACE_RETRY_DELAYS_MS.length) throw err;
      await sleep(REPLACE_RETRY_DELAYS_MS[attempt] as number);
    }
  }
}
