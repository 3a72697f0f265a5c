import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { DiagnosticSeverity } from 'vscode-languageserver';
import { CommandResolver } from '../../../extension/lsp/commandResolver';
import { toLspRange, validateConfig, type ConfigDiagnostic } from '../../../extension/lsp/validate';
import { CONFIGS, configFixture, rangeTuple, validateFully } from './helpers';

/** The environment the "gateway" sees in these tests; DOCS_TOKEN's value must never leak. */
const ENV = { PATH: process.env.PATH, GH_ORG: 'acme', DOCS_TOKEN: 'do-not-leak-this-value', TOOLS_DIR: path.join(CONFIGS, 'lsp', 'bin') };

interface Expected {
  code: string;
  severity: DiagnosticSeverity;
  /** 0-based [line, character, endLine, endCharacter]. */
  range: [number, number, number, number];
  message: string | RegExp;
}

function expectOne(diagnostics: readonly ConfigDiagnostic[], expected: Expected): ConfigDiagnostic {
  const found = diagnostics.filter((d) => d.code === expected.code && rangeTuple(d.range).join() === expected.range.join());
  assert.equal(found.length, 1, `expected ${expected.code} at ${expected.range.join(':')}, got ${JSON.stringify(diagnostics.map((d) => [d.code, rangeTuple(d.range)]))}`);
  const diagnostic = found[0] as ConfigDiagnostic;
  assert.equal(diagnostic.severity, expected.severity);
  assert.equal(diagnostic.source, 'gatehouse');
  if (typeof expected.message === 'string') assert.equal(diagnostic.message, expected.message);
  else assert.match(diagnostic.message, expected.message);
  return diagnostic;
}

const E = DiagnosticSeverity.Error;
const W = DiagnosticSeverity.Warning;

// One fixture per diagnostic: what the loader reports, converted to 0-based LSP ranges.
const loaderCases: [string, Expected][] = [
  ['duplicate-name.registry.yaml', { code: 'duplicate-server-name', severity: E, range: [6, 10, 6, 16], message: "server name 'memory' is already used on line 3; names must be unique, so rename or remove one of them" }],
  ['invalid-server-name.registry.yaml', { code: 'invalid-server-name', severity: E, range: [2, 10, 2, 19], message: "server names may use a-z, 0-9 and '-' only and must not start with '-'; rename 'my_server' to 'my-server'" }],
  ['reserved-server-name.registry.yaml', { code: 'reserved-server-name', severity: E, range: [2, 10, 2, 19], message: "'gatehouse' is reserved for the gateway's own tools; choose another name, e.g. 'gatehouse-server'" }],
  ['unknown-key.registry.yaml', { code: 'unknown-key', severity: E, range: [3, 4, 3, 10], message: "unknown key 'comand' in servers[0]; did you mean 'command'?" }],
  ['invalid-tier.registry.yaml', { code: 'invalid-value', severity: E, range: [5, 18, 5, 23], message: "servers[0].tier_overrides.drop_table must be one of 'read', 'write', 'destructive', not 'admin'" }],
  [
    'secret-passthrough.registry.yaml',
    { code: 'secret-passthrough', severity: E, range: [4, 35, 4, 47], message: `'GITHUB_TOKEN' looks like a secret, so it cannot be passed through; map it explicitly instead: env: { GITHUB_TOKEN: "\${GITHUB_TOKEN}" }` },
  ],
  ['interpolation-invalid-name.registry.yaml', { code: 'interpolation-syntax', severity: E, range: [4, 20, 4, 29], message: /^invalid variable name '1TOKEN' in '\$\{1TOKEN\}' at offset 8; / }],
  ['interpolation-unterminated.registry.yaml', { code: 'interpolation-syntax', severity: E, range: [5, 28, 5, 40], message: /^unterminated '\$\{' at offset 7; close it with '\}'/ }],
  ['missing-command.registry.yaml', { code: 'missing-command', severity: E, range: [2, 4, 2, 16], message: "a server needs either 'command' (a program to start) or 'url' (a remote MCP endpoint); add one" }],
  ['yaml-duplicate-key.registry.yaml', { code: 'yaml-duplicate-key', severity: E, range: [4, 4, 4, 11], message: /^Map keys must be unique; remove or rename the repeated key/ }],
  ['ignored-for-remote.registry.yaml', { code: 'ignored-for-remote', severity: W, range: [4, 4, 4, 8], message: "'args' has no effect on a remote (url) server; remove it" }],
  [
    'autonomy-clamp.policy.yaml',
    { code: 'autonomy-clamped', severity: W, range: [0, 16, 0, 18], message: 'autonomy_level L3 is above max_autonomy_level L1, so L1 is used; lower autonomy_level to L1 or raise max_autonomy_level' },
  ],
  ['invalid-redact-regex.policy.yaml', { code: 'invalid-redact-pattern', severity: E, range: [4, 13, 4, 26], message: /^redact pattern 'ticket' does not compile \(Invalid regular expression: .*Unterminated group\); fix the regex/ }],
  ['invalid-redact-flags.policy.yaml', { code: 'invalid-redact-pattern', severity: E, range: [5, 13, 5, 15], message: /^redact pattern 'ticket' has invalid flags 'gq'/ }],
  ['unknown-tunable.policy.yaml', { code: 'unknown-key', severity: E, range: [2, 2, 2, 10], message: "unknown key 'breakers' in gateway; did you mean 'breaker'?" }],
];

for (const [name, expected] of loaderCases) {
  test(`${name}: ${expected.code} at ${expected.range.join(':')}`, async () => {
    const { diagnostics } = await validateFully(configFixture(name), ENV);
    expectOne(diagnostics, expected);
  });
}

test('a duplicate name links to its first use', async () => {
  const fixture = configFixture('duplicate-name.registry.yaml');
  const { diagnostics } = await validateFully(fixture, ENV);
  const duplicate = diagnostics.find((d) => d.code === 'duplicate-server-name');
  assert.deepEqual(duplicate?.relatedInformation, [
    { location: { uri: `file://${fixture.file}`, range: { start: { line: 2, character: 10 }, end: { line: 2, character: 16 } } }, message: "'memory' is first used here" },
  ]);
});

test('env-unset: an unset ${VAR} is a warning on the placeholder, with its name and never a value', async () => {
  const { diagnostics } = await validateFully(configFixture('lsp/env-unset.registry.yaml'), ENV);
  const unset = diagnostics.filter((d) => d.code === 'env-unset');
  // GH_ORG and DOCS_TOKEN are set; NEVER_SET is in a disabled entry.
  assert.equal(unset.length, 2, JSON.stringify(unset));
  expectOne(diagnostics, {
    code: 'env-unset',
    severity: W,
    range: [7, 37, 7, 52],
    message: "GITHUB_TOKEN is not set in the environment the gateway sees, so 'github' will not start; set GITHUB_TOKEN before starting VS Code (or the gateway), or remove the reference",
  });
  expectOne(diagnostics, { code: 'env-unset', severity: W, range: [9, 18, 9, 30], message: /^DOCS_HOST is not set in the environment the gateway sees, so 'docs' will not start/ });
  for (const d of diagnostics) assert.doesNotMatch(d.message, /do-not-leak-this-value/);
});

test('command-not-found: a command missing from PATH is a warning on the command (disabled entries are skipped)', async () => {
  const { diagnostics } = await validateFully(configFixture('lsp/command-not-found.registry.yaml'), ENV);
  assert.deepEqual(
    diagnostics.map((d) => d.code),
    ['command-not-found'],
  );
  expectOne(diagnostics, {
    code: 'command-not-found',
    severity: W,
    range: [3, 13, 3, 38],
    message: "'gatehouse-no-such-command' was not found on the PATH the gateway uses, so 'ghost' cannot start; install it or give its absolute path",
  });
});

test('command-not-executable / relative commands resolve against the entry cwd', async () => {
  const { diagnostics } = await validateFully(configFixture('lsp/command-relative.registry.yaml'), ENV);
  assert.deepEqual(
    diagnostics.map((d) => [d.code, d.range.start.line]),
    [
      ['command-not-executable', 7],
      ['command-not-found', 10],
    ],
  );
  expectOne(diagnostics, {
    code: 'command-not-executable',
    severity: W,
    range: [7, 13, 7, 36],
    message: "'./bin/not-executable.sh' exists but is not executable, so 'not-executable' cannot start; make it executable (chmod +x) or run it through its interpreter",
  });
  expectOne(diagnostics, {
    code: 'command-not-found',
    severity: W,
    range: [10, 13, 10, 26],
    message: `'./bin/missing' does not exist (relative to ${path.join(CONFIGS, 'lsp')}), so 'missing' cannot start; fix the path or use an absolute one`,
  });
});

test("an entry's own env.PATH is searched instead of the gateway's", async () => {
  const { diagnostics } = await validateFully(configFixture('lsp/command-env-path.registry.yaml'), ENV);
  assert.deepEqual(
    diagnostics.map((d) => [d.code, d.range.start.line]),
    [['command-not-found', 8]],
  );
});

test('commands are not checked until looked up, and the lookups are reported as pending', () => {
  const input = configFixture('lsp/command-not-found.registry.yaml');
  const resolver = new CommandResolver();
  const { diagnostics, pendingCommands } = validateConfig(input, { env: ENV, commands: resolver.peek });
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(pendingCommands, [{ command: 'gatehouse-no-such-command', searchPath: process.env.PATH, cwd: CONFIGS }]);
  // Without a lookup at all, commands are simply not checked.
  assert.deepEqual(validateConfig(input, { env: ENV }).pendingCommands, []);
});

test('a YAML syntax error yields only syntax diagnostics (as in the gateway), no editor warnings', async () => {
  const { diagnostics } = await validateFully(configFixture('yaml-syntax.registry.yaml'), {});
  assert.ok(diagnostics.length > 0);
  for (const d of diagnostics) assert.match(d.code, /^yaml-/);
});

test('ranges convert from 1-based, end-exclusive to 0-based, end-exclusive', () => {
  assert.deepEqual(toLspRange({ line: 1, column: 1, endLine: 1, endColumn: 1 }), { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } });
  assert.deepEqual(toLspRange({ line: 7, column: 11, endLine: 7, endColumn: 17 }), { start: { line: 6, character: 10 }, end: { line: 6, character: 16 } });
});

test('a valid file with everything set has no diagnostics', async () => {
  const env = { PATH: path.join(CONFIGS, 'lsp', 'bin'), GITHUB_ORG: 'o', GITHUB_TOKEN: 't', DOCS_HOST: 'h', DOCS_TOKEN: 'd' };
  const text = configFixture('valid.registry.yaml').text.replace('command: npx', 'command: ok-server');
  const { diagnostics } = await validateFully({ ...configFixture('valid.registry.yaml'), text }, env);
  assert.deepEqual(diagnostics, []);
});
