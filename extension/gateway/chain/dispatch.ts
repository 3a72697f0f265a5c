import { DownstreamError } from '../../pool/downstreamError';
import type { DownstreamDirectory } from '../../pool/types';
import type { Middleware } from './chain';

/**
 * The terminal layer: sends an allowed call to its downstream. A downstream `isError` result
 * is a successful call and passes through unchanged; a thrown error becomes `status = error`.
 */
export function dispatch(pool: DownstreamDirectory): Middleware {
  return async (ctx) => {
    if (ctx.status !== 'allowed') return;
    try {
      ctx.result = await pool.callTool(ctx.server_name, ctx.tool_name, ctx.arguments, {
        signal: ctx.signal,
        readOnly: ctx.tier === 'read' || ctx.tool?.annotations?.readOnlyHint === true,
        meta: ctx.downstream_meta,
      });
    } catch (err) {
      ctx.status = 'error';
      ctx.reason_code = err instanceof DownstreamError ? err.code : 'request_failed';
      ctx.error = err instanceof Error ? err.message : String(err);
    }
  };
}
