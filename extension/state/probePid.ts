/** The result of probing a pid with signal 0. */
export type PidLiveness = 'alive' | 'dead' | 'unknown';

/**
 * Is this process alive? `kill(pid, 0)`: success or EPERM → alive, ESRCH → dead, anything else
 * unknown. Never signals 0 or a negative pid (those address process groups, so a hostile
 * gateway.json or pid file with `"pid": 0` would otherwise read as alive).
 */
export function probePid(pid: number): PidLiveness {
  if (!Number.isInteger(pid) || pid <= 0) return 'unknown';
  try {
    process.kill(pid, 0);
    return 'alive';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ESRCH') return 'dead';
    return code === 'EPERM' ? 'alive' : 'unknown';
  }
}
