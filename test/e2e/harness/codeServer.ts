/**
 * Starts a real VS Code (code-server from npm, run by Node 24 from the e2e cache) for one test.
 *
 * Every run gets its own folder (XDG_CONFIG_HOME, XDG_DATA_HOME, TMPDIR, user data, extensions),
 * its own session and process group (spawn `detached` = setsid), and a marker variable in its
 * environment, so `stop()` can kill the whole group and then check /proc that no process of the
 * run is left, including children that started a session of their own (terminals).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setup, type SetupMarker } from './setup.mjs';

export interface CodeServerOptions {
  /** Folder passed to code-server (the folder a plain `/` opens). Browsers may open any folder with `?folder=`. */
  workspace?: string;
  /** Defaults to `<runDir>/extensions`. */
  extensionsDir?: string;
  /** Defaults to `<runDir>/user-data`. */
  userDataDir?: string;
  /** .vsix file(s) installed with `--install-extension` before the server starts. */
  vsix?: string | string[];
  /** `--disable-workspace-trust` (default true); false opens folders in Restricted Mode. */
  trusted?: boolean;
  /** `--vscode-option enable-smoke-test-driver`, needed by runExtensionTests. */
  smokeTestDriver?: boolean;
  /** User settings merged over the harness defaults (see DEFAULT_SETTINGS). */
  settings?: Record<string, unknown>;
  /** Extra environment for code-server and so its extension host. */
  env?: Record<string, string>;
  /** Extra code-server arguments. */
  args?: string[];
  /** Deadline for the "HTTP server listening" line (default 60 s). */
  startTimeoutMs?: number;
  /** Keep the run folder after stop() (also when GATEHOUSE_E2E_KEEP is set). */
  keepRunDir?: boolean;
  /** Loopback port to bind (default 0: a free port). */
  port?: number;
  /**
   * `--auth password` with this password (default: `--auth none`, fine for tests on loopback).
   * Passed as $PASSWORD, never on the command line (other users can read /proc/PID/cmdline);
   * code-server deletes it from its environment before it spawns anything.
   */
  password?: string;
  /**
   * Install the harness's SIGINT/SIGTERM/SIGHUP handlers that SIGKILL every live run (default
   * true). false: the caller handles signals itself and awaits stop() (e.g. `npm start`); the
   * process-exit safety net stays.
   */
  handleSignals?: boolean;
  /**
   * stop() also follows every descendant of the run (default false): processes that left the
   * group and the marker behind, such as MCP servers an extension spawns `detached` with a
   * filtered environment. They get a short grace period to exit on their own (their parent is
   * gone, their stdin closes), then SIGTERM, then SIGKILL, and stop() waits for them too.
   */
  stopDescendants?: boolean;
}

export interface CodeServer {
  /** `http://127.0.0.1:PORT/` */
  url: string;
  port: number;
  /** Pid of the code-server main process; also the id of its process group and session. */
  pid: number;
  runDir: string;
  userDataDir: string;
  extensionsDir: string;
  workspace: string | undefined;
  /** Pids of the processes of this run that are still alive. */
  processes(): number[];
  /** stdout and stderr of code-server (and of the --install-extension steps). */
  logs(): string;
  /** The log files VS Code wrote under the user-data dir (server, extension host, …), path → text. */
  logFiles(): Record<string, string>;
  /** Kills the whole process group (TERM, then KILL after 8 s) and waits until none of the run is left. */
  stop(): Promise<void>;
}

/** Settings written to `<userDataDir>/User/settings.json` before the start. */
export const DEFAULT_SETTINGS: Readonly<Record<string, unknown>> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  // The Chat view opens in the secondary side bar by default: less to render on 2 cores.
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'chat.mcp.access': 'all',
  'git.openRepositoryInParentFolders': 'never',
};

const RUN_VAR = 'GATEHOUSE_E2E_RUN';

let installed: Promise<SetupMarker> | undefined;

/** Installs (or reuses) Node 24 + code-server in the e2e cache; once per process. */
export function ensureCodeServer(): Promise<SetupMarker> {
  installed ??= setup();
  return installed;
}

/**
 * For tests that read VS Code's log files (logFiles()) or an Output channel: VS Code writes both
 * through the native @vscode/spdlog, which a fallback install may lack. Fails with that cause
 * rather than letting the test time out on a log line that can never come.
 */
export async function ensureCodeServerWithLogs(): Promise<SetupMarker> {
  const marker = await ensureCodeServer();
  if (marker.missingNatives.includes('@vscode/spdlog')) {
    throw new Error(`the e2e cache ${marker.codeServerDir} has no @vscode/spdlog build (mode ${marker.mode}; see setup.log beside ready.json): VS Code writes no log file and no Output channel text. Rebuild it: node test/e2e/harness/setup.mjs --force`);
  }
  return marker;
}

interface ProcInfo {
  pid: number;
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** Start time in clock ticks since boot: tells a process from a later one that reuses its pid. */
  start: string;
}

function procInfo(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid pgrp session … starttime (field 22); comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, state: fields[0] ?? '?', ppid: Number(fields[1]), pgrp: Number(fields[2]), session: Number(fields[3]), start: fields[19] ?? '' };
  } catch {
    return undefined;
  }
}

function isLive(info: ProcInfo | undefined): info is ProcInfo {
  return !!info && info.state !== 'Z' && info.state !== 'X';
}

/** Live descendants of `roots` (children, grandchildren, …), whatever their session or environment. */
function descendantsOf(roots: Iterable<number>): ProcInfo[] {
  const children = new Map<number, ProcInfo[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const info = procInfo(pid);
    if (!isLive(info)) continue;
    const siblings = children.get(info.ppid) ?? [];
    siblings.push(info);
    children.set(info.ppid, siblings);
  }
  const out: ProcInfo[] = [];
  const queue = [...roots];
  const seen = new Set(queue);
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      if (seen.has(child.pid)) continue;
      seen.add(child.pid);
      out.push(child);
      queue.push(child.pid);
    }
  }
  return out;
}

/** Live (not zombie) processes in process group/session `pgid` or carrying `RUN_VAR=runId`. */
export function processesOfRun(pgid: number, runId: string): number[] {
  const needle = `${RUN_VAR}=${runId}\0`;
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const info = procInfo(pid);
    if (!isLive(info)) continue;
    let mine = info.pgrp === pgid || info.session === pgid;
    if (!mine) {
      try {
        mine = readFileSync(`/proc/${pid}/environ`, 'latin1').includes(needle);
      } catch {
        /* gone, or not ours to read */
      }
    }
    if (mine) out.push(pid);
  }
  return out;
}

function signal(pids: number[], pgid: number, sig: NodeJS.Signals): void {
  if (pgid > 1) {
    try {
      process.kill(-pgid, sig);
    } catch {
      /* group already empty */
    }
  }
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      /* gone */
    }
  }
}

const live = new Map<number, { runId: string; runDir?: string }>();
let exitHooked = false;

function killAll(): void {
  for (const [pgid, { runId, runDir }] of live) {
    signal(processesOfRun(pgid, runId), pgid, 'SIGKILL');
    if (runDir) rmSync(runDir, { recursive: true, force: true });
  }
  live.clear();
}

let signalsHooked = false;

/** If the test process ends without stop() (crash, Ctrl-C), kill what is left of every run. */
function hookProcessExit(handleSignals = true): void {
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', killAll);
  }
  if (!handleSignals || signalsHooked) return;
  signalsHooked = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAll();
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

function codeServerEnv(marker: SetupMarker, runDir: string, runId: string, extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${path.join(marker.nodeDir, 'bin')}${path.delimiter}${process.env.PATH ?? ''}`,
    XDG_CONFIG_HOME: path.join(runDir, 'config'),
    XDG_DATA_HOME: path.join(runDir, 'data'),
    XDG_CACHE_HOME: path.join(runDir, 'cache'),
    XDG_STATE_HOME: path.join(runDir, 'state'),
    TMPDIR: path.join(runDir, 'tmp'),
  };
  // The test runner's own variables (tsx loader, test-runner context) are no business of
  // code-server's Node.
  for (const key of Object.keys(env)) {
    if (key.startsWith('NODE_TEST') || key === 'NODE_OPTIONS') delete env[key];
  }
  return { ...env, ...extra, [RUN_VAR]: runId };
}

async function waitForExit(child: ChildProcess, timeoutMs: number, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      if (child.pid) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      reject(new Error(`${what}: no exit after ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code ?? 1);
    });
  });
}

export async function startCodeServer(options: CodeServerOptions = {}): Promise<CodeServer> {
  const marker = await ensureCodeServer();
  const runId = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const runDir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-e2e-'));
  for (const sub of ['config', 'data', 'cache', 'state', 'tmp']) mkdirSync(path.join(runDir, sub), { recursive: true });
  const userDataDir = path.resolve(options.userDataDir ?? path.join(runDir, 'user-data'));
  const extensionsDir = path.resolve(options.extensionsDir ?? path.join(runDir, 'extensions'));
  mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({ ...DEFAULT_SETTINGS, ...options.settings }, null, 2) + '\n',
  );
  const env = codeServerEnv(marker, runDir, runId, options.env);
  const keep = options.keepRunDir || !!process.env.GATEHOUSE_E2E_KEEP;
  let output = '';
  const append = (chunk: Buffer | string): void => {
    output += chunk.toString();
    if (output.length > 4_000_000) output = output.slice(-2_000_000);
  };
  const common = ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  for (const vsix of ([] as string[]).concat(options.vsix ?? [])) {
    append(`$ code-server --install-extension ${vsix}\n`);
    const child = spawn(marker.nodeBin, [marker.entry, ...common, '--install-extension', path.resolve(vsix)], {
      env,
      cwd: runDir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const installPid = child.pid;
    if (installPid === undefined) throw new Error('code-server --install-extension did not start');
    hookProcessExit(options.handleSignals !== false);
    live.set(installPid, { runId });
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    const code = await waitForExit(child, 120_000, `install ${vsix}`)
      .catch((err: Error) => {
        append(`${err.message}\n`);
        return 124;
      })
      .finally(() => {
        signal(processesOfRun(installPid, runId), installPid, 'SIGKILL');
        live.delete(installPid);
      });
    if (code !== 0) {
      if (!keep) rmSync(runDir, { recursive: true, force: true });
      throw new Error(`code-server --install-extension ${vsix} exited ${code}:\n${output}`);
    }
  }

  const args = [
    marker.entry,
    '--bind-addr',
    `127.0.0.1:${options.port ?? 0}`,
    '--auth',
    options.password ? 'password' : 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    ...common,
  ];
  if (options.trusted !== false) args.push('--disable-workspace-trust');
  if (options.smokeTestDriver) args.push('--vscode-option', 'enable-smoke-test-driver');
  args.push(...(options.args ?? []));
  const workspace = options.workspace ? path.resolve(options.workspace) : undefined;
  if (workspace) args.push(workspace);

  const serverEnv = options.password ? { ...env, PASSWORD: options.password } : env;
  const child = spawn(marker.nodeBin, args, { env: serverEnv, cwd: runDir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  if (pid === undefined) throw new Error('code-server did not start');
  hookProcessExit(options.handleSignals !== false);
  live.set(pid, { runId, runDir: keep ? undefined : runDir });
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let exited: number | null | undefined;
  // 'close' (not 'exit'): by then all of its output has been read.
  child.on('close', (code) => {
    exited = code;
  });

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      const deadline = (ms: number): number => Date.now() + ms;
      // Descendants seen while the run's processes were alive (pid → start time), so a process
      // spawned during the shutdown is followed as well, and a reused pid is not.
      const tracked = new Map<number, string>();
      const track = (): void => {
        if (!options.stopDescendants) return;
        for (const d of descendantsOf([...processesOfRun(pid, runId), ...trackedAlive()])) tracked.set(d.pid, d.start);
      };
      const trackedAlive = (): number[] =>
        [...tracked].filter(([p, start]) => {
          const info = procInfo(p);
          return isLive(info) && info.start === start;
        }).map(([p]) => p);
      track();
      signal(processesOfRun(pid, runId), pid, 'SIGTERM');
      const soft = deadline(8_000);
      while (processesOfRun(pid, runId).length > 0 && Date.now() < soft) {
        track();
        await sleep(100);
      }
      const left = processesOfRun(pid, runId);
      if (left.length > 0) {
        track();
        append(`[harness] still alive after SIGTERM, sending SIGKILL: ${left.join(' ')}\n`);
        signal(left, pid, 'SIGKILL');
        const hard = deadline(5_000);
        while (processesOfRun(pid, runId).length > 0 && Date.now() < hard) await sleep(100);
      }
      if (tracked.size > 0) {
        // Their parent is gone and their stdin closed: well-behaved servers exit by themselves.
        const steps: [number, NodeJS.Signals | undefined][] = [[3_000, undefined], [3_000, 'SIGTERM'], [2_000, 'SIGKILL']];
        for (const [ms, sig] of steps) {
          const pids = trackedAlive();
          if (pids.length === 0) break;
          if (sig) {
            append(`[harness] descendants still alive, sending ${sig}: ${pids.join(' ')}\n`);
            signal(pids, 0, sig);
          }
          const until = deadline(ms);
          while (trackedAlive().length > 0 && Date.now() < until) await sleep(100);
        }
      }
      live.delete(pid);
      child.stdout?.destroy();
      child.stderr?.destroy();
      const orphans = [...processesOfRun(pid, runId), ...trackedAlive()];
      if (!keep) rmSync(runDir, { recursive: true, force: true });
      if (orphans.length > 0) throw new Error(`code-server run ${runId}: processes left after SIGKILL: ${orphans.join(' ')}`);
    })());

  const startTimeout = options.startTimeoutMs ?? 60_000;
  const started = Date.now();
  let url: string | undefined;
  while (!url) {
    const m = /HTTP server listening on (http:\/\/127\.0\.0\.1:(\d+)\/?)/.exec(output);
    if (m) {
      url = `http://127.0.0.1:${m[2]}/`;
      break;
    }
    if (exited !== undefined || Date.now() - started > startTimeout) {
      const why = exited !== undefined ? `exited with ${exited}` : `printed no "HTTP server listening" within ${startTimeout} ms`;
      await stop().catch(() => undefined);
      throw new Error(`code-server ${why}:\n${output}`);
    }
    await sleep(50);
  }
  const port = Number(new URL(url).port);

  return {
    url,
    port,
    pid,
    runDir,
    userDataDir,
    extensionsDir,
    workspace,
    processes: () => processesOfRun(pid, runId),
    logs: () => output,
    logFiles: () => readLogFiles(path.join(userDataDir, 'logs')),
    stop,
  };
}

function readLogFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.log')) {
        try {
          out[path.relative(dir, full)] = readFileSync(full, 'utf8');
        } catch {
          /* rotated away */
        }
      }
    }
  };
  walk(dir);
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
