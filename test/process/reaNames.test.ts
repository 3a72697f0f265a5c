/**
 * Issue 13.15: the names rea users type keep working (SPEC Appendix C and E): the
 * `__rea__health` tool, `REA_METRICS_PORT` and `REA_LOG_LEVEL`.
 */
import assert from 'node:assert/strict';
import { renameSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { makeProject } from '../helpers/gatewayProject';
import { listedWith, readState, resultText, startHttpGateway, stdioClient, stopAllCli, type StdioSession } from '../helpers/gatewayProcess';
import { until } from '../helpers/poll';

const sessions: StdioSession[] = [];
after(async () => {
  await Promise.all(sessions.map((s) => s.client.close().catch(() => undefined)));
  await stopAllCli();
});

/** The parts of rea's health snapshot (SPEC §9.1) the tests read. */
interface ReaHealth {
  gateway: { version: unknown; uptime_s: unknown; halt: unknown; halt_reason: unknown };
  policy: unknown;
  downstreams: Array<Record<string, unknown>>;
  summary: { registered: number; healthy: number; total_tools: number };
}

async function health(client: Client, name: string): Promise<ReaHealth> {
  const result = await client.callTool({ name, arguments: {} });
  assert.notEqual(result.isError, true, resultText(result));
  return JSON.parse(resultText(result)) as ReaHealth;
}

/** An `[gatehouse] <time> info …` line of the CLI's logger. */
const INFO_LINE = /^\[gatehouse\] \S+ info /m;

describe("rea's names", () => {
  test('__rea__health: listed in a .rea/ folder and answered in rea\'s shape, like gatehouse__health', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }], { autonomy_level: 'L2', block_ai_attribution: true, blocked_paths: ['secrets/'] });
    renameSync(project.configDir, path.join(project.folder, '.rea'));
    const s = await stdioClient(project.folder);
    sessions.push(s);
    const tools = await listedWith(s.client, 'echo__echo');
    assert.deepEqual(tools.slice(0, 2).map((t) => t.name), ['gatehouse__health', '__rea__health']);

    const rea = await health(s.client, '__rea__health');
    // rea's snapshot (SPEC §9.1): gateway, policy, downstreams, summary.
    assert.equal(typeof rea.gateway.version, 'string');
    assert.equal(typeof rea.gateway.uptime_s, 'number');
    assert.equal(rea.gateway.halt, false);
    assert.equal(rea.gateway.halt_reason, null);
    assert.deepEqual(rea.policy, {
      profile: null,
      autonomy_level: 'L2',
      max_autonomy_level: null,
      block_ai_attribution: true,
      blocked_paths_count: 1,
    });
    const echo = rea.downstreams.find((d) => d.name === 'echo');
    assert.deepEqual(
      { enabled: echo?.enabled, connected: echo?.connected, healthy: echo?.healthy, last_error: echo?.last_error },
      { enabled: true, connected: true, healthy: true, last_error: null },
    );
    assert.equal(echo?.tools_count, rea.summary.total_tools);
    assert.equal(rea.summary.registered, 1);
    assert.equal(rea.summary.healthy, 1);

    const ours = await health(s.client, 'gatehouse__health');
    assert.deepEqual(Object.keys(ours).sort(), Object.keys(rea).sort(), 'one answer under two names');
  });

  test('__rea__health answers in a .gatehouse/ folder too, without cluttering the list', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    const s = await stdioClient(project.folder);
    sessions.push(s);
    const tools = await listedWith(s.client, 'echo__echo');
    assert.ok(!tools.some((t) => t.name === '__rea__health'));
    const rea = await health(s.client, '__rea__health');
    assert.equal(rea.summary.registered, 1);
  });

  test('REA_METRICS_PORT opens /metrics like GATEHOUSE_METRICS_PORT', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    const gw = await startHttpGateway(project.folder, { REA_METRICS_PORT: '0' });
    const port = await until('metrics_port in the state file', () => readState(project.configDir)?.metrics_port);
    assert.ok(port > 0);
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /# TYPE gatehouse_downstream_calls_total counter/);
    assert.match(gw.stderr(), /metrics on http:\/\/127\.0\.0\.1:/);
  });

  test('REA_LOG_LEVEL sets the level (case-insensitive, as rea); GATEHOUSE_LOG_LEVEL wins', async () => {
    const serveAndStop = async (env: NodeJS.ProcessEnv): Promise<string> => {
      const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
      const s = await stdioClient(project.folder, env);
      await listedWith(s.client, 'echo__echo');
      await s.client.close();
      return s.stderr();
    };
    assert.match(await serveAndStop({}), INFO_LINE, 'the default level logs info lines');
    assert.doesNotMatch(await serveAndStop({ REA_LOG_LEVEL: 'ERROR' }), INFO_LINE);
    assert.match(await serveAndStop({ REA_LOG_LEVEL: 'error', GATEHOUSE_LOG_LEVEL: 'info' }), INFO_LINE);
    const bogus = await serveAndStop({ REA_LOG_LEVEL: 'loud' });
    assert.match(bogus, /ignoring REA_LOG_LEVEL='loud'/);
    assert.doesNotMatch(bogus, /^\[gatehouse\] \S+ trace /m, 'an unknown level is info, not everything');
  });
});
