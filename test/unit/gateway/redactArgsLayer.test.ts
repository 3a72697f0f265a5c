import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CallContext } from '../../../extension/gateway/chain/callContext';
import { compose } from '../../../extension/gateway/chain/chain';
import { redactArgsLayer } from '../../../extension/gateway/chain/redactArgsLayer';
import type { Middleware } from '../../../extension/gateway/chain/chain';
import { Scanner } from '../../../extension/gateway/scanner/scannerClient';

const AWS = 'AKIA' + 'IOSFODNN7EXAMPLE';
const GHP = 'ghp_' + 'Z'.repeat(36);
const PEM = '-----BEGIN ' + 'PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----';
const BEARER = 'Bearer ' + 'abc.def-ghi_jkl';

function ctxWith(args: Record<string, unknown>): CallContext {
  return { tool_name: 'write_file', server_name: 'fs', full_name: 'fs__write_file', arguments: args, session_id: 's', status: 'allowed', start_time: 0, metadata: {} };
}

describe('redactArgsLayer', () => {
  let scanner: Scanner;
  before(() => {
    scanner = new Scanner({ matchTimeoutMs: 100 });
  });
  after(() => scanner.dispose());

  it('the downstream receives redacted arguments; the fields are recorded; the original object is untouched', async () => {
    const seen: Array<Record<string, unknown>> = [];
    const run = compose([redactArgsLayer(scanner), async (ctx) => void seen.push(ctx.arguments)]);
    const args = {
      path: 'notes.txt',
      content: `aws=${AWS}\ntoken ${GHP}\n${PEM}`,
      headers: [{ Authorization: BEARER }],
      n: 1,
    };
    const original = structuredClone(args);
    const ctx = ctxWith(args);
    await run(ctx);
    assert.equal(ctx.status, 'allowed');
    assert.equal(seen.length, 1);
    const sent = JSON.stringify(seen[0]);
    for (const secret of [AWS, GHP, 'BEGIN PRIVATE KEY', 'abc.def-ghi_jkl']) assert.ok(!sent.includes(secret), `${secret} reached the downstream`);
    assert.deepEqual(args, original, 'caller’s object not mutated');
    assert.deepEqual(ctx.metadata.redacted_fields, ['arguments.content', 'arguments.headers[0].Authorization']);
    assert.deepEqual(new Set(ctx.metadata.redacted_patterns as string[]), new Set(['AWS Access Key', 'GitHub Token', 'Private Key', 'Bearer Token']));
    assert.equal((seen[0] as typeof args).path, 'notes.txt');
  });

  it('leaves clean arguments as the same object and records nothing', async () => {
    const run = compose([redactArgsLayer(scanner), async () => undefined]);
    const args = { q: 'hello' };
    const ctx = ctxWith(args);
    await run(ctx);
    assert.equal(ctx.arguments, args);
    assert.equal(ctx.metadata.redacted_fields, undefined);
  });

  it('refuses the call when redaction overruns its budget (never sends unscanned or mangled arguments)', async () => {
    scanner.setPatterns([{ name: 'evil', regex: '(a+)+$' }]);
    try {
      let reached = false;
      const run = compose([redactArgsLayer(scanner), async () => void (reached = true)]);
      const ctx = ctxWith({ q: `${'a'.repeat(40)}b` });
      await run(ctx);
      assert.equal(reached, false);
      assert.equal(ctx.status, 'denied');
      assert.equal(ctx.reason_code, 'redaction_timeout');
      assert.match(ctx.error!, /pattern 'evil'/);
      const events = ctx.metadata['redact.regex_timeout'] as Array<Record<string, unknown>>;
      assert.equal(events[0]?.pattern_id, 'evil');
      assert.equal(events[0]?.pattern_source, 'user');
      assert.ok(!JSON.stringify(ctx.metadata).includes('aaaa'), 'the input is never recorded');
    } finally {
      scanner.setPatterns([]);
    }
  });

  it('refuses the call when the scanner cannot run', async () => {
    const broken = { redact: async () => ({ value: {}, redactedFields: [], patterns: [], timedOut: false, failed: 'worker gone' }) };
    const run = compose([redactArgsLayer(broken as never), async () => assert.fail('must not dispatch')]);
    const ctx = ctxWith({ q: 'x' });
    await run(ctx);
    assert.equal(ctx.reason_code, 'redaction_failed');
    const throwing = { redact: async () => Promise.reject(new Error('boom')) };
    const run2 = compose([redactArgsLayer(throwing as never), async () => assert.fail('must not dispatch')]);
    const ctx2 = ctxWith({ q: 'x' });
    await run2(ctx2);
    assert.equal(ctx2.status, 'denied');
    assert.equal(ctx2.reason_code, 'redaction_failed');
  });

  it('decides a small call in the same turn: the rest of the chain already sees the redacted arguments', () => {
    const layer: Middleware = redactArgsLayer(scanner);
    const seen: Array<Record<string, unknown>> = [];
    const ctx = ctxWith({ content: `token ${GHP}` });
    void layer(ctx, async () => void seen.push(ctx.arguments));
    assert.equal(seen.length, 1, 'next ran before any await');
    assert.ok(!JSON.stringify(seen[0]).includes(GHP));
    assert.deepEqual(ctx.metadata.redacted_fields, ['arguments.content']);
  });

  it('the inline answer and the worker answer decide alike: redacted arguments, a secret in the tool name refused', async () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ['write_file', { content: `aws=${AWS}`, nested: [{ [GHP]: 1 }], n: 2 }],
      [`tool_${GHP}`, { q: 'clean' }],
      ['write_file', { q: 'clean' }],
    ];
    const outcome = async (s: Scanner, tool: string, args: Record<string, unknown>) => {
      let sent: unknown;
      const ctx = { ...ctxWith(structuredClone(args)), tool_name: tool, full_name: `fs__${tool}` };
      await compose([redactArgsLayer(s), async (c) => void (sent = c.arguments)])(ctx);
      return { status: ctx.status, reason: ctx.reason_code, tool: ctx.tool_name, full: ctx.full_name, args: ctx.arguments, sent, metadata: ctx.metadata };
    };
    // A policy pattern sends every job to the worker (inline runs built-in patterns only).
    const worker = new Scanner({ matchTimeoutMs: 1000 });
    worker.setPatterns([{ name: 'never', regex: 'q{20}z' }]);
    try {
      for (const [tool, args] of cases) {
        const inline = await outcome(scanner, tool, args);
        const viaWorker = await outcome(worker, tool, args);
        assert.deepEqual(inline, viaWorker, `${tool} ${JSON.stringify(args)}`);
      }
      const refused = await outcome(scanner, `tool_${GHP}`, { q: 'clean' });
      assert.equal(refused.reason, 'secret_in_tool_name');
      assert.equal(refused.sent, undefined);
      assert.ok(!refused.full.includes(GHP));
    } finally {
      worker.dispose();
    }
  });
});
