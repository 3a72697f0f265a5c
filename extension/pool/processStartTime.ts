import { readFile } from 'node:fs/promises';
import { listProcesses, type ProcessTableSeam } from '../platform/processTable';

/**
 * A process's start time, or null when it cannot be read (no such process, or no way to tell).
 * Together with the pid it names one process for good: a pid the OS handed out again has
 * another start time. Linux: clock ticks since boot (`/proc/<pid>/stat` field 22). macOS and
 * Windows: from one process listing (`platform/processTable.ts`), which costs a helper process
 * (`ps`, PowerShell): callers that need many use {@link startTimeSnapshot}.
 */
export async function processStartTime(pid: number, platform: NodeJS.Platform = process.platform, seam: ProcessTableSeam = {}): Promise<string | null> {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  if (platform !== 'linux') {
    const table = await listProcesses({ ...seam, platform });
    return table?.find((p) => p.pid === pid)?.startTime ?? null;
  }
  try {
    return startTimeOf(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * A start-time reader for many pids at one moment: procfs per pid on Linux; elsewhere one
 * listing, taken at the first call and reused (a reap looks up every recorded child).
 */
export function startTimeSnapshot(platform: NodeJS.Platform = process.platform, seam: ProcessTableSeam = {}): (pid: number) => Promise<string | null> {
  if (platform === 'linux') return (pid) => processStartTime(pid, platform);
  let table: ReturnType<typeof listProcesses> | undefined;
  return async (pid) => {
    table ??= listProcesses({ ...seam, platform });
    return (await table)?.find((p) => p.pid === pid)?.startTime ?? null;
  };
}

/** Field 22 of a stat line. Field 2 (comm) is parenthesized and may hold spaces and ')'. */
export function startTimeOf(stat: string): string | null {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so field 22 is fields[19].
  const value = fields[19];
  return value !== undefined && /^\d+$/.test(value) ? value : null;
}
