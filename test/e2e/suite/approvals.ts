/**
 * Runs inside VS Code's extension host (see ../approvals.test.ts): VS Code's own MCP client calls
 * `rec__record`, which the workspace's policy holds for approval. The page driver of the outer
 * test answers Gatehouse's notification (Allow once, then Deny); here the results, the child's
 * own count of executions and the gateway's decisions are checked.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import type { GatehouseApi } from '../../../extension/main';

const TAG = '[gatehouse suite]';
const COUNT_FILE = process.env.GATEHOUSE_E2E_COUNT_FILE ?? '';

async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await Promise.resolve(probe()).catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function withTimeout<T>(what: string, p: Thenable<T>, ms: number): Promise<T> {
  return Promise.race([Promise.resolve(p), new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not finish in ${ms} ms`)), ms))]);
}

/** As suite/index.ts: VS Code starts MCP servers lazily and does not retry; ask until listed. */
async function lmTool(suffix: string, timeoutMs = 150_000): Promise<vscode.LanguageModelToolInformation> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    const tool = vscode.lm.tools.find((t) => t.name.endsWith(suffix));
    if (tool) return tool;
    if (Date.now() > deadline) throw new Error(`VS Code listed no ${suffix} after ${attempt - 1} startServer attempts`);
    await withTimeout('workbench.mcp.startServer', vscode.commands.executeCommand('workbench.mcp.startServer', '*', { waitForLiveTools: true }), 20_000).catch(() => undefined);
    await waitFor(`${suffix} in lm.tools`, () => vscode.lm.tools.some((t) => t.name.endsWith(suffix)), 5_000).catch(() => undefined);
  }
}

/** The tool's text, or the error VS Code raised for it (an isError result may come either way). */
async function invokeRecord(id: string): Promise<string> {
  const tool = await lmTool('rec__record');
  try {
    const result = await withTimeout('invokeTool', vscode.lm.invokeTool(tool.name, { input: { id }, toolInvocationToken: undefined }), 200_000);
    return result.content.map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : JSON.stringify(p))).join('');
  } catch (err) {
    return `error: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** The ids of the calls the recorder received, from its own record file. */
const executions = async (): Promise<string[]> =>
  (await readFile(COUNT_FILE, 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((l) => String((JSON.parse(l) as { arguments?: { id?: unknown } }).arguments?.id));

export async function run(): Promise<void> {
  const ext = vscode.extensions.getExtension<GatehouseApi>('gatehouse.gatehouse');
  assert.ok(ext, 'the extension is installed');
  const api = await ext.activate();
  const gateway = () => api.gateways()[0];
  await waitFor('rec ready', () => gateway()?.snapshot?.downstreams.find((d) => d.name === 'rec')?.state === 'ready', 90_000);
  let failed = 0;
  const check = async (name: string, fn: () => Promise<void>): Promise<void> => {
    const t0 = Date.now();
    try {
      await fn();
      console.log(`${TAG} ok - ${name} (${Date.now() - t0} ms)`);
    } catch (err) {
      failed++;
      console.log(`${TAG} not ok - ${name} (${Date.now() - t0} ms): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  };
  await check('Allow once in Gatehouse\'s prompt runs the call, once', async () => {
    assert.equal(await invokeRecord('allow-1'), 'recorded');
    assert.deepEqual(await executions(), ['allow-1']);
  });
  await check('Deny in Gatehouse\'s prompt refuses the call; it never reaches the server', async () => {
    const text = await invokeRecord('deny-1');
    assert.match(text, /denied in the editor/);
    assert.deepEqual(await executions(), ['allow-1']);
  });
  await check('the gateway recorded both decisions as the editor\'s', async () => {
    const recent = await waitFor('two decisions', () => {
      const r = gateway()?.snapshot?.approvals?.recent;
      return r && r.length >= 2 ? r : undefined;
    });
    assert.deepEqual(recent.slice(0, 2).map((d) => [d.decision, d.answered_by]), [['denied', 'editor'], ['allowed', 'editor']]);
  });
  console.log(`${TAG} ${3 - failed}/3 passed`);
  if (failed) throw new Error(`${failed} of 3 checks failed`);
}
