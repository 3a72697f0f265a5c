import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CallContext } from '../../../extension/gateway/chain/callContext';
import { compose } from '../../../extension/gateway/chain/chain';
import { tierLayer } from '../../../extension/gateway/chain/tierLayer';

function ctxFor(tool: string, extra: Partial<CallContext> = {}): CallContext {
  return {
    tool_name: tool,
    server_name: 'fs',
    full_name: `fs__${tool}`,
    arguments: {},
    session_id: 's1',
    status: 'allowed',
    start_time: 0,
    metadata: {},
    ...extra,
  };
}

describe('tierLayer', () => {
  it('sets ctx.tier and its source, reading overrides per call', async () => {
    let overrides: Record<string, 'read' | 'write' | 'destructive'> = {};
    let reached = 0;
    const run = compose([tierLayer({ tierOverrides: () => overrides }), async () => void reached++]);
    const a = ctxFor('delete_file');
    await run(a);
    assert.equal(a.tier, 'destructive');
    assert.equal(a.metadata.tier_source, 'prefix');
    overrides = { delete_file: 'write' };
    const b = ctxFor('delete_file');
    await run(b);
    assert.equal(b.tier, 'write');
    assert.equal(b.metadata.tier_source, 'override');
    assert.equal(reached, 2);
  });

  it('uses the listed tool’s annotations', async () => {
    const run = compose([tierLayer({ tierOverrides: () => undefined })]);
    const ctx = ctxFor('echo', {
      tool: { name: 'fs__echo', server: 'fs', originalName: 'echo', inputSchema: { type: 'object' }, annotations: { readOnlyHint: true } },
    });
    await run(ctx);
    assert.equal(ctx.tier, 'read');
  });

  it('fails closed when classification throws', async () => {
    let reached = false;
    const run = compose([
      tierLayer({
        tierOverrides: () => {
          throw new Error('registry gone');
        },
      }),
      async () => void (reached = true),
    ]);
    const ctx = ctxFor('echo');
    await run(ctx);
    assert.equal(ctx.status, 'denied');
    assert.equal(ctx.reason_code, 'tier_failed');
    assert.equal(reached, false);
  });
});
