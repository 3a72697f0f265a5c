import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { StartedChild } from './childLauncher';

/**
 * A child forked by the launcher: its pid and its own stdio sockets, the exit as the launcher
 * reports it. 'close' follows the exit once stdout and stderr are drained, as a ChildProcess's.
 */
export class LaunchedChild extends EventEmitter implements StartedChild {
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  private exitSeen = false;
  private openStreams = 2;
  private closeEmitted = false;

  constructor(
    readonly pid: number,
    readonly stdin: Socket,
    readonly stdout: Socket,
    readonly stderr: Socket,
  ) {
    super();
    for (const stream of [stdout, stderr]) {
      stream.once('close', () => {
        this.openStreams--;
        this.maybeClose();
      });
    }
    // The child's fd 0 is a socket too: whatever it might write there is not ours to read.
    stdin.on('error', () => undefined);
  }

  /** The launcher saw the child exit (or was lost, and the gateway killed the child's group). */
  exited(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exitSeen) return;
    this.exitSeen = true;
    this.exitCode = code;
    this.signalCode = signal;
    this.stdin.destroy();
    this.maybeClose();
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.exitSeen) return false;
    try {
      process.kill(this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  private maybeClose(): void {
    if (!this.exitSeen || this.openStreams > 0 || this.closeEmitted) return;
    this.closeEmitted = true;
    this.emit('close', this.exitCode, this.signalCode);
  }
}
