import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LogSummary } from '../../../../extension/gateway/routing/logSummary';

describe('LogSummary', () => {
  test('the first message of a server is written at once, the rest of its window as counts by level at the end or at flush', () => {
    const written: Array<[string, Record<string, number>]> = [];
    // A window no test waits for: the flush ends it.
    const summary = new LogSummary((server, levels) => void written.push([server, levels as Record<string, number>]), 3_600_000);
    summary.note('a', 'info');
    summary.note('a', 'info');
    summary.note('a', 'error');
    summary.note('a', 'info');
    summary.note('b', 'debug');
    assert.deepEqual(written, [['a', { info: 1 }], ['b', { debug: 1 }]]);
    summary.flush();
    assert.deepEqual(written.slice(2), [['a', { info: 2, error: 1 }]], 'b had nothing after its first message');
    summary.note('a', 'warning');
    assert.deepEqual(written.at(-1), ['a', { warning: 1 }], 'a new window begins with a record');
    summary.flush();
  });
});
