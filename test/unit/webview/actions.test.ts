import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActionRequest } from '../../../extension/protocol/webview';
import { ActionTracker } from '../../../webview/actions';

describe('ActionTracker (webview)', () => {
  function tracker() {
    const posted: ActionRequest[] = [];
    let shown: string | null = 'file:///api';
    const t = new ActionTracker(
      (r) => posted.push(r),
      () => undefined,
      () => undefined,
      () => shown,
    );
    return { t, posted, show: (id: string | null) => (shown = id) };
  }

  it('stamps each request with the gateway shown when clicked', () => {
    const { t, posted, show } = tracker();
    t.run('respawn', 'echo');
    show('file:///web');
    t.run('respawn', 'echo');
    t.run('freeze');
    assert.deepEqual(posted, [
      { type: 'server/respawn', requestId: 1, gateway: 'file:///api', server: 'echo' },
      { type: 'server/respawn', requestId: 2, gateway: 'file:///web', server: 'echo' },
      { type: 'gateway/freeze', requestId: 3, gateway: 'file:///web' },
    ]);
  });

  it('keeps pending state per gateway: another folder’s "echo" is not disabled', () => {
    const { t, posted, show } = tracker();
    t.run('respawn', 'echo');
    assert.equal(t.isPending('respawn', 'echo'), true);
    t.run('respawn', 'echo');
    assert.equal(posted.length, 1, 'no double respawn');
    show('file:///web');
    assert.equal(t.isPending('respawn', 'echo'), false);
    show('file:///api');
    t.complete({ type: 'action/didComplete', requestId: 1, ok: true, message: null });
    assert.equal(t.isPending('respawn', 'echo'), false);
  });

  it('posts nothing before a gateway is shown', () => {
    const { t, posted, show } = tracker();
    show(null);
    t.run('unfreeze');
    assert.deepEqual(posted, []);
  });
});
