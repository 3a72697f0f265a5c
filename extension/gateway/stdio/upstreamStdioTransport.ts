import { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { fillForwarded, forwardedAnswer, forwardedSize } from '../../platform/forwardedAnswer';
import { rawResults } from '../../platform/rawResults';
import { parseUpstreamMessage } from './upstreamMessage';

/** Default bound on one JSON-RPC line from the client (the SDK's `ReadBuffer` allows 10 MiB in all). */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

const SENT: Promise<void> = Promise.resolve();

/**
 * Messages of at least this many characters are written as bytes from a reused buffer. A string
 * write makes Node flatten the `text + '\n'` pair into a new string and encode it into a new
 * native buffer on every call; at 256 KiB and more, touching that much fresh memory costs the
 * main thread more than the encoding itself (page faults on a VM), where rewriting a buffer
 * kept from the previous large message costs almost nothing. Small messages stay strings: one
 * `write` of a short string is the cheapest there is.
 */
export const LARGE_MESSAGE_CHARS = 64 * 1024;
/** Buffers larger than this are not kept for reuse (a rare huge result must not pin its size). */
const KEEP_MAX_BYTES = 8 * 1024 * 1024;

/**
 * The MCP server transport of `gatehouse serve` (and `gatehouse bridge`) on stdio: the SDK's
 * `Server` stays the protocol engine, this only frames lines.
 *
 * Unlike the SDK's StdioServerTransport, whose `ReadBuffer` concatenates every chunk onto the
 * unread rest and runs the full message schema on every line, this keeps a list of chunks and
 * scans only new bytes for newlines (as the pool's child transport does), and checks plain
 * requests and notifications by hand ({@link parseUpstreamMessage}); the `Server` parses each
 * request against its method's schema anyway.
 *
 * - A line that is not JSON-RPC is reported through `onerror` and skipped; the next line works.
 * - A line longer than `maxLineBytes` is reported and dropped up to its newline (the stream
 *   stays framed: the next line works), instead of buffering without bound.
 * - stdout failing (EPIPE: the client went away) closes the transport once; later sends
 *   reject instead of writing into a broken pipe.
 */
export class UpstreamStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Set while the rest of an oversize line is being dropped. */
  private skipping = false;
  private started = false;
  private closed = false;
  /** Resolves at stdout's next 'drain', while a write is waiting for one. */
  private drained: Promise<void> | undefined;
  /** A buffer a large message was written from, free again (its write completed). */
  private spare: Buffer | undefined;
  /**
   * Whether a written buffer may be reused once its write callback ran: true for a socket (a
   * pipe or a TTY), whose callback runs once the kernel has the bytes. Other streams (a
   * PassThrough, a file stream) may still hold the very buffer after calling back.
   */
  private readonly reusable: boolean;
  /** Ends this transport's claim on the pool's recording of result bytes (see writeForwarded). */
  private stopForwarding: (() => void) | undefined;

  constructor(
    private readonly stdin: NodeJS.ReadableStream = process.stdin,
    private readonly stdout: Writable = process.stdout,
    private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES,
  ) {
    this.reusable = stdout instanceof Socket;
  }

  start(): Promise<void> {
    if (this.started) return Promise.reject(new Error('UpstreamStdioTransport already started'));
    this.started = true;
    this.stdin.on('data', this.onData);
    this.stdin.on('error', this.onInputError);
    this.stdout.on('error', this.onOutputError);
    this.stopForwarding = rawResults.addConsumer();
    return SENT;
  }

  send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) return Promise.reject(new Error('Not connected'));
    // One write syscall per answer was the largest single cost of a small call on this side
    // (each also wakes the client). The answers to the lines of one chunk from a child (16 calls
    // in flight) are sent within one turn: corked until the turn's promise jobs have run, they
    // leave in one writev. A lone answer waits for no timer, only the tick (as the pool's
    // child transport does with requests).
    if (!this.corked) {
      this.corked = true;
      this.stdout.cork();
      process.nextTick(this.uncork);
    }
    if (this.writeForwarded(message) ?? this.writeText(JSON.stringify(message))) return SENT;
    // Every send that finds the pipe full waits for the same 'drain': one listener, not one per message.
    this.drained ??= new Promise<void>((resolve) => {
      const done = (): void => {
        this.stdout.off('drain', done);
        this.stdout.off('close', done);
        this.drained = undefined;
        resolve();
      };
      this.stdout.once('drain', done);
      this.stdout.once('close', done);
    });
    return this.drained;
  }

  /** True while stdout is corked until the end of this turn (see `send`). */
  private corked = false;
  private readonly uncork = (): void => {
    if (!this.corked) return; // already flushed by close()
    this.corked = false;
    this.stdout.uncork();
  };

  private writeText(text: string): boolean {
    if (text.length < LARGE_MESSAGE_CHARS) return this.stdout.write(`${text}\n`);
    return this.writeLine(Buffer.byteLength(text, 'utf8') + 1, (line) => line.write(text, 0, 'utf8'));
  }

  /**
   * Writes a result response whose result still has the bytes its child wrote for it
   * ({@link forwardedAnswer}): byte for byte `JSON.stringify(message)`, without walking,
   * serialising and encoding the result again. Undefined (nothing written) for any other message.
   */
  private writeForwarded(message: JSONRPCMessage): boolean | undefined {
    const answer = forwardedAnswer(message);
    if (answer === undefined) return undefined;
    return this.writeLine(forwardedSize(answer) + 1, (line) => fillForwarded(answer, line));
  }

  /**
   * Writes a line of `size` bytes (the newline included) that `fill` writes all but the newline
   * of, into the spare buffer when it is large enough. The stream holds the buffer until the
   * write completes; only then is it offered for reuse (a failed write does not return it), and
   * only to a socket (see {@link reusable}).
   */
  private writeLine(size: number, fill: (line: Buffer) => void): boolean {
    let buffer = this.spare;
    this.spare = undefined;
    if (buffer === undefined || buffer.length < size) buffer = Buffer.allocUnsafeSlow(size);
    const line = buffer.subarray(0, size);
    fill(line);
    line[size - 1] = 0x0a;
    if (!this.reusable || buffer.length > KEEP_MAX_BYTES) return this.stdout.write(line);
    const lent = buffer;
    return this.stdout.write(line, (err) => {
      if (!err && (this.spare === undefined || this.spare.length < lent.length)) this.spare = lent;
    });
  }

  close(): Promise<void> {
    if (this.closed) return SENT;
    this.closed = true;
    // What this turn sent goes out now, not at the tick: the process may exit before it.
    this.uncork();
    this.stopForwarding?.();
    this.stdin.off('data', this.onData);
    this.stdin.off('error', this.onInputError);
    // The error listener stays: a late EPIPE must not become an uncaught exception.
    if (this.stdin.listenerCount('data') === 0) this.stdin.pause();
    this.chunks = [];
    this.buffered = 0;
    this.onclose?.();
    return SENT;
  }

  private readonly onData = (chunk: Buffer | string): void => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let start = 0;
    for (;;) {
      const nl = bytes.indexOf(0x0a, start);
      if (nl === -1) break;
      if (this.skipping) {
        this.skipping = false;
      } else {
        const piece = bytes.subarray(start, nl);
        const line = this.buffered === 0 ? piece : Buffer.concat([...this.chunks, piece], this.buffered + piece.length);
        this.chunks = [];
        this.buffered = 0;
        this.onLine(line);
        if (this.closed) return;
      }
      start = nl + 1;
    }
    if (start < bytes.length && !this.skipping) {
      const rest = bytes.subarray(start);
      this.chunks.push(rest);
      this.buffered += rest.length;
      if (this.buffered > this.maxLineBytes) {
        this.chunks = [];
        this.buffered = 0;
        this.skipping = true;
        this.onerror?.(new Error(`a message from the client exceeds ${this.maxLineBytes} bytes; it was dropped`));
      }
    }
  };

  private onLine(raw: Buffer): void {
    let end = raw.length;
    if (end > 0 && raw[end - 1] === 0x0d) end--;
    const text = raw.toString('utf8', 0, end);
    if (text.trim() === '') return;
    let message: JSONRPCMessage;
    try {
      message = parseUpstreamMessage(text);
    } catch (err) {
      this.onerror?.(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    this.onmessage?.(message);
  }

  private readonly onInputError = (error: Error): void => {
    this.onerror?.(error);
  };

  private readonly onOutputError = (error: Error): void => {
    if (this.closed) return;
    this.onerror?.(error);
    void this.close();
  };
}
