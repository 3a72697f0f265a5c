import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { rawResults } from '../../../extension/platform/rawResults';
import { ChildProcessTransport } from '../../../extension/pool/childTransport';
import { parseChildMessage } from '../../../extension/pool/childMessage';
import { RAW_RESULT_MIN_BYTES, recordRawResult } from '../../../extension/pool/recordRawResult';
import { RingBuffer } from '../../../extension/pool/ringBuffer';
import { until } from '../../helpers/poll';

const PAD = 'p'.repeat(RAW_RESULT_MIN_BYTES);

/** Parses `line` as the child transport does and records it; returns the message. */
function record(line: string | Buffer): JSONRPCMessage & { result: Record<string, unknown> } {
  const bytes = Buffer.from(line);
  const message = parseChildMessage(bytes.toString('utf8'));
  recordRawResult(message, bytes, bytes.length);
  return message as JSONRPCMessage & { result: Record<string, unknown> };
}

describe('recordRawResult', () => {
  let stop: () => void;
  before(() => (stop = rawResults.addConsumer()));
  after(() => stop());

  it('keeps the bytes of a plain tool result spelled as JSON.stringify spells it, and freezes the result deeply', () => {
    const result = { content: [{ type: 'text', text: PAD }], structuredContent: { a: [1, { b: 'c' }] } };
    const message = record(JSON.stringify({ result, jsonrpc: '2.0', id: 3 }));
    assert.equal(rawResults.byteLength(message.result), Buffer.byteLength(JSON.stringify(result)));
    assert.ok(Object.isFrozen(message.result));
    assert.ok(Object.isFrozen((message.result.content as unknown[])[0]));
    assert.ok(Object.isFrozen(((message.result.structuredContent as { a: unknown[] }).a)[1]));
    assert.throws(() => {
      ((message.result.content as Array<{ text: string }>)[0]!).text = 'changed in place';
    }, TypeError);
    const bytes = rawResults.take(message.result)!;
    assert.equal(bytes.toString('utf8'), JSON.stringify(result));
    rawResults.release(bytes);
  });

  it('keeps nothing for lines it cannot prove, small answers, other results, or when no transport forwards', () => {
    const honest = (result: unknown, id = 1): string => JSON.stringify({ result, jsonrpc: '2.0', id });
    const invalid = Buffer.from(honest({ content: [{ type: 'text', text: `ok${PAD}` }] }));
    invalid[invalid.indexOf('ok') + 1] = 0xff;
    const cases: Array<[string, string | Buffer]> = [
      ['small', honest({ content: [{ type: 'text', text: 'small' }] })],
      ['not UTF-8', invalid],
      ['a duplicate key', honest({ content: [{ type: 'text', text: PAD }] }).replace('"type":"text"', '"type":"text","text":"hidden"')],
      ['an odd escape', honest({ content: [{ type: 'text', text: `/${PAD}` }] }).replace('"/', '"\\/')],
      ['not a tool result', honest({ tools: [{ name: PAD }] })],
      ['a result with _meta (the full schema copies it)', honest({ content: [{ type: 'text', text: PAD }], _meta: { a: 1 } })],
    ];
    for (const [name, line] of cases) {
      const message = record(line);
      assert.equal(rawResults.byteLength(message.result), undefined, name);
      assert.ok(!Object.isFrozen(message.result), `${name}: left as parsed`);
    }
    stop();
    try {
      const message = record(honest({ content: [{ type: 'text', text: PAD }] }));
      assert.equal(rawResults.byteLength(message.result), undefined, 'no consumer');
    } finally {
      stop = rawResults.addConsumer();
    }
  });

  it("keeps a child's large answers that arrived in many chunks, exactly, in the child transport", async () => {
    const texts = ['x'.repeat(300_000), `grüße ${'€'.repeat(100_000)}`];
    const script = `
      const texts = ['x'.repeat(300000), 'grüße ' + '€'.repeat(100000)];
      texts.forEach((text, id) => process.stdout.write(JSON.stringify({ result: { content: [{ type: 'text', text }] }, jsonrpc: '2.0', id }) + '\\n'));
      process.stdout.write('{"result":{"content":[{"type":"text","text":"a","text":"' + 'p'.repeat(${RAW_RESULT_MIN_BYTES}) + '"}]},"jsonrpc":"2.0","id":9}\\r\\n');
      setTimeout(() => {}, 60000);`;
    const transport = new ChildProcessTransport({ command: process.execPath, args: ['-e', script], env: { ...(process.env as Record<string, string>) } }, new RingBuffer(4096));
    const seen: Array<{ result: object }> = [];
    transport.onmessage = (m) => void seen.push(m as unknown as { result: object });
    await transport.start();
    try {
      await until('three answers', () => seen.length === 3);
      for (const [i, text] of texts.entries()) {
        const bytes = rawResults.take(seen[i]!.result);
        assert.equal(bytes?.toString('utf8'), JSON.stringify({ content: [{ type: 'text', text }] }));
        rawResults.release(bytes!);
      }
      assert.equal(rawResults.byteLength(seen[2]!.result), undefined, 'the line with a duplicate key');
    } finally {
      await transport.close();
    }
  });
});
