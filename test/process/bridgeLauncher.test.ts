/**
 * Client configurations survive extension updates: they name the launcher in global storage,
 * which finds the current version's cli.js. An "installed extension" here is a copy of the
 * built dist/ in a folder named as VS Code names it (`<publisher>.<name>-<version>`); an update
 * is what VS Code does on disk: the new version's folder appears, the old one is deleted, and
 * the new version may not have been activated yet when a client starts the bridge.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { installLauncher, LAUNCHER_FILE } from '../../extension/platform/bridgeLauncher';
import { ensureCliBuilt } from '../helpers/cli';
import { tempDir } from '../helpers/fixtures';
import { makeProject } from '../helpers/gatewayProject';
import { resultText, startHttpGateway, stopAllCli } from '../helpers/gatewayProcess';

const run = promisify(execFile);
const ID = 'gatehouse.gatehouse';
const dirs: string[] = [];
after(async () => {
  await stopAllCli();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function scratch(): { extensions: string; storage: string } {
  const root = tempDir('gatehouse-launcher-');
  dirs.push(root);
  const extensions = path.join(root, 'extensions');
  const storage = path.join(root, 'globalStorage', ID);
  mkdirSync(extensions, { recursive: true });
  return { extensions, storage };
}

/** A stand-in cli.js that reports which version ran and with which arguments. */
function fakeVersion(extensions: string, version: string): string {
  const cli = path.join(extensions, `${ID}-${version}`, 'dist', 'cli.js');
  mkdirSync(path.dirname(cli), { recursive: true });
  writeFileSync(cli, `#!/usr/bin/env node\nprocess.stdout.write(JSON.stringify({ version: ${JSON.stringify(version)}, argv: process.argv.slice(2), self: process.argv[1] }));\n`);
  return cli;
}

async function launch(launcher: string, args: string[]): Promise<{ version: string; argv: string[]; self: string }> {
  const { stdout } = await run(process.execPath, [launcher, ...args], { timeout: 30_000 });
  return JSON.parse(stdout) as { version: string; argv: string[]; self: string };
}

describe('the client launcher', () => {
  test('runs the activated version; after an update, the newest installed one until the new version activates', async () => {
    const { extensions, storage } = scratch();
    const v1 = fakeVersion(extensions, '0.1.0');
    const launcher = await installLauncher(storage, { id: ID, version: '0.1.0', cli: v1 });
    assert.equal(launcher, path.join(storage, LAUNCHER_FILE));
    assert.deepEqual(await launch(launcher, ['bridge', '--folder', '/w/with space']), { version: '0.1.0', argv: ['bridge', '--folder', '/w/with space'], self: v1 });

    // The update: new folders appear (0.10.0 is newer than 0.9.0 and 0.2.0, not lexically), the old one goes.
    fakeVersion(extensions, '0.2.0');
    fakeVersion(extensions, '0.9.0');
    const v10 = fakeVersion(extensions, '0.10.0');
    mkdirSync(path.join(extensions, 'gatehouse.gatehouse-extras-9.9.9', 'dist'), { recursive: true });
    rmSync(path.dirname(path.dirname(v1)), { recursive: true });
    assert.deepEqual(await launch(launcher, ['bridge']), { version: '0.10.0', argv: ['bridge'], self: v10 });

    // Activation of a version rewrites the pointer, and it wins.
    const v2 = path.join(extensions, `${ID}-0.2.0`, 'dist', 'cli.js');
    await installLauncher(storage, { id: ID, version: '0.2.0', cli: v2 });
    assert.equal((await launch(launcher, ['status'])).version, '0.2.0');
  });

  test('says what to do when no version is installed', async () => {
    const { extensions, storage } = scratch();
    const cli = fakeVersion(extensions, '1.0.0');
    const launcher = await installLauncher(storage, { id: ID, version: '1.0.0', cli });
    rmSync(extensions, { recursive: true });
    await assert.rejects(run(process.execPath, [launcher, 'bridge'], { timeout: 30_000 }), (err: { code?: number; stderr?: string }) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr ?? '', /Gatehouse extension was not found/);
      return true;
    });
  });

  test('a real bridge through the launcher reaches the gateway, before and after an update', { timeout: 120_000 }, async () => {
    const dist = path.dirname(ensureCliBuilt());
    const { extensions, storage } = scratch();
    const install = (version: string): string => {
      const dir = path.join(extensions, `${ID}-${version}`);
      cpSync(dist, path.join(dir, 'dist'), { recursive: true });
      return path.join(dir, 'dist', 'cli.js');
    };
    const launcher = await installLauncher(storage, { id: ID, version: '0.1.0', cli: install('0.1.0') });
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    await startHttpGateway(project.folder);

    const callThroughLauncher = async (text: string): Promise<string> => {
      // Exactly the entry Copy Client Configuration writes: node <launcher> bridge --folder <folder>.
      const client = new Client({ name: 'launcher-test', version: '1.0.0' }, { capabilities: {} });
      await client.connect(new StdioClientTransport({ command: process.execPath, args: [launcher, 'bridge', '--folder', project.folder], stderr: 'pipe' }));
      try {
        return resultText(await client.callTool({ name: 'echo__echo', arguments: { text } }));
      } finally {
        await client.close();
      }
    };
    assert.equal(await callThroughLauncher('before'), 'before');
    install('0.2.0');
    rmSync(path.join(extensions, `${ID}-0.1.0`), { recursive: true });
    assert.equal(await callThroughLauncher('after the update'), 'after the update');
  });
});
