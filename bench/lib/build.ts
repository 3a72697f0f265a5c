import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { BuildOptions } from 'esbuild';
import { repoRoot } from './env';

/** The built CLI the process benchmarks spawn, exactly what `npm i -g` would run. */
export const cliPath = path.join(repoRoot, 'dist', 'cli.js');
const workerPath = path.join(repoRoot, 'dist', 'scannerWorker.js');

/**
 * Runs the project's build (`npm run build`'s script) when dist/cli.js is missing or older than
 * any source it bundles. If the full build fails (another entry — the extension host, the
 * webview — may be mid-edit), builds just the CLI and its scanner worker with the same esbuild
 * settings, since that is all the bench runs. Returns what it did, for the report.
 */
export async function ensureBuilt(): Promise<string> {
  const built = Math.min(mtime(cliPath), mtime(workerPath));
  const sources = ['extension', 'package.json', 'package-lock.json'].map((p) => newestMtime(path.join(repoRoot, p)));
  if (built > 0 && sources.every((s) => s <= built)) return 'dist/cli.js up to date';
  try {
    execFileSync(process.execPath, [path.join(repoRoot, 'extension/build/esbuild.mjs')], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    return 'built with extension/build/esbuild.mjs';
  } catch (err) {
    const why = (err as { stderr?: Buffer }).stderr?.toString().split('\n').find((l) => l.includes('ERROR')) ?? String(err);
    const esbuild = await import('esbuild');
    const common: BuildOptions = { platform: 'node', target: 'node20', format: 'cjs', bundle: true, sourcemap: 'linked', external: ['vscode'], absWorkingDir: repoRoot, logLevel: 'silent' };
    await esbuild.build({ ...common, entryPoints: ['extension/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } });
    await esbuild.build({ ...common, entryPoints: ['extension/gateway/scanner/worker.ts'], outfile: 'dist/scannerWorker.js' });
    return `full build failed (${why.trim()}); built only dist/cli.js and dist/scannerWorker.js`;
  }
}

function mtime(file: string): number {
  return existsSync(file) ? statSync(file).mtimeMs : 0;
}

function newestMtime(p: string): number {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const name of readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, name)));
  return newest;
}
