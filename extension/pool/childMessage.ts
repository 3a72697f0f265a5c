import { JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/**
 * One line of a child's stdout as a JSON-RPC message; throws on anything else (as the SDK's
 * `deserializeMessage` does).
 *
 * Most lines are answers to our requests. The SDK's message schema is a union tried in order
 * (request, notification, result, error): an answer fails two schemas, building their error
 * reports, before it matches, and its result is copied once more only to be parsed again by the
 * request's own result schema in the `Client`. A plain result answer — exactly `jsonrpc`, `id`
 * and an object `result` without `_meta` — is therefore checked here by hand, with the same
 * rules as the schema's, and passed on as parsed; every other line goes through the schema.
 */
export function parseChildMessage(text: string): JSONRPCMessage {
  const value: unknown = JSON.parse(text);
  return isPlainResultResponse(value) ? value : JSONRPCMessageSchema.parse(value);
}

export function isPlainResultResponse(value: unknown): value is JSONRPCMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const message = value as Record<string, unknown>;
  let keys = 0;
  for (const key in message) if (Object.hasOwn(message, key)) keys++;
  if (keys !== 3 || message.jsonrpc !== '2.0') return false;
  const id = message.id;
  if (typeof id !== 'string' && !Number.isSafeInteger(id)) return false;
  const result = message.result;
  // `_meta` has a schema of its own (progress token, related task): left to the full parse.
  return typeof result === 'object' && result !== null && !Array.isArray(result) && (result as Record<string, unknown>)._meta === undefined;
}
