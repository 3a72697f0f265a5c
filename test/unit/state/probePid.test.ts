import assert from 'node:assert/strict';
import { test } from 'node:test';
import { probePid } from '../../../extension/state/probePid';

test('probePid: our own pid is alive; 0, negative and non-integer pids are never signalled', () => {
  assert.equal(probePid(process.pid), 'alive');
  // kill(0, 0) / kill(-1, 0) would succeed (process groups) and read as "alive".
  assert.equal(probePid(0), 'unknown');
  assert.equal(probePid(-1), 'unknown');
  assert.equal(probePid(1.5), 'unknown');
});

test('probePid: a pid no process has is dead', () => {
  assert.equal(probePid(2 ** 22 + 12345), 'dead');
});
