/**
 * CPU time the HTTP listener (with its SDK `Server`) spends per tools/call, alone: an
 * `HttpListener` in this process over a gateway without governance whose downstream answers at
 * once, driven by a raw keep-alive HTTP/1.1 client in a worker thread that sends what the SDK's
 * client sends (its headers included) one call after another. Only the main thread's CPU is
 * counted (from /proc), so neither the client nor a child nor the chain is in the figure, and
 * the sequential latency is the server's own. Linux only.
 *
 * `node --import tsx bench/tools/httpListenerCpu.ts [calls] [runs]` (default 20000 3);
 * `--cpu-prof` on the node command line profiles it.
 */
import { Worker } from 'node:worker_threads';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { Emitter } from '../../extension/common/event';
import { nullLogger } from '../../extension/common/logger';
import { HttpListener } from '../../extension/gateway/httpListener';
import type { AggregatedTool, DownstreamDirectory } from '../../extension/pool/types';
import { bareGateway } from '../../test/helpers/bareGateway';
import { cpuMs } from '../lib/procCpu';

const calls = Number(process.argv[2] ?? 20000);
const runs = Number(process.argv[3] ?? 3);
const TOKEN = 'k'.repeat(43);

const echo: AggregatedTool = { name: 'echo__echo', server: 'echo', originalName: 'echo', inputSchema: { type: 'object' } };
const dir: DownstreamDirectory = {
  onDidChangeTools: new Emitter<void>().event,
  listTools: () => [echo],
  describeTool: (name) => (name === echo.name ? echo : undefined),
  serverNames: () => ['echo'],
  callTool: async (_server, _tool, args): Promise<CallToolResult> => ({ content: [{ type: 'text', text: String(args.text) }] }),
  snapshot: () => [],
};

/**
 * The client, as plain JS for the worker: one socket, requests written whole (as undici writes
 * them), answers framed by Content-Length. Posts `{ latencies, failures }` per run.
 */
const CLIENT = `
const net = require('node:net');
const { parentPort, workerData } = require('node:worker_threads');
const { port, token, calls } = workerData;
const socket = net.connect(port, '127.0.0.1');
socket.setNoDelay(true);
let buffered = Buffer.alloc(0);
let waiting;
socket.on('data', (d) => {
  buffered = Buffer.concat([buffered, d]);
  const end = buffered.indexOf('\\r\\n\\r\\n');
  if (end === -1) return;
  const head = buffered.subarray(0, end).toString('latin1');
  // A body-less answer (202) comes chunked: its body is the last chunk alone.
  const length = /transfer-encoding: *chunked/i.test(head) ? 5 : Number(/content-length: *(\\d+)/i.exec(head)?.[1] ?? 0);
  if (buffered.length < end + 4 + length) return;
  const body = buffered.subarray(end + 4, end + 4 + length).toString('utf8');
  buffered = buffered.subarray(end + 4 + length);
  const w = waiting; waiting = undefined; w({ head, body });
});
let session = '';
function post(message) {
  const body = JSON.stringify(message);
  const headers = ['POST /mcp HTTP/1.1', 'host: 127.0.0.1:' + port, 'connection: keep-alive', 'content-type: application/json',
    'accept: application/json, text/event-stream', 'authorization: Bearer ' + token, 'mcp-protocol-version: 2025-11-25',
    ...(session ? ['mcp-session-id: ' + session] : []), 'accept-language: *', 'sec-fetch-mode: cors', 'user-agent: node',
    'accept-encoding: gzip, deflate', 'content-length: ' + Buffer.byteLength(body)];
  return new Promise((resolve) => { waiting = resolve; socket.write(headers.join('\\r\\n') + '\\r\\n\\r\\n' + body); });
}
async function main() {
  const init = await post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
  session = /mcp-session-id: *([^\\r\\n]+)/i.exec(init.head)[1];
  await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
  let id = 1;
  parentPort.on('message', async () => {
    const latencies = [];
    let failures = 0;
    for (let i = 0; i < calls; i++) {
      const text = 'call ' + i;
      const t = performance.now();
      const { body } = await post({ jsonrpc: '2.0', id: id++, method: 'tools/call', params: { name: 'echo__echo', arguments: { text } } });
      latencies.push(performance.now() - t);
      if (!body.includes(text)) failures++;
    }
    parentPort.postMessage({ latencies, failures });
  });
  parentPort.postMessage('ready');
}
main();
`;

async function main(): Promise<void> {
  const gateway = bareGateway(dir);
  const listener = new HttpListener(gateway, { token: TOKEN, logger: nullLogger });
  const { port } = await listener.start();
  const worker = new Worker(CLIENT, { eval: true, workerData: { port, token: TOKEN, calls } });
  const next = (): Promise<unknown> => new Promise((resolve) => worker.once('message', resolve));
  await next();
  // The first run warms up (JIT), the others are reported.
  for (let run = 0; run <= runs; run++) {
    const before = cpuMs(process.pid, `/task/${process.pid}`);
    worker.postMessage('run');
    const { latencies, failures } = (await next()) as { latencies: number[]; failures: number };
    const used = cpuMs(process.pid, `/task/${process.pid}`) - before;
    if (run === 0) continue;
    const p50 = [...latencies].sort((a, b) => a - b)[Math.floor(latencies.length / 2)]!;
    console.log(`run ${run}: ${((used * 1000) / calls).toFixed(1)} µs main-thread CPU/call, sequential p50 ${(p50 * 1000).toFixed(0)} µs, failures ${failures}`);
  }
  await worker.terminate();
  await listener.stop();
  gateway.dispose();
}

void main();
