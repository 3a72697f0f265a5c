import { spawn, type ChildProcess } from 'node:child_process';
import { processStartTime } from './processStartTime';
import { killPids, taskkillCommand } from '../platform/killProcessTree';
import { descendantsOf, listProcesses, processListCommand, type ProcessListCommand, type ProcessTableSeam } from '../platform/processTable';

/** One child process group we started: its leader's pid (= the pgid) and start time. */
export interface GuardedChild {
  pid: number;
  /** With the pid, names this process and no later one (procfs ticks; elsewhere see processTable.ts). */
  startTime: string;
}

const MAX_WATCHDOG_LOSSES = 5;

/** The marker in the watchdog's command line (`ps`, tests). */
export const WATCHDOG_MARKER = 'gatehouse-watchdog';

/**
 * The watchdog: a separate process that holds the read end of a pipe whose only write end is
 * the gateway's. The gateway can die in ways that run no code of ours (`kill -9`, the OOM
 * killer, a crash of the extension host); the OS then closes the pipe, and the watchdog kills
 * the recorded children. Lines in: `+ <pid> <starttime>` and `- <pid>`.
 *
 * A child is killed only when it still has the recorded start time, or is gone; one with
 * another start time is a reused pid and is left alone. On Linux and macOS the child leads its
 * own process group: POSIX never hands out a pid that still names a live process group, so
 * `kill(-pgid)` then reaches our leftover grandchildren or nobody. Linux reads the start time
 * from procfs; macOS and Windows take one process listing at reap time (`platform/
 * processTable.ts`, whose parsing this repeats; the unit tests run both on the same recorded
 * outputs). Windows has no groups: the child and everything it started, including processes
 * whose parent has exited (they keep its pid as their parent id), are ended by `taskkill /F`.
 * No listing, no kill: without a start time a reused pid cannot be told apart.
 *
 * Plain CommonJS for `node -e`, no imports beyond Node's own: it must start in milliseconds and
 * never depend on the bundle's layout. argv: marker, owner pid, JSON {@link WatchdogConfig}.
 */
const WATCHDOG_SCRIPT = `
const fs = require('fs');
const cp = require('child_process');
const cfg = JSON.parse(process.argv[3] || '{}');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DIGITS = /^\\d+$/;
const procStart = (pid) => {
  try {
    const stat = fs.readFileSync('/proc/' + pid + '/stat', 'utf8');
    const v = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return DIGITS.test(v || '') ? v : null;
  } catch (e) {
    return null;
  }
};
const listing = () => {
  let text;
  try {
    text = cp.execFileSync(cfg.list.command, cfg.list.args, {
      env: Object.assign({}, process.env, cfg.list.env || {}),
      encoding: 'utf8', windowsHide: true, timeout: 30000, maxBuffer: 67108864, stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch (e) {
    return null;
  }
  const t = new Map();
  for (const line of text.split(/\\r?\\n/)) {
    const f = line.trim().split(/\\s+/);
    let st;
    if (cfg.platform === 'win32') {
      if (f.length === 3) st = f[2];
    } else if (f.length === 7) {
      const m = MONTHS.indexOf(f[3]);
      const tm = f[5].split(':');
      if (m >= 0 && tm.length === 3 && /^\\d{4}$/.test(f[6])) st = f[6] + [m + 1, f[4]].concat(tm).map((v) => String(v).padStart(2, '0')).join('');
    }
    if (st === undefined || !DIGITS.test(f[0]) || !DIGITS.test(f[1]) || !DIGITS.test(st)) continue;
    t.set(Number(f[0]), { ppid: Number(f[1]), st: st });
  }
  return t;
};
const tree = (t, root, st) => {
  const out = [];
  const r = t.get(root);
  if (r && r.st === st) out.push(root);
  const seen = new Set([root]);
  const queue = [[root, BigInt(st)]];
  while (queue.length) {
    const [p, s] = queue.shift();
    for (const [pid, e] of t) {
      if (e.ppid !== p || seen.has(pid) || BigInt(e.st) < s) continue;
      seen.add(pid);
      out.push(pid);
      queue.push([pid, BigInt(e.st)]);
    }
  }
  return out;
};
const groups = new Map();
let rest = '';
let done = false;
const reap = () => {
  if (done) return;
  done = true;
  const t = cfg.platform === 'linux' || groups.size === 0 ? null : listing();
  for (const [pid, st] of groups) {
    const now = cfg.platform === 'linux' ? procStart(pid) : t === null ? undefined : t.has(pid) ? t.get(pid).st : null;
    if (now === undefined || (now !== null && now !== st)) continue;
    if (cfg.platform === 'win32') {
      const pids = tree(t, pid, st);
      if (!pids.length) continue;
      const args = ['/F'];
      for (const p of pids) args.push('/PID', String(p));
      try { cp.execFileSync(cfg.taskkill, args, { stdio: 'ignore', windowsHide: true, timeout: 30000 }); } catch (e) {}
    } else {
      try { process.kill(-pid, 'SIGKILL'); } catch (e) {}
    }
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
    if (op === '+' && DIGITS.test(st || '')) groups.set(n, st);
    else if (op === '-') groups.delete(n);
  }
});
process.stdin.on('end', reap);
process.stdin.on('close', reap);
process.stdin.on('error', reap);
`;

/** What the watchdog is told at spawn: how to list and end processes on this OS. */
export interface WatchdogConfig {
  platform: NodeJS.Platform;
  /** macOS, Windows: the process listing (absolute path: the watchdog's environment is bare). */
  list?: ProcessListCommand;
  /** Windows: taskkill's path. */
  taskkill?: string;
}

/** The watchdog's configuration for `platform`. */
export function watchdogConfig(platform: NodeJS.Platform, env: Readonly<Record<string, string | undefined>> = process.env): WatchdogConfig {
  const list = processListCommand(platform, env);
  return { platform, ...(list ? { list } : {}), ...(platform === 'win32' ? { taskkill: taskkillCommand(0, env).command } : {}) };
}

/** The seams of a {@link ChildGuard}: which OS, and how start times are read and trees ended. */
export interface ChildGuardOptions {
  platform?: NodeJS.Platform;
  /** Off where the platform cannot name a process by pid and start time. */
  enabled?: boolean;
  startTimeOf?: (pid: number) => Promise<string | null>;
  /** The watchdog's configuration (tests point it at recorded outputs). */
  watchdog?: WatchdogConfig;
  /**
   * Windows: ends what children that exited left running (their orphans, which keep their pid
   * as parent id). Default: one listing, then taskkill /F of {@link descendantsOf}.
   */
  endLeftovers?: (children: GuardedChild[]) => Promise<void>;
}

/**
 * Makes sure every child process tree of this process dies with it, even when it dies by
 * SIGKILL (issue 13.11), and tells who asks which children are live (for the record file a
 * later start reaps from).
 *
 * One watchdog per process, spawned at the first child (a few ms, once) and respawned if it
 * dies; the cost per child is one line on a pipe (and on macOS and Windows one process listing
 * to learn its start time, off the call path). On Windows a child that exits by itself may
 * leave children (`npx.cmd` exits, its `node` runs on): there are no process groups, so
 * {@link untrack} ends them through the listing. (Job objects would do this in the kernel, but
 * no maintained npm package offers them without a native addon, which the bundled .vsix cannot
 * carry: see README, "Windows and macOS".)
 */
export class ChildGuard {
  private readonly children = new Map<number, string>();
  private readonly listeners = new Set<(children: GuardedChild[]) => void>();
  private watchdog: ChildProcess | undefined;
  private spawnFailed = false;
  /** Watchdogs lost so far: a watchdog that cannot stay up is not respawned forever. */
  private losses = 0;
  private readonly platform: NodeJS.Platform;
  private readonly enabled: boolean;
  private readonly startTimeOf: (pid: number) => Promise<string | null>;
  private readonly config: WatchdogConfig;
  private readonly endLeftovers: (children: GuardedChild[]) => Promise<void>;
  /** Windows: exited children whose leftovers are still to be swept, and whether a sweep runs. */
  private leftovers: GuardedChild[] = [];
  private sweeping = false;

  constructor(options: ChildGuardOptions = {}) {
    this.platform = options.platform ?? process.platform;
    this.enabled = options.enabled ?? ['linux', 'darwin', 'win32'].includes(this.platform);
    this.startTimeOf = options.startTimeOf ?? ((pid) => processStartTime(pid, this.platform));
    this.config = options.watchdog ?? watchdogConfig(this.platform);
    this.endLeftovers = options.endLeftovers ?? ((children) => endWindowsLeftovers(children));
  }

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

  /**
   * The child is gone (or was killed): forget it. On Windows, first end what it left running
   * (on POSIX the transport kills its process group).
   */
  untrack(pid: number): void {
    const startTime = this.children.get(pid);
    if (startTime === undefined) return;
    this.children.delete(pid);
    if (startTime === '') return;
    if (this.platform === 'win32') {
      this.leftovers.push({ pid, startTime });
      void this.sweep();
    }
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

  /** One listing at a time for all children that exited meanwhile (a shutdown ends them all at once). */
  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      while (this.leftovers.length) await this.endLeftovers(this.leftovers.splice(0)).catch(() => undefined);
    } finally {
      this.sweeping = false;
    }
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
      watchdog = spawn(process.execPath, ['-e', WATCHDOG_SCRIPT, WATCHDOG_MARKER, String(process.pid), JSON.stringify(this.config)], {
        // In VS Code the extension host's execPath is Electron: run it as plain Node. Windows
        // programs need SystemRoot to load, PowerShell its module path (Get-CimInstance) and a
        // temp folder; nothing else is passed.
        env: { ELECTRON_RUN_AS_NODE: '1', ...(this.platform === 'win32' ? pick(process.env, ['SystemRoot', 'windir', 'PSModulePath', 'TEMP', 'TMP']) : {}) },
        // Holds no directory busy (a workspace on a volume being unmounted, a deleted temp dir).
        cwd: this.platform === 'win32' ? (process.env.SystemRoot ?? process.cwd()) : '/',
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

/** The named variables of `env` that are set. */
function pick(env: NodeJS.ProcessEnv, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = env[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/**
 * Windows: ends the processes these children started that outlived them (and theirs), found by
 * parent id and start order in one listing. A child itself is included only while it still has
 * the recorded start time.
 */
export async function endWindowsLeftovers(children: readonly GuardedChild[], seam: ProcessTableSeam & { kill?: (pids: number[]) => void } = {}): Promise<void> {
  const table = await listProcesses({ platform: 'win32', ...seam });
  if (!table) return;
  const pids = [...new Set(children.flatMap((child) => descendantsOf(table, child)))];
  if (pids.length) (seam.kill ?? ((p: number[]) => killPids(p, seam.env)))(pids);
}

/** The process-wide guard every {@link ChildProcessTransport} reports to. */
export const childGuard = new ChildGuard();
