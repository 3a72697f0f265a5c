import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChildProcessTransport } from '../../../extension/pool/childTransport';
import { RingBuffer } from '../../../extension/pool/ringBuffer';

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
});
