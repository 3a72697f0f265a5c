/**
 * The whole MCP protocol reaches VS Code's own MCP client through Gatehouse (issue 12): with
 * `server-everything` behind the gateway, "MCP: Browse Resources..." lists its resources under
 * the Gatehouse server, and opening one shows the text the gateway read for it (a governed
 * `resources/read`, audited with kind `resource`); typing `/mcp.` in the chat input offers its
 * prompts as `/mcp.Gatehouse.everything__<prompt>` (no chat model or sign-in needed for that).
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { CHROMIUM, chromiumAvailable, openWorkbench, runCommand, screenshot, type Workbench } from './harness/browser';
import { ensureCodeServer, startCodeServer, type CodeServer } from './harness/codeServer';
import { waitUntil } from './harness/wait';
import { fixtureWorkspace, type FixtureWorkspace } from './support/fixtureWorkspace';
import { packageGatehouse, REPO_ROOT } from './support/gatehouseBuild';
import { connectGateway } from './support/gatewayClient';
import { ARTIFACTS } from './support/screenshots';
import { openGatehouseView, rowDescription, serverRow } from './support/workbenchUi';

const skip = !chromiumAvailable() && !process.env.CI ? `Chromium not found at ${CHROMIUM} (run .ci/install-e2e.sh)` : false;
const EVERYTHING = path.join(REPO_ROOT, 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');

function auditLines(configDir: string): Array<{ tool_name?: string; server_name?: string; status?: string; metadata?: { kind?: string } }> {
  try {
    return readFileSync(path.join(configDir, 'audit.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { tool_name?: string });
  } catch {
    return [];
  }
}

/**
 * Opens "MCP: Browse Resources..." until a row with `label` shows. VS Code starts the servers it
 * needs for the picker, but one still being discovered right after start-up lists nothing yet:
 * close and ask again.
 */
async function browseUntil(page: Page, label: string, timeoutMs = 240_000): Promise<void> {
  const row = page.locator('.quick-input-list .monaco-list-row').filter({ hasText: label });
  await waitUntil(
    `"${label}" in MCP: Browse Resources`,
    async () => {
      await runCommand(page, 'MCP: Browse Resources...');
      const shown = await row.first().waitFor({ state: 'visible', timeout: 20_000 }).then(
        () => true,
        () => false,
      );
      if (!shown) await page.keyboard.press('Escape');
      return shown;
    },
    timeoutMs,
    1_000,
  );
}

describe("VS Code's MCP client sees the whole protocol through Gatehouse", { timeout: 15 * 60_000 }, () => {
  let ws: FixtureWorkspace | undefined;
  before(async () => {
    if (!skip) await ensureCodeServer();
  });
  after(() => ws?.remove());

  test('server-everything behind the gateway: its resources in Browse Resources, one opened through resources/read; its prompts as chat / commands', { skip, timeout: 12 * 60_000 }, async (t) => {
    const vsix = await packageGatehouse();
    ws = fixtureWorkspace();
    writeFileSync(
      path.join(ws.configDir, 'registry.yaml'),
      `version: "1"\nservers:\n  - name: everything\n    command: node\n    args: [${JSON.stringify(EVERYTHING)}, "stdio"]\n`,
    );
    // Only the gateway: the fixture's own mcp.json would put raw servers beside it.
    rmSync(path.join(ws.dir, '.vscode', 'mcp.json'), { force: true });
    const server: CodeServer = await startCodeServer({ workspace: ws.dir, vsix });
    let workbench: Workbench | undefined;
    try {
      workbench = await openWorkbench(server.url, ws.dir);
      const { page } = workbench;
      await openGatehouseView(page);
      // The tree counts what the gateway offers of each kind.
      const row = await waitUntil(
        'everything ready with its prompts and resources counted',
        async () => {
          const d = await rowDescription(serverRow(page, 'everything').first()).catch(() => '');
          return /^ready · \d+ tools · \d+ prompts · \d+ resources/.test(d) ? d : undefined;
        },
        180_000,
        250,
      );
      t.diagnostic(`tree row: ${row}`);

      // The same prompts a client of the gateway gets, named server__prompt.
      const client = await connectGateway(ws.configDir);
      t.after(() => client.close());
      const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
      assert.ok(prompts.includes('everything__simple-prompt'), prompts.join(', '));

      // server-everything's static documents (architecture.md, features.md, …) under Gatehouse.
      await browseUntil(page, 'architecture.md');
      const picker = page.locator('.quick-input-widget');
      assert.match(await picker.innerText(), /gatehouse/i, 'listed under the Gatehouse server');
      await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: 'architecture.md' }).first().click();
      // The editor shows what the gateway read for VS Code.
      await page.locator('.editor-instance .view-lines').filter({ hasText: /\S/ }).first().waitFor({ timeout: 60_000 });
      const read = await waitUntil(
        "VS Code's resources/read audited",
        () => auditLines(ws!.configDir).find((r) => r.metadata?.kind === 'resource' && String(r.tool_name).includes('architecture.md')),
        60_000,
        250,
      );
      assert.equal(read.status, 'allowed');
      assert.equal(read.server_name, 'everything');

      // The prompts as the chat's / commands (no sign-in needed to type in the input): the
      // everything server's prompts under the Gatehouse server, as server__prompt.
      await page.keyboard.press('Escape');
      await runCommand(page, 'Chat: Open Chat (Ask)');
      const input = page.locator('.interactive-input-part .interactive-input-editor').first();
      await input.waitFor({ state: 'visible', timeout: 60_000 });
      const slash = page.locator('.suggest-widget .monaco-list-row').filter({ hasText: '/mcp.Gatehouse.everything__simple-prompt' });
      await waitUntil(
        'the prompt among the chat input /mcp. suggestions',
        async () => {
          await input.click();
          await page.keyboard.press('Control+A');
          await page.keyboard.press('Backspace');
          await page.keyboard.type('/mcp.', { delay: 80 });
          return slash.first().waitFor({ state: 'visible', timeout: 20_000 }).then(
            () => true,
            () => false,
          );
        },
        120_000,
        1_000,
      );
      const rows = await page.locator('.suggest-widget .monaco-list-row').allInnerTexts();
      t.diagnostic(`chat / suggestions: ${JSON.stringify(rows)}`);
      assert.ok(rows.some((r) => r.includes('everything__args-prompt')), 'every prompt of the server is offered');
    } catch (err) {
      if (workbench) {
        const shot = await screenshot(workbench.page, path.join(ARTIFACTS, `protocol-${Date.now()}.png`)).catch(() => undefined);
        t.diagnostic(`screenshot: ${shot}`);
        const lines = workbench.consoleLines().filter((l) => /gatehouse|mcp/i.test(l));
        t.diagnostic(`browser console (Gatehouse/MCP lines):\n${lines.slice(-40).join('\n')}`);
      }
      for (const [file, text] of Object.entries(server.logFiles())) if (/Gatehouse|mcp/i.test(file)) t.diagnostic(`${file}:\n${text.slice(-4000)}`);
      throw err;
    } finally {
      await workbench?.close();
      await server.stop();
    }
  });
});
