import { DownstreamError } from '../../pool/downstreamError';
import type { DownstreamDirectory } from '../../pool/types';
import { KIND_ROUTES } from '../routing/kindRoutes';
import type { Middleware } from './chain';

/**
 * The terminal layer: sends an allowed request to its downstream, by the routing table of its
 * kind (`tools/call`, `prompts/get`, `resources/read`). A downstream `isError` result is a
 * successful call and passes through unchanged; a thrown error becomes `status = error`.
 */
export function dispatch(pool: DownstreamDirectory): Middleware {
  return async (ctx) => {
    if (ctx.status !== 'allowed') return;
    try {
      ctx.result = await KIND_ROUTES[ctx.kind ?? 'tool'].send(pool, ctx);
    } catch (err) {
      ctx.status = 'error';
      ctx.reason_code = err instanceof DownstreamError ? err.code : 'request_failed';
      ctx.error = err instanceof Error ? err.message : String(err);
    }
  };
}
