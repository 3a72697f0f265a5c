import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readTelemetryConfig } from '../../../extension/telemetry/telemetryConfig';

const SECRET = 'hunter2-secret-token';

describe('readTelemetryConfig (OTEL_* variables)', () => {
  test('off without an endpoint, and with OTEL_SDK_DISABLED', () => {
    assert.deepEqual(readTelemetryConfig({}), { kind: 'off', reason: 'no_endpoint' });
    assert.deepEqual(readTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'TRUE' }), { kind: 'off', reason: 'disabled' });
  });

  test('the base endpoint gets the per-signal paths; defaults as the specification gives them', () => {
    const d = readTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.example:4318/otlp' });
    assert.equal(d.kind, 'on');
    if (d.kind !== 'on') return;
    assert.equal(d.config.signals.traces?.url, 'https://collector.example:4318/otlp/v1/traces');
    assert.equal(d.config.signals.metrics?.url, 'https://collector.example:4318/otlp/v1/metrics');
    assert.equal(d.config.signals.logs?.url, 'https://collector.example:4318/otlp/v1/logs');
    assert.equal(d.config.signals.traces?.protocol, 'http/protobuf');
    assert.equal(d.config.serviceName, 'gatehouse');
    assert.equal(d.config.metricExportIntervalMs, 60_000);
    assert.equal(d.config.spanBatch.scheduledDelayMs, 5000);
    assert.equal(d.config.logBatch.scheduledDelayMs, 1000);
    assert.equal(d.config.spanBatch.maxQueueSize, 2048);
  });

  test('per-signal endpoints are used as they are; a signal can be left out or turned off', () => {
    const d = readTelemetryConfig({
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://audit.example/ingest',
      OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'x-tenant=a%2Cb',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20t,x-tenant=z',
    });
    assert.equal(d.kind, 'on');
    if (d.kind !== 'on') return;
    assert.deepEqual(Object.keys(d.config.signals), ['logs']);
    assert.equal(d.config.signals.logs?.url, 'http://audit.example/ingest');
    assert.equal(d.config.signals.logs?.protocol, 'http/json');
    assert.deepEqual(d.config.signals.logs?.headers, { authorization: 'Bearer t', 'x-tenant': 'a,b' });
    const none = readTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' });
    assert.ok(none.kind === 'on' && !none.config.signals.traces && none.config.signals.metrics);
  });

  test('service name and resource attributes', () => {
    const d = readTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,team=platform%20one' });
    assert.ok(d.kind === 'on');
    assert.equal(d.config.serviceName, 'from-attrs');
    assert.equal(d.config.resourceAttributes.team, 'platform one');
    const named = readTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SERVICE_NAME: 'gw', OTEL_RESOURCE_ATTRIBUTES: 'service.name=x' });
    assert.ok(named.kind === 'on' && named.config.serviceName === 'gw');
  });

  test('malformed variables: invalid, with a reason that never quotes a header value', () => {
    const cases: [NodeJS.ProcessEnv, RegExp][] = [
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }, /OTEL_EXPORTER_OTLP_ENDPOINT is not a URL/],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://c/' }, /must be an http/],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: `http://user:${SECRET}@c/` }, /must not carry credentials/],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, /not supported/],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_EXPORTER_OTLP_HEADERS: `a=b,${SECRET}` }, /entry 2 is not key=value/],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_EXPORTER_OTLP_HEADERS: `api-key=%E0%A4%A${SECRET}` }, /entry 1 is not valid percent-encoding/],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_EXPORTER_OTLP_HEADERS: `bad key=${SECRET}` }, /key of entry 1/],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_METRIC_EXPORT_INTERVAL: '-5' }, /OTEL_METRIC_EXPORT_INTERVAL must be a positive integer/],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_BSP_SCHEDULE_DELAY: 'soon' }, /OTEL_BSP_SCHEDULE_DELAY/],
    ];
    for (const [env, reason] of cases) {
      const d = readTelemetryConfig(env);
      assert.equal(d.kind, 'invalid', JSON.stringify(env));
      if (d.kind !== 'invalid') continue;
      assert.match(d.reason, reason);
      assert.ok(!d.reason.includes(SECRET), d.reason);
    }
  });
});
