import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { startTimeOf } from '../../../extension/pool/processStartTime';
import { reapOrphans } from '../../../extension/state/childRecords';
import { tempDir } from '../../helpers/fixtures';

/** A process table: pid → start time; absent pids have no process. */
function table(entries: Record<number, string>) {
  return async (pid: number) => entries[pid] ?? null;
}

function record(dir: string, owner: number, ownerStart: string, children: Array<[number, string]>): string {
  const file = path.join(dir, `serve.children.${owner}.json`);
  writeFileSync(file, JSON.stringify({ owner: { pid: owner, start_time: ownerStart }, children: children.map(([pid, st]) => ({ pid, start_time: st })) }));
  return file;
}

describe('reapOrphans', () => {
  test('kills the groups of a dead owner whose pid and start time match, or whose leader is gone; never a reused pid', async () => {
    const dir = tempDir('gatehouse-reap-');
    const file = record(dir, 500, '100', [
      [601, '200'], // still ours: killed
      [602, '201'], // reused: another start time now
      [603, '202'], // leader gone: its group (grandchildren) killed or nobody
    ]);
    const killed: number[] = [];
    const result = await reapOrphans(dir, {
      pid: 10,
      startTimeOf: table({ 10: '1', 601: '200', 602: '999' }),
      kill: (pgid) => (killed.push(pgid), true),
    });
    assert.deepEqual(killed, [601, 603]);
    assert.deepEqual(result, { killed: [601, 603], reused: [602] });
    assert.ok(!existsSync(file));
  });

  test('a live owner (same pid and start time) and our own file are left alone', async () => {
    const dir = tempDir('gatehouse-reap-');
    const live = record(dir, 500, '100', [[601, '200']]);
    const own = record(dir, 10, '1', [[701, '300']]);
    const killed: number[] = [];
    await reapOrphans(dir, { pid: 10, startTimeOf: table({ 10: '1', 500: '100', 601: '200', 701: '300' }), kill: (p) => (killed.push(p), true) });
    assert.deepEqual(killed, []);
    assert.ok(existsSync(live) && existsSync(own));
  });

  test('an owner pid reused by another process counts as dead', async () => {
    const dir = tempDir('gatehouse-reap-');
    record(dir, 500, '100', [[601, '200']]);
    const killed: number[] = [];
    await reapOrphans(dir, { pid: 10, startTimeOf: table({ 10: '1', 500: '555', 601: '200' }), kill: (p) => (killed.push(p), true) });
    assert.deepEqual(killed, [601]);
  });

  test('no procfs (our own start time unknown): nothing is killed', async () => {
    const dir = tempDir('gatehouse-reap-');
    record(dir, 500, '100', [[601, '200']]);
    const killed: number[] = [];
    await reapOrphans(dir, { pid: 10, startTimeOf: table({}), kill: (p) => (killed.push(p), true) });
    assert.deepEqual(killed, []);
  });

  test('a corrupt or hostile record is not acted on', async () => {
    const dir = tempDir('gatehouse-reap-');
    writeFileSync(path.join(dir, 'serve.children.500.json'), '{"owner":{"pid":500,"start_time":"1"},"children":[{"pid":-1,"start_time":"2"},{"pid":1,"start_time":"3"},{"pid":"7","start_time":"4"}]}');
    writeFileSync(path.join(dir, 'serve.children.501.json'), 'not json');
    const killed: number[] = [];
    await reapOrphans(dir, { pid: 10, startTimeOf: table({ 10: '1', 1: '3' }), kill: (p) => (killed.push(p), true) });
    assert.deepEqual(killed, [], 'no group id ≤ 1, no string pid');
  });
});

describe('startTimeOf', () => {
  test('reads field 22 even when the command name holds spaces and parentheses', () => {
    const rest = ['S', ...Array.from({ length: 18 }, (_, i) => String(i + 4)), '123456', '99'].join(' ');
    assert.equal(startTimeOf(`4242 (evil) 1 2 (x) ${rest}`), '123456');
    assert.equal(startTimeOf('garbage'), null);
  });
});
