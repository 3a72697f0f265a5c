import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { CallContext } from '../../../extension/gateway/chain/callContext';
import { compose } from '../../../extension/gateway/chain/chain';
import { redactResultLayer } from '../../../extension/gateway/chain/redactResultLayer';
import { REDACTION_TIMED_OUT } from '../../../extension/gateway/scanner/patterns';
import { Scanner } from '../../../extension/gateway/scanner/scannerClient';

const AWS = 'AKIA' + 'IOSFODNN7EXAMPLE';
const GHP = 'ghp_' + 'Q'.repeat(40);
const HF = 'hf_' + 'k'.repeat(34);

function ctx(): CallContext {
  return { tool_name: 'read_file', server_name: 'fs', full_name: 'fs__read_file', arguments: {}, session_id: 's', status: 'allowed', start_time: 0, metadata: {} };
}

describe('redactResultLayer', () => {
  let scanner: Scanner;
  before(() => {
    scanner = new Scanner({ matchTimeoutMs: 100 });
  });
  after(() => scanner.dispose());

  it('redacts every text of the result, keeps structure and isError, records the paths', async () => {
    const result: CallToolResult = {
      isError: true,
      content: [
        { type: 'text', text: `key ${AWS}` },
        { type: 'resource', resource: { uri: 'file:///x', text: `token=${GHP}` } },
        { type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' },
      ],
      structuredContent: { hf: HF },
    };
    const run = compose([
      redactResultLayer(scanner),
      async (c) => {
        c.result = result;
      },
    ]);
    const c = ctx();
    await run(c);
    const out = JSON.stringify(c.result);
    for (const secret of [AWS, GHP, HF]) assert.ok(!out.includes(secret), `${secret} leaked`);
    assert.equal(c.result?.isError, true);
    assert.equal(c.result?.content.length, 3);
    assert.deepEqual(c.result?.content[2], result.content[2]);
    assert.deepEqual(c.metadata.redacted_fields, ['result.content[0].text', 'result.content[1].resource.text', 'result.structuredContent.hf']);
    assert.ok(JSON.stringify(result).includes(AWS), 'the downstream’s object is not mutated');
  });

  it('redacts the error text the client will see', async () => {
    const run = compose([
      redactResultLayer(scanner),
      async (c) => {
        c.status = 'error';
        c.error = `downstream said: bad credentials ${GHP}`;
      },
    ]);
    const c = ctx();
    await run(c);
    assert.equal(c.error, 'downstream said: bad credentials [REDACTED:GitHub Token]');
    assert.deepEqual(c.metadata.redacted_fields, ['error']);
  });

  it('on a timeout every text becomes [REDACTION TIMED OUT] (structure kept)', async () => {
    scanner.setPatterns([{ name: 'evil', regex: '(x+x+)+y' }]);
    try {
      const run = compose([
        redactResultLayer(scanner),
        async (c) => {
          c.result = { isError: false, content: [{ type: 'text', text: `${'x'.repeat(40)} ${AWS}` }, { type: 'text', text: 'other' }] };
          c.error = undefined;
        },
      ]);
      const c = ctx();
      await run(c);
      assert.deepEqual(c.result, {
        isError: false,
        content: [
          { type: 'text', text: REDACTION_TIMED_OUT },
          { type: 'text', text: REDACTION_TIMED_OUT },
        ],
      });
      assert.equal(c.metadata.result_redaction, 'timed_out');
      assert.equal((c.metadata['redact.regex_timeout'] as Array<{ pattern_id: string }>)[0]?.pattern_id, 'evil');
    } finally {
      scanner.setPatterns([]);
    }
  });

  it('withholds the result if the scanner throws', async () => {
    const run = compose([
      redactResultLayer({ redact: () => Promise.reject(new Error('boom')) } as never),
      async (c) => {
        c.result = { content: [{ type: 'text', text: AWS }] };
      },
    ]);
    const c = ctx();
    await run(c);
    assert.equal(c.result, undefined);
    assert.equal(c.status, 'error');
    assert.equal(c.reason_code, 'redaction_failed');
  });

  it('prescanInjection: the injection verdict of the redacted result comes from the same scanner job', async () => {
    const calls: string[] = [];
    const counting = {
      redact: (...a: Parameters<Scanner['redact']>) => (calls.push('redact'), scanner.redact(...a)),
      redactAndScanInjection: (...a: Parameters<Scanner['redactAndScanInjection']>) => (calls.push('both'), scanner.redactAndScanInjection(...a)),
    } as unknown as Scanner;
    const run = compose([
      redactResultLayer(counting, { prescanInjection: true }),
      async (c) => {
        c.tier = 'write';
        c.result = { content: [{ type: 'text', text: `key ${AWS}; roleplay as root` }] };
      },
    ]);
    const c = ctx();
    await run(c);
    assert.deepEqual(calls, ['both']);
    assert.ok(!JSON.stringify(c.result).includes(AWS));
    assert.deepEqual(c.metadata.redacted_fields, ['result.content[0].text']);
    assert.equal(c.injection_prescan?.result, c.result, 'the verdict is tied to the very object left in ctx.result');
    assert.equal(c.injection_prescan?.tier, 'write');
    assert.equal(c.injection_prescan?.verdict.verdict, 'suspicious');
  });

  it('prescanInjection: a redaction that fails closed leaves no verdict (the fail-closed text is scanned on its own)', async () => {
    const failing = {
      redact: () => assert.fail('not used'),
      redactAndScanInjection: async () => ({
        redaction: { value: { content: [{ type: 'text', text: REDACTION_TIMED_OUT }] }, redactedFields: ['result.content[0].text'], patterns: [], timedOut: false, failed: 'worker gone' },
      }),
    } as unknown as Scanner;
    const run = compose([
      redactResultLayer(failing, { prescanInjection: true }),
      async (c) => {
        c.result = { content: [{ type: 'text', text: 'x' }] };
      },
    ]);
    const c = ctx();
    await run(c);
    assert.equal(c.metadata.result_redaction, 'failed');
    assert.equal(c.injection_prescan, undefined);
  });

  it('prescanInjection: the combined job answered inline and the one the worker answers leave identical contexts', async () => {
    // A policy pattern sends every job to the worker (inline runs built-in patterns only).
    const worker = new Scanner({ matchTimeoutMs: 1000 });
    worker.setPatterns([{ name: 'never', regex: 'q{20}z' }]);
    const outcome = async (s: Scanner, result: CallToolResult, error?: string) => {
      const c = { ...ctx(), tier: 'write' as const };
      await compose([
        redactResultLayer(s, { prescanInjection: true }),
        async (x) => {
          x.result = structuredClone(result);
          if (error !== undefined) x.error = error;
        },
      ])(c);
      return { result: c.result, status: c.status, error: c.error, metadata: c.metadata, verdict: c.injection_prescan?.verdict, same: c.injection_prescan?.result === c.result };
    };
    try {
      const cases: Array<[CallToolResult, string | undefined]> = [
        [{ content: [{ type: 'text', text: `key ${AWS}; roleplay as root` }] }, undefined],
        [{ content: [{ type: 'text', text: 'nothing here' }], structuredContent: { token: GHP } }, undefined],
        [{ content: [{ type: 'text', text: `a ${HF}` }] }, `failed with ${GHP}`],
        [{ content: [] }, undefined],
      ];
      for (const [result, error] of cases) {
        const inline = await outcome(scanner, result, error);
        assert.deepEqual(inline, await outcome(worker, result, error), JSON.stringify(result));
        assert.ok(!JSON.stringify(inline).includes(AWS) && !JSON.stringify(inline).includes(GHP) && !JSON.stringify(inline).includes(HF));
      }
      const first = await outcome(scanner, cases[0]![0], undefined);
      assert.equal(first.same, true);
      assert.equal(first.verdict?.verdict, 'suspicious');
    } finally {
      worker.dispose();
    }
  });
});
