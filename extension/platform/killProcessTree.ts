/**
 * Ends a child and everything it started, on every desktop.
 *
 * - Linux and macOS: children are spawned `detached`, so each leads its own process group
 *   (setsid; the same call on both, macOS has no different semantics for it); a signal to `-pid`
 *   reaches `npx` and the `node` it started alike.
 * - Windows has no process groups and no SIGTERM: `child.kill()` is TerminateProcess of the
 *   direct child only, so `npx.cmd` would die and leave its `node` running. `taskkill /T /F
 *   /PID` walks the tree by parent id and terminates it all. There is no polite step that a
 *   console program without a window would see (taskkill without /F posts WM_CLOSE), so SIGTERM
 *   and SIGKILL both become /F; the polite step on Windows is closing stdin, which comes first.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

/** What the tree kill needs of a child: its pid, and its own kill as the fallback. */
export interface KillableChild {
  readonly pid?: number | undefined;
  kill(signal?: NodeJS.Signals): boolean;
}

/** The platform seam: which OS, and how a signal or a helper command is sent. */
export interface ProcessTreeSeam {
  platform?: NodeJS.Platform;
  /** `process.kill` by default. */
  signal?: (pid: number, signal: NodeJS.Signals) => void;
  /**
   * Starts a helper (taskkill) without waiting for it; `onFailure` when it could not start.
   * Spawned with `windowsHide` by default, so no console window flashes.
   */
  run?: (command: string, args: readonly string[], onFailure: () => void) => void;
  /** `process.env` by default (for `SystemRoot`). */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * The command that ends the tree rooted at `pid` on Windows. taskkill is named by its full path
 * under `%SystemRoot%` so that a `taskkill.exe` earlier on PATH (a workspace's bin folder) is
 * not what runs.
 */
export function taskkillCommand(pid: number, env: Readonly<Record<string, string | undefined>> = process.env): { command: string; args: string[] } {
  const root = env.SystemRoot ?? env.SYSTEMROOT;
  const command = root ? path.win32.join(root, 'System32', 'taskkill.exe') : 'taskkill.exe';
  return { command, args: ['/T', '/F', '/PID', String(pid)] };
}

/**
 * Sends `signal` to the child's whole tree (its process group on POSIX, taskkill /T /F on
 * Windows); falls back to the child alone when that fails. Never throws.
 */
export function signalProcessTree(child: KillableChild | undefined, signal: NodeJS.Signals, seam: ProcessTreeSeam = {}): void {
  const pid = child?.pid;
  if (!child || pid === undefined) return;
  const platform = seam.platform ?? process.platform;
  try {
    if (platform === 'win32') {
      const { command, args } = taskkillCommand(pid, seam.env);
      // Not the child's own kill first: once the root is gone, taskkill cannot find its tree.
      (seam.run ?? runHidden)(command, args, () => killAlone(child, signal));
    } else {
      (seam.signal ?? process.kill)(-pid, signal);
    }
  } catch {
    killAlone(child, signal);
  }
}

function killAlone(child: KillableChild, signal: NodeJS.Signals): void {
  try {
    child.kill(signal);
  } catch {
    // already gone
  }
}

function runHidden(command: string, args: readonly string[], onFailure: () => void): void {
  const helper = spawn(command, args, { stdio: 'ignore', windowsHide: true });
  // A tree that is already gone makes taskkill exit 128: nothing to report. Not starting at all is.
  helper.on('error', onFailure);
  helper.unref();
}

/**
 * Windows: ends exactly these processes (`taskkill /F /PID a /PID b …`, no /T). Used for the
 * leftovers of a child that is already gone, found by parent id and start order
 * (`processTable.ts`): /T would follow parent ids alone, and one that names a dead process may
 * name a newer, unrelated holder of the pid. Never throws; missing pids are skipped by taskkill.
 */
export function killPids(pids: readonly number[], env: Readonly<Record<string, string | undefined>> = process.env, run: (command: string, args: readonly string[], onFailure: () => void) => void = runHidden): void {
  const list = pids.filter((p) => Number.isInteger(p) && p > 4); // 0 idle, 4 System
  if (!list.length) return;
  const { command } = taskkillCommand(0, env);
  try {
    run(command, ['/F', ...list.flatMap((p) => ['/PID', String(p)])], () => undefined);
  } catch {
    // nothing more to try
  }
}
