import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ManualClock } from '../../../extension/common/clock';
import { CommandResolver, findCommand } from '../../../extension/lsp/commandResolver';
import { configKindOf } from '../../../extension/lsp/configKind';
import { CONFIGS } from './helpers';

const BIN = path.join(CONFIGS, 'lsp', 'bin');

test('finds commands on PATH, by relative and absolute path; tells missing from not executable', async () => {
  assert.deepEqual(await findCommand({ command: 'ok-server', searchPath: `/nonexistent${path.delimiter}${BIN}`, cwd: '/' }), { found: true, file: path.join(BIN, 'ok-server') });
  assert.deepEqual(await findCommand({ command: './bin/ok-server', searchPath: '', cwd: path.dirname(BIN) }), { found: true, file: path.join(BIN, 'ok-server') });
  assert.deepEqual(await findCommand({ command: path.join(BIN, 'ok-server'), searchPath: '', cwd: '/' }), { found: true, file: path.join(BIN, 'ok-server') });
  assert.deepEqual(await findCommand({ command: 'not-executable.sh', searchPath: BIN, cwd: '/' }), { found: false, reason: 'not-executable' });
  assert.deepEqual(await findCommand({ command: 'ok-server', searchPath: '/nonexistent', cwd: '/' }), { found: false, reason: 'missing' });
  // A directory is not a command.
  assert.deepEqual(await findCommand({ command: 'bin', searchPath: path.dirname(BIN), cwd: '/' }), { found: false, reason: 'missing' });
  // An empty PATH entry means the working directory, as in execvp.
  assert.equal((await findCommand({ command: 'ok-server', searchPath: `${path.delimiter}/nonexistent`, cwd: BIN })).found, true);
});

test('answers are cached until the TTL passes; concurrent lookups share one', async () => {
  const clock = new ManualClock();
  const resolver = new CommandResolver({ clock, ttlMs: 1000 });
  const query = { command: 'ok-server', searchPath: BIN, cwd: '/' };
  assert.equal(resolver.peek(query), undefined);
  await Promise.all([resolver.resolve([query]), resolver.resolve([query])]);
  assert.deepEqual(resolver.peek(query), { found: true, file: path.join(BIN, 'ok-server') });
  clock.advance(999);
  assert.ok(resolver.peek(query));
  clock.advance(1);
  assert.equal(resolver.peek(query), undefined, 'stale after the TTL, so installing a tool clears the warning');
});

test('only registry.yaml / policy.yaml directly in .gatehouse/ or .rea/ are config files', () => {
  assert.equal(configKindOf('/w/.gatehouse/registry.yaml'), 'registry');
  assert.equal(configKindOf('/w/.rea/policy.yaml'), 'policy');
  assert.equal(configKindOf('C:\\w\\.gatehouse\\policy.yaml'), 'policy');
  assert.equal(configKindOf('/w/registry.yaml'), undefined);
  assert.equal(configKindOf('/w/.gatehouse/sub/registry.yaml'), undefined);
  assert.equal(configKindOf('/w/.gatehouse/registry.yml'), undefined);
  assert.equal(configKindOf('/w/x.gatehouse/registry.yaml'), undefined);
});
