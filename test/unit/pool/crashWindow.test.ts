import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../extension/common/clock';
import { CrashWindow } from '../../../extension/pool/crashWindow';

describe('CrashWindow', () => {
  it('gives up on the fifth crash inside five minutes', () => {
    const clock = new ManualClock();
    const window = new CrashWindow({}, clock);
    for (let i = 0; i < 4; i++) {
      assert.equal(window.record(), false, `crash ${i + 1}`);
      clock.advance(60_000);
    }
    assert.equal(window.count, 4);
    assert.equal(window.record(), true);
    assert.equal(window.count, 5);
  });

  it('slides: crashes older than the window no longer count', () => {
    const clock = new ManualClock();
    const window = new CrashWindow({}, clock);
    for (let i = 0; i < 4; i++) {
      window.record();
      clock.advance(80_000);
    }
    // First crash was at 0, now is 320 s: it has left the window.
    assert.equal(window.count, 3);
    assert.equal(window.record(), false);
    assert.equal(window.count, 4);
  });

  it('a crash exactly windowMs ago has left the window', () => {
    const clock = new ManualClock();
    const window = new CrashWindow({ maxCrashes: 2, windowMs: 1000 }, clock);
    window.record();
    clock.advance(999);
    assert.equal(window.count, 1);
    clock.advance(1);
    assert.equal(window.count, 0);
    assert.equal(window.record(), false);
  });

  it('keeps answering true while still over the limit', () => {
    const clock = new ManualClock();
    const window = new CrashWindow({ maxCrashes: 2, windowMs: 10_000 }, clock);
    assert.equal(window.record(), false);
    assert.equal(window.record(), true);
    assert.equal(window.record(), true);
    assert.equal(window.count, 2, 'memory is bounded to maxCrashes entries');
  });

  it('reset() forgets every crash', () => {
    const clock = new ManualClock();
    const window = new CrashWindow({ maxCrashes: 3 }, clock);
    window.record();
    window.record();
    window.reset();
    assert.equal(window.count, 0);
    assert.equal(window.record(), false);
    assert.equal(window.record(), false);
    assert.equal(window.record(), true);
  });

  it('floors maxCrashes at 1 and rejects a bad window', () => {
    const clock = new ManualClock();
    assert.equal(new CrashWindow({ maxCrashes: 0 }, clock).record(), true);
    assert.throws(() => new CrashWindow({ windowMs: 0 }, clock), RangeError);
  });
});
