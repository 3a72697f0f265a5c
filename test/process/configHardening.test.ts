import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fixtureServer, tempDir } from '../helpers/fixtures';
import { spawnCli, stdioClient, stopAllCli, type StdioSession } from '../helpers/gatewayProcess';
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

  test('item 5: policy.yaml deleted while running keeps the last good policy, shown by `gatehouse status`; re-created applies again', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }], { autonomy_level: 'L1', blocked_paths: ['.env'] });
    const session = await open(project.folder);
    const { client } = session;
    await until('echo listed', async () => (await client.listTools()).tools.some((t) => t.name === 'echo__write'));
    const status = async (): Promise<{ json: { serve: { config: { policy_source: string; policy: string; errors: number } | null } }; text: string }> => {
      const json = spawnCli(['status', '--json'], project.folder);
      await json.exited;
      const text = spawnCli(['status'], project.folder);
      await text.exited;
      return { json: JSON.parse(json.stdout()), text: text.stdout() };
    };
    await until('policy shown as the file', async () => (await status()).json.serve.config?.policy_source === 'file');

    unlinkSync(path.join(project.configDir, 'policy.yaml'));
    await until('last good policy shown', async () => (await status()).json.serve.config?.policy_source === 'last_good');
    const shown = await status();
    assert.equal(shown.json.serve.config?.errors, 1);
    assert.match(shown.text, /Policy: last good policy, autonomy L1 \(policy\.yaml was deleted\)/);
    assert.match(shown.text, /Config: 1 error, the last good config keeps running — policy\.yaml:1:1: policy\.yaml was deleted/);
    assert.match(session.stderr(), /policy\.yaml was deleted while the gateway runs/);
    const still = await client.callTool({ name: 'echo__write', arguments: { id: '.env' } });
    assert.equal(still.isError, true, 'blocked paths of the last good policy still apply');

    writeFileSync(path.join(project.configDir, 'policy.yaml'), 'autonomy_level: L1\nblocked_paths: []\n');
    await until('the re-created policy applies', async () => (await status()).json.serve.config?.policy_source === 'file');
    const allowed = await client.callTool({ name: 'echo__write', arguments: { id: '.env' } });
    assert.notEqual(allowed.isError, true, textOf(allowed));
  });

  test('item 14: with .rea/, Gatehouse-only gateway keys in policy.yaml are logged; .rea/gatehouse.yaml holds them and applies', async () => {
    const folder = tempDir('gatehouse-rea-');
    const dir = path.join(folder, '.rea');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'registry.yaml'), `version: "1"\nservers:\n  - name: echo\n    command: ${JSON.stringify(process.execPath)}\n    args: [${JSON.stringify(fixtureServer('echo.mjs'))}]\n`);
    const rea = 'version: "1"\nprofile: p\ninstalled_by: me\ninstalled_at: "2026-01-01"\nautonomy_level: L1\nmax_autonomy_level: L2\npromotion_requires_human_approval: true\nblocked_paths: []\n';
    writeFileSync(path.join(dir, 'policy.yaml'), `${rea}gateway:\n  breaker:\n    failure_threshold: 9\n`);
    const first = await open(folder);
    await until('echo listed', async () => (await first.client.listTools()).tools.some((t) => t.name === 'echo__sleep'));
    await until('the log names the key', () => /'gateway\.breaker' is a Gatehouse setting that rea's strict policy schema refuses/.test(first.stderr()));
    assert.match(first.stderr(), /move the gateway: settings to \.rea\/gatehouse\.yaml/);
    await first.client.close();

    // Moved: rea's file is plain again, and Gatehouse still reads the tunables.
    writeFileSync(path.join(dir, 'policy.yaml'), rea);
    writeFileSync(path.join(dir, 'gatehouse.yaml'), 'gateway:\n  timeouts:\n    call_ms: 300\n');
    const second = await open(folder);
    await until('echo listed', async () => (await second.client.listTools()).tools.some((t) => t.name === 'echo__sleep'));
    const slow = await second.client.callTool({ name: 'echo__sleep', arguments: { ms: 5000 } });
    assert.equal(slow.isError, true, 'call_ms from gatehouse.yaml applies');
    assert.match(textOf(slow), /did not answer 'sleep' within 0\.3 s/);
    assert.doesNotMatch(second.stderr(), /rea-incompatible|is a Gatehouse setting/);
  });
});
