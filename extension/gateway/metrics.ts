import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DisposableStore } from '../common/disposable';
import type { Event } from '../common/event';
import type { Logger } from '../common/logger';
import type { CircuitState, DownstreamView } from '../protocol/model';
import type { StoreChange } from '../state/store';
import type { CallFinished } from './gateway';

export interface MetricsServerOptions {
  /** 0 picks a free port (the real one is in `port` and in the state file). */
  port: number;
  /** Only loopback addresses are accepted, as rea: metrics name servers and tools. */
  host?: '127.0.0.1' | '::1';
  /** Live state: counters are derived from successive snapshots. */
  store: { readonly snapshot: { downstreams: readonly DownstreamView[] }; readonly onDidChange: Event<StoreChange> };
  /** Per-call durations for the histogram (the snapshot only keeps percentiles). */
  onDidFinishCall: Event<CallFinished>;
  logger: Logger;
}

const CIRCUIT_VALUE: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };
const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/i;

/**
 * The opt-in Prometheus endpoint (`GET /metrics` on loopback, SPEC §9.2).
 *
 * Where the numbers come from: the StateStore, not hooks in the pool. Every snapshot carries
 * each server's cumulative `calls`, `errors` and `restarts`; the difference to the previous
 * snapshot is added to the counters (a value that went down means the server was re-created
 * by a hot reload, and its new value is added as is, so counters never decrease). Gauges
 * (in-flight, circuit, up, tools) are set from the latest snapshot. Only the latency histogram
 * needs each call, which the snapshot cannot give: it observes the gateway's per-call event,
 * end to end (governance included), by server and outcome. Server labels therefore only ever
 * name configured servers: unknown names are refused before the chain and never counted.
 */
export class MetricsServer {
  readonly registry = new Registry();
  private readonly subscriptions = new DisposableStore();
  private readonly seen = new Map<string, { calls: number; errors: number; restarts: number }>();
  private readonly calls: Counter<'server'>;
  private readonly errors: Counter<'server'>;
  private readonly restarts: Counter<'server'>;
  private readonly inFlight: Gauge<'server'>;
  private readonly circuit: Gauge<'server'>;
  private readonly up: Gauge<'server'>;
  private readonly tools: Gauge<'server'>;
  private readonly duration: Histogram<'server' | 'outcome'>;
  private server: Server | undefined;
  private _port = 0;

  private constructor(private readonly options: MetricsServerOptions) {
    const registers = [this.registry];
    this.calls = new Counter({ name: 'gatehouse_downstream_calls_total', help: 'Calls sent (or refused at dispatch) to a downstream server.', labelNames: ['server'], registers });
    this.errors = new Counter({ name: 'gatehouse_downstream_errors_total', help: 'Calls to a downstream server that failed (timeout, crash, protocol error, unavailable).', labelNames: ['server'], registers });
    this.restarts = new Counter({ name: 'gatehouse_downstream_restarts_total', help: 'Respawns of a downstream server.', labelNames: ['server'], registers });
    this.inFlight = new Gauge({ name: 'gatehouse_downstream_in_flight', help: 'Calls currently running on a downstream server.', labelNames: ['server'], registers });
    this.circuit = new Gauge({ name: 'gatehouse_circuit_breaker_state', help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open.', labelNames: ['server'], registers });
    this.up = new Gauge({ name: 'gatehouse_downstream_up', help: '1 when the downstream server is connected and answering, else 0.', labelNames: ['server'], registers });
    this.tools = new Gauge({ name: 'gatehouse_downstream_tools', help: 'Tools the downstream server currently contributes.', labelNames: ['server'], registers });
    this.duration = new Histogram({
      name: 'gatehouse_call_duration_seconds',
      help: 'Time from tools/call received to answer, governance included, by server and outcome (allowed, denied, error).',
      labelNames: ['server', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
  }

  /** Binds the listener and starts following the store; rejects when the port cannot be bound. */
  static async start(options: MetricsServerOptions): Promise<MetricsServer> {
    const host = options.host ?? '127.0.0.1';
    if (host !== '127.0.0.1' && host !== '::1') throw new TypeError(`metrics must bind to loopback, not ${String(host)}`);
    const metrics = new MetricsServer(options);
    metrics.follow();
    try {
      await metrics.listen(host);
    } catch (err) {
      metrics.subscriptions.dispose();
      throw err;
    }
    return metrics;
  }

  get port(): number {
    return this._port;
  }

  /** Stops listening within about 2 s, dropping connections that are still open. */
  async stop(): Promise<void> {
    this.subscriptions.dispose();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const timer = setTimeout(() => server.closeAllConnections(), 2000);
    await closed;
    clearTimeout(timer);
  }

  private follow(): void {
    const { store, onDidFinishCall } = this.options;
    this.apply(store.snapshot.downstreams);
    this.subscriptions.add(
      store.onDidChange((change) => {
        if (change.changed.length) this.apply(change.snapshot.downstreams);
      }),
    );
    this.subscriptions.add(
      onDidFinishCall((call) => this.duration.observe({ server: call.server, outcome: call.status }, call.duration_ms / 1000)),
    );
  }

  private apply(downstreams: readonly DownstreamView[]): void {
    const present = new Set<string>();
    for (const d of downstreams) {
      present.add(d.name);
      const labels = { server: d.name };
      const before = this.seen.get(d.name) ?? { calls: 0, errors: 0, restarts: 0 };
      this.calls.inc(labels, delta(before.calls, d.calls));
      this.errors.inc(labels, delta(before.errors, d.errors));
      this.restarts.inc(labels, delta(before.restarts, d.restarts));
      this.seen.set(d.name, { calls: d.calls, errors: d.errors, restarts: d.restarts });
      this.inFlight.set(labels, d.in_flight);
      this.circuit.set(labels, CIRCUIT_VALUE[d.circuit_state] ?? 0);
      this.up.set(labels, d.connected ? 1 : 0);
      this.tools.set(labels, d.tools_count ?? 0);
    }
    // A server removed from the registry: its gauges would otherwise report forever.
    for (const name of [...this.seen.keys()]) {
      if (present.has(name)) continue;
      this.seen.delete(name);
      for (const gauge of [this.inFlight, this.circuit, this.up, this.tools]) gauge.remove({ server: name });
    }
  }

  private listen(host: string): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, host, () => {
        server.off('error', reject);
        server.on('error', (err) => this.options.logger.error(`metrics: ${err.message}`));
        this.server = server;
        this._port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A web page must not read this through DNS rebinding: loopback Host names only.
    if (!LOOPBACK_HOST.test(req.headers.host ?? '')) return plain(res, 403, 'forbidden\n');
    if (req.method !== 'GET') {
      res.setHeader('Allow', 'GET');
      return plain(res, 405, 'method not allowed\n');
    }
    // The path only (the query is ignored); the URL is never echoed back.
    if ((req.url ?? '').split('?')[0] !== '/metrics') return plain(res, 404, 'not found\n');
    try {
      const body = await this.registry.metrics();
      res.writeHead(200, { 'Content-Type': this.registry.contentType });
      res.end(body);
    } catch (err) {
      this.options.logger.error(`metrics: rendering failed: ${err instanceof Error ? err.message : String(err)}`);
      plain(res, 500, 'internal error\n');
    }
  }
}

/** What a cumulative counter grew by; a smaller value means the source restarted from 0. */
function delta(before: number, now: number): number {
  return now >= before ? now - before : now;
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(text);
}
