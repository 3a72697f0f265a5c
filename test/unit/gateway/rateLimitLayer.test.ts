import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../extension/common/clock';
import type { CallContext } from '../../../extension/gateway/chain/callContext';
import { compose } from '../../../extension/gateway/chain/chain';
import { rateLimitLayer, type RateLimit } from '../../../extension/gateway/chain/rateLimitLayer';
import { TokenBucket } from '../../../extension/gateway/chain/tokenBucket';

function rig(initial: Record<string, RateLimit> | undefined) {
  const clock = new ManualClock();
  let limits = initial;
  let reached = 0;
  const run = compose([rateLimitLayer({ limits: () => limits, clock }), async () => void reached++]);
  return {
    clock,
    get reached() {
      return reached;
    },
    set(next: Record<string, RateLimit> | undefined) {
      limits = next;
    },
    async call(server = 'fs'): Promise<CallContext> {
      const ctx: CallContext = {
        tool_name: 'echo',
        server_name: server,
        full_name: `${server}__echo`,
        arguments: {},
        session_id: 's1',
        status: 'allowed',
        start_time: 0,
        metadata: {},
      };
      await run(ctx);
      return ctx;
    },
  };
}

describe('TokenBucket', () => {
  it('starts full, refills continuously with the clock, never beyond capacity', () => {
    const clock = new ManualClock();
    const b = new TokenBucket(60, 3, clock);
    assert.ok(b.tryTake() && b.tryTake() && b.tryTake());
    assert.equal(b.tryTake(), false);
    assert.equal(b.msUntil(), 1000);
    clock.advance(999);
    assert.equal(b.tryTake(), false);
    clock.advance(1);
    assert.equal(b.tryTake(), true);
    clock.advance(3_600_000);
    assert.equal(b.tokens, 3);
  });

  it('a clock going backwards adds nothing', () => {
    let now = 1_000_000;
    const clock = { now: () => now, setTimeout: () => ({ dispose: () => undefined }) };
    const b = new TokenBucket(60, 1, clock);
    assert.equal(b.tryTake(), true);
    now = 0;
    assert.equal(b.tryTake(), false);
    now = 500;
    assert.equal(b.tryTake(), false, 'time lost going backwards is not counted twice');
  });

  it('rejects a non-positive rate or capacity', () => {
    assert.throws(() => new TokenBucket(0, 1, new ManualClock()), RangeError);
    assert.throws(() => new TokenBucket(1, 0, new ManualClock()), RangeError);
  });
});

describe('rateLimitLayer', () => {
  it('allows the burst, denies the next call with metadata, and refills with the clock', async () => {
    const r = rig({ fs: { per_minute: 60, burst: 2 } });
    assert.equal((await r.call()).status, 'allowed');
    assert.equal((await r.call()).status, 'allowed');
    const denied = await r.call();
    assert.equal(denied.status, 'denied');
    assert.equal(denied.reason_code, 'rate_limited');
    assert.match(denied.error!, /Rate limit exceeded for 'fs': 60 calls per minute \(burst 2\)\. Try again in 1 s/);
    assert.deepEqual(denied.metadata.rate_limit_exceeded, { type: 'rate', limit: 60, burst: 2, retry_after_ms: 1000 });
    assert.equal(r.reached, 2);
    r.clock.advance(1000);
    assert.equal((await r.call()).status, 'allowed');
    assert.equal((await r.call()).status, 'denied');
    r.clock.advance(60_000);
    assert.equal((await r.call()).status, 'allowed');
    assert.equal((await r.call()).status, 'allowed');
    assert.equal((await r.call()).status, 'denied');
  });

  it('keeps one bucket per server; `default` covers servers without their own entry', async () => {
    const r = rig({ fs: { per_minute: 1, burst: 1 }, default: { per_minute: 1, burst: 2 } });
    assert.equal((await r.call('fs')).status, 'allowed');
    assert.equal((await r.call('fs')).status, 'denied');
    assert.equal((await r.call('git')).status, 'allowed');
    assert.equal((await r.call('git')).status, 'allowed');
    assert.equal((await r.call('git')).status, 'denied');
    assert.equal((await r.call('web')).status, 'allowed', 'another server has its own default bucket');
  });

  it('is unlimited without a configured limit, and burst defaults to per_minute', async () => {
    const none = rig(undefined);
    for (let i = 0; i < 100; i++) assert.equal((await none.call()).status, 'allowed');
    const noBurst = rig({ fs: { per_minute: 3 } });
    for (let i = 0; i < 3; i++) assert.equal((await noBurst.call()).status, 'allowed');
    assert.equal((await noBurst.call()).status, 'denied');
  });

  it('a policy change applies on the next call without refilling a drained bucket', async () => {
    const r = rig({ fs: { per_minute: 60, burst: 1 } });
    assert.equal((await r.call()).status, 'allowed');
    r.set({ fs: { per_minute: 600, burst: 5 } });
    assert.equal((await r.call()).status, 'denied', 'still drained after the change');
    r.clock.advance(100);
    assert.equal((await r.call()).status, 'allowed', 'refills at the new rate');
    r.set({});
    for (let i = 0; i < 10; i++) assert.equal((await r.call()).status, 'allowed', 'limit removed');
  });

  it('fails closed when the limits cannot be read', async () => {
    const run = compose([
      rateLimitLayer({
        limits: () => {
          throw new Error('bad');
        },
        clock: new ManualClock(),
      }),
    ]);
    const ctx: CallContext = { tool_name: 't', server_name: 's', full_name: 's__t', arguments: {}, session_id: 'x', status: 'allowed', start_time: 0, metadata: {} };
    await run(ctx);
    assert.equal(ctx.status, 'denied');
    assert.equal(ctx.reason_code, 'rate_limit_failed');
  });
});
