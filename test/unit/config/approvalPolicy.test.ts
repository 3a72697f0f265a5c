import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePolicy } from '../../../extension/config/loadConfig';
import { toolGlobMatches, toolGlobProblem } from '../../../extension/config/toolGlob';

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
  assert.match(errors[1]!.message, /holds '\{'/);
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
  assert.ok(toolGlobMatches('github__delete_*', 'github__delete_repo'));
  assert.ok(!toolGlobMatches('github__delete_*', 'github__list_repos'));
  assert.ok(toolGlobMatches('*__delete_*', 'gh__delete_x'));
  assert.ok(toolGlobMatches('echo__slee?', 'echo__sleep'));
  assert.ok(!toolGlobMatches('echo__slee?', 'echo__sleeps'));
  assert.ok(toolGlobMatches('*', 'a__b'));
  assert.ok(toolGlobMatches('a*b*c', 'aXbYbZc'));
  assert.ok(!toolGlobMatches('echo__sleep', 'echo__sleep2'));
  // Linear on a hostile pattern/name pair (a backtracking regex would take ages here).
  assert.ok(!toolGlobMatches('*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000)));
  assert.equal(toolGlobProblem('echo__sleep'), undefined);
  assert.equal(toolGlobProblem('*'), undefined);
  assert.match(toolGlobProblem('') ?? '', /empty/);
  assert.match(toolGlobProblem('a__ b') ?? '', /whitespace/);
});
