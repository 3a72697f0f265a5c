/**
 * Builds and packages the Gatehouse extension for the e2e tier, once per test process:
 * `extension/build/esbuild.mjs` (dist/), then `vsce package --no-dependencies` as users get it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageVsix } from '../harness/vsix';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/**
 * vsce flags the README's relative links (no `repository` in package.json) and a token-shaped
 * warm-up string in the scanner worker (a false positive); the `package` script passes the same.
 */
export const VSCE_ARGS = ['--no-rewrite-relative-links', '--allow-package-secrets', 'github'];

function run(cmd: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out}`))));
  });
}

let built: Promise<void> | undefined;
/** Bundles dist/extension.js (and the CLI the client configuration points at). */
export function buildExtension(): Promise<void> {
  built ??= run(process.execPath, ['extension/build/esbuild.mjs'], REPO_ROOT);
  return built;
}

let packaged: Promise<string> | undefined;
/** The .vsix of the current tree (built first). */
export function packageGatehouse(): Promise<string> {
  packaged ??= (async () => {
    await buildExtension();
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'gatehouse-e2e-vsix-')), 'gatehouse.vsix');
    return packageVsix(REPO_ROOT, { out, args: VSCE_ARGS });
  })();
  return packaged;
}
