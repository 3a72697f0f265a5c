import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lensTitle, serverLenses } from '../../../extension/lsp/codeLenses';
import { toDidChangeStateParams, type ServerLiveState } from '../../../extension/protocol/lsp';
import { textDocument } from './helpers';

const live = (name: string, patch: Partial<ServerLiveState> = {}): ServerLiveState => ({ name, state: 'ready', tools_count: 12, circuit_state: 'closed', reason: null, ...patch });

test('lens text for each state', () => {
  assert.equal(lensTitle(live('a')), '● ready · 12 tools · closed');
  assert.equal(lensTitle(live('a', { tools_count: 1 })), '● ready · 1 tool · closed');
  assert.equal(lensTitle(live('a', { state: 'gave_up', tools_count: null, reason: 'exit code 1' })), '✕ gave up: exit code 1');
  assert.equal(lensTitle(live('a', { state: 'degraded', circuit_state: 'open', reason: 'timeout' })), '◐ degraded · 12 tools · open · timeout');
  assert.equal(lensTitle(live('a', { state: 'backoff', reason: 'exit code 2' })), '◌ restarting: exit code 2');
  assert.equal(lensTitle(live('a', { state: 'crashed', reason: null })), '✕ crashed');
  assert.equal(lensTitle(live('a', { state: 'blocked', reason: 'command changed since you approved it' })), '⊘ blocked: command changed since you approved it');
  assert.equal(lensTitle(live('a', { state: 'starting' })), '◌ starting…');
  assert.equal(lensTitle(live('a', { state: 'disabled' })), '○ disabled');
  assert.equal(lensTitle(live('a', { state: 'stopped' })), '○ stopped');
  assert.equal(lensTitle(undefined), '○ not running · save the file to apply');
  assert.equal(lensTitle(live('a', { state: 'gave_up', reason: `x${'y'.repeat(200)}\nsecond line` })).length, '✕ gave up: '.length + 80);
});

test('one state lens (show output) and one respawn lens above each server entry', () => {
  const document = textDocument('version: "1"\nservers:\n  - name: memory\n    command: npx\n  # a comment\n  - command: node\n    name: files\n  - name: new-one\n    command: x\n');
  const lenses = serverLenses(document, [live('memory'), live('files', { state: 'disabled', tools_count: null })]);
  assert.deepEqual(
    lenses.map((l) => [l.range.start.line, l.command?.title, l.command?.command, l.command?.arguments]),
    [
      [2, '● ready · 12 tools · closed', 'gatehouse.showServerOutput', ['memory']],
      [2, 'Respawn', 'gatehouse.respawnServer', ['memory']],
      [5, '○ disabled', 'gatehouse.showServerOutput', ['files']],
      [7, '○ not running · save the file to apply', 'gatehouse.showServerOutput', ['new-one']],
    ],
  );
});

test('no state (no gateway) means no lenses; broken YAML elsewhere still gets lenses', () => {
  const document = textDocument('version: "1"\nservers:\n  - name: memory\n    command: npx\n');
  assert.deepEqual(serverLenses(document, []), []);
  const broken = textDocument('version: "1"\nservers:\n  - name: memory\n    command: npx\n    args: [unclosed\n');
  assert.equal(serverLenses(broken, [live('memory')])[0]?.range.start.line, 2);
});

test('toDidChangeStateParams keeps only what the lens needs', () => {
  const params = toDidChangeStateParams(
    {
      downstreams: [
        // Only the fields the mapping reads matter here.
        { ...live('memory'), connected: true, healthy: true, retry_at: null, last_error: 'x', open_transitions: 0, session_blocker_emitted: false, transport: 'stdio', pid: 1, restarts: 0, last_exit: null, started_at: null, calls: 0, errors: 0, latency_ms: { p50: null, p95: null }, in_flight: 0, next_retry_at: null },
      ],
    },
    { configDir: '/w/.gatehouse', folder: 'w' },
  );
  assert.deepEqual(params, { configDir: '/w/.gatehouse', folder: 'w', servers: [live('memory')] });
  assert.deepEqual(toDidChangeStateParams(undefined, { configDir: '/w/.gatehouse' }), { configDir: '/w/.gatehouse', servers: [] });
});

test('with a folder, lens commands name <folder>:<server> (what the host commands accept)', () => {
  const document = textDocument('version: "1"\nservers:\n  - name: memory\n    command: npx\n');
  assert.deepEqual(
    serverLenses(document, [live('memory')], 'api').map((l) => l.command?.arguments),
    [['api:memory'], ['api:memory']],
  );
});
