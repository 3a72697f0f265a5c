import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AutonomyLevel } from '../../../extension/config/policySchema';
import type { CallContext, Tier } from '../../../extension/gateway/chain/callContext';
import { compose } from '../../../extension/gateway/chain/chain';
import { AUTONOMY_TIERS, minimumLevelFor, policyLayer } from '../../../extension/gateway/chain/policyLayer';

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

type PolicyView = { autonomy_level: AutonomyLevel; max_autonomy_level?: AutonomyLevel };

function rig(initial: PolicyView | undefined, overrides: Record<string, Tier> = {}) {
  let policy = initial;
  const reached: string[] = [];
  const run = compose([
    policyLayer({ policy: () => policy, tierOverrides: () => overrides }),
    async (ctx) => void reached.push(ctx.tool_name),
  ]);
  return {
    reached,
    set(next: PolicyView | undefined) {
      policy = next;
    },
    async call(tool: string, extra: Partial<CallContext> = {}) {
      const ctx = ctxFor(tool, extra);
      await run(ctx);
      return ctx;
    },
  };
}

const TOOL_OF: Record<Tier, string> = { read: 'read_file', write: 'write_file', destructive: 'delete_file' };

describe('policyLayer', () => {
  // The whole table, pinned: L2 denies destructive as rea 0.9.1's gateway does (SPEC §7.5), so a
  // policy moved from rea never allows more here than it did there; only L3 allows destructive.
  const TABLE: Record<AutonomyLevel, Record<Tier, boolean>> = {
    L0: { read: true, write: false, destructive: false },
    L1: { read: true, write: true, destructive: false },
    L2: { read: true, write: true, destructive: false },
    L3: { read: true, write: true, destructive: true },
  };
  const LEVELS = ['L0', 'L1', 'L2', 'L3'] as const;
  const TIERS = ['read', 'write', 'destructive'] as const;

  it('L0–L3 × read/write/destructive: L2 denies destructive as rea does, L3 allows it', async () => {
    for (const level of LEVELS) {
      const r = rig({ autonomy_level: level });
      for (const tier of TIERS) {
        const ctx = await r.call(TOOL_OF[tier]);
        const allowed = ctx.status === 'allowed';
        assert.equal(allowed, TABLE[level][tier], `${level} ${tier}`);
        assert.equal(ctx.tier, tier);
        assert.equal(ctx.metadata.autonomy_level, level);
        if (!allowed) assert.equal(ctx.reason_code, 'tier_exceeds_autonomy');
      }
      assert.deepEqual([...AUTONOMY_TIERS[level]], TIERS.filter((tier) => TABLE[level][tier]), level);
    }
    assert.equal(minimumLevelFor('read'), 'L0');
    assert.equal(minimumLevelFor('write'), 'L1');
    assert.equal(minimumLevelFor('destructive'), 'L3');
  });

  it('every autonomy_level × max_autonomy_level × tier: the level is clamped to the ceiling, never raised', async () => {
    for (const level of LEVELS) {
      for (const ceiling of LEVELS) {
        const effective = LEVELS[Math.min(LEVELS.indexOf(level), LEVELS.indexOf(ceiling))];
        const r = rig({ autonomy_level: level, max_autonomy_level: ceiling });
        for (const tier of TIERS) {
          const ctx = await r.call(TOOL_OF[tier]);
          const what = `autonomy_level ${level}, max ${ceiling}, ${tier}`;
          assert.equal(ctx.status === 'allowed', TABLE[effective][tier], what);
          assert.equal(ctx.metadata.autonomy_level, effective, what);
          assert.equal(ctx.metadata.autonomy_clamped_from, effective === level ? undefined : level, what);
        }
      }
    }
  });

  it('deny text has the reason, the tool, where the tier came from and what to change', async () => {
    const r = rig({ autonomy_level: 'L2', max_autonomy_level: 'L2' });
    const ctx = await r.call('delete_file');
    assert.equal(ctx.status, 'denied');
    assert.equal(ctx.reason_code, 'tier_exceeds_autonomy');
    assert.match(ctx.error!, /Autonomy level L2 does not allow destructive-tier tools\. Tool: fs__delete_file/);
    assert.match(ctx.error!, /name prefix 'delete_'/);
    assert.match(ctx.error!, /autonomy_level: L3/);
    assert.match(ctx.error!, /max_autonomy_level is L2/);
    assert.match(ctx.error!, /tier_overrides: \{ delete_file: write \}/);
    assert.equal(ctx.metadata.required_autonomy_level, 'L3');
    assert.deepEqual(r.reached, []);
  });

  it('a hot-reloaded policy applies to the next call', async () => {
    const r = rig({ autonomy_level: 'L0' });
    assert.equal((await r.call('write_file')).status, 'denied');
    r.set({ autonomy_level: 'L1' });
    assert.equal((await r.call('write_file')).status, 'allowed');
    r.set({ autonomy_level: 'L0' });
    assert.equal((await r.call('write_file')).status, 'denied');
  });

  it('clamps autonomy_level to max_autonomy_level', async () => {
    const r = rig({ autonomy_level: 'L3', max_autonomy_level: 'L1' });
    const ctx = await r.call('delete_file');
    assert.equal(ctx.status, 'denied');
    assert.equal(ctx.metadata.autonomy_clamped_from, 'L3');
    assert.equal(ctx.metadata.autonomy_level, 'L1');
    assert.equal((await r.call('write_file')).status, 'allowed');
  });

  it('re-derives the tier itself (ctx.tier from earlier layers is not trusted) and applies overrides', async () => {
    const r = rig({ autonomy_level: 'L0' }, { echo: 'read' });
    const forged = await r.call('delete_file', { tier: 'read' });
    assert.equal(forged.status, 'denied');
    assert.equal(forged.tier, 'destructive');
    const overridden = await r.call('echo');
    assert.equal(overridden.status, 'allowed');
    assert.equal(overridden.tier, 'read');
  });

  it('denies an unknown autonomy level; without a policy uses L1', async () => {
    const bad = rig({ autonomy_level: 'L9' as AutonomyLevel });
    const ctx = await bad.call('read_file');
    assert.equal(ctx.status, 'denied');
    assert.equal(ctx.reason_code, 'unknown_autonomy_level');
    const none = rig(undefined);
    assert.equal((await none.call('write_file')).status, 'allowed');
    assert.equal((await none.call('delete_file')).status, 'denied');
  });

  it('fails closed when the policy cannot be read', async () => {
    const run = compose([
      policyLayer({
        policy: () => {
          throw new Error('boom');
        },
        tierOverrides: () => undefined,
      }),
    ]);
    const ctx = ctxFor('read_file');
    await run(ctx);
    assert.equal(ctx.status, 'denied');
    assert.equal(ctx.reason_code, 'policy_failed');
  });
});
