/**
 * The config language server in a real VS Code: a registry.yaml with a duplicate server name
 * shows the same diagnostic the gateway reports, in the Problems panel, while the file is open.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CHROMIUM, chromiumAvailable, openWorkbench, runCommand, screenshot, type Workbench } from './harness/browser';
import { ensureCodeServer, startCodeServer, type CodeServer } from './harness/codeServer';
import { REPO_ROOT, packageGatehouse } from './support/gatehouseBuild';
import { ARTIFACTS } from './support/screenshots';

const skip = !chromiumAvailable() && !process.env.CI ? `Chromium not found at ${CHROMIUM} (run .ci/install-e2e.sh)` : false;

describe('config language server in code-server', { timeout: 8 * 60_000 }, () => {
  let parent: string | undefined;
  before(async () => {
    if (!skip) await ensureCodeServer();
  });
  after(() => {
    if (parent) rmSync(parent, { recursive: true, force: true });
  });

  test('a duplicate server name appears in the Problems panel', { skip, timeout: 6 * 60_000 }, async (t) => {
    const vsix = await packageGatehouse();
    parent = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-e2e-lsp-'));
    const workspace = path.join(parent, 'workspace');
    mkdirSync(path.join(workspace, '.gatehouse'), { recursive: true });
    cpSync(path.join(REPO_ROOT, 'test/fixtures/configs/duplicate-name.registry.yaml'), path.join(workspace, '.gatehouse', 'registry.yaml'));
    const server: CodeServer = await startCodeServer({ workspace, vsix, trusted: true });
    let workbench: Workbench | undefined;
    try {
      workbench = await openWorkbench(server.url, workspace);
      const { page } = workbench;
      await runCommand(page, 'Go to File...');
      await page.locator('.quick-input-widget input.input').fill('registry.yaml');
      await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: 'registry.yaml' }).first().click({ timeout: 30_000 });
      await page.locator('.monaco-editor .view-lines').first().waitFor({ timeout: 30_000 });
      await runCommand(page, 'View: Toggle Problems');
      const problem = page.locator('.markers-panel .monaco-list-row').filter({ hasText: /already used/ });
      await problem.first().waitFor({ timeout: 120_000 });
    } catch (err) {
      if (workbench) t.diagnostic(`screenshot: ${await screenshot(workbench.page, path.join(ARTIFACTS, `lsp-${Date.now()}.png`)).catch(() => undefined)}`);
      throw err;
    } finally {
      await workbench?.close();
      await server.stop();
    }
  });
});
