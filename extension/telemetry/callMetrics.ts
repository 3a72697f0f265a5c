import type { Counter, Meter } from '@opentelemetry/api';
import { DisposableStore, type IDisposable } from '../common/disposable';
import type { CircuitState, DownstreamState, DownstreamView } from '../protocol/model';
import type { TelemetryHooks, TelemetryStats } from './telemetryTypes';

/** The same buckets as `/metrics` (metrics.ts), so both views of the histogram agree. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const CIRCUIT_VALUE: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };
/** Supervisor states whose entry is an event worth counting. */
const STATE_EVENTS: Partial<Record<DownstreamState, string>> = { crashed: 'crash', gave_up: 'gave_up' };

/**
 * The instruments of `/metrics` (metrics.ts) under the same names and units, fed the same way
 * (counters from snapshot deltas, gauges from the latest snapshot, the histogram from each
 * finished call), plus `gatehouse_supervisor_events_total{server,event}`: crash, respawn,
 * gave_up, breaker_open / breaker_half_open / breaker_closed, session_block. And the
 * exporter's own loss, `gatehouse_telemetry_dropped_total{signal}`.
 */
export class CallMetrics implements IDisposable {
  private readonly subscriptions = new DisposableStore();
  private readonly seen = new Map<string, DownstreamView>();
  private latest: readonly DownstreamView[] = [];
  private sessionBlocks = 0;
  private readonly calls: Counter;
  private readonly errors: Counter;
  private readonly restarts: Counter;
  private readonly events: Counter;

  constructor(meter: Meter, hooks: TelemetryHooks, stats: TelemetryStats) {
    this.calls = meter.createCounter('gatehouse_downstream_calls_total', { description: 'Calls sent (or refused at dispatch) to a downstream server.' });
    this.errors = meter.createCounter('gatehouse_downstream_errors_total', { description: 'Calls to a downstream server that failed (timeout, crash, protocol error, unavailable).' });
    this.restarts = meter.createCounter('gatehouse_downstream_restarts_total', { description: 'Respawns of a downstream server.' });
    this.events = meter.createCounter('gatehouse_supervisor_events_total', { description: 'Supervisor events by server: crash, respawn, gave_up, breaker transitions, session_block.' });
    const duration = meter.createHistogram('gatehouse_call_duration_seconds', {
      description: 'Time from tools/call received to answer, governance included, by server and outcome (allowed, denied, error).',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
    const gauges: [string, string, (d: DownstreamView) => number][] = [
      ['gatehouse_downstream_in_flight', 'Calls currently running on a downstream server.', (d) => d.in_flight],
      ['gatehouse_circuit_breaker_state', 'Circuit breaker state: 0 closed, 1 half-open, 2 open.', (d) => CIRCUIT_VALUE[d.circuit_state] ?? 0],
      ['gatehouse_downstream_up', '1 when the downstream server is connected and answering, else 0.', (d) => (d.connected ? 1 : 0)],
      ['gatehouse_downstream_tools', 'Tools the downstream server currently contributes.', (d) => d.tools_count ?? 0],
    ];
    for (const [name, description, value] of gauges) {
      meter.createObservableGauge(name, { description }).addCallback((result) => {
        for (const d of this.latest) result.observe(value(d), { server: d.name });
      });
    }
    meter.createObservableCounter('gatehouse_telemetry_dropped_total', { description: 'Spans and log records the exporter dropped (queue full, or the collector failed past retries).' }).addCallback((result) => {
      result.observe(stats.spans.dropped, { signal: 'traces' });
      result.observe(stats.logs.dropped, { signal: 'logs' });
    });

    this.apply(hooks.store.snapshot.downstreams, hooks.store.snapshot.session_blocks.length);
    this.subscriptions.add(hooks.store.onDidChange((change) => this.apply(change.snapshot.downstreams, change.snapshot.session_blocks.length)));
    this.subscriptions.add(hooks.onDidFinishCall((call) => duration.record(call.duration_ms / 1000, { server: call.server, outcome: call.status })));
  }

  dispose(): void {
    this.subscriptions.dispose();
  }

  private apply(downstreams: readonly DownstreamView[], sessionBlocks: number): void {
    this.latest = downstreams;
    for (const d of downstreams) {
      const server = { server: d.name };
      const before = this.seen.get(d.name);
      this.calls.add(delta(before?.calls ?? 0, d.calls), server);
      this.errors.add(delta(before?.errors ?? 0, d.errors), server);
      const respawns = delta(before?.restarts ?? 0, d.restarts);
      this.restarts.add(respawns, server);
      if (respawns > 0) this.events.add(respawns, { ...server, event: 'respawn' });
      const stateEvent = STATE_EVENTS[d.state];
      if (stateEvent && before?.state !== d.state) this.events.add(1, { ...server, event: stateEvent });
      if (before && before.circuit_state !== d.circuit_state) this.events.add(1, { ...server, event: `breaker_${d.circuit_state.replace('-', '_')}` });
      this.seen.set(d.name, d);
    }
    if (sessionBlocks > this.sessionBlocks) this.events.add(sessionBlocks - this.sessionBlocks, { event: 'session_block' });
    this.sessionBlocks = sessionBlocks;
  }
}

/** What a cumulative counter grew by; a smaller value means the source restarted from 0. */
function delta(before: number, now: number): number {
  return now >= before ? now - before : now;
}
