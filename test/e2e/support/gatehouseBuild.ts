/**
 * Builds and packages the Gatehouse extension for the e2e tier, once per test process:
 * `extension/build/esbuild.mjs` (dist/), then `vsce package --no-dependencies` as users get it.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageVsix } from '../harness/vsix';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/**
 * vsce flags a token-shaped warm-up string in the scanner worker (a false positive); the
 * `package` script passes the same. README links are rewritten to the repository on GitHub.
 */
export const VSCE_ARGS = ['--allow-package-secrets', 'github'];

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
/** Bundles dist/ (extension, CLI, language server, webview) and generates the JSON Schemas, as `npm run build` does. */
export function buildExtension(): Promise<void> {
  built ??= run(process.execPath, ['extension/build/esbuild.mjs'], REPO_ROOT).then(() =>
    run(process.execPath, ['extension/build/generateSchemas.mjs'], REPO_ROOT),
  );
  return built;
}

/** Hash of everything that goes into the .vsix (see .vscodeignore). */
function packageInputsHash(): string {
  const hash = createHash('sha256');
  const files = ['package.json', '.vscodeignore', 'README.md', 'CHANGELOG.md', 'LICENSE'];
  for (const name of readdirSync(path.join(REPO_ROOT, 'dist')).sort()) if (name.endsWith('.js')) files.push(path.join('dist', name));
  const media = path.join(REPO_ROOT, 'media');
  for (const name of readdirSync(media, { recursive: true }).map(String).sort()) {
    if (!name.startsWith('screenshots') && !name.endsWith('/')) files.push(path.join('media', name));
  }
  for (const file of files) {
    const full = path.join(REPO_ROOT, file);
    hash.update(file);
    try {
      hash.update(readFileSync(full));
    } catch {
      hash.update('(absent)');
    }
  }
  return hash.digest('hex').slice(0, 16);
}

let packaged: Promise<string> | undefined;
/**
 * The .vsix of the current tree (built first). Each e2e file runs in its own process, so the
 * package is cached in .test-runs/e2e/vsix/ by the hash of its inputs: packaging (vsce walks the
 * whole repository) is done once per change, not once per file.
 */
export function packageGatehouse(): Promise<string> {
  packaged ??= (async () => {
    await buildExtension();
    const cacheDir = path.join(REPO_ROOT, '.test-runs', 'e2e', 'vsix');
    const cached = path.join(cacheDir, `gatehouse-${packageInputsHash()}.vsix`);
    if (existsSync(cached)) return cached;
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-e2e-vsix-'));
    try {
      const out = await packageVsix(REPO_ROOT, { out: path.join(tmp, 'gatehouse.vsix'), args: VSCE_ARGS });
      mkdirSync(cacheDir, { recursive: true });
      for (const old of readdirSync(cacheDir)) rmSync(path.join(cacheDir, old), { force: true });
      renameSync(out, cached);
      return cached;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  })();
  return packaged;
}
