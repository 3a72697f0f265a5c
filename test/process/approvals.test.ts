/**
 * Approvals (policy `approval:`) end to end: the built CLI (`gatehouse serve` over stdio) with
 * the official SDK client as upstream, with and without elicitation, and the echo fixture as
 * the child, whose `write` tool appends one line per execution to $COUNT_FILE. Every test reads
 * the child's own count (never the gateway's word) and the audit record of the call.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { ensureCliBuilt } from '../helpers/cli';
import { tempDir } from '../helpers/fixtures';
import { makeProject } from '../helpers/gatewayProject';
import type { StatusReport } from '../../extension/cli/status';
import { cliEnv, listedWith, readState, resultText, spawnCli, startHttpGateway, stopAllCli } from '../helpers/gatewayProcess';
import { until } from '../helpers/poll';

const clients: Client[] = [];
after(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await stopAllCli();
});

type Answer = (message: string) => Promise<ElicitResult>;

function project(timeoutS: number) {
  const countFile = path.join(tempDir('gatehouse-approve-'), 'count');
  const p = makeProject([{ name: 'echo', fixture: 'echo.mjs', env: { COUNT_FILE: countFile } }], {
    autonomy_level: 'L1',
    approval: { tools: ['echo__write'], timeout_s: timeoutS },
  });
  return { ...p, countFile, executions: () => (existsSync(countFile) ? readFileSync(countFile, 'utf8').split('\n').filter(Boolean) : []) };
}

/** `gatehouse serve` over stdio with an SDK client; `answer` set: it declares elicitation and answers with it. */
async function serve(folder: string, answer?: Answer): Promise<Client> {
  const client = new Client({ name: 'approval-test', version: '1' }, { capabilities: answer ? { elicitation: { form: {} } } : {} });
  if (answer) client.setRequestHandler(ElicitRequestSchema, async (req) => answer(req.params.message));
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [ensureCliBuilt(), 'serve'], cwd: folder, env: cliEnv() as Record<string, string>, stderr: 'pipe' }));
  clients.push(client);
  await listedWith(client, 'echo__write');
  return client;
}

type Record_ = { tool_name: string; status: string; metadata?: { reason_code?: string; approval?: { decision: string; answered_by: string; wait_ms: number; asked?: string } } };

function audited(configDir: string, id: string): Promise<Record_> {
  // One record per call, group-committed: wait for it. The call is found by its own order.
  return until(`audit record of ${id}`, () => {
    try {
      const records = readFileSync(path.join(configDir, 'audit.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record_);
      return records.filter((r) => r.tool_name === 'write').at(-1);
    } catch {
      return undefined;
    }
  }, 20_000);
}

const call = (client: Client, id: string) => client.callTool({ name: 'echo__write', arguments: { id } }, undefined, { timeout: 120_000 });

describe('approvals through gatehouse serve', () => {
  test('accepted by elicitation: the message names echo__write, the call runs once, the audit says the client approved', async () => {
    const p = project(60);
    const messages: string[] = [];
    const client = await serve(p.folder, async (m) => (messages.push(m), { action: 'accept' }));
    const result = await call(client, 'a1');
    assert.equal(resultText(result), 'wrote a1');
    assert.deepEqual(p.executions(), ['a1'], 'the child saw the call exactly once');
    assert.equal(messages.length, 1);
    assert.match(messages[0]!, /echo__write/);
    assert.match(messages[0]!, /"id":"a1"/);
    const record = await audited(p.configDir, 'a1');
    assert.equal(record.status, 'allowed');
    assert.equal(record.metadata?.approval?.decision, 'allowed');
    assert.equal(record.metadata?.approval?.answered_by, 'client_elicitation');
    assert.equal(typeof record.metadata?.approval?.wait_ms, 'number');
    // A tool no rule names is not asked about.
    assert.equal(resultText(await client.callTool({ name: 'echo__echo', arguments: { text: 'hi' } })), 'hi');
    assert.equal(messages.length, 1);
  });

  test('declined by elicitation: never reaches the child; denied, and the audit says the client declined', async () => {
    const p = project(60);
    const client = await serve(p.folder, async () => ({ action: 'decline' }));
    const result = await call(client, 'd1');
    assert.equal(result.isError, true);
    assert.match(resultText(result), /did not approve 'echo__write'.*approval: in policy\.yaml/);
    const record = await audited(p.configDir, 'd1');
    assert.equal(record.status, 'denied');
    assert.equal(record.metadata?.reason_code, 'approval_denied');
    assert.deepEqual([record.metadata?.approval?.decision, record.metadata?.approval?.answered_by], ['denied', 'client_elicitation']);
    assert.deepEqual(p.executions(), []);
  });

  test('no answer in time: denied as a timeout, never reaches the child', async () => {
    const p = project(2);
    const client = await serve(p.folder, () => new Promise<ElicitResult>(() => undefined));
    const result = await call(client, 't1');
    assert.equal(result.isError, true);
    assert.match(resultText(result), /No answer to the approval of 'echo__write' within 2 s/);
    const record = await audited(p.configDir, 't1');
    assert.equal(record.metadata?.reason_code, 'approval_timeout');
    assert.equal(record.metadata?.approval?.answered_by, 'timeout');
    assert.ok((record.metadata?.approval?.wait_ms ?? 0) >= 2000);
    assert.deepEqual(p.executions(), []);
  });

  test('a client without elicitation: denied at once with the reason (approval required, no one to ask, how to change it)', async () => {
    const p = project(60);
    const client = await serve(p.folder);
    const result = await call(client, 'n1');
    assert.equal(result.isError, true);
    assert.match(resultText(result), /'echo__write' requires approval, but no one could be asked.*edit approval: in policy\.yaml/);
    const record = await audited(p.configDir, 'n1');
    assert.equal(record.metadata?.reason_code, 'approval_unavailable');
    assert.equal(record.metadata?.approval?.answered_by, 'no_approver');
    assert.deepEqual(p.executions(), []);
  });

  test('HALT cancels a waiting approval: denied, never reaches the child, audited as halt', async () => {
    const p = project(600);
    let asked = 0;
    const client = await serve(p.folder, () => (asked++, new Promise<ElicitResult>(() => undefined)));
    const pending = call(client, 'h1');
    await until('the client is asked', () => asked === 1, 20_000);
    // The waiting approval reaches serve.state.json (our block) and `gatehouse status`.
    await until('the approval in the state file', () => readState(p.configDir)?.gatehouse?.approvals_waiting?.length === 1, 20_000);
    const statusJson = spawnCli(['status', '--json'], p.folder);
    await statusJson.exited;
    const waiting = (JSON.parse(statusJson.stdout()) as StatusReport).serve.approvals_waiting;
    assert.deepEqual(waiting.map((w) => [w.server, w.tool, w.tier, w.asked, w.arguments]), [['echo', 'write', 'write', 'client_elicitation', '{"id":"h1"}']]);
    const statusText = spawnCli(['status'], p.folder);
    await statusText.exited;
    assert.match(statusText.stdout(), /Approvals waiting: 1\n {2}echo__write \(write\) from approval-test: asked the client \(elicitation\)/);
    // As `gatehouse freeze` from another terminal would: the file, not the service's method.
    writeFileSync(path.join(p.configDir, 'HALT'), 'incident\n');
    const result = await pending;
    assert.equal(result.isError, true);
    assert.match(resultText(result), /kill switch \(HALT\) was engaged while it waited/);
    const record = await audited(p.configDir, 'h1');
    assert.equal(record.metadata?.reason_code, 'approval_halted');
    assert.equal(record.metadata?.approval?.answered_by, 'halt');
    assert.deepEqual(p.executions(), []);
    await until('the state file shows none waiting', () => readState(p.configDir)?.gatehouse?.approvals_waiting?.length === 0, 20_000);
  });

  test('over HTTP (JSON responses): the elicitation reaches the client on its GET stream; accepted, the call runs once', async () => {
    const p = project(60);
    const gw = await startHttpGateway(p.folder);
    const client = new Client({ name: 'approval-http', version: '1' }, { capabilities: { elicitation: { form: {} } } });
    let asked = 0;
    client.setRequestHandler(ElicitRequestSchema, async () => (asked++, { action: 'accept' }));
    await client.connect(new StreamableHTTPClientTransport(new URL(gw.info.url), { requestInit: { headers: { Authorization: `Bearer ${gw.info.token}` } } }));
    clients.push(client);
    await listedWith(client, 'echo__write');
    // The SDK client opens its GET stream right after initialize, beside its first requests; the
    // gateway waits briefly for it, so the first call is asked about (no retry here).
    const result = await call(client, 'w1');
    assert.equal(resultText(result), 'wrote w1');
    assert.deepEqual(p.executions(), ['w1']);
    assert.equal(asked, 1);
  });
  // The gateway answers POSTs with JSON, so over HTTP only the client's event stream (GET) can
  // carry the elicitation; a client that declares elicitation but never opens one cannot be asked.
  // Denied after the short wait for a stream, not after approval.timeout_s (600 s here: the
  // test's own timeout would catch that).
  test('over HTTP without an event stream, elicitation declared: denied at once as approval_unavailable, never asked', { timeout: 120_000 }, async () => {
    const p = project(600);
    const gw = await startHttpGateway(p.folder);
    let gets = 0;
    // As a client (or proxy) that never opens the stream: 405 is what the SDK takes for "none".
    const fetcher = async (url: string | URL, init?: RequestInit): Promise<Response> =>
      init?.method === 'GET' ? (gets++, new Response(null, { status: 405 })) : fetch(url, init);
    const client = new Client({ name: 'approval-blind', version: '1' }, { capabilities: { elicitation: { form: {} } } });
    let asked = 0;
    client.setRequestHandler(ElicitRequestSchema, async () => (asked++, { action: 'accept' }));
    await client.connect(new StreamableHTTPClientTransport(new URL(gw.info.url), { fetch: fetcher, requestInit: { headers: { Authorization: `Bearer ${gw.info.token}` } } }));
    clients.push(client);
    await listedWith(client, 'echo__write');
    await until('the client tried its event stream', () => gets > 0, 20_000);
    const result = await call(client, 'b1');
    assert.equal(result.isError, true);
    assert.match(resultText(result), /'echo__write' requires approval, but no one could be asked.*no event stream \(GET \/mcp\)/);
    const record = await audited(p.configDir, 'b1');
    assert.equal(record.metadata?.reason_code, 'approval_unavailable');
    assert.equal(record.metadata?.approval?.answered_by, 'no_approver');
    assert.equal(asked, 0);
    assert.deepEqual(p.executions(), []);
  });
});
