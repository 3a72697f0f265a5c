import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ChildProcessTransport } from '../../../extension/pool/childTransport';
import { RingBuffer } from '../../../extension/pool/ringBuffer';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { until } from '../../helpers/poll';

describe('ChildProcessTransport', () => {
  it('sends that find the pipe full share one drain listener, and all resolve once the child reads', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    // A child that reads nothing for a moment (the pipe fills), then reads everything.
    const script = "setTimeout(() => process.stdin.on('data', () => {}), 300); setTimeout(() => {}, 60000);";
    const transport = new ChildProcessTransport({ command: process.execPath, args: ['-e', script], env: { ...(process.env as Record<string, string>) } }, new RingBuffer(4096));
    await transport.start();
    try {
      const text = 'x'.repeat(64 * 1024);
      const sends = Array.from({ length: 40 }, (_, i) => transport.send({ jsonrpc: '2.0', method: 'notifications/message', params: { i, text } }));
      await Promise.all(sends);
      // Warnings are emitted on the next tick.
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(warnings.filter((w) => w.includes('MaxListeners')), []);
    } finally {
      process.off('warning', onWarning);
      await transport.close();
    }
  });

  it('messages sent in one turn leave in one write, in order', { skip: process.platform !== 'linux' && 'write syscalls are counted from /proc' }, async () => {
    // A child that answers each line it reads with that line's `params.i`.
    const script = "require('readline').createInterface({ input: process.stdin }).on('line', (l) => process.stdout.write(JSON.stringify({ jsonrpc: '2.0', method: 'n', params: { i: JSON.parse(l).params.i } }) + '\\n'));";
    const transport = new ChildProcessTransport({ command: process.execPath, args: ['-e', script], env: { ...(process.env as Record<string, string>) } }, new RingBuffer(4096));
    const seen: number[] = [];
    transport.onmessage = (message) => void seen.push((message as unknown as { params: { i: number } }).params.i);
    await transport.start();
    try {
      const writes = (): number => Number(/syscw: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
      const before = writes();
      const sends = Array.from({ length: 50 }, (_, i) => transport.send({ jsonrpc: '2.0', method: 'notifications/message', params: { i } }));
      await Promise.all(sends);
      await new Promise((r) => setImmediate(r));
      // One per message before; now one for the turn (a few to spare for anything else writing).
      assert.ok(writes() - before < 10, `${writes() - before} write syscalls for 50 messages`);
      await until('all 50 echoed', () => seen.length === 50);
      assert.deepEqual(seen, Array.from({ length: 50 }, (_, i) => i));
    } finally {
      await transport.close();
    }
  });

  it('reads large lines that arrive in many chunks exactly, one after another, longer and shorter, ASCII or not', async () => {
    // Each answer's text: [repeated piece, length]. Shorter lines after longer ones reuse the join buffer.
    const plan: Array<[string, number]> = [['x', 300_000], ['é€😀 grüße', 150_000], ['a"b\\c\n', 5_000_000], ['ok', 10], ['z', 200_000], ['ü', 70_000]];
    const script = `
      const plan = ${JSON.stringify(plan)};
      for (const [piece, length] of plan) {
        const text = piece.repeat(Math.ceil(length / piece.length)).slice(0, length);
        process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: length, result: { content: [{ type: 'text', text }] } }) + '\\n');
      }
      setTimeout(() => {}, 60000);`;
    const transport = new ChildProcessTransport({ command: process.execPath, args: ['-e', script], env: { ...(process.env as Record<string, string>) } }, new RingBuffer(4096));
    const got: JSONRPCMessage[] = [];
    transport.onmessage = (m) => void got.push(m);
    await transport.start();
    try {
      await until('every answer', () => got.length === plan.length);
      assert.equal(transport.noiseLines, 0);
      got.forEach((message, i) => {
        const [piece, length] = plan[i]!;
        const text = piece.repeat(Math.ceil(length / piece.length)).slice(0, length);
        assert.deepEqual(message, { jsonrpc: '2.0', id: length, result: { content: [{ type: 'text', text }] } }, `answer ${i}`);
      });
    } finally {
      await transport.close();
    }
  });
});
