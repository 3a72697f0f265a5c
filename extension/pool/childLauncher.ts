import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { LaunchedChild } from './launchedChild';
import { spawnGate } from './spawnGate';
import type { Launch } from '../platform/resolveCommand';

/**
 * Where the pool's children are forked: a small launcher process on Linux and macOS, the
 * gateway's own thread on Windows (and as the fallback).
 *
 * `child_process.spawn` is synchronous and a fork copies the parent's page tables, so every
 * (re)spawn stalls the forking thread in proportion to its resident memory (bench section 3:
 * 16-34 ms at 180 MB; a worker thread does not help, the copy write-locks the whole address
 * space). The launcher is a bare Node process (~40 MB, no bundle) that does the fork/exec and
 * hands the child's three stdio sockets back over Node's IPC channel (libuv's stdio pipes are
 * Unix socketpairs, passed with SCM_RIGHTS): the gateway then reads and writes the child
 * directly, with no extra hop per message, and pays only a few small IPC messages per spawn.
 * The launcher reports the pid, a failed spawn (the errno, so ENOENT/EACCES read as before) and
 * the exit code/signal, and is the children's parent (it reaps them).
 *
 * No orphans: when the gateway dies by any means (kill -9 included) the IPC socket closes and
 * the launcher SIGKILLs the process group of every child still running, then exits. The
 * watchdog of childGuard.ts stays a separate process (one more bare Node process) rather than
 * becoming the launcher: Windows needs it without a launcher, a SIGKILL of either one leaves the
 * other guarding the same children, and its protocol and tests stay as they are. When the
 * launcher dies, the gateway SIGKILLs the groups of the children it started (their exits can no
 * longer be reported, so the supervisor respawns them), and the next spawn starts a new
 * launcher; after {@link MAX_LAUNCHER_LOSSES} losses, or when one cannot be started or stops
 * answering, children are spawned in process again (through spawnGate), never waited on forever.
 * A pid that arrives after its spawn was given up (the launcher's exit was handled before the
 * 'spawned' it wrote, or the reply deadline passed) is killed at once: nobody will claim it.
 *
 * One window stays open: a launcher SIGKILLed between a fork and the write of its 'spawned'
 * (the tick after the exec returns, microseconds) leaves a child the gateway never heard of.
 * Its stdio ends were the launcher's, so it reads EOF and a server that ends at EOF ends; one
 * that does not survives. Closing this needs a mark the child carries from before its exec:
 * PR_SET_PDEATHSIG (Node cannot set it; a wrapper such as setpriv --pdeathsig would change
 * argv and how ENOENT/EACCES are reported) or a token in its environment that the gateway
 * scans procfs for (a variable every server would see). Neither was worth that cost here.
 *
 * Windows keeps the in-process spawn: its stdio pipes are named pipes that Node cannot pass to
 * another process, CreateProcess copies no page tables, and `npx.cmd` resolution
 * (platform/resolveCommand.ts) already happens before either path. `GATEHOUSE_SPAWN=in-process`
 * forces the in-process path everywhere (tests, and a way out if a system forbids the launcher).
 *
 * Plain CommonJS for `node -e`, like the watchdog: it starts in milliseconds and never depends on
 * the bundle's layout. argv: marker. Messages in: {t:'spawn', id, command, args, env, cwd}. Out:
 * {t:'spawned', id, pid}, then {t:'stdio', id, fd} with the socket of fd 0, 1 and 2, later
 * {t:'exit', id, code, signal}; or {t:'error', id, error:{code, errno, syscall, path, message}}.
 */
const LAUNCHER_SCRIPT = `
const cp = require('child_process');
const live = new Map();
const send = (msg, handle) => {
  try { process.send(msg, handle, () => undefined); } catch (e) {}
};
const info = (e) => ({ code: e && e.code, errno: e && e.errno, syscall: e && e.syscall, path: e && e.path, message: String(e && e.message || e) });
process.on('message', (m) => {
  if (!m || m.t !== 'spawn') return;
  let c;
  try {
    c = cp.spawn(m.command, m.args, { env: m.env, cwd: m.cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: true, shell: false, windowsHide: true });
  } catch (e) {
    send({ t: 'error', id: m.id, error: info(e) });
    return;
  }
  // The sockets are the gateway's, not this ChildProcess's: taken away from it, so that a child
  // that exits before they are all handed over (one handle in flight at a time) does not have
  // its stdin destroyed or its stdout resumed here (ChildProcess does both at exit). Node starts
  // reading stdout/stderr at once; what this process read would be lost at the handover, so
  // nothing is read here: the bytes wait in the socket for the gateway.
  const io = [c.stdin, c.stdout, c.stderr];
  c.stdin = c.stdout = c.stderr = null;
  if (Array.isArray(c.stdio)) c.stdio.length = 0;
  for (const s of io) {
    const h = s && s._handle;
    if (h && h.reading && typeof h.readStop === 'function') { h.reading = false; h.readStop(); }
  }
  let spawned = false;
  c.once('spawn', () => {
    spawned = true;
    live.set(c.pid, c);
    send({ t: 'spawned', id: m.id, pid: c.pid });
    io.forEach((s, fd) => send({ t: 'stdio', id: m.id, fd: fd }, s));
  });
  c.on('error', (e) => { if (!spawned) send({ t: 'error', id: m.id, error: info(e) }); });
  c.once('exit', (code, signal) => {
    live.delete(c.pid);
    if (spawned) send({ t: 'exit', id: m.id, code, signal });
  });
});
process.on('disconnect', () => {
  for (const pid of live.keys()) {
    try { process.kill(-pid, 'SIGKILL'); } catch (e) { try { process.kill(pid, 'SIGKILL'); } catch (e2) {} }
  }
  process.exit(0);
});
`;

/** The marker in the launcher's command line (`ps`, tests). */
export const LAUNCHER_MARKER = 'gatehouse-launcher';

/** Launchers lost before the pool stops starting new ones and spawns in process. */
export const MAX_LAUNCHER_LOSSES = 5;

/** A launcher that has not answered a spawn in this long is stuck: it is killed (and replaced). */
const REPLY_DEADLINE_MS = 10_000;

/** What the transport needs of a started child; a `ChildProcess` is one. */
export interface StartedChild {
  readonly pid?: number | undefined;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  kill(signal?: NodeJS.Signals): boolean;
  once(event: 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
}

/** A started child, or why it could not be started (the errno of the exec). */
export type StartResult = { child: StartedChild } | { spawnError: NodeJS.ErrnoException };

/** What to start: the platform's launch (resolveCommand.ts) with the complete env and the cwd. */
export interface StartSpec {
  launch: Launch;
  env: Record<string, string>;
  cwd?: string;
  /** Checked just before the fork: true when the caller no longer wants the child. */
  cancelled(): boolean;
}

/** The launcher was lost while a spawn was under way: the caller spawns in process instead. */
class LauncherLost extends Error {}

interface PendingSpawn {
  resolve(result: StartResult): void;
  reject(err: Error): void;
  pid?: number;
  stdio: Array<Socket | undefined>;
  timer: NodeJS.Timeout;
}

/** The seams of a {@link ChildLauncher}. */
export interface ChildLauncherOptions {
  platform?: NodeJS.Platform;
  /** Off: every child is spawned in process. Default: on for Linux and macOS. */
  enabled?: boolean;
}

/** One launcher process per gateway process, started at the first spawn and replaced if it dies. */
export class ChildLauncher {
  private proc: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, PendingSpawn>();
  private readonly live = new Map<number, LaunchedChild>();
  private losses = 0;
  private broken = false;
  private readonly enabled: boolean;

  constructor(options: ChildLauncherOptions = {}) {
    const platform = options.platform ?? process.platform;
    this.enabled = options.enabled ?? ((platform === 'linux' || platform === 'darwin') && process.env.GATEHOUSE_SPAWN !== 'in-process');
  }

  /** Whether the next child goes through a launcher. */
  get usable(): boolean {
    return this.enabled && !this.broken && this.losses < MAX_LAUNCHER_LOSSES;
  }

  /** The running launcher's pid (tests, diagnostics). */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Starts one child: through the launcher when it is usable, else (or when it is lost meanwhile) in process. */
  async start(spec: StartSpec): Promise<StartResult> {
    if (this.usable) {
      try {
        return await this.viaLauncher(spec);
      } catch (err) {
        if (!(err instanceof LauncherLost)) throw err;
      }
    }
    return spawnInProcess(spec);
  }

  private async viaLauncher(spec: StartSpec): Promise<StartResult> {
    // Its own fork is one stall of this thread, once: it goes through the gate like any other.
    const proc =
      this.proc ??
      (await spawnGate.run(() => this.proc ?? this.startLauncher()).catch((err: unknown) => {
        // Cannot fork it at all (EAGAIN, ENOMEM …): in process from now on.
        this.broken = true;
        throw new LauncherLost(String(err));
      }));
    if (spec.cancelled()) throw new Error('closed before the child was started');
    if (!proc.connected) throw new LauncherLost();
    const id = this.nextId++;
    return new Promise<StartResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Stuck: lose it; its exit rejects this spawn (LauncherLost) and the caller goes in process.
        this.broken = true;
        proc.kill('SIGKILL');
      }, REPLY_DEADLINE_MS);
      timer.unref();
      this.pending.set(id, { resolve, reject, stdio: [], timer });
      this.holdChannel();
      const message = { t: 'spawn', id, command: spec.launch.command, args: spec.launch.args, env: spec.env, cwd: spec.cwd ?? process.cwd() };
      try {
        proc.send(message, (err) => {
          if (err) this.settle(id)?.reject(new LauncherLost(err.message));
        });
      } catch (err) {
        this.settle(id)?.reject(new LauncherLost(String(err)));
      }
    });
  }

  private startLauncher(): ChildProcess {
    const proc = spawn(process.execPath, ['-e', LAUNCHER_SCRIPT, LAUNCHER_MARKER], {
      // In VS Code the extension host's execPath is Electron: run it as plain Node. Children get
      // their complete env in each spawn message; PATH only matters where a child's env has none.
      env: { ELECTRON_RUN_AS_NODE: '1', ...(process.env.PATH !== undefined ? { PATH: process.env.PATH } : {}) },
      // Holds no directory busy (a workspace on a volume being unmounted, a deleted temp dir).
      cwd: '/',
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      // Its own session: a terminal's Ctrl-C or hang-up signals the gateway, which then closes
      // its children in order; the launcher goes when the gateway does.
      detached: true,
      windowsHide: true,
    });
    this.proc = proc;
    proc.on('message', (message: unknown, handle: unknown) => this.onMessage(message, handle));
    proc.on('error', () => {
      // Could not start (or a send failed on a dying channel): 'exit' follows if it ran at all.
      if (proc.pid === undefined) this.broken = true;
      this.lost(proc);
    });
    proc.once('exit', () => this.lost(proc));
    // Neither the process nor its idle channel may keep the gateway alive (holdChannel).
    proc.unref();
    proc.channel?.unref();
    return proc;
  }

  private onMessage(raw: unknown, handle: unknown): void {
    if (typeof raw !== 'object' || raw === null) return;
    const m = raw as { t?: string; id?: number; pid?: number; fd?: number; code?: number | null; signal?: NodeJS.Signals | null; error?: Record<string, unknown> };
    const id = m.id ?? 0;
    if (m.t === 'exit') {
      this.live.get(id)?.exited(m.code ?? null, m.signal ?? null);
      this.live.delete(id);
      this.holdChannel();
      return;
    }
    const pending = this.pending.get(id);
    if (!pending) {
      // A spawn nobody waits for any more: its launcher was lost (its exit can be handled
      // before the messages it sent first) or it timed out. Its child would be an orphan.
      if (m.t === 'spawned' && Number.isInteger(m.pid) && (m.pid as number) > 1) killGroup(m.pid as number);
      (handle as Socket | undefined)?.destroy();
      return;
    }
    if (m.t === 'spawned' && typeof m.pid === 'number') {
      pending.pid = m.pid;
    } else if (m.t === 'stdio' && (m.fd === 0 || m.fd === 1 || m.fd === 2)) {
      if (!handle) {
        // The socket did not make it across: this child is no use; the caller spawns in process.
        if (pending.pid !== undefined) killGroup(pending.pid);
        for (const socket of pending.stdio) socket?.destroy();
        this.settle(id);
        pending.reject(new LauncherLost('the launcher could not hand over the child\'s stdio'));
        return;
      }
      pending.stdio[m.fd] = handle as Socket;
    } else if (m.t === 'error') {
      this.settle(id);
      pending.resolve({ spawnError: toErrno(m.error ?? {}) });
      return;
    }
    const [stdin, stdout, stderr] = pending.stdio;
    if (pending.pid === undefined || !stdin || !stdout || !stderr) return;
    const child = new LaunchedChild(pending.pid, stdin, stdout, stderr);
    this.live.set(id, child);
    this.settle(id);
    pending.resolve({ child });
  }

  /** Forgets a pending spawn; returns it. */
  private settle(id: number): PendingSpawn | undefined {
    const pending = this.pending.get(id);
    if (!pending) return undefined;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    this.holdChannel();
    return pending;
  }

  /**
   * The channel keeps this process alive exactly while a spawn waits for its answer or a child
   * has not been reported gone, as a ChildProcess's own handle does until its exit (else the
   * loop could end between a child's stdio closing and its exit arriving).
   */
  private holdChannel(): void {
    if (this.pending.size + this.live.size > 0) this.proc?.channel?.ref();
    else this.proc?.channel?.unref();
  }

  private lost(proc: ChildProcess): void {
    if (this.proc !== proc) return;
    this.proc = undefined;
    this.losses++;
    // Nobody will report these exits any more: end the children (the supervisor respawns them).
    for (const [id, child] of this.live) {
      killGroup(child.pid);
      child.exited(null, 'SIGKILL');
      this.live.delete(id);
    }
    for (const [id, pending] of [...this.pending]) {
      if (pending.pid !== undefined) killGroup(pending.pid);
      for (const socket of pending.stdio) socket?.destroy();
      this.settle(id);
      pending.reject(new LauncherLost('the launcher process exited'));
    }
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function toErrno(info: Record<string, unknown>): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(typeof info.message === 'string' ? info.message : 'spawn failed');
  if (typeof info.code === 'string') err.code = info.code;
  if (typeof info.errno === 'number') err.errno = info.errno;
  if (typeof info.syscall === 'string') err.syscall = info.syscall;
  if (typeof info.path === 'string') err.path = info.path;
  return err;
}

/**
 * The in-process spawn (Windows, the fallback, `GATEHOUSE_SPAWN=in-process`): one fork per
 * event-loop turn (spawnGate.ts). Resolves at the child's 'spawn' or its spawn 'error'.
 */
export function spawnInProcess(spec: StartSpec): Promise<StartResult> {
  return new Promise<StartResult>((resolve, reject) => {
    spawnGate
      .run(() => {
        if (spec.cancelled()) throw new Error('closed before the child was started');
        const child = spawn(spec.launch.command, spec.launch.args, {
          windowsVerbatimArguments: spec.launch.windowsVerbatimArguments,
          env: spec.env,
          cwd: spec.cwd,
          stdio: ['pipe', 'pipe', 'pipe'],
          shell: false,
          detached: process.platform !== 'win32',
          windowsHide: true,
        });
        let spawned = false;
        child.once('spawn', () => {
          spawned = true;
          resolve({ child });
        });
        // Stays attached: an 'error' after the spawn is the transport's (it listens too).
        child.on('error', (err: NodeJS.ErrnoException) => {
          if (!spawned) resolve({ spawnError: err });
        });
      })
      .catch(reject);
  });
}

/** The process-wide launcher every {@link ChildProcessTransport} starts its child through. */
export const childLauncher = new ChildLauncher();
