import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../../extension/common/clock';
import { RestartPolicy } from '../../../extension/lsp/restartPolicy';

test('restarts after each of the first 3 crashes, stops at the 4th within 3 minutes and says so', () => {
  const clock = new ManualClock();
  const policy = new RestartPolicy(clock);
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(policy.closed(), { restart: true });
    clock.advance(30_000);
  }
  const fourth = policy.closed();
  assert.equal(fourth.restart, false);
  assert.match(fourth.restart === false ? fourth.message : '', /crashed 4 times in 3 minutes and will not be restarted/);
});

test('crashes older than 3 minutes do not count', () => {
  const clock = new ManualClock();
  const policy = new RestartPolicy(clock);
  for (let i = 0; i < 10; i++) {
    assert.deepEqual(policy.closed(), { restart: true }, `crash ${i}`);
    clock.advance(61_000);
  }
});

test('reset forgets earlier crashes', () => {
  const clock = new ManualClock();
  const policy = new RestartPolicy(clock);
  policy.closed();
  policy.closed();
  policy.closed();
  policy.reset();
  assert.deepEqual(policy.closed(), { restart: true });
});
