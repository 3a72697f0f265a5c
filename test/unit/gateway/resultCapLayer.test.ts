import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { CallContext } from '../../../extension/gateway/chain/callContext';
import { compose } from '../../../extension/gateway/chain/chain';
import {
  DEFAULT_RESULT_MAX_BYTES,
  TRUNCATION_META_KEY,
  capResult,
  jsonBytes,
  resultCapLayer,
  truncateUtf8,
  type TruncationReport,
} from '../../../extension/gateway/chain/resultCapLayer';

const size = (v: unknown): number => Buffer.byteLength(JSON.stringify(v), 'utf8');
const textOf = (r: CallToolResult, i: number): string => (r.content[i] as { text: string }).text;
const noReplacementChars = (s: string): boolean => !s.includes('\uFFFD');

describe('truncateUtf8', () => {
  it('never splits a UTF-8 sequence, whatever the cut point', () => {
    const text = 'a€b😀c'; // 1 + 3 + 1 + 4 + 1 bytes
    const expected = ['', 'a', 'a', 'a', 'a€', 'a€b', 'a€b', 'a€b', 'a€b', 'a€b😀', 'a€b😀c'];
    expected.forEach((want, bytes) => assert.equal(truncateUtf8(text, bytes), want, `${bytes} bytes`));
  });
});

describe('jsonBytes', () => {
  it('equals the UTF-8 length of JSON.stringify without serialising', () => {
    const samples: unknown[] = [
      'plain',
      'quote " backslash \\ newline \n tab \t cr \r bs \b ff \f',
      '\u0000\u0001\u001f\u007f',
      'emoji 😀 pair, lone \ud800 high, lone \udc00 low, reversed \udc00\ud800',
      '€ é 中文 \u2028',
      { a: 1, b: [true, null, 2.5, -0, 1e21], c: { 'k"ey': 'v' }, d: undefined, e: [undefined] },
      [],
      {},
      { content: [{ type: 'text', text: 'x\ny' }], isError: false, _meta: { n: 12345678901234 } },
    ];
    for (const sample of samples) assert.equal(jsonBytes(sample), Buffer.byteLength(JSON.stringify(sample)), JSON.stringify(sample));
  });
});

describe('capResult', () => {
  it('returns the very same result when it fits', () => {
    const r: CallToolResult = { content: [{ type: 'text', text: 'small' }] };
    assert.equal(capResult(r, 1024).result, r);
  });

  it('cuts multi-byte text at the limit without splitting characters, keeping isError and a note', () => {
    const limit = 4096;
    for (const unit of ['€', '😀', 'é', 'x']) {
      for (let extra = 0; extra < 4; extra++) {
        const text = unit.repeat(5000) + 'z'.repeat(extra);
        const r: CallToolResult = { isError: true, content: [{ type: 'text', text }] };
        const { result, report } = capResult(r, limit);
        assert.ok(report, `${unit} must be cut`);
        assert.ok(size(result) <= limit, `${unit}: ${size(result)} > ${limit}`);
        assert.equal(result.isError, true);
        const kept = textOf(result, 0);
        assert.ok(text.startsWith(kept), 'a prefix of the original');
        assert.ok(noReplacementChars(kept));
        assert.ok(kept.length > 0);
        assert.equal(result.content.length, 2, 'note part appended');
        assert.match(textOf(result, 1), /over the 4096-byte limit/);
        const meta = result._meta?.[TRUNCATION_META_KEY] as TruncationReport;
        assert.equal(meta.limit_bytes, limit);
        assert.equal(meta.original_bytes, size(r));
        assert.equal(meta.removed_text_bytes, Buffer.byteLength(text) - Buffer.byteLength(kept));
        assert.equal(meta.truncated_parts, 1);
      }
    }
  });

  it('uses the space well: the result ends close to the limit', () => {
    const r: CallToolResult = { content: [{ type: 'text', text: 'x'.repeat(1_000_000) }] };
    const { result } = capResult(r, DEFAULT_RESULT_MAX_BYTES);
    assert.ok(size(result) <= DEFAULT_RESULT_MAX_BYTES);
    assert.ok(size(result) > DEFAULT_RESULT_MAX_BYTES - 1024, `only ${size(result)} bytes used`);
  });

  it('keeps structure: small parts whole, large parts share the space, other parts untouched', () => {
    const r: CallToolResult = {
      content: [
        { type: 'text', text: 'summary: 3 files' },
        { type: 'text', text: 'A'.repeat(20_000) },
        { type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' },
        { type: 'resource', resource: { uri: 'file:///x', text: 'B'.repeat(20_000) } },
      ],
      structuredContent: { files: 3 },
      _meta: { other: 1 },
    };
    const { result, report } = capResult(r, 10_000);
    assert.ok(report);
    assert.ok(size(result) <= 10_000);
    assert.equal(textOf(result, 0), 'summary: 3 files');
    assert.deepEqual(result.content[2], r.content[2]);
    const a = textOf(result, 1).length;
    const b = ((result.content[3] as { resource: { text: string } }).resource.text).length;
    assert.ok(Math.abs(a - b) <= 2, `fair share: ${a} vs ${b}`);
    assert.deepEqual(result.structuredContent, { files: 3 });
    assert.equal(result._meta?.other, 1);
    assert.equal(report.truncated_parts, 2);
    assert.equal(r.content.length, 4, 'input not mutated');
    assert.equal(textOf(r, 1).length, 20_000);
  });

  it('escape-heavy text still ends under the limit', () => {
    const r: CallToolResult = { content: [{ type: 'text', text: '"\\\n\u0001'.repeat(5000) }] };
    const { result } = capResult(r, 2048);
    assert.ok(size(result) <= 2048);
  });

  it('removes oversize non-text items, largest first, when text alone cannot make room', () => {
    const r: CallToolResult = {
      content: [
        { type: 'text', text: 'hello' },
        { type: 'image', data: 'A'.repeat(50_000), mimeType: 'image/png' },
      ],
      structuredContent: { blob: 'C'.repeat(30_000) },
    };
    const { result, report } = capResult(r, 40_000);
    assert.ok(size(result) <= 40_000);
    assert.deepEqual(report?.removed_items, ['content[1] (image)']);
    assert.equal(result.content[1]?.type, 'text');
    assert.match(textOf(result, 1), /image \(image\/png\) removed/);
    assert.ok(result.structuredContent, 'the smaller structuredContent fits and stays');
    const tighter = capResult(r, 10_000);
    assert.deepEqual(tighter.report?.removed_items, ['content[1] (image)', 'structuredContent']);
    assert.equal(tighter.result.structuredContent, undefined);
  });

  it('falls back to the note alone when even the structure does not fit', () => {
    const r: CallToolResult = { isError: false, content: [{ type: 'text', text: 'x' }], _meta: { huge: 'm'.repeat(5000) } };
    const { result, report } = capResult(r, 2048);
    assert.ok(report);
    assert.equal(result.content.length, 1);
    assert.equal(result.isError, false);
    assert.ok(size(result) <= 2048);
  });
});

describe('resultCapLayer', () => {
  function ctx(): CallContext {
    return { tool_name: 't', server_name: 's', full_name: 's__t', arguments: {}, session_id: 'x', status: 'allowed', start_time: 0, metadata: {} };
  }

  it('caps the result on the way out, reading the limit per call, and records metadata', async () => {
    let limit: number | undefined = 2048;
    const run = compose([
      resultCapLayer({ maxBytes: () => limit }),
      async (c) => {
        c.result = { content: [{ type: 'text', text: 'ü'.repeat(5000) }] };
      },
    ]);
    const a = ctx();
    await run(a);
    assert.ok(size(a.result) <= 2048);
    assert.equal((a.metadata.result_truncated as TruncationReport).limit_bytes, 2048);
    limit = undefined; // default 512 KiB
    const b = ctx();
    await run(b);
    assert.equal(textOf(b.result!, 0).length, 5000);
    assert.equal(b.metadata.result_truncated, undefined);
  });

  it('bounds error text too', async () => {
    const run = compose([
      resultCapLayer({ maxBytes: () => 1024 }),
      async (c) => {
        c.status = 'error';
        c.error = '€'.repeat(2000);
      },
    ]);
    const c = ctx();
    await run(c);
    assert.ok(Buffer.byteLength(c.error!) <= 1024);
    assert.ok(noReplacementChars(c.error!));
  });

  it('fails closed on a result it cannot measure', async () => {
    const run = compose([
      resultCapLayer({ maxBytes: () => 1024 }),
      async (c) => {
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        c.result = { content: [], structuredContent: cyclic };
      },
    ]);
    const c = ctx();
    await run(c);
    assert.equal(c.result, undefined);
    assert.equal(c.status, 'error');
    assert.equal(c.reason_code, 'result_cap_failed');
  });
});
