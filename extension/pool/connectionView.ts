import type { DownstreamState, DownstreamView, ExitInfo } from '../protocol/model';
import type { CircuitBreaker } from './breaker';
import type { CallStats } from './callStats';

// The plain-JSON view of a connection, derived from a snapshot of its state. Apart from
// connection.ts because it only reads; the field order here is the view's field order.

/** What the view is derived from, read from the connection at the time of the call. */
export interface ConnectionFacts {
  name: string;
  state: DownstreamState;
  connected: boolean;
  breaker: CircuitBreaker;
  lastError: string | null;
  reason: string | null;
  toolsCount: number;
  catalogCounts: { prompts_count: number | null; resources_count: number | null };
  transport: DownstreamView['transport'];
  pid: number | null;
  restarts: number;
  lastExit: ExitInfo | null;
  startedAt: number | null;
  stats: CallStats;
  nextRetryAt: number | null;
}

/** The plain-JSON view every consumer renders; `redact` applies to every error text in it. */
export function connectionView(f: ConnectionFacts, redact: (text: string) => string): DownstreamView {
  const { state, connected } = f;
  const circuit = f.breaker.state;
  const healthy = state === 'ready' || state === 'starting' || (state === 'degraded' && circuit === 'closed');
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
  return {
    name: f.name,
    connected,
    healthy,
    circuit_state: circuit,
    retry_at: circuit === 'open' ? iso(f.breaker.retryAt) : null,
    last_error: f.lastError === null ? null : redact(f.lastError),
    tools_count: connected ? f.toolsCount : null,
    ...f.catalogCounts,
    open_transitions: 0,
    session_blocker_emitted: false,
    state,
    reason: f.reason === null ? null : redact(f.reason),
    transport: f.transport,
    pid: f.pid,
    restarts: f.restarts,
    last_exit: f.lastExit,
    started_at: iso(f.startedAt),
    calls: f.stats.calls,
    errors: f.stats.errors,
    latency_ms: f.stats.percentiles(),
    in_flight: f.stats.inFlight,
    next_retry_at: state === 'backoff' ? iso(f.nextRetryAt) : null,
  };
}
