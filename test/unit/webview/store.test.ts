import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROTOCOL_VERSION, type DashboardDidPatch, type DashboardDidSnapshot, type DashboardPatch, type DashboardState } from '../../../extension/protocol/webview';
import { applyPatch } from '../../../webview/applyPatch';
import { REQUEST_RETRY_MS, reduce, refresh, start, tick, type ViewState } from '../../../webview/store';
import { readUiState } from '../../../webview/uiState';
import { auditEvent, entry, state } from './fixtures';

const snap = (revision: number, s: DashboardState = state(), hostNow = 10_000): DashboardDidSnapshot => ({
  type: 'dashboard/didSnapshot',
  protocolVersion: PROTOCOL_VERSION,
  revision,
  hostNow,
  state: s,
});
const patch = (baseRevision: number, revision: number, p: DashboardPatch, hostNow = 10_000): DashboardDidPatch => ({
  type: 'dashboard/didPatch',
  baseRevision,
  revision,
  hostNow,
  patch: p,
});

function live(revision = 5): ViewState {
  return reduce(start(0).state, snap(revision), 0).state;
}

describe('webview reducer', () => {
  it('starts waiting and announces itself with the protocol version', () => {
    const { state: s, send } = start(100);
    assert.equal(s.connection, 'waiting');
    assert.equal(s.data, null);
    assert.deepEqual(send, [{ type: 'webview/ready', protocolVersion: PROTOCOL_VERSION }]);
  });

  it('takes a snapshot whole, with its revision and the host clock offset', () => {
    const { state: s, send } = reduce(start(0).state, snap(7, state(), 5_000), 4_000);
    assert.equal(s.connection, 'live');
    assert.equal(s.revision, 7);
    assert.deepEqual(s.data, state());
    assert.equal(s.clockOffsetMs, 1_000);
    assert.equal(s.awaitingSince, null);
    assert.deepEqual(send, []);
  });

  it('applies a patch stamped with its revision and moves to the patch revision', () => {
    const before = live(5);
    const changed = entry('flaky', { state: 'crashed', restarts: 1 });
    const { state: s, send } = reduce(before, patch(5, 9, { servers: [changed] }), 0);
    assert.equal(s.revision, 9);
    assert.equal(s.connection, 'live');
    assert.deepEqual(s.data?.servers.map((e) => e.view.state), ['ready', 'crashed']);
    assert.deepEqual(send, []);
    assert.deepEqual(before.data?.servers[1].view.state, 'ready', 'the previous state is not modified');
  });

  it('ignores a duplicate or stale patch', () => {
    const s = live(5);
    for (const p of [patch(4, 5, { removed: ['echo'] }), patch(1, 3, { removed: ['echo'] })]) {
      const r = reduce(s, p, 0);
      assert.equal(r.state, s);
      assert.deepEqual(r.send, []);
    }
  });

  it('asks for a snapshot on a revision gap, once, and drops patches until it comes', () => {
    const gap = reduce(live(5), patch(6, 7, { removed: ['echo'] }), 1_000);
    assert.equal(gap.state.connection, 'resyncing');
    assert.equal(gap.state.revision, 5, 'nothing applied');
    assert.equal(gap.state.data?.servers.length, 2);
    assert.deepEqual(gap.send, [{ type: 'dashboard/getSnapshot', reason: 'gap' }]);

    const later = reduce(gap.state, patch(7, 8, { removed: ['flaky'] }), 1_100);
    assert.equal(later.state, gap.state, 'dropped while resyncing');
    assert.deepEqual(later.send, [], 'no second request');

    const resynced = reduce(later.state, snap(8, state({ servers: [entry('flaky')] })), 1_200);
    assert.equal(resynced.state.connection, 'live');
    assert.equal(resynced.state.revision, 8);
    assert.deepEqual(resynced.state.data?.servers.map((e) => e.view.name), ['flaky']);
    // And patches flow again from the new revision.
    const next = reduce(resynced.state, patch(8, 9, { servers: [entry('echo')] }), 1_300);
    assert.equal(next.state.revision, 9);
    assert.deepEqual(next.state.data?.servers.map((e) => e.view.name), ['flaky', 'echo']);
  });

  it('ignores patches before the first snapshot (the answer to ready is a snapshot)', () => {
    const waiting = start(0).state;
    const r = reduce(waiting, patch(0, 1, {}), 10);
    assert.equal(r.state, waiting);
    assert.deepEqual(r.send, []);
  });

  it('re-sends an unanswered ready or snapshot request after a while, not before', () => {
    const waiting = start(0).state;
    assert.deepEqual(tick(waiting, REQUEST_RETRY_MS - 1).send, []);
    const retried = tick(waiting, REQUEST_RETRY_MS);
    assert.deepEqual(retried.send, [{ type: 'webview/ready', protocolVersion: PROTOCOL_VERSION }]);
    assert.deepEqual(tick(retried.state, REQUEST_RETRY_MS + 10).send, [], 'the retry restarts the wait');

    const resyncing = reduce(live(5), patch(7, 8, {}), 0).state;
    assert.deepEqual(tick(resyncing, REQUEST_RETRY_MS).send, [{ type: 'dashboard/getSnapshot', reason: 'retry' }]);
    assert.deepEqual(tick(live(5), 1e9).send, []);
  });

  it('refuses a snapshot of another protocol version until a compatible one arrives', () => {
    const bad = reduce(start(0).state, { ...snap(3), protocolVersion: PROTOCOL_VERSION + 1 }, 0);
    assert.equal(bad.state.connection, 'incompatible');
    assert.equal(bad.state.hostProtocolVersion, PROTOCOL_VERSION + 1);
    assert.equal(bad.state.data, null);
    assert.equal(reduce(bad.state, patch(3, 4, {}), 0).state, bad.state);
    assert.deepEqual(tick(bad.state, 1e9).send, []);
    assert.equal(reduce(bad.state, snap(4), 0).state.connection, 'live');
  });

  it('asks for a snapshot when the user refreshes', () => {
    const r = refresh(live(5), 50);
    assert.equal(r.state.connection, 'resyncing');
    assert.deepEqual(r.send, [{ type: 'dashboard/getSnapshot', reason: 'user' }]);
  });
});

describe('applyPatch', () => {
  it('upserts, removes and reorders servers; unnamed servers are kept after the order', () => {
    const s = state({ servers: [entry('a'), entry('b'), entry('c')] });
    const next = applyPatch(s, { servers: [entry('d'), entry('b', { state: 'crashed' })], removed: ['a'], order: ['d', 'c'] });
    assert.deepEqual(next.servers.map((e) => `${e.view.name}:${e.view.state}`), ['d:ready', 'c:ready', 'b:crashed']);
  });

  it('appends new servers last without an order', () => {
    const next = applyPatch(state(), { servers: [entry('zeta')] });
    assert.deepEqual(next.servers.map((e) => e.view.name), ['echo', 'flaky', 'zeta']);
  });

  it('appends audit events, skips ones it has, keeps the last 50', () => {
    const s = state({ audit: [auditEvent(1), auditEvent(2)] });
    const once = applyPatch(s, { audit: [auditEvent(2), auditEvent(3)] });
    assert.deepEqual(once.audit.map((e) => e.seq), [1, 2, 3]);
    const many = applyPatch(once, { audit: Array.from({ length: 60 }, (_, i) => auditEvent(4 + i)) });
    assert.equal(many.audit.length, 50);
    assert.equal(many.audit[0].seq, 14);
    assert.equal(many.audit[49].seq, 63);
  });

  it('replaces session blocks and gateway (null included) only when present', () => {
    const s = state();
    const blocks = [{ server: 'flaky', open_transitions: 3, threshold: 3, emitted_at: 'x', message: 'm' }];
    assert.deepEqual(applyPatch(s, { session_blocks: blocks }).session_blocks, blocks);
    assert.equal(applyPatch(s, {}).gateway, s.gateway);
    assert.equal(applyPatch(s, { gateway: null }).gateway, null);
    assert.deepEqual(applyPatch(s, {}), s, 'an empty patch changes nothing');
  });

  it('is idempotent', () => {
    const p: DashboardPatch = { servers: [entry('x')], removed: ['echo'], audit: [auditEvent(9)] };
    const once = applyPatch(state(), p);
    assert.deepEqual(applyPatch(once, p), once);
  });
});

describe('ui state: the chosen gateway', () => {
  it('is read back from a stored state, defensively', () => {
    assert.deepEqual(readUiState({ filter: 'x', expanded: [], gateway: 'file:///web' }), { filter: 'x', expanded: [], gateway: 'file:///web' });
    assert.deepEqual(readUiState({ filter: 'x', expanded: [], gateway: 7 }), { filter: 'x', expanded: [] });
  });
});
