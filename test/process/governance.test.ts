import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { tempDir } from '../helpers/fixtures';
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

async function cli(args: string[], folder: string): Promise<{ code: number | null; out: string; err: string }> {
  const p = spawnCli(args, folder);
  const exit = await p.exited;
  return { code: exit.code, out: p.stdout(), err: p.stderr() };
}

function auditLines(configDir: string): Array<Record<string, unknown>> {
  return readFileSync(path.join(configDir, 'audit.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('governance through `gatehouse serve`', () => {
  test('HALT created mid-session denies the next call and is audited; unfreeze lets calls through again', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    const { client } = await open(project.folder);
    await until('echo listed', async () => (await client.listTools()).tools.some((t) => t.name === 'echo__echo'));
    assert.equal(textOf(await client.callTool({ name: 'echo__echo', arguments: { text: 'before' } })), 'before');

    const frozen = await cli(['freeze', '--reason', 'incident 42'], project.folder);
    assert.equal(frozen.code, 0, frozen.err);
    const denied = await client.callTool({ name: 'echo__echo', arguments: { text: 'during' } });
    assert.equal(denied.isError, true);
    assert.match(textOf(denied), /Kill switch active: incident 42/);

    assert.equal((await cli(['unfreeze'], project.folder)).code, 0);
    assert.equal(textOf(await client.callTool({ name: 'echo__echo', arguments: { text: 'after' } })), 'after');

    await until('audit written', () => auditLines(project.configDir).some((r) => r.tool_name === 'echo' && r.status === 'denied'));
    const records = auditLines(project.configDir);
    const haltDenial = records.find((r) => r.tool_name === 'echo' && r.status === 'denied');
    assert.equal((haltDenial?.metadata as Record<string, unknown>)?.halt_decision, 'present');
    assert.ok(records.some((r) => r.tool_name === 'freeze' && r.emission_source === 'gateway'));
    assert.ok(records.some((r) => r.tool_name === 'unfreeze' && r.emission_source === 'gateway'));
    assert.ok(records.every((r) => typeof r.hash === 'string' && (r.hash as string).length === 64));
    const verify = await cli(['audit', 'verify'], project.folder);
    assert.equal(verify.code, 0, verify.out + verify.err);
    assert.match(verify.out, /Audit chain OK/);
  });

  test('a secret sent as an argument never reaches the child or the audit file in clear', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs', env: { COUNT_FILE: path.join(tempDir(), 'child-log') } }]);
    const childLog = (parse(readFileSync(path.join(project.configDir, 'registry.yaml'), 'utf8')) as { servers: Array<{ env: { COUNT_FILE: string } }> })
      .servers[0]!.env.COUNT_FILE;
    const secret = `ghp_${'A1b2C3d4E5'.repeat(4)}`;
    const { client } = await open(project.folder);
    await until('echo listed', async () => (await client.listTools()).tools.some((t) => t.name === 'echo__write'));
    const result = await client.callTool({ name: 'echo__write', arguments: { id: `token=${secret}` } });
    assert.doesNotMatch(JSON.stringify(result), new RegExp(secret));
    const seen = readFileSync(childLog, 'utf8');
    assert.doesNotMatch(seen, new RegExp(secret), 'the child never saw the secret');
    assert.match(seen, /\[REDACTED:GitHub Token\]/);
    await until('audited', () => auditLines(project.configDir).some((r) => r.tool_name === 'write'));
    const audit = readFileSync(path.join(project.configDir, 'audit.jsonl'), 'utf8');
    assert.doesNotMatch(audit, new RegExp(secret));
    const record = auditLines(project.configDir).find((r) => r.tool_name === 'write');
    assert.deepEqual(record?.redacted_fields, ['arguments.id']);
  });

  test('tampering with one audit line makes verify fail at that line', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    const { client } = await open(project.folder);
    await until('echo listed', async () => (await client.listTools()).tools.some((t) => t.name === 'echo__echo'));
    for (let i = 0; i < 5; i++) await client.callTool({ name: 'echo__echo', arguments: { text: `n${i}` } });
    await until('five records', () => auditLines(project.configDir).filter((r) => r.tool_name === 'echo').length === 5);
    const file = path.join(project.configDir, 'audit.jsonl');
    const lines = readFileSync(file, 'utf8').split('\n');
    const target = lines.findIndex((l) => l.includes('"tool_name":"echo"')) + 2; // a later echo record, 1-based
    lines[target - 1] = (lines[target - 1] ?? '').replace('"status":"allowed"', '"status":"denied"');
    writeFileSync(file, lines.join('\n'));
    const verify = await cli(['audit', 'verify'], project.folder);
    assert.equal(verify.code, 1);
    assert.match(verify.out, new RegExp(`BROKEN at audit\\.jsonl line ${target}:`));
  });

  test('removing the last audit records is reported by verify and recorded by the running gateway', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    const { client } = await open(project.folder);
    await until('echo listed', async () => (await client.listTools()).tools.some((t) => t.name === 'echo__echo'));
    for (let i = 0; i < 5; i++) await client.callTool({ name: 'echo__echo', arguments: { text: `n${i}` } });
    const file = path.join(project.configDir, 'audit.jsonl');
    const anchorFile = path.join(project.configDir, 'audit.anchor');
    // The anchor is written right after each group write: wait until it names the last record.
    await until('anchored', () => {
      const all = auditLines(project.configDir);
      const anchor = JSON.parse(readFileSync(anchorFile, 'utf8')) as { hash: string };
      return all.filter((r) => r.tool_name === 'echo').length === 5 && anchor.hash === all.at(-1)?.hash;
    });
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    writeFileSync(file, `${lines.slice(0, -2).join('\n')}\n`);

    const found = await cli(['audit', 'verify'], project.folder);
    assert.equal(found.code, 1, found.out);
    assert.match(found.out, /Audit log CUT: 2 record\(s\) missing at the end of audit\.jsonl/);

    await client.callTool({ name: 'echo__echo', arguments: { text: 'after' } });
    await until('cut recorded', () => auditLines(project.configDir).some((r) => r.tool_name === 'audit.tail_cut'));
    const after = auditLines(project.configDir);
    const marker = after.find((r) => r.tool_name === 'audit.tail_cut')!;
    assert.equal(marker.prev_hash, JSON.parse(lines.at(-3)!).hash, 'chained to what was left, with the loss on record');
    const recorded = await cli(['audit', 'verify'], project.folder);
    assert.equal(recorded.code, 1);
    assert.match(recorded.out, /2 record\(s\) missing at the end of audit\.jsonl.*found by the writer/);
  });

  test('a changed server is held in `blocked` until its fingerprint change is accepted', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }, { name: 'other', fixture: 'echo.mjs' }]);
    const first = await open(project.folder);
    await until('both listed', async () => (await first.client.listTools()).tools.filter((t) => t.name.endsWith('__echo')).length === 2);
    await first.client.close();

    const registryFile = path.join(project.configDir, 'registry.yaml');
    const registry = parse(readFileSync(registryFile, 'utf8')) as { servers: Array<{ name: string; args: string[] }> };
    registry.servers[0]!.args.push('--changed');
    writeFileSync(registryFile, stringify(registry));

    const second = await open(project.folder);
    await until('other listed', async () => (await second.client.listTools()).tools.some((t) => t.name === 'other__echo'));
    assert.ok(!(await second.client.listTools()).tools.some((t) => t.name === 'echo__echo'), 'the drifted server is not spawned');
    const health = JSON.parse(textOf(await second.client.callTool({ name: 'gatehouse__health', arguments: {} }))) as {
      downstreams: Array<{ name: string; state: string }>;
    };
    assert.equal(health.downstreams.find((d) => d.name === 'echo')?.state, 'blocked', 'shown, not dropped');
    const refused = await second.client.callTool({ name: 'echo__echo', arguments: { text: 'x' } });
    assert.equal(refused.isError, true);
    assert.match(textOf(refused), /blocked until its configuration change is accepted/);
    await second.client.close();

    const listed = await cli(['trust', 'list'], project.folder);
    assert.match(listed.out, /echo: drifted/);
    const accepted = await cli(['trust', 'accept', 'echo'], project.folder);
    assert.equal(accepted.code, 0, accepted.err);

    const third = await open(project.folder);
    await until('echo back', async () => (await third.client.listTools()).tools.some((t) => t.name === 'echo__echo'));
    const tofu = auditLines(project.configDir).filter((r) => r.tool_name === 'rea.tofu');
    assert.ok(tofu.every((r) => r.server_name === 'rea'), 'rea\'s shape: the server is in metadata.server');
    const events = tofu.map((r) => { const m = r.metadata as { event: string; server: string }; return `${m.event} ${m.server}`; });
    assert.deepEqual(events, ['tofu.first_seen echo', 'tofu.first_seen other', 'tofu.drift_blocked echo', 'tofu.drift_accepted echo']);
  });

  test('policy.yaml edits apply to the next call; a broken edit keeps the last good policy and says why', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }], { autonomy_level: 'L0' });
    const session = await open(project.folder);
    const { client } = session;
    await until('echo listed', async () => (await client.listTools()).tools.some((t) => t.name === 'echo__write'));
    const denied = await client.callTool({ name: 'echo__write', arguments: { id: 'a' } });
    assert.match(textOf(denied), /Autonomy level L0 does not allow write-tier tools/);

    const policyFile = path.join(project.configDir, 'policy.yaml');
    writeFileSync(policyFile, stringify({ autonomy_level: 'L1' }));
    await until('L1 applied', async () => !(await client.callTool({ name: 'echo__write', arguments: { id: 'b' } })).isError, 10_000, 100);

    writeFileSync(policyFile, 'autonomy_level: [unclosed\n');
    await until('error reported', () => /policy\.yaml:\d+:\d+/.test(session.stderr()), 10_000, 50);
    const still = await client.callTool({ name: 'echo__write', arguments: { id: 'c' } });
    assert.equal(still.isError, undefined, 'the last good policy (L1) still applies');
  });
});
