import { createRequire } from 'node:module';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local OTLP/HTTP receiver for tests. Bodies are decoded against the official OTLP proto
 * definitions, as compiled by protobufjs into `@opentelemetry/otlp-proto-exporter-base`
 * (http/protobuf), or parsed as OTLP/JSON (http/json); both come out in the same shape
 * (ids as lower-case hex), so a test asserts the same way whatever the encoding.
 */
const require = createRequire(import.meta.url);
const root = require('@opentelemetry/otlp-proto-exporter-base/build/src/generated/root.js') as ProtoRoot;

interface ProtoType {
  decode(buf: Uint8Array): unknown;
  toObject(message: unknown, options: Record<string, unknown>): unknown;
}
interface ProtoRoot {
  opentelemetry: { proto: { collector: Record<'trace' | 'metrics' | 'logs', { v1: Record<string, ProtoType> }> } };
}

export type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
export interface KeyValue {
  key: string;
  value: AnyValue;
}
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: KeyValue[];
  events?: { name: string; attributes?: KeyValue[] }[];
  status?: { code?: number; message?: string };
}
export interface OtlpLogRecord {
  eventName?: string;
  body?: AnyValue;
  attributes?: KeyValue[];
}
export interface OtlpMetric {
  name: string;
  unit?: string;
  sum?: { dataPoints: { attributes?: KeyValue[]; asInt?: string | number; asDouble?: number }[] };
  histogram?: { dataPoints: { attributes?: KeyValue[]; count?: string | number }[] };
  gauge?: { dataPoints: { attributes?: KeyValue[]; asInt?: string | number; asDouble?: number }[] };
}

export interface Received {
  path: string;
  contentType: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

const TYPES = {
  '/v1/traces': ['trace', 'ExportTraceServiceRequest'],
  '/v1/metrics': ['metrics', 'ExportMetricsServiceRequest'],
  '/v1/logs': ['logs', 'ExportLogsServiceRequest'],
} as const;

export class OtlpReceiver {
  readonly requests: Received[] = [];
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<OtlpReceiver> {
    const requests: Received[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = (req.url ?? '').split('?')[0];
        const contentType = String(req.headers['content-type'] ?? '');
        const type = TYPES[path as keyof typeof TYPES];
        if (!type) {
          res.writeHead(404).end();
          return;
        }
        const raw = Buffer.concat(chunks);
        const body = contentType.includes('json')
          ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>)
          : (hexIds(
              root.opentelemetry.proto.collector[type[0]].v1[type[1]].toObject(root.opentelemetry.proto.collector[type[0]].v1[type[1]].decode(raw), {
                longs: String,
                defaults: false,
                arrays: true,
              }),
            ) as Record<string, unknown>);
        requests.push({ path, contentType, headers: req.headers, body });
        res.writeHead(200, { 'content-type': contentType.includes('json') ? 'application/json' : 'application/x-protobuf' }).end(contentType.includes('json') ? '{}' : '');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const receiver = new OtlpReceiver(server, (server.address() as AddressInfo).port);
    (receiver as { requests: Received[] }).requests = requests;
    return receiver;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  spans(): OtlpSpan[] {
    return this.collect('/v1/traces', 'resourceSpans', 'scopeSpans', 'spans') as OtlpSpan[];
  }

  logRecords(): OtlpLogRecord[] {
    return this.collect('/v1/logs', 'resourceLogs', 'scopeLogs', 'logRecords') as OtlpLogRecord[];
  }

  metrics(): OtlpMetric[] {
    return this.collect('/v1/metrics', 'resourceMetrics', 'scopeMetrics', 'metrics') as OtlpMetric[];
  }

  /** Resource attributes of the first export of a path. */
  resource(path: keyof typeof TYPES): KeyValue[] {
    const body = this.requests.find((r) => r.path === path)?.body as { [k: string]: { resource?: { attributes?: KeyValue[] } }[] } | undefined;
    const key = Object.keys(body ?? {})[0];
    return (key && body?.[key]?.[0]?.resource?.attributes) || [];
  }

  private collect(path: string, a: string, b: string, c: string): unknown[] {
    const out: unknown[] = [];
    for (const r of this.requests) {
      if (r.path !== path) continue;
      for (const res of (r.body[a] as Record<string, unknown>[] | undefined) ?? []) {
        for (const scope of (res[b] as Record<string, unknown>[] | undefined) ?? []) out.push(...((scope[c] as unknown[] | undefined) ?? []));
      }
    }
    return out;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** An attribute's value as a plain JS value. */
export function attr(attributes: KeyValue[] | undefined, key: string): string | number | boolean | undefined {
  const v = attributes?.find((a) => a.key === key)?.value;
  if (!v) return undefined;
  return v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.doubleValue ?? v.boolValue;
}

/** protobufjs gives ids as bytes; OTLP/JSON as hex: make both hex. */
function hexIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(hexIds);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, hexIds(v)]));
  }
  return value;
}
