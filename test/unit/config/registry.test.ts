import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { z } from 'zod';
import { parseRegistry } from '../../../extension/config/loadConfig';
import { registrySchema, suggestServerName } from '../../../extension/config/registrySchema';
import { describeAt } from '../../../extension/config/schemaNode';
import { expectProblem, fixture, FIXTURES, type ExpectedProblem } from './helpers';

function parseFixture(name: string): ReturnType<typeof parseRegistry> {
  const { file, text } = fixture(name);
  return parseRegistry(text, file);
}

test('a registry using every field parses, with defaults filled and cwd resolved', () => {
  const { registry, problems } = parseFixture('valid.registry.yaml');
  assert.deepEqual(problems, []);
  assert.ok(registry);
  assert.equal(registry.version, '1');
  const [github, docs] = registry.servers;
  assert.ok(github && docs);
  assert.deepEqual(github.args, ['-y', '@modelcontextprotocol/server-github', '--org=${GITHUB_ORG}']);
  assert.deepEqual(github.env, { GITHUB_PERSONAL_ACCESS_TOKEN: '${GITHUB_TOKEN}', LOG_LEVEL: 'debug' });
  assert.deepEqual(github.tier_overrides, { create_issue: 'write', delete_repo: 'destructive' });
  assert.deepEqual(github.timeouts, { connect_ms: 5000, call_ms: 120000 });
  assert.equal(github.enabled, true);
  assert.equal(github.keep_tools_when_down, false);
  // The workspace folder is the parent of the config directory (here: test/fixtures).
  assert.equal(github.cwd, path.resolve(FIXTURES, '..', 'tools'));
  assert.equal(docs.url, 'https://${DOCS_HOST}/mcp');
  assert.equal(docs.command, undefined);
  assert.deepEqual(docs.args, []);
  assert.deepEqual(docs.env, {});
  assert.deepEqual(docs.env_passthrough, []);
  assert.equal(docs.enabled, false);
  assert.equal(docs.keep_tools_when_down, true);
});

test('an empty file is version "1" with no servers', () => {
  assert.deepEqual(parseFixture('empty.registry.yaml'), { registry: { version: '1', servers: [] }, problems: [] });
  assert.deepEqual(parseRegistry('', 'registry.yaml'), { registry: { version: '1', servers: [] }, problems: [] });
});

test('version: 1 (a number) is accepted and normalised to "1" (rea rejects it)', () => {
  const { registry, problems } = parseFixture('numeric-version.registry.yaml');
  assert.deepEqual(problems, []);
  assert.equal(registry?.version, '1');
});

test('relative cwd is left alone when the file name is not absolute (unsaved editor text)', () => {
  const { registry } = parseRegistry('version: "1"\nservers:\n  - name: a\n    command: x\n    cwd: sub\n', 'untitled:registry');
  assert.equal(registry?.servers[0]?.cwd, 'sub');
});

const rejections: [string, ExpectedProblem][] = [
  ['invalid-version.registry.yaml', { code: 'invalid-version', range: [1, 10, 1, 13], message: 'version must be "1" (write version: "1")' }],
  ['missing-version.registry.yaml', { code: 'missing-key', range: [1, 1, 1, 12], message: `missing 'version'; add version: "1" at the top of the file` }],
  [
    'duplicate-name.registry.yaml',
    {
      code: 'duplicate-server-name',
      range: [7, 11, 7, 17],
      message: "server name 'memory' is already used on line 3; names must be unique, so rename or remove one of them",
    },
  ],
  [
    'invalid-server-name.registry.yaml',
    {
      code: 'invalid-server-name',
      range: [3, 11, 3, 20],
      message: "server names may use a-z, 0-9 and '-' only and must not start with '-'; rename 'my_server' to 'my-server'",
    },
  ],
  [
    'reserved-server-name.registry.yaml',
    {
      code: 'reserved-server-name',
      range: [3, 11, 3, 20],
      message: "'gatehouse' is reserved for the gateway's own tools; choose another name, e.g. 'gatehouse-server'",
    },
  ],
  ['unknown-key.registry.yaml', { code: 'unknown-key', range: [4, 5, 4, 11], message: "unknown key 'comand' in servers[0]; did you mean 'command'?" }],
  ['unknown-top-level-key.registry.yaml', { code: 'unknown-key', range: [2, 1, 2, 7], message: "unknown key 'server'; did you mean 'servers'?" }],
  [
    'secret-passthrough.registry.yaml',
    {
      code: 'secret-passthrough',
      range: [5, 36, 5, 48],
      message: `'GITHUB_TOKEN' looks like a secret, so it cannot be passed through; map it explicitly instead: env: { GITHUB_TOKEN: "\${GITHUB_TOKEN}" }`,
    },
  ],
  [
    'invalid-passthrough-name.registry.yaml',
    { code: 'invalid-env-name', range: [6, 9, 6, 15], message: /env_passthrough entries are variable names .*'9LIVES' is not one/ },
  ],
  [
    'missing-command.registry.yaml',
    { code: 'missing-command', range: [3, 5, 3, 17], message: "a server needs either 'command' (a program to start) or 'url' (a remote MCP endpoint); add one" },
  ],
  [
    'command-and-url.registry.yaml',
    { code: 'command-and-url', range: [5, 5, 5, 8], message: "a server has either 'command' (local) or 'url' (remote), not both; remove one" },
  ],
  ['empty-command.registry.yaml', { code: 'invalid-command', range: [4, 14, 4, 16], message: "command must not be empty; give the program to start, e.g. 'npx'" }],
  ['invalid-url.registry.yaml', { code: 'invalid-url', range: [4, 10, 4, 31], message: /^url must be an http:\/\/ or https:\/\/ address .*'ftp:\/\/example.com\/mcp' is not$/ }],
  [
    'interpolation-empty.registry.yaml',
    { code: 'interpolation-syntax', range: [6, 15, 6, 18], message: "empty placeholder '${}' at offset 0; write '${NAME}' with the name of a host environment variable" },
  ],
  [
    'interpolation-invalid-name.registry.yaml',
    { code: 'interpolation-syntax', range: [5, 21, 5, 30], message: /^invalid variable name '1TOKEN' in '\$\{1TOKEN\}' at offset 8; / },
  ],
  [
    'interpolation-unterminated.registry.yaml',
    { code: 'interpolation-syntax', range: [6, 29, 6, 41], message: /^unterminated '\$\{' at offset 7; close it with '\}'/ },
  ],
  ['unquoted-number.registry.yaml', { code: 'invalid-type', range: [6, 13, 6, 17], message: 'servers[0].env.PORT must be a string, not 8080; put it in quotes: "8080"' }],
  [
    'invalid-tier.registry.yaml',
    { code: 'invalid-value', range: [6, 19, 6, 24], message: "servers[0].tier_overrides.drop_table must be one of 'read', 'write', 'destructive', not 'admin'" },
  ],
  ['invalid-header-name.registry.yaml', { code: 'invalid-header-name', range: [6, 7, 6, 18], message: /^'X Api Key' is not a valid HTTP header name/ }],
  ['invalid-timeout.registry.yaml', { code: 'invalid-value', range: [6, 16, 6, 17], message: 'servers[0].timeouts.call_ms must be greater than 0, not 0' }],
  ['servers-not-list.registry.yaml', { code: 'invalid-type', range: [2, 1, 2, 8], message: 'servers must be a list, not empty; write [] for none' }],
  ['yaml-duplicate-key.registry.yaml', { code: 'yaml-duplicate-key', range: [5, 5, 5, 12], message: /^Map keys must be unique; remove or rename the repeated key/ }],
];

for (const [name, expected] of rejections) {
  test(`rejects ${name}: ${expected.code} at ${expected.range.join(':')}`, () => {
    const result = parseFixture(name);
    assert.equal(result.registry, undefined, 'an error must prevent a result');
    const problem = expectProblem(result.problems, expected);
    assert.equal(problem.file, fixture(name).file);
  });
}

test('a YAML syntax error is reported with its position and no schema noise', () => {
  const { registry, problems } = parseFixture('yaml-syntax.registry.yaml');
  assert.equal(registry, undefined);
  assert.ok(problems.length >= 1);
  for (const p of problems) {
    assert.match(p.code, /^yaml-/);
    assert.equal(p.severity, 'error');
    assert.ok(p.line >= 4, `${p.line}`);
  }
});

test('stdio-only keys on a remote server are a warning, and the registry is still returned', () => {
  const { registry, problems } = parseFixture('ignored-for-remote.registry.yaml');
  assert.ok(registry);
  expectProblem(problems, { code: 'ignored-for-remote', severity: 'warning', range: [5, 5, 5, 9], message: "'args' has no effect on a remote (url) server; remove it" });
});

test('all problems of a file are reported at once, in file order', () => {
  const text = 'version: "1"\nservers:\n  - name: A_1\n    command: x\n  - name: b\n';
  const { problems } = parseRegistry(text, '/w/.gatehouse/registry.yaml');
  assert.deepEqual(
    problems.map((p) => [p.code, p.line]),
    [
      ['invalid-server-name', 3],
      ['missing-command', 5],
    ],
  );
});

test('a duplicate is found even when another entry is invalid', () => {
  const text = 'version: "1"\nservers:\n  - name: a\n    command: x\n  - name: a\n    command: 3\n';
  const { problems } = parseRegistry(text, 'r.yaml');
  assert.deepEqual(problems.map((p) => p.code).sort(), ['duplicate-server-name', 'invalid-type']);
});

test('a url may contain ${VAR}, even for its scheme and host', () => {
  for (const url of ['https://${HOST}/mcp', '${BASE_URL}/mcp', 'http://localhost:${PORT}/mcp']) {
    const { problems } = parseRegistry(`version: "1"\nservers:\n  - name: r\n    url: "${url}"\n`, 'r.yaml');
    assert.deepEqual(problems, [], url);
  }
});

test('the rename suggestion is always a valid, unreserved name', () => {
  assert.equal(suggestServerName('My_Server'), 'my-server');
  assert.equal(suggestServerName('--x__y--'), 'x-y');
  assert.equal(suggestServerName('___'), 'my-server');
  assert.equal(suggestServerName('Gatehouse'), 'my-server');
});

test('a .rea registry warns about what rea itself would refuse', () => {
  const text = 'version: 1\nservers:\n  - name: a\n    command: x\n    cwd: sub\n';
  const { registry, problems } = parseRegistry(text, '/w/.rea/registry.yaml');
  assert.ok(registry);
  assert.deepEqual(
    problems.map((p) => [p.code, p.severity, p.line]),
    [
      ['rea-incompatible', 'warning', 1],
      ['rea-incompatible', 'warning', 5],
    ],
  );
});

test('every field is described and the schema converts to JSON Schema', () => {
  for (const key of ['name', 'command', 'args', 'env', 'env_passthrough', 'tier_overrides', 'enabled', 'url', 'headers', 'cwd', 'timeouts', 'keep_tools_when_down']) {
    assert.ok(describeAt(registrySchema, ['servers', 0, key]), key);
  }
  assert.ok(describeAt(registrySchema, ['servers', 0, 'timeouts', 'call_ms']));
  const json = z.toJSONSchema(registrySchema, { io: 'input' }) as { properties: Record<string, { description?: string }> };
  assert.match(json.properties.version?.description ?? '', /"1"/);
});
