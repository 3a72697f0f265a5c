import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { resolveConfigDir } from '../../../extension/config/configDir';

const roots: string[] = [];
async function workspace(files: Record<string, string | null>): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'gatehouse-configdir-'));
  roots.push(root);
  for (const [rel, content] of Object.entries(files)) {
    const full = path.join(root, rel);
    if (content === null) await mkdir(full, { recursive: true });
    else {
      await mkdir(path.dirname(full), { recursive: true });
      await writeFile(full, content);
    }
  }
  return root;
}
after(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

test('.gatehouse/ is used when it exists, even next to a .rea/ registry', async () => {
  const root = await workspace({ '.gatehouse': null, '.rea/registry.yaml': 'version: "1"\n' });
  assert.deepEqual(await resolveConfigDir(root), { dir: path.join(root, '.gatehouse'), flavor: 'gatehouse', exists: true });
});

test('falls back to .rea/ when it has a registry.yaml', async () => {
  const root = await workspace({ '.rea/registry.yaml': 'version: "1"\n' });
  assert.deepEqual(await resolveConfigDir(root), { dir: path.join(root, '.rea'), flavor: 'rea', exists: true });
});

test('a .rea/ without registry.yaml is not used', async () => {
  const root = await workspace({ '.rea/policy.yaml': 'autonomy_level: L1\n' });
  assert.deepEqual(await resolveConfigDir(root), { dir: path.join(root, '.gatehouse'), flavor: 'gatehouse', exists: false });
});

test('nothing there: .gatehouse/ with exists false', async () => {
  const root = await workspace({});
  assert.deepEqual(await resolveConfigDir(root), { dir: path.join(root, '.gatehouse'), flavor: 'gatehouse', exists: false });
});

test('an override is resolved against the folder and takes the place of .gatehouse/', async () => {
  const root = await workspace({ 'config/mcp': null, '.gatehouse': null });
  assert.deepEqual(await resolveConfigDir(root, 'config/mcp'), { dir: path.join(root, 'config', 'mcp'), flavor: 'gatehouse', exists: true });
  const absent = await workspace({});
  assert.deepEqual(await resolveConfigDir(absent, 'config/mcp'), { dir: path.join(absent, 'config', 'mcp'), flavor: 'gatehouse', exists: false });
  const withRea = await workspace({ '.rea/registry.yaml': '' });
  assert.deepEqual(await resolveConfigDir(withRea, 'config/mcp'), { dir: path.join(withRea, '.rea'), flavor: 'rea', exists: true });
  assert.deepEqual(await resolveConfigDir(withRea, '.rea'), { dir: path.join(withRea, '.rea'), flavor: 'rea', exists: true });
  // An empty override means "not set".
  assert.equal((await resolveConfigDir(root, '')).dir, path.join(root, '.gatehouse'));
});

test('a .gatehouse file (not a directory) does not count', async () => {
  const root = await workspace({ '.gatehouse': 'oops' });
  assert.equal((await resolveConfigDir(root)).exists, false);
});
