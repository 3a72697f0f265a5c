import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { fillForwarded, forwardedAnswer, forwardedSize } from '../../platform/forwardedAnswer';
import { rawResults } from '../../platform/rawResults';
import { keepStreamAlive, openEventStream, refuse, sseEvent } from './replies';

/** One POST with at least one request: where its answers (and anything related to them) go. */
interface Exchange {
  readonly res: ServerResponse;
  /** The POST's request ids in order, answered or not. */
  readonly ids: readonly RequestId[];
  /** Answers so far, by request id. */
  readonly answers: Map<RequestId, JSONRPCMessage>;
  /** Whether the POST was a batch (its answer is an array, unless it held a single request). */
  readonly batch: boolean;
  /** Set once something had to go out before the answers: the response became an event stream. */
  streaming: boolean;
}

/**
 * The SDK's `Transport` for one Streamable HTTP session, on plain `node:http` (the SDK's own
 * transport converts every node request to a web Request/Response and back, which cost about
 * 3 ms a call here). The SDK's `Server` stays the protocol engine: this only carries messages.
 *
 * A POST whose requests are answered with nothing else to send gets one `application/json`
 * body. Its response turns into an event stream only when a message related to one of its
 * requests (progress, say) must go out before the answer; the answers then follow on that
 * stream, which ends with the last one. Messages related to no request travel on the session's
 * standalone event stream (GET), and are dropped when none is open, as the SDK's transport does.
 * The listener checks headers, session and body before a request gets here.
 */
export class SessionTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;

  /** Request id → the POST that carried it, until its answer went out (or the POST closed). */
  private readonly exchanges = new Map<RequestId, Exchange>();
  /** The session's GET event stream, while one is open. */
  private standalone: ServerResponse | undefined;
  private closed = false;

  /** Ends this session's claim on the pool's recording of result bytes (platform/rawResults.ts). */
  private readonly stopForwarding = rawResults.addConsumer();

  constructor(readonly sessionId: string) {}

  async start(): Promise<void> {}

  /** Whether the session has a GET stream open (a second one is refused, 409). */
  get hasEventStream(): boolean {
    return this.standalone !== undefined;
  }

  /**
   * Hands a POST's checked messages to the server; a POST of only notifications and responses is
   * answered 202 at once. `closed` runs when the response of a POST carrying requests closes.
   */
  post(req: IncomingMessage, res: ServerResponse, messages: readonly JSONRPCMessage[], batch: boolean, closed?: () => void): void {
    // The headers are what the gateway reads from here (trace context); no copy, no URL.
    const extra: MessageExtraInfo = { requestInfo: { headers: req.headers } };
    let ids: RequestId[] | undefined;
    for (const m of messages) if ('method' in m && 'id' in m) (ids ??= []).push(m.id);
    if (!ids) {
      res.writeHead(202).end();
      for (const m of messages) this.onmessage?.(m, extra);
      return;
    }
    const exchange: Exchange = { res, ids, answers: new Map(), batch, streaming: false };
    for (const id of ids) this.exchanges.set(id, exchange);
    // One listener per POST for all its close means (each listener costs a closure and a wrapper).
    res.once('close', () => {
      closed?.();
      this.forget(exchange, !res.writableFinished);
    });
    for (const m of messages) this.onmessage?.(m, extra);
  }

  /**
   * Drops a closed POST's requests still waiting for answers: whatever is still sent for them
   * goes nowhere. When it closed before its answers went out (the client gave up, crashed, or a
   * proxy cut it), they are also cancelled as if the client had sent `notifications/cancelled`:
   * the handler's signal aborts, and with it the child's request (the pool relays the cancel).
   * Without that the child went on working for nobody until it finished or timed out.
   */
  private forget(exchange: Exchange, cancel: boolean): void {
    for (const requestId of exchange.ids) {
      if (this.exchanges.get(requestId) !== exchange) continue;
      this.exchanges.delete(requestId);
      if (cancel) this.onmessage?.({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId, reason: 'the HTTP request was dropped' } });
    }
  }

  /** Makes `res` the session's event stream (GET). */
  openStream(res: ServerResponse): void {
    this.standalone = res;
    openEventStream(res, this.sessionId);
    keepStreamAlive(res);
    res.once('close', () => {
      if (this.standalone === res) this.standalone = undefined;
    });
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.closed) return;
    const answer = 'result' in message || 'error' in message;
    const related = answer ? (message as { id: RequestId }).id : options?.relatedRequestId;
    if (related === undefined) {
      if (answer) throw new Error('Cannot send a response on a standalone SSE stream unless resuming a previous client request');
      const stream = this.standalone;
      if (stream && !stream.writableEnded) stream.write(sseEvent(message));
      return;
    }
    const exchange = this.exchanges.get(related);
    // Its POST closed (the client dropped it; the call was cancelled) or was answered already.
    if (!exchange) return;
    const { res } = exchange;
    if (!answer) {
      if (!exchange.streaming) {
        exchange.streaming = true;
        openEventStream(res, this.sessionId);
        keepStreamAlive(res);
        // Answers of a batch that came before the stream opened go out first.
        for (const earlier of exchange.answers.values()) res.write(sseEvent(earlier));
      }
      res.write(sseEvent(message));
      return;
    }
    exchange.answers.set(related, message);
    if (exchange.streaming) res.write(sseEvent(message));
    if (exchange.answers.size < exchange.ids.length) return;
    for (const id of exchange.ids) this.exchanges.delete(id);
    if (exchange.streaming) {
      res.end();
      return;
    }
    const body = exchange.ids.length === 1 ? singleBody(message) : JSON.stringify(exchange.ids.map((id) => exchange.answers.get(id)));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'mcp-session-id': this.sessionId });
    res.end(body);
  }

  /** Ends the session: its event stream closes, POSTs still waiting are told the session is gone. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopForwarding();
    this.standalone?.end();
    this.standalone = undefined;
    const pending = new Set(this.exchanges.values());
    this.exchanges.clear();
    for (const { res } of pending) refuse(res, 404, -32001, 'Session not found');
    this.onclose?.();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

/**
 * The JSON body of a POST's one answer: a tool result with its child's bytes kept is sent as
 * them ({@link forwardedAnswer}, byte for byte what `JSON.stringify` writes), anything else
 * serialised.
 */
function singleBody(message: JSONRPCMessage): string | Buffer {
  const answer = forwardedAnswer(message);
  if (answer === undefined) return JSON.stringify(message);
  const body = Buffer.allocUnsafe(forwardedSize(answer));
  fillForwarded(answer, body);
  return body;
}
