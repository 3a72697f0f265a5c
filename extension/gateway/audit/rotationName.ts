/**
 * rea's name for a rotated segment (SPEC §8.4, Appendix E): `audit-YYYYMMDD-HHMMSS.jsonl` in
 * UTC, and `-1` … `-1000` for further rotations within the same second. `rea audit verify
 * --since <name>` accepts only this pattern, so Gatehouse writes nothing else.
 */
export const ROTATED_NAME = /^audit-(\d{8})-(\d{6})(?:-(\d{1,4}))?\.jsonl$/;

/** Highest collision suffix rea tries (SPEC §8.4). */
export const MAX_ROTATION_SUFFIX = 1000;

/** The rotated name for a rotation at `at`, with collision suffix `n` (0: none). */
export function rotatedName(at: Date, n = 0): string {
  const iso = at.toISOString(); // always UTC: 2026-12-01T18:22:33.783Z
  const stamp = `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}`;
  return `audit-${stamp}${n === 0 ? '' : `-${n}`}.jsonl`;
}

/**
 * Any rotated segment in a config directory: rea's names, and the ISO-stamped names Gatehouse
 * wrote before it used rea's (`audit-2026-12-01T18-22-33.783Z.jsonl`), which stay verifiable.
 */
export function isRotatedSegment(name: string): boolean {
  return /^audit-.+\.jsonl$/.test(name);
}
