import { JSONRPCMessageSchema, RELATED_TASK_META_KEY, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { isPlainResultResponse } from '../../pool/childMessage';

/**
 * One line from the upstream client as a JSON-RPC message; throws on anything else (as the
 * SDK's `deserializeMessage` does).
 *
 * Almost every line is a request (`tools/call`) or a notification. The SDK's message schema is
 * a union that copies what it parses, and the `Server` then classifies the message with the
 * same schemas again and parses a request against its method's own schema before any handler
 * runs. A plain request or notification — `jsonrpc` '2.0', a string `method`, an `id` (string
 * or safe integer) for a request, `params` absent or an object whose `_meta`, if any, holds no
 * more than a valid progress token among known keys, no other key —
 * is therefore checked here by hand with the schema's rules and passed on as parsed, and so is
 * a plain result (the pool's check for a child's answers); everything else goes through the schema.
 */
export function parseUpstreamMessage(text: string): JSONRPCMessage {
  const value: unknown = JSON.parse(text);
  return isPlainRequestOrNotification(value) || isPlainResultResponse(value) ? value : JSONRPCMessageSchema.parse(value);
}

function isPlainRequestOrNotification(value: unknown): value is JSONRPCMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const message = value as Record<string, unknown>;
  if (message.jsonrpc !== '2.0' || typeof message.method !== 'string') return false;
  // The schemas are strict: a key other than these makes the message something else (or invalid).
  for (const key in message) {
    if (Object.hasOwn(message, key) && key !== 'jsonrpc' && key !== 'method' && key !== 'id' && key !== 'params') return false;
  }
  const id = message.id;
  if (id !== undefined && typeof id !== 'string' && !Number.isSafeInteger(id)) return false;
  const params = message.params;
  if (params !== undefined) {
    if (typeof params !== 'object' || params === null || Array.isArray(params)) return false;
    const meta = (params as Record<string, unknown>)._meta;
    if (meta !== undefined && !isPlainRequestMeta(meta)) return false;
  }
  return true;
}

/** `_meta` with at most a progress token (string or safe integer); a related task is left to the schema. */
function isPlainRequestMeta(meta: unknown): boolean {
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return false;
  const { progressToken } = meta as Record<string, unknown>;
  if (progressToken !== undefined && typeof progressToken !== 'string' && !Number.isSafeInteger(progressToken)) return false;
  return (meta as Record<string, unknown>)[RELATED_TASK_META_KEY] === undefined;
}
