import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JOIN_REUSE_MAX_BYTES, joinLine } from '../../../extension/pool/joinLine';
import { seeded } from '../../fixtures/secrets/secretCorpus';

/** `bytes` cut into random pieces: the chunks before the newline, and the last piece. */
function cut(bytes: Buffer, next: () => number): { chunks: Buffer[]; last: Buffer } {
  const pieces: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const n = 1 + Math.floor(next() * 70_000);
    pieces.push(Buffer.from(bytes.subarray(at, at + n)));
    at += n;
  }
  if (pieces.length < 2) pieces.unshift(Buffer.alloc(0));
  return { chunks: pieces.slice(0, -1), last: pieces[pieces.length - 1]! };
}

describe('joinLine', () => {
  it('joins the pieces exactly, in one buffer reused from line to line (longer and shorter lines alike)', () => {
    const next = seeded(31);
    let previous: ArrayBufferLike | undefined;
    let reused = 0;
    for (let round = 0; round < 40; round++) {
      const size = round % 10 === 0 ? 300_000 + Math.floor(next() * 200_000) : Math.floor(next() * 100_000);
      const bytes = Buffer.from(Array.from({ length: size }, () => Math.floor(next() * 256)));
      const { chunks, last } = cut(bytes, next);
      const line = joinLine(chunks, last, bytes.length);
      assert.equal(Buffer.compare(line, bytes), 0, `round ${round}: ${size} bytes`);
      if (line.buffer === previous) reused++;
      previous = line.buffer;
    }
    assert.ok(reused >= 30, `the buffer was reused (${reused} of 39 lines)`);
  });

  it('gives a line longer than the reuse bound a buffer of its own', () => {
    const small = joinLine([Buffer.from('ab')], Buffer.from('c'), 3);
    const size = JOIN_REUSE_MAX_BYTES + 10;
    const big = joinLine([Buffer.alloc(JOIN_REUSE_MAX_BYTES, 0x61)], Buffer.alloc(10, 0x62), size);
    assert.equal(big.length, size);
    assert.equal(big.subarray(JOIN_REUSE_MAX_BYTES).toString(), 'b'.repeat(10));
    assert.notEqual(big.buffer, small.buffer);
    assert.equal(joinLine([Buffer.from('ab')], Buffer.from('c'), 3).buffer, small.buffer, 'the kept buffer is still the reused one');
  });
});
