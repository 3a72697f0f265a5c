import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import vm from 'node:vm';
import { BurstCollector, processProbe, type BurstCollectorOptions } from '../../../extension/cli/burstCollector';

const MB = 1024 * 1024;
const OPTIONS: BurstCollectorOptions = { periodMs: 1000, quietBelow: 0.05, quietPeriods: 3, growthBytes: 16 * MB };

/** A process whose loop load and RSS the test sets; a collection brings the RSS to `afterCollect`. */
function fakeProcess(rssMb: number) {
  const state = { busy: 0, rss: rssMb * MB, afterCollect: rssMb * MB, collections: 0 };
  const probe = {
    busy: () => state.busy,
    rss: () => state.rss,
    collect: () => {
      state.collections++;
      state.rss = state.afterCollect;
    },
  };
  return { state, probe };
}

/** Runs `periods` looks; returns how many collected. */
function look(collector: BurstCollector, periods: number): number {
  let collected = 0;
  for (let i = 0; i < periods; i++) if (collector.check()) collected++;
  return collected;
}

describe('BurstCollector', () => {
  it('collects once when a burst that grew the process is followed by enough quiet periods', () => {
    const { state, probe } = fakeProcess(100);
    const collector = new BurstCollector(probe, OPTIONS);
    state.busy = 0.9;
    state.rss = 160 * MB;
    assert.equal(look(collector, 10), 0, 'never during the burst');
    state.busy = 0.01;
    assert.equal(look(collector, 2), 0, 'not before quietPeriods quiet periods');
    state.afterCollect = 105 * MB;
    assert.equal(look(collector, 1), 1, 'on the third quiet period');
    assert.equal(look(collector, 20), 0, 'and not again while nothing grows');
    assert.equal(state.collections, 1);
  });

  it('a busy period restarts the count of quiet ones', () => {
    const { state, probe } = fakeProcess(100);
    const collector = new BurstCollector(probe, OPTIONS);
    state.rss = 160 * MB;
    state.busy = 0.01;
    look(collector, 2);
    state.busy = 0.5;
    look(collector, 1);
    state.busy = 0.01;
    assert.equal(look(collector, 2), 0);
    assert.equal(look(collector, 1), 1);
  });

  it('never collects in a quiet process that did not grow, nor for growth under growthBytes', () => {
    const { state, probe } = fakeProcess(100);
    const collector = new BurstCollector(probe, OPTIONS);
    assert.equal(look(collector, 50), 0);
    state.rss = 115 * MB;
    assert.equal(look(collector, 50), 0);
    assert.equal(state.collections, 0);
  });

  it('measures growth from the lowest RSS seen, so the next burst is judged from where the process settled', () => {
    const { state, probe } = fakeProcess(100);
    const collector = new BurstCollector(probe, OPTIONS);
    state.rss = 160 * MB;
    state.afterCollect = 150 * MB; // right after the GC, before V8 has handed the pages back
    assert.equal(look(collector, 3), 1);
    state.rss = 104 * MB; // the pages went back
    assert.equal(look(collector, 5), 0);
    state.rss = 125 * MB; // a second burst: +21 MB over 104, though under the 150 read after the GC
    state.busy = 0.8;
    look(collector, 1);
    state.busy = 0;
    assert.equal(look(collector, 3), 1);
  });

  it('the process probe runs a real full GC without leaving gc exposed to other code', async () => {
    const probe = processProbe();
    let target: object | undefined = { payload: 'x'.repeat(1000) };
    const ref = new WeakRef(target);
    target = undefined;
    // A WeakRef keeps its target alive until the current job ends.
    await new Promise((r) => setImmediate(r));
    probe.collect();
    assert.equal(ref.deref(), undefined);
    assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
    assert.equal(vm.runInNewContext('typeof gc'), 'undefined');
    const busy = probe.busy();
    assert.ok(busy >= 0 && busy <= 1, `busy share ${busy}`);
    assert.ok(probe.rss() > 0);
  });
});
