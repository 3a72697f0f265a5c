import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { tempDir } from '../helpers/fixtures';
import { stdioClient, stopAllCli, type StdioSession } from '../helpers/gatewayProcess';
import { makeProject } from '../helpers/gatewayProject';
import { until } from '../helpers/poll';
import { textOf } from '../helpers/pool';

const sessions: StdioSession[] = [];
after(async () => {
  await Promise.all(sessions.map((s) => s.client.close().catch(() => undefined)));
  await stopAllCli();
});

async function open(folder: string): Promise<StdioSession> {
  const s = await stdioClient(folder);
  sessions.push(s);
  return s;
}

describe('config and path hardening through `gatehouse serve` (issue 13)', () => {
  test('item 4: a long or whitespace-wrapped blocked path never reaches the child', async () => {
    const childLog = path.join(tempDir(), 'child-log');
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs', env: { COUNT_FILE: childLog } }], { autonomy_level: 'L1', blocked_paths: ['.env'] });
    const { client } = await open(project.folder);
    await until('echo listed', async () => (await client.listTools()).tools.some((t) => t.name === 'echo__write'));
    const hostile = [`${'./'.repeat(2100)}.env`, '.env\n', ' .env\t', '%2e%65nv', 'a/../.ENV', 'file:///proj/.env'];
    for (const id of hostile) {
      const result = await client.callTool({ name: 'echo__write', arguments: { id } });
      assert.equal(result.isError, true, `${JSON.stringify(id).slice(0, 40)} was refused`);
      assert.match(textOf(result), /references blocked path "\.env"/);
    }
    const tooLong = await client.callTool({ name: 'echo__write', arguments: { id: `${'a/'.repeat(600_000)}x` } });
    assert.equal(tooLong.isError, true);
    assert.match(textOf(tooLong), /refused rather than passed unchecked/);
    const ok = await client.callTool({ name: 'echo__write', arguments: { id: 'notes.txt' } });
    assert.notEqual(ok.isError, true, textOf(ok));
    const seen = readFileSync(childLog, 'utf8');
    assert.doesNotMatch(seen, /\.env/i, 'no blocked value reached the child');
    assert.match(seen, /notes\.txt/);
  });
});
