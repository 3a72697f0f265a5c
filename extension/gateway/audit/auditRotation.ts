import * as path from 'node:path';
import type { Logger } from '../../common/logger';
import type { Policy } from '../../config/policySchema';
import type { AuditFileHandle, AuditFileSystem } from './auditFileSystem';
import { MAX_RECORD_BYTES } from './auditRecord';
import { checkAuditLine } from './checkAuditLine';
import { readFirstLine } from './readTail';
import { MAX_ROTATION_SUFFIX, rotatedName } from './rotationName';

/** Default size at which `audit.jsonl` is rotated (rea's default, SPEC §8.4). */
export const DEFAULT_ROTATION_MAX_BYTES = 50 * 1024 * 1024;
/** rea's age default, applied when the policy has an `audit.rotation` block (SPEC §8.4). */
export const DEFAULT_ROTATION_MAX_AGE_DAYS = 30;

/** `policy.audit.rotation` (`max_bytes`, `max_age_days`), as the writer reads it. */
export type AuditRotationPolicy = NonNullable<NonNullable<Policy['audit']>['rotation']>;

/**
 * The rotation rule in force: `undefined` (no `audit.rotation` block) still rotates at 50 MiB;
 * a block turns on the age rule too (default 30 days), as in rea. A policy getter that throws
 * means the defaults.
 */
export function rotationSettings(read: (() => AuditRotationPolicy | undefined) | undefined, logger: Logger): { maxBytes: number; maxAgeMs: number | undefined } {
  let policy: AuditRotationPolicy | undefined;
  try {
    policy = read?.();
  } catch (err) {
    logger.warn(`audit: reading the rotation policy failed: ${err instanceof Error ? err.message : String(err)}; using defaults`);
  }
  const maxBytes = positive(policy?.max_bytes) ?? DEFAULT_ROTATION_MAX_BYTES;
  const days = policy ? (positive(policy.max_age_days) ?? DEFAULT_ROTATION_MAX_AGE_DAYS) : undefined;
  return { maxBytes, maxAgeMs: days === undefined ? undefined : days * 86_400_000 };
}

/** Epoch ms of the file's first record (its age for the age rule), or null when unreadable. */
export async function segmentStartOf(handle: AuditFileHandle, size: number): Promise<number | null> {
  const first = await readFirstLine(handle, size, MAX_RECORD_BYTES + 1).catch(() => undefined);
  const check = first === undefined ? undefined : checkAuditLine(first);
  const ts = check?.ok ? Date.parse(String(check.record.timestamp)) : NaN;
  return Number.isFinite(ts) ? ts : null;
}

/**
 * The first free rea name for a rotation at `now` (`audit-YYYYMMDD-HHMMSS[-N].jsonl`):
 * rename() silently replaces an existing file, and an archived segment is never lost.
 */
export async function freeRotatedPath(fs: AuditFileSystem, dir: string, now: Date): Promise<string> {
  for (let i = 0; i <= MAX_ROTATION_SUFFIX; i++) {
    const candidate = path.join(dir, rotatedName(now, i));
    if (!(await fs.stat(candidate).then(() => true, () => false))) return candidate;
  }
  throw new Error(`no free rotation name for ${rotatedName(now)}`);
}

function positive(n: number | undefined): number | undefined {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}
