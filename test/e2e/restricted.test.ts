/**
 * Workspace Trust: Gatehouse opened in Restricted Mode starts nothing from the workspace's
 * config (no child, no endpoint, no discovery file), says why in the tree and the status bar,
 * and starts the gateway without a reload once the user trusts the folder.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CHROMIUM, chromiumAvailable, openWorkbench, runCommand, screenshot, type Workbench } from './harness/browser';
import { ensureCodeServer, startCodeServer, type CodeServer } from './harness/codeServer';
import { waitUntil } from './harness/wait';
import { fixtureWorkspace, processesIn, type FixtureWorkspace } from './support/fixtureWorkspace';
import { packageGatehouse } from './support/gatehouseBuild';
import { ARTIFACTS, shoot } from './support/screenshots';
import { openGatehouseView, rowDescription, serverRow, statusState } from './support/workbenchUi';

const artifacts = ARTIFACTS;
const skip = !chromiumAvailable() && !process.env.CI ? `Chromium not found at ${CHROMIUM} (run .ci/install-e2e.sh)` : false;
/** How long nothing may appear after the extension showed it is active. */
const QUIET_MS = 5_000;

describe('Gatehouse in Restricted Mode', { timeout: 10 * 60_000 }, () => {
  let ws: FixtureWorkspace | undefined;
  before(async () => {
    if (!skip) await ensureCodeServer();
  });
  after(() => ws?.remove());

  test('spawns nothing while untrusted, explains why, and starts when trust is granted', { skip, timeout: 8 * 60_000 }, async (t) => {
    const vsix = await packageGatehouse();
    ws = fixtureWorkspace();
    const server: CodeServer = await startCodeServer({
      workspace: ws.dir,
      vsix,
      trusted: false,
      // Open straight into Restricted Mode instead of the startup trust dialog.
      settings: { 'security.workspace.trust.startupPrompt': 'never' },
    });
    let workbench: Workbench | undefined;
    try {
      workbench = await openWorkbench(server.url, ws.dir);
      const { page } = workbench;
      await openGatehouseView(page);
      const welcome = page.locator('.welcome-view-content').filter({ hasText: 'Gatehouse is off in Restricted Mode' });
      await welcome.first().waitFor({ timeout: 90_000 });
      await waitUntil('the status bar to say Restricted', async () => (await statusState(page)).text.includes('Restricted'), 30_000, 250);

      // The extension is active (it rendered both): nothing may start now.
      const quietUntil = Date.now() + QUIET_MS;
      while (Date.now() < quietUntil) {
        assert.deepEqual(processesIn(ws.dir), [], 'no server process in Restricted Mode');
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(!existsSync(path.join(ws.configDir, 'gateway.json')), 'no endpoint published in Restricted Mode');
      assert.ok(!existsSync(path.join(ws.configDir, 'serve.state.json')), 'no state file in Restricted Mode');
      assert.equal(await serverRow(page, 'echo').count(), 0, 'the tree lists no server');
      await shoot(page, 'restricted', ['tree']);

      // Trust the folder from the Workspace Trust editor: the gateway starts, no reload.
      await runCommand(page, 'Workspaces: Manage Workspace Trust');
      const trust = page.locator('.workspace-trust-editor .monaco-button').filter({ hasText: /^\s*Trust\s*$/ });
      await trust.first().click({ timeout: 20_000 });
      await openGatehouseView(page);
      for (const name of ['echo', 'flaky']) {
        await waitUntil(`${name} ready after trust`, async () => (await rowDescription(serverRow(page, name).first())) === 'ready · 6 tools · closed', 90_000, 250);
      }
      assert.equal(processesIn(ws.dir).length, 2, 'both servers run once trusted');
      assert.ok(existsSync(path.join(ws.configDir, 'gateway.json')), 'the endpoint is published once trusted');
      // The status bar follows the same store as the tree, coalesced: wait for it too.
      await waitUntil('status bar 2/2 after trust', async () => /2\/2/.test((await statusState(page)).text), 30_000, 250);
    } catch (err) {
      if (workbench) t.diagnostic(`screenshot: ${await screenshot(workbench.page, path.join(artifacts, `restricted-${Date.now()}.png`)).catch(() => undefined)}`);
      for (const [file, text] of Object.entries(server.logFiles())) if (/Gatehouse/.test(file)) t.diagnostic(`${file}:\n${text.slice(-4000)}`);
      throw err;
    } finally {
      await workbench?.close();
      await server.stop();
    }
    await waitUntil('no child of the workspace to be left', () => processesIn(ws!.dir).length === 0, 15_000, 200);
  });
});
