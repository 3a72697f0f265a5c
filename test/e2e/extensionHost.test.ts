/**
 * Runs suite/index.ts inside the extension host of a real VS Code (code-server's smoke-test
 * driver; the test-electron equivalent): Gatehouse loaded from the repository as the extension
 * under development, on a copy of the fixture workspace. The suite is bundled with esbuild
 * (vscode external) because the extension host loads plain CommonJS.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { build } from 'esbuild';
import { CHROMIUM, chromiumAvailable, runExtensionTests } from './harness/browser';
import { ensureCodeServer } from './harness/codeServer';
import { fixtureWorkspace, processesIn, type FixtureWorkspace } from './support/fixtureWorkspace';
import { buildExtension, REPO_ROOT } from './support/gatehouseBuild';
import { waitUntil } from './harness/wait';

const skip = !chromiumAvailable() && !process.env.CI ? `Chromium not found at ${CHROMIUM} (run .ci/install-e2e.sh)` : false;
const TAG = '[gatehouse suite]';

describe('Gatehouse extension-host suite', { timeout: 10 * 60_000 }, () => {
  let ws: FixtureWorkspace | undefined;
  let outDir: string | undefined;
  before(async () => {
    if (skip) return;
    await ensureCodeServer();
  });
  after(() => {
    ws?.remove();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  test('commands, MCP registration, hot reload and restart work in the extension host', { skip, timeout: 8 * 60_000 }, async (t) => {
    await buildExtension();
    outDir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-e2e-suite-'));
    const suite = path.join(outDir, 'index.js');
    await build({
      entryPoints: [path.join(__dirname, 'suite', 'index.ts')],
      outfile: suite,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['vscode'],
      logLevel: 'silent',
    });
    ws = fixtureWorkspace();
    const lines: string[] = [];
    const t0 = Date.now();
    const code = await runExtensionTests({
      extensionDevelopmentPath: REPO_ROOT,
      extensionTestsPath: suite,
      workspace: ws.dir,
      timeoutMs: 6 * 60_000,
      onConsole: (line) => lines.push(line),
      onFailureLog: (text) => t.diagnostic(failureExcerpt(text)),
    });
    const report = lines.filter((l) => l.includes(TAG)).map((l) => l.slice(l.indexOf(TAG)));
    t.diagnostic(`runExtensionTests: exit ${code} after ${Date.now() - t0} ms\n${report.join('\n')}`);
    // The failing checks go into the assertion message itself: CI summaries keep the error of a
    // failed test but may cut the diagnostics around it.
    const failed = report.filter((l) => l.startsWith(`${TAG} not ok`)).map((l) => l.slice(0, 1500));
    assert.deepEqual(failed, [], `checks failed in the extension host (exit ${code}):\n${failed.join('\n')}`);
    assert.equal(code, 0, `the suite exited ${code}; its report:\n${report.slice(-20).join('\n')}`);
    assert.ok(report.some((l) => /\d+\/\d+ passed/.test(l)), 'the suite reported');
    await waitUntil('no child of the workspace to be left', () => processesIn(ws!.dir).length === 0, 15_000, 200);
  });
});

/** Gatehouse's own output channels whole (their tails), and the lines naming Gatehouse elsewhere. */
function failureExcerpt(text: string): string {
  return text
    .split(/^(?=--- )/m)
    .map((section) => {
      const lines = section.split('\n');
      if (/gatehouse\.gatehouse[\\/]/.test(lines[0] ?? '')) return [lines[0], ...lines.slice(1).slice(-40)].join('\n');
      return lines.filter((l) => l.includes(TAG) || /gatehouse/i.test(l)).slice(-40).join('\n');
    })
    .filter(Boolean)
    .join('\n');
}
