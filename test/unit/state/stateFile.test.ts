import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '../../../extension/common/clock';
import type { DownstreamView } from '../../../extension/protocol/model';
import {
  parseStateFile,
  StateFileWriter,
  type PidLiveness,
  type StateFileReclaim,
  type StateFileWriterOptions,
  type StateFileYield,
} from '../../../extension/state/stateFile';
import { StateStore } from '../../../extension/state/store';
import { downstreamView as view } from '../../helpers/downstreamView';

const MY_PID = 424_242;
const PEER_PID = 515_151;


type WriterOverrides = Partial<Omit<StateFileWriterOptions, 'clock'>>;

interface Rig {
  dir: string;
  clock: ManualClock;
  store: StateStore;
  writer: StateFileWriter;
  failures: Error[];
  yields: StateFileYield[];
  reclaims: StateFileReclaim[];
  /** Pids the fake probe reports dead; everything else is alive. */
  dead: Set<number>;
  statePath: string;
  pidPath: string;
  lockPath: string;
  read(): Record<string, unknown>;
}

let tmpRoot: string;
const cleanups: Array<() => Promise<void> | void> = [];

function rig(overrides: WriterOverrides = {}, shared?: { dir?: string; clock?: ManualClock }): Rig {
  const dir = shared?.dir ?? path.join(tmpRoot, randomUUID(), '.gatehouse');
  const clock = shared?.clock ?? new ManualClock(Date.parse('2026-04-20T12:00:00.000Z'));
  const store = new StateStore({ sessionId: randomUUID(), startedAt: clock.now() });
  const dead = new Set<number>();
  const writer = new StateFileWriter(store, {
    dir,
    clock,
    pid: MY_PID,
    probePid: (pid): PidLiveness => (dead.has(pid) ? 'dead' : 'alive'),
    ...overrides,
  });
  const r: Rig = {
    dir,
    clock,
    store,
    writer,
    failures: [],
    yields: [],
    reclaims: [],
    dead,
    statePath: path.join(dir, 'serve.state.json'),
    pidPath: path.join(dir, 'serve.pid'),
    lockPath: path.join(dir, 'serve.state.json.lock'),
    read: () => JSON.parse(fs.readFileSync(path.join(dir, 'serve.state.json'), 'utf8')) as Record<string, unknown>,
  };
  writer.onDidFail((e) => r.failures.push(e));
  writer.onDidYield((e) => r.yields.push(e));
  writer.onDidReclaim((e) => r.reclaims.push(e));
  cleanups.push(async () => {
    await writer.stop();
    writer.dispose();
    store.dispose();
  });
  return r;
}

function foreignFile(sessionId: string, ownerPid?: number): string {
  const data: Record<string, unknown> = {
    session_id: sessionId,
    started_at: '2026-04-20T11:00:00.000Z',
    metrics_port: null,
    downstreams: [],
    updated_at: '2026-04-20T11:59:00.000Z',
  };
  if (ownerPid !== undefined) data.owner_pid = ownerPid;
  return `${JSON.stringify(data, null, 2)}\n`;
}

function leftovers(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.tmp') || f.endsWith('.lock'));
}

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  assert.ok(child.pid && child.pid > 0);
  return child.pid;
}

describe('StateFileWriter', () => {
  beforeEach(() => {
    tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-statefile-'));
  });
  afterEach(async () => {
    for (const fn of cleanups.splice(0)) await fn();
    fs.rmSync(tmpRoot, { recursive: true, force: true });
  });

  it('start() creates the dir and writes rea’s shape, pretty, with a trailing newline, mode 0600', async () => {
    const r = rig({ metricsPort: 9464 });
    r.store.setDownstream(view('obsidian', { tools_count: 12 }));
    await r.writer.start();
    const text = fs.readFileSync(r.statePath, 'utf8');
    assert.ok(text.endsWith('}\n'));
    assert.equal(text, `${JSON.stringify(JSON.parse(text), null, 2)}\n`);
    const data = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(data), [
      'session_id',
      'started_at',
      'metrics_port',
      'downstreams',
      'updated_at',
      'owner_pid',
      'gatehouse',
    ]);
    assert.equal(data.session_id, r.store.snapshot.session_id);
    assert.equal(data.started_at, '2026-04-20T12:00:00.000Z');
    assert.equal(data.metrics_port, 9464);
    assert.equal(data.updated_at, '2026-04-20T12:00:00.000Z');
    assert.equal(data.owner_pid, MY_PID);
    assert.deepEqual(data.downstreams, [view('obsidian', { tools_count: 12 })]);
    assert.deepEqual(data.gatehouse, { revision: 1, session_blocks: [] });
    assert.equal(fs.statSync(r.statePath).mode & 0o777, 0o600);
    assert.deepEqual(leftovers(r.dir), [], 'no temp file or lock left behind');
    assert.equal(r.writer.writes, 1);
    assert.equal(r.writer.isOwner, true);
    assert.deepEqual(r.failures, []);
  });

  it('writes serve.pid: decimal pid, no newline, mode 0600', async () => {
    const r = rig();
    await r.writer.start();
    assert.equal(fs.readFileSync(r.pidPath, 'utf8'), String(MY_PID));
    assert.equal(fs.statSync(r.pidPath).mode & 0o777, 0o600);
  });

  it('1000 rapid changes land in one write after the debounce window, as valid JSON', async () => {
    const r = rig();
    await r.writer.start();
    for (let i = 1; i <= 1000; i++) r.store.setDownstream(view('a', { calls: i }));
    assert.equal(r.clock.pending >= 1, true);
    await r.writer.whenIdle();
    assert.equal(r.writer.writes, 1, 'nothing written before the window closes');
    r.clock.advance(250);
    await r.writer.whenIdle();
    assert.equal(r.writer.writes, 2);
    const data = r.read();
    assert.equal((data.downstreams as DownstreamView[])[0]!.calls, 1000);
    assert.equal((data.gatehouse as { revision: number }).revision, 1000);
  });

  it('is a fixed window: changes inside it share one write, a later change arms a new one', async () => {
    const r = rig();
    await r.writer.start();
    r.store.setDownstream(view('a'));
    r.clock.advance(100);
    r.store.setDownstream(view('b'));
    r.clock.advance(149);
    await r.writer.whenIdle();
    assert.equal(r.writer.writes, 1);
    r.clock.advance(1);
    await r.writer.whenIdle();
    assert.equal(r.writer.writes, 2);
    assert.deepEqual(
      (r.read().downstreams as DownstreamView[]).map((d) => d.name),
      ['a', 'b'],
    );
    assert.equal(r.read().updated_at, '2026-04-20T12:00:00.250Z');
    r.store.setDownstream(view('c'));
    r.clock.advance(250);
    await r.writer.whenIdle();
    assert.equal(r.writer.writes, 3);
  });

  it('coalesces changes made during a write into exactly one more write', async () => {
    const r = rig({ debounceMs: 0 });
    await r.writer.start();
    r.store.setDownstream(view('a'));
    r.clock.advance(0); // write 2 starts
    for (let i = 1; i <= 5; i++) {
      r.store.setDownstream(view('a', { calls: i }));
      r.clock.advance(0); // each would start a write: they coalesce
    }
    await r.writer.whenIdle();
    assert.equal(r.writer.writes, 3);
    assert.equal((r.read().downstreams as DownstreamView[])[0]!.calls, 5);
  });

  it('heartbeat: rewrites every heartbeatMs with no change', async () => {
    const r = rig();
    await r.writer.start();
    r.clock.advance(9_999);
    await r.writer.whenIdle();
    assert.equal(r.writer.writes, 1);
    r.clock.advance(1);
    await r.writer.whenIdle();
    assert.equal(r.writer.writes, 2);
    assert.equal(r.read().updated_at, '2026-04-20T12:00:10.000Z');
    r.clock.advance(10_000);
    await r.writer.whenIdle();
    assert.equal(r.writer.writes, 3);
    assert.equal(r.read().updated_at, '2026-04-20T12:00:20.000Z');
  });

  it('heartbeat counts from the last write, so a busy gateway does no extra writes', async () => {
    const r = rig();
    await r.writer.start();
    r.clock.advance(9_000);
    r.store.setDownstream(view('a'));
    r.clock.advance(250); // write at 9.25 s re-arms the heartbeat
    await r.writer.whenIdle();
    r.clock.advance(9_999);
    await r.writer.whenIdle();
    assert.equal(r.writer.writes, 2);
    r.clock.advance(1);
    await r.writer.whenIdle();
    assert.equal(r.writer.writes, 3);
  });

  it('passes last_error, reason and block messages through the redactor before the disk', async () => {
    const r = rig({ redact: (s) => s.replaceAll(/sk-[A-Za-z0-9]+/g, '[REDACTED]') });
    r.store.setDownstream(
      view('a', { last_error: 'auth failed for sk-SECRET123', reason: 'token sk-SECRET123 rejected' }),
    );
    r.store.addSessionBlock({
      server: 'a',
      open_transitions: 3,
      threshold: 3,
      emitted_at: '2026-04-20T12:00:00.000Z',
      message: 'a leaked sk-SECRET123',
    });
    await r.writer.start();
    const text = fs.readFileSync(r.statePath, 'utf8');
    assert.ok(!text.includes('SECRET123'));
    const entry = (r.read().downstreams as DownstreamView[])[0]!;
    assert.equal(entry.last_error, 'auth failed for [REDACTED]');
    assert.equal(entry.reason, 'token [REDACTED] rejected');
    // The store itself keeps the raw text (the UI redacts on its own path).
    assert.equal(r.store.snapshot.downstreams[0]!.last_error, 'auth failed for sk-SECRET123');
  });

  it('with no redactor last_error is written verbatim; a throwing redactor fails closed', async () => {
    const plain = rig();
    plain.store.setDownstream(view('a', { last_error: 'boom: sk-XYZ' }));
    await plain.writer.start();
    assert.equal((plain.read().downstreams as DownstreamView[])[0]!.last_error, 'boom: sk-XYZ');

    const broken = rig({
      redact: () => {
        throw new Error('regex timeout');
      },
    });
    broken.store.setDownstream(view('a', { last_error: 'boom: sk-XYZ' }));
    await broken.writer.start();
    const text = fs.readFileSync(broken.statePath, 'utf8');
    assert.ok(!text.includes('sk-XYZ'));
    assert.equal((broken.read().downstreams as DownstreamView[])[0]!.last_error, '[redaction failed]');
  });

  it('setMetricsPort schedules a write with the bound port', async () => {
    const r = rig();
    await r.writer.start();
    assert.equal(r.read().metrics_port, null);
    r.writer.setMetricsPort(9464);
    r.clock.advance(250);
    await r.writer.whenIdle();
    assert.equal(r.read().metrics_port, 9464);
  });

  describe('ownership', () => {
    it('yields to a foreign session with a live owner_pid: file unchanged, lock released, no pid file', async () => {
      const r = rig();
      fs.mkdirSync(r.dir, { recursive: true });
      const theirs = foreignFile('peer-session', PEER_PID);
      fs.writeFileSync(r.statePath, theirs);
      await r.writer.start();
      assert.equal(fs.readFileSync(r.statePath, 'utf8'), theirs);
      assert.deepEqual(r.yields, [{ sessionId: 'peer-session', ownerPid: PEER_PID }]);
      assert.equal(r.writer.isOwner, false);
      assert.equal(r.writer.writes, 0);
      assert.equal(fs.existsSync(r.lockPath), false);
      assert.equal(fs.existsSync(r.pidPath), false, 'the pid file names the owner of the state file');
      // Still yielding on the next tries: reported once, not on every retry.
      r.clock.advance(2_000);
      await r.writer.whenIdle();
      assert.equal(r.yields.length, 1);
      assert.equal(fs.readFileSync(r.statePath, 'utf8'), theirs);
    });

    it('after yielding, the 2 s retry reclaims once the peer is dead, and writes serve.pid then', async () => {
      const r = rig();
      fs.mkdirSync(r.dir, { recursive: true });
      fs.writeFileSync(r.statePath, foreignFile('peer-session', PEER_PID));
      await r.writer.start();
      assert.equal(r.writer.isOwner, false);
      r.dead.add(PEER_PID);
      r.clock.advance(1_999);
      await r.writer.whenIdle();
      assert.equal(r.writer.writes, 0);
      r.clock.advance(1);
      await r.writer.whenIdle();
      assert.equal(r.writer.writes, 1);
      assert.equal(r.read().session_id, r.store.snapshot.session_id);
      assert.equal(r.read().owner_pid, MY_PID);
      assert.deepEqual(r.reclaims, [{ sessionId: 'peer-session', ownerPid: PEER_PID }]);
      assert.equal(fs.readFileSync(r.pidPath, 'utf8'), String(MY_PID));
    });

    it('reclaims a file whose foreign owner_pid is dead (real kill(pid, 0))', async () => {
      const dead = deadPid();
      const r = rig({ probePid: undefined });
      fs.mkdirSync(r.dir, { recursive: true });
      fs.writeFileSync(r.statePath, foreignFile('gone-session', dead));
      await r.writer.start();
      assert.equal(r.read().session_id, r.store.snapshot.session_id);
      assert.equal(r.read().owner_pid, MY_PID);
      assert.deepEqual(r.reclaims, [{ sessionId: 'gone-session', ownerPid: dead }]);
    });

    it('yields to a live foreign owner_pid (real kill(pid, 0) on our own parent)', async () => {
      const r = rig({ probePid: undefined });
      fs.mkdirSync(r.dir, { recursive: true });
      fs.writeFileSync(r.statePath, foreignFile('live-session', process.ppid));
      await r.writer.start();
      assert.equal(r.read().session_id, 'live-session');
      assert.equal(r.yields.length, 1);
    });

    it('reclaims a legacy file without owner_pid, and one with a nonsense owner_pid', async () => {
      for (const ownerPid of [undefined, -5, 0]) {
        const r = rig();
        fs.mkdirSync(r.dir, { recursive: true });
        fs.writeFileSync(r.statePath, foreignFile('legacy', ownerPid));
        await r.writer.start();
        assert.equal(r.read().session_id, r.store.snapshot.session_id, `owner_pid ${ownerPid}`);
        assert.deepEqual(r.reclaims, [{ sessionId: 'legacy', ownerPid: null }]);
      }
    });

    it('owns a missing, corrupt, or session-less file', async () => {
      for (const content of ['{not json', '[]', '{"session_id": 42}']) {
        const r = rig();
        fs.mkdirSync(r.dir, { recursive: true });
        fs.writeFileSync(r.statePath, content);
        await r.writer.start();
        assert.equal(r.read().session_id, r.store.snapshot.session_id, content);
        assert.deepEqual(r.reclaims, []);
      }
    });

    it('reclaims a file left by an earlier process that had our pid (container pid reuse)', async () => {
      const r = rig();
      fs.mkdirSync(r.dir, { recursive: true });
      fs.writeFileSync(r.statePath, foreignFile('previous-incarnation', MY_PID));
      await r.writer.start();
      assert.equal(r.read().session_id, r.store.snapshot.session_id);
      assert.deepEqual(r.reclaims, [{ sessionId: 'previous-incarnation', ownerPid: MY_PID }]);
    });

    it('two writers on one dir: the first writes, the second yields; the file keeps the first session', async () => {
      const first = rig();
      await first.writer.start();
      const second = rig({ pid: PEER_PID }, { dir: first.dir, clock: first.clock });
      await second.writer.start();
      assert.equal(first.read().session_id, first.store.snapshot.session_id);
      assert.deepEqual(second.yields, [{ sessionId: first.store.snapshot.session_id, ownerPid: MY_PID }]);
      // Same pid, same process (two windows' worth of gateways in one host): still yields.
      const sibling = rig({}, { dir: first.dir, clock: first.clock });
      await sibling.writer.start();
      assert.equal(sibling.writer.isOwner, false);
      assert.equal(first.read().session_id, first.store.snapshot.session_id);
      // The owner stops: its files go, and the peer takes over on its next retry.
      await first.writer.stop();
      assert.equal(fs.existsSync(first.statePath), false);
      first.clock.advance(2_000);
      await second.writer.whenIdle();
      await sibling.writer.whenIdle();
      const owner = first.read().session_id;
      assert.ok(owner === second.store.snapshot.session_id || owner === sibling.store.snapshot.session_id);
      assert.equal([second.writer.isOwner, sibling.writer.isOwner].filter(Boolean).length, 1);
    });
  });

  describe('sidecar lock', () => {
    it('skips the write while a live pid holds the lock, leaves the lock alone, retries after 2 s', async () => {
      const r = rig();
      fs.mkdirSync(r.dir, { recursive: true });
      fs.writeFileSync(r.lockPath, `${PEER_PID} peer-session\n`);
      await r.writer.start();
      assert.equal(fs.existsSync(r.statePath), false);
      assert.equal(fs.readFileSync(r.lockPath, 'utf8'), `${PEER_PID} peer-session\n`);
      assert.deepEqual(r.failures, [], 'a busy lock is not a failure');
      fs.unlinkSync(r.lockPath); // the peer finished
      r.clock.advance(2_000);
      await r.writer.whenIdle();
      assert.equal(r.read().session_id, r.store.snapshot.session_id);
      assert.equal(fs.existsSync(r.lockPath), false);
    });

    it('steals a lock held by a dead pid, writes and releases', async () => {
      const r = rig();
      fs.mkdirSync(r.dir, { recursive: true });
      fs.writeFileSync(r.lockPath, `${PEER_PID} peer-session\n`);
      r.dead.add(PEER_PID);
      await r.writer.start();
      assert.equal(r.read().session_id, r.store.snapshot.session_id);
      assert.equal(fs.existsSync(r.lockPath), false);
    });

    it('steals a lock with our pid from a session not alive in this process', async () => {
      const r = rig();
      fs.mkdirSync(r.dir, { recursive: true });
      fs.writeFileSync(r.lockPath, `${MY_PID} previous-incarnation\n`);
      await r.writer.start();
      assert.equal(r.writer.writes, 1);
      assert.equal(fs.existsSync(r.lockPath), false);
    });

    it('skips on an unparseable lock', async () => {
      const r = rig();
      fs.mkdirSync(r.dir, { recursive: true });
      fs.writeFileSync(r.lockPath, 'garbage');
      await r.writer.start();
      assert.equal(fs.existsSync(r.statePath), false);
      assert.equal(fs.readFileSync(r.lockPath, 'utf8'), 'garbage');
    });
  });

  describe('stop', () => {
    it('removes the state file and serve.pid when they are ours, and never writes again', async () => {
      const r = rig();
      await r.writer.start();
      r.store.setDownstream(view('a'));
      await r.writer.stop();
      assert.equal(fs.existsSync(r.statePath), false);
      assert.equal(fs.existsSync(r.pidPath), false);
      r.store.setDownstream(view('b'));
      r.clock.advance(60_000);
      await r.writer.whenIdle();
      assert.equal(fs.existsSync(r.statePath), false);
      assert.equal(r.clock.pending, 0, 'no timer left behind');
      assert.deepEqual(leftovers(r.dir), []);
    });

    it('keeps files that a peer took over', async () => {
      const r = rig();
      await r.writer.start();
      const theirs = foreignFile('peer-session', PEER_PID);
      fs.writeFileSync(r.statePath, theirs);
      fs.writeFileSync(r.pidPath, String(PEER_PID));
      await r.writer.stop();
      assert.equal(fs.readFileSync(r.statePath, 'utf8'), theirs);
      assert.equal(fs.readFileSync(r.pidPath, 'utf8'), String(PEER_PID));
    });

    it('keeps a corrupt state file and a malformed pid file; a missing file is a no-op', async () => {
      const r = rig();
      await r.writer.start();
      fs.writeFileSync(r.statePath, '{corrupt');
      fs.writeFileSync(r.pidPath, `${MY_PID}x`);
      await r.writer.stop();
      assert.equal(fs.readFileSync(r.statePath, 'utf8'), '{corrupt');
      assert.equal(fs.readFileSync(r.pidPath, 'utf8'), `${MY_PID}x`);
      const other = rig();
      await other.writer.start();
      fs.unlinkSync(other.statePath);
      fs.unlinkSync(other.pidPath);
      await other.writer.stop();
      assert.deepEqual(other.failures, []);
    });

    it('waits for a write in flight before cleaning up', async () => {
      const r = rig({ debounceMs: 0 });
      await r.writer.start();
      r.store.setDownstream(view('a'));
      r.clock.advance(0); // a write is now in flight
      await r.writer.stop();
      assert.equal(fs.existsSync(r.statePath), false, 'the in-flight write did not resurrect the file');
      assert.deepEqual(leftovers(r.dir), []);
    });
  });

  describe('failures', () => {
    it('a write failure is reported through onDidFail, never thrown, and not repeated every heartbeat', async () => {
      const file = path.join(tmpRoot, 'not-a-dir');
      fs.writeFileSync(file, 'x');
      const r = rig({}, { dir: path.join(file, '.gatehouse') });
      await assert.doesNotReject(r.writer.start());
      assert.ok(r.failures.length >= 1);
      assert.ok(r.failures.every((e) => e instanceof Error));
      const count = r.failures.length;
      for (let i = 0; i < 5; i++) {
        r.clock.advance(10_000);
        await r.writer.whenIdle();
      }
      assert.equal(r.failures.length, count, 'the same failure is reported once per streak');
      assert.doesNotThrow(() => r.writer.flushSync());
      await assert.doesNotReject(r.writer.stop());
    });

    it('a failure streak ends with a success, and the next failure is reported again', async () => {
      const r = rig();
      await r.writer.start();
      fs.rmSync(r.dir, { recursive: true });
      r.clock.advance(10_000);
      await r.writer.whenIdle();
      assert.equal(r.failures.length, 1);
      assert.match(r.failures[0]!.message, /ENOENT/);
      fs.mkdirSync(r.dir);
      r.clock.advance(10_000);
      await r.writer.whenIdle();
      assert.equal(r.read().session_id, r.store.snapshot.session_id);
      fs.rmSync(r.dir, { recursive: true });
      r.clock.advance(10_000);
      await r.writer.whenIdle();
      assert.equal(r.failures.length, 2);
    });
  });

  describe('flushSync', () => {
    it('writes the latest snapshot synchronously under the same rules', async () => {
      const r = rig();
      await r.writer.start();
      r.store.setDownstream(view('late', { calls: 9 }));
      r.writer.flushSync();
      assert.equal((r.read().downstreams as DownstreamView[])[0]!.calls, 9);
      assert.deepEqual(leftovers(r.dir), []);
      assert.equal(fs.statSync(r.statePath).mode & 0o777, 0o600);
    });

    it('an async write already in flight does not overwrite it afterwards', async () => {
      const r = rig({ debounceMs: 0 });
      await r.writer.start();
      r.store.setDownstream(view('a', { calls: 1 }));
      r.clock.advance(0); // async write of calls=1 in flight
      r.store.setDownstream(view('a', { calls: 2 }));
      r.writer.flushSync();
      await r.writer.whenIdle();
      assert.equal((r.read().downstreams as DownstreamView[])[0]!.calls, 2);
      assert.deepEqual(leftovers(r.dir), []);
    });

    it('yields to a live foreign owner too, and does nothing before start or after stop', async () => {
      const r = rig();
      r.writer.flushSync();
      assert.equal(fs.existsSync(r.dir), false);
      await r.writer.start();
      const theirs = foreignFile('peer-session', PEER_PID);
      fs.writeFileSync(r.statePath, theirs);
      r.writer.flushSync();
      assert.equal(fs.readFileSync(r.statePath, 'utf8'), theirs);
      await r.writer.stop();
      r.writer.flushSync();
      assert.equal(fs.readFileSync(r.statePath, 'utf8'), theirs);
    });
  });

  it('dispose() detaches without I/O and cancels every timer', async () => {
    const r = rig();
    await r.writer.start();
    r.store.setDownstream(view('a'));
    r.writer.dispose();
    assert.equal(r.clock.pending, 0);
    r.clock.advance(60_000);
    await r.writer.whenIdle();
    assert.equal(r.writer.writes, 1);
    assert.ok(fs.existsSync(r.statePath), 'dispose is not cleanup');
  });
});

describe('parseStateFile', () => {
  it('returns null for invalid JSON or a non-object', () => {
    assert.equal(parseStateFile(''), null);
    assert.equal(parseStateFile('{oops'), null);
    assert.equal(parseStateFile('[]'), null);
    assert.equal(parseStateFile('42'), null);
    assert.equal(parseStateFile('null'), null);
  });

  it('reads rea’s appendix A file in full', () => {
    const text = JSON.stringify({
      session_id: '6c0e3f1e-8a8f-4c5e-9a31-2f7d0b9c1a44',
      started_at: '2026-04-20T12:00:00.000Z',
      metrics_port: 9464,
      downstreams: [
        {
          name: 'helixir',
          connected: false,
          healthy: false,
          circuit_state: 'open',
          retry_at: '2026-04-20T12:05:30.000Z',
          last_error: 'child process exited unexpectedly: transport closed',
          tools_count: null,
          open_transitions: 3,
          session_blocker_emitted: true,
        },
        {
          name: 'obsidian',
          connected: true,
          healthy: true,
          circuit_state: 'closed',
          retry_at: null,
          last_error: null,
          tools_count: 12,
          open_transitions: 0,
          session_blocker_emitted: false,
        },
      ],
      updated_at: '2026-04-20T12:05:00.250Z',
      owner_pid: 48213,
    });
    const parsed = parseStateFile(text)!;
    assert.equal(parsed.session_id, '6c0e3f1e-8a8f-4c5e-9a31-2f7d0b9c1a44');
    assert.equal(parsed.metrics_port, 9464);
    assert.equal(parsed.owner_pid, 48213);
    assert.equal(parsed.updated_at, '2026-04-20T12:05:00.250Z');
    assert.equal(parsed.gatehouse, null);
    assert.deepEqual(parsed.downstreams, JSON.parse(text).downstreams);
  });

  it('coerces top-level fields and keeps a missing downstreams key as null (legacy)', () => {
    const parsed = parseStateFile(
      JSON.stringify({ session_id: 7, started_at: null, metrics_port: 94.5, updated_at: 1, owner_pid: -1 }),
    )!;
    assert.deepEqual(parsed, {
      session_id: null,
      started_at: null,
      metrics_port: null,
      downstreams: null,
      updated_at: null,
      owner_pid: null,
      gatehouse: null,
    });
    assert.equal(parseStateFile('{"downstreams": {"a": 1}}')!.downstreams, null);
  });

  it('drops invalid entries and coerces the rest as rea does', () => {
    const parsed = parseStateFile(
      JSON.stringify({
        session_id: 's',
        downstreams: [
          null,
          'text',
          [],
          { connected: true },
          { name: '' },
          { name: 42 },
          {
            name: 'odd',
            connected: 'yes',
            healthy: 1,
            circuit_state: 'melted',
            retry_at: 5,
            last_error: { msg: 'x' },
            tools_count: 2.5,
            open_transitions: '3',
            session_blocker_emitted: 'true',
          },
          { name: 'bare' },
        ],
      }),
    )!;
    const coerced = {
      connected: false,
      healthy: false,
      circuit_state: 'closed',
      retry_at: null,
      last_error: null,
      tools_count: null,
      open_transitions: 0,
      session_blocker_emitted: false,
    };
    assert.deepEqual(parsed.downstreams, [
      { name: 'odd', ...coerced },
      { name: 'bare', ...coerced },
    ]);
  });

  it('keeps Gatehouse fields only when well-typed', () => {
    const good = view('a', {
      state: 'backoff',
      reason: 'crashed; next attempt in 1.0 s',
      last_exit: { code: null, signal: 'SIGKILL', at: '2026-04-20T12:00:01.000Z' },
      latency_ms: { p50: 1.5, p95: 8 },
      next_retry_at: '2026-04-20T12:00:02.000Z',
    });
    assert.deepEqual(parseStateFile(JSON.stringify({ downstreams: [good] }))!.downstreams, [good]);
    const bad = {
      ...good,
      state: 'exploded',
      reason: 3,
      transport: 'carrier-pigeon',
      pid: -1,
      restarts: -2,
      last_exit: { code: 'x', signal: null, at: 'now' },
      started_at: 5,
      calls: 1.5,
      errors: null,
      latency_ms: { p50: 'fast', p95: null },
      in_flight: '0',
      next_retry_at: false,
    };
    const [entry] = parseStateFile(JSON.stringify({ downstreams: [bad] }))!.downstreams!;
    assert.deepEqual(Object.keys(entry!).sort(), [
      'circuit_state',
      'connected',
      'healthy',
      'last_error',
      'name',
      'open_transitions',
      'retry_at',
      'session_blocker_emitted',
      'tools_count',
    ]);
  });

  it('parses the gatehouse block, dropping invalid session blocks', () => {
    const blockOk = { server: 'a', open_transitions: 3, threshold: 3, emitted_at: 'T', message: 'm' };
    const parsed = parseStateFile(
      JSON.stringify({
        gatehouse: { revision: 12, session_blocks: [blockOk, { server: '' }, null, { ...blockOk, threshold: '3' }] },
      }),
    )!;
    assert.deepEqual(parsed.gatehouse, { revision: 12, session_blocks: [blockOk] });
    assert.deepEqual(parseStateFile('{"gatehouse": {"revision": -1}}')!.gatehouse, { revision: null, session_blocks: [] });
  });

  it('approvals waiting: written in our block (arguments redacted again), read back, invalid entries dropped', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-approvals-'));
    try {
      const clock = new ManualClock();
      const store = new StateStore({ sessionId: 'ap', startedAt: clock.now() });
      const waiting = { id: 'w1', client: 'Claude Code', server: 'github', tool: 'delete_repo', tier: 'destructive' as const, arguments: '{"repo":"x","t":"SECRET"}', asked: 'editor' as const, since: 'S', expires_at: 'E' };
      store.setApprovals({ waiting: [waiting], recent: [] });
      const writer = new StateFileWriter(store, { dir, clock, pid: MY_PID, redact: (t) => t.replace('SECRET', '[REDACTED]') });
      await writer.start();
      const text = fs.readFileSync(path.join(dir, 'serve.state.json'), 'utf8');
      const raw = JSON.parse(text) as Record<string, unknown>;
      assert.equal(raw.approvals_waiting, undefined, "rea's top level is unchanged");
      const parsed = parseStateFile(text)!;
      assert.deepEqual(parsed.gatehouse?.approvals_waiting, [{ ...waiting, arguments: '{"repo":"x","t":"[REDACTED]"}' }]);
      await writer.stop();
      writer.dispose();
      const bad = parseStateFile(JSON.stringify({ gatehouse: { approvals_waiting: [waiting, { ...waiting, tier: 'huge' }, { ...waiting, asked: 'x' }, null, { id: 1 }] } }))!;
      assert.deepEqual(bad.gatehouse?.approvals_waiting, [waiting]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads back what the writer wrote', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-roundtrip-'));
    try {
      const clock = new ManualClock();
      const store = new StateStore({ sessionId: 'round', startedAt: clock.now() });
      store.setDownstream(view('a', { circuit_state: 'open', retry_at: '2026-04-20T12:00:30.000Z' }));
      const writer = new StateFileWriter(store, { dir, clock, pid: MY_PID });
      await writer.start();
      const parsed = parseStateFile(fs.readFileSync(path.join(dir, 'serve.state.json'), 'utf8'))!;
      assert.equal(parsed.session_id, 'round');
      assert.equal(parsed.owner_pid, MY_PID);
      assert.deepEqual(parsed.downstreams, store.snapshot.downstreams);
      assert.deepEqual(parsed.gatehouse, { revision: 1, session_blocks: [] });
      await writer.stop();
      writer.dispose();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
