import { randomUUID } from 'node:crypto';
import { readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { childGuard, type ChildGuard, type GuardedChild } from '../pool/childGuard';
import { killProcessGroup } from '../pool/killProcessGroup';
import { processStartTime, startTimeSnapshot } from '../pool/processStartTime';
import { killPids } from '../platform/killProcessTree';
import { descendantsOf, listProcesses, type ProcessTableSeam } from '../platform/processTable';

/** `serve.children.<owner pid>.json`: one file per gateway process, beside the state file. */
const RECORD_FILE = /^serve\.children\.(\d+)\.json$/;

/** How long a removal-only change may wait for a write of its own (see {@link ChildRecordFile}). */
export const REMOVAL_DELAY_MS = 1000;

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
 * it can). Written atomically, one write at a time; removed on a clean stop.
 *
 * A new child is written at once (changes that arrive while a write is under way share the next
 * one). A child that is gone is only dropped from the file with the next addition or within
 * {@link REMOVAL_DELAY_MS}: an entry for a dead child is harmless (the reaper skips a pid with
 * another start time, and POSIX never hands out a pid that still names a group, so a gone
 * leader's pgid reaches its leftovers or nobody), and a crash-looping server otherwise cost two
 * writes per respawn, one of them for a child that lived a few milliseconds.
 */
export class ChildRecordFile {
  private readonly file: string;
  private ownerStart: string | null = null;
  private unsubscribe: (() => void) | undefined;
  private writing: Promise<void> = Promise.resolve();
  private stopped = false;
  /** The newest list not yet handed to a write, if any. */
  private wanted: GuardedChild[] | undefined;
  /** A write is queued behind `writing` and will take `wanted` when it starts. */
  private queued = false;
  /** `pid:start time` of every child in the file as last written. */
  private written = new Set<string>();
  private removalTimer: NodeJS.Timeout | undefined;
  private onError: (err: Error) => void = () => undefined;
  /** Writes done (tests, diagnostics). */
  writes = 0;

  constructor(
    private readonly dir: string,
    private readonly guard: ChildGuard = childGuard,
    private readonly pid = process.pid,
    private readonly removalDelayMs = REMOVAL_DELAY_MS,
  ) {
    this.file = path.join(dir, childRecordFileName(pid));
  }

  /** Subscribes and writes the current list (when there is one). Failures go to `onError`. */
  async start(onError: (err: Error) => void = () => undefined): Promise<void> {
    this.onError = onError;
    this.ownerStart = await processStartTime(this.pid);
    if (this.ownerStart === null || this.stopped) return; // no start time: nothing could be reaped safely
    this.unsubscribe = this.guard.onDidChange((children) => this.changed(children));
    if (this.guard.list().length) this.changed(this.guard.list());
    await this.writing;
  }

  /** Resolves once every write asked for so far is done (tests). */
  async idle(): Promise<void> {
    await this.writing;
  }

  private changed(children: GuardedChild[]): void {
    if (this.stopped) return;
    this.wanted = children;
    if (children.some((c) => !this.written.has(key(c)))) {
      this.flush();
      return;
    }
    // Only removals: they ride on the next addition's write, or go out after the delay.
    this.removalTimer ??= setTimeout(() => {
      this.removalTimer = undefined;
      this.flush();
    }, this.removalDelayMs);
    this.removalTimer.unref();
  }

  private flush(): void {
    clearTimeout(this.removalTimer);
    this.removalTimer = undefined;
    if (this.queued) return;
    this.queued = true;
    this.writing = this.writing.then(async () => {
      this.queued = false;
      const children = this.wanted;
      this.wanted = undefined;
      if (!children || this.stopped) return;
      const keys = new Set(children.map(key));
      if (keys.size === this.written.size && [...keys].every((k) => this.written.has(k))) return;
      try {
        await this.write(children);
        this.written = keys;
      } catch (err) {
        this.onError(err as Error);
      }
    });
  }

  /** Stops recording and removes the file (our children are being stopped by their owner). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.removalTimer);
    this.removalTimer = undefined;
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
    this.writes++;
  }
}

function key(child: GuardedChild): string {
  return `${child.pid}:${child.startTime}`;
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
  platform?: NodeJS.Platform;
  startTimeOf?: (pid: number) => Promise<string | null>;
  /** Ends a recorded child and what it started; false when there was nothing to end. */
  kill?: (pid: number, startTime: string) => boolean;
  /** Windows defaults: how the listing runs and how pids are ended (tests: recorded outputs). */
  windows?: ProcessTableSeam & { killPids?: (pids: number[]) => void };
}

/**
 * The default reader and killer for `platform`. POSIX: the child's process group (Linux and
 * macOS alike: POSIX never reuses a pid that names a live group). Windows: one listing, and
 * taskkill /F of the child (while it is still the recorded process) and of every process it
 * started, found by parent id and start order, its orphans included.
 */
async function reapSeam(platform: NodeJS.Platform, windows: ReapOptions['windows'] = {}): Promise<Required<Pick<ReapOptions, 'startTimeOf' | 'kill'>>> {
  if (platform !== 'win32') return { startTimeOf: startTimeSnapshot(platform), kill: (pgid) => killProcessGroup(pgid, 'SIGKILL') };
  const table = (await listProcesses({ ...windows, platform })) ?? [];
  return {
    startTimeOf: async (pid) => table.find((p) => p.pid === pid)?.startTime ?? null,
    kill: (pid, startTime) => {
      const pids = descendantsOf(table, { pid, startTime });
      if (pids.length) (windows.killPids ?? killPids)(pids);
      return pids.length > 0;
    },
  };
}

/**
 * Kills what dead gateways recorded in `dir`: for each record file whose owner is gone (its
 * pid absent or carrying another start time), every child group whose leader still has the
 * recorded start time. A leader with another start time is a reused pid and is never
 * signalled. A leader that is gone may have left its group behind (grandchildren): POSIX never
 * reuses a pid that still names a process group, so `kill(-pgid)` then reaches only those
 * leftovers, or nobody. The file is removed afterwards. Linux reads start times from procfs,
 * macOS and Windows from one process listing ({@link reapSeam}); where none can be read (another
 * OS, a listing that failed) it does nothing.
 */
export async function reapOrphans(dir: string, options: ReapOptions = {}): Promise<ReapResult> {
  const self = options.pid ?? process.pid;
  const result: ReapResult = { killed: [], reused: [] };
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return result;
  }
  const others = names.filter((name) => {
    const match = RECORD_FILE.exec(name);
    return match !== null && Number(match[1]) !== self;
  });
  // Nothing recorded by another gateway (the usual start): no listing (on Windows a PowerShell).
  if (!others.length) return result;
  const defaults = options.startTimeOf && options.kill ? undefined : await reapSeam(options.platform ?? process.platform, options.windows);
  const startTimeOf = options.startTimeOf ?? defaults?.startTimeOf;
  const kill = options.kill ?? defaults?.kill;
  if (!startTimeOf || !kill) return result;
  if ((await startTimeOf(self)) === null) return result;
  for (const name of others) {
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
      if (kill(child.pid, child.start_time)) result.killed.push(child.pid);
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
