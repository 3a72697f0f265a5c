/**
 * Sends `signal` to the process group `pgid` (our children lead their own groups, so the
 * group id is the leader's pid). The one place a group is killed by id alone, outside a live
 * transport: the reaper of a dead gateway's leftovers. Returns false when no such group exists.
 * POSIX only; a Windows tree-kill plugs in here.
 */
export function killProcessGroup(pgid: number, signal: NodeJS.Signals = 'SIGKILL'): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}
