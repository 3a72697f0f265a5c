/**
 * OpenTelemetry export settings, read from the standard `OTEL_*` variables (the OpenTelemetry
 * SDK environment specification). This module imports no OpenTelemetry package: it runs on
 * every start, and only a configuration that turns export on loads the SDK (loadTelemetry.ts).
 */

export type Signal = 'traces' | 'metrics' | 'logs';
export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface SignalConfig {
  /** The full URL the signal is posted to (`…/v1/traces` etc. when built from the base endpoint). */
  url: string;
  protocol: OtlpProtocol;
  /** Sent with every export. Values may be secrets (API keys): never logged. */
  headers: Record<string, string>;
  timeoutMs: number;
}

export interface TelemetryConfig {
  serviceName: string;
  resourceAttributes: Record<string, string>;
  /** A signal whose endpoint is unset (no base endpoint, no per-signal one) is not exported. */
  signals: Partial<Record<Signal, SignalConfig>>;
  metricExportIntervalMs: number;
  /** Batch processors: bounded queues, so a slow collector drops records instead of holding calls. */
  spanBatch: BatchConfig;
  logBatch: BatchConfig;
}

export interface BatchConfig {
  scheduledDelayMs: number;
  maxQueueSize: number;
  maxExportBatchSize: number;
  exportTimeoutMs: number;
}

/** Off, with why (`reason` is shown once; it never contains a header value). */
export type TelemetryDecision =
  | { kind: 'on'; config: TelemetryConfig }
  | { kind: 'off'; reason: 'no_endpoint' | 'disabled' }
  | { kind: 'invalid'; reason: string };

const SIGNAL_PATH: Record<Signal, string> = { traces: 'v1/traces', metrics: 'v1/metrics', logs: 'v1/logs' };
const SIGNAL_VAR: Record<Signal, string> = { traces: 'TRACES', metrics: 'METRICS', logs: 'LOGS' };

/**
 * Reads the `OTEL_*` variables. Telemetry is off unless an endpoint is set; any malformed
 * variable turns the whole of it off with one reason (a half-configured export would send to
 * the wrong place or without its credentials).
 */
export function readTelemetryConfig(env: NodeJS.ProcessEnv): TelemetryDecision {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return { kind: 'off', reason: 'disabled' };
  try {
    const signals: Partial<Record<Signal, SignalConfig>> = {};
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      const s = SIGNAL_VAR[signal];
      if ((env[`OTEL_${s}_EXPORTER`] ?? '').trim().toLowerCase() === 'none') continue;
      const specific = nonEmpty(env[`OTEL_EXPORTER_OTLP_${s}_ENDPOINT`]);
      const base = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
      if (!specific && !base) continue;
      const url = specific
        ? parseEndpoint(specific, `OTEL_EXPORTER_OTLP_${s}_ENDPOINT`)
        : appendPath(parseEndpoint(base!, 'OTEL_EXPORTER_OTLP_ENDPOINT'), SIGNAL_PATH[signal]);
      signals[signal] = {
        url,
        protocol: parseProtocol(env[`OTEL_EXPORTER_OTLP_${s}_PROTOCOL`] ?? env.OTEL_EXPORTER_OTLP_PROTOCOL),
        headers: {
          ...parseKeyValues(env.OTEL_EXPORTER_OTLP_HEADERS, 'OTEL_EXPORTER_OTLP_HEADERS'),
          ...parseKeyValues(env[`OTEL_EXPORTER_OTLP_${s}_HEADERS`], `OTEL_EXPORTER_OTLP_${s}_HEADERS`),
        },
        timeoutMs: parseMs(env[`OTEL_EXPORTER_OTLP_${s}_TIMEOUT`] ?? env.OTEL_EXPORTER_OTLP_TIMEOUT, 'OTEL_EXPORTER_OTLP_TIMEOUT', 10_000),
      };
    }
    if (Object.keys(signals).length === 0) return { kind: 'off', reason: 'no_endpoint' };
    const resourceAttributes = parseKeyValues(env.OTEL_RESOURCE_ATTRIBUTES, 'OTEL_RESOURCE_ATTRIBUTES');
    return {
      kind: 'on',
      config: {
        serviceName: nonEmpty(env.OTEL_SERVICE_NAME) ?? resourceAttributes['service.name'] ?? 'gatehouse',
        resourceAttributes,
        signals,
        metricExportIntervalMs: parseMs(env.OTEL_METRIC_EXPORT_INTERVAL, 'OTEL_METRIC_EXPORT_INTERVAL', 60_000),
        spanBatch: readBatch(env, 'BSP', 5000, 2048, 512),
        logBatch: readBatch(env, 'BLRP', 1000, 2048, 512),
      },
    };
  } catch (err) {
    if (err instanceof TelemetryConfigError) return { kind: 'invalid', reason: err.message };
    throw err;
  }
}

class TelemetryConfigError extends Error {}

function readBatch(env: NodeJS.ProcessEnv, prefix: 'BSP' | 'BLRP', delay: number, queue: number, batch: number): BatchConfig {
  const maxQueueSize = parseMs(env[`OTEL_${prefix}_MAX_QUEUE_SIZE`], `OTEL_${prefix}_MAX_QUEUE_SIZE`, queue);
  return {
    scheduledDelayMs: parseMs(env[`OTEL_${prefix}_SCHEDULE_DELAY`], `OTEL_${prefix}_SCHEDULE_DELAY`, delay),
    maxQueueSize,
    maxExportBatchSize: Math.min(maxQueueSize, parseMs(env[`OTEL_${prefix}_MAX_EXPORT_BATCH_SIZE`], `OTEL_${prefix}_MAX_EXPORT_BATCH_SIZE`, batch)),
    exportTimeoutMs: parseMs(env[`OTEL_${prefix}_EXPORT_TIMEOUT`], `OTEL_${prefix}_EXPORT_TIMEOUT`, 30_000),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v ? v : undefined;
}

/** Only http(s) URLs without credentials in them (the URL is logged; headers carry secrets). */
function parseEndpoint(value: string, name: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TelemetryConfigError(`${name} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TelemetryConfigError(`${name} must be an http:// or https:// URL, not ${url.protocol}`);
  if (url.username || url.password) throw new TelemetryConfigError(`${name} must not carry credentials in the URL; put them in OTEL_EXPORTER_OTLP_HEADERS`);
  return url.toString();
}

function appendPath(base: string, suffix: string): string {
  return base.endsWith('/') ? `${base}${suffix}` : `${base}/${suffix}`;
}

function parseProtocol(value: string | undefined): OtlpProtocol {
  const v = nonEmpty(value) ?? 'http/protobuf';
  if (v === 'http/protobuf' || v === 'http/json') return v;
  // grpc is not offered: it would bundle a gRPC stack into the extension.
  throw new TelemetryConfigError(`OTEL_EXPORTER_OTLP_PROTOCOL '${v.slice(0, 20)}' is not supported (http/protobuf or http/json)`);
}

/** W3C-baggage-like `key=value,key2=value2`, values percent-decoded (the spec's format). */
function parseKeyValues(value: string | undefined, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!nonEmpty(value)) return out;
  for (const [index, part] of value!.split(',').entries()) {
    if (!part.trim()) continue;
    const eq = part.indexOf('=');
    // The message names the position, never the text: a header entry may hold a secret.
    if (eq <= 0) throw new TelemetryConfigError(`${name}: entry ${index + 1} is not key=value`);
    const key = part.slice(0, eq).trim();
    let val: string;
    try {
      val = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      throw new TelemetryConfigError(`${name}: the value of entry ${index + 1} is not valid percent-encoding`);
    }
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) throw new TelemetryConfigError(`${name}: key of entry ${index + 1} has characters a header name cannot have`);
    out[key] = val;
  }
  return out;
}

function parseMs(value: string | undefined, name: string, fallback: number): number {
  const v = nonEmpty(value);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new TelemetryConfigError(`${name} must be a positive integer, not '${v.slice(0, 20)}'`);
  return n;
}
