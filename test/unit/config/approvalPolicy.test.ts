import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePolicy } from '../../../extension/config/loadConfig';
import { matchesToolGlob, qualifiedToolGlobProblem as toolGlobProblem } from '../../../extension/config/toolGlob';

const FILE = '/ws/.gatehouse/policy.yaml';

test('approval: tools, tiers and timeout_s parse', () => {
  const text = 'autonomy_level: L3\napproval:\n  tools: ["github__delete_*", "echo__sleep"]\n  tiers: [destructive]\n  timeout_s: 30\n';
  const { policy, problems } = parsePolicy(text, FILE);
  assert.deepEqual(problems, []);
  assert.deepEqual(policy?.approval, { tools: ['github__delete_*', 'echo__sleep'], tiers: ['destructive'], timeout_s: 30 });
});

test('an unknown tier in approval.tiers is an error at its line and column, and no policy comes back', () => {
  const text = 'autonomy_level: L1\napproval:\n  tiers: [destructive, dangerous]\n';
  const { policy, problems } = parsePolicy(text, FILE);
  assert.equal(policy, undefined);
  const p = problems.find((x) => x.severity === 'error');
  assert.ok(p, JSON.stringify(problems));
  assert.equal(p.file, FILE);
  assert.equal(p.line, 3);
  assert.equal(p.column, 24);
  assert.match(p.message, /approval\.tiers takes read, write and destructive, not 'dangerous'/);
});

test('an invalid glob in approval.tools is an error at its line and column saying what is wrong', () => {
  const text = 'autonomy_level: L1\napproval:\n  tools:\n    - "github__delete_*"\n    - "delete_*"\n    - "x__{a,b}"\n';
  const { policy, problems } = parsePolicy(text, FILE);
  assert.equal(policy, undefined);
  const errors = problems.filter((x) => x.severity === 'error');
  assert.equal(errors.length, 2, JSON.stringify(problems));
  assert.deepEqual([errors[0]!.line, errors[0]!.column, errors[0]!.code], [5, 7, 'invalid-glob']);
  assert.match(errors[0]!.message, /'delete_\*' has no '__'.*'\*__delete_\*'/);
  assert.deepEqual([errors[1]!.line, errors[1]!.column], [6, 7]);
  assert.match(errors[1]!.message, /uses '\{'/);
});

test('approval.timeout_s must be a positive whole number of seconds', () => {
  const { policy, problems } = parsePolicy('autonomy_level: L1\napproval:\n  timeout_s: 0\n', FILE);
  assert.equal(policy, undefined);
  assert.equal(problems.find((x) => x.severity === 'error')?.line, 3);
});

test('an unknown key under approval is an error (strict, so a typo never silently disables approvals)', () => {
  const { policy, problems } = parsePolicy('autonomy_level: L1\napproval:\n  tool: ["a__b"]\n', FILE);
  assert.equal(policy, undefined);
  assert.equal(problems.find((x) => x.severity === 'error')?.line, 3);
});

test('tool globs: * spans any characters, ? one, the rest is literal', () => {
  assert.ok(matchesToolGlob('github__delete_repo', 'github__delete_*'));
  assert.ok(!matchesToolGlob('github__list_repos', 'github__delete_*'));
  assert.ok(matchesToolGlob('gh__delete_x', '*__delete_*'));
  assert.ok(matchesToolGlob('echo__sleep', 'echo__slee?'));
  assert.ok(!matchesToolGlob('echo__sleeps', 'echo__slee?'));
  assert.ok(matchesToolGlob('a__b', '*'));
  assert.ok(matchesToolGlob('aXbYbZc', 'a*b*c'));
  assert.ok(!matchesToolGlob('echo__sleep2', 'echo__sleep'));
  // Linear on a hostile pattern/name pair (a backtracking regex would take ages here).
  assert.ok(!matchesToolGlob('a'.repeat(5000), '*a*a*a*a*a*a*a*a*b'));
  assert.equal(toolGlobProblem('echo__sleep'), undefined);
  assert.equal(toolGlobProblem('*'), undefined);
  assert.match(toolGlobProblem('') ?? '', /empty/);
  assert.match(toolGlobProblem('a__ b') ?? '', /space or control/);
});
