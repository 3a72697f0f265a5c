/**
 * The process table on macOS and Windows, through the platform seams, from recorded outputs.
 *
 * Sources for the formats:
 * - macOS ps(1): `-o lstart` is "the exact time the command started, using the `%c` format"
 *   of strftime(3); in the C locale `%c` is `%a %b %e %H:%M:%S %Y` (`Tue Dec  1 22:32:11 2026`,
 *   the day padded with a space). `pid=` etc. suppress the header. The same command and format
 *   hold for procps on Linux, which is how the process tier runs this path for real.
 * - Windows: Win32_Process (CIM) has ProcessId, ParentProcessId and CreationDate; PowerShell
 *   returns CreationDate as a DateTime (null for the System Idle Process), and
 *   DateTime.ToFileTimeUtc() is the FILETIME: 100 ns intervals since 1601-01-01 UTC.
 *   Windows does not reparent orphans: ParentProcessId stays the pid of the exited parent
 *   ("the parent process identifier may refer to a process that reuses an identifier", Win32
 *   docs for PROCESSENTRY32 / Win32_Process.ParentProcessId).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ChildGuard, endWindowsLeftovers, watchdogConfig } from '../../../extension/pool/childGuard';
import { startTimeSnapshot } from '../../../extension/pool/processStartTime';
import {
  descendantsOf,
  listProcesses,
  parseProcessList,
  processListCommand,
  WINDOWS_PROCESS_SCRIPT,
  type ProcessInfo,
  type ProcessListCommand,
} from '../../../extension/platform/processTable';
import { reapOrphans } from '../../../extension/state/childRecords';
import { tempDir } from '../../helpers/fixtures';
import { until } from '../../helpers/poll';
import { writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';

/** `LC_ALL=C TZ=UTC /bin/ps -A -o pid=,ppid=,lstart=` on macOS 14 (abridged). */
const MAC_PS = [
  '    1     0 Mon Nov 30 08:12:01 2026',
  '  321     1 Mon Nov 30 08:12:05 2026',
  '84210   321 Tue Dec  1 22:32:11 2026',
  '84211 84210 Tue Dec  1 22:32:12 2026',
  'ps: warning: something odd', // never guessed at
  '',
].join('\n');

/** Windows PowerShell 5.1 running WINDOWS_PROCESS_SCRIPT (abridged; CRLF, as it prints). */
const WIN_PS = [
  '4 0 134090784000000000',
  '1204 884 134091648000000000',
  // npx.cmd's cmd.exe (5120) has exited: its node (7344) keeps 5120 as its parent.
  '7344 5120 134091648123450000',
  '7352 7344 134091648130000000',
  // An older process whose parent was an earlier holder of pid 5120: not ours.
  '6000 5120 134091600000000000',
  '#< CLIXML',
  '',
].join('\r\n');

describe('processListCommand', () => {
  test('macOS: ps by its full path in the C locale and UTC', () => {
    assert.deepEqual(processListCommand('darwin', {}), {
      command: '/bin/ps',
      args: ['-A', '-o', 'pid=,ppid=,lstart='],
      env: { LC_ALL: 'C', TZ: 'UTC' },
    });
  });

  test('Windows: PowerShell under SystemRoot with the script encoded (no cmd.exe quoting)', () => {
    const cmd = processListCommand('win32', { SystemRoot: 'C:\\Windows' }) as ProcessListCommand;
    assert.equal(cmd.command, 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
    assert.deepEqual(cmd.args.slice(0, 5), ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand']);
    assert.equal(Buffer.from(cmd.args[5] as string, 'base64').toString('utf16le'), WINDOWS_PROCESS_SCRIPT);
    assert.match(WINDOWS_PROCESS_SCRIPT, /Win32_Process/);
    assert.match(WINDOWS_PROCESS_SCRIPT, /ToFileTimeUtc\(\)/);
  });

  test('Linux (procfs) and other systems: no listing', () => {
    assert.equal(processListCommand('linux', {}), undefined);
    assert.equal(processListCommand('freebsd', {}), undefined);
  });
});

describe('parseProcessList', () => {
  test('macOS: pid, parent and lstart as YYYYMMDDhhmmss; odd lines skipped', () => {
    assert.deepEqual(parseProcessList('darwin', MAC_PS), [
      { pid: 1, ppid: 0, startTime: '20261130081201' },
      { pid: 321, ppid: 1, startTime: '20261130081205' },
      { pid: 84210, ppid: 321, startTime: '20261201223211' },
      { pid: 84211, ppid: 84210, startTime: '20261201223212' },
    ]);
  });

  test('macOS: a foreign-locale month or a broken time is skipped, not misread', () => {
    assert.deepEqual(parseProcessList('darwin', '  12     1 Di Dez  1 22:32:11 2026\n  13     1 Tue Dec  1 22:32 2026 x'), []);
  });

  test('Windows: pid, parent and FILETIME; CRLF and CLIXML noise skipped', () => {
    const table = parseProcessList('win32', WIN_PS);
    assert.equal(table.length, 5);
    assert.deepEqual(table[2], { pid: 7344, ppid: 5120, startTime: '134091648123450000' });
  });
});

describe('descendantsOf', () => {
  const win = parseProcessList('win32', WIN_PS);

  test("Windows: an exited child's orphans (parent id = its pid, started after it) and theirs", () => {
    assert.deepEqual(descendantsOf(win, { pid: 5120, startTime: '134091648100000000' }), [7344, 7352]);
  });

  test('a process whose parent id names an earlier holder of the pid is not included', () => {
    assert.ok(!descendantsOf(win, { pid: 5120, startTime: '134091648100000000' }).includes(6000));
  });

  test('the root itself while it still has the recorded start time, first', () => {
    assert.deepEqual(descendantsOf(win, { pid: 7344, startTime: '134091648123450000' }), [7344, 7352]);
  });

  test('a root pid reused by a newer process: neither it nor what the newcomer started', () => {
    const table: ProcessInfo[] = [
      { pid: 500, ppid: 1, startTime: '300' }, // the newcomer holding our pid
      { pid: 501, ppid: 500, startTime: '250' }, // our orphan, started between
      { pid: 502, ppid: 500, startTime: '310' }, // the newcomer's child
    ];
    assert.deepEqual(descendantsOf(table, { pid: 500, startTime: '200' }), [501]);
  });

  test('macOS tokens order like the times (a grandchild started the next second)', () => {
    assert.deepEqual(descendantsOf(parseProcessList('darwin', MAC_PS), { pid: 84210, startTime: '20261201223211' }), [84210, 84211]);
  });
});

describe('listProcesses and startTimeSnapshot', () => {
  test('runs the listing through the seam; a failed helper is null, not an empty table', async () => {
    const seen: ProcessListCommand[] = [];
    const run = async (c: ProcessListCommand) => (seen.push(c), MAC_PS);
    assert.equal((await listProcesses({ platform: 'darwin', run }))?.length, 4);
    assert.equal(seen[0]?.command, '/bin/ps');
    assert.equal(await listProcesses({ platform: 'darwin', run: async () => null }), null);
    assert.equal(await listProcesses({ platform: 'linux', run }), null);
  });

  test('a snapshot lists once however many pids are looked up', async () => {
    let runs = 0;
    const startTimeOf = startTimeSnapshot('win32', { run: async () => (runs++, WIN_PS), env: {} });
    assert.equal(await startTimeOf(7344), '134091648123450000');
    assert.equal(await startTimeOf(5120), null);
    assert.equal(runs, 1);
  });
});

describe('Windows leftovers and reaping', () => {
  test('a child that exited by itself: its orphans are ended by pid, the older namesake is not', async () => {
    const killed: number[][] = [];
    let runs = 0;
    const run = async () => (runs++, WIN_PS);
    await endWindowsLeftovers([{ pid: 5120, startTime: '134091648100000000' }, { pid: 7344, startTime: '134091648123450000' }], { run, env: {}, kill: (p) => killed.push(p) });
    assert.deepEqual(killed, [[7344, 7352]], 'each once, from one listing');
    assert.equal(runs, 1);
  });

  test('ChildGuard on Windows hands untracked children to the leftover killer, batched while one sweep runs', async () => {
    const ended: unknown[][] = [];
    let release = () => undefined as void;
    const first = new Promise<void>((resolve) => (release = resolve));
    const guard = new ChildGuard({
      platform: 'win32',
      startTimeOf: async () => '134091648100000000',
      // A watchdog that is a no-op (the real one is exercised by test/process/orphansElsewhere).
      watchdog: { platform: 'freebsd' },
      endLeftovers: async (children) => {
        ended.push(children);
        if (ended.length === 1) await first;
      },
    });
    for (const pid of [5120, 5124, 5128]) await guard.track(pid);
    assert.deepEqual(guard.list().map((c) => c.pid), [5120, 5124, 5128]);
    guard.untrack(5120);
    guard.untrack(5124);
    guard.untrack(5128);
    assert.deepEqual(guard.list(), []);
    release();
    const st = '134091648100000000';
    await until('both sweeps ran', () => ended.length === 2);
    assert.deepEqual(ended, [[{ pid: 5120, startTime: st }], [{ pid: 5124, startTime: st }, { pid: 5128, startTime: st }]]);
  });

  test('reapOrphans on Windows: one listing, the tree of a dead owner ended, a reused pid spared', async () => {
    const dir = tempDir('gatehouse-reap-win-');
    const file = path.join(dir, 'serve.children.900.json');
    writeFileSync(
      file,
      JSON.stringify({
        owner: { pid: 900, start_time: '134091000000000000' },
        children: [
          { pid: 5120, start_time: '134091648100000000' }, // exited, orphans left
          { pid: 1204, start_time: '134091000000000001' }, // pid now another process
        ],
      }),
    );
    let runs = 0;
    const killed: number[][] = [];
    const result = await reapOrphans(dir, {
      pid: 4,
      platform: 'win32',
      windows: { run: async () => (runs++, WIN_PS), env: {}, killPids: (p) => killed.push(p) },
    });
    assert.deepEqual(result, { killed: [5120], reused: [1204] });
    assert.deepEqual(killed, [[7344, 7352]]);
    assert.equal(runs, 1);
    assert.ok(!existsSync(file));
  });

  test('reapOrphans on Windows with no record of another gateway: no listing (no PowerShell) at all', async () => {
    const dir = tempDir('gatehouse-reap-win-');
    writeFileSync(path.join(dir, 'serve.children.4.json'), '{}');
    let runs = 0;
    const result = await reapOrphans(dir, { pid: 4, platform: 'win32', windows: { run: async () => (runs++, WIN_PS), env: {}, killPids: () => undefined } });
    assert.deepEqual(result, { killed: [], reused: [] });
    assert.equal(runs, 0);
  });

  test('the watchdog is told how to list and end processes on each OS', () => {
    assert.deepEqual(watchdogConfig('linux', {}), { platform: 'linux' });
    assert.equal(watchdogConfig('darwin', {}).list?.command, '/bin/ps');
    const win = watchdogConfig('win32', { SystemRoot: 'C:\\Windows' });
    assert.equal(win.taskkill, 'C:\\Windows\\System32\\taskkill.exe');
    assert.match(win.list?.command ?? '', /powershell\.exe$/);
  });
});
