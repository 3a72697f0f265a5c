import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { spawn } from 'node:child_process';
import { LARGE_MESSAGE_CHARS, UpstreamStdioTransport } from '../../../../extension/gateway/stdio/upstreamStdioTransport';
import { rawResults } from '../../../../extension/platform/rawResults';
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

  it('writes large messages as bytes from a buffer reused only after its write completed, over a real pipe', async () => {
    // A child that copies its stdin to its stdout: the transport writes into a real pipe (a socket).
    const child = spawn(process.execPath, ['-e', 'process.stdin.pipe(process.stdout)'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (out += d));
    const stdin = new PassThrough();
    const pipe = child.stdin;
    const chunks: unknown[] = [];
    const write = pipe.write.bind(pipe) as (...args: unknown[]) => boolean;
    (pipe as unknown as { write: (...args: unknown[]) => boolean }).write = (chunk: unknown, ...rest: unknown[]) => {
      chunks.push(chunk);
      return write(chunk, ...rest);
    };
    const transport = new UpstreamStdioTransport(stdin, pipe);
    await transport.start();
    try {
      const texts = ['x', 'é€😀 grüße', '\ud800 lone surrogate \n "quoted"', 'ascii only'];
      const messages: JSONRPCMessage[] = [];
      for (let i = 0; i < 16; i++) {
        const small = i % 4 === 3;
        const body = small ? `small ${i}` : texts[i % texts.length]!.repeat(Math.ceil((LARGE_MESSAGE_CHARS + i * 9000) / texts[i % texts.length]!.length));
        messages.push({ jsonrpc: '2.0', id: i, result: { content: [{ type: 'text', text: body.replace('\\ud800', '\ud800') }] } });
      }
      // All at once: later messages are encoded while earlier ones still sit in the pipe.
      await Promise.all(messages.map((m) => transport.send(m)));
      // And one by one: each large write completes before the next one reuses its buffer.
      for (const m of messages) await transport.send(m);
      const expected = messages.map((m) => JSON.stringify(m));
      await until('every line copied back', () => out.split('\n').length > 2 * messages.length);
      assert.deepEqual(out.split('\n').slice(0, -1), [...expected, ...expected]);
      // Large messages went as bytes, small ones as strings; sequential large writes shared one buffer.
      const large = chunks.filter((c): c is Buffer => Buffer.isBuffer(c));
      assert.equal(large.length, 24);
      assert.ok(chunks.filter((c) => typeof c === 'string').every((c) => (c as string).length < LARGE_MESSAGE_CHARS));
      const sequential = large.slice(12);
      assert.ok(sequential.slice(1).some((c) => c.buffer === sequential[0]!.buffer), 'a buffer was reused');
    } finally {
      await transport.close();
      child.stdin.end();
      await new Promise((r) => child.once('close', r));
    }
  });

  it('answers sent in one turn leave in one write, in order, over a real pipe', async () => {
    // A child that copies its stdin to its stdout: the transport writes into a real pipe (a socket).
    const child = spawn(process.execPath, ['-e', 'process.stdin.pipe(process.stdout)'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (out += d));
    // Each call of the socket's _write or _writev is one write syscall.
    const socket = child.stdin as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>;
    const syscalls: string[] = [];
    for (const name of ['_write', '_writev'] as const) {
      const original = socket[name].bind(socket);
      socket[name] = (...args: unknown[]) => {
        syscalls.push(name);
        return original(...args);
      };
    }
    const transport = new UpstreamStdioTransport(new PassThrough(), child.stdin);
    await transport.start();
    try {
      const messages: JSONRPCMessage[] = Array.from({ length: 50 }, (_, i) => ({ jsonrpc: '2.0', id: i, result: { content: [{ type: 'text', text: `answer ${i}` }] } }));
      await Promise.all(messages.map((m) => transport.send(m)));
      await new Promise((r) => setImmediate(r));
      // One write per answer before; now one for the turn.
      assert.deepEqual(syscalls, ['_writev']);
      await until('every answer copied back', () => out.split('\n').length > messages.length);
      assert.deepEqual(out.split('\n').slice(0, -1), messages.map((m) => JSON.stringify(m)));
      // A lone answer waits for no more than the tick.
      out = '';
      await transport.send({ jsonrpc: '2.0', id: 'lone', result: {} });
      await until('the lone answer', () => out === '{"jsonrpc":"2.0","id":"lone","result":{}}\n');
      assert.deepEqual(syscalls, ['_writev', '_write']);
    } finally {
      await transport.close();
      child.stdin.end();
      await new Promise((r) => child.once('close', r));
    }
  });

  it('close sends what the turn corked before the tick ends', async () => {
    const h = harness();
    await h.transport.start();
    let out = '';
    h.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    void h.transport.send({ jsonrpc: '2.0', id: 1, result: {} });
    assert.equal(h.stdout.writableCorked, 1, 'corked until the tick');
    await h.transport.close();
    assert.equal(h.stdout.writableCorked, 0, 'close flushed it');
    await new Promise((r) => setImmediate(r));
    assert.equal(out, '{"jsonrpc":"2.0","id":1,"result":{}}\n');
  });

  it('never reuses a buffer written to a stream that is not a socket (it may still hold it)', async () => {
    // A stream that calls back at once and keeps the very chunks it was given, unread.
    const held: Buffer[] = [];
    const stdout = new Writable({
      highWaterMark: 64 * 1024 * 1024,
      write(chunk: Buffer, _encoding, callback) {
        held.push(chunk);
        callback();
      },
    });
    const transport = new UpstreamStdioTransport(new PassThrough(), stdout);
    await transport.start();
    const big = (c: string): JSONRPCMessage => ({ jsonrpc: '2.0', id: c, result: { text: c.repeat(LARGE_MESSAGE_CHARS) } });
    for (const c of ['a', 'b', 'c']) {
      await transport.send(big(c));
      await new Promise((r) => setImmediate(r)); // the write's callback has run
    }
    assert.deepEqual(
      held.map((chunk) => chunk.toString('utf8')),
      ['a', 'b', 'c'].map((c) => `${JSON.stringify(big(c))}\n`),
    );
    await transport.close();
  });

  it("writes a result response around its result's kept bytes, in the message's member order, taking them once", async () => {
    const h = harness();
    await h.transport.start();
    const out: Buffer[] = [];
    h.stdout.on('data', (c: Buffer) => out.push(c));
    const result = { content: [{ type: 'text', text: `grüße ${'k'.repeat(70_000)}` }] };
    const json = Buffer.from(JSON.stringify(result));
    // Bytes that differ from the result on purpose (same length): what is written shows which path ran.
    const marked = Buffer.from(json);
    marked.write('GRUESSE', json.indexOf('gr'), 'latin1'); // as many bytes as grüße
    rawResults.keep(result, marked, 0, marked.length);
    assert.equal(rawResults.byteLength(result), json.length);
    const messages: JSONRPCMessage[] = [
      { result, jsonrpc: '2.0', id: 1 },
      { jsonrpc: '2.0', id: 'é"x', result }, // taken already: serialised
    ];
    for (const m of messages) await h.transport.send(m);
    await until('two lines', () => Buffer.concat(out).toString('utf8').split('\n').length === 3);
    const [first, second] = Buffer.concat(out).toString('utf8').split('\n');
    assert.equal(first, JSON.stringify(messages[0]).replace('grüße', 'GRUESSE'), 'the kept bytes, between the members serialised here');
    assert.equal(second, JSON.stringify(messages[1]));
    assert.equal(rawResults.byteLength(result), undefined, 'taken');

    const other = { content: [{ type: 'text', text: 'o'.repeat(20_000) }] };
    const otherJson = Buffer.from(JSON.stringify(other));
    rawResults.keep(other, otherJson, 0, otherJson.length);
    const reordered = { id: 7, jsonrpc: '2.0', result: other } as unknown as JSONRPCMessage;
    out.length = 0;
    await h.transport.send(reordered);
    await until('one line', () => Buffer.concat(out).includes(0x0a));
    assert.ok(Buffer.concat(out).equals(Buffer.from(`${JSON.stringify(reordered)}\n`)), 'byte for byte JSON.stringify, members in their order');
    await h.transport.close();
  });

  it('serialises any other message even when its result has kept bytes: an extra member, a non-plain envelope', async () => {
    const h = harness();
    await h.transport.start();
    let out = '';
    h.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    const result = { content: [{ type: 'text', text: 'r'.repeat(20_000) }] };
    const wrong = Buffer.from(JSON.stringify({ content: [{ type: 'text', text: 'W'.repeat(20_000) }] }));
    rawResults.keep(result, wrong, 0, wrong.length);
    const extra = { result, jsonrpc: '2.0', id: 1, smuggled: true } as unknown as JSONRPCMessage;
    const inherited = Object.assign(Object.create({ inherited: 1 }) as object, { result, jsonrpc: '2.0', id: 2 }) as JSONRPCMessage;
    const badId = { result, jsonrpc: '2.0', id: 1.5 } as unknown as JSONRPCMessage;
    for (const m of [extra, inherited, badId]) await h.transport.send(m);
    await until('three lines', () => out.split('\n').length === 4);
    assert.deepEqual(out.split('\n').slice(0, 3), [extra, inherited, badId].map((m) => JSON.stringify(m)));
    assert.equal(rawResults.byteLength(result), wrong.length, 'still kept: none of these took them');
    await h.transport.close();
  });

  it('asks the pool to record result bytes only while started', async () => {
    const before = rawResults.wanted;
    const h = harness();
    await h.transport.start();
    assert.equal(rawResults.wanted, true);
    await h.transport.close();
    await h.transport.close();
    assert.equal(rawResults.wanted, before);
  });
});
