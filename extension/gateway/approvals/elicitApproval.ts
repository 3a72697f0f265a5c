import { ElicitResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { reachClient, type UpstreamSession } from '../routing/upstreamSessions';

/** Whether the client declared form-mode elicitation (an empty `elicitation: {}` means form, per the spec). */
export function declaresFormElicitation(session: UpstreamSession): boolean {
  const caps = session.server.getClientCapabilities()?.elicitation as Record<string, unknown> | undefined;
  if (!caps || typeof caps !== 'object') return false;
  return Object.keys(caps).length === 0 || caps.form !== undefined;
}

/**
 * A function that asks the calling client to approve, by `elicitation/create` in form mode
 * (an empty form: accept allows, decline or cancel denies), or undefined when it cannot be
 * asked: it did not declare elicitation, or (HTTP) it has no event stream open and none opens
 * within the short wait children's requests get too ({@link reachClient}), so the call is denied
 * at once as "no one could be asked" rather than left to time out. Over stdio the request is
 * related to the in-flight `tools/call`; over HTTP it travels on the client's event stream, and
 * is given up when that stream closes.
 */
export async function elicitApproval(
  session: UpstreamSession | undefined,
  requestId: string | number | undefined,
  signal: AbortSignal,
): Promise<((message: string, signal: AbortSignal) => Promise<unknown>) | undefined> {
  if (!session || !declaresFormElicitation(session)) return undefined;
  const reach = await reachClient(session, signal);
  if (!reach) return undefined;
  return (message, settled) =>
    session.server.request(
      { method: 'elicitation/create', params: { mode: 'form', message, requestedSchema: { type: 'object', properties: {} } } },
      ElicitResultSchema,
      {
        signal: reach.streamEnd ? AbortSignal.any([settled, reach.streamEnd]) : settled,
        // The broker's own timer decides the timeout; the SDK's default (60 s) must not cut in first.
        timeout: 2_147_483_647,
        // On an event stream a request may not name one: the SDK would route it to the POST's
        // response, a JSON body that cannot carry it.
        relatedRequestId: reach.streamEnd ? undefined : requestId,
      },
    );
}
