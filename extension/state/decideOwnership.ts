import type { PidLiveness } from './probePid';
import { isPositiveInt, isRecord } from './jsonGuards';

// Ownership and lock rules (SPEC §5.4), pure so both the async and the sync write path of
// StateFileWriter share them.

/** Who is asking: the writer's session and pid, and how it judges other pids and sessions. */
export interface Identity {
  sessionId: string;
  pid: number;
  probePid: (pid: number) => PidLiveness;
  liveSessions: ReadonlySet<string>;
}

export type OwnershipDecision =
  | { kind: 'own' }
  | { kind: 'reclaim'; sessionId: string; ownerPid: number | null }
  | { kind: 'yield'; sessionId: string; ownerPid: number };

/**
 * rea's rule for the state file: no file, unreadable JSON, no `session_id` or our own session → ours;
 * a foreign session without a valid `owner_pid` or with a dead one → reclaim; a live one → yield.
 */
export function decideOwnership(text: string | null, me: Identity): OwnershipDecision {
  if (text === null) return { kind: 'own' };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { kind: 'own' };
  }
  if (!isRecord(data) || typeof data.session_id !== 'string') return { kind: 'own' };
  const sessionId = data.session_id;
  if (sessionId === me.sessionId) return { kind: 'own' };
  const ownerPid = data.owner_pid;
  if (!isPositiveInt(ownerPid)) return { kind: 'reclaim', sessionId, ownerPid: null };
  if (ownerPid === me.pid) {
    // Our pid but another session: a sibling writer in this process (yield), or an earlier
    // process that had our pid (dead by definition: reclaim).
    return me.liveSessions.has(sessionId) ? { kind: 'yield', sessionId, ownerPid } : { kind: 'reclaim', sessionId, ownerPid };
  }
  return me.probePid(ownerPid) === 'dead' ? { kind: 'reclaim', sessionId, ownerPid } : { kind: 'yield', sessionId, ownerPid };
}

/** True when the lock `"<pid> <session>"` is left over by a process (or session) that is gone. */
export function lockIsStale(text: string | null, me: Identity): boolean {
  const match = /^\s*(\d+)(?:\s+(\S+))?/.exec(text ?? '');
  if (!match) return false;
  const holder = Number(match[1]);
  if (!isPositiveInt(holder)) return false;
  if (holder === me.pid) {
    const session = match[2];
    // Our own session's lock while we do not hold it is a leftover of a failed release.
    return session === undefined || session === me.sessionId || !me.liveSessions.has(session);
  }
  return me.probePid(holder) === 'dead';
}

