import { spawn, type ChildProcess } from 'node:child_process';
import { processStartTime } from './processStartTime';

/** One child process group we started: its leader's pid (= the pgid) and start time. */
export interface GuardedChild {
  pid: number;
  /** `/proc/<pid>/stat` field 22: with the pid, names this process and no later one. */
  startTime: string;
}

const MAX_WATCHDOG_LOSSES = 5;

/** The marker in the watchdog's command line (`ps`, tests). */
export const WATCHDOG_MARKER = 'gatehouse-watchdog';

/**
 * The watchdog: a separate process that holds the read end of a pipe whose only write end is
 * the gateway's. The gateway can die in ways that run no code of ours (`kill -9`, the OOM
 * killer, a crash of the extension host); the kernel then closes the pipe, and the watchdog
 * kills the recorded process groups. Lines in: `+ <pid> <starttime>` and `- <pid>`.
 *
 * A group is killed only when its leader still has the recorded start time, or is gone: Linux
 * never hands out a pid that still names a live process group, so `kill(-pgid)` then reaches
 * our leftover grandchildren or nobody; a leader with another start time is a reused pid and is
 * left alone. Plain CommonJS for `node -e`, no imports beyond `fs`: it must start in
 * milliseconds and never depend on the bundle's layout.
 */
const WATCHDOG_SCRIPT = `
const fs = require('fs');
const groups = new Map();
const startTime = (pid) => {
  try {
    const stat = fs.readFileSync('/proc/' + pid + '/stat', 'utf8');
    const v = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return /^\\d+$/.test(v || '') ? v : null;
  } catch (e) {
    return null;
  }
};
let rest = '';
let done = false;
const reap = () => {
  if (done) return;
  done = true;
  for (const [pid, st] of groups) {
    const now = startTime(pid);
    if (now !== null && now !== st) continue;
    try { process.kill(-pid, 'SIGKILL'); } catch (e) {}
  }
  process.exit(0);
};
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  rest += d;
  let i;
  while ((i = rest.indexOf('\\n')) >= 0) {
    const [op, pid, st] = rest.slice(0, i).split(' ');
    rest = rest.slice(i + 1);
    const n = Number(pid);
    if (!Number.isInteger(n) || n <= 1) continue;
    if (op === '+' && st) groups.set(n, st);
    else if (op === '-') groups.delete(n);
  }
});
process.stdin.on('end', reap);
process.stdin.on('close', reap);
process.stdin.on('error', reap);
`;

/**
 * Makes sure every child process group of this process dies with it, even when it dies by
 * SIGKILL (issue 13.11), and tells who asks which groups are live (for the record file a later
 * start reaps from).
 *
 * One watchdog per process, spawned at the first child (a few ms, once) and respawned if it
 * dies; the cost per child is one line on a pipe. Linux only: without procfs a start time
 * cannot be read, and killing by pid alone could hit a reused pid. (On Windows a job object
 * plugs in here later.)
 */
export class ChildGuard {
  private readonly children = new Map<number, string>();
  private readonly listeners = new Set<(children: GuardedChild[]) => void>();
  private watchdog: ChildProcess | undefined;
  private spawnFailed = false;
  /** Watchdogs lost so far: a watchdog that cannot stay up is not respawned forever. */
  private losses = 0;

  constructor(
    private readonly enabled = process.platform === 'linux',
    private readonly startTimeOf: (pid: number) => Promise<string | null> = processStartTime,
  ) {}

  /** A child process group was just created; resolves once it is guarded (or cannot be). */
  async track(pid: number): Promise<void> {
    if (!this.enabled) return;
    this.children.set(pid, '');
    const startTime = await this.startTimeOf(pid);
    // Untracked meanwhile (it already exited), or gone before we could read it: nothing to guard.
    if (!this.children.has(pid) || startTime === null) {
      this.children.delete(pid);
      return;
    }
    this.children.set(pid, startTime);
    this.send(`+ ${pid} ${startTime}\n`);
    this.changed();
  }

  /** The group is gone (or was killed): forget it. */
  untrack(pid: number): void {
    const startTime = this.children.get(pid);
    if (startTime === undefined) return;
    this.children.delete(pid);
    if (startTime === '') return;
    this.send(`- ${pid}\n`);
    this.changed();
  }

  /** The guarded groups now. */
  list(): GuardedChild[] {
    return [...this.children].filter(([, st]) => st !== '').map(([pid, startTime]) => ({ pid, startTime }));
  }

  /** Called with the whole list after every change; returns the unsubscribe. */
  onDidChange(listener: (children: GuardedChild[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The watchdog's pid, once spawned (tests). */
  get watchdogPid(): number | undefined {
    return this.watchdog?.pid;
  }

  private changed(): void {
    const list = this.list();
    for (const listener of this.listeners) {
      try {
        listener(list);
      } catch {
        // a record file's failure must not stop the others
      }
    }
  }

  private send(line: string): void {
    const watchdog = this.ensureWatchdog();
    watchdog?.stdin?.write(line);
  }

  private ensureWatchdog(): ChildProcess | undefined {
    if (this.watchdog || this.spawnFailed) return this.watchdog;
    let watchdog: ChildProcess;
    try {
      watchdog = spawn(process.execPath, ['-e', WATCHDOG_SCRIPT, WATCHDOG_MARKER, String(process.pid)], {
        // In VS Code the extension host's execPath is Electron: run it as plain Node.
        env: { ELECTRON_RUN_AS_NODE: '1' },
        // Holds no directory busy (a workspace on a volume being unmounted, a deleted temp dir).
        cwd: '/',
        stdio: ['pipe', 'ignore', 'ignore'],
        // Its own session: a terminal's Ctrl-C or hang-up signals the gateway, not the watchdog.
        detached: true,
        windowsHide: true,
      });
    } catch {
      this.spawnFailed = true;
      return undefined;
    }
    this.watchdog = watchdog;
    const lost = () => {
      if (this.watchdog !== watchdog) return;
      this.watchdog = undefined;
      // A fresh watchdog learns every live group at once, so none is unguarded for long.
      if (this.children.size && ++this.losses <= MAX_WATCHDOG_LOSSES) queueMicrotask(() => this.resend());
    };
    watchdog.once('error', () => {
      this.spawnFailed = true;
      lost();
    });
    watchdog.once('exit', lost);
    watchdog.stdin?.on('error', () => undefined);
    // Neither the process nor the pipe may keep the gateway alive.
    watchdog.unref();
    (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return watchdog;
  }

  private resend(): void {
    for (const { pid, startTime } of this.list()) this.send(`+ ${pid} ${startTime}\n`);
  }
}

/** The process-wide guard every {@link ChildProcessTransport} reports to. */
export const childGuard = new ChildGuard();
