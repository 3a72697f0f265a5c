/**
 * Inside the extension host, beside ../toolSelection.test.ts which drives the tree in the
 * browser: waits until VS Code's own MCP client lists echo__sleep, says `ready`, then waits for
 * the outer test's click (unchecking `sleep` under echo → Tools) to show up in registry.yaml and
 * in VS Code's tool list.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as vscode from 'vscode';
import type { GatehouseApi } from '../../../extension/main';

const TAG = '[gatehouse toolsel]';

async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await Promise.resolve(probe()).catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const gatewayTools = (): string[] => vscode.lm.tools.filter((t) => t.name.includes('__')).map((t) => t.name);
const listed = (tool: string): boolean => vscode.lm.tools.some((t) => t.name.endsWith(tool));

export async function run(): Promise<void> {
  const ext = vscode.extensions.getExtension<GatehouseApi>('gatehouse.gatehouse');
  assert.ok(ext);
  const api = await ext.activate();
  const echo = () => api.gateways()[0]?.snapshot?.downstreams.find((d) => d.name === 'echo');
  await waitFor('echo ready', () => echo()?.state === 'ready', 120_000);
  // VS Code starts MCP servers lazily and does not retry a start that matched nothing yet.
  await waitFor(
    'echo__sleep in vscode.lm.tools',
    async () => {
      if (listed('echo__sleep')) return true;
      await Promise.race([vscode.commands.executeCommand('workbench.mcp.startServer', '*', { waitForLiveTools: true }), new Promise((r) => setTimeout(r, 20_000))]);
      return listed('echo__sleep');
    },
    180_000,
  );
  const pid = echo()?.pid;
  console.log(`${TAG} ready: ${gatewayTools().join(', ')}`);

  const file = path.join(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '', '.gatehouse', 'registry.yaml');
  const registry = await waitFor('sleep in tools.exclude of registry.yaml', async () => {
    const text = await readFile(file, 'utf8');
    return /name: echo[\s\S]*tools:\n\s+exclude:\n\s+- sleep\n[\s\S]*name: flaky/.test(text) ? text : undefined;
  }, 180_000);
  assert.match(registry, /^# The e2e fixture workspace/, 'comments are kept');
  assert.match(registry, /args: \[".*echo\.mjs"\]/, 'the flow list is kept as written');
  await waitFor('echo__sleep gone from VS Code tool list', () => !listed('echo__sleep') && listed('echo__echo'), 120_000);
  assert.equal(echo()?.pid, pid, 'the server was not restarted');
  assert.deepEqual(echo()?.tools_hidden, ['sleep']);
  // One undoable edit: undo in the registry's editor brings the line back.
  const document = await vscode.workspace.openTextDocument(file);
  await vscode.window.showTextDocument(document);
  await vscode.commands.executeCommand('undo');
  assert.doesNotMatch(document.getText(), /- sleep/, 'undo reverts the whole edit');
  console.log(`${TAG} ok: echo__sleep hidden; ${gatewayTools().join(', ')}`);
}
