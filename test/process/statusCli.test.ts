import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { StatusReport } from '../../extension/cli/status';
import { makeProject, type Project } from '../helpers/gatewayProject';
import { readState, spawnCli, startHttpGateway, stopAllCli } from '../helpers/gatewayProcess';
import { until } from '../helpers/poll';

after(() => stopAllCli());

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function status(project: Project, json = false): Promise<Run> {
  const cli = spawnCli(['status', ...(json ? ['--json'] : [])], project.folder);
  const exit = await cli.exited;
  return { code: exit.code, stdout: cli.stdout(), stderr: cli.stderr() };
}

async function statusJson(project: Project): Promise<{ code: number | null; report: StatusReport }> {
  const run = await status(project, true);
  return { code: run.code, report: JSON.parse(run.stdout) as StatusReport };
}

/** A pid that certainly names no process: one that just exited. */
async function deadPid(cwd: string): Promise<number> {
  const p = spawnCli(['help'], cwd);
  await p.exited;
  return p.pid;
}

/** A state file in rea's shape with our extra fields, as a gateway would write it. */
function writeStateFiles(project: Project, pid: number, state: Record<string, unknown>): void {
  writeFileSync(path.join(project.configDir, 'serve.pid'), String(pid));
  writeFileSync(
    path.join(project.configDir, 'serve.state.json'),
    JSON.stringify({
      session_id: 'sess-1',
      started_at: new Date().toISOString(),
      metrics_port: null,
      downstreams: [],
      updated_at: new Date().toISOString(),
      owner_pid: pid,
      ...state,
    }),
  );
}

/** A downstream entry with rea's fields only, as rea writes it. */
const reaEntry = {
  name: 'echo',
  connected: true,
  healthy: true,
  circuit_state: 'closed',
  retry_at: null,
  last_error: null,
  tools_count: 6,
  open_transitions: 0,
  session_blocker_emitted: false,
};
const entry = (extra: Record<string, unknown> = {}) => ({ ...reaEntry, state: 'ready', ...extra });

describe('gatehouse status', () => {
  test('no gateway: exit 2, says so', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    const run = await status(project);
    assert.equal(run.code, 2);
    assert.match(run.stdout, /Gateway: not running/);
    const { code, report } = await statusJson(project);
    assert.equal(code, 2);
    assert.equal(report.serve.running, false);
    assert.equal(report.serve.pid, null);
    assert.equal(report.serve.downstreams, null);
  });

  test('a running gateway with every server ready: exit 0, with the snapshot age', async () => {
    const project = makeProject([
      { name: 'echo', fixture: 'echo.mjs' },
      { name: 'off', fixture: 'echo.mjs', enabled: false },
    ]);
    const gw = await startHttpGateway(project.folder);
    await until('echo ready in the state file', () => readState(project.configDir)?.downstreams?.find((d) => d.name === 'echo')?.state === 'ready');
    const { code, report } = await statusJson(project);
    assert.equal(code, 0, JSON.stringify(report));
    assert.equal(report.serve.running, true);
    assert.equal(report.serve.pid, gw.pid);
    assert.equal(report.serve.owner_pid, gw.pid);
    assert.equal(report.serve.snapshot_stale, false);
    assert.ok(report.serve.snapshot_age_ms !== null && report.serve.snapshot_age_ms < 30_000);
    assert.deepEqual(report.serve.downstreams?.map((d) => [d.name, d.state]), [
      ['echo', 'ready'],
      ['off', 'disabled'],
    ]);
    const pretty = await status(project);
    assert.equal(pretty.code, 0);
    assert.match(pretty.stdout, new RegExp(`Gateway: running, pid ${gw.pid}`));
    assert.match(pretty.stdout, /Snapshot: \d+\.\d s old/);
    assert.match(pretty.stdout, /echo: ready · 6 tools · circuit closed/);
  });

  test('a running gateway with a server down: exit 1, with the reason', async () => {
    const project = makeProject([
      { name: 'echo', fixture: 'echo.mjs' },
      { name: 'missing', command: '/nonexistent/gatehouse-no-such-binary' },
    ]);
    await startHttpGateway(project.folder);
    await until('missing failed in the state file', () => {
      const d = readState(project.configDir)?.downstreams;
      return d?.find((x) => x.name === 'echo')?.state === 'ready' && d.find((x) => x.name === 'missing')?.last_error;
    });
    const run = await status(project);
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stdout, /missing: (crashed|backoff|gave_up)/);
    assert.match(run.stdout, /last error: command not found/);
  });

  test('a state file whose owner is dead: exit 2, flagged stale', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    const pid = await deadPid(project.folder);
    writeStateFiles(project, pid, { downstreams: [entry()] });
    const { code, report } = await statusJson(project);
    assert.equal(code, 2);
    assert.equal(report.serve.running, false);
    assert.equal(report.serve.stale, true);
    assert.equal(report.serve.pid, pid);
    const run = await status(project);
    assert.match(run.stdout, new RegExp(`not running \\(stale pid file — pid ${pid}\\)`));
  });

  test('a live owner whose heartbeat stopped: exit 1, flagged STALE', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    // This test process stands in for a hung gateway: alive, but not writing.
    writeStateFiles(project, process.pid, {
      downstreams: [entry()],
      updated_at: new Date(Date.now() - 5 * 60_000).toISOString(),
      gatehouse: { revision: 3, session_blocks: [] },
    });
    const { code, report } = await statusJson(project);
    assert.equal(code, 1);
    assert.equal(report.serve.running, true);
    assert.equal(report.serve.writer, 'gatehouse');
    assert.equal(report.serve.snapshot_stale, true);
    assert.ok((report.serve.snapshot_age_ms ?? 0) >= 5 * 60_000 - 1000);
    const run = await status(project);
    assert.match(run.stdout, /STALE: the gateway may be hung/);
  });

  test('a rea-written state file idle for minutes is not STALE: rea writes only on change', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    // rea 0.9.1's shape (SPEC Appendix A): no `gatehouse` block, no `state` per entry; the
    // owner (this test process) is alive.
    writeStateFiles(project, process.pid, {
      metrics_port: 9464,
      downstreams: [reaEntry],
      updated_at: new Date(Date.now() - 10 * 60_000).toISOString(),
    });
    const { code, report } = await statusJson(project);
    assert.equal(code, 0, JSON.stringify(report));
    assert.equal(report.serve.running, true);
    assert.equal(report.serve.writer, 'rea');
    assert.equal(report.serve.snapshot_stale, false);
    assert.ok((report.serve.snapshot_age_ms ?? 0) >= 10 * 60_000 - 1000, 'the age is still shown');
    const run = await status(project);
    assert.equal(run.code, 0);
    assert.doesNotMatch(run.stdout, /STALE/);
    assert.match(run.stdout, /written by rea, which rewrites it only on change/);
  });

  test('a state file owned by another process than the pid file names: flagged', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    writeStateFiles(project, process.pid, { downstreams: [entry()], owner_pid: await deadPid(project.folder) });
    const { code, report } = await statusJson(project);
    assert.equal(code, 1);
    assert.equal(report.serve.snapshot_stale, true);
  });

  test('control and bidi characters from disk never reach the terminal raw', async () => {
    const project = makeProject([{ name: 'echo', fixture: 'echo.mjs' }]);
    const hostile = 'evil\u001b]0;pwned\u0007\u001b[2J\u202egnp.exe\r\nfake: ready';
    writeStateFiles(project, process.pid, {
      session_id: hostile,
      downstreams: [entry({ name: hostile, state: 'crashed', last_error: hostile, reason: hostile })],
      gatehouse: { revision: 1, session_blocks: [{ server: hostile, open_transitions: 3, threshold: 3, emitted_at: hostile, message: hostile }] },
    });
    writeFileSync(path.join(project.configDir, 'HALT'), hostile);
    const run = await status(project);
    assert.equal(run.code, 1);
    assert.doesNotMatch(run.stdout, /[\x00-\x09\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]/);
    assert.match(run.stdout, /evil\?\]0;pwned\?\?\[2J\?gnp\.exe\?\?fake: ready/);
    assert.ok(!run.stdout.split('\n').some((l) => l.startsWith('fake: ready')), 'no forged line');
    assert.match(run.stdout, /Session blocks:/);

    const json = await status(project, true);
    assert.doesNotMatch(json.stdout, /[\u001b\u0007\u202e]/);
    const report = JSON.parse(json.stdout) as StatusReport;
    assert.equal(report.serve.session_id, hostile, 'JSON keeps the exact value, escaped');
  });
});
