/** Percentiles and medians over plain number arrays (nearest-rank, like the pool's CallStats). */

/** The q-quantile (0..1) by nearest rank; NaN for an empty sample. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** The median of the sample (mean of the two middle values for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return Number.NaN;
  const sorted = [...finite].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function max(values: readonly number[]): number {
  return values.length ? Math.max(...values) : Number.NaN;
}

/** Latency summary of one sequential run. */
export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  /** Completed calls per second of wall time (sequential: 1000 / mean). */
  perSecond: number;
}

export function summarize(latenciesMs: readonly number[], wallMs: number): LatencySummary {
  return {
    p50: quantile(latenciesMs, 0.5),
    p95: quantile(latenciesMs, 0.95),
    p99: quantile(latenciesMs, 0.99),
    perSecond: wallMs > 0 ? (latenciesMs.length * 1000) / wallMs : Number.NaN,
  };
}

/** Formats a number for the table: ms with enough precision to compare sub-millisecond calls. */
export function fmt(value: number | null | undefined, unit = ''): string {
  if (value === null || value === undefined || Number.isNaN(value)) return 'n/a';
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return `${value.toFixed(digits)}${unit ? ` ${unit}` : ''}`;
}

export const MiB = 1024 * 1024;
