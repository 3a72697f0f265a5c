/**
 * Sign In from the tree, in a real VS Code (code-server): a remote server behind an OAuth
 * authorization server (the MCP SDK's example provider and routers, test/fixtures/servers/
 * oauthServer.mjs) shows "needs auth"; its inline Sign In action opens the authorization page
 * in the browser (vscode.env.openExternal), the page is driven by the test as a user would,
 * the redirect comes back to the extension host's loopback listener, the tokens go to
 * SecretStorage, and the tree shows the server ready without a restart.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { CHROMIUM, chromiumAvailable, openWorkbench, screenshot, type Workbench } from './harness/browser';
import { ensureCodeServer, startCodeServer, type CodeServer } from './harness/codeServer';
import { waitUntil } from './harness/wait';
import { FIXTURE_SERVERS } from './support/fixtureWorkspace';
import { packageGatehouse } from './support/gatehouseBuild';
import { connectGateway } from './support/gatewayClient';
import { ARTIFACTS } from './support/screenshots';
import { openGatehouseView, rowDescription, serverRow } from './support/workbenchUi';

const skip = !chromiumAvailable() && !process.env.CI ? `Chromium not found at ${CHROMIUM} (run .ci/install-e2e.sh)` : false;

async function startOAuthServer(): Promise<{ proc: ChildProcess; mcp: string; auth: string }> {
  const proc = spawn(process.execPath, [path.join(FIXTURE_SERVERS, 'oauthServer.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  await waitUntil('the OAuth fixture to print its URLs', () => out.includes('\n'), 30_000, 100);
  return { proc, ...(JSON.parse(out.split('\n')[0] ?? '{}') as { mcp: string; auth: string }) };
}

/** The row's inline action, as a user hovers and clicks it. */
async function clickInline(page: Page, server: string, label: string): Promise<void> {
  const row = serverRow(page, server).first();
  await row.hover();
  await row.locator(`.action-label[aria-label^="${label}"]`).first().click();
}

describe('Gatehouse: Sign In to a remote server that needs OAuth', { timeout: 10 * 60_000 }, () => {
  let parent: string | undefined;
  let oauth: Awaited<ReturnType<typeof startOAuthServer>> | undefined;
  before(async () => {
    if (!skip) await ensureCodeServer();
  });
  after(() => {
    oauth?.proc.kill('SIGTERM');
    if (parent) rmSync(parent, { recursive: true, force: true });
  });

  test('needs auth → Sign In from the tree → the browser page → ready, tokens in SecretStorage', { skip, timeout: 8 * 60_000 }, async (t) => {
    oauth = await startOAuthServer();
    const vsix = await packageGatehouse();
    parent = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-e2e-oauth-'));
    const dir = path.join(parent, 'project');
    mkdirSync(path.join(dir, '.gatehouse'), { recursive: true });
    writeFileSync(path.join(dir, '.gatehouse', 'registry.yaml'), `version: "1"\nservers:\n  - name: remote\n    url: ${oauth.mcp}\n`);
    const server: CodeServer = await startCodeServer({ workspace: dir, vsix });
    let workbench: Workbench | undefined;
    try {
      workbench = await openWorkbench(server.url, dir);
      const { page, context } = workbench;
      await openGatehouseView(page);
      await waitUntil('remote needs auth', async () => (await rowDescription(serverRow(page, 'remote').first())).startsWith('needs auth'), 90_000, 250);
      const client = await connectGateway(path.join(dir, '.gatehouse'));
      t.after(() => client.close());
      const refused = await client.callTool({ name: 'remote__greet', arguments: { name: 'x' } });
      assert.equal(refused.isError, true);

      const popup = context.waitForEvent('page', { timeout: 60_000 });
      await clickInline(page, 'remote', 'Sign In');
      // VS Code may ask before opening an external site; localhost is trusted by default.
      const dialog = page.locator('.monaco-dialog-box .monaco-button', { hasText: /^Open$/ });
      const signInPage = await Promise.race([
        popup,
        dialog
          .first()
          .waitFor({ timeout: 60_000 })
          .then(async () => {
            await dialog.first().click();
            return popup;
          }),
      ]);
      // The browser follows the authorization server's redirect to the loopback listener.
      await signInPage.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/, { timeout: 60_000 });
      await signInPage.getByText('Gatehouse received the sign-in').waitFor({ timeout: 30_000 });

      await waitUntil('remote ready', async () => (await rowDescription(serverRow(page, 'remote').first())) === 'ready · 1 tool · closed', 90_000, 250);
      const result = await client.callTool({ name: 'remote__greet', arguments: { name: 'VS Code' } });
      assert.match(JSON.stringify(result.content), /Hello, VS Code! \(client authenticated\)/);
      // SecretStorage, never a file in the workspace or the user's config directory.
      assert.ok(!readdirSync(path.join(dir, '.gatehouse')).some((f) => f.includes('token')));
      assert.equal(existsSync(path.join(server.runDir, 'config', 'gatehouse', 'tokens.json')), false);
    } catch (err) {
      if (workbench) t.diagnostic(`screenshot: ${await screenshot(workbench.page, path.join(ARTIFACTS, `oauth-${Date.now()}.png`)).catch(() => undefined)}`);
      for (const [file, text] of Object.entries(server.logFiles())) if (/Gatehouse/.test(file)) t.diagnostic(`${file}:\n${text.slice(-4000)}`);
      throw err;
    } finally {
      await workbench?.close();
      await server.stop();
    }
  });
});
