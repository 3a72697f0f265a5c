/**
 * Packages an extension folder as users get it (`vsce package`), for startCodeServer({ vsix }).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

export interface PackageVsixOptions {
  /** Output file (default: a fresh temp folder / <name>.vsix). */
  out?: string;
  /** Let vsce bundle node_modules (default false: the extension is bundled by esbuild). */
  dependencies?: boolean;
  /** Extra vsce arguments. */
  args?: string[];
}

/** Runs `vsce package` in `extensionDir`; resolves with the .vsix path. */
export async function packageVsix(extensionDir: string, options: PackageVsixOptions = {}): Promise<string> {
  const require = createRequire(__filename);
  const vsce = path.join(path.dirname(require.resolve('@vscode/vsce/package.json')), 'vsce');
  const out = path.resolve(options.out ?? path.join(mkdtempSync(path.join(os.tmpdir(), 'gatehouse-e2e-vsix-')), `${path.basename(extensionDir)}.vsix`));
  mkdirSync(path.dirname(out), { recursive: true });
  const args = [
    vsce,
    'package',
    options.dependencies ? '--dependencies' : '--no-dependencies',
    '--skip-license',
    '--allow-missing-repository',
    '--out',
    out,
    ...(options.args ?? []),
  ];
  // stdin closed: a vsce question (e.g. about a missing field) fails the run instead of hanging it.
  const child = spawn(process.execPath, args, { cwd: extensionDir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  if (code !== 0) throw new Error(`vsce package in ${extensionDir} exited ${code}:\n${output}`);
  return out;
}
