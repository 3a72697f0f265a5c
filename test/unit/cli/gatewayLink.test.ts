/**
 * The bridge's link to "the gateway of this folder": a call is never sent to a gateway whose
 * process is already gone. With the gateway SIGKILLed, the SDK learns of it only when its event
 * stream errors, which raced the next call: that call went out on the dead gateway's kept-alive
 * socket and came back as "went away during this call" (test/process/bridge.test.ts, flaky).
 * Here the endpoint stays up while the pid in gateway.json dies, so the old code deterministically
 * sent the call; the link must answer "no running gateway" without sending it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { GatewayLink } from '../../../extension/cli/gatewayLink';
import { NoGatewayError } from '../../../extension/cli/noGatewayError';
import { tempDir } from '../../helpers/fixtures';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('GatewayLink', () => {
  test("a call after the gateway's process died is not sent: 'no running gateway', whatever the socket's state", async () => {
    let calls = 0;
    const http = createServer((req, res) => {
      const server = new McpServer({ name: 'fake-gateway', version: '1' });
      server.registerTool('ping', { description: 'ping', inputSchema: {} }, async () => (calls++, { content: [{ type: 'text', text: 'pong' }] }));
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on('close', () => void transport.close());
      void server.connect(transport).then(() => transport.handleRequest(req, res));
    });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => (http.closeAllConnections(), http.close(() => resolve()))));

    // The "gateway" process named in gateway.json: alive, then SIGKILLed.
    const gateway = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore', windowsHide: true });
    cleanups.push(() => void gateway.kill('SIGKILL'));
    await once(gateway, 'spawn');
    const dir = tempDir('gatehouse-link-');
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
    writeFileSync(path.join(dir, 'gateway.json'), JSON.stringify({ url, token: 't'.repeat(43), pid: gateway.pid }));

    const link = new GatewayLink({ folder: dir, dir, version: '1', onToolsChanged: () => undefined, log: () => undefined });
    cleanups.push(() => link.close());
    const ping = () => link.request((c) => c.callTool({ name: 'ping', arguments: {} }) as Promise<CallToolResult>);
    assert.deepEqual((await ping()).content, [{ type: 'text', text: 'pong' }]);
    assert.equal(calls, 1);

    gateway.kill('SIGKILL');
    await once(gateway, 'exit');
    await assert.rejects(ping(), (err: unknown) => err instanceof NoGatewayError && /no running Gatehouse gateway found/.test(err.message));
    assert.equal(calls, 1, 'the call was not sent');
  });
});
