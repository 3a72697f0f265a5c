import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { tempDir } from '../helpers/fixtures';
import { makeProject } from '../helpers/gatewayProject';
import { httpClient, readState, startHttpGateway, stopAllCli } from '../helpers/gatewayProcess';
import { until } from '../helpers/poll';

/**
 * A real Prometheus (Debian's `prometheus` package, installed by .ci/install-e2e.sh) scraping a
 * running gateway. Skipped, saying so, where the binary is absent — but never in CI.
 */
const binary = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';
const present = spawnSync(binary, ['--version'], { stdio: 'ignore' }).status === 0;
const skip = !present && process.env.CI !== 'true' ? `no ${binary} (apt-get install prometheus, or run .ci/install-e2e.sh)` : false;

const clients: Client[] = [];
const stops: (() => Promise<void>)[] = [];
after(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  for (const stop of stops) await stop();
  await stopAllCli();
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function getJson(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch (err) {
          reject(err as Error);
        }
      });
    }).on('error', reject);
  });
}

describe('a real Prometheus scrapes /metrics', { skip }, () => {
  test('its query API returns the call counter', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    const gw = await startHttpGateway(project.folder, { GATEHOUSE_METRICS_PORT: '0' });
    const metricsPort = await until('metrics_port in the state file', () => readState(project.configDir)?.metrics_port);
    const c = await httpClient(gw.info);
    clients.push(c);
    for (const text of ['a', 'b', 'c']) await c.callTool({ name: 'echo__echo', arguments: { text } });

    // The repository's scrape config, pointed at this gateway and scraping every second.
    const dir = tempDir('gatehouse-prom-');
    const config = path.join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: gatehouse\n    metrics_path: /metrics\n    static_configs:\n      - targets: ['127.0.0.1:${metricsPort}']\n`,
    );
    const webPort = await freePort();
    const prom = spawn(binary, [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${webPort}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    prom.stderr.setEncoding('utf8').on('data', (d: string) => (log = (log + d).slice(-4000)));
    const exited = new Promise<void>((resolve) => prom.once('exit', () => resolve()));
    stops.push(async () => {
      if (prom.exitCode === null && prom.signalCode === null) prom.kill('SIGTERM');
      await exited;
    });

    const query = encodeURIComponent('gatehouse_downstream_calls_total{server="echo",job="gatehouse"}');
    const value = await until(
      'Prometheus has scraped the call counter',
      async () => {
        if (prom.exitCode !== null) throw new Error(`prometheus exited: ${log}`);
        const answer = (await getJson(`http://127.0.0.1:${webPort}/api/v1/query?query=${query}`).catch(() => undefined)) as
          | { status: string; data: { result: { value: [number, string] }[] } }
          | undefined;
        const v = answer?.status === 'success' ? answer.data.result[0]?.value[1] : undefined;
        return v === '3' ? v : undefined;
      },
      60_000,
      250,
    );
    assert.equal(value, '3');
    const up = (await getJson(`http://127.0.0.1:${webPort}/api/v1/query?query=${encodeURIComponent('up{job="gatehouse"}')}`)) as {
      data: { result: { value: [number, string] }[] };
    };
    assert.equal(up.data.result[0]?.value[1], '1', 'the target is up: loopback Host accepted');
  });
});
