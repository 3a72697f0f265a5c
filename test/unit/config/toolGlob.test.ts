import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchesToolGlob, toolGlobProblem, toolSelected } from '../../../extension/config/toolGlob';
import { parseRegistry } from '../../../extension/config/loadConfig';
import { expectProblem } from './helpers';

test('tool globs: * is any run, ? one character, everything else literal and whole-name', () => {
  assert.ok(matchesToolGlob('read_file', 'read_*'));
  assert.ok(matchesToolGlob('read_', 'read_*'));
  assert.ok(!matchesToolGlob('xread_file', 'read_*'));
  assert.ok(matchesToolGlob('get-sum', 'get-s?m'));
  assert.ok(!matchesToolGlob('get-sm', 'get-s?m'));
  assert.ok(matchesToolGlob('github__delete_repo', '*__delete_*'));
  assert.ok(matchesToolGlob('a.b', 'a.b'));
  assert.ok(!matchesToolGlob('axb', 'a.b'), '. is literal, not a regex');
  assert.ok(matchesToolGlob('abcabd', '*ab?'));
  assert.ok(matchesToolGlob('', '*'));
  assert.ok(!matchesToolGlob('search2', 'search'));
});

test('a long adversarial name is matched without blowing up (no regex backtracking)', () => {
  const name = 'a'.repeat(5000);
  const started = process.hrtime.bigint();
  assert.equal(matchesToolGlob(name, '*a*a*a*a*a*a*a*b'), false);
  // Not a timing assertion of the behaviour, just a guard against a catastrophic case (seconds).
  assert.ok(Number(process.hrtime.bigint() - started) < 5e9);
});

test('unsupported or empty patterns are refused with a reason', () => {
  assert.equal(toolGlobProblem('read_*'), undefined);
  assert.match(toolGlobProblem('') ?? '', /must not be empty/);
  assert.match(toolGlobProblem('[ab]') ?? '', /'\[', which is not supported/);
  assert.match(toolGlobProblem('{a,b}') ?? '', /'\{'/);
  assert.match(toolGlobProblem('a b') ?? '', /space/);
});

test('include keeps only matches, exclude wins over include', () => {
  assert.ok(toolSelected('anything', undefined));
  assert.ok(toolSelected('read_file', { include: ['read_*'] }));
  assert.ok(!toolSelected('write_file', { include: ['read_*'] }));
  assert.ok(!toolSelected('read_secret', { include: ['read_*'], exclude: ['*secret*'] }));
  assert.ok(!toolSelected('x', { include: [] }), 'an empty include list shows nothing');
});

const registry = (body: string) => parseRegistry(`version: "1"\nservers:\n  - name: echo\n    command: node\n${body}`, '/w/.gatehouse/registry.yaml');

test('registry tools: and profiles: parse; bad globs and unknown profile servers are positioned errors', () => {
  const ok = registry('    tools:\n      include: ["read_*"]\n      exclude: [delete]\nprofiles:\n  review:\n    servers: [echo]\n    tools: ["echo__read_*"]\n');
  assert.deepEqual(ok.problems, []);
  assert.deepEqual(ok.registry?.servers[0]?.tools, { include: ['read_*'], exclude: ['delete'] });
  assert.deepEqual(ok.registry?.profiles, { review: { servers: ['echo'], tools: ['echo__read_*'] } });

  const bad = registry('    tools:\n      exclude: ["del[ete"]\nprofiles:\n  review:\n    servers: [echo, ghost]\n    tools: [""]\n');
  assert.equal(bad.registry, undefined);
  expectProblem(bad.problems, { code: 'unknown-profile-server', range: [9, 21, 9, 26], message: /profile 'review' names server 'ghost'.*known servers: echo/ });
  assert.equal(bad.problems.filter((p) => p.code === 'invalid-tool-glob').length, 2);
  assert.deepEqual(
    bad.problems.filter((p) => p.code === 'invalid-tool-glob').map((p) => [p.line, p.column]),
    [
      [6, 17],
      [10, 13],
    ],
  );

  const typo = registry('    tools:\n      exlude: [x]\n');
  assert.equal(typo.problems[0]?.code, 'unknown-key');
  const badName = registry('profiles:\n  Bad_Name: {}\n');
  assert.equal(badName.problems[0]?.code, 'invalid-profile-name');
});

test('in .rea/ the new keys warn that rea refuses them', () => {
  const { problems } = parseRegistry('version: "1"\nservers:\n  - name: echo\n    command: node\n    tools: { exclude: [x] }\nprofiles: {}\n', '/w/.rea/registry.yaml');
  assert.deepEqual(
    problems.map((p) => [p.code, p.line]),
    [
      ['rea-incompatible', 5],
      ['rea-incompatible', 6],
    ],
  );
});
