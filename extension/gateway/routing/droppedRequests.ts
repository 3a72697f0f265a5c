import type { ServerResponse } from 'node:http';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** What this needs of a transport: the callback its MCP `Server` reads messages from. */
interface MessageSink {
  onmessage?: (message: JSONRPCMessage) => void;
}

/**
 * A POSTed request whose HTTP connection closes before its answer went out (the client gave up,
 * crashed, or a proxy cut it) is cancelled as if the client had sent `notifications/cancelled`:
 * the handler's signal aborts, and with it the child's request (the pool relays the cancel).
 * Without this the child went on working for nobody until it finished or timed out.
 */
export function cancelWhenDropped(transport: MessageSink, body: unknown, res: ServerResponse): void {
  const ids = (Array.isArray(body) ? body : [body])
    .filter((m): m is { id: string | number; method: string } => typeof m === 'object' && m !== null && 'method' in m && 'id' in m)
    .map((m) => m.id);
  if (ids.length === 0) return;
  res.once('close', () => {
    if (res.writableFinished) return;
    for (const requestId of ids) {
      transport.onmessage?.({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId, reason: 'the HTTP request was dropped' } });
    }
  });
}
