import * as path from 'node:path';
import { lock } from 'proper-lockfile';
import type { Logger } from '../../common/logger';

/** Releases a held lock. Never rejects: a failed release is logged (the lock goes stale in 10 s). */
export type ReleaseLock = () => Promise<void>;

/** The cross-process lock every audit append takes (injectable for tests). */
export interface AuditLock {
  acquire(): Promise<ReleaseLock>;
}

/**
 * rea's lock settings, exactly (SPEC §8.3, Appendix E): a stale lock is taken over after 10 s;
 * a busy one is retried 40 times, 15 ms growing by 1.3 to at most 300 ms, randomised.
 */
export const REA_LOCK_OPTIONS = {
  stale: 10_000,
  retries: { retries: 40, factor: 1.3, minTimeout: 15, maxTimeout: 300, randomize: true },
  realpath: false,
} as const;

/**
 * The lock rea takes around every append to `audit.jsonl`: `proper-lockfile` on the audit file's
 * parent directory, i.e. the directory `<dir>.lock` next to it (`.rea.lock` beside `.rea/`,
 * `.gatehouse.lock` beside `.gatehouse/`; it exists only while a write is in progress). rea's
 * hooks and gateway append to a shared `.rea/audit.jsonl` under it, so Gatehouse takes the very
 * same lock the same way: one chain, whoever writes.
 */
export function directoryLock(dir: string, logger: Logger): AuditLock {
  const target = path.resolve(dir);
  return {
    async acquire() {
      const release = await lock(target, {
        ...REA_LOCK_OPTIONS,
        retries: { ...REA_LOCK_OPTIONS.retries },
        // proper-lockfile's default throws from a timer, which would take the extension host down.
        onCompromised: (err) => logger.warn(`audit: the lock on ${target} was compromised (${err.message}); the chain is re-read before the next write`),
      });
      return () => release().catch((err: unknown) => logger.warn(`audit: releasing the lock on ${target} failed: ${err instanceof Error ? err.message : String(err)}`));
    },
  };
}
