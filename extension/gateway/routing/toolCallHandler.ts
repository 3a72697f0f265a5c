import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { Protocol, type RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  type CallToolRequest,
  type CallToolResult,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/**
 * Registers an upstream session's `tools/call` handler, validated once.
 *
 * The SDK's `Server` wraps a `tools/call` handler to parse the request a second time (its
 * `Protocol` has just parsed it against the same schema) and to parse the result again before
 * sending it. Every result the gateway answers with was parsed already: a child's result by the
 * pool's `Client` against `CallToolResultSchema` (the one validation of untrusted data), then
 * changed only by the chain's layers, which build valid parts; or built by the gateway itself
 * (refusals, health). So the handler is registered at the `Protocol` level: the request is
 * parsed once and the result sent as it is, not walked and copied once more per call.
 *
 * The wrapper's other branch, task-augmented calls, never runs here: the gateway offers no
 * `tasks` capability, so `Protocol` refuses a call with `params.task` before any handler.
 */
export function setToolCallHandler(server: Server, handler: (request: CallToolRequest, extra: Extra) => Promise<CallToolResult>): void {
  const protocolLevel = Protocol.prototype.setRequestHandler as (
    this: Server,
    schema: typeof CallToolRequestSchema,
    handler: (request: CallToolRequest, extra: Extra) => Promise<unknown>,
  ) => void;
  protocolLevel.call(server, CallToolRequestSchema, handler);
}
