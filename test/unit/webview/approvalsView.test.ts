import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../extension/common/clock';
import { summarizeHealth } from '../../../extension/host/healthSummary';
import { DashboardModel } from '../../../extension/host/panel/dashboardModel';
import type { ApprovalsView } from '../../../extension/protocol/model';
import { parseHostToWebview } from '../../../extension/protocol/webview';
import { FakeProvider, FakeSource, settle } from './fixtures';

const waiting: ApprovalsView = {
  waiting: [
    { id: 'a1', client: 'Claude Code', server: 'github', tool: 'delete_repo', tier: 'destructive', arguments: '{"repo":"x"}', asked: 'editor', since: '2026-12-01T22:00:00.000Z', expires_at: '2026-12-01T22:02:00.000Z' },
  ],
  recent: [],
};
const decided: ApprovalsView = {
  waiting: [],
  recent: [{ id: 'a1', client: 'Claude Code', server: 'github', tool: 'delete_repo', tier: 'destructive', decision: 'denied', answered_by: 'timeout', wait_ms: 120_000, at: '2026-12-01T22:02:00.000Z' }],
};

describe('approvals in the dashboard and the status bar', () => {
  it('the model sends the gateway info again when approvals change, and the protocol accepts it', async () => {
    const source = new FakeSource();
    const model = new DashboardModel(new FakeProvider(source), { clock: new ManualClock() });
    await settle();
    const changes: boolean[] = [];
    model.onDidChange((c) => changes.push(c.gateway));
    source.store.setApprovals(waiting);
    assert.deepEqual(model.gatewayInfo()?.approvals, waiting);
    source.store.setApprovals(decided);
    assert.deepEqual(model.gatewayInfo()?.approvals, decided);
    assert.deepEqual(changes, [true, true]);
    const message = { type: 'dashboard/didPatch', baseRevision: 0, revision: 1, hostNow: 0, patch: { gateway: model.gatewayInfo() } };
    assert.ok(parseHostToWebview(message).ok);
    const bad = { ...message, patch: { gateway: { ...model.gatewayInfo(), approvals: { waiting: [{ ...waiting.waiting[0], tier: 'lethal' }], recent: [] } } } };
    assert.ok(!parseHostToWebview(bad).ok);
    model.dispose();
  });

  it('the health summary counts calls waiting for approval and says so first among warnings', () => {
    const source = new FakeSource();
    source.store.setApprovals(waiting);
    const s = summarizeHealth([{ name: 'ws', state: 'running', snapshot: source.store.snapshot, configBroken: false, halted: false }]);
    assert.equal(s.approvalsWaiting, 1);
    assert.equal(s.severity, 'warning');
    assert.equal(s.problems[0], '1 call waiting for your approval');
  });
});
