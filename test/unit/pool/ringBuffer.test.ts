import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RingBuffer } from '../../../extension/pool/ringBuffer';

test('keeps complete lines, bounded by count and bytes, and counts what it dropped', () => {
  const ring = new RingBuffer(3, 1000, 10);
  const seen: string[] = [];
  ring.onDidAppend((l) => seen.push(l));
  ring.write('one\ntw');
  ring.write('o\r\nthree\nfour\n');
  assert.deepEqual(ring.snapshot(), ['two', 'three', 'four']);
  assert.equal(ring.dropped, 1);
  assert.deepEqual(seen, ['one', 'two', 'three', 'four']);
  ring.write('a very long line without end');
  assert.equal(ring.snapshot().at(-1), 'a very lon…', 'an endless partial line is flushed, cut');
  assert.equal(ring.lastLine(), 'a very lon…');
});

test('lastLine skips the supervisor\'s own lifecycle lines', () => {
  const ring = new RingBuffer();
  ring.write('child: listening\n');
  ring.push('[gatehouse info] ready: 6 tools, pid 42');
  assert.equal(ring.lastLine(), 'child: listening');
});
