import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { UpstreamStdioTransport } from '../../../../extension/gateway/stdio/upstreamStdioTransport';
import { until } from '../../../helpers/poll';

/** A transport on fresh pipes, recording what it reports. */
function harness(maxLineBytes?: number) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const transport = new UpstreamStdioTransport(stdin, stdout, maxLineBytes);
  const messages: JSONRPCMessage[] = [];
  const errors: Error[] = [];
  let closes = 0;
  transport.onmessage = (m) => messages.push(m);
  transport.onerror = (e) => errors.push(e);
  transport.onclose = () => closes++;
  return { stdin, stdout, transport, messages, errors, closes: () => closes };
}

const ping = (id: number) => `{"jsonrpc":"2.0","id":${id},"method":"ping"}`;

describe('UpstreamStdioTransport', () => {
  it('frames a message split across chunks, even inside a UTF-8 character', async () => {
    const h = harness();
    await h.transport.start();
    const line = Buffer.from('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a__b","arguments":{"text":"grüße €"}}}\n');
    const cut = line.indexOf(0xc3) + 1; // between the two bytes of ü
    h.stdin.write(line.subarray(0, 5));
    h.stdin.write(line.subarray(5, cut));
    h.stdin.write(line.subarray(cut, line.length - 1));
    await new Promise((r) => setImmediate(r));
    assert.equal(h.messages.length, 0, 'nothing before the newline');
    h.stdin.write(line.subarray(line.length - 1));
    await until('the message', () => h.messages.length === 1);
    assert.deepEqual(h.messages[0], JSON.parse(line.toString('utf8')));
    assert.deepEqual(h.errors, []);
  });

  it('reads several messages from one chunk, in order, and a CRLF ending', async () => {
    const h = harness();
    await h.transport.start();
    h.stdin.write(`${ping(1)}\n${ping(2)}\r\n\n${ping(3)}\n${ping(4).slice(0, 10)}`);
    await until('three messages', () => h.messages.length === 3);
    h.stdin.write(`${ping(4).slice(10)}\n`);
    await until('the fourth', () => h.messages.length === 4);
    assert.deepEqual(
      h.messages.map((m) => (m as { id: number }).id),
      [1, 2, 3, 4],
    );
    assert.deepEqual(h.errors, []);
  });

  it('reports a line that is not JSON-RPC and reads the next one', async () => {
    const h = harness();
    await h.transport.start();
    h.stdin.write(`{"jsonrpc":"2.0",\nhello\n{"jsonrpc":"2.0","id":1}\n${ping(5)}\n`);
    await until('the valid message', () => h.messages.length === 1);
    assert.equal((h.messages[0] as { id: number }).id, 5);
    assert.equal(h.errors.length, 3);
    assert.equal(h.closes(), 0, 'a bad line does not close the transport');
  });

  it('drops a line over the limit up to its newline and reads the next one', async () => {
    const h = harness(1024);
    await h.transport.start();
    const big = `{"jsonrpc":"2.0","id":9,"method":"ping","params":{"pad":"${'x'.repeat(3000)}"}}`;
    for (let i = 0; i < big.length; i += 500) h.stdin.write(big.slice(i, i + 500));
    h.stdin.write(`\n${ping(6)}\n`);
    await until('the next message', () => h.messages.length === 1);
    assert.equal((h.messages[0] as { id: number }).id, 6);
    assert.equal(h.errors.length, 1);
    assert.match(h.errors[0]!.message, /exceeds 1024 bytes/);
    assert.equal(h.closes(), 0);
  });

  it('writes one line per message and waits for drain when the pipe is full', async () => {
    const written: string[] = [];
    let release: (() => void) | undefined;
    const stdout = new Writable({
      highWaterMark: 16,
      write(chunk: Buffer, _enc, callback) {
        written.push(chunk.toString('utf8'));
        release = callback;
      },
    });
    const transport = new UpstreamStdioTransport(new PassThrough(), stdout);
    await transport.start();
    let sent = 0;
    const first = transport.send({ jsonrpc: '2.0', id: 1, result: { content: [] } }).then(() => sent++);
    const second = transport.send({ jsonrpc: '2.0', id: 2, result: {} }).then(() => sent++);
    await new Promise((r) => setImmediate(r));
    assert.equal(sent, 0, 'sends wait while the pipe is full');
    assert.deepEqual(written, ['{"jsonrpc":"2.0","id":1,"result":{"content":[]}}\n']);
    while (written.length < 2 || release) {
      const r = release;
      release = undefined;
      r?.();
      await new Promise((res) => setImmediate(res));
    }
    await Promise.all([first, second]);
    assert.equal(sent, 2);
    assert.deepEqual(written, ['{"jsonrpc":"2.0","id":1,"result":{"content":[]}}\n', '{"jsonrpc":"2.0","id":2,"result":{}}\n']);
  });

  it('closes once when stdout fails (EPIPE), and later sends reject', async () => {
    const h = harness();
    await h.transport.start();
    const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    h.stdout.emit('error', epipe);
    h.stdout.emit('error', epipe); // a second failed write: no second close, no uncaught error
    assert.equal(h.closes(), 1);
    assert.deepEqual(h.errors, [epipe]);
    await assert.rejects(h.transport.send({ jsonrpc: '2.0', id: 1, result: {} }), /Not connected/);
    h.stdin.write(`${ping(1)}\n`);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(h.messages, [], 'nothing is read after the close');
    await h.transport.close();
    assert.equal(h.closes(), 1);
  });

  it("serves the SDK's Server: a call and a call with a progress token are answered", async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const server = new Server({ name: 't', version: '1' }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [] }));
    server.setRequestHandler(CallToolRequestSchema, (req) => ({
      content: [{ type: 'text', text: `${req.params.name}:${String(req.params._meta?.progressToken ?? '-')}` }],
    }));
    await server.connect(new UpstreamStdioTransport(stdin, stdout));
    let out = '';
    stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    stdin.write(
      `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } } })}\n`,
    );
    stdin.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
    stdin.write('{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"a","arguments":{}}}\n');
    stdin.write('{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"b","_meta":{"progressToken":"p"}}}\n');
    await until('three answers', () => out.split('\n').length > 3);
    const answers = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: number; result: { content?: { text: string }[] } });
    assert.deepEqual(
      answers.map((a) => a.id),
      [1, 2, 3],
    );
    assert.equal(answers[1]!.result.content![0]!.text, 'a:-');
    assert.equal(answers[2]!.result.content![0]!.text, 'b:p');
    await server.close();
  });
});
