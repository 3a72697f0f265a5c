import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChildProcessTransport } from '../../../extension/pool/childTransport';
import { RingBuffer } from '../../../extension/pool/ringBuffer';
import { SpawnGate } from '../../../extension/pool/spawnGate';

describe('SpawnGate', () => {
  it('runs queued spawns in order, one per event-loop turn, never in the caller\'s turn', async () => {
    const gate = new SpawnGate();
    const log: string[] = [];
    // Each task schedules work for the next turn, as an answer arriving on a pipe would be.
    const runs = Array.from({ length: 5 }, (_, i) =>
      gate.run(() => {
        log.push(`spawn ${i}`);
        setImmediate(() => log.push(`other work after ${i}`));
        return i;
      }),
    );
    assert.deepEqual(log, [], 'nothing runs in the turn that queued the spawns');
    assert.equal(gate.queued, 5);
    assert.deepEqual(await Promise.all(runs), [0, 1, 2, 3, 4]);
    await new Promise((r) => setImmediate(r));
    // With ten servers restarting together, the calls in between are served between two forks.
    assert.deepEqual(log, ['spawn 0', 'other work after 0', 'spawn 1', 'other work after 1', 'spawn 2', 'other work after 2', 'spawn 3', 'other work after 3', 'spawn 4', 'other work after 4']);
    assert.equal(gate.queued, 0);
  });

  it('a spawn that throws rejects its own caller only; the next ones still run', async () => {
    const gate = new SpawnGate();
    const first = gate.run(() => {
      throw new Error('EINVAL');
    });
    const second = gate.run(() => 'ran');
    await assert.rejects(first, /EINVAL/);
    assert.equal(await second, 'ran');
  });

  it('a transport closed while waiting for its turn never spawns; the others start', async () => {
    const env = { ...(process.env as Record<string, string>) };
    const transports = Array.from({ length: 4 }, () => new ChildProcessTransport({ command: process.execPath, args: ['-e', 'setTimeout(() => {}, 60000)'], env }, new RingBuffer(4096)));
    const starts = transports.map((t) => t.start());
    // Closed right away: resolveLaunch is still pending or the spawn is still queued.
    const closing = transports[2]!.close();
    const outcomes = await Promise.allSettled(starts);
    await closing;
    try {
      assert.deepEqual(
        outcomes.map((o) => o.status),
        ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
      );
      assert.equal(transports[2]!.pid, undefined, 'no child for the closed transport');
      for (const i of [0, 1, 3]) assert.ok(transports[i]!.pid, `transport ${i} has a child`);
    } finally {
      await Promise.all(transports.map((t) => t.close()));
    }
  });
});
