import { randomUUID } from 'node:crypto';
import { readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { childGuard, type ChildGuard, type GuardedChild } from '../pool/childGuard';
import { killProcessGroup } from '../pool/killProcessGroup';
import { processStartTime } from '../pool/processStartTime';

/** `serve.children.<owner pid>.json`: one file per gateway process, beside the state file. */
const RECORD_FILE = /^serve\.children\.(\d+)\.json$/;

/** The record file's name for the process `pid`. */
export function childRecordFileName(pid: number): string {
  return `serve.children.${pid}.json`;
}

/** What a record file holds. */
interface ChildRecord {
  owner: { pid: number; start_time: string };
  children: Array<{ pid: number; start_time: string }>;
  updated_at: string;
}

/**
 * Keeps `<dir>/serve.children.<pid>.json` (0600) listing this process's live child process
 * groups with their start times, so that the next start can reap what a gateway that died
 * without running any code left behind (issue 13.11; the watchdog covers the same case while
 * it can). Written on every change, atomically, one write at a time; removed on a clean stop.
 */
export class ChildRecordFile {
  private readonly file: string;
  private ownerStart: string | null = null;
  private unsubscribe: (() => void) | undefined;
  private writing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly dir: string,
    private readonly guard: ChildGuard = childGuard,
    private readonly pid = process.pid,
  ) {
    this.file = path.join(dir, childRecordFileName(pid));
  }

  /** Subscribes and writes the current list (when there is one). Failures go to `onError`. */
  async start(onError: (err: Error) => void = () => undefined): Promise<void> {
    this.ownerStart = await processStartTime(this.pid);
    if (this.ownerStart === null || this.stopped) return; // no procfs: nothing could be reaped safely
    const schedule = (children: GuardedChild[]) => {
      this.writing = this.writing.then(() => (this.stopped ? undefined : this.write(children).catch(onError)));
    };
    this.unsubscribe = this.guard.onDidChange(schedule);
    if (this.guard.list().length) schedule(this.guard.list());
    await this.writing;
  }

  /** Stops recording and removes the file (our children are being stopped by their owner). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    await this.writing;
    await unlink(this.file).catch(() => undefined);
  }

  private async write(children: GuardedChild[]): Promise<void> {
    const record: ChildRecord = {
      owner: { pid: this.pid, start_time: this.ownerStart ?? '' },
      children: children.map((c) => ({ pid: c.pid, start_time: c.startTime })),
      updated_at: new Date().toISOString(),
    };
    const tmp = path.join(this.dir, `.${path.basename(this.file)}.${randomUUID()}.tmp`);
    await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, this.file).catch(async (err: unknown) => {
      await unlink(tmp).catch(() => undefined);
      throw err;
    });
  }
}

/** What {@link reapOrphans} did. */
export interface ReapResult {
  /** Process groups killed (leaders whose pid and start time matched, or leaderless groups). */
  killed: number[];
  /** Recorded pids now naming another process (reused): left alone. */
  reused: number[];
}

export interface ReapOptions {
  /** Our own pid: our own record file is never reaped. */
  pid?: number;
  startTimeOf?: (pid: number) => Promise<string | null>;
  kill?: (pgid: number) => boolean;
}

/**
 * Kills what dead gateways recorded in `dir`: for each record file whose owner is gone (its
 * pid absent or carrying another start time), every child group whose leader still has the
 * recorded start time. A leader with another start time is a reused pid and is never
 * signalled. A leader that is gone may have left its group behind (grandchildren): Linux never
 * reuses a pid that still names a process group, so `kill(-pgid)` then reaches only those
 * leftovers, or nobody. The file is removed afterwards. Linux only (it needs procfs to tell a
 * reused pid); elsewhere it does nothing.
 */
export async function reapOrphans(dir: string, options: ReapOptions = {}): Promise<ReapResult> {
  const startTimeOf = options.startTimeOf ?? processStartTime;
  const kill = options.kill ?? ((pgid: number) => killProcessGroup(pgid, 'SIGKILL'));
  const self = options.pid ?? process.pid;
  const result: ReapResult = { killed: [], reused: [] };
  if ((await startTimeOf(self)) === null) return result;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return result;
  }
  for (const name of names) {
    const match = RECORD_FILE.exec(name);
    if (!match || Number(match[1]) === self) continue;
    const file = path.join(dir, name);
    const record = parseRecord(await readFile(file, 'utf8').catch(() => ''));
    if (!record) continue; // unreadable or not ours to judge: leave it for a human
    const ownerNow = await startTimeOf(record.owner.pid);
    if (ownerNow !== null && ownerNow === record.owner.start_time) continue; // its gateway lives
    for (const child of record.children) {
      const now = await startTimeOf(child.pid);
      if (now !== null && now !== child.start_time) {
        result.reused.push(child.pid);
        continue;
      }
      if (kill(child.pid)) result.killed.push(child.pid);
    }
    await unlink(file).catch(() => undefined);
  }
  return result;
}

function parseRecord(text: string): ChildRecord | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  const isEntry = (v: unknown): v is { pid: number; start_time: string } =>
    typeof v === 'object' &&
    v !== null &&
    Number.isInteger((v as { pid?: unknown }).pid) &&
    ((v as { pid: number }).pid > 1) &&
    typeof (v as { start_time?: unknown }).start_time === 'string' &&
    /^\d+$/.test((v as { start_time: string }).start_time);
  if (typeof data !== 'object' || data === null) return undefined;
  const { owner, children } = data as { owner?: unknown; children?: unknown };
  if (!isEntry(owner) || !Array.isArray(children)) return undefined;
  return { owner, children: children.filter(isEntry), updated_at: '' };
}
