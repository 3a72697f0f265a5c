import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ElicitResultSchema } from '@modelcontextprotocol/sdk/types.js';
import type { UpstreamSession } from '../routing/upstreamSessions';

/**
 * How a request to this session's client can travel: `related` on the call's own channel
 * (stdio; HTTP with event-stream responses), `standalone` on the client's GET stream, or
 * `none`.
 *
 * Over HTTP the gateway answers POSTs with JSON bodies (httpListener.ts), which cannot carry a
 * request to the client; SDK 1.32 drops such a request without a word and leaves it waiting. The
 * only way to reach the client is then its standalone GET stream, if it opened one. The SDK has
 * no public way to ask whether it did, so this reads the transport's stream table; when the
 * shape is not the one known (an SDK upgrade), it answers `none`, so the call is denied with "no
 * one could be asked" rather than left to time out.
 */
export function requestChannel(session: UpstreamSession): 'related' | 'standalone' | 'none' {
  const transport = session.server.transport;
  if (!transport) return 'none';
  if (!(transport instanceof StreamableHTTPServerTransport)) return 'related';
  const inner = (transport as unknown as { _webStandardTransport?: { _enableJsonResponse?: unknown; _streamMapping?: unknown } })._webStandardTransport;
  if (!inner || typeof inner._enableJsonResponse !== 'boolean' || !(inner._streamMapping instanceof Map)) return 'none';
  if (!inner._enableJsonResponse) return 'related';
  return inner._streamMapping.has('_GET_stream') ? 'standalone' : 'none';
}

/** Whether the client declared form-mode elicitation (an empty `elicitation: {}` means form, per the spec). */
export function declaresFormElicitation(session: UpstreamSession): boolean {
  const caps = session.server.getClientCapabilities()?.elicitation as Record<string, unknown> | undefined;
  if (!caps || typeof caps !== 'object') return false;
  return Object.keys(caps).length === 0 || caps.form !== undefined;
}

/**
 * A function that asks the calling client to approve, by `elicitation/create` in form mode
 * (an empty form: accept allows, decline or cancel denies), or undefined when it cannot be
 * asked. The request is related to the in-flight `tools/call` where the transport routes by it.
 */
export function elicitApproval(session: UpstreamSession | undefined, requestId: string | number | undefined): ((message: string, signal: AbortSignal) => Promise<unknown>) | undefined {
  if (!session || !declaresFormElicitation(session)) return undefined;
  const channel = requestChannel(session);
  if (channel === 'none') return undefined;
  return (message, signal) =>
    session.server.request(
      { method: 'elicitation/create', params: { mode: 'form', message, requestedSchema: { type: 'object', properties: {} } } },
      ElicitResultSchema,
      // The broker's own timer decides the timeout; the SDK's default (60 s) must not cut in first.
      { signal, timeout: 2_147_483_647, relatedRequestId: channel === 'related' ? requestId : undefined },
    );
}
