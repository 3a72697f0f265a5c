import { readFileSync } from 'node:fs';

/** Running, not a zombie waiting for a reaper (a container's pid 1 may never reap). Linux /proc. */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
