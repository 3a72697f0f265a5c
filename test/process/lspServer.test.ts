/**
 * The config language server as a real process, spoken to over LSP on stdio the way an editor
 * would: initialize, open a broken registry, receive pushed diagnostics, edit incrementally,
 * and ask for completion, hover, quick fixes and code lenses (after a state notification).
 *
 * The server is bundled first with the options extension/build/esbuild.mjs uses for
 * dist/lspServer.js and run with plain Node, so what is tested is what the client starts.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import {
  CodeActionRequest,
  CodeLensRefreshRequest,
  CodeLensRequest,
  CompletionRequest,
  DidChangeTextDocumentNotification,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  HoverRequest,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  createProtocolConnection,
  type CompletionItem,
  type CompletionList,
  type Diagnostic,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver/node';
import { DidChangeStateNotification, type DidChangeStateParams } from '../../extension/protocol/lsp';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let child: ChildProcess;
let connection: ProtocolConnection;
let workspace: string;
let stderr = '';
const published: PublishDiagnosticsParams[] = [];
let lensRefreshes = 0;

before(async () => {
  workspace = mkdtempSync(path.join(tmpdir(), 'gatehouse-lsp-'));
  mkdirSync(path.join(workspace, '.gatehouse'));
  const bundle = path.join(workspace, 'lspServer.js');
  await build({ entryPoints: [path.join(ROOT, 'extension/lsp/server.ts')], outfile: bundle, platform: 'node', target: 'node20', format: 'cjs', bundle: true, logLevel: 'silent' });
  child = spawn(process.execPath, [bundle, '--stdio'], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    // The "gateway environment": PATH is real, GITHUB_TOKEN deliberately absent.
    env: { PATH: process.env.PATH, HOME: process.env.HOME, GH_ORG: 'acme' },
  });
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  connection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  connection.onNotification(PublishDiagnosticsNotification.type, (params) => void published.push(params));
  connection.onRequest(CodeLensRefreshRequest.type, () => {
    lensRefreshes++;
  });
  connection.listen();
  const init = await connection.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: pathToFileURL(workspace).href,
    capabilities: { workspace: { codeLens: { refreshSupport: true } } },
    workspaceFolders: null,
  });
  assert.equal(init.capabilities.textDocumentSync && typeof init.capabilities.textDocumentSync === 'object' ? init.capabilities.textDocumentSync.change : undefined, 2, 'incremental sync');
  assert.ok(init.capabilities.completionProvider && init.capabilities.hoverProvider && init.capabilities.codeActionProvider && init.capabilities.codeLensProvider);
  await connection.sendNotification(InitializedNotification.type, {});
});

after(async () => {
  try {
    await Promise.race([connection.sendRequest(ShutdownRequest.type), new Promise((r) => setTimeout(r, 2000))]);
    await connection.sendNotification(ExitNotification.type);
  } catch {
    // The process may already be gone; the kill below covers it.
  }
  connection.dispose();
  if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(workspace, { recursive: true, force: true });
});

/** Waits for the first published diagnostics for `uri` matching `accept` (default: any version >= `version`). */
async function diagnosticsFor(uri: string, version: number, timeoutMs = 15_000): Promise<Diagnostic[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const hit = published.find((p) => p.uri === uri && (p.version ?? 0) >= version);
    if (hit) return hit.diagnostics;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no diagnostics for ${uri} v${version}; published: ${JSON.stringify(published)}; stderr: ${stderr}`);
}

const REGISTRY = [
  'version: "1"',
  'servers:',
  '  - name: memory',
  '    command: node',
  '    env_passthrough: [HTTPS_PROXY, GITHUB_TOKEN]',
  '  - name: memory',
  '    command: gatehouse-no-such-command',
  '    args: ["--org=${GH_ORG}", "--token=${GITHUB_TOKEN}"]',
  '',
].join('\n');

test('diagnostics, incremental edits, completion, hover, quick fixes and live code lenses over LSP', async () => {
  const uri = pathToFileURL(path.join(workspace, '.gatehouse', 'registry.yaml')).href;
  await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'yaml', version: 1, text: REGISTRY } });

  // 1. Pushed diagnostics: the loader's errors plus the editor-only warnings, with exact ranges.
  const diagnostics = await diagnosticsFor(uri, 1);
  assert.deepEqual(
    diagnostics.map((d) => [d.code, d.severity, d.range.start.line, d.range.start.character, d.range.end.character]),
    [
      ['secret-passthrough', 1, 4, 35, 47],
      ['duplicate-server-name', 1, 5, 10, 16],
      ['command-not-found', 2, 6, 13, 38],
      ['env-unset', 2, 7, 39, 54],
    ],
  );
  assert.ok(diagnostics.every((d) => d.source === 'gatehouse'));

  // 2. Quick fixes for the duplicate and the secret passthrough.
  const actions = await connection.sendRequest(CodeActionRequest.type, {
    textDocument: { uri },
    range: { start: { line: 0, character: 0 }, end: { line: 8, character: 0 } },
    context: { diagnostics },
  });
  const titles = (actions ?? []).map((a) => a.title);
  assert.deepEqual(titles, ['Move GITHUB_TOKEN to env: { GITHUB_TOKEN: "${GITHUB_TOKEN}" }', "Rename this 'memory' to 'memory-2'"]);

  // 3. An incremental edit (the rename) re-validates: the duplicate is gone in version 2.
  await connection.sendNotification(DidChangeTextDocumentNotification.type, {
    textDocument: { uri, version: 2 },
    contentChanges: [{ range: { start: { line: 5, character: 16 }, end: { line: 5, character: 16 } }, text: '-2' }],
  });
  const afterEdit = await diagnosticsFor(uri, 2);
  assert.deepEqual(
    afterEdit.map((d) => d.code),
    ['secret-passthrough', 'command-not-found', 'env-unset'],
  );

  // 4. Completion: keys of a server entry (typed on a new line), then enum values.
  await connection.sendNotification(DidChangeTextDocumentNotification.type, {
    textDocument: { uri, version: 3 },
    contentChanges: [{ range: { start: { line: 4, character: 0 }, end: { line: 4, character: 0 } }, text: '    ena\n' }],
  });
  const keys = itemsOf(await connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line: 4, character: 7 } }));
  assert.ok(keys.some((i) => i.label === 'enabled'), JSON.stringify(keys.map((i) => i.label)));
  assert.ok(!keys.some((i) => i.label === 'name' || i.label === 'command'), 'keys already present are not offered');
  await connection.sendNotification(DidChangeTextDocumentNotification.type, {
    textDocument: { uri, version: 4 },
    contentChanges: [{ range: { start: { line: 4, character: 4 }, end: { line: 4, character: 7 } }, text: 'enabled: ' }],
  });
  const values = itemsOf(await connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line: 4, character: 13 } }));
  assert.deepEqual(values.map((i) => i.label), ['true', 'false']);

  // 5. Hover: the schema's description of `command`.
  const hover = await connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 3, character: 6 } });
  const hoverText = hover && typeof hover.contents === 'object' && 'value' in hover.contents ? hover.contents.value : '';
  assert.match(hoverText, /^\*\*servers\[\]\.command\*\* · string\n\nProgram to start for a local \(stdio\) server/);

  // 6. Code lenses: none before any state, then one per server after gatehouse/didChangeState.
  assert.deepEqual(await connection.sendRequest(CodeLensRequest.type, { textDocument: { uri } }), []);
  const state: DidChangeStateParams = {
    configDir: path.join(workspace, '.gatehouse'),
    servers: [
      { name: 'memory', state: 'ready', tools_count: 12, circuit_state: 'closed', reason: null },
      { name: 'memory-2', state: 'gave_up', tools_count: null, circuit_state: 'open', reason: 'exit code 1' },
    ],
  };
  await connection.sendNotification(DidChangeStateNotification.method, state);
  const lenses = (await connection.sendRequest(CodeLensRequest.type, { textDocument: { uri } })) ?? [];
  assert.deepEqual(
    lenses.map((l) => [l.range.start.line, l.command?.title, l.command?.command, l.command?.arguments]),
    [
      [2, '● ready · 12 tools · closed', 'gatehouse.showServerOutput', ['memory']],
      [2, 'Respawn', 'gatehouse.respawnServer', ['memory']],
      [6, '✕ gave up: exit code 1', 'gatehouse.showServerOutput', ['memory-2']],
      [6, 'Respawn', 'gatehouse.respawnServer', ['memory-2']],
    ],
  );
  assert.ok(lensRefreshes >= 1, 'the server asks the client to refresh lenses when state changes');

  // Another folder's gateway does not touch these lenses; this gateway stopping clears them.
  await connection.sendNotification(DidChangeStateNotification.method, { configDir: path.join(workspace, 'other', '.gatehouse'), folder: 'other', servers: [state.servers[1]] });
  assert.equal(((await connection.sendRequest(CodeLensRequest.type, { textDocument: { uri } })) ?? []).length, 4);
  await connection.sendNotification(DidChangeStateNotification.method, { configDir: state.configDir, servers: [] });
  assert.deepEqual(await connection.sendRequest(CodeLensRequest.type, { textDocument: { uri } }), []);

  // 7. Closing the document clears its diagnostics.
  published.length = 0;
  await connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
  const cleared = await waitFor(() => published.find((p) => p.uri === uri));
  assert.deepEqual(cleared.diagnostics, []);
});

test('a policy is validated too, and YAML outside .gatehouse/.rea is ignored', async () => {
  const policy = pathToFileURL(path.join(workspace, '.gatehouse', 'policy.yaml')).href;
  await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: policy, languageId: 'yaml', version: 1, text: 'autonomy_level: L3\nmax_autonomy_level: L1\n' } });
  const diagnostics = await diagnosticsFor(policy, 1);
  assert.deepEqual(
    diagnostics.map((d) => [d.code, d.severity, d.range.start.line, d.range.start.character]),
    [['autonomy-clamped', 2, 0, 16]],
  );

  const other = pathToFileURL(path.join(workspace, 'registry.yaml')).href;
  await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: other, languageId: 'yaml', version: 1, text: 'version: 2\n' } });
  const keys = itemsOf(await connection.sendRequest(CompletionRequest.type, { textDocument: { uri: other }, position: { line: 1, character: 0 } }));
  assert.deepEqual(keys, []);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(published.filter((p) => p.uri === other).length, 0);
});

test('tool names: completion from the gateway state, an unmatched pattern warned once a listing arrives, an unknown profile server an error', async () => {
  const dir = path.join(workspace, 'tools', '.gatehouse');
  mkdirSync(dir, { recursive: true });
  const uri = pathToFileURL(path.join(dir, 'registry.yaml')).href;
  const text = ['version: "1"', 'servers:', '  - name: echo', '    command: node', '    tools:', '      exclude:', '        - slep', '        - ', 'profiles:', '  review:', '    servers: [echo, ghost]', ''].join('\n');
  await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'yaml', version: 1, text } });
  // Before any listing: the errors (the empty item being typed, the profile), no guess about 'slep', no names to offer.
  assert.deepEqual((await diagnosticsFor(uri, 1)).map((d) => d.code), ['invalid-type', 'unknown-profile-server']);
  assert.deepEqual(itemsOf(await connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line: 7, character: 10 } })), []);

  published.length = 0;
  await connection.sendNotification(DidChangeStateNotification.method, {
    configDir: dir,
    servers: [{ name: 'echo', state: 'ready', tools_count: 3, circuit_state: 'closed', reason: null, tools: ['echo', 'sleep', 'write'] }],
  } satisfies DidChangeStateParams);
  const warned = await waitFor(() => published.find((p) => p.uri === uri && p.diagnostics.some((d) => d.code === 'tool-glob-unmatched')));
  assert.deepEqual(
    warned.diagnostics.map((d) => [d.code, d.severity, d.range.start.line, d.range.start.character]),
    [
      ['tool-glob-unmatched', 2, 6, 10],
      ['invalid-type', 1, 7, 10],
      ['unknown-profile-server', 1, 10, 20],
    ],
  );
  const names = itemsOf(await connection.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line: 7, character: 10 } }));
  assert.deepEqual(names.map((i) => i.label), ['echo', 'sleep', 'write']);
  await connection.sendNotification(DidChangeStateNotification.method, { configDir: dir, servers: [] });
});

function itemsOf(result: CompletionItem[] | CompletionList | null): CompletionItem[] {
  if (!result) return [];
  return Array.isArray(result) ? result : result.items;
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('timed out');
}
