// The host side of the dashboard protocol without VS Code: the model follows a source built on
// a real StateStore, the session posts to a recorder, and the recorded messages are fed through
// the webview's own reducer, so both ends of the protocol are exercised together.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '../../../extension/common/clock';
import type { Logger } from '../../../extension/common/logger';
import { runDashboardAction, type ActionPrompts } from '../../../extension/host/panel/dashboardActions';
import { DashboardModel } from '../../../extension/host/panel/dashboardModel';
import { DashboardModels } from '../../../extension/host/panel/dashboardModels';
import { DashboardSelection } from '../../../extension/host/panel/dashboardSelection';
import { DashboardSession, MAX_PUSHES_PER_SECOND, type ActionRunner } from '../../../extension/host/panel/dashboardSession';
import { PROTOCOL_VERSION, type ActionDidComplete, type HostToWebview } from '../../../extension/protocol/webview';
import { formatTelemetry } from '../../../webview/format';
import { reduce, start, type ViewState } from '../../../webview/store';
import { FakeProvider, FakeSource, FakeSources, gatewayEntry, record, settle, view } from './fixtures';

interface Harness {
  clock: ManualClock;
  source: FakeSource;
  sources: FakeSources;
  models: DashboardModels;
  /** What the panel shows (the session's feed). */
  feed: DashboardSelection;
  session: DashboardSession;
  posted: { at: number; message: HostToWebview }[];
  warnings: string[];
  /** What post() answers (true = delivered). */
  deliver: boolean;
  /** The webview's reducer state, fed with every delivered data message. */
  webview: ViewState;
  webviewSent: string[];
}

function setup(options: { runAction?: ActionRunner; visible?: boolean } = {}): Harness {
  const clock = new ManualClock(1_700_000_000_000);
  const source = new FakeSource();
  source.store.setOrder(['echo', 'flaky']);
  source.store.setDownstream(view('echo'));
  source.store.setDownstream(view('flaky'));
  const sources = new FakeSources([gatewayEntry('ws', source)]);
  const warnings: string[] = [];
  const logger: Logger = { trace() {}, debug() {}, info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
  const models = new DashboardModels(sources, { clock, logger });
  const feed = new DashboardSelection(models);
  const h = { clock, source, sources, models, feed, posted: [], warnings, deliver: true, webview: start(clock.now()).state, webviewSent: [] } as unknown as Harness;
  h.session = new DashboardSession({
    feed,
    clock,
    logger,
    visible: options.visible ?? true,
    runAction: options.runAction ?? (async () => undefined),
    post: (message) => {
      // Through JSON, as postMessage does: nothing may depend on object identity.
      const copy = JSON.parse(JSON.stringify(message)) as HostToWebview;
      h.posted.push({ at: clock.now(), message: copy });
      if (h.deliver && copy.type !== 'action/didComplete') {
        const r = reduce(h.webview, copy, clock.now());
        h.webview = r.state;
        h.webviewSent.push(...r.send.map((m) => m.type));
      }
      return Promise.resolve(h.deliver);
    },
  });
  return h;
}

const ready = { type: 'webview/ready', protocolVersion: PROTOCOL_VERSION };
/** The id of the harness's one folder. */
const WS = 'file:///ws';
const types = (h: Harness): string[] => h.posted.map((p) => p.message.type);

describe('dashboard session (host)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = setup();
    await settle(); // the audit tail
  });
  afterEach(() => {
    h.session.dispose();
    h.feed.dispose();
    h.models.dispose();
  });

  it('posts nothing before webview/ready, then answers it with a snapshot at the model revision', async () => {
    h.source.store.setDownstream(view('echo', { calls: 1 }));
    h.clock.advance(1_000);
    assert.equal(h.posted.length, 0);
    h.session.receive(ready);
    h.clock.advance(0);
    assert.deepEqual(types(h), ['dashboard/didSnapshot']);
    const snap = h.posted[0].message;
    assert.ok(snap.type === 'dashboard/didSnapshot');
    assert.equal(snap.revision, h.feed.revision);
    assert.equal(snap.protocolVersion, PROTOCOL_VERSION);
    assert.equal(snap.hostNow, h.clock.now());
    assert.deepEqual(snap.state.servers.map((s) => s.view.name), ['echo', 'flaky']);
    assert.equal(snap.state.gateway?.label, 'ws');
    assert.equal(h.webview.connection, 'live');
  });

  it('coalesces a burst into one patch stamped with the revision it applies to', () => {
    h.session.receive(ready);
    h.clock.advance(200);
    const base = h.feed.revision;
    for (let i = 1; i <= 50; i++) h.source.store.setDownstream(view('flaky', { calls: i }));
    h.clock.advance(100);
    assert.deepEqual(types(h), ['dashboard/didSnapshot', 'dashboard/didPatch']);
    const patch = h.posted[1].message;
    assert.ok(patch.type === 'dashboard/didPatch');
    assert.equal(patch.baseRevision, base);
    assert.equal(patch.revision, base + 50);
    assert.deepEqual(patch.patch.servers?.map((s) => [s.view.name, s.view.calls]), [['flaky', 50]]);
    assert.equal(patch.patch.removed, undefined);
    assert.deepEqual(h.webview.data, h.feed.state());
  });

  it(`never posts more than ${MAX_PUSHES_PER_SECOND} state messages in any second`, () => {
    h.session.receive(ready);
    for (let ms = 0; ms < 3_000; ms++) {
      h.source.store.setDownstream(view('echo', { calls: ms + 1 }));
      h.clock.advance(1);
    }
    h.clock.advance(1_000);
    const times = h.posted.map((p) => p.at);
    assert.ok(times.length >= 25, `kept up (${times.length} posts)`);
    for (let i = 0; i + MAX_PUSHES_PER_SECOND < times.length; i++) {
      assert.ok(times[i + MAX_PUSHES_PER_SECOND] - times[i] >= 1_000, `posts ${i}..${i + MAX_PUSHES_PER_SECOND} within a second`);
    }
    assert.equal(h.webview.revision, h.feed.revision);
    assert.deepEqual(h.webview.data, h.feed.state(), 'nothing lost to coalescing');
  });

  it('keeps the webview equal to the model through every kind of change', async () => {
    h.session.receive(ready);
    h.clock.advance(0);
    const store = h.source.store;
    const steps: (() => void)[] = [
      () => store.setDownstream(view('flaky', { state: 'crashed', circuit_state: 'open', retry_at: '2026-01-01T00:00:30.000Z', calls: 4, errors: 1 })),
      () => store.setDownstream(view('third')),
      () => store.setOrder(['third', 'flaky', 'echo']),
      () => store.addSessionBlock({ server: 'flaky', open_transitions: 3, threshold: 3, emitted_at: '2026-01-01T00:00:00.000Z', message: 'blocked' }),
      () => h.source.audit.fire([record(1), record(2)]),
      () => store.removeDownstream('echo'),
      () => {
        h.source.haltInfo = { halted: true, reason: 'incident' };
        h.source.haltChanged.fire();
      },
      () => store.setDownstream(view('echo', { state: 'starting' })),
      () => store.clearSessionBlock('flaky'),
      () => h.source.audit.fire(Array.from({ length: 70 }, (_, i) => record(10 + i))),
      () => store.setDownstream(view('flaky', { state: 'ready', circuit_state: 'half-open' })),
    ];
    for (const [i, step] of steps.entries()) {
      step();
      // Sometimes several changes land in one window, sometimes each gets its own patch.
      h.clock.advance(i % 3 === 0 ? 30 : 150);
    }
    h.clock.advance(200);
    assert.equal(h.webview.connection, 'live');
    assert.deepEqual(h.webviewSent, [], 'no gap was ever seen');
    assert.equal(h.webview.revision, h.feed.revision);
    assert.deepEqual(h.webview.data, h.feed.state());
    const data = h.webview.data!;
    assert.deepEqual(data.servers.map((s) => s.view.name), ['third', 'flaky', 'echo']);
    assert.equal(data.gateway?.halted, true);
    assert.equal(data.audit.length, 50);
    assert.equal(data.audit[49].tool, 'tool79');
    assert.deepEqual(
      data.servers.find((s) => s.view.name === 'flaky')?.circuit.map((t) => t.state),
      ['closed', 'open', 'half-open'],
      'the timeline is built from every change, not only the ones posted',
    );
    assert.ok(types(h).filter((t) => t === 'dashboard/didSnapshot').length === 1);
  });

  it('carries the OpenTelemetry drop counts on the gateway line, through the validator, as a patch', () => {
    h.session.receive(ready);
    h.clock.advance(0);
    const shown = () => h.webview.data?.gateway?.telemetry;
    assert.equal(shown(), null, 'export off: no counts');
    const counts = (exported: number, dropped: number, failed_exports = 0) => ({ exported, dropped, failed_exports });
    h.source.store.setTelemetry({ spans: counts(10, 0), logs: counts(10, 0), metrics: counts(2, 0) });
    h.clock.advance(150);
    h.source.store.setTelemetry({ spans: counts(10, 7, 2), logs: counts(10, 7, 2), metrics: counts(2, 1, 1) });
    h.clock.advance(150);
    assert.deepEqual(h.webviewSent, [], 'no gap was ever seen');
    const last = h.posted.at(-1)?.message;
    assert.ok(last?.type === 'dashboard/didPatch' && last.patch.gateway, 'the change went out as a gateway patch');
    assert.deepEqual(shown()?.spans, { exported: 10, dropped: 7, failed_exports: 2 });
    assert.deepEqual(h.webview.data, h.feed.state());
    assert.equal(
      formatTelemetry(shown()),
      'Telemetry: spans 10 exported, 7 dropped (2 failed exports); audit records 10 exported, 7 dropped (2 failed exports) — some telemetry was lost (collector down, slow or refusing)',
    );
    assert.equal(formatTelemetry(null), '');
  });

  it('posts nothing while hidden and a fresh snapshot when shown again', () => {
    h.session.receive(ready);
    h.clock.advance(0);
    h.session.setVisible(false);
    h.source.store.setDownstream(view('flaky', { state: 'crashed' }));
    h.clock.advance(5_000);
    assert.deepEqual(types(h), ['dashboard/didSnapshot']);
    h.session.setVisible(true);
    h.clock.advance(0);
    assert.deepEqual(types(h), ['dashboard/didSnapshot', 'dashboard/didSnapshot']);
    assert.equal(h.webview.data?.servers[1].view.state, 'crashed');
  });

  it('answers a snapshot request, rate-limited like everything else', () => {
    h.session.receive(ready);
    h.clock.advance(0);
    for (let i = 0; i < 20; i++) h.session.receive({ type: 'dashboard/getSnapshot', reason: 'user' });
    h.clock.advance(100);
    assert.deepEqual(types(h), ['dashboard/didSnapshot', 'dashboard/didSnapshot']);
  });

  it('recovers from a lost post with a snapshot (a patch would not fit)', () => {
    h.session.receive(ready);
    h.clock.advance(0);
    h.deliver = false;
    h.source.store.setDownstream(view('flaky', { state: 'crashed' }));
    h.clock.advance(100);
    assert.equal(types(h).at(-1), 'dashboard/didPatch');
    h.deliver = true;
    return settle().then(() => {
      h.clock.advance(1_000);
      assert.equal(types(h).at(-1), 'dashboard/didSnapshot');
      assert.deepEqual(h.webview.data, h.feed.state());
    });
  });

  it('logs and drops unknown and malformed messages', () => {
    for (const bad of [null, 'ready', { type: 'webview/ready' }, { type: 'server/kill', server: 'echo' }, { type: 'server/respawn', requestId: 'x', server: 'echo' }]) {
      h.session.receive(bad);
    }
    h.clock.advance(1_000);
    assert.deepEqual(h.posted, [], 'no ready got through');
    assert.equal(h.warnings.length, 5);
    assert.ok(h.warnings.every((w) => w.startsWith('dashboard: dropped a message from the webview')));
  });

  it('sends a snapshot when the gateway gets another service, and when there is none', async () => {
    h.session.receive(ready);
    h.clock.advance(0);
    const other = new FakeSource('other-folder', 'session-2');
    other.store.setDownstream(view('solo'));
    h.sources.update('ws', other);
    h.clock.advance(100);
    await settle();
    h.clock.advance(100);
    assert.equal(types(h).at(-1), 'dashboard/didSnapshot');
    assert.equal(h.webview.data?.gateway?.label, 'other-folder');
    assert.deepEqual(h.webview.data?.servers.map((s) => s.view.name), ['solo']);
    // The old gateway no longer reaches the dashboard.
    h.source.store.setDownstream(view('echo', { state: 'crashed' }));
    h.sources.set([]);
    h.clock.advance(100);
    assert.equal(h.webview.data?.gateway, null);
    assert.deepEqual(h.webview.data?.servers, []);
  });
});

describe('dashboard model: audit history', () => {
  it('merges the audit tail with records appended while it was read, without duplicates', async () => {
    const clock = new ManualClock();
    const source = new FakeSource();
    source.tail = [record(1), record(2), record(3)];
    let open: () => void = () => undefined;
    source.tailGate = new Promise((r) => (open = r));
    const model = new DashboardModel(new FakeProvider(source), { clock });
    source.audit.fire([record(3), record(4)]); // 3 is in the tail as well
    open();
    await settle();
    assert.deepEqual(model.state().audit.map((e) => e.tool), ['tool1', 'tool2', 'tool3', 'tool4']);
    source.audit.fire([record(5)]);
    assert.deepEqual(model.state().audit.map((e) => e.tool).at(-1), 'tool5');
    const seqs = model.state().audit.map((e) => e.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'seq increases');
    model.dispose();
  });
});

describe('dashboard actions', () => {
  const prompts = (answers: { confirm?: boolean; reason?: string } = {}): ActionPrompts => ({
    confirmDisable: async () => answers.confirm ?? true,
    freezeReason: async () => answers.reason,
  });

  it('routes each request to the source and answers with action/didComplete', async () => {
    const h = setup({ runAction: (r, target) => runDashboardAction(r, target, prompts({ reason: ' incident ' })) });
    const requests = [
      { type: 'server/respawn', requestId: 1, gateway: WS, server: 'flaky' },
      { type: 'circuit/reset', requestId: 2, gateway: WS, server: 'flaky' },
      { type: 'server/showOutput', requestId: 3, gateway: WS, server: 'echo' },
      { type: 'server/setEnabled', requestId: 4, gateway: WS, server: 'echo', enabled: false },
      { type: 'server/setEnabled', requestId: 5, gateway: WS, server: 'echo', enabled: true },
      { type: 'gateway/freeze', requestId: 6, gateway: WS },
      { type: 'gateway/unfreeze', requestId: 7, gateway: WS },
    ];
    for (const r of requests) h.session.receive(r);
    await settle();
    assert.deepEqual(h.source.calls, ['respawn flaky', 'reset flaky', 'output echo', 'enabled echo false', 'enabled echo true', 'freeze incident', 'unfreeze']);
    const done = h.posted.map((p) => p.message as ActionDidComplete);
    assert.deepEqual(done.map((d) => [d.requestId, d.ok]), requests.map((r) => [r.requestId, true]));
    assert.equal(done[0].message, 'Respawning flaky.');
    h.session.dispose();
    h.feed.dispose();
    h.models.dispose();
  });

  it('reports failures, unknown servers and cancelled prompts', async () => {
    const h = setup({ runAction: (r, target) => runDashboardAction(r, target, prompts({ confirm: false, reason: undefined })) });
    h.session.receive({ type: 'server/respawn', requestId: 1, gateway: WS, server: 'nope' });
    h.session.receive({ type: 'server/setEnabled', requestId: 2, gateway: WS, server: 'echo', enabled: false });
    h.session.receive({ type: 'gateway/freeze', requestId: 3, gateway: WS });
    await settle();
    h.source.failWith = 'child would not start';
    h.session.receive({ type: 'server/respawn', requestId: 4, gateway: WS, server: 'flaky' });
    await settle();
    const done = h.posted.map((p) => p.message as ActionDidComplete);
    assert.deepEqual(
      done.map((d) => [d.requestId, d.ok, d.message]),
      [
        [1, false, "No server 'nope' in this gateway."],
        [2, true, 'Cancelled.'],
        [3, true, 'Cancelled.'],
        [4, false, 'child would not start'],
      ],
    );
    assert.deepEqual(h.source.calls, ['respawn flaky'], 'nothing ran for the refused and cancelled ones');
    assert.ok(h.warnings.some((w) => w.includes('server/respawn failed')));
    h.session.dispose();
    h.feed.dispose();
    h.models.dispose();
  });
});
