import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gatewayArgument } from '../../../extension/host/panel/gatewayArgument';
import { resolvePicker, type PickerCandidate } from '../../../extension/host/panel/resolvePicker';
import type { GatewayRunState } from '../../../extension/protocol/webview';
import { applyPatch } from '../../../webview/applyPatch';
import { picker, state } from './fixtures';

const c = (label: string, state: GatewayRunState): PickerCandidate => ({ id: `file:///${label}`, label, state, running: state === 'running' });
const chosen = (label: string) => ({ id: `file:///${label}`, label });

describe('resolvePicker', () => {
  it('without a choice: the first running gateway, else the first one, becomes the choice', () => {
    assert.deepEqual(resolvePicker([c('a', 'failed'), c('b', 'running')], null), {
      gateways: [
        { id: 'file:///a', label: 'a', state: 'failed' },
        { id: 'file:///b', label: 'b', state: 'running' },
      ],
      shown: 'file:///b',
      chosen: chosen('b'),
      fallback: null,
    });
    assert.equal(resolvePicker([c('a', 'starting'), c('b', 'idle')], null).shown, 'file:///a');
    assert.deepEqual(resolvePicker([], null), { gateways: [], shown: null, chosen: null, fallback: null });
  });

  it('shows the choice while it runs, starts or stops', () => {
    for (const s of ['running', 'starting', 'stopping'] as const) {
      const p = resolvePicker([c('a', 'running'), c('b', s)], chosen('b'));
      assert.equal(p.shown, 'file:///b', s);
      assert.equal(p.fallback, null, s);
    }
  });

  it('falls back to the first running one, saying why', () => {
    assert.deepEqual(
      [resolvePicker([c('a', 'running'), c('b', 'idle')], chosen('b')), resolvePicker([c('a', 'running'), c('b', 'failed')], chosen('b')), resolvePicker([c('a', 'running')], chosen('b'))].map(
        (p) => [p.shown, p.fallback, p.chosen?.id],
      ),
      [
        ['file:///a', 'stopped', 'file:///b'],
        ['file:///a', 'failed', 'file:///b'],
        ['file:///a', 'removed', 'file:///b'],
      ],
    );
  });

  it('with nothing running: stays on the choice (its header says it is not running), or the first one when it is gone', () => {
    assert.deepEqual(pick(resolvePicker([c('a', 'idle'), c('b', 'failed')], chosen('b'))), ['file:///b', null]);
    assert.deepEqual(pick(resolvePicker([c('a', 'idle')], chosen('b'))), ['file:///a', 'removed']);
    assert.deepEqual(pick(resolvePicker([], chosen('b'))), [null, null]);
  });

  it('follows a renamed folder', () => {
    const renamed = { ...c('b', 'running'), label: 'b2' };
    assert.deepEqual(resolvePicker([renamed], chosen('b')).chosen, { id: 'file:///b', label: 'b2' });
  });
});

function pick(p: ReturnType<typeof resolvePicker>): [string | null, string | null] {
  return [p.shown, p.fallback];
}

describe('gatewayArgument (gatehouse.openDashboard)', () => {
  const gateways = [
    { id: 'file:///w/api', label: 'api', path: '/w/api' },
    { id: 'file:///w/web', label: 'web', path: '/w/web' },
  ];
  const node = (fsPath: string) => ({ kind: 'gateway', gateway: { folder: { uri: { fsPath } } } });

  it('takes a tree node, a folder name, path, id or Uri', () => {
    assert.equal(gatewayArgument(node('/w/web'), gateways), 'file:///w/web');
    assert.equal(gatewayArgument({ kind: 'folder', gateway: { folder: { uri: { fsPath: '/w/api' } } } }, gateways), 'file:///w/api');
    assert.equal(gatewayArgument('web', gateways), 'file:///w/web');
    assert.equal(gatewayArgument('/w/api', gateways), 'file:///w/api');
    assert.equal(gatewayArgument('file:///w/web', gateways), 'file:///w/web');
    assert.equal(gatewayArgument({ fsPath: '/w/web' }, gateways), 'file:///w/web');
  });

  it('undefined without an argument, null when it names no gateway', () => {
    assert.equal(gatewayArgument(undefined, gateways), undefined);
    assert.equal(gatewayArgument(null, gateways), undefined);
    assert.equal(gatewayArgument('docs', gateways), null);
    assert.equal(gatewayArgument(node('/elsewhere'), gateways), null);
    assert.equal(gatewayArgument(42, gateways), null);
  });
});

describe('applyPatch: picker', () => {
  it('replaces the picker when the patch carries one, keeps it otherwise', () => {
    const next = picker({ fallback: 'stopped', shown: 'file:///api' });
    assert.deepEqual(applyPatch(state(), { picker: next }).picker, next);
    assert.deepEqual(applyPatch(state(), {}).picker, picker());
  });
});
