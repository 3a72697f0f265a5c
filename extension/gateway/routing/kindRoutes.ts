import { GetPromptResultSchema, ReadResourceResultSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { DownstreamError } from '../../pool/downstreamError';
import type { DownstreamDirectory } from '../../pool/types';
import type { CallContext, CallKind } from '../chain/callContext';
import { promptToPayload, resourceToPayload } from './payload';

/** How the dispatcher sends one kind of request; the answer comes back as a payload (see payload.ts). */
export interface KindRoute {
  send(pool: DownstreamDirectory, ctx: CallContext): Promise<CallToolResult>;
}

function requestOf(pool: DownstreamDirectory, server: string): NonNullable<DownstreamDirectory['request']> {
  if (!pool.request) throw new DownstreamError('unavailable', `${server} cannot be asked for anything but tools here.`, server);
  return pool.request.bind(pool);
}

/**
 * The routing table of the chain's dispatcher (DESIGN.md §5b). Prompts and resources are reads
 * by the protocol's definition, so a child that died under one is asked again after its respawn.
 */
export const KIND_ROUTES: Readonly<Record<CallKind, KindRoute>> = {
  tool: {
    send: (pool, ctx) =>
      pool.callTool(ctx.server_name, ctx.tool_name, ctx.arguments, {
        signal: ctx.signal,
        readOnly: ctx.tier === 'read' || ctx.tool?.annotations?.readOnlyHint === true,
        onprogress: ctx.onprogress,
        meta: ctx.downstream_meta,
      }),
  },
  prompt: {
    send: async (pool, ctx) =>
      promptToPayload(
        await requestOf(pool, ctx.server_name)(
          ctx.server_name,
          {
            method: 'prompts/get',
            params: { name: ctx.tool_name, arguments: ctx.arguments },
            schema: GetPromptResultSchema,
            label: `prompt '${ctx.tool_name}'`,
          },
          { signal: ctx.signal, readOnly: true, onprogress: ctx.onprogress, meta: ctx.downstream_meta },
        ),
      ),
  },
  resource: {
    send: async (pool, ctx) => {
      const uri = typeof ctx.arguments.uri === 'string' ? ctx.arguments.uri : ctx.tool_name;
      return resourceToPayload(
        await requestOf(pool, ctx.server_name)(
          ctx.server_name,
          { method: 'resources/read', params: { uri }, schema: ReadResourceResultSchema, label: `resource '${uri}'` },
          { signal: ctx.signal, readOnly: true, onprogress: ctx.onprogress, meta: ctx.downstream_meta },
        ),
      );
    },
  },
};
