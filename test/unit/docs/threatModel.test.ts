/**
 * THREAT_MODEL.md promises that every mitigation names the test that proves it. This keeps the
 * promise mechanical: every test file the table cites must exist, and every threat row must cite
 * at least one. A renamed or deleted test fails here instead of leaving the document quietly wrong.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const doc = readFileSync(path.join(ROOT, 'THREAT_MODEL.md'), 'utf8');

function testFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => path.join(dir, f));
}
const allTests = testFiles('test');

/** Rows of the threats table: `| T<n>[a-z] | threat | mitigation | proven by |`. */
const rows = doc.split('\n').filter((l) => /^\| T\d+[a-z]? \|/.test(l));

test('THREAT_MODEL.md has a row per threat, each naming its proof', () => {
  assert.ok(rows.length >= 16, `${rows.length} threat rows`);
  for (const row of rows) {
    const proof = row.split('|').at(-2) ?? '';
    assert.match(proof, /test\//, `${row.slice(0, 40)}… names a test`);
  }
});

test('every test file THREAT_MODEL.md cites exists', () => {
  // Full paths (`test/unit/x.test.ts`) and bare names listed after one (`y.test.ts`).
  const cited = new Set([...doc.matchAll(/`([\w./-]*?\.test\.ts)`/g)].map((m) => m[1] ?? ''));
  assert.ok(cited.size >= 15, `${cited.size} test files cited`);
  for (const name of cited) {
    const found = name.includes('/') ? existsSync(path.join(ROOT, name)) : allTests.some((f) => path.basename(f) === name);
    assert.ok(found, `THREAT_MODEL.md cites ${name}, which does not exist: update the document`);
  }
  for (const dir of [...doc.matchAll(/`(test\/[\w/-]+\/)`/g)].map((m) => m[1] ?? '')) {
    assert.ok(existsSync(path.join(ROOT, dir)), `THREAT_MODEL.md cites ${dir}, which does not exist`);
  }
});
