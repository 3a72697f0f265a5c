/** Shared helpers for the config tests: fixture loading and problem assertions. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigProblem } from '../../../extension/config/problem';

/** Absolute path of `test/fixtures/configs`. */
export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/configs');

/** A fixture's absolute path and text. */
export function fixture(name: string): { file: string; text: string } {
  const file = path.join(FIXTURES, name);
  return { file, text: readFileSync(file, 'utf8') };
}

/** What a test expects of one problem; `range` is [line, column, endLine, endColumn]. */
export interface ExpectedProblem {
  code: string;
  severity?: ConfigProblem['severity'];
  range: [number, number, number, number];
  /** Exact text, or a pattern the message must match. */
  message: string | RegExp;
}

/** Asserts that `problems` holds exactly one problem with `expected.code`, matching the rest. */
export function expectProblem(problems: readonly ConfigProblem[], expected: ExpectedProblem): ConfigProblem {
  const matching = problems.filter((p) => p.code === expected.code);
  assert.equal(matching.length, 1, `expected one '${expected.code}' problem, got: ${JSON.stringify(problems, null, 1)}`);
  const problem = matching[0] as ConfigProblem;
  assert.equal(problem.severity, expected.severity ?? 'error');
  assert.deepEqual([problem.line, problem.column, problem.endLine, problem.endColumn], expected.range, `range of '${expected.code}'`);
  if (typeof expected.message === 'string') assert.equal(problem.message, expected.message);
  else assert.match(problem.message, expected.message);
  return problem;
}
