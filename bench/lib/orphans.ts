import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** A process whose working directory is inside the bench root. */
export interface Stray {
  pid: number;
  command: string;
}

/**
 * Every process (of this user) whose cwd is inside `root`, except us. Every gateway and every
 * downstream the bench starts runs with its cwd in a project folder under `root`, so after a
 * section has finished this list must be empty: anything in it is a process the gateway (or
 * the bench) left behind.
 */
export function straysUnder(root: string): Stray[] {
  const found: Stray[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (cwd !== root && !cwd.startsWith(`${root}/`)) continue;
      const command = readlinkSync(`/proc/${pid}/exe`);
      let args = '';
      try {
        args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      } catch {
        // gone meanwhile
      }
      found.push({ pid, command: args || command });
    } catch {
      // another user's process, or it exited while we looked
    }
  }
  return found;
}

/** Sends SIGKILL to each stray (they are ours: started under our bench root). */
export function killStrays(strays: readonly Stray[]): void {
  for (const s of strays) {
    try {
      process.kill(s.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
