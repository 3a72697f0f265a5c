import { AsyncLocalStorage } from 'node:async_hooks';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { ExportResultCode, W3CTraceContextPropagator, type ExportResult } from '@opentelemetry/core';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter, type ReadableLogRecord, type ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import { DisposableStore } from '../common/disposable';
import { Emitter } from '../common/event';
import type { Logger } from '../common/logger';
import type { CallContext, CallKind } from '../gateway/chain/callContext';
import type { Middleware } from '../gateway/chain/chain';
import { auditLogAttributes, AUDIT_EVENT_NAME } from './auditExport';
import { CallMetrics } from './callMetrics';
import type { TelemetryConfig } from './telemetryConfig';
import type { TelemetryView } from '../protocol/model';
import type { RequestTracer, SignalCounts, TelemetryHooks, TelemetryRuntime, TelemetryStats } from './telemetryTypes';

const SCOPE = 'gatehouse';
/** How long stopping the gateway waits for the last export. */
const SHUTDOWN_MS = 2000;
/** Drops can come once per call; the dashboard hears of them at most this often. */
const STATS_COALESCE_MS = 250;
const propagator = new W3CTraceContextPropagator();

/**
 * The OpenTelemetry side of Gatehouse, built only when an endpoint is configured (this module
 * is its own bundle, `dist/telemetry.js`, loaded by loadTelemetry.ts).
 *
 * Nothing here is on a call's critical path beyond creating spans: spans and log records go
 * to the SDK's batch processors (bounded queues, exported on a timer), metrics are read on the
 * reader's interval. A collector that is down, slow or refusing costs dropped records, counted
 * in {@link stats}, never a slower or failed call.
 */
export function startTelemetry(config: TelemetryConfig, logger: Logger, version: string): TelemetryRuntime {
  const resource = resourceFromAttributes({
    ...config.resourceAttributes,
    'service.name': config.serviceName,
    'service.version': version,
  });
  const subscriptions = new DisposableStore();
  const statsEmitter = subscriptions.add(new Emitter<TelemetryView>());
  let statsTimer: NodeJS.Timeout | undefined;
  const view = (c: SignalCounts) => ({ exported: c.exported, dropped: c.dropped, failed_exports: c.failed_exports });
  /** Called where a count changes (on the call path for drops): schedules one coalesced report. */
  const changed = () => {
    if (statsTimer || subscriptions.isDisposed) return;
    statsTimer = setTimeout(() => {
      statsTimer = undefined;
      statsEmitter.fire({ spans: view(stats.spans), logs: view(stats.logs), metrics: view(stats.metrics) });
    }, STATS_COALESCE_MS);
    statsTimer.unref();
  };
  const stats: TelemetryStats = { spans: newCounts(changed), logs: newCounts(changed), metrics: newCounts(changed) };
  changed();

  const t = config.signals.traces;
  const tracerProvider = t
    ? new TracerProvider({
        resource,
        spanProcessors: [
          countingSpanProcessor(
            new BatchSpanProcessor({
              exporter: countingExporter<ReadableSpan[], SpanExporter>(
                t.protocol === 'http/json' ? new JsonTraceExporter(exporterOptions(t)) : new ProtoTraceExporter(exporterOptions(t)),
                stats.spans,
              ),
              ...batchOptions(config.spanBatch),
            }),
            stats.spans,
            config.spanBatch.maxQueueSize,
          ),
        ],
      })
    : undefined;
  const tracer = tracerProvider?.getTracer(SCOPE, version);

  const l = config.signals.logs;
  const loggerProvider = l
    ? new LoggerProvider({
        resource,
        processors: [
          countingLogProcessor(
            new BatchLogRecordProcessor({
              exporter: countingExporter<ReadableLogRecord[], LogRecordExporter>(
                l.protocol === 'http/json' ? new JsonLogExporter(exporterOptions(l)) : new ProtoLogExporter(exporterOptions(l)),
                stats.logs,
              ),
              ...batchOptions(config.logBatch),
            }),
            stats.logs,
            config.logBatch.maxQueueSize,
          ),
        ],
      })
    : undefined;
  const auditLogger = loggerProvider?.getLogger(`${SCOPE}.audit`, version);

  const m = config.signals.metrics;
  const meterProvider = m
    ? new MeterProvider({
        resource,
        readers: [
          new PeriodicExportingMetricReader({
            exporter: countingExporter(m.protocol === 'http/json' ? new JsonMetricExporter(exporterOptions(m)) : new ProtoMetricExporter(exporterOptions(m)), stats.metrics),
            exportIntervalMillis: config.metricExportIntervalMs,
            exportTimeoutMillis: Math.min(config.metricExportIntervalMs, m.timeoutMs),
          }),
        ],
      })
    : undefined;

  /** Each proxied call's own span, found again by the inner wrappers. */
  const spans = new WeakMap<CallContext, Span>();

  const runtime: TelemetryRuntime = {
    signals: Object.keys(config.signals) as TelemetryRuntime['signals'],
    stats: () => ({ spans: copyCounts(stats.spans), logs: copyCounts(stats.logs), metrics: copyCounts(stats.metrics) }),
    onDidChangeStats: statsEmitter.event,
    tracer: tracer && requestTracer(tracer),

    wrapLayers(layers: readonly Middleware[]): Middleware[] {
      if (!tracer) return [...layers];
      const last = layers.length - 1;
      return layers.map((layer, index) => {
        const decided = decisionRecorder(layer, spans);
        if (index === 0) return callSpanLayer(tracer, decided, spans);
        if (index === last) return downstreamSpanLayer(tracer, decided, spans);
        return decided;
      });
    },

    attach(hooks: TelemetryHooks): void {
      if (auditLogger) {
        subscriptions.add(
          hooks.onDidAppendAudit((records) => {
            for (const record of records) {
              auditLogger.emit({
                eventName: AUDIT_EVENT_NAME,
                timestamp: Date.parse(record.timestamp) || Date.now(),
                severityText: record.status === 'allowed' ? 'INFO' : 'WARN',
                severityNumber: record.status === 'allowed' ? 9 : 13,
                body: record.hash,
                attributes: auditLogAttributes(record),
              });
            }
          }),
        );
      }
      if (meterProvider) subscriptions.add(new CallMetrics(meterProvider.getMeter(SCOPE, version), hooks, stats));
    },

    async shutdown(): Promise<void> {
      clearTimeout(statsTimer);
      subscriptions.dispose();
      // A last flush, bounded: a collector that hangs must not hold the gateway's exit.
      let timer: NodeJS.Timeout | undefined;
      const bounded = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), SHUTDOWN_MS)));
      const done = Promise.allSettled([tracerProvider?.shutdown(), loggerProvider?.shutdown(), meterProvider?.shutdown()]);
      const results = await Promise.race([done, bounded]);
      clearTimeout(timer);
      if (results === 'timeout') logger.warn(`telemetry: the last export did not finish within ${SHUTDOWN_MS} ms; what was queued is dropped`);
      else for (const r of results) if (r.status === 'rejected') logger.debug(`telemetry: shutdown: ${String(r.reason)}`);
    },
  };
  return runtime;
}

/**
 * Counts that report their own changes: `exported`, `dropped` and `failed_exports` are
 * accessors over plain fields, so the counting wrappers below stay `counts.dropped += 1`.
 */
function newCounts(changed: () => void): SignalCounts {
  const values = { exported: 0, dropped: 0, failed_exports: 0 };
  const counts = {} as SignalCounts;
  for (const key of ['exported', 'dropped', 'failed_exports'] as const) {
    Object.defineProperty(counts, key, {
      enumerable: true,
      get: () => values[key],
      set: (v: number) => {
        values[key] = v;
        changed();
      },
    });
  }
  return counts;
}

function copyCounts(c: SignalCounts): SignalCounts {
  return { exported: c.exported, dropped: c.dropped, failed_exports: c.failed_exports, ...(c.queued !== undefined ? { queued: c.queued } : {}) };
}

function exporterOptions(s: { url: string; headers: Record<string, string>; timeoutMs: number }) {
  return { url: s.url, headers: s.headers, timeoutMillis: s.timeoutMs };
}

function batchOptions(b: TelemetryConfig['spanBatch']) {
  return {
    scheduledDelayMillis: b.scheduledDelayMs,
    maxQueueSize: b.maxQueueSize,
    maxExportBatchSize: b.maxExportBatchSize,
    exportTimeoutMillis: b.exportTimeoutMs,
  };
}

interface Exporter<T> {
  export(items: T, done: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}

/**
 * Counts what leaves and what is lost. The SDK retries within its limits and then reports a
 * failure to the processor, which drops the batch: those items are counted as dropped here.
 */
function countingExporter<T, E extends Exporter<T>>(inner: E, counts: TelemetryStats['spans']): E {
  // Arrays are batches of spans or log records; a metrics export is one round.
  const size = (items: T) => (Array.isArray(items) ? items.length : 1);
  const original = inner.export.bind(inner);
  inner.export = (items: T, done: (result: ExportResult) => void) => {
    if (Array.isArray(items)) counts.queued = Math.max(0, (counts.queued ?? 0) - items.length);
    original(items, (result) => {
      if (result.code === ExportResultCode.SUCCESS) counts.exported += size(items);
      else {
        counts.failed_exports += 1;
        counts.dropped += size(items);
      }
      done(result);
    });
  };
  return inner;
}

/**
 * The batch processor drops what arrives while its queue is full, silently; this wrapper
 * mirrors the queue length (ended minus handed to the exporter) to count those drops.
 */
function countingSpanProcessor(inner: BatchSpanProcessor, counts: TelemetryStats['spans'], maxQueue: number): BatchSpanProcessor {
  const onEnd = inner.onEnd.bind(inner);
  inner.onEnd = (span: ReadableSpan) => {
    if ((counts.queued ?? 0) >= maxQueue) counts.dropped += 1;
    else counts.queued = (counts.queued ?? 0) + 1;
    onEnd(span);
  };
  return inner;
}

function countingLogProcessor(inner: BatchLogRecordProcessor, counts: TelemetryStats['logs'], maxQueue: number): BatchLogRecordProcessor {
  const onEmit = inner.onEmit.bind(inner);
  inner.onEmit = (record: ReadWriteLogRecord) => {
    if ((counts.queued ?? 0) >= maxQueue) counts.dropped += 1;
    else counts.queued = (counts.queued ?? 0) + 1;
    onEmit(record);
  };
  return inner;
}

/** The MCP method of each kind of request the chain carries. */
const METHOD: Record<CallKind, string> = { tool: 'tools/call', prompt: 'prompts/get', resource: 'resources/read' };

/**
 * The semantic conventions' span name, `{mcp.method.name} {target}`, and target attributes:
 * the tool or prompt name; a resource's URI only as an attribute (a name must stay low in
 * cardinality). `name` is the gateway's (`server__tool`) upstream, the server's own downstream;
 * a URI is the redacted copy the audit record holds.
 */
function target(ctx: CallContext, name: string): { spanName: string; attributes: Attributes } {
  const method = METHOD[ctx.kind ?? 'tool'];
  const base: Attributes = { 'mcp.method.name': method };
  switch (ctx.kind ?? 'tool') {
    case 'tool':
      return { spanName: `${method} ${name}`, attributes: { ...base, 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name } };
    case 'prompt':
      return { spanName: `${method} ${name}`, attributes: { ...base, 'gen_ai.prompt.name': name } };
    case 'resource':
      return { spanName: method, attributes: { ...base, 'mcp.resource.uri': name } };
  }
}

/**
 * The outermost layer: one SERVER span per upstream request the chain carries (`tools/call`,
 * `prompts/get`, `resources/read`), named and attributed after the OpenTelemetry semantic
 * conventions for MCP (`mcp.method.name`, `gen_ai.tool.name`, …), child of the client's W3C
 * trace context when it sent one (`_meta` or HTTP headers).
 */
function callSpanLayer(tracer: Tracer, inner: Middleware, spans: WeakMap<CallContext, Span>): Middleware {
  return async (ctx, next) => {
    const parent = upstreamContext(ctx.upstream);
    const { spanName, attributes } = target(ctx, ctx.full_name);
    const span = tracer.startSpan(
      spanName,
      {
        kind: SpanKind.SERVER,
        attributes: {
          ...attributes,
          'mcp.session.id': ctx.session_id,
          'gatehouse.server': ctx.server_name,
          'gatehouse.tool': ctx.tool_name,
          ...(ctx.upstream?.client_name ? { 'gatehouse.client.name': ctx.upstream.client_name } : {}),
        },
      },
      parent,
    );
    spans.set(ctx, span);
    try {
      await inner(ctx, next);
    } finally {
      span.setAttributes(outcomeAttributes(ctx));
      if (ctx.status !== 'allowed' || ctx.result?.isError) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: ctx.reason_code ?? (ctx.result?.isError ? 'tool_error' : ctx.status) });
      }
      span.end();
    }
  };
}

/** The terminal dispatcher: one CLIENT span per downstream request, its context sent on in `_meta`. */
function downstreamSpanLayer(tracer: Tracer, inner: Middleware, spans: WeakMap<CallContext, Span>): Middleware {
  return async (ctx, next) => {
    const parent = spans.get(ctx);
    if (ctx.status !== 'allowed' || !parent) return inner(ctx, next);
    const { spanName, attributes } = target(ctx, ctx.tool_name);
    const span = tracer.startSpan(
      spanName,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          ...attributes,
          'server.address': ctx.server_name,
          'gatehouse.server': ctx.server_name,
        },
      },
      trace.setSpan(ROOT_CONTEXT, parent),
    );
    ctx.downstream_meta = { ...ctx.downstream_meta, ...carrierOf(span) };
    try {
      await inner(ctx, next);
    } finally {
      if (ctx.status !== 'allowed') {
        span.setAttribute('error.type', ctx.reason_code ?? 'error');
        span.setStatus({ code: SpanStatusCode.ERROR, message: ctx.reason_code });
      } else if (ctx.result?.isError) {
        span.setAttribute('error.type', 'tool_error');
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'tool_error' });
      }
      span.end();
    }
  };
}

/**
 * Adds a span event when a layer decides the call (refuses or fails it without passing it
 * on): which decision, and why. Later layers see a decided call and pass; one event per call.
 */
function decisionRecorder(layer: Middleware, spans: WeakMap<CallContext, Span>): Middleware {
  return async (ctx, next) => {
    let passed = false;
    const before = ctx.status;
    await layer(ctx, async () => {
      passed = true;
      await next();
    });
    if (!passed && before === 'allowed' && ctx.status !== 'allowed') {
      spans.get(ctx)?.addEvent('gatehouse.governance.decision', {
        'gatehouse.status': ctx.status,
        ...(ctx.reason_code ? { 'gatehouse.reason_code': ctx.reason_code } : {}),
        ...(ctx.tier ? { 'gatehouse.tier': ctx.tier } : {}),
      });
    }
  };
}

function outcomeAttributes(ctx: CallContext): Attributes {
  const attributes: Attributes = { 'gatehouse.status': ctx.status };
  if (ctx.tier) attributes['gatehouse.tier'] = ctx.tier;
  if (ctx.reason_code) {
    attributes['gatehouse.reason_code'] = ctx.reason_code;
    attributes['error.type'] = ctx.reason_code;
  } else if (ctx.result?.isError) attributes['error.type'] = 'tool_error';
  return attributes;
}

/** The W3C trace context of a span, as sent on in a downstream request's `_meta`. */
function carrierOf(span: Span): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, { set: (c, k, v) => ((c as Record<string, string>)[k] = v) });
  return carrier;
}

/**
 * Spans for the upstream requests that do not go through the chain (`completion/complete`,
 * `resources/subscribe`, `resources/unsubscribe`): a SERVER span around the handler, and a
 * CLIENT child around each downstream request it sends, found through AsyncLocalStorage so the
 * gateway's hook stays one call. A downstream request without an upstream one (a fan-out of
 * `logging/setLevel`, an unsubscription when a session closes) gets no span.
 */
function requestTracer(tracer: Tracer): RequestTracer {
  const active = new AsyncLocalStorage<Span>();
  const fail = (span: Span, err: unknown) => {
    const code = (err as { code?: unknown } | undefined)?.code;
    span.setAttribute('error.type', typeof code === 'number' || typeof code === 'string' ? String(code) : 'error');
    span.setStatus({ code: SpanStatusCode.ERROR });
  };
  return {
    async upstream(method, upstream, sessionId, run) {
      const span = tracer.startSpan(
        method,
        {
          kind: SpanKind.SERVER,
          attributes: {
            'mcp.method.name': method,
            'mcp.session.id': sessionId,
            ...(upstream?.client_name ? { 'gatehouse.client.name': upstream.client_name } : {}),
          },
        },
        upstreamContext(upstream),
      );
      try {
        return await active.run(span, run);
      } catch (err) {
        fail(span, err);
        throw err;
      } finally {
        span.end();
      }
    },
    async downstream(server, method, send) {
      const parent = active.getStore();
      if (!parent) return send(undefined);
      parent.setAttribute('gatehouse.server', server);
      const span = tracer.startSpan(
        method,
        { kind: SpanKind.CLIENT, attributes: { 'mcp.method.name': method, 'server.address': server, 'gatehouse.server': server } },
        trace.setSpan(ROOT_CONTEXT, parent),
      );
      try {
        return await send(carrierOf(span));
      } catch (err) {
        fail(span, err);
        throw err;
      } finally {
        span.end();
      }
    },
  };
}

type Tracer = ReturnType<TracerProvider['getTracer']>;

/** The client's trace context: `params._meta.traceparent` first (MCP's carrier), then HTTP headers. */
function upstreamContext(up: CallContext['upstream']): Context {
  if (!up) return ROOT_CONTEXT;
  const pick = (source: Record<string, unknown> | undefined) => {
    const traceparent = source?.traceparent;
    const tracestate = source?.tracestate;
    return typeof traceparent === 'string' ? { traceparent, ...(typeof tracestate === 'string' ? { tracestate } : {}) } : undefined;
  };
  const carrier = pick(up.meta) ?? pick(up.headers);
  if (!carrier) return ROOT_CONTEXT;
  return propagator.extract(ROOT_CONTEXT, carrier, {
    get: (c, k) => (c as Record<string, string>)[k],
    keys: (c) => Object.keys(c as object),
  });
}
