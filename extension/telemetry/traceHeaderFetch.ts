import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
/** W3C tracestate: list-members of printable ASCII, no more than the spec's 512 characters. */
const TRACESTATE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]*=[\x20-\x2b\x2d-\x3c\x3e-\x7e]*(,[\x20-\x2b\x2d-\x3c\x3e-\x7e]*=[\x20-\x2b\x2d-\x3c\x3e-\x7e]*)*$/;

/**
 * The fetch a remote (Streamable HTTP) server's transport uses: a request whose `_meta` holds
 * a W3C `traceparent` (set by telemetry on the downstream span) also carries it as the
 * `traceparent` / `tracestate` headers, where HTTP servers and proxies look for it. Only
 * well-formed values are copied (no header injection), and a body without one costs a
 * substring check.
 */
export const traceHeaderFetch: FetchLike = (url, init) => {
  const body = init?.body;
  if (typeof body === 'string' && body.includes('"traceparent"')) {
    const meta = metaOf(body);
    const traceparent = meta?.traceparent;
    if (typeof traceparent === 'string' && TRACEPARENT.test(traceparent)) {
      const headers = new Headers(init?.headers);
      headers.set('traceparent', traceparent);
      const tracestate = meta?.tracestate;
      if (typeof tracestate === 'string' && tracestate.length <= 512 && TRACESTATE.test(tracestate)) headers.set('tracestate', tracestate);
      return fetch(url, { ...init, headers });
    }
  }
  return fetch(url, init);
};

function metaOf(body: string): Record<string, unknown> | undefined {
  try {
    const message = JSON.parse(body) as { params?: { _meta?: unknown } };
    const meta = message?.params?._meta;
    return meta && typeof meta === 'object' ? (meta as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
