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

/**
 * Rotation order of two rotated names: by time stamp, then by suffix as a number (plain string
 * order puts `-1` before the unsuffixed name and `-10` before `-2`). Other names sort after
 * rea's, by string.
 */
export function compareRotatedNames(a: string, b: string): number {
  const ma = ROTATED_NAME.exec(a);
  const mb = ROTATED_NAME.exec(b);
  if (ma && mb) {
    const stamp = `${ma[1]}${ma[2]}`.localeCompare(`${mb[1]}${mb[2]}`);
    return stamp || Number(ma[3] ?? 0) - Number(mb[3] ?? 0);
  }
  if (ma || mb) return ma ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
