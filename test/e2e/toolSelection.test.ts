/**
 * Tool selection from the tree, seen by VS Code's own MCP client: in a real VS Code
 * (code-server's smoke-test driver) with Gatehouse under development, the browser unchecks the
 * `sleep` tool under echo → Tools while suite/toolSelection.ts, in the extension host, checks
 * that registry.yaml gained `tools.exclude: [sleep]` (one undoable edit, comments and layout
 * kept) and that `vscode.lm.tools` no longer lists echo__sleep.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { CHROMIUM, chromiumAvailable } from './harness/browser';
import { ensureCodeServer } from './harness/codeServer';
import { fixtureWorkspace, type FixtureWorkspace } from './support/fixtureWorkspace';
import { runSuiteInVsCode } from './support/runSuiteInVsCode';
import { openGatehouseView, serverRow } from './support/workbenchUi';

const skip = !chromiumAvailable() && !process.env.CI ? `Chromium not found at ${CHROMIUM} (run .ci/install-e2e.sh)` : false;
const TAG = '[gatehouse toolsel]';

/** Expands echo → Tools in the Gatehouse view and unchecks `sleep`. */
async function uncheckSleep(page: Page): Promise<void> {
  await openGatehouseView(page);
  const echo = serverRow(page, 'echo').first();
  await echo.waitFor({ state: 'visible', timeout: 120_000 });
  if ((await echo.getAttribute('aria-expanded')) !== 'true') await echo.locator('.monaco-tl-twistie').click();
  const tools = serverRow(page, 'Tools').first();
  await tools.waitFor({ state: 'visible', timeout: 30_000 });
  if ((await tools.getAttribute('aria-expanded')) !== 'true') await tools.locator('.monaco-tl-twistie').click();
  const sleep = serverRow(page, 'sleep').first();
  await sleep.waitFor({ state: 'visible', timeout: 30_000 });
  const box = sleep.locator('.custom-view-tree-node-item-checkbox, [role=checkbox]').first();
  await box.waitFor({ state: 'visible', timeout: 10_000 });
  await box.click();
}

describe('Tool selection in the tree reaches VS Code\'s MCP client', { timeout: 10 * 60_000 }, () => {
  let ws: FixtureWorkspace | undefined;
  before(async () => {
    if (skip) return;
    await ensureCodeServer();
  });
  after(() => ws?.remove());

  test("unchecking a tool writes tools.exclude and hides it from VS Code's tool list", { skip, timeout: 8 * 60_000 }, async (t) => {
    ws = fixtureWorkspace();
    let clickFailure: string | undefined;
    let suiteReady: () => void = () => undefined;
    const ready = new Promise<void>((r) => (suiteReady = r));
    const { code, report } = await runSuiteInVsCode({
      suite: 'toolSelection.ts',
      tag: TAG,
      workspace: ws,
      timeoutMs: 7 * 60_000,
      onConsole: (line) => {
        // The suite says `ready` once VS Code lists echo__sleep: then the UI acts.
        if (line.includes(`${TAG} ready`)) suiteReady();
      },
      withPage: async (page, suiteExited) => {
        await new Promise<void>((resolve) => {
          void ready.then(resolve);
          suiteExited.addEventListener('abort', () => resolve(), { once: true });
        });
        // A suite that exited before its cue failed on its own; there is nothing to click.
        if (suiteExited.aborted) return;
        try {
          await uncheckSleep(page);
        } catch (err) {
          clickFailure = `${TAG} click failed: ${err instanceof Error ? err.message : String(err)}`;
          throw err;
        }
      },
      onFailureLog: (text) => t.diagnostic(text.split('\n').filter((l) => /gatehouse|toolsel|page driver/i.test(l)).slice(-60).join('\n')),
    });
    if (clickFailure) report.push(clickFailure);
    t.diagnostic(report.join('\n'));
    assert.equal(code, 0, `the suite exited ${code}:\n${report.join('\n')}`);
    assert.ok(report.some((l) => l.startsWith(`${TAG} ok`)), 'the suite saw the tool hidden');
  });
});
