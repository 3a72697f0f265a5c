import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { replaceFile } from '../platform/replaceFile';
import { isRecord } from './jsonGuards';

/**
 * The file primitives of the state file writer, each in an async form (every call path) and a
 * sync form (only for the write at process exit, where async work never completes). Lock and
 * temp files are created exclusively with mode 0600, so a peer's file is never truncated and
 * nothing the gateway writes is readable by other users.
 */

export async function readText(file: string): Promise<string | null> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return null;
    throw err;
  }
}

export function readTextSync(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return null;
    throw err;
  }
}

export async function createExclusive(file: string, content: string): Promise<void> {
  const handle = await fsp.open(file, 'wx', 0o600);
  try {
    await handle.writeFile(content);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlinkQuiet(file);
    throw err;
  }
  await handle.close();
}

export function createExclusiveSync(file: string, content: string): void {
  const fd = fs.openSync(file, 'wx', 0o600);
  try {
    fs.writeFileSync(fd, content);
  } catch (err) {
    fs.closeSync(fd);
    unlinkQuietSync(file);
    throw err;
  }
  fs.closeSync(fd);
}

/**
 * Writes `<dir>/.<name>.<uuid>.tmp` (0600) and renames it over `target`. `commit` is asked
 * right before the rename; false discards the temp file and returns false.
 */
export async function writeAtomic(target: string, text: string, commit?: () => boolean): Promise<boolean> {
  const tmp = tempPath(target);
  try {
    await createExclusive(tmp, text);
    if (commit && !commit()) {
      await unlinkQuiet(tmp);
      return false;
    }
    await replaceFile(tmp, target); // retries Windows sharing violations
    return true;
  } catch (err) {
    await unlinkQuiet(tmp);
    throw err;
  }
}

export function writeAtomicSync(target: string, text: string): void {
  const tmp = tempPath(target);
  try {
    createExclusiveSync(tmp, text);
    fs.renameSync(tmp, target);
  } catch (err) {
    unlinkQuietSync(tmp);
    throw err;
  }
}

function tempPath(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${randomUUID()}.tmp`);
}

export async function unlinkQuiet(file: string): Promise<void> {
  await fsp.unlink(file).catch(() => undefined);
}

export function unlinkQuietSync(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    // best effort: a dangling file is cleaned by the stale rules next time
  }
}

export function errorCode(err: unknown): string | undefined {
  return isRecord(err) && typeof err.code === 'string' ? err.code : undefined;
}

