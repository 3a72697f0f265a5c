// Runs the test tiers with Node's own test runner (TypeScript through tsx).
//   node test/run.mjs            unit + process (+ e2e when it exists and GATEHOUSE_SKIP_E2E is unset)
//   node test/run.mjs unit       one tier
// Node 20's --test does not expand globs, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const requested = process.argv.slice(2);
const tiers = requested.length ? requested : ['unit', 'process', 'e2e'];

function testFiles(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'cache' || name === 'node_modules') continue;
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...testFiles(full));
    else if (name.endsWith('.test.ts')) out.push(full);
  }
  return out.sort();
}

let failed = false;
for (const tier of tiers) {
  if (tier === 'e2e' && !requested.includes('e2e') && process.env.GATEHOUSE_SKIP_E2E) continue;
  const files = testFiles(path.join(root, 'test', tier));
  if (files.length === 0) continue;
  // Process and e2e tests own real children and ports: run their files one at a time.
  const concurrency = tier === 'unit' ? [] : ['--test-concurrency=1'];
  console.log(`\n== ${tier}: ${files.length} files ==`);
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...concurrency, ...files], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, GATEHOUSE_TEST_TIER: tier },
  });
  if (res.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
