import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './fixtures';

/** The built CLI: the same file `npm i -g` would put on PATH as `gatehouse`. */
export const cliPath = path.join(repoRoot, 'dist', 'cli.js');

let checked = false;

/**
 * Builds `dist/cli.js` with the project's own esbuild script when it is missing or older than
 * any source it bundles, so process tests always run the code under test, not a stale bundle.
 * Once per test process; the runner runs process-test files one at a time, so two files never
 * build concurrently.
 */
export function ensureCliBuilt(): string {
  if (checked) return cliPath;
  const built = existsSync(cliPath) ? statSync(cliPath).mtimeMs : 0;
  const sources = [path.join(repoRoot, 'extension'), path.join(repoRoot, 'package.json'), path.join(repoRoot, 'package-lock.json')];
  if (built === 0 || sources.some((s) => newestMtime(s) > built)) {
    execFileSync(process.execPath, [path.join(repoRoot, 'extension/build/esbuild.mjs')], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  checked = true;
  return cliPath;
}

function newestMtime(p: string): number {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const name of readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, name)));
  return newest;
}
