/**
 * The same extension-host suite (suite/index.ts) through `@vscode/test-electron`, for machines
 * that can download VS Code (this project's CI cannot; it uses code-server, see
 * extensionHost.test.ts):
 *
 *   npm run test:electron [-- version]
 *
 * `version` defaults to the engines minimum (1.101.0); pass `stable` for the latest.
 */
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { runTests } from '@vscode/test-electron';
import { build } from 'esbuild';
import { fixtureWorkspace } from './support/fixtureWorkspace';
import { buildExtension, REPO_ROOT } from './support/gatehouseBuild';

async function main(): Promise<number> {
  await buildExtension();
  const out = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-test-electron-'));
  const suite = path.join(out, 'index.js');
  await build({ entryPoints: [path.join(__dirname, 'suite', 'index.ts')], outfile: suite, bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'] });
  const ws = fixtureWorkspace();
  try {
    return await runTests({
      version: process.argv[2] ?? '1.101.0',
      extensionDevelopmentPath: REPO_ROOT,
      extensionTestsPath: suite,
      launchArgs: [ws.dir, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
    });
  } finally {
    ws.remove();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
