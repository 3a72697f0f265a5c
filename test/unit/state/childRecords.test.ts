import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { startTimeOf } from '../../../extension/pool/processStartTime';
import type { ChildGuard, GuardedChild } from '../../../extension/pool/childGuard';
import { ChildRecordFile, childRecordFileName, reapOrphans } from '../../../extension/state/childRecords';
import { tempDir } from '../../helpers/fixtures';
import { until } from '../../helpers/poll';

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

/** The two things a ChildRecordFile asks of the guard, driven by hand. */
class HandGuard {
  private children: GuardedChild[] = [];
  private listener: ((children: GuardedChild[]) => void) | undefined;
  add(pid: number): void {
    this.children = [...this.children, { pid, startTime: String(1000 + pid) }];
    this.listener?.(this.list());
  }
  remove(pid: number): void {
    this.children = this.children.filter((c) => c.pid !== pid);
    this.listener?.(this.list());
  }
  list(): GuardedChild[] {
    return [...this.children];
  }
  onDidChange(listener: (children: GuardedChild[]) => void): () => void {
    this.listener = listener;
    return () => (this.listener = undefined);
  }
}

describe('ChildRecordFile', () => {
  const recorded = (dir: string): number[] =>
    (JSON.parse(readFileSync(path.join(dir, childRecordFileName(process.pid)), 'utf8')) as { children: Array<{ pid: number }> }).children.map((c) => c.pid);

  test('an addition is written at once; a removal waits for the next addition (a crash loop costs one write per respawn, not two)', async () => {
    const dir = tempDir('gatehouse-records-');
    const guard = new HandGuard();
    // A removal delay no test outlives: removals can only go out with an addition here.
    const file = new ChildRecordFile(dir, guard as unknown as ChildGuard, process.pid, 3_600_000);
    await file.start();
    guard.add(101);
    await file.idle();
    assert.deepEqual(recorded(dir), [101]);
    assert.equal(file.writes, 1);
    for (let pid = 102; pid < 112; pid++) {
      guard.remove(pid - 1); // the previous child of a crash loop died …
      await file.idle();
      guard.add(pid); // … and its successor started
      await file.idle();
      assert.deepEqual(recorded(dir), [pid], 'the file lists exactly the live child after each addition');
    }
    assert.equal(file.writes, 11, 'one write per child started, none for the deaths');
    guard.remove(111);
    await file.idle();
    assert.deepEqual(recorded(dir), [111], 'a dead entry may linger (the reaper skips it), until the delay or an addition');
    await file.stop();
    assert.ok(!existsSync(path.join(dir, childRecordFileName(process.pid))), 'removed on a clean stop');
  });

  test('removals alone go out after the delay; changes during a write share the next one', async () => {
    const dir = tempDir('gatehouse-records-');
    const guard = new HandGuard();
    const file = new ChildRecordFile(dir, guard as unknown as ChildGuard, process.pid, 20);
    await file.start();
    for (let pid = 201; pid <= 210; pid++) guard.add(pid); // ten additions in one turn
    await file.idle();
    assert.deepEqual(recorded(dir), [201, 202, 203, 204, 205, 206, 207, 208, 209, 210]);
    assert.ok(file.writes <= 2, `${file.writes} writes for ten additions in one turn`);
    const before = file.writes;
    for (let pid = 201; pid <= 209; pid++) guard.remove(pid);
    await until('the removals written', () => file.writes > before && recorded(dir).length === 1);
    assert.deepEqual(recorded(dir), [210]);
    assert.equal(file.writes, before + 1);
    await file.stop();
  });
});
