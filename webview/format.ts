/** Formatting for the dashboard: short, unit-bearing, and never "NaN". */
import type { TelemetryCounts, TelemetryView } from '../extension/protocol/model';

/** "3 s", "4 min 05 s", "2 h 10 min" (for countdowns and durations in seconds and up). */
export function formatSpan(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${String(m % 60).padStart(2, '0')} min`;
}

/** Latency: "0.8 ms", "12 ms", "1.4 s"; "—" when unknown. */
export function formatLatency(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** A ratio as a percentage: "0 %", "2.5 %", "100 %"; "—" when unknown. */
export function formatPercent(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return '—';
  const pct = ratio * 100;
  if (pct === 0 || pct === 100) return `${pct} %`;
  return `${pct < 10 ? pct.toFixed(1) : Math.round(pct)} %`;
}

/** Local wall-clock time of an ISO string or epoch ms: "14:03:07"; "—" when unparseable. */
export function formatClock(at: string | number | null): string {
  if (at === null) return '—';
  const t = typeof at === 'number' ? at : Date.parse(at);
  if (!Number.isFinite(t)) return '—';
  const d = new Date(t);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** "retry in 12 s" until an ISO time, "retrying…" once it passed; '' when there is none. */
export function formatCountdown(at: string | null, now: number): string {
  if (!at) return '';
  const t = Date.parse(at);
  if (!Number.isFinite(t)) return '';
  const left = t - now;
  return left > 0 ? `in ${formatSpan(left)}` : 'due now';
}

/** "ready", "gave up": the state names as people read them. */
export function stateLabel(state: string): string {
  return state.replace(/_/g, ' ');
}

/**
 * The OpenTelemetry export line, in the words of `gatehouse status`: what left and what was
 * lost per signal; '' when export is off. Loss is said in words, not only by colour.
 */
export function formatTelemetry(t: TelemetryView | null | undefined): string {
  if (!t) return '';
  const part = (name: string, c: TelemetryCounts) => `${name} ${c.exported} exported, ${c.dropped} dropped${c.failed_exports ? ` (${c.failed_exports} failed exports)` : ''}`;
  const lost = t.spans.dropped + t.logs.dropped > 0 ? ' — some telemetry was lost (collector down, slow or refusing)' : '';
  return `Telemetry: ${part('spans', t.spans)}; ${part('audit records', t.logs)}${lost}`;
}
