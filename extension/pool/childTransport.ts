import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { decodeUtf8 } from '../platform/decodeUtf8';
import { childGuard } from './childGuard';
import { joinLine } from './joinLine';
import { parseChildMessage } from './childMessage';
import { recordRawResult } from './recordRawResult';
import { childLauncher, type StartedChild } from './childLauncher';
import type { RingBuffer } from './ringBuffer';
import { resolveLaunch } from '../platform/resolveCommand';
import { signalProcessTree } from '../platform/killProcessTree';

/** How a child ended, as reported once by `onexit`. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (ENOENT, EACCES …). */
  spawnError?: NodeJS.ErrnoException;
}

/** What to spawn. `env` is complete: nothing is inherited implicitly. */
export interface ChildSpec {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
}

/** Shutdown escalation steps (DESIGN.md §1): close stdin → wait → SIGTERM → wait → SIGKILL. */
export interface EscalationTimes {
  afterStdinMs: number;
  afterTermMs: number;
}

const DEFAULT_ESCALATION: EscalationTimes = { afterStdinMs: 1500, afterTermMs: 1500 };

/** Default bound on one JSON-RPC line from a child: bigger is a lying or broken server. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * An MCP stdio client transport that owns its child the way a supervisor must:
 *
 * - The child gets its own process group (`detached`), so shutdown can signal the whole tree;
 *   `npx` wrappers and shell scripts otherwise leave grandchildren behind (the SDK's
 *   StdioClientTransport signals only the direct child).
 * - stderr is captured into a bounded ring buffer instead of inherited.
 * - A non-JSON line on stdout is noise, not an error: it is counted and shown in the server's
 *   log, and never flips `last_error` (rea's §13.1 item 10).
 * - Framing keeps a list of chunks and scans only new bytes for newlines, so a multi-megabyte
 *   result costs one copy instead of one per chunk, into a buffer reused from line to line.
 * - `onexit` reports the exit code/signal once, before `onclose`.
 */
export class ChildProcessTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** Called once with how the child ended, just before `onclose`. */
  onexit?: (exit: ChildExit) => void;

  private child: StartedChild | undefined;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private closed = false;
  private exited: Promise<void> | undefined;
  /** Non-JSON lines seen on stdout. */
  noiseLines = 0;

  constructor(
    private readonly spec: ChildSpec,
    private readonly stderr: RingBuffer,
    private readonly maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES,
    private readonly escalation: EscalationTimes = DEFAULT_ESCALATION,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    if (this.child) throw new Error('ChildProcessTransport already started');
    const launch = await resolveLaunch(this.spec); // Windows: npx → npx.cmd through cmd.exe, safely quoted
    if (this.closed) throw new Error('closed before the child was started');
    // Off this thread on Linux and macOS (a launcher process forks; childLauncher.ts), in process
    // on Windows and as the fallback. Listeners are attached in the turn the child is reported.
    const started = await childLauncher.start({ launch, env: this.spec.env, cwd: this.spec.cwd, cancelled: () => this.closed });
    if ('spawnError' in started) {
      this.finish({ code: null, signal: null, spawnError: started.spawnError });
      throw started.spawnError;
    }
    const child = started.child;
    if (this.closed) {
      // Closed while the launcher was forking: nobody wants this child.
      signalProcessTree(child, 'SIGKILL');
      throw new Error('closed before the child was started');
    }
    this.child = child;
    this.exited = new Promise((done) => child.once('close', () => done()));
    // Dies with us even if we are SIGKILLed, and is reaped by the next start (issue 13.11).
    if (child.pid !== undefined) void childGuard.track(child.pid);
    child.once('error', (err: Error) => this.onerror?.(err));
    // 'close' (not 'exit'): all stdio is drained, so the last response has been parsed.
    child.once('close', (code, signal) => this.finish({ code, signal }));
    child.stdout?.on('data', (chunk: Buffer) => this.onStdout(chunk));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => this.stderr.write(text));
    // EPIPE when the child died between our check and the write: the close path reports it.
    child.stdin?.on('error', () => undefined);
    child.stdout?.on('error', () => undefined);
  }

  private onStdout(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      const piece = chunk.subarray(start, nl);
      const line = this.buffered === 0 ? piece : joinLine(this.chunks, piece, this.buffered + piece.length);
      this.chunks = [];
      this.buffered = 0;
      this.onLine(line);
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.chunks.push(rest);
      this.buffered += rest.length;
      if (this.buffered > this.maxMessageBytes) {
        this.chunks = [];
        this.buffered = 0;
        this.onerror?.(
          new Error(`message from the server exceeds ${Math.round(this.maxMessageBytes / 1048576)} MiB; the connection was closed`),
        );
        void this.close();
      }
    }
  }

  private onLine(raw: Buffer): void {
    // A trailing CR is dropped before decoding: `end` is also where the line's JSON ends.
    const end = raw.length > 0 && raw[raw.length - 1] === 0x0d ? raw.length - 1 : raw.length;
    const text = decodeUtf8(raw, 0, end);
    if (text.trim() === '') return;
    let message: JSONRPCMessage;
    try {
      message = parseChildMessage(text);
    } catch {
      this.noiseLines++;
      this.stderr.push(`[stdout, not JSON-RPC] ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`);
      return;
    }
    // `raw` is valid until the next line only (joinLine reuses it): a result's bytes are copied.
    recordRawResult(message, raw, end);
    this.onmessage?.(message);
  }

  /** Resolves at the child's stdin's next 'drain', while a write is waiting for one. */
  private drained: Promise<void> | undefined;

  /** True while the child's stdin is corked until the end of this turn (see `send`). */
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.child?.stdin?.uncork();
  };

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!stdin || this.closed || !stdin.writable) return Promise.reject(new Error('Not connected'));
    // The write syscall was most of a call's cost on this side. Calls that arrive together (16 in
    // flight) are sent within one turn: corked until the turn's promise jobs have run, they leave
    // in one writev instead of one write each. A lone message waits for no timer, only the tick.
    if (!this.corked) {
      this.corked = true;
      stdin.cork();
      process.nextTick(this.uncork);
    }
    if (stdin.write(serializeMessage(message))) return Promise.resolve();
    // Every send that finds the pipe full waits for the same 'drain': one listener, not one per
    // message (200 calls in flight otherwise hung 200 listeners on the child's stdin).
    this.drained ??= new Promise<void>((resolve) =>
      stdin.once('drain', () => {
        this.drained = undefined;
        resolve();
      }),
    );
    return this.drained;
  }

  /** Closes with escalation and resolves once the child is gone (or SIGKILL was sent). */
  async close(): Promise<void> {
    const child = this.child;
    if (!child) {
      this.finish({ code: null, signal: null });
      return;
    }
    if (this.closed) {
      await this.exited;
      return;
    }
    this.closed = true;
    if (child.exitCode !== null || child.signalCode !== null) {
      await this.exited;
      return;
    }
    try {
      child.stdin?.end();
    } catch {
      // already closed
    }
    if (await this.waitExit(this.escalation.afterStdinMs)) return;
    this.signalGroup('SIGTERM');
    if (await this.waitExit(this.escalation.afterTermMs)) return;
    this.signalGroup('SIGKILL');
    await this.waitExit(1000);
  }

  /**
   * Stops a child that is not cooperating (it failed to start or stopped answering): skips the
   * polite stdin close and goes straight to SIGTERM, then SIGKILL of the group.
   */
  async kill(): Promise<void> {
    const child = this.child;
    if (this.finished) return;
    if (!child) {
      // Still starting (the launcher has not answered yet): start() kills the child on arrival.
      this.finish({ code: null, signal: null });
      return;
    }
    this.closed = true;
    this.signalGroup('SIGTERM');
    if (await this.waitExit(this.escalation.afterTermMs)) return;
    this.signalGroup('SIGKILL');
    await this.waitExit(1000);
  }

  /** Sends a signal to the child's whole tree (falls back to the child alone). */
  signalGroup(signal: NodeJS.Signals): void {
    signalProcessTree(this.child, signal); // process group on POSIX, taskkill /T /F on Windows
  }

  private waitExit(ms: number): Promise<boolean> {
    const exited = this.exited;
    if (!exited) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      timer.unref();
      void exited.then(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private finished = false;
  private finish(exit: ChildExit): void {
    if (this.finished) return;
    this.finished = true;
    this.closed = true;
    this.chunks = [];
    this.buffered = 0;
    // Grandchildren may still hold the group: make sure nothing of this child survives it
    // (on Windows, where there are no groups, untrack ends its leftovers through a listing).
    if (this.child?.pid !== undefined) {
      if (process.platform !== 'win32') {
        try {
          process.kill(-this.child.pid, 'SIGKILL');
        } catch {
          // the group is already empty
        }
      }
      childGuard.untrack(this.child.pid);
    }
    this.onexit?.(exit);
    this.onclose?.();
  }
}
