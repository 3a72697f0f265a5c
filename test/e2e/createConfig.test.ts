/**
 * From nothing to a running gateway, through the UI: a folder without config shows the "no
 * config" welcome view; its Create Config button writes .gatehouse/registry.yaml and the gateway
 * starts (no reload); a server added to the file on disk starts by hot reload; a broken edit
 * shows the error in the tree and the status bar while the last good config keeps running;
 * a SESSION_BLOCKER raises one warning with its actions and a "Session blocks" group.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CHROMIUM, chromiumAvailable, openWorkbench, runCommand, screenshot, treeRow, type Workbench } from './harness/browser';
import { ensureCodeServerWithLogs, startCodeServer, type CodeServer } from './harness/codeServer';
import { waitUntil } from './harness/wait';
import { FIXTURE_SERVERS, processesIn } from './support/fixtureWorkspace';
import { packageGatehouse } from './support/gatehouseBuild';
import { connectGateway } from './support/gatewayClient';
import { ARTIFACTS, shoot } from './support/screenshots';
import { gatehouseStatus, openGatehouseView, rowDescription, serverRow, statusState } from './support/workbenchUi';

const skip = !chromiumAvailable() && !process.env.CI ? `Chromium not found at ${CHROMIUM} (run .ci/install-e2e.sh)` : false;

describe('Gatehouse: Create Config and hot reload', { timeout: 10 * 60_000 }, () => {
  let parent: string | undefined;
  before(async () => {
    if (!skip) await ensureCodeServerWithLogs();
  });
  after(() => {
    if (parent) rmSync(parent, { recursive: true, force: true });
  });

  test('welcome view → Create Config → gateway runs; registry edits hot-reload; a broken edit shows in tree and status bar', { skip, timeout: 8 * 60_000 }, async (t) => {
    const vsix = await packageGatehouse();
    parent = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-e2e-empty-'));
    const dir = path.join(parent, 'project');
    const registry = path.join(dir, '.gatehouse', 'registry.yaml');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'hello.txt'), 'a project with no Gatehouse config yet\n');
    const server: CodeServer = await startCodeServer({ workspace: dir, vsix });
    let workbench: Workbench | undefined;
    try {
      workbench = await openWorkbench(server.url, dir);
      const { page } = workbench;
      await openGatehouseView(page);
      const welcome = page.locator('.welcome-view-content').filter({ hasText: 'has no Gatehouse config' });
      await welcome.first().waitFor({ timeout: 90_000 });
      assert.equal(await gatehouseStatus(page).count(), 0, 'no status-bar item without a config');
      await shoot(page, 'no-config', ['tree']);

      await welcome.locator('.monaco-button', { hasText: 'Create Config' }).first().click();
      await waitUntil('registry.yaml to be written', () => existsSync(registry), 30_000, 200);
      await page.locator('.tab', { hasText: 'registry.yaml' }).first().waitFor({ timeout: 30_000 });
      await treeRow(page, /Gateway/).first().waitFor({ timeout: 60_000 });
      await waitUntil('status bar 0/0', async () => (await statusState(page)).text.includes('0/0'), 30_000, 250);

      // A server added on disk (not through the editor) starts by hot reload.
      const good = readFileSync(registry, 'utf8').replace('servers: []', `servers:\n  - name: echo\n    command: node\n    args: ["${FIXTURE_SERVERS}/echo.mjs"]`);
      writeFileSync(registry, good);
      await waitUntil('echo ready by hot reload', async () => (await rowDescription(serverRow(page, 'echo').first())) === 'ready · 6 tools · closed', 60_000, 250);
      await waitUntil('status bar 1/1', async () => {
        const s = await statusState(page);
        return s.text.includes('1/1') && s.kind === 'none';
      }, 30_000, 250);
      const [echoPid] = processesIn(dir);
      assert.ok(echoPid, 'the echo server runs in the project folder');

      // A broken edit: the error shows, the last good config (echo) keeps running.
      writeFileSync(registry, `${good}\n  - name: [broken\n`);
      const problem = treeRow(page, /registry\.yaml:\d+:\d+/);
      await problem.first().waitFor({ timeout: 30_000 });
      await waitUntil('error background', async () => (await statusState(page)).kind === 'error', 30_000, 250);
      assert.equal(await rowDescription(serverRow(page, 'echo').first()), 'ready · 6 tools · closed');
      assert.deepEqual(processesIn(dir), [echoPid], 'echo was not restarted');
      await shoot(page, 'config-error');

      writeFileSync(registry, good);
      await problem.first().waitFor({ state: 'detached', timeout: 30_000 });
      await waitUntil('status bar back to normal', async () => (await statusState(page)).kind === 'none', 30_000, 250);

      // SESSION_BLOCKER: tunables make one timed-out call open the circuit and one open fire
      // the blocker. Tunables are read at gateway start: palette "Restart Gateway".
      writeFileSync(
        path.join(dir, '.gatehouse', 'policy.yaml'),
        'autonomy_level: L1\ngateway:\n  breaker:\n    failure_threshold: 1\n  session_blocker:\n    threshold: 1\n',
      );
      const withSlow = `${good}\n  - name: slow\n    command: node\n    args: ["${FIXTURE_SERVERS}/echo.mjs"]\n    timeouts:\n      call_ms: 300\n`;
      writeFileSync(registry, withSlow);
      // Hot reload may start `slow` before the restart: "slow ready" alone can still describe
      // the old gateway, whose listener the restart is about to close. Wait for the new one.
      const listening = (): number => (Object.entries(server.logFiles()).find(([file]) => file.endsWith('/Gatehouse.log'))?.[1] ?? '').split('listening on').length - 1;
      const listenedBefore = listening();
      await runCommand(page, 'Gatehouse: Restart Gateway');
      await waitUntil('the restarted gateway to listen', () => listening() > listenedBefore, 60_000, 250);
      await waitUntil('slow ready', async () => (await rowDescription(serverRow(page, 'slow').first())) === 'ready · 6 tools · closed', 60_000, 250);
      const client = await connectGateway(path.join(dir, '.gatehouse'));
      t.after(() => client.close());
      const timedOut = await client.callTool({ name: 'slow__sleep', arguments: { ms: 2_000 } });
      assert.equal(timedOut.isError, true, 'the call times out');
      const toast = page.locator('.notification-toast').filter({ hasText: 'SESSION_BLOCKER' });
      await toast.first().waitFor({ timeout: 30_000 });
      const buttons = (await toast.first().locator('.monaco-button').allInnerTexts()).map((b) => b.trim());
      assert.deepEqual(buttons.filter((b) => ['Respawn', 'Show Output', 'Disable', "Don't Show Again"].includes(b)), ['Respawn', 'Show Output', 'Disable', "Don't Show Again"]);
      await treeRow(page, /Session blocks/).first().waitFor({ timeout: 30_000 });
      await waitUntil('error background for the session block', async () => (await statusState(page)).kind === 'error', 30_000, 250);
      await shoot(page, 'session-blocker');
      // One notification per outage: a second failing call while the circuit is open adds none.
      await client.callTool({ name: 'slow__sleep', arguments: { ms: 2_000 } });
      await new Promise((r) => setTimeout(r, 1_000));
      assert.equal(await page.locator('.notification-toast').filter({ hasText: 'SESSION_BLOCKER' }).count(), 1);
    } catch (err) {
      if (workbench) t.diagnostic(`screenshot: ${await screenshot(workbench.page, path.join(ARTIFACTS, `create-config-${Date.now()}.png`)).catch(() => undefined)}`);
      for (const [file, text] of Object.entries(server.logFiles())) if (/Gatehouse/.test(file)) t.diagnostic(`${file}:\n${text.slice(-4000)}`);
      throw err;
    } finally {
      await workbench?.close();
      await server.stop();
    }
    await waitUntil('no child of the project to be left', () => processesIn(dir).length === 0, 15_000, 200);
  });
});
