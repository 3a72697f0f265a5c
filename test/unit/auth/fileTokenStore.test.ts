import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { FileTokenStore, userConfigDir } from '../../../extension/auth/fileTokenStore';
import { tempDir } from '../../helpers/fixtures';
import { until } from '../../helpers/poll';

test('userConfigDir: $XDG_CONFIG_HOME/gatehouse when absolute, else ~/.config/gatehouse', () => {
  assert.equal(userConfigDir({ XDG_CONFIG_HOME: '/x/cfg' }), path.join('/x/cfg', 'gatehouse'));
  assert.match(userConfigDir({ XDG_CONFIG_HOME: 'relative' }), /\.config[\\/]gatehouse$/);
  assert.match(userConfigDir({}), /\.config[\\/]gatehouse$/);
});

test('records are keyed by URL, written 0600 in a 0700 directory, and deleted whole', async () => {
  const dir = path.join(tempDir('gatehouse-tokens-'), 'gatehouse');
  const store = new FileTokenStore(dir);
  await store.set('https://a.example/mcp', { tokens: { access_token: 'A', token_type: 'Bearer' } });
  await store.set('https://b.example/mcp', { tokens: { access_token: 'B', token_type: 'Bearer' } });
  if (process.platform !== 'win32') {
    assert.equal(statSync(store.file).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
  }
  assert.deepEqual((await store.keys()).sort(), ['https://a.example/mcp', 'https://b.example/mcp']);
  await store.set('https://a.example/mcp', undefined);
  assert.equal(await new FileTokenStore(dir).get('https://a.example/mcp'), undefined);
  assert.equal((await new FileTokenStore(dir).get('https://b.example/mcp'))?.tokens?.access_token, 'B');
  store.dispose();
});

test("a watching store notices another process's write and names the URL", async () => {
  const dir = path.join(tempDir('gatehouse-tokens-'), 'gatehouse');
  const watcher = new FileTokenStore(dir);
  await watcher.keys();
  watcher.watch();
  const seen: string[] = [];
  watcher.onDidChange((url) => seen.push(url));
  const other = new FileTokenStore(dir);
  await other.set('https://c.example/mcp', { tokens: { access_token: 'C', token_type: 'Bearer' } });
  await until('the watcher to see the new sign-in', () => seen.includes('https://c.example/mcp'), 15_000, 50);
  assert.equal((await watcher.get('https://c.example/mcp'))?.tokens?.access_token, 'C');
  watcher.dispose();
  other.dispose();
});
