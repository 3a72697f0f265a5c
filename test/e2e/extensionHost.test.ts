/**
 * Runs suite/index.ts inside the extension host of a real VS Code (code-server's smoke-test
 * driver; the test-electron equivalent): Gatehouse loaded from the repository as the extension
 * under development, on a copy of the fixture workspace.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CHROMIUM, chromiumAvailable } from './harness/browser';
import { ensureCodeServer } from './harness/codeServer';
import { fixtureWorkspace, processesIn, type FixtureWorkspace } from './support/fixtureWorkspace';
import { runSuiteInVsCode } from './support/runSuiteInVsCode';
import { waitUntil } from './harness/wait';

const skip = !chromiumAvailable() && !process.env.CI ? `Chromium not found at ${CHROMIUM} (run .ci/install-e2e.sh)` : false;
const TAG = '[gatehouse suite]';

describe('Gatehouse extension-host suite', { timeout: 10 * 60_000 }, () => {
  let ws: FixtureWorkspace | undefined;
  before(async () => {
    if (skip) return;
    await ensureCodeServer();
  });
  after(() => ws?.remove());

  test('commands, MCP registration, hot reload and restart work in the extension host', { skip, timeout: 8 * 60_000 }, async (t) => {
    ws = fixtureWorkspace();
    const t0 = Date.now();
    const { code, report, failed } = await runSuiteInVsCode({
      suite: 'index.ts',
      tag: TAG,
      workspace: ws,
      timeoutMs: 6 * 60_000,
      onFailureLog: (text) => t.diagnostic(failureExcerpt(text)),
    });
    t.diagnostic(`runExtensionTests: exit ${code} after ${Date.now() - t0} ms\n${report.join('\n')}`);
    // The failing checks go into the assertion message itself: CI summaries keep the error of a
    // failed test but may cut the diagnostics around it.
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
