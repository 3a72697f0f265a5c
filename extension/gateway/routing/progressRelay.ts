import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { CallContext } from '../chain/callContext';

/** Relays a child's progress to the caller under the caller's own token, when it sent one. */
export function progressRelay(server: Server, extra: { _meta?: { progressToken?: string | number }; requestId: string | number }): CallContext['onprogress'] {
  const token = extra._meta?.progressToken;
  if (token === undefined) return undefined;
  // Tied to the request: over HTTP its answer becomes an event stream that carries the progress
  // first (httpListener's transport); stdio ignores the relation.
  const related = { relatedRequestId: extra.requestId };
  return (p) => {
    server.notification({ method: 'notifications/progress', params: { ...p, progressToken: token } }, related).catch(() => undefined);
  };
}
