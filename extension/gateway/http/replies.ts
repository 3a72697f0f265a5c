import type { ServerResponse } from 'node:http';

/**
 * Answers with a JSON-RPC error body (`id: null`), as the SDK's Streamable HTTP transport does
 * for a request it refuses before any message reaches the server. Keeps any header set before.
 */
export function refuse(res: ServerResponse, status: number, code: number, message: string, headers?: Record<string, string>): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** One Server-Sent Event carrying a JSON-RPC message, framed as the SDK's transport frames it. */
export function sseEvent(message: unknown): string {
  return `event: message\ndata: ${JSON.stringify(message)}\n\n`;
}

/** The head of an event stream (a POST's upgraded answer or the session's GET stream). */
export function openEventStream(res: ServerResponse, sessionId: string | undefined): void {
  const headers: Record<string, string> = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' };
  if (sessionId !== undefined) headers['mcp-session-id'] = sessionId;
  res.writeHead(200, headers);
  // The client must see the head now, not with the first event (a GET may stay silent for hours).
  res.flushHeaders();
}

/**
 * A comment line every `ms` on an open event stream, as the SDK's transport sends (15 s), so
 * proxies and clients do not take a quiet stream for a dead one. Stops when the response closes.
 */
export function keepStreamAlive(res: ServerResponse, ms = 15_000): void {
  const timer = setInterval(() => {
    if (!res.writableEnded && !res.destroyed) res.write(': keepalive\n\n');
  }, ms);
  timer.unref();
  res.once('close', () => clearInterval(timer));
}
