import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { YoungGenerationCap, youngGenerationGiven } from '../../../extension/cli/youngGenerationCap';

const execFileAsync = promisify(execFile);
const MB = 1024 * 1024;

/**
 * A child process that churns with a live set (what 200 calls in flight look like to V8) and
 * starts a worker thread halfway; prints its young generation's size in MB at the end.
 */
const CHURN = `
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import capModule from ${JSON.stringify(path.resolve(__dirname, '../../../extension/cli/youngGenerationCap.ts'))};
const { YoungGenerationCap } = capModule;
if (process.argv.includes('cap')) new YoungGenerationCap(4).start();
const live = new Map();
const churn = async (rounds) => {
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < 500; i++) {
      const id = r * 500 + i;
      live.set(id, { text: 'x'.repeat(512) + id, parts: [{ id }, { id }] });
      if (live.size > 4000) live.delete(id - 4000);
    }
    // Small tasks, as a gateway's messages are: the GC observer runs between them (one task
    // that allocates 30 MB outgrows the cap before the observer can stop it).
    await new Promise((r) => setImmediate(r));
  }
};
await churn(1600);
const worker = new Worker('setTimeout(() => undefined, 50)', { eval: true });
await new Promise((r) => worker.once('online', r));
await churn(1600);
await worker.terminate();
const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
process.stdout.write(String(space.space_size / ${MB}));
`;

async function youngGenerationAfterChurn(cap: boolean): Promise<number> {
  const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHURN, '--', ...(cap ? ['cap'] : [])], { timeout: 120_000 });
  return Number(stdout);
}

describe('YoungGenerationCap (gatehouse serve)', () => {
  it('lets the young generation grow below the cap and stops it at the cap', () => {
    let size = 2 * MB;
    const set: number[] = [];
    const cap = new YoungGenerationCap(4, { newSpaceBytes: () => size, setGrowthFactor: (f) => set.push(f) });
    assert.equal(cap.adjust(), 2);
    size = 8 * MB; // two 4 MiB semi-spaces
    assert.equal(cap.adjust(), 1);
    size = 16 * MB; // grown past it (a worker reset the factor): still stopped
    assert.equal(cap.adjust(), 1);
    assert.deepEqual(set, [2, 1, 1], 'set every time: V8 resets the factor when a worker starts');
  });

  it('keeps a churning process at the cap, across a worker start, where V8 alone grows to 32 MB', async () => {
    const [capped, uncapped] = await Promise.all([youngGenerationAfterChurn(true), youngGenerationAfterChurn(false)]);
    assert.ok(capped <= 8, `capped young generation ${capped} MB (two 4 MiB semi-spaces)`);
    assert.ok(uncapped > 8, `uncapped young generation ${uncapped} MB: the churn must be heavy enough to grow it`);
  });

  it('defers to a young-generation size the user gave node', () => {
    assert.equal(youngGenerationGiven([], ''), false);
    assert.equal(youngGenerationGiven(['--max-semi-space-size=8'], ''), true);
    assert.equal(youngGenerationGiven([], '--enable-source-maps --max_semi_space_size=2'), true);
    assert.equal(youngGenerationGiven([], '--min-semi-space-size=2'), true);
  });
});
