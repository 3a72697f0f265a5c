// Multi-root: one model per folder's gateway, a panel's selection of one, and the session that
// posts it. As in dashboardSession.test.ts, every delivered message goes through the webview's
// own reducer, so "the webview equals what the host shows" is checked end to end.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '../../../extension/common/clock';
import type { Logger } from '../../../extension/common/logger';
import { runDashboardAction, type ActionPrompts } from '../../../extension/host/panel/dashboardActions';
import { DashboardModels } from '../../../extension/host/panel/dashboardModels';
import { DashboardSelection } from '../../../extension/host/panel/dashboardSelection';
import { DashboardSession } from '../../../extension/host/panel/dashboardSession';
import { PROTOCOL_VERSION, type ActionDidComplete, type DashboardDidPatch, type HostToWebview } from '../../../extension/protocol/webview';
import { fallbackText } from '../../../webview/fallbackText';
import { reduce, select, start, type ViewState } from '../../../webview/store';
import { FakeSource, FakeSources, gatewayEntry, settle, view } from './fixtures';

const API = 'file:///api';
const WEB = 'file:///web';

interface Harness {
  clock: ManualClock;
  api: FakeSource;
  web: FakeSource;
  sources: FakeSources;
  models: DashboardModels;
  feed: DashboardSelection;
  session: DashboardSession;
  posted: HostToWebview[];
  warnings: string[];
  webview: ViewState;
  /** Resolves the freeze prompt (held open by the test). */
  answerFreeze: (reason: string) => void;
}

function setup(chosen?: string): Harness {
  const clock = new ManualClock(1_700_000_000_000);
  const api = new FakeSource('api', 'session-api');
  api.store.setDownstream(view('echo'));
  api.store.setDownstream(view('flaky'));
  const web = new FakeSource('web', 'session-web');
  // The same server name in both folders: routing must not go by name.
  web.store.setDownstream(view('echo'));
  const sources = new FakeSources([gatewayEntry('api', api), gatewayEntry('web', web)]);
  const warnings: string[] = [];
  const logger: Logger = { trace() {}, debug() {}, info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
  const models = new DashboardModels(sources, { clock, logger });
  const feed = new DashboardSelection(models, chosen);
  const h = { clock, api, web, sources, models, feed, posted: [], warnings, webview: start(clock.now()).state } as unknown as Harness;
  const prompts: ActionPrompts = {
    confirmDisable: async () => true,
    freezeReason: () => new Promise((resolve) => (h.answerFreeze = resolve)),
  };
  h.session = new DashboardSession({
    feed,
    clock,
    logger,
    visible: true,
    runAction: (request, target) => runDashboardAction(request, target, prompts),
    post: (message) => {
      const copy = JSON.parse(JSON.stringify(message)) as HostToWebview;
      h.posted.push(copy);
      if (copy.type !== 'action/didComplete') h.webview = reduce(h.webview, copy, clock.now()).state;
      return Promise.resolve(true);
    },
  });
  return h;
}

/** Ready, the audit tails read, the first snapshot delivered. */
async function connect(h: Harness): Promise<void> {
  await settle();
  h.session.receive({ type: 'webview/ready', protocolVersion: PROTOCOL_VERSION });
  h.clock.advance(0);
}

const lastOf = <T extends HostToWebview['type']>(h: Harness, type: T) =>
  h.posted.filter((m): m is Extract<HostToWebview, { type: T }> => m.type === type).at(-1);

function dispose(h: Harness): void {
  h.session.dispose();
  h.feed.dispose();
  h.models.dispose();
}

describe('dashboard selection (multi-root)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = setup();
    await connect(h);
  });
  afterEach(() => dispose(h));

  it('shows the first running gateway and lists every folder with its state', () => {
    const data = h.webview.data!;
    assert.equal(h.webview.connection, 'live');
    assert.equal(data.gateway?.label, 'api');
    assert.deepEqual(data.picker, {
      gateways: [
        { id: API, label: 'api', state: 'running' },
        { id: WEB, label: 'web', state: 'running' },
      ],
      shown: API,
      chosen: { id: API, label: 'api' },
      fallback: null,
    });
  });

  it('switches on gateway/select with a snapshot at a higher revision, and never patches the old gateway onto the new', () => {
    h.api.store.setDownstream(view('flaky', { calls: 1 }));
    h.clock.advance(100);
    const apiPatch = lastOf(h, 'dashboard/didPatch');
    assert.ok(apiPatch, 'api changes reach the webview while api is shown');
    const before = h.webview.revision;

    // A change of api is pending when the user switches: it must not follow as a patch.
    h.api.store.setDownstream(view('flaky', { calls: 2 }));
    h.session.receive({ type: 'gateway/select', gateway: WEB });
    const sentBefore = h.posted.length;
    h.clock.advance(100);
    const after = h.posted.slice(sentBefore);
    assert.deepEqual(after.map((m) => m.type), ['dashboard/didSnapshot']);
    assert.ok(h.webview.revision > before, 'revisions never go back across a switch');
    assert.equal(h.webview.data?.gateway?.label, 'web');
    assert.equal(h.webview.data?.picker.shown, WEB);
    assert.deepEqual(h.webview.data?.servers.map((s) => s.view.name), ['echo']);

    // A late copy of api's patch (a duplicate, a reordering) does not fit web's revision.
    const stale: DashboardDidPatch = { ...apiPatch, baseRevision: apiPatch.baseRevision, revision: apiPatch.revision };
    assert.equal(reduce(h.webview, stale, h.clock.now()).state, h.webview, 'the old gateway’s patch is dropped');

    // The old gateway is no longer heard; the new one is, as patches on its snapshot.
    const count = h.posted.length;
    h.api.store.setDownstream(view('flaky', { state: 'crashed' }));
    h.clock.advance(200);
    assert.equal(h.posted.length, count, 'nothing posted for a gateway not shown');
    h.web.store.setDownstream(view('echo', { calls: 5 }));
    h.clock.advance(200);
    assert.equal(lastOf(h, 'dashboard/didPatch')?.baseRevision, lastOf(h, 'dashboard/didSnapshot')?.revision);
    assert.deepEqual(h.webview.data, h.feed.state());
    assert.equal(h.webview.data?.servers[0].view.calls, 5);
  });

  it('drops patches in flight once the user chose another gateway, until its snapshot', () => {
    const chosen = select(h.webview, WEB, h.clock.now());
    assert.deepEqual(chosen.send, [{ type: 'gateway/select', gateway: WEB }]);
    assert.equal(chosen.state.connection, 'resyncing');
    const patch: DashboardDidPatch = { type: 'dashboard/didPatch', baseRevision: h.webview.revision, revision: h.webview.revision + 1, hostNow: 0, patch: { servers: [] } };
    assert.equal(reduce(chosen.state, patch, h.clock.now()).state, chosen.state);
    assert.deepEqual(select(h.webview, API, h.clock.now()).send, [], 'choosing the gateway shown asks nothing');
  });

  it('answers an unknown gateway with a snapshot of the one shown (the webview does not wait in vain)', () => {
    const count = h.posted.length;
    h.session.receive({ type: 'gateway/select', gateway: 'file:///gone' });
    h.clock.advance(100);
    assert.equal(h.posted.slice(count).map((m) => m.type).join(), 'dashboard/didSnapshot');
    assert.equal(h.webview.data?.picker.shown, API);
    assert.ok(h.warnings.some((w) => w.includes('no longer exists')));
  });

  it('falls back to the first running gateway when the chosen one stops, says so, and returns when it runs again', async () => {
    h.session.receive({ type: 'gateway/select', gateway: WEB });
    h.clock.advance(100);
    h.sources.update('web', undefined, 'idle');
    h.clock.advance(100);
    let picker = h.webview.data!.picker;
    assert.equal(picker.shown, API);
    assert.equal(h.webview.data?.gateway?.label, 'api', 'no blank dashboard');
    assert.deepEqual(picker.chosen, { id: WEB, label: 'web' }, 'the choice is kept');
    assert.equal(picker.fallback, 'stopped');
    assert.equal(fallbackText(picker), 'The gateway of web is not running: showing api until it runs again.');

    const web2 = new FakeSource('web', 'session-web-2');
    web2.store.setDownstream(view('other'));
    h.sources.update('web', web2);
    await settle();
    h.clock.advance(100);
    picker = h.webview.data!.picker;
    assert.equal(picker.shown, WEB);
    assert.equal(picker.fallback, null);
    assert.deepEqual(h.webview.data?.servers.map((s) => s.view.name), ['other']);
    assert.deepEqual(h.webview.data, h.feed.state());
  });

  it('keeps showing the chosen gateway while it restarts (no flip to another folder and back)', () => {
    h.session.receive({ type: 'gateway/select', gateway: WEB });
    h.clock.advance(100);
    h.sources.update('web', undefined, 'stopping');
    h.sources.update('web', undefined, 'starting');
    h.clock.advance(100);
    assert.equal(h.webview.data?.picker.shown, WEB);
    assert.equal(h.webview.data?.picker.fallback, null);
    assert.equal(h.webview.data?.gateway, null, 'nothing to show while it restarts');
    assert.deepEqual(h.webview.data?.picker.gateways.map((g) => g.state), ['running', 'starting']);
  });

  it('says why: a failed gateway, a folder removed from the workspace', () => {
    h.session.receive({ type: 'gateway/select', gateway: WEB });
    h.sources.update('web', undefined, 'failed');
    h.clock.advance(100);
    assert.equal(h.webview.data?.picker.fallback, 'failed');
    assert.equal(fallbackText(h.webview.data!.picker), 'The gateway of web failed: showing api until it runs again.');
    h.sources.set([gatewayEntry('api', h.api)]);
    h.clock.advance(100);
    const picker = h.webview.data!.picker;
    assert.equal(picker.fallback, 'removed');
    assert.equal(fallbackText(picker), 'web is no longer in the workspace: showing api.');
    assert.deepEqual(picker.gateways.map((g) => g.id), [API]);
  });

  it('routes actions to the gateway shown, never to another folder’s server of the same name', async () => {
    h.session.receive({ type: 'gateway/select', gateway: WEB });
    h.clock.advance(100);
    h.session.receive({ type: 'server/respawn', requestId: 1, gateway: WEB, server: 'echo' });
    // A webview that had not seen the switch yet still clicked on api: refused, nothing runs.
    h.session.receive({ type: 'server/respawn', requestId: 2, gateway: API, server: 'echo' });
    await settle();
    assert.deepEqual(h.web.calls, ['respawn echo']);
    assert.deepEqual(h.api.calls, []);
    const done = h.posted.filter((m): m is ActionDidComplete => m.type === 'action/didComplete');
    assert.deepEqual(
      done.map((d) => [d.requestId, d.ok, d.message]),
      [
        [1, true, 'Respawning echo.'],
        [2, false, 'The dashboard switched to web: nothing was done.'],
      ],
    );
  });

  it('acts on the gateway clicked even when the panel switches while the action waits for its prompt', async () => {
    h.session.receive({ type: 'gateway/freeze', requestId: 1, gateway: API });
    await settle();
    h.session.receive({ type: 'gateway/select', gateway: WEB });
    h.clock.advance(100);
    h.answerFreeze('incident');
    await settle();
    assert.deepEqual(h.api.calls, ['freeze incident']);
    assert.deepEqual(h.web.calls, []);
  });

  it('keeps every gateway’s history while another one is shown', () => {
    h.session.receive({ type: 'gateway/select', gateway: WEB });
    h.clock.advance(100);
    h.api.store.setDownstream(view('flaky', { circuit_state: 'open', state: 'crashed' }));
    h.clock.advance(10_000);
    h.session.receive({ type: 'gateway/select', gateway: API });
    h.clock.advance(100);
    const flaky = h.webview.data?.servers.find((s) => s.view.name === 'flaky');
    assert.deepEqual(flaky?.circuit.map((t) => t.state), ['closed', 'open'], 'the opening while web was shown is on the timeline');
  });
});

describe('dashboard selection: choice from outside', () => {
  it('opens on the gateway the command or the restored panel names', async () => {
    const h = setup(WEB);
    await connect(h);
    assert.equal(h.webview.data?.picker.shown, WEB);
    assert.equal(h.webview.data?.gateway?.label, 'web');
    dispose(h);
  });

  it('restores a choice made before the manager lists its folders (a panel revived early), without a notice', () => {
    const web = new FakeSource('web', 'session-web');
    const sources = new FakeSources([]);
    const models = new DashboardModels(sources);
    const feed = new DashboardSelection(models, WEB);
    assert.deepEqual(feed.picker(), { gateways: [], shown: null, chosen: { id: WEB, label: 'web' }, fallback: null });
    sources.set([gatewayEntry('api', new FakeSource('api'), 'starting'), gatewayEntry('web', web)]);
    assert.equal(feed.picker().shown, WEB);
    assert.equal(feed.picker().fallback, null);
    assert.equal(feed.state().gateway?.label, 'web');
    feed.dispose();
    models.dispose();
  });

  it('names a restored choice whose folder is gone, and shows a running one', async () => {
    const h = setup('file:///gone%20folder');
    await connect(h);
    assert.equal(h.webview.data?.picker.shown, API);
    assert.equal(fallbackText(h.webview.data!.picker), 'gone folder is no longer in the workspace: showing api.');
    dispose(h);
  });

  it('with one gateway: the picker has one entry and nothing falls back', async () => {
    const h = setup();
    h.sources.set([gatewayEntry('api', h.api)]);
    await connect(h);
    assert.equal(h.webview.data?.picker.gateways.length, 1);
    h.sources.update('api', undefined, 'idle');
    h.clock.advance(100);
    assert.equal(h.webview.data?.picker.shown, API);
    assert.equal(h.webview.data?.picker.fallback, null);
    assert.equal(h.webview.data?.gateway, null);
    dispose(h);
  });
});
