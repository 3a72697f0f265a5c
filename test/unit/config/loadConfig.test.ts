import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { loadPolicy, loadRegistry, MAX_CONFIG_BYTES, parsePolicy, parseRegistry } from '../../../extension/config/loadConfig';
import { ConfigError, formatProblem, hasErrors, type ConfigProblem } from '../../../extension/config/problem';

const roots: string[] = [];
async function configDir(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'gatehouse-load-'));
  roots.push(root);
  const dir = path.join(root, '.gatehouse');
  await mkdir(dir);
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
  return dir;
}
after(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

test('loadRegistry reads, validates and resolves cwd against the workspace folder', async () => {
  const dir = await configDir({ 'registry.yaml': 'version: "1"\nservers:\n  - name: a\n    command: node\n    cwd: ./srv\n' });
  const result = await loadRegistry(dir);
  assert.deepEqual(result.problems, []);
  assert.equal(result.file, path.join(dir, 'registry.yaml'));
  assert.equal(result.registry?.servers[0]?.cwd, path.join(path.dirname(dir), 'srv'));
});

test('loadRegistry without registry.yaml is an error that says how to create one', async () => {
  const dir = await configDir({});
  const result = await loadRegistry(dir);
  assert.equal(result.registry, undefined);
  assert.equal(result.problems.length, 1);
  const [problem] = result.problems as [ConfigProblem];
  assert.equal(problem.code, 'registry-not-found');
  assert.equal(problem.severity, 'error');
  assert.equal(problem.file, path.join(dir, 'registry.yaml'));
  assert.match(problem.message, /create it with 'version: "1"' and a 'servers:' list/);
});

test('an unreadable registry (a directory) is an error, not a crash', async () => {
  const dir = await configDir({});
  await mkdir(path.join(dir, 'registry.yaml'));
  const result = await loadRegistry(dir);
  assert.equal(result.problems[0]?.code, 'file-unreadable');
});

test('loadPolicy without policy.yaml means defaults: no policy, no problems', async () => {
  const dir = await configDir({});
  assert.deepEqual(await loadPolicy(dir), { file: path.join(dir, 'policy.yaml'), policy: undefined, problems: [] });
});

test('loadPolicy reads and validates policy.yaml', async () => {
  const dir = await configDir({ 'policy.yaml': 'autonomy_level: L2\n' });
  const result = await loadPolicy(dir);
  assert.equal(result.policy?.autonomy_level, 'L2');
  const bad = await loadPolicy(await configDir({ 'policy.yaml': 'autonomy_level: L2\nbogus: 1\n' }));
  assert.equal(bad.policy, undefined);
  assert.equal(bad.problems[0]?.code, 'unknown-key');
});

test('ConfigError lists file:line:col: message lines and keeps the problems', () => {
  const problems: ConfigProblem[] = [
    { file: '/w/registry.yaml', line: 3, column: 11, endLine: 3, endColumn: 20, severity: 'error', code: 'invalid-server-name', message: "rename 'my_server' to 'my-server'" },
    { file: '/w/policy.yaml', line: 1, column: 17, endLine: 1, endColumn: 19, severity: 'warning', code: 'autonomy-clamped', message: 'L1 is used' },
  ];
  const err = new ConfigError(problems);
  assert.ok(err instanceof Error);
  assert.equal(err.name, 'ConfigError');
  assert.equal(err.message, "/w/registry.yaml:3:11: rename 'my_server' to 'my-server'\n/w/policy.yaml:1:17: warning: L1 is used");
  assert.deepEqual(err.problems, problems);
  assert.equal(formatProblem(problems[0] as ConfigProblem), "/w/registry.yaml:3:11: rename 'my_server' to 'my-server'");
  assert.equal(hasErrors(problems), true);
  assert.equal(hasErrors(problems.slice(1)), false);
});

// Issue 13 item 6: a 5 MB registry stalled every call for 15 s; the cap is checked before parsing.
test('a registry or policy over 1 MiB is refused before it is parsed, naming file, size and limit', async () => {
  const big = `version: "1"\nservers: []\n# ${'x'.repeat(1024 * 1024)}\n`;
  const dir = await configDir({ 'registry.yaml': big, 'policy.yaml': `autonomy_level: L1\n# ${'y'.repeat(5 * 1024 * 1024)}\n` });
  const reg = await loadRegistry(dir);
  assert.equal(reg.registry, undefined);
  assert.equal(reg.problems[0]?.code, 'file-too-large');
  assert.match(reg.problems[0]!.message, /^registry\.yaml is 1048604 bytes \(1 MiB\), over the limit of 1048576 bytes \(1 MiB\), so it is not parsed/);
  const pol = await loadPolicy(dir);
  assert.equal(pol.problems[0]?.code, 'file-too-large');
  assert.match(pol.problems[0]!.message, /^policy\.yaml is 5242902 bytes \(5 MiB\), over the limit/);
  // The same limit for editor text (the language server parses unsaved buffers).
  assert.equal(parseRegistry(big, 'registry.yaml').problems[0]?.code, 'file-too-large');
  assert.equal(parsePolicy('autonomy_level: L1\n', 'policy.yaml').problems.length, 0);
  assert.equal(MAX_CONFIG_BYTES, 1024 * 1024);
});

// Issue 13 item 14: rea's policy schema is strict (SPEC §10.2: `gateway` knows only
// `health.expose_diagnostics`), so `gateway.breaker` in .rea/policy.yaml made `rea status` fail.
const REA_POLICY = 'version: "1"\nprofile: p\ninstalled_by: me\ninstalled_at: "2026-01-01"\nautonomy_level: L1\nmax_autonomy_level: L2\npromotion_requires_human_approval: true\nblocked_paths: []\n';

test('.rea/policy.yaml with Gatehouse-only gateway keys warns at each key and names .rea/gatehouse.yaml', () => {
  const text = `${REA_POLICY}gateway:\n  health:\n    expose_diagnostics: true\n  breaker:\n    failure_threshold: 3\n  timeouts:\n    call_ms: 5000\n`;
  const rea = parsePolicy(text, '/w/.rea/policy.yaml');
  assert.ok(rea.policy, 'still a valid policy for Gatehouse');
  const warnings = rea.problems.filter((p) => p.code === 'rea-incompatible');
  assert.deepEqual(warnings.map((p) => [p.severity, p.line]), [['warning', 12], ['warning', 14]]);
  assert.match(warnings[0]!.message, /'gateway\.breaker' is a Gatehouse setting that rea's strict policy schema refuses \(`rea status` fails on this file\); move the gateway: settings to \.rea\/gatehouse\.yaml/);
  assert.deepEqual(parsePolicy(text, '/w/.gatehouse/policy.yaml').problems, [], 'no warning where rea does not look');
});

test('gatehouse.yaml beside policy.yaml supplies gateway tunables; its blocks win', async () => {
  const dir = await configDir({
    'policy.yaml': `${REA_POLICY}gateway:\n  health:\n    expose_diagnostics: true\n  timeouts:\n    call_ms: 9000\n`,
    'gatehouse.yaml': 'gateway:\n  breaker:\n    failure_threshold: 2\n  timeouts:\n    connect_ms: 4000\n',
  });
  const result = await loadPolicy(dir);
  assert.deepEqual(result.problems, []);
  assert.deepEqual(result.policy?.gateway, { health: { expose_diagnostics: true }, timeouts: { connect_ms: 4000 }, breaker: { failure_threshold: 2 } });
  const bad = await configDir({ 'policy.yaml': REA_POLICY, 'gatehouse.yaml': 'autonomy_level: L3\n' });
  const refused = await loadPolicy(bad);
  assert.equal(refused.policy, undefined, 'a broken gatehouse.yaml is an error like a broken policy');
  assert.equal(refused.problems[0]?.file, path.join(bad, 'gatehouse.yaml'));
  assert.equal(refused.problems[0]?.code, 'unknown-key');
});
