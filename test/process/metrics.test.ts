import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { after, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { makeProject } from '../helpers/gatewayProject';
import { httpClient, readState, resultText, spawnCli, startHttpGateway, stopAllCli } from '../helpers/gatewayProcess';
import { until } from '../helpers/poll';

const clients: Client[] = [];
after(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await stopAllCli();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path = '/metrics', method = 'GET', host = `127.0.0.1:${port}`): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The value of one series in Prometheus text, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('opt-in Prometheus /metrics', () => {
  test('per-server calls, errors, latency, in-flight, circuit state and restarts', async () => {
    const project = makeProject([
      { name: 'echo', fixture: 'echo.mjs' },
      // Times out on purpose: five failures open its circuit.
      { name: 'slowpoke', fixture: 'echo.mjs', timeouts: { call_ms: 300 } },
    ]);
    const gw = await startHttpGateway(project.folder, { GATEHOUSE_METRICS_PORT: '0' });
    const port = await until('metrics_port in the state file', () => readState(project.configDir)?.metrics_port);
    assert.ok(port > 0);
    assert.match(gw.stderr(), new RegExp(`metrics on http://127\\.0\\.0\\.1:${port}/metrics`));
    const c = await httpClient(gw.info);
    clients.push(c);
    const scrape = async () => {
      const r = await get(port);
      assert.equal(r.status, 200);
      return r.body;
    };

    const first = await get(port);
    assert.equal(first.status, 200);
    assert.match(String(first.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.match(first.body, /# HELP gatehouse_downstream_calls_total /);
    assert.match(first.body, /# TYPE gatehouse_call_duration_seconds histogram/);

    for (const text of ['a', 'b', 'c']) await c.callTool({ name: 'echo__echo', arguments: { text } });
    await c.callTool({ name: 'echo__fail', arguments: {} }); // isError: a successful call for the counters
    await c.callTool({ name: 'ghost__echo', arguments: {} }); // refused before the chain: no series
    await until('calls counted', async () => sample(await scrape(), 'gatehouse_downstream_calls_total{server="echo"}') === 4);
    let text = await scrape();
    assert.equal(sample(text, 'gatehouse_downstream_errors_total{server="echo"}'), 0);
    assert.equal(sample(text, 'gatehouse_circuit_breaker_state{server="echo"}'), 0);
    assert.equal(sample(text, 'gatehouse_downstream_up{server="echo"}'), 1);
    assert.equal(sample(text, 'gatehouse_downstream_tools{server="echo"}'), 6);
    assert.equal(sample(text, 'gatehouse_call_duration_seconds_count{server="echo",outcome="allowed"}'), 4);
    assert.ok((sample(text, 'gatehouse_call_duration_seconds_sum{server="echo",outcome="allowed"}') ?? -1) > 0);
    assert.equal(sample(text, 'gatehouse_call_duration_seconds_bucket{le="+Inf",server="echo",outcome="allowed"}'), 4);
    assert.doesNotMatch(text, /ghost/, 'unknown names create no series');

    // In flight while a call runs.
    const sleeping = c.callTool({ name: 'echo__sleep', arguments: { ms: 3000 } });
    await until('in-flight gauge at 1', async () => sample(await scrape(), 'gatehouse_downstream_in_flight{server="echo"}') === 1);
    await sleeping;
    await until('in-flight gauge back to 0', async () => sample(await scrape(), 'gatehouse_downstream_in_flight{server="echo"}') === 0);

    // Five timeouts open slowpoke's circuit.
    for (let i = 0; i < 5; i++) {
      const r = await c.callTool({ name: 'slowpoke__sleep', arguments: { ms: 3000 } });
      assert.equal(r.isError, true);
    }
    text = await until('circuit open', async () => {
      const t = await scrape();
      return sample(t, 'gatehouse_circuit_breaker_state{server="slowpoke"}') === 2 ? t : undefined;
    });
    assert.equal(sample(text, 'gatehouse_downstream_errors_total{server="slowpoke"}'), 5);
    assert.equal(sample(text, 'gatehouse_downstream_calls_total{server="slowpoke"}'), 5);
    assert.equal(sample(text, 'gatehouse_call_duration_seconds_count{server="slowpoke",outcome="error"}'), 5);
    const refused = await c.callTool({ name: 'slowpoke__echo', arguments: { text: 'x' } });
    assert.match(resultText(refused), /[Cc]ircuit/);
    await until('the refusal is a denied outcome', async () =>
      sample(await scrape(), 'gatehouse_call_duration_seconds_count{server="slowpoke",outcome="denied"}') === 1,
    );

    // A killed child is respawned: restarts go up.
    const pid = Number(resultText(await c.callTool({ name: 'echo__pid', arguments: {} })));
    process.kill(pid, 'SIGKILL');
    await until('restart counted', async () => sample(await scrape(), 'gatehouse_downstream_restarts_total{server="echo"}') === 1, 15_000);

    // gatehouse status points at the endpoint.
    const status = spawnCli(['status'], project.folder);
    await status.exited;
    assert.match(status.stdout(), new RegExp(`Metrics: http://127\\.0\\.0\\.1:${port}/metrics`));
  });

  test('GET /metrics only, loopback Host only, nothing echoed', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    await startHttpGateway(project.folder, { GATEHOUSE_METRICS_PORT: '0' });
    const port = await until('metrics_port', () => readState(project.configDir)?.metrics_port);
    const post = await get(port, '/metrics', 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET');
    const other = await get(port, '/<script>alert(1)</script>');
    assert.equal(other.status, 404);
    assert.equal(other.body, 'not found\n');
    assert.equal((await get(port, '/metrics?x=1')).status, 200, 'the query is ignored');
    assert.equal((await get(port, '/metrics', 'GET', `localhost:${port}`)).status, 200);
    assert.equal((await get(port, '/metrics', 'GET', `evil.example:${port}`)).status, 403, 'DNS rebinding refused');
  });

  test('off by default; a taken port or a bad value is reported and the gateway still serves', async () => {
    const plain = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    const gw = await startHttpGateway(plain.folder);
    await until('state file', () => readState(plain.configDir));
    assert.equal(readState(plain.configDir)?.metrics_port, null);
    assert.doesNotMatch(gw.stderr(), /metrics on/);

    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
      const busy = await startHttpGateway(project.folder, { GATEHOUSE_METRICS_PORT: String(taken) });
      await until('bind failure logged', () => /metrics: could not listen on 127\.0\.0\.1:\d+/.test(busy.stderr()));
      const c = await httpClient(busy.info);
      clients.push(c);
      assert.equal(resultText(await c.callTool({ name: 'echo__echo', arguments: { text: 'still serving' } })), 'still serving');
      assert.equal(readState(project.configDir)?.metrics_port, null);
    } finally {
      blocker.close();
    }

    const bad = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    const badGw = await startHttpGateway(bad.folder, { GATEHOUSE_METRICS_PORT: 'lots' });
    assert.match(badGw.stderr(), /ignoring GATEHOUSE_METRICS_PORT/);
  });
});
