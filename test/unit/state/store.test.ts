import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setListenerErrorHandler } from '../../../extension/common/event';
import type { DownstreamView, SessionBlockView } from '../../../extension/protocol/model';
import { StateStore, type StoreChange } from '../../../extension/state/store';
import { downstreamView as view } from '../../helpers/downstreamView';


function block(server: string, overrides: Partial<SessionBlockView> = {}): SessionBlockView {
  return {
    server,
    open_transitions: 3,
    threshold: 3,
    emitted_at: '2026-04-20T12:05:00.000Z',
    message: `${server} is blocked`,
    ...overrides,
  };
}

function rig() {
  const store = new StateStore({ sessionId: 'sess-1', startedAt: Date.parse('2026-04-20T12:00:00.000Z') });
  const changes: StoreChange[] = [];
  store.onDidChange((c) => changes.push(c));
  return { store, changes };
}

const names = (store: StateStore) => store.snapshot.downstreams.map((d) => d.name);

describe('StateStore', () => {
  let listenerErrors: unknown[] = [];
  beforeEach(() => {
    listenerErrors = [];
    setListenerErrorHandler((err) => listenerErrors.push(err));
  });
  afterEach(() => setListenerErrorHandler(() => undefined));

  it('starts at revision 0 with an empty, frozen snapshot', () => {
    const { store } = rig();
    const s = store.snapshot;
    assert.deepEqual(s, {
      revision: 0,
      session_id: 'sess-1',
      started_at: '2026-04-20T12:00:00.000Z',
      downstreams: [],
      session_blocks: [],
    });
    assert.ok(Object.isFrozen(s));
    assert.ok(Object.isFrozen(s.downstreams));
    assert.ok(Object.isFrozen(s.session_blocks));
    assert.equal(new StateStore({ sessionId: 'x', startedAt: '2020-01-01T00:00:00.000Z' }).snapshot.started_at, '2020-01-01T00:00:00.000Z');
  });

  it('inserts a downstream, bumps the revision by one and reports the name', () => {
    const { store, changes } = rig();
    store.setDownstream(view('a'));
    assert.equal(store.snapshot.revision, 1);
    assert.equal(changes.length, 1);
    assert.equal(changes[0]!.revision, 1);
    assert.equal(changes[0]!.snapshot, store.snapshot);
    assert.deepEqual(changes[0]!.changed, ['a']);
    assert.equal(changes[0]!.sessionBlocks, false);
    assert.deepEqual(store.getDownstream('a'), view('a'));
  });

  it('a structurally equal write is a no-op: no event, no revision bump', () => {
    const { store, changes } = rig();
    store.setDownstream(view('a', { latency_ms: { p50: 3, p95: 9 } }));
    const before = store.snapshot;
    // A fresh object with a different key order and equal content.
    const same = JSON.parse(JSON.stringify(view('a', { latency_ms: { p95: 9, p50: 3 } }))) as DownstreamView;
    store.setDownstream(same);
    assert.equal(store.snapshot, before);
    assert.equal(changes.length, 1);
    store.setDownstream(view('a', { latency_ms: { p50: 3, p95: 10 } }));
    assert.equal(store.snapshot.revision, 2);
  });

  it('replacing keeps the first-insert position; new names go last', () => {
    const { store, changes } = rig();
    store.setDownstream(view('c'));
    store.setDownstream(view('a'));
    store.setDownstream(view('b'));
    store.setDownstream(view('a', { calls: 5 }));
    assert.deepEqual(names(store), ['c', 'a', 'b']);
    assert.equal(store.getDownstream('a')?.calls, 5);
    assert.deepEqual(changes.at(-1)!.changed, ['a']);
  });

  it('freezes deeply and copies: the caller may keep mutating its object', () => {
    const { store } = rig();
    const mine = view('a', { last_exit: { code: 1, signal: null, at: '2026-04-20T12:01:00.000Z' } });
    store.setDownstream(mine);
    assert.equal(Object.isFrozen(mine), false);
    const stored = store.snapshot.downstreams[0]!;
    assert.ok(Object.isFrozen(stored));
    assert.ok(Object.isFrozen(stored.latency_ms));
    assert.ok(Object.isFrozen(stored.last_exit));
    assert.throws(() => {
      (stored as { calls: number }).calls = 99;
    }, TypeError);
    mine.calls = 77;
    mine.latency_ms.p50 = 1;
    assert.equal(store.snapshot.downstreams[0]!.calls, 0);
    assert.equal(store.snapshot.downstreams[0]!.latency_ms.p50, null);
  });

  it('old snapshots stay valid and unchanged entries are shared between revisions', () => {
    const { store } = rig();
    store.setDownstream(view('a'));
    store.setDownstream(view('b'));
    const old = store.snapshot;
    store.setDownstream(view('b', { calls: 1 }));
    const next = store.snapshot;
    assert.notEqual(old, next);
    assert.equal(old.downstreams[1]!.calls, 0);
    assert.equal(next.downstreams[0], old.downstreams[0], 'a is the same object');
    assert.notEqual(next.downstreams[1], old.downstreams[1]);
    assert.equal(next.session_blocks, old.session_blocks);
  });

  it('removes downstreams; unknown names are ignored', () => {
    const { store, changes } = rig();
    store.setDownstream(view('a'));
    store.setDownstream(view('b'));
    store.removeDownstream('zzz');
    assert.equal(changes.length, 2);
    store.removeDownstream('a');
    assert.deepEqual(names(store), ['b']);
    assert.deepEqual(changes.at(-1)!.changed, ['a']);
    assert.equal(store.snapshot.revision, 3);
    // Re-adding puts it last: it is a new insert.
    store.setDownstream(view('a'));
    assert.deepEqual(names(store), ['b', 'a']);
  });

  it('setOrder reorders, reports what moved, and places later inserts by that order', () => {
    const { store, changes } = rig();
    store.setDownstream(view('c'));
    store.setDownstream(view('x'));
    store.setDownstream(view('a'));
    store.setOrder(['a', 'b', 'c']);
    assert.deepEqual(names(store), ['a', 'c', 'x'], 'unlisted names follow in first-insert order');
    assert.deepEqual([...changes.at(-1)!.changed].sort(), ['a', 'c', 'x']);
    assert.equal(store.snapshot.revision, 4);
    store.setOrder(['a', 'b', 'c']);
    assert.equal(store.snapshot.revision, 4, 'same order: no change');
    store.setDownstream(view('b'));
    assert.deepEqual(names(store), ['a', 'b', 'c', 'x']);
    store.setDownstream(view('y'));
    assert.deepEqual(names(store), ['a', 'b', 'c', 'x', 'y']);
  });

  it('setOrder before any insert orders the inserts', () => {
    const { store } = rig();
    store.setOrder(['one', 'two', 'three']);
    assert.equal(store.snapshot.revision, 0);
    store.setDownstream(view('three'));
    store.setDownstream(view('one'));
    store.setDownstream(view('two'));
    assert.deepEqual(names(store), ['one', 'two', 'three']);
  });

  it('adds, replaces and clears session blocks', () => {
    const { store, changes } = rig();
    store.addSessionBlock(block('a'));
    assert.deepEqual(store.snapshot.session_blocks, [block('a')]);
    assert.ok(Object.isFrozen(store.snapshot.session_blocks[0]));
    assert.equal(changes.at(-1)!.sessionBlocks, true);
    assert.deepEqual(changes.at(-1)!.changed, []);
    store.addSessionBlock(block('a'));
    assert.equal(changes.length, 1, 'equal block: no-op');
    store.addSessionBlock(block('b'));
    store.addSessionBlock(block('a', { open_transitions: 4 }));
    assert.deepEqual(
      store.snapshot.session_blocks.map((b) => [b.server, b.open_transitions]),
      [
        ['a', 4],
        ['b', 3],
      ],
    );
    store.clearSessionBlock('nope');
    assert.equal(changes.length, 3);
    store.clearSessionBlock('a');
    assert.deepEqual(
      store.snapshot.session_blocks.map((b) => b.server),
      ['b'],
    );
    assert.equal(store.snapshot.revision, 4);
  });

  it('the revision rises by exactly one per effective change', () => {
    const { store, changes } = rig();
    store.setDownstream(view('a'));
    store.setDownstream(view('a'));
    store.setDownstream(view('b'));
    store.addSessionBlock(block('a'));
    store.setOrder(['b', 'a']);
    store.removeDownstream('b');
    store.clearSessionBlock('a');
    assert.deepEqual(
      changes.map((c) => c.revision),
      [1, 2, 3, 4, 5, 6],
    );
    assert.equal(store.snapshot.revision, 6);
  });

  it('any number of subscribers; a throwing one does not stop the others', () => {
    const { store } = rig();
    const seen: number[][] = [[], [], []];
    store.onDidChange((c) => seen[0]!.push(c.revision));
    store.onDidChange(() => {
      throw new Error('bad view');
    });
    const sub = store.onDidChange((c) => seen[1]!.push(c.revision));
    store.onDidChange((c) => seen[2]!.push(c.revision));
    store.setDownstream(view('a'));
    sub.dispose();
    store.setDownstream(view('b'));
    assert.deepEqual(seen, [[1, 2], [1], [1, 2]]);
    assert.equal(listenerErrors.length, 2);
  });

  it('a change made inside a listener reaches every listener after the current one, in order', () => {
    const { store } = rig();
    const first: number[] = [];
    const second: number[] = [];
    store.onDidChange((c) => {
      first.push(c.revision);
      if (c.revision === 1) store.setDownstream(view('a', { calls: 1 }));
    });
    store.onDidChange((c) => {
      second.push(c.revision);
      assert.equal(c.snapshot.revision, c.revision);
    });
    store.setDownstream(view('a'));
    assert.deepEqual(first, [1, 2]);
    assert.deepEqual(second, [1, 2]);
    assert.equal(store.snapshot.revision, 2);
  });

  it('ignores changes after dispose', () => {
    const { store, changes } = rig();
    store.dispose();
    store.setDownstream(view('a'));
    assert.equal(changes.length, 0);
    assert.equal(store.snapshot.revision, 0);
  });
});
