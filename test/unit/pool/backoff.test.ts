import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from '../../../extension/pool/backoff';

/** A "random" source that always returns the same value: 0.5 means no jitter. */
const fixed = (value: number) => () => value;

describe('Backoff', () => {
  it('doubles from 500 ms and caps at 30 s (no jitter at random = 0.5)', () => {
    const backoff = new Backoff({}, fixed(0.5));
    const delays = Array.from({ length: 9 }, () => backoff.next());
    assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    assert.equal(backoff.attempt, 9);
  });

  it('spreads each delay by at most ±20 %', () => {
    assert.equal(new Backoff({}, fixed(0)).next(), 400);
    assert.equal(new Backoff({}, fixed(0.999999)).next(), 600);
    const low = new Backoff({}, fixed(0));
    const lows = Array.from({ length: 4 }, () => low.next());
    assert.deepEqual(lows, [400, 800, 1600, 3200]);
  });

  it('never exceeds maxMs, even with upward jitter at the cap', () => {
    const high = new Backoff({}, fixed(0.999999));
    for (let i = 0; i < 20; i++) assert.ok(high.next() <= 30_000);
    const low = new Backoff({}, fixed(0));
    for (let i = 0; i < 10; i++) low.next();
    assert.equal(low.next(), 24_000, 'at the cap the spread only goes downwards');
  });

  it('stays within bounds with Math.random over many attempts', () => {
    const backoff = new Backoff();
    for (let i = 0; i < 2000; i++) {
      const expected = Math.min(30_000, 500 * 2 ** i);
      const delay = backoff.next();
      assert.ok(Number.isInteger(delay));
      assert.ok(delay >= Math.floor(expected * 0.8) && delay <= Math.min(30_000, Math.ceil(expected * 1.2)), `attempt ${i}: ${delay}`);
    }
  });

  it('reset() starts over at the initial delay', () => {
    const backoff = new Backoff({}, fixed(0.5));
    backoff.next();
    backoff.next();
    backoff.next();
    backoff.reset();
    assert.equal(backoff.attempt, 0);
    assert.equal(backoff.next(), 500);
    assert.equal(backoff.attempt, 1);
  });

  it('honours custom options', () => {
    const backoff = new Backoff({ initialMs: 100, multiplier: 3, maxMs: 1000, jitter: 0 }, fixed(0.9));
    assert.deepEqual(
      Array.from({ length: 4 }, () => backoff.next()),
      [100, 300, 900, 1000],
    );
  });

  it('rejects nonsensical options', () => {
    assert.throws(() => new Backoff({ initialMs: 0 }), RangeError);
    assert.throws(() => new Backoff({ maxMs: Number.NaN }), RangeError);
    assert.throws(() => new Backoff({ multiplier: Number.POSITIVE_INFINITY }), RangeError);
  });
});
