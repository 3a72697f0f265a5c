import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestChannel, UpstreamSession } from './upstreamSessions';

/**
 * Which HTTP sessions hold an open event stream (`GET /mcp`), the only way a request from the
 * gateway reaches an HTTP client here: a POST's answer carries only what relates to its own
 * requests (http/sessionTransport.ts), and a message for the standalone stream is dropped without
 * a word when none is open (as the SDK's transport does). The
 * listener tells this class about sessions and GETs; the router asks it, through the session's
 * {@link RequestChannel}, before it sends, so a child is refused at once instead of waiting out
 * its own timeout. Keyed by the transport object, whatever its class.
 */
export class EventStreams {
  private readonly channels = new WeakMap<object, StreamChannel>();

  /** Gives `session` a channel that is open while `transport` has an event stream. */
  bind(transport: object, session: UpstreamSession | undefined): void {
    if (!session) return;
    const channel = new StreamChannel();
    this.channels.set(transport, channel);
    session.channel = channel;
  }

  /** Notes a request of `transport`'s session: a GET is (or is about to be) its event stream. */
  watch(transport: object, req: IncomingMessage, res: ServerResponse): void {
    if (req.method === 'GET') this.channels.get(transport)?.add(res);
  }
}

class StreamChannel implements RequestChannel {
  /** GET responses not closed yet, each with the signal that ends what was sent on it. */
  private readonly streams = new Map<ServerResponse, AbortController>();
  private readonly waiters = new Set<() => void>();

  add(res: ServerResponse): void {
    const ended = new AbortController();
    this.streams.set(res, ended);
    res.once('close', () => {
      this.streams.delete(res);
      ended.abort(new Error('the client closed its event stream'));
    });
    // The transport writes the stream's head a moment after the GET arrives (or refuses it:
    // 406, 409); whoever waits for a stream looks again once that has happened.
    setImmediate(() => this.wake());
  }

  current(): AbortSignal | undefined {
    for (const [res, ended] of this.streams) {
      // A GET the transport accepted (refusals are 4xx); its headers are written raw, so the
      // status is what can be read back.
      if (res.headersSent && res.statusCode === 200) return ended.signal;
    }
    return undefined;
  }

  async opened(withinMs: number, signal: AbortSignal): Promise<AbortSignal | undefined> {
    const deadline = Date.now() + withinMs;
    // A client opens its stream right after initialize, in parallel with its first calls: a
    // request of the child can beat it by a few milliseconds. Looked at again on every GET and
    // at a short interval (a GET's head goes out asynchronously), never past the deadline.
    while (!signal.aborted) {
      const open = this.current();
      if (open || Date.now() >= deadline) return open;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(50, Math.max(1, deadline - Date.now())));
        this.waiters.add(done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
    return undefined;
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
