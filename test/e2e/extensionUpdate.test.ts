/**
 * A client entry from Copy Client Configuration survives an extension update, in a real
 * code-server: version A (the current tree) is installed and activated, which writes the
 * launcher into global storage; version B (the same build, version bumped) is installed over
 * it the way an update is; code-server starts again, removes A's folder and activates B. The
 * entry the command writes (`node <launcher> bridge --folder <ws>`) then reaches B's gateway,
 * where A's `dist/cli.js` (what the entry used to name) no longer exists.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CHROMIUM, chromiumAvailable, openWorkbench, type Workbench } from './harness/browser';
import { ensureCodeServer, startCodeServer, type CodeServer } from './harness/codeServer';
import { packageVsix } from './harness/vsix';
import { waitUntil } from './harness/wait';
import { fixtureWorkspace, type FixtureWorkspace } from './support/fixtureWorkspace';
import { packageGatehouse, REPO_ROOT, VSCE_ARGS } from './support/gatehouseBuild';

const skip = !chromiumAvailable() && !process.env.CI ? `Chromium not found at ${CHROMIUM} (run .ci/install-e2e.sh)` : false;
const ID = 'gatehouse.gatehouse';

/** The current build packaged under another version number (what the Marketplace would serve next). */
async function packageNextVersion(version: string): Promise<string> {
  await packageGatehouse(); // builds dist/ too
  const stage = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-e2e-next-'));
  for (const entry of ['README.md', 'CHANGELOG.md', 'LICENSE', '.vscodeignore', 'dist', 'media']) {
    if (existsSync(path.join(REPO_ROOT, entry))) cpSync(path.join(REPO_ROOT, entry), path.join(stage, entry), { recursive: true });
  }
  const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  writeFileSync(path.join(stage, 'package.json'), JSON.stringify({ ...manifest, version }, null, 2));
  symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(stage, 'node_modules'), 'dir');
  return packageVsix(stage, { out: path.join(stage, `gatehouse-${version}.vsix`), args: VSCE_ARGS });
}

function pointer(storage: string): { version: string; cli: string } | undefined {
  try {
    return JSON.parse(readFileSync(path.join(storage, 'current.json'), 'utf8')) as { version: string; cli: string };
  } catch {
    return undefined;
  }
}

describe('Gatehouse: client entries across an extension update', { timeout: 15 * 60_000 }, () => {
  let ws: FixtureWorkspace | undefined;
  let scratch: string | undefined;
  before(async () => {
    if (!skip) await ensureCodeServer();
  });
  after(() => {
    ws?.remove();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  test('the copied entry starts the bridge of the new version after an update', { skip, timeout: 14 * 60_000 }, async (t) => {
    const current = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const next = `${current.split('.').slice(0, 2).join('.')}.${Number(current.split('.')[2] ?? 0) + 1}`;
    const [vsixA, vsixB] = [await packageGatehouse(), await packageNextVersion(next)];
    ws = fixtureWorkspace();
    scratch = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-e2e-update-'));
    const userDataDir = path.join(scratch, 'user-data');
    const extensionsDir = path.join(scratch, 'extensions');
    const storage = path.join(userDataDir, 'User', 'globalStorage', ID);
    const launcher = path.join(storage, 'gatehouse-launcher.cjs');

    // Version A: installed, opened, activated.
    let server: CodeServer = await startCodeServer({ workspace: ws.dir, vsix: vsixA, userDataDir, extensionsDir, stopDescendants: true });
    let workbench: Workbench | undefined;
    let cliA: string;
    try {
      workbench = await openWorkbench(server.url, ws.dir);
      const written = await waitUntil('version A writes the launcher', () => (existsSync(launcher) && pointer(storage)?.version === current ? pointer(storage) : undefined), 120_000, 250);
      cliA = written.cli;
      assert.ok(cliA.startsWith(path.join(extensionsDir, `${ID}-${current}`)), `A's cli.js is in A's folder: ${cliA}`);
      assert.ok(existsSync(cliA));
    } finally {
      await workbench?.close().catch(() => undefined);
      await server.stop();
    }

    // The update, as VS Code does it: B installed beside A, A marked obsolete.
    server = await startCodeServer({ workspace: ws.dir, vsix: vsixB, userDataDir, extensionsDir, stopDescendants: true });
    workbench = undefined;
    try {
      workbench = await openWorkbench(server.url, ws.dir);
      const written = await waitUntil('version B activates and rewrites the pointer', () => (pointer(storage)?.version === next ? pointer(storage) : undefined), 120_000, 250);
      assert.ok(written.cli.startsWith(path.join(extensionsDir, `${ID}-${next}`)));
      await waitUntil("A's folder to be removed", () => !existsSync(cliA), 60_000, 250).catch(() => undefined);
      t.diagnostic(`extensions after the update: ${readdirSync(extensionsDir).join(', ')}; A's cli.js ${existsSync(cliA) ? 'still present' : 'deleted'}`);
      await waitUntil('the gateway of B publishes gateway.json', () => existsSync(path.join(ws?.configDir ?? '', 'gateway.json')), 120_000, 250);

      // Exactly the stdio entry Copy Client Configuration writes.
      const client = new Client({ name: 'update-test', version: '1.0.0' }, { capabilities: {} });
      await client.connect(new StdioClientTransport({ command: process.execPath, args: [launcher, 'bridge', '--folder', ws.dir], stderr: 'pipe' }));
      try {
        const tools = await waitUntil('echo tools through the bridge', async () => {
          const names = (await client.listTools()).tools.map((tool) => tool.name);
          return names.includes('echo__echo') ? names : undefined;
        }, 60_000, 500);
        assert.ok(tools.includes('gatehouse__health'));
        const result = (await client.callTool({ name: 'echo__echo', arguments: { text: 'after the update' } })) as { content: Array<{ text?: string }> };
        assert.equal(result.content[0]?.text, 'after the update');
      } finally {
        await client.close();
      }
    } finally {
      await workbench?.close().catch(() => undefined);
      await server.stop();
    }
  });
});
