import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { canonicalServer, fingerprint } from '../../../extension/config/fingerprint';
import type { ServerConfig } from '../../../extension/config/registrySchema';

function server(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return {
    name: 'github',
    command: 'npx',
    args: ['-y', 'server-github'],
    env: { B_KEY: '${B}', A_KEY: 'literal' },
    env_passthrough: ['Z_VAR', 'HTTPS_PROXY'],
    tier_overrides: { zeta: 'read', alpha: 'destructive' },
    enabled: true,
    keep_tools_when_down: false,
    ...overrides,
  };
}

test('is 64 lowercase hex and stable', () => {
  const fp = fingerprint(server());
  assert.match(fp, /^[0-9a-f]{64}$/);
  assert.equal(fingerprint(server()), fp);
});

test("hashes rea's canonical JSON exactly, so stdio fingerprints equal rea's", () => {
  const expectedJson =
    '{"name":"github","command":"npx","args":["-y","server-github"],"env_keys":["A_KEY","B_KEY"],' +
    '"env_passthrough":["HTTPS_PROXY","Z_VAR"],"tier_overrides":[["alpha","destructive"],["zeta","read"]]}';
  assert.equal(JSON.stringify(canonicalServer(server())), expectedJson);
  assert.equal(fingerprint(server()), createHash('sha256').update(expectedJson).digest('hex'));
});

test('args order matters', () => {
  assert.notEqual(fingerprint(server({ args: ['server-github', '-y'] })), fingerprint(server()));
});

test('env values, enabled and Gatehouse-only stdio fields do not matter; env keys do', () => {
  const base = fingerprint(server());
  assert.equal(fingerprint(server({ env: { A_KEY: 'rotated', B_KEY: 'other' } })), base);
  assert.equal(fingerprint(server({ env: { A_KEY: 'x', B_KEY: 'y' } })), base);
  assert.equal(fingerprint(server({ enabled: false, keep_tools_when_down: true, cwd: '/x', timeouts: { call_ms: 5 } })), base);
  assert.notEqual(fingerprint(server({ env: { A_KEY: 'x' } })), base);
});

test('key and list order in the YAML does not matter for env, passthrough and overrides', () => {
  const reordered = server({
    env: { A_KEY: 'literal', B_KEY: '${B}' },
    env_passthrough: ['HTTPS_PROXY', 'Z_VAR'],
    tier_overrides: { alpha: 'destructive', zeta: 'read' },
  });
  assert.equal(fingerprint(reordered), fingerprint(server()));
});

test('name, command, passthrough and overrides changes all drift', () => {
  const base = fingerprint(server());
  assert.notEqual(fingerprint(server({ name: 'github2' })), base);
  assert.notEqual(fingerprint(server({ command: 'node' })), base);
  assert.notEqual(fingerprint(server({ env_passthrough: ['Z_VAR'] })), base);
  assert.notEqual(fingerprint(server({ tier_overrides: { zeta: 'write', alpha: 'destructive' } })), base);
});

test('a url server hashes its url as command and its header keys (not values) last', () => {
  const remote = server({ command: undefined, url: 'https://example.com/mcp', args: [], env: {}, env_passthrough: [], tier_overrides: {}, headers: { 'X-B': '1', Authorization: 'Bearer ${T}' } });
  assert.equal(
    JSON.stringify(canonicalServer(remote)),
    '{"name":"github","command":"https://example.com/mcp","args":[],"env_keys":[],"env_passthrough":[],"tier_overrides":[],"header_keys":["Authorization","X-B"]}',
  );
  assert.equal(fingerprint({ ...remote, headers: { 'X-B': '2', Authorization: 'Bearer other' } }), fingerprint(remote));
  assert.notEqual(fingerprint({ ...remote, headers: { Authorization: 'x' } }), fingerprint(remote));
  assert.notEqual(fingerprint({ ...remote, url: 'https://evil.example/mcp' }), fingerprint(remote));
  // A stdio server never gets header_keys, even if headers were (uselessly) given.
  assert.ok(!('header_keys' in canonicalServer(server({ headers: { A: 'b' } }))));
});
