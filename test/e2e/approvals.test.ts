/**
 * Approvals with VS Code's own MCP client (issue 14): the workspace's policy holds
 * `rec__record` (the recorder fixture) for approval; a suite in the extension host (suite/approvals.ts) calls it twice
 * through `vscode.lm.invokeTool`, and this side, on the page, finds Gatehouse's notification for
 * each call — naming the tool, its tier and its arguments — sees the status bar say a call is
 * waiting, and clicks Allow once, then Deny.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { CHROMIUM, chromiumAvailable, runCommand, statusBarItem } from './harness/browser';
import { ensureCodeServer } from './harness/codeServer';
import { FIXTURE_SERVERS, fixtureWorkspace, type FixtureWorkspace } from './support/fixtureWorkspace';
import { runSuiteInVsCode } from './support/runSuiteInVsCode';

const skip = !chromiumAvailable() && !process.env.CI ? `Chromium not found at ${CHROMIUM} (run .ci/install-e2e.sh)` : false;
const TAG = '[gatehouse suite]';

/**
 * Waits for Gatehouse's notification about the call with `id`, checks what it names, clicks
 * `button`. The window of a headless browser has no focus, so VS Code may file the toast straight
 * into the notification centre (the status bar still says a call is waiting): open the centre.
 */
async function answer(page: Page, id: string, button: 'Allow once' | 'Deny'): Promise<void> {
  const item = page.locator('.notification-list-item', { hasText: `"id":"${id}"` }).first();
  const deadline = Date.now() + 200_000;
  let opened = 0;
  while (!(await item.isVisible().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`no Gatehouse prompt for ${id} within 200 s`);
    if ((await statusBarItem(page, /waiting/).isVisible().catch(() => false)) && Date.now() - opened > 5_000) {
      opened = Date.now();
      await runCommand(page, 'Notifications: Show Notifications').catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  process.stderr.write(`[approvals e2e] Gatehouse's prompt for ${id} is shown\n`);
  const text = (await item.textContent()) ?? '';
  for (const part of ['rec__record', 'read tier', "server 'rec'"]) assert.ok(text.includes(part), `the prompt names ${part}: ${text}`);
  assert.ok(await statusBarItem(page, /waiting/).isVisible(), 'the status bar says a call is waiting');
  await item.locator('.monaco-button', { hasText: new RegExp(`^${button}$`) }).click();
  await item.waitFor({ state: 'detached', timeout: 30_000 });
}

describe('approvals in VS Code', { timeout: 10 * 60_000 }, () => {
  let ws: FixtureWorkspace | undefined;
  before(async () => {
    if (skip) return;
    await ensureCodeServer();
  });
  after(() => ws?.remove());

  test("a call from VS Code's MCP client to an approval-listed tool shows Gatehouse's prompt; Allow runs it, Deny refuses it", { skip, timeout: 8 * 60_000 }, async (t) => {
    ws = fixtureWorkspace();
    // The recorder fixture writes every tools/call it receives to RECORD_FILE: the server's own
    // word on what reached it. Its tool is read-only, which matters: outside chat VS Code asks
    // its own confirmation (a dialog, refused under the test driver) before any other tool.
    // The file lies beside the workspace folder, not in it, and goes with it.
    const countFile = path.join(path.dirname(ws.dir), 'count');
    writeFileSync(
      path.join(ws.configDir, 'registry.yaml'),
      `version: "1"\nservers:\n  - name: rec\n    command: node\n    args: ["${FIXTURE_SERVERS}/recorder.mjs"]\n    env:\n      RECORD_FILE: "${countFile}"\n`,
    );
    writeFileSync(path.join(ws.configDir, 'policy.yaml'), 'autonomy_level: L2\napproval:\n  tools: ["rec__record"]\n  timeout_s: 240\n');
    const { code, report, failed } = await runSuiteInVsCode({
      suite: 'approvals.ts',
      tag: TAG,
      workspace: ws,
      timeoutMs: 7 * 60_000,
      codeServer: { env: { GATEHOUSE_E2E_COUNT_FILE: countFile } },
      onConsole: (line) => {
        if (line.includes(TAG)) process.stderr.write(`${line}\n`);
      },
      onFailureLog: (text) => t.diagnostic(text.split('\n').filter((l) => /gatehouse|approval|page driver|Error/i.test(l)).slice(-80).join('\n')),
      withPage: async (page) => {
        try {
          await answer(page, 'allow-1', 'Allow once');
          await answer(page, 'deny-1', 'Deny');
        } catch (err) {
          await page.screenshot({ path: path.join(os.tmpdir(), 'gatehouse-e2e-approvals-failure.png') }).catch(() => undefined);
          throw err;
        }
      },
    });
    t.diagnostic(report.join('\n'));
    assert.deepEqual(failed, [], `checks failed in the extension host:\n${failed.join('\n')}`);
    assert.equal(code, 0, `the run exited ${code}`);
    assert.ok(report.some((l) => l.includes('3/3 passed')), 'the suite reported');
  });
});
