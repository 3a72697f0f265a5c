import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { parseUpstreamMessage } from './upstreamMessage';

/** Default bound on one JSON-RPC line from the client (the SDK's `ReadBuffer` allows 10 MiB in all). */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

const SENT: Promise<void> = Promise.resolve();

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

  constructor(
    private readonly stdin: NodeJS.ReadableStream = process.stdin,
    private readonly stdout: NodeJS.WritableStream = process.stdout,
    private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES,
  ) {}

  start(): Promise<void> {
    if (this.started) return Promise.reject(new Error('UpstreamStdioTransport already started'));
    this.started = true;
    this.stdin.on('data', this.onData);
    this.stdin.on('error', this.onInputError);
    this.stdout.on('error', this.onOutputError);
    return SENT;
  }

  send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) return Promise.reject(new Error('Not connected'));
    if (this.stdout.write(`${JSON.stringify(message)}\n`)) return SENT;
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

  close(): Promise<void> {
    if (this.closed) return SENT;
    this.closed = true;
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
