/**
 * Runs inside VS Code's extension host (code-server's smoke-test driver, see
 * ../extensionHost.test.ts), with the real `vscode` API, on a copy of the fixture workspace.
 * A tiny runner instead of mocha (not a dependency): checks run in order, each prints
 * `[gatehouse suite] ok|not ok - <name>`, and `run()` rejects when any failed.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import * as vscode from 'vscode';
import { LIST_MCP_SERVERS_COMMAND } from '../../../extension/host/mcpFirstRunHint';
import { convertMcpJson, mergeIntoRegistry } from '../../../extension/host/mcpJsonImport';
import type { GatehouseApi, GatewayFacts } from '../../../extension/main';
import type { DownstreamView } from '../../../extension/protocol/model';

const TAG = '[gatehouse suite]';
const checks: Array<{ name: string; fn: () => Promise<void> }> = [];
function check(name: string, fn: () => Promise<void>): void {
  checks.push({ name, fn });
}

async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (${String(lastError)})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function withTimeout<T>(what: string, p: Thenable<T>, ms: number): Promise<T> {
  return Promise.race([Promise.resolve(p), new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not finish in ${ms} ms`)), ms))]);
}

let api: GatehouseApi;
const folder = (): string => vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
const configDir = (): string => path.join(folder(), '.gatehouse');
const gateway = (): GatewayFacts | undefined => api.gateways()[0];
const server = (name: string): DownstreamView | undefined => gateway()?.snapshot?.downstreams.find((d) => d.name === name);
const token = async (): Promise<string> => (JSON.parse(await readFile(path.join(configDir(), 'gateway.json'), 'utf8')) as { token: string }).token;
const bothReady = (): boolean => server('echo')?.state === 'ready' && server('flaky')?.state === 'ready';

check('activates and starts both fixture servers', async () => {
  const ext = vscode.extensions.getExtension<GatehouseApi>('gatehouse.gatehouse');
  assert.ok(ext, 'the extension is installed');
  api = await ext.activate();
  await waitFor('echo and flaky ready', bothReady, 90_000);
  assert.equal(server('echo')?.tools_count, 6);
  assert.match(gateway()?.url ?? '', /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
});

check('every contributed command is registered, and menus name only real commands', async () => {
  const pkg = vscode.extensions.getExtension('gatehouse.gatehouse')?.packageJSON as {
    contributes: { commands: Array<{ command: string; category?: string }>; menus: Record<string, Array<{ command: string }>> };
  };
  const registered = new Set(await vscode.commands.getCommands(true));
  const contributed = pkg.contributes.commands.map((c) => c.command);
  assert.ok(contributed.length >= 15, `${contributed.length} commands contributed`);
  const missing = contributed.filter((id) => !registered.has(id));
  assert.deepEqual(missing, [], 'contributed but not registered');
  for (const c of pkg.contributes.commands) assert.equal(c.category, 'Gatehouse', `${c.command} has the Gatehouse category`);
  for (const [menu, items] of Object.entries(pkg.contributes.menus)) {
    for (const item of items) assert.ok(registered.has(item.command), `${menu} names ${item.command}, which exists`);
  }
  console.log(`${TAG}   ${contributed.length} commands: ${contributed.join(', ')}`);
});

const gatewayToolNames = (): string[] => vscode.lm.tools.filter((t) => t.name.includes('__')).map((t) => t.name);

/**
 * VS Code's MCP client starts servers lazily and does not retry: `startServer('*')` issued while
 * the provider's definitions are still being collected (or just after a definition changed)
 * matches nothing and returns at once, and on a loaded machine that window is seconds wide. So
 * ask again, with short per-attempt budgets, until the tool is listed.
 */
async function lmTool(timeoutMs = 150_000): Promise<vscode.LanguageModelToolInformation> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    const tool = vscode.lm.tools.find((t) => t.name.endsWith('echo__echo'));
    if (tool) return tool;
    if (Date.now() > deadline) {
      throw new Error(`VS Code listed no echo__echo after ${attempt - 1} startServer attempts in ${timeoutMs} ms; gateway tools listed: [${gatewayToolNames().join(', ')}]`);
    }
    await withTimeout('workbench.mcp.startServer', vscode.commands.executeCommand('workbench.mcp.startServer', '*', { waitForLiveTools: true }), 20_000).catch(
      (err: Error) => console.log(`${TAG}   startServer attempt ${attempt}: ${err.message}`),
    );
    await waitFor('echo__echo in lm.tools', () => vscode.lm.tools.some((t) => t.name.endsWith('echo__echo')), 5_000).catch(() => undefined);
  }
}

async function invokeEcho(text: string): Promise<string> {
  const tool = await lmTool();
  const result = await withTimeout('invokeTool', vscode.lm.invokeTool(tool.name, { input: { text }, toolInvocationToken: undefined }), 60_000);
  return result.content.map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : JSON.stringify(p))).join('');
}

check("the first-run hint's button opens a command VS Code has; the extension host's children are recorded for a reap", async () => {
  const registered = new Set(await vscode.commands.getCommands(true));
  assert.ok(registered.has(LIST_MCP_SERVERS_COMMAND), `${LIST_MCP_SERVERS_COMMAND} exists in this VS Code`);
  if (process.platform !== 'linux') return;
  // Issue 13.11: a killed extension host's servers are reaped by the next start.
  const echoPid = server('echo')?.pid;
  const record = await waitFor(
    'echo in serve.children.<extension host pid>.json',
    async () => {
      const text = await readFile(path.join(configDir(), `serve.children.${process.pid}.json`), 'utf8').catch(() => '');
      return text.includes(`"pid": ${echoPid}`) ? text : undefined;
    },
    20_000,
  );
  assert.match(record, /"start_time": "\d+"/);
});

check("VS Code's own MCP client lists and calls echo__echo through the gateway", async () => {
  const tool = await lmTool();
  console.log(`${TAG}   lm tool: ${tool.name}; ${gatewayToolNames().length} gateway tools listed`);
  assert.equal(await invokeEcho('hello through gatehouse'), 'hello through gatehouse');
  // The snapshot the API exposes is coalesced: the count may trail the answer by a moment.
  await waitFor('the call to be counted on the echo server', () => (server('echo')?.calls ?? 0) >= 1, 10_000);
});

check('Show Status opens the live state as JSON, without the token', async () => {
  const report = (await vscode.commands.executeCommand('gatehouse.showStatus')) as { gateways: Array<{ snapshot: { downstreams: unknown[] } }> };
  assert.equal(report.gateways[0]?.snapshot.downstreams.length, 2);
  const editor = await waitFor('the status editor', () => vscode.window.activeTextEditor);
  assert.equal(editor.document.languageId, 'json');
  assert.equal(editor.document.isUntitled, true);
  const text = editor.document.getText();
  assert.match(text, /"name": "flaky"/);
  assert.ok(!text.includes(await token()), 'the bearer token is not in the report');
  await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
});

check('Respawn Server (given a name) replaces the child', async () => {
  const before = server('flaky');
  assert.ok(before?.pid);
  assert.equal(await vscode.commands.executeCommand('gatehouse.respawnServer', 'flaky'), 'flaky');
  const after = await waitFor('flaky ready with a new pid', () => {
    const s = server('flaky');
    return s?.state === 'ready' && s.pid !== before.pid ? s : undefined;
  });
  assert.ok(after.restarts > before.restarts);
});

check('Reset Circuit, Show Server Output and Show Gateway Output run', async () => {
  assert.equal(await vscode.commands.executeCommand('gatehouse.resetCircuit', 'echo'), 'echo');
  assert.equal(await vscode.commands.executeCommand('gatehouse.showServerOutput', 'flaky'), 'flaky');
  await vscode.commands.executeCommand('gatehouse.showGatewayOutput');
});

check('Copy Client Configuration: a gatehouse bridge entry, never the token', async () => {
  const text = (await vscode.commands.executeCommand('gatehouse.copyClientConfig', { target: 'mcpJson' })) as string;
  const entry = (JSON.parse(text) as { mcpServers: { gatehouse: { command: string; args: string[] } } }).mcpServers.gatehouse;
  assert.equal(entry.command, 'node');
  assert.deepEqual(entry.args.slice(1), ['bridge', '--folder', folder()]);
  // The launcher in global storage (it survives updates), not this version's dist/cli.js.
  assert.match(entry.args[0] ?? '', /[\\/]gatehouse\.gatehouse[\\/]gatehouse-launcher\.cjs$/);
  assert.match(await readFile(entry.args[0] ?? '', 'utf8'), /require\(cli\)/);
  assert.ok(!text.includes(await token()));
  const claude = (await vscode.commands.executeCommand('gatehouse.copyClientConfig', { target: 'claude' })) as string;
  assert.match(claude, /^claude mcp add --scope local gatehouse -- node .*gatehouse-launcher\.cjs bridge --folder /);
  assert.ok(!claude.includes(await token()));
  const http = (await vscode.commands.executeCommand('gatehouse.copyClientConfig', { target: 'http' })) as string;
  assert.ok(http.includes(await token()), 'only the explicit HTTP choice carries the token');
});

check('Disable / Enable Server edit registry.yaml and hot-reload only that server', async () => {
  const echoPid = server('echo')?.pid;
  assert.equal(await vscode.commands.executeCommand('gatehouse.disableServer', 'flaky'), 'flaky');
  const registry = await readFile(path.join(configDir(), 'registry.yaml'), 'utf8');
  assert.match(registry, /name: flaky[\s\S]*enabled: false/);
  assert.match(registry, /# The e2e fixture workspace/, 'comments are kept');
  await waitFor('flaky disabled', () => server('flaky')?.state === 'disabled');
  assert.equal(server('echo')?.pid, echoPid, 'echo kept running');
  await vscode.commands.executeCommand('gatehouse.enableServer', 'flaky');
  await waitFor('flaky ready again', () => server('flaky')?.state === 'ready');
  assert.doesNotMatch(await readFile(path.join(configDir(), 'registry.yaml'), 'utf8'), /enabled: false/);
});

check('a broken registry edit keeps the last good config running; fixing it recovers', async () => {
  const file = path.join(configDir(), 'registry.yaml');
  const good = await readFile(file, 'utf8');
  const echoPid = server('echo')?.pid;
  // Saved by the file system, not an editor: the FileSystemWatcher path is what is tested.
  await writeFile(file, `${good}\n  - name: [broken\n`);
  await waitFor('the config error to show', () => (gateway()?.configProblems ?? 0) > 0 && gateway()?.usingLastGood);
  assert.equal(server('echo')?.state, 'ready');
  assert.equal(server('echo')?.pid, echoPid, 'the last good config keeps running');
  await writeFile(file, good);
  await waitFor('the config error to clear', () => gateway()?.configProblems === 0);
  assert.ok(bothReady());
});

check('Restart Gateway: new endpoint and token; VS Code follows the changed definition', async () => {
  const before = { url: gateway()?.url, token: await token() };
  await vscode.commands.executeCommand('gatehouse.restartGateway');
  await waitFor('the restarted gateway', async () => gateway()?.state === 'running' && (await token()) !== before.token);
  await waitFor('both servers ready after the restart', bothReady, 60_000);
  // The old definition's tools may still be listed for a moment: a call that fails on the stale
  // endpoint is retried after asking VS Code to start the changed definition.
  const text = await waitFor(
    'a call through the new endpoint',
    async () => {
      try {
        return await invokeEcho('after restart');
      } catch (err) {
        console.log(`${TAG}   retrying invokeTool: ${(err as Error).message}`);
        await withTimeout('workbench.mcp.startServer', vscode.commands.executeCommand('workbench.mcp.startServer', '*', { waitForLiveTools: true }), 20_000).catch(
          () => undefined,
        );
        return undefined;
      }
    },
    180_000,
  );
  assert.equal(text, 'after restart');
});

check('Verify Audit Log reports an intact chain', async () => {
  const result = (await vscode.commands.executeCommand('gatehouse.verifyAudit')) as { ok: boolean; records: number };
  assert.equal(result.ok, true);
  assert.ok(result.records > 0, `${result.records} records`);
});

check("Freeze (HALT) refuses VS Code's calls with the reason; Unfreeze lets them flow again", async () => {
  const reason = 'e2e: investigating unexpected writes';
  assert.ok(await vscode.commands.executeCommand('gatehouse.freeze', { reason }), 'freeze returned its result');
  assert.match(await readFile(path.join(configDir(), 'HALT'), 'utf8'), /investigating unexpected writes/);
  await waitFor('the gateway to report HALT', () => gateway()?.halted);
  // VS Code surfaces an isError tool result either as text or as a thrown error: accept both.
  const refused = await invokeEcho('while frozen').catch((err: Error) => err.message);
  assert.match(refused, /kill switch active/i, `the refusal says why: ${refused}`);
  assert.match(refused, /investigating unexpected writes/, 'and quotes the reason');
  await vscode.commands.executeCommand('gatehouse.unfreeze');
  await waitFor('HALT to clear', () => gateway()?.halted === false);
  assert.equal(await invokeEcho('after unfreeze'), 'after unfreeze');
});

check('Create Config with a config present opens registry.yaml', async () => {
  const uri = (await vscode.commands.executeCommand('gatehouse.createConfig')) as vscode.Uri;
  assert.equal(path.basename(uri.fsPath), 'registry.yaml');
  assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, uri.fsPath);
});

check('Import converts the fixture .vscode/mcp.json (one new server, one already present)', async () => {
  const source = await readFile(path.join(folder(), '.vscode', 'mcp.json'), 'utf8');
  const converted = convertMcpJson(source, '.vscode/mcp.json', 'vscode');
  assert.deepEqual(
    converted.servers.map((s) => s.name),
    ['echo', 'echo-two'],
  );
  assert.equal(converted.servers[1]?.env?.ECHO_TOKEN, '${ECHO_TOKEN}');
  const merged = mergeIntoRegistry(await readFile(path.join(configDir(), 'registry.yaml'), 'utf8'), converted.servers);
  assert.deepEqual(
    merged.added.map((s) => s.name),
    ['echo-two'],
  );
  assert.match(merged.text, /# imported from \.vscode\/mcp\.json: Echo Two/);
});

check('gatehouse.telemetry.* settings: the gateway restarts and exports to the configured collector; removed, it stops', async () => {
  // A local OTLP/HTTP receiver (http/json, so the body can be read as text).
  const bodies: string[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      bodies.push(`${req.url ?? ''} ${body}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const settings = vscode.workspace.getConfiguration('gatehouse.telemetry');
  try {
    const before = await token();
    // The endpoint last: every gateway started after it has all three settings.
    await settings.update('protocol', 'http/json', vscode.ConfigurationTarget.Global);
    await settings.update('serviceName', 'gatehouse-e2e-settings', vscode.ConfigurationTarget.Global);
    await settings.update('endpoint', `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`, vscode.ConfigurationTarget.Global);
    await waitFor('the gateway restarted for the telemetry settings', async () => gateway()?.state === 'running' && (await token()) !== before, 60_000);
    // Freeze and unfreeze are audited, and their records leave as OpenTelemetry log records.
    // Each settings change restarts the gateway, so the pair is repeated until one is exported.
    let probes = 0;
    const exported = await waitFor(
      'an audit record exported under the configured service name',
      async () => {
        const found = bodies.find((b) => b.startsWith('/v1/logs') && b.includes('gatehouse-e2e-settings') && b.includes('gatehouse.audit.hash'));
        if (found) return found;
        if (probes++ % 30 === 0 && gateway()?.state === 'running') {
          await vscode.commands.executeCommand('gatehouse.freeze', { reason: 'e2e: telemetry settings' });
          await vscode.commands.executeCommand('gatehouse.unfreeze');
        }
        return undefined;
      },
      90_000,
    );
    assert.ok(exported);
  } finally {
    const before = await token().catch(() => '');
    for (const key of ['endpoint', 'protocol', 'serviceName']) await settings.update(key, undefined, vscode.ConfigurationTarget.Global);
    await waitFor('the gateway restarted without telemetry', async () => gateway()?.state === 'running' && (await token()) !== before, 60_000).catch(() => undefined);
    receiver.closeAllConnections();
    receiver.close();
  }
  await waitFor('both servers ready again', bothReady, 60_000);
});

export async function run(): Promise<void> {
  console.log(`${TAG} vscode ${vscode.version}, ${checks.length} checks`);
  let failed = 0;
  for (const c of checks) {
    const t0 = Date.now();
    try {
      await c.fn();
      console.log(`${TAG} ok - ${c.name} (${Date.now() - t0} ms)`);
    } catch (err) {
      failed++;
      console.log(`${TAG} not ok - ${c.name} (${Date.now() - t0} ms): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }
  console.log(`${TAG} ${checks.length - failed}/${checks.length} passed`);
  if (failed) throw new Error(`${failed} of ${checks.length} checks failed`);
}
