import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  PROTOCOL_VERSION,
  isActionRequest,
  isHostToWebview,
  isWebviewToHost,
  parseHostToWebview,
  parseWebviewToHost,
  readPersistedGateway,
  type HostToWebview,
  type WebviewToHost,
} from '../../../extension/protocol/webview';
import { auditEvent, entry, picker, state, view } from '../webview/fixtures';

const WS = 'file:///ws';

const fromWebview: WebviewToHost[] = [
  { type: 'webview/ready', protocolVersion: PROTOCOL_VERSION },
  { type: 'dashboard/getSnapshot', reason: 'gap' },
  { type: 'gateway/select', gateway: 'file:///other' },
  { type: 'server/respawn', requestId: 1, gateway: WS, server: 'flaky' },
  { type: 'circuit/reset', requestId: 2, gateway: WS, server: 'flaky' },
  { type: 'server/showOutput', requestId: 3, gateway: WS, server: 'echo' },
  { type: 'server/setEnabled', requestId: 4, gateway: WS, server: 'echo', enabled: false },
  { type: 'gateway/freeze', requestId: 5, gateway: WS },
  { type: 'gateway/unfreeze', requestId: 6, gateway: WS },
];

const fromHost: HostToWebview[] = [
  { type: 'dashboard/didSnapshot', protocolVersion: PROTOCOL_VERSION, revision: 3, hostNow: 1, state: state({ audit: [auditEvent(1)] }) },
  { type: 'dashboard/didSnapshot', protocolVersion: PROTOCOL_VERSION, revision: 0, hostNow: 1, state: state({ gateway: null, servers: [] }) },
  { type: 'dashboard/didPatch', baseRevision: 3, revision: 5, hostNow: 2, patch: {} },
  {
    type: 'dashboard/didSnapshot',
    protocolVersion: PROTOCOL_VERSION,
    revision: 7,
    hostNow: 1,
    state: state({
      picker: picker({
        gateways: [
          { id: WS, label: 'ws', state: 'failed' },
          { id: 'file:///api', label: 'api', state: 'running' },
        ],
        shown: 'file:///api',
        fallback: 'failed',
      }),
    }),
  },
  { type: 'dashboard/didPatch', baseRevision: 7, revision: 8, hostNow: 2, patch: { picker: picker({ shown: null, chosen: null, gateways: [] }) } },
  {
    type: 'dashboard/didPatch',
    baseRevision: 3,
    revision: 5,
    hostNow: 2,
    patch: {
      gateway: null,
      servers: [entry('echo', { last_exit: { code: null, signal: 'SIGKILL', at: '2026-04-20T12:00:00.000Z' } })],
      removed: ['old'],
      order: ['echo'],
      session_blocks: [{ server: 'flaky', open_transitions: 3, threshold: 3, emitted_at: '2026-04-20T12:00:00.000Z', message: 'blocked' }],
      audit: [auditEvent(2, { status: 'error', tier: 'destructive', error: 'boom' })],
    },
  },
  { type: 'action/didComplete', requestId: 1, ok: false, message: 'no such server' },
];

describe('protocol guards: webview → host', () => {
  it('accepts every message type', () => {
    for (const m of fromWebview) assert.deepEqual(parseWebviewToHost(m), { ok: true, message: m }, m.type);
    assert.ok(fromWebview.every(isWebviewToHost));
  });

  it('drops non-objects, unknown types and prototype keys with a reason', () => {
    for (const bad of [null, undefined, 42, 'webview/ready', [], [{ type: 'webview/ready' }]]) {
      assert.equal(parseWebviewToHost(bad).ok, false, JSON.stringify(bad));
    }
    for (const type of ['server/delete', 'constructor', '__proto__', 'toString', 'hasOwnProperty', '']) {
      const parsed = parseWebviewToHost({ type, requestId: 1, server: 'x' });
      assert.equal(parsed.ok, false, type);
    }
    const unknown = parseWebviewToHost({ type: 'server/delete' });
    assert.ok(!unknown.ok && unknown.error.includes("unknown type 'server/delete'"));
  });

  it('drops malformed members of known types, naming the field', () => {
    const cases: [unknown, string][] = [
      [{ type: 'server/respawn', requestId: 1, gateway: WS }, 'server: missing'],
      [{ type: 'server/respawn', requestId: '1', gateway: WS, server: 'x' }, 'requestId: expected an integer'],
      [{ type: 'server/respawn', requestId: 1.5, gateway: WS, server: 'x' }, 'requestId'],
      [{ type: 'server/respawn', requestId: 1, gateway: WS, server: 7 }, 'server: expected a string'],
      [{ type: 'server/respawn', requestId: 1, gateway: WS, server: 'x'.repeat(257) }, 'longer than 256'],
      [{ type: 'server/setEnabled', requestId: 1, gateway: WS, server: 'x', enabled: 'yes' }, 'enabled: expected a boolean'],
      [{ type: 'dashboard/getSnapshot', reason: 'because' }, 'reason: expected one of'],
      [{ type: 'webview/ready' }, 'protocolVersion: missing'],
    ];
    for (const [value, reason] of cases) {
      const parsed = parseWebviewToHost(value);
      assert.ok(!parsed.ok, JSON.stringify(value));
      assert.ok(parsed.error.includes(reason), `${parsed.error} should mention ${reason}`);
    }
  });

  it('ignores extra fields (a newer webview may add some)', () => {
    assert.ok(isWebviewToHost({ type: 'gateway/unfreeze', requestId: 1, gateway: WS, extra: true }));
  });

  it('does not take a gateway selection for an action (it has no requestId to answer)', () => {
    assert.equal(isActionRequest({ type: 'gateway/select', gateway: WS }), false);
  });

  it('reads the chosen gateway from a stored webview state defensively', () => {
    assert.equal(readPersistedGateway({ filter: '', expanded: [], gateway: WS }), WS);
    for (const bad of [undefined, null, 'x', [], {}, { gateway: 7 }, { gateway: '' }, { gateway: 'x'.repeat(5000) }]) {
      assert.equal(readPersistedGateway(bad), undefined, JSON.stringify(bad)?.slice(0, 40));
    }
  });

  it('tells action requests from handshake messages', () => {
    assert.deepEqual(
      fromWebview.filter(isActionRequest).map((m) => m.type),
      ['server/respawn', 'circuit/reset', 'server/showOutput', 'server/setEnabled', 'gateway/freeze', 'gateway/unfreeze'],
    );
  });
});

describe('protocol guards: host → webview', () => {
  it('accepts every message type, full and minimal', () => {
    for (const m of fromHost) assert.ok(isHostToWebview(m), m.type);
  });

  it('checks every field of a downstream view', () => {
    const full = view('echo');
    for (const key of Object.keys(full)) {
      const broken: Record<string, unknown> = { ...full };
      delete broken[key];
      const message = { type: 'dashboard/didPatch', baseRevision: 0, revision: 1, hostNow: 0, patch: { servers: [{ view: broken, circuit: [], traffic: [] }] } };
      const parsed = parseHostToWebview(message);
      assert.ok(!parsed.ok && parsed.error.includes(`view.${key}: missing`), `${key}: ${JSON.stringify(parsed)}`);
    }
  });

  it('drops deep malformations', () => {
    const snapshot = (s: unknown) => ({ type: 'dashboard/didSnapshot', protocolVersion: 1, revision: 1, hostNow: 0, state: s });
    const cases: [unknown, string][] = [
      [snapshot(state({ servers: [entry('x', { state: 'exploded' as never })] })), 'view.state: expected one of'],
      [snapshot(state({ servers: [entry('x', { circuit_state: 'ajar' as never })] })), 'circuit_state'],
      [snapshot(state({ servers: [{ ...entry('x'), traffic: [{ at: 0, calls: -0.5, errors: 0 }] }] })), 'traffic[0].calls'],
      [snapshot(state({ servers: [entry('x', { latency_ms: { p50: Number.NaN, p95: null } })] })), 'latency_ms.p50'],
      [snapshot(state({ audit: [auditEvent(1, { status: 'maybe' as never })] })), 'audit[0].status'],
      [snapshot({ ...state(), servers: 'none' }), 'servers: expected an array'],
      [snapshot(null), 'state: expected an object'],
      [{ type: 'dashboard/didPatch', baseRevision: 0, revision: 1, hostNow: 0, patch: { order: [1] } }, 'order[0]'],
      [{ type: 'dashboard/didPatch', baseRevision: 0, revision: 1, hostNow: Infinity, patch: {} }, 'hostNow'],
      [{ type: 'action/didComplete', requestId: 1, ok: true }, 'message: missing'],
      [snapshot({ ...state(), picker: undefined }), 'state.picker: missing'],
      [snapshot(state({ picker: picker({ fallback: 'lost' as never }) })), 'picker.fallback: expected one of'],
      [snapshot(state({ picker: picker({ gateways: [{ id: WS, label: 'ws', state: 'exploded' as never }] }) })), 'gateways[0].state'],
      [snapshot(state({ picker: picker({ shown: 3 as never }) })), 'picker.shown'],
      [{ type: 'dashboard/didPatch', baseRevision: 0, revision: 1, hostNow: 0, patch: { picker: { ...picker(), chosen: { id: WS } } } }, 'chosen.label: missing'],
    ];
    for (const [value, reason] of cases) {
      const parsed = parseHostToWebview(value);
      assert.ok(!parsed.ok, reason);
      assert.ok(parsed.error.includes(reason), `${parsed.error} should mention ${reason}`);
    }
  });

  it('does not accept webview messages as host messages, nor the reverse', () => {
    for (const m of fromWebview) assert.equal(isHostToWebview(m), false, m.type);
    for (const m of fromHost) assert.equal(isWebviewToHost(m), false, m.type);
  });
});
