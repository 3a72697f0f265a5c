import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePolicy } from '../../../extension/config/loadConfig';
import { readTelemetryConfig } from '../../../extension/telemetry/telemetryConfig';
import { relabel, telemetryEnv } from '../../../extension/telemetry/telemetrySources';

const SECRET = 'hny-s3cret-value';

function policy(telemetry: string): ReturnType<typeof parsePolicy> {
  return parsePolicy(`autonomy_level: L1\ngateway:\n  telemetry:\n${telemetry}`, '/cfg/policy.yaml');
}

test('policy.yaml gateway.telemetry: a valid block parses', () => {
  const { policy: p, problems } = policy(
    [
      '    endpoint: https://otel.example.com:4318',
      '    protocol: http/json',
      '    headers:',
      '      x-honeycomb-team: ${HONEYCOMB_KEY}',
      '      authorization: Bearer ${OTEL_TOKEN}',
      '    service_name: gh-team',
      '    resource_attributes:',
      '      team: platform',
      '',
    ].join('\n'),
  );
  assert.deepEqual(problems, []);
  assert.equal(p?.gateway?.telemetry?.endpoint, 'https://otel.example.com:4318');
  assert.deepEqual(p?.gateway?.telemetry?.resource_attributes, { team: 'platform' });
});

test('policy.yaml gateway.telemetry: bad values are errors at file:line:column, a literal header never repeated', () => {
  const { policy: p, problems } = policy(
    [
      '    endpoint: grpc://collector:4317',
      '    protocol: grpc',
      '    headers:',
      `      authorization: Bearer ${SECRET}`,
      '      bad header: ${X}',
      '    enabled: yes-please',
      '    colour: blue',
      '',
    ].join('\n'),
  );
  assert.equal(p, undefined, 'a broken policy is not used');
  const at = (code: string) => problems.find((x) => x.code === code);
  const endpoint = at('invalid-telemetry-endpoint');
  assert.ok(endpoint, JSON.stringify(problems));
  assert.equal(endpoint.file, '/cfg/policy.yaml');
  assert.deepEqual([endpoint.line, endpoint.column], [4, 15]);
  assert.match(endpoint.message, /must be http:\/\/ or https:\/\/, not grpc:/);
  const literal = at('telemetry-header-literal');
  assert.ok(literal);
  assert.equal(literal.line, 7);
  assert.match(literal.message, /must reference an environment variable/);
  assert.ok(!JSON.stringify(problems).includes(SECRET), 'the literal secret is not repeated in any problem');
  assert.ok(at('invalid-header-name'));
  assert.ok(problems.some((x) => x.line === 5), 'protocol: grpc');
  assert.ok(problems.some((x) => x.line === 9), 'enabled must be a boolean');
  assert.ok(problems.some((x) => x.line === 10), 'an unknown key (strict)');
});

test('precedence: OTEL_* variables, then settings, then policy.yaml, key by key', () => {
  const file = { endpoint: 'http://policy:4318', protocol: 'http/json' as const, service_name: 'from-policy', headers: { 'x-key': '${POLICY_KEY}' } };
  const settings = { endpoint: 'http://settings:4318', serviceName: 'from-settings' };
  const r = telemetryEnv({ OTEL_SERVICE_NAME: 'from-env', POLICY_KEY: SECRET }, settings, file);
  assert.equal(r.kind, 'ok');
  if (r.kind !== 'ok') return;
  assert.equal(r.env.OTEL_SERVICE_NAME, 'from-env');
  assert.equal(r.env.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://settings:4318');
  assert.equal(r.env.OTEL_EXPORTER_OTLP_PROTOCOL, 'http/json');
  assert.equal(r.labels.OTEL_EXPORTER_OTLP_ENDPOINT, 'setting gatehouse.telemetry.endpoint');
  assert.equal(r.labels.OTEL_EXPORTER_OTLP_PROTOCOL, 'policy gateway.telemetry.protocol');
  assert.equal(r.labels.OTEL_SERVICE_NAME, undefined, 'the environment is not relabelled');
  const config = readTelemetryConfig(r.env);
  assert.equal(config.kind, 'on');
  if (config.kind !== 'on') return;
  assert.equal(config.config.signals.traces?.url, 'http://settings:4318/v1/traces');
  assert.deepEqual(config.config.signals.traces?.headers, { 'x-key': SECRET }, 'the reference resolved from the environment');
  assert.equal(config.config.serviceName, 'from-env');
});

test('headers: settings references and the SecretStorage entry; the environment wins whole', () => {
  const settings = { endpoint: 'http://c:4318', headers: { authorization: 'Bearer ${TOKEN}' }, secretHeaders: `x-honeycomb-team=${SECRET}` };
  const r = telemetryEnv({ TOKEN: 'tok en' }, settings, undefined);
  assert.equal(r.kind, 'ok');
  const config = r.kind === 'ok' ? readTelemetryConfig(r.env) : undefined;
  assert.equal(config?.kind, 'on');
  if (config?.kind !== 'on') return;
  assert.deepEqual(config.config.signals.logs?.headers, { 'x-honeycomb-team': SECRET, authorization: 'Bearer tok en' });
  const env = telemetryEnv({ OTEL_EXPORTER_OTLP_HEADERS: 'a=b', TOKEN: 't' }, settings, undefined);
  assert.equal(env.kind === 'ok' && env.env.OTEL_EXPORTER_OTLP_HEADERS, 'a=b');
});

test('enabled: false in settings or policy turns export off; the settings win over the policy', () => {
  const on = (settings: object | undefined, file: object | undefined, env: NodeJS.ProcessEnv = {}) => {
    const r = telemetryEnv(env, settings, { endpoint: 'http://c:4318', ...file });
    return r.kind === 'ok' ? readTelemetryConfig(r.env).kind : r.kind;
  };
  assert.equal(on(undefined, undefined), 'on');
  assert.equal(on(undefined, { enabled: false }), 'off');
  assert.equal(on({ enabled: false }, undefined), 'off');
  assert.equal(on({ enabled: true }, { enabled: false }), 'on');
  assert.equal(on({ enabled: true }, undefined, { OTEL_SDK_DISABLED: 'true' }), 'off', 'OTEL_SDK_DISABLED wins');
  const none = telemetryEnv({}, undefined, undefined);
  assert.equal(none.kind === 'ok' && readTelemetryConfig(none.env).kind, 'off', 'nothing set: off');
});

test('bad input from settings: a clear reason under the setting name, never a value', () => {
  const missing = telemetryEnv({}, { endpoint: 'http://c:4318', headers: { authorization: 'Bearer ${NOT_SET}' } }, undefined);
  assert.deepEqual(missing, { kind: 'invalid', reason: "setting gatehouse.telemetry.headers.authorization references ${NOT_SET}, which is not set in the gateway's environment" });
  const literal = telemetryEnv({}, { endpoint: 'http://c:4318', headers: { authorization: SECRET } }, undefined);
  assert.equal(literal.kind, 'invalid');
  assert.ok(literal.kind === 'invalid' && !literal.reason.includes(SECRET));
  const endpoint = telemetryEnv({}, { endpoint: 'not a url' }, undefined);
  assert.equal(endpoint.kind, 'ok');
  if (endpoint.kind !== 'ok') return;
  const decision = readTelemetryConfig(endpoint.env);
  assert.equal(decision.kind, 'invalid');
  assert.equal(decision.kind === 'invalid' && relabel(decision.reason, endpoint.labels), 'setting gatehouse.telemetry.endpoint is not a URL');
  const secret = telemetryEnv({}, { endpoint: 'http://c:4318', secretHeaders: `${SECRET}` }, undefined);
  const bad = secret.kind === 'ok' ? readTelemetryConfig(secret.env) : undefined;
  assert.equal(bad?.kind, 'invalid');
  assert.ok(bad?.kind === 'invalid' && !bad.reason.includes(SECRET));
  assert.match(bad?.kind === 'invalid' ? relabel(bad.reason, secret.kind === 'ok' ? secret.labels : {}) : '', /^setting gatehouse\.telemetry\.headers or the headers in SecretStorage: entry 1 is not key=value$/);
});
