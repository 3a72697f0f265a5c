import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { DownstreamError } from '../../pool/downstreamError';
import type { DownstreamDirectory } from '../../pool/types';
import { KIND_ROUTES } from '../routing/kindRoutes';
import type { CallContext } from './callContext';
import type { Middleware } from './chain';

/**
 * The terminal layer: sends an allowed request to its downstream, by the routing table of its
 * kind (`tools/call`, `prompts/get`, `resources/read`). A downstream `isError` result is a
 * successful call and passes through unchanged; a thrown error becomes `status = error`.
 */
export function dispatch(pool: DownstreamDirectory): Middleware {
  const failed = (ctx: CallContext, err: unknown): void => {
    ctx.status = 'error';
    ctx.reason_code = err instanceof DownstreamError ? err.code : 'request_failed';
    ctx.error = err instanceof Error ? err.message : String(err);
  };
  // A plain function: an async one cost its own promise and frame on every call.
  return (ctx) => {
    if (ctx.status !== 'allowed') return DONE;
    let sent: Promise<CallToolResult>;
    try {
      sent = KIND_ROUTES[ctx.kind ?? 'tool'].send(pool, ctx);
    } catch (err) {
      failed(ctx, err);
      return DONE;
    }
    return sent.then(
      (result) => {
        ctx.result = result;
      },
      (err: unknown) => failed(ctx, err),
    );
  };
}

const DONE: Promise<void> = Promise.resolve();
