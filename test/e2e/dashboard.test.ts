/**
 * The webview dashboard in a real VS Code (code-server + Debian's Chromium): opened from the
 * palette, it lists both fixture servers with their states inside the webview iframe; killing
 * the flaky server's child changes its row within a second without reopening; Respawn in the
 * webview brings it back. Takes the README screenshots (dark, light, high contrast).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { FrameLocator, Page } from 'playwright-core';
import { CHROMIUM, chromiumAvailable, openWorkbench, runCommand, screenshot, webviewFrame, type Workbench } from './harness/browser';
import { ensureCodeServer, startCodeServer, type CodeServer } from './harness/codeServer';
import { waitUntil } from './harness/wait';
import { fixtureWorkspace, type FixtureWorkspace } from './support/fixtureWorkspace';
import { packageGatehouse, REPO_ROOT } from './support/gatehouseBuild';
import { connectGateway, readDiscovery } from './support/gatewayClient';
import { ARTIFACTS, shoot } from './support/screenshots';

/** The command the extension contributes once extension/main.ts registers the dashboard. */
const OPEN_DASHBOARD = 'gatehouse.openDashboard';

function contributesDashboard(): boolean {
  const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { contributes?: { commands?: { command: string }[] } };
  return manifest.contributes?.commands?.some((c) => c.command === OPEN_DASHBOARD) ?? false;
}

const skip =
  !chromiumAvailable() && !process.env.CI
    ? `Chromium not found at ${CHROMIUM} (run .ci/install-e2e.sh)`
    : !contributesDashboard()
      ? `package.json does not contribute ${OPEN_DASHBOARD} yet (the host wiring of the dashboard)`
      : false;

const row = (frame: FrameLocator, server: string) => frame.locator(`tr.server-row[data-server="${server}"]`);

async function field(frame: FrameLocator, server: string, name: string): Promise<string | null> {
  return row(frame, server).locator(`[data-field="${name}"]`).textContent({ timeout: 500 }).catch(() => null);
}

/** Picks a colour theme through the palette and waits until the webview has it. */
async function setTheme(page: Page, frame: FrameLocator, label: string, bodyClass: string): Promise<void> {
  await runCommand(page, 'Preferences: Color Theme');
  const input = page.locator('.quick-input-widget input.input');
  await input.fill(label);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter');
  await waitUntil(`the webview to take the ${label} theme`, async () => (await frame.locator('body').getAttribute('class'))?.split(/\s+/).includes(bodyClass), 15_000, 100);
  // Let the theme's colours settle (VS Code re-sends the CSS variables after the class).
  await page.waitForTimeout(300);
}

describe('dashboard webview', { timeout: 15 * 60_000 }, () => {
  let ws: FixtureWorkspace | undefined;
  before(async () => {
    if (skip) return;
    await ensureCodeServer();
  });
  after(() => ws?.remove());

  test('opens from the palette, follows a killed server live, and respawns it from the webview', { skip, timeout: 8 * 60_000 }, async (t) => {
    const t0 = Date.now();
    const timings: Record<string, number> = {};
    const vsix = await packageGatehouse();
    timings.packaged = Date.now() - t0;
    ws = fixtureWorkspace();
    const workspace = ws;
    const server: CodeServer = await startCodeServer({ workspace: workspace.dir, vsix, settings: { 'workbench.colorTheme': 'Default Dark Modern' } });
    let workbench: Workbench | undefined;
    let client: Client | undefined;
    try {
      workbench = await openWorkbench(server.url, workspace.dir, { viewport: { width: 1500, height: 940 } });
      const { page } = workbench;
      await runCommand(page, 'Gatehouse: Open Dashboard', 90_000);
      timings.opened = Date.now() - t0;
      const frame = webviewFrame(page);

      await waitUntil(
        'echo and flaky to show as ready in the webview',
        async () => (await field(frame, 'echo', 'state')) === 'ready' && (await field(frame, 'flaky', 'state')) === 'ready',
        90_000,
        200,
      );
      timings.bothReady = Date.now() - t0;
      // The screenshots are of the dashboard: give it the whole window. (After the webview has
      // loaded: a webview taking focus as it loads closes an open palette.)
      await runCommand(page, 'View: Close Primary Side Bar');
      assert.deepEqual(await frame.locator('tr.server-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-server'))), ['echo', 'flaky']);
      assert.equal(await field(frame, 'flaky', 'circuit'), 'closed');

      // Some traffic for the sparklines, the latency columns and the audit list.
      await waitUntil('the gateway discovery file', () => readDiscovery(workspace.configDir), 30_000, 200);
      client = await connectGateway(workspace.configDir);
      for (let i = 0; i < 8; i++) await client.callTool({ name: 'echo__echo', arguments: { text: `hello ${i}` } });
      await client.callTool({ name: 'echo__fail', arguments: {} }).catch(() => undefined);
      for (let i = 0; i < 2; i++) await client.callTool({ name: 'flaky__echo', arguments: { text: 'still here' } });
      await waitUntil('the calls to reach the table and the audit list', async () => {
        const rate = Number(await field(frame, 'echo', 'rate'));
        const audit = await frame.locator('table.audit tbody tr[data-seq]').count();
        return rate >= 9 && audit >= 11;
      }, 15_000, 200);

      // The filter narrows the audit list (and is UI state, kept by the webview).
      const filter = frame.locator('#audit-filter');
      await filter.fill('flaky');
      await waitUntil('the filter to apply', async () => {
        // The two calls, plus the trust-on-first-use record of the server.
        const servers = await frame.locator('table.audit tbody tr[data-seq] td:nth-child(3)').allTextContents();
        return servers.length >= 2 && servers.every((s) => s === 'flaky');
      }, 5_000, 100);
      await filter.fill('');

      // The detail row opens from the keyboard and names the child's pid.
      const toggle = row(frame, 'flaky').locator('button[aria-expanded]');
      await toggle.focus();
      await page.keyboard.press('Enter');
      // The page re-renders on the next animation frame.
      await waitUntil('the detail row to open', async () => (await toggle.getAttribute('aria-expanded')) === 'true', 5_000, 50);
      const pidText = await frame.locator('[data-server-detail="flaky"] [data-detail="pid"]').textContent({ timeout: 5_000 });
      const pid = Number(pidText);
      assert.ok(Number.isInteger(pid) && pid > 1, `pid shown: ${pidText}`);
      await page.keyboard.press('Enter');
      await waitUntil('the detail row to close', async () => (await toggle.getAttribute('aria-expanded')) === 'false', 5_000, 50);

      // Kill the child behind the gateway's back: the open webview must follow on its own.
      const killedAt = Date.now();
      process.kill(pid, 'SIGKILL');
      await waitUntil('the flaky row to leave "ready"', async () => {
        const state = await field(frame, 'flaky', 'state');
        return state !== null && state !== 'ready';
      }, 5_000, 20);
      timings.rowChangedMs = Date.now() - killedAt;
      // The fixture policy gives up after one crash, so the server stays down until Respawn.
      await waitUntil('flaky to show "gave up"', async () => (await field(frame, 'flaky', 'state')) === 'gave up', 10_000, 50);
      timings.gaveUpMs = Date.now() - killedAt;
      assert.ok(timings.rowChangedMs < 1_000, `the row changed ${timings.rowChangedMs} ms after the kill (want < 1 s)`);
      assert.match((await field(frame, 'flaky', 'lastError')) ?? '', /\S/, 'the last error is shown');
      assert.equal(await field(frame, 'echo', 'state'), 'ready', 'the other server is untouched');

      // Calls to the downed server fail fast and open its circuit (5 failures by default): the
      // row, the timeline and the sparkline show it, with the countdown to the next probe.
      for (let i = 0; i < 6; i++) await client.callTool({ name: 'flaky__echo', arguments: { text: 'anyone?' } }).catch(() => undefined);
      await waitUntil('the flaky circuit to open', async () => (await field(frame, 'flaky', 'circuit')) === 'open', 10_000, 100);
      await waitUntil('the probe countdown', async () => /^probe in \d+ s$/.test((await field(frame, 'flaky', 'retry')) ?? ''), 5_000, 100);
      assert.notEqual(await field(frame, 'flaky', 'errorRate'), '0 %');
      assert.ok((await frame.locator('.lane[data-server="flaky"] rect.band-open').count()) === 1, 'an open band on the timeline');
      assert.ok((await row(frame, 'flaky').locator('polyline.spark-errors').count()) === 1, 'an error line in the sparkline');

      await shoot(page, 'dashboard-dark', ['workbench']);

      // Reset circuit (available while it is not closed) closes it; the server itself stays down.
      const reset = row(frame, 'flaky').locator('button[data-action="resetCircuit"]');
      assert.equal(await reset.getAttribute('aria-disabled'), null);
      await reset.click();
      await waitUntil('the flaky circuit to close', async () => (await field(frame, 'flaky', 'circuit')) === 'closed', 10_000, 100);
      await waitUntil('Reset to be unavailable again', async () => (await reset.getAttribute('aria-disabled')) === 'true', 5_000, 100);
      assert.equal(await field(frame, 'flaky', 'state'), 'gave up');

      // Respawn from the webview.
      const respawn = row(frame, 'flaky').locator('button[data-action="respawn"]');
      await respawn.click();
      await waitUntil('flaky to be ready again', async () => (await field(frame, 'flaky', 'state')) === 'ready', 30_000, 100);
      timings.respawned = Date.now() - t0;
      await toggle.click();
      const newPid = await waitUntil('the new pid in the detail row', async () => {
        const text = await frame.locator('[data-server-detail="flaky"] [data-detail="pid"]').textContent({ timeout: 500 });
        return text && text !== '—' ? text : undefined;
      }, 10_000, 100);
      assert.notEqual(newPid, String(pid), 'a new child');
      await waitUntil('the respawn result line', async () => /Respawning flaky/.test((await frame.locator('.status').textContent()) ?? ''), 5_000, 100);
      const result = await client.callTool({ name: 'flaky__echo', arguments: { text: 'back' } });
      assert.equal(result.isError ?? false, false, 'the respawned server answers');

      // Hidden, the webview is torn down; shown again, it gets a fresh snapshot (calls made
      // meanwhile are there) and its UI state back (the filter, through getState/setState).
      await filter.fill('flaky');
      const flakyEvents = async (): Promise<number> => frame.locator('table.audit tbody tr[data-seq]').count();
      await waitUntil('the filter to apply again', async () => (await flakyEvents()) >= 3, 5_000, 100);
      const before = await flakyEvents();
      await page.keyboard.press('Control+P');
      await page.locator('.quick-input-widget input.input').fill('README.md');
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'README.md' }).first().waitFor({ timeout: 10_000 });
      await page.keyboard.press('Enter');
      await page.locator('.tab.active', { hasText: 'README.md' }).waitFor({ timeout: 10_000 });
      for (let i = 0; i < 2; i++) await client.callTool({ name: 'flaky__echo', arguments: { text: 'while hidden' } });
      await page.locator('.tab', { hasText: 'Gatehouse Dashboard' }).click();
      await waitUntil('the dashboard to come back with the calls made while hidden', async () => (await flakyEvents()) >= Math.min(50, before + 2), 15_000, 100);
      assert.equal(await frame.locator('#audit-filter').inputValue(), 'flaky', 'the filter survived hide/show');
      await frame.locator('#audit-filter').fill('');

      await setTheme(page, frame, 'Light Modern', 'vscode-light');
      await shoot(page, 'dashboard-light', ['workbench']);
      await setTheme(page, frame, 'Dark High Contrast', 'vscode-high-contrast');
      await shoot(page, 'dashboard-high-contrast', ['workbench']);

      const cspErrors = workbench.consoleLines().filter((l) => /Content Security Policy|Refused to (load|execute|apply)/i.test(l));
      assert.deepEqual(cspErrors, [], 'the webview runs within its CSP');
      const dropped = workbench.consoleLines().filter((l) => l.includes('[gatehouse] dropped'));
      assert.deepEqual(dropped, [], 'the webview dropped no host message');

      // A window reload: the serializer brings the panel back (activation on
      // onWebviewPanel:gatehouse.dashboard) and the restored webview gets the new gateway
      // session's state (flaky's restart count starts over).
      await client.close();
      client = undefined;
      await runCommand(page, 'Developer: Reload Window');
      await waitUntil(
        'the restored dashboard to show the new session',
        async () =>
          (await field(frame, 'echo', 'state')) === 'ready' && (await field(frame, 'flaky', 'state')) === 'ready' && (await field(frame, 'flaky', 'restarts')) === '0',
        120_000,
        250,
      );
      timings.restoredAfterReload = Date.now() - t0;
    } catch (err) {
      if (workbench) {
        const shot = await screenshot(workbench.page, path.join(ARTIFACTS, `dashboard-failure-${Date.now()}.png`)).catch(() => undefined);
        t.diagnostic(`screenshot: ${shot}`);
        t.diagnostic(`browser console:\n${workbench.consoleLines().slice(-60).join('\n')}`);
      }
      const logs = server.logFiles();
      for (const [file, text] of Object.entries(logs)) if (/Gatehouse|exthost/.test(file)) t.diagnostic(`${file}:\n${text.slice(-4000)}`);
      throw err;
    } finally {
      await client?.close().catch(() => undefined);
      await workbench?.close();
      await server.stop();
      t.diagnostic(`timings (ms): ${JSON.stringify(timings)}`);
    }
  });
});
