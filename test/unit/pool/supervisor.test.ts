import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../../extension/common/clock';
import { Supervisor } from '../../../extension/pool/supervisor';

const options = {
  backoff: { initialMs: 500, multiplier: 2, maxMs: 30_000, jitter: 0 },
  maxCrashes: 5,
  crashWindowMs: 300_000,
  stableMs: 10_000,
};

describe('Supervisor', () => {
  test('the first crash after a ready run respawns at once, the following ones back off', () => {
    const clock = new ManualClock();
    const s = new Supervisor(options, clock, () => 0.5);
    s.onReady();
    assert.deepEqual(s.onCrash(), { kind: 'respawn', delayMs: 0 });
    s.onReady();
    clock.advance(1000);
    assert.deepEqual(s.onCrash(), { kind: 'respawn', delayMs: 500 });
    s.onReady();
    clock.advance(1000);
    assert.deepEqual(s.onCrash(), { kind: 'respawn', delayMs: 1000 });
  });

  test('a crash before ever becoming ready backs off from the start', () => {
    const s = new Supervisor(options, new ManualClock(), () => 0.5);
    assert.deepEqual(s.onCrash(), { kind: 'respawn', delayMs: 500 });
  });

  test('a stable run resets the backoff: the next crash is immediate again', () => {
    const clock = new ManualClock();
    const s = new Supervisor(options, clock, () => 0.5);
    s.onReady();
    s.onCrash();
    s.onReady();
    s.onCrash();
    s.onReady();
    clock.advance(10_000);
    assert.deepEqual(s.onCrash(), { kind: 'respawn', delayMs: 0 });
  });

  test('five crashes inside five minutes give up; crashes spread wider do not', () => {
    const clock = new ManualClock();
    const s = new Supervisor(options, clock, () => 0.5);
    for (let i = 0; i < 4; i++) {
      assert.equal(s.onCrash().kind, 'respawn');
      clock.advance(10_000);
    }
    assert.deepEqual(s.onCrash(), { kind: 'give_up', crashes: 5, windowMs: 300_000 });

    const spread = new Supervisor(options, clock, () => 0.5);
    for (let i = 0; i < 10; i++) {
      assert.equal(spread.onCrash().kind, 'respawn', `crash ${i}`);
      clock.advance(100_000);
    }
  });

  test('reset (manual respawn) forgets the crash history', () => {
    const clock = new ManualClock();
    const s = new Supervisor(options, clock, () => 0.5);
    for (let i = 0; i < 4; i++) s.onCrash();
    s.reset();
    for (let i = 0; i < 4; i++) assert.equal(s.onCrash().kind, 'respawn');
  });
});
