import type { DownstreamView } from '../../extension/protocol/model';

/** A ready stdio downstream with every field set; `overrides` changes what a test is about. */
export function downstreamView(name: string, overrides: Partial<DownstreamView> = {}): DownstreamView {
  return {
    name,
    connected: true,
    healthy: true,
    circuit_state: 'closed',
    retry_at: null,
    last_error: null,
    tools_count: 3,
    open_transitions: 0,
    session_blocker_emitted: false,
    state: 'ready',
    reason: null,
    transport: 'stdio',
    pid: 4242,
    restarts: 0,
    last_exit: null,
    started_at: '2026-04-20T12:00:00.000Z',
    calls: 0,
    errors: 0,
    latency_ms: { p50: null, p95: null },
    in_flight: 0,
    next_retry_at: null,
    ...overrides,
  };
}
