import type { CircuitState } from '../extension/protocol/model';
import {
  TRAFFIC_BUCKET_MS,
  TRAFFIC_WINDOW_MS,
  type AuditEventView,
  type CircuitTransition,
  type TrafficBucket,
} from '../extension/protocol/webview';

/** Calls (and failed calls) that finished in the last minute before `now`. */
export function lastMinute(traffic: readonly TrafficBucket[], now: number): { calls: number; errors: number } {
  return sumSince(traffic, now - 60_000, now);
}

/** Failed calls / calls over the sparkline window; null without calls. */
export function errorRate(traffic: readonly TrafficBucket[], now: number): number | null {
  const { calls, errors } = sumSince(traffic, now - TRAFFIC_WINDOW_MS, now);
  return calls > 0 ? Math.min(1, errors / calls) : null;
}

function sumSince(traffic: readonly TrafficBucket[], from: number, now: number): { calls: number; errors: number } {
  let calls = 0;
  let errors = 0;
  // A bucket counts when it ends after `from`: the one in progress always counts.
  for (const b of traffic) {
    if (b.at + TRAFFIC_BUCKET_MS <= from || b.at > now) continue;
    calls += b.calls;
    errors += b.errors;
  }
  return { calls, errors };
}

/** One value per bucket of the window ending at `now`, oldest first (zeros where idle). */
export interface Series {
  calls: number[];
  errors: number[];
}

export const SERIES_LENGTH = TRAFFIC_WINDOW_MS / TRAFFIC_BUCKET_MS;

export function trafficSeries(traffic: readonly TrafficBucket[], now: number): Series {
  const calls = new Array<number>(SERIES_LENGTH).fill(0);
  const errors = new Array<number>(SERIES_LENGTH).fill(0);
  const current = Math.floor(now / TRAFFIC_BUCKET_MS) * TRAFFIC_BUCKET_MS;
  for (const b of traffic) {
    const index = SERIES_LENGTH - 1 - Math.round((current - b.at) / TRAFFIC_BUCKET_MS);
    if (index < 0 || index >= SERIES_LENGTH) continue;
    calls[index] += b.calls;
    errors[index] += b.errors;
  }
  return { calls, errors };
}

/** A span of time in one circuit state. */
export interface Band {
  from: number;
  to: number;
  state: CircuitState;
}

/**
 * The circuit states as bands over [start, now]: each transition lasts until the next one; the
 * last until now. Transitions before `start` are clipped; zero-length bands are dropped.
 */
export function circuitBands(transitions: readonly CircuitTransition[], start: number, now: number): Band[] {
  const bands: Band[] = [];
  for (let i = 0; i < transitions.length; i++) {
    const from = Math.max(start, transitions[i].at);
    const to = Math.min(now, i + 1 < transitions.length ? transitions[i + 1].at : now);
    if (to <= from) continue;
    const last = bands[bands.length - 1];
    if (last && last.state === transitions[i].state && last.to === from) last.to = to;
    else bands.push({ from, to, state: transitions[i].state });
  }
  return bands;
}

/**
 * Audit events matching a free-text filter: every word must appear in the tool, server, status
 * or tier (case-insensitive). Newest first, as the table lists them.
 */
export function filterAudit(events: readonly AuditEventView[], filter: string): AuditEventView[] {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  const out: AuditEventView[] = [];
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    const text = `${e.tool} ${e.server} ${e.status} ${e.tier} ${e.error ?? ''}`.toLowerCase();
    if (words.every((w) => text.includes(w))) out.push(e);
  }
  return out;
}
