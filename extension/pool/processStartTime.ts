import { readFile } from 'node:fs/promises';

/**
 * A process's start time in clock ticks since boot (`/proc/<pid>/stat` field 22), or null when
 * it cannot be read (no such process, or no procfs: not Linux). Together with the pid it names
 * one process for good: a pid the kernel handed out again has another start time.
 */
export async function processStartTime(pid: number): Promise<string | null> {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    return startTimeOf(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** Field 22 of a stat line. Field 2 (comm) is parenthesized and may hold spaces and ')'. */
export function startTimeOf(stat: string): string | null {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so field 22 is fields[19].
  const value = fields[19];
  return value !== undefined && /^\d+$/.test(value) ? value : null;
}
