import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildChildEnv, resolveArgs, resolveHeaders, resolveUrl } from '../../../extension/config/childEnv';
import type { ServerConfig } from '../../../extension/config/registrySchema';

function server(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return {
    name: 's',
    command: 'node',
    args: [],
    env: {},
    env_passthrough: [],
    tier_overrides: {},
    enabled: true,
    keep_tools_when_down: false,
    ...overrides,
  };
}

const host = {
  PATH: '/usr/bin',
  HOME: '/home/me',
  USER: 'me',
  LANG: 'en_US.UTF-8',
  TZ: 'UTC',
  SHELL: '/bin/bash',
  TERM: 'xterm',
  NODE_OPTIONS: '--require /tmp/evil.js',
  GITHUB_TOKEN: 'ghp_secret',
  AWS_SECRET_ACCESS_KEY: 'aws_secret',
  HTTPS_PROXY: 'http://proxy:3128',
  RANDOM_VAR: 'x',
};

test('only allowlisted host variables are copied', () => {
  const { env, missing, secretKeys } = buildChildEnv(server(), host, { platform: 'linux' });
  assert.deepEqual(env, { PATH: '/usr/bin', HOME: '/home/me', USER: 'me', LANG: 'en_US.UTF-8', TZ: 'UTC', SHELL: '/bin/bash', TERM: 'xterm' });
  assert.deepEqual(missing, []);
  assert.deepEqual(secretKeys, []);
});

test('secrets in the host env never reach the child unless mapped', () => {
  const { env } = buildChildEnv(server(), host, { platform: 'linux' });
  assert.equal(env.GITHUB_TOKEN, undefined);
  assert.equal(env.AWS_SECRET_ACCESS_KEY, undefined);
  assert.equal(env.RANDOM_VAR, undefined);
});

test('NODE_OPTIONS is not forwarded by default, but is via env_passthrough', () => {
  assert.equal(buildChildEnv(server(), host, { platform: 'linux' }).env.NODE_OPTIONS, undefined);
  const { env } = buildChildEnv(server({ env_passthrough: ['NODE_OPTIONS', 'HTTPS_PROXY'] }), host, { platform: 'linux' });
  assert.equal(env.NODE_OPTIONS, '--require /tmp/evil.js');
  assert.equal(env.HTTPS_PROXY, 'http://proxy:3128');
});

test('a missing host variable is absent, never the string "undefined"', () => {
  const { env } = buildChildEnv(server({ env_passthrough: ['NOT_SET'] }), { PATH: '/bin', HOME: undefined }, { platform: 'linux' });
  assert.deepEqual(env, { PATH: '/bin' });
  assert.ok(!Object.values(env).includes('undefined'));
  assert.ok(!('HOME' in env) && !('NOT_SET' in env));
});

test('exported shell functions (values starting with "()") are skipped', () => {
  const { env } = buildChildEnv(server(), { PATH: '/bin', TERM: '() { :; }; echo pwned' }, { platform: 'linux' });
  assert.deepEqual(env, { PATH: '/bin' });
});

test('the explicit env map wins over allowlist and passthrough, and is interpolated', () => {
  const { env, missing, secretKeys } = buildChildEnv(
    server({ env_passthrough: ['HTTPS_PROXY'], env: { PATH: '/opt/bin', HTTPS_PROXY: 'none', GH_AUTH: 'token ${GITHUB_TOKEN}', MODE: 'prod' } }),
    host,
    { platform: 'linux' },
  );
  assert.equal(env.PATH, '/opt/bin');
  assert.equal(env.HTTPS_PROXY, 'none');
  assert.equal(env.GH_AUTH, 'token ghp_secret');
  assert.equal(env.MODE, 'prod');
  assert.deepEqual(missing, []);
  // GH_AUTH references a secret-looking variable; MODE does not.
  assert.deepEqual(secretKeys, ['GH_AUTH']);
});

test('secret-looking keys are allowed in env (the escape hatch) and tagged', () => {
  const { env, secretKeys } = buildChildEnv(server({ env: { API_KEY: 'literal' } }), host, { platform: 'linux' });
  assert.equal(env.API_KEY, 'literal');
  assert.deepEqual(secretKeys, ['API_KEY']);
});

test('missing variables in env values are reported once and stay visible', () => {
  const { env, missing } = buildChildEnv(server({ env: { A: '${NOPE}', B: '${NOPE}-${ALSO}' } }), host, { platform: 'linux' });
  assert.deepEqual(missing, ['NOPE', 'ALSO']);
  assert.equal(env.A, '${NOPE}');
  assert.equal(env.B, '${NOPE}-${ALSO}');
});

test('on Windows the SDK defaults are added and names match case-insensitively', () => {
  const windowsHost = { Path: 'C:\\Windows', SystemRoot: 'C:\\Windows', APPDATA: 'C:\\Users\\me\\AppData\\Roaming', USERPROFILE: 'C:\\Users\\me', ComSpec: 'cmd.exe' };
  const { env } = buildChildEnv(server(), windowsHost, { platform: 'win32' });
  assert.deepEqual(env, { PATH: 'C:\\Windows', SYSTEMROOT: 'C:\\Windows', APPDATA: 'C:\\Users\\me\\AppData\\Roaming', USERPROFILE: 'C:\\Users\\me' });
  // …and not on other platforms.
  assert.equal(buildChildEnv(server(), { APPDATA: 'x' }, { platform: 'linux' }).env.APPDATA, undefined);
});

test('headers, args and url of a server are interpolated with missing names reported', () => {
  const remote = server({ command: undefined, url: 'https://${HOST}/mcp', headers: { Authorization: 'Bearer ${TOKEN}', 'X-Team': '${TEAM}' } });
  assert.deepEqual(resolveHeaders(remote, { TOKEN: 't' }), { headers: { Authorization: 'Bearer t', 'X-Team': '${TEAM}' }, missing: ['TEAM'] });
  assert.deepEqual(resolveUrl(remote, { HOST: 'example.com' }), { url: 'https://example.com/mcp', missing: [] });
  assert.deepEqual(resolveUrl(server(), {}), { url: undefined, missing: [] });
  assert.deepEqual(resolveArgs(server({ args: ['--org=${ORG}', '${X}'] }), { ORG: 'acme' }), { args: ['--org=acme', '${X}'], missing: ['X'] });
  assert.deepEqual(resolveHeaders(server(), {}), { headers: {}, missing: [] });
});
