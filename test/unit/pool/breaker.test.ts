import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '../../../extension/common/clock';
import { setListenerErrorHandler } from '../../../extension/common/event';
import { CircuitBreaker, type CircuitTransition } from '../../../extension/pool/breaker';

interface Rig {
  clock: ManualClock;
  breaker: CircuitBreaker;
  transitions: CircuitTransition[];
  probes: number;
}

function rig(options: ConstructorParameters<typeof CircuitBreaker>[1] = {}): Rig {
  const clock = new ManualClock();
  const breaker = new CircuitBreaker('srv', options, clock);
  const r: Rig = { clock, breaker, transitions: [], probes: 0 };
  breaker.onDidChangeState((t) => r.transitions.push(t));
  breaker.onDidRequestProbe((p) => {
    assert.equal(p.server, 'srv');
    r.probes++;
  });
  return r;
}

function fail(breaker: CircuitBreaker, times: number): void {
  for (let i = 0; i < times; i++) breaker.recordFailure();
}

describe('CircuitBreaker', () => {
  let listenerErrors: unknown[] = [];
  beforeEach(() => {
    listenerErrors = [];
    setListenerErrorHandler((err) => listenerErrors.push(err));
  });
  afterEach(() => setListenerErrorHandler(() => undefined));

  it('four failures stay closed; the fifth opens with reason failure_threshold and retryAt = now + 30 s', () => {
    const { clock, breaker, transitions } = rig();
    fail(breaker, 4);
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.consecutiveFailures, 4);
    assert.equal(breaker.allows(), true);
    assert.equal(breaker.retryAt, null);
    breaker.recordFailure();
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.allows(), false);
    assert.equal(breaker.retryAt, clock.now() + 30_000);
    assert.deepEqual(transitions, [
      { server: 'srv', from: 'closed', to: 'open', reason: 'failure_threshold', retryAt: clock.now() + 30_000 },
    ]);
  });

  it('a success while closed resets the consecutive count', () => {
    const { breaker, transitions } = rig();
    fail(breaker, 4);
    breaker.recordSuccess();
    assert.equal(breaker.consecutiveFailures, 0);
    fail(breaker, 4);
    assert.equal(breaker.state, 'closed');
    assert.deepEqual(transitions, []);
  });

  it('failures and successes reported while open are ignored', () => {
    const { breaker, transitions } = rig();
    fail(breaker, 5);
    const retryAt = breaker.retryAt;
    const count = breaker.consecutiveFailures;
    fail(breaker, 10);
    breaker.recordSuccess();
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.retryAt, retryAt);
    assert.equal(breaker.consecutiveFailures, count);
    assert.equal(transitions.length, 1);
  });

  it('moves to half-open on a timer (no call needed) and requests exactly one probe', () => {
    const { clock, breaker, transitions } = rig();
    const r = { probes: 0 };
    breaker.onDidRequestProbe(() => r.probes++);
    fail(breaker, 5);
    clock.advance(29_999);
    assert.equal(breaker.state, 'open');
    assert.equal(r.probes, 0);
    assert.ok(breaker.retryAt! > clock.now(), 'retryAt is never in the past while open');
    clock.advance(1);
    assert.equal(breaker.state, 'half-open');
    assert.equal(breaker.retryAt, null);
    assert.equal(breaker.consecutiveFailures, 0);
    assert.deepEqual(transitions[1], { server: 'srv', from: 'open', to: 'half-open', reason: 'cooldown_elapsed' });
    assert.equal(r.probes, 1);
    // Nothing else is scheduled, and time passing in half-open requests no second probe.
    assert.equal(clock.pending, 0);
    clock.advance(600_000);
    assert.equal(r.probes, 1);
    assert.equal(breaker.state, 'half-open');
  });

  it('refuses user calls in half-open (the probe is the owner’s)', () => {
    const { clock, breaker } = rig();
    fail(breaker, 5);
    clock.advance(30_000);
    assert.equal(breaker.state, 'half-open');
    assert.equal(breaker.allows(), false);
  });

  it('a probe success closes it (recovered) with the base cooldown', () => {
    const { clock, breaker, transitions } = rig();
    fail(breaker, 5);
    clock.advance(30_000);
    breaker.recordFailure(); // probe failed: 60 s
    clock.advance(60_000);
    breaker.recordSuccess();
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.allows(), true);
    assert.equal(breaker.cooldownMs, 30_000);
    assert.equal(breaker.consecutiveFailures, 0);
    assert.deepEqual(transitions.at(-1), { server: 'srv', from: 'half-open', to: 'closed', reason: 'recovered' });
    // The next outage starts again at the base cooldown.
    fail(breaker, 5);
    assert.equal(breaker.retryAt, clock.now() + 30_000);
  });

  it('a probe failure re-opens it (half_open_failed) and doubles the cooldown up to the cap', () => {
    const { clock, breaker, transitions } = rig();
    fail(breaker, 5);
    const cooldowns: number[] = [breaker.cooldownMs];
    for (let i = 0; i < 6; i++) {
      clock.advance(breaker.cooldownMs);
      assert.equal(breaker.state, 'half-open');
      breaker.recordFailure();
      assert.equal(breaker.state, 'open');
      assert.equal(breaker.retryAt, clock.now() + breaker.cooldownMs);
      cooldowns.push(breaker.cooldownMs);
    }
    assert.deepEqual(cooldowns, [30_000, 60_000, 120_000, 240_000, 300_000, 300_000, 300_000]);
    const reopen = transitions.filter((t) => t.reason === 'half_open_failed');
    assert.equal(reopen.length, 6);
    assert.deepEqual(reopen[0], {
      server: 'srv',
      from: 'half-open',
      to: 'open',
      reason: 'half_open_failed',
      retryAt: reopen[0]!.retryAt,
    });
  });

  it('honours custom thresholds and cooldowns', () => {
    const { clock, breaker } = rig({ failureThreshold: 2, cooldownMs: 1000, maxCooldownMs: 3000 });
    fail(breaker, 2);
    assert.equal(breaker.state, 'open');
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) {
      clock.advance(breaker.cooldownMs);
      breaker.recordFailure();
      seen.push(breaker.cooldownMs);
    }
    assert.deepEqual(seen, [2000, 3000, 3000, 3000]);
  });

  it('floors the failure threshold at 1', () => {
    const { breaker } = rig({ failureThreshold: 0 });
    breaker.recordFailure();
    assert.equal(breaker.state, 'open');
  });

  it('reset() from open: closed, manual_reset, timer cancelled, counters cleared, base cooldown', () => {
    const { clock, breaker, transitions } = rig();
    fail(breaker, 5);
    clock.advance(30_000);
    breaker.recordFailure(); // open at 60 s
    assert.equal(clock.pending, 1);
    breaker.reset();
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.consecutiveFailures, 0);
    assert.equal(breaker.cooldownMs, 30_000);
    assert.equal(breaker.retryAt, null);
    assert.equal(clock.pending, 0);
    assert.deepEqual(transitions.at(-1), { server: 'srv', from: 'open', to: 'closed', reason: 'manual_reset' });
    clock.advance(600_000);
    assert.equal(breaker.state, 'closed', 'the cancelled timer never fires');
  });

  it('reset() from half-open closes it; from closed it only clears the count', () => {
    const { clock, breaker, transitions } = rig();
    fail(breaker, 5);
    clock.advance(30_000);
    breaker.reset();
    assert.deepEqual(transitions.at(-1), { server: 'srv', from: 'half-open', to: 'closed', reason: 'manual_reset' });
    const before = transitions.length;
    fail(breaker, 3);
    breaker.reset();
    assert.equal(breaker.consecutiveFailures, 0);
    assert.equal(transitions.length, before, 'no transition fired from closed');
  });

  it('delivers transitions in order when the probe fails synchronously inside the probe listener', () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker('srv', {}, clock);
    const first: string[] = [];
    const second: string[] = [];
    breaker.onDidChangeState((t) => first.push(`${t.from}->${t.to}`));
    breaker.onDidRequestProbe(() => breaker.recordFailure()); // child is dead: probe fails at once
    breaker.onDidChangeState((t) => second.push(`${t.from}->${t.to}`));
    fail(breaker, 5);
    clock.advance(30_000);
    const expected = ['closed->open', 'open->half-open', 'half-open->open'];
    assert.deepEqual(first, expected);
    assert.deepEqual(second, expected);
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.cooldownMs, 60_000);
  });

  it('a throwing listener does not break the breaker or the other listeners', () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker('srv', {}, clock);
    const seen: string[] = [];
    breaker.onDidChangeState(() => {
      throw new Error('bad view');
    });
    breaker.onDidRequestProbe(() => {
      throw new Error('bad prober');
    });
    breaker.onDidChangeState((t) => seen.push(t.to));
    fail(breaker, 5);
    clock.advance(30_000);
    breaker.recordSuccess();
    assert.deepEqual(seen, ['open', 'half-open', 'closed']);
    assert.equal(breaker.state, 'closed');
    assert.equal(listenerErrors.length, 4);
  });

  it('any number of subscribers; unsubscribing stops delivery', () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker('srv', {}, clock);
    const a: string[] = [];
    const b: string[] = [];
    const subA = breaker.onDidChangeState((t) => a.push(t.to));
    breaker.onDidChangeState((t) => b.push(t.to));
    fail(breaker, 5);
    subA.dispose();
    clock.advance(30_000);
    assert.deepEqual(a, ['open']);
    assert.deepEqual(b, ['open', 'half-open']);
  });

  it('dispose() cancels the cooldown timer and makes it inert', () => {
    const { clock, breaker, transitions } = rig();
    fail(breaker, 5);
    breaker.dispose();
    assert.equal(clock.pending, 0);
    clock.advance(60_000);
    breaker.recordSuccess();
    breaker.reset();
    assert.equal(breaker.state, 'open');
    assert.equal(transitions.length, 1);
  });
});
