import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { stringify } from 'yaml';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ensureCliBuilt } from '../helpers/cli';
import { makeProject, type Project } from '../helpers/gatewayProject';
import { hashRecordBody } from '../../extension/gateway/audit/auditRecord';
import { canonicalJson } from '../../extension/gateway/audit/canonicalJson';
import { httpClient, listedWith, resultText, spawnCli, startHttpGateway, stopAllCli, type HttpGateway } from '../helpers/gatewayProcess';
import { buildStatus } from '../../extension/cli/status';
import { attr, OtlpReceiver, type OtlpSpan } from '../helpers/otlpReceiver';
import { until } from '../helpers/poll';

const clients: Client[] = [];
const receivers: OtlpReceiver[] = [];
const stoppers: (() => Promise<void>)[] = [];
after(async () => {
  // Gateways first: a live gateway holds connections open to the remote server and the
  // receivers, and a server's close() waits for its connections (it hung CI under load).
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await stopAllCli();
  for (const stop of stoppers) await stop();
  await Promise.all(receivers.map((r) => r.close()));
});

const SECRET = 's3cret-api-key-do-not-log';
const PARENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN = '00f067aa0ba902b7';

/** Short export delays so the test sees records quickly (polled, never timed). */
function otelEnv(endpoint: string, protocol: 'http/protobuf' | 'http/json'): NodeJS.ProcessEnv {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
    OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${SECRET},x-team=gatehouse`,
    OTEL_SERVICE_NAME: 'gatehouse-test',
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=ci,team=platform',
    OTEL_BSP_SCHEDULE_DELAY: '50',
    OTEL_BLRP_SCHEDULE_DELAY: '50',
    OTEL_METRIC_EXPORT_INTERVAL: '200',
  };
}

function auditLines(configDir: string): { hash: string; prev_hash: string; tool_name: string; server_name: string; status: string }[] {
  return readFileSync(path.join(configDir, 'audit.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { hash: string; prev_hash: string; tool_name: string; server_name: string; status: string });
}

async function exercise(protocol: 'http/protobuf' | 'http/json'): Promise<{ gw: HttpGateway; project: Project; receiver: OtlpReceiver }> {
  const receiver = await OtlpReceiver.start();
  receivers.push(receiver);
  // L0: read tools only, so `trace__write` is refused by governance inside the chain.
  const project = makeProject([{ name: 'trace', fixture: 'traceEcho.mjs' }], { autonomy_level: 'L0' });
  const gw = await startHttpGateway(project.folder, otelEnv(receiver.endpoint, protocol));
  const c = await httpClient(gw.info, 'otel-test-client');
  clients.push(c);
  // Listed first: the read tier of `trace` and `echo` comes from their readOnlyHint.
  await listedWith(c, 'trace__trace');

  // The client's own trace context, in `_meta` as MCP carries it.
  const traced = await c.callTool({ name: 'trace__trace', arguments: {}, _meta: { traceparent: `00-${PARENT_TRACE}-${PARENT_SPAN}-01` } });
  const sentOn = resultText(traced);
  const denied = await c.callTool({ name: 'trace__write', arguments: { id: 'x' } });
  assert.equal(denied.isError, true);
  await c.callTool({ name: 'trace__echo', arguments: { text: 'plain' } });

  // Traces: a SERVER span per call, a CLIENT child per downstream request.
  const spans = await until('three call spans', () => {
    const s = receiver.spans().filter((x) => x.kind === 2);
    return s.length >= 3 ? s : undefined;
  });
  const byTool = (tool: string): OtlpSpan => {
    const span = spans.find((s) => attr(s.attributes, 'gen_ai.tool.name') === tool);
    assert.ok(span, `a span for ${tool}`);
    return span;
  };
  const call = byTool('trace__trace');
  assert.equal(call.name, 'tools/call trace__trace');
  assert.equal(call.traceId, PARENT_TRACE, 'continues the client trace');
  assert.equal(call.parentSpanId, PARENT_SPAN);
  assert.equal(attr(call.attributes, 'mcp.method.name'), 'tools/call');
  assert.equal(attr(call.attributes, 'gen_ai.operation.name'), 'execute_tool');
  assert.equal(attr(call.attributes, 'gatehouse.server'), 'trace');
  assert.equal(attr(call.attributes, 'gatehouse.tier'), 'read');
  assert.equal(attr(call.attributes, 'gatehouse.status'), 'allowed');
  assert.equal(attr(call.attributes, 'gatehouse.client.name'), 'otel-test-client');
  assert.match(String(attr(call.attributes, 'mcp.session.id')), /^[0-9a-f-]{36}$/);
  const child = await until('the downstream span', () => receiver.spans().find((s) => s.kind === 3 && s.parentSpanId === call.spanId));
  assert.equal(child.traceId, PARENT_TRACE);
  assert.equal(attr(child.attributes, 'gen_ai.tool.name'), 'trace');
  // The stdio child received the downstream span's context in `_meta`.
  assert.equal(sentOn, `00-${PARENT_TRACE}-${child.spanId}-01`);

  const refused = byTool('trace__write');
  assert.equal(attr(refused.attributes, 'gatehouse.status'), 'denied');
  assert.equal(attr(refused.attributes, 'gatehouse.reason_code'), 'tier_exceeds_autonomy');
  assert.equal(refused.status?.code, 2);
  const decision = refused.events?.find((e) => e.name === 'gatehouse.governance.decision');
  assert.ok(decision, 'a span event for the governance decision');
  assert.equal(attr(decision.attributes, 'gatehouse.reason_code'), 'tier_exceeds_autonomy');
  assert.equal(receiver.spans().filter((s) => s.kind === 3 && s.parentSpanId === refused.spanId).length, 0, 'a refused call reaches no server');
  const plain = byTool('trace__echo');
  assert.notEqual(plain.traceId, PARENT_TRACE, 'no client context: a new trace');
  assert.equal(plain.parentSpanId || undefined, undefined);

  // Audit: each record of audit.jsonl leaves as a log record with the same hash chain.
  const local = await until('the calls in audit.jsonl', () => {
    const lines = auditLines(project.configDir);
    return lines.filter((l) => l.server_name === 'trace').length >= 3 ? lines : undefined;
  });
  const exported = await until('every audit record exported', () => {
    const records = receiver.logRecords();
    return records.length >= local.length ? records : undefined;
  });
  for (const line of local) {
    const record = exported.find((r) => attr(r.attributes, 'gatehouse.audit.hash') === line.hash);
    assert.ok(record, `audit record ${line.tool_name} exported`);
    assert.equal(attr(record.attributes, 'gatehouse.audit.prev_hash'), line.prev_hash);
    assert.equal(attr(record.attributes, 'gatehouse.audit.status'), line.status);
  }
  const text = JSON.stringify(receiver.requests.map((r) => r.body));
  assert.doesNotMatch(text, /"id"|plain"/, 'no call arguments leave');

  // Metrics: the /metrics names, and the supervisor's.
  const metrics = await until('call metrics', () => {
    const m = receiver.metrics();
    const calls = m.filter((x) => x.name === 'gatehouse_downstream_calls_total').flatMap((x) => x.sum?.dataPoints ?? []);
    const outcomes = m.filter((x) => x.name === 'gatehouse_call_duration_seconds').flatMap((x) => x.histogram?.dataPoints ?? []).map((p) => attr(p.attributes, 'outcome'));
    return calls.some((p) => Number(p.asInt ?? p.asDouble) >= 2) && outcomes.includes('denied') ? m : undefined;
  });
  const duration = metrics.filter((m) => m.name === 'gatehouse_call_duration_seconds').at(-1);
  assert.ok(duration?.histogram, 'the latency histogram');
  assert.equal(duration.unit, 's');
  const outcomes = new Set(duration.histogram.dataPoints.map((p) => attr(p.attributes, 'outcome')));
  assert.ok(outcomes.has('allowed') && outcomes.has('denied'), [...outcomes].join());
  assert.ok(metrics.some((m) => m.name === 'gatehouse_downstream_up'));

  // Resource and headers: configured by the OTEL_* variables; the secret only on the wire.
  assert.equal(attr(receiver.resource('/v1/traces'), 'service.name'), 'gatehouse-test');
  assert.equal(attr(receiver.resource('/v1/traces'), 'deployment.environment'), 'ci');
  assert.ok(receiver.requests.every((r) => r.headers.authorization === `Bearer ${SECRET}` && r.headers['x-team'] === 'gatehouse'));
  assert.ok(receiver.requests.every((r) => (protocol === 'http/json' ? /json/ : /protobuf/).test(r.contentType)));
  assert.match(gw.stderr(), /telemetry: exporting traces → http:\/\/127\.0\.0\.1/);
  const counted = await until('exports counted in the state file', async () => {
    const t = (await buildStatus(project.folder)).serve.telemetry;
    return t && t.spans.exported >= 4 && t.logs.exported >= local.length ? t : undefined;
  }, 20_000);
  assert.equal(counted.spans.dropped, 0);
  assert.ok(!gw.stderr().includes(SECRET), 'the header value is never logged');
  return { gw, project, receiver };
}

/** What the Collector's `file` exporter writes: one OTLP/JSON request per line. */
function writeExportFile(receiver: OtlpReceiver, file: string): void {
  writeFileSync(file, receiver.requests.filter((r) => r.path === '/v1/logs').map((r) => `${JSON.stringify(r.body)}\n`).join(''));
}

/**
 * What a local user covering their tracks does: edits a record and re-hashes the chain from
 * there on, so the local verification passes again.
 */
function rewriteLocalAudit(configDir: string, edit: (r: Record<string, unknown>) => boolean): void {
  const file = path.join(configDir, 'audit.jsonl');
  let prev: string | undefined;
  let editing = false;
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => {
    const record = JSON.parse(line) as Record<string, unknown>;
    if (!editing) editing = edit(record);
    if (editing) {
      if (prev) record.prev_hash = prev;
      delete record.hash;
      record.hash = hashRecordBody(record);
    }
    prev = String(record.hash);
    return canonicalJson(record);
  });
  writeFileSync(file, `${lines.join('\n')}\n`);
}

describe('OpenTelemetry export (OTLP/HTTP)', () => {
  test('the SDK is its own bundle: the gateway bundles only name it', () => {
    const dist = path.dirname(ensureCliBuilt());
    for (const bundle of ['cli.js', 'extension.js']) {
      const text = readFileSync(path.join(dist, bundle), 'utf8');
      assert.match(text, /import\("\.\/telemetry\.js"\)/, `${bundle} loads telemetry.js on demand`);
      assert.doesNotMatch(text, /BatchSpanProcessor|OTLPTraceExporter/, `${bundle} does not carry the SDK`);
    }
    assert.match(readFileSync(path.join(dist, 'telemetry.js'), 'utf8'), /BatchSpanProcessor/);
  });

  test('http/protobuf: spans per call with parent/child links, audit records with their hashes, metrics', async () => {
    await exercise('http/protobuf');
  });

  test('http/json: the same; audit verify --against the exported copy shows a local rewrite', async () => {
    const { gw, project, receiver } = await exercise('http/json');
    await gw.stop();
    const copy = path.join(project.folder, 'exported-audit.jsonl');
    writeExportFile(receiver, copy);
    const verify = async (...extra: string[]) => {
      const cli = spawnCli(['audit', 'verify', ...extra], project.folder);
      return { code: (await cli.exited).code, out: cli.stdout() };
    };
    const clean = await verify('--against', copy);
    assert.equal(clean.code, 0, clean.out);
    assert.match(clean.out, /Audit log matches the exported copy: (\d+) of \1 exported records present/);

    // The refused call becomes "allowed", and the chain is re-hashed: locally all is well…
    rewriteLocalAudit(project.configDir, (r) => {
      if (r.tool_name !== 'write' || r.status !== 'denied') return false;
      r.status = 'allowed';
      delete r.error;
      return true;
    });
    // A forger who can write the log can write its tail anchor too (THREAT_MODEL): gone with it.
    rmSync(path.join(project.configDir, 'audit.anchor'), { force: true });
    assert.equal((await verify()).code, 0, 'the rewritten chain verifies on its own');
    // …but not against the copy that left the machine.
    const caught = await verify('--against', copy);
    assert.equal(caught.code, 1, caught.out);
    assert.match(caught.out, /^REWRITTEN: \S+ trace\/write [0-9a-f]{16}: the local log holds [0-9a-f]{16} in its place$/m);
    assert.match(caught.out, /Audit log DIFFERS from the exported copy/);
    const json = JSON.parse((await verify('--against', copy, '--json')).out) as { ok: boolean; missing: unknown[]; damaged: unknown[] };
    assert.equal(json.ok, false);
    assert.ok(json.missing.length >= 2, 'the edited record and every one re-hashed after it');
    assert.equal(json.damaged.length, 0);
  });

  test('every upstream request kind: a SERVER span per request, a CLIENT child per downstream request, the context passed on', async () => {
    const receiver = await OtlpReceiver.start();
    receivers.push(receiver);
    const project = makeProject([{ name: 'trace', fixture: 'traceEcho.mjs' }], { autonomy_level: 'L1' });
    const gw = await startHttpGateway(project.folder, otelEnv(receiver.endpoint, 'http/json'));
    const c = await httpClient(gw.info, 'otel-kinds-client');
    clients.push(c);
    await listedWith(c, 'trace__trace');
    const uri = (await c.listResources()).resources.find((r) => r.name === 'trace')?.uri;
    assert.ok(uri, 'the trace resource is listed');
    const meta = { traceparent: `00-${PARENT_TRACE}-${PARENT_SPAN}-01` };
    const prompt = await c.getPrompt({ name: 'trace__trace', _meta: meta });
    const read = await c.readResource({ uri, _meta: meta });
    const completion = await c.complete({ ref: { type: 'ref/prompt', name: 'trace__trace' }, argument: { name: 'x', value: '' }, _meta: meta });
    await c.subscribeResource({ uri, _meta: meta });
    const subscribed = resultText(await c.callTool({ name: 'trace__last_subscribe', arguments: {} }));
    await c.unsubscribeResource({ uri, _meta: meta });
    const received: Record<string, string> = {
      'prompts/get': (prompt.messages[0]?.content as { text: string }).text,
      'resources/read': (read.contents[0] as { text: string }).text,
      'completion/complete': completion.completion.values[0] ?? '',
      'resources/subscribe': subscribed,
    };
    for (const [method, sentOn] of Object.entries(received)) {
      const server = await until(`the ${method} span`, () =>
        receiver.spans().find((s) => s.kind === 2 && attr(s.attributes, 'mcp.method.name') === method),
      );
      assert.equal(server.traceId, PARENT_TRACE, `${method} continues the client trace`);
      assert.equal(server.parentSpanId, PARENT_SPAN, method);
      assert.match(String(attr(server.attributes, 'mcp.session.id')), /^[0-9a-f-]{36}$/, method);
      assert.equal(attr(server.attributes, 'gatehouse.client.name'), 'otel-kinds-client', method);
      const child = await until(`the downstream ${method} span`, () => receiver.spans().find((s) => s.kind === 3 && s.parentSpanId === server.spanId));
      assert.equal(attr(child.attributes, 'mcp.method.name'), method);
      assert.equal(attr(child.attributes, 'gatehouse.server'), 'trace');
      // The stdio child received the downstream span's own context in the request's `_meta`.
      assert.equal(sentOn, `00-${PARENT_TRACE}-${child.spanId}-01`, `${method}: the child got the CLIENT span's context`);
    }
    const promptSpan = receiver.spans().find((s) => s.kind === 2 && attr(s.attributes, 'mcp.method.name') === 'prompts/get');
    assert.equal(promptSpan?.name, 'prompts/get trace__trace');
    assert.equal(attr(promptSpan?.attributes, 'gen_ai.prompt.name'), 'trace__trace');
    assert.equal(attr(promptSpan?.attributes, 'gatehouse.status'), 'allowed');
    const readSpan = receiver.spans().find((s) => s.kind === 2 && attr(s.attributes, 'mcp.method.name') === 'resources/read');
    assert.equal(readSpan?.name, 'resources/read', 'no URI in the span name (cardinality)');
    assert.equal(attr(readSpan?.attributes, 'mcp.resource.uri'), uri);
    await until('the unsubscribe span', () => receiver.spans().find((s) => s.kind === 2 && attr(s.attributes, 'mcp.method.name') === 'resources/unsubscribe'));

  });

  test('a remote (Streamable HTTP) server gets the downstream span context as traceparent headers', async () => {
    const receiver = await OtlpReceiver.start();
    receivers.push(receiver);
    // A real remote MCP server (official SDK, stateless Streamable HTTP) that answers with the
    // traceparent header of the request that carried the call.
    const remote = createHttpServer((req, res) => {
      const server = new McpServer({ name: 'remote', version: '1.0.0' });
      server.registerTool('trace', { description: 'traceparent header', inputSchema: {}, annotations: { readOnlyHint: true } }, async (_a, extra) => ({
        content: [{ type: 'text', text: String(extra.requestInfo?.headers.traceparent ?? '') }],
      }));
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on('close', () => void transport.close());
      void server.connect(transport).then(() => transport.handleRequest(req, res));
    });
    await new Promise<void>((resolve) => remote.listen(0, '127.0.0.1', resolve));
    stoppers.push(
      () =>
        new Promise<void>((resolve) => {
          remote.close(() => resolve());
          remote.closeAllConnections();
        }),
    );
    const project = makeProject([]);
    writeFileSync(
      path.join(project.configDir, 'registry.yaml'),
      stringify({ version: '1', servers: [{ name: 'remote', url: `http://127.0.0.1:${(remote.address() as AddressInfo).port}/mcp` }] }),
    );
    const gw = await startHttpGateway(project.folder, otelEnv(receiver.endpoint, 'http/protobuf'));
    const c = await httpClient(gw.info);
    clients.push(c);
    await listedWith(c, 'remote__trace');
    const header = resultText(await c.callTool({ name: 'remote__trace', arguments: {}, _meta: { traceparent: `00-${PARENT_TRACE}-${PARENT_SPAN}-01` } }));
    const child = await until('the downstream span', () => receiver.spans().find((s) => s.kind === 3 && attr(s.attributes, 'gatehouse.server') === 'remote'));
    assert.equal(header, `00-${PARENT_TRACE}-${child.spanId}-01`);
  });

  test('policy.yaml gateway.telemetry configures export without variables; a header by reference; the variables win', async () => {
    const receiver = await OtlpReceiver.start();
    receivers.push(receiver);
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }], {
      autonomy_level: 'L1',
      gateway: {
        telemetry: {
          endpoint: receiver.endpoint,
          protocol: 'http/json',
          headers: { authorization: 'Bearer ${TEAM_OTEL_TOKEN}' },
          service_name: 'from-policy',
          resource_attributes: { team: 'platform' },
        },
      },
    });
    const gw = await startHttpGateway(project.folder, {
      TEAM_OTEL_TOKEN: SECRET,
      OTEL_SERVICE_NAME: 'from-env',
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_BLRP_SCHEDULE_DELAY: '50',
    });
    const c = await httpClient(gw.info);
    clients.push(c);
    assert.equal(resultText(await c.callTool({ name: 'echo__echo', arguments: { text: 'configured' } })), 'configured');
    await until('the call span', () => receiver.spans().find((s) => s.kind === 2 && attr(s.attributes, 'gen_ai.tool.name') === 'echo__echo'));
    assert.ok(receiver.requests.every((r) => r.headers.authorization === `Bearer ${SECRET}` && /json/.test(r.contentType)));
    assert.equal(attr(receiver.resource('/v1/traces'), 'service.name'), 'from-env', 'OTEL_SERVICE_NAME wins over service_name');
    assert.equal(attr(receiver.resource('/v1/traces'), 'team'), 'platform');
    assert.match(gw.stderr(), /telemetry: exporting traces → http:\/\/127\.0\.0\.1:\d+\/v1\/traces \(http\/json\).*\(from policy gateway\.telemetry\.endpoint/);
    assert.ok(!gw.stderr().includes(SECRET), 'the header value is never logged');
  });

  test('policy.yaml gateway.telemetry naming a variable that is not set: one warning naming it, the gateway serves on', async () => {
    const receiver = await OtlpReceiver.start();
    receivers.push(receiver);
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }], {
      autonomy_level: 'L1',
      gateway: { telemetry: { endpoint: receiver.endpoint, headers: { authorization: 'Bearer ${GATEHOUSE_TEST_UNSET_TOKEN}' } } },
    });
    const gw = await startHttpGateway(project.folder, {});
    const c = await httpClient(gw.info);
    clients.push(c);
    assert.equal(resultText(await c.callTool({ name: 'echo__echo', arguments: { text: 'on' } })), 'on');
    const warnings = gw.stderr().split('\n').filter((l) => l.includes('telemetry: off'));
    assert.equal(warnings.length, 1, gw.stderr());
    assert.match(warnings[0]!, /policy gateway\.telemetry\.headers\.authorization references \$\{GATEHOUSE_TEST_UNSET_TOKEN\}, which is not set/);
    assert.equal(receiver.requests.length, 0);
  });

  test('a malformed header variable: one warning, no export, the gateway serves on', async () => {
    const receiver = await OtlpReceiver.start();
    receivers.push(receiver);
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    const gw = await startHttpGateway(project.folder, {
      ...otelEnv(receiver.endpoint, 'http/protobuf'),
      OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer ${SECRET},${SECRET}`,
    });
    const c = await httpClient(gw.info);
    clients.push(c);
    assert.equal(resultText(await c.callTool({ name: 'echo__echo', arguments: { text: 'still here' } })), 'still here');
    const warnings = gw.stderr().split('\n').filter((l) => l.includes('telemetry: off'));
    assert.equal(warnings.length, 1, gw.stderr());
    assert.match(warnings[0]!, /OTEL_EXPORTER_OTLP_HEADERS: entry 2 is not key=value/);
    assert.ok(!gw.stderr().includes(SECRET), 'the header value is never logged');
    assert.equal(receiver.requests.length, 0);
  });

  test('a collector that answers 5xx, 4xx, closes connections or hangs: retries, then drops, counted; calls answer', async () => {
    // One misbehaving collector, one misbehaviour per signal: traces get 503 with Retry-After: 0
    // (retryable: the SDK tries again at once, 6 attempts in all); audit log records get 400
    // (not retryable) and a reset connection in turn; metrics never get an answer.
    const requests: Record<string, number> = {};
    const hanging = new Set<ServerResponse>();
    const collector = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const p = req.url ?? '';
        const n = (requests[p] = (requests[p] ?? 0) + 1);
        if (p === '/v1/traces') res.writeHead(503, { 'retry-after': '0' }).end();
        else if (p === '/v1/logs' && n % 2 === 1) res.writeHead(400, { 'content-type': 'application/x-protobuf' }).end();
        else if (p === '/v1/logs') req.socket.destroy();
        else hanging.add(res);
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    stoppers.push(
      () =>
        new Promise<void>((resolve) => {
          collector.close(() => resolve());
          collector.closeAllConnections();
        }),
    );
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }], { autonomy_level: 'L1', gateway: { state: { heartbeat_ms: 200 } } });
    const gw = await startHttpGateway(project.folder, {
      ...otelEnv(`http://127.0.0.1:${(collector.address() as AddressInfo).port}`, 'http/protobuf'),
      // A secret-looking resource attribute: exported, never logged.
      OTEL_RESOURCE_ATTRIBUTES: `deployment.token=${SECRET}`,
      OTEL_EXPORTER_OTLP_TIMEOUT: '500',
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '5000',
    });
    const c = await httpClient(gw.info);
    clients.push(c);
    for (let i = 0; i < 5; i++) assert.equal(resultText(await c.callTool({ name: 'echo__echo', arguments: { text: `r${i}` } })), `r${i}`);
    const t = await until(
      'every signal failed and was counted',
      async () => {
        const s = (await buildStatus(project.folder)).serve.telemetry;
        return s && s.spans.dropped >= 5 && s.spans.failed_exports >= 1 && s.logs.dropped >= 5 && s.logs.failed_exports >= 2 && s.metrics.failed_exports >= 1 ? s : undefined;
      },
      60_000,
      100,
    );
    assert.equal(t.spans.exported + t.logs.exported + t.metrics.exported, 0);
    // The 503s were retried within the SDK's limit: 1 + 5 attempts per failed span export.
    assert.ok((requests['/v1/traces'] ?? 0) >= 6 * t.spans.failed_exports, JSON.stringify({ requests, t }));
    assert.ok(hanging.size >= 1, 'the metrics export was left hanging');
    // Calls still answer while exports fail.
    assert.equal(resultText(await c.callTool({ name: 'echo__echo', arguments: { text: 'after' } })), 'after');
    assert.ok(!gw.stderr().includes(SECRET), 'neither the header nor the resource attribute is logged');
  });

  test('a dead collector: calls work and answer, the loss is counted', async () => {
    // A port that was free a moment ago: connections are refused.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    // A fast heartbeat so the state file (and `gatehouse status`) shows the counts soon.
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }], { autonomy_level: 'L1', gateway: { state: { heartbeat_ms: 200 } } });
    const gw = await startHttpGateway(project.folder, { ...otelEnv(`http://127.0.0.1:${port}`, 'http/protobuf'), OTEL_EXPORTER_OTLP_TIMEOUT: '500' });
    const c = await httpClient(gw.info);
    clients.push(c);
    for (let i = 0; i < 5; i++) {
      assert.equal(resultText(await c.callTool({ name: 'echo__echo', arguments: { text: `n${i}` } })), `n${i}`);
    }
    const telemetry = await until(
      'the lost spans and audit records counted in gatehouse status',
      async () => {
        const t = (await buildStatus(project.folder)).serve.telemetry;
        return t && t.spans.dropped >= 5 && t.logs.dropped >= 5 ? t : undefined;
      },
      30_000,
      100,
    );
    assert.equal(telemetry.spans.exported, 0);
    assert.ok(telemetry.spans.failed_exports >= 1);
    const cli = spawnCli(['status'], project.folder);
    await cli.exited;
    assert.match(cli.stdout(), /^Telemetry: spans 0 exported, \d+ dropped \(\d+ failed exports\); audit records 0 exported, \d+ dropped/m);
    assert.ok(!gw.stderr().includes(SECRET));
  });
});
