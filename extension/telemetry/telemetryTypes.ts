import type { Event } from '../common/event';
import type { GatewaySnapshot, TelemetryView } from '../protocol/model';
import type { AuditRecord } from '../gateway/audit/auditRecord';
import type { CallContext } from '../gateway/chain/callContext';
import type { Middleware } from '../gateway/chain/chain';
import type { CallFinished } from '../gateway/gateway';
import type { StoreChange } from '../state/store';
import type { Signal } from './telemetryConfig';

/** Per signal: what left, what was lost (queue full, or the collector failed past the SDK's retries). */
export interface SignalCounts {
  exported: number;
  dropped: number;
  failed_exports: number;
  /** Waiting in the batch queue (spans and logs). */
  queued?: number;
}

export interface TelemetryStats {
  spans: SignalCounts;
  logs: SignalCounts;
  /** Metrics count export rounds, not data points. */
  metrics: SignalCounts;
}

/** What the running gateway offers the exporter to follow; all events, no polling. */
export interface TelemetryHooks {
  onDidAppendAudit: Event<readonly AuditRecord[]>;
  onDidFinishCall: Event<CallFinished>;
  store: { readonly snapshot: GatewaySnapshot; readonly onDidChange: Event<StoreChange> };
}

/** The loaded exporter (telemetryRuntime.ts); the gateway only sees this surface. */
export interface TelemetryRuntime {
  readonly signals: readonly Signal[];
  /** Spans for the requests outside the chain; undefined when traces are not exported. */
  readonly tracer: RequestTracer | undefined;
  /** Puts the trace spans around the chain's layers (outermost first, dispatcher last). */
  wrapLayers(layers: readonly Middleware[]): Middleware[];
  attach(hooks: TelemetryHooks): void;
  stats(): TelemetryStats;
  /** The counts without the queue length, coalesced (at most a few a second), first soon after start. */
  readonly onDidChangeStats: Event<TelemetryView>;
  /** Flushes what is queued (bounded by the exporters' timeouts), then stops. */
  shutdown(): Promise<void>;
}

/** How the gateway traces the upstream requests that do not go through the chain. */
export interface RequestTracer {
  /** Runs one upstream request's handler inside its SERVER span. */
  upstream<T>(method: string, upstream: CallContext['upstream'], sessionId: string, run: () => Promise<T>): Promise<T>;
  /** Sends one downstream request inside a CLIENT child span; `meta` is the trace context to send in `_meta`. */
  downstream<T>(server: string, method: string, send: (meta: Record<string, string> | undefined) => Promise<T>): Promise<T>;
}
