import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { CallContext } from '../chain/callContext';

/** Relays a child's progress to the caller under the caller's own token, when it sent one. */
export function progressRelay(server: Server, extra: { _meta?: { progressToken?: string | number } }): CallContext['onprogress'] {
  const token = extra._meta?.progressToken;
  if (token === undefined) return undefined;
  // Not tied to the request: over HTTP each request is answered with one JSON body, which has
  // no room for notifications; the session's own stream (stdio, or HTTP's GET stream) has.
  return (p) => {
    server.notification({ method: 'notifications/progress', params: { ...p, progressToken: token } }).catch(() => undefined);
  };
}
